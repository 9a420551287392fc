//! Memberships through the API on SQLite and PostgreSQL: plans, start, renew, pause, resume and
//! cancel with a reason (idempotent by key, refused from the wrong status), the churn-reason
//! report, and the shifted-beta-geometric fit on a cohort rebuilt from Fader & Hardie (2007).

mod common;

use chrono::{Datelike, Months};
use common::{backends, spawn};
use joren_app::memberships::MembershipChange;
use serde_json::{Value, json};

#[tokio::test]
async fn memberships_start_renew_pause_and_cancel_with_a_reason() {
    for b in backends() {
        let t = spawn(b).await;
        let plan = json!({"name": "月額会員", "price": 3300, "period_months": 1});
        let (s, _) = t.post(&t.staff_token, "/api/v1/membership-plans", &plan).await;
        assert_eq!(s, 403, "[{b}] plans are the owner's");
        let (s, v) = t
            .post(&t.owner_token, "/api/v1/membership-plans", &json!({"name": "x", "price": 1, "period_months": 0}))
            .await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("period_months")), "[{b}] {v}");
        let (s, p) = t.post(&t.owner_token, "/api/v1/membership-plans", &plan).await;
        assert_eq!(s, 201, "{p}");

        let c = t.customer(json!({"family_name": "渡辺", "given_name": "陽", "phone": "090-8000-0001"})).await;
        let path = format!("/api/v1/customers/{c}/memberships");
        let (s, m, again) = t.post_keyed(&path, Some("join-1"), &json!({"plan_id": p["id"]})).await;
        assert_eq!((s, again, &m["status"], &m["renewals"]), (201, false, &json!("active"), &json!(0)), "{m}");
        let today = t.app.today_date();
        let end = |months| joren_core::membership::period_end(today, months).to_string();
        assert_eq!(m["paid_until"], json!(end(1)));
        let (s, again_m, again) = t.post_keyed(&path, Some("join-1"), &json!({"plan_id": p["id"]})).await;
        assert_eq!((s, again, &again_m["id"]), (201, true, &m["id"]), "[{b}] a retried start is the first");
        let (s, v, _) = t.post_keyed(&path, None, &json!({"plan_id": p["id"]})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("plan_id")), "[{b}] already a member: {v}");

        let changes = format!("/api/v1/memberships/{}/changes", m["id"]);
        let (s, v, _) = t.post_keyed(&changes, Some("renew-1"), &json!({"action": "renew"})).await;
        assert_eq!((s, &v["renewals"], &v["paid_until"]), (200, &json!(1), &json!(end(2))), "{v}");
        let (_, v, again) = t.post_keyed(&changes, Some("renew-1"), &json!({"action": "renew"})).await;
        assert_eq!((again, &v["renewals"]), (true, &json!(1)), "[{b}] a retried renewal pays once");
        let (s, v, _) = t.post_keyed(&changes, None, &json!({"action": "pause"})).await;
        assert_eq!((s, &v["status"]), (200, &json!("paused")));
        let (s, v, _) = t.post_keyed(&changes, None, &json!({"action": "renew"})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("status")), "[{b}] no renewal while paused: {v}");
        let (s, v, _) = t.post_keyed(&changes, None, &json!({"action": "resume"})).await;
        assert_eq!((s, &v["status"]), (200, &json!("active")));
        let (s, v, _) = t.post_keyed(&changes, None, &json!({"action": "cancel"})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("reason")), "[{b}] {v}");
        let (s, v, _) = t.post_keyed(&changes, None, &json!({"action": "stop"})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("action")));
        let cancel = json!({"action": "cancel", "reason": "price", "note": "値上げのため"});
        let (s, v, _) = t.post_keyed(&changes, Some("bye"), &cancel).await;
        assert_eq!((s, &v["status"], &v["cancel_reason"]), (200, &json!("cancelled"), &json!("price")), "{v}");
        let (_, v, again) = t.post_keyed(&changes, Some("bye"), &cancel).await;
        assert_eq!((again, &v["status"]), (true, &json!("cancelled")));
        let (s, _, _) = t.post_keyed(&changes, None, &json!({"action": "resume"})).await;
        assert_eq!(s, 422, "[{b}] a cancelled membership stays cancelled");

        let (_, detail) = t.get(&t.staff_token, &format!("/api/v1/memberships/{}", m["id"])).await;
        let kinds: Vec<&str> =
            detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["cancel", "resume", "pause", "renew", "start"], "[{b}] the status history");
        assert_eq!(detail["events"][0]["note"], json!("価格: 値上げのため"));

        let (_, rep) = t.get(&t.staff_token, "/api/v1/memberships/report").await;
        assert_eq!(rep["plans"][0]["cancelled"], json!(1), "{rep}");
        let price = rep["reasons"].as_array().unwrap().iter().find(|r| r["reason"] == "price").unwrap();
        assert_eq!(price["cancelled"], json!(1));
        assert_eq!(rep["cohort"], Value::Null, "[{b}] one member is no cohort to fit");
    }
}

