//! SMS (issue #19, both backends): scenario steps and staff texts sent through a stand-in
//! gateway on loopback — Twilio's API (basic auth, form) and a JSON gateway (bearer,
//! Idempotency-Key, 409 on a repeat) — once per message whatever the retries; only to mobile
//! numbers, only in the daytime for scenario texts, never after a STOP. Replies arrive signed
//! as each gateway signs them: a forged one writes nothing, a redelivered one is applied once,
//! 停止 turns SMS consent off, anything else lands in the inbox.

use joren_app::AppConfig;
use joren_app::clock::Clock;
use joren_app::sms::{SmsConfig, SmsGateway as Gateway};
use serde_json::{Value, json};

use super::common::sms_gateway::{Fault, SmsGateway, json_reply, twilio_reply};
use super::common::{self, Session, TestApp, backends, spawn_with};
use super::{scenario, settle, tokyo_today_at};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "sms-gateway-token-for-tests";
const PUBLIC: &str = "https://shop.example.jp";

async fn spawn_sms(b: &'static str, clock: &Clock, gateway: Gateway) -> TestApp {
    let mut config = AppConfig { clock: clock.clone(), ..AppConfig::default() };
    config.mail.public_url = PUBLIC.into();
    config.sms = SmsConfig { gateway: Some(gateway), from: "+815000000000".into(), ..SmsConfig::default() };
    spawn_with(b, config).await
}

fn twilio(api: &SmsGateway) -> Gateway {
    Gateway::Twilio { base_url: api.url.clone(), account_sid: ACCOUNT.into(), auth_token: TOKEN.into() }
}

