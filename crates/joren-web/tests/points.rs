//! The points ledger through the API on SQLite and PostgreSQL: orders earn (pending in the
//! return window, first-purchase bonus), refunds take back in proportion and give back points
//! spent on the order, checkout redemptions hold points idempotently, manual grants and
//! deductions need a reason, expiry, the report, and concurrent redemptions never overspend.

mod common;

use common::{backends, spawn};
use serde_json::{Value, json};

fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

fn order(customer: i64, ext: &str, price: i64, at: &str) -> Value {
    let mut v = common::order_body(customer, Some(ext), price);
    v["ordered_at"] = json!(at);
    v
}

async fn account(t: &common::TestApp, customer: i64) -> Value {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{customer}/points")).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn post_with_key(t: &common::TestApp, path: &str, key: &str, body: &Value) -> (u16, Value, bool) {
    let r = t
        .client
        .post(t.url(path))
        .bearer_auth(&t.staff_token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    (status, r.json().await.unwrap_or(Value::Null), replayed)
}

async fn verify(t: &common::TestApp) {
    let (s, v) = t.get(&t.staff_token, "/api/v1/points/verify").await;
    assert_eq!((s, &v["ok"]), (200, &json!(true)), "[{}] ledger whole: {v}", t.backend);
}

#[tokio::test]
async fn orders_earn_refunds_reverse_and_redemptions_hold_points() {
    for b in backends() {
        let t = spawn(b).await;
        // Settings: owners only, every bad field named.
        let (s, p) = t.get(&t.staff_token, "/api/v1/settings/points").await;
        assert_eq!((s, &p["earn"]["per_yen"], &p["pending_days"]), (200, &json!(100), &json!(14)), "{p}");
        let mut programme = p.clone();
        programme["first_purchase_bonus"] = json!(100);
        let (s, _) = t.send(reqwest::Method::PUT, &t.staff_token, "/api/v1/settings/points", &programme).await;
        assert_eq!(s, 403, "staff cannot change the programme");
        let mut bad = programme.clone();
        bad["earn"]["per_yen"] = json!(0);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &bad).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("earn.per_yen")), "{v}");
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &programme).await;
        assert_eq!(s, 200, "{v}");

        // Preview of unsaved settings: ¥12,800 at ×1.5 (a rank) earns 192.
        let (s, v) = t
            .post(
                &t.staff_token,
                "/api/v1/points/preview",
                &json!({"programme": programme, "order": {"total": 12800, "rank_multiplier_percent": 150}}),
            )
            .await;
        assert_eq!((s, &v["total"]), (200, &json!(192)), "{v}");

        let c = t.customer(json!({"family_name": "山田", "given_name": "花子", "phone": "090-3000-0001"})).await;
        // ¥2,000 + ¥3,300 = ¥5,300 → 53 points + 100 first-purchase bonus; a month ago, so
        // past the 14-day return window.
        let (s, first) = t.post(&t.staff_token, "/api/v1/orders", &order(c, "P-1", 1000, &days_ago(30))).await;
        assert_eq!(s, 201, "{first}");
        assert_eq!(first["points_earned"], json!({"base": 53, "campaign": 0, "bonus": 100, "total": 153}));
        let (s, second) = t.post(&t.staff_token, "/api/v1/orders", &order(c, "P-2", 1000, &days_ago(0))).await;
        assert_eq!((s, &second["points_earned"]["total"]), (201, &json!(53)), "no bonus the second time");
        let a = account(&t, c).await;
        assert_eq!((&a["free"]["available"], &a["free"]["pending"]), (&json!(153), &json!(53)), "{a}");
        assert_eq!(a["lots"].as_array().unwrap().len(), 2);

        // Checkout: reserve with a key; a retry answers the same, another body is a conflict.
        let body = json!({"customer_id": c, "points": 100, "note": "レジ 1"});
        let (s, r, replayed) = post_with_key(&t, "/api/v1/points/redemptions", "pos-1", &body).await;
        assert_eq!((s, &r["status"], replayed), (201, &json!("reserved"), false), "{r}");
        let (s, again, replayed) = post_with_key(&t, "/api/v1/points/redemptions", "pos-1", &body).await;
        assert_eq!((s, &again["id"], replayed), (201, &r["id"], true), "{again}");
        let other = json!({"customer_id": c, "points": 60});
        let (s, v, _) = post_with_key(&t, "/api/v1/points/redemptions", "pos-1", &other).await;
        assert_eq!(s, 409, "{v}");
        let (s, v, _) = post_with_key(&t, "/api/v1/points/redemptions", "pos-2", &other).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("points")), "only 53 left, the rest pending: {v}");
        let a = account(&t, c).await;
        assert_eq!(a["free"]["available"], 53, "held points are not available");
        let rid = r["id"].as_i64().unwrap();
        let path = format!("/api/v1/points/redemptions/{rid}/confirm");
        let (s, v) = t.post(&t.staff_token, &path, &json!({"order_id": second["id"]})).await;
        assert_eq!((s, &v["status"], &v["order_id"]), (200, &json!("confirmed"), &second["id"]), "{v}");
        let (s, v) = t.post(&t.staff_token, &path, &json!({})).await;
        assert_eq!((s, &v["status"]), (200, &json!("confirmed")), "confirming again answers the same");

        // Half of the first order refunded: half its 153 points (76) come back from its lot,
        // which holds 53 after the redemption; the 23 more come from other spendable lots
        // (none: the second order's are pending) and so are recorded as debt.
        let (s, v) =
            t.post(&t.staff_token, &format!("/api/v1/orders/{}/refunds", first["id"]), &json!({"amount": 2650})).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["points"], json!({"reversed": 53, "deducted": 0, "owed": 23, "restored": 0}));
        let a = account(&t, c).await;
        assert_eq!((&a["free"]["available"], &a["free"]["debt"]), (&json!(0), &json!(23)), "{a}");
        // Cancelling the second order gives back the 100 points spent on it, to the first
        // order's lot, and takes back its own 53 (still pending).
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/orders/{}/cancel", second["id"]), &json!({})).await;
        assert_eq!(s, 200, "{v}");
        let (_, r) = t.get(&t.staff_token, &format!("/api/v1/points/redemptions/{rid}")).await;
        assert_eq!(r["status"], "cancelled", "{r}");
        let a = account(&t, c).await;
        assert_eq!((&a["free"]["available"], &a["free"]["pending"]), (&json!(100), &json!(0)), "{a}");
        verify(&t).await;

        // Manual grant: a reason is required; the debt is paid first; idempotent by key.
        let grant = json!({"points": 500, "reason": "お詫び"});
        let path = format!("/api/v1/customers/{c}/points/grants");
        let (s, v) = t.post(&t.viewer_token, &path, &grant).await;
        assert_eq!(s, 403, "{v}");
        let (s, v) = t.post(&t.staff_token, &path, &json!({"points": 500, "reason": " "})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("reason")), "{v}");
        let (s, g, replayed) = post_with_key(&t, &path, "grant-1", &grant).await;
        assert_eq!((s, replayed), (201, false), "{g}");
        let (s, g2, replayed) = post_with_key(&t, &path, "grant-1", &grant).await;
        assert_eq!((s, &g2["lot_id"], replayed), (201, &g["lot_id"], true), "{g2}");
        let a = account(&t, c).await;
        assert_eq!((&a["free"]["available"], &a["free"]["debt"]), (&json!(100 + 500 - 23), &json!(0)), "{a}");
        let (s, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/customers/{c}/points/deductions"),
                &json!({"points": 77, "reason": "誤付与"}),
            )
            .await;
        assert_eq!((s, &v["status"], &v["purpose"]), (201, &json!("confirmed"), &json!("adjustment")), "{v}");
        assert_eq!(account(&t, c).await["free"]["available"], 500);

        // Paid value stays apart and is reported on its own.
        let (s, v) =
            t.post(&t.staff_token, &path, &json!({"points": 3000, "kind": "paid", "reason": "プリペイド購入"})).await;
        assert_eq!(s, 201, "{v}");
        let (s, v) =
            t.post(&t.staff_token, "/api/v1/points/redemptions", &json!({"customer_id": c, "points": 501})).await;
        assert_eq!(s, 422, "free points cannot draw on paid value: {v}");
        let (_, report) = t.get(&t.staff_token, "/api/v1/points/report").await;
        assert_eq!(report["outstanding"], json!({"free": 500, "paid": 3000}), "{report}");
        let issued: i64 = report["months"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "free")
            .map(|m| m["issued"].as_i64().unwrap())
            .sum();
        assert_eq!(issued, 153 + 53 + 500, "{report}");

        // Expiry: a lot expiring today is still spendable; the run of tomorrow takes it.
        let today = t.app.today_date();
        let (s, v) = t
            .post(&t.staff_token, &path, &json!({"points": 40, "reason": "期間限定", "expires_on": today.to_string()}))
            .await;
        assert_eq!(s, 201, "{v}");
        let (s, v) = t.post(&t.staff_token, "/api/v1/points/expire", &json!({})).await;
        assert_eq!((s, &v["expired"]["lots"]), (200, &json!(0)), "{v}");
        let (_, soon) = t.get(&t.staff_token, "/api/v1/points/expiring?days=0").await;
        assert_eq!(soon["items"][0]["points"], 40, "{soon}");
        let run = t.app.expire_points(today + chrono::Days::new(1)).await.unwrap();
        assert_eq!((run.lots, run.points), (1, 40));
        assert_eq!(t.app.expire_points(today + chrono::Days::new(1)).await.unwrap().lots, 0, "once");
        verify(&t).await;
    }
}

