//! `/api/v1` referral programme: its settings (owners change them), the referrals (listed by
//! status or customer; recorded from a code), a customer's code and link, and the report that
//! sets referrals against the NPS groups.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use joren_app::referrals::ReferralFilter;
use joren_core::referral::ReferralSettings;
use serde::Deserialize;

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list).post(record))
        .route("/referral-report", get(report))
        .route("/settings/referrals", get(settings).put(save_settings))
        .route("/customers/{id}/referral", get(customer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    customer_id: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ListQuery>) -> ApiResult {
    let filter = ReferralFilter {
        status: q.status.filter(|v| !v.is_empty()),
        customer_id: q.customer_id,
        limit: q.limit.unwrap_or(100).clamp(1, 500),
        offset: q.offset.unwrap_or(0).max(0),
    };
    let (total, items) = s.app.list_referrals(&filter).await?;
    Ok(Json(serde_json::json!({"total": total, "items": items})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordBody {
    /// The referrer's code as the customer gave it.
    code: String,
    /// The new customer.
    customer_id: i64,
}

/// 201 with the referral; 422 for an unknown code, a self-referral (the matching field named)
/// or a customer who has bought already; 409 when they were referred already or the
/// programme is off.
async fn record(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(b): JsonBody<RecordBody>) -> ApiResult {
    let r = s.app.record_referral(&a, &b.code, b.customer_id, "api").await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn report(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.referral_report().await?).into_response())
}

async fn settings(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.referral_settings().await?).into_response())
}

async fn save_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(b): JsonBody<ReferralSettings>,
) -> ApiResult {
    Ok(Json(s.app.save_referral_settings(&a, &b).await?).into_response())
}

async fn customer(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.customer_referrals(id).await?).into_response())
}
