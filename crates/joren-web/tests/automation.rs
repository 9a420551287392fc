//! The work Joren does by itself (issue #17): the job queue the scheduled work runs on, with a
//! clock the tests move. Both backends.

#[path = "automation/cases.rs"]
mod cases;
mod common;
#[path = "automation/conversations.rs"]
mod conversations;
#[path = "automation/editor.rs"]
mod editor;
#[path = "automation/engine.rs"]
mod engine;
#[path = "automation/letters.rs"]
mod letters;
#[path = "automation/line.rs"]
mod line;
#[path = "automation/line_push.rs"]
mod line_push;
#[path = "automation/mail_replies.rs"]
mod mail_replies;
#[path = "automation/mail_settings.rs"]
mod mail_settings;
#[path = "automation/referrals.rs"]
mod referrals;
#[path = "automation/sends.rs"]
mod sends;
#[path = "automation/sms.rs"]
mod sms;
#[path = "automation/stages.rs"]
mod stages;
#[path = "automation/surveys.rs"]
mod surveys;
#[path = "automation/triggers.rs"]
mod triggers;
#[path = "automation/webhooks.rs"]
mod webhooks;

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

        // The first pass enqueues the minute's expiry and case escalation, the day's rank
        // review and birthday points, the night's snapshot and the hour's clean-up, and does
        // them.
        let pass = t.app.work_once("w1", 100).await.unwrap();
        assert_eq!(pass, WorkPass { scheduled: 7, done: 7, failed: 0, fenced: 0 }, "[{b}]");
        assert_eq!(available_points(&t, c).await, json!(300), "[{b}] birthday points granted");
        assert!(t.app.latest_snapshot().await.unwrap().is_some(), "[{b}] the snapshot ran");
        let key = format!("ranks.evaluate:{today}");
        assert_eq!(t.app.store.job_by_dedupe_key(&key).await.unwrap().unwrap().state, JobState::Done, "[{b}]");

        // Asked again in the same minute — by this worker or another process — nothing new.
        assert_eq!(t.app.work_once("w2", 100).await.unwrap(), WorkPass::default(), "[{b}]");
        // The next minute: only the minute's expiry and escalation runs.
        clock.advance(chrono::Duration::minutes(1));
        assert_eq!(
            t.app.work_once("w1", 100).await.unwrap(),
            WorkPass { scheduled: 2, done: 2, ..WorkPass::default() }
        );
        // Tomorrow at 02:00: a new day's review and birthday job, a new hour, a new minute; the
        // night's snapshot still belongs to today (it comes after 03:00).
        clock.set(start + chrono::Duration::hours(17) - chrono::Duration::minutes(5));
        assert_eq!(clock.now().with_timezone(&t.app.config.time_zone).hour(), 2);
        assert_eq!(
            t.app.work_once("w1", 100).await.unwrap().scheduled,
            6,
            "[{b}] review, birthdays, daily scenarios, hour, the minute's two"
        );
        clock.advance(chrono::Duration::hours(1));
        let snapshots_before = t.app.latest_snapshot().await.unwrap().unwrap().id;
        assert_eq!(
            t.app.work_once("w1", 100).await.unwrap().scheduled,
            4,
            "[{b}] 03:00: the minute's two, hour and the snapshot"
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
        assert_eq!(
            k,
            ["customer.created", "order.placed", "rank.changed"],
            "[{b}] the customer, one order, its rank-up; nothing for the replay: {v}"
        );
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
                "customer.created",
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
        // The order's total is the order's (read for the batch of runs, not per run).
        let (_, order) = t.get(&t.staff_token, &format!("/api/v1/orders/{first}")).await;
        let (_, out) = t.get(&t.staff_token, &format!("/api/v1/outbox?scenario_id={id}")).await;
        let text = out["items"][0]["body_text"].as_str().unwrap();
        assert!(text.contains(&format!("\n{}円のご注文", order["total"])), "[{b}] {text} / {order}");
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
