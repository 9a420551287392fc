//! When mail may go (issue #17): quiet hours across midnight and caps across scenarios, runs
//! that keep the version they entered, birthdays on 29 February and a stable holdout. Both
//! backends.

use super::*;

#[tokio::test]
async fn sends_wait_out_quiet_hours_and_caps_and_runs_keep_the_version_they_entered() {
    for b in backends() {
        let smtp = common::smtp::SmtpServer::start();
        // 22:30 in Tokyo: inside the quiet hours (21:00–09:00).
        let clock = Clock::manual(tokyo_today_at(22, 30));
        let t = spawn_mailing(b, &clock, &smtp).await;
        let c = mail_customer(&t, "quiet@example.jp", true).await;
        let no_consent = mail_customer(&t, "nobody@example.jp", false).await;
        let bounce = mail_customer(&t, "bounce@example.jp", true).await;
        let busy = mail_customer(&t, "busy@example.jp", true).await;
        let one = scenario(
            &t,
            "お知らせ1",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "email", "subject": "一通目", "body": "v1"}]}),
        )
        .await;
        let two = scenario(
            &t,
            "お知らせ2",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "email", "subject": "二通目", "body": "x"}]}),
        )
        .await;
        for who in [c, no_consent, bounce, busy] {
            let (s, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{one}/enrol"), &json!({"customer_id": who})).await;
            assert_eq!((s, v["entered"].as_bool()), (200, Some(true)), "[{b}] {v}");
        }
        let (_, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{two}/enrol"), &json!({"customer_id": c})).await;
        assert_eq!(v["entered"], true);
        settle(&t).await;
        assert!(smtp.received().is_empty(), "[{b}] nothing goes out at 22:30");
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?state=suppressed").await;
        assert_eq!(out["items"][0]["recipient"], "nobody@example.jp", "[{b}] no opt-in, no marketing mail: {out}");
        assert_eq!(out["items"][0]["last_error"], "no email consent");

        // 09:00 the next morning: the first mail goes; the second to the same customer waits
        // for the daily cap; the bounce is refused for good; the busy server is retried.
        clock.set(tokyo_today_at(9, 0) + chrono::Duration::days(1));
        settle(&t).await;
        let got: Vec<(String, String)> = smtp.received().iter().map(|m| (m.to[0].clone(), m.subject())).collect();
        assert_eq!(got.len(), 1, "[{b}] {got:?}");
        assert_eq!(got[0].0, "quiet@example.jp");
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?limit=50").await;
        let by = |to: &str, subject: &str| {
            out["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["recipient"] == to && m["subject"] == subject)
                .cloned()
                .unwrap()
        };
        let second = if got[0].1 == "一通目" { "二通目" } else { "一通目" };
        assert_eq!(by("quiet@example.jp", second)["last_error"], "frequency cap", "[{b}] {out}");
        assert_eq!(by("quiet@example.jp", second)["state"], "queued");
        assert_eq!(by("bounce@example.jp", "一通目")["state"], "failed", "[{b}] a 550 is final");
        assert_eq!(by("busy@example.jp", "一通目")["state"], "queued", "[{b}] a 451 is tried again");
        assert!(by("busy@example.jp", "一通目")["last_error"].as_str().unwrap().contains("451"));

        // A day later the capped mail goes; the bounced address is never mailed again.
        clock.advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
        let (_, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{two}/enrol"), &json!({"customer_id": bounce})).await;
        assert_eq!(v["entered"], true);
        settle(&t).await;
        let to_quiet = smtp.received().iter().filter(|m| m.to[0] == "quiet@example.jp").count();
        assert_eq!(to_quiet, 2, "[{b}] the capped mail went the next day");
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?state=suppressed&limit=50").await;
        assert!(
            out["items"].as_array().unwrap().iter().any(|m| m["recipient"] == "bounce@example.jp"
                && m["last_error"].as_str().unwrap().starts_with("undeliverable")),
            "[{b}] {out}"
        );

        // An edit while a run waits: the run finishes the version it entered.
        let wait = scenario(
            &t,
            "待ってから",
            json!({"trigger": {"kind": "manual"}, "steps": [
                {"type": "wait", "days": 1},
                {"type": "email", "subject": "版", "body": "一版", "marketing": false}
            ]}),
        )
        .await;
        let (_, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{wait}/enrol"), &json!({"customer_id": c})).await;
        assert_eq!(v["entered"], true);
        settle(&t).await;
        let (s, v) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/scenarios/{wait}"),
                &json!({"name": "待ってから", "definition": {"trigger": {"kind": "manual"}, "steps": [
                    {"type": "wait", "days": 1},
                    {"type": "email", "subject": "版", "body": "二版", "marketing": false}
                ]}}),
            )
            .await;
        assert_eq!((s, v["version"].as_i64()), (200, Some(2)), "[{b}] {v}");
        let other = mail_customer(&t, "other@example.jp", true).await;
        let (_, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{wait}/enrol"), &json!({"customer_id": other})).await;
        assert_eq!(v["entered"], true);
        settle(&t).await;
        clock.advance(chrono::Duration::days(1));
        settle(&t).await;
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={wait}")).await;
        let body = |to: &str| {
            out["items"].as_array().unwrap().iter().find(|m| m["recipient"] == to).unwrap()["body_text"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(body("quiet@example.jp").starts_with("一版"), "[{b}] entered version 1, finished version 1");
        assert!(body("other@example.jp").starts_with("二版"), "[{b}] entered version 2");

        // Unknown variables are refused when the scenario is saved, naming the field.
        let (s, v) = t
            .post(
                &t.staff_token,
                "/api/v1/scenarios",
                &json!({"name": "x", "definition": {"trigger": {"kind": "manual"}, "steps": [
                    {"type": "email", "subject": "{{ coupon_code }}", "body": "x"}]}}),
            )
            .await;
        assert_eq!(s, 422, "[{b}] {v}");
        assert!(v.to_string().contains("steps[0].subject"), "[{b}] {v}");
    }
}

#[tokio::test]
async fn birthdays_on_29_february_enter_on_the_28th_and_the_holdout_is_stable() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let today = t.app.today_date();
        // Today is someone's birthday; a 29 February birthday is also today in a year
        // without one when today is 28 February — checked by the engine's rule below.
        let born_today = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap().with_month_day(today);
        let hit = t
            .customer(json!({"family_name": "誕生", "email": "a@example.jp", "birthday": born_today.to_string()}))
            .await;
        let miss = t
            .customer(json!({"family_name": "別日", "email": "b@example.jp", "birthday": (born_today + chrono::Duration::days(1)).to_string()}))
            .await;
        let id = scenario(
            &t,
            "誕生日",
            json!({"trigger": {"kind": "birthday"}, "entry": {"rule": "once_per", "days": 300}, "steps": [
                {"type": "task", "task": "letter", "title": "誕生日カード"}
            ]}),
        )
        .await;
        assert_eq!(t.app.enrol_daily(today).await.unwrap(), 1, "[{b}]");
        assert_eq!(t.app.enrol_daily(today).await.unwrap(), 0, "[{b}] the same day again enrols nobody");
        settle(&t).await;
        let (_, tasks) = t.get(&t.staff_token, &format!("/api/v1/tasks?customer_id={hit}")).await;
        assert_eq!(tasks["items"][0]["kind"], "letter", "[{b}] {tasks}");
        let (_, none) = t.get(&t.staff_token, &format!("/api/v1/tasks?customer_id={miss}")).await;
        assert_eq!(none["items"], json!([]));
        // 29 February in a year without one: on the 28th.
        let leap = t.customer(json!({"family_name": "閏", "birthday": "2004-02-29"})).await;
        let feb28 = chrono::NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
        assert_eq!(t.app.enrol_daily(feb28).await.unwrap(), 1, "[{b}]");
        let (_, runs) = t.get(&t.staff_token, &format!("/api/v1/customers/{leap}/runs")).await;
        assert_eq!(runs["items"].as_array().unwrap().len(), 1, "[{b}] {runs}");
        assert_eq!(runs["items"][0]["occurrence"], "day:2027-02-28", "[{b}]");

        // Holdout: 30 % of a broadcast kept out, drawn by a stable hash and recorded.
        for i in 0..60 {
            t.customer(
                json!({"family_name": format!("対照{i}"), "email": format!("h{i}@example.jp"), "tags": ["対象"]}),
            )
            .await;
        }
        let held = scenario(
            &t,
            "対照群つき",
            json!({"trigger": {"kind": "manual"}, "holdout_percent": 30, "steps": [{"type": "tag", "add": "届いた"}]}),
        )
        .await;
        let (s, seg) = t
            .post(
                &t.staff_token,
                "/api/v1/segments",
                &json!({"name": "全員", "filter": {"all": [{"field": "tags", "op": "contains", "value": "対象"}]}}),
            )
            .await;
        assert_eq!(s, 201, "{seg}");
        let (s, v) = t
            .post(&t.staff_token, &format!("/api/v1/scenarios/{held}/broadcast"), &json!({"segment_id": seg["id"]}))
            .await;
        assert_eq!(s, 200, "[{b}] {v}");
        settle(&t).await;
        let (_, report) = t.get(&t.staff_token, &format!("/api/v1/scenarios/{held}")).await;
        let count = |state: &str| {
            report["runs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["state"] == state)
                .map(|r| r["count"].as_i64().unwrap())
                .sum::<i64>()
        };
        let everyone = v["entered"].as_i64().unwrap();
        assert_eq!(everyone, 60, "[{b}] every member entered");
        let members: Vec<i64> = (leap + 1..=leap + 60).collect();
        let expected_control =
            members.iter().filter(|c| joren_core::scenario::in_holdout(held, **c, 30)).count() as i64;
        assert_eq!(count("control"), expected_control, "[{b}] {report}");
        assert!(count("control") > 0 && count("done") > 0, "[{b}] {v} {report}");
        assert_eq!(count("control") + count("done"), everyone);
        for (cid, is_control) in members.iter().map(|c| (*c, joren_core::scenario::in_holdout(held, *c, 30))) {
            let (_, cust) = t.get(&t.staff_token, &format!("/api/v1/customers/{cid}")).await;
            let tagged = cust["tags"].as_array().unwrap().iter().any(|x| x == "届いた");
            assert_eq!(tagged, !is_control, "[{b}] customer {cid}: the control group is sent nothing");
        }
        // The report waits until each run's window has ended, then says honestly that 60
        // customers are too few to tell.
        let (_, up) = t.get(&t.staff_token, &format!("/api/v1/scenarios/{held}/uplift?window_days=30")).await;
        assert_eq!((up["treated_n"].as_i64(), up["still_in_window"].as_i64()), (Some(0), Some(60)), "[{b}] {up}");
        clock.advance(chrono::Duration::days(31));
        let (_, up) = t.get(&t.staff_token, &format!("/api/v1/scenarios/{held}/uplift?window_days=30")).await;
        assert_eq!(up["treated_n"].as_i64().unwrap() + up["control_n"].as_i64().unwrap(), 60, "[{b}] {up}");
        assert_eq!(up["control_n"].as_i64().unwrap(), expected_control);
        assert_eq!(up["verdict"], "too_small", "[{b}] {up}");
        let (s, _) = t.get(&t.staff_token, &format!("/api/v1/scenarios/{held}/uplift?window_days=0")).await;
        assert_eq!(s, 422);
        let staff = common::Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/scenarios/{held}")).await;
        assert!(html.contains("まだ人数が少なく"), "[{b}] the page says so in words");
        let _ = id;
    }
}

/// Test-mode mail is never handed to a transport: messages decided in test mode and held by the
/// quiet hours are kept as sent, not mailed, after the owner switches to SMTP; nothing leaves,
/// so they are claimed in one large batch, while live mail is claimed `DELIVERY_BATCH` at a
/// time (the most a crash can send twice).
#[tokio::test]
async fn test_mode_mail_stays_unsent_after_a_switch_to_smtp_and_only_live_mail_goes_in_small_batches() {
    let live_batch = joren_app::mail::DELIVERY_BATCH as usize;
    let n = live_batch + 10;
    for b in backends() {
        let smtp = common::smtp::SmtpServer::start();
        let clock = Clock::manual(tokyo_today_at(22, 30));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        assert!(t.app.mail().test_mode(), "[{b}] test mode by default");
        let mut customers = Vec::new();
        for i in 0..n {
            customers.push(mail_customer(&t, &format!("batch{i}@example.jp"), true).await);
        }
        let news = scenario(
            &t,
            "お知らせ",
            json!({"trigger": {"kind": "manual"}, "steps": [{"type": "email", "subject": "新商品", "body": "本文"}]}),
        )
        .await;
        for c in &customers {
            let (s, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{news}/enrol"), &json!({"customer_id": c})).await;
            assert_eq!((s, v["entered"].as_bool()), (200, Some(true)), "[{b}] {v}");
        }
        settle(&t).await;
        let (_, out) = t.get(&t.staff_token, "/api/v1/outbox?state=queued&limit=100").await;
        let queued = out["items"].as_array().unwrap();
        assert_eq!(queued.len(), n, "[{b}] held by the quiet hours: {out}");
        assert!(queued.iter().all(|m| m["test_mode"] == true), "[{b}] {out}");

        // The owner switches to the SMTP server before the morning.
        let port = smtp.url().split(':').nth(2).unwrap().split('?').next().unwrap().to_string();
        let settings = json!({"mode": "smtp", "host": "127.0.0.1", "port": port.parse::<i64>().unwrap(),
            "security": "none", "from_address": "info@kissa.example.jp", "shop_name": "喫茶ジョーレン",
            "postal_address": "〒600-8001 京都府京都市下京区四条通1-1", "quiet_from": "21:00",
            "quiet_until": "09:00", "max_per_day": 5, "max_per_week": 10});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/mail", &settings).await;
        assert_eq!(s, 200, "[{b}] {v}");
        assert!(!t.app.mail().test_mode(), "[{b}]");
        clock.set(tokyo_today_at(9, 0) + chrono::Duration::days(1));
        assert_eq!(t.app.deliver_messages().await.unwrap(), n, "[{b}] every test-mode message in one claim");
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={news}&limit=100")).await;
        let items = out["items"].as_array().unwrap();
        assert!(
            items.len() == n
                && items.iter().all(|m| m["state"] == "sent" && m["message_id"].as_str().unwrap().starts_with("test:")),
            "[{b}] kept as sent in test mode: {out}"
        );
        assert!(smtp.received().is_empty(), "[{b}] a test-mode message is never mailed");

        // Mail decided now is live: one claim takes at most the live batch.
        let thanks = scenario(
            &t,
            "ご案内",
            json!({"trigger": {"kind": "manual"},
                   "steps": [{"type": "email", "subject": "ご案内", "body": "本文", "marketing": false}]}),
        )
        .await;
        for c in &customers {
            let (s, v) =
                t.post(&t.staff_token, &format!("/api/v1/scenarios/{thanks}/enrol"), &json!({"customer_id": c})).await;
            assert_eq!((s, v["entered"].as_bool()), (200, Some(true)), "[{b}] {v}");
        }
        assert_eq!(t.app.advance_due_runs().await.unwrap(), n, "[{b}]");
        assert_eq!(t.app.deliver_messages().await.unwrap(), live_batch, "[{b}] one live batch");
        assert_eq!(smtp.received().len(), live_batch, "[{b}]");
        assert_eq!(t.app.deliver_messages().await.unwrap(), n - live_batch, "[{b}] the rest");
        assert_eq!(smtp.received().len(), n, "[{b}] each once");
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={thanks}&limit=100")).await;
        assert!(
            out["items"].as_array().unwrap().iter().all(|m| m["state"] == "sent" && m["test_mode"] == false),
            "[{b}] {out}"
        );
    }
}
