//! Scheduled work on the store's job queue, and the worker that runs it.
//!
//! Every process that runs a worker (`joren serve`, `joren worker`) asks for the work due now
//! under a dedupe key — `points.expire:2026-03-01T09:05`, `ranks.evaluate:2026-03-01`,
//! `metrics.snapshot:2026-03-01` — so the work is enqueued once however many processes ask,
//! and done once by whichever worker claims it. Nothing lives in one process's memory: a
//! process that restarts, or a second one on the same PostgreSQL, picks up where the queue is.
//!
//! A job runs at least once (a worker can die after the work and before reporting it); every
//! handler here is idempotent (expiry and rank reviews re-check what is due, birthday points
//! are granted once per customer and year, a second snapshot of a day is harmless).

use chrono::{NaiveDate, Timelike};
use joren_store::ClaimedJob;
pub use joren_store::{Job, JobCounts, JobState, NewJob};
use rand::Rng;
use serde::Serialize;

use crate::{Actor, App, AppError, Result};

/// The kinds of scheduled work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobKind {
    /// Every minute: checkout holds that ran out are cancelled, points past their last day expire.
    PointsExpire,
    /// Daily: rank reviews and upgrades.
    RanksEvaluate,
    /// Daily: birthday points.
    PointsBirthdays,
    /// Nightly after 03:00 shop time: the metrics snapshot, then the customer-success stages.
    MetricsSnapshot,
    /// Hourly: old idempotency keys, sessions, uploads and finished jobs are forgotten.
    Housekeeping,
    /// Daily: customers enter the scenarios whose trigger is a birthday or N days after a
    /// purchase.
    ScenariosDaily,
    /// Every minute, when a mailbox is set: replies to the shop's mail are read.
    MailReplies,
    /// Every minute: complaint cases near their first-response deadline go to the owner.
    CasesEscalate,
}

impl JobKind {
    pub const ALL: [Self; 8] = [
        Self::PointsExpire,
        Self::RanksEvaluate,
        Self::PointsBirthdays,
        Self::MetricsSnapshot,
        Self::Housekeeping,
        Self::ScenariosDaily,
        Self::MailReplies,
        Self::CasesEscalate,
    ];

    /// The name stored in the queue.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PointsExpire => "points.expire",
            Self::RanksEvaluate => "ranks.evaluate",
            Self::PointsBirthdays => "points.birthdays",
            Self::MetricsSnapshot => "metrics.snapshot",
            Self::Housekeeping => "housekeeping",
            Self::ScenariosDaily => "scenarios.daily",
            Self::MailReplies => "mail.replies",
            Self::CasesEscalate => "cases.escalate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How long a worker holds a job before another may take it over.
    fn lease_ms(self) -> i64 {
        match self {
            Self::MetricsSnapshot => 60 * 60 * 1000,
            _ => DEFAULT_LEASE_MS,
        }
    }

    fn max_attempts(self) -> i64 {
        match self {
            // Superseded by the next minute's run anyway.
            Self::PointsExpire | Self::MailReplies | Self::CasesEscalate => 2,
            _ => 5,
        }
    }
}

/// The lease a job is claimed with (a kind that needs longer extends it at once).
const DEFAULT_LEASE_MS: i64 = 10 * 60 * 1000;
/// Retry waits: from 30 s, doubling, at most an hour (full jitter).
const RETRY_BASE_MS: i64 = 30_000;
const RETRY_CAP_MS: i64 = 60 * 60 * 1000;
/// Finished jobs are forgotten after this long.
const KEEP_DONE_MS: i64 = 7 * 24 * 3600 * 1000;

/// What one pass of a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WorkPass {
    /// Jobs newly enqueued by the schedule (0 when another process had asked already).
    pub scheduled: usize,
    pub done: usize,
    /// Failed and queued again (or dead after their last attempt).
    pub failed: usize,
    /// Finished after their lease had been taken over: the report was refused.
    pub fenced: usize,
}

