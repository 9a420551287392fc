//! `/api/v1` channels (owners): LINE, SMS and mail replies as started, with the webhook
//! addresses their providers need; and reading the replies mailbox now.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::ApiResult;
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/channels", get(status)).route("/mail/replies/poll", post(poll))
}

async fn status(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    Ok(Json(s.app.channel_status(&a).await?).into_response())
}

/// Reads the replies mailbox now: what was read; 404 when no mailbox is set.
async fn poll(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    Ok(Json(s.app.read_mail_replies_now(&a).await?).into_response())
}
