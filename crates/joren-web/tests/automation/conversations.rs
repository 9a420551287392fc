//! The inbox's conversations (issue #19, both backends): a LINE message opens one (or joins the
//! open one), a redelivery adds nothing, a friend not linked yet has one too and cannot be
//! answered until linked; staff take, answer (the first answer is the first-response time, once
//! per idempotency key) and close it (the resolution time); a message after closing opens a
//! new one.

use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::{Value, json};

use super::common::line_api::LineApi;
use super::common::{TestApp, backends, spawn_with};
use super::line::{SECRET, deliver, event};
use super::line_push::{TOKEN, spawn_line};
use super::{settle, tokyo_today_at};

const FAN: &str = "U00000000000000000000000000000c01";
const STRANGER: &str = "U00000000000000000000000000000c02";

fn text(id: &str, user: &str, ms: i64, words: &str) -> Value {
    event(id, "message", Some(user), ms, json!({"message": {"type": "text", "id": id, "text": words}}))
}

async fn list(t: &TestApp, view: &str) -> Value {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/conversations?view={view}")).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn conversations_open_on_a_message_are_answered_once_and_closed_with_their_times() {
    for b in backends() {
        let api = LineApi::start(TOKEN);
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_line(b, &clock, Some(&api)).await;
        let fan = t.customer(json!({"family_name": "常連", "given_name": "花子", "line_user_id": FAN})).await;
        let walkin = t.customer(json!({"family_name": "初見", "given_name": "太郎"})).await;
        let t0 = clock.now_ms();
        let first = [
            event("c-f1", "follow", Some(FAN), t0, json!({})),
            text("c-m1", FAN, t0, "明日10時に予約できますか"),
            text("c-m2", STRANGER, t0 + 1_000, "ポイントカードを作りたいです"),
        ];
        assert_eq!(deliver(&t, &first, Some(SECRET)).await.0, 200, "[{b}]");
        // A redelivery, and a second message from the fan: one conversation each, counted once.
        let again = [text("c-m1", FAN, t0, "明日10時に予約できますか"), text("c-m3", FAN, t0 + 2_000, "2名です")];
        assert_eq!(deliver(&t, &again, Some(SECRET)).await.0, 200, "[{b}]");
        let v = list(&t, "unassigned").await;
        assert_eq!(v["counts"], json!({"unassigned": 2, "mine": 0, "open": 2}), "[{b}] {v}");
        let items = v["items"].as_array().unwrap();
        // Longest waiting first: the stranger wrote last at +1 s, the fan at +2 s.
        assert_eq!(items[0]["address"], STRANGER, "[{b}] longest waiting first");
        let items = [items[1].clone(), items[0].clone()];
        assert_eq!((items[0]["customer_id"].as_i64(), items[0]["messages"].as_i64()), (Some(fan), Some(2)));
        assert_eq!(items[0]["last_text"], "2名です");
        assert_eq!((items[1]["customer_id"].clone(), items[1]["customer_name"].clone()), (Value::Null, Value::Null));
        let (fan_c, stranger_c) = (items[0]["id"].as_i64().unwrap(), items[1]["id"].as_i64().unwrap());

        // A friend not linked yet cannot be answered; linked, the conversation is the customer's.
        let (s, v) = t
            .post(&t.staff_token, &format!("/api/v1/conversations/{stranger_c}/replies"), &json!({"text": "はい"}))
            .await;
        assert_eq!((s, v["error"]["details"][0]["code"].as_str()), (422, Some("no_line_user")), "[{b}] {v}");
        let path = format!("/api/v1/customers/{walkin}/line-user");
        let (s, _) = t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"line_user_id": STRANGER})).await;
        assert_eq!(s, 200, "[{b}]");
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/conversations/{stranger_c}")).await;
        assert_eq!((v["customer_id"].as_i64(), v["can_reply"].as_bool()), (Some(walkin), Some(true)), "[{b}] {v}");
        assert_eq!(v["thread"][0]["text"], "ポイントカードを作りたいです", "[{b}] its message moved with it");

        // Staff takes the fan's conversation; a user who does not exist cannot have it.
        let staff_id = t.app.staff_directory().await.unwrap().into_iter().find(|(_, n)| n == "staff").unwrap().0;
        let assignee = format!("/api/v1/conversations/{fan_c}/assignee");
        let (s, v) = t.send(reqwest::Method::PUT, &t.staff_token, &assignee, &json!({"assignee_id": 99_999})).await;
        assert_eq!(s, 422, "[{b}] {v}");
        let (s, v) = t.send(reqwest::Method::PUT, &t.staff_token, &assignee, &json!({"assignee_id": staff_id})).await;
        assert_eq!((s, v["assignee_id"].as_i64()), (200, Some(staff_id)), "[{b}] {v}");
        assert_eq!(list(&t, "mine").await["items"][0]["id"], fan_c, "[{b}] in the staff member's tab");
        // Answered from the customer page (not the inbox): nobody had it, now the sender has it.
        let path = format!("/api/v1/customers/{walkin}/line-messages");
        let (s, _, _) = t.post_keyed(&path, Some("walkin-1"), &json!({"text": "お作りできます。"})).await;
        assert_eq!(s, 202, "[{b}]");
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/conversations/{stranger_c}")).await;
        assert_eq!(
            (v["assignee_id"].as_i64(), v["first_response_secs"].as_i64()),
            (Some(staff_id), Some(0)),
            "[{b}] {v}"
        );

        // Half an hour later the answer: the first response, once however often it is sent.
        clock.advance(chrono::Duration::minutes(30));
        let reply = format!("/api/v1/conversations/{fan_c}/replies");
        let body = json!({"text": "承りました。明日10時にお待ちしております。", "quick_replies": ["了解"]});
        let (s, q, _) = t.post_keyed(&reply, Some("ans-1"), &body).await;
        assert_eq!(s, 202, "[{b}] {q}");
        let (s, q2, _) = t.post_keyed(&reply, Some("ans-1"), &body).await;
        assert_eq!((s, &q2["message_id"]), (200, &q["message_id"]), "[{b}]");
        clock.advance(chrono::Duration::minutes(10));
        let (s, _, _) = t.post_keyed(&reply, Some("ans-2"), &json!({"text": "駐車場もございます。"})).await;
        assert_eq!(s, 202, "[{b}]");
        settle(&t).await;
        assert_eq!(api.pushes().len(), 3, "[{b}] the walk-in's answer and two to the fan, each pushed once");
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/conversations/{fan_c}")).await;
        assert_eq!(v["first_response_secs"], 1800, "[{b}] the first answer counts: {v}");
        let dirs: Vec<&str> =
            v["thread"].as_array().unwrap().iter().map(|m| m["direction"].as_str().unwrap()).collect();
        assert_eq!(dirs, ["in", "in", "out", "out"], "[{b}] {v}");
        assert_eq!(v["thread"][2]["state"], "sent");

        // Closed an hour after it opened: its resolution time; closing again is refused.
        clock.advance(chrono::Duration::minutes(20));
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/conversations/{fan_c}/close"), &json!({})).await;
        assert_eq!((s, v["state"].as_str()), (200, Some("closed")), "[{b}] {v}");
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/conversations/{fan_c}")).await;
        assert_eq!(v["resolution_secs"], 3600, "[{b}] {v}");
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/conversations/{fan_c}/close"), &json!({})).await;
        assert_eq!((s, v["error"]["reason"].as_str()), (409, Some("conversation_closed")), "[{b}] {v}");
        assert_eq!(list(&t, "closed").await["items"][0]["id"], fan_c, "[{b}]");
        let (s, v) = t.post(&t.staff_token, &reply, &json!({"text": "追伸です"})).await;
        assert_eq!((s, v["error"]["reason"].as_str()), (409, Some("conversation_closed")), "[{b}] reopen first: {v}");

        // A message after closing opens a new conversation; the old one cannot reopen beside it.
        let later = clock.now_ms();
        assert_eq!(deliver(&t, &[text("c-m4", FAN, later, "もう一つ質問です")], Some(SECRET)).await.0, 200);
        let v = list(&t, "all").await;
        let newer = v["items"].as_array().unwrap().iter().find(|c| c["address"] == FAN).unwrap()["id"].as_i64();
        assert!(newer.is_some_and(|n| n != fan_c), "[{b}] {v}");
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/conversations/{fan_c}/reopen"), &json!({})).await;
        assert_eq!((s, v["error"]["reason"].as_str()), (409, Some("conversation_open_elsewhere")), "[{b}] {v}");
        let (s, v) = t.get(&t.staff_token, "/api/v1/conversations?view=everything").await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("view")), "[{b}] {v}");
        assert_eq!(t.get(&t.staff_token, "/api/v1/conversations/999999").await.0, 404, "[{b}]");
        let (_, audit) = t.get(&t.owner_token, &format!("/api/v1/audit?entity=conversation&entity_id={fan_c}")).await;
        let actions: Vec<&str> =
            audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        assert!(actions.contains(&"conversation.assign") && actions.contains(&"conversation.close"), "[{b}] {audit}");
    }
}

