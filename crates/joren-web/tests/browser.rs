//! Headless Chromium drives the web UI: log in, search a customer by kana, open the 360 page,
//! log a call from it, switch to English. Needs `chromium` and `chromedriver` (Debian packages,
//! installed by `.ci/run`); without them the test says so loudly and passes, except under CI.

mod common;
#[path = "browser/inbox.rs"]
mod inbox;
#[path = "browser/layout.rs"]
mod layout;
#[path = "browser/voice.rs"]
mod voice;

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use joren_app::Actor;
use joren_app::customers::NewCustomer;
use joren_core::customer::CustomerInput;
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

async fn start_browser(profile_dir: &std::path::Path) -> Option<(Client, tokio::process::Child)> {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        if std::env::var("CI").is_ok() {
            panic!("CI is set but chromium/chromedriver are missing: .ci/run must install them");
        }
        eprintln!("NOTE: chromium/chromedriver not installed — browser test NOT run");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caps = json!({"goog:chromeOptions": {"binary": CHROMIUM, "args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        format!("--user-data-dir={}", profile_dir.display()), "--window-size=1280,900", "--lang=ja"
    ]}});
    let caps = caps.as_object().unwrap().clone().into_iter().collect();
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver");
    Some((client, child))
}

/// The text of the first element matching `css`, waiting up to 10 s for it. An element found
/// just as the page was replaced (a form's redirect landing) is stale: it is looked up again.
async fn text(c: &Client, css: &str) -> String {
    for _ in 0..50 {
        let element = c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap();
        match element.text().await {
            Ok(text) => return text,
            Err(e) if e.is_stale_element_reference() => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{css}: {e}"),
        }
    }
    panic!("{css}: the element went stale every time it was found")
}