/// Fader & Hardie (2007), "How to project customer retention", the "regular" cohort: of 1,000
/// customers 631, 468, 382, 326, 289, 262 and 241 still subscribed after years 1–7; they report
/// α = 0.704, β = 1.182. Rebuilt as 1,000 yearly memberships started seven years ago.
#[tokio::test]
async fn the_sbg_fit_on_a_membership_cohort_matches_the_published_one() {
    const ALIVE: [u64; 8] = [1000, 631, 468, 382, 326, 289, 262, 241];
    let b = backends().pop().unwrap();
    let t = spawn(b).await;
    let plan = json!({"name": "年会員", "price": 12000, "period_months": 12});
    let (_, p) = t.post(&t.owner_token, "/api/v1/membership-plans", &plan).await;
    let plan_id = p["id"].as_i64().unwrap();
    let today = t.app.today_date();
    let system = joren_app::Actor::system("test");
    let started = today.with_day(1).unwrap().checked_sub_months(Months::new(7 * 12 + 1)).unwrap();
    for n in 0..1000_u64 {
        let renewals = ALIVE.iter().filter(|a| **a > n).count() - 1;
        let input = serde_json::from_value(json!({"family_name": "会員", "given_name": format!("{n}")})).unwrap();
        let c = t.app.create_customer(&system, input).await.unwrap().id;
        let note = joren_app::AuditNote {
            who: joren_app::AuditActor { user_id: None, name: "test" },
            action: "membership.history",
            detail: json!({}),
        };
        let (m, _) = t.app.store.start_membership(c, plan_id, started, None, "h", None, &note).await.unwrap();
        for _ in 0..renewals {
            t.app.store.change_membership(m.id, &MembershipChange::Renew, started, None, None, &note).await.unwrap();
        }
    }
    let (_, rep) = t.get(&t.staff_token, "/api/v1/memberships/report").await;
    let cohort = &rep["cohort"];
    assert_eq!(cohort["alive"], json!(ALIVE), "[{b}] {cohort}");
    let (alpha, beta) = (cohort["alpha"].as_f64().unwrap(), cohort["beta"].as_f64().unwrap());
    assert!((alpha - 0.704).abs() < 0.001 && (beta - 1.182).abs() < 0.001, "[{b}] α {alpha}, β {beta}");
    let curve = cohort["projected_survival"].as_array().unwrap();
    assert_eq!(curve.len(), 14, "years 0–13");
    // S(12) = B(α, β + 12) / B(α, β) = 0.1701 at the published parameters.
    assert!((curve[12].as_f64().unwrap() - 0.1701).abs() < 0.002, "[{b}] S(12) {}", curve[12]);

    // The web page shows the cohort's chart with the fitted parameters.
    let cookie = t.login_cookie("staff").await;
    let r = t.client.get(t.url("/memberships")).header("cookie", cookie).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"membership-retention\"") && html.contains("id=\"sbg-alpha\">0.704<"), "[{b}] chart");
    assert!(
        html.contains("id=\"sbg-leave\">1期間あたり平均") && html.contains("id=\"sbg-details\""),
        "[{b}] in words; α and β in the details"
    );
}
