//! The message a refused form post leaves for the page it goes back to: carried in a cookie
//! that only this server sets (HttpOnly, two minutes, cleared once the page is shown), so no
//! crafted link can put text in a page's error box as a `?error=` query string could.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::urlencode;

const COOKIE: &str = "joren_error";
/// Longest message carried (a cookie holds about 4 KB; the words are percent-encoded).
const MAX_CHARS: usize = 600;

/// Back to `path` (303) with `message` shown once there.
pub(super) fn back_with_error(path: &str, message: &str) -> Response {
    let message: String = message.chars().take(MAX_CHARS).collect();
    let cookie = format!("{COOKIE}={}; Path=/; Max-Age=120; HttpOnly; SameSite=Lax", urlencode(&message));
    ([(header::SET_COOKIE, cookie)], Redirect::to(path)).into_response()
}

/// The message waiting for this page, if a refused post left one.
pub(super) struct ErrorFlash(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ErrorFlash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(read(&parts.headers)))
    }
}

fn read(headers: &HeaderMap) -> Option<String> {
    crate::auth::cookie_in(headers, COOKIE)
        .map(|v| form_urlencoded::parse(format!("m={v}").as_bytes()).map(|(_, m)| m.into_owned()).collect())
        .filter(|m: &String| !m.is_empty())
}

/// Middleware: a response that shows a page (not a redirect) to a request that carried a
/// message clears it, so a reload does not show it again.
pub(super) async fn clear_when_shown(req: Request, next: Next) -> Response {
    let carried = read(req.headers()).is_some();
    let mut resp = next.run(req).await;
    if carried && !resp.status().is_redirection() {
        let clear = format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&clear) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_goes_out_and_comes_back_whole() {
        let resp = back_with_error("/orders/1", "返金額: 残額 1,200円 を超えています; a & b = c");
        assert_eq!(resp.status(), axum::http::StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[header::LOCATION], "/orders/1", "nothing in the address");
        let set = resp.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        let mut headers = HeaderMap::new();
        let value = set.split(';').next().unwrap();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("lang=ja; {value}")).unwrap());
        assert_eq!(read(&headers).as_deref(), Some("返金額: 残額 1,200円 を超えています; a & b = c"));
        assert_eq!(read(&HeaderMap::new()), None);
    }
}