#[tokio::test]
async fn the_inbox_pages_take_answer_and_close_a_conversation_keeping_what_was_typed() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let config =
            AppConfig { clock: clock.clone(), line_channel_secret: Some(SECRET.into()), ..AppConfig::default() };
        let t = spawn_with(b, config).await;
        let fan = t.customer(json!({"family_name": "常連", "given_name": "花子", "line_user_id": FAN})).await;
        let t0 = clock.now_ms();
        let events = [event("u-f1", "follow", Some(FAN), t0, json!({})), text("u-m1", FAN, t0, "駐車場はありますか")];
        assert_eq!(deliver(&t, &events, Some(SECRET)).await.0, 200, "[{b}]");
        let staff = super::common::Session { t: &t, cookie: t.login_cookie("staff").await };
        let (s, html) = staff.page("/inbox").await;
        assert_eq!(s, 200, "[{b}]");
        assert!(html.contains("常連 花子 様") && html.contains("駐車場はありますか"), "[{b}] in the unassigned tab");
        let id = html.split("href=\"/inbox/").nth(1).unwrap().split('"').next().unwrap().to_string();
        let (_, html) = staff.page(&format!("/customers/{fan}")).await;
        assert!(html.contains(&format!("href=\"/inbox/{id}\"")), "[{b}] the customer page links the open conversation");

        // Taken: in my tab, not in the unassigned one.
        let (s, location, _) = staff.post(&format!("/inbox/{id}/assign"), &[("assignee", "me")]).await;
        assert_eq!((s, location.as_str()), (303, format!("/inbox/{id}").as_str()), "[{b}]");
        let (_, html) = staff.page("/inbox?view=mine").await;
        assert!(html.contains(&format!("id=\"conversation-{id}\"")), "[{b}]");
        let (_, html) = staff.page("/inbox?view=unassigned").await;
        assert!(html.contains("id=\"conversations-empty\""), "[{b}]");

        // An empty reply comes back beside its field with the one-tap answers as typed.
        let (s, _, html) = staff
            .post(&format!("/inbox/{id}/reply"), &[("key", "ui-r0"), ("text", " "), ("quick_replies", "はい、いいえ")])
            .await;
        assert_eq!(s, 422, "[{b}]");
        assert!(super::common::field_error(&html, "text").is_some(), "[{b}]");
        assert!(html.contains("value=\"はい、いいえ\""), "[{b}]");
        // Fifteen minutes later, answered (twice clicked: once sent).
        clock.advance(chrono::Duration::minutes(15));
        let reply = [("key", "ui-r1"), ("text", "はい、3台ございます。"), ("quick_replies", "")];
        for _ in 0..2 {
            let (s, _, _) = staff.post(&format!("/inbox/{id}/reply"), &reply).await;
            assert_eq!(s, 303, "[{b}]");
        }
        settle(&t).await;
        let (_, html) = staff.page(&format!("/inbox/{id}")).await;
        assert_eq!(html.matches("はい、3台ございます。").count(), 1, "[{b}] one reply in the thread");
        assert!(html.contains("送信済み"), "[{b}] sent (test mode: no token)");
        let first = html.split("id=\"first-response\">").nth(1).unwrap().split('<').next().unwrap();
        assert_eq!(first, "15分", "[{b}] the first answer's time in words");

        // Closed after an hour and a half; a stale second close says why, at the top.
        clock.advance(chrono::Duration::minutes(75));
        let (s, _, _) = staff.post(&format!("/inbox/{id}/close"), &[]).await;
        assert_eq!(s, 303, "[{b}]");
        let (_, html) = staff.page(&format!("/inbox/{id}")).await;
        assert!(html.contains("1時間30分") && html.contains("id=\"reopen-conversation\""), "[{b}]");
        let (message, _) = staff.post_refused(&format!("/inbox/{id}/close"), &[]).await;
        assert!(message.contains("完了しています"), "[{b}] {message}");
        let (_, html) = staff.page("/inbox?view=closed").await;
        assert!(html.contains("1時間30分"), "[{b}] the closed tab shows how long it took");
        let en = super::common::Session { t: &t, cookie: format!("{}; joren_lang=en", staff.cookie) };
        let (_, html) = en.page(&format!("/inbox/{id}")).await;
        assert!(html.contains("15 min") && html.contains("1 h 30 min") && html.contains("Closed"), "[{b}]");
    }
}
