//! Outbound webhooks (issue #19, both backends): a local receiver on loopback checks each
//! delivery's Standard Webhooks signature (computed here with its own HMAC); an event is offered
//! once per subscription that wants it, a failing receiver is retried with the same message id
//! until it answers, a receiver that is down is given up on after the last attempt with the
//! reason, and an owner sends it again; the test button sends a `webhook.test`.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use hmac::Mac;
use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::{Value, json};

use super::common::{TestApp, backends, spawn_with};
use super::{place_order, tokyo_today_at};

#[derive(Default)]
struct Seen {
    /// (webhook-id, body) of each request.
    got: Vec<(String, Value)>,
    /// Answer 500 to this many more requests.
    fail: usize,
    /// Requests whose signature did not check.
    bad: usize,
    secret: String,
}

/// A receiver on loopback; answers its URL.
fn receiver(seen: Arc<Mutex<Seen>>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                let mut s = seen.lock().unwrap();
                let key = base64::engine::general_purpose::STANDARD
                    .decode(s.secret.trim_start_matches("whsec_"))
                    .unwrap_or_default();
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
                mac.update(format!("{}.{}.{}", h("webhook-id"), h("webhook-timestamp"), body).as_bytes());
                let expected =
                    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
                if h("webhook-signature") != expected {
                    s.bad += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                s.got.push((h("webhook-id"), serde_json::from_str(&body).unwrap_or(Value::Null)));
                if s.fail > 0 {
                    s.fail -= 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                StatusCode::NO_CONTENT
            }
        }),
    );
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}

