//! The server-rendered web UI: login, home, customer list and 360 page, CSV import/export.
//! Forms carry the session's CSRF token; cookies are HttpOnly and SameSite=Lax.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use joren_app::import::{ImportKind, ImportOptions, ImportReport};
use joren_app::interactions::{INTERACTION_KINDS, InteractionInput};
use joren_app::{AppError, auth};
use joren_core::customer::{ACQUISITION_SOURCES, CustomerInput, CustomerProfile, GENDERS};
use joren_core::money::format_amount;
use joren_core::order::RefundInput;
use joren_core::phone::display_phone;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, WebUser, constant_time_eq};
use crate::guard::safe_next;
use crate::i18n::{Lang, Tr};

pub(crate) mod audit;
pub(crate) mod cases;
pub(crate) mod channels;
mod chart;
pub(crate) mod checklist;
pub(crate) mod counter;
mod customer_form;
pub(crate) mod customer_list;
mod customers;
mod dashboard;
pub(crate) mod duplicates;
mod error_flash;
mod extract;
mod form_state;
pub(crate) mod home;
mod import;
pub(crate) mod inbox;
pub(crate) mod jobs;
pub(crate) mod line;
mod login;
pub(crate) mod mail;
pub(crate) mod member_card;
mod memberships;
pub(crate) mod message_templates;
mod not_found;
mod orders;
mod perks;
mod points;
mod points_settings;
pub(crate) mod referrals;
pub(crate) mod scenario_editor;
pub(crate) mod scenarios;
mod segments;
pub(crate) mod sms;
pub(crate) mod stages;
pub(crate) mod surveys;
pub(crate) mod tasks;
mod tickets;
pub(crate) mod timeline;
pub(crate) mod users;
pub(crate) mod webhooks;

use customer_form::*;
use customers::*;
use error_flash::{ErrorFlash, back_with_error};
pub(crate) use extract::{Checked, Staff};
use import::*;
use login::*;
pub(crate) use not_found::fallback;
use orders::*;

