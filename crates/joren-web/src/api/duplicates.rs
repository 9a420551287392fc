//! `/api/v1` duplicate suggestions: pairs of customers that may be one person, and a pair
//! marked as different people so it is not suggested again. Merging is
//! `POST /customers/{id}/merge`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new().route("/customers/duplicates", get(list)).route("/customers/duplicates/dismiss", post(dismiss))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ListQuery>) -> ApiResult {
    let items = s.app.duplicate_suggestions(q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"items": items})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    first: i64,
    second: i64,
}

async fn dismiss(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(p): JsonBody<Pair>) -> ApiResult {
    s.app.dismiss_duplicate(&a, p.first, p.second).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