async fn deliveries(t: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = t.get(&t.owner_token, &format!("/api/v1/webhooks/deliveries?limit=100{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn webhooks_are_signed_offered_once_retried_with_their_id_and_given_up_with_a_reason() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let c = t.customer(json!({"family_name": "連携", "given_name": "花子"})).await;
        place_order(&t, c).await; // before any subscription: history, not sent
        // Nobody subscribes: a pass marks the events offered without offering them, once.
        let (offered, sent) = t.app.deliver_webhooks().await.unwrap();
        assert!(offered >= 1 && sent == 0, "[{b}] offered {offered}, sent {sent}");
        assert_eq!(t.app.deliver_webhooks().await.unwrap(), (0, 0), "[{b}] marked once");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let url = receiver(seen.clone());

        // Owners only; bad input named by field.
        let body = json!({"url": url, "events": ["order.placed", "consent.changed"], "description": "CRM"});
        assert_eq!(t.post(&t.staff_token, "/api/v1/webhooks", &body).await.0, 403, "[{b}]");
        let (s, v) =
            t.post(&t.owner_token, "/api/v1/webhooks", &json!({"url": "ftp://x", "events": ["order.eaten"]})).await;
        assert_eq!(s, 422, "[{b}] {v}");
        let fields: Vec<&str> =
            v["error"]["details"].as_array().unwrap().iter().filter_map(|d| d["field"].as_str()).collect();
        assert!(fields.contains(&"url") && fields.contains(&"events"), "[{b}] {v}");
        let (s, sub) = t.post(&t.owner_token, "/api/v1/webhooks", &body).await;
        assert_eq!(s, 201, "[{b}] {sub}");
        let secret = sub["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"), "[{b}]");
        seen.lock().unwrap().secret = secret;
        let sub_id = sub["id"].as_i64().unwrap();

        // An order after subscribing: one signed delivery; a refund (not subscribed) none.
        let order = place_order(&t, c).await;
        let (s, _) = t
            .post(&t.staff_token, &format!("/api/v1/orders/{order}/refunds"), &json!({"amount": 100, "reason": "欠け"}))
            .await;
        assert!(s < 300, "[{b}] refund {s}");
        let (offered, sent) = t.app.deliver_webhooks().await.unwrap();
        assert!(offered >= 2, "[{b}] the events of the order and the refund were offered");
        assert_eq!(sent, 1, "[{b}] only the subscribed kind after the subscription");
        {
            let s = seen.lock().unwrap();
            assert_eq!((s.got.len(), s.bad), (1, 0), "[{b}] signed as Standard Webhooks say");
            assert_eq!(s.got[0].1["type"], "order.placed");
            assert_eq!(s.got[0].1["data"]["customer_id"], c);
            assert_eq!(s.got[0].1["data"]["entity_id"], order.to_string());
        }
        assert_eq!(t.app.deliver_webhooks().await.unwrap(), (0, 0), "[{b}] nothing twice");
        let log = deliveries(&t, "").await;
        assert_eq!(log[0]["state"], "delivered", "[{b}] {log:?}");
        assert!(log[0]["response_ms"].as_i64().is_some() && log[0]["last_status"] == 204, "[{b}] {log:?}");

        // The receiver fails twice: tried again with backoff, the same message id each time.
        seen.lock().unwrap().fail = 2;
        place_order(&t, c).await;
        t.app.deliver_webhooks().await.unwrap();
        let log = deliveries(&t, "&state=queued").await;
        assert_eq!((log.len(), log[0]["last_status"].as_i64()), (1, Some(500)), "[{b}] {log:?}");
        assert_eq!(t.app.deliver_webhooks().await.unwrap().1, 0, "[{b}] not before its time");
        for _ in 0..2 {
            clock.advance(chrono::Duration::hours(1));
            t.app.deliver_webhooks().await.unwrap();
        }
        {
            let s = seen.lock().unwrap();
            let ids: Vec<&str> = s.got[1..].iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(ids.len(), 3, "[{b}] two failures and the success");
            assert!(ids.iter().all(|id| *id == ids[0] && id.starts_with("msg_")), "[{b}] {ids:?}");
        }
        assert!(deliveries(&t, "&state=queued").await.is_empty(), "[{b}] delivered at last");

        // A receiver that is down: retried until the last attempt, then failed with the reason.
        let down = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/gone", l.local_addr().unwrap())
        };
        let (s, gone) = t.post(&t.owner_token, "/api/v1/webhooks", &json!({"url": down, "events": ["*"]})).await;
        assert_eq!(s, 201, "[{b}] {gone}");
        let gone_id = gone["id"].as_i64().unwrap();
        let (s, test) = t.post(&t.owner_token, &format!("/api/v1/webhooks/{gone_id}/test"), &json!({})).await;
        assert_eq!((s, test["kind"].as_str()), (202, Some("webhook.test")), "[{b}] {test}");
        for _ in 0..joren_app::webhooks::MAX_ATTEMPTS {
            t.app.deliver_webhooks().await.unwrap();
            clock.advance(chrono::Duration::hours(11));
        }
        let failed = deliveries(&t, &format!("&subscription_id={gone_id}&state=failed")).await;
        assert_eq!(failed.len(), 1, "[{b}] {failed:?}");
        assert_eq!(failed[0]["attempts"], joren_app::webhooks::MAX_ATTEMPTS);
        assert!(failed[0]["last_error"].as_str().unwrap().starts_with("gave up after 8 attempts"), "[{b}] {failed:?}");
        let id = failed[0]["id"].as_i64().unwrap();
        let (s, v) = t.post(&t.owner_token, &format!("/api/v1/webhooks/deliveries/{id}/retry"), &json!({})).await;
        assert_eq!((s, v["state"].as_str(), v["attempts"].as_i64()), (200, Some("queued"), Some(0)), "[{b}] {v}");
        let done = deliveries(&t, &format!("&subscription_id={sub_id}&state=delivered")).await;
        let (s, v) =
            t.post(&t.owner_token, &format!("/api/v1/webhooks/deliveries/{}/retry", done[0]["id"]), &json!({})).await;
        assert_eq!((s, v["error"]["reason"].as_str()), (409, Some("delivery_not_failed")), "[{b}] {v}");

        // The test button on the working one.
        let (s, _) = t.post(&t.owner_token, &format!("/api/v1/webhooks/{sub_id}/test"), &json!({})).await;
        assert_eq!(s, 202, "[{b}]");
        t.app.deliver_webhooks().await.unwrap();
        assert_eq!(seen.lock().unwrap().got.last().unwrap().1["type"], "webhook.test", "[{b}]");
        // Switched off: nothing more offered to it; deleted: gone with its log.
        let path = format!("/api/v1/webhooks/{sub_id}");
        let off = json!({"url": url, "events": ["order.placed"], "active": false});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, &path, &off).await;
        assert_eq!((s, v["active"].as_bool()), (200, Some(false)), "[{b}] {v}");
        let before = seen.lock().unwrap().got.len();
        place_order(&t, c).await;
        t.app.deliver_webhooks().await.unwrap();
        assert_eq!(seen.lock().unwrap().got.len(), before, "[{b}] a switched-off subscription gets nothing");
        let (s, _) = t.send(reqwest::Method::DELETE, &t.owner_token, &path, &json!({})).await;
        assert_eq!(s, 204, "[{b}]");
        assert_eq!(t.get(&t.owner_token, &path).await.0, 404, "[{b}]");
    }
}

