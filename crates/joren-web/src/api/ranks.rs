//! `/api/v1` rank endpoints: a customer's rank (with what is missing to the next tier and the
//! history), a manual change with a reason, the evaluation run, the report, and the change feed
//! the automation reads.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use joren_app::ranks::SetRankInput;
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/rank", get(customer_rank).put(set_rank))
        .route("/ranks/evaluate", post(evaluate))
        .route("/ranks/report", get(report))
        .route("/ranks/changes", get(changes))
}

async fn customer_rank(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.customer_rank(id).await?).into_response())
}

async fn set_rank(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SetRankInput>,
) -> ApiResult {
    Ok(Json(s.app.set_customer_rank(&a, id, input).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateBody {
    /// Evaluate as of this local day (owners; to catch up a missed review). Default: today.
    #[serde(default)]
    on: Option<NaiveDate>,
}

async fn evaluate(State(s): State<AppState>, ApiActor(a): ApiActor, body: Bytes) -> ApiResult {
    a.require_write().map_err(ApiError::from)?;
    let on = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<EvaluateBody>(&body).map_err(|e| ApiError::bad_request(e.to_string()))?.on
    };
    if on.is_some() {
        a.require_owner().map_err(ApiError::from)?;
    }
    let run = s.app.evaluate_ranks(on.unwrap_or_else(|| s.app.today_date())).await?;
    Ok(Json(run).into_response())
}

async fn report(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.rank_report().await?).into_response())
}

#[derive(Deserialize)]
struct ChangesQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "hundred")]
    limit: i64,
}

fn hundred() -> i64 {
    100
}

async fn changes(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ChangesQuery>) -> ApiResult {
    let items = s.app.rank_changes_after(q.after, q.limit).await?;
    let next = items.last().map_or(q.after, |c| c.id);
    Ok(Json(json!({"items": items, "next_after": next})).into_response())
}
