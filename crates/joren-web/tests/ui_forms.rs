//! The web UI's forms through HTTP with a real session: create and edit a customer, merge a
//! duplicate, refund and cancel orders, import a file through the preview — on both backends.

mod common;
#[path = "ui_forms/counter.rs"]
mod counter;
#[path = "ui_forms/loyalty.rs"]
mod loyalty;
#[path = "ui_forms/owner_pages.rs"]
mod owner_pages;
#[path = "ui_forms/reading.rs"]
mod reading;
#[path = "ui_forms/staff.rs"]
mod staff;
#[path = "ui_forms/words.rs"]
mod words;

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
        let (status, _, html) = s.post(&format!("/customers/{id}/merge"), &[("merge_id", &dup.to_string())]).await;
        assert_eq!(status, 422, "merging again is refused, not a crash");
        assert!(common::field_error(&html, "merge_id").is_some(), "why, beside the merge box");
        // A crafted link cannot put words in the error box.
        let (_, html) = s.page(&format!("/customers/{id}?error=%E8%A9%90%E6%AC%BA")).await;
        assert!(!html.contains("id=\"form-error\"") && !html.contains("詐欺"), "{html}");

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
        assert!(html.contains("スタッフ (staff)") && !html.contains("staff:staff"), "the source in words: {html}");
        let (status, _, html) =
            s.post(&format!("/customers/{id}/consents"), &[("channel", "fax"), ("granted", "1")]).await;
        assert_eq!(status, 422);
        let message = common::field_error(&html, "consent-0-form").unwrap_or_default();
        assert!(message.contains("fax"), "unknown channel is refused under the consents: {message}");

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
        let (status, _, html) = s
            .post(
                &format!("/customers/{acc}/contacts"),
                &[("family_name", ""), ("email", "x"), ("department", "総務部")],
            )
            .await;
        assert_eq!(status, 422, "a contact without a name comes back as typed");
        assert!(common::field_error(&html, "contact-family_name").is_some(), "the missing name beside its field");
        assert!(
            common::field_error(&html, "contact-email").is_some_and(|e| e.contains('x')),
            "the bad email beside it"
        );
        assert!(html.contains("value=\"総務部\""), "what was typed is kept");
        // An account merged into another meanwhile: said under the form, the typing kept.
        let acc2 = t.customer(json!({"kind": "account", "company_name": "株式会社テスト本社"})).await;
        t.app.merge_customers(&joren_app::Actor::system("test"), acc2, acc).await.unwrap();
        let (status, _, html) =
            s.post(&format!("/customers/{acc}/contacts"), &[("family_name", "佐藤"), ("department", "経理部")]).await;
        assert_eq!(status, 422, "refused on the page");
        assert!(common::field_error(&html, "contact-form").is_some_and(|m| !m.is_empty()), "said under the form");
        assert!(html.contains("value=\"経理部\""), "what was typed is kept");

        // A note too long to save is not lost: the log form comes back with it, the limit said.
        let note = "長いメモ".repeat(2_600);
        let (status, _, html) = s
            .post(
                &format!("/customers/{acc}/interactions"),
                &[("kind", "phone"), ("direction", "in"), ("subject", "件名"), ("body", &note)],
            )
            .await;
        assert_eq!(status, 422, "over 10,000 characters is refused");
        assert!(common::field_error(&html, "log-body").is_some_and(|e| e.contains("10000")), "beside the note");
        assert!(html.contains(&note) && html.contains("value=\"in\" selected"), "the note and choices kept");

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
        let (status, _, html) = s.post(&format!("/orders/{id}/refund"), &[("amount", "99999"), ("reason", "x")]).await;
        assert_eq!(status, 422, "over-refund comes back as typed");
        assert!(html.contains("class=\"field-error\""), "said beside the form's fields: {html}");
        assert!(html.contains("value=\"99999\"") && html.contains("id=\"refund-reason\" value=\"x\""), "typed kept");
        let (status, _, html) =
            s.post(&format!("/orders/{id}/refund"), &[("amount", "千円"), ("reason", "破損")]).await;
        assert_eq!(status, 422);
        assert!(common::field_error(&html, "amount").is_some_and(|e| e.contains("千円")), "the amount beside its box");
        let (_, html) = s.page(&format!("/orders/{id}")).await;
        assert!(!html.contains("class=\"field-error\""), "a reload starts afresh");
        let (status, _, _) = s.post(&format!("/orders/{id}/refund"), &[("amount", "1,400"), ("reason", "破損")]).await;
        assert_eq!(status, 303);
        let (_, order) = t.get(&t.staff_token, &format!("/api/v1/orders/{id}")).await;
        assert_eq!(order["refunded"], 1400);
        assert_eq!(order["status"], "partially_refunded");
        let (_, html) = s.page(&format!("/orders/{id}")).await;
        assert!(
            html.contains(">一部返金済み</span>") && html.contains(">店舗</span>"),
            "status and channel in words: {html}"
        );
        assert!(!html.contains(">partially_refunded<") && !html.contains(">store<"), "no code shown: {html}");
        let (_, home) = s.page("/").await;
        assert!(home.contains(">一部返金済み</span>") && !home.contains(">partially_refunded<"), "{home}");

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
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(
            "姓,名,連絡先,メール\n山田,太郎,090-1234-5678,taro@example.jp\n佐藤,花子,090-1111-2222,bad\n,,12,\n",
        );
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
        // Fields, kind and layout in words: no field code on the page.
        assert!(html.contains("<td class=\"field\">メール配信の同意</td>"), "{html}");
        assert!(html.contains("id=\"kind\" data-kind=\"customers\">顧客<"), "{html}");
        assert!(html.contains("id=\"preset\">汎用<"), "{html}");
        for code in ["<code>family_name</code>", "<code>consent_dm</code>", ">customers<", ">generic<"] {
            assert!(!html.contains(code), "{code} on the page");
        }
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
        assert!(html.contains("id=\"r-created\">2<") && html.contains("id=\"r-rejected\">1<"), "{html}");
        let rejects = html.split("id=\"rejects\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(rejects.contains("<td class=\"num\">4</td>"), "the reject names line 4: {html}");
        // Line 3's unreadable email is left out, the customer imported, and the page says so.
        assert!(html.contains("id=\"r-noted\">1<"), "{html}");
        let notes = html.split("id=\"notes\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(
            notes.contains("<td class=\"num\">3</td>") && notes.contains("メールアドレスの形式が正しくありません"),
            "{notes}"
        );
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
        assert!(csv.starts_with('\u{feff}') && csv.contains("12") && !csv.contains("bad"), "{csv}");
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
        // The next best action's reasons in words, not as the rule's codes.
        let why = html.split("id=\"next-action\"").nth(1).expect("a next action").split("</p>").next().unwrap();
        assert!(why.contains("セグメント: ") || why.contains("ほかの条件に当てはまらない"), "{why}");
        assert!(!why.contains("segment =") && !why.contains("default") && !why.contains("churn band"), "{why}");
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", s.cookie) };
        let (_, html) = en.page(&format!("/customers/{id}")).await;
        let why = html.split("id=\"next-action\"").nth(1).unwrap().split("</p>").next().unwrap();
        assert!(why.contains("Segment: ") || why.contains("no other rule matched"), "{why}");
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
        assert!(html.contains("期首の顧客") && !html.contains("<th>S</th>"), "words, not letters, head the columns");
        assert!(!html.contains("dash.cohorts_help") && html.contains("初回購入の月ごとに"), "a one-line explanation");
        let today = t.app.today_date();
        if today.succ_opt().is_some_and(|n| chrono::Datelike::month(&n) == chrono::Datelike::month(&today)) {
            assert!(
                html.contains("class=\"running\"") && html.contains("id=\"cohort-running-note\""),
                "this month is marked as running"
            );
        }
        assert!(!html.contains(" UTC"), "times in the shop's zone");
        assert!(!html.contains("id=\"segment-chart\""), "no snapshot yet");

        let (status, location, body) = owner.post("/metrics/refresh", &[("back", "/dashboard")]).await;
        assert_eq!((status, location.as_str()), (303, "/dashboard"), "{body}");
        let (_, html) = owner.page("/dashboard").await;
        assert!(html.contains("id=\"segment-chart\"") && html.contains("<svg"), "segments drawn after analysis");
        assert!(!html.contains("id=\"figures-as-of\""), "a small shop's period figures stay live");
        assert!(!html.contains("id=\"contact-week\""), "the dashboard is statistics only");
        let (_, home) = owner.page("/").await;
        assert!(home.contains("id=\"contact-week\"") && !home.contains("week."), "contact lists on the home page");

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
        assert!(body.contains("金額として読めません: たくさん"), "…naming what was typed: {body}");
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
        assert!(
            html.contains(
                "開始日: 日付として読めません (例: 1980-03-03, 1980/3/3, 昭和55年3月3日, S55.3.3): 2026-13-01"
            ),
            "{html}"
        );
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
        let why = common::field_error(&html, "filter").unwrap_or_default();
        assert!(why.contains("JSON"), "said beside the conditions: {why}");
        assert!(html.contains("id=\"filter-json-box\" open"), "the conditions' text shown to mend");
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
        let why = common::field_error(&html, "name").unwrap_or_default();
        assert!(why.contains("「東京」という名前はすでに使われています"), "beside the name: {why}");
        assert!(common::field_error(&html, "filter").is_none(), "the conditions were fine");

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
        assert!(v["error"].as_str().unwrap().contains("prefecture に使える比べ方は eq, ne, in です"), "{v}");
        let (s, _) = preview("wrong".into(), json!({"field": "prefecture", "op": "eq", "value": "x"})).await;
        assert_eq!(s, 403, "the live count needs the CSRF token");
        // What each condition group contributes: Tokyo OR Osaka as two groups.
        let tokyo = json!({"all": [{"field": "prefecture", "op": "eq", "value": "東京都"}]});
        let osaka = json!({"all": [{"field": "prefecture", "op": "eq", "value": "大阪府"}]});
        let v: serde_json::Value = t
            .client
            .post(t.url("/segments/preview"))
            .header("cookie", &staff.cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"filter": {"any": [tokyo, osaka]}, "groups": [tokyo, osaka]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!((&v["total"], &v["groups"]), (&json!(2), &json!([1, 1])), "[{b}] each group's own count: {v}");

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

/// Japanese letters (kana or kanji) in `s`.
fn has_japanese(s: &str) -> bool {
    s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The text of the element with `id` (its first text run).
fn element_text<'a>(html: &'a str, id: &str) -> &'a str {
    let from = html.split(&format!("id=\"{id}\"")).nth(1).unwrap_or_else(|| panic!("no #{id} in {html}"));
    from.split('>').nth(1).unwrap().split('<').next().unwrap()
}

