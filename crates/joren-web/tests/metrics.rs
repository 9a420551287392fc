//! Per-customer metrics snapshots on SQLite and PostgreSQL: the snapshot computed from the store
//! equals the analytics engine's output on the same orders exported as CSV; segment moves are
//! recorded; permissions and errors.

mod common;

use common::{backends, spawn};
use joren_analytics::{TimeUnit, TransactionLogBuilder, bgnbd, clv, gamma_gamma, rfm};
use serde_json::{Value, json};

/// The first 500 customers of the CDNOW sample (real purchase histories), dates shifted so the
/// sample's last day is today, imported as orders in US cents; one order refunded in part, and
/// one extra customer whose only order is cancelled. Returns that customer's id.
async fn seed(t: &common::TestApp) -> i64 {
    common::import_cdnow(t, 500).await;
    let (_, orders) = t.get(&t.staff_token, "/api/v1/orders?limit=1").await;
    let oid = orders["items"][0]["id"].as_i64().unwrap();
    let (s, v) = t
        .post(&t.staff_token, &format!("/api/v1/orders/{oid}/refunds"), &json!({"amount": 500, "reason": "一部返品"}))
        .await;
    assert_eq!(s, 201, "{v}");
    let gone = t.customer(json!({"family_name": "取消", "phone": "090-1000-0005"})).await;
    let (_, order) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(gone, Some("X-1"), 1000)).await;
    let (s, v) =
        t.post(&t.staff_token, &format!("/api/v1/orders/{}/cancel", order["id"]), &json!({"reason": "取消"})).await;
    assert_eq!(s, 200, "{v}");
    gone
}

