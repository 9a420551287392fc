//! Membership pages: the panel on the customer page (start, renew, pause, resume, cancel with a
//! reason; each form with its own idempotency key) and `/memberships` (plans, members per
//! status, churn reasons, a cohort's retention with the sBG projection as a chart).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::auth::random_token;
use joren_app::memberships::{ChangeInput, MembershipReport, StartInput};
use joren_app::{App, AppError};
use joren_core::membership::{CancelReason, MembershipPlanInput};
use joren_core::money::format_amount;

use super::customers::{chosen_plan, refused_row};
use super::form_state::{FormState, RowForm};
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, render};
use crate::AppState;
use crate::i18n::Tr;

pub(super) struct MembershipRow {
    pub id: i64,
    pub name: String,
    pub price: String,
    pub status: String,
    pub started_on: String,
    pub paid_until: String,
    pub renewals: i64,
    pub cancel: Option<String>,
    /// A fresh idempotency key for this render's change forms.
    pub key: String,
}

/// The memberships panel of the customer page.
pub(super) struct MembershipsPanel {
    pub plans: Vec<(i64, String)>,
    pub memberships: Vec<MembershipRow>,
    pub reasons: Vec<(&'static str, &'static str)>,
    pub start_key: String,
}

/// A cancellation reason in the reader's words.
fn reason_words(t: Tr, r: CancelReason) -> &'static str {
    t.t(match r {
        CancelReason::Price => "memberships.reason.price",
        CancelReason::NotUsing => "memberships.reason.not_using",
        CancelReason::Dissatisfied => "memberships.reason.dissatisfied",
        CancelReason::Moved => "memberships.reason.moved",
        CancelReason::Competitor => "memberships.reason.competitor",
        CancelReason::Other => "memberships.reason.other",
    })
}

pub(super) async fn panel(app: &App, id: i64, t: Tr) -> Result<MembershipsPanel, AppError> {
    let plans = app
        .membership_plans()
        .await?
        .into_iter()
        .filter(|p| p.active)
        .map(|p| {
            let label = t
                .t("memberships.plan_label")
                .replace("{0}", &p.name)
                .replace("{1}", &format_amount(p.price, "JPY"))
                .replace("{2}", &p.period_months.to_string());
            (p.id, label)
        })
        .collect();
    let memberships = app
        .customer_memberships(id)
        .await?
        .into_iter()
        .map(|m| MembershipRow {
            id: m.id,
            name: m.name,
            price: format_amount(m.price, "JPY"),
            status: m.status,
            started_on: m.started_on.to_string(),
            paid_until: m.paid_until.to_string(),
            renewals: m.renewals,
            cancel: m.cancel_reason.as_deref().and_then(CancelReason::parse).map(|r| {
                let on = m.cancelled_on.map(|d| d.to_string()).unwrap_or_default();
                format!("{on} {} {}", reason_words(t, r), m.cancel_note)
            }),
            key: format!("ui-{}", random_token()),
        })
        .collect();
    let reasons = CancelReason::ALL.iter().map(|r| (r.as_str(), reason_words(t, *r))).collect();
    Ok(MembershipsPanel { plans, memberships, reasons, start_key: format!("ui-{}", random_token()) })
}

#[derive(serde::Deserialize)]
pub(super) struct StartForm {
    plan_id: String,
    key: String,
}