#[tokio::test]
async fn staff_finds_a_customer_by_kana_and_logs_a_call() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn("sqlite").await;
    let system = Actor::system("test");
    for (family, given, kana_f, kana_g, email) in [
        ("山田", "太郎", "やまだ", "たろう", "taro@example.jp"),
        ("山本", "花子", "ヤマモト", "ハナコ", "hanako@example.jp"),
        ("佐藤", "一郎", "サトウ", "イチロウ", "ichiro@example.jp"),
    ] {
        let input = CustomerInput {
            family_name: Some(family.into()),
            given_name: Some(given.into()),
            family_name_kana: Some(kana_f.into()),
            given_name_kana: Some(kana_g.into()),
            email: Some(email.into()),
            ..Default::default()
        };
        let created =
            t.app.create_customer(&system, NewCustomer { profile: input, ..Default::default() }).await.unwrap();
        let order = serde_json::from_value(common::order_body(created.id, None, 1400)).unwrap();
        t.app.create_order(&system, order, None).await.unwrap();
    }

    let result = async {
        c.goto(&t.url("/customers")).await?;
        // Redirected to the login page.
        c.wait().for_element(Locator::Id("login-form")).await?;
        c.find(Locator::Id("username")).await?.send_keys("staff").await?;
        c.find(Locator::Id("password")).await?.send_keys(common::PASSWORD).await?;
        c.find(Locator::Id("login-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("search-form")).await?;
        assert_eq!(text(&c, "#result-count").await, "3 件");

        c.find(Locator::Id("q")).await?.send_keys("やまだ").await?;
        c.find(Locator::Id("search-submit")).await?.click().await?;
        c.wait().for_url(&url::Url::parse(&t.url("/customers?q=%E3%82%84%E3%81%BE%E3%81%A0")).unwrap()).await.ok();
        assert_eq!(text(&c, "#result-count").await, "1 件", "kana search narrows to one customer");
        let rows = c.find_all(Locator::Css("#customers tbody tr")).await?;
        assert_eq!(rows.len(), 1);
        c.find(Locator::Css("a.customer-link")).await?.click().await?;

        assert_eq!(text(&c, "#customer-name").await, "山田 太郎 様");
        assert_eq!(text(&c, "#customer-kana").await, "ヤマダ タロウ");
        assert_eq!(text(&c, "#order-count").await, "1");
        let timeline = c.find_all(Locator::Css("#timeline tbody tr")).await?;
        assert_eq!(timeline.len(), 1, "the order is on the timeline");

        c.find(Locator::Css("#log-kind option[value=phone]")).await?.click().await?;
        c.find(Locator::Id("log-subject")).await?.send_keys("ご購入のお礼").await?;
        c.find(Locator::Id("log-body")).await?.send_keys("新しいブレンドを案内").await?;
        c.find(Locator::Id("log-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("flash")).await?;
        let timeline = c.find(Locator::Id("timeline")).await?.text().await?;
        assert!(timeline.contains("ご購入のお礼") && timeline.contains("電話"), "{timeline}");

        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts")).ok();
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/customer360.png"), png).ok();

        c.find(Locator::Id("lang-switch")).await?.click().await?;
        c.wait().for_element(Locator::Css("html[lang=en]")).await?;
        let nav = c.find(Locator::Css("header nav")).await?.text().await?;
        assert!(nav.contains("Customers"), "{nav}");
        assert_eq!(text(&c, "#customer-name").await, "山田 太郎 様", "names stay surname-first with 様");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();

    let id = t.app.search_customers("ヤマダ", 10, 0).await.unwrap().items[0].id;
    let logged = t.app.list_interactions(id, 10).await.unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].staff_name.as_deref(), Some("staff"));
    assert_eq!(logged[0].kind, "phone");
    assert_eq!(logged[0].subject, "ご購入のお礼");
}

fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    e.to_string().contains("stale element")
}

/// Picks an option of a select the builder may be redrawing, finding it again if it was.
async fn select_in_builder(c: &Client, css: &str, value: &str) -> Result<(), fantoccini::error::CmdError> {
    for attempt in 0.. {
        let picked = async { c.wait().for_element(Locator::Css(css)).await?.select_by_value(value).await };
        match picked.await {
            Err(e) if attempt < 20 && is_stale(&e) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => return other,
        }
    }
    unreachable!()
}

/// A chart's rendered size on the page as it is now: its width and height, the page's width,
/// and the rendered height of its tallest label (CSS pixels). Checks it is sane: inside the
/// page, not a poster (a one-month chart once drew 1,900 px tall), labels readable.
async fn chart_fits(c: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    let v = c
        .execute(
            "const e = document.querySelector(arguments[0]); const r = e.getBoundingClientRect();
             const t = Math.max(...[...e.querySelectorAll('text')].map(x => x.getBoundingClientRect().height));
             return [r.width, r.height, document.documentElement.clientWidth, t];",
            vec![json!(css)],
        )
        .await?;
    let n: Vec<f64> = serde_json::from_value(v).unwrap();
    let (w, h, page, label) = (n[0], n[1], n[2], n[3]);
    assert!(w > 100.0 && w <= page, "{css}: {w} px wide on a {page} px page");
    assert!(h > 40.0 && h < 520.0, "{css}: {h} px tall");
    assert!((8.0..=24.0).contains(&label), "{css}: labels {label} px tall");
    Ok(())
}

/// Logs in through the form.
async fn log_in(c: &Client, t: &common::TestApp, path: &str, user: &str) -> Result<(), fantoccini::error::CmdError> {
    c.goto(&t.url(path)).await?;
    c.wait().for_element(Locator::Id("login-form")).await?;
    c.find(Locator::Id("username")).await?.send_keys(user).await?;
    c.find(Locator::Id("password")).await?.send_keys(common::PASSWORD).await?;
    c.find(Locator::Id("login-submit")).await?.click().await?;
    Ok(())
}

/// The dashboard draws its charts from real data (SVG with shapes in it); a segment is built in
/// the builder (field, operator and value picked, live count updating), saved and exported.
#[tokio::test]
async fn dashboard_charts_and_a_segment_built_saved_and_exported() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn("sqlite").await;
    common::import_cdnow(&t, 300).await;
    t.app.refresh_metrics(&Actor::system("test")).await.unwrap();
    // What the builder should find: customers who bought 5 times or more.
    let expected =
        t.app.evaluate_segment(&json!({"field": "frequency", "op": "gte", "value": 5}), 1, 0).await.unwrap().total;
    let everyone = t.app.evaluate_segment(&json!({"field": "frequency", "op": "gte", "value": 0}), 1, 0).await.unwrap();
    assert!(expected > 0 && expected < everyone.total, "a selective filter: {expected} of {}", everyone.total);

    let result = async {
        log_in(&c, &t, "/dashboard", "staff").await?;
        c.wait().for_element(Locator::Id("kpi-tiles")).await?;
        for chart in ["#segment-chart svg rect", "#clv-chart svg rect"] {
            let shapes = c.find_all(Locator::Css(chart)).await?;
            assert!(shapes.len() >= 3, "{chart}: {} shapes", shapes.len());
        }
        for size in [(1280, 900), (390, 844)] {
            c.set_window_size(size.0, size.1).await?;
            chart_fits(&c, "#segment-chart svg").await?;
            chart_fits(&c, "#clv-chart svg").await?;
        }
        c.set_window_size(1280, 900).await?;
        let cells = c.find_all(Locator::Css("#cohort-heatmap td")).await?;
        assert!(cells.len() > 10, "cohort heatmap filled: {}", cells.len());
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts")).ok();
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/dashboard.png"), png).ok();

        c.find(Locator::Id("nav-segments")).await?.click().await?;
        c.wait().for_element(Locator::Id("new-segment")).await?.click().await?;
        // The starter condition: RFM segment is one of [休眠顧客]; the live count shows up.
        c.wait().for_element(Locator::Id("live-total")).await?;
        // The builder redraws its rows on every change: find each control afresh.
        select_in_builder(&c, "#builder select.field", "frequency").await?;
        select_in_builder(&c, "#builder select.op", "gte").await?;
        for attempt in 0.. {
            let typed = async {
                let value = c.find(Locator::Css("#builder input.value")).await?;
                value.clear().await?;
                value.send_keys("5").await
            };
            match typed.await {
                Err(e) if attempt < 20 && is_stale(&e) => tokio::time::sleep(Duration::from_millis(100)).await,
                other => {
                    other?;
                    break;
                }
            }
        }
        let want = expected.to_string();
        let mut shown = String::new();
        for _ in 0..50 {
            // Read in one step: the count element is replaced whenever an answer arrives.
            let v = c
                .execute("const e = document.getElementById('live-total'); return e ? e.textContent : ''", vec![])
                .await?;
            shown = v.as_str().unwrap_or_default().to_string();
            if shown == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(shown, want, "live count of frequency ≥ 5");
        let json_text = c.execute("return document.getElementById('filter-json').value", vec![]).await?;
        let filter: serde_json::Value = serde_json::from_str(json_text.as_str().unwrap()).unwrap();
        assert_eq!(filter, json!({"all": [{"all": [{"field": "frequency", "op": "gte", "value": 5}]}]}));

        c.find(Locator::Id("segment-name")).await?.send_keys("5回以上のお客様").await?;
        c.find(Locator::Id("save-segment")).await?.click().await?;
        let members = c.wait().for_element(Locator::Css("#members h2")).await?.text().await?;
        assert!(members.contains(&format!("({expected})")), "{members}");
        let links = c.find_all(Locator::Css("#members a.member-link")).await?;
        assert_eq!(links.len() as i64, expected.min(50));

        // The export link, fetched with the page's session: BOM, header and one row per member.
        let csv = c
            .execute_async(
                "const done = arguments[0];
                 fetch(document.getElementById('export-segment').href)
                   .then(r => r.arrayBuffer())
                   .then(b => { const u = new Uint8Array(b);
                                done([u[0], u[1], u[2], new TextDecoder().decode(u.slice(3))]); });",
                vec![],
            )
            .await?;
        let parts = csv.as_array().unwrap();
        assert_eq!((parts[0].as_u64(), parts[1].as_u64(), parts[2].as_u64()), (Some(0xEF), Some(0xBB), Some(0xBF)));
        let lines = parts[3].as_str().unwrap().lines().count() as i64;
        assert_eq!(lines, expected + 1, "header + members");
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/segment.png"), png).ok();
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    let saved = t.app.saved_segments().await.unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].name, "5回以上のお客様");
}

