//! `/jobs`: the owner's view of the work Joren does by itself (points expiry, daily ranks and
//! birthday points, the nightly snapshot, housekeeping) — what is waiting, running, done, and
//! what failed for good with its reason, each failed job retryable with one click.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::jobs::{JobCounts, JobKind, JobState};

use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, back_with_error, render};
use crate::AppState;

/// The page's words (key, 日本語, English).
pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("jobs.title", "自動処理", "Background work"),
    (
        "jobs.help",
        "Joren が自動で行う処理です。ポイントの失効は毎分、ランクの見直しと誕生日ポイントは毎日、分析の更新は毎晩3時以降、整理は毎時行います。失敗した処理は時間をおいて再試行し、何度も失敗したものは「停止」として理由とともに残ります。",
        "What Joren does by itself: points expiry every minute, rank reviews and birthday points daily, the analysis every night after 03:00, clean-up hourly. A failed step is tried again after a while; one that keeps failing stops here with its reason.",
    ),
    ("jobs.nav", "自動処理", "Background work"),
    ("jobs.state.queued", "待機中", "Waiting"),
    ("jobs.state.running", "実行中", "Running"),
    ("jobs.state.done", "完了", "Done"),
    ("jobs.state.dead", "停止 (要確認)", "Stopped (needs a look)"),
    ("jobs.all", "すべて", "All"),
    ("jobs.kind.points.expire", "ポイントの失効・取り置きの解除", "Points expiry and checkout holds"),
    ("jobs.kind.ranks.evaluate", "ランクの見直し", "Rank review"),
    ("jobs.kind.points.birthdays", "誕生日ポイント", "Birthday points"),
    ("jobs.kind.metrics.snapshot", "分析の更新 (毎晩)", "Nightly analysis"),
    ("jobs.kind.housekeeping", "古いデータの整理", "Clean-up"),
    ("jobs.kind.scenarios.daily", "誕生日・購入からの日数のシナリオ", "Birthday and days-since-purchase scenarios"),
    ("jobs.kind.mail.replies", "メールの返信の受信", "Reading mail replies"),
    ("jobs.kind.cases.escalate", "クレームの期限前の店長への連絡", "Cases near their deadline to the owner"),
    ("jobs.kind.other", "その他の処理", "Other work"),
    ("jobs.what", "処理", "Work"),
    ("jobs.for", "対象日時", "For"),
    ("jobs.state", "状態", "State"),
    ("jobs.attempts", "試行", "Attempts"),
    ("jobs.when", "最終更新", "Last change"),
    ("jobs.error", "失敗の理由", "Why it failed"),
    ("jobs.retry", "再実行", "Try again"),
    ("jobs.none", "該当する処理はありません", "Nothing here"),
    ("jobs.retried", "再実行の順番に入れました", "Queued to run again"),
];

struct JobRow {
    id: i64,
    kind: &'static str,
    target: String,
    state: &'static str,
    dead: bool,
    attempts: String,
    when: String,
    error: String,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    c: Chrome,
    counts: JobCounts,
    filter: &'static str,
    filters: Vec<(&'static str, &'static str)>,
    jobs: Vec<JobRow>,
    flash: Option<String>,
    error: Option<String>,
}

fn state_key(s: JobState) -> &'static str {
    match s {
        JobState::Queued => "jobs.state.queued",
        JobState::Running => "jobs.state.running",
        JobState::Done => "jobs.state.done",
        JobState::Dead => "jobs.state.dead",
    }
}

fn kind_key(kind: &str) -> &'static str {
    match JobKind::parse(kind) {
        Some(JobKind::PointsExpire) => "jobs.kind.points.expire",
        Some(JobKind::RanksEvaluate) => "jobs.kind.ranks.evaluate",
        Some(JobKind::PointsBirthdays) => "jobs.kind.points.birthdays",
        Some(JobKind::MetricsSnapshot) => "jobs.kind.metrics.snapshot",
        Some(JobKind::Housekeeping) => "jobs.kind.housekeeping",
        Some(JobKind::ScenariosDaily) => "jobs.kind.scenarios.daily",
        Some(JobKind::MailReplies) => "jobs.kind.mail.replies",
        Some(JobKind::CasesEscalate) => "jobs.kind.cases.escalate",
        None => "jobs.kind.other",
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct PageQuery {
    #[serde(default)]
    state: String,
    flash: Option<String>,
}

/// `GET /jobs` (owners).
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let state = JobState::parse(&q.state);
    let (counts, jobs) = s.app.jobs(&user.actor, state, 200).await.map_err(|e| UiError::from_app(t, e))?;
    let jobs = jobs
        .into_iter()
        .map(|j| JobRow {
            id: j.id,
            kind: kind_key(&j.kind),
            // The key's tail is the day, hour or minute the work is for.
            target: j
                .dedupe_key
                .as_deref()
                .and_then(|k| k.split_once(':'))
                .map(|(_, rest)| rest)
                .unwrap_or_default()
                .replace('T', " "),
            state: state_key(j.state),
            dead: j.state == JobState::Dead,
            attempts: format!("{} / {}", j.attempts, j.max_attempts),
            when: chrono::DateTime::from_timestamp_millis(j.updated_at_ms)
                .map(|t| s.app.local_time(t))
                .unwrap_or_default(),
            error: j.last_error.unwrap_or_default(),
        })
        .collect();
    let filters = [None, Some(JobState::Dead), Some(JobState::Queued), Some(JobState::Running), Some(JobState::Done)]
        .into_iter()
        .map(|f| (f.map_or("", JobState::as_str), f.map_or("jobs.all", state_key)))
        .collect();
    Ok(render(&JobsPage {
        c: Chrome::new(t, &user, "settings", "/jobs"),
        counts,
        filter: state.map_or("", JobState::as_str),
        filters,
        jobs,
        flash: q.flash.map(|_| t.t("jobs.retried").to_string()),
        error,
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct RetryForm {}

/// `POST /jobs/{id}/retry`: a stopped job is queued to run again now (owners).
pub(super) async fn retry(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: _f }: Checked<RetryForm>,
) -> UiResult {
    match s.app.retry_job(&user.actor, id).await {
        Ok(_) => Ok(Redirect::to("/jobs?flash=1").into_response()),
        Err(AppError::Conflict(m)) => Ok(back_with_error("/jobs", &crate::i18n::errors::problem(&m, t.0))),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
