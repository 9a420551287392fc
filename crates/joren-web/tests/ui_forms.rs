//! The web UI's forms through HTTP with a real session: create and edit a customer, merge a
//! duplicate, refund and cancel orders, import a file through the preview — on both backends.

mod common;

use common::{Session, backends, spawn};
use serde_json::json;

#[tokio::test]
async fn customers_are_created_edited_and_merged_from_the_web_page() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (status, _, html) =
            s.post("/customers/new", &[("kind", "person"), ("family_name", "小川"), ("phone", "123")]).await;
        assert_eq!(status, 422, "[{b}] invalid phone re-renders the form");
        assert!(html.contains("id=\"form-errors\"") && html.contains("phone"), "{html}");
        assert!(html.contains("value=\"小川\""), "typed values are kept");

        let (status, location, _) = s
            .post(
                "/customers/new",
                &[
                    ("kind", "person"),
                    ("family_name", "小川"),
                    ("given_name", "舞"),
                    ("family_name_kana", "おがわ"),
                    ("phone", "090-7777-8888"),
                    ("tags", "VIP, ギフト利用"),
                ],
            )
            .await;
        assert_eq!(status, 303);
        let id: i64 = location.trim_start_matches("/customers/").parse().unwrap();
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(c["family_name_kana"], "オガワ");
        assert_eq!(c["tags"], json!(["VIP", "ギフト利用"]));

        let (status, html) = s.page(&format!("/customers/{id}/edit")).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"090-7777-8888\""), "the edit form shows the national phone format");
        let (status, _, _) = s
            .post(
                &format!("/customers/{id}/edit"),
                &[
                    ("kind", "person"),
                    ("family_name", "小川"),
                    ("given_name", "舞"),
                    ("family_name_kana", "オガワ"),
                    ("phone", ""),
                    ("email", "mai@example.jp"),
                    ("tags", "VIP"),
                ],
            )
            .await;
        assert_eq!(status, 303);
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert!(c["phone"].is_null(), "an emptied box clears the field");
        assert_eq!(c["email"], "mai@example.jp");
        assert_eq!(c["tags"], json!(["VIP"]));

        let dup = t.customer(json!({"family_name": "小川", "given_name": "舞", "phone": "090-7777-8888"})).await;
        t.post(&t.staff_token, "/api/v1/orders", &common::order_body(dup, Some("W-1"), 1400)).await;
        let (status, location, _) = s.post(&format!("/customers/{id}/merge"), &[("merge_id", &dup.to_string())]).await;
        assert_eq!((status, location.as_str()), (303, format!("/customers/{id}?merged=1").as_str()));
        let (_, html) = s.page(&location).await;
        assert!(html.contains("統合しました"));
        assert!(html.contains("id=\"order-count\">1<"), "the duplicate's order is now here: {html}");
        let (status, location, _) = s.post(&format!("/customers/{id}/merge"), &[("merge_id", &dup.to_string())]).await;
        assert_eq!(status, 303);
        assert!(location.contains("error="), "merging again shows an error, not a crash");

        // Consent recorded from the page, with its source.
        let (status, _, _) =
            s.post(&format!("/customers/{id}/consents"), &[("channel", "email"), ("granted", "1")]).await;
        assert_eq!(status, 303);
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(c["consents"][0]["channel"], "email");
        assert_eq!(c["consents"][0]["granted"], true);
        assert_eq!(c["consents"][0]["source"], "staff:staff (web)");
        let (_, html) = s.page(&format!("/customers/{id}")).await;
        assert!(html.contains("停止を記録"), "a granted consent offers the opt-out");
        let (_, location, _) =
            s.post(&format!("/customers/{id}/consents"), &[("channel", "fax"), ("granted", "1")]).await;
        assert!(location.contains("error="), "unknown channel is refused with a message");

        // Contact persons of a company account from the page.
        let acc = t.customer(json!({"kind": "account", "company_name": "株式会社テスト"})).await;
        let (_, html) = s.page(&format!("/customers/{acc}")).await;
        assert!(html.contains("id=\"contact-form\""), "accounts offer the contact form");
        let (status, _, _) = s
            .post(
                &format!("/customers/{acc}/contacts"),
                &[
                    ("family_name", "鈴木"),
                    ("given_name", "一郎"),
                    ("department", "購買部"),
                    ("role", "部長"),
                    ("email", "suzuki@test.co.jp"),
                    ("phone", ""),
                    ("given_name_kana", ""),
                ],
            )
            .await;
        assert_eq!(status, 303);
        let (_, a) = t.get(&t.staff_token, &format!("/api/v1/customers/{acc}")).await;
        assert_eq!(a["contacts"][0]["display_name"], "購買部 部長 鈴木 一郎 様");
        let (_, location, _) =
            s.post(&format!("/customers/{acc}/contacts"), &[("family_name", ""), ("email", "x")]).await;
        assert!(location.contains("error="), "a contact without a name is refused with a message");

        // 担当者: the new-customer form preselects the signed-in staff member; the edit form
        // assigns another one, refuses an unknown user, and the API clears it with null.
        let (_, users) = t.get(&t.owner_token, "/api/v1/users").await;
        let user_id = |name: &str| {
            users["items"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap()["id"].as_i64().unwrap()
        };
        let (staff_id, owner_id) = (user_id("staff"), user_id("owner"));
        let (_, html) = s.page("/customers/new").await;
        assert!(html.contains(&format!("<option value=\"{staff_id}\" selected>")), "{html}");
        let edit = |owner: String| {
            let path = format!("/customers/{id}/edit");
            let s = &s;
            async move { s.post(&path, &[("kind", "person"), ("family_name", "小川"), ("owner_user_id", &owner)]).await }
        };
        let (status, _, _) = edit(owner_id.to_string()).await;
        assert_eq!(status, 303);
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(c["owner_user_id"], owner_id);
        let (_, html) = s.page(&format!("/customers/{id}")).await;
        assert!(html.contains("担当者"), "the 360 page names the account manager");
        let (status, _, html) = edit("99999".into()).await;
        assert_eq!(status, 422, "an unknown user cannot be 担当者");
        assert!(html.contains("owner_user_id"), "{html}");
        let (status, c) = t
            .send(
                reqwest::Method::PATCH,
                &t.staff_token,
                &format!("/api/v1/customers/{id}"),
                &json!({"owner_user_id": null}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        assert!(c["owner_user_id"].is_null(), "null clears the 担当者");

        let viewer = Session { t: &t, cookie: t.login_cookie("viewer").await };
        let (status, _, _) = viewer.post("/customers/new", &[("family_name", "閲覧")]).await;
        assert_eq!(status, 403, "viewers cannot create customers from the page");
    }
}

#[tokio::test]
async fn orders_are_refunded_and_cancelled_from_the_order_page() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let cust = t.customer(json!({"family_name": "金子", "email": "kaneko@example.jp"})).await;
        let (_, o) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(cust, Some("P-1"), 1400)).await;
        let id = o["id"].as_i64().unwrap();
        let (status, html) = s.page(&format!("/orders/{id}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("¥6,100") && html.contains("ブレンド 200g"), "{html}");
        let (status, location, _) =
            s.post(&format!("/orders/{id}/refund"), &[("amount", "99999"), ("reason", "x")]).await;
        assert_eq!(status, 303);
        assert!(location.contains("error="), "over-refund is refused with a message");
        let (status, _, _) = s.post(&format!("/orders/{id}/refund"), &[("amount", "1,400"), ("reason", "破損")]).await;
        assert_eq!(status, 303);
        let (_, order) = t.get(&t.staff_token, &format!("/api/v1/orders/{id}")).await;
        assert_eq!(order["refunded"], 1400);
        assert_eq!(order["status"], "partially_refunded");

        let (_, o2) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(cust, Some("P-2"), 1400)).await;
        let id2 = o2["id"].as_i64().unwrap();
        s.post(&format!("/orders/{id2}/cancel"), &[("reason", "お客様都合")]).await;
        let (_, order) = t.get(&t.staff_token, &format!("/api/v1/orders/{id2}")).await;
        assert_eq!(order["status"], "cancelled");
        let (_, html) = s.page(&format!("/customers/{cust}")).await;
        assert!(html.contains(&format!("href=\"/orders/{id}\"")), "the timeline links to the order page");
    }
}

