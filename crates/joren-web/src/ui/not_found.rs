//! Errors a person can read where the framework would answer in plain English text: an
//! unknown address, an id that is not a number (`/customers/new-ish`), a form body that cannot
//! be read, a method the page does not take. Pages get the styled error page in the reader's
//! language; `/api/` addresses get the API's JSON error.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{LANG_COOKIE, UiError};
use crate::i18n::{Lang, Tr};

/// The reader's language from the request's cookie.
fn lang_of(req: &Request) -> Tr {
    Tr(crate::auth::cookie_in(req.headers(), LANG_COOKIE).map(Lang::parse).unwrap_or_default())
}

/// The page for a client error the framework answered itself.
fn page(t: Tr, status: StatusCode) -> Response {
    let key = match status {
        StatusCode::NOT_FOUND => "error.not_found",
        StatusCode::METHOD_NOT_ALLOWED => "error.method",
        StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::UNSUPPORTED_MEDIA_TYPE => "error.unreadable_form",
        _ => "error.bad_address",
    };
    // An id that is not a number names no page: not found, not "bad request".
    let status = if key == "error.bad_address" { StatusCode::NOT_FOUND } else { status };
    UiError::Page(t, status, t.t(key).to_string()).into_response()
}

/// Middleware on the pages: a 4xx answer that is not a page already (the framework's plain
/// text for a path, form or method it refused) becomes the styled error page.
pub(super) async fn readable_errors(req: Request, next: Next) -> Response {
    let t = lang_of(&req);
    let resp = next.run(req).await;
    let status = resp.status();
    let is_page =
        resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.starts_with("text/html") || v.starts_with("text/csv") || v.starts_with("application/json")
        });
    if status.is_client_error() && !is_page && status != StatusCode::TOO_MANY_REQUESTS {
        return page(t, status);
    }
    resp
}

/// What an address nothing answers gets: the API's JSON 404 under `/api/`, else the page.
pub(crate) async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return crate::api::not_found().await.into_response();
    }
    page(lang_of(&req), StatusCode::NOT_FOUND)
}
