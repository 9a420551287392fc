//! `/api/v1` SMS: a staff member's text to a customer (queued in the outbox, once per
//! `Idempotency-Key`), and what a text would cost — to one person, a saved segment, or as a
//! scenario's SMS steps over a segment before a broadcast. The gateway's own webhook is
//! `/webhooks/sms` (signed by the gateway, not by a token).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiResult, JsonBody, idempotency_key};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/sms-messages", post(send))
        .route("/sms/estimate", post(estimate))
        .route("/scenarios/{id}/sms-estimate", get(scenario_estimate))
}

/// Queues a text to the customer's mobile number: 202 with its outbox id (200 when the same
/// `Idempotency-Key` queued it before); 422 `no_sms_phone` when they have no mobile number or
/// replied STOP, `sms_too_long` past 10 segments.
async fn send(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<joren_app::sms::SmsMessageInput>,
) -> ApiResult {
    let queued = s.app.send_sms_message(&a, id, b, idempotency_key(&headers)?).await?;
    Ok(super::line::queued_answer(queued))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EstimateBody {
    text: String,
    #[serde(default)]
    segment_id: Option<i64>,
    #[serde(default = "yes")]
    marketing: bool,
}

fn yes() -> bool {
    true
}

async fn estimate(State(s): State<AppState>, ApiActor(_): ApiActor, JsonBody(b): JsonBody<EstimateBody>) -> ApiResult {
    Ok(Json(s.app.sms_estimate(&b.text, b.segment_id, b.marketing).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioEstimateQuery {
    segment_id: i64,
}

async fn scenario_estimate(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<ScenarioEstimateQuery>,
) -> ApiResult {
    Ok(Json(s.app.scenario_sms_estimates(id, q.segment_id).await?).into_response())
}
