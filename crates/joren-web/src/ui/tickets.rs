//! 回数券 pages: the tickets panel on the customer page (sell, use one visit, refund the
//! unused part) and the plans page (plans, outstanding paid value, tickets expiring soon).
//! Every sell and use form carries its own idempotency key, so a double click or a resent
//! form is applied once.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::auth::random_token;
use joren_app::tickets::{RefundTicketInput, SellInput, Ticket, UseInput};
use joren_app::{App, AppError};
use joren_core::money::format_amount;
use joren_core::ticket::TicketPlanInput;

use super::customers::{chosen_plan, refused_row};
use super::form_state::{FormState, RowForm};
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, back_with_error, render, say_fields};
use crate::AppState;
use crate::auth::WebUser;

/// One ticket on the customer page.
pub(super) struct TicketRow {
    pub id: i64,
    pub name: String,
    pub remaining: i64,
    pub visits: i64,
    pub sold_on: String,
    pub last_day: Option<String>,
    pub status: &'static str,
    pub usable: bool,
    pub unused_value: String,
    pub refunded: Option<String>,
    /// A fresh idempotency key for this render's "use one visit" button.
    pub use_key: String,
}

/// The tickets panel of the customer page.
pub(super) struct TicketsPanel {
    pub plans: Vec<(i64, String)>,
    pub tickets: Vec<TicketRow>,
    /// A fresh idempotency key for this render's sell form.
    pub sell_key: String,
}

fn status_key(status: &str) -> &'static str {
    match status {
        "used_up" => "tickets.used_up",
        "expired" => "tickets.expired",
        "refunded" => "tickets.refunded",
        _ => "tickets.active",
    }
}

fn row(t: &Ticket) -> TicketRow {
    TicketRow {
        id: t.id,
        name: t.name.clone(),
        remaining: t.remaining,
        visits: t.visits,
        sold_on: t.sold_on.to_string(),
        last_day: t.last_day.map(|d| d.to_string()),
        status: status_key(t.status),
        usable: t.status == "active",
        unused_value: format_amount(t.unused_value, "JPY"),
        refunded: (t.status == "refunded").then(|| format_amount(t.refunded_amount, "JPY")),
        use_key: format!("ui-{}", random_token()),
    }
}

/// Builds the panel for customer `id`.
pub(super) async fn panel(app: &App, id: i64, t: crate::i18n::Tr) -> Result<TicketsPanel, AppError> {
    let plans = app
        .ticket_plans()
        .await?
        .into_iter()
        .filter(|p| p.active)
        .map(|p| {
            let label = t
                .t("tickets.plan_label")
                .replace("{0}", &p.name)
                .replace("{1}", &p.visits.to_string())
                .replace("{2}", &format_amount(p.price, "JPY"));
            (p.id, label)
        })
        .collect();
    let tickets = app.customer_tickets(id).await?.iter().map(row).collect();
    Ok(TicketsPanel { plans, tickets, sell_key: format!("ui-{}", random_token()) })
}

#[derive(serde::Deserialize)]
pub(super) struct SellForm {
    plan_id: String,
    key: String,
}

