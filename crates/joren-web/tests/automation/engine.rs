//! The engine's batches (issue #17), both backends: a paused scenario's due runs hold up no
//! other's, events dispatched together act one after another, and a run waiting for an
//! order wakes on the order or goes on when the wait times out.

use super::*;

/// A paused scenario's due runs never hold up another's: more of them than one batch are due
/// first, and the active scenario's runs behind them still advance, over several batches of
/// one pass (each batch read after the last one's place in due order).
#[tokio::test]
async fn a_paused_scenarios_runs_do_not_hold_up_the_others() {
    use joren_core::customer::{CustomerInput, CustomerProfile};
    for b in backends() {
        let t = spawn_with(b, AppConfig::default()).await;
        let owner = joren_app::Actor::system("test");
        let n = 620; // more than one batch of the engine (500)
        let batch: Vec<_> = (0..n)
            .map(|i| {
                let input = CustomerInput {
                    family_name: Some(format!("顧客{i}")),
                    email: Some(format!("c{i}@example.jp")),
                    tags: Some(vec!["案内".into()]),
                    ..Default::default()
                };
                (input.apply(CustomerProfile::default()).unwrap(), vec![], vec![("email".to_string(), true)])
            })
            .collect();
        t.app.store.create_customers_batch(&batch, "test").await.unwrap();
        let seg = t
            .app
            .create_segment(
                &owner,
                &joren_app::segments::SegmentInput {
                    name: "案内".into(),
                    description: String::new(),
                    filter: json!({"all": [{"field": "tags", "op": "contains", "value": "案内"}]}),
                },
            )
            .await
            .unwrap();
        let mail = json!({"trigger": {"kind": "manual"}, "steps": [
            {"type": "email", "marketing": false, "subject": "お知らせ", "body": "{{ name }}"}]});
        let paused = scenario(&t, "止めたお知らせ", mail.clone()).await;
        let active = scenario(&t, "お知らせ", mail).await;
        assert_eq!(t.app.broadcast(&owner, paused, seg.id).await.unwrap(), n, "[{b}]");
        t.app.set_scenario_status(&owner, paused, joren_app::scenarios::Status::Paused).await.unwrap();
        assert_eq!(t.app.broadcast(&owner, active, seg.id).await.unwrap(), n, "[{b}]");
        let mut advanced = 0;
        loop {
            let k = t.app.advance_due_runs().await.unwrap();
            if k == 0 {
                break;
            }
            advanced += k;
        }
        assert_eq!(advanced, n as usize, "[{b}] every run of the active scenario, none of the paused one");
        let c = t.app.store.outbox_counts(Some(active)).await.unwrap();
        assert_eq!(c.queued, n as i64, "[{b}] one mail each");
        assert_eq!(t.app.store.outbox_counts(Some(paused)).await.unwrap().queued, 0, "[{b}]");
    }
}

