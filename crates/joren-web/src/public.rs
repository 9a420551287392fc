//! Pages reached by a token rather than a login (unsubscribe now; surveys and member cards
//! later), on a router of their own: no session, no CSRF token (the token in the address is
//! the proof), a small body limit, and nothing that reveals more than the one customer's name.
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

/// The largest body a public page accepts.
const PUBLIC_BODY_LIMIT: usize = 4 * 1024;

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
        .layer(axum::extract::DefaultBodyLimit::max(PUBLIC_BODY_LIMIT));
    let webhooks = Router::new()
        .route("/webhooks/line", axum::routing::post(line_webhook))
        .layer(axum::extract::DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT));
    pages.merge(webhooks)
}

/// `POST /webhooks/line`: LINE's webhook. 200 once every event is applied (a redelivered one
/// is not applied again); 401 with nothing written when the `x-line-signature` is missing or
/// not LINE's for this body; 404 when no channel secret is set up. LINE retries what does not
/// answer 200, so a failure to store answers 500 and is redelivered.
async fn line_webhook(State(s): State<AppState>, headers: axum::http::HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("x-line-signature").and_then(|v| v.to_str().ok());
    match s.app.receive_line_webhook(&body, signature).await {
        Ok(receipt) => axum::Json(receipt).into_response(),
        Err(joren_app::AppError::Unauthorized) => StatusCode::UNAUTHORIZED.into_response(),
        Err(joren_app::AppError::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(joren_app::AppError::Validation(_)) => StatusCode::BAD_REQUEST.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "LINE webhook not stored");
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