/// The points settings page previews what an order earns under the settings being edited, the
/// owner saves them, and the customer page's points panel shows the balance and takes a manual
/// grant with a reason.
#[tokio::test]
async fn points_settings_preview_and_the_customer_points_panel() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn("sqlite").await;
    let id = t.customer(json!({"family_name": "森", "given_name": "花子", "phone": "090-6000-0001"})).await;
    let mut order = common::order_body(id, Some("B-1"), 1000);
    order["ordered_at"] = json!((chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339());
    let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order).await;
    assert_eq!(s, 201, "{v}");

    let result = async {
        log_in(&c, &t, "/settings/points", "owner").await?;
        c.wait().for_element(Locator::Id("points-settings")).await?;
        let per_yen = c.find(Locator::Id("earn-per-yen")).await?;
        per_yen.clear().await?;
        per_yen.send_keys("200").await?;
        let total = c.find(Locator::Id("preview-total")).await?;
        total.clear().await?;
        total.send_keys("12800").await?;
        let multiplier = c.find(Locator::Id("preview-multiplier")).await?;
        multiplier.clear().await?;
        multiplier.send_keys("150").await?;
        c.find(Locator::Id("preview-button")).await?.click().await?;
        c.wait().for_element(Locator::Id("preview-result")).await?;
        assert_eq!(text(&c, "#preview-points").await, "96", "¥12,800 at 1 pt / ¥200 × 1.5");
        assert!(text(&c, "#preview-result").await.contains("¥12,800"));
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts")).ok();
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/points-settings.png"), png)
            .ok();
        // The form keeps the edited value after the preview; saving stores it.
        c.find(Locator::Id("save-points")).await?.click().await?;
        c.wait().for_element(Locator::Id("flash")).await?;

        c.goto(&t.url(&format!("/customers/{id}"))).await?;
        assert_eq!(text(&c, "#points-available").await, "53");
        c.find(Locator::Id("points-amount")).await?.send_keys("500").await?;
        c.find(Locator::Id("points-reason")).await?.send_keys("開店記念").await?;
        c.find(Locator::Id("points-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("points-flash")).await?;
        assert_eq!(text(&c, "#points-available").await, "553");
        let lots = text(&c, "#points-lots").await;
        assert!(lots.contains("開店記念") && lots.contains("手動付与"), "{lots}");
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/points-panel.png"), png).ok();
        // The report's chart with a single month of history: a chart, not a poster.
        c.goto(&t.url("/points")).await?;
        c.wait().for_element(Locator::Id("points-movement")).await?;
        for size in [(1280, 900), (390, 844)] {
            c.set_window_size(size.0, size.1).await?;
            chart_fits(&c, "#points-movement").await?;
        }
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/points-report-phone.png"), png)
            .ok();
        c.set_window_size(1280, 900).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    assert_eq!(t.app.points_programme().await.unwrap().earn.per_yen, 200, "saved from the page");
}

/// Follow-up automation from the pages: a scenario made from the post-purchase template in
/// two clicks, activated; a customer's order puts them in it (the page counts them); two days
/// later their call is on the tasks page, and finishing it there puts the outcome on their
/// timeline.
#[tokio::test]
async fn a_scenario_from_a_template_runs_and_its_call_is_done_on_the_tasks_page() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let tz = joren_app::AppConfig::default().time_zone;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let start = chrono::TimeZone::from_local_datetime(&tz, &today.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = joren_app::clock::Clock::manual(start);
    let t = common::spawn_with("sqlite", joren_app::AppConfig { clock: clock.clone(), ..Default::default() }).await;
    let customer = t
        .customer(json!({"family_name": "大口", "given_name": "様子", "email": "big@example.jp", "phone": "090-1111-2222", "consents": {"email": true}}))
        .await;
    let run = async {
        log_in(&c, &t, "/scenarios", "staff").await?;
        c.wait().for_element(Locator::Id("ready-post_purchase")).await?;
        c.find(Locator::Id("use-post_purchase")).await?.click().await?;
        c.wait().for_element(Locator::Id("scenario-steps")).await?;
        assert!(text(&c, "#flash").await.contains("下書き"));
        let steps = text(&c, "#scenario-steps").await;
        assert!(steps.contains("待つ 2日") && steps.contains("電話の予定"), "the timeline in words: {steps}");
        // In the editor: add a last step that tags the customer, and save a new version.
        c.find(Locator::Id("edit-scenario")).await?.click().await?;
        c.wait().for_element(Locator::Id("scenario-form")).await?;
        // Only the fields the chosen trigger needs show: an order trigger has no day count.
        assert!(!c.find(Locator::Id("trigger-days")).await?.is_displayed().await?);
        c.find(Locator::Css("#trigger option[value=points_expiring]")).await?.click().await?;
        assert!(c.find(Locator::Id("trigger-days")).await?.is_displayed().await?, "shown for a day count");
        c.find(Locator::Css("#trigger option[value=order_placed]")).await?.click().await?;
        // A condition step built with the segment builder, not JSON: its count shows live.
        c.find(Locator::Css("#add-kind option[value=check]")).await?.click().await?;
        c.find(Locator::Id("add-step")).await?.click().await?;
        c.wait().for_element(Locator::Css("[data-builder]")).await?;
        let built = c
            .execute(
                "const boxes = document.querySelectorAll('[data-builder]'); const box = boxes[boxes.length - 1];
                 const step = box.closest('li'); const pick = step.querySelector('select[name$=\".segment\"]');
                 pick.value = 'custom'; box.closest('details').open = true;
                 box.querySelector('.add-group').click();
                 return document.getElementById(box.dataset.target).value;",
                vec![],
            )
            .await?;
        let built = built.as_str().unwrap_or_default().to_string();
        assert!(built.contains("total_spent") && built.contains("gte"), "the builder wrote the filter: {built}");
        c.wait().for_element(Locator::Css("[id$='-live-total']")).await?;
        c.find(Locator::Css("#add-kind option[value=tag]")).await?.click().await?;
        c.find(Locator::Id("add-step")).await?.click().await?;
        c.wait().for_element(Locator::Css("input[name$='.tag_add']")).await?.send_keys("フォロー済み").await?;
        c.find(Locator::Id("save-scenario")).await?.click().await?;
        c.wait().for_element(Locator::Id("flash")).await?;
        let steps = text(&c, "#scenario-steps").await;
        assert!(steps.contains("タグを付ける: フォロー済み"), "the added step is last: {steps}");
        let id = c.current_url().await?.path().trim_start_matches("/scenarios/").to_string();
        let (_, sc) = t.get(&t.staff_token, &format!("/api/v1/scenarios/{id}")).await;
        assert!(sc.to_string().contains("total_spent"), "the built condition was saved: {sc}");
        c.find(Locator::Id("activate")).await?.click().await?;
        c.wait().for_element(Locator::Id("pause")).await?;
        assert_eq!(text(&c, "#scenario-status").await, "有効");
        let url = c.current_url().await?;

        let mut order = common::order_body(customer, None, 25_000);
        order.as_object_mut().unwrap().remove("ordered_at");
        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order).await;
        assert_eq!(s, 201, "{v}");
        t.app.automate_once().await.unwrap();
        c.goto(url.as_str()).await?;
        let runs = text(&c, "#run-counts").await;
        assert!(runs.contains("進行中 1") || runs.contains("進行中\t1"), "the customer entered: {runs}");
        assert!(text(&c, "#sent-counts").await.contains('1'), "the thank-you went (test mode)");

        // The night's analysis sees the big order: a valuable customer, so a call.
        t.app.refresh_metrics(&Actor::system("test")).await.unwrap();
        clock.advance(chrono::Duration::days(2));
        t.app.automate_once().await.unwrap();
        c.goto(&t.url("/tasks?view=all")).await?;
        c.wait().for_element(Locator::Id("task-list")).await?;
        let card = text(&c, "#task-list .task").await;
        assert!(card.contains("大口 様子 様") && card.contains("電話") && card.contains("購入後フォロー"), "{card}");
        c.find(Locator::Css("#task-list textarea")).await?.send_keys("届いていて満足とのこと").await?;
        c.find(Locator::Css("#task-list button[value=done]")).await?.click().await?;
        c.wait().for_element(Locator::Id("flash")).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    };
    run.await.unwrap();
    let (_, timeline) = t.get(&t.staff_token, &format!("/api/v1/customers/{customer}/timeline")).await;
    assert!(timeline.to_string().contains("届いていて満足とのこと"), "{timeline}");
    c.close().await.unwrap();
}

/// The counter screen in Chromium: the customer found by phone, a sale typed the Japanese way
/// (２ of a product, ３００ points, one 回数券 visit) and sent twice at once from the page (a
/// double tap) is recorded once; on a 390 px phone the sale button is on screen and the page
/// does not scroll sideways.
#[tokio::test]
async fn the_counter_records_a_double_tapped_sale_once() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn("sqlite").await;
    let (s, p) = t
        .post(&t.owner_token, "/api/v1/products", &json!({"name": "ブレンド豆", "unit_price": 1620, "tax_rate": 8}))
        .await;
    assert_eq!(s, 201, "{p}");
    let id = t.customer(json!({"family_name": "森", "given_name": "花子", "phone": "090-6000-0002"})).await;
    let (s, _) = t
        .post(&t.staff_token, &format!("/api/v1/customers/{id}/points/grants"), &json!({"points": 500, "reason": "x"}))
        .await;
    assert_eq!(s, 201);
    let (_, plan) = t
        .post(
            &t.owner_token,
            "/api/v1/ticket-plans",
            &json!({"name": "3回券", "visits": 3, "price": 9000, "valid_months": 6}),
        )
        .await;
    let (_, ticket, _) =
        t.post_keyed(&format!("/api/v1/customers/{id}/tickets"), Some("sell"), &json!({"plan_id": plan["id"]})).await;
    let ticket = ticket["id"].as_i64().unwrap();

    let result = async {
        log_in(&c, &t, "/counter", "staff").await?;
        c.wait().for_element(Locator::Id("counter-q")).await?.send_keys("09060000002").await?;
        c.find(Locator::Css("#counter-find button")).await?.click().await?;
        c.wait().for_element(Locator::Id("sale-form")).await?;
        assert_eq!(text(&c, "#card-points").await, "500 pt");
        c.find(Locator::Id(&format!("qty-{}", p["id"]))).await?.send_keys("２").await?;
        c.find(Locator::Id("sale-points")).await?.send_keys("３００").await?;
        c.find(Locator::Id(&format!("sale-ticket-{ticket}"))).await?.click().await?;
        // Two submissions of the same form at the same moment, as a double tap sends them.
        let landed = c
            .execute_async(
                "const done = arguments[arguments.length - 1]; const f = document.getElementById('sale-form');
                 const send = () => fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f))});
                 Promise.all([send(), send()]).then(rs => done(rs.map(r => r.url)));",
                vec![],
            )
            .await?;
        let urls: Vec<String> = serde_json::from_value(landed).unwrap();
        assert_eq!(urls[0], urls[1], "both land on the same receipt");
        c.goto(&urls[0]).await?;
        assert_eq!(text(&c, "#receipt-total").await, "¥3,240");
        assert_eq!(text(&c, "#receipt-pay").await, "¥2,940");
        // A phone: the sale button within the screen, no sideways scrolling.
        c.set_window_size(390, 844).await?;
        let fits = c
            .execute(
                "const b = document.getElementById('sale-submit').getBoundingClientRect();
                 return [b.right <= window.innerWidth, document.documentElement.scrollWidth <= window.innerWidth];",
                vec![],
            )
            .await?;
        assert_eq!(fits, json!([true, true]), "the counter fits a 390 px phone");
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts")).ok();
        let png = c.screenshot().await?;
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/e2e-artifacts/counter-phone.png"), png).ok();
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    let (_, orders) = t.get(&t.staff_token, &format!("/api/v1/orders?customer_id={id}")).await;
    assert_eq!(orders["total"], json!(1), "one order for the double tap");
    let (_, tk) = t.get(&t.staff_token, &format!("/api/v1/tickets/{ticket}")).await;
    assert_eq!(tk["remaining"], json!(2), "one visit taken");
    let (_, points) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}/points")).await;
    assert_eq!(points["redemptions"].as_array().unwrap().len(), 1, "points used once: {points}");
}

