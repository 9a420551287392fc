//! `/api/v1` membership endpoints: plans, start and changes (idempotent by `Idempotency-Key`),
//! a customer's memberships, and the report (status per plan, churn reasons, sBG retention).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use joren_app::memberships::{ChangeInput, StartInput};
use joren_core::membership::MembershipPlanInput;
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody, idempotency_key, replayed};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/membership-plans", get(plans).post(create_plan))
        .route("/membership-plans/{id}", put(update_plan))
        .route("/customers/{id}/memberships", get(customer_memberships).post(start))
        .route("/memberships/{id}", get(membership))
        .route("/memberships/{id}/changes", post(change))
        .route("/memberships/report", get(report))
}

async fn plans(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.membership_plans().await?})).into_response())
}

async fn create_plan(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(p): JsonBody<MembershipPlanInput>,
) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.save_membership_plan(&a, None, p).await?)).into_response())
}

async fn update_plan(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(p): JsonBody<MembershipPlanInput>,
) -> ApiResult {
    Ok(Json(s.app.save_membership_plan(&a, Some(id), p).await?).into_response())
}

async fn customer_memberships(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(json!({"items": s.app.customer_memberships(id).await?})).into_response())
}

async fn start(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<StartInput>,
) -> ApiResult {
    let (m, again) = s.app.start_membership(&a, id, input, idempotency_key(&headers)?).await?;
    Ok(replayed((StatusCode::CREATED, Json(m)).into_response(), again))
}

async fn membership(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.membership(id).await?).into_response())
}

async fn change(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<ChangeInput>,
) -> ApiResult {
    let (m, again) = s.app.change_membership(&a, id, input, idempotency_key(&headers)?).await?;
    Ok(replayed(Json(m).into_response(), again))
}

#[derive(Deserialize)]
struct ReportQuery {
    plan_id: Option<i64>,
}

async fn report(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ReportQuery>) -> ApiResult {
    Ok(Json(s.app.membership_report(q.plan_id).await?).into_response())
}
