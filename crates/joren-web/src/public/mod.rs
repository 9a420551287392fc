//! Pages reached by a token rather than a login (unsubscribe, surveys), on a router of their
//! own: no session, no CSRF token (the token in the address is the proof), a small body
//! limit, and nothing that reveals more than the one customer's name.
//!
//! Unsubscribing follows RFC 8058: a GET shows a confirmation page (a link scanner that
//! follows the link unsubscribes nobody); a POST unsubscribes — the page's button, or a mail
//! client's one-click `List-Unsubscribe=One-Click` — and lands as a consent event with its
//! source.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::i18n::{Lang, Tr};

mod referral;
mod survey;
pub use referral::WORDS as REFERRAL_WORDS;
pub use survey::WORDS as SURVEY_WORDS;

/// The largest body a public page accepts.
const PUBLIC_BODY_LIMIT: usize = 4 * 1024;
/// The largest survey answer accepted.
const SURVEY_BODY_LIMIT: usize = 256 * 1024;

pub const WORDS: &[(&str, &str, &str)] = &[
    ("unsub.title", "メール配信の停止", "Unsubscribe"),
    (
        "unsub.ask",
        "お知らせメールの配信を停止しますか? 注文確認など、お取引に必要なメールは引き続きお送りします。",
        "stop receiving our newsletters and offers? Mail you need for your orders will still be sent.",
    ),
    ("unsub.submit", "配信を停止する", "Unsubscribe"),
    (
        "unsub.done",
        "お知らせメールの配信を停止しました。またのご利用をお待ちしております。",
        "you are unsubscribed and will get no more newsletters or offers from us.",
    ),
    (
        "unsub.invalid",
        "このリンクは使えません。メールに記載のリンクをそのままお使いください。",
        "This link does not work. Please use the link in the mail as it is.",
    ),
];

/// The largest webhook call accepted (LINE sends at most a few events a call).
const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

pub fn routes() -> Router<AppState> {
    let pages = Router::new()
        .route("/u/{token}", get(confirm).post(unsubscribe))
        .route("/r/{code}", get(referral::show).post(referral::sign_up))
        .layer(axum::extract::DefaultBodyLimit::max(PUBLIC_BODY_LIMIT));
    // A survey's answers: up to 20 questions, free text up to 2,000 characters (URL-encoded
    // Japanese is 9 bytes a character).
    let surveys = Router::new()
        .route("/s/{token}", get(survey::show).post(survey::answer))
        .layer(axum::extract::DefaultBodyLimit::max(SURVEY_BODY_LIMIT));
    let webhooks = Router::new()
        .route("/webhooks/line", axum::routing::post(line_webhook))
        .route(joren_app::sms::WEBHOOK_PATH, axum::routing::post(sms_webhook))
        .layer(axum::extract::DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT));
    pages.merge(surveys).merge(webhooks)
}

/// `POST /webhooks/line`: LINE's webhook. 200 once every event is applied (a redelivered one
/// is not applied again); 401 with nothing written when the `x-line-signature` is missing or
/// not LINE's for this body; 404 when no channel secret is set up. LINE retries what does not
/// answer 200, so a failure to store answers 500 and is redelivered.
async fn line_webhook(State(s): State<AppState>, headers: axum::http::HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("x-line-signature").and_then(|v| v.to_str().ok());
    let receipt = s.app.receive_line_webhook(&body, signature).await;
    webhook_answer("LINE", receipt.map(|r| axum::Json(r).into_response()))
}

/// `POST /webhooks/sms`: the SMS gateway's call for a text a customer sent. Twilio's form,
/// signed with `X-Twilio-Signature`, is answered with an empty TwiML response; a `json`
/// gateway's call, signed with `X-Signature`, with what was done. A text seen before is not
/// applied again; 401 with nothing written for a missing or wrong signature; 404 when no
/// gateway is set; 400 for a body that is not the gateway's shape or a sender that is not a
/// phone number.
async fn sms_webhook(State(s): State<AppState>, headers: axum::http::HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let content_type = header("content-type").unwrap_or_default();
    let signature = header("x-twilio-signature").or_else(|| header("x-signature"));
    let receipt = s.app.receive_sms_webhook(content_type, &body, signature).await;
    webhook_answer(
        "SMS",
        receipt.map(|r| {
            if content_type.starts_with("application/x-www-form-urlencoded") {
                let twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";
                ([(axum::http::header::CONTENT_TYPE, "text/xml")], twiml).into_response()
            } else {
                axum::Json(r).into_response()
            }
        }),
    )
}

/// A provider's webhook call as answered: its receipt, 401 (bad signature), 404 (not set
/// up), 400 (not its shape); a failure to store answers 500 so the provider calls again.
fn webhook_answer(provider: &str, applied: joren_app::Result<Response>) -> Response {
    match applied {
        Ok(r) => r,
        Err(joren_app::AppError::Unauthorized) => StatusCode::UNAUTHORIZED.into_response(),
        Err(joren_app::AppError::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(joren_app::AppError::Validation(_)) => StatusCode::BAD_REQUEST.into_response(),
        Err(e) => {
            tracing::error!(error = %e, provider, "webhook call not stored");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    t: Tr,
    name: String,
    done: bool,
}

fn lang(headers: &axum::http::HeaderMap) -> Tr {
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("ja");
    Tr(Lang::parse(accept))
}

fn invalid(t: Tr) -> Response {
    crate::ui::error_response_in(t, StatusCode::NOT_FOUND, t.t("unsub.invalid"))
}

async fn confirm(State(s): State<AppState>, headers: axum::http::HeaderMap, Path(token): Path<String>) -> Response {
    let t = lang(&headers);
    let Ok(id) = s.app.unsubscribe_customer(&token).await else { return invalid(t) };
    let name = s.app.get_customer(id).await.map(|c| c.display_name).unwrap_or_default();
    crate::ui::render_page(&UnsubscribePage { t, name, done: false })
}

async fn unsubscribe(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let t = lang(&headers);
    let one_click = form_urlencoded::parse(&body).any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click");
    let source = if one_click { "list_unsubscribe" } else { "unsubscribe_link" };
    match s.app.unsubscribe(&token, source).await {
        Ok(name) if one_click => (StatusCode::OK, format!("unsubscribed: {name}")).into_response(),
        Ok(name) => crate::ui::render_page(&UnsubscribePage { t, name, done: true }),
        Err(joren_app::AppError::NotFound(_)) => invalid(t),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe failed");
            crate::ui::error_response_in(t, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
        }
    }
}
