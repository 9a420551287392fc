//! Ranks through the API on SQLite and PostgreSQL: an order raises the rank at once (and the
//! next order earns at the new tier's multiplier), a refund never lowers it before a review,
//! reviews keep on grace then downgrade, manual changes need a reason, the change feed, the
//! report, and calendar-year windows cut at the shop's local midnight.

mod common;

use chrono::{Datelike, NaiveDate};
use common::{TestApp, backends, spawn};
use serde_json::{Value, json};

fn order_at(customer: i64, ext: &str, total: i64, at: &str) -> Value {
    // order_body's lines: 2 × price + ¥3,300, prices tax included.
    let mut v = common::order_body(customer, Some(ext), (total - 3300) / 2);
    v["ordered_at"] = json!(at);
    v
}

async fn enable_ranks(t: &TestApp, window: Value, grace: u32) {
    let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
    p["ranks"] = json!({
        "enabled": true,
        "measure": "spend",
        "window": window,
        "tiers": [
            {"name": "レギュラー", "threshold": 0, "points_multiplier_percent": 100},
            {"name": "シルバー", "threshold": 30000, "points_multiplier_percent": 120},
            {"name": "ゴールド", "threshold": 100000, "points_multiplier_percent": 150}
        ],
        "grace_reviews": grace,
        "step_down_one": false
    });
    let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
    assert_eq!(s, 200, "{v}");
}

async fn rank(t: &TestApp, customer: i64) -> Value {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{customer}/rank")).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[tokio::test]
async fn orders_raise_ranks_at_once_and_reviews_lower_them_after_grace() {
    for b in backends() {
        let t = spawn(b).await;
        let (_, p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        assert_eq!(p["ranks"]["enabled"], json!(false), "ranks are off until the owner turns them on");
        let mut bad = p.clone();
        bad["ranks"]["tiers"][2]["threshold"] = json!(10);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &bad).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("ranks.tiers[2].threshold")), "{v}");
        enable_ranks(&t, json!({"kind": "calendar_year"}), 1).await;

        let c = t.customer(json!({"family_name": "鈴木", "given_name": "一郎", "phone": "090-4000-0001"})).await;
        let now = chrono::Utc::now().to_rfc3339();
        let (s, a) = t.post(&t.staff_token, "/api/v1/orders", &order_at(c, "R-1", 20_000, &now)).await;
        assert_eq!((s, &a["rank_up"]), (201, &Value::Null), "{a}");
        assert_eq!(a["points_earned"]["base"], json!(200));
        let (_, b2) = t.post(&t.staff_token, "/api/v1/orders", &order_at(c, "R-2", 15_000, &now)).await;
        assert_eq!(b2["rank_up"]["tier_name"], json!("シルバー"), "¥35,000 this year reaches シルバー: {b2}");
        assert_eq!(b2["points_earned"]["base"], json!(150), "the order that upgrades earns at the rank before it");
        let (_, c3) = t.post(&t.staff_token, "/api/v1/orders", &order_at(c, "R-3", 10_000, &now)).await;
        assert_eq!(c3["points_earned"]["base"], json!(120), "シルバー earns ×1.2: {c3}");
        assert_eq!(c3["rank_up"], Value::Null);

        let r = rank(&t, c).await;
        assert_eq!(
            (&r["tier"], &r["value"], &r["points_multiplier_percent"]),
            (&json!("シルバー"), &json!(45_000), &json!(120))
        );
        assert_eq!((&r["next_tier"], &r["missing"]), (&json!("ゴールド"), &json!(55_000)), "{r}");
        let history = r["history"].as_array().unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!((&history[0]["cause"], &history[0]["order_id"]), (&json!("order"), &b2["id"]));
        assert_eq!(history[0]["value"], json!(35_000));

        // A refund never lowers the rank before a review.
        let (s, v) =
            t.post(&t.staff_token, &format!("/api/v1/orders/{}/refunds", a["id"]), &json!({"reason": "返品"})).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(rank(&t, c).await["tier"], json!("シルバー"));

        // 1 January: this year's ¥25,000 (after the refund) misses シルバー → the one grace review.
        let today = t.app.today_date();
        let next_year = NaiveDate::from_ymd_opt(today.year() + 1, 1, 1).unwrap();
        let run = t.app.evaluate_ranks(next_year).await.unwrap();
        assert_eq!((run.reviewed, run.graced, run.downgraded, run.upgraded), (1, 1, 0, 0), "{run:?}");
        let r = rank(&t, c).await;
        assert_eq!((&r["tier"], &r["grace_used"]), (&json!("シルバー"), &json!(1)), "{r}");
        let again = t.app.evaluate_ranks(next_year).await.unwrap();
        assert_eq!(again.reviewed, 0, "a review date is applied once");
        // A year later, nothing bought: down to the tier the year qualifies for.
        let year_after = NaiveDate::from_ymd_opt(today.year() + 2, 1, 1).unwrap();
        let run = t.app.evaluate_ranks(year_after).await.unwrap();
        assert_eq!((run.reviewed, run.downgraded), (1, 1), "{run:?}");
        assert_eq!(rank(&t, c).await["tier"], json!("レギュラー"));

        // The change feed, in order, for the automation.
        let (s, feed) = t.get(&t.staff_token, "/api/v1/ranks/changes?after=0").await;
        assert_eq!(s, 200, "{feed}");
        let items = feed["items"].as_array().unwrap();
        let seen: Vec<(&str, i64, i64)> = items
            .iter()
            .map(|i| (i["cause"].as_str().unwrap(), i["from_level"].as_i64().unwrap(), i["to_level"].as_i64().unwrap()))
            .collect();
        assert_eq!(seen, [("order", 0, 1), ("grace", 1, 1), ("review", 1, 0)]);
        let (_, rest) = t.get(&t.staff_token, &format!("/api/v1/ranks/changes?after={}", feed["next_after"])).await;
        assert_eq!(rest["items"], json!([]));

        // Running the evaluation: staff may run today's, only owners another day's.
        let (s, _) = t.post(&t.staff_token, "/api/v1/ranks/evaluate", &json!({"on": "2030-01-01"})).await;
        assert_eq!(s, 403);
        let (s, v) = t.post(&t.staff_token, "/api/v1/ranks/evaluate", &json!({})).await;
        assert_eq!(s, 200, "{v}");

        // Manual change: a reason and a real tier are required; audited in the history.
        let path = format!("/api/v1/customers/{c}/rank");
        let (s, v) =
            t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"tier": "ゴールド", "reason": " "})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("reason")), "{v}");
        let (s, v) =
            t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"tier": "ダイヤ", "reason": "VIP"})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("tier")), "{v}");
        let (s, _) = t.send(reqwest::Method::PUT, &t.viewer_token, &path, &json!({"tier": 2, "reason": "VIP"})).await;
        assert_eq!(s, 403);
        let (s, v) =
            t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"tier": "ゴールド", "reason": "VIP"})).await;
        assert_eq!((s, &v["tier"], &v["history"][0]["cause"]), (200, &json!("ゴールド"), &json!("manual")), "{v}");
        assert_eq!(v["history"][0]["reason"], json!("VIP"));

        // The report: customers per tier and this month's movement.
        let other = t.customer(json!({"family_name": "佐藤", "given_name": "二郎", "phone": "090-4000-0002"})).await;
        assert!(other > 0);
        let (s, rep) = t.get(&t.staff_token, "/api/v1/ranks/report").await;
        assert_eq!(s, 200, "{rep}");
        let counts: Vec<i64> =
            rep["tiers"].as_array().unwrap().iter().map(|x| x["customers"].as_i64().unwrap()).collect();
        assert_eq!(counts, [1, 0, 1], "{rep}");
        let ups: i64 = rep["months"].as_array().unwrap().iter().map(|m| m["up"].as_i64().unwrap()).sum();
        assert!(ups >= 2, "the order's and the manual upgrade: {rep}");
    }
}

