//! Prepaid tickets (回数券) through the API on SQLite and PostgreSQL: plans (owners), sale and
//! use idempotent by key, refund of the unused part, expiry, the outstanding paid value, and
//! simultaneous uses that can never take more visits than a ticket holds.

mod common;

use common::{TestApp, backends, spawn};
use serde_json::{Value, json};

/// Sends one use per key at the same moment, each from its own task.
async fn at_once(t: &TestApp, path: &str, keys: Vec<Option<&'static str>>) -> Vec<(u16, Value, bool)> {
    let tasks: Vec<_> = keys
        .into_iter()
        .map(|key| {
            let (client, url, token) = (t.client.clone(), t.url(path), t.staff_token.clone());
            tokio::spawn(async move {
                let mut r = client.post(url).bearer_auth(token).json(&json!({}));
                if let Some(k) = key {
                    r = r.header("Idempotency-Key", k);
                }
                let r = r.send().await.unwrap();
                let status = r.status().as_u16();
                let again = r.headers().get("idempotent-replayed").is_some();
                (status, r.json().await.unwrap_or(Value::Null), again)
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn plan(t: &TestApp, name: &str, visits: i64, price: i64, months: u32) -> i64 {
    let body = json!({"name": name, "visits": visits, "price": price, "valid_months": months});
    let (s, v) = t.post(&t.owner_token, "/api/v1/ticket-plans", &body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

#[tokio::test]
async fn tickets_are_sold_used_and_refunded_once() {
    for b in backends() {
        let t = spawn(b).await;
        let body = json!({"name": "10回券", "visits": 10, "price": 45000, "valid_months": 6});
        let (s, _) = t.post(&t.staff_token, "/api/v1/ticket-plans", &body).await;
        assert_eq!(s, 403, "[{b}] plans are the owner's");
        let (s, v) =
            t.post(&t.owner_token, "/api/v1/ticket-plans", &json!({"name": "x", "visits": 0, "price": 1})).await;
        assert_eq!(s, 422, "[{b}] {v}");
        let (s, v) = t
            .post(
                &t.owner_token,
                "/api/v1/ticket-plans",
                &json!({"name": "x", "visits": 0, "price": 1, "valid_months": 0}),
            )
            .await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("visits")), "[{b}] {v}");
        let ten = plan(&t, "10回券 (9回分の価格)", 10, 45_000, 6).await;
        let open = plan(&t, "回数券 無期限", 3, 10_000, 0).await;
        let (_, plans) = t.get(&t.staff_token, "/api/v1/ticket-plans").await;
        assert_eq!(plans["items"][0]["within_six_months"], json!(true), "[{b}] {plans}");

        let c = t.customer(json!({"family_name": "中村", "given_name": "葵", "phone": "090-6000-0001"})).await;
        let path = format!("/api/v1/customers/{c}/tickets");
        let (s, sold, again) = t.post_keyed(&path, Some("sell-1"), &json!({"plan_id": ten})).await;
        assert_eq!(
            (s, again, &sold["remaining"], &sold["status"]),
            (201, false, &json!(10), &json!("active")),
            "{sold}"
        );
        let today = t.app.today_date();
        let last = joren_core::ticket::last_day(today, 6).unwrap();
        assert_eq!(sold["last_day"], json!(last.to_string()));
        let (s, replay, again) = t.post_keyed(&path, Some("sell-1"), &json!({"plan_id": ten})).await;
        assert_eq!((s, again, &replay["id"]), (201, true, &sold["id"]), "[{b}] a retried sale is the first sale");
        let (s, _, _) = t.post_keyed(&path, Some("sell-1"), &json!({"plan_id": open})).await;
        assert_eq!(s, 409, "[{b}] the key with another request");
        let id = sold["id"].as_i64().unwrap();

        // Three visits, each once however often it is retried.
        let uses = format!("/api/v1/tickets/{id}/uses");
        for n in 1..=3 {
            let key = format!("visit-{n}");
            let (s, v, again) = t.post_keyed(&uses, Some(&key), &json!({"note": "カット"})).await;
            assert_eq!((s, again, &v["remaining"]), (201, false, &json!(10 - n)), "{v}");
        }
        let (s, v, again) = t.post_keyed(&uses, Some("visit-3"), &json!({})).await;
        assert_eq!((s, again, &v["remaining"]), (201, true, &json!(7)), "[{b}] a retried use takes nothing");
        let (_, other, _) = t.post_keyed(&path, None, &json!({"plan_id": open})).await;
        let (s, _, _) =
            t.post_keyed(&format!("/api/v1/tickets/{}/uses", other["id"]), Some("visit-3"), &json!({})).await;
        assert_eq!(s, 409, "[{b}] a use key belongs to one ticket");
        let (_, detail) = t.get(&t.staff_token, &format!("/api/v1/tickets/{id}")).await;
        assert_eq!(detail["uses"].as_array().unwrap().len(), 3);
        assert_eq!(detail["uses"][0]["note"], json!("カット"));

        // Outstanding paid value: ¥45,000 × 7/10 + ¥10,000; the 6-month plan's part exempt.
        let (_, o) = t.get(&t.staff_token, "/api/v1/tickets/outstanding").await;
        assert_eq!(
            (&o["value"], &o["exempt_value"], &o["tickets"]),
            (&json!(41_500), &json!(31_500), &json!(2)),
            "{o}"
        );
        let (_, soon) = t.get(&t.staff_token, "/api/v1/tickets/expiring?days=200").await;
        let ids: Vec<i64> = soon["items"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [id], "[{b}] the ticket without expiry is never 'expiring'");

        // Past its last day: refused, naming the date.
        let after = last + chrono::Days::new(1);
        let e = t.app.store.use_ticket(id, after, None, "", None).await.unwrap_err();
        assert!(e.to_string().contains(&last.to_string()), "[{b}] {e}");

        // Refund of the unused part: reason required; then no more uses; a second refund answers the same.
        let refund = format!("/api/v1/tickets/{id}/refund");
        let (s, v) = t.post(&t.staff_token, &refund, &json!({"reason": ""})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("reason")), "{v}");
        let (s, v) = t.post(&t.staff_token, &refund, &json!({"reason": "転居のため"})).await;
        assert_eq!((s, &v["status"], &v["refunded_amount"]), (200, &json!("refunded"), &json!(31_500)), "{v}");
        let (s, again) = t.post(&t.staff_token, &refund, &json!({"reason": "もう一度"})).await;
        assert_eq!(
            (s, &again["refunded_amount"], &again["refund_reason"]),
            (200, &json!(31_500), &json!("転居のため"))
        );
        let (s, v, _) = t.post_keyed(&uses, Some("visit-4"), &json!({})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("ticket")), "[{b}] {v}");
        let (_, o) = t.get(&t.staff_token, "/api/v1/tickets/outstanding").await;
        assert_eq!(o["value"], json!(10_000));
        let (s, _) = t.post(&t.viewer_token, &refund, &json!({"reason": "x"})).await;
        assert_eq!(s, 403);
        // Each write has its audit record, written with it: one sale (the retried sale wrote
        // none) and one refund (the second refund changed nothing and recorded nothing).
        let (_, audit) = t.get(&t.owner_token, &format!("/api/v1/audit?entity=ticket&entity_id={id}")).await;
        let actions: Vec<&str> =
            audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["ticket.refund", "ticket.sell"], "[{b}] {audit}");
        let refund_entry = &audit["items"][0];
        assert_eq!(
            (&refund_entry["detail"]["amount"], &refund_entry["actor"]),
            (&json!(31_500), &json!("staff")),
            "[{b}]"
        );
        assert_eq!(audit["items"][1]["detail"]["plan"], "10回券 (9回分の価格)", "[{b}]");
    }
}

#[tokio::test]
async fn simultaneous_uses_never_take_more_visits_than_the_ticket_holds() {
    for b in backends() {
        let t = spawn(b).await;
        let p = plan(&t, "10回券", 10, 45_000, 6).await;
        let c = t.customer(json!({"family_name": "並行", "given_name": "太郎", "phone": "090-6100-0001"})).await;
        let path = format!("/api/v1/customers/{c}/tickets");
        let (_, ticket, _) = t.post_keyed(&path, None, &json!({"plan_id": p})).await;
        let uses = format!("/api/v1/tickets/{}/uses", ticket["id"]);
        let all = at_once(&t, &uses, vec![None; 25]).await;
        let ok = all.iter().filter(|r| r.0 == 201).count();
        let refused = all.iter().filter(|r| r.0 == 422).count();
        assert_eq!((ok, refused), (10, 15), "[{b}] {:?}", all.iter().map(|r| r.0).collect::<Vec<_>>());
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/tickets/{}", ticket["id"])).await;
        assert_eq!(
            (&v["used"], &v["status"], v["uses"].as_array().unwrap().len()),
            (&json!(10), &json!("used_up"), 10)
        );

        // Twenty retries of one key at once: one visit.
        let (_, second, _) = t.post_keyed(&path, None, &json!({"plan_id": p})).await;
        let uses = format!("/api/v1/tickets/{}/uses", second["id"]);
        let all = at_once(&t, &uses, vec![Some("same-visit"); 20]).await;
        assert!(all.iter().all(|r| r.0 == 201), "[{b}] {:?}", all.iter().map(|r| (r.0, &r.1)).collect::<Vec<_>>());
        assert_eq!(all.iter().filter(|r| !r.2).count(), 1, "[{b}] exactly one applied");
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/tickets/{}", second["id"])).await;
        assert_eq!(v["used"], json!(1), "[{b}] {v}");
    }
}
