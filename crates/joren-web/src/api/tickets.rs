//! `/api/v1` prepaid ticket (回数券) endpoints: plans, sale and use (idempotent by
//! `Idempotency-Key`), refund of the unused part, expiring tickets and the outstanding value.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use joren_app::tickets::{RefundTicketInput, SellInput, UseInput};
use joren_core::ticket::TicketPlanInput;
use serde_json::json;

use super::{ApiResult, ExpiringQuery, JsonBody, idempotency_key, replayed};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ticket-plans", get(plans).post(create_plan))
        .route("/ticket-plans/{id}", put(update_plan))
        .route("/customers/{id}/tickets", get(customer_tickets).post(sell))
        .route("/tickets/{id}", get(ticket))
        .route("/tickets/{id}/uses", post(use_ticket))
        .route("/tickets/{id}/refund", post(refund))
        .route("/tickets/expiring", get(expiring))
        .route("/tickets/outstanding", get(outstanding))
}

async fn plans(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.ticket_plans().await?})).into_response())
}

async fn create_plan(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(p): JsonBody<TicketPlanInput>,
) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.save_ticket_plan(&a, None, p).await?)).into_response())
}

async fn update_plan(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(p): JsonBody<TicketPlanInput>,
) -> ApiResult {
    Ok(Json(s.app.save_ticket_plan(&a, Some(id), p).await?).into_response())
}

async fn customer_tickets(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(json!({"items": s.app.customer_tickets(id).await?})).into_response())
}

async fn sell(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<SellInput>,
) -> ApiResult {
    let sold = s.app.sell_ticket(&a, id, input, idempotency_key(&headers)?).await?;
    Ok(replayed((StatusCode::CREATED, Json(sold.ticket)).into_response(), sold.replayed))
}

async fn ticket(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.ticket(id).await?).into_response())
}

async fn use_ticket(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        UseInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let done = s.app.use_ticket(&a, id, input, idempotency_key(&headers)?).await?;
    Ok(replayed((StatusCode::CREATED, Json(done.ticket)).into_response(), done.replayed))
}

async fn refund(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<RefundTicketInput>,
) -> ApiResult {
    Ok(Json(s.app.refund_ticket(&a, id, input).await?).into_response())
}

async fn expiring(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ExpiringQuery>) -> ApiResult {
    let days = q.days()?;
    Ok(Json(json!({"items": s.app.tickets_expiring_within(days).await?})).into_response())
}

async fn outstanding(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.tickets_outstanding().await?).into_response())
}