/// The customer page's order count, spend and first/last order cover every order, not only
/// the newest 500 listed.
#[tokio::test]
async fn the_customer_page_counts_every_order_past_the_first_500() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let today = chrono::Utc::now().date_naive();
        let mut csv = String::from("order_id,customer_id,ordered_at,line_amount\n");
        for n in 0..520 {
            let day = today - chrono::Days::new(520 - n);
            csv.push_str(&format!("R-{n},REG-1,{day}T12:00:00+09:00,1000\n"));
        }
        let report = t.import_orders(csv).await;
        assert_eq!(report["rejected"].as_array().map(Vec::len), Some(0), "[{b}] {report}");
        let (_, page) = t.get(&t.staff_token, "/api/v1/orders?limit=1").await;
        let (newest, cust) =
            (page["items"][0]["id"].as_i64().unwrap(), page["items"][0]["customer_id"].as_i64().unwrap());
        assert_eq!(page["total"], 520, "[{b}] {page}");
        let (status, _) =
            t.post(&t.staff_token, &format!("/api/v1/orders/{newest}/cancel"), &json!({"reason": "x"})).await;
        assert_eq!(status, 200, "[{b}]");
        let (_, html) = s.page(&format!("/customers/{cust}")).await;
        assert!(html.contains("id=\"order-count\">519<"), "[{b}] every order that counts");
        assert!(html.contains("¥519,000"), "[{b}] spend over every order");
        let first = (today - chrono::Days::new(520)).to_string();
        assert!(html.contains(&format!("{first} 〜")), "[{b}] the first order, not the 500th newest");
        // The order list reads lines and adjustments a page at a time, all of them there.
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/orders?limit=500&customer_id={cust}")).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 500, "[{b}]");
        assert!(items.iter().all(|o| o["items"].as_array().unwrap().len() == 1), "[{b}]");
        assert_eq!(items[0]["adjustments"].as_array().unwrap().len(), 1, "[{b}] the cancellation");
    }
}

