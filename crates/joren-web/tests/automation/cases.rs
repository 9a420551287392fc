//! Complaint cases (issue #20, both backends): the 24-hour rule counted on the shop's business
//! days in Asia/Tokyo — over a weekend, a public holiday, after hours, and by the shop's own
//! rules once changed; escalation to the owner once, as a call on their list; the breach list;
//! the seven steps in order, each with who and when, closing with the prevention that the
//! monthly report counts.

use chrono::TimeZone;
use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::{Value, json};

use super::common::{TestApp, backends, spawn_with};

fn tokyo(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    AppConfig::default().time_zone.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&chrono::Utc)
}

fn ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

async fn open(t: &TestApp, body: Value) -> Value {
    let (s, v) = t.post(&t.staff_token, "/api/v1/cases", &body).await;
    assert_eq!(s, 201, "{v}");
    v
}

async fn step(t: &TestApp, id: i64, body: Value) -> (u16, Value) {
    t.post(&t.staff_token, &format!("/api/v1/cases/{id}/steps"), &body).await
}

#[tokio::test]
async fn the_24_hour_rule_counts_business_days_and_escalates_once() {
    for b in backends() {
        // Friday 2026-12-11 15:00 in Tokyo.
        let clock = Clock::manual(tokyo(2026, 12, 11, 15, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let c = t.customer(json!({"family_name": "苦情", "given_name": "一郎", "phone": "090-7000-0001"})).await;
        // Over the weekend: due Monday 15:00.
        let friday = open(&t, json!({"customer_id": c, "title": "商品が破損していた", "category": "delivery"})).await;
        assert_eq!(friday["due_at_ms"], ms(tokyo(2026, 12, 14, 15, 0)), "[{b}] {friday}");
        assert_eq!(friday["sla"], "running", "[{b}]");
        assert_eq!(friday["next"], "first_response", "[{b}]");
        // After hours on a Tuesday: received Wednesday 10:00, due Thursday 10:00.
        clock.set(tokyo(2026, 12, 8, 22, 0));
        let late = open(&t, json!({"customer_id": c, "title": "電話がつながらない"})).await;
        assert_eq!(late["due_at_ms"], ms(tokyo(2026, 12, 10, 10, 0)), "[{b}] {late}");
        // Before 勤労感謝の日 (Monday 2026-11-23): Friday 12:00 → Tuesday 12:00.
        clock.set(tokyo(2026, 11, 20, 12, 0));
        let holiday = open(&t, json!({"customer_id": c, "title": "請求額が違う", "category": "billing"})).await;
        assert_eq!(holiday["due_at_ms"], ms(tokyo(2026, 11, 24, 12, 0)), "[{b}] {holiday}");
        // The owner's rules: open Saturdays, 12 hours; an impossible week is refused.
        let (_, mut rules) = t.get(&t.owner_token, "/api/v1/settings/cases").await;
        assert_eq!(rules["first_response_hours"], 24, "[{b}] {rules}");
        rules["calendar"]["week"][5] = rules["calendar"]["week"][0].clone();
        rules["first_response_hours"] = json!(12);
        let (s, v) = t.send(reqwest::Method::PUT, &t.staff_token, "/api/v1/settings/cases", &rules).await;
        assert_eq!(s, 403, "[{b}] owners only: {v}");
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/cases", &rules).await;
        assert_eq!(s, 200, "[{b}] {v}");
        clock.set(tokyo(2026, 12, 11, 18, 0));
        let saturday = open(&t, json!({"customer_id": c, "title": "味が違う", "category": "product"})).await;
        assert_eq!(saturday["due_at_ms"], ms(tokyo(2026, 12, 12, 6, 0)), "[{b}] Friday 18:00 + 12 h of open days");
        let mut never = rules.clone();
        never["calendar"]["week"] = json!([null, null, null, null, null, null, null]);
        let (s, _) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/cases", &never).await;
        assert_eq!(s, 422, "[{b}] a shop that never opens has no deadline");

        // Escalation: six hours before the Monday 15:00 deadline, once, on the owner's list.
        clock.set(tokyo(2026, 12, 14, 8, 59));
        t.app.work_once("w1", 100).await.unwrap();
        let urgent = |v: &Value| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["title"].as_str().unwrap().contains("【至急】"))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (_, tasks) = t.get(&t.staff_token, &format!("/api/v1/tasks?customer_id={c}")).await;
        // The Tuesday and holiday cases are long past: they went at once; the Friday one not yet.
        let before: Vec<String> = urgent(&tasks).iter().map(|x| x["title"].as_str().unwrap().to_string()).collect();
        assert!(!before.iter().any(|x| x.contains("商品が破損していた")), "[{b}] {before:?}");
        clock.set(tokyo(2026, 12, 14, 9, 1));
        t.app.work_once("w1", 100).await.unwrap();
        clock.advance(chrono::Duration::minutes(1));
        t.app.work_once("w2", 100).await.unwrap();
        let (_, tasks) = t.get(&t.staff_token, &format!("/api/v1/tasks?customer_id={c}")).await;
        let escalated: Vec<Value> = urgent(&tasks)
            .into_iter()
            .filter(|x| x["title"].as_str().unwrap().contains("商品が破損していた"))
            .collect();
        assert_eq!(escalated.len(), 1, "[{b}] escalated once: {tasks}");
        assert!(escalated[0]["assignee_name"].is_string(), "[{b}] on the owner's list: {}", escalated[0]);
        let id = friday["id"].as_i64().unwrap();
        let (_, now) = t.get(&t.staff_token, &format!("/api/v1/cases/{id}")).await;
        assert!(now["escalated_at_ms"].is_i64(), "[{b}] {now}");

        // Past the deadline unanswered: on the breach list; answered then, it is late.
        clock.set(tokyo(2026, 12, 14, 15, 1));
        let (_, breached) = t.get(&t.staff_token, "/api/v1/cases?state=breached").await;
        let ids: Vec<i64> = breached.as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
        assert!(ids.contains(&id), "[{b}] {ids:?}");
        let (s, v) = step(&t, id, json!({"stage": "first_response", "note": "お電話でお詫び"})).await;
        assert_eq!(s, 200, "[{b}] {v}");
        assert_eq!(v["sla"], "late", "[{b}]");
        // Answered in time, a case is not on the list.
        let sat = saturday["id"].as_i64().unwrap();
        clock.set(tokyo(2026, 12, 11, 19, 0));
        let (_, v) = step(&t, sat, json!({"stage": "first_response"})).await;
        assert_eq!(v["sla"], "met", "[{b}] {v}");
        let (_, breached) = t.get(&t.staff_token, "/api/v1/cases?state=breached").await;
        assert!(!breached.as_array().unwrap().iter().any(|x| x["id"] == sat), "[{b}]");
    }
}

#[tokio::test]
async fn a_case_is_walked_through_the_seven_steps_in_order_and_reported() {
    for b in backends() {
        let clock = Clock::manual(tokyo(2026, 12, 8, 11, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let c = t.customer(json!({"family_name": "手順", "given_name": "花子", "phone": "090-7000-0002"})).await;
        let (s, first, _) = t
            .post_keyed("/api/v1/cases", Some("case-1"), &json!({"customer_id": c, "title": "注文と違う豆が届いた"}))
            .await;
        assert_eq!(s, 201, "[{b}] {first}");
        let (s, again, _) = t
            .post_keyed("/api/v1/cases", Some("case-1"), &json!({"customer_id": c, "title": "注文と違う豆が届いた"}))
            .await;
        assert_eq!((s, &again["id"]), (200, &first["id"]), "[{b}] once per key");
        let id = first["id"].as_i64().unwrap();
        let (s, v) = t.post(&t.staff_token, "/api/v1/cases", &json!({"customer_id": 99999, "title": "x"})).await;
        assert_eq!(s, 404, "[{b}] {v}");
        let (s, v) = t.post(&t.staff_token, "/api/v1/cases", &json!({"customer_id": c, "title": " "})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("title")), "[{b}] {v}");

        // Out of order: named with the step expected.
        let (s, v) = step(&t, id, json!({"stage": "facts"})).await;
        assert_eq!(s, 422, "[{b}] {v}");
        assert!(v.to_string().contains("case_step_order"), "[{b}] {v}");
        let walk = [
            json!({"stage": "first_response", "note": "お電話でお詫びし、交換を申し出た"}),
            json!({"stage": "listened", "note": "ギフト用だったと伺う"}),
            json!({"stage": "facts", "note": "出荷時の取り違え"}),
            json!({"stage": "proposed", "note": "正しい豆を速達で", "promised_on": "2026-12-10"}),
            json!({"stage": "carried_out"}),
            json!({"stage": "followed_up", "note": "無事届き、ご満足いただけた"}),
            json!({"stage": "prevented", "root_cause": "delivery", "prevention": "出荷前にラベルを二重確認"}),
        ];
        for (n, body) in walk.iter().enumerate() {
            clock.advance(chrono::Duration::hours(2));
            if n == 3 {
                let (s, v) = step(&t, id, json!({"stage": "proposed"})).await;
                assert_eq!((s, v["error"]["field"].as_str()), (422, Some("promised_on")), "[{b}] {v}");
            }
            if n == 6 {
                let (s, v) = step(&t, id, json!({"stage": "prevented", "root_cause": "weather"})).await;
                assert_eq!(s, 422, "[{b}] {v}");
            }
            let (s, v) = step(&t, id, body.clone()).await;
            assert_eq!(s, 200, "[{b}] step {n}: {v}");
        }
        let (_, k) = t.get(&t.staff_token, &format!("/api/v1/cases/{id}")).await;
        let stages: Vec<&str> = k["steps"].as_array().unwrap().iter().map(|x| x["stage"].as_str().unwrap()).collect();
        assert_eq!(
            stages,
            ["received", "first_response", "listened", "facts", "proposed", "carried_out", "followed_up", "prevented"],
            "[{b}]"
        );
        assert!(k["steps"].as_array().unwrap().iter().all(|x| x["by_name"].is_string() && x["at_ms"].is_i64()));
        assert_eq!(
            (&k["sla"], &k["next"], &k["promised_on"]),
            (&json!("met"), &Value::Null, &json!("2026-12-10")),
            "[{b}]"
        );
        assert!(k["closed_at_ms"].is_i64(), "[{b}]");
        let (s, v) = step(&t, id, json!({"stage": "prevented", "root_cause": "delivery", "prevention": "x"})).await;
        assert_eq!(s, 422, "[{b}] nothing after the last step: {v}");
        // The events: opened and closed, once each.
        let (_, ev) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/events")).await;
        let kinds: Vec<&str> = ev["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "case.opened").count(), 1, "[{b}] {kinds:?}");
        assert_eq!(kinds.iter().filter(|k| **k == "case.closed").count(), 1, "[{b}] {kinds:?}");
        // The prevention log counts it under its cause this month.
        let (_, r) = t.get(&t.staff_token, "/api/v1/case-report?months=2").await;
        assert_eq!(r["rows"][0][0], "delivery", "[{b}] {r}");
        assert_eq!(r["rows"][0][1], json!([0, 1]), "[{b}] {r}");
        let (_, closed) = t.get(&t.staff_token, "/api/v1/cases?state=closed").await;
        assert_eq!(closed.as_array().unwrap().len(), 1, "[{b}]");
        let (_, open) = t.get(&t.staff_token, "/api/v1/cases?state=open").await;
        assert!(open.as_array().unwrap().is_empty(), "[{b}]");
    }
}

/// The retention checklist grades itself from the data: a new shop has nothing met; a
/// customer with a phone number, a survey, a complaint answered in time move their items.
#[tokio::test]
async fn the_checklist_grades_change_with_the_data() {
    for b in backends() {
        let clock = Clock::manual(tokyo(2026, 12, 8, 11, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let grade = |v: &Value, code: &str| {
            v["items"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap()["grade"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let (s, v) = t.get(&t.staff_token, "/api/v1/checklist").await;
        assert_eq!(s, 200, "[{b}] {v}");
        assert_eq!(v["items"].as_array().unwrap().len(), 14, "[{b}]");
        for code in ["customer_data", "satisfaction", "service_quality", "feedback_acted"] {
            assert_eq!(grade(&v, code), "not_yet", "[{b}] {code}: {v}");
        }
        let c = t.customer(json!({"family_name": "採点", "given_name": "一郎", "phone": "090-7000-0003"})).await;
        let (s, _) = t.post(&t.staff_token, "/api/v1/surveys/ready", &json!({"code": "nps"})).await;
        assert_eq!(s, 201, "[{b}]");
        let k = open(&t, json!({"customer_id": c, "title": "説明が分かりにくい", "category": "information"})).await;
        let id = k["id"].as_i64().unwrap();
        clock.advance(chrono::Duration::hours(1));
        let (s, _) = step(&t, id, json!({"stage": "first_response"})).await;
        assert_eq!(s, 200, "[{b}]");
        // Past the deadline, the case counts for the 24-hour rule: answered in time.
        clock.advance(chrono::Duration::days(2));
        let (_, v) = t.get(&t.staff_token, "/api/v1/checklist").await;
        assert_eq!(grade(&v, "customer_data"), "met", "[{b}] one customer, reachable: {v}");
        assert_eq!(grade(&v, "satisfaction"), "partly", "[{b}] a survey, no answers yet");
        assert_eq!(grade(&v, "service_quality"), "met", "[{b}] 1 of 1 in time");
        assert_eq!(grade(&v, "feedback_acted"), "partly", "[{b}] a complaint heard, nothing prevented yet");
        let web = super::common::Session { t: &t, cookie: t.login_cookie("staff").await };
        let (s, html) = web.page("/checklist").await;
        assert_eq!(s, 200, "[{b}]");
        assert!(html.contains(r#"id="ck-service_quality" data-grade="met""#), "[{b}]");
        assert!(html.contains("期限内の一次対応 100%"), "[{b}] the evidence in words");
    }
}

/// After a complaint is closed the ready scenario asks, three days later, how it went (a
/// satisfaction survey, the shop's copy of the ready one); a leaving member is asked why, and
/// the churn-reason report counts the survey's reason with the membership's cancel reason.
#[tokio::test]
async fn a_closed_complaint_asks_how_it_went_and_leavers_are_asked_why() {
    for b in backends() {
        // Today by the real date: events are stamped by the store's clock, and a scenario
        // reacts only to events after it was switched on.
        let clock = Clock::manual(super::tokyo_today_at(11, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let actor = joren_app::Actor::system("test");
        let follow = t.app.create_from_ready(&actor, "complaint_follow_up", "ja").await.unwrap();
        let exit = t.app.create_from_ready(&actor, "exit_reason", "ja").await.unwrap();
        for id in [follow.id, exit.id] {
            let (s, v) = t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/activate"), &json!({})).await;
            assert_eq!(s, 200, "[{b}] {v}");
        }
        // Each ready survey is made once, however many scenarios send it.
        t.app.create_from_ready(&actor, "post_purchase", "ja").await.unwrap();
        t.app.create_from_ready(&actor, "post_purchase", "ja").await.unwrap();
        let (_, surveys) = t.get(&t.staff_token, "/api/v1/surveys").await;
        let names: Vec<&str> = surveys.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["クレーム対応の満足度", "購入後の満足度 (CSAT)", "退会・休止の理由"], "[{b}]");

        let c = t
            .customer(json!({"family_name": "解決", "given_name": "花子", "email": "kaiketsu@example.jp", "phone": "090-7000-0004"}))
            .await;
        let id = open(&t, json!({"customer_id": c, "title": "豆が湿気ていた", "category": "product"})).await["id"]
            .as_i64()
            .unwrap();
        for body in [
            json!({"stage": "first_response"}),
            json!({"stage": "listened"}),
            json!({"stage": "facts"}),
            json!({"stage": "proposed", "promised_on": "2026-12-09"}),
            json!({"stage": "carried_out"}),
            json!({"stage": "followed_up"}),
            json!({"stage": "prevented", "root_cause": "product", "prevention": "保管を密閉容器に"}),
        ] {
            assert_eq!(step(&t, id, body).await.0, 200, "[{b}]");
        }
        super::settle(&t).await;
        let survey_mails = |v: &Value| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["body_text"].as_str().unwrap_or_default().contains("/s/"))
                .count()
        };
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?limit=50").await;
        assert_eq!(survey_mails(&out), 0, "[{b}] not at once: {out}");
        clock.advance(chrono::Duration::days(3));
        super::settle(&t).await;
        clock.advance(chrono::Duration::days(1));
        super::settle(&t).await;
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?limit=50").await;
        assert_eq!(survey_mails(&out), 1, "[{b}] three days after closing, at 10:00: {out}");

        // A member leaves over the price; the exit survey asks why the next morning.
        let (s, plan) = t
            .post(
                &t.owner_token,
                "/api/v1/membership-plans",
                &json!({"name": "月額会員", "price": 3300, "period_months": 1}),
            )
            .await;
        assert_eq!(s, 201, "[{b}] {plan}");
        let (s, m, _) = t
            .post_keyed(&format!("/api/v1/customers/{c}/memberships"), Some("join"), &json!({"plan_id": plan["id"]}))
            .await;
        assert_eq!(s, 201, "[{b}] {m}");
        let changes = format!("/api/v1/memberships/{}/changes", m["id"]);
        let (s, v, _) = t
            .post_keyed(&changes, Some("leave"), &json!({"action": "cancel", "reason": "price", "note": "値上げ"}))
            .await;
        assert_eq!(s, 200, "[{b}] {v}");
        super::settle(&t).await;
        clock.advance(chrono::Duration::days(1));
        super::settle(&t).await;
        clock.advance(chrono::Duration::days(1));
        super::settle(&t).await;
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?limit=50").await;
        let exit_mail = out["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["subject"].as_str().unwrap_or_default().contains("これまでのご利用"))
            .unwrap_or_else(|| panic!("[{b}] no exit survey mail: {out}"))
            .clone();
        let text = exit_mail["body_text"].as_str().unwrap();
        let at = text.find("/s/").unwrap();
        let token: String = text[at + 3..].chars().take_while(char::is_ascii_hexdigit).collect();
        let r = t
            .client
            .post(t.url(&format!("/s/{token}")))
            .form(&[("reason", "他のお店・サービスに移った"), ("detail", "近所に新しい店ができた")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "[{b}]");
        let (s, churn) = t.get(&t.staff_token, "/api/v1/churn-reasons").await;
        assert_eq!(s, 200, "[{b}] {churn}");
        let row = |reason: &str| churn["rows"].as_array().unwrap().iter().find(|r| r["reason"] == reason).cloned();
        assert_eq!(
            row("price").map(|r| (r["memberships"].clone(), r["exit_survey"].clone())),
            Some((json!(1), json!(0)))
        );
        assert_eq!(row("competitor").map(|r| r["exit_survey"].clone()), Some(json!(1)), "[{b}] {churn}");
        assert_eq!(churn["words"][0]["text"], "近所に新しい店ができた", "[{b}]");
        let web = super::common::Session { t: &t, cookie: t.login_cookie("staff").await };
        let (s, html) = web.page("/surveys/churn-reasons").await;
        assert_eq!(s, 200, "[{b}]");
        let table = html.split(r#"id="churn-reasons""#).nth(1).unwrap_or_default();
        assert!(table.contains("価格") && html.contains("近所に新しい店ができた"), "[{b}] in words, not codes");
    }
}
