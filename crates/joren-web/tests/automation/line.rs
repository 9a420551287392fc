//! LINE, inbound (issue #19, both backends): LINE's webhook verified by its signature — signed
//! here as LINE documents it (base64 HMAC-SHA256 of the raw body with the channel secret) —
//! each event applied once, follow and unfollow as LINE consent, messages on the linked
//! customer's timeline or kept until staff link the user.

use base64::Engine;
use hmac::{Hmac, Mac};
use joren_app::AppConfig;
use serde_json::{Value, json};

use super::common::{self, Session, TestApp, backends, spawn, spawn_with};

pub(super) const SECRET: &str = "line-channel-secret-for-tests";
const BOUND: &str = "U0000000000000000000000000000000b";
const STRANGER: &str = "U0000000000000000000000000000000a";

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub(super) fn event(id: &str, kind: &str, user: Option<&str>, ms: i64, extra: Value) -> Value {
    let mut e = json!({"type": kind, "mode": "active", "timestamp": ms, "webhookEventId": id,
                       "deliveryContext": {"isRedelivery": false}});
    if let Some(u) = user {
        e["source"] = json!({"type": "user", "userId": u});
    } else {
        e["source"] = json!({"type": "group", "groupId": "C0000000000000000000000000000000c"});
    }
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

/// Posts `events` to the webhook, signed with `secret` (None: unsigned).
pub(super) async fn deliver(t: &TestApp, events: &[Value], secret: Option<&str>) -> (u16, Value) {
    let body = json!({"destination": "Uffffffffffffffffffffffffffffffff", "events": events}).to_string();
    let mut r = t.client.post(t.url("/webhooks/line")).header("content-type", "application/json");
    if let Some(s) = secret {
        r = r.header("x-line-signature", sign(s, &body));
    }
    let r = r.body(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn line_messages(t: &TestApp, customer: i64) -> Vec<String> {
    let (_, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{customer}/timeline")).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "interaction:line")
        .map(|e| format!("{} {}", e["title"].as_str().unwrap_or_default(), e["detail"].as_str().unwrap_or_default()))
        .collect()
}

async fn line_consent(t: &TestApp, customer: i64) -> Value {
    let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{customer}")).await;
    c["consents"].as_array().unwrap().iter().find(|x| x["channel"] == "line").cloned().unwrap_or(Value::Null)
}

#[tokio::test]
async fn line_webhook_events_are_verified_applied_once_and_land_on_the_right_customer() {
    for b in backends() {
        // Without a channel secret the address is not there.
        let bare = spawn(b).await;
        assert_eq!(deliver(&bare, &[], Some(SECRET)).await.0, 404, "[{b}] LINE not set up");

        let t = spawn_with(b, AppConfig { line_channel_secret: Some(SECRET.into()), ..Default::default() }).await;
        let walkin = t.customer(json!({"family_name": "初見", "given_name": "客"})).await;
        let regular = t.customer(json!({"family_name": "常連", "given_name": "花子"})).await;
        let (s, v) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{regular}/line-user"),
                &json!({"line_user_id": BOUND}),
            )
            .await;
        assert_eq!(s, 200, "[{b}] {v}");
        assert_eq!(v["following"], Value::Null, "[{b}] not seen on LINE yet: no consent recorded");
        assert_eq!(line_consent(&t, regular).await, Value::Null, "[{b}]");

        let t0 = 1_780_000_000_000_i64;
        let batch = vec![
            event("01FOLLOWB", "follow", Some(BOUND), t0, json!({"replyToken": "r1"})),
            event(
                "01MSGB",
                "message",
                Some(BOUND),
                t0 + 1_000,
                json!({"message": {"type": "text", "id": "1", "text": "明日10時に予約できますか"}}),
            ),
            event("01FOLLOWA", "follow", Some(STRANGER), t0 + 2_000, json!({})),
            event(
                "01MSGA",
                "message",
                Some(STRANGER),
                t0 + 3_000,
                json!({"message": {"type": "text", "id": "2", "text": "ポイントカードを作りたいです"}}),
            ),
            event(
                "01STICKER",
                "message",
                Some(BOUND),
                t0 + 4_000,
                json!({"message": {"type": "sticker", "id": "3", "packageId": "1", "stickerId": "1"}}),
            ),
            event("01GROUP", "join", None, t0 + 5_000, json!({})),
        ];
        // Forged, unsigned or signed for another body: refused, nothing written.
        assert_eq!(deliver(&t, &batch, Some("another-channel")).await.0, 401, "[{b}] forged");
        assert_eq!(deliver(&t, &batch, None).await.0, 401, "[{b}] unsigned");
        let body = json!({"events": batch}).to_string();
        let r = t
            .client
            .post(t.url("/webhooks/line"))
            .header("x-line-signature", sign(SECRET, "{\"events\":[]}"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "[{b}] a signature of another body");
        assert!(line_messages(&t, regular).await.is_empty(), "[{b}] nothing written by refused calls");
        let (_, unlinked) = t.get(&t.staff_token, "/api/v1/line/unlinked-users").await;
        assert_eq!(unlinked["items"], json!([]), "[{b}]");

        let (s, receipt) = deliver(&t, &batch, Some(SECRET)).await;
        assert_eq!(s, 200, "[{b}] {receipt}");
        assert_eq!(receipt, json!({"to_customers": 3, "unlinked": 2, "repeated": 0, "ignored": 1}), "[{b}]");
        // LINE redelivers: applied once.
        let (s, receipt) = deliver(&t, &batch, Some(SECRET)).await;
        assert_eq!(s, 200, "[{b}]");
        assert_eq!(receipt, json!({"to_customers": 0, "unlinked": 0, "repeated": 5, "ignored": 1}), "[{b}]");
        let said = line_messages(&t, regular).await;
        assert_eq!(said.len(), 2, "[{b}] the text and the sticker, once each: {said:?}");
        assert!(said.iter().any(|m| m.contains("明日10時に予約できますか")), "[{b}] {said:?}");
        let consent = line_consent(&t, regular).await;
        assert_eq!((&consent["granted"], &consent["source"]), (&json!(true), &json!("line:follow")), "[{b}]");
        assert!(line_messages(&t, walkin).await.is_empty(), "[{b}] nobody else's timeline");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{regular}")).await;
        assert!(html.contains("明日10時に予約できますか") && html.contains("スタンプ"), "[{b}] on the customer page");
        assert!(!html.contains(">sticker<") && !html.contains(">text<"), "[{b}] no message kind code on the page");

        // Unfollow (blocked the account): LINE consent withdrawn; an older follow arriving late
        // does not bring it back.
        let (s, _) =
            deliver(&t, &[event("02UNFOLLOW", "unfollow", Some(BOUND), t0 + 60_000, json!({}))], Some(SECRET)).await;
        assert_eq!(s, 200);
        let (s, _) =
            deliver(&t, &[event("02LATEFOLLOW", "follow", Some(BOUND), t0 + 30_000, json!({}))], Some(SECRET)).await;
        assert_eq!(s, 200);
        let consent = line_consent(&t, regular).await;
        assert_eq!((&consent["granted"], &consent["source"]), (&json!(false), &json!("line:unfollow")), "[{b}]");

        // The stranger waits in the unlinked list with their message until staff link them.
        let (_, unlinked) = t.get(&t.staff_token, "/api/v1/line/unlinked-users").await;
        let items = unlinked["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "[{b}] {unlinked}");
        assert_eq!((&items[0]["line_user_id"], &items[0]["waiting_messages"]), (&json!(STRANGER), &json!(1)));
        let link = |customer: i64, user: &'static str| {
            let t = &t;
            async move {
                t.send(
                    reqwest::Method::PUT,
                    &t.staff_token,
                    &format!("/api/v1/customers/{customer}/line-user"),
                    &json!({"line_user_id": user}),
                )
                .await
            }
        };
        // The inbox page shows them with what they wrote; a number that is no customer comes
        // back beside the field, as typed.
        let (s, html) = staff.page("/inbox").await;
        assert_eq!(s, 200, "[{b}]");
        assert!(html.contains("ポイントカードを作りたいです") && html.contains("友だち追加中"), "[{b}] {html}");
        for typed in ["九十九", "#999999"] {
            let (s, _, html) = staff.post("/inbox/link", &[("user", STRANGER), ("customer_id", typed)]).await;
            assert_eq!(s, 422, "[{b}] {typed}");
            assert!(common::field_error(&html, "customer_id").is_some_and(|m| !m.is_empty()), "[{b}] {typed}");
            assert!(html.contains(&format!("value=\"{typed}\"")), "[{b}] kept: {typed}");
        }
        let (s, v) = link(walkin, STRANGER).await;
        assert_eq!(s, 200, "[{b}] {v}");
        assert_eq!((&v["moved_messages"], &v["following"]), (&json!(1), &json!(true)), "[{b}] {v}");
        let said = line_messages(&t, walkin).await;
        assert!(said.len() == 1 && said[0].contains("ポイントカードを作りたいです"), "[{b}] moved: {said:?}");
        let consent = line_consent(&t, walkin).await;
        assert_eq!((&consent["granted"], &consent["source"]), (&json!(true), &json!("line:link")), "[{b}]");
        let (_, unlinked) = t.get(&t.staff_token, "/api/v1/line/unlinked-users").await;
        assert_eq!(unlinked["items"], json!([]), "[{b}] nobody waiting");
        // A new message from them goes straight to their timeline.
        let (_, receipt) = deliver(
            &t,
            &[event(
                "03MSGA",
                "message",
                Some(STRANGER),
                t0 + 90_000,
                json!({"message": {"type": "text", "id": "4", "text": "ありがとうございます"}}),
            )],
            Some(SECRET),
        )
        .await;
        assert_eq!(receipt["to_customers"], 1, "[{b}]");
        assert_eq!(line_messages(&t, walkin).await.len(), 2, "[{b}]");

        // One LINE user, one customer; an id that is not LINE's is refused by name.
        let (s, v) = link(regular, STRANGER).await;
        assert_eq!((s, v["error"]["reason"].as_str()), (409, Some("line_user_taken")), "[{b}] {v}");
        let (s, v) = link(regular, "line-hanako").await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("line_user_id")), "[{b}] {v}");
        let (s, _) = t
            .send(
                reqwest::Method::PUT,
                &t.viewer_token,
                &format!("/api/v1/customers/{regular}/line-user"),
                &json!({"line_user_id": BOUND}),
            )
            .await;
        assert_eq!(s, 403, "[{b}] viewers cannot link");
    }
}

/// Linking by code (both backends): staff make a code on the customer page (or through the
/// API); the customer sends it to the shop's LINE account — typed as people type it — and the
/// webhook links them, once; a used or expired code links nobody.
#[tokio::test]
async fn a_link_code_sent_on_line_links_the_sender_once() {
    for b in backends() {
        let clock = joren_app::clock::Clock::manual(chrono::Utc::now());
        let config = AppConfig { line_channel_secret: Some(SECRET.into()), clock: clock.clone(), ..Default::default() };
        let t = spawn_with(b, config).await;
        let hanako = t.customer(json!({"family_name": "佐藤", "given_name": "花子"})).await;
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{hanako}")).await;
        assert!(html.contains("id=\"line-make-code\"") && !html.contains("id=\"line-code\""), "[{b}]");
        let (s, location, _) = staff.post(&format!("/customers/{hanako}/line-code"), &[]).await;
        assert_eq!((s, location.as_str()), (303, format!("/customers/{hanako}#line").as_str()), "[{b}]");
        let (_, html) = staff.page(&format!("/customers/{hanako}")).await;
        let code = html
            .split("id=\"line-code\" class=\"code-big\">")
            .nth(1)
            .expect("the code shown")
            .split('<')
            .next()
            .unwrap();
        assert!(code.len() == 9 && code.as_bytes()[4] == b'-', "[{b}] shown as 1234-5678: {code}");
        // Sent in LINE with full-width digits, as a phone keyboard may type it.
        let typed: String = code
            .chars()
            .map(|c| if c == '-' { '－' } else { char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap() })
            .collect();
        let now = clock.now().timestamp_millis();
        let text = |id: &str, user: &str, body: &str| {
            event(id, "message", Some(user), now, json!({"message": {"type": "text", "id": id, "text": body}}))
        };
        let new_user = "U00000000000000000000000000000c01";
        let (_, r) = deliver(
            &t,
            &[event("10FOLLOW", "follow", Some(new_user), now - 1_000, json!({})), text("10CODE", new_user, &typed)],
            Some(SECRET),
        )
        .await;
        assert_eq!(
            (&r["to_customers"], &r["unlinked"]),
            (&json!(1), &json!(1)),
            "[{b}] the follow waited, the code linked: {r}"
        );
        let consent = line_consent(&t, hanako).await;
        assert_eq!((&consent["granted"], &consent["source"]), (&json!(true), &json!("line:code")), "[{b}] {consent}");
        let (_, html) = staff.page(&format!("/customers/{hanako}")).await;
        assert!(html.contains("LINE と連携済み") && html.contains("友だち追加中"), "[{b}] the panel says so");
        assert!(!html.contains("id=\"line-code\""), "[{b}] no code offered once linked");

        // The same code from someone else: used, links nobody.
        let other_user = "U00000000000000000000000000000c02";
        let (_, r) = deliver(&t, &[text("11CODE", other_user, code)], Some(SECRET)).await;
        assert_eq!(r["unlinked"], 1, "[{b}] {r}");
        // A code past its 30 minutes links nobody either.
        let other = t.customer(json!({"family_name": "田中", "given_name": "一郎"})).await;
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{other}/line-link-code"), &json!({})).await;
        assert_eq!(s, 201, "[{b}] {v}");
        clock.advance(chrono::Duration::minutes(31));
        let (_, r) = deliver(&t, &[text("12CODE", other_user, v["code"].as_str().unwrap())], Some(SECRET)).await;
        assert_eq!(r["unlinked"], 1, "[{b}] expired: {r}");
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{other}")).await;
        assert!(c["consents"].as_array().unwrap().iter().all(|x| x["channel"] != "line"), "[{b}] {c}");
        let (_, unlinked) = t.get(&t.staff_token, "/api/v1/line/unlinked-users").await;
        assert_eq!(unlinked["items"][0]["waiting_messages"], 2, "[{b}] both tries wait as messages: {unlinked}");
        // Linked from the inbox page by number (＃ and full-width digits read as typed).
        let number: String = format!("＃{other}")
            .chars()
            .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap() } else { c })
            .collect();
        let (s, location, _) =
            staff.post("/inbox/link", &[("user", other_user), ("customer_id", number.as_str())]).await;
        assert_eq!((s, location), (303, format!("/customers/{other}#line")), "[{b}]");
        let (_, html) = staff.page("/inbox").await;
        assert!(html.contains("id=\"inbox-empty\""), "[{b}] nobody waiting");
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{other}/timeline")).await;
        let lines = v["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "interaction:line").count();
        assert_eq!(lines, 2, "[{b}] the two waiting messages moved to the customer: {v}");

        // Guessing: after 10 wrong codes in an hour a user's codes are not looked up — even a
        // live one — until the hour is over.
        let guesser = "U0000000000000000000000000000dead";
        let target = t.customer(json!({"family_name": "標的", "given_name": "様"})).await;
        let (_, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{target}/line-link-code"), &json!({})).await;
        let live = v["code"].as_str().unwrap().to_string();
        let wrong: Vec<serde_json::Value> =
            (0..CODE_MISSES).map(|i| text(&format!("G{i}"), guesser, &format!("{:08}", 10_000_000 + i))).collect();
        let (_, r) = deliver(&t, &wrong, Some(SECRET)).await;
        assert_eq!(r["unlinked"], CODE_MISSES, "[{b}] {r}");
        let (_, r) = deliver(&t, &[text("G-live", guesser, &live)], Some(SECRET)).await;
        assert_eq!((r["unlinked"].as_i64(), r["to_customers"].as_i64()), (Some(1), Some(0)), "[{b}] locked out: {r}");
        clock.advance(chrono::Duration::minutes(61));
        let (_, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{target}/line-link-code"), &json!({})).await;
        let (_, r) = deliver(&t, &[text("G-later", guesser, v["code"].as_str().unwrap())], Some(SECRET)).await;
        assert_eq!(r["to_customers"], 1, "[{b}] an hour later the code links: {r}");
    }
}

/// Wrong link codes one LINE user may send in an hour (`joren_store`'s `MAX_CODE_MISSES`).
const CODE_MISSES: i64 = 10;

#[tokio::test]
async fn blocking_the_line_account_ends_line_scenarios_that_leave_on_unsubscribe_not_email_ones() {
    for b in backends() {
        let clock = joren_app::clock::Clock::manual(super::tokyo_today_at(10, 0));
        let config = joren_app::AppConfig {
            clock: clock.clone(),
            line_channel_secret: Some(SECRET.into()),
            ..joren_app::AppConfig::default()
        };
        let t = super::common::spawn_with(b, config).await;
        let c = t
            .customer(
                json!({"family_name": "友達", "given_name": "花子", "email": "tomo@example.jp", "line_user_id": BOUND,
                             "consents": {"email": true}}),
            )
            .await;
        let at = clock.now_ms();
        assert_eq!(deliver(&t, &[event("ux1", "follow", Some(BOUND), at, json!({}))], Some(SECRET)).await.0, 200);
        let definition = |step: Value| {
            json!({"trigger": {"kind": "manual"}, "exit": {"on_unsubscribe": true},
                   "steps": [{"type": "wait", "days": 3}, step]})
        };
        let on_line =
            super::scenario(&t, "LINE のお便り", definition(json!({"type": "line", "text": "こんにちは"}))).await;
        let by_mail = super::scenario(
            &t,
            "メールのお便り",
            definition(json!({"type": "email", "subject": "件名", "body": "本文"})),
        )
        .await;
        for id in [on_line, by_mail] {
            let (_, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": c})).await;
            assert_eq!(v["entered"], true, "[{b}] {v}");
        }
        super::settle(&t).await;
        assert_eq!(
            deliver(&t, &[event("ux2", "unfollow", Some(BOUND), at + 1_000, json!({}))], Some(SECRET)).await.0,
            200
        );
        super::settle(&t).await;
        let (_, runs) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/runs")).await;
        let state = |id: i64| {
            let r = runs["items"].as_array().unwrap().iter().find(|r| r["scenario_id"] == id).cloned().unwrap();
            (r["state"].as_str().unwrap().to_string(), r["exit_reason"].as_str().map(str::to_string))
        };
        assert_eq!(state(on_line), ("exited".into(), Some("unsubscribed".into())), "[{b}] {runs}");
        assert_eq!(state(by_mail), ("waiting".into(), None), "[{b}] the mail goes on: {runs}");
    }
}

#[tokio::test]
async fn a_line_friend_nobody_has_is_added_as_a_customer_from_the_inbox() {
    for b in backends() {
        let t = spawn_with(b, AppConfig { line_channel_secret: Some(SECRET.into()), ..AppConfig::default() }).await;
        let now = chrono::Utc::now().timestamp_millis();
        let said = event(
            "ad1",
            "message",
            Some(STRANGER),
            now,
            json!({"message": {"type": "text", "id": "m1", "text": "はじめまして"}}),
        );
        assert_eq!(
            deliver(&t, &[event("ad0", "follow", Some(STRANGER), now - 1, json!({})), said], Some(SECRET)).await.0,
            200
        );
        let (_, list) = t.get(&t.staff_token, "/api/v1/conversations?view=all").await;
        let conv = list["items"][0]["id"].as_i64().unwrap();
        let session = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = session.page(&format!("/inbox/{conv}")).await;
        assert!(html.contains("id=\"adopt-form\""), "[{b}] offered for a friend nobody has");
        let (s, location, _) =
            session.post(&format!("/inbox/{conv}/customer"), &[("family_name", "初来"), ("given_name", "花子")]).await;
        assert_eq!(s, 303, "[{b}]");
        let id: i64 = location.trim_start_matches("/customers/").parse().unwrap();
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(
            (c["line_user_id"].as_str(), c["family_name"].as_str()),
            (Some(STRANGER), Some("初来")),
            "[{b}] {c}"
        );
        let line = c["consents"].as_array().unwrap().iter().find(|x| x["channel"] == "line").cloned().unwrap();
        assert_eq!(line["granted"], true, "[{b}] they follow the account: {c}");
        let (_, d) = t.get(&t.staff_token, &format!("/api/v1/conversations/{conv}")).await;
        assert_eq!((d["customer_id"].as_i64(), d["can_reply"].as_bool()), (Some(id), Some(true)), "[{b}] {d}");
        assert_eq!(d["thread"][0]["text"], "はじめまして", "[{b}]");
        let (_, html) = session.page(&format!("/inbox/{conv}")).await;
        assert!(!html.contains("id=\"adopt-form\""), "[{b}] not offered any more");
    }
}
