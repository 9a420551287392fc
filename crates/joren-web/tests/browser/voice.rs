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
