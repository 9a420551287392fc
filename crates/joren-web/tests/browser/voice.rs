//! The voice of the customer in a browser (issue #20), beside the other walks of `browser.rs`.

use fantoccini::Locator;
use serde_json::json;

use super::{common, start_browser, text};

/// A customer answers a survey on a phone: the score from the mail's button comes chosen, the
/// follow-up question appears only after a low score, a required answer left empty is named
/// beside its question with what was chosen kept, and the answer lands once.
#[tokio::test]
async fn a_survey_is_answered_on_a_phone_sized_page() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn_with("sqlite", joren_app::AppConfig::default()).await;
    let (s, survey) = t.post(&t.staff_token, "/api/v1/surveys/ready", &json!({"code": "csat"})).await;
    assert_eq!(s, 201, "{survey}");
    let id = survey["id"].as_i64().unwrap();
    let customer = t.customer(json!({"family_name": "森", "given_name": "花子", "phone": "090-6000-0002"})).await;
    let (s, sent, _) = t
        .post_keyed(&format!("/api/v1/surveys/{id}/send"), None, &json!({"customer_id": customer, "channel": "link"}))
        .await;
    assert_eq!(s, 201, "{sent}");
    let url = sent["url"].as_str().unwrap();
    let path = &url[url.find("/s/").unwrap()..];

    let result = async {
        c.set_window_size(390, 844).await?;
        // The mail's "4" button: 4 is chosen, the complaint (asked at 3 or less) is hidden.
        c.goto(&t.url(&format!("{path}?csat=4"))).await?;
        c.wait().for_element(Locator::Id("survey-form")).await?;
        let chosen = c.execute("return document.getElementById('q-csat-4').checked;", vec![]).await?;
        assert_eq!(chosen, json!(true), "the mail's score comes chosen");
        let hidden = c.execute("return document.getElementById('q-complaint').hidden;", vec![]).await?;
        assert_eq!(hidden, json!(true), "no complaint asked after a 4");
        let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await?;
        assert_eq!(fits, json!(true), "the survey fits a 390 px phone");
        // A 2 asks what disappointed; sent empty, the page names it and keeps the 2.
        c.find(Locator::Css("#q-csat .scores label:nth-child(2) span")).await?.click().await?;
        let hidden = c.execute("return document.getElementById('q-complaint').hidden;", vec![]).await?;
        assert_eq!(hidden, json!(false), "the follow-up appears after a low score");
        c.find(Locator::Id("survey-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("survey-refused")).await?;
        assert!(!text(&c, "#q-complaint-error").await.is_empty(), "the empty follow-up is named");
        let kept = c.execute("return document.getElementById('q-csat-2').checked;", vec![]).await?;
        assert_eq!(kept, json!(true), "what was chosen is kept");
        c.find(Locator::Id("q-complaint-text")).await?.send_keys("箱が潰れて届きました").await?;
        c.find(Locator::Id("survey-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("survey-done")).await?;
        // The link again: answered already.
        c.goto(&t.url(path)).await?;
        c.wait().for_element(Locator::Id("survey-answered")).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    let (_, answers) = t.get(&t.staff_token, &format!("/api/v1/survey-responses?survey_id={id}")).await;
    assert_eq!(answers.as_array().unwrap().len(), 1, "{answers}");
    assert_eq!(answers[0]["csat"], 2);
    assert_eq!(answers[0]["answers"]["complaint"], "箱が潰れて届きました");
}

/// A friend signs up by a referral link on a phone: the page fits 390 px, a form without an
/// email or phone comes back with the name kept and the problem beside the field, and the
/// sign-up lands as a referral of the customer whose link it was.
#[tokio::test]
async fn a_referred_friend_signs_up_on_a_phone_sized_page() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn_with("sqlite", joren_app::AppConfig::default()).await;
    let body = json!({"enabled": true, "referrer_points": 500, "referred_points": 300, "monthly_limit": 5});
    let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/referrals", &body).await;
    assert_eq!(s, 200, "{v}");
    let referrer = t.customer(json!({"family_name": "紹介", "given_name": "元子", "phone": "090-6000-0101"})).await;
    let (_, r) = t.get(&t.staff_token, &format!("/api/v1/customers/{referrer}/referral")).await;
    let code = r["code"].as_str().unwrap().to_string();
    let result = async {
        c.set_window_size(390, 844).await?;
        c.goto(&t.url(&format!("/r/{code}"))).await?;
        c.wait().for_element(Locator::Id("rp-form")).await?;
        assert!(text(&c, "#rp-offer").await.contains("300"), "the offer is shown");
        let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await?;
        assert_eq!(fits, json!(true), "the page fits a 390 px phone");
        c.find(Locator::Id("rp-family_name")).await?.send_keys("友田").await?;
        c.find(Locator::Id("rp-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("rp-fix")).await?;
        let kept = c.execute("return document.getElementById('rp-family_name').value;", vec![]).await?;
        assert_eq!(kept, json!("友田"), "the name is kept");
        assert!(!text(&c, "label.invalid .field-error").await.is_empty(), "the missing contact is named");
        c.find(Locator::Id("rp-phone")).await?.send_keys("０９０－６０００－０１０２").await?;
        c.find(Locator::Id("rp-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("rp-thanks")).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    let (_, list) = t.get(&t.staff_token, &format!("/api/v1/referrals?customer_id={referrer}")).await;
    assert_eq!((&list["total"], &list["items"][0]["referred_name"]), (&json!(1), &json!("友田 様")), "{list}");
}

/// A complaint from the inbox walked through all seven steps in the browser: recorded from
/// the LINE conversation, each step with its note (a solution with its promised date, the
/// prevention with its cause), closed, and counted in the prevention log.
#[tokio::test]
async fn a_complaint_from_the_inbox_is_walked_through_the_seven_steps() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    const SECRET: &str = "browser-case-secret";
    let config = joren_app::AppConfig { line_channel_secret: Some(SECRET.into()), ..Default::default() };
    let t = common::spawn_with("sqlite", config).await;
    let user = "U00000000000000000000000000000c0c";
    t.customer(json!({"family_name": "苦情", "given_name": "花子", "line_user_id": user})).await;
    let now = chrono::Utc::now().timestamp_millis();
    let said = common::line_api::text_event("c-m1", user, now, "届いたカップが割れていました");
    assert_eq!(common::line_api::post_webhook(&t.client, &t.url(""), SECRET, &[said]).await, 200);

    let result = async {
        super::log_in(&c, &t, "/inbox", "staff").await?;
        c.wait().for_element(Locator::Css("#conversations a")).await?.click().await?;
        c.wait().for_element(Locator::Id("conversation-case")).await?.click().await?;
        c.wait().for_element(Locator::Id("case-step-form")).await?;
        assert_eq!(text(&c, "#case-title").await, "届いたカップが割れていました");
        assert!(!text(&c, "#case-due").await.is_empty(), "the first response's deadline is shown");
        let notes = [
            ("first_response", "お電話でお詫び"),
            ("listened", "贈り物だったとのこと"),
            ("facts", "梱包の緩衝材が不足"),
            ("proposed", "新品を速達で送る"),
            ("carried_out", "発送済み"),
            ("followed_up", "無事届き満足とのこと"),
            ("prevented", ""),
        ];
        for (stage, note) in notes {
            // The page of this step (not the last one's, still there while the next loads).
            let this_step = format!("#case-step-form input[name=stage][value={stage}]");
            c.wait().for_element(Locator::Css(&this_step)).await?;
            if !note.is_empty() {
                c.find(Locator::Id("case-step-note")).await?.send_keys(note).await?;
            }
            if stage == "proposed" {
                // Without the promised date the step is refused, the note kept.
                c.find(Locator::Id("case-record")).await?.click().await?;
                c.wait().for_element(Locator::Id("case-promised-error")).await?;
                let kept = c.find(Locator::Id("case-step-note")).await?.prop("value").await?;
                assert_eq!(kept.as_deref(), Some(note));
                c.execute("document.getElementById('case-promised-on').value = '2026-12-20';", vec![]).await?;
            }
            if stage == "prevented" {
                c.find(Locator::Css("#case-root-cause option[value=delivery]")).await?.click().await?;
                c.find(Locator::Id("case-prevention-text")).await?.send_keys("緩衝材を二重にした").await?;
            }
            c.find(Locator::Id("case-record")).await?.click().await?;
        }
        c.wait().for_element(Locator::Id("case-closed")).await?;
        let steps = text(&c, "#case-steps").await;
        assert_eq!(steps.matches('✔').count(), 8, "received and the seven steps: {steps}");
        assert!(steps.contains("梱包の緩衝材が不足"));
        assert!(text(&c, "#case-prevention").await.contains("緩衝材を二重にした"));
        c.goto(&t.url("/cases/report")).await?;
        assert!(text(&c, "#case-report").await.contains("配送"));
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
}
