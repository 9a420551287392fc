//! The referral programme (issue #20, both backends): codes and links, the guards (oneself by
//! any shared detail, referred twice, bought already, unknown code, programme off), both sides
//! rewarded once through the ledger on the first order, the referrer's monthly limit, the
//! reward taken back with a cancellation (even when spent) or a whole refund, referrals in the
//! advocacy stage and set against the NPS groups, the sign-up page, and the staff pages.

use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::{Value, json};

use super::common::{Session, TestApp, backends, spawn_with};
use super::{place_order, settle, tokyo_today_at};

/// The error's code: a conflict's reason, or a refused field's code.
fn reason(v: &Value) -> Value {
    let e = &v["error"];
    if e["reason"].is_null() { e["details"][0]["code"].clone() } else { e["reason"].clone() }
}

async fn points(t: &TestApp, c: i64) -> Value {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/points")).await;
    assert_eq!(s, 200, "{v}");
    v["free"].clone()
}

async fn code_of(t: &TestApp, c: i64) -> String {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/referral")).await;
    assert_eq!(s, 200, "{v}");
    v["code"].as_str().unwrap().to_string()
}

async fn enable(t: &TestApp, limit: u32) {
    let body = json!({"enabled": true, "referrer_points": 500, "referred_points": 300, "monthly_limit": limit});
    let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/referrals", &body).await;
    assert_eq!(s, 200, "{v}");
}

async fn refer(t: &TestApp, code: &str, c: i64) -> (u16, Value) {
    t.post(&t.staff_token, "/api/v1/referrals", &json!({"code": code, "customer_id": c})).await
}