#[tokio::test]
async fn the_webhooks_page_adds_tests_and_shows_the_log_in_words() {
    for b in backends() {
        let t = spawn_with(b, AppConfig::default()).await;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let url = receiver(seen.clone());
        let owner = super::common::Session { t: &t, cookie: t.login_cookie("owner").await };
        let staff = super::common::Session { t: &t, cookie: t.login_cookie("staff").await };
        assert_eq!(staff.page("/settings/webhooks").await.0, 403, "[{b}] owners only");
        let (s, html) = owner.page("/settings/webhooks").await;
        assert_eq!(s, 200, "[{b}]");
        assert!(html.contains("id=\"webhooks-empty\""), "[{b}]");

        // Refused: the address beside its field, the events ticked as they were.
        let (s, _, html) =
            owner.post("/settings/webhooks", &[("url", "crm.example.jp/hook"), ("events", "order.placed")]).await;
        assert_eq!(s, 422, "[{b}]");
        assert!(super::common::field_error(&html, "url").is_some_and(|e| e.contains("https://")), "[{b}]");
        assert!(html.contains("value=\"crm.example.jp/hook\""), "[{b}] what was typed stays");
        assert!(html.contains("value=\"order.placed\" checked"), "[{b}] the ticked event stays ticked");
        let (s, _, html) = owner.post("/settings/webhooks", &[("url", url.as_str())]).await;
        assert_eq!(s, 422, "[{b}]");
        assert!(super::common::field_error(&html, "events").is_some(), "[{b}] no event chosen");

        let form = [
            ("url", url.as_str()),
            ("description", "会計ソフト"),
            ("events", "order.placed"),
            ("events", "rank.changed"),
        ];
        let (s, location, _) = owner.post("/settings/webhooks", &form).await;
        assert_eq!((s, location.as_str()), (303, "/settings/webhooks"), "[{b}]");
        let (_, html) = owner.page("/settings/webhooks").await;
        assert!(
            html.contains("会計ソフト") && html.contains("注文") && html.contains("ランクの変化"),
            "[{b}] in words"
        );
        assert!(!html.contains(">order.placed<"), "[{b}] no code on the page");
        let secret = html.split("id=\"webhook-secret-").nth(1).unwrap().split('>').nth(1).unwrap().split('<').next();
        let secret = secret.unwrap().to_string();
        assert!(secret.starts_with("whsec_"), "[{b}] {secret}");
        seen.lock().unwrap().secret = secret;
        let id = html.split("id=\"webhook-test-").nth(1).unwrap().split('"').next().unwrap().to_string();

        // The test button: queued, then delivered and in the log as 届いた with its answer.
        let (s, location, _) = owner.post(&format!("/settings/webhooks/{id}/test"), &[]).await;
        assert_eq!((s, location.as_str()), (303, "/settings/webhooks?tested=1"), "[{b}]");
        t.app.deliver_webhooks().await.unwrap();
        assert_eq!(seen.lock().unwrap().got.len(), 1, "[{b}]");
        let (_, html) = owner.page("/settings/webhooks").await;
        let log = html.split("id=\"webhook-log\"").nth(1).unwrap();
        assert!(log.contains("テスト") && log.contains("届いた") && log.contains("204 ·"), "[{b}] {log}");
        // Off, then deleted.
        let (s, _, _) = owner.post(&format!("/settings/webhooks/{id}/toggle"), &[]).await;
        assert_eq!(s, 303, "[{b}]");
        let (_, html) = owner.page("/settings/webhooks").await;
        assert!(html.contains("停止中") && html.contains("再開する"), "[{b}]");
        let (s, _, _) = owner.post(&format!("/settings/webhooks/{id}/delete"), &[]).await;
        assert_eq!(s, 303, "[{b}]");
        let (_, html) = owner.page("/settings/webhooks").await;
        assert!(html.contains("id=\"webhooks-empty\""), "[{b}]");
    }
}

