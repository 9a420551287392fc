//! LINE, outbound (issue #19, both backends): scenario steps and staff messages pushed through a
//! stand-in for the Messaging API on loopback (it checks the bearer token and the retry key,
//! answers 409 to a key it accepted, 429 and 500 when told). Each message is delivered once
//! whatever the retries; a blocked user, a customer without LINE consent or without a linked
//! user is never messaged; marketing waits out the quiet hours like mail.

use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::{Value, json};

use super::common::line_api::{Fault, LineApi};
use super::common::{self, Session, TestApp, backends, spawn_with};
use super::line::{SECRET, deliver, event};
use super::{scenario, settle, tokyo_today_at};

pub(super) const TOKEN: &str = "line-channel-access-token-for-tests";
const FAN: &str = "U00000000000000000000000000000f01";
const BLOCKER: &str = "U00000000000000000000000000000f02";
const SILENT: &str = "U00000000000000000000000000000f03";

/// An app whose LINE channel is `SECRET` and, with `api`, whose pushes go to that stand-in
/// (started with [`TOKEN`]).
pub(super) async fn spawn_line(b: &'static str, clock: &Clock, api: Option<&LineApi>) -> TestApp {
    let config = AppConfig {
        clock: clock.clone(),
        line_channel_secret: Some(SECRET.into()),
        line_channel_token: api.map(|_| TOKEN.to_string()),
        line_api_url: api.map(|a| a.url.clone()).unwrap_or_default(),
        ..AppConfig::default()
    };
    spawn_with(b, config).await
}

/// A customer linked to `user` (None: no LINE user).
async fn line_customer(t: &TestApp, name: &str, user: Option<&str>) -> i64 {
    let mut body = json!({"family_name": name, "given_name": "花子"});
    if let Some(u) = user {
        body["line_user_id"] = json!(u);
    }
    t.customer(body).await
}

