//! The mail settings (issue #17): the page, the API, and every process following a change.
//! Both backends.

use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::json;

use super::common::{self, backends, spawn_with};
use super::{spawn_mailing, tokyo_today_at};

/// The owner changes how mail goes out on the page: a refused form keeps what was typed with
/// each error beside its field; saved settings (full-width digits read) take the place of the
/// start-up flags in this process and in another one on the same database at its next pass; a
/// test mail then goes through the saved SMTP server with the saved sender; a reset goes back
/// to the flags; staff cannot save.
#[tokio::test]
async fn the_owner_changes_the_mail_settings_on_the_page_and_every_process_follows() {
    for b in backends() {
        let smtp = common::smtp::SmtpServer::start();
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let other = joren_app::App::open(
            &t.database_url,
            AppConfig { clock: clock.clone(), background_jobs: false, ..AppConfig::default() },
        )
        .await
        .unwrap();
        let owner = common::Session { t: &t, cookie: t.login_cookie("owner").await };
        let (_, html) = owner.page("/settings/mail").await;
        assert!(html.contains("id=\"mail-mode-test\" checked"), "[{b}] test mode from the flags: {html}");
        assert!(html.contains("起動時のオプション"), "[{b}]");

        let mut form = vec![
            ("mode", "smtp"),
            ("host", ""),
            ("port", "７００００"),
            ("security", "none"),
            ("from_address", "info@"),
            ("shop_name", "喫茶ジョーレン"),
            ("postal_address", "〒600-8001 京都府京都市下京区四条通1-1"),
            ("quiet_from", "25:00"),
            ("quiet_until", "９:００"),
            ("max_per_day", "１"),
            ("max_per_week", "3"),
        ];
        let (status, _, html) = owner.post("/settings/mail", &form).await;
        assert_eq!(status, 422, "[{b}] {html}");
        for (field, error) in [
            ("host", "入力してください"),
            ("port", "1〜65535 で指定してください"),
            ("from_address", "メールアドレスの形式が正しくありません: info@"),
            ("quiet_from", "時刻は HH:MM で入力してください"),
        ] {
            let at = html.split(&format!("id=\"mail-{field}\"")).nth(1).unwrap();
            assert!(at.split("</label>").next().unwrap().contains(error), "[{b}] {field}: {at}");
        }
        assert!(
            html.contains("value=\"７００００\"") && html.contains("value=\"９:００\""),
            "[{b}] what was typed is kept"
        );
        assert!(t.app.mail().test_mode(), "[{b}] nothing saved");

        let port = smtp.port.to_string();
        form[1] = ("host", "127.0.0.1");
        form[2] = ("port", &port);
        form[4] = ("from_address", "info@kissa.example.jp");
        form[7] = ("quiet_from", "21:00");
        let (status, location, _) = owner.post("/settings/mail", &form).await;
        assert_eq!((status, location.as_str()), (303, "/settings/mail?flash=saved"), "[{b}]");
        let (_, html) = owner.page(&location).await;
        assert!(
            html.contains(&format!("127.0.0.1:{}", smtp.port)) && html.contains("この画面で保存した設定です"),
            "[{b}]"
        );
        assert_eq!((t.app.mail().quiet_until.to_string().as_str(), t.app.mail().max_per_day), ("09:00:00", 1), "[{b}]");
        // Another process on the same database has the saved settings from its next pass on.
        assert!(other.mail().test_mode(), "[{b}] the other process has not run a pass yet");
        other.automate_once().await.unwrap();
        assert!(!other.mail().test_mode() && other.mail().shop_name == "喫茶ジョーレン", "[{b}] …and follows");

        let (_, location, _) = owner.post("/settings/mail/test", &[("to", "owner@kissa.example.jp")]).await;
        assert!(location.starts_with("/settings/mail?flash=sent"), "[{b}] {location}");
        let got = smtp.received();
        assert_eq!(got.len(), 1, "[{b}]");
        assert!(got[0].from.contains("info@kissa.example.jp"), "[{b}] {:?}", got[0].from);

        let staff = common::Session { t: &t, cookie: t.login_cookie("staff").await };
        assert_eq!(staff.post("/settings/mail", &form).await.0, 403, "[{b}] owners only");
        assert_eq!(staff.post("/settings/mail/reset", &[]).await.0, 403, "[{b}] owners only");

        let (status, location, _) = owner.post("/settings/mail/reset", &[]).await;
        assert_eq!((status, location.as_str()), (303, "/settings/mail?flash=reset"), "[{b}]");
        assert!(t.app.mail().test_mode(), "[{b}] back to the flags");
        assert!(!other.mail().test_mode(), "[{b}] the other process has not run a pass yet");
        other.automate_once().await.unwrap();
        assert!(other.mail().test_mode(), "[{b}] …and follows at its next pass");
    }
}