impl App {
    /// Enqueues the scheduled work due now (by the app's clock, in the shop's time zone), each
    /// under its dedupe key. Safe to call from any number of processes at any time.
    pub async fn schedule_due_jobs(&self) -> Result<usize> {
        let now = self.now();
        let local = now.with_timezone(&self.config.time_zone);
        let today = local.date_naive();
        // The snapshot of a night is keyed by the day it belongs to: before 03:00 that is
        // yesterday's (a new install gets its first snapshot at once).
        let snapshot_day = if local.hour() >= 3 { today } else { today.pred_opt().unwrap_or(today) };
        let minute = local.format("%Y-%m-%dT%H:%M").to_string();
        let mail = self.config.imap.is_some().then(|| (JobKind::MailReplies, minute.clone(), today));
        let due = [
            (JobKind::PointsExpire, minute.clone(), today),
            (JobKind::CasesEscalate, minute.clone(), today),
            (JobKind::RanksEvaluate, today.to_string(), today),
            (JobKind::PointsBirthdays, today.to_string(), today),
            (JobKind::MetricsSnapshot, snapshot_day.to_string(), snapshot_day),
            (JobKind::Housekeeping, local.format("%Y-%m-%dT%H").to_string(), today),
            (JobKind::ScenariosDaily, today.to_string(), today),
        ];
        let mut scheduled = 0;
        for (kind, key, day) in due.into_iter().chain(mail) {
            let job = NewJob {
                kind: kind.as_str().into(),
                dedupe_key: Some(format!("{}:{key}", kind.as_str())),
                payload: serde_json::json!({ "date": day }),
                run_at_ms: now.timestamp_millis(),
                max_attempts: kind.max_attempts(),
            };
            scheduled += usize::from(self.store.enqueue_job(&job, now.timestamp_millis()).await?.is_some());
        }
        Ok(scheduled)
    }

    /// One pass of a worker named `worker`: enqueues what the schedule says is due, then runs
    /// the due jobs ([`App::run_due_jobs`]).
    pub async fn work_once(&self, worker: &str, max_jobs: usize) -> Result<WorkPass> {
        let scheduled = self.schedule_due_jobs().await?;
        Ok(WorkPass { scheduled, ..self.run_due_jobs(worker, max_jobs).await? })
    }

    /// Claims and runs due jobs one at a time until none is left (at most `max_jobs`). A
    /// failure is queued again after a backoff, or buried after its last attempt.
    pub async fn run_due_jobs(&self, worker: &str, max_jobs: usize) -> Result<WorkPass> {
        let mut pass = WorkPass::default();
        for _ in 0..max_jobs {
            let now = self.config.clock.now_ms();
            // One at a time: a claimed job's lease starts counting at once.
            let Some(job) = self.store.claim_jobs(worker, now, DEFAULT_LEASE_MS, 1).await?.pop() else {
                break;
            };
            let kind = JobKind::parse(&job.kind);
            if let Some(k) = kind.filter(|k| k.lease_ms() != DEFAULT_LEASE_MS) {
                self.store.extend_job_lease(job.id, job.attempt, now + k.lease_ms(), now).await?;
            }
            let outcome = self.run_job(&job).await;
            let now = self.config.clock.now_ms();
            let reported = match &outcome {
                Ok(()) => {
                    pass.done += 1;
                    self.store.complete_job(job.id, job.attempt, now).await?
                }
                Err(e) => {
                    pass.failed += 1;
                    let unit: f64 = rand::rng().random();
                    let retry_at = now + joren_core::retry::backoff_ms(job.attempt, RETRY_BASE_MS, RETRY_CAP_MS, unit);
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempt, error = %e, "job failed");
                    // A job of a kind this build does not know cannot be mended by retrying.
                    let retry_at = kind.map(|_| retry_at);
                    self.store.fail_job(job.id, job.attempt, &e.to_string(), retry_at, now).await?
                }
            };
            if reported {
                tracing::info!(job = job.id, kind = %job.kind, key = ?job.dedupe_key, worker, ok = outcome.is_ok(), "job finished");
            } else {
                pass.fenced += 1;
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempt, "job finished after its lease was taken over; report refused");
            }
        }
        Ok(pass)
    }

    /// Runs one claimed job.
    async fn run_job(&self, job: &ClaimedJob) -> Result<()> {
        let day = || -> Result<NaiveDate> {
            job.payload["date"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| AppError::Internal(format!("job {} has no date", job.id)))
        };
        match JobKind::parse(&job.kind) {
            Some(JobKind::PointsExpire) => {
                let (cancelled, run) = self.release_holds_and_expire(self.today_date()).await?;
                if run.lots > 0 || cancelled > 0 {
                    tracing::info!(cancelled, lots = run.lots, points = run.points, "points expired");
                }
            }
            Some(JobKind::RanksEvaluate) => {
                let run = self.evaluate_ranks(day()?).await?;
                tracing::info!(?run, "ranks evaluated");
            }
            Some(JobKind::PointsBirthdays) => {
                let granted = self.grant_birthday_bonuses(day()?).await?;
                tracing::info!(granted, "birthday points");
            }
            Some(JobKind::MetricsSnapshot) => {
                let s = self.refresh_metrics(&Actor::system("scheduler")).await?;
                tracing::info!(snapshot = s.id, customers = s.customers, "nightly metrics refreshed");
                // With the night's analysis, the customer-success stages by their rules.
                let moved = self.evaluate_stages().await?;
                tracing::info!(moved, "customer-success stages evaluated");
            }
            Some(JobKind::Housekeeping) => {
                let done = self.housekeeping().await?;
                let purged = self.store.purge_done_jobs(self.config.clock.now_ms() - KEEP_DONE_MS).await?;
                tracing::debug!(?done, purged, "housekeeping");
            }
            Some(JobKind::ScenariosDaily) => {
                let entered = self.enrol_daily(day()?).await?;
                tracing::info!(entered, "daily scenario triggers");
            }
            Some(JobKind::CasesEscalate) => {
                let escalated = self.escalate_cases().await?;
                if escalated > 0 {
                    tracing::info!(escalated, "complaint cases escalated to the owner");
                }
            }
            Some(JobKind::MailReplies) => {
                // A mailbox out of reach is tried again the next minute (not a dead job every
                // minute); the channels page shows when it was last read.
                if let Err(e) = self.poll_mail_replies().await {
                    tracing::warn!(error = %e, "mail replies not read");
                }
            }
            None => return Err(AppError::Internal(format!("unknown job kind {}", job.kind))),
        }
        Ok(())
    }

    /// Jobs per state and the newest jobs, optionally of one state (owners).
    pub async fn jobs(&self, actor: &Actor, state: Option<JobState>, limit: i64) -> Result<(JobCounts, Vec<Job>)> {
        actor.require_owner()?;
        Ok((self.store.job_counts().await?, self.store.list_jobs(state, limit.clamp(1, 500)).await?))
    }

    /// Queues a dead job again now (owners; audited). A job that is not dead is a conflict.
    pub async fn retry_job(&self, actor: &Actor, id: i64) -> Result<Job> {
        actor.require_owner()?;
        let job = self.store.get_job(id).await?.ok_or(AppError::NotFound("job"))?;
        if !self.store.retry_dead_job(id, self.config.clock.now_ms()).await? {
            return Err(AppError::Conflict(
                joren_core::Problem::new(joren_core::Code::JobNotDead)
                    .arg(id)
                    .arg(format!("@jobs.state.{}", job.state.as_str())),
            ));
        }
        self.audit(actor, "job.retry", "job", id, serde_json::json!({"kind": job.kind, "error": job.last_error}))
            .await?;
        self.store.get_job(id).await?.ok_or(AppError::NotFound("job"))
    }
}

