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
use crate::auth::{SESSION_COOKIE, WebUser, constant_time_eq, cookie};
use crate::guard::safe_next;
use crate::i18n::{Lang, Tr};

mod dashboard;
pub(crate) mod jobs;
mod memberships;
mod perks;
mod points;
mod segments;
mod tickets;

const LANG_COOKIE: &str = "joren_lang";
const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(set_lang))
        .route("/customers", get(customers))
        .route("/customers/new", get(new_customer_page).post(new_customer_submit))
        .route("/customers/{id}", get(customer))
        .route("/customers/{id}/edit", get(edit_customer_page).post(edit_customer_submit))
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
        .route("/jobs", get(jobs::page))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/memberships/plans", post(memberships::create_plan))
        .route("/memberships/{id}/change", post(memberships::change))
        .route("/tickets/plans", post(tickets::create_plan))
        .route("/tickets/plans/{id}", post(tickets::update_plan))
        .route("/tickets/{id}/use", post(tickets::use_one))
        .route("/tickets/{id}/refund", post(tickets::refund))
        .route("/points", get(points::report))
        .route("/ranks/evaluate", post(points::evaluate_ranks))
        .route("/settings/points", get(points::settings).post(points::save_settings))
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
}

/// The request's language (cookie; Japanese by default).
struct UiLang(Tr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Tr(cookie(parts, LANG_COOKIE).map(Lang::parse).unwrap_or_default())))
    }
}

/// What every page's frame needs: translations, who is logged in, the CSRF token, active tab.
pub struct Chrome {
    pub t: Tr,
    pub user: String,
    pub role: String,
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
            csrf: u.csrf.clone(),
            active,
            path: path.into(),
        }
    }
}

/// An error shown as a page (or a redirect to the login page).
enum UiError {
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
        Self::Page(t, status, e.to_string())
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

/// Back to `path` with an error message shown on the page.
fn back_with_error(path: &str, message: &str) -> Response {
    Redirect::to(&format!("{path}?error={}", urlencode(message))).into_response()
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

async fn set_lang(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = Lang::parse(&code);
    (
        [(header::SET_COOKIE, format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code()))],
        Redirect::to(&safe_next(q.next.as_deref())),
    )
        .into_response()
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    next: String,
    /// Why the last attempt failed, worded.
    message: Option<String>,
    /// The login form's CSRF token (also in the `joren_login` cookie).
    csrf: String,
}

/// Cookie holding the login form's CSRF token (double submit: the form must send it back).
const LOGIN_CSRF_COOKIE: &str = "joren_login";

async fn login_page(State(s): State<AppState>, UiLang(t): UiLang, Query(q): Query<NextQuery>) -> Response {
    let message = q.error.as_deref().map(|e| match e {
        "locked" => t.t("login.locked").to_string(),
        "csrf" => t.t("login.expired").to_string(),
        _ => t.t("login.failed").to_string(),
    });
    let csrf = auth::random_token();
    let secure = if s.app.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}");
    let page = render(&LoginPage { t, next: safe_next(q.next.as_deref()), message, csrf });
    ([(header::SET_COOKIE, cookie)], page).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// The client's address as the socket saw it (no proxy header is trusted).
pub(crate) struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(Self(info.map(|c| c.0.ip())))
    }
}

