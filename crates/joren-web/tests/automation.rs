//! The work Joren does by itself (issue #17): the job queue the scheduled work runs on, with a
//! clock the tests move. Both backends.

mod common;
#[path = "automation/editor.rs"]
mod editor;
#[path = "automation/letters.rs"]
mod letters;
#[path = "automation/triggers.rs"]
mod triggers;

use chrono::{TimeZone, Timelike};
use common::{backends, spawn_with};
use joren_app::AppConfig;
use joren_app::clock::Clock;
use joren_app::jobs::{JobState, WorkPass};
use serde_json::json;

/// Today (by the real date, so sessions made now stay valid) at `h:m` in Tokyo.
fn tokyo_today_at(h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    let tz = joren_app::AppConfig::default().time_zone;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    tz.from_local_datetime(&today.and_hms_opt(h, m, 0).unwrap()).unwrap().with_timezone(&chrono::Utc)
}

#[tokio::test]
async fn scheduled_work_is_enqueued_once_per_key_and_done_once_on_its_day() {
    for b in backends() {
        let start = tokyo_today_at(9, 5);
        let clock = Clock::manual(start);
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        let today = t.app.today_date();
        // A customer whose birthday is today, with 300 birthday points in the programme.
        let born = chrono::NaiveDate::from_ymd_opt(1984, 1, 1).unwrap() + chrono::Days::new(0);
        let born = born.with_month_day(today);
        let c = t
            .customer(json!({"family_name": "誕生", "given_name": "花子", "phone": "090-4300-0001", "birthday": born.to_string()}))
            .await;
        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        p["birthday_bonus"] = json!({"points": 300, "timing": "day"});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "[{b}] {v}");

        // The first pass enqueues the minute's expiry, the day's rank review and birthday
        // points, the night's snapshot and the hour's clean-up, and does them.
        let pass = t.app.work_once("w1", 100).await.unwrap();
        assert_eq!(pass, WorkPass { scheduled: 6, done: 6, failed: 0, fenced: 0 }, "[{b}]");
        assert_eq!(available_points(&t, c).await, json!(300), "[{b}] birthday points granted");
        assert!(t.app.latest_snapshot().await.unwrap().is_some(), "[{b}] the snapshot ran");
        let key = format!("ranks.evaluate:{today}");
        assert_eq!(t.app.store.job_by_dedupe_key(&key).await.unwrap().unwrap().state, JobState::Done, "[{b}]");

        // Asked again in the same minute — by this worker or another process — nothing new.
        assert_eq!(t.app.work_once("w2", 100).await.unwrap(), WorkPass::default(), "[{b}]");
        // The next minute: only the expiry run.
        clock.advance(chrono::Duration::minutes(1));
        assert_eq!(
            t.app.work_once("w1", 100).await.unwrap(),
            WorkPass { scheduled: 1, done: 1, ..WorkPass::default() }
        );
        // Tomorrow at 02:00: a new day's review and birthday job, a new hour, a new minute; the
        // night's snapshot still belongs to today (it comes after 03:00).
        clock.set(start + chrono::Duration::hours(17) - chrono::Duration::minutes(5));
        assert_eq!(clock.now().with_timezone(&t.app.config.time_zone).hour(), 2);
        assert_eq!(
            t.app.work_once("w1", 100).await.unwrap().scheduled,
            5,
            "[{b}] review, birthdays, daily scenarios, hour, minute"
        );
        clock.advance(chrono::Duration::hours(1));
        let snapshots_before = t.app.latest_snapshot().await.unwrap().unwrap().id;
        assert_eq!(
            t.app.work_once("w1", 100).await.unwrap().scheduled,
            3,
            "[{b}] 03:00: minute, hour and the snapshot"
        );
        assert!(t.app.latest_snapshot().await.unwrap().unwrap().id > snapshots_before, "[{b}]");
        assert_eq!(available_points(&t, c).await, json!(300), "[{b}] the birthday is paid once");

        // The owner sees it all on the page, in words, not codes.
        let cookie = t.login_cookie("owner").await;
        let page = t.client.get(t.url("/jobs")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200, "[{b}]");
        let html = page.text().await.unwrap();
        for words in ["自動処理", "ランクの見直し", "誕生日ポイント", "分析の更新 (毎晩)", "完了"]
        {
            assert!(html.contains(words), "[{b}] the page says {words}");
        }
        for code in ["ranks.evaluate", "points.birthdays", "metrics.snapshot", ">done<"] {
            assert!(!html.contains(code), "[{b}] no code on the page: {code}");
        }
        let staff = t.login_cookie("staff").await;
        let r = t.client.get(t.url("/jobs")).header("cookie", &staff).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "[{b}] owners only");
    }
}

