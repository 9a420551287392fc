//! What stands between the network and the handlers: body-size limits, security headers,
//! refusal of control characters in URLs and form bodies, and JSON errors for the API's
//! path/query/body rejections (which axum words as plain text).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Largest body of a form or JSON request: an order of 1,000 lines is ≈ 200 kB of JSON.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Largest CSV upload (the import routes only).
pub const UPLOAD_LIMIT: usize = 512 * 1024 * 1024;

/// CSV uploads read into memory at once (the file is then kept in the database, where every
/// server process can reach it between preview and run). Further uploads wait their turn
/// before their body is read, so uploads hold at most this many × [`UPLOAD_LIMIT`] of memory.
pub const UPLOADS_AT_ONCE: usize = 2;
static UPLOAD_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(UPLOADS_AT_ONCE);

/// Layer for the upload routes: waits for an upload slot, then lets the request (whose body
/// the handler reads) through while holding it.
pub async fn one_upload_slot(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let _slot = UPLOAD_SLOTS.acquire().await;
    next.run(req).await
}

/// `Content-Security-Policy` of every answer: scripts only from this server (the pages have no
/// inline script), nothing framed, no plugins. Inline `style` attributes stay allowed (the SVG
/// charts use them; they cannot run code).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers; `no-store` unless the handler chose a cache policy (static assets).
pub async fn security_headers(secure: bool, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    if secure {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    resp
}

/// Whether `c` is a control character a text field may not hold (everything below U+0020
/// except tab, line feed and carriage return — a textarea sends CRLF —, and DEL).
pub fn forbidden_control(c: char) -> bool {
    joren_core::text::is_forbidden_control(c)
}

/// The first `name=value` pair of a URL-encoded string whose name or value holds a forbidden
/// control character; answers the pair's (decoded) name.
fn control_in_urlencoded(s: &[u8]) -> Option<String> {
    form_urlencoded::parse(s)
        .find(|(k, v)| k.chars().any(forbidden_control) || v.chars().any(forbidden_control))
        .map(|(k, _)| k.chars().filter(|c| !forbidden_control(*c)).collect())
}

fn control_refused(api: bool, field: &str) -> Response {
    let msg = "制御文字 (NUL など) は使えません / control characters are not allowed";
    if api {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "control_character", msg).field(field).into_response()
    } else {
        crate::ui::error_response(StatusCode::UNPROCESSABLE_ENTITY, &format!("{field}: {msg}"))
    }
}

/// Refuses a request whose path, query or URL-encoded form body holds a control character
/// (a NUL reaching PostgreSQL is a 500; on SQLite it cuts the text short when shown).
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let path_bad = percent_decoded(req.uri().path().as_bytes()).iter().any(|b| forbidden_control(char::from(*b)));
    if path_bad {
        return control_refused(api, "path");
    }
    if let Some(field) = req.uri().query().and_then(|q| control_in_urlencoded(q.as_bytes())) {
        return control_refused(api, &field);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return too_large(api),
    };
    if let Some(field) = control_in_urlencoded(&bytes) {
        return control_refused(api, &field);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn too_large(api: bool) -> Response {
    let msg = format!("リクエストが大きすぎます (上限 {} KiB) / request body too large", BODY_LIMIT / 1024);
    if api {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", msg).into_response()
    } else {
        crate::ui::error_response(StatusCode::PAYLOAD_TOO_LARGE, &msg)
    }
}

/// `%XX` sequences decoded (invalid ones left as they are).
fn percent_decoded(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok())
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Under `/api/v1`: an error answer that is not JSON (axum's own rejections of a bad path,
/// query or body, an unknown route, a body over the limit) becomes the API's JSON error.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let text = match axum::body::to_bytes(resp.into_body(), 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if text.trim().is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    ApiError::new(status, code, message).into_response()
}

/// The path to go to after a login or a language switch: only a path on this server.
/// Browsers drop tabs and line breaks from URLs and read `\` as `/`, so `/\t/evil.example`
/// would leave the site; anything but a plain same-origin path falls back to `/`.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else { return "/".into() };
    let plain = n.starts_with('/')
        && n.is_ascii()
        && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && !n[1..].starts_with('/')
        && n.split('#')
            .next()
            .is_some_and(|pq| pq.parse::<axum::http::uri::PathAndQuery>().is_ok_and(|p| p.as_str() == pq))
        && HeaderValue::from_str(n).is_ok();
    if plain { n.to_string() } else { "/".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_same_origin_paths_are_followed() {
        for ok in ["/", "/customers?q=%E5%B1%B1&page=2", "/customers/12#points"] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "/\t/evil.example/phish",
            "/\n",
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "https://evil.example",
            "evil",
            "/ /x",
            "/山田",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn control_characters_are_found_in_urlencoded_text() {
        assert_eq!(control_in_urlencoded(b"a=1&q=%00x").as_deref(), Some("q"));
        assert_eq!(control_in_urlencoded(b"note=line1%0D%0Aline2%09tab"), None);
        assert_eq!(control_in_urlencoded(b"n%00ame=x").as_deref(), Some("name"));
        assert_eq!(control_in_urlencoded(b"x=%7F").as_deref(), Some("x"));
        assert_eq!(percent_decoded(b"/a%00b%zz"), b"/a\0b%zz");
    }
}
