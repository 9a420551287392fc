//! `/api/v1` follow-up automation: scenarios (CRUD, activate, pause, enrol, broadcast, report),
//! the outbox, tasks, template previews and the shop's saved messages.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_app::message_templates::MessageTemplateInput;
use joren_app::scenarios::{ScenarioInput, Status};
use joren_app::tasks::{TaskFilter, TaskInput, TaskOutcome};
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scenarios", get(list).post(create))
        .route("/scenarios/{id}", get(show).put(update))
        .route("/scenarios/{id}/activate", post(activate))
        .route("/scenarios/{id}/pause", post(pause))
        .route("/scenarios/{id}/enrol", post(enrol))
        .route("/scenarios/{id}/broadcast", post(broadcast))
        .route("/scenarios/{id}/uplift", get(uplift))
        .route("/customers/{id}/runs", get(customer_runs))
        .route("/templates/preview", post(preview))
        .route("/message-templates", get(message_templates).post(create_message_template))
        .route(
            "/message-templates/{id}",
            get(message_template).put(update_message_template).delete(delete_message_template),
        )
        .route("/outbox", get(outbox))
        .route("/outbox/{id}", get(message))
        .route("/tasks", get(tasks).post(create_task))
        .route("/tasks/letters", get(mailing_list))
        .route("/tasks/{id}", get(task))
        .route("/tasks/{id}/finish", post(finish_task))
}

async fn list(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.scenarios().await?})).into_response())
}

async fn create(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(b): JsonBody<ScenarioInput>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.create_scenario(&a, b).await?)).into_response())
}

async fn show(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.scenario_report(id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ScenarioInput>,
) -> ApiResult {
    Ok(Json(s.app.update_scenario(&a, id, b).await?).into_response())
}

async fn activate(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.set_scenario_status(&a, id, Status::Active).await?).into_response())
}

async fn pause(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.set_scenario_status(&a, id, Status::Paused).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    customer_id: i64,
}

async fn enrol(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<EnrolBody>,
) -> ApiResult {
    Ok(Json(json!({"entered": s.app.enrol_customer(&a, id, b.customer_id).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BroadcastBody {
    segment_id: i64,
}

async fn broadcast(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<BroadcastBody>,
) -> ApiResult {
    Ok(Json(json!({"entered": s.app.broadcast(&a, id, b.segment_id).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    subject: String,
    body: String,
    /// A real customer to render for; a sample one when absent.
    customer_id: Option<i64>,
    #[serde(default = "yes")]
    marketing: bool,
}

fn yes() -> bool {
    true
}

async fn preview(State(s): State<AppState>, ApiActor(_): ApiActor, JsonBody(b): JsonBody<PreviewBody>) -> ApiResult {
    let p = s.app.preview_message(&b.subject, &b.body, b.marketing, b.customer_id).await?;
    Ok(Json(p).into_response())
}

async fn message_templates(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.message_templates().await?).into_response())
}

async fn message_template(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.message_template(id).await?).into_response())
}

async fn create_message_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(b): JsonBody<MessageTemplateInput>,
) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.create_message_template(&a, &b).await?)).into_response())
}

async fn update_message_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<MessageTemplateInput>,
) -> ApiResult {
    Ok(Json(s.app.update_message_template(&a, id, &b).await?).into_response())
}

async fn delete_message_template(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    s.app.delete_message_template(&a, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    customer_id: Option<i64>,
    scenario_id: Option<i64>,
    state: Option<String>,
    limit: Option<i64>,
}

async fn outbox(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<OutboxQuery>) -> ApiResult {
    if let Some(st) = q.state.as_deref()
        && !matches!(st, "" | "queued" | "sending" | "sent" | "failed" | "suppressed")
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "state must be queued, sending, sent, failed or suppressed",
        )
        .field("state"));
    }
    let (counts, items) = s
        .app
        .outbox(q.customer_id, q.scenario_id, q.state.as_deref().filter(|s| !s.is_empty()), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(json!({"counts": counts, "items": items})).into_response())
}

async fn message(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.message(id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskQuery {
    state: Option<String>,
    assignee_id: Option<i64>,
    customer_id: Option<i64>,
    due_by: Option<chrono::NaiveDate>,
    /// call, letter or visit.
    kind: Option<String>,
    limit: Option<i64>,
}

async fn tasks(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<TaskQuery>) -> ApiResult {
    let f = TaskFilter {
        state: q.state.unwrap_or_default(),
        assignee_id: q.assignee_id,
        customer_id: q.customer_id,
        due_by: q.due_by,
        kind: q.kind.unwrap_or_default(),
        limit: q.limit.unwrap_or(200).clamp(1, 1000),
    };
    Ok(Json(json!({"items": s.app.tasks(&f).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailingQuery {
    /// Only this staff member's letters and the unassigned ones.
    assignee_id: Option<i64>,
}

/// The open letter tasks' addresses (labels), and the customers left out for want of one.
async fn mailing_list(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<MailingQuery>) -> ApiResult {
    Ok(Json(s.app.mailing_list(q.assignee_id).await?).into_response())
}

async fn task(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.task(id).await?).into_response())
}

async fn create_task(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(b): JsonBody<TaskInput>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.create_task(&a, b).await?)).into_response())
}

async fn finish_task(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<TaskOutcome>,
) -> ApiResult {
    Ok(Json(s.app.finish_task(&a, id, b).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpliftQuery {
    window_days: Option<i64>,
}

async fn uplift(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<UpliftQuery>,
) -> ApiResult {
    Ok(Json(s.app.scenario_uplift(id, q.window_days.unwrap_or(30)).await?).into_response())
}

/// A customer's scenario runs: which scenario and version, where they stand, why they left.
async fn customer_runs(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    s.app.get_customer(id).await?;
    Ok(Json(json!({"items": s.app.customer_runs(id).await?})).into_response())
}