async fn login_submit(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(Some(&f.next));
    let back = |why: &str| Redirect::to(&format!("/login?error={why}&next={}", urlencode(&next))).into_response();
    let sent_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == LOGIN_CSRF_COOKIE)
        .map(|(_, v)| v.to_string());
    if !sent_cookie.is_some_and(|c| !f.csrf.is_empty() && constant_time_eq(&c, &f.csrf)) {
        return back("csrf");
    }
    match s.app.login(&f.username, &f.password, client).await {
        Ok(login) => {
            let secure = if s.app.config.secure_cookies { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                login.session_token,
                auth::SESSION_DAYS * 86400
            );
            let used = format!("{LOGIN_CSRF_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0");
            let mut resp = ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response();
            if let Ok(v) = header::HeaderValue::from_str(&used) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(AppError::TooManyAttempts { .. }) => back("locked"),
        Err(_) => back("1"),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    headers: HeaderMap,
    user: Option<WebUser>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    let user = require(user, "/")?;
    check_csrf(t, &user, &f.csrf)?;
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string());
    if let Some(token) = token {
        s.app.logout(&token).await.map_err(|e| UiError::from_app(t, e))?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}

struct RecentOrder {
    id: i64,
    customer_id: i64,
    customer: String,
    at: String,
    total: String,
    status: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    customers: i64,
    orders: i64,
    recent: Vec<RecentOrder>,
}

async fn home(State(s): State<AppState>, UiLang(t): UiLang, user: Option<WebUser>) -> UiResult {
    let user = require(user, "/")?;
    let err = |e| UiError::from_app(t, e);
    let customers = s.app.search_customers("", 1, 0).await.map_err(err)?.total;
    let page = s.app.list_orders(None, 10, 0).await.map_err(err)?;
    let mut recent = Vec::new();
    for o in page.items {
        let name = s.app.get_customer(o.customer_id).await.map(|c| c.display_name).unwrap_or_default();
        recent.push(RecentOrder {
            id: o.id,
            customer_id: o.customer_id,
            customer: name,
            at: s.app.local_time(o.ordered_at),
            total: format_amount(o.total, &o.currency),
            status: o.status.as_str().into(),
        });
    }
    Ok(render(&HomePage { c: Chrome::new(t, &user, "home", "/"), customers, orders: page.total, recent }))
}

struct CustomerRow {
    id: i64,
    name: String,
    kana: String,
    email: String,
    phone: String,
    orders: i64,
    spent: String,
    last: String,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    c: Chrome,
    q: String,
    total: i64,
    rows: Vec<CustomerRow>,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

async fn customers(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Query(lq): Query<ListQuery>,
) -> UiResult {
    let user = require(user, "/customers")?;
    let q = lq.q.unwrap_or_default();
    let page = lq.page.unwrap_or(1).max(1);
    let result =
        s.app.search_customers(&q, PAGE_SIZE, (page - 1) * PAGE_SIZE).await.map_err(|e| UiError::from_app(t, e))?;
    let rows = result
        .items
        .into_iter()
        .map(|c| CustomerRow {
            id: c.id,
            name: c.display_name,
            kana: format!("{} {}", c.family_name_kana, c.given_name_kana).trim().to_string(),
            email: c.email.unwrap_or_default(),
            phone: c.phone.as_deref().map(display_phone).unwrap_or_default(),
            orders: c.order_count,
            spent: format_amount(c.total_spent, "JPY"),
            last: c.last_order_at.map(|d| s.app.local_time(d)[..10].to_string()).unwrap_or_default(),
        })
        .collect();
    let pages = ((result.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let link = |p: i64| format!("/customers?q={}&page={p}", urlencode(&q));
    Ok(render(&CustomersPage {
        c: Chrome::new(t, &user, "customers", "/customers"),
        total: result.total,
        rows,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        q,
    }))
}

struct TimelineRow {
    at: String,
    kind: String,
    label: &'static str,
    title: String,
    detail: String,
    amount: String,
    staff: String,
    link: Option<String>,
}

struct ContactRow {
    name: String,
    email: String,
    phone: String,
}

struct ConsentRow {
    /// Channel code (`email`, …) and its label key.
    code: &'static str,
    channel: &'static str,
    /// None: never recorded.
    granted: Option<bool>,
    source: String,
    at: String,
}

/// The analytics panel of the customer 360, from the newest metrics snapshot.
struct InsightView {
    as_of: String,
    segment: &'static str,
    rfm: String,
    p_alive: String,
    expected_90d: String,
    order_value: String,
    clv: String,
    churn_key: &'static str,
    churn_score: String,
    next_purchase: String,
    overdue: bool,
    not_fitted: bool,
    /// Next best action and the facts that chose it.
    action: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    c: Chrome,
    id: i64,
    insight: Option<InsightView>,
    /// Cross-sell: (product, because-they-bought, share of those buyers %, lift).
    suggestions: Vec<(String, String, String, String)>,
    name: String,
    kana: String,
    merged_into: Option<i64>,
    fields: Vec<(&'static str, String)>,
    tags: Vec<String>,
    consents: Vec<ConsentRow>,
    contacts: Vec<ContactRow>,
    external_ids: Vec<String>,
    order_count: i64,
    total_spent: String,
    first_order: String,
    last_order: String,
    timeline: Vec<TimelineRow>,
    kinds: Vec<(&'static str, &'static str)>,
    can_write: bool,
    is_account: bool,
    points: Option<points::PointsPanel>,
    points_flash: Option<String>,
    tickets: Option<tickets::TicketsPanel>,
    tickets_flash: Option<String>,
    memberships: Option<memberships::MembershipsPanel>,
    memberships_flash: Option<String>,
    perks: Vec<joren_app::perks::PerkCheck>,
    flash: Option<String>,
    error: Option<String>,
}

fn kind_key(kind: &str) -> &'static str {
    match kind {
        "order" => "kind.order",
        "refund" => "kind.refund",
        "cancel" => "kind.cancel",
        "interaction:email" => "kind.email",
        "interaction:phone" => "kind.phone",
        "interaction:sms" => "kind.sms",
        "interaction:line" => "kind.line",
        "interaction:dm" => "kind.dm",
        "interaction:visit" => "kind.visit",
        "interaction:meeting" => "kind.meeting",
        "interaction:chat" => "kind.chat",
        "rank" => "kind.rank",
        "ticket" => "kind.ticket",
        "ticket_use" => "kind.ticket_use",
        "membership" => "kind.membership",
        _ => "kind.note",
    }
}

#[derive(Deserialize)]
struct CustomerQuery {
    logged: Option<String>,
    merged: Option<String>,
    points: Option<String>,
    tickets: Option<String>,
    memberships: Option<String>,
    error: Option<String>,
}

async fn customer(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Query(cq): Query<CustomerQuery>,
) -> UiResult {
    let user = require(user, &format!("/customers/{id}"))?;
    let err = |e| UiError::from_app(t, e);
    let c = s.app.get_customer(id).await.map_err(err)?;
    let p = &c.profile;
    let address = [
        p.postal_code.as_ref().map(|z| format!("〒{z}")),
        p.prefecture.clone(),
        p.city.clone(),
        p.street.clone(),
        p.building.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let owner = match p.owner_user_id {
        Some(uid) => s.app.staff_directory().await.map_err(err)?.into_iter().find(|(i, _)| *i == uid).map(|(_, n)| n),
        None => None,
    };
    let mut fields = vec![
        ("customer.owner", owner.unwrap_or_default()),
        ("col.email", p.email.clone().unwrap_or_default()),
        ("col.phone", p.phone.as_deref().map(display_phone).unwrap_or_default()),
        ("customer.address", address),
        ("customer.birthday", p.birthday.map(|d| d.format("%Y年%m月%d日").to_string()).unwrap_or_default()),
        (
            "customer.source",
            [p.acquisition_source.clone(), p.acquisition_campaign.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / "),
        ),
        ("customer.preferences", p.preferences.clone()),
        ("customer.notes", p.notes.clone()),
    ];
    fields.retain(|(_, v)| !v.is_empty());
    let contacts = s
        .app
        .list_contacts(id)
        .await
        .map_err(err)?
        .into_iter()
        .map(|x| ContactRow {
            name: x.display_name,
            email: x.profile.email.unwrap_or_default(),
            phone: x.profile.phone.as_deref().map(display_phone).unwrap_or_default(),
        })
        .collect();
    let consents = [("email", "kind.email"), ("sms", "kind.sms"), ("line", "kind.line"), ("dm", "kind.dm")]
        .into_iter()
        .map(|(code, label)| {
            let state = c.consents.iter().find(|x| x.channel == code);
            ConsentRow {
                code,
                channel: label,
                granted: state.map(|x| x.granted),
                source: state.map(|x| x.source.clone()).unwrap_or_default(),
                at: state.map(|x| s.app.local_time(x.at)).unwrap_or_default(),
            }
        })
        .collect();
    // Over all the customer's orders, not only the newest 500 listed.
    let totals = s.app.customer_order_totals(id).await.map_err(err)?;
    let timeline = s
        .app
        .timeline(id, 200)
        .await
        .map_err(err)?
        .into_iter()
        .map(|e| TimelineRow {
            at: s.app.local_time(e.at),
            label: kind_key(&e.kind),
            link: matches!(e.kind.as_str(), "order" | "refund" | "cancel").then(|| format!("/orders/{}", e.ref_id)),
            kind: e.kind.replace("interaction:", ""),
            title: e.title,
            detail: e.detail,
            amount: e.amount.map(|a| format_amount(a, e.currency.as_deref().unwrap_or("JPY"))).unwrap_or_default(),
            staff: e.staff_name.unwrap_or_default(),
        })
        .collect();
    let kinds = INTERACTION_KINDS.iter().map(|k| (*k, kind_key(&format!("interaction:{k}")))).collect();
    let today = s.app.local_time(s.app.now())[..10].to_string();
    let rules = s.app.next_action_rules().await.map_err(err)?;
    let insight = s.app.customer_metrics(id).await.map_err(err)?.map(|(snap, m)| {
        let dash = || "—".to_string();
        let action = joren_app::next_action::suggest(&rules, &m)
            .map(|a| (if t.0 == crate::i18n::Lang::En { a.action_en } else { a.action_ja }, a.because.join(", ")));
        InsightView {
            as_of: s.app.local_time(snap.computed_at),
            segment: joren_app::metrics::segment_label(&m.segment, t.0 == crate::i18n::Lang::En),
            rfm: format!("R{} F{} M{}", m.r_score, m.f_score, m.m_score),
            p_alive: m.p_alive.map(|p| format!("{:.0}%", p * 100.0)).unwrap_or_else(dash),
            expected_90d: m.expected_purchases_90d.map(|e| format!("{e:.2}")).unwrap_or_else(dash),
            order_value: m.expected_order_value.map(|v| format_amount(v.round() as i64, "JPY")).unwrap_or_else(dash),
            clv: m.clv_12m.map(|v| format_amount(v.round() as i64, "JPY")).unwrap_or_else(dash),
            churn_key: match m.churn_band.as_deref() {
                Some("high") => "insight.churn_high",
                Some("medium") => "insight.churn_medium",
                Some("low") => "insight.churn_low",
                _ => "insight.not_fitted",
            },
            churn_score: m.churn_score.map(|v| v.to_string()).unwrap_or_else(dash),
            overdue: m.expected_next_purchase.as_deref().is_some_and(|d| d < today.as_str()),
            next_purchase: m.expected_next_purchase.unwrap_or_else(dash),
            not_fitted: m.p_alive.is_none(),
            action,
        }
    });
    let suggestions = s
        .app
        .cross_sell_for_customer(id, 5)
        .await
        .map_err(err)?
        .into_iter()
        .map(|a| {
            (a.consequent_name, a.antecedent_name, format!("{:.0}", a.confidence * 100.0), format!("{:.1}", a.lift))
        })
        .collect();
    let perks = match c.merged_into {
        None => perks::panel(&s.app, id).await.map_err(err)?,
        Some(_) => Vec::new(),
    };
    let (points, tickets, memberships) = match c.merged_into {
        None => (
            Some(points::panel(&s.app, id).await.map_err(err)?),
            Some(tickets::panel(&s.app, id).await.map_err(err)?),
            Some(memberships::panel(&s.app, id).await.map_err(err)?),
        ),
        Some(_) => (None, None, None),
    };
    Ok(render(&CustomerPage {
        insight,
        suggestions,
        points,
        points_flash: cq.points.map(|_| t.t("points.adjusted").to_string()),
        tickets,
        tickets_flash: cq.tickets.map(|_| t.t("tickets.done").to_string()),
        memberships,
        memberships_flash: cq.memberships.map(|_| t.t("memberships.done").to_string()),
        perks,
        can_write: user.actor.role.can_write(),
        is_account: p.kind == joren_core::customer::CustomerKind::Account,
        c: Chrome::new(t, &user, "customers", format!("/customers/{id}")),
        id,
        name: c.display_name.clone(),
        kana: format!("{} {}", p.family_name_kana, p.given_name_kana).trim().to_string(),
        merged_into: c.merged_into,
        tags: p.tags.clone(),
        fields,
        consents,
        contacts,
        external_ids: c.external_ids.iter().map(|x| format!("{}: {}", x.system, x.external_id)).collect(),
        order_count: totals.orders,
        total_spent: format_amount(totals.spent, "JPY"),
        first_order: totals.first_at.map(|t| s.app.local_time(t)[..10].to_string()).unwrap_or_default(),
        last_order: totals.last_at.map(|t| s.app.local_time(t)[..10].to_string()).unwrap_or_default(),
        timeline,
        kinds,
        flash: cq
            .logged
            .map(|_| t.t("customer.logged").to_string())
            .or(cq.merged.map(|_| t.t("customer.merged_ok").to_string())),
        error: cq.error,
    }))
}

#[derive(Deserialize)]
struct InteractionForm {
    csrf: String,
    kind: String,
    direction: String,
    subject: String,
    body: String,
}

async fn log_interaction(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Form(f): Form<InteractionForm>,
) -> UiResult {
    let user = require(user, &format!("/customers/{id}"))?;
    check_csrf(t, &user, &f.csrf)?;
    let input = InteractionInput {
        kind: f.kind,
        direction: Some(f.direction),
        contact_id: None,
        subject: f.subject,
        body: f.body,
        occurred_at: None,
    };
    match s.app.log_interaction(&user.actor, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?logged=1")).into_response()),
        Err(AppError::Validation(e)) => Ok(back_with_error(&format!("/customers/{id}"), &e.to_string())),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    error: Option<String>,
}

async fn import_page(UiLang(t): UiLang, user: Option<WebUser>) -> UiResult {
    let user = require(user, "/import")?;
    Ok(render(&ImportPage { c: Chrome::new(t, &user, "import", "/import"), error: None }))
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    c: Chrome,
    token: String,
    kind: String,
    preset: String,
    filename: String,
    encoding: String,
    headers: Vec<String>,
    fields: Vec<(String, String)>,
    rows: Vec<Vec<String>>,
}

async fn import_upload(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    mut mp: Multipart,
) -> UiResult {
    let user = require(user, "/import")?;
    let bad = |m: String| UiError::Page(t, StatusCode::BAD_REQUEST, m);
    let (mut csrf, mut kind, mut preset, mut filename, mut content) =
        (String::new(), String::new(), String::new(), String::new(), Bytes::new());
    while let Some(field) = mp.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            filename = field.file_name().unwrap_or("upload.csv").to_string();
            content = field.bytes().await.map_err(|e| bad(e.to_string()))?;
        } else {
            let v = field.text().await.map_err(|e| bad(e.to_string()))?;
            match name.as_str() {
                "csrf" => csrf = v,
                "kind" => kind = v,
                "preset" => preset = v,
                _ => {}
            }
        }
    }
    check_csrf(t, &user, &csrf)?;
    user.actor.require_write().map_err(|e| UiError::from_app(t, e))?;
    let kind_v = ImportKind::parse(&kind).ok_or_else(|| bad(format!("unknown kind {kind}")))?;
    if content.is_empty() {
        return Ok(render(&ImportPage {
            c: Chrome::new(t, &user, "import", "/import"),
            error: Some("ファイルが空です / empty file".into()),
        }));
    }
    let mut options = ImportOptions::new(kind_v);
    options.preset = (!preset.is_empty()).then(|| preset.clone());
    let preview = match joren_app::import::preview(&content, &options) {
        Ok(p) => p,
        Err(e) => {
            return Ok(render(&ImportPage {
                c: Chrome::new(t, &user, "import", "/import"),
                error: Some(e.to_string()),
            }));
        }
    };
    let token =
        s.app.stage_upload(&user.actor, kind_v, &filename, &content).await.map_err(|e| UiError::from_app(t, e))?;
    let field_names: Vec<&str> = match kind_v {
        ImportKind::Customers => joren_app::import::mapping::CUSTOMER_FIELDS.iter().map(|f| f.0).collect(),
        ImportKind::Orders => joren_app::import::mapping::ORDER_FIELDS.iter().map(|f| f.0).collect(),
    };
    let fields = field_names
        .iter()
        .map(|f| {
            let col = preview.mapping.iter().find(|(mf, _)| mf == f).map(|(_, h)| h.clone()).unwrap_or_default();
            (f.to_string(), col)
        })
        .collect();
    Ok(render(&PreviewPage {
        c: Chrome::new(t, &user, "import", "/import"),
        token,
        kind,
        preset: preview.preset,
        filename,
        encoding: preview.encoding,
        headers: preview.headers,
        fields,
        rows: preview.rows,
    }))
}

#[derive(Template)]
#[template(path = "import_report.html")]
struct ReportPage {
    c: Chrome,
    token: String,
    filename: String,
    report: ImportReport,
}

async fn import_run(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult {
    let user = require(user, "/import")?;
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    check_csrf(t, &user, &get("csrf"))?;
    let overrides =
        form.iter().filter_map(|(k, v)| k.strip_prefix("map.").map(|f| (f.to_string(), v.clone()))).collect();
    let preset = Some(get("preset")).filter(|p| !p.is_empty());
    let (upload, report) = s
        .app
        .run_staged_upload(&user.actor, &get("token"), preset, overrides)
        .await
        .map_err(|e| UiError::from_app(t, e))?;
    Ok(render(&ReportPage {
        c: Chrome::new(t, &user, "import", "/import"),
        token: upload.token,
        filename: upload.filename,
        report,
    }))
}

async fn import_rejects(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(token): Path<String>,
) -> UiResult {
    let user = require(user, "/import")?;
    let report = s.app.staged_upload_report(&user.actor, &token).await.map_err(|e| UiError::from_app(t, e))?;
    let mut buf = Vec::new();
    joren_app::import::write_rejects(&mut buf, &report.headers, &report.rejected)
        .map_err(|e| UiError::from_app(t, AppError::Io(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"rejects.csv\""),
        ],
        buf,
    )
        .into_response())
}

async fn export(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(kind): Path<String>,
) -> UiResult {
    let user = require(user, "/import")?;
    let mut buf = Vec::new();
    let err = |e| UiError::from_app(t, e);
    match kind.as_str() {
        "customers.csv" => s.app.export_customers(&user.actor, &mut buf).await.map_err(err)?,
        "orders.csv" => s.app.export_orders(&user.actor, &mut buf).await.map_err(err)?,
        _ => return Err(err(AppError::NotFound("export"))),
    };
    Ok(crate::api::csv_download(&kind, buf))
}

/// The customer form's fields, as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CustomerForm {
    csrf: String,
    kind: String,
    company_name: String,
    family_name: String,
    given_name: String,
    family_name_kana: String,
    given_name_kana: String,
    email: String,
    phone: String,
    line_user_id: String,
    postal_code: String,
    prefecture: String,
    city: String,
    street: String,
    building: String,
    birthday: String,
    gender: String,
    acquisition_source: String,
    acquisition_campaign: String,
    tags: String,
    preferences: String,
    notes: String,
    /// 担当者: a user id, or empty for none.
    owner_user_id: String,
}

impl CustomerForm {
    fn from_profile(p: &CustomerProfile) -> Self {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            csrf: String::new(),
            kind: p.kind.as_str().into(),
            company_name: p.company_name.clone(),
            family_name: p.family_name.clone(),
            given_name: p.given_name.clone(),
            family_name_kana: p.family_name_kana.clone(),
            given_name_kana: p.given_name_kana.clone(),
            email: o(&p.email),
            phone: p.phone.as_deref().map(display_phone).unwrap_or_default(),
            line_user_id: o(&p.line_user_id),
            postal_code: o(&p.postal_code),
            prefecture: o(&p.prefecture),
            city: o(&p.city),
            street: o(&p.street),
            building: o(&p.building),
            birthday: p.birthday.map(|d| d.to_string()).unwrap_or_default(),
            gender: o(&p.gender),
            acquisition_source: o(&p.acquisition_source),
            acquisition_campaign: o(&p.acquisition_campaign),
            tags: p.tags.join(", "),
            preferences: p.preferences.clone(),
            notes: p.notes.clone(),
            owner_user_id: p.owner_user_id.map(|i| i.to_string()).unwrap_or_default(),
        }
    }

    /// Every field of the form is set (an empty box clears the field).
    fn to_input(&self) -> CustomerInput {
        let v = |s: &String| Some(s.clone());
        CustomerInput {
            kind: v(&self.kind).filter(|k| !k.is_empty()),
            family_name: v(&self.family_name),
            given_name: v(&self.given_name),
            family_name_kana: v(&self.family_name_kana),
            given_name_kana: v(&self.given_name_kana),
            company_name: v(&self.company_name),
            email: v(&self.email),
            phone: v(&self.phone),
            line_user_id: v(&self.line_user_id),
            birthday: v(&self.birthday),
            gender: v(&self.gender),
            postal_code: v(&self.postal_code),
            prefecture: v(&self.prefecture),
            city: v(&self.city),
            street: v(&self.street),
            building: v(&self.building),
            notes: v(&self.notes),
            preferences: v(&self.preferences),
            tags: Some(self.tags.split([',', '、']).map(|t| t.trim().to_string()).collect()),
            // An id that is not a number is reported by the use case as an unknown user.
            owner_user_id: Some(match self.owner_user_id.trim() {
                "" => None,
                id => Some(id.parse().unwrap_or(-1)),
            }),
            acquisition_source: v(&self.acquisition_source),
            acquisition_campaign: v(&self.acquisition_campaign),
        }
    }
}

#[derive(Template)]
#[template(path = "customer_form.html")]
struct CustomerFormPage {
    c: Chrome,
    title: &'static str,
    action: String,
    cancel: String,
    f: CustomerForm,
    errors: Vec<String>,
    genders: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    staff: Vec<(String, String)>,
}

fn form_page(
    staff: Vec<(i64, String)>,
    c: Chrome,
    title: &'static str,
    action: String,
    cancel: String,
    f: CustomerForm,
    errors: Vec<String>,
) -> Response {
    let genders = GENDERS
        .iter()
        .map(|g| {
            (
                *g,
                match *g {
                    "female" => "gender.female",
                    "male" => "gender.male",
                    "other" => "gender.other",
                    _ => "gender.unspecified",
                },
            )
        })
        .collect();
    let sources = ACQUISITION_SOURCES
        .iter()
        .map(|s| {
            (
                *s,
                match *s {
                    "store" => "source.store",
                    "ec" => "source.ec",
                    "advertising" => "source.advertising",
                    "referral" => "source.referral",
                    "event" => "source.event",
                    "sns" => "source.sns",
                    "phone" => "source.phone",
                    _ => "source.other",
                },
            )
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let staff = staff.into_iter().map(|(id, name)| (id.to_string(), name)).collect();
    (status, render(&CustomerFormPage { c, title, action, cancel, f, errors, genders, sources, staff })).into_response()
}

fn field_messages(e: &AppError) -> Option<Vec<String>> {
    e.field_errors().map(|f| f.0.iter().map(|x| x.to_string()).collect())
}

async fn new_customer_page(State(s): State<AppState>, UiLang(t): UiLang, user: Option<WebUser>) -> UiResult {
    let user = require(user, "/customers/new")?;
    let c = Chrome::new(t, &user, "customers", "/customers/new");
    let mut f = CustomerForm::default();
    // Whoever registers a customer is their 担当者 unless changed.
    if let Some(uid) = user.actor.user_id.filter(|_| user.actor.role.can_write()) {
        f.owner_user_id = uid.to_string();
    }
    Ok(form_page(
        s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?,
        c,
        t.t("customers.new"),
        "/customers/new".into(),
        "/customers".into(),
        f,
        Vec::new(),
    ))
}

async fn new_customer_submit(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Form(f): Form<CustomerForm>,
) -> UiResult {
    let user = require(user, "/customers/new")?;
    check_csrf(t, &user, &f.csrf)?;
    let input = joren_app::customers::NewCustomer { profile: f.to_input(), ..Default::default() };
    match s.app.create_customer(&user.actor, input).await {
        Ok(c) => Ok(Redirect::to(&format!("/customers/{}", c.id)).into_response()),
        Err(e) => match field_messages(&e) {
            Some(errors) => {
                let c = Chrome::new(t, &user, "customers", "/customers/new");
                let staff = s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?;
                Ok(form_page(staff, c, t.t("customers.new"), "/customers/new".into(), "/customers".into(), f, errors))
            }
            None => Err(UiError::from_app(t, e)),
        },
    }
}

async fn edit_customer_page(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
) -> UiResult {
    let path = format!("/customers/{id}/edit");
    let user = require(user, &path)?;
    let customer = s.app.get_customer(id).await.map_err(|e| UiError::from_app(t, e))?;
    let c = Chrome::new(t, &user, "customers", path.clone());
    Ok(form_page(
        s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?,
        c,
        t.t("customer.edit"),
        path,
        format!("/customers/{id}"),
        CustomerForm::from_profile(&customer.profile),
        Vec::new(),
    ))
}

async fn edit_customer_submit(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Form(f): Form<CustomerForm>,
) -> UiResult {
    let path = format!("/customers/{id}/edit");
    let user = require(user, &path)?;
    check_csrf(t, &user, &f.csrf)?;
    match s.app.update_customer(&user.actor, id, f.to_input()).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}")).into_response()),
        Err(e) => match field_messages(&e) {
            Some(errors) => {
                let c = Chrome::new(t, &user, "customers", path.clone());
                let staff = s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?;
                Ok(form_page(staff, c, t.t("customer.edit"), path, format!("/customers/{id}"), f, errors))
            }
            None => Err(UiError::from_app(t, e)),
        },
    }
}

#[derive(Deserialize)]
struct RefreshForm {
    csrf: String,
    /// Where to go back to afterwards (a path on this site).
    back: String,
}

/// Recomputes every customer's metrics now, then returns to the page the button was on.
async fn refresh_metrics(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Form(f): Form<RefreshForm>,
) -> UiResult {
    let back = if f.back.starts_with('/') && !f.back.starts_with("//") { f.back } else { "/".to_string() };
    let user = require(user, &back)?;
    check_csrf(t, &user, &f.csrf)?;
    s.app.refresh_metrics(&user.actor).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
struct MergeForm {
    csrf: String,
    merge_id: String,
}

async fn merge_customer(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Form(f): Form<MergeForm>,
) -> UiResult {
    let user = require(user, &format!("/customers/{id}"))?;
    check_csrf(t, &user, &f.csrf)?;
    let Ok(other) = f.merge_id.trim().trim_start_matches('#').parse::<i64>() else {
        return Ok(back_with_error(&format!("/customers/{id}"), "merge_id: 顧客番号を数字で入力してください"));
    };
    match s.app.merge_customers(&user.actor, id, other).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?merged=1")).into_response()),
        Err(e @ (AppError::Conflict(_) | AppError::NotFound(_) | AppError::Validation(_))) => {
            Ok(back_with_error(&format!("/customers/{id}"), &e.to_string()))
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

type ItemRow = (String, String, String, i64, String, i64, String);

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    c: Chrome,
    o: joren_app::orders::Order,
    customer: String,
    ordered_at: String,
    items: Vec<ItemRow>,
    totals: Vec<(&'static str, String)>,
    adjustments: Vec<(String, String, String, String)>,
    remaining: String,
    can_write: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
}

async fn order_page(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> UiResult {
    let user = require(user, &format!("/orders/{id}"))?;
    let err = |e| UiError::from_app(t, e);
    let o = s.app.get_order(id).await.map_err(err)?;
    let customer = s.app.get_customer(o.customer_id).await.map_err(err)?.display_name;
    let money = |v: i64| format_amount(v, &o.currency);
    let items = o
        .items
        .iter()
        .map(|i| {
            (
                i.sku.clone(),
                i.name.clone(),
                i.category.clone(),
                i.quantity,
                money(i.unit_price),
                i.tax_rate,
                money(i.amount),
            )
        })
        .collect();
    let mut totals = vec![("order.subtotal", money(o.subtotal))];
    if o.shipping != 0 {
        totals.push(("order.shipping", money(o.shipping)));
    }
    if o.discount != 0 {
        totals.push(("order.discount", money(-o.discount)));
    }
    totals.push(("order.total", money(o.total)));
    totals.push(("order.tax", money(o.tax)));
    if o.refunded != 0 {
        totals.push(("order.refunded", money(-o.refunded)));
    }
    let adjustments = o
        .adjustments
        .iter()
        .map(|a| (s.app.local_time(a.at), a.kind.clone(), money(-a.amount), a.reason.clone()))
        .collect();
    Ok(render(&OrderPage {
        c: Chrome::new(t, &user, "customers", format!("/orders/{id}")),
        customer,
        ordered_at: s.app.local_time(o.ordered_at),
        items,
        totals,
        adjustments,
        remaining: (o.total - o.refunded).to_string(),
        can_write: user.actor.role.can_write(),
        error: q.error,
        o,
    }))
}

#[derive(Deserialize)]
struct AdjustForm {
    csrf: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

async fn refund_order(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Form(f): Form<AdjustForm>,
) -> UiResult {
    let user = require(user, &format!("/orders/{id}"))?;
    check_csrf(t, &user, &f.csrf)?;
    let amount = match f.amount.trim() {
        "" => None,
        a => match joren_core::money::parse_amount("amount", a, "JPY") {
            Ok(v) => Some(v),
            Err(e) => {
                return Ok(back_with_error(&format!("/orders/{id}"), &e.to_string()));
            }
        },
    };
    adjusted(t, id, s.app.refund_order(&user.actor, id, RefundInput { amount, reason: f.reason }).await)
}

async fn cancel_order(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Form(f): Form<AdjustForm>,
) -> UiResult {
    let user = require(user, &format!("/orders/{id}"))?;
    check_csrf(t, &user, &f.csrf)?;
    adjusted(t, id, s.app.cancel_order(&user.actor, id, &f.reason).await)
}

fn adjusted(t: Tr, id: i64, r: Result<joren_app::orders::Order, AppError>) -> UiResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/orders/{id}")).into_response()),
        Err(e @ AppError::Validation(_)) => Ok(back_with_error(&format!("/orders/{id}"), &e.to_string())),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(Deserialize)]
struct ContactForm {
    csrf: String,
    #[serde(flatten)]
    contact: joren_core::contact::ContactInput,
}

async fn add_contact(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Form(f): Form<ContactForm>,
) -> UiResult {
    let user = require(user, &format!("/customers/{id}"))?;
    check_csrf(t, &user, &f.csrf)?;
    match s.app.add_contact(&user.actor, id, f.contact).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?logged=1")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            Ok(back_with_error(&format!("/customers/{id}"), &e.to_string()))
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(Deserialize)]
struct ConsentForm {
    csrf: String,
    channel: String,
    granted: String,
}

async fn set_consent(
    State(s): State<AppState>,
    UiLang(t): UiLang,
    user: Option<WebUser>,
    Path(id): Path<i64>,
    Form(f): Form<ConsentForm>,
) -> UiResult {
    let user = require(user, &format!("/customers/{id}"))?;
    check_csrf(t, &user, &f.csrf)?;
    let source = format!("staff:{} (web)", user.actor.name);
    match s.app.set_consent(&user.actor, id, &f.channel, f.granted == "1", &source).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?logged=1")).into_response()),
        Err(e @ AppError::Validation(_)) => Ok(back_with_error(&format!("/customers/{id}"), &e.to_string())),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
