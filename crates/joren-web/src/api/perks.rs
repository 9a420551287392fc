//! `/api/v1` perk endpoints: definitions (owners edit), "may customer X use perk Y", and every
//! perk with the answer for one customer (the member page).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use joren_core::perk::PerkInput;
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, JsonBody};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/perks", get(list).post(create))
        .route("/perks/{id}", put(update))
        .route("/perks/{id}/check", get(check))
        .route("/customers/{id}/perks", get(customer_perks))
}

async fn list(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.perks().await?})).into_response())
}

async fn create(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(p): JsonBody<PerkInput>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.save_perk(&a, None, p).await?)).into_response())
}

async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(p): JsonBody<PerkInput>,
) -> ApiResult {
    Ok(Json(s.app.save_perk(&a, Some(id), p).await?).into_response())
}

#[derive(Deserialize)]
struct CheckQuery {
    customer_id: i64,
}

async fn check(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<CheckQuery>,
) -> ApiResult {
    Ok(Json(s.app.check_perk(q.customer_id, id).await?).into_response())
}

async fn customer_perks(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(json!({"items": s.app.customer_perks(id).await?})).into_response())
}