/// The customer form fills 都道府県, 市区町村 and 町域 from a postal code typed the Japanese way,
/// never over what the user typed; a code of many 町域 offers them as choices. Saved, the
/// customer has the address.
#[tokio::test]
async fn the_customer_form_fills_the_address_from_the_postal_code() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn("sqlite").await;
    let value = |id: &'static str| {
        let c = c.clone();
        async move { c.find(Locator::Id(id)).await?.prop("value").await.map(Option::unwrap_or_default) }
    };
    let result = async {
        log_in(&c, &t, "/customers/new", "staff").await?;
        c.wait().for_element(Locator::Id("customer-form")).await?;
        c.find(Locator::Id("f-family")).await?.send_keys("郵便").await?;
        c.find(Locator::Id("f-postal")).await?.send_keys("１０４－００６１").await?;
        for _ in 0..50 {
            if value("f-street").await? == "銀座" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(value("f-prefecture").await?, "東京都");
        assert_eq!(value("f-city").await?, "中央区");
        assert_eq!(value("f-street").await?, "銀座");
        // The user adds the block number; another code then leaves the typed street alone.
        c.find(Locator::Id("f-street")).await?.send_keys("1-2-3").await?;
        let postal = c.find(Locator::Id("f-postal")).await?;
        postal.clear().await?;
        postal.send_keys("452-0961").await?;
        for _ in 0..50 {
            if value("f-city").await? == "清須市" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(value("f-prefecture").await?, "愛知県", "filled by the last lookup, so replaced");
        assert_eq!(value("f-city").await?, "清須市");
        assert_eq!(value("f-street").await?, "銀座1-2-3", "what the user typed stays");
        let towns = c.find_all(Locator::Css("#f-towns option")).await?.len();
        assert!(towns > 50, "the code's 町域 offered as choices: {towns}");
        c.find(Locator::Id("customer-save")).await?.click().await?;
        c.wait().for_element(Locator::Id("customer-name")).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    let id = t.app.search_customers("郵便", 10, 0).await.unwrap().items[0].id;
    let saved = t.app.get_customer(id).await.unwrap().profile;
    assert_eq!(
        (saved.postal_code.as_deref(), saved.prefecture.as_deref(), saved.city.as_deref(), saved.street.as_deref()),
        (Some("452-0961"), Some("愛知県"), Some("清須市"), Some("銀座1-2-3"))
    );
}

/// Refused forms as a shop owner meets them on a phone, in Japanese and in English: the page
/// comes back with everything typed still there and each problem shown right under its own
/// field (not at the top of the page), in the reader's language; nothing is saved.
#[tokio::test]
async fn refused_forms_keep_what_was_typed_with_each_problem_under_its_field() {
    let profile = tempfile::tempdir().unwrap();
    let Some((c, _driver)) = start_browser(profile.path()).await else { return };
    let t = common::spawn("sqlite").await;
    let id = t.customer(json!({"family_name": "森", "given_name": "花", "phone": "090-5000-0001"})).await;
    // Where a field's problem is drawn: under its input, inside the screen's width.
    let under = |input: &'static str, error: &'static str| {
        let c = c.clone();
        async move {
            let v = c
                .execute(
                    "const i = document.querySelector(arguments[0]).getBoundingClientRect();
                     const e = document.getElementById(arguments[1]);
                     if (!e) return null;
                     const b = e.getBoundingClientRect();
                     return [b.top >= i.bottom - 1 && b.top <= i.bottom + 40, b.right <= document.documentElement.clientWidth + 1, e.textContent];",
                    vec![json!(input), json!(error)],
                )
                .await?;
            Ok::<_, fantoccini::error::CmdError>(v)
        }
    };
    let value = |css: &'static str| {
        let c = c.clone();
        async move { c.find(Locator::Css(css)).await?.prop("value").await.map(Option::unwrap_or_default) }
    };
    let result = async {
        c.set_window_size(390, 844).await?;
        log_in(&c, &t, "/customers/new", "staff").await?;
        c.wait().for_element(Locator::Id("customer-form")).await?;
        c.find(Locator::Id("f-family")).await?.send_keys("山田").await?;
        c.find(Locator::Id("f-phone")).await?.send_keys("０９０－１２").await?;
        c.find(Locator::Id("f-birthday")).await?.send_keys("昭和55年13月1日").await?;
        c.find(Locator::Id("customer-save")).await?.click().await?;
        c.wait().for_element(Locator::Id("error-phone")).await?;
        for (input, error) in [("#f-phone", "error-phone"), ("#f-birthday", "error-birthday")] {
            let v = under(input, error).await?;
            assert_eq!((&v[0], &v[1]), (&json!(true), &json!(true)), "{error} under its field, on screen: {v}");
        }
        assert_eq!(value("#f-family").await?, "山田", "typed values kept");
        assert_eq!(value("#f-phone").await?, "０９０－１２");
        assert_eq!(value("#f-birthday").await?, "昭和55年13月1日");

        // In English, on the customer page: points that cannot be read, said under the field.
        c.goto(&t.url(&format!("/lang/en?next=/customers/{id}"))).await?;
        c.wait().for_element(Locator::Css("html[lang=en]")).await?;
        c.wait().for_element(Locator::Id("points-adjust")).await?;
        c.find(Locator::Id("points-amount")).await?.send_keys("lots").await?;
        c.find(Locator::Id("points-reason")).await?.send_keys("birthday").await?;
        c.find(Locator::Id("points-submit")).await?.click().await?;
        c.wait().for_element(Locator::Id("error-points")).await?;
        let v = under("#points-amount", "error-points").await?;
        assert_eq!((&v[0], &v[1]), (&json!(true), &json!(true)), "under the points, on screen: {v}");
        let said = v[2].as_str().unwrap_or_default();
        assert!(
            !said.is_empty() && !said.chars().any(|ch| ('\u{3040}'..='\u{30ff}').contains(&ch)),
            "in English: {said}"
        );
        assert_eq!(value("#points-amount").await?, "lots");
        assert_eq!(value("#points-reason").await?, "birthday");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    c.close().await.ok();
    result.unwrap();
    assert!(t.app.search_customers("山田", 10, 0).await.unwrap().items.is_empty(), "nothing saved");
    assert_eq!(t.app.points_account(id).await.unwrap().free.available, 0, "no points granted");
}
