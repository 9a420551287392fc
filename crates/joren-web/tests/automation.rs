//! The work Joren does by itself (issue #17): the job queue the scheduled work runs on, with a
//! clock the tests move. Both backends.

mod common;

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
        assert_eq!(pass, WorkPass { scheduled: 5, done: 5, failed: 0, fenced: 0 }, "[{b}]");
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
        assert_eq!(t.app.work_once("w1", 100).await.unwrap().scheduled, 4, "[{b}]");
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
