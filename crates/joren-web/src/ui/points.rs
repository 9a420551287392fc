//! Points pages: the panel on the customer page (balances, lots with expiry, history, manual
//! adjustment with a reason) and the report (outstanding liability per month, free and paid
//! value apart). The programme's settings are in `points_settings`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::points::{DeductInput, GrantInput};
use joren_app::ranks::SetRankInput;
use joren_app::{App, AppError};
use joren_core::points::{EntryKind, ValueKind};
use joren_core::rank::RankMeasure;

use super::form_state::FormState;
use super::{Checked, Chrome, Staff, UiError, UiResult, render};
use crate::AppState;
use crate::i18n::Tr;

/// Entries shown on the customer page (the API has up to 200).
const HISTORY_SHOWN: usize = 20;

pub(super) struct LotRow {
    pub remaining: i64,
    pub granted: i64,
    pub paid: bool,
    pub source: &'static str,
    pub reason: String,
    pub earned_on: String,
    pub available_on: Option<String>,
    pub expires_on: Option<String>,
}

pub(super) struct HistoryRow {
    pub on: String,
    pub kind: &'static str,
    pub points: String,
    pub negative: bool,
}

/// The points panel of the customer page.
pub(super) struct PointsPanel {
    pub available: i64,
    pub pending: i64,
    pub debt: i64,
    pub paid: i64,
    pub expiring_30_days: i64,
    pub next_expiry: Option<(String, i64)>,
    pub lots: Vec<LotRow>,
    pub history: Vec<HistoryRow>,
    /// The rank, when ranks are on.
    pub rank: Option<RankPanel>,
}

/// The rank part of the points panel.
pub(super) struct RankPanel {
    pub tier: String,
    pub level: usize,
    pub since: Option<String>,
    pub multiplier: i64,
    pub value: String,
    pub window: String,
    pub next: Option<(String, String)>,
    pub next_review: String,
    pub grace_used: i64,
    pub tiers: Vec<String>,
    pub history: Vec<RankHistoryRow>,
}

pub(super) struct RankHistoryRow {
    pub day: String,
    pub from: String,
    pub to: String,
    pub cause: &'static str,
    pub up: bool,
    pub down: bool,
    pub reason: String,
}

pub(super) fn cause_key(cause: &str) -> &'static str {
    match cause {
        "order" => "ranks.cause_order",
        "review" => "ranks.cause_review",
        "grace" => "ranks.cause_grace",
        "manual" => "ranks.cause_manual",
        _ => "ranks.cause_evaluation",
    }
}

/// A measured value as staff read it: yen, orders (回) or points (pt).
fn measured(t: Tr, measure: RankMeasure, v: i64) -> String {
    match measure {
        RankMeasure::Spend => joren_core::money::format_amount(v, "JPY"),
        RankMeasure::Orders => t.t("ranks.orders_n").replace("{0}", &joren_core::money::group_digits(v)),
        RankMeasure::EarnedPoints => format!("{} pt", joren_core::money::group_digits(v)),
    }
}

