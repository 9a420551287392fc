//! `/api/v1` outbound webhooks (owners): subscriptions (URL, event kinds, the signing secret
//! made for it), a test delivery, the delivery log, and sending a failed delivery again.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_app::webhooks::WebhookInput;
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/events", get(kinds))
        .route("/webhooks/deliveries", get(deliveries))
        .route("/webhooks/deliveries/{id}/retry", post(retry))
        .route("/webhooks/{id}", get(one).put(update).delete(remove))
        .route("/webhooks/{id}/test", post(test))
}

async fn list(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.webhooks(&a).await?})).into_response())
}

async fn kinds(ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": joren_app::webhooks::event_kinds()})).into_response())
}

async fn create(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(b): JsonBody<WebhookInput>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.create_webhook(&a, b).await?)).into_response())
}

async fn one(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    let hook = s
        .app
        .webhooks(&a)
        .await?
        .into_iter()
        .find(|w| w.id == id)
        .ok_or_else(|| ApiError::from(joren_app::AppError::NotFound("webhook")))?;
    Ok(Json(hook).into_response())
}

async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<WebhookInput>,
) -> ApiResult {
    Ok(Json(s.app.update_webhook(&a, id, b).await?).into_response())
}

async fn remove(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    s.app.delete_webhook(&a, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// 202 with the queued test delivery (sent by the next worker pass).
async fn test(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok((StatusCode::ACCEPTED, Json(s.app.test_webhook(&a, id).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryQuery {
    subscription_id: Option<i64>,
    state: Option<String>,
    limit: Option<i64>,
}

async fn deliveries(State(s): State<AppState>, ApiActor(a): ApiActor, Query(q): Query<DeliveryQuery>) -> ApiResult {
    let state = q.state.as_deref().filter(|x| !x.is_empty());
    if let Some(x) = state
        && !["queued", "sending", "delivered", "failed"].contains(&x)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "state must be queued, sending, delivered or failed",
        )
        .field("state"));
    }
    let items = s.app.webhook_deliveries(&a, q.subscription_id, state, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"items": items})).into_response())
}

async fn retry(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.retry_webhook_delivery(&a, id).await?).into_response())
}