#[tokio::test]
async fn customers_and_scenario_steps_reach_integrations_and_imports_raise_nothing() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let url = receiver(seen.clone());
        let kinds = ["customer.created", "customer.updated", "scenario.step"];
        let (s, sub) = t.post(&t.owner_token, "/api/v1/webhooks", &json!({"url": url, "events": kinds})).await;
        assert_eq!(s, 201, "[{b}] {sub}");
        seen.lock().unwrap().secret = sub["secret"].as_str().unwrap().to_string();
        let (_, listed) = t.get(&t.owner_token, "/api/v1/webhooks/events").await;
        for k in kinds.iter().chain(&["case.opened", "case.closed"]) {
            assert!(
                listed["items"].as_array().unwrap().iter().any(|x| x == k),
                "[{b}] {k} may be subscribed: {listed}"
            );
        }

        let c = t.customer(json!({"family_name": "連携", "given_name": "次郎", "email": "jiro@example.jp"})).await;
        let (s, v) = t
            .send(reqwest::Method::PATCH, &t.staff_token, &format!("/api/v1/customers/{c}"), &json!({"tags": ["常連"]}))
            .await;
        assert_eq!(s, 200, "[{b}] {v}");
        // An import creates customers without events (history, like imported orders).
        let csv = "姓,名,メール\n輸入,花子,yunyu@example.jp\n";
        let r = t
            .client
            .post(t.url("/api/v1/import/customers"))
            .bearer_auth(&t.staff_token)
            .body(csv)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "[{b}] import {}", r.status());
        let id = super::scenario(
            &t,
            "電話する",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "task", "task": "call", "title": "お礼の電話"}]}),
        )
        .await;
        let (_, v) = t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": c})).await;
        assert_eq!(v["entered"], true, "[{b}] {v}");
        super::settle(&t).await;
        t.app.deliver_webhooks().await.unwrap();
        let got: Vec<Value> = seen.lock().unwrap().got.iter().map(|(_, v)| v.clone()).collect();
        let types: Vec<&str> = got.iter().filter_map(|v| v["type"].as_str()).collect();
        let (_, events) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/events")).await;
        assert_eq!(types, ["customer.created", "customer.updated", "scenario.step"], "[{b}] {got:?} {events}");
        assert!(got.iter().all(|v| v["data"]["customer_id"] == c), "[{b}] the imported customer raised nothing");
        let step = &got[2]["data"];
        assert_eq!(
            (step["scenario_id"].as_i64(), step["step"].as_i64(), step["state"].as_str(), step["tasks"].as_i64()),
            (Some(id), Some(1), Some("done"), Some(1)),
            "[{b}] {step}"
        );
    }
}
