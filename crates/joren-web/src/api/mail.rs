//! `/api/v1/settings/mail` (owners): the mail settings in force, changed (saved over the
//! start-up flags) or reset to the flags; `/api/v1/mail/test` sends a test mail now.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_app::mail::MailSettingsInput;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/mail", get(settings).put(set_settings).delete(reset)).route("/mail/test", post(test))
}

async fn settings(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    let (m, source, has_password) = s.app.mail_settings(&a).await?;
    Ok(Json(m.view(source, has_password)).into_response())
}

async fn set_settings(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(body): JsonBody<Value>) -> ApiResult {
    let input = MailSettingsInput::from_json(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    s.app.set_mail_settings(&a, &input).await?;
    settings(State(s), ApiActor(a)).await
}

async fn reset(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    s.app.reset_mail_settings(&a).await?;
    settings(State(s), ApiActor(a)).await
}

#[derive(Deserialize)]
struct TestBody {
    to: String,
}

async fn test(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(b): JsonBody<TestBody>) -> ApiResult {
    let message_id = s.app.send_test_mail(&a, &b.to).await?;
    Ok(Json(json!({"message_id": message_id, "test_mode": s.app.mail().test_mode()})).into_response())
}