/// The mail settings page (owners): what the settings are, and a test mail sent from it over
/// a real SMTP server; a bad address is refused with the address kept; staff cannot see it.
#[tokio::test]
async fn the_mail_settings_page_shows_the_settings_and_sends_a_test_mail() {
    for b in backends() {
        let smtp = common::smtp::SmtpServer::start();
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_mailing(b, &clock, &smtp).await;
        let owner = common::Session { t: &t, cookie: t.login_cookie("owner").await };
        let (s, html) = owner.page("/settings/mail").await;
        assert_eq!(s, 200, "[{b}]");
        assert!(html.contains(&format!("127.0.0.1:{}", smtp.port)) && html.contains("〒600-8001"), "[{b}] {html}");
        let (status, _, html) = owner.post("/settings/mail/test", &[("to", "not-an-address")]).await;
        assert_eq!(status, 422, "[{b}]");
        let message = common::field_error(&html, "to").unwrap_or_default();
        assert!(message.contains("not-an-address"), "[{b}] said beside the address: {message}");
        assert!(html.contains("value=\"not-an-address\""), "[{b}] the address typed is kept: {html}");
        assert!(smtp.received().is_empty(), "[{b}] nothing sent");
        let (_, location, _) = owner.post("/settings/mail/test", &[("to", "owner@kissa.example.jp")]).await;
        assert!(location.starts_with("/settings/mail?flash=sent"), "[{b}] {location}");
        let got = smtp.received();
        assert_eq!(got.len(), 1, "[{b}]");
        assert_eq!(got[0].to, ["owner@kissa.example.jp"]);
        assert!(got[0].subject().ends_with("テストメール"), "{}", got[0].subject());
        let staff = common::Session { t: &t, cookie: t.login_cookie("staff").await };
        assert_eq!(staff.page("/settings/mail").await.0, 403, "[{b}] owners only");
    }
}

/// The mail settings through the API (owners): read with where they come from, saved with
/// numbers as numbers, refused with each field's code, never answering the password; reset.
#[tokio::test]
async fn mail_settings_through_the_api() {
    for b in backends() {
        // Started with an SMTP login in the flags: saving other settings keeps that password.
        let transport = joren_app::mail::MailConfig::parse_transport("smtp://shop:p%40ss@127.0.0.1:2525?security=none");
        let mail = joren_app::mail::MailConfig { transport: transport.unwrap(), ..Default::default() };
        let t = spawn_with(b, AppConfig { mail, ..AppConfig::default() }).await;
        let (s, v) = t.get(&t.owner_token, "/api/v1/settings/mail").await;
        assert_eq!((s, v["source"].as_str(), v["mode"].as_str()), (200, Some("flags"), Some("smtp")), "[{b}] {v}");
        assert_eq!(v["has_password"], true, "[{b}] {v}");
        let keep = json!({"mode": "smtp", "host": "127.0.0.1", "port": 2525, "security": "none", "username": "shop",
            "from_address": "info@example.jp", "shop_name": "花屋", "quiet_from": "20:00", "quiet_until": "09:00",
            "max_per_day": 1, "max_per_week": 3});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/mail", &keep).await;
        assert_eq!(
            (s, v["source"].as_str(), v["has_password"].as_bool()),
            (200, Some("saved"), Some(true)),
            "[{b}] {v}"
        );
        match &t.app.mail().transport {
            joren_app::mail::Transport::Smtp { password, .. } => assert_eq!(password.as_deref(), Some("p@ss"), "[{b}]"),
            other => panic!("[{b}] {other:?}"),
        }
        let body = json!({"mode": "smtp", "host": "mail.example.jp", "port": 465, "security": "tls",
            "username": "shop", "password": "s3cret", "from_address": "info@example.jp", "shop_name": "花屋",
            "postal_address": "", "quiet_from": "21:00", "quiet_until": "09:00", "max_per_day": 2, "max_per_week": 5});
        let (s, v) = t.send(reqwest::Method::PUT, &t.staff_token, "/api/v1/settings/mail", &body).await;
        assert_eq!(s, 403, "[{b}] owners only: {v}");
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/mail", &body).await;
        assert_eq!(s, 200, "[{b}] {v}");
        assert_eq!(
            (v["source"].as_str(), v["port"].as_i64(), v["has_password"].as_bool()),
            (Some("saved"), Some(465), Some(true))
        );
        assert!(v.get("password").is_none() && !v.to_string().contains("s3cret"), "[{b}] {v}");
        let mut bad = body.clone();
        bad["max_per_day"] = json!(1000);
        bad["security"] = json!("ssl");
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/mail", &bad).await;
        assert_eq!(s, 422, "[{b}] {v}");
        let codes: Vec<(&str, &str)> = v["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["field"].as_str().unwrap(), d["code"].as_str().unwrap()))
            .collect();
        assert_eq!(codes, [("security", "choose"), ("max_per_day", "range")], "[{b}] {v}");
        let (_, v) = t.get(&t.owner_token, "/api/v1/settings/mail").await;
        assert_eq!(v["max_per_day"], 2, "[{b}] a refused change changes nothing");
        let (s, v) = t.send(reqwest::Method::DELETE, &t.owner_token, "/api/v1/settings/mail", &json!({})).await;
        assert_eq!((s, v["source"].as_str(), v["mode"].as_str()), (200, Some("flags"), Some("smtp")), "[{b}] {v}");
    }
}
