//! The job queue: one table on both databases, shared by every process (see the migration
//! `0017_jobs.sql`). Times are milliseconds since the epoch, passed in by the caller (the
//! app's clock), so tests can move time.
//!
//! A job runs at least once; its handler makes the effect idempotent (a dedupe key on the job,
//! a unique key on what it writes). What the queue guarantees: a dedupe key is enqueued once; a
//! job is leased to one worker at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
//! single writer serialises claims); an expired lease is taken over by the next claim; and a
//! completion or failure reported under an attempt number that is no longer the job's current
//! one is refused (fencing), so a worker that stalled past its lease cannot overwrite the
//! outcome of the one that took over.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store};

/// What a job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Failed `max_attempts` times (or its lease ran out on the last attempt): kept with its
    /// reason until retried by hand.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "dead" => Self::Dead,
            _ => return None,
        })
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    /// Enqueued once per key, whoever asks and however often (e.g. `ranks.evaluate:2026-03-01`).
    pub dedupe_key: Option<String>,
    pub payload: serde_json::Value,
    pub run_at_ms: i64,
    pub max_attempts: i64,
}

/// A job as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: Option<String>,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub run_at_ms: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_until_ms: Option<i64>,
    pub worker: Option<String>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// A job leased to a worker: run it, then report under `attempt`.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: Option<String>,
    pub payload: serde_json::Value,
    /// The attempt this lease is for (1 for the first run); the fencing token.
    pub attempt: i64,
    pub max_attempts: i64,
}

/// Jobs per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

const COLUMNS: &str = "id, kind, dedupe_key, payload, state, run_at, attempts, max_attempts, lease_until, worker, \
                       last_error, created_at, updated_at, finished_at";

fn job_from_row(r: &AnyRow) -> Result<Job> {
    let payload: String = r.try_get("payload")?;
    let state: String = r.try_get("state")?;
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        dedupe_key: r.try_get("dedupe_key")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        state: JobState::parse(&state).unwrap_or(JobState::Dead),
        run_at_ms: r.try_get("run_at")?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        lease_until_ms: r.try_get("lease_until")?,
        worker: r.try_get("worker")?,
        last_error: r.try_get("last_error")?,
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
        finished_at_ms: r.try_get("finished_at")?,
    })
}

/// Error texts are kept to this many characters.
const MAX_ERROR_CHARS: usize = 2_000;

