//! The scenario editor through HTTP with a real session (both backends): steps added, moved
//! and removed without losing what was typed, full-width numbers, errors next to their
//! fields, a ready message, a mail previewed for a real customer, who would enter now, and a
//! save that makes a new version the engine runs.

use serde_json::json;

use super::common::{self, Session, backends, spawn};

/// The part of the page that edits step `i`.
fn step_html(html: &str, i: usize) -> &str {
    let start = html.find(&format!("id=\"edit-step-{i}\"")).unwrap_or_else(|| panic!("step {i} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</li>").unwrap()]
}

#[tokio::test]
async fn a_scenario_is_built_step_by_step_in_the_editor_and_saved_as_versions() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let tz = joren_app::AppConfig::default().time_zone;
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let birthday = today.format("1990-%m-%d").to_string();
        let hanako = t
            .customer(json!({"family_name": "佐藤", "given_name": "花子", "email": "hanako@example.jp",
                "birthday": birthday, "consents": {"email": true}}))
            .await;
        t.customer(json!({"family_name": "鈴木", "birthday": "1980-01-01"})).await;
        let (status, html) = s.page("/scenarios/new").await;
        assert_eq!(status, 200, "[{b}]");
        assert!(html.contains("id=\"scenario-form\"") && html.contains("id=\"edit-step-0\""), "{html}");

        // Add a wait: the mail typed in step 1 stays as it was.
        let base = [
            ("name", "誕生日のお祝い"),
            ("trigger", "birthday"),
            ("entry", "once_per"),
            ("entry_days", "３００"),
            ("holdout", "０"),
            ("s0.kind", "email"),
            ("s0.subject", "{{ name }}、お誕生日おめでとうございます"),
            ("s0.body", "いつもありがとうございます。"),
            ("s0.marketing", "1"),
        ];
        let mut form = base.to_vec();
        form.extend([("op", "add"), ("add_kind", "wait")]);
        let (status, _, html) = s.post("/scenarios/new", &form).await;
        assert_eq!(status, 200, "[{b}] {html}");
        assert!(step_html(&html, 0).contains("お誕生日おめでとうございます"), "typed subject kept");
        assert!(step_html(&html, 1).contains("name=\"s1.days\""), "a wait was added: {html}");
        assert!(html.contains("value=\"３００\""), "typed entry days kept as typed");

        // Move the wait to the top, then look at the page: the mail is now step 2.
        let mut form = base.to_vec();
        form.extend([("s1.kind", "wait"), ("s1.days", "２"), ("op", "up:1")]);
        let (_, _, html) = s.post("/scenarios/new", &form).await;
        assert!(step_html(&html, 0).contains("name=\"s0.days\" value=\"２\""), "{}", step_html(&html, 0));
        assert!(step_html(&html, 1).contains("お誕生日おめでとうございます"));

        // A bad number and an unknown variable: 422, each error beside its field, all kept.
        let bad = [
            ("name", "誕生日のお祝い"),
            ("trigger", "birthday"),
            ("s0.kind", "wait"),
            ("s0.days", "二日"),
            ("s1.kind", "email"),
            ("s1.subject", "{{ nmae }}様"),
            ("s1.body", "本文"),
            ("op", "save"),
        ];
        let (status, _, html) = s.post("/scenarios/new", &bad).await;
        assert_eq!(status, 422, "[{b}] {html}");
        assert!(step_html(&html, 0).contains("field-error") && step_html(&html, 0).contains("value=\"二日\""));
        let (status, _, html) = s.post("/scenarios/new", &[&bad[..3], &[("s0.days", "2")], &bad[4..]].concat()).await;
        assert_eq!(status, 422, "[{b}]");
        let mail = step_html(&html, 1);
        assert!(mail.contains("field-error") && mail.contains("nmae"), "{html}");
        assert!(html.contains("id=\"form-errors\""));

        // A check on a saved segment that does not exist is refused beside the check.
        let (status, _, html) = s
            .post(
                "/scenarios/new",
                &[
                    ("name", "x"),
                    ("trigger", "manual"),
                    ("s0.kind", "check"),
                    ("s0.segment", "saved:999"),
                    ("s0.otherwise", "exit"),
                    ("op", "save"),
                ],
            )
            .await;
        assert_eq!(status, 422, "[{b}]");
        assert!(step_html(&html, 0).contains("その保存セグメントはありません"), "{html}");

        // A ready message fills the mail; preview it with a real customer.
        let mut form = base.to_vec();
        form.extend([("s0.library", "birthday.2"), ("op", "library:0")]);
        let (_, _, html) = s.post("/scenarios/new", &form).await;
        assert!(!step_html(&html, 0).contains("いつもありがとうございます。"), "the body was replaced");
        let hanako_id = hanako.to_string();
        let mut form = base.to_vec();
        form.extend([("s0.preview_customer", hanako_id.as_str()), ("op", "mail:0")]);
        let (_, _, html) = s.post("/scenarios/new", &form).await;
        let preview = step_html(&html, 0);
        assert!(preview.contains("id=\"mail-preview-0\"") && preview.contains("佐藤 花子 様、お誕生日"), "{preview}");
        assert!(preview.contains("配信停止"), "a marketing mail carries the opt-out: {preview}");

        // Who would enter today: the customer whose birthday it is, by name.
        let mut form = base.to_vec();
        form.push(("op", "preview"));
        let (_, _, html) = s.post("/scenarios/new", &form).await;
        assert!(html.contains("id=\"entrants-count\">1<"), "[{b}] {html}");
        assert!(html.contains(&format!("href=\"/customers/{hanako}\"")));

        // Save: a draft whose definition is what was typed, full-width numbers read.
        let mut form = base.to_vec();
        form.extend([
            ("s1.kind", "wait"),
            ("s1.days", "２"),
            ("s2.kind", "points"),
            ("s2.points", "３００"),
            ("s2.reason", "誕生日ポイント"),
            ("op", "save"),
        ]);
        let (status, location, html) = s.post("/scenarios/new", &form).await;
        assert_eq!(status, 303, "[{b}] {html}");
        let id: i64 = location.strip_prefix("/scenarios/").unwrap().split('?').next().unwrap().parse().unwrap();
        let sc = t.app.scenario(id).await.unwrap();
        assert_eq!(sc.version, 1);
        assert_eq!(sc.definition["entry"], json!({"rule": "once_per", "days": 300}));
        assert_eq!(sc.definition["steps"][1], json!({"type": "wait", "days": 2, "hours": 0}));
        assert_eq!(sc.definition["steps"][2], json!({"type": "points", "points": 300, "reason": "誕生日ポイント"}));
        let (_, page) = s.page(&location).await;
        assert!(page.contains("id=\"flash\"") && page.contains("id=\"edit-scenario\""));

        // Edit: the page shows the saved version; removing the wait saves version 2.
        let (status, html) = s.page(&format!("/scenarios/{id}/edit")).await;
        assert_eq!(status, 200);
        assert!(step_html(&html, 2).contains("value=\"誕生日ポイント\""));
        let mut form = base.to_vec();
        form.extend([("s1.kind", "points"), ("s1.points", "300"), ("s1.reason", "誕生日ポイント"), ("op", "save")]);
        let (status, _, html) = s.post(&format!("/scenarios/{id}/edit"), &form).await;
        assert_eq!(status, 303, "{html}");
        let sc = t.app.scenario(id).await.unwrap();
        assert_eq!((sc.version, sc.definition["steps"].as_array().unwrap().len()), (2, 2));

        // A viewer sees the editor but cannot save.
        let viewer = Session { t: &t, cookie: t.login_cookie("viewer").await };
        let (_, html) = viewer.page(&format!("/scenarios/{id}/edit")).await;
        assert!(!html.contains("id=\"save-scenario\""));
        let (status, _, _) = viewer.post(&format!("/scenarios/{id}/edit"), &form).await;
        assert_eq!(status, 403, "[{b}] a viewer's save is refused");
    }
}