async fn rank_panel(app: &App, id: i64, t: Tr) -> Result<Option<RankPanel>, AppError> {
    let r = app.customer_rank(id).await?;
    if !r.enabled {
        return Ok(None);
    }
    let tiers = app.points_programme().await?.ranks.tiers.into_iter().map(|t| t.name).collect();
    Ok(Some(RankPanel {
        tier: r.tier,
        level: r.level,
        since: r.since.map(|d| d.to_string()),
        multiplier: r.points_multiplier_percent,
        value: measured(t, r.measure, r.value),
        window: format!("{}〜{}", r.window_from, r.window_to),
        next: r.next_tier.zip(r.missing).map(|(tier, m)| (tier, measured(t, r.measure, m))),
        next_review: r.next_review.to_string(),
        grace_used: r.grace_used,
        tiers,
        history: r
            .history
            .iter()
            .map(|h| RankHistoryRow {
                day: h.day.to_string(),
                from: h.from_name.clone(),
                to: h.to_name.clone(),
                cause: cause_key(&h.cause),
                up: h.to_level > h.from_level,
                down: h.to_level < h.from_level,
                reason: h.reason.clone(),
            })
            .collect(),
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct RankForm {
    tier: String,
    #[serde(default)]
    reason: String,
}

/// `POST /customers/{id}/rank`: sets the tier by hand with a reason.
pub(super) async fn set_rank(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<RankForm>,
) -> UiResult {
    let input = SetRankInput { tier: serde_json::Value::String(f.tier.clone()), reason: f.reason.clone() };
    match s.app.set_customer_rank(&user.actor, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?points=1#points")).into_response()),
        // Back as typed, each problem beside its field.
        Err(AppError::Validation(e)) => {
            let mut form = FormState::new([("tier", f.tier), ("reason", f.reason)]);
            form.refuse(&e.0, t);
            let query = super::customers::CustomerQuery::default();
            super::customers::customer_page(&s, t, &user, id, query, None, super::customers::RefusedForm::Rank(form))
                .await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

fn entry_key(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Earn => "points.entry.earn",
        EntryKind::Spend => "points.entry.spend",
        EntryKind::Restore => "points.entry.restore",
        EntryKind::Reverse => "points.entry.reverse",
        EntryKind::Deduct => "points.entry.deduct",
        EntryKind::Repay => "points.entry.repay",
        EntryKind::Expire => "points.entry.expire",
    }
}

fn source_key(s: &str) -> &'static str {
    match s {
        "order" => "points.source.order",
        "purchase" => "points.source.purchase",
        "bonus" => "points.source.bonus",
        _ => "points.source.manual",
    }
}

/// Builds the panel for customer `id`.
pub(super) async fn panel(app: &App, id: i64, t: Tr) -> Result<PointsPanel, AppError> {
    let a = app.points_account(id).await?;
    let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    Ok(PointsPanel {
        available: a.free.available,
        pending: a.free.pending,
        debt: a.free.debt,
        paid: a.paid.balance,
        expiring_30_days: a.free.expiring_30_days,
        next_expiry: a.free.next_expiry.map(|(d, p)| (date(d), p)),
        lots: a
            .lots
            .iter()
            .map(|l| LotRow {
                remaining: l.remaining,
                granted: l.granted,
                paid: l.kind == ValueKind::Paid,
                source: source_key(&l.source),
                reason: l.reason.clone(),
                earned_on: date(l.earned_on),
                available_on: (l.available_on > a.on).then(|| date(l.available_on)),
                expires_on: l.expires_on.map(date),
            })
            .collect(),
        history: a
            .history
            .iter()
            .take(HISTORY_SHOWN)
            .map(|e| HistoryRow {
                on: date(e.on),
                kind: entry_key(e.kind),
                points: if e.points > 0 { format!("+{}", e.points) } else { e.points.to_string() },
                negative: e.points < 0,
            })
            .collect(),
        rank: rank_panel(app, id, t).await?,
    })
}

#[derive(serde::Deserialize)]
pub(super) struct AdjustForm {
    action: String,
    points: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reason: String,
}

/// `POST /customers/{id}/points`: a manual grant or deduction with a reason.
pub(super) async fn adjust(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<AdjustForm>,
) -> UiResult {
    // Points that cannot be read are checked with the rest (as 0, which is refused), so every
    // problem is said at once.
    let mut unreadable = joren_core::FieldErrors::default();
    let points = super::form_int(&mut unreadable, "points", &f.points);
    let kind = if f.kind == "paid" { ValueKind::Paid } else { ValueKind::Free };
    let done = match f.action.as_str() {
        "deduct" => {
            let input = DeductInput { points, kind, reason: f.reason.clone() };
            s.app.deduct_points(&user.actor, id, input, None).await.map(|_| ())
        }
        _ => {
            let input = GrantInput { points, kind, reason: f.reason.clone(), expires_on: None };
            s.app.grant_points(&user.actor, id, input, None).await.map(|_| ())
        }
    };
    let refused = match done {
        Ok(()) if unreadable.0.is_empty() => {
            return Ok(Redirect::to(&format!("/customers/{id}?points=1#points")).into_response());
        }
        Ok(()) => unreadable,
        Err(AppError::Validation(e)) => super::all_errors(unreadable, Err(e)).err().unwrap_or_default(),
        Err(e) => return Err(UiError::from_app(t, e)),
    };
    // Back as typed, each problem beside its field.
    let mut form = FormState::new([("action", f.action), ("kind", f.kind), ("points", f.points), ("reason", f.reason)]);
    form.refuse(&refused.0, t);
    let query = super::customers::CustomerQuery::default();
    super::customers::customer_page(&s, t, &user, id, query, None, super::customers::RefusedForm::Points(form)).await
}

/// One campaign row of the settings form.
pub(super) struct MonthRow {
    pub month: String,
    pub paid: bool,
    pub issued: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub reversed: i64,
    pub outstanding: i64,
}

#[derive(Template)]
#[template(path = "points_report.html")]
pub(super) struct ReportPage {
    c: Chrome,
    free: i64,
    paid: i64,
    rows: Vec<MonthRow>,
    chart: String,
    /// Customers per tier (name, count, bar width in %) and ups/downs per month, when ranks are on.
    ranks: Option<RankSection>,
    can_write: bool,
    flash: Option<String>,
}

/// `GET /points`: outstanding points and the monthly movement, with a chart of what was issued,
/// redeemed and expired.
pub(super) async fn report(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    axum::extract::Query(q): axum::extract::Query<ReportQuery>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let (free, paid) = s.app.points_outstanding().await.map_err(err)?;
    let months = s.app.points_report().await.map_err(err)?;
    let free_months: Vec<_> = months.iter().filter(|m| m.kind != Some(ValueKind::Paid)).collect();
    let chart = movement_svg(t, &free_months.iter().rev().take(12).rev().copied().collect::<Vec<_>>());
    let rows = months
        .iter()
        .rev()
        .map(|m| MonthRow {
            month: m.month.clone(),
            paid: m.kind == Some(ValueKind::Paid),
            issued: m.issued,
            redeemed: m.redeemed,
            expired: m.expired,
            reversed: m.reversed,
            outstanding: m.outstanding,
        })
        .collect();
    let ranks = if s.app.points_programme().await.map_err(err)?.ranks.enabled {
        let r = s.app.rank_report().await.map_err(err)?;
        let most = r.tiers.iter().map(|x| x.customers).max().unwrap_or(0).max(1);
        let tiers = r.tiers.into_iter().map(|x| (x.tier, x.customers, (x.customers * 100 / most) as u32)).collect();
        Some((tiers, r.months.into_iter().rev().collect()))
    } else {
        None
    };
    Ok(render(&ReportPage {
        c: Chrome::new(t, &user, "points", "/points"),
        free,
        paid,
        rows,
        chart,
        ranks,
        can_write: user.actor.require_write().is_ok(),
        flash: q.evaluated.map(|n| format!("{} ({n})", t.t("ranks.evaluated"))),
    }))
}

/// Customers per tier (name, count, bar width in %) and ups/downs per month, newest first.
type RankSection = (Vec<(String, i64, u32)>, Vec<joren_app::ranks::RankMonth>);

#[derive(serde::Deserialize, Default)]
pub(super) struct ReportQuery {
    evaluated: Option<String>,
}

#[derive(serde::Deserialize)]
pub(super) struct CsrfForm {}

/// `POST /ranks/evaluate`: runs today's rank evaluation now (staff with write rights).
pub(super) async fn evaluate_ranks(
    State(s): State<AppState>,
    Checked { user, t, form: _f }: Checked<CsrfForm>,
) -> UiResult {
    user.actor.require_write().map_err(|e| UiError::from_app(t, e))?;
    let run = s.app.evaluate_ranks(s.app.today_date()).await.map_err(|e| UiError::from_app(t, e))?;
    let changed = run.upgraded + run.downgraded + run.graced;
    Ok(Redirect::to(&format!("/points?evaluated={changed}#ranks")).into_response())
}

/// Columns per month: issued, redeemed, expired.
fn movement_svg(t: Tr, months: &[&joren_app::points::PointsMonth]) -> String {
    if months.is_empty() {
        return String::new();
    }
    let series = |key: &'static str, color: &'static str, v: fn(&joren_app::points::PointsMonth) -> i64| {
        super::chart::Series { label: t.t(key), color, values: months.iter().map(|m| v(m) as f64).collect() }
    };
    let all = [
        series("points.issued", "#8c522d", |m| m.issued),
        series("points.redeemed", "#2d6a8c", |m| m.redeemed),
        series("points.expired", "#999999", |m| m.expired),
    ];
    let labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
    let count = |v: f64| joren_core::money::group_digits(v.round() as i64);
    super::chart::columns("points-movement", t.t("points.movement"), &labels, &all, None, None, &count)
}
