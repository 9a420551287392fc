//! `/api/v1` LINE: link a LINE user to a customer (their earlier messages move onto the
//! customer's timeline, their follow state becomes LINE consent), and the LINE users no
//! customer is linked to yet; a staff member's LINE message to a customer (queued in the
//! outbox, once per `Idempotency-Key`). LINE's own webhook is `/webhooks/line` (not under the API: it
//! is signed by LINE, not by a token).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody, idempotency_key};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/line-user", put(link))
        .route("/customers/{id}/line-link-code", post(link_code))
        .route("/line/unlinked-users", get(unlinked))
        .route("/customers/{id}/line-messages", post(send))
}

/// Queues a LINE message to the customer's linked LINE user: 202 with its outbox id (200
/// when the same `Idempotency-Key` queued it before); 422 `no_line_user` when nobody is
/// linked or they blocked the account.
async fn send(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<joren_app::line::LineMessageInput>,
) -> ApiResult {
    let queued = s.app.send_line_message(&a, id, b, idempotency_key(&headers)?).await?;
    Ok(queued_answer(queued))
}

/// A queued LINE message as answered: 202, or 200 when its `Idempotency-Key` queued it before.
pub(super) fn queued_answer(queued: joren_app::QueuedMessage) -> axum::response::Response {
    let status = if queued.created { StatusCode::ACCEPTED } else { StatusCode::OK };
    (status, Json(queued)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    line_user_id: String,
}

async fn link(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LinkBody>,
) -> ApiResult {
    let linked = s.app.link_line_user(&a, id, &b.line_user_id).await?;
    Ok(Json(json!({
        "customer_id": id,
        "line_user_id": b.line_user_id.trim(),
        "moved_messages": linked.moved_messages,
        "following": linked.following,
    }))
    .into_response())
}

/// A one-time code for the customer to send to the shop's LINE account (links them).
async fn link_code(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    let code = s.app.line_link_code(&a, id).await?;
    Ok((StatusCode::CREATED, Json(code)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

async fn unlinked(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ListQuery>) -> ApiResult {
    let items = s.app.unlinked_line_users(q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"items": items})).into_response())
}
