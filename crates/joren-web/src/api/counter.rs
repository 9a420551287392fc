//! `/api/v1` counter (レジ) and product-list endpoints, for a POS system or a tablet app: find
//! a customer, read what the counter shows about them, ring up a sale (items or an amount,
//! points and a 回数券 visit in one request; `Idempotency-Key` required, so a retried sale is
//! applied once).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use joren_app::counter::SaleInput;
use joren_core::product::ProductInput;
use serde_json::json;

use super::{ApiResult, JsonBody, idempotency_key, replayed};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/counter/customers", get(find))
        .route("/counter/customers/{id}", get(card))
        .route("/counter/sales", axum::routing::post(sale))
        .route("/products", get(products).post(create_product))
        .route("/products/{product}", put(update_product))
}

#[derive(serde::Deserialize)]
struct FindQuery {
    #[serde(default)]
    q: String,
}

async fn find(State(s): State<AppState>, ApiActor(_): ApiActor, Query(f): Query<FindQuery>) -> ApiResult {
    Ok(Json(json!({"items": s.app.counter_find(&f.q).await?})).into_response())
}

async fn card(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.counter_card(id).await?).into_response())
}

async fn sale(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    JsonBody(input): JsonBody<SaleInput>,
) -> ApiResult {
    let key = idempotency_key(&headers)?
        .ok_or_else(|| ApiError::bad_request("Idempotency-Key is required for a sale").field("Idempotency-Key"))?;
    let sale = s.app.counter_sale(&a, input, key).await?;
    let replay = sale.replayed;
    Ok(replayed((StatusCode::CREATED, Json(sale)).into_response(), replay))
}

#[derive(serde::Deserialize)]
struct ProductsQuery {
    #[serde(default)]
    on_sale: bool,
}

async fn products(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ProductsQuery>) -> ApiResult {
    Ok(Json(json!({"items": s.app.products(q.on_sale).await?})).into_response())
}

async fn create_product(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(p): JsonBody<ProductInput>,
) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.save_product(&a, None, p).await?)).into_response())
}

async fn update_product(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(p): JsonBody<ProductInput>,
) -> ApiResult {
    Ok(Json(s.app.save_product(&a, Some(id), p).await?).into_response())
}