#[tokio::test]
async fn snapshot_equals_the_engine_on_the_exported_orders() {
    for b in backends() {
        let t = spawn(b).await;
        let gone = seed(&t).await;
        let (status, _) = t.get(&t.staff_token, &format!("/api/v1/customers/{gone}/metrics")).await;
        assert_eq!(status, 404, "[{b}] no snapshot yet");
        let (status, _) = t.post(&t.viewer_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(status, 403, "viewers cannot start a refresh");
        let (status, snap) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(status, 201, "{snap}");
        assert_eq!(snap["customers"], 500, "the cancelled customer has no purchase left");
        assert!(snap["diagnostics"]["bgnbd"]["params"]["r"].is_number(), "models fitted: {snap}");

        // The engine on the export: one row per order (first line item row), cancelled and
        // fully refunded orders left out, partial refunds deducted, local dates.
        let csv = t
            .client
            .get(t.url("/api/v1/export/orders.csv?headers=codes"))
            .bearer_auth(&t.owner_token)
            .send()
            .await
            .unwrap();
        let bytes = csv.bytes().await.unwrap();
        let mut reader = csv::Reader::from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap());
        let header = reader.headers().unwrap().clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let mut tx = String::from("customer_id,date,amount\n");
        let mut seen = std::collections::HashSet::new();
        for rec in reader.records() {
            let rec = rec.unwrap();
            if !seen.insert(rec[col("joren_order_id")].to_string()) {
                continue;
            }
            if matches!(&rec[col("status")], "cancelled" | "refunded") {
                continue;
            }
            let amount: i64 = rec[col("total")].parse::<i64>().unwrap() - rec[col("refunded")].parse::<i64>().unwrap();
            tx.push_str(&format!("{},{},{amount}\n", &rec[col("customer_id")], &rec[col("ordered_at")][..10]));
        }
        let mut builder = TransactionLogBuilder::new(0);
        builder.feed(tx.as_bytes()).unwrap();
        let log = builder.finish().unwrap();
        let end = joren_analytics::log::parse_day(snap["observation_end"].as_str().unwrap().as_bytes()).unwrap();
        let mut r = rfm::values(&log, end);
        rfm::score_quintiles(&log.customer_ids, &mut r);
        let s = joren_analytics::summary::summarize(&log, end, TimeUnit::Day);
        let bg = bgnbd::fit(&s).unwrap().params;
        let gg = gamma_gamma::fit(&s).unwrap().params;
        let horizon = clv::Horizon { purchases_days: 90.0, clv_months: 12, monthly_discount: 0.01 };
        let forecast = clv::forecast(&s, &clv::PurchaseModel::BgNbd(bg), &gg, horizon);
        // The snapshot's forecast check: repeat purchases (distinct days) in the last 90 days
        // by customers who had bought before them, counted here from the export.
        let cal_end = end - 90;
        let mut days_by_customer: std::collections::BTreeMap<u32, Vec<i32>> = Default::default();
        for i in 0..log.len() {
            days_by_customer.entry(log.customer[i]).or_default().push(log.day[i]);
        }
        let actual: usize = days_by_customer
            .values_mut()
            .filter(|d| d.iter().any(|&x| x <= cal_end))
            .map(|d| {
                d.sort();
                d.dedup();
                d.iter().filter(|&&x| x > cal_end && x <= end).count()
            })
            .sum();
        let check = &snap["diagnostics"]["validation"];
        assert_eq!(check["checked"], true, "{check}");
        assert_eq!(check["actual"].as_u64(), Some(actual as u64), "{check}");
        assert!(check["predicted"].as_f64().unwrap() > 0.0);
        let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() <= 1e-6 * b.abs().max(1.0);
        for (c, id) in log.customer_ids.iter().enumerate() {
            let (status, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}/metrics")).await;
            assert_eq!(status, 200, "{v}");
            let m = &v["metrics"];
            let seg = rfm::segment(r.r[c], r.f[c], r.m[c], rfm::Levels::default());
            assert_eq!(m["segment"], seg.code(), "[{b}] customer {id}");
            assert_eq!(
                (m["frequency"].as_u64().unwrap(), m["monetary"].as_i64().unwrap()),
                (u64::from(r.frequency[c]), r.monetary[c])
            );
            assert_eq!(
                (m["r_score"].as_u64(), m["f_score"].as_u64(), m["m_score"].as_u64()),
                (Some(r.r[c].into()), Some(r.f[c].into()), Some(r.m[c].into()))
            );
            let i = s.customer.iter().position(|&x| x as usize == c).unwrap();
            assert!(
                close(&m["p_alive"], forecast[i].p_alive),
                "[{b}] {id}: {} vs {}",
                m["p_alive"],
                forecast[i].p_alive
            );
            assert!(close(&m["clv_12m"], forecast[i].clv));
            assert!(close(&m["expected_purchases_90d"], forecast[i].expected_purchases));
            assert!(m["churn_band"].is_string() && m["expected_next_purchase"].as_str().unwrap().len() == 10);
        }
        // The cancelled customer has no purchases, so no metrics.
        let (status, _) = t.get(&t.staff_token, &format!("/api/v1/customers/{gone}/metrics")).await;
        assert_eq!(status, 404);
        assert_eq!(log.customers(), 500);
        // A long-lapsed customer (segment `lost`) who comes back with six big orders this week.
        let lapsed = (0..log.customers())
            .find(|&c| rfm::segment(r.r[c], r.f[c], r.m[c], rfm::Levels::default()) == rfm::Segment::Lost)
            .unwrap();
        let first: i64 = log.customer_ids[lapsed].parse().unwrap();

        // A second snapshot after new orders records segment moves against the first.
        for k in 0..6 {
            let mut body = common::order_body(first, Some(&format!("N-{k}")), 9000);
            let day = chrono::Utc::now().date_naive() - chrono::Duration::days(k);
            body["ordered_at"] = json!(format!("{day}T08:00:00+09:00"));
            t.post(&t.staff_token, "/api/v1/orders", &body).await;
        }
        let (_, before) = t.get(&t.staff_token, &format!("/api/v1/customers/{}/metrics", first)).await;
        let (status, second) = t.post(&t.owner_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(status, 201);
        assert!(second["id"].as_i64() > snap["id"].as_i64());
        let (_, after) = t.get(&t.staff_token, &format!("/api/v1/customers/{}/metrics", first)).await;
        assert_eq!(after["snapshot"]["id"], second["id"]);
        if before["metrics"]["segment"] != after["metrics"]["segment"] {
            let change = &after["segment_changes"][0];
            assert_eq!(
                (&change["from_segment"], &change["to_segment"]),
                (&before["metrics"]["segment"], &after["metrics"]["segment"])
            );
            // The move is an event too, written with the snapshot (one per move).
            let (_, events) = t.get(&t.staff_token, &format!("/api/v1/customers/{first}/events")).await;
            let moves: Vec<_> =
                events["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "segment.moved").collect();
            assert_eq!(moves.len(), after["segment_changes"].as_array().unwrap().len(), "{events}");
            assert_eq!(
                (&moves[0]["payload"]["from"], &moves[0]["payload"]["to"]),
                (&change["from_segment"], &change["to_segment"])
            );
            assert_eq!(moves[0]["payload"]["snapshot_id"], second["id"]);
        } else {
            panic!("six big orders this week should move a lost customer's segment: {before} {after}");
        }
        let (_, latest) = t.get(&t.viewer_token, "/api/v1/metrics/snapshot").await;
        assert_eq!(latest["id"], second["id"], "viewers can read the snapshot");
        // Contact lists: every entry is what its list says, most valuable first.
        let (status, lists) = t.get(&t.staff_token, "/api/v1/metrics/contact-lists?limit=50").await;
        assert_eq!(status, 200, "{lists}");
        let today = chrono::Utc::now().date_naive().to_string();
        let overdue = lists["overdue"].as_array().unwrap();
        assert!(!overdue.is_empty(), "CDNOW has lapsed buyers: {lists}");
        for e in overdue {
            assert!(e["metrics"]["expected_next_purchase"].as_str().unwrap() < today.as_str());
        }
        let clv = |e: &Value| e["metrics"]["clv_12m"].as_f64().unwrap_or(0.0);
        assert!(overdue.windows(2).all(|w| clv(&w[0]) >= clv(&w[1])), "most valuable first");
        let dormant = lists["dormant"].as_array().unwrap();
        assert!(dormant.iter().all(|e| e["metrics"]["segment"] == "dormant"));
        // The lists are kept with the snapshot (100 of each); a longer one is read live: the
        // first 50 agree, and still do after a listed customer is merged into another.
        let ids = |v: &Value, k: &str| -> Vec<i64> {
            v[k].as_array().unwrap().iter().take(50).map(|e| e["customer_id"].as_i64().unwrap()).collect()
        };
        let (_, live) = t.get(&t.staff_token, "/api/v1/metrics/contact-lists?limit=500").await;
        for k in ["slipping", "overdue", "dormant"] {
            assert_eq!(ids(&lists, k), ids(&live, k), "{k}");
        }
        let (merged, keep) = (ids(&lists, "overdue")[1], ids(&lists, "overdue")[0]);
        let (status, v) =
            t.post(&t.staff_token, &format!("/api/v1/customers/{keep}/merge"), &json!({"merge_id": merged})).await;
        assert_eq!(status, 200, "{v}");
        let (_, lists) = t.get(&t.staff_token, "/api/v1/metrics/contact-lists?limit=50").await;
        let (_, live) = t.get(&t.staff_token, "/api/v1/metrics/contact-lists?limit=500").await;
        assert!(!ids(&lists, "overdue").contains(&merged), "a merged record leaves the lists");
        for k in ["slipping", "overdue", "dormant"] {
            assert_eq!(ids(&lists, k), ids(&live, k), "{k} after the merge");
        }
        let overdue = lists["overdue"].as_array().unwrap();
        // Staff call the first overdue customer: the lists show when the shop last reached out.
        assert!(overdue.iter().all(|e| e["last_contacted_at"].is_null()), "nobody contacted yet");
        let called = overdue[0]["customer_id"].as_i64().unwrap();
        let (status, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/customers/{called}/interactions"),
                &json!({"kind": "phone", "direction": "out", "subject": "ご無沙汰のお電話"}),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        let (_, lists) = t.get(&t.staff_token, "/api/v1/metrics/contact-lists?limit=50").await;
        for e in lists["overdue"].as_array().unwrap() {
            let contacted = !e["last_contacted_at"].is_null();
            assert_eq!(contacted, e["customer_id"] == called, "only the called customer is marked: {e}");
        }
        let cookie = t.login_cookie("staff").await;
        let html = t.client.get(t.url("/")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("class=\"badge ok\">連絡済み"), "the home page's lists mark the call");
        for e in lists["slipping"].as_array().unwrap() {
            assert!(
                ["champions", "loyal", "potential", "new", "regular"].contains(&e["from_segment"].as_str().unwrap())
            );
            assert!(
                ["needs_attention", "at_risk", "dormant", "lost"].contains(&e["metrics"]["segment"].as_str().unwrap())
            );
        }

        // Next best action: the default playbook, then the owner's own rules.
        assert!(after["next_action"]["action_ja"].is_string(), "{after}");
        assert!(!after["next_action"]["because"].as_array().unwrap().is_empty());
        let rules = json!({"rules": [{"segment": "champions", "action_ja": "店長から電話", "action_en": "Manager calls"},
                                     {"action_ja": "通常のお知らせ", "action_en": "Newsletter"}]});
        let (status, _) =
            t.send(reqwest::Method::PUT, &t.staff_token, "/api/v1/settings/next-best-action", &rules).await;
        assert_eq!(status, 403, "only the owner edits the rules");
        let bad = json!({"rules": [{"segment": "vip", "action_ja": "x", "action_en": "x"}]});
        let (status, e) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/next-best-action", &bad).await;
        assert_eq!((status, e["error"]["field"].as_str()), (422, Some("rules[0].segment")), "{e}");
        let (status, v) =
            t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/next-best-action", &rules).await;
        assert_eq!(status, 200, "{v}");
        let (_, m) = t.get(&t.staff_token, &format!("/api/v1/customers/{first}/metrics")).await;
        let expected =
            if m["metrics"]["segment"] == "champions" { "店長から電話" } else { "通常のお知らせ" };
        assert_eq!(m["next_action"]["action_ja"], expected, "{m}");

        // The nightly job does not run again the same night once a snapshot exists after 03:00
        // (or, before 03:00, after yesterday's 03:00).
        assert!(t.app.refresh_metrics_if_due().await.unwrap().is_none(), "[{b}] a fresh snapshot is not redone");
    }
}

/// Refreshes running while pages read: every read sees one whole snapshot — its per-segment
/// counts add up to the snapshot's customer count, its CLV list has one value per fitted
/// customer — and a snapshot a reader has just looked up is still there for its next query
/// (the previous snapshot is kept while the next is written).
#[tokio::test]
async fn refresh_concurrent_with_reads_never_shows_a_mixed_snapshot() {
    for b in backends() {
        let t = spawn(b).await;
        common::import_cdnow(&t, 300).await;
        let system = joren_app::Actor::system("test");
        t.app.refresh_metrics(&system).await.unwrap();
        // Whether reads fall between refreshes is up to the scheduler: on a loaded machine a
        // round can finish its four refreshes before the reader's first query. Every read is
        // checked whole in every round; overlapping needs one round out of five.
        let mut seen = std::collections::BTreeSet::new();
        let mut reads = 0;
        for _ in 0..5 {
            seen.clear();
            reads = 0;
            let writer = {
                let app = t.app.clone();
                tokio::spawn(async move {
                    for _ in 0..4 {
                        app.refresh_metrics(&joren_app::Actor::system("test")).await.unwrap();
                    }
                })
            };
            while !writer.is_finished() || reads < 20 {
                let snap = t.app.store.latest_snapshot().await.unwrap().unwrap();
                let totals = t.app.store.segment_totals(snap.id).await.unwrap();
                let counted: i64 = totals.iter().map(|(_, n, _)| n).sum();
                let clv = t.app.store.clv_values(snap.id).await.unwrap();
                // The promise is for one refresh: the snapshot a reader looked up survives the
                // next one. On a busy machine two can finish between a reader's queries (the
                // second drops it), and then there is nothing to check.
                let latest = t.app.store.latest_snapshot().await.unwrap().unwrap().id;
                if latest >= snap.id + 2 {
                    tokio::task::yield_now().await;
                    continue;
                }
                assert_eq!(counted, snap.customers, "[{b}] snapshot {} read whole", snap.id);
                assert!(clv.len() as i64 <= snap.customers && !clv.is_empty(), "[{b}] {}", clv.len());
                seen.insert(snap.id);
                reads += 1;
                tokio::task::yield_now().await;
            }
            writer.await.unwrap();
            if seen.len() >= 2 {
                break;
            }
        }
        assert!(seen.len() >= 2, "[{b}] reads overlapped the refreshes: saw snapshots {seen:?} in {reads} reads");
    }
}

/// The order log is cached between reads (the dashboard reads it on every view) and read
/// again after every kind of change that alters it: a new order, a refund, a cancellation, a
/// merge moving orders to another customer.
#[tokio::test]
async fn the_cached_order_log_follows_every_change() {
    for b in backends() {
        let t = spawn(b).await;
        let a = t.customer(json!({"family_name": "甲"})).await;
        let dup = t.customer(json!({"family_name": "甲", "email": "dup@example.jp"})).await;
        let order = |customer: i64, ext: &str| {
            let t = &t;
            let body = common::order_body(customer, Some(ext), 3000);
            async move {
                let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
                assert_eq!(s, 201, "{v}");
                v["id"].as_i64().unwrap()
            }
        };
        // (orders in the log, [(customer id, amount, orders)] by customer id)
        let amounts = |t: &common::TestApp| {
            let app = t.app.clone();
            async move {
                let log = app.order_log().await.unwrap();
                let l = &log.log;
                let mut per_customer = std::collections::BTreeMap::<String, (i64, usize)>::new();
                for i in 0..l.len() {
                    let e = per_customer.entry(l.customer_ids[l.customer[i] as usize].to_string()).or_default();
                    e.0 += l.amount[i];
                    e.1 += 1;
                }
                (log.orders, per_customer.into_iter().map(|(id, (amount, n))| (id, amount, n)).collect::<Vec<_>>())
            }
        };
        let first = order(a, "C-1").await;
        let (n, _) = amounts(&t).await;
        assert_eq!(n, 1, "[{b}]");
        let first_log = t.app.order_log().await.unwrap();
        assert!(std::sync::Arc::ptr_eq(&first_log, &t.app.order_log().await.unwrap()), "[{b}] unchanged: cached");

        let second = order(dup, "C-2").await;
        let (n, per) = amounts(&t).await;
        assert_eq!((n, per.len()), (2, 2), "[{b}] a new order is seen: {per:?}");

        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/orders/{first}/refunds"), &json!({"amount": 1000})).await;
        assert_eq!(s, 201, "{v}");
        let before = per.iter().find(|p| p.0 == a.to_string()).unwrap().1;
        let (_, per) = amounts(&t).await;
        let after = per.iter().find(|p| p.0 == a.to_string()).unwrap().1;
        assert_eq!(after, before - 1000, "[{b}] a refund lowers the amount: {per:?}");

        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/customers/{a}/merge"), &json!({"merge_id": dup})).await;
        assert_eq!(s, 200);
        let (n, per) = amounts(&t).await;
        assert_eq!(
            (n, per.len(), per[0].0.clone(), per[0].2),
            (2, 1, a.to_string(), 2),
            "[{b}] a merge moves the orders: {per:?}"
        );

        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/orders/{second}/cancel"), &json!({})).await;
        assert_eq!(s, 200, "{v}");
        let (n, _) = amounts(&t).await;
        assert_eq!(n, 1, "[{b}] a cancelled order leaves the log");
    }
}