const LANG_COOKIE: &str = "joren_lang";
const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(set_lang))
        .route("/customers", get(customer_list::customers))
        .route("/customers/new", get(new_customer_page).post(new_customer_submit))
        .route("/postal/{code}", get(customer_form::postal))
        .route("/customers/duplicates", get(duplicates::list))
        .route("/customers/duplicates/dismiss", post(duplicates::dismiss))
        .route("/customers/merge", get(duplicates::review))
        .route("/customers/{id}", get(customer))
        .route("/customers/{id}/edit", get(edit_customer_page).post(edit_customer_submit))
        .route("/customers/{id}/card", get(member_card::page))
        .route("/customers/{id}/merge", post(merge_customer))
        .route("/metrics/refresh", post(refresh_metrics))
        .route("/dashboard", get(dashboard::page))
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/new", get(segments::new_page))
        .route("/segments/preview", post(segments::preview))
        .route("/segments/{id}", get(segments::show).post(segments::update))
        .route("/segments/{id}/delete", post(segments::delete))
        .route("/segments/{id}/export.csv", get(segments::export))
        .route("/settings/industry", post(dashboard::set_industry))
        .route("/settings/next-best-action", post(dashboard::set_rules))
        .route("/customers/{id}/contacts", post(add_contact))
        .route("/customers/{id}/consents", post(set_consent))
        .route("/customers/{id}/line-code", post(line::make_code))
        .route("/customers/{id}/line-message", post(line::send))
        .route("/customers/{id}/sms-message", post(sms::send))
        .route("/customers/{id}/survey", post(surveys::customer::send))
        .route("/inbox", get(inbox::inbox))
        .route("/inbox/link", post(inbox::link))
        .route("/inbox/{id}", get(inbox::conversation))
        .route("/inbox/{id}/reply", post(inbox::reply))
        .route("/inbox/{id}/customer", post(inbox::adopt))
        .route("/inbox/{id}/assign", post(inbox::assign))
        .route("/inbox/{id}/close", post(inbox::close))
        .route("/inbox/{id}/reopen", post(inbox::reopen))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/refund", post(refund_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route("/customers/{id}/interactions", post(log_interaction))
        .route("/customers/{id}/points", post(points::adjust))
        .route("/customers/{id}/rank", post(points::set_rank))
        .route("/customers/{id}/tickets", post(tickets::sell))
        .route("/tickets", get(tickets::plans))
        .route("/customers/{id}/memberships", post(memberships::start))
        .route("/memberships", get(memberships::page))
        .route("/perks", get(perks::page).post(perks::create))
        .route("/perks/{id}", post(perks::update))
        .route("/scenarios", get(scenarios::list))
        .route("/checklist", get(checklist::page))
        .route("/stages", get(stages::funnel))
        .route("/customers/{id}/stage", post(stages::set))
        .route("/referrals", get(referrals::list))
        .route("/settings/referrals", post(referrals::save_settings))
        .route("/customers/{id}/referral", post(referrals::record))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/report", get(cases::report))
        .route("/cases/{id}", get(cases::show))
        .route("/cases/{id}/step", post(cases::step))
        .route("/inbox/{id}/case", post(cases::from_conversation))
        .route("/settings/cases", get(cases::settings_page).post(cases::save_settings))
        .route("/surveys", get(surveys::list))
        .route("/surveys/ready", post(surveys::create_ready))
        .route("/surveys/churn-reasons", get(surveys::churn))
        .route("/surveys/new", get(surveys::new_page).post(surveys::save_new))
        .route("/surveys/{id}", get(surveys::results))
        .route("/surveys/{id}/edit", get(surveys::edit_page).post(surveys::save_edit))
        .route("/surveys/{id}/send", post(surveys::send))
        .route("/templates", get(message_templates::list).post(message_templates::create))
        .route("/templates/{id}", get(message_templates::show).post(message_templates::update))
        .route("/scenarios/from-template", post(scenarios::from_template))
        .route("/scenarios/new", get(scenario_editor::new_page).post(scenario_editor::create))
        .route("/scenarios/{id}/edit", get(scenario_editor::edit_page).post(scenario_editor::update))
        .route("/scenarios/{id}", get(scenarios::show))
        .route("/scenarios/{id}/status", post(scenarios::set_status))
        .route("/scenarios/{id}/enrol", post(scenarios::enrol))
        .route("/scenarios/{id}/broadcast", post(scenarios::broadcast))
        .route("/counter", get(counter::find))
        .route("/counter/{id}", get(counter::customer))
        .route("/counter/{id}/sale", post(counter::sale))
        .route("/products", get(counter::products).post(counter::create_product))
        .route("/products/{id}", post(counter::update_product))
        .route("/tasks", get(tasks::page))
        .route("/tasks/print", get(tasks::print))
        .route("/tasks/print.csv", get(tasks::print_csv))
        .route("/tasks/{id}/finish", post(tasks::finish))
        .route("/outbox", get(tasks::outbox))
        .route("/outbox/{id}", get(tasks::message))
        .route("/jobs", get(jobs::page))
        .route("/audit", get(audit::page))
        .route("/users", get(users::page).post(users::create))
        .route("/users/{id}", post(users::update))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/users/{id}/password", post(users::reset_password))
        .route("/users/tokens", post(users::create_token))
        .route("/users/tokens/{id}/revoke", post(users::revoke_token))
        .route("/settings/mail", get(mail::page).post(mail::save))
        .route("/settings/channels", get(channels::page))
        .route("/settings/channels/poll", post(channels::poll))
        .route("/settings/webhooks", get(webhooks::page).post(webhooks::create))
        .route("/settings/webhooks/{id}/test", post(webhooks::test))
        .route("/settings/webhooks/{id}/toggle", post(webhooks::toggle))
        .route("/settings/webhooks/{id}/delete", post(webhooks::delete))
        .route("/settings/webhooks/deliveries/{id}/retry", post(webhooks::retry))
        .route("/settings/mail/reset", post(mail::reset))
        .route("/settings/mail/test", post(mail::test))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/memberships/plans", post(memberships::create_plan))
        .route("/memberships/{id}/change", post(memberships::change))
        .route("/tickets/plans", post(tickets::create_plan))
        .route("/tickets/plans/{id}", post(tickets::update_plan))
        .route("/tickets/{id}/use", post(tickets::use_one))
        .route("/tickets/{id}/refund", post(tickets::refund))
        .route("/points", get(points::report))
        .route("/ranks/evaluate", post(points::evaluate_ranks))
        .route("/settings/points", get(points_settings::settings).post(points_settings::save_settings))
        .route("/import", get(import_page))
        .route(
            "/import/upload",
            post(import_upload)
                .layer(axum::extract::DefaultBodyLimit::max(crate::guard::UPLOAD_LIMIT))
                .layer(axum::middleware::from_fn(crate::guard::one_upload_slot)),
        )
        .route("/import/run", post(import_run))
        .route("/import/{token}/rejects.csv", get(import_rejects))
        .route("/export/{kind}", get(export))
        .route("/static/app.css", get(css))
        .route("/static/segments.js", get(segments_js))
        .route("/static/app.js", get(app_js))
        .route("/static/survey.js", get(survey_js))
        .layer(axum::middleware::from_fn(error_flash::clear_when_shown))
        .layer(axum::middleware::from_fn(not_found::readable_errors))
}

/// The request's language (cookie; Japanese by default).
struct UiLang(Tr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(extract::lang(parts)))
    }
}

