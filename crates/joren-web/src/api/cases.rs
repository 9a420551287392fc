//! `/api/v1` complaint cases: opened by hand or from an inbox conversation (once per
//! `Idempotency-Key`, once per conversation), the next of the seven steps recorded, the list
//! (open, breached, closed), the prevention report by month, and the rules (business hours,
//! the first-response allowance).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_app::cases::{CaseFilter, CaseInput, CaseSettings};
use joren_core::case::StepInput;
use serde::Deserialize;

use super::{ApiResult, JsonBody, idempotency_key};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list).post(open))
        .route("/cases/{id}", get(show))
        .route("/cases/{id}/steps", post(step))
        .route("/case-report", get(report))
        .route("/settings/cases", get(settings).put(save_settings))
        .route("/checklist", get(checklist))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// `open`, `breached`, `closed`; all when absent.
    #[serde(default)]
    state: String,
    #[serde(default)]
    customer_id: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn list(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ListQuery>) -> ApiResult {
    let f = CaseFilter { state: q.state, customer_id: q.customer_id, limit: q.limit.unwrap_or(200) };
    Ok(Json(s.app.cases(&f).await?).into_response())
}

/// 201 with the case (200 when the same key or conversation opened it before).
async fn open(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    JsonBody(b): JsonBody<CaseInput>,
) -> ApiResult {
    let before = match b.conversation_id {
        Some(_) => None,
        None => idempotency_key(&headers)?,
    };
    let (c, opened) = s.app.open_case(&a, &b, before).await?;
    Ok((if opened { StatusCode::CREATED } else { StatusCode::OK }, Json(c)).into_response())
}

async fn show(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.case_detail(id).await?).into_response())
}

/// The next step: 200 with the case; 422 `case_step_order` naming the step expected.
async fn step(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StepInput>,
) -> ApiResult {
    Ok(Json(s.app.record_case_step(&a, id, &b).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    #[serde(default)]
    months: Option<u32>,
}

async fn report(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ReportQuery>) -> ApiResult {
    Ok(Json(s.app.prevention_report(q.months.unwrap_or(12)).await?).into_response())
}

/// The retention checklist graded from the shop's data.
async fn checklist(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.retention_checklist().await?).into_response())
}

async fn settings(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.case_settings().await?).into_response())
}

async fn save_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(b): JsonBody<CaseSettings>,
) -> ApiResult {
    Ok(Json(s.app.save_case_settings(&a, &b).await?).into_response())
}