#[tokio::test]
async fn failing_work_backs_off_then_stops_with_its_reason_and_an_owner_retries_it() {
    for b in backends() {
        let clock = Clock::manual(tokyo_today_at(10, 0));
        let t = spawn_with(b, AppConfig { clock: clock.clone(), ..AppConfig::default() }).await;
        t.app.work_once("w1", 100).await.unwrap();
        // A rank review whose day cannot be read fails every time it runs.
        let now = clock.now_ms();
        let broken = joren_app::jobs::NewJob {
            kind: "ranks.evaluate".into(),
            dedupe_key: Some("ranks.evaluate:broken".into()),
            payload: json!({"date": "the 31st of never"}),
            run_at_ms: now,
            max_attempts: 3,
        };
        let id = t.app.store.enqueue_job(&broken, now).await.unwrap().unwrap();
        // An unknown kind (written by a newer version, say) stops at once: retrying cannot help.
        let unknown = joren_app::jobs::NewJob {
            kind: "mail.send".into(),
            dedupe_key: None,
            payload: json!({}),
            run_at_ms: now,
            max_attempts: 5,
        };
        let stranger = t.app.store.enqueue_job(&unknown, now).await.unwrap().unwrap();
        let pass = t.app.run_due_jobs("w1", 100).await.unwrap();
        assert_eq!((pass.done, pass.failed), (0, 2), "[{b}]");
        let job = t.app.store.get_job(stranger).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Dead, 1), "[{b}]");
        assert!(job.last_error.unwrap().contains("unknown job kind mail.send"), "[{b}]");

        // The broken one waits (at most 30 s the first time), is tried again, then stops.
        let job = t.app.store.get_job(id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Queued, "[{b}]");
        assert!(job.run_at_ms > now && job.run_at_ms <= now + 30_000, "[{b}] backoff {}", job.run_at_ms - now);
        assert_eq!(t.app.run_due_jobs("w1", 100).await.unwrap().failed, 0, "[{b}] not before its time");
        for _ in 0..2 {
            clock.advance(chrono::Duration::hours(2));
            assert_eq!(t.app.run_due_jobs("w1", 100).await.unwrap().failed, 1, "[{b}]");
        }
        let job = t.app.store.get_job(id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Dead, 3), "[{b}]");
        assert!(job.last_error.as_deref().unwrap_or_default().contains("has no date"), "[{b}] {job:?}");

        // The API lists it for owners; staff may not; a wrong filter is named.
        let (s, v) = t.get(&t.owner_token, "/api/v1/jobs?state=dead").await;
        assert_eq!((s, v["counts"]["dead"].as_i64()), (200, Some(2)), "[{b}] {v}");
        assert_eq!(v["items"].as_array().unwrap().len(), 2, "[{b}]");
        assert_eq!(t.get(&t.staff_token, "/api/v1/jobs").await.0, 403, "[{b}]");
        let (s, v) = t.get(&t.owner_token, "/api/v1/jobs?state=stuck").await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("state")), "[{b}] {v}");
        let done = t.app.store.job_by_dedupe_key(&format!("ranks.evaluate:{}", t.app.today_date())).await;
        let done = done.unwrap().unwrap().id;
        let (s, v) = t.post(&t.owner_token, &format!("/api/v1/jobs/{done}/retry"), &json!({})).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (409, Some("conflict")),
            "[{b}] only a stopped job is retried: {v}"
        );

        // The page shows the reason and a retry button; the retry queues it again, audited.
        let cookie = t.login_cookie("owner").await;
        let html = t.client.get(t.url("/jobs?state=dead")).header("cookie", &cookie).send().await.unwrap();
        let html = html.text().await.unwrap();
        assert!(html.contains("停止 (要確認)") && html.contains("has no date"), "[{b}]");
        assert!(html.contains(&format!("id=\"job-retry-{id}\"")), "[{b}] a retry button");
        let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let r = t
            .client
            .post(t.url(&format!("/jobs/{id}/retry")))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "[{b}]");
        let job = t.app.store.get_job(id).await.unwrap().unwrap();
        assert_eq!((job.state, job.run_at_ms), (JobState::Queued, clock.now_ms()), "[{b}]");
        let (_, audit) = t.get(&t.owner_token, &format!("/api/v1/audit?entity=job&entity_id={id}")).await;
        assert_eq!(audit["items"][0]["action"], "job.retry", "[{b}] {audit}");
        // It runs again (and, still broken, fails again: a fourth attempt).
        assert_eq!(t.app.run_due_jobs("w1", 100).await.unwrap().failed, 1, "[{b}]");
        assert_eq!(t.app.store.get_job(id).await.unwrap().unwrap().attempts, 4, "[{b}]");
    }
}

