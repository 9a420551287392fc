//! Surveys (issue #20, both backends): a scenario's step mails a survey over SMTP with the
//! first question's scores as links; the link's page answers it once (a second answer counts
//! once, a forged or expired link is refused); the answer raises `survey.answered` — a
//! scenario reacts to it and the programme's survey bonus is granted once — and shows in the
//! scores, the months, the response rate and the searchable answers. Staff send one by hand,
//! once per Idempotency-Key.

use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::{Value, json};

use super::common::{self, TestApp, backends, spawn_with};
use super::{kinds, place_order, scenario, settle, tokyo_today_at};

const PUBLIC: &str = "https://shop.example.jp";

async fn spawn_surveying(b: &'static str, clock: &Clock, smtp: &common::smtp::SmtpServer) -> TestApp {
    let mut config = AppConfig { clock: clock.clone(), ..AppConfig::default() };
    config.mail = joren_app::mail::MailConfig {
        transport: joren_app::mail::MailConfig::parse_transport(&smtp.url()).unwrap(),
        from_address: "info@kissa.example.jp".into(),
        shop_name: "喫茶ジョーレン".into(),
        public_url: PUBLIC.into(),
        ..Default::default()
    };
    spawn_with(b, config).await
}

/// The survey token in a text (`…/s/{32 hex}`).
fn token_in(text: &str) -> String {
    let at = text.find(&format!("{PUBLIC}/s/")).unwrap_or_else(|| panic!("no survey link in {text}"));
    text[at + PUBLIC.len() + 3..].chars().take_while(char::is_ascii_hexdigit).collect()
}

