//! Customer-success stages (issue #20, both backends): the rules move a customer by their
//! orders and answers, a stage set by hand stays until handed back, each change is one
//! `stage.changed` event that a scenario reacts to, and the funnel counts them.

use joren_app::AppConfig;
use joren_app::clock::Clock;
use serde_json::json;

use super::common::{backends, spawn_with};
use super::{kinds, place_order, scenario, settle, tokyo_today_at};

#[tokio::test]
async fn stages_follow_the_rules_unless_set_by_hand_and_start_scenarios() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        scenario(
            &t,
            "推奨者へのお礼",
            json!({"trigger": {"kind": "stage_changed", "stage": "advocacy"}, "steps": [{"type": "tag", "add": "推奨者"}]}),
        )
        .await;
        let c = t.customer(json!({"family_name": "段階", "given_name": "花子", "phone": "090-7100-0001"})).await;
        let stage = |v: &serde_json::Value| v["stage"].as_str().map(str::to_string);
        place_order(&t, c).await;
        let (s, v) = t.post(&t.staff_token, "/api/v1/stages/evaluate", &json!({})).await;
        assert_eq!((s, &v["moved"]), (200, &json!(1)), "[{b}] {v}");
        let (_, now) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/stage")).await;
        assert_eq!(stage(&now).as_deref(), Some("onboarding"), "[{b}] {now}");
        place_order(&t, c).await;
        place_order(&t, c).await;
        t.post(&t.staff_token, "/api/v1/stages/evaluate", &json!({})).await;
        let (_, now) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/stage")).await;
        assert_eq!((stage(&now).as_deref(), &now["by_staff"]), (Some("adoption"), &json!(false)), "[{b}] 3 in 90 days");
        let (_, again) = t.post(&t.staff_token, "/api/v1/stages/evaluate", &json!({})).await;
        assert_eq!(again["moved"], 0, "[{b}] nothing moves twice");

        // By hand: it stays through the rules; handed back, the rules decide at once.
        let path = format!("/api/v1/customers/{c}/stage");
        let (s, v) = t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"stage": "value_realisation"})).await;
        assert_eq!(
            (s, stage(&v).as_deref(), &v["by_staff"]),
            (200, Some("value_realisation"), &json!(true)),
            "[{b}] {v}"
        );
        t.post(&t.staff_token, "/api/v1/stages/evaluate", &json!({})).await;
        let (_, now) = t.get(&t.staff_token, &path).await;
        assert_eq!(stage(&now).as_deref(), Some("value_realisation"), "[{b}] the rules leave it");
        let (s, v) = t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"stage": "famous"})).await;
        assert_eq!(s, 422, "[{b}] {v}");
        let (_, v) = t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"stage": null})).await;
        assert_eq!((stage(&v).as_deref(), &v["by_staff"]), (Some("adoption"), &json!(false)), "[{b}] {v}");

        // A promoter's answer makes an advocate, and the scenario reacts once.
        let (_, survey) = t.post(&t.staff_token, "/api/v1/surveys/ready", &json!({"code": "nps"})).await;
        let (_, sent, _) = t
            .post_keyed(
                &format!("/api/v1/surveys/{}/send", survey["id"]),
                Some("s1"),
                &json!({"customer_id": c, "channel": "link"}),
            )
            .await;
        let url = sent["url"].as_str().unwrap();
        let r = t.client.post(t.url(&url[url.find("/s/").unwrap()..])).form(&[("nps", "10")]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "[{b}]");
        t.post(&t.staff_token, "/api/v1/stages/evaluate", &json!({})).await;
        settle(&t).await;
        let (_, now) = t.get(&t.staff_token, &path).await;
        assert_eq!(stage(&now).as_deref(), Some("advocacy"), "[{b}] {now}");
        let (k, _) = kinds(&t, c).await;
        assert_eq!(
            k.iter().filter(|k| *k == "stage.changed").count(),
            5,
            "[{b}] onboarding, adoption, value, back, advocacy: {k:?}"
        );
        let (_, cust) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}")).await;
        assert!(cust["tags"].as_array().unwrap().contains(&json!("推奨者")), "[{b}] {cust}");

        // The funnel, and the pages.
        let (_, f) = t.get(&t.staff_token, "/api/v1/stages").await;
        let advocacy = f.as_array().unwrap().iter().find(|x| x["stage"] == "advocacy").unwrap();
        assert_eq!(advocacy["customers"], 1, "[{b}] {f}");
        let adoption = f.as_array().unwrap().iter().find(|x| x["stage"] == "adoption").unwrap();
        assert!(adoption["mean_days_left"].is_number(), "[{b}] someone left adoption: {f}");
        let web = super::common::Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = web.page("/stages").await;
        assert!(html.contains("推奨 (推奨者・紹介)"), "[{b}]");
        let (_, html) = web.page(&format!("/customers/{c}")).await;
        assert!(html.contains(r#"id="stage-now""#) && html.contains("推奨 (推奨者・紹介)"), "[{b}]");
        let (s, to, _) = web.post(&format!("/customers/{c}/stage"), &[("stage", "expansion")]).await;
        assert_eq!(s, 303, "[{b}] {to}");
        let (_, now) = t.get(&t.staff_token, &path).await;
        assert_eq!(stage(&now).as_deref(), Some("expansion"), "[{b}]");
    }
}