#[tokio::test]
async fn a_check_on_a_saved_segment_reads_the_segment_as_it_is_when_the_step_runs() {
    for b in backends() {
        let t = spawn(b).await;
        let vip = t.customer(json!({"family_name": "上得意", "tags": ["VIP"]})).await;
        let other = t.customer(json!({"family_name": "一見"})).await;
        let (st, seg) = t
            .post(
                &t.staff_token,
                "/api/v1/segments",
                &json!({"name": "VIP", "filter": {"field": "tags", "op": "contains", "value": "VIP"}}),
            )
            .await;
        assert_eq!(st, 201, "{seg}");
        let seg = seg["id"].as_i64().unwrap();
        let def = json!({"trigger": {"kind": "manual"}, "steps": [
            {"type": "check", "segment_id": seg, "otherwise": "exit"},
            {"type": "tag", "add": "お礼済み"}
        ]});
        let (st, v) = t.post(&t.staff_token, "/api/v1/scenarios", &json!({"name": "VIP", "definition": def})).await;
        assert_eq!(st, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/activate"), &json!({})).await;
        for c in [vip, other] {
            let (st, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": c})).await;
            assert_eq!(st, 200, "{v}");
        }
        // By hand from the scenario's page: a number that cannot be read or a customer that
        // does not exist comes back beside the number, as typed; "＃12" is read as 12.
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let enrol = format!("/scenarios/{id}/enrol");
        for typed in ["九十九", "#999999"] {
            let (st, _, html) = staff.post(&enrol, &[("customer_id", typed)]).await;
            assert_eq!(st, 422, "[{b}] {typed}");
            assert!(common::field_error(&html, "customer_id").is_some_and(|m| !m.is_empty()), "[{b}] {typed}");
            assert!(html.contains(&format!("value=\"{typed}\"")), "[{b}] kept as typed: {typed}");
        }
        let (st, location, _) = staff.post(&enrol, &[("customer_id", &format!("＃{vip}"))]).await;
        assert_eq!(st, 303, "[{b}]");
        assert!(location.contains("flash="), "[{b}] {location}");
        for _ in 0..5 {
            t.app.automate_once().await.unwrap();
        }
        let tags = |c: i64| {
            let t = &t;
            async move {
                let (_, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}")).await;
                v["tags"].clone()
            }
        };
        assert_eq!(tags(vip).await, json!(["VIP", "お礼済み"]), "[{b}]");
        assert_eq!(tags(other).await, json!([]), "[{b}] the check kept the other customer out");
        let (_, runs) = t.get(&t.staff_token, &format!("/api/v1/customers/{other}/runs")).await;
        assert_eq!(runs["items"][0]["exit_reason"], "check", "{runs}");
    }
}

/// The shop's saved messages: written on their page (an unknown variable refused beside its
/// field with everything typed kept), previewed for a real customer, picked in the editor
/// (the text copied into the step), edited without changing a scenario that copied it, and
/// deleted; the same through the API; a viewer cannot write.
#[tokio::test]
async fn saved_messages_are_written_once_and_picked_in_the_editor() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let hanako =
            t.customer(json!({"family_name": "佐藤", "given_name": "花子", "email": "hanako@example.jp"})).await;
        let (status, html) = s.page("/templates").await;
        assert_eq!(status, 200, "[{b}]");
        assert!(html.contains("id=\"no-templates\""), "[{b}]");

        let bad = [
            ("name", "来店のお礼"),
            ("subject", "{{ nmae }}、ありがとうございました"),
            ("body", "またどうぞ"),
            ("marketing", "1"),
            ("op", "save"),
        ];
        let (status, _, html) = s.post("/templates", &bad).await;
        assert_eq!(status, 422, "[{b}] {html}");
        let subject = html.split("id=\"template-subject\"").nth(1).unwrap().split("</label>").next().unwrap();
        assert!(subject.contains("使えない変数があります: nmae"), "[{b}] {subject}");
        assert!(html.contains("value=\"来店のお礼\"") && html.contains(">またどうぞ</textarea>"), "[{b}] typed kept");

        let good = [
            ("name", "来店のお礼"),
            ("subject", "{{ name }}、ありがとうございました"),
            ("body", "{{ shop_name }}です。またのお越しをお待ちしています。"),
            ("marketing", "1"),
        ];
        let mut preview = good.to_vec();
        preview.extend([("preview_customer", "１"), ("op", "preview")]);
        let preview_customer = hanako.to_string();
        preview[4] = ("preview_customer", &preview_customer);
        let (_, _, html) = s.post("/templates", &preview).await;
        assert!(
            html.contains("id=\"template-preview-mail\"") && html.contains("佐藤 花子 様、ありがとうございました"),
            "[{b}] {html}"
        );

        let mut save = good.to_vec();
        save.push(("op", "save"));
        let (status, location, _) = s.post("/templates", &save).await;
        assert_eq!(status, 303, "[{b}]");
        let id: i64 = location.trim_start_matches("/templates/").split('?').next().unwrap().parse().unwrap();
        let (status, _, html) = s.post("/templates", &save).await;
        assert_eq!(status, 422, "[{b}] a second message of the same name");
        assert!(html.contains("「来店のお礼」という名前はすでに使われています"), "[{b}]");

        // The editor lists it and copies it into the step.
        let (_, html) = s.page("/scenarios/new").await;
        assert!(html.contains(&format!("<option value=\"saved:{id}\">")), "[{b}] listed in the editor");
        let pick = [
            ("name", "お礼"),
            ("trigger", "order_placed"),
            ("s0.kind", "email"),
            ("s0.subject", ""),
            ("s0.body", ""),
            ("s0.library", &format!("saved:{id}")),
            ("op", "library:0"),
        ];
        let (status, _, html) = s.post("/scenarios/new", &pick).await;
        assert_eq!(status, 200, "[{b}]");
        let step = step_html(&html, 0);
        assert!(step.contains("value=\"{{ name }}、ありがとうございました\""), "[{b}] {step}");
        assert!(step.contains("またのお越しをお待ちしています"), "[{b}] {step}");

        // Edited and deleted through the API; the viewer cannot.
        let (st, v) = t.get(&t.staff_token, "/api/v1/message-templates").await;
        assert_eq!((st, v[0]["id"].as_i64(), v[0]["marketing"].as_bool()), (200, Some(id), Some(true)), "[{b}] {v}");
        let edit = json!({"name": "来店のお礼", "subject": "ありがとうございました", "body": "{{ shop_name }}", "marketing": false});
        let (st, _) =
            t.send(reqwest::Method::PUT, &t.viewer_token, &format!("/api/v1/message-templates/{id}"), &edit).await;
        assert_eq!(st, 403, "[{b}]");
        let (st, v) =
            t.send(reqwest::Method::PUT, &t.staff_token, &format!("/api/v1/message-templates/{id}"), &edit).await;
        assert_eq!((st, v["marketing"].as_bool()), (200, Some(false)), "[{b}] {v}");
        let (st, v) = t
            .post(
                &t.staff_token,
                "/api/v1/message-templates",
                &json!({"name": "x", "subject": "{{ coupon }}", "body": "b"}),
            )
            .await;
        assert_eq!(
            (st, v["error"]["details"][0]["code"].as_str()),
            (422, Some("template_unknown_variables")),
            "[{b}] {v}"
        );
        let (st, _) = t
            .send(reqwest::Method::DELETE, &t.staff_token, &format!("/api/v1/message-templates/{id}"), &json!({}))
            .await;
        assert_eq!(st, 204, "[{b}]");
        let (st, _) = t.get(&t.staff_token, &format!("/api/v1/message-templates/{id}")).await;
        assert_eq!(st, 404, "[{b}]");
    }
}
