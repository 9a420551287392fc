//! The pages on a phone and on a laptop, beside the other walks of `browser.rs`.

use fantoccini::Locator;
use joren_app::Actor;
use serde_json::json;

use super::{common, log_in, start_browser};

/// A 390 px phone: every main page fits the screen (nothing scrolls sideways), the navigation
/// hides behind a menu button that opens it, the customer list reads as cards, and the 回数券's
/// "use one visit" button is on screen, the owner's settings pages are inside the menu. On a
/// 1100 px laptop the header is one band, its settings menu opens, closes on a click elsewhere
/// and marks the settings page that is open.
#[tokio::test]
async fn the_main_pages_fit_a_phone_and_a_laptop() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn("sqlite").await;
    common::import_cdnow(&t, 60).await;
    t.app.refresh_metrics(&Actor::system("test")).await.unwrap();
    let id = t
        .customer(json!({"family_name": "長谷川", "given_name": "美咲", "phone": "090-6000-0003",
                              "email": "misaki.hasegawa.long.address@example.co.jp"}))
        .await;
    let (s, order) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(id, Some("P-1"), 1200)).await;
    assert_eq!(s, 201);
    let (_, plan) = t
        .post(
            &t.owner_token,
            "/api/v1/ticket-plans",
            &json!({"name": "10回券", "visits": 10, "price": 45000, "valid_months": 6}),
        )
        .await;
    let (_, ticket, _) =
        t.post_keyed(&format!("/api/v1/customers/{id}/tickets"), Some("sell"), &json!({"plan_id": plan["id"]})).await;
    t.post(&t.owner_token, "/api/v1/products", &json!({"name": "ブレンド豆 200g", "unit_price": 1620, "tax_rate": 8}))
        .await;

    let result = async {
        c.set_window_size(390, 844).await?;
        log_in(&c, &t, "/", "owner").await?;
        c.wait().for_element(Locator::Id("home-tasks")).await?;
        let pages = [
            "/".to_string(),
            "/customers".into(),
            format!("/customers/{id}"),
            "/counter".into(),
            format!("/counter/{id}"),
            format!("/orders/{}", order["id"]),
            "/dashboard".into(),
            "/segments".into(),
            "/points".into(),
            "/tickets".into(),
            "/memberships".into(),
            "/perks".into(),
            "/products".into(),
            "/scenarios".into(),
            "/tasks".into(),
            "/inbox".into(),
            "/import".into(),
            "/settings/points".into(),
            "/settings/webhooks".into(),
            "/audit".into(),
            "/users".into(),
            "/customers/duplicates".into(),
            format!("/customers/{id}/card"),
            format!("/customers/merge?keep={id}&merge={id}"),
        ];
        for page in &pages {
            c.goto(&t.url(page)).await?;
            c.wait().for_element(Locator::Id("menu-button")).await?;
            let v = c
                .execute(
                    "const d = document.documentElement;
                     const wide = [...document.querySelectorAll('main *')]
                       .filter(e => e.getBoundingClientRect().right > d.clientWidth + 1 && !e.parentElement.closest('table, .scroll'))
                       .slice(-4).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.textContent.slice(0, 30));
                     return [d.scrollWidth, d.clientWidth, getComputedStyle(document.getElementById('main-nav')).display, wide];",
                    vec![],
                )
                .await?;
            let (scroll, width, nav) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap(), v[2].as_str().unwrap());
            assert!(scroll <= width + 1.0, "{page}: {scroll} px of content on a {width} px screen: {}", v[3]);
            assert_eq!(nav, "none", "{page}: the navigation waits behind the menu button");
        }
        c.goto(&t.url("/customers")).await?;
        c.find(Locator::Id("menu-button")).await?.click().await?;
        let shown = c.execute("return getComputedStyle(document.getElementById('main-nav')).display", vec![]).await?;
        assert_eq!(shown, json!("flex"), "the menu opens");
        c.find(Locator::Id("nav-counter")).await?.click().await?;
        c.wait().for_element(Locator::Id("counter-q")).await?;
        c.goto(&t.url("/customers")).await?;
        let cards = c.execute("return getComputedStyle(document.querySelector('#customers tr')).display", vec![]).await?;
        assert_eq!(cards, json!("block"), "customers as cards");
        c.goto(&t.url(&format!("/customers/{id}"))).await?;
        let fits = c
            .execute(
                "const b = document.getElementById(arguments[0]).getBoundingClientRect();
                 return b.left >= 0 && b.right <= document.documentElement.clientWidth;",
                vec![json!(format!("ticket-use-{}", ticket["id"]))],
            )
            .await?;
        assert_eq!(fits, json!(true), "the 回数券 button is on screen");
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts")).ok();
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/customer-phone.png"), png).ok();

        // On the phone, the owner's settings pages are one tap further, inside the menu.
        c.goto(&t.url("/customers")).await?;
        c.find(Locator::Id("menu-button")).await?.click().await?;
        c.find(Locator::Id("settings-button")).await?.click().await?;
        c.find(Locator::Id("nav-users")).await?.click().await?;
        c.wait().for_url(&url::Url::parse(&t.url("/users")).unwrap()).await?;

        // A laptop (1100 px): the header stays one band (the settings pages behind one menu,
        // not a column of links squeezing the navigation into four rows).
        c.set_window_size(1100, 900).await?;
        c.goto(&t.url("/")).await?;
        c.wait().for_element(Locator::Id("home-tasks")).await?;
        let header = c.execute("return document.querySelector('header.top').getBoundingClientRect().height", vec![]).await?;
        assert!(header.as_f64().unwrap() <= 100.0, "the header is {header} px tall at 1100 px");
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/home-1100.png"), png).ok();
        let users = c.find(Locator::Id("nav-users")).await?;
        assert!(!users.is_displayed().await?, "the settings pages wait behind their menu");
        c.find(Locator::Id("settings-button")).await?.click().await?;
        assert!(users.is_displayed().await?, "the menu opens");
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/settings-menu-1100.png"), png).ok();
        c.find(Locator::Id("home-tasks")).await?.click().await?;
        assert!(!users.is_displayed().await?, "a click elsewhere closes the menu");
        c.find(Locator::Id("settings-button")).await?.click().await?;
        c.find(Locator::Id("nav-audit")).await?.click().await?;
        c.wait().for_url(&url::Url::parse(&t.url("/audit")).unwrap()).await?;
        let marked = c.find(Locator::Id("settings-button")).await?.attr("class").await?;
        assert_eq!(marked.as_deref(), Some("active"), "on a settings page the menu shows where you are");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
}