#[tokio::test]
async fn calendar_years_end_at_the_shops_local_midnight() {
    for b in backends() {
        let t = spawn(b).await;
        enable_ranks(&t, json!({"kind": "calendar_year"}), 0).await;
        let a = t.customer(json!({"family_name": "田中", "given_name": "大晦日", "phone": "090-4100-0001"})).await;
        let n = t.customer(json!({"family_name": "田中", "given_name": "元日", "phone": "090-4100-0002"})).await;
        // 23:59 and 00:00 in Tokyo: the first order is 2024's, the second 2025's.
        let (s, v) =
            t.post(&t.staff_token, "/api/v1/orders", &order_at(a, "TZ-1", 30_000, "2024-12-31T14:59:00Z")).await;
        assert_eq!(s, 201, "{v}");
        t.post(&t.staff_token, "/api/v1/orders", &order_at(n, "TZ-2", 30_000, "2024-12-31T15:00:00Z")).await;

        let run = t.app.evaluate_ranks(d("2024-12-31")).await.unwrap();
        assert_eq!(run.upgraded, 1, "only the order placed on the 31st local time counts in 2024");
        assert_eq!(rank(&t, a).await["history"][0]["day"], json!("2024-12-31"));
        let run = t.app.evaluate_ranks(d("2025-01-01")).await.unwrap();
        assert_eq!((run.reviewed, run.downgraded, run.upgraded), (1, 0, 1), "2024 keeps 大晦日; 元日 rises: {run:?}");
        let run = t.app.evaluate_ranks(d("2026-01-01")).await.unwrap();
        assert_eq!((run.reviewed, run.downgraded), (2, 1), "2025 judged: 大晦日 falls, 元日 stays: {run:?}");
        let (_, feed) = t.get(&t.staff_token, "/api/v1/ranks/changes").await;
        let falls: Vec<i64> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["to_level"].as_i64() < i["from_level"].as_i64())
            .map(|i| i["customer_id"].as_i64().unwrap())
            .collect();
        assert_eq!(falls, [a]);

        // A rolling 12-month window reviewed on the 1st of each month.
        enable_ranks(&t, json!({"kind": "rolling", "months": 12}), 0).await;
        let run = t.app.evaluate_ranks(d("2026-01-31")).await.unwrap();
        assert_eq!(run.reviewed, 0, "元日 was reviewed on 2026-01-01 already");
        let run = t.app.evaluate_ranks(d("2026-02-01")).await.unwrap();
        assert_eq!((run.reviewed, run.downgraded), (2, 1), "12 months to 2026-01-31 hold nothing for 元日: {run:?}");
    }
}