#[tokio::test]
async fn import_page_previews_mapping_then_reports_rejects() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, page) = s.page("/import").await;
        assert!(
            page.contains("取り込んだ注文はポイントを付与しません"),
            "the page says imported orders earn no points"
        );
        let csrf = s.csrf().await;
        let (sjis, _, _) = encoding_rs::SHIFT_JIS
            .encode("姓,名,連絡先,メール\n山田,太郎,090-1234-5678,taro@example.jp\n佐藤,花子,,bad\n");
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("kind", "customers")
            .text("preset", "")
            .part("file", reqwest::multipart::Part::bytes(sjis.to_vec()).file_name("顧客.csv"));
        let r =
            t.client.post(t.url("/import/upload")).header("cookie", &s.cookie).multipart(form).send().await.unwrap();
        let status = r.status().as_u16();
        let html = r.text().await.unwrap();
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("id=\"encoding\">Shift_JIS<"), "{html}");
        assert!(html.contains("<option value=\"姓\" selected>"), "detected mapping is preselected");
        let token = html.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

        // The user maps the unrecognised 連絡先 column to phone, then imports.
        let fields = vec![
            ("csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("preset", "generic"),
            ("map.family_name", "姓"),
            ("map.given_name", "名"),
            ("map.phone", "連絡先"),
            ("map.email", "メール"),
        ];
        let r = t.client.post(t.url("/import/run")).header("cookie", &s.cookie).form(&fields).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"r-created\">1<") && html.contains("id=\"r-rejected\">1<"), "{html}");
        assert!(html.contains("<td class=\"num\">3</td>"), "the reject names line 3: {html}");
        let (_, page) = t.get(&t.staff_token, "/api/v1/customers?q=09012345678").await;
        assert_eq!(page["total"], 1, "the overridden phone column was used");

        let r = t
            .client
            .get(t.url(&format!("/import/{token}/rejects.csv")))
            .header("cookie", &s.cookie)
            .send()
            .await
            .unwrap();
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with('\u{feff}') && csv.contains("bad"), "{csv}");
        let other = Session { t: &t, cookie: t.login_cookie("owner").await };
        let (status, _) = other.page(&format!("/import/{token}/rejects.csv")).await;
        assert_eq!(status, 403, "another user's upload is not readable");
    }
}

#[tokio::test]
async fn customer_page_shows_metrics_after_analyse_now() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let id = t.customer(json!({"family_name": "分析", "given_name": "花子"})).await;
        t.post(&t.staff_token, "/api/v1/orders", &common::order_body(id, Some("I-1"), 1400)).await;
        let (_, html) = s.page(&format!("/customers/{id}")).await;
        assert!(html.contains("id=\"insight-none\""), "[{b}] not analysed yet");
        let (status, location, _) = s.post("/metrics/refresh", &[("back", &format!("/customers/{id}"))]).await;
        assert_eq!((status, location.as_str()), (303, format!("/customers/{id}").as_str()));
        let (_, html) = s.page(&format!("/customers/{id}")).await;
        assert!(html.contains("id=\"insight-segment\""), "{html}");
        // One customer cannot support the forecasting models: RFM only, said plainly.
        assert!(html.contains("予測モデルは使っていません"), "{html}");
        let (_, location, _) = s.post("/metrics/refresh", &[("back", "https://evil.example/")]).await;
        assert_eq!(location, "/", "only local paths are followed");
        let viewer = Session { t: &t, cookie: t.login_cookie("viewer").await };
        let (status, _, _) = viewer.post("/metrics/refresh", &[("back", "/")]).await;
        assert_eq!(status, 403);
    }
}

