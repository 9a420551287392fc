//! The inbox in a browser (issue #19), beside the other walks of `browser.rs`.

use fantoccini::Locator;
use serde_json::json;

use super::{common, log_in, start_browser, text};

/// The inbox in a browser (issue #19): a LINE message arrives and appears in the inbox; staff
/// take the conversation, answer from the customer page (pushed once to a stand-in for the
/// Messaging API), and close it; the conversation page shows the time to the first answer and to
/// closing.
#[tokio::test]
async fn a_line_message_is_taken_answered_from_the_customer_page_and_closed_in_the_inbox() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    const SECRET: &str = "browser-line-secret";
    let api = common::line_api::LineApi::start("browser-line-token");
    let config = joren_app::AppConfig {
        line_channel_secret: Some(SECRET.into()),
        line_channel_token: Some("browser-line-token".into()),
        line_api_url: api.url.clone(),
        ..Default::default()
    };
    let t = common::spawn_with("sqlite", config).await;
    let user = "U00000000000000000000000000000b0b";
    let id = t.customer(json!({"family_name": "青木", "given_name": "花子", "line_user_id": user})).await;
    let now = chrono::Utc::now().timestamp_millis();
    let follow = json!({"type": "follow", "mode": "active", "timestamp": now, "webhookEventId": "b-f1",
                        "source": {"type": "user", "userId": user}});
    let hello = common::line_api::text_event("b-m1", user, now, "明日の11時に2名で予約できますか");
    assert_eq!(common::line_api::post_webhook(&t.client, &t.url(""), SECRET, &[follow, hello]).await, 200);

    let result = async {
        log_in(&c, &t, "/inbox", "staff").await?;
        c.wait().for_element(Locator::Id("conversations")).await?;
        assert!(text(&c, "#conversations").await.contains("明日の11時に2名で予約できますか"));
        c.find(Locator::Css("#conversations a")).await?.click().await?;
        c.wait().for_element(Locator::Id("take")).await?.click().await?;
        c.wait().for_element(Locator::Id("give")).await?;
        assert!(!text(&c, "#assignee").await.contains("未割り当て"), "taken");
        let conversation = c.current_url().await?.to_string();
        // Answered from the customer page.
        c.find(Locator::Css("#conversation-who a")).await?.click().await?;
        c.wait()
            .for_element(Locator::Id("line-text"))
            .await?
            .send_keys("はい、11時に2名様でお待ちしております。")
            .await?;
        c.find(Locator::Id("line-send")).await?.click().await?;
        c.wait().for_element(Locator::Id("line-sent")).await?;
        t.app.automate_once().await.unwrap();
        c.goto(&conversation).await?;
        let first = text(&c, "#first-response").await;
        assert!(first.ends_with('分') && !first.contains("まだ"), "the first answer's time: {first}");
        assert!(text(&c, "#conversation-thread").await.contains("送信済み"));
        c.find(Locator::Id("close-conversation")).await?.click().await?;
        c.wait().for_element(Locator::Id("reopen-conversation")).await?;
        assert_eq!(text(&c, "#conversation-state").await, "完了");
        let resolution = text(&c, "#resolution").await;
        assert!(resolution.ends_with('分'), "the time to closing: {resolution}");
        // A phone: nothing scrolls sideways on the conversation page.
        c.set_window_size(390, 844).await?;
        let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await?;
        assert_eq!(fits, json!(true), "the conversation fits a 390 px phone");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    let pushes = api.pushes();
    assert_eq!(pushes.len(), 1, "the answer was pushed once");
    assert_eq!(pushes[0].to, user);
    let _ = id;
}