/// Events dispatched in one batch act as if one after another: two orders of a customer read
/// together enrol the first order's run, end it by the second order (its exit rule), and
/// enrol the second's (the every-time enrolments wait for multi-row inserts, written before
/// the exit reads them); a once-only scenario enters once.
#[tokio::test]
async fn events_read_together_act_in_their_order() {
    for b in backends() {
        let t = spawn_with(b, AppConfig::default()).await;
        let c = mail_customer(&t, "hanako@example.jp", true).await;
        let other = mail_customer(&t, "taro@example.jp", true).await;
        t.app.dispatch_events().await.unwrap();
        let steps = json!([{"type": "wait", "days": 3}, {"type": "email", "subject": "s", "body": "b"}]);
        let every = scenario(
            &t,
            "毎回",
            json!({"trigger": {"kind": "order_placed"}, "exit": {"on_order": true}, "steps": steps.clone()}),
        )
        .await;
        let o1 = place_order(&t, c).await;
        place_order(&t, other).await;
        let o2 = place_order(&t, c).await;
        assert_eq!(t.app.dispatch_events().await.unwrap(), (3, 3), "[{b}] three orders read in one batch");
        let app = &t;
        let runs = |customer: i64| async move {
            let (_, runs) = app.get(&app.staff_token, &format!("/api/v1/customers/{customer}/runs")).await;
            let mut out: Vec<(i64, String, String)> = runs["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let state = format!("{}{}", r["state"].as_str().unwrap(), r["exit_reason"].as_str().unwrap_or(""));
                    (r["scenario_id"].as_i64().unwrap(), r["occurrence"].as_str().unwrap().to_string(), state)
                })
                .collect();
            out.sort();
            out
        };
        let run = |s: i64, o: i64, state: &str| (s, format!("order:{o}"), state.to_string());
        assert_eq!(
            runs(c).await,
            [run(every, o1, "exitedordered"), run(every, o2, "waiting")],
            "[{b}] the first order's run ended by the second order"
        );
        assert_eq!(runs(other).await.len(), 1, "[{b}]");

        let once = scenario(
            &t,
            "一度",
            json!({"trigger": {"kind": "order_placed"}, "entry": {"rule": "once"}, "steps": steps}),
        )
        .await;
        let o3 = place_order(&t, c).await;
        let o4 = place_order(&t, c).await;
        assert_eq!(t.app.dispatch_events().await.unwrap(), (2, 4), "[{b}] four enrolments planned");
        let mut want = vec![
            run(every, o1, "exitedordered"),
            run(every, o2, "exitedordered"),
            run(every, o3, "exitedordered"),
            run(every, o4, "waiting"),
            run(once, o3, "waiting"),
        ];
        want.sort();
        assert_eq!(runs(c).await, want, "[{b}]");
        assert_eq!(t.app.dispatch_events().await.unwrap(), (0, 0), "[{b}] nothing read twice");
    }
}

/// A run waiting for an order: an order wakes it into the wait's "then" (skip the reminder, or
/// leave), whatever else the customer has waiting; without an order it goes on when the wait
/// times out.
#[tokio::test]
async fn a_wait_for_an_order_wakes_on_the_order_or_times_out() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let ordered = mail_customer(&t, "hanako@example.jp", true).await;
        let quiet = mail_customer(&t, "taro@example.jp", true).await;
        let id = scenario(
            &t,
            "ご注文待ち",
            json!({"trigger": {"kind": "manual"}, "steps": [
                {"type": "wait_for_order", "timeout_days": 10, "then": {"skip": 1}},
                {"type": "email", "marketing": false, "subject": "お変わりありませんか", "body": "{{ name }}"},
                {"type": "email", "marketing": false, "subject": "またのご利用を", "body": "{{ name }}"}
            ]}),
        )
        .await;
        // The customer also has an order-triggered run waiting (another scenario's).
        scenario(
            &t,
            "お礼",
            json!({"trigger": {"kind": "order_placed"}, "steps": [{"type": "wait", "days": 30}, {"type": "email", "subject": "s", "body": "b"}]}),
        )
        .await;
        for c in [ordered, quiet] {
            let (s, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": c})).await;
            assert_eq!((s, &v["entered"]), (200, &json!(true)), "[{b}] {v}");
        }
        settle(&t).await;
        place_order(&t, ordered).await;
        settle(&t).await;
        let subjects_of = |c: i64| {
            let t = &t;
            async move {
                let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={id}")).await;
                let mut s: Vec<String> = out["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["customer_id"] == json!(c))
                    .map(|m| m["subject"].as_str().unwrap().to_string())
                    .collect();
                s.sort();
                s
            }
        };
        assert_eq!(subjects_of(ordered).await, ["またのご利用を"], "[{b}] the order skipped the reminder");
        assert!(subjects_of(quiet).await.is_empty(), "[{b}] still waiting");
        clock.advance(chrono::Duration::days(10));
        settle(&t).await;
        assert_eq!(subjects_of(quiet).await, ["お変わりありませんか", "またのご利用を"], "[{b}] timed out: both");
        assert_eq!(subjects_of(ordered).await, ["またのご利用を"], "[{b}] nothing more for the one who ordered");
    }
}