#[tokio::test]
async fn dashboard_shows_kpis_cohorts_segments_and_the_industry_comparison() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let today = chrono::Utc::now().date_naive();
        for c in 0..6i64 {
            let source = if c % 2 == 0 { "advertising" } else { "referral" };
            let id = t.customer(json!({"family_name": format!("集計{c}"), "acquisition_source": source})).await;
            for k in 0..=(c % 3) {
                let mut body = common::order_body(id, Some(&format!("D-{c}-{k}")), 1200 + 100 * c);
                let day = today - chrono::Duration::days(200 - 60 * k - 7 * c);
                body["ordered_at"] = json!(format!("{day}T11:00:00+09:00"));
                t.post(&t.staff_token, "/api/v1/orders", &body).await;
            }
        }
        let (status, html) = owner.page("/dashboard").await;
        assert_eq!(status, 200, "[{b}] {html}");
        assert!(html.contains("id=\"kpi-tiles\"") && html.contains("継続率"), "{html}");
        assert!(html.contains("id=\"cohort-heatmap\""), "cohorts drawn");
        assert!(html.contains("id=\"source-table\"") && html.contains("広告") && html.contains("紹介"), "{html}");
        assert!(!html.contains("id=\"segment-chart\""), "no snapshot yet");

        let (status, location, body) = owner.post("/metrics/refresh", &[("back", "/dashboard")]).await;
        assert_eq!((status, location.as_str()), (303, "/dashboard"), "{body}");
        let (_, html) = owner.page("/dashboard").await;
        assert!(html.contains("id=\"segment-chart\"") && html.contains("<svg"), "segments drawn after analysis");
        assert!(html.contains("id=\"contact-week\""), "contact lists shown");

        let (status, location, _) = owner.post("/settings/industry", &[("industry", "restaurant")]).await;
        assert_eq!((status, location.as_str()), (303, "/dashboard"));
        let (_, html) = owner.page("/dashboard").await;
        assert!(html.contains("id=\"industry-verdict\"") && html.contains("30–50%"), "{html}");
        let (status, _, _) = owner.post("/settings/industry", &[("industry", "casino")]).await;
        assert_eq!(status, 422, "unknown industries are refused");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (status, _, _) = staff.post("/settings/industry", &[("industry", "retail")]).await;
        assert_eq!(status, 403, "only the owner sets the industry");

        // The owner rewords a next-action rule from the page; an empty action is refused.
        let (_, html) = owner.page("/dashboard").await;
        assert!(html.contains("id=\"rules-form\""));
        let (status, location, _) =
            owner.post("/settings/next-best-action", &[("action_ja_1", "店長からお礼状を送る")]).await;
        assert_eq!((status, location.as_str()), (303, "/dashboard#rules"));
        let (_, rules) = t.get(&t.staff_token, "/api/v1/settings/next-best-action").await;
        assert_eq!(rules["rules"][1]["action_ja"], "店長からお礼状を送る");
        assert_eq!(rules["rules"][1]["segment"], "champions", "conditions unchanged");
        let (status, _, _) = owner.post("/settings/next-best-action", &[("action_ja_0", " ")]).await;
        assert_eq!(status, 422);
        // Conditions too: rule 1 narrowed to high churn risk and CLV ≥ ¥20,000, rule 0
        // deleted, a new rule added and moved to the top.
        let (_, before) = t.get(&t.staff_token, "/api/v1/settings/next-best-action").await;
        let n = before["rules"].as_array().unwrap().len();
        assert!(html.contains(&format!("name=\"segment_{n}\"")), "an empty row to add a rule");
        let (seg_new, ja_new, en_new, order_new) =
            (format!("segment_{n}"), format!("action_ja_{n}"), format!("action_en_{n}"), format!("order_{n}"));
        let form = [
            ("churn_band_1", "high"),
            ("min_clv_1", "20,000"),
            ("delete_0", "1"),
            (seg_new.as_str(), "new"),
            (ja_new.as_str(), "初回購入のお礼電話"),
            (en_new.as_str(), "Thank-you call"),
            (order_new.as_str(), "0"),
        ];
        let (status, location, _) = owner.post("/settings/next-best-action", &form).await;
        assert_eq!((status, location.as_str()), (303, "/dashboard#rules"));
        let (_, after) = t.get(&t.staff_token, "/api/v1/settings/next-best-action").await;
        let rules = after["rules"].as_array().unwrap();
        assert_eq!(rules.len(), n, "one deleted, one added: {after}");
        assert_eq!(
            (rules[0]["segment"].as_str(), rules[0]["action_ja"].as_str()),
            (Some("new"), Some("初回購入のお礼電話"))
        );
        assert_eq!(rules[1]["segment"], "champions");
        assert_eq!((rules[1]["churn_band"].as_str(), rules[1]["min_clv"].as_f64()), (Some("high"), Some(20000.0)));
        assert_eq!(rules[1]["action_ja"], "店長からお礼状を送る", "wording kept");
        let (_, html) = owner.page("/dashboard").await;
        assert!(html.contains("value=\"20000\""), "the editor shows the saved threshold");
        let (status, _, body) = owner.post("/settings/next-best-action", &[("min_clv_1", "たくさん")]).await;
        assert_eq!(status, 422, "a threshold that is not an amount is refused: {body}");
        assert!(body.contains("min_clv"), "…naming the field: {body}");
        let (status, _, _) = owner.post("/settings/next-best-action", &[("segment_1", "vip")]).await;
        assert_eq!(status, 422, "unknown segment codes are refused");
        let (status, _, _) = owner.post("/settings/next-best-action", &[("reset", "1")]).await;
        assert_eq!(status, 303);
        let (_, reset) = t.get(&t.staff_token, "/api/v1/settings/next-best-action").await;
        assert_eq!(
            reset["rules"],
            serde_json::to_value(joren_app::next_action::default_rules()).unwrap(),
            "the defaults are back"
        );
        let (status, _, _) = staff.post("/settings/next-best-action", &[("action_ja_0", "x")]).await;
        assert_eq!(status, 403);

        let (status, html) = owner.page("/dashboard?start=2026-13-01&end=2026-12-31").await;
        assert_eq!(status, 422, "a bad date is explained: {html}");
        assert!(html.contains("start"), "{html}");
        let (status, html) = owner.page("/dashboard?start=2025-01-01&end=2025-03-31").await;
        assert_eq!(status, 200);
        assert!(html.contains("2024-10-03 〜 2024-12-31"), "previous period of the same length: {html}");
    }
}

