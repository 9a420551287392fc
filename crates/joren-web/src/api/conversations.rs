//! `/api/v1` conversations (the inbox): the open ones by who has them, or the closed ones; one
//! with its messages; taking, giving, closing and reopening one; and a reply on its channel
//! (once per `Idempotency-Key`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use joren_app::conversations::InboxView;
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody, idempotency_key};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list))
        .route("/conversations/{id}", get(one))
        .route("/conversations/{id}/assignee", put(assign))
        .route("/conversations/{id}/close", post(close))
        .route("/conversations/{id}/reopen", post(reopen))
        .route("/conversations/{id}/replies", post(reply))
        .route("/conversations/{id}/customer", post(adopt))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AdoptBody {
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    given_name: String,
}

/// The person behind a conversation no customer had becomes a new customer (201 with its
/// id; their messages move to its timeline); one that has a customer answers it (200).
async fn adopt(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AdoptBody>,
) -> ApiResult {
    let (customer, created) = s.app.customer_from_conversation(&a, id, &b.family_name, &b.given_name).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"customer_id": customer}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    view: Option<String>,
    limit: Option<i64>,
}

async fn list(State(s): State<AppState>, ApiActor(a): ApiActor, Query(q): Query<ListQuery>) -> ApiResult {
    let view = match q.view.as_deref() {
        None | Some("") => InboxView::Open,
        Some(v) => InboxView::parse(v).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "view must be unassigned, mine, all or closed",
            )
            .field("view")
        })?,
    };
    let (counts, items) = s.app.conversations(&a, view, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"counts": counts, "items": items})).into_response())
}

async fn one(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.conversation(id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    assignee_id: Option<i64>,
}

async fn assign(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AssignBody>,
) -> ApiResult {
    Ok(Json(s.app.assign_conversation(&a, id, b.assignee_id).await?).into_response())
}

async fn close(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.set_conversation_open(&a, id, false).await?).into_response())
}

async fn reopen(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.set_conversation_open(&a, id, true).await?).into_response())
}

/// 202 with the queued message (200 when the same `Idempotency-Key` queued it before).
async fn reply(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<joren_app::line::LineMessageInput>,
) -> ApiResult {
    let queued = s.app.reply_to_conversation(&a, id, b, idempotency_key(&headers)?).await?;
    Ok(super::line::queued_answer(queued))
}