/// The worker's pause between passes while work comes in but each pass finishes it.
const WORKING_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);
/// The worker's pause when a pass found nothing to do.
const IDLE_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs a worker until `shutdown` resolves: the schedule is asked once a minute (and at
/// start), due jobs are run at least every second. Errors are logged and the worker carries on
/// (the database may be back a moment later).
pub async fn run_worker(app: App, worker: String, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    // Only saves asking the queue for the same keys sixty times a minute: the keys themselves
    // make asking again harmless.
    let mut scheduled_minute = None;
    loop {
        let minute = app.now().timestamp() / 60;
        if scheduled_minute != Some(minute) {
            match app.schedule_due_jobs().await {
                Ok(_) => scheduled_minute = Some(minute),
                Err(e) => tracing::warn!(error = %e, "scheduling failed"),
            }
        }
        // Saturated: a part stopped at its limit, go again at once. Worked: something was
        // done, look again shortly (work arriving steadily, e.g. orders starting follow-ups,
        // is then taken in batches rather than one pass per few events). Else idle.
        let (mut saturated, mut worked) = (false, false);
        match joren_store::writer_label("jobs", app.run_due_jobs(&worker, 100)).await {
            Ok(pass) => saturated |= pass.done + pass.failed == 100,
            Err(e) => tracing::warn!(error = %e, "worker pass failed"),
        }
        // Scenarios: new events, due steps, due messages.
        match app.automate_once().await {
            Ok(pass) => {
                saturated |= pass.more;
                worked |= pass.events > 0 || pass.steps > 0 || pass.messages > 0;
            }
            Err(e) => tracing::warn!(error = %e, "automation pass failed"),
        }
        if saturated {
            continue;
        }
        let pause = if worked { WORKING_PAUSE } else { IDLE_PAUSE };
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// A name for this process's worker in the queue (host and process id).
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "local".into());
    format!("{host}:{}", std::process::id())
}