/// The segment pages without a script: save from the form (bad JSON and duplicate names shown
/// back with the input kept), the page lists members, the live-count endpoint needs the CSRF
/// header, export is CSV with BOM, delete; viewers can look but not save.
#[tokio::test]
async fn segments_are_saved_listed_counted_exported_and_deleted_from_the_web_page() {
    for b in backends() {
        let t = spawn(b).await;
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let tokyo = t.customer(json!({"family_name": "東", "given_name": "京子", "prefecture": "東京都"})).await;
        t.customer(json!({"family_name": "西", "given_name": "大輔", "prefecture": "大阪府"})).await;

        let (status, html) = staff.page("/segments").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"no-segments\"") && html.contains("id=\"new-segment\""), "{html}");
        let (status, html) = staff.page("/segments/new").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"builder\"") && html.contains("/static/segments.js"), "{html}");
        assert!(html.contains("\"name\":\"purchased_category\""), "field catalogue for the script: {html}");
        let (status, js) = staff.page("/static/segments.js").await;
        assert!(status == 200 && js.contains("/segments/preview"));

        let (status, _, html) = staff.post("/segments", &[("name", "東京"), ("filter", "{\"all\": [")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"form-error\"") && html.contains("JSON"), "{html}");
        assert!(html.contains("value=\"東京\""), "input kept: {html}");

        let filter = r#"{"all":[{"any":[{"field":"prefecture","op":"eq","value":"東京都"}]}]}"#;
        let (status, location, body) =
            staff.post("/segments", &[("name", "東京"), ("description", "都内のお客様"), ("filter", filter)]).await;
        assert_eq!(status, 303, "[{b}] {body}");
        let (_, html) = staff.page(&location).await;
        assert!(html.contains("<strong>1</strong>"), "[{b}] count shown: {html}");
        assert!(html.contains(&format!("href=\"/customers/{tokyo}\"")) && html.contains("東 京子 様"), "{html}");
        let (status, _, html) = staff.post("/segments", &[("name", "東京"), ("filter", filter)]).await;
        assert_eq!(status, 422, "duplicate name");
        assert!(html.contains("既にあります"), "{html}");

        let (_, html) = staff.page("/segments").await;
        assert!(html.contains("id=\"segment-list\"") && html.contains("都内のお客様"), "{html}");

        let csrf = staff.csrf().await;
        let preview = |token: String, filter: serde_json::Value| {
            let t = &t;
            let cookie = staff.cookie.clone();
            async move {
                let r = t
                    .client
                    .post(t.url("/segments/preview"))
                    .header("cookie", cookie)
                    .header("x-csrf-token", token)
                    .json(&json!({"filter": filter}))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
            }
        };
        let (s, v) =
            preview(csrf.clone(), json!({"field": "prefecture", "op": "in", "value": ["東京都", "大阪府"]})).await;
        assert_eq!((s, v["total"].as_i64()), (200, Some(2)), "[{b}] {v}");
        let (s, v) = preview(csrf.clone(), json!({"field": "prefecture", "op": "lt", "value": "x"})).await;
        assert_eq!(s, 422);
        assert!(v["error"].as_str().unwrap().contains("filter.op"), "{v}");
        let (s, _) = preview("wrong".into(), json!({"field": "prefecture", "op": "eq", "value": "x"})).await;
        assert_eq!(s, 403, "the live count needs the CSRF token");

        let r = t
            .client
            .get(t.url(&format!("{location}/export.csv")))
            .header("cookie", &staff.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        assert_eq!(std::str::from_utf8(&bytes).unwrap().lines().count(), 2, "header and the one Tokyo customer");

        let viewer = Session { t: &t, cookie: t.login_cookie("viewer").await };
        let (status, html) = viewer.page(&location).await;
        assert_eq!(status, 200);
        assert!(!html.contains("id=\"save-segment\""), "viewers see no save button");
        let (status, _, _) = viewer.post(&format!("{location}/delete"), &[]).await;
        assert_eq!(status, 403);
        let (status, target, _) = staff.post(&format!("{location}/delete"), &[]).await;
        assert_eq!((status, target.as_str()), (303, "/segments"));
        let (status, _) = staff.page(&location).await;
        assert_eq!(status, 404);
    }
}

/// The points pages: the customer page's panel and manual adjustment (a reason required), the
/// settings form (preview without saving, owners save, bad fields named) and the report.
#[tokio::test]
async fn points_are_adjusted_configured_and_reported_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "森", "given_name": "花", "phone": "090-5000-0001"})).await;
        let mut order = common::order_body(c, Some("W-1"), 1000);
        order["ordered_at"] = json!((chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339());
        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order).await;
        assert_eq!(s, 201, "{v}");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"points-available\">53<"), "[{b}] ¥5,300 earned 53 points");

        let path = format!("/customers/{c}/points");
        let (status, location, _) = staff.post(&path, &[("action", "grant"), ("points", "100"), ("reason", "")]).await;
        assert_eq!(status, 303);
        assert!(location.contains("error="), "[{b}] a reason is required: {location}");
        let (_, location, _) =
            staff.post(&path, &[("action", "grant"), ("points", "1,000"), ("reason", "お誕生日")]).await;
        assert!(location.contains("points=1"), "[{b}] {location}");
        let (_, location, _) = staff.post(&path, &[("action", "deduct"), ("points", "3"), ("reason", "誤付与")]).await;
        assert!(location.contains("points=1"), "[{b}] {location}");
        let (_, html) = staff.page(&format!("/customers/{c}?points=1")).await;
        assert!(html.contains("id=\"points-available\">1050<"), "[{b}] 53 + 1,000 − 3");
        assert!(html.contains("お誕生日") && html.contains("id=\"points-flash\""), "[{b}] lot reason and flash shown");
        let (_, location, _) = staff.post(&path, &[("action", "deduct"), ("points", "5000"), ("reason", "x")]).await;
        assert!(location.contains("error="), "[{b}] cannot deduct more than available: {location}");

        // Settings: the preview answers without saving; staff cannot save; owners can.
        let form = [
            ("enabled", "1"),
            ("earn_per_yen", "200"),
            ("earn_points", "1"),
            ("earn_base", "inclusive"),
            ("rounding", "floor"),
            ("pending_days", "7"),
            ("first_purchase_bonus", "0"),
            ("birthday_bonus_points", "300"),
            ("birthday_bonus_timing", "month"),
            ("reservation_minutes", "30"),
            ("expiry_kind", "fixed_term"),
            ("expiry_months", "6"),
            ("fiscal_month", "3"),
            ("fiscal_day", "31"),
            ("min_months", "0"),
            ("shortfall", "record_debt"),
            ("campaign_name_0", "年末感謝祭"),
            // A campaign long past, so the preview of an order today does not include it.
            ("campaign_from_0", "2020-12-01"),
            ("campaign_to_0", "2020-12-31"),
            ("campaign_multiplier_0", "200"),
            ("campaign_category_0", ""),
            ("ranks_enabled", "1"),
            ("rank_measure", "spend"),
            ("rank_window", "rolling"),
            ("rank_months", "6"),
            ("rank_grace", "1"),
            ("tier_name_0", "レギュラー"),
            ("tier_threshold_0", "0"),
            ("tier_multiplier_0", "100"),
            ("tier_name_1", "ゴールド"),
            ("tier_threshold_1", "50,000"),
            ("tier_multiplier_1", "200"),
            ("tier_name_2", ""),
            ("tier_threshold_2", ""),
            ("tier_multiplier_2", "100"),
            ("preview_total", "12800"),
            ("preview_multiplier", "150"),
            ("preview_rank", ""),
        ];
        let mut preview = form.to_vec();
        preview.push(("action", "preview"));
        let (status, _, html) = staff.post("/settings/points", &preview).await;
        assert_eq!(status, 200, "[{b}]");
        assert!(html.contains("id=\"preview-points\">96<"), "[{b}] ¥12,800 / 200 × 1.5 = 96");
        // The preview for a tier uses the tier's multiplier: ¥12,800 by a ゴールド member → 64 × 2.
        let mut by_tier = preview.clone();
        by_tier.retain(|(k, _)| *k != "preview_rank");
        by_tier.push(("preview_rank", "1"));
        let (_, _, html) = staff.post("/settings/points", &by_tier).await;
        assert!(
            html.contains("id=\"preview-points\">128<") && html.contains("id=\"preview-tier\">ゴールド<"),
            "[{b}] tier preview"
        );
        assert_eq!(t.app.points_programme().await.unwrap().earn.per_yen, 100, "[{b}] a preview saves nothing");
        let mut save = form.to_vec();
        save.push(("action", "save"));
        let (status, _, _) = staff.post("/settings/points", &save).await;
        assert_eq!(status, 403, "[{b}] staff cannot change the programme");
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let mut bad = save.clone();
        bad[1] = ("earn_per_yen", "0");
        let (status, _, html) = owner.post("/settings/points", &bad).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"form-error\"") && html.contains("earn.per_yen"), "[{b}] the bad field is named");
        let (status, location, _) = owner.post("/settings/points", &save).await;
        assert_eq!((status, location.as_str()), (303, "/settings/points?saved=1"), "[{b}]");
        let p = t.app.points_programme().await.unwrap();
        assert_eq!((p.earn.per_yen, p.pending_days, p.campaigns.len()), (200, 7, 1), "[{b}] {p:?}");
        assert_eq!(p.expiry, joren_core::points::ExpiryPolicy::FixedTerm { months: 6, end_of_month: false });
        assert_eq!(p.shortfall, joren_core::points::ShortfallPolicy::RecordDebt);
        let birthday =
            joren_core::programme::BirthdayBonus { points: 300, timing: joren_core::programme::BirthdayTiming::Month };
        assert_eq!(p.birthday_bonus, birthday, "[{b}]");
        assert!(p.ranks.enabled && p.ranks.grace_reviews == 1, "[{b}] {:?}", p.ranks);
        assert_eq!(p.ranks.window, joren_core::rank::RankWindow::Rolling { months: 6 });
        let tiers: Vec<(&str, i64, i64)> =
            p.ranks.tiers.iter().map(|x| (x.name.as_str(), x.threshold, x.points_multiplier_percent)).collect();
        assert_eq!(tiers, [("レギュラー", 0, 100), ("ゴールド", 50_000, 200)], "[{b}] the empty tier row is left out");
        let mut clash = save.clone();
        clash.retain(|(k, _)| *k != "tier_threshold_1");
        clash.push(("tier_threshold_1", "0"));
        let (_, _, html) = owner.post("/settings/points", &clash).await;
        assert!(html.contains("ranks.tiers[1].threshold"), "[{b}] a tier below the one before is named");
        let (_, html) = owner.page("/settings/points").await;
        assert!(html.contains("value=\"年末感謝祭\""), "[{b}] the saved campaign is listed");

        let (status, html) = staff.page("/points").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"outstanding-free\">1050<") && html.contains("points-movement"), "[{b}] report");
    }
}