/// Sends one reservation of `points` per key, all at once; answers (status, redemption id) in
/// key order.
async fn reserve_at_once(t: &common::TestApp, customer: i64, points: i64, keys: &[String]) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = keys
        .iter()
        .map(|key| {
            let (client, url, token) = (t.client.clone(), t.url("/api/v1/points/redemptions"), t.staff_token.clone());
            let key = key.clone();
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .header("Idempotency-Key", key)
                    .json(&json!({"customer_id": customer, "points": points}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null)["id"].clone())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test]
async fn concurrent_redemptions_never_overspend_and_a_key_applies_once() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "佐藤", "phone": "090-3000-0002"})).await;
        let (s, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/customers/{c}/points/grants"),
                &json!({"points": 1000, "reason": "開始"}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        // 30 different checkouts of 100 points at once: exactly 10 fit.
        let keys: Vec<String> = (0..30).map(|i| format!("many-{i}")).collect();
        let statuses: Vec<u16> = reserve_at_once(&t, c, 100, &keys).await.into_iter().map(|(s, _)| s).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "[{b}] {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 20, "[{b}] {statuses:?}");
        let a = account(&t, c).await;
        assert_eq!((&a["free"]["available"], &a["free"]["balance"]), (&json!(0), &json!(0)), "{a}");

        // One key retried 20 times at once (after cancelling a hold to make room): one
        // redemption, every answer the same.
        let first = a["redemptions"][0]["id"].as_i64().unwrap();
        let cancels: Vec<_> = (0..10)
            .map(|_| {
                let url = t.url(&format!("/api/v1/points/redemptions/{first}/cancel"));
                let (client, token) = (t.client.clone(), t.staff_token.clone());
                tokio::spawn(async move { client.post(url).bearer_auth(token).send().await.unwrap().status().as_u16() })
            })
            .collect();
        for task in cancels {
            assert_eq!(task.await.unwrap(), 200);
        }
        assert_eq!(account(&t, c).await["free"]["available"], 100, "[{b}] a cancel restores once");
        let mut ids = std::collections::HashSet::new();
        for (status, id) in reserve_at_once(&t, c, 60, &vec!["retried".to_string(); 20]).await {
            assert_eq!(status, 201, "[{b}]");
            ids.insert(id.to_string());
        }
        assert_eq!(ids.len(), 1, "[{b}] one redemption for one key: {ids:?}");
        let a = account(&t, c).await;
        assert_eq!(a["free"]["available"], 40, "[{b}] 60 held once: {a}");
        assert_eq!(a["redemptions"].as_array().unwrap().len(), 11);
        verify(&t).await;
    }
}

