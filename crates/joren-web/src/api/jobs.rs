//! `/api/v1` job queue endpoints (owners): what the scheduled work is doing, and a retry for a
//! job that stopped after its last attempt.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_app::jobs::JobState;
use serde::Deserialize;
use serde_json::json;

use super::ApiResult;
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/jobs", get(list)).route("/jobs/{id}/retry", post(retry))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
}

async fn list(State(s): State<AppState>, ApiActor(a): ApiActor, Query(q): Query<ListQuery>) -> ApiResult {
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(v) => Some(JobState::parse(v).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "state must be queued, running, done or dead",
            )
            .field("state")
        })?),
    };
    let (counts, items) = s.app.jobs(&a, state, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"counts": counts, "items": items})).into_response())
}

async fn retry(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.retry_job(&a, id).await?).into_response())
}