#[tokio::test]
async fn ranks_are_shown_changed_and_reported_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let mut programme = t.app.points_programme().await.unwrap();
        programme.ranks.enabled = true;
        t.app.set_points_programme(&joren_app::Actor::system("test"), programme).await.unwrap();
        let c = t.customer(json!({"family_name": "森", "given_name": "蘭", "phone": "090-5100-0001"})).await;
        // ¥2 × 12,000 + ¥3,300 = ¥27,300 this year: レギュラー, ¥2,700 short of シルバー (¥30,000).
        let mut order = common::order_body(c, Some("RK-1"), 12_000);
        order["ordered_at"] = json!(chrono::Utc::now().to_rfc3339());
        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order).await;
        assert_eq!(s, 201, "{v}");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"rank-tier\">レギュラー<"), "[{b}] the base tier is shown");
        assert!(html.contains("id=\"rank-value\">¥27,300<") && html.contains("id=\"rank-missing\">¥2,700<"), "[{b}]");

        let path = format!("/customers/{c}/rank");
        let (status, location, _) = staff.post(&path, &[("tier", "2"), ("reason", "")]).await;
        assert_eq!(status, 303);
        assert!(location.contains("error="), "[{b}] a reason is required: {location}");
        let (_, location, _) = staff.post(&path, &[("tier", "2"), ("reason", "開店記念のご招待")]).await;
        assert!(location.contains("points=1"), "[{b}] {location}");
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"rank-tier\">ゴールド<"), "[{b}] set by hand");
        assert!(html.contains("id=\"rank-history\"") && html.contains("開店記念のご招待"), "[{b}] history with reason");
        assert!(html.contains("レギュラー → ゴールド ▲"), "[{b}] the change is on the timeline");

        let (status, html) = staff.page("/points").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"rank-count-2\">1<") && html.contains("id=\"rank-movement\""), "[{b}] report");
        let (status, location, _) = staff.post("/ranks/evaluate", &[]).await;
        assert_eq!((status, location.as_str()), (303, "/points?evaluated=0#ranks"), "[{b}] nothing to change");
        let viewer = Session { t: &t, cookie: t.login_cookie("viewer").await };
        let (status, _, _) = viewer.post("/ranks/evaluate", &[]).await;
        assert_eq!(status, 403, "[{b}] viewers cannot run the evaluation");
    }
}