/// `POST /customers/{id}/memberships`: starts a membership.
pub(super) async fn start(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<StartForm>,
) -> UiResult {
    let started = match chosen_plan(&f.plan_id) {
        Ok(plan_id) => s.app.start_membership(&user.actor, id, StartInput { plan_id }, Some(&f.key)).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match started {
        Ok(()) => Ok(Redirect::to(&format!("/customers/{id}?memberships=1#memberships")).into_response()),
        // Back in the memberships panel with why beside the plan (no plan chosen, a plan no
        // longer offered, a membership already running).
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::NotFound(_))) => {
            let form = RowForm::refused("membership-start", 0, [("plan_id", f.plan_id)], &e, t);
            refused_row(&s, t, &user, id, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ChangeForm {
    action: String,
    key: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// `POST /memberships/{id}/change`: renew, pause, resume or cancel.
pub(super) async fn change(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<ChangeForm>,
) -> UiResult {
    let m = s.app.membership(id).await.map_err(|e| UiError::from_app(t, e))?;
    let customer = m.customer_id;
    // Each action's button shares the form's key; the key names the action so a renewal and a
    // cancellation from one page render are not taken for retries of each other.
    let key = format!("{}-{}", f.key, f.action);
    let which = if f.action == "cancel" { "membership-cancel" } else { "membership-change" };
    let typed = [("reason", f.reason.clone()), ("note", f.note.clone())];
    let input = ChangeInput { action: f.action, reason: (!f.reason.is_empty()).then_some(f.reason), note: f.note };
    match s.app.change_membership(&user.actor, id, input, Some(&key)).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{customer}?memberships=1#memberships")).into_response()),
        // Back beside the membership's row: a reason not chosen, a note too long, or a change
        // its state does not allow any more (cancelled meanwhile).
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let form = RowForm::refused(which, id, typed, &e, t);
            refused_row(&s, t, &user, customer, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

pub(super) struct PlanRow {
    pub id: i64,
    pub name: String,
    pub price: String,
    pub period_months: i64,
    pub active: bool,
    pub members: (i64, i64, i64),
}

#[derive(Template)]
#[template(path = "memberships.html")]
pub(super) struct MembershipsPage {
    c: Chrome,
    plans: Vec<PlanRow>,
    reasons: Vec<(&'static str, i64, u32)>,
    cohort: Option<joren_app::memberships::CohortRetention>,
    chart: String,
    can_edit: bool,
    /// The new-plan form: as typed when it came back refused, each error beside its field.
    f: FormState,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub(super) struct PageQuery {
    plan_id: Option<i64>,
}

/// `GET /memberships`.
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let f = FormState::new([("period_months", "1".to_string())]);
    memberships_page(&s, t, &user, q.plan_id, f, error).await
}

async fn memberships_page(
    s: &AppState,
    t: Tr,
    user: &crate::auth::WebUser,
    plan_id: Option<i64>,
    f: FormState,
    error: Option<String>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let MembershipReport { plans: status, reasons, cohort } = s.app.membership_report(plan_id).await.map_err(err)?;
    let plans = s
        .app
        .membership_plans()
        .await
        .map_err(err)?
        .into_iter()
        .map(|p| {
            let st = status.iter().find(|x| x.plan_id == p.id);
            PlanRow {
                id: p.id,
                name: p.name,
                price: format_amount(p.price, "JPY"),
                period_months: p.period_months,
                active: p.active,
                members: st.map_or((0, 0, 0), |x| (x.active, x.paused, x.cancelled)),
            }
        })
        .collect();
    let most = reasons.iter().map(|r| r.cancelled).max().unwrap_or(0).max(1);
    let reasons = reasons
        .iter()
        .map(|r| {
            let label = CancelReason::parse(r.reason).map_or(r.label, |x| reason_words(t, x));
            (label, r.cancelled, (r.cancelled * 100 / most) as u32)
        })
        .collect();
    let chart = cohort.as_ref().map(|c| retention_svg(t, c)).unwrap_or_default();
    Ok(render(&MembershipsPage {
        c: Chrome::new(t, user, "points", "/memberships"),
        plans,
        reasons,
        cohort,
        chart,
        can_edit: user.actor.role.can_manage_users(),
        f,
        error,
    }))
}

/// Observed share still subscribed (columns) and the sBG projection (dashed line) per period.
fn retention_svg(t: Tr, c: &joren_app::memberships::CohortRetention) -> String {
    let n = c.projected_survival.len().max(c.alive.len());
    let size = c.alive.first().copied().unwrap_or(0);
    if n == 0 || size == 0 {
        return String::new();
    }
    let periods: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let observed = super::chart::Series {
        label: t.t("memberships.observed"),
        color: "#8c522d",
        values: c.alive.iter().map(|a| *a as f64 / size as f64).collect(),
    };
    let projected = super::chart::Series {
        label: t.t("memberships.projected"),
        color: "#2d6a8c",
        values: c.projected_survival.clone(),
    };
    let percent = |v: f64| format!("{:.0}%", v * 100.0);
    super::chart::columns(
        "membership-retention",
        t.t("memberships.retention"),
        &periods,
        &[observed],
        Some(&projected),
        Some(1.0),
        &percent,
    )
}

#[derive(serde::Deserialize)]
pub(super) struct PlanForm {
    name: String,
    price: String,
    period_months: String,
    #[serde(default)]
    active: Option<String>,
}

/// `POST /memberships/plans`: a new plan (owners).
pub(super) async fn create_plan(
    State(s): State<AppState>,
    Checked { user, t, form: f }: Checked<PlanForm>,
) -> UiResult {
    let mut unreadable = joren_core::FieldErrors::default();
    let input = MembershipPlanInput {
        name: f.name.clone(),
        price: super::form_int(&mut unreadable, "price", &f.price),
        period_months: u32::try_from(super::form_int(&mut unreadable, "period_months", &f.period_months)).unwrap_or(0),
        active: f.active.is_some(),
    };
    let saved = match super::all_errors(unreadable, input.validate()) {
        Ok(()) => s.app.save_membership_plan(&user.actor, None, input).await.map(|_| ()),
        Err(e) => Err(AppError::Validation(e)),
    };
    match saved {
        Ok(()) => Ok(Redirect::to("/memberships").into_response()),
        Err(AppError::Validation(e)) => {
            let mut form = FormState::new([("name", f.name), ("price", f.price), ("period_months", f.period_months)]);
            form.refuse(&e.0, t);
            super::refused(memberships_page(&s, t, &user, None, form, None).await)
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
