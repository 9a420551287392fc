//! API errors as JSON: `{"error":{"code":"…","message":"…","field":"…"}}` with a 4xx/5xx status.
//! `code` is the kind of error (`validation_failed`, `conflict`, …); a conflict or refusal also
//! names its `reason` (a stable code such as `key_reused`), and each field error in `details`
//! has its `field`, `code`, the values its wording names (`args`) and the `message` worded in
//! Japanese, the API's language.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use joren_app::AppError;
use serde_json::json;

use crate::i18n::{Lang, errors};

/// The language of the API's messages (the codes beside them are for programs).
const API_LANG: Lang = Lang::Ja;

/// An error leaving the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub reason: Option<&'static str>,
    pub details: Vec<joren_core::FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, reason: None, details: Vec::new() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(errors) => {
                let first = errors.0.first().cloned();
                let message = errors::named(&errors.0, API_LANG);
                Self {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "validation_failed",
                    message,
                    field: first.map(|f| f.field),
                    reason: None,
                    details: errors.0,
                }
            }
            AppError::NotFound(what) => Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found")),
            AppError::Conflict(p) => Self {
                reason: Some(p.code.as_str()),
                ..Self::new(StatusCode::CONFLICT, "conflict", errors::problem(&p, API_LANG))
            },
            AppError::Forbidden(p) => Self {
                reason: Some(p.code.as_str()),
                ..Self::new(StatusCode::FORBIDDEN, "forbidden", errors::problem(&p, API_LANG))
            },
            AppError::Unauthorized => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "authentication required"),
            AppError::TooManyAttempts { retry_after_secs } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("too many failed logins: try again in {retry_after_secs} s"),
            ),
            AppError::Io(m) => Self::new(StatusCode::BAD_REQUEST, "bad_request", m),
            AppError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some(f) = &self.field {
            body["error"]["field"] = json!(f);
        }
        if let Some(r) = self.reason {
            body["error"]["reason"] = json!(r);
        }
        if !self.details.is_empty() {
            let details: Vec<_> = self
                .details
                .iter()
                .map(|d| {
                    json!({"field": d.field, "code": d.code, "args": d.args, "message": errors::field_error(d, API_LANG)})
                })
                .collect();
            body["error"]["details"] = json!(details);
        }
        (self.status, Json(body)).into_response()
    }
}