/// The value of `name="NAME" value="…"` in a form on `html` (the first one).
fn form_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\"")).nth(1).unwrap().split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn tickets_are_sold_used_and_refunded_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let plan = [("name", "10回券"), ("visits", "10"), ("price", "45,000"), ("valid_months", "6"), ("active", "1")];
        let (status, _, _) = staff.post("/tickets/plans", &plan).await;
        assert_eq!(status, 403, "[{b}] plans are the owner's");
        let (_, location, _) = owner
            .post("/tickets/plans", &[("visits", "0"), ("price", "1"), ("valid_months", "0"), ("name", "x")])
            .await;
        assert!(location.contains("error=") && location.contains("visits"), "[{b}] {location}");
        let (status, location, _) = owner.post("/tickets/plans", &plan).await;
        assert_eq!((status, location.as_str()), (303, "/tickets"), "[{b}]");

        let c = t.customer(json!({"family_name": "小林", "given_name": "結衣", "phone": "090-6200-0001"})).await;
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"ticket-sell\"") && html.contains("10回券 (10回 ¥45,000)"), "[{b}] plan offered");
        let sell_form = &html[html.find("id=\"ticket-sell\"").unwrap()..];
        let plan_id = sell_form.split("<option value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let sell_key = form_value(sell_form, "key");
        let sell = [("plan_id", plan_id.as_str()), ("key", sell_key.as_str())];
        for _ in 0..2 {
            let (status, location, _) = staff.post(&format!("/customers/{c}/tickets"), &sell).await;
            assert_eq!((status, location.contains("tickets=1")), (303, true), "[{b}] {location}");
        }
        let tickets = t.app.customer_tickets(c).await.unwrap();
        assert_eq!(tickets.len(), 1, "[{b}] the same form sent twice sells one ticket");
        let id = tickets[0].id;

        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        let use_form = &html[html.find(&format!("action=\"/tickets/{id}/use\"")).unwrap()..];
        let use_key = form_value(use_form, "key");
        for _ in 0..2 {
            staff.post(&format!("/tickets/{id}/use"), &[("key", use_key.as_str()), ("note", "カット")]).await;
        }
        let (_, html) = staff.page(&format!("/customers/{c}?tickets=1")).await;
        assert!(html.contains(&format!("id=\"ticket-remaining-{id}\">9<")), "[{b}] a double click uses one visit");
        assert!(html.contains("id=\"tickets-flash\""));
        assert!(html.contains("10回券 1/10回目") && html.contains("回数券購入"), "[{b}] sale and use on the timeline");

        let (_, location, _) = staff.post(&format!("/tickets/{id}/refund"), &[("reason", "")]).await;
        assert!(location.contains("error="), "[{b}] a reason is required: {location}");
        let (_, html) = owner.page("/tickets").await;
        assert!(
            html.contains("id=\"tickets-outstanding\">¥40,500<") && html.contains("id=\"tickets-exempt\">¥40,500<"),
            "[{b}]"
        );
        staff.post(&format!("/tickets/{id}/refund"), &[("reason", "引っ越し")]).await;
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("払い戻し済み") && html.contains("¥40,500"), "[{b}] refunded 9/10 of ¥45,000");
        assert!(!html.contains(&format!("action=\"/tickets/{id}/use\"")), "[{b}] no more uses offered");

        // Ending a plan's sale takes it off the customer page.
        let (_, html) = owner.page("/tickets").await;
        let toggle = &html[html.find("action=\"/tickets/plans/").unwrap()..];
        let path = toggle["action=\"".len()..].split('"').next().unwrap().to_string();
        let stop = [("name", "10回券"), ("visits", "10"), ("price", "¥45,000"), ("valid_months", "6")];
        let (status, _, _) = owner.post(&path, &stop).await;
        assert_eq!(status, 303);
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(!html.contains("id=\"ticket-sell\"") && html.contains("販売中の回数券プランがありません"), "[{b}]");
    }
}

#[tokio::test]
async fn memberships_are_started_renewed_and_cancelled_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let plan = [("name", "月額会員"), ("price", "3,300"), ("period_months", "1"), ("active", "1")];
        let (status, _, _) = staff.post("/memberships/plans", &plan).await;
        assert_eq!(status, 403, "[{b}] plans are the owner's");
        let (_, location, _) = owner.post("/memberships/plans", &plan).await;
        assert_eq!(location, "/memberships", "[{b}]");

        let c = t.customer(json!({"family_name": "松本", "given_name": "凛", "phone": "090-8100-0001"})).await;
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        let start_form = &html[html.find("id=\"membership-start\"").expect("start form")..];
        let plan_id = start_form.split("<option value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let key = form_value(start_form, "key");
        for _ in 0..2 {
            staff
                .post(&format!("/customers/{c}/memberships"), &[("plan_id", plan_id.as_str()), ("key", key.as_str())])
                .await;
        }
        let ms = t.app.customer_memberships(c).await.unwrap();
        assert_eq!(ms.len(), 1, "[{b}] the same form sent twice starts one membership");
        let id = ms[0].id;

        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        let change_form = &html[html.find(&format!("action=\"/memberships/{id}/change\"")).unwrap()..];
        let key = form_value(change_form, "key");
        for _ in 0..2 {
            staff.post(&format!("/memberships/{id}/change"), &[("key", key.as_str()), ("action", "renew")]).await;
        }
        assert_eq!(t.app.membership(id).await.unwrap().renewals, 1, "[{b}] a double click renews once");
        let cancel = [("key", key.as_str()), ("action", "cancel"), ("reason", "moved"), ("note", "大阪へ")];
        let (_, location, _) = staff.post(&format!("/memberships/{id}/change"), &cancel).await;
        assert!(location.contains("memberships=1"), "[{b}] {location}");
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(
            html.contains(&format!("id=\"membership-status-{id}\">解約済み<")) && html.contains("転居 大阪へ"),
            "[{b}]"
        );
        assert!(
            html.contains("月額会員 加入") && html.contains("月額会員 解約"),
            "[{b}] membership events on the timeline"
        );

        let (_, html) = staff.page("/memberships").await;
        assert!(html.contains("id=\"churn-reasons\"") && html.contains("月額会員"), "[{b}]");
        let moved = html.split("<td>転居</td><td class=\"num\">").nth(1).unwrap().split('<').next().unwrap();
        assert_eq!(moved, "1", "[{b}] the reason is counted");
    }
}

