//! Who is calling: an API token (`Authorization: Bearer jrn_…`) or a login session cookie.
//! Unsafe methods with a session cookie need the session's CSRF token (form field `csrf`,
//! header `X-CSRF-Token` or query `csrf`); token-authenticated API calls do not.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use joren_app::{Actor, AppError};

use crate::AppState;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "joren_session";

/// Reads one cookie from the request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

/// Reads one cookie from request headers (for middleware, which holds the whole request).
pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A caller of the JSON API.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let value = auth.to_str().map_err(|_| ApiError::from(AppError::Unauthorized))?;
            let token = value.strip_prefix("Bearer ").ok_or_else(|| ApiError::from(AppError::Unauthorized))?;
            return Ok(Self(state.app.authenticate_token(token.trim()).await?));
        }
        let Some(token) = cookie(parts, SESSION_COOKIE) else {
            return Err(AppError::Unauthorized.into());
        };
        let (actor, csrf) = state.app.session(token).await?.ok_or(AppError::Unauthorized)?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
            if !sent.is_some_and(|s| constant_time_eq(s, &csrf)) {
                return Err(ApiError::new(axum::http::StatusCode::FORBIDDEN, "csrf", "CSRF token missing or wrong"));
            }
        }
        Ok(Self(actor))
    }
}

/// A logged-in web user with the session's CSRF token.
#[derive(Clone)]
pub struct WebUser {
    pub actor: Actor,
    pub csrf: String,
}

impl OptionalFromRequestParts<AppState> for WebUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        let Some(token) = cookie(parts, SESSION_COOKIE) else {
            return Ok(None);
        };
        Ok(state.app.session(token).await?.map(|(actor, csrf)| WebUser { actor, csrf }))
    }
}

/// Compares two secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    joren_core::secret::constant_time_eq(a.as_bytes(), b.as_bytes())
}