fn clip(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

impl Store {
    /// Enqueues `job` at `now_ms`; answers its id, or `None` when a job with its dedupe key
    /// already exists (in any state: a done daily job is not done again).
    pub async fn enqueue_job(&self, job: &NewJob, now_ms: i64) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let id = enqueue_in(&mut tx, job, now_ms).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Leases up to `limit` due jobs to `worker` for `lease_ms`: queued jobs whose time has
    /// come, and running jobs whose lease ran out (their attempt moves on, so the stalled
    /// worker's report is refused). A job whose lease ran out on its last attempt is marked
    /// dead instead of being run again. Oldest due first.
    pub async fn claim_jobs(&self, worker: &str, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedJob>> {
        // Asked first without the writer: most passes find nothing due.
        let due = "(state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until < ?)";
        let any: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM jobs WHERE {} LIMIT 1",
            due.replacen('?', "$1", 2)
        )))
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let lock = self.backend().skip_locked();
        // Jobs whose lease ran out on their last attempt are dead; then the claim. One trip.
        let mut batch = crate::batch::Batch::new(self.backend());
        batch
            .push(
                "UPDATE jobs SET state = 'dead', last_error = 'lease ran out on the last attempt', \
                 lease_until = NULL, updated_at = ?, finished_at = ? \
                 WHERE state = 'running' AND lease_until < ? AND attempts >= max_attempts",
            )
            .bind(now_ms)
            .bind(now_ms)
            .bind(now_ms);
        batch
            .push(&format!(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?, worker = ?, updated_at = ? \
                 WHERE id IN (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT ?{lock}) \
                 RETURNING id, kind, dedupe_key, payload, attempts, max_attempts, run_at"
            ))
            .bind(now_ms + lease_ms)
            .bind(worker)
            .bind(now_ms)
            .bind(now_ms)
            .bind(now_ms)
            .bind(limit);
        let rows = self.begin_write().await?.commit_returning(batch).await?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                let payload: String = r.try_get("payload")?;
                Ok((
                    r.try_get::<i64, _>("run_at")?,
                    ClaimedJob {
                        id: r.try_get("id")?,
                        kind: r.try_get("kind")?,
                        dedupe_key: r.try_get("dedupe_key")?,
                        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                        attempt: r.try_get("attempts")?,
                        max_attempts: r.try_get("max_attempts")?,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        // RETURNING gives no order; run them oldest due first.
        claimed.sort_by_key(|(run_at, j)| (*run_at, j.id));
        Ok(claimed.into_iter().map(|(_, j)| j).collect())
    }

    /// Extends the lease of a running job (a long job's heartbeat); `false` when the attempt
    /// is no longer current.
    pub async fn extend_job_lease(&self, id: i64, attempt: i64, lease_until_ms: i64, now_ms: i64) -> Result<bool> {
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE jobs SET lease_until = $1, updated_at = $2 \
                     WHERE id = $3 AND attempts = $4 AND state = 'running'",
                )
                .bind(lease_until_ms)
                .bind(now_ms)
                .bind(id)
                .bind(attempt),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks attempt `attempt` of job `id` done; `false` (and nothing changed) when that
    /// attempt is no longer the job's current one — its lease ran out and another worker took
    /// the job over.
    pub async fn complete_job(&self, id: i64, attempt: i64, now_ms: i64) -> Result<bool> {
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $1, \
                     finished_at = $1 WHERE id = $2 AND attempts = $3 AND state = 'running'",
                )
                .bind(now_ms)
                .bind(id)
                .bind(attempt),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Reports that attempt `attempt` of job `id` failed with `error`: queued again at
    /// `retry_at_ms`, or dead when it was the last attempt or `retry_at_ms` is `None` (a
    /// failure retrying cannot mend). `false` when the attempt is no longer current.
    pub async fn fail_job(
        &self,
        id: i64,
        attempt: i64,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<bool> {
        let error = clip(error);
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE jobs SET \
                       state = CASE WHEN $1 >= 0 AND attempts < max_attempts THEN 'queued' ELSE 'dead' END, \
                       run_at = CASE WHEN $1 >= 0 AND attempts < max_attempts THEN $1 ELSE run_at END, \
                       finished_at = CASE WHEN $1 >= 0 AND attempts < max_attempts THEN NULL ELSE $2 END, \
                       lease_until = NULL, last_error = $3, updated_at = $2 \
                     WHERE id = $4 AND attempts = $5 AND state = 'running'",
                )
                .bind(retry_at_ms.unwrap_or(-1))
                .bind(now_ms)
                .bind(error)
                .bind(id)
                .bind(attempt),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues a dead job again, now, with a fresh allowance of attempts; `false` when the job
    /// is not dead.
    pub async fn retry_dead_job(&self, id: i64, now_ms: i64) -> Result<bool> {
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE jobs SET state = 'queued', run_at = $1, max_attempts = attempts + max_attempts, \
                     finished_at = NULL, updated_at = $1 WHERE id = $2 AND state = 'dead'",
                )
                .bind(now_ms)
                .bind(id),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One job.
    pub async fn get_job(&self, id: i64) -> Result<Option<Job>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM jobs WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// The job enqueued under `dedupe_key`, if any.
    pub async fn job_by_dedupe_key(&self, dedupe_key: &str) -> Result<Option<Job>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM jobs WHERE dedupe_key = $1")))
            .bind(dedupe_key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// The newest jobs (by last change), optionally of one state.
    pub async fn list_jobs(&self, state: Option<JobState>, limit: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM jobs WHERE ($1 = '' OR state = $1) ORDER BY updated_at DESC, id DESC LIMIT $2"
        )))
        .bind(state.map(JobState::as_str).unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// How many jobs are in each state.
    pub async fn job_counts(&self) -> Result<JobCounts> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").fetch_all(&self.pool).await?;
        let mut c = JobCounts::default();
        for r in rows {
            let state: String = r.try_get("state")?;
            let n: i64 = r.try_get("n")?;
            match JobState::parse(&state) {
                Some(JobState::Queued) => c.queued = n,
                Some(JobState::Running) => c.running = n,
                Some(JobState::Done) => c.done = n,
                Some(JobState::Dead) => c.dead = n,
                None => {}
            }
        }
        Ok(c)
    }

    /// The earliest time a queued job is due, if any (a worker sleeps until then).
    pub async fn next_job_due(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE state = 'queued'").fetch_one(&self.pool).await?)
    }

    /// Forgets done jobs finished before `before_ms` (the scheduler only ever asks for the
    /// current day's, hour's or minute's key, so an old key is not asked for again). Dead jobs
    /// stay until someone looks. Answers how many were deleted.
    pub async fn purge_done_jobs(&self, before_ms: i64) -> Result<u64> {
        let done = self
            .execute_write(sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1").bind(before_ms))
            .await?;
        Ok(done.rows_affected())
    }
}

/// Enqueues `job` inside a transaction that also writes the change causing it, so the job
/// exists exactly when the change does.
pub(crate) async fn enqueue_in(tx: &mut crate::db::Tx, job: &NewJob, now_ms: i64) -> Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO jobs (kind, dedupe_key, payload, state, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(&job.kind)
    .bind(job.dedupe_key.as_deref())
    .bind(job.payload.to_string())
    .bind(job.run_at_ms)
    .bind(job.max_attempts.max(1))
    .bind(now_ms)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(id)
}