async fn available_points(t: &common::TestApp, customer: i64) -> serde_json::Value {
    t.get(&t.owner_token, &format!("/api/v1/customers/{customer}/points")).await.1["free"]["available"].clone()
}

trait WithMonthDay {
    fn with_month_day(self, of: chrono::NaiveDate) -> chrono::NaiveDate;
}

impl WithMonthDay for chrono::NaiveDate {
    /// This date's year with `of`'s month and day (1984 is a leap year, so 29 February exists).
    fn with_month_day(self, of: chrono::NaiveDate) -> chrono::NaiveDate {
        use chrono::Datelike;
        chrono::NaiveDate::from_ymd_opt(self.year(), of.month(), of.day()).unwrap()
    }
}

/// Every change a scenario can react to writes its event in the change's own transaction: one
/// event per change, none for a replay or a refusal, none for imported history.
#[tokio::test]
async fn changes_write_their_events_once_with_the_change() {
    for b in backends() {
        let t = spawn_with(b, AppConfig::default()).await;
        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        p["ranks"] = json!({"enabled": true, "measure": "spend", "window": {"kind": "calendar_year"},
            "tiers": [{"name": "レギュラー", "threshold": 0, "points_multiplier_percent": 100},
                      {"name": "シルバー", "threshold": 30000, "points_multiplier_percent": 120}],
            "grace_reviews": 1, "step_down_one": false});
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "[{b}] {v}");

        let c = t.customer(json!({"family_name": "出来事", "given_name": "一", "phone": "090-4400-0001"})).await;
        let now = t.app.now().to_rfc3339();
        let mut order = common::order_body(c, Some("EV-1"), 20_000);
        order["ordered_at"] = json!(now);
        let (s, o, again) = t.post_keyed("/api/v1/orders", Some("ev-1"), &order).await;
        assert_eq!((s, again), (201, false), "[{b}] {o}");
        let (s, _, again) = t.post_keyed("/api/v1/orders", Some("ev-1"), &order).await;
        assert_eq!((s, again), (201, true), "[{b}] a replay");
        let mut clash = order.clone();
        clash["items"][0]["quantity"] = json!(3);
        assert_eq!(t.post_keyed("/api/v1/orders", Some("ev-1"), &clash).await.0, 409, "[{b}] refused");
        let (k, v) = kinds(&t, c).await;
        assert_eq!(k, ["order.placed", "rank.changed"], "[{b}] one order, its rank-up; nothing for the replay: {v}");
        let placed = &v["items"][1];
        assert_eq!((&placed["entity"], &placed["entity_id"]), (&json!("order"), &json!(o["id"].to_string())), "[{b}]");
        assert_eq!(v["items"][0]["payload"]["to"], "シルバー", "[{b}] {v}");

        let id = o["id"].as_i64().unwrap();
        let mut second = common::order_body(c, Some("EV-2"), 1000);
        second["ordered_at"] = json!(now);
        let (s, o2) = t.post(&t.staff_token, "/api/v1/orders", &second).await;
        assert_eq!(s, 201, "[{b}] {o2}");
        let refund = json!({"amount": 1000, "reason": "破損"});
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/orders/{}/refunds", o2["id"]), &refund).await;
        assert_eq!(s, 201, "[{b}] a refund is a new entry");
        let too_much = json!({"amount": 999_999, "reason": "x"});
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/orders/{}/refunds", o2["id"]), &too_much).await;
        assert_eq!(s, 422, "[{b}] a refused refund writes nothing");
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/orders/{id}/cancel"), &json!({"reason": "返品"})).await;
        assert_eq!(s, 200, "[{b}]");
        // The audit entries were written with the adjustments: one each, by the staff member.
        for (order, action) in [(o2["id"].as_i64().unwrap(), "order.refund"), (id, "order.cancel")] {
            let (_, audit) = t.get(&t.owner_token, &format!("/api/v1/audit?entity=order&entity_id={order}")).await;
            let entries: Vec<_> = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == action).collect();
            assert_eq!(entries.len(), 1, "[{b}] {audit}");
            assert_eq!(entries[0]["actor"], "staff", "[{b}] {audit}");
        }
        let (s, _) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{c}/consents/email"),
                &json!({"granted": true, "source": "store-form"}),
            )
            .await;
        assert_eq!(s, 200, "[{b}]");
        let (_, plan) = t
            .post(
                &t.owner_token,
                "/api/v1/membership-plans",
                &json!({"name": "月額会員", "price": 3300, "period_months": 1}),
            )
            .await;
        let (s, _, _) = t
            .post_keyed(&format!("/api/v1/customers/{c}/memberships"), Some("m-1"), &json!({"plan_id": plan["id"]}))
            .await;
        assert_eq!(s, 201, "[{b}]");
        let (k, v) = kinds(&t, c).await;
        assert_eq!(
            k,
            [
                "order.placed",
                "rank.changed",
                "order.placed",
                "order.refunded",
                "order.cancelled",
                "consent.changed",
                "membership.changed"
            ],
            "[{b}] {v}"
        );
        assert_eq!(
            (&v["items"][3]["kind"], &v["items"][3]["payload"]["amount"]),
            (&json!("order.refunded"), &json!(1000)),
            "[{b}]"
        );
        assert_eq!(v["items"][1]["payload"]["source"], "store-form", "[{b}] {v}");

        // Points granted by hand (a retried grant writes one event) and the nightly expiry
        // (one event for the customer, with what it expired).
        let grant = json!({"points": 300, "reason": "お詫び"});
        for _ in 0..2 {
            let (s, g, _) = t.post_keyed(&format!("/api/v1/customers/{c}/points/grants"), Some("g-1"), &grant).await;
            assert_eq!(s, 201, "[{b}] {g}");
        }
        let (_, before) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/points")).await;
        let run = t.app.store.expire_points(t.app.today_date() + chrono::Duration::days(3_000)).await.unwrap();
        assert!(run.points > 0, "[{b}] everything expires in eight years: {before}");
        let (k, v) = kinds(&t, c).await;
        assert_eq!(&k[k.len() - 2..], ["points.granted", "points.expired"], "[{b}] {v}");
        assert_eq!(k.iter().filter(|k| *k == "points.granted").count(), 1, "[{b}] the replay wrote none");
        assert_eq!(v["items"][0]["payload"]["points"], json!(run.points), "[{b}] {v}");
        assert_eq!(v["items"][1]["payload"]["reason"], "お詫び", "[{b}] {v}");

        // Imported orders are history: they raise no order.placed.
        let day = t.app.today_date();
        let csv = format!(
            "order_id,customer_id,ordered_at,line_amount,refunded_amount,cancelled_at\n\
             IMP-1,HIST-1,{day},5000,,\nIMP-2,HIST-1,{day},5000,1000,\nIMP-3,HIST-1,{day},5000,,{day}\n"
        );
        let report = t.import_orders(csv).await;
        assert_eq!(report["rejected"].as_array().map(Vec::len), Some(0), "[{b}] {report}");
        let (_, imported) = t.get(&t.staff_token, "/api/v1/orders?limit=3").await;
        let statuses: Vec<_> = imported["items"].as_array().unwrap().iter().map(|o| o["status"].clone()).collect();
        assert!(
            statuses.contains(&json!("cancelled")) && statuses.contains(&json!("partially_refunded")),
            "[{b}] {imported}"
        );
        let pending = t.app.store.pending_events(1000).await.unwrap();
        assert_eq!(pending.iter().filter(|e| e.kind == "order.refunded").count(), 1, "[{b}] only the live refund");
        assert_eq!(pending.iter().filter(|e| e.kind == "order.cancelled").count(), 1, "[{b}] only the live cancel");
        assert_eq!(pending.iter().filter(|e| e.kind == "order.placed").count(), 2, "[{b}] only the live orders");
        assert!(pending.windows(2).all(|w| w[0].id < w[1].id), "[{b}] oldest first");
        assert_eq!(t.get(&t.staff_token, "/api/v1/customers/999999/events").await.0, 404, "[{b}]");
    }
}

