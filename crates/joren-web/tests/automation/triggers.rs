//! The daily triggers read from their own tables (both backends): points about to expire
//! (the nearest expiry only), a 回数券 down to its last visit or about to expire, a membership
//! due for renewal and an expected purchase overdue — each entered once per thing it is
//! about — and a step that starts another scenario.

use joren_app::Actor;
use serde_json::json;

use super::common::{backends, spawn};

async fn active(t: &super::common::TestApp, trigger: serde_json::Value, steps: serde_json::Value) -> i64 {
    let def = json!({"trigger": trigger, "steps": steps});
    let (s, v) = t.post(&t.staff_token, "/api/v1/scenarios", &json!({"name": "t", "definition": def})).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/activate"), &json!({})).await;
    assert_eq!(s, 200, "{v}");
    id
}

async fn occurrences(t: &super::common::TestApp, customer: i64, scenario: i64) -> Vec<String> {
    let (_, runs) = t.get(&t.staff_token, &format!("/api/v1/customers/{customer}/runs")).await;
    runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["scenario_id"] == json!(scenario))
        .map(|r| r["occurrence"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn date_triggers_pick_the_right_customers_once_and_a_step_starts_another_scenario() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Actor::system("test");
        let today = t.app.today_date();
        let days = |n: i64| today + chrono::Duration::days(n);
        let tag = json!([{"type": "tag", "add": "x"}]);

        // Points: the nearest expiry 30 days away picks A; B's nearest is in 10 days.
        let a = t.customer(json!({"family_name": "失効"})).await;
        let b_ = t.customer(json!({"family_name": "近い"})).await;
        let grant = |points, on| joren_app::points::GrantInput {
            points,
            kind: joren_core::points::ValueKind::Free,
            reason: "test".into(),
            expires_on: Some(on),
        };
        t.app.grant_points(&owner, a, grant(500, days(30)), None).await.unwrap();
        t.app.grant_points(&owner, b_, grant(100, days(10)), None).await.unwrap();
        t.app.grant_points(&owner, b_, grant(100, days(30)), None).await.unwrap();
        let points = active(&t, json!({"kind": "points_expiring", "days": 30}), tag.clone()).await;

        // 回数券: C's ticket of 2 visits with one used is down to its last.
        let c = t.customer(json!({"family_name": "回数"})).await;
        let plan = t
            .app
            .save_ticket_plan(
                &owner,
                None,
                joren_core::ticket::TicketPlanInput {
                    name: "2回券".into(),
                    visits: 2,
                    price: 2000,
                    valid_months: 1,
                    active: true,
                },
            )
            .await
            .unwrap();
        let sold =
            t.app.sell_ticket(&owner, c, joren_app::tickets::SellInput { plan_id: plan.id }, None).await.unwrap();
        let low = active(&t, json!({"kind": "ticket_low", "remaining": 1}), tag.clone()).await;
        let last_day = sold.ticket.last_day.expect("a one-month ticket expires");
        let expiring =
            active(&t, json!({"kind": "ticket_expiring", "days": (last_day - today).num_days()}), tag.clone()).await;
        assert_eq!(t.app.enrol_daily(today).await.unwrap(), 2, "[{b}] A's points and C's ticket expiring");
        assert_eq!(occurrences(&t, a, points).await, [format!("points:{}", days(30))], "[{b}]");
        assert!(occurrences(&t, b_, points).await.is_empty(), "[{b}] B's nearest expiry is sooner");
        assert!(occurrences(&t, c, low).await.is_empty(), "[{b}] two visits left is not low yet");
        assert_eq!(occurrences(&t, c, expiring).await, [format!("ticket:{}:expiring", sold.ticket.id)]);
        t.app.use_ticket(&owner, sold.ticket.id, joren_app::tickets::UseInput::default(), None).await.unwrap();
        assert_eq!(t.app.enrol_daily(today).await.unwrap(), 1, "[{b}] now the ticket is low");
        assert_eq!(occurrences(&t, c, low).await, [format!("ticket:{}:low", sold.ticket.id)]);
        assert_eq!(t.app.enrol_daily(days(1)).await.unwrap(), 0, "[{b}] the next day: once per ticket");

        // Membership: due for renewal 7 days before the paid period ends; paused ones are not.
        let d = t.customer(json!({"family_name": "会員"})).await;
        let mplan = t
            .app
            .save_membership_plan(
                &owner,
                None,
                joren_core::membership::MembershipPlanInput {
                    name: "月会員".into(),
                    price: 3000,
                    period_months: 1,
                    active: true,
                },
            )
            .await
            .unwrap();
        let (m, _) = t
            .app
            .start_membership(&owner, d, joren_app::memberships::StartInput { plan_id: mplan.id }, None)
            .await
            .unwrap();
        let renewal = active(&t, json!({"kind": "membership_renewal", "days": 7}), tag.clone()).await;
        let due_day = m.paid_until - chrono::Duration::days(7);
        assert_eq!(t.app.enrol_daily(due_day - chrono::Duration::days(1)).await.unwrap(), 0, "[{b}]");
        assert_eq!(t.app.enrol_daily(due_day).await.unwrap(), 1, "[{b}]");
        assert_eq!(occurrences(&t, d, renewal).await, [format!("membership:{}:{}", m.id, m.paid_until)]);

        // A step that starts another scenario: the customer enters it once.
        let follow = active(&t, json!({"kind": "manual"}), json!([{"type": "tag", "add": "続き"}])).await;
        let first = active(&t, json!({"kind": "manual"}), json!([{"type": "start", "scenario_id": follow}])).await;
        let (s, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{first}/enrol"), &json!({"customer_id": a})).await;
        assert_eq!(s, 200, "{v}");
        for _ in 0..4 {
            t.app.automate_once().await.unwrap();
        }
        assert_eq!(occurrences(&t, a, follow).await.len(), 1, "[{b}] started once");
        let (_, cust) = t.get(&t.staff_token, &format!("/api/v1/customers/{a}")).await;
        assert!(cust["tags"].as_array().unwrap().iter().any(|x| x == "続き"), "[{b}] the started scenario ran: {cust}");
        // A start that names no scenario is refused when saved.
        let def = json!({"trigger": {"kind": "manual"}, "steps": [{"type": "start", "scenario_id": 9999}]});
        let (s, v) = t.post(&t.staff_token, "/api/v1/scenarios", &json!({"name": "x", "definition": def})).await;
        assert_eq!(s, 422, "{v}");
        assert!(v.to_string().contains("steps[0].scenario_id"), "{v}");
    }
}

#[tokio::test]
async fn an_expected_purchase_overdue_enters_once_per_expected_date() {
    for b in backends() {
        let t = spawn(b).await;
        super::common::import_cdnow(&t, 400).await;
        t.app.refresh_metrics(&Actor::system("test")).await.unwrap();
        let snapshot = t.app.store.latest_snapshot().await.unwrap().expect("a snapshot");
        let late = t.app.store.overdue_customers(snapshot.id, "9999-12-31", 1).await.unwrap();
        let m = late.first().expect("the models give someone an expected next purchase");
        let expected =
            chrono::NaiveDate::parse_from_str(m.expected_next_purchase.as_deref().unwrap(), "%Y-%m-%d").unwrap();
        let id =
            active(&t, json!({"kind": "purchase_overdue", "days": 14}), json!([{"type": "tag", "add": "x"}])).await;
        let on = expected + chrono::Duration::days(14);
        t.app.enrol_daily(on - chrono::Duration::days(1)).await.unwrap();
        assert!(occurrences(&t, m.customer_id, id).await.is_empty(), "[{b}] not yet 14 days late");
        assert!(t.app.enrol_daily(on).await.unwrap() >= 1, "[{b}]");
        assert_eq!(occurrences(&t, m.customer_id, id).await, [format!("overdue:{expected}")], "[{b}]");
        assert_eq!(t.app.enrol_daily(on).await.unwrap(), 0, "[{b}] the same day again enrols nobody");
        // One who ordered after the snapshot is not overdue.
        let mut order = super::common::order_body(m.customer_id, None, 1000);
        order.as_object_mut().unwrap().remove("ordered_at");
        let (s, _) = t.post(&t.staff_token, "/api/v1/orders", &order).await;
        assert_eq!(s, 201);
        assert!(t.app.store.overdue_on(expected).await.unwrap().iter().all(|(c, _)| *c != m.customer_id), "[{b}]");
    }
}

#[tokio::test]
async fn entering_and_leaving_a_saved_segment_start_scenarios_from_the_second_check() {
    for b in backends() {
        let t = spawn(b).await;
        let today = t.app.today_date();
        let before = t.customer(json!({"family_name": "前から", "tags": ["VIP"]})).await;
        let (s, seg) = t
            .post(
                &t.staff_token,
                "/api/v1/segments",
                &json!({"name": "VIP", "filter": {"field": "tags", "op": "contains", "value": "VIP"}}),
            )
            .await;
        assert_eq!(s, 201, "{seg}");
        let seg = seg["id"].as_i64().unwrap();
        let tag = json!([{"type": "tag", "add": "x"}]);
        let entered = active(&t, json!({"kind": "saved_segment_entered", "segment_id": seg}), tag.clone()).await;
        let left = active(&t, json!({"kind": "saved_segment_left", "segment_id": seg}), tag.clone()).await;
        // The first check only records who is in it.
        assert_eq!(t.app.enrol_daily(today).await.unwrap(), 0, "[{b}]");
        let newcomer = t.customer(json!({"family_name": "新顔", "tags": ["VIP"]})).await;
        let (s, v) = t
            .send(reqwest::Method::PATCH, &t.staff_token, &format!("/api/v1/customers/{before}"), &json!({"tags": []}))
            .await;
        assert!(s == 200, "[{b}] {v}");
        let next = today + chrono::Duration::days(1);
        assert_eq!(t.app.enrol_daily(next).await.unwrap(), 2, "[{b}] one in, one out");
        assert_eq!(occurrences(&t, newcomer, entered).await, [format!("segment:{seg}:in:{next}")], "[{b}]");
        assert_eq!(occurrences(&t, before, left).await, [format!("segment:{seg}:out:{next}")], "[{b}]");
        assert!(occurrences(&t, before, entered).await.is_empty(), "[{b}] the one already in did not enter");
        assert_eq!(t.app.enrol_daily(next).await.unwrap(), 0, "[{b}] checked again: nothing moved");
        // A trigger on a segment that does not exist is refused when saved.
        let def = json!({"trigger": {"kind": "saved_segment_entered", "segment_id": 9999}, "steps": tag});
        let (s, v) = t.post(&t.staff_token, "/api/v1/scenarios", &json!({"name": "x", "definition": def})).await;
        assert_eq!(s, 422, "{v}");
        assert!(v.to_string().contains("trigger.segment_id"), "{v}");
    }
}

#[tokio::test]
async fn a_mail_reads_the_variables_it_uses_even_past_a_skipped_wait() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "変数", "email": "v@example.jp", "consents": {"email": true}})).await;
        let (s, _) = t.post(&t.staff_token, "/api/v1/orders", &super::common::order_body(c, None, 1200)).await;
        assert_eq!(s, 201);
        // No SMS consent: the check skips the wait, so the mail is decided in the same
        // advance as the thank-you, which uses no variable but the name.
        let steps = json!([
            {"type": "email", "marketing": false, "subject": "{{ name }}", "body": "ありがとうございます"},
            {"type": "check", "consent": "sms", "otherwise": {"skip": 1}},
            {"type": "wait", "days": 30},
            {"type": "email", "marketing": false, "subject": "おすすめ", "body": "{{ last_item }}のあとに"}
        ]);
        let id = active(&t, json!({"kind": "manual"}), steps).await;
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": c})).await;
        assert_eq!(s, 200, "{v}");
        for _ in 0..3 {
            t.app.automate_once().await.unwrap();
        }
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={id}")).await;
        let bodies: Vec<&str> =
            out["items"].as_array().unwrap().iter().map(|m| m["body_text"].as_str().unwrap()).collect();
        assert_eq!(bodies.len(), 2, "[{b}] {out}");
        assert!(bodies[0].starts_with("ブレンド 200gのあとに"), "[{b}] the last item was read: {}", bodies[0]);
    }
}