/// What every page's frame needs: translations, who is logged in, the CSRF token, active tab.
pub struct Chrome {
    pub t: Tr,
    pub user: String,
    pub role: String,
    /// The role's word key (`role.owner`, …).
    pub role_key: &'static str,
    pub csrf: String,
    pub active: &'static str,
    pub path: String,
}

impl Chrome {
    fn new(t: Tr, u: &WebUser, active: &'static str, path: impl Into<String>) -> Self {
        Self {
            t,
            user: u.actor.name.clone(),
            role: u.actor.role.as_str().into(),
            role_key: role_key(u.actor.role),
            csrf: u.csrf.clone(),
            active,
            path: path.into(),
        }
    }
}

/// The word key of a role (`role.owner`, …).
fn role_key(role: joren_core::role::Role) -> &'static str {
    match role {
        joren_core::role::Role::Owner => "role.owner",
        joren_core::role::Role::Staff => "role.staff",
        joren_core::role::Role::Viewer => "role.viewer",
    }
}

/// An error shown as a page (or a redirect to the login page).
pub(crate) enum UiError {
    Login(String),
    Page(Tr, StatusCode, String),
}

impl UiError {
    fn from_app(t: Tr, e: AppError) -> Self {
        let status = match &e {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Validation(_) | AppError::Io(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unauthorized => return Self::Login("/".into()),
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::Page(t, status, say(t, &e))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    message: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            Self::Login(next) => Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response(),
            Self::Page(t, status, message) => (status, render(&ErrorPage { t, message })).into_response(),
        }
    }
}

type UiResult = Result<Response, UiError>;

/// An error page outside a handler (the request guards), in Japanese.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    UiError::Page(Tr(Lang::default()), status, message.to_string()).into_response()
}

/// An error page in language `t` (the public pages).
pub(crate) fn error_response_in(t: Tr, status: StatusCode, message: &str) -> Response {
    UiError::Page(t, status, message.to_string()).into_response()
}

/// Renders a page template (the public pages).
pub(crate) fn render_page<T: Template>(page: &T) -> Response {
    render(page)
}

fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template render failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A whole number typed in a form box, read as people in Japan type it (`１００`, `1,000`,
/// `￥3,300`); an unreadable one is noted in `errors` under `field` (and read as 0, so the rest
/// of the form is still checked and every error shown at once).
fn form_int(errors: &mut joren_core::FieldErrors, field: &str, v: &str) -> i64 {
    joren_core::text::parse_int(v).unwrap_or_else(|| {
        errors.push(field, joren_core::Code::BadNumber).with(v.trim());
        0
    })
}

/// The form's unreadable numbers and the input's own checks together, each field once (a
/// number that could not be read is not also out of range).
fn all_errors(
    mut unreadable: joren_core::FieldErrors,
    checked: Result<(), joren_core::FieldErrors>,
) -> Result<(), joren_core::FieldErrors> {
    if let Err(more) = checked {
        let bad: Vec<String> = unreadable.0.iter().map(|e| e.field.clone()).collect();
        unreadable.0.extend(more.0.into_iter().filter(|e| !bad.contains(&e.field)));
    }
    if unreadable.0.is_empty() { Ok(()) } else { Err(unreadable) }
}

/// A page that shows a refused form as typed: the same page, answered 422.
fn refused(page: UiResult) -> UiResult {
    page.map(|mut resp| {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        resp
    })
}

/// An application error worded for the page's reader.
fn say(t: Tr, e: &AppError) -> String {
    crate::i18n::errors::app_error(e, t.0)
}

/// Field errors worded for the page's reader, each led by its field's label where it has one.
fn say_fields<E: AsRef<[joren_core::FieldError]> + ?Sized>(t: Tr, e: &E) -> String {
    crate::i18n::errors::field_errors(e.as_ref(), t.0)
}

fn require(user: Option<WebUser>, path: &str) -> Result<WebUser, UiError> {
    user.ok_or_else(|| UiError::Login(path.to_string()))
}

fn check_csrf(t: Tr, user: &WebUser, sent: &str) -> Result<(), UiError> {
    if constant_time_eq(sent, &user.csrf) {
        Ok(())
    } else {
        Err(UiError::Page(t, StatusCode::FORBIDDEN, "CSRF token missing or wrong (reload the page)".into()))
    }
}

/// A file served from the binary (no CDN: the pages work offline).
fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "max-age=3600")], body).into_response()
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../static/app.css"))
}

/// The segment builder's script (plain JavaScript, no libraries).
async fn segments_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../static/segments.js"))
}

/// Behaviour every page shares (confirmation before destructive forms).
async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../static/app.js"))
}

/// A survey page's follow-up questions (the public answer page).
async fn survey_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../static/survey.js"))
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
struct CsrfForm {}