#[tokio::test]
async fn perks_are_defined_and_shown_on_the_customer_page() {
    for b in backends() {
        let t = spawn(b).await;
        let mut programme = t.app.points_programme().await.unwrap();
        programme.ranks.enabled = true;
        t.app.set_points_programme(&joren_app::Actor::system("test"), programme).await.unwrap();
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = owner.page("/perks").await;
        assert!(html.contains("id=\"perk-new\"") && html.contains("<option value=\"2\">ゴールド</option>"), "[{b}]");
        let (_, location, _) =
            owner.post("/perks", &[("name", "先行予約"), ("kind", "priority_booking"), ("active", "1")]).await;
        assert!(location.contains("error=") && location.contains("gate"), "[{b}] a gate is required: {location}");
        let perk = [
            ("name", "先行予約"),
            ("kind", "priority_booking"),
            ("min_rank_level", "2"),
            ("description", "新作を1週間早く"),
            ("active", "1"),
        ];
        let (status, _, _) = staff.post("/perks", &perk).await;
        assert_eq!(status, 403, "[{b}]");
        let (_, location, _) = owner.post("/perks", &perk).await;
        assert_eq!(location, "/perks", "[{b}]");

        let gold = t.customer(json!({"family_name": "佐々木", "given_name": "光", "phone": "090-9100-0001"})).await;
        let other = t.customer(json!({"family_name": "佐々木", "given_name": "影", "phone": "090-9100-0002"})).await;
        staff.post(&format!("/customers/{gold}/rank"), &[("tier", "2"), ("reason", "招待")]).await;
        let (_, html) = staff.page(&format!("/customers/{gold}")).await;
        assert!(
            html.contains("✓ <strong>先行予約</strong>") && html.contains("ランク ゴールド 以上"),
            "[{b}] open to ゴールド"
        );
        let (_, html) = staff.page(&format!("/customers/{other}")).await;
        assert!(html.contains("✗ <strong>先行予約</strong>"), "[{b}] closed, with what is needed");

        let (_, html) = owner.page("/perks").await;
        let id = html.split("id=\"perk-end-").nth(1).unwrap().split('"').next().unwrap().to_string();
        let end_form = &html[html.find("id=\"perk-end-").unwrap()..];
        let fields: Vec<(String, String)> =
            ["name", "description", "kind", "min_rank_level", "membership_plan_id", "segment_id"]
                .iter()
                .map(|n| (n.to_string(), form_value(end_form, n)))
                .collect();
        let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_, location, _) = owner.post(&format!("/perks/{id}"), &form).await;
        assert_eq!(location, "/perks", "[{b}] ended");
        let (_, html) = staff.page(&format!("/customers/{gold}")).await;
        assert!(!html.contains("先行予約"), "[{b}] an ended perk is no longer listed");
    }
}

/// Every state-changing page route, read from the router's source so a new one is covered
/// the day it is added, refuses a signed-in post without the session's CSRF token — and
/// changes nothing.
#[tokio::test]
async fn every_form_post_without_the_csrf_token_is_refused() {
    let source = include_str!("../src/ui/mod.rs");
    let routes: Vec<String> = source
        .split(".route(\"")
        .skip(1)
        .filter(|r| r.split(".route(").next().unwrap().contains("post("))
        .map(|r| r.split('"').next().unwrap().replace("{id}", "1"))
        // The login form has a token of its own (a cookie); the segment preview is a JSON
        // call whose token is a header, checked below.
        .filter(|p| p != "/login" && p != "/segments/preview")
        .collect();
    assert!(routes.len() > 30, "the router's POST routes were found: {routes:?}");
    for b in backends() {
        let t = spawn(b).await;
        let id = t.customer(json!({"family_name": "守田", "email": "morita@example.jp"})).await;
        assert_eq!(id, 1);
        let cookie = t.login_cookie("owner").await;
        let (_, before) = t.get(&t.staff_token, "/api/v1/customers/1/events").await;
        for path in &routes {
            let r = t
                .client
                .post(t.url(path))
                .header("cookie", &cookie)
                .form(&[("family_name", "偽物"), ("kind", "person"), ("amount", "100"), ("reason", "x")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 403, "[{b}] POST {path} without the token");
        }
        let r = t
            .client
            .post(t.url("/segments/preview"))
            .header("cookie", &cookie)
            .json(&json!({"filter": {"all": []}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "[{b}] the preview without its header token");
        let (_, list) = t.get(&t.staff_token, "/api/v1/customers").await;
        assert_eq!(list["total"], 1, "[{b}] no customer was created");
        let (_, after) = t.get(&t.staff_token, "/api/v1/customers/1/events").await;
        assert_eq!(before, after, "[{b}] no event was raised");
    }
}