#[tokio::test]
async fn errors_are_worded_in_the_readers_language() {
    for b in backends() {
        let t = spawn(b).await;
        let cookie = t.login_cookie("owner").await;
        let ja = Session { t: &t, cookie: cookie.clone() };
        let en = Session { t: &t, cookie: format!("{cookie}; joren_lang=en") };

        // A page that fails as a whole: the same error in each reader's language.
        let (status, html) = en.page("/dashboard?start=2026-13-01&end=2026-12-31").await;
        assert_eq!(status, 422, "[{b}]");
        let text = element_text(&html, "error-message");
        assert_eq!(
            text, "Start: Not a date (e.g. 1980-03-03, 1980/3/3, or a Japanese era date such as S55.3.3): 2026-13-01",
            "[{b}]"
        );
        let (_, html) = ja.page("/dashboard?start=2026-13-01&end=2026-12-31").await;
        assert_eq!(
            element_text(&html, "error-message"),
            "開始日: 日付として読めません (例: 1980-03-03, 1980/3/3, 昭和55年3月3日, S55.3.3): 2026-13-01"
        );

        // A form sent back with its error: English words for the field and the rule.
        let (status, _, html) =
            en.post("/tickets/plans", &[("visits", "0"), ("price", "1"), ("valid_months", "0"), ("name", "x")]).await;
        assert_eq!(status, 422, "[{b}]");
        let text = common::field_error(&html, "visits").unwrap_or_default();
        assert!(text.contains("Use 1 to 1000 times") && !has_japanese(&text), "[{b}] {text}");

        // The customer form lists every error, each led by its field's label.
        let (status, _, html) =
            en.post("/customers/new", &[("kind", "person"), ("family_name", "x"), ("email", "a@")]).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(html.contains("<li>Email: Not an email address: a@</li>"), "[{b}] {html}");

        // The scenario editor: each error beside its field, in English, with nothing Japanese.
        let bad = [
            ("name", ""),
            ("trigger", "birthday"),
            ("s0.kind", "wait"),
            ("s0.days", "0"),
            ("s1.kind", "email"),
            ("s1.subject", "{{ nmae }}"),
            ("s1.body", "x"),
            ("op", "save"),
        ];
        let (status, _, html) = en.post("/scenarios/new", &bad).await;
        assert_eq!(status, 422, "[{b}] {html}");
        let errors: Vec<&str> = html
            .split("class=\"field-error\"")
            .skip(1)
            .map(|s| s.split('>').nth(1).unwrap().split('<').next().unwrap())
            .collect();
        assert!(errors.contains(&"Please fill this in"), "[{b}] the empty name: {errors:?}");
        assert!(errors.contains(&"Unknown variables: nmae"), "[{b}] the unknown variable: {errors:?}");
        assert!(errors.iter().all(|e| !has_japanese(e)), "[{b}] {errors:?}");
        let (_, _, html) = ja.post("/scenarios/new", &bad).await;
        assert!(html.contains("使えない変数があります: nmae"), "[{b}] the same in Japanese");

        // The API answers with codes beside its (Japanese) message.
        let (status, v) = t.post(&t.owner_token, "/api/v1/customers", &json!({"email": "a@"})).await;
        assert_eq!(status, 422, "[{b}] {v}");
        let detail = &v["error"]["details"][0];
        assert_eq!((detail["field"].as_str(), detail["code"].as_str()), (Some("email"), Some("bad_email")), "{v}");
        assert_eq!(detail["args"][0], "a@", "{v}");
        let (status, v) = t
            .send(reqwest::Method::POST, &t.owner_token, "/api/v1/scenarios/999999/enrol", &json!({"customer_id": 1}))
            .await;
        assert!(status == 404 || status == 409, "[{b}] {v}");
    }
}