/// Turns ranks on with `measure` and three tiers at `thresholds`, over a rolling 12 months.
async fn enable_measure(t: &TestApp, measure: &str, thresholds: [i64; 3], pending_days: u32) {
    let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
    p["pending_days"] = json!(pending_days);
    p["ranks"] = json!({
        "enabled": true,
        "measure": measure,
        "window": {"kind": "rolling", "months": 12},
        "tiers": [
            {"name": "レギュラー", "threshold": thresholds[0], "points_multiplier_percent": 100},
            {"name": "シルバー", "threshold": thresholds[1], "points_multiplier_percent": 100},
            {"name": "ゴールド", "threshold": thresholds[2], "points_multiplier_percent": 100}
        ],
        "grace_reviews": 0,
        "step_down_one": false
    });
    let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
    assert_eq!(s, 200, "{v}");
}

/// The order path adds the new order to the window's value itself (the window is read before
/// the order is written): for every measure, the order that crosses a threshold raises the
/// rank, one outside the window or with points still pending does not, and the scheduled
/// evaluation finds nothing the orders missed.
#[tokio::test]
async fn every_measure_raises_the_rank_on_the_order_that_crosses_its_threshold() {
    for b in backends() {
        let now = chrono::Utc::now();
        let today = now.to_rfc3339();
        let long_ago = (now - chrono::Duration::days(500)).to_rfc3339();
        let tier = |v: &Value| v["rank_up"]["tier_name"].clone();

        // Orders: 2 for シルバー, 4 for ゴールド; an order 500 days ago is outside the window.
        let t = spawn(b).await;
        enable_measure(&t, "orders", [0, 2, 4], 14).await;
        let c = t.customer(json!({"family_name": "田中", "given_name": "一", "phone": "090-4100-0001"})).await;
        let mut ups = Vec::new();
        for (n, at) in [&today, &long_ago, &today, &today, &today].into_iter().enumerate() {
            let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order_at(c, &format!("O-{n}"), 5_000, at)).await;
            assert_eq!(s, 201, "{v}");
            ups.push(tier(&v));
        }
        assert_eq!(ups, [Value::Null, Value::Null, json!("シルバー"), Value::Null, json!("ゴールド")], "{ups:?}");
        assert_eq!(rank(&t, c).await["value"], json!(4));
        let run = t.app.evaluate_ranks(t.app.today_date()).await.unwrap();
        assert_eq!(run.upgraded, 0, "the orders raised every rank already: {run:?}");

        // Earned points, spendable at once: ¥20,000 earns 200, ¥15,000 earns 150 → 350 ≥ 300.
        let t = spawn(b).await;
        enable_measure(&t, "earned_points", [0, 300, 1000], 0).await;
        let c = t.customer(json!({"family_name": "田中", "given_name": "二", "phone": "090-4100-0002"})).await;
        let (_, a) = t.post(&t.staff_token, "/api/v1/orders", &order_at(c, "P-1", 20_000, &today)).await;
        let (_, b2) = t.post(&t.staff_token, "/api/v1/orders", &order_at(c, "P-2", 15_000, &today)).await;
        assert_eq!((tier(&a), tier(&b2)), (Value::Null, json!("シルバー")), "{a} {b2}");
        assert_eq!(b2["rank_up"]["level"], json!(1));
        assert_eq!(rank(&t, c).await["value"], json!(350));

        // Earned points still pending (14-day return window) count only once spendable.
        let t = spawn(b).await;
        enable_measure(&t, "earned_points", [0, 300, 1000], 14).await;
        let c = t.customer(json!({"family_name": "田中", "given_name": "三", "phone": "090-4100-0003"})).await;
        let (_, a) = t.post(&t.staff_token, "/api/v1/orders", &order_at(c, "Q-1", 40_000, &today)).await;
        assert_eq!((&a["points_earned"]["base"], tier(&a)), (&json!(400), Value::Null), "{a}");
        assert_eq!(rank(&t, c).await["value"], json!(0));
        let later = t.app.today_date() + chrono::Duration::days(14);
        let run = t.app.evaluate_ranks(later).await.unwrap();
        assert_eq!(run.upgraded, 1, "spendable after the return window: {run:?}");
    }
}
