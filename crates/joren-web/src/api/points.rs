//! `/api/v1` points endpoints: programme settings and preview, a customer's account, manual
//! grants and deductions, checkout redemptions (reserve → confirm / cancel), the expiry run and
//! the liability report. Writes that may be retried take an `Idempotency-Key`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_app::points::{DeductInput, GrantInput, PreviewInput, ReserveInput};
use joren_core::programme::Programme;
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, ExpiringQuery, JsonBody, idempotency_key, replayed};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/points", get(programme).put(set_programme))
        .route("/points/preview", post(preview))
        .route("/customers/{id}/points", get(account))
        .route("/customers/{id}/points/grants", post(grant))
        .route("/customers/{id}/points/deductions", post(deduct))
        .route("/customers/{id}/points/survey-bonus", post(survey_bonus))
        .route("/points/redemptions", post(reserve))
        .route("/points/redemptions/{id}", get(redemption))
        .route("/points/redemptions/{id}/confirm", post(confirm))
        .route("/points/redemptions/{id}/cancel", post(cancel))
        .route("/points/expire", post(run_schedule))
        .route("/points/expiring", get(expiring))
        .route("/points/report", get(report))
        .route("/points/verify", get(verify))
}

async fn programme(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.points_programme().await?).into_response())
}

async fn set_programme(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(p): JsonBody<Programme>,
) -> ApiResult {
    s.app.set_points_programme(&a, p).await?;
    Ok(Json(s.app.points_programme().await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    /// Settings not yet saved (the settings page previews its form); absent: the saved ones.
    #[serde(default)]
    programme: Option<Programme>,
    order: PreviewInput,
}

async fn preview(State(s): State<AppState>, ApiActor(_): ApiActor, JsonBody(b): JsonBody<PreviewBody>) -> ApiResult {
    let programme = match b.programme {
        Some(p) => {
            p.validate().map_err(|e| ApiError::from(joren_app::AppError::from(e)))?;
            p
        }
        None => s.app.points_programme().await?,
    };
    Ok(Json(s.app.preview_points(&programme, &b.order)).into_response())
}

async fn account(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.points_account(id).await?).into_response())
}

async fn grant(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<GrantInput>,
) -> ApiResult {
    let (lot, again) = s.app.grant_points(&a, id, input, idempotency_key(&headers)?).await?;
    let body = json!({"lot_id": lot, "account": s.app.points_account(id).await?});
    Ok(replayed((StatusCode::CREATED, Json(body)).into_response(), again))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveyAnswer {
    response_id: i64,
}

/// The survey bonus for one answered survey: 201 with the lot when granted, 200 with
/// `lot_id: null` when that response already earned it (or the bonus is off).
async fn survey_bonus(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SurveyAnswer>,
) -> ApiResult {
    let lot = s.app.grant_survey_bonus(&a, id, input.response_id).await?;
    let status = if lot.is_some() { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"lot_id": lot, "account": s.app.points_account(id).await?}))).into_response())
}

async fn deduct(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<DeductInput>,
) -> ApiResult {
    let r = s.app.deduct_points(&a, id, input, idempotency_key(&headers)?).await?;
    let again = r.replayed;
    Ok(replayed((StatusCode::CREATED, Json(r)).into_response(), again))
}

async fn reserve(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    JsonBody(input): JsonBody<ReserveInput>,
) -> ApiResult {
    let r = s.app.reserve_points(&a, input, idempotency_key(&headers)?).await?;
    let again = r.replayed;
    Ok(replayed((StatusCode::CREATED, Json(r)).into_response(), again))
}

async fn redemption(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.get_redemption(id).await?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    #[serde(default)]
    order_id: Option<i64>,
}

async fn confirm(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>, body: Bytes) -> ApiResult {
    let b: ConfirmBody = if body.is_empty() {
        ConfirmBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    Ok(Json(s.app.confirm_redemption(&a, id, b.order_id).await?).into_response())
}

async fn cancel(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.cancel_redemption(&a, id).await?).into_response())
}

async fn run_schedule(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    a.require_write().map_err(ApiError::from)?;
    Ok(Json(s.app.run_points_schedule().await?).into_response())
}

async fn expiring(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ExpiringQuery>) -> ApiResult {
    let days = q.days()?;
    let items: Vec<_> = s
        .app
        .points_expiring_within(days)
        .await?
        .into_iter()
        .map(
            |(customer_id, points, first)| json!({"customer_id": customer_id, "points": points, "first_expiry": first}),
        )
        .collect();
    Ok(Json(json!({"days": days, "items": items})).into_response())
}

async fn report(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    let (free, paid) = s.app.points_outstanding().await?;
    let months = s.app.points_report().await?;
    Ok(Json(json!({"outstanding": {"free": free, "paid": paid}, "months": months})).into_response())
}

async fn verify(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    let mismatches = s.app.verify_points().await?;
    Ok(Json(json!({"ok": mismatches.is_empty(), "mismatches": mismatches})).into_response())
}