/// A new customer's first orders arriving at once: exactly one of them is the first order and
/// earns the first-purchase bonus (on PostgreSQL the order reads the customer's history only
/// after it holds the customer's lock; on SQLite the writers are serialised).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_first_orders_earn_the_bonus_once() {
    for b in backends() {
        let t = spawn(b).await;
        let (_, mut programme) = t.get(&t.staff_token, "/api/v1/settings/points").await;
        programme["first_purchase_bonus"] = json!(100);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &programme).await;
        assert_eq!(s, 200, "{v}");
        for round in 0..3 {
            let c = t.customer(json!({"family_name": "初回", "phone": format!("090-3100-000{round}")})).await;
            let mut set = tokio::task::JoinSet::new();
            for n in 0..8 {
                let (client, url, token) = (t.client.clone(), t.url("/api/v1/orders"), t.staff_token.clone());
                let body = order(c, &format!("F-{round}-{n}"), 1000, &days_ago(1));
                set.spawn(async move {
                    let r = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                    (r.status().as_u16(), r.json::<Value>().await.unwrap())
                });
            }
            let answers = set.join_all().await;
            let bonuses: Vec<i64> = answers
                .iter()
                .map(|(s, v)| {
                    assert_eq!(*s, 201, "[{b}] {v}");
                    v["points_earned"]["bonus"].as_i64().unwrap()
                })
                .collect();
            assert_eq!(bonuses.iter().filter(|&&x| x == 100).count(), 1, "[{b}] one first order: {bonuses:?}");
            assert_eq!(bonuses.iter().sum::<i64>(), 100, "[{b}] {bonuses:?}");
        }
        verify(&t).await;
    }
}