#[tokio::test]
async fn a_first_order_rewards_both_sides_once_within_the_limit_and_a_cancellation_takes_it_back() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let a = t
            .customer(json!({"family_name": "紹介", "given_name": "元子", "email": "moto@example.jp",
                "phone": "090-7200-0001", "postal_code": "150-0001", "prefecture": "東京都", "city": "渋谷区",
                "street": "神宮前1-2-3"}))
            .await;
        place_order(&t, a).await;
        let code = code_of(&t, a).await;
        assert_eq!(code.len(), 8, "[{b}] {code}");
        assert_eq!(code_of(&t, a).await, code, "[{b}] one code a customer");
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{a}/referral")).await;
        assert!(v["link"].as_str().unwrap().ends_with(&format!("/r/{code}")), "[{b}] {v}");

        // Off until switched on; settings bounded and the owner's.
        let newbie = t.customer(json!({"family_name": "新規", "given_name": "一郎", "phone": "090-7200-0002"})).await;
        let (s, v) = refer(&t, &code, newbie).await;
        assert_eq!((s, &v["error"]["reason"]), (409, &json!("referrals_off")), "[{b}] {v}");
        let bad = json!({"enabled": true, "referrer_points": 100_001, "referred_points": 300, "monthly_limit": 1});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/referrals", &bad).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("referrer_points")), "[{b}] {v}");
        let (s, _) = t.send(reqwest::Method::PUT, &t.staff_token, "/api/v1/settings/referrals", &bad).await;
        assert_eq!(s, 403, "[{b}]");
        enable(&t, 1).await;

        // The guards, each named.
        let typed = code
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c })
            .collect::<String>();
        let (head, tail): (String, String) = (typed.chars().take(4).collect(), typed.chars().skip(4).collect());
        let (s, v) = refer(&t, &format!("{head}-{tail}"), newbie).await;
        assert_eq!((s, &v["status"], &v["via"]), (201, &json!("pending"), &json!("api")), "[{b}] typed as read: {v}");
        let (s, v) = refer(&t, &code, newbie).await;
        assert_eq!((s, &v["error"]["reason"]), (409, &json!("already_referred")), "[{b}] {v}");
        let (s, v) = refer(&t, &code, a).await;
        assert_eq!(
            (s, &reason(&v), &v["error"]["field"]),
            (422, &json!("self_referral"), &json!("customer_id")),
            "[{b}] {v}"
        );
        let same_phone = t.customer(json!({"family_name": "別名", "phone": "09072000001"})).await;
        let (s, v) = refer(&t, &code, same_phone).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("phone")), "[{b}] {v}");
        let same_email = t.customer(json!({"family_name": "別名", "email": "MOTO@example.jp"})).await;
        let (s, v) = refer(&t, &code, same_email).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("email")), "[{b}] {v}");
        let same_home = t
            .customer(json!({"family_name": "同居", "phone": "090-7200-0003", "postal_code": "１５０-０００１",
                "prefecture": "東京都", "city": "渋谷区", "street": "神宮前１ー２ー３"}))
            .await;
        let (s, v) = refer(&t, &code, same_home).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("address")), "[{b}] {v}");
        let regular = t.customer(json!({"family_name": "常連", "phone": "090-7200-0004"})).await;
        place_order(&t, regular).await;
        let (s, v) = refer(&t, &code, regular).await;
        assert_eq!((s, &reason(&v)), (422, &json!("not_new_customer")), "[{b}] {v}");
        let (s, v) = refer(&t, "ZZZZ2222", regular).await;
        assert_eq!(
            (s, &reason(&v), &v["error"]["field"]),
            (422, &json!("unknown_referral_code"), &json!("code")),
            "[{b}] {v}"
        );
        let (s, v) = refer(&t, "not a code", regular).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("code")), "[{b}] {v}");

        // The first order rewards both, once, through the ledger.
        let before = points(&t, a).await;
        let order = place_order(&t, newbie).await;
        settle(&t).await;
        settle(&t).await;
        let after = points(&t, a).await;
        assert_eq!(after["balance"].as_i64().unwrap() - before["balance"].as_i64().unwrap(), 500, "[{b}] {after}");
        let (_, acct) = t.get(&t.staff_token, &format!("/api/v1/customers/{newbie}/points")).await;
        let bonus: Vec<&Value> = acct["lots"].as_array().unwrap().iter().filter(|l| l["source"] == "bonus").collect();
        assert_eq!((bonus.len(), &bonus[0]["granted"]), (1, &json!(300)), "[{b}] {acct}");
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/referrals?customer_id={newbie}")).await;
        let r = &list["items"][0];
        assert_eq!(
            (&list["total"], &r["status"], &r["order_id"], &r["referrer_points"], &r["referred_points"]),
            (&json!(1), &json!("rewarded"), &json!(order), &json!(500), &json!(300)),
            "[{b}] {list}"
        );
        // A second order rewards nothing more.
        place_order(&t, newbie).await;
        settle(&t).await;
        assert_eq!(points(&t, a).await["balance"], after["balance"], "[{b}] once");

        // The monthly limit: the next referral this month rewards only the new customer.
        let second = t.customer(json!({"family_name": "二人目", "phone": "090-7200-0005"})).await;
        assert_eq!(refer(&t, &code, second).await.0, 201, "[{b}]");
        place_order(&t, second).await;
        settle(&t).await;
        assert_eq!(points(&t, a).await["balance"], after["balance"], "[{b}] the referrer is at the limit");
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/referrals?customer_id={second}")).await;
        let r = &list["items"][0];
        assert_eq!(
            (&r["status"], &r["referrer_points"], &r["referred_points"], &r["over_limit"]),
            (&json!("rewarded"), &json!(0), &json!(300), &json!(true)),
            "[{b}] {list}"
        );

        // Spent, then the rewarding order is cancelled: the lot's rest and the spent part
        // from the referrer's other points (or as debt) — the 500 come back whole.
        let spend = json!({"points": 400, "reason": "値引きに利用"});
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{a}/points/deductions"), &spend).await;
        assert_eq!(s, 201, "[{b}] {v}");
        let spent = points(&t, a).await;
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/orders/{order}/cancel"), &json!({})).await;
        assert_eq!(s, 200, "[{b}] {v}");
        settle(&t).await;
        settle(&t).await;
        let back = points(&t, a).await;
        let net = |p: &Value| p["balance"].as_i64().unwrap() - p["debt"].as_i64().unwrap();
        assert_eq!(net(&spent) - net(&back), 500, "[{b}] taken back whole: {spent} → {back}");
        let (_, acct) = t.get(&t.staff_token, &format!("/api/v1/customers/{newbie}/points")).await;
        assert!(
            acct["lots"].as_array().unwrap().iter().all(|l| l["source"] != "bonus"),
            "[{b}] the new customer's 300 taken back too: {acct}"
        );
        let (_, list) = t.get(&t.staff_token, "/api/v1/referrals?status=reversed").await;
        assert_eq!((&list["total"], &list["items"][0]["referred_id"]), (&json!(1), &json!(newbie)), "[{b}] {list}");
        let (s, _) = t.get(&t.staff_token, "/api/v1/referrals?status=lost").await;
        assert_eq!(s, 422, "[{b}]");
        // A partial refund of the other rewarded order keeps its reward.
        let second_orders = t.get(&t.staff_token, &format!("/api/v1/orders?customer_id={second}")).await.1;
        let second_order = second_orders["items"][0]["id"].as_i64().unwrap();
        let (s, v) =
            t.post(&t.staff_token, &format!("/api/v1/orders/{second_order}/refunds"), &json!({"amount": 100})).await;
        assert_eq!(s, 201, "[{b}] {v}");
        settle(&t).await;
        let (_, report) = t.get(&t.staff_token, "/api/v1/referral-report").await;
        assert_eq!(
            (&report["rewarded"], &report["reversed"], &report["pending"]),
            (&json!(1), &json!(1), &json!(0)),
            "[{b}] {report}"
        );
        // Refunded whole, it takes its reward back too (the referrer had none: over the limit).
        let before = points(&t, second).await;
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/orders/{second_order}/refunds"), &json!({})).await;
        assert_eq!(s, 201, "[{b}] {v}");
        settle(&t).await;
        let after = points(&t, second).await;
        assert!(
            net(&before) - net(&after) >= 300,
            "[{b}] the 300 (and the order's own points) back: {before} → {after}"
        );
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/referrals?customer_id={second}")).await;
        assert_eq!(list["items"][0]["status"], "reversed", "[{b}] {list}");
        let (_, report) = t.get(&t.staff_token, "/api/v1/referral-report").await;
        assert_eq!((&report["rewarded"], &report["reversed"]), (&json!(0), &json!(2)), "[{b}] {report}");

        // A rewarded referral makes the referrer an advocate (none is left: both taken back);
        // do promoters refer? A answers 10.
        t.post(&t.staff_token, "/api/v1/stages/evaluate", &json!({})).await;
        let (_, stage) = t.get(&t.staff_token, &format!("/api/v1/customers/{a}/stage")).await;
        assert_eq!(stage["stage"], "onboarding", "[{b}] both referrals taken back: {stage}");
        let third = t.customer(json!({"family_name": "三人目", "phone": "090-7200-0006"})).await;
        assert_eq!(refer(&t, &code, third).await.0, 201, "[{b}]");
        place_order(&t, third).await;
        settle(&t).await;
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/referrals?customer_id={third}")).await;
        assert_eq!(
            list["items"][0]["referrer_points"], 500,
            "[{b}] a reward taken back leaves room in the month: {list}"
        );
        t.post(&t.staff_token, "/api/v1/stages/evaluate", &json!({})).await;
        let (_, stage) = t.get(&t.staff_token, &format!("/api/v1/customers/{a}/stage")).await;
        assert_eq!(stage["stage"], "advocacy", "[{b}] {stage}");
        let (_, survey) = t.post(&t.staff_token, "/api/v1/surveys/ready", &json!({"code": "nps"})).await;
        let path = format!("/api/v1/surveys/{}/send", survey["id"]);
        let (_, sent, _) = t.post_keyed(&path, Some("r1"), &json!({"customer_id": a, "channel": "link"})).await;
        let url = sent["url"].as_str().unwrap();
        let r = t.client.post(t.url(&url[url.find("/s/").unwrap()..])).form(&[("nps", "10")]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "[{b}]");
        let (s, report) = t.get(&t.staff_token, "/api/v1/referral-report").await;
        assert_eq!(s, 200, "[{b}] {report}");
        let group = |g: &str| report["by_nps"].as_array().unwrap().iter().find(|x| x["group"] == g).unwrap().clone();
        assert_eq!(
            (&group("promoter")["customers"], &group("promoter")["referrers"]),
            (&json!(1), &json!(1)),
            "[{b}] {report}"
        );
        assert_eq!(group("promoter")["referrer_rate"], json!(1.0), "[{b}]");
        assert_eq!(group("none")["referrers"], json!(0), "[{b}] {report}");
        assert_eq!(report["top_referrers"][0][0], json!(a), "[{b}] {report}");
    }
}

