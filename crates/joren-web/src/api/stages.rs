//! `/api/v1` customer-success stages: the funnel, a customer's stage set by hand (or handed
//! back to the rules with `null`), and the rules run now (they also run nightly).

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_core::success::Stage;
use serde::Deserialize;

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stages", get(funnel))
        .route("/stages/evaluate", post(evaluate))
        .route("/customers/{id}/stage", get(show).put(set))
}

async fn funnel(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.stage_funnel().await?).into_response())
}

async fn evaluate(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    a.require_write()?;
    Ok(Json(serde_json::json!({"moved": s.app.evaluate_stages().await?})).into_response())
}

async fn show(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.customer_stage(id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    /// A stage, or null to hand the customer back to the rules.
    stage: Option<Stage>,
}

async fn set(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<SetBody>,
) -> ApiResult {
    Ok(Json(s.app.set_customer_stage(&a, id, b.stage).await?).into_response())
}