/// Birthday points: off until the owner sets them; the day's first schedule run grants them
/// (once per customer and year, however often it runs); 29 February birthdays fall on the
/// 28th in other years; customers without a birthday get nothing.
#[tokio::test]
async fn birthday_bonuses_are_granted_once_a_year_by_the_schedule() {
    use chrono::Datelike;
    for b in backends() {
        let t = spawn(b).await;
        let today = t.app.today_date();
        // Born three days before today's date (in 1984, a leap year, so any date exists).
        let born = (today - chrono::Duration::days(3)).with_year(1984).unwrap();
        let a = t
            .customer(json!({"family_name": "誕生", "given_name": "花子", "phone": "090-4200-0001", "birthday": born.to_string()}))
            .await;
        let none = t.customer(json!({"family_name": "誕生", "given_name": "無し", "phone": "090-4200-0002"})).await;
        assert_eq!(t.app.grant_birthday_bonuses(today).await.unwrap(), 0, "off until the owner sets points");

        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        assert_eq!(p["birthday_bonus"], json!({"points": 0, "timing": "day"}), "{p}");
        p["birthday_bonus"] = json!({"points": -5, "timing": "day"});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("birthday_bonus.points")), "{v}");
        p["birthday_bonus"] = json!({"points": 500, "timing": "day"});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "{v}");

        // The schedule's first run today grants it (three days late is within the catch-up).
        let (s, run) = t.post(&t.staff_token, "/api/v1/points/expire", &json!({})).await;
        assert_eq!((s, &run["birthday_bonuses"]), (200, &json!(1)), "{run}");
        assert_eq!(t.app.grant_birthday_bonuses(today).await.unwrap(), 0, "once a year, however often it runs");
        let acct = account(&t, a).await;
        let lots = acct["lots"].as_array().unwrap();
        assert_eq!(lots.len(), 1, "{acct}");
        let year =
            if born.with_year(today.year()).is_some_and(|d| d <= today) { today.year() } else { today.year() - 1 };
        assert_eq!(
            (&lots[0]["source"], &lots[0]["granted"], &lots[0]["reason"]),
            (&json!("bonus"), &json!(500), &json!(format!("誕生日ポイント ({year}年)"))),
            "{acct}"
        );
        assert_eq!(account(&t, none).await["lots"], json!([]));
        // Next year's birthday: one more.
        let next = born.with_year(year + 1).unwrap_or_else(|| born.with_day(28).unwrap().with_year(year + 1).unwrap());
        assert_eq!(t.app.grant_birthday_bonuses(next).await.unwrap(), 1);
        assert_eq!(t.app.grant_birthday_bonuses(next + chrono::Duration::days(10)).await.unwrap(), 0);

        // 29 February: the 28th in 2027, the 29th in 2028; never twice in one year.
        let t = spawn(b).await;
        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        p["birthday_bonus"] = json!({"points": 300, "timing": "day"});
        let (s, _) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200);
        let leap = t
            .customer(
                json!({"family_name": "閏", "given_name": "二月", "phone": "090-4200-0003", "birthday": "2000-02-29"}),
            )
            .await;
        assert!(leap > 0);
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let granted = [
            t.app.grant_birthday_bonuses(d("2027-02-27")).await.unwrap(),
            t.app.grant_birthday_bonuses(d("2027-02-28")).await.unwrap(),
            t.app.grant_birthday_bonuses(d("2027-03-01")).await.unwrap(),
            t.app.grant_birthday_bonuses(d("2028-02-28")).await.unwrap(),
            t.app.grant_birthday_bonuses(d("2028-02-29")).await.unwrap(),
        ];
        assert_eq!(granted, [0, 1, 0, 0, 1]);
    }
}