#[tokio::test]
async fn the_link_signs_up_a_new_customer_and_staff_record_and_see_referrals_on_the_pages() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let a = t.customer(json!({"family_name": "紹介", "given_name": "元子", "email": "moto@example.jp"})).await;
        let code = code_of(&t, a).await;
        let page = |path: String| {
            let c = t.client.clone();
            let u = t.url(&path);
            async move {
                let r = c.get(u).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (s, _) = page(format!("/r/{code}")).await;
        assert_eq!(s, 404, "[{b}] the programme is off");
        enable(&t, 5).await;
        let (s, html) = page(format!("/r/{code}")).await;
        assert!(
            s == 200 && html.contains("300 ポイント") && !html.contains("元子"),
            "[{b}] the offer, not the referrer: {html}"
        );
        assert_eq!(page("/r/ZZZZ2222".into()).await.0, 404, "[{b}]");
        let post = |form: Vec<(&'static str, &'static str)>| {
            let c = t.client.clone();
            let u = t.url(&format!("/r/{code}"));
            async move {
                let r = c.post(u).form(&form).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (s, html) = post(vec![("given_name", "花子"), ("email", "")]).await;
        assert_eq!(s, 422, "[{b}] {html}");
        assert!(html.contains(r#"value="花子""#) && html.contains("field-error"), "[{b}] kept as typed: {html}");
        let (s, html) =
            post(vec![("family_name", "新規"), ("given_name", "花子"), ("email", "Hana@Example.jp"), ("mail_ok", "1")])
                .await;
        assert!(s == 200 && html.contains(r#"id="rp-thanks""#), "[{b}] {html}");
        let (_, found) = t.get(&t.staff_token, "/api/v1/customers?q=hana@example.jp").await;
        assert_eq!(found["total"], 1, "[{b}] {found}");
        let hana = found["items"][0]["id"].as_i64().unwrap();
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{hana}")).await;
        assert_eq!(c["acquisition_source"], "referral", "[{b}] {c}");
        assert!(c["consents"].to_string().contains("email"), "[{b}] the ticked opt-in: {c}");
        let (_, r) = t.get(&t.staff_token, &format!("/api/v1/customers/{hana}/referral")).await;
        assert_eq!(
            (&r["referred_by"]["referrer_id"], &r["referred_by"]["via"]),
            (&json!(a), &json!("page")),
            "[{b}] {r}"
        );
        // The same address again, or the referrer's own: thanked alike, nothing written.
        for email in ["hana@example.jp", "moto@example.jp"] {
            let c = t.client.post(t.url(&format!("/r/{code}"))).form(&[("family_name", "再"), ("email", email)]);
            let r = c.send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "[{b}]");
            assert!(r.text().await.unwrap().contains(r#"id="rp-thanks""#), "[{b}]");
        }
        let (_, all) = t.get(&t.staff_token, "/api/v1/referrals").await;
        assert_eq!(all["total"], 1, "[{b}] {all}");

        // Staff record a code on the customer page; a wrong one comes back as typed.
        let web = Session { t: &t, cookie: t.login_cookie("staff").await };
        let walk_in = t.customer(json!({"family_name": "来店", "phone": "090-7300-0001"})).await;
        let (_, html) = web.page(&format!("/customers/{walk_in}")).await;
        assert!(html.contains(r#"id="referral-form""#), "[{b}]");
        let (s, _, html) = web.post(&format!("/customers/{walk_in}/referral"), &[("code", "ZZZZ-2222")]).await;
        assert_eq!(s, 422, "[{b}]");
        let panel = &html[html.find(r#"id="referral""#).unwrap()..];
        assert!(
            panel.contains(r#"value="ZZZZ-2222""#) && panel.contains("紹介コード「ZZZZ-2222」は見つかりません"),
            "[{b}] {}",
            &panel[..1500]
        );
        let (s, to, _) = web.post(&format!("/customers/{walk_in}/referral"), &[("code", &code.to_lowercase())]).await;
        assert_eq!((s, to.as_str()), (303, format!("/customers/{walk_in}#referral").as_str()), "[{b}]");
        let (_, html) = web.page(&format!("/customers/{a}")).await;
        assert!(html.contains(&code) && html.contains(r#"id="referred-list""#) && html.contains("来店"), "[{b}]");
        let (_, html) = web.page("/referrals").await;
        assert!(html.contains(r#"id="rf-list""#) && html.contains("初回購入待ち"), "[{b}]");
        assert!(!html.contains(r#"id="rf-settings-form""#), "[{b}] staff see the settings, owners change them");

        // The owner's settings form reads full-width numbers and keeps a refused one as typed.
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let (s, _, html) = owner
            .post(
                "/settings/referrals",
                &[("enabled", "1"), ("referrer_points", "abc"), ("referred_points", "300"), ("monthly_limit", "5")],
            )
            .await;
        assert!(s == 422 && html.contains(r#"value="abc""#), "[{b}] {s}");
        let (s, _, _) = owner
            .post(
                "/settings/referrals",
                &[
                    ("enabled", "1"),
                    ("referrer_points", "１，０００"),
                    ("referred_points", "300pt"),
                    ("monthly_limit", "5"),
                ],
            )
            .await;
        assert_eq!(s, 303, "[{b}]");
        let (_, v) = t.get(&t.staff_token, "/api/v1/settings/referrals").await;
        assert_eq!((&v["referrer_points"], &v["referred_points"]), (&json!(1000), &json!(300)), "[{b}] {v}");
    }
}