async fn page(t: &TestApp, path: &str) -> (u16, String) {
    let r = t.client.get(format!("{}{path}", t.base)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn answer(t: &TestApp, token: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = t.client.post(format!("{}/s/{token}", t.base)).form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn responses(t: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/survey-responses?{query}")).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_scenario_mails_a_survey_answered_once_by_its_link_and_scored() {
    for b in backends() {
        let smtp = common::smtp::SmtpServer::start();
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_surveying(b, &clock, &smtp).await;
        // The programme's survey bonus: 50 points an answer.
        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        p["survey_bonus"] = json!(50);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "[{b}] {v}");

        // A survey with a follow-up asked only after a low score; refused shapes are named.
        let (s, v) = t
            .post(
                &t.staff_token,
                "/api/v1/surveys",
                &json!({"name": "壊れた", "title": "x", "questions": [
                    {"key": "csat", "text": "満足度", "type": "csat"},
                    {"key": "pick", "text": "どれ", "type": "single", "choices": ["A"]}
                ]}),
            )
            .await;
        assert_eq!(s, 422, "[{b}] {v}");
        assert!(v.to_string().contains("questions[1].choices"), "[{b}] {v}");
        let (s, survey) = t.post(&t.staff_token, "/api/v1/surveys/ready", &json!({"code": "csat"})).await;
        assert_eq!(s, 201, "[{b}] {survey}");
        let survey_id = survey["id"].as_i64().unwrap();
        assert_eq!(survey["questions"][0]["key"], "csat", "[{b}] {survey}");

        let c = t
            .customer(json!({"family_name": "佐藤", "given_name": "花子", "email": "hanako@example.jp", "consents": {"email": true}}))
            .await;
        scenario(
            &t,
            "購入後アンケート",
            json!({"trigger": {"kind": "order_placed"}, "steps": [
                {"type": "survey", "survey_id": survey_id, "subject": "{{ name }}、アンケートのお願い", "text": "{{ name }}\nご感想をお聞かせください。"}
            ]}),
        )
        .await;
        // Another scenario reacts to any answer.
        scenario(
            &t,
            "回答のお礼",
            json!({"trigger": {"kind": "survey_answered"}, "steps": [{"type": "tag", "add": "アンケート回答"}]}),
        )
        .await;
        place_order(&t, c).await;
        settle(&t).await;
        let mails = smtp.received();
        assert_eq!(mails.len(), 1, "[{b}] one survey mail");
        assert_eq!(mails[0].subject(), "佐藤 花子 様、アンケートのお願い", "[{b}] {:?}", mails[0].header("Subject"));
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?limit=10").await;
        let text = out["items"][0]["body_text"].as_str().unwrap().to_string();
        let html = out["items"][0]["body_html"].as_str().unwrap().to_string();
        let token = token_in(&text);
        assert_eq!(token.len(), 32, "[{b}] {text}");
        assert!(text.contains("今回のお買い物に、どのくらい満足されましたか?"), "[{b}] the first question: {text}");
        for score in 1..=5 {
            assert!(html.contains(&format!("{PUBLIC}/s/{token}?csat={score}")), "[{b}] score link {score}: {html}");
        }
        assert!(!html.contains("?csat=6"), "[{b}]");
        // Running again sends nothing more and makes no second invitation.
        settle(&t).await;
        assert_eq!(smtp.received().len(), 1, "[{b}]");

        // Opening a score link records nothing: it chooses the score on the page.
        let (s, body) = page(&t, &format!("/s/{token}?csat=2")).await;
        assert_eq!(s, 200, "[{b}]");
        assert!(body.contains(r#"id="q-csat-2" checked"#), "[{b}] the score from the mail comes chosen");
        assert!(responses(&t, &format!("survey_id={survey_id}")).await.is_empty(), "[{b}] nothing recorded by a GET");
        // A low score must say what disappointed (the follow-up is asked); the score stays.
        let (s, body) = answer(&t, &token, &[("csat", "2")]).await;
        assert_eq!(s, 422, "[{b}]");
        assert!(body.contains(r#"id="q-complaint-error""#), "[{b}] the follow-up is named");
        assert!(body.contains(r#"id="q-csat-2" checked"#), "[{b}] what was chosen is kept");
        // Full-width digits read; text is trimmed.
        let (s, body) =
            answer(&t, &token, &[("csat", "２"), ("complaint", " 届くのが遅かった "), ("best", "価格")]).await;
        assert_eq!(s, 200, "[{b}] {body}");
        assert!(body.contains(r#"id="survey-done""#), "[{b}]");
        // Answered twice: counted once, the second changes nothing.
        let (s, _) = answer(&t, &token, &[("csat", "5")]).await;
        assert_eq!(s, 200, "[{b}]");
        let (_, body) = page(&t, &format!("/s/{token}")).await;
        assert!(body.contains(r#"id="survey-answered""#), "[{b}]");
        let rs = responses(&t, &format!("survey_id={survey_id}")).await;
        assert_eq!(rs.len(), 1, "[{b}] one response per invitation");
        assert_eq!(rs[0]["csat"], 2, "[{b}] {rs:?}");
        assert_eq!(rs[0]["answers"]["complaint"], "届くのが遅かった", "[{b}] trimmed");
        assert_eq!(rs[0]["answers"]["best"], json!(["価格"]), "[{b}]");

        // A forged or malformed token is not found.
        for bad in ["0123456789abcdef0123456789abcdef", "nope", &token[..31]] {
            let (s, _) = page(&t, &format!("/s/{bad}")).await;
            assert_eq!(s, 404, "[{b}] {bad}");
            let (s, _) = answer(&t, bad, &[("csat", "5")]).await;
            assert_eq!(s, 404, "[{b}] {bad}");
        }

        // The answer's event: the reacting scenario tags, the bonus is granted once.
        settle(&t).await;
        settle(&t).await;
        let (k, _) = kinds(&t, c).await;
        assert_eq!(k.iter().filter(|k| *k == "survey.answered").count(), 1, "[{b}] {k:?}");
        let (_, cust) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}")).await;
        assert!(cust["tags"].as_array().unwrap().contains(&json!("アンケート回答")), "[{b}] {cust}");
        let (_, pts) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/points")).await;
        let bonus: Vec<&Value> = pts["lots"].as_array().unwrap().iter().filter(|l| l["source"] == "bonus").collect();
        assert_eq!(bonus.len(), 1, "[{b}] one bonus: {pts}");
        assert_eq!(bonus[0]["granted"], json!(50), "[{b}]");

        // The unhappy answer (CSAT 2) opened a complaint case, once, with what they wrote.
        let (_, cases) = t.get(&t.staff_token, &format!("/api/v1/cases?customer_id={c}")).await;
        let cases = cases.as_array().unwrap();
        assert_eq!(cases.len(), 1, "[{b}] {cases:?}");
        assert_eq!((&cases[0]["source"], &cases[0]["response_id"]), (&json!("survey"), &rs[0]["id"]), "[{b}]");
        assert!(cases[0]["due_at_ms"].is_i64(), "[{b}] the 24-hour rule runs");
        let (_, k) = t.get(&t.staff_token, &format!("/api/v1/cases/{}", cases[0]["id"])).await;
        assert_eq!(k["steps"][0]["note"], "届くのが遅かった", "[{b}] {k}");

        // Searchable written answers, by NPS group too.
        assert_eq!(responses(&t, "q=遅かった").await.len(), 1, "[{b}]");
        assert_eq!(responses(&t, "q=早い").await.len(), 0, "[{b}]");
        assert_eq!(responses(&t, "group=unhappy").await.len(), 1, "[{b}]");
        assert_eq!(responses(&t, "group=promoter").await.len(), 0, "[{b}]");

        // Staff send one by hand: a plain link, once per key; unreachable channels refused.
        let path = format!("/api/v1/surveys/{survey_id}/send");
        let (s, first, _) = t.post_keyed(&path, Some("hand-1"), &json!({"customer_id": c, "channel": "link"})).await;
        assert_eq!(s, 201, "[{b}] {first}");
        let (s, again, _) = t.post_keyed(&path, Some("hand-1"), &json!({"customer_id": c, "channel": "link"})).await;
        assert_eq!((s, &again["invitation_id"]), (200, &first["invitation_id"]), "[{b}] {again}");
        let (s, v, _) = t.post_keyed(&path, Some("hand-2"), &json!({"customer_id": c, "channel": "sms"})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (422, Some("validation_failed")), "[{b}] {v}");
        assert!(v.to_string().contains("no_sms_phone"), "[{b}] {v}");
        let hand_token = token_in(first["url"].as_str().unwrap());

        // The report: one answer of two sent this month, CSAT 2 misses its target.
        let (s, r) = t.get(&t.staff_token, &format!("/api/v1/surveys/{survey_id}/report?months=3")).await;
        assert_eq!(s, 200, "[{b}] {r}");
        assert_eq!((r["sent"].as_u64(), r["responses"].as_u64()), (Some(2), Some(1)), "[{b}] {r}");
        assert_eq!(r["response_rate"], 0.5, "[{b}]");
        assert_eq!((r["csat"]["mean"].as_f64(), &r["csat_met"]), (Some(2.0), &json!(false)), "[{b}]");
        assert_eq!(r["nps"]["score"], Value::Null, "[{b}] no NPS asked, no NPS");
        assert_eq!(r["months"].as_array().unwrap().len(), 3, "[{b}]");
        let by_scenario = r["breakdowns"].as_array().unwrap().iter().find(|x| x["by"] == "scenario").unwrap();
        assert_eq!(by_scenario["rows"][0]["label"], "購入後アンケート", "[{b}] {by_scenario}");
        let by_product = r["breakdowns"].as_array().unwrap().iter().find(|x| x["by"] == "product").unwrap();
        let blend = by_product["rows"].as_array().unwrap().iter().find(|r| r["label"] == "ブレンド 200g");
        assert_eq!(blend.map(|r| &r["csat"]), Some(&json!(2.0)), "[{b}] the order's products: {by_product}");

        // Past its date, a link is refused and says so.
        clock.advance(chrono::Duration::days(31));
        let (_, body) = page(&t, &format!("/s/{hand_token}")).await;
        assert!(body.contains(r#"id="survey-expired""#), "[{b}]");
        let (s, _) = answer(&t, &hand_token, &[("csat", "5")]).await;
        assert_eq!(s, 409, "[{b}]");
        assert_eq!(responses(&t, &format!("survey_id={survey_id}")).await.len(), 1, "[{b}]");

        // An archived survey is not sent.
        let (s, _) =
            t.post(&t.staff_token, &format!("/api/v1/surveys/{survey_id}/archive"), &json!({"archived": true})).await;
        assert_eq!(s, 200, "[{b}]");
        let (s, v, _) = t.post_keyed(&path, Some("hand-3"), &json!({"customer_id": c, "channel": "link"})).await;
        assert_eq!((s, v["error"]["reason"].as_str()), (409, Some("survey_archived")), "[{b}] {v}");
    }
}

/// The survey pages as a shop owner uses them: a ready survey in one click, the editor that
/// adds a follow-up asked only after a low score and keeps what was typed when refused, a
/// survey sent by hand as a link from the results page, and the results with the target.
#[tokio::test]
async fn the_survey_pages_make_edit_send_and_show_results() {
    for b in backends() {
        let smtp = common::smtp::SmtpServer::start();
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_surveying(b, &clock, &smtp).await;
        let web = common::Session { t: &t, cookie: t.login_cookie("owner").await };
        let (s, html) = web.page("/surveys").await;
        assert_eq!(s, 200, "[{b}]");
        assert!(html.contains(r#"id="no-surveys""#) && html.contains(r#"id="ready-nps""#), "[{b}]");
        let (s, to, _) = web.post("/surveys/ready", &[("code", "nps")]).await;
        assert_eq!(s, 303, "[{b}]");
        let id: i64 = to.trim_start_matches("/surveys/").split('/').next().unwrap().parse().unwrap();
        let (_, html) = web.page(&to).await;
        assert!(html.contains("当店を友人や知人にすすめる可能性"), "[{b}] the ready questions are in the editor");

        // A new survey: an NPS question, a choice with one choice only (refused), a follow-up.
        let form = [
            ("name", "来店アンケート"),
            ("title", "ご来店ありがとうございました"),
            ("valid_days", "１４"),
            ("q0.kind", "nps"),
            ("q0.text", "おすすめしたいですか?"),
            ("q0.required", "1"),
            ("q1.kind", "single"),
            ("q1.text", "目的は?"),
            ("q1.choices", "食事"),
            ("q2.kind", "text"),
            ("q2.text", "何が残念でしたか?"),
            ("q2.show_q", "q1"),
            ("q2.show_max", "6"),
            ("op", "save"),
        ];
        let (s, _, html) = web.post("/surveys/new", &form).await;
        assert_eq!(s, 422, "[{b}]");
        assert!(html.contains("何が残念でしたか?") && html.contains("来店アンケート"), "[{b}] kept as typed");
        assert!(html.contains("2〜20 で指定してください"), "[{b}] the choices' problem is beside them");
        let mut fixed = form.to_vec();
        fixed.retain(|(k, _)| *k != "q1.choices");
        fixed.push(("q1.choices", "食事\n喫茶"));
        let (s, to, _) = web.post("/surveys/new", &fixed).await;
        assert_eq!(s, 303, "[{b}] {to}");
        let new_id: i64 = to.trim_start_matches("/surveys/").split('/').next().unwrap().parse().unwrap();
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/surveys/{new_id}")).await;
        assert_eq!(v["valid_days"], 14, "[{b}] full-width digits read: {v}");
        assert_eq!(v["questions"][2]["show_if"], json!({"question": "q1", "at_most": 6}), "[{b}] {v}");
        assert_eq!(v["questions"][1]["choices"], json!(["食事", "喫茶"]), "[{b}]");

        // Sent by hand as a link from the results page, answered as a detractor.
        let c = t.customer(json!({"family_name": "山田", "given_name": "一郎", "phone": "090-1234-0000"})).await;
        let (s, _, html) = web
            .post(&format!("/surveys/{id}/send"), &[("customer", &c.to_string()), ("channel", "link"), ("key", "k1")])
            .await;
        assert_eq!(s, 200, "[{b}]");
        let token = token_in(&html);
        let (s, _) = answer(&t, &token, &[("nps", "3"), ("better", "待ち時間が長い")]).await;
        assert_eq!(s, 200, "[{b}]");
        let (s, _, html) = web
            .post(&format!("/surveys/{id}/send"), &[("customer", "99999"), ("channel", "link"), ("key", "k2")])
            .await;
        assert_eq!(s, 422, "[{b}]");
        assert!(html.contains(r#"id="send-error""#), "[{b}] an unknown customer is named beside the field");

        let (_, html) = web.page(&format!("/surveys/{id}")).await;
        assert!(html.contains(r#"id="kpi-nps-missed""#), "[{b}] NPS −100 misses the target of 50");
        assert!(
            html.contains("待ち時間が長い") && html.contains(&format!("/customers/{c}")),
            "[{b}] the answer, a click from its customer"
        );
        let (_, html) = web.page(&format!("/surveys/{id}?q=駐車場")).await;
        assert!(html.contains(r#"id="no-answers""#), "[{b}] the search finds nothing else");
        let (_, html) = web.page("/surveys").await;
        assert!(html.contains("来店アンケート") && html.contains("100%"), "[{b}] one of one answered");

        // The customer page: the answer, and a survey sent from there.
        let (_, html) = web.page(&format!("/customers/{c}")).await;
        let panel = html.split(r#"id="surveys""#).nth(1).unwrap_or_default();
        assert!(panel.contains("待ち時間が長い") && panel.contains("NPS 3"), "[{b}] the answer on the customer page");
        let sid = id.to_string();
        let (s, _, html) =
            web.post(&format!("/customers/{c}/survey"), &[("survey", &sid), ("channel", "email"), ("key", "c1")]).await;
        assert_eq!(s, 422, "[{b}] no address to mail");
        assert!(html.contains("メールアドレスがない"), "[{b}] said beside the form");
        let (s, to, _) =
            web.post(&format!("/customers/{c}/survey"), &[("survey", &sid), ("channel", "link"), ("key", "c2")]).await;
        assert_eq!(s, 303, "[{b}]");
        let (_, html) = web.page(&to).await;
        assert!(html.contains(r#"id="survey-link""#) && html.contains("/s/"), "[{b}] the link to hand over");
    }
}

/// A survey on LINE: the first question's scores go as quick-reply buttons; tapping one
/// records the score (once, however often LINE redelivers it) and sends the link for the rest,
/// which the page completes without asking the score again; the tap is not an inbox message.
#[tokio::test]
async fn a_line_survey_is_answered_by_a_button_and_finished_on_the_page() {
    use super::common::line_api::LineApi;
    use super::line::{SECRET, deliver, event};
    use super::line_push::{TOKEN, spawn_line};
    const USER: &str = "U00000000000000000000000000000e01";
    for b in backends() {
        let api = LineApi::start(TOKEN);
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_line(b, &clock, Some(&api)).await;
        let c = t.customer(json!({"family_name": "友達", "given_name": "花子", "line_user_id": USER})).await;
        let now = chrono::Utc::now().timestamp_millis();
        let (s, _) = deliver(&t, &[event("follow-1", "follow", Some(USER), now, json!({}))], Some(SECRET)).await;
        assert_eq!(s, 200, "[{b}]");
        let (_, survey) = t.post(&t.staff_token, "/api/v1/surveys/ready", &json!({"code": "nps"})).await;
        let id = survey["id"].as_i64().unwrap();
        let (s, sent, _) = t
            .post_keyed(
                &format!("/api/v1/surveys/{id}/send"),
                Some("line-1"),
                &json!({"customer_id": c, "channel": "line"}),
            )
            .await;
        assert_eq!(s, 201, "[{b}] {sent}");
        settle(&t).await;
        let pushes = api.pushes();
        assert_eq!(pushes.len(), 1, "[{b}]");
        let items = pushes[0].messages[1]["quickReply"]["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 11, "[{b}] 0 to 10: {:?}", pushes[0].messages);
        let data = items[9]["action"]["data"].as_str().unwrap().to_string();
        assert!(data.ends_with("&nps=9"), "[{b}] {data}");

        // The tap, delivered twice.
        let tap = event("tap-1", "postback", Some(USER), now, json!({"postback": {"data": data}, "replyToken": "r"}));
        assert_eq!(deliver(&t, std::slice::from_ref(&tap), Some(SECRET)).await.0, 200, "[{b}]");
        assert_eq!(deliver(&t, &[tap], Some(SECRET)).await.0, 200, "[{b}]");
        let (_, rs) = t.get(&t.staff_token, &format!("/api/v1/survey-responses?survey_id={id}")).await;
        assert_eq!(rs.as_array().unwrap().len(), 1, "[{b}] {rs}");
        assert_eq!((&rs[0]["nps"], &rs[0]["complete"]), (&json!(9), &json!(false)), "[{b}] the first answer");
        let (_, conversations) = t.get(&t.staff_token, "/api/v1/conversations").await;
        assert!(!conversations.to_string().contains("survey="), "[{b}] not an inbox message: {conversations}");
        settle(&t).await;
        let pushes = api.pushes();
        assert_eq!(pushes.len(), 2, "[{b}] the link for the rest, once");
        let rest = pushes[1].messages[0]["text"].as_str().unwrap();
        let token =
            rest[rest.find("/s/").unwrap() + 3..].chars().take_while(char::is_ascii_hexdigit).collect::<String>();
        // The page keeps the 9 and takes the rest.
        let (_, body) = page(&t, &format!("/s/{token}")).await;
        assert!(body.contains(r#"id="q-nps-fixed""#), "[{b}] the score is not asked again");
        let (s, _) = answer(&t, &token, &[("nps", "9"), ("why", "店員さんが親切")]).await;
        assert_eq!(s, 200, "[{b}]");
        let (_, rs) = t.get(&t.staff_token, &format!("/api/v1/survey-responses?survey_id={id}")).await;
        assert_eq!((&rs[0]["complete"], &rs[0]["answers"]["why"]), (&json!(true), &json!("店員さんが親切")), "[{b}]");
        let (k, _) = super::kinds(&t, c).await;
        assert_eq!(k.iter().filter(|k| *k == "survey.answered").count(), 1, "[{b}] one answer event: {k:?}");
    }
}

/// Beside the scores, the retention targets from the order log: of five customers active 30
/// days ago (a purchase within a year), one whose only purchase was 380 days ago has lapsed —
/// monthly churn 20 %, over the 5 % target; two of the five bought twice — a 40 % repeat rate,
/// against the range of the industry the owner chose.
#[tokio::test]
async fn monthly_churn_and_the_repeat_rate_stand_beside_the_scores_with_their_targets() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let today = t.app.today_date();
        let order_on = |c: i64, days_ago: u64| {
            let mut body = common::order_body(c, None, 1200);
            body["ordered_at"] = json!(format!("{}T12:00:00+09:00", today - chrono::Days::new(days_ago)));
            body
        };
        let (_, r) = t.get(&t.staff_token, "/api/v1/survey-report").await;
        assert_eq!(
            (&r["retention"]["monthly_churn"], &r["retention"]["churn_met"]),
            (&Value::Null, &Value::Null),
            "[{b}] {r}"
        );
        for (i, days) in [vec![200, 100], vec![200, 150], vec![200], vec![180], vec![380]].into_iter().enumerate() {
            let c = t.customer(json!({"family_name": "維持", "phone": format!("090-7400-000{i}")})).await;
            for d in days {
                let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order_on(c, d)).await;
                assert_eq!(s, 201, "[{b}] {v}");
            }
        }
        let (s, r) = t.get(&t.staff_token, "/api/v1/survey-report").await;
        assert_eq!(s, 200, "[{b}] {r}");
        let k = &r["retention"];
        assert_eq!((k["monthly_churn"].as_f64(), &k["churn_met"]), (Some(20.0), &json!(false)), "[{b}] {r}");
        assert_eq!((k["repeat_rate"].as_f64(), &k["repeat_met"]), (Some(40.0), &Value::Null), "[{b}] no industry yet");
        let owner = common::Session { t: &t, cookie: t.login_cookie("owner").await };
        for (industry, met) in [("beauty", true), ("b2b", false)] {
            let (s, _, _) = owner.post("/settings/industry", &[("industry", industry)]).await;
            assert_eq!(s, 303, "[{b}]");
            let (_, r) = t.get(&t.staff_token, "/api/v1/survey-report").await;
            assert_eq!(
                (&r["retention"]["industry"], &r["retention"]["repeat_met"]),
                (&json!(industry), &json!(met)),
                "[{b}] {r}"
            );
        }
        // On a survey's page, as two more cards with their targets.
        let (_, survey) = t.post(&t.staff_token, "/api/v1/surveys/ready", &json!({"code": "nps"})).await;
        let (_, html) = owner.page(&format!("/surveys/{}", survey["id"])).await;
        assert!(html.contains(r#"id="kpi-churn-missed""#) && html.contains("20.0%"), "[{b}]");
        assert!(html.contains(r#"id="kpi-repeat-missed""#) && html.contains("70–90% (B2B サービス)"), "[{b}]");
    }
}