/// Campaigns for one RFM segment or for a rank and above: an order earns the extra only when
/// its customer is one the campaign is for (segment as of the newest metrics snapshot, rank
/// held before the order); a campaign naming an unknown segment or rank is refused by field.
#[tokio::test]
async fn segment_and_rank_campaigns_reach_only_their_customers() {
    for b in backends() {
        let t = spawn(b).await;
        let today = t.app.today_date();
        // A regular (many recent orders) and a few one-time buyers of long ago.
        let regular = t.customer(json!({"family_name": "常連", "given_name": "一", "phone": "090-4300-0001"})).await;
        for n in 0..6 {
            let (s, v) = t
                .post(&t.staff_token, "/api/v1/orders", &order(regular, &format!("R-{n}"), 5000, &days_ago(5 + n * 7)))
                .await;
            assert_eq!(s, 201, "{v}");
        }
        let mut once = Vec::new();
        for n in 0..5 {
            let phone = format!("090-4300-01{n:02}");
            let c = t.customer(json!({"family_name": "一見", "given_name": format!("{n}"), "phone": phone})).await;
            let (s, v) =
                t.post(&t.staff_token, "/api/v1/orders", &order(c, &format!("O-{n}"), 1000, &days_ago(400 + n))).await;
            assert_eq!(s, 201, "{v}");
            once.push(c);
        }
        let (s, snap) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201, "{snap}");
        let segment_of = |c: i64| {
            let t = &t;
            async move {
                t.get(&t.staff_token, &format!("/api/v1/customers/{c}/metrics")).await.1["metrics"]["segment"].clone()
            }
        };
        let (seg_regular, seg_once) = (segment_of(regular).await, segment_of(once[1]).await);
        assert_ne!(seg_regular, seg_once, "the engine tells them apart");

        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        p["pending_days"] = json!(0);
        p["ranks"] = json!({
            "enabled": true, "measure": "orders", "window": {"kind": "rolling", "months": 12},
            "tiers": [
                {"name": "レギュラー", "threshold": 0, "points_multiplier_percent": 100},
                {"name": "シルバー", "threshold": 5, "points_multiplier_percent": 100}
            ],
            "grace_reviews": 0, "step_down_one": false
        });
        let campaign = |name: &str, segment: Value, min_rank: Value| {
            json!({"name": name, "from": today.to_string(), "to": today.to_string(), "multiplier_percent": 300,
                   "category": null, "segment": segment, "min_rank": min_rank})
        };
        p["campaigns"] = json!([campaign("謎", json!("vip"), Value::Null), campaign("ダイヤ", Value::Null, json!(5))]);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 422, "{v}");
        let fields: Vec<&str> =
            v["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"campaigns[0].segment") && fields.contains(&"campaigns[1].min_rank"), "{v}");

        // The one-time buyers' segment gets ×3; so does シルバー and above (the regular, after
        // the evaluation counts their 6 orders).
        p["campaigns"] = json!([campaign("おかえり", seg_once.clone(), Value::Null)]);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "{v}");
        let now = chrono::Utc::now().to_rfc3339();
        // order(): 2 × price + ¥3,300 → ¥5,300 earns 53; ×3 adds 106.
        let (_, a) = t.post(&t.staff_token, "/api/v1/orders", &order(once[1], "S-1", 1000, &now)).await;
        let (_, r) = t.post(&t.staff_token, "/api/v1/orders", &order(regular, "S-2", 1000, &now)).await;
        assert_eq!((&a["points_earned"]["base"], &a["points_earned"]["campaign"]), (&json!(53), &json!(106)), "{a}");
        assert_eq!(r["points_earned"]["campaign"], json!(0), "not the regular's segment: {r}");

        p["campaigns"] = json!([campaign("シルバー感謝", Value::Null, json!(1))]);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "{v}");
        t.app.evaluate_ranks(today).await.unwrap();
        let (_, r) = t.post(&t.staff_token, "/api/v1/orders", &order(regular, "S-3", 1000, &now)).await;
        let (_, a) = t.post(&t.staff_token, "/api/v1/orders", &order(once[2], "S-4", 1000, &now)).await;
        assert_eq!(r["points_earned"]["campaign"], json!(106), "シルバー: {r}");
        assert_eq!(a["points_earned"]["campaign"], json!(0), "レギュラー: {a}");
    }
}