/// A customer's event kinds, oldest first, and the API's answer (newest first).
async fn kinds(t: &common::TestApp, c: i64) -> (Vec<String>, serde_json::Value) {
    let (s, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/events")).await;
    assert_eq!(s, 200, "{v}");
    let mut k: Vec<String> =
        v["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    k.reverse();
    (k, v)
}

/// A manual-clock app whose mail goes to a real SMTP server on loopback.
async fn spawn_mailing(b: &'static str, clock: &Clock, smtp: &common::smtp::SmtpServer) -> common::TestApp {
    let mail = joren_app::mail::MailConfig {
        transport: joren_app::mail::MailConfig::parse_transport(&smtp.url()).unwrap(),
        from_address: "info@kissa.example.jp".into(),
        shop_name: "喫茶ジョーレン".into(),
        postal_address: "〒600-8001 京都府京都市下京区四条通1-1".into(),
        ..Default::default()
    };
    spawn_with(b, AppConfig { clock: clock.clone(), mail, ..AppConfig::default() }).await
}

/// A customer with an email address and, if `consent`, a recorded email opt-in.
async fn mail_customer(t: &common::TestApp, email: &str, consent: bool) -> i64 {
    t.customer(json!({"family_name": "佐藤", "given_name": "花子", "email": email, "consents": {"email": consent}}))
        .await
}

async fn scenario(t: &common::TestApp, name: &str, definition: serde_json::Value) -> i64 {
    let (s, v) = t.post(&t.staff_token, "/api/v1/scenarios", &json!({"name": name, "definition": definition})).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, v) = t.post(&t.staff_token, &format!("/api/v1/scenarios/{id}/activate"), &json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "active");
    id
}

async fn place_order(t: &common::TestApp, customer: i64) -> i64 {
    let mut body = common::order_body(customer, None, 1200);
    body.as_object_mut().unwrap().remove("ordered_at");
    let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// Runs the engine until it has nothing left to do now.
async fn settle(t: &common::TestApp) {
    for _ in 0..20 {
        let p = t.app.automate_once().await.unwrap();
        if p.events + p.steps + p.messages == 0 {
            return;
        }
    }
    panic!("the engine did not settle");
}

fn subjects(smtp: &common::smtp::SmtpServer) -> Vec<String> {
    smtp.received().iter().map(|m| m.subject()).collect()
}

#[tokio::test]
async fn the_post_purchase_timeline_sends_each_step_once_on_its_day_over_smtp() {
    for b in backends() {
        let smtp = common::smtp::SmtpServer::start();
        let start = tokyo_today_at(10, 0);
        let clock = Clock::manual(start);
        let t = spawn_mailing(b, &clock, &smtp).await;
        let c = mail_customer(&t, "hanako@example.jp", true).await;
        // An order from before the scenario was switched on is not answered by it.
        place_order(&t, c).await;
        let id = scenario(
            &t,
            "購入後フォロー",
            json!({
                "trigger": {"kind": "order_placed"},
                "steps": [
                    {"type": "email", "subject": "ご購入ありがとうございます", "body": "{{ name }}\n{{ order_total }}円のご注文を承りました。", "marketing": false},
                    {"type": "wait", "days": 2},
                    {"type": "email", "subject": "届きましたか", "body": "{{ name }}、{{ last_item }}はいかがですか。"},
                    {"type": "task", "task": "call", "title": "{{ name }}に使い心地の確認", "due_days": 1},
                    {"type": "wait", "days": 5},
                    {"type": "email", "subject": "使い方のヒント", "body": "{{ shop_name }}より"}
                ]
            }),
        )
        .await;
        let first = place_order(&t, c).await;
        settle(&t).await;
        assert_eq!(
            subjects(&smtp),
            ["ご購入ありがとうございます"],
            "[{b}] the thank-you goes at once, for the new order only"
        );
        let thanks = &smtp.received()[0];
        assert_eq!(thanks.to, ["hanako@example.jp"]);
        assert!(thanks.header("From").unwrap().contains("info@kissa.example.jp"));
        assert!(thanks.header("List-Unsubscribe").is_none(), "[{b}] transactional mail has no opt-out link");
        // Running again (a retry, a second worker) sends nothing more.
        settle(&t).await;
        assert_eq!(smtp.received().len(), 1, "[{b}]");

        clock.advance(chrono::Duration::days(1));
        settle(&t).await;
        assert_eq!(smtp.received().len(), 1, "[{b}] nothing on day 1");
        clock.advance(chrono::Duration::days(1));
        settle(&t).await;
        assert_eq!(subjects(&smtp).len(), 2, "[{b}] day 2: the arrival check");
        let check = &smtp.received()[1];
        let unsub = check.header("List-Unsubscribe").expect("marketing mail carries List-Unsubscribe");
        assert_eq!(check.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={id}&state=sent")).await;
        let text = out["items"][0]["body_text"].as_str().unwrap();
        assert!(text.starts_with("佐藤 花子 様、ブレンド 200gはいかがですか。"), "[{b}] {text}");
        let (_, one) = t.get(&t.staff_token, &format!("/api/v1/outbox/{}", out["items"][0]["id"])).await;
        assert_eq!(one["body_text"].as_str(), Some(text), "[{b}] one message reads its text too");
        assert!(one["body_html"].as_str().unwrap().contains("<br>"), "[{b}] and its HTML part");
        for must in ["喫茶ジョーレン", "〒600-8001", "info@kissa.example.jp", "配信の停止はこちら: http", "/u/"]
        {
            assert!(
                text.contains(must),
                "[{b}] a marketing mail names the sender, address and opt-out: {must} in {text}"
            );
        }

        // The call task is on the list for tomorrow, with its customer; done, it lands on the timeline.
        let (_, tasks) = t.get(&t.staff_token, "/api/v1/tasks?state=open").await;
        let task = &tasks["items"][0];
        assert_eq!(task["kind"], "call", "[{b}] {tasks}");
        assert_eq!(task["customer_id"], c);
        assert_eq!(task["title"], "佐藤 花子 様に使い心地の確認");
        assert_eq!(task["due_on"], (t.app.today_date() + chrono::Duration::days(1)).to_string());
        let path = format!("/api/v1/tasks/{}/finish", task["id"]);
        let (s, v) = t.post(&t.staff_token, &path, &json!({"state": "done", "outcome": "満足とのこと"})).await;
        assert_eq!((s, v["state"].as_str()), (200, Some("done")), "[{b}] {v}");
        let (s, _) = t.post(&t.staff_token, &path, &json!({"state": "done", "outcome": "again"})).await;
        assert_eq!(s, 409, "[{b}] a finished task cannot be finished twice");
        let (_, timeline) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/timeline")).await;
        assert!(timeline.to_string().contains("満足とのこと"), "[{b}] the outcome is on the timeline");

        // A second order runs its own timeline.
        place_order(&t, c).await;
        settle(&t).await;
        assert_eq!(subjects(&smtp).len(), 3, "[{b}] the second order's thank-you");

        // One click in the mail client unsubscribes, without a login, and stops the next send.
        let token = unsub.trim_matches(|ch| ch == '<' || ch == '>').rsplit("/u/").next().unwrap().to_string();
        let r = t.client.get(t.url(&format!("/u/{token}"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("unsub-form"), "[{b}] a GET only asks");
        let (_, cust) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}")).await;
        assert_eq!(cust["consents"][0]["granted"], true, "[{b}] a link scanner's GET unsubscribes nobody");
        let r = t
            .client
            .post(t.url(&format!("/u/{token}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "[{b}]");
        let r = t.client.post(t.url("/u/1.deadbeef")).form(&[("confirm", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 404, "[{b}] a forged token is refused");
        let (_, cust) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}")).await;
        assert_eq!(cust["consents"][0]["granted"], false, "[{b}] {cust}");
        assert_eq!(cust["consents"][0]["source"], "list_unsubscribe");

        // Day 4: the second order's arrival check is due — and suppressed, not sent.
        clock.advance(chrono::Duration::days(2));
        settle(&t).await;
        assert_eq!(subjects(&smtp).len(), 3, "[{b}] nothing after the unsubscribe");
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={id}")).await;
        assert_eq!(out["counts"]["sent"], 3, "[{b}] {out}");
        assert_eq!(out["counts"]["suppressed"], 1, "[{b}] {out}");
        // Day 7: the first order's tips mail would be due; the customer left? No exit rule, so
        // it is decided and suppressed too. Every decision is one outbox row, never two.
        clock.advance(chrono::Duration::days(4));
        settle(&t).await;
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={id}&limit=100")).await;
        let mut keys: Vec<String> =
            out["items"].as_array().unwrap().iter().map(|m| format!("{}:{}", m["occurrence"], m["step"])).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "[{b}] one row per (step, order)");
        assert_eq!(smtp.received().len(), 3, "[{b}]");
        let (_, report) = t.get(&t.staff_token, &format!("/api/v1/scenarios/{id}")).await;
        let done = report["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["state"] == "done")
            .map(|r| r["count"].as_i64().unwrap())
            .sum::<i64>();
        assert_eq!(done, 1, "[{b}] the first order's run finished: {report}");
        let _ = first;
    }
}

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
        let cookie = t.login_cookie("staff").await;
        let html = t
            .client
            .get(t.url(&format!("/scenarios/{held}")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("まだ人数が少なく"), "[{b}] the page says so in words");
        let _ = id;
    }
}

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
        other.deliver_messages().await.unwrap();
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
        other.deliver_messages().await.unwrap();
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
        let (s, location, _) = owner.post("/settings/mail/test", &[("to", "not-an-address")]).await;
        assert_eq!(s, 303, "[{b}]");
        let (_, html) = owner.page(&location).await;
        assert!(html.contains("id=\"form-error\"") && html.contains("value=\"not-an-address\""), "[{b}] {html}");
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

/// A paused scenario's due runs never hold up another's: more of them than one batch are due
/// first, and the active scenario's runs behind them still advance, over several batches of
/// one pass (each batch read after the last one's place in due order).
#[tokio::test]
async fn a_paused_scenarios_runs_do_not_hold_up_the_others() {
    use joren_core::customer::{CustomerInput, CustomerProfile};
    for b in backends() {
        let t = spawn_with(b, AppConfig::default()).await;
        let owner = joren_app::Actor::system("test");
        let n = 620; // more than one batch of the engine (500)
        let batch: Vec<_> = (0..n)
            .map(|i| {
                let input = CustomerInput {
                    family_name: Some(format!("顧客{i}")),
                    email: Some(format!("c{i}@example.jp")),
                    tags: Some(vec!["案内".into()]),
                    ..Default::default()
                };
                (input.apply(CustomerProfile::default()).unwrap(), vec![], vec![("email".to_string(), true)])
            })
            .collect();
        t.app.store.create_customers_batch(&batch, "test").await.unwrap();
        let seg = t
            .app
            .create_segment(
                &owner,
                &joren_app::segments::SegmentInput {
                    name: "案内".into(),
                    description: String::new(),
                    filter: json!({"all": [{"field": "tags", "op": "contains", "value": "案内"}]}),
                },
            )
            .await
            .unwrap();
        let mail = json!({"trigger": {"kind": "manual"}, "steps": [
            {"type": "email", "marketing": false, "subject": "お知らせ", "body": "{{ name }}"}]});
        let paused = scenario(&t, "止めたお知らせ", mail.clone()).await;
        let active = scenario(&t, "お知らせ", mail).await;
        assert_eq!(t.app.broadcast(&owner, paused, seg.id).await.unwrap(), n, "[{b}]");
        t.app.set_scenario_status(&owner, paused, joren_app::scenarios::Status::Paused).await.unwrap();
        assert_eq!(t.app.broadcast(&owner, active, seg.id).await.unwrap(), n, "[{b}]");
        let mut advanced = 0;
        loop {
            let k = t.app.advance_due_runs().await.unwrap();
            if k == 0 {
                break;
            }
            advanced += k;
        }
        assert_eq!(advanced, n as usize, "[{b}] every run of the active scenario, none of the paused one");
        let c = t.app.store.outbox_counts(Some(active)).await.unwrap();
        assert_eq!(c.queued, n as i64, "[{b}] one mail each");
        assert_eq!(t.app.store.outbox_counts(Some(paused)).await.unwrap().queued, 0, "[{b}]");
    }
}