/// `POST /customers/{id}/tickets`: sells a ticket.
pub(super) async fn sell(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<SellForm>,
) -> UiResult {
    let sold = match chosen_plan(&f.plan_id) {
        Ok(plan_id) => s.app.sell_ticket(&user.actor, id, SellInput { plan_id }, Some(&f.key)).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match sold {
        Ok(()) => Ok(Redirect::to(&format!("/customers/{id}?tickets=1#tickets")).into_response()),
        // Back in the tickets panel, the plan as chosen and why beside it (a plan no longer
        // on sale, no plan chosen).
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::NotFound(_))) => {
            let form = RowForm::refused("ticket-sell", 0, [("plan_id", f.plan_id)], &e, t);
            refused_row(&s, t, &user, id, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct UseForm {
    key: String,
    #[serde(default)]
    note: String,
}

/// `POST /tickets/{id}/use`: takes one visit.
pub(super) async fn use_one(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<UseForm>,
) -> UiResult {
    let ticket = s.app.ticket(id).await.map_err(|e| UiError::from_app(t, e))?;
    let customer = ticket.customer_id;
    match s.app.use_ticket(&user.actor, id, UseInput { note: f.note.clone() }, Some(&f.key)).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{customer}?tickets=1#tickets")).into_response()),
        // Back beside the ticket's row with the note as typed: a note too long, or the ticket
        // used up, expired or refunded meanwhile (from another till).
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let form = RowForm::refused("ticket-use", id, [("note", f.note)], &e, t);
            refused_row(&s, t, &user, customer, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct RefundForm {
    #[serde(default)]
    reason: String,
}

/// `POST /tickets/{id}/refund`: refunds the unused part.
pub(super) async fn refund(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<RefundForm>,
) -> UiResult {
    let ticket = s.app.ticket(id).await.map_err(|e| UiError::from_app(t, e))?;
    let customer = ticket.customer_id;
    match s.app.refund_ticket(&user.actor, id, RefundTicketInput { reason: f.reason.clone() }).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{customer}?tickets=1#tickets")).into_response()),
        // Back beside the ticket's row, the refund box open with the reason as typed.
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let form = RowForm::refused("ticket-refund", id, [("reason", f.reason)], &e, t);
            refused_row(&s, t, &user, customer, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

pub(super) struct PlanRow {
    pub id: i64,
    pub name: String,
    pub visits: i64,
    pub price: String,
    pub valid_months: i64,
    pub active: bool,
    pub exempt: bool,
}

pub(super) struct ExpiringRow {
    pub customer_id: i64,
    pub name: String,
    pub remaining: i64,
    pub last_day: String,
}

#[derive(Template)]
#[template(path = "tickets.html")]
pub(super) struct PlansPage {
    c: Chrome,
    plans: Vec<PlanRow>,
    outstanding: String,
    exempt: String,
    tickets: i64,
    expiring: Vec<ExpiringRow>,
    can_edit: bool,
    /// The new-plan form: as typed when it came back refused, each error beside its field.
    f: FormState,
    error: Option<String>,
}

/// `GET /tickets`: plans, outstanding paid value and tickets expiring within 30 days.
pub(super) async fn plans(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
) -> UiResult {
    let f = FormState::new([("visits", "10".to_string()), ("valid_months", "6".to_string())]);
    plans_page(&s, t, &user, f, error).await
}

async fn plans_page(s: &AppState, t: crate::i18n::Tr, user: &WebUser, f: FormState, error: Option<String>) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let plans = s
        .app
        .ticket_plans()
        .await
        .map_err(err)?
        .into_iter()
        .map(|p| PlanRow {
            id: p.id,
            name: p.name,
            visits: p.visits,
            price: format_amount(p.price, "JPY"),
            valid_months: p.valid_months,
            active: p.active,
            exempt: p.within_six_months,
        })
        .collect();
    let o = s.app.tickets_outstanding().await.map_err(err)?;
    let expiring = s
        .app
        .tickets_expiring_within(30)
        .await
        .map_err(err)?
        .into_iter()
        .map(|x| ExpiringRow {
            customer_id: x.customer_id,
            name: x.name,
            remaining: x.remaining,
            last_day: x.last_day.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(render(&PlansPage {
        c: Chrome::new(t, user, "points", "/tickets"),
        plans,
        outstanding: format_amount(o.value, "JPY"),
        exempt: format_amount(o.exempt_value, "JPY"),
        tickets: o.tickets,
        expiring,
        can_edit: user.actor.role.can_manage_users(),
        f,
        error,
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct PlanForm {
    name: String,
    visits: String,
    price: String,
    valid_months: String,
    #[serde(default)]
    active: Option<String>,
}

/// `POST /tickets/plans`: a new plan (owners).
pub(super) async fn create_plan(
    State(s): State<AppState>,
    Checked { user, t, form: f }: Checked<PlanForm>,
) -> UiResult {
    save_plan(s, t, user, None, f).await
}

/// `POST /tickets/plans/{id}`: changes a plan, e.g. ends its sale (owners).
pub(super) async fn update_plan(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<PlanForm>,
) -> UiResult {
    save_plan(s, t, user, Some(id), f).await
}

async fn save_plan(s: AppState, t: crate::i18n::Tr, user: WebUser, id: Option<i64>, f: PlanForm) -> UiResult {
    let mut unreadable = joren_core::FieldErrors::default();
    let input = TicketPlanInput {
        name: f.name.clone(),
        visits: super::form_int(&mut unreadable, "visits", &f.visits),
        price: super::form_int(&mut unreadable, "price", &f.price),
        // A negative count of months is out of range, as the plan's check says.
        valid_months: u32::try_from(super::form_int(&mut unreadable, "valid_months", &f.valid_months))
            .unwrap_or(u32::MAX),
        active: f.active.is_some(),
    };
    let saved = match super::all_errors(unreadable, input.validate()) {
        Ok(()) => s.app.save_ticket_plan(&user.actor, id, input).await.map(|_| ()),
        Err(e) => Err(AppError::Validation(e)),
    };
    match saved {
        Ok(()) => Ok(Redirect::to("/tickets").into_response()),
        // A plan's own row (a change): the message names the plan.
        Err(AppError::Validation(e)) if id.is_some() => {
            Ok(back_with_error("/tickets", &format!("{}: {}", f.name, say_fields(t, &e))))
        }
        // The new-plan form comes back as typed, each error beside its field.
        Err(AppError::Validation(e)) => {
            let mut form = FormState::new([
                ("name", f.name),
                ("visits", f.visits),
                ("price", f.price),
                ("valid_months", f.valid_months),
            ]);
            form.refuse(&e.0, t);
            super::refused(plans_page(&s, t, &user, form, None).await)
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