/// A lot's first expiry is recorded on the lot, a second one (points restored to it after it
/// expired) as an entry; either way the ledger stays whole, the history lists both and the
/// report counts both.
#[tokio::test]
async fn points_restored_to_an_expired_lot_expire_again() {
    for b in backends() {
        let t = spawn(b).await;
        let today = t.app.today_date();
        let c = t.customer(json!({"family_name": "失効", "given_name": "二度", "phone": "090-4400-0001"})).await;
        let grant = json!({"points": 100, "reason": "期間限定", "expires_on": today.to_string()});
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{c}/points/grants"), &grant).await;
        assert_eq!(s, 201, "{v}");
        // A manual deduction (confirmed at once; its maker may take it back).
        let deduction = json!({"points": 30, "reason": "入力ミス"});
        let (s, r) = t.post(&t.staff_token, &format!("/api/v1/customers/{c}/points/deductions"), &deduction).await;
        assert_eq!(s, 201, "{r}");

        let tomorrow = today + chrono::Days::new(1);
        let run = t.app.expire_points(tomorrow).await.unwrap();
        assert_eq!((run.lots, run.points), (1, 70), "what was left");
        verify(&t).await;
        // The deduction is cancelled after the lot expired: its 30 points go back to the lot
        // and expire with the next run.
        let (s, v) =
            t.post(&t.staff_token, &format!("/api/v1/points/redemptions/{}/cancel", r["id"]), &json!({})).await;
        assert_eq!(s, 200, "{v}");
        let run = t.app.expire_points(tomorrow).await.unwrap();
        assert_eq!((run.lots, run.points), (1, 30), "the restored points");
        assert_eq!(t.app.expire_points(tomorrow).await.unwrap().lots, 0, "once");
        verify(&t).await;

        let acct = account(&t, c).await;
        let expiries: Vec<i64> = acct["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "expire")
            .map(|e| e["points"].as_i64().unwrap())
            .collect();
        assert_eq!(expiries, [-30, -70], "newest first: {acct}");
        let (_, report) = t.get(&t.staff_token, "/api/v1/points/report").await;
        let expired: i64 = report["months"].as_array().unwrap().iter().map(|m| m["expired"].as_i64().unwrap()).sum();
        assert_eq!(expired, 100, "{report}");
        assert_eq!(acct["free"]["available"], json!(0), "{acct}");
    }
}

/// The survey-answered bonus: off until set; then once per survey response, however often
/// the survey module (or another tool) reports the answer.
#[tokio::test]
async fn survey_bonus_is_granted_once_per_response() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "回答", "given_name": "太郎", "phone": "090-4500-0001"})).await;
        let path = format!("/api/v1/customers/{c}/points/survey-bonus");
        let (s, v) = t.post(&t.staff_token, &path, &json!({"response_id": 17})).await;
        assert_eq!((s, &v["lot_id"]), (200, &Value::Null), "off by default: {v}");
        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        p["survey_bonus"] = json!(200);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "{v}");

        let (s, v) = t.post(&t.staff_token, &path, &json!({"response_id": 17})).await;
        assert_eq!(s, 201, "{v}");
        let lots = v["account"]["lots"].as_array().unwrap();
        assert_eq!((lots.len(), &lots[0]["granted"], &lots[0]["source"]), (1, &json!(200), &json!("bonus")), "{v}");
        assert!(lots[0]["reason"].as_str().unwrap().contains("回答 17"), "{v}");
        let (s, again) = t.post(&t.staff_token, &path, &json!({"response_id": 17})).await;
        assert_eq!((s, &again["lot_id"]), (200, &Value::Null), "once per response: {again}");
        let (s, _) = t.post(&t.staff_token, &path, &json!({"response_id": 18})).await;
        assert_eq!(s, 201, "another response earns again");
        assert_eq!(account(&t, c).await["free"]["balance"], json!(400));

        let (s, v) = t.post(&t.staff_token, &path, &json!({"response_id": 0})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("response_id")), "{v}");
        let (s, _) = t.post(&t.viewer_token, &path, &json!({"response_id": 19})).await;
        assert_eq!(s, 403);
        let (s, _) =
            t.post(&t.staff_token, "/api/v1/customers/999999/points/survey-bonus", &json!({"response_id": 19})).await;
        assert_eq!(s, 404);
        verify(&t).await;
    }
}
