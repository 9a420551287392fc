//! Who is on a page, as extractors a handler cannot forget: [`Staff`] is a signed-in staff
//! member (their role is on `user.actor`, and each use case checks it), and
//! [`Checked`] is a posted form whose CSRF token matched the session's before the handler
//! ran. A handler that takes either cannot be reached without a session, and a state-changing
//! form handler that takes `Checked` cannot skip the token check.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use serde::de::DeserializeOwned;

use super::{LANG_COOKIE, UiError};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, WebUser, constant_time_eq, cookie};
use crate::guard::safe_next;
use crate::i18n::{Lang, Tr};

/// The largest form body read (the import upload, a multipart body, has its own limit).
const FORM_LIMIT: usize = 256 * 1024;

/// A signed-in staff member and the page's language.
pub(crate) struct Staff {
    pub user: WebUser,
    pub t: Tr,
}

/// The page's language: the language cookie, Japanese by default.
pub(super) fn lang(parts: &Parts) -> Tr {
    Tr(cookie(parts, LANG_COOKIE).map(Lang::parse).unwrap_or_default())
}

/// Where to come back to after signing in: the page itself for a GET, the page the form was
/// on (its Referer, when it is ours) for a POST.
fn come_back_to(parts: &Parts) -> String {
    if parts.method == Method::GET {
        return safe_next(parts.uri.path_and_query().map(|p| p.as_str()));
    }
    let referer = parts.headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    let path = referer.and_then(|r| r.find("://").map(|i| &r[i + 3..])).and_then(|r| r.find('/').map(|i| &r[i..]));
    safe_next(path)
}

async fn signed_in(parts: &Parts, state: &AppState) -> Result<Staff, UiError> {
    let t = lang(parts);
    let login = || UiError::Login(come_back_to(parts));
    let token = cookie(parts, SESSION_COOKIE).ok_or_else(login)?;
    match state.app.session(token).await {
        Ok(Some((actor, csrf))) => Ok(Staff { user: WebUser { actor, csrf }, t }),
        Ok(None) => Err(login()),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        signed_in(parts, state).await
    }
}

/// A posted form (`application/x-www-form-urlencoded`) from a signed-in member whose `csrf`
/// field matched the session's token. `T` need not (and should not) carry the token.
pub(crate) struct Checked<T> {
    pub user: WebUser,
    pub t: Tr,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Checked<T> {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let Staff { user, t } = signed_in(&parts, state).await?;
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| UiError::Page(t, StatusCode::PAYLOAD_TOO_LARGE, t.t("error.form_too_large").into()))?;
        let sent = form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
        if !sent.is_some_and(|s| constant_time_eq(&s, &user.csrf)) {
            return Err(UiError::Page(t, StatusCode::FORBIDDEN, t.t("error.csrf").into()));
        }
        let req = Request::from_parts(parts, Body::from(bytes));
        let axum::Form(form) = axum::Form::<T>::from_request(req, &())
            .await
            .map_err(|e| UiError::Page(t, StatusCode::UNPROCESSABLE_ENTITY, e.body_text()))?;
        Ok(Self { user, t, form })
    }
}