async fn outbox(t: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/outbox?limit=100{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn line_pushes_go_once_through_retries_and_only_to_who_may_receive_them() {
    for b in backends() {
        let api = LineApi::start(TOKEN);
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_line(b, &clock, Some(&api)).await;
        let fan = line_customer(&t, "友達", Some(FAN)).await;
        let blocker = line_customer(&t, "拒否", Some(BLOCKER)).await;
        let silent = line_customer(&t, "無言", Some(SILENT)).await;
        let nobody = line_customer(&t, "未連携", None).await;
        // The fan and the blocker followed the account; the blocker then blocked it. The
        // silent one never followed: no LINE consent on record.
        let at = clock.now_ms();
        let events = [
            event("pf1", "follow", Some(FAN), at, json!({})),
            event("pf2", "follow", Some(BLOCKER), at, json!({})),
            event("pf3", "unfollow", Some(BLOCKER), at + 1_000, json!({})),
        ];
        assert_eq!(deliver(&t, &events, Some(SECRET)).await.0, 200, "[{b}]");

        let id = scenario(
            &t,
            "新作のお知らせ",
            json!({"trigger": {"kind": "manual"}, "steps": [{
                "type": "line",
                "text": "{{ name }}、春の新作が入りました。",
                "card": {"image_url": "https://shop.example.jp/spring.jpg", "title": "春の新作",
                         "button_label": "見る", "button_url": "https://shop.example.jp/new"},
                "quick_replies": ["行きたい", "また今度"]
            }]}),
        )
        .await;
        // LINE is busy at first (429), then takes the push but the answer is lost (500).
        api.plan(&[Fault::RateLimit, Fault::AcceptThenFail]);
        for who in [fan, blocker, silent, nobody] {
            let (s, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": who})).await;
            assert_eq!((s, v["entered"].as_bool()), (200, Some(true)), "[{b}] {v}");
        }
        settle(&t).await;
        assert!(api.pushes().is_empty(), "[{b}] the 429 held the push back");
        let rows = outbox(&t, &format!("&scenario_id={id}")).await;
        assert_eq!(rows.len(), 3, "[{b}] no row for the customer without LINE: {rows:?}");
        let row = |user: &str| rows.iter().find(|m| m["recipient"] == user).cloned().unwrap();
        assert_eq!((row(FAN)["state"].as_str(), row(FAN)["channel"].as_str()), (Some("queued"), Some("line")));
        assert_eq!(row(FAN)["last_error"], "LINE rate limit", "[{b}]");
        assert_eq!(
            (row(BLOCKER)["state"].as_str(), row(BLOCKER)["last_error"].as_str()),
            (Some("suppressed"), Some("blocked on LINE"))
        );
        assert_eq!(
            (row(SILENT)["state"].as_str(), row(SILENT)["last_error"].as_str()),
            (Some("suppressed"), Some("no line consent"))
        );

        // A minute later it is pushed; the answer is lost, so it is tried again — and LINE's
        // 409 for the same retry key is taken as sent. One delivery.
        clock.advance(chrono::Duration::minutes(1));
        settle(&t).await;
        assert_eq!(api.pushes().len(), 1, "[{b}] delivered once");
        clock.advance(chrono::Duration::minutes(15));
        settle(&t).await;
        let pushes = api.pushes();
        assert_eq!(pushes.len(), 1, "[{b}] the retry did not deliver it again");
        assert!(api.requests() >= 3, "[{b}] 429, the lost answer, the 409");
        let row = outbox(&t, &format!("&scenario_id={id}&state=sent")).await;
        assert_eq!(row.len(), 1, "[{b}] {row:?}");
        assert_eq!(row[0]["recipient"], FAN, "{row:?}");
        let p = &pushes[0];
        assert_eq!(p.to, FAN);
        assert_eq!(p.messages[0]["text"], "友達 花子 様、春の新作が入りました。", "[{b}] {:?}", p.messages);
        assert_eq!(p.messages[1]["template"]["actions"][0]["uri"], "https://shop.example.jp/new", "{:?}", p.messages);
        assert_eq!(p.messages[1]["quickReply"]["items"][0]["action"]["text"], "行きたい");
        assert!(p.retry_key.len() == 36, "[{b}] a UUID retry key");

        // Marketing on LINE keeps the quiet hours: at 22:30 a new broadcast waits till 09:00.
        clock.set(tokyo_today_at(22, 30));
        let again = scenario(
            &t,
            "夜のお知らせ",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "line", "text": "夜分に失礼します"}]}),
        )
        .await;
        let (_, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{again}/enrol"), &json!({"customer_id": fan})).await;
        assert_eq!(v["entered"], true);
        settle(&t).await;
        assert_eq!(api.pushes().len(), 1, "[{b}] nothing at night");
        let held = outbox(&t, &format!("&scenario_id={again}")).await;
        assert_eq!(held[0]["last_error"], "quiet hours", "[{b}] {held:?}");

        // A staff reply is not marketing: it goes at night too, once per idempotency key.
        let path = format!("/api/v1/customers/{fan}/line-messages");
        let reply = json!({"text": "ご予約を承りました。", "quick_replies": ["了解"]});
        let (s, first, _) = t.post_keyed(&path, Some("reply-1"), &reply).await;
        assert_eq!(s, 202, "[{b}] {first}");
        assert_eq!(first["test_mode"], false);
        let (s, second, _) = t.post_keyed(&path, Some("reply-1"), &reply).await;
        assert_eq!((s, &second["message_id"]), (200, &first["message_id"]), "[{b}] the retry queued nothing new");
        settle(&t).await;
        let pushes = api.pushes();
        assert_eq!(pushes.len(), 2, "[{b}] the reply went, once");
        assert_eq!(pushes[1].messages[0]["text"], "ご予約を承りました。");
        // It is on the customer's timeline, in words on the page.
        let (_, tl) = t.get(&t.staff_token, &format!("/api/v1/customers/{fan}/timeline")).await;
        assert!(
            tl["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "line_message:sent" && e["title"] == "ご予約を承りました。"),
            "[{b}] {tl}"
        );

        // Nobody to send to: said beside the text; an unknown customer is 404; LINE's bounds.
        for who in [blocker, nobody] {
            let (s, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{who}/line-messages"), &reply).await;
            assert_eq!((s, v["error"]["details"][0]["code"].as_str()), (422, Some("no_line_user")), "[{b}] {v}");
        }
        let (s, _) = t.post(&t.staff_token, "/api/v1/customers/999999/line-messages", &reply).await;
        assert_eq!(s, 404, "[{b}]");
        let long = json!({"text": "あ".repeat(5001), "quick_replies": ["ボタンの文字が二十文字を超えると押せません"]});
        let (s, v) = t.post(&t.staff_token, &path, &long).await;
        assert_eq!(s, 422, "[{b}] {v}");
        let fields: Vec<&str> =
            v["error"]["details"].as_array().unwrap().iter().filter_map(|f| f["field"].as_str()).collect();
        assert!(fields.contains(&"text") && fields.contains(&"quick_replies"), "[{b}] {v}");
        let (s, v) = t.post(&t.staff_token, &path, &json!({"text": "x", "sticker": 1})).await;
        assert_eq!(s, 422, "[{b}] an unknown field is named: {v}");
        assert_eq!(api.pushes().len(), 2, "[{b}] nothing refused was pushed");

        // The customer page: a form to send, refused text back beside its field as typed.
        let session = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = session.page(&format!("/customers/{fan}")).await;
        assert!(html.contains("id=\"line-send-form\""), "[{b}] the fan can be written to");
        assert!(!html.contains("id=\"line-test-mode\""), "[{b}] a token is set: not test mode");
        let (_, html) = session.page(&format!("/customers/{blocker}")).await;
        assert!(!html.contains("id=\"line-send-form\""), "[{b}] no form for a blocked user");
        let (s, _, html) = session
            .post(
                &format!("/customers/{fan}/line-message"),
                &[("key", "ui-k1"), ("text", "  "), ("quick_replies", "はい、いいえ")],
            )
            .await;
        assert_eq!(s, 422, "[{b}]");
        assert!(common::field_error(&html, "line-send-0-text").is_some(), "[{b}] said beside the text");
        assert!(html.contains("value=\"はい、いいえ\""), "[{b}] what was typed stays");
        let form = [("key", "ui-k2"), ("text", "明日はお休みです"), ("quick_replies", "")];
        let (s, location, _) = session.post(&format!("/customers/{fan}/line-message"), &form).await;
        assert_eq!((s, location.as_str()), (303, format!("/customers/{fan}?line_sent=1#line").as_str()), "[{b}]");
        let (s, _, _) = session.post(&format!("/customers/{fan}/line-message"), &form).await;
        assert_eq!(s, 303, "[{b}] a double click");
        settle(&t).await;
        let texts: Vec<String> =
            api.pushes().iter().map(|p| p.messages[0]["text"].as_str().unwrap().to_string()).collect();
        assert_eq!(texts.iter().filter(|x| *x == "明日はお休みです").count(), 1, "[{b}] sent once: {texts:?}");
        let (_, html) = session.page(&format!("/customers/{fan}?line_sent=1")).await;
        assert!(html.contains("LINE 送信") && html.contains("明日はお休みです"), "[{b}] on the timeline, in words");
    }
}

#[tokio::test]
async fn without_a_channel_token_line_messages_stay_in_the_outbox_in_test_mode() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_line(b, &clock, None).await;
        let fan = line_customer(&t, "試験", Some(FAN)).await;
        let (s, v) = t
            .post(&t.staff_token, &format!("/api/v1/customers/{fan}/line-messages"), &json!({"text": "テストです"}))
            .await;
        assert_eq!((s, v["test_mode"].as_bool()), (202, Some(true)), "[{b}] {v}");
        settle(&t).await;
        let rows = outbox(&t, "&state=sent").await;
        assert_eq!(rows.len(), 1, "[{b}]");
        assert!(rows[0]["message_id"].as_str().unwrap().starts_with("test:"), "[{b}] {rows:?}");
        assert_eq!(rows[0]["test_mode"], true);
        let session = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = session.page(&format!("/customers/{fan}")).await;
        assert!(html.contains("id=\"line-test-mode\""), "[{b}] the page says nothing reaches LINE");
    }
}