async fn outbox(t: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/outbox?limit=100{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["items"].as_array().unwrap().iter().filter(|m| m["channel"] == "sms").cloned().collect()
}

async fn sms_consent(t: &TestApp, id: i64) -> Value {
    let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
    c["consents"].as_array().unwrap().iter().find(|x| x["channel"] == "sms").cloned().unwrap_or(Value::Null)
}

#[tokio::test]
async fn texts_go_once_in_the_daytime_to_mobiles_and_stop_when_asked() {
    for b in backends() {
        let api = SmsGateway::start(ACCOUNT, TOKEN);
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_sms(b, &clock, twilio(&api)).await;
        let person = |name: &str, phone: &str, consent: bool| json!({"family_name": name, "given_name": "花子", "phone": phone, "consents": {"sms": consent}});
        let mobile = t.customer(person("携帯", "090-1111-2222", true)).await;
        let landline = t.customer(person("固定", "03-1234-5678", true)).await;
        let silent = t.customer(person("未同意", "080-3333-4444", false)).await;

        let id = scenario(
            &t,
            "SMS のお知らせ",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "sms", "text": "{{ name }}、週末セールです。"}]}),
        )
        .await;
        // The gateway is busy (429), then fails (500); the text still goes, once.
        api.plan(&[Fault::RateLimit, Fault::ServerError]);
        for who in [mobile, landline, silent] {
            let (s, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/enrol"), &json!({"customer_id": who})).await;
            assert_eq!((s, v["entered"].as_bool()), (200, Some(true)), "[{b}] {v}");
        }
        for _ in 0..4 {
            settle(&t).await;
            clock.advance(chrono::Duration::minutes(1));
        }
        let texts = api.texts();
        assert_eq!(texts.len(), 1, "[{b}] one text, to the mobile with consent: {texts:?}");
        assert_eq!(texts[0].to, "+819011112222");
        assert_eq!(texts[0].from, "+815000000000");
        assert_eq!(texts[0].body, "携帯 花子 様、週末セールです。", "[{b}]");
        assert!(api.requests() >= 3, "[{b}] the 429 and the 500 were tried again");
        let rows = outbox(&t, &format!("&scenario_id={id}")).await;
        assert_eq!(rows.len(), 2, "[{b}] no row for the fixed line: {rows:?}");
        let row = |c: i64| rows.iter().find(|m| m["customer_id"] == c).cloned().unwrap();
        assert_eq!(row(mobile)["state"], "sent", "[{b}]");
        assert!(row(mobile)["message_id"].as_str().unwrap().starts_with("SM"), "[{b}] Twilio's sid kept");
        assert_eq!(
            (row(silent)["state"].as_str(), row(silent)["last_error"].as_str()),
            (Some("suppressed"), Some("no sms consent"))
        );

        // At 21:00 a scenario's text — even one that is not marketing — waits for the morning;
        // a staff member's text goes now, once per key.
        clock.set(tokyo_today_at(21, 0));
        let night = scenario(
            &t,
            "予約の確認",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "sms", "text": "明日のご予約を確認しました。", "marketing": false}]}),
        )
        .await;
        let (_, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{night}/enrol"), &json!({"customer_id": mobile})).await;
        assert_eq!(v["entered"], true);
        settle(&t).await;
        let held = outbox(&t, &format!("&scenario_id={night}")).await;
        assert_eq!(
            (held[0]["state"].as_str(), held[0]["last_error"].as_str()),
            (Some("queued"), Some("outside SMS hours")),
            "[{b}]"
        );
        let path = format!("/api/v1/customers/{mobile}/sms-messages");
        let (s, first, _) =
            t.post_keyed(&path, Some("sms-1"), &json!({"text": "お電話ありがとうございました。"})).await;
        assert_eq!((s, first["test_mode"].as_bool()), (202, Some(false)), "[{b}] {first}");
        let (s, again, _) =
            t.post_keyed(&path, Some("sms-1"), &json!({"text": "お電話ありがとうございました。"})).await;
        assert_eq!((s, &again["message_id"]), (200, &first["message_id"]), "[{b}]");
        settle(&t).await;
        assert_eq!(api.texts().len(), 2, "[{b}] the staff text went at night, once");
        clock.set(tokyo_today_at(9, 0) + chrono::Duration::days(1));
        settle(&t).await;
        assert_eq!(api.texts().len(), 3, "[{b}] the scenario's text went at nine");

        // Refusals, named: a fixed line, too long, unknown fields, a missing customer.
        let (s, v) =
            t.post(&t.staff_token, &format!("/api/v1/customers/{landline}/sms-messages"), &json!({"text": "x"})).await;
        assert_eq!((s, v["error"]["details"][0]["code"].as_str()), (422, Some("no_sms_phone")), "[{b}] {v}");
        let (s, v) = t.post(&t.staff_token, &path, &json!({"text": "あ".repeat(671)})).await;
        assert_eq!((s, v["error"]["details"][0]["code"].as_str()), (422, Some("sms_too_long")), "[{b}] {v}");
        let (s, _) = t.post(&t.staff_token, &path, &json!({"text": "x", "card": {}})).await;
        assert_eq!(s, 422, "[{b}]");
        let (s, _) = t.post(&t.staff_token, "/api/v1/customers/999999/sms-messages", &json!({"text": "x"})).await;
        assert_eq!(s, 404, "[{b}]");

        // Replies. A forged signature writes nothing; a real one lands in the inbox, once.
        let c = &t.client;
        let (s, _) = twilio_reply(c, &t.base, PUBLIC, "wrong-token", "SMa1", "+819011112222", "こんにちは").await;
        assert_eq!(s, 401, "[{b}]");
        let (s, twiml) = twilio_reply(c, &t.base, PUBLIC, TOKEN, "SMa1", "+819011112222", "予約を変更できますか").await;
        assert_eq!(s, 200, "[{b}] {twiml}");
        assert!(twiml.contains("<Response>"), "[{b}] Twilio is answered with TwiML: {twiml}");
        let (s, _) = twilio_reply(c, &t.base, PUBLIC, TOKEN, "SMa1", "+819011112222", "予約を変更できますか").await;
        assert_eq!(s, 200, "[{b}] a redelivery is answered");
        let (_, list) = t.get(&t.staff_token, "/api/v1/conversations?view=all").await;
        let convs: Vec<&Value> = list["items"].as_array().unwrap().iter().filter(|x| x["channel"] == "sms").collect();
        assert_eq!(convs.len(), 1, "[{b}] {list}");
        assert_eq!(
            (convs[0]["customer_id"].as_i64(), convs[0]["messages"].as_i64()),
            (Some(mobile), Some(1)),
            "[{b}] applied once"
        );
        // Answered from the inbox, as a text (LINE's buttons refused).
        let conv = convs[0]["id"].as_i64().unwrap();
        let (s, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/conversations/{conv}/replies"),
                &json!({"text": "x", "quick_replies": ["はい"]}),
            )
            .await;
        assert_eq!((s, v["error"]["details"][0]["code"].as_str()), (422, Some("line_only")), "[{b}] {v}");
        let (s, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/conversations/{conv}/replies"),
                &json!({"text": "はい、変更できます。"}),
            )
            .await;
        assert_eq!(s, 202, "[{b}] {v}");
        settle(&t).await;
        assert_eq!(api.texts().last().unwrap().body, "はい、変更できます。", "[{b}]");
        let (_, d) = t.get(&t.staff_token, &format!("/api/v1/conversations/{conv}")).await;
        assert!(d["first_response_secs"].is_i64(), "[{b}] the answer is the first response: {d}");
        let (_, tl) = t.get(&t.staff_token, &format!("/api/v1/customers/{mobile}/timeline")).await;
        let kinds: Vec<&str> = tl["items"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
        assert!(kinds.contains(&"interaction:sms") && kinds.contains(&"sms_message:sent"), "[{b}] {kinds:?}");

        // A number nobody has: in the inbox, not answerable.
        let (s, _) = twilio_reply(c, &t.base, PUBLIC, TOKEN, "SMa2", "+817099998888", "どなたですか").await;
        assert_eq!(s, 200);
        let (_, list) = t.get(&t.staff_token, "/api/v1/conversations?view=all").await;
        let stranger =
            list["items"].as_array().unwrap().iter().find(|x| x["address"] == "+817099998888").cloned().unwrap();
        assert!(stranger["customer_id"].is_null(), "[{b}] {stranger}");
        let (_, d) = t.get(&t.staff_token, &format!("/api/v1/conversations/{}", stranger["id"])).await;
        assert_eq!(
            (d["can_reply"].as_bool(), d["thread"][0]["text"].as_str()),
            (Some(false), Some("どなたですか")),
            "[{b}] {d}"
        );
        // Added as a new customer from the conversation: the number is theirs, the text moves
        // to their timeline, and they can be answered. A retry makes no second customer.
        let adopt = format!("/api/v1/conversations/{}/customer", stranger["id"]);
        let (s, v) = t.post(&t.staff_token, &adopt, &json!({"family_name": "新規"})).await;
        assert_eq!(s, 201, "[{b}] {v}");
        let newcomer = v["customer_id"].as_i64().unwrap();
        let (s, v) = t.post(&t.staff_token, &adopt, &json!({"family_name": "新規"})).await;
        assert_eq!((s, v["customer_id"].as_i64()), (200, Some(newcomer)), "[{b}]");
        let (_, d) = t.get(&t.staff_token, &format!("/api/v1/conversations/{}", stranger["id"])).await;
        assert_eq!((d["customer_id"].as_i64(), d["can_reply"].as_bool()), (Some(newcomer), Some(true)), "[{b}] {d}");
        assert_eq!(d["thread"][0]["text"], "どなたですか", "[{b}] moved to the timeline: {d}");
        let (_, nc) = t.get(&t.staff_token, &format!("/api/v1/customers/{newcomer}")).await;
        assert_eq!(
            (nc["phone"].as_str(), nc["family_name"].as_str()),
            (Some("+817099998888"), Some("新規")),
            "[{b}] {nc}"
        );

        // 停止: SMS consent off, no conversation, nothing more is sent — not even by staff.
        let (s, _) = twilio_reply(c, &t.base, PUBLIC, TOKEN, "SMa3", "+819011112222", "停止").await;
        assert_eq!(s, 200);
        let consent = sms_consent(&t, mobile).await;
        assert_eq!(
            (consent["granted"].as_bool(), consent["source"].as_str()),
            (Some(false), Some("sms:stop")),
            "[{b}] {consent}"
        );
        let (s, v) = t.post(&t.staff_token, &path, &json!({"text": "まだ届きますか"})).await;
        assert_eq!((s, v["error"]["details"][0]["code"].as_str()), (422, Some("no_sms_phone")), "[{b}] {v}");
        let before = api.texts().len();
        let (_, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{night}/enrol"), &json!({"customer_id": mobile})).await;
        assert!(v["entered"].is_boolean());
        settle(&t).await;
        let rows = outbox(&t, &format!("&scenario_id={night}")).await;
        assert!(
            rows.iter().all(|m| m["state"] == "sent" || m["last_error"] == "SMS stopped by the customer"),
            "[{b}] {rows:?}"
        );
        assert_eq!(api.texts().len(), before, "[{b}] nothing after STOP");
        // 再開 turns it on again.
        twilio_reply(c, &t.base, PUBLIC, TOKEN, "SMa4", "+819011112222", "再開").await;
        assert_eq!(sms_consent(&t, mobile).await["granted"], true, "[{b}]");

        // The channels page: the gateway and the address to give it.
        let (_, ch) = t.get(&t.owner_token, "/api/v1/settings/channels").await;
        assert_eq!(
            (ch["sms"]["gateway"].as_str(), ch["sms"]["test_mode"].as_bool()),
            (Some("twilio"), Some(false)),
            "[{b}] {ch}"
        );
        assert_eq!(ch["sms"]["webhook_url"], format!("{PUBLIC}/webhooks/sms"), "[{b}]");
        assert_eq!(ch["sms"]["hours"], json!(["09:00", "20:00"]), "[{b}]");
        assert!(!ch.to_string().contains(TOKEN), "[{b}] never the token");
        assert!(ch["mail_replies"]["mailbox"].is_null(), "[{b}]");
        let (s, _) = t.post(&t.owner_token, "/api/v1/mail/replies/poll", &json!({})).await;
        assert_eq!(s, 404, "[{b}] no mailbox set");

        // The customer page: the number, a text box with the segments counted, test mode not said.
        let session = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = session.page(&format!("/customers/{mobile}")).await;
        assert!(html.contains("id=\"sms-send-form\"") && html.contains("090-1111-2222"), "[{b}]");
        assert!(!html.contains("id=\"sms-test-mode\""), "[{b}]");
        let (_, html) = session.page(&format!("/customers/{landline}")).await;
        assert!(!html.contains("id=\"sms-send-form\"") && html.contains("id=\"sms-state\""), "[{b}]");
        let (s, _, html) =
            session.post(&format!("/customers/{mobile}/sms-message"), &[("key", "ui-s1"), ("text", "")]).await;
        assert_eq!(s, 422, "[{b}]");
        assert!(common::field_error(&html, "sms-send-0-text").is_some(), "[{b}] said beside the text");
        let (s, location, _) = session
            .post(&format!("/customers/{mobile}/sms-message"), &[("key", "ui-s2"), ("text", "本日は臨時休業です")])
            .await;
        assert_eq!((s, location.as_str()), (303, format!("/customers/{mobile}?sms_sent=1#sms").as_str()), "[{b}]");
    }
}

#[tokio::test]
async fn a_json_gateway_gets_one_request_per_text_and_what_a_broadcast_costs_is_known_first() {
    for b in backends() {
        let api = SmsGateway::start(ACCOUNT, TOKEN);
        let clock = Clock::manual(tokyo_today_at(11, 0));
        let gateway = Gateway::Json {
            url: format!("{}/send", api.url),
            token: TOKEN.into(),
            template: joren_app::sms::DEFAULT_JSON_TEMPLATE.into(),
        };
        let t = spawn_sms(b, &clock, gateway).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            let phone = if i == 4 { "06-6123-4567".to_string() } else { format!("090-2000-{:04}", i) };
            let consent = i != 3;
            ids.push(
                t.customer(json!({"family_name": format!("客{i}"), "phone": phone, "tags": ["sms-test"], "consents": {"sms": consent}}))
                    .await,
            );
        }
        // The gateway takes the first text but the answer is lost: the retry's 409 for the
        // same Idempotency-Key counts as sent.
        api.plan(&[Fault::AcceptThenFail]);
        let (s, v) = t
            .post(&t.staff_token, &format!("/api/v1/customers/{}/sms-messages", ids[0]), &json!({"text": "ok?"}))
            .await;
        assert_eq!(s, 202, "[{b}] {v}");
        for _ in 0..3 {
            settle(&t).await;
            clock.advance(chrono::Duration::minutes(11));
        }
        let texts = api.texts();
        assert_eq!(texts.len(), 1, "[{b}] {texts:?}");
        assert_eq!((texts[0].to.as_str(), texts[0].body.as_str()), ("+819020000000", "ok?"));
        assert_eq!(texts[0].key.len(), 36, "[{b}] the message's key");
        assert_eq!(api.requests(), 2, "[{b}] the lost answer, then the 409");
        let rows = outbox(&t, "").await;
        assert_eq!(rows[0]["state"], "sent", "[{b}] {rows:?}");

        // A reply signed as the JSON gateway signs it.
        let body = json!({"id": "in-1", "from": "+819020000001", "text": "STOP"});
        let (s, v) = json_reply(&t.client, &t.base, "forged", &body).await;
        assert_eq!(s, 401, "[{b}] {v}");
        let (s, v) = json_reply(&t.client, &t.base, TOKEN, &body).await;
        assert_eq!(
            (s, v["consent"].as_bool(), v["to_customer"].as_bool()),
            (200, Some(false), Some(true)),
            "[{b}] {v}"
        );
        let (s, v) = json_reply(&t.client, &t.base, TOKEN, &body).await;
        assert_eq!((s, v["repeated"].as_bool()), (200, Some(true)), "[{b}] {v}");
        let (s, _) =
            json_reply(&t.client, &t.base, TOKEN, &json!({"id": "in-2", "from": "not a phone", "text": "x"})).await;
        assert_eq!(s, 400, "[{b}]");
        // A JSON gateway set up without a token: its replies cannot be told from anyone's.
        let open_gateway = Gateway::Json {
            url: format!("{}/send", api.url),
            token: String::new(),
            template: joren_app::sms::DEFAULT_JSON_TEMPLATE.into(),
        };
        let t2 = spawn_sms(b, &clock, open_gateway).await;
        let body = json!({"id": "in-3", "from": "+819020000001", "text": "停止"});
        let (s, _) = json_reply(&t2.client, &t2.base, "", &body).await;
        assert_eq!(s, 404, "[{b}] refused: no token to check the signature with");

        // What a text costs: 71 Japanese characters are two segments; over the segment, the
        // members a marketing text would reach (a mobile, SMS consent, no STOP).
        let (s, v) = t.post(&t.staff_token, "/api/v1/sms/estimate", &json!({"text": "あ".repeat(71)})).await;
        assert_eq!((s, v["segments"].as_u64(), v["encoding"].as_str()), (200, Some(2), Some("ucs2")), "[{b}] {v}");
        let (s, seg) = t
            .post(
                &t.staff_token,
                "/api/v1/segments",
                &json!({"name": "SMS 対象", "filter": {"field": "tags", "op": "contains", "value": "sms-test"}}),
            )
            .await;
        assert_eq!(s, 201, "[{b}] {seg}");
        let seg = seg["id"].as_i64().unwrap();
        let (_, v) =
            t.post(&t.staff_token, "/api/v1/sms/estimate", &json!({"text": "Sale today", "segment_id": seg})).await;
        // Five members: one fixed line, one without consent, one who replied STOP.
        assert_eq!(
            (v["members"].as_u64(), v["recipients"].as_u64(), v["segments"].as_u64()),
            (Some(5), Some(2), Some(1)),
            "[{b}] {v}"
        );
        assert_eq!(
            (v["encoding"].as_str(), v["cost_yen"].as_i64()),
            (Some("gsm7"), Some(20)),
            "[{b}] 2 × 1 × ¥10: {v}"
        );
        let (s, v) = t.post(&t.staff_token, "/api/v1/sms/estimate", &json!({"text": "x", "segment_id": 999999})).await;
        assert_eq!((s, v["error"]["details"][0]["field"].as_str()), (422, Some("segment_id")), "[{b}] {v}");

        // The scenario page says it before a broadcast.
        let id = scenario(
            &t,
            "一斉 SMS",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "sms", "text": "あ".repeat(100)}]}),
        )
        .await;
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/scenarios/{id}/sms-estimate?segment_id={seg}")).await;
        assert_eq!(
            (v[0]["step"].as_u64(), v[0]["segments"].as_u64(), v[0]["cost_yen"].as_i64()),
            (Some(0), Some(2), Some(40)),
            "[{b}] {v}"
        );
        let session = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = session.page(&format!("/scenarios/{id}?estimate={seg}")).await;
        assert!(html.contains("id=\"sms-estimate\""), "[{b}]");
        assert!(html.contains("2通分 × 2人 × 10円 = 40円"), "[{b}] worded on the page");
    }
}
