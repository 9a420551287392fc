//! `/api/v1`: JSON endpoints. Each handler parses, calls one use case and serialises.

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use joren_app::customers::NewCustomer;
use joren_app::import::{ImportKind, ImportOptions};
use joren_app::interactions::InteractionInput;
use joren_app::segments::SegmentInput;
use joren_core::contact::ContactInput;
use joren_core::customer::CustomerInput;
use joren_core::order::{OrderInput, RefundInput};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

mod cases;
mod channels;
mod conversations;
mod counter;
mod duplicates;
mod jobs;
mod line;
mod mail;
mod memberships;
mod perks;
mod points;
mod ranks;
mod referrals;
mod scenarios;
mod sms;
mod stages;
mod surveys;
mod tickets;
mod users;
mod webhooks;

type ApiResult<T = Response> = Result<T, ApiError>;

/// Marks an answer that replays an earlier request with the same `Idempotency-Key`.
fn replayed(mut resp: Response, replayed: bool) -> Response {
    if replayed {
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// `?days=N` of the "expiring within N days" lists (points, 回数券): default 30, at most 366.
#[derive(serde::Deserialize)]
struct ExpiringQuery {
    #[serde(default = "thirty_days")]
    days: u64,
}

fn thirty_days() -> u64 {
    30
}

impl ExpiringQuery {
    fn days(&self) -> Result<u64, ApiError> {
        if self.days > 366 {
            return Err(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "days: 0〜366").field("days")
            );
        }
        Ok(self.days)
    }
}

/// The `Idempotency-Key` header, if sent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII").field("Idempotency-Key"))
        })
        .transpose()
}

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/customers", get(list_customers).post(create_customer))
        .route("/customers/{id}", get(get_customer).patch(update_customer))
        .route("/customers/{id}/merge", post(merge_customer))
        .route("/customers/{id}/timeline", get(timeline))
        .route("/customers/{id}/events", get(customer_events))
        .route("/customers/{id}/metrics", get(customer_metrics))
        .route("/customers/{id}/cross-sell", get(customer_cross_sell))
        .route("/products/{product}/associations", get(product_associations))
        .route("/metrics/associations", get(top_associations))
        .route("/metrics/snapshot", get(latest_snapshot).post(refresh_metrics))
        .route("/settings/next-best-action", get(next_action_rules).put(set_next_action_rules))
        .route("/metrics/contact-lists", get(contact_lists))
        .route("/segments", get(list_segments).post(create_segment))
        .route("/segments/evaluate", post(evaluate_segment))
        .route("/segments/{id}", get(get_segment).put(update_segment).delete(delete_segment))
        .route("/segments/{id}/customers", get(segment_customers))
        .route("/segments/{id}/export.csv", get(export_segment))
        .route("/customers/{id}/contacts", get(list_contacts).post(add_contact))
        .route("/customers/{id}/consents/{channel}", put(set_consent))
        .route("/customers/{id}/interactions", get(list_interactions).post(add_interaction))
        .route("/orders", get(list_orders).post(create_order))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/refunds", post(refund_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route(
            "/import/{kind}",
            post(import)
                .layer(axum::extract::DefaultBodyLimit::max(crate::guard::UPLOAD_LIMIT))
                .layer(axum::middleware::from_fn(crate::guard::one_upload_slot)),
        )
        .route("/export/{kind}", get(export))
        .route("/audit", get(audit))
        .route("/postal-codes/{code}", get(postal_code))
        .merge(mail::routes())
        .merge(points::routes())
        .merge(ranks::routes())
        .merge(tickets::routes())
        .merge(counter::routes())
        .merge(memberships::routes())
        .merge(perks::routes())
        .merge(jobs::routes())
        .merge(scenarios::routes())
        .merge(users::routes())
        .merge(duplicates::routes())
        .merge(line::routes())
        .merge(sms::routes())
        .merge(surveys::routes())
        .merge(cases::routes())
        .merge(referrals::routes())
        .merge(stages::routes())
        .merge(channels::routes())
        .merge(conversations::routes())
        .merge(webhooks::routes())
        .fallback(not_found)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<i64>,
}

async fn customer_events(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<LimitQuery>,
) -> ApiResult {
    Ok(Json(json!({"items": s.app.customer_events(id, q.limit.unwrap_or(100)).await?})).into_response())
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint (see /api/v1/openapi.json)")
}

/// `Json<T>` whose rejections are API errors naming the problem: bad JSON, a string holding a
/// control character, an unknown or missing field, a wrong type — `field` is the path of the
/// field (`items[0].quantity`), never its value.
pub struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Content-Type: application/json が必要です / expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "payload_too_large", e.body_text()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("JSON が読めません / invalid JSON: {e}")))?;
        if let Some(path) = control_character_at(&value, String::new()) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                format!("{path}: 制御文字 (NUL など) は使えません / control characters are not allowed"),
            )
            .field(path));
        }
        serde_path_to_error::deserialize(value).map(Self).map_err(|e| {
            let inner = e.inner().to_string();
            let mut path = e.path().to_string();
            if path == "." {
                path.clear();
            }
            // serde names a missing field in the message, at its parent's path; an unknown
            // field's path is usually its own already.
            if let Some(name) = ["missing field `", "unknown field `"]
                .iter()
                .find_map(|p| inner.strip_prefix(p))
                .and_then(|rest| rest.split('`').next())
                .filter(|name| path.rsplit('.').next() != Some(*name))
            {
                path = if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
            }
            let mut err =
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", format!("{path}: {inner}"));
            if !path.is_empty() {
                err.field = Some(path);
            }
            err
        })
    }
}

/// The path (`items[2].name`) of the first string or key in `v` holding a forbidden control
/// character.
fn control_character_at(v: &serde_json::Value, here: String) -> Option<String> {
    use serde_json::Value;
    let bad = |s: &str| s.chars().any(joren_core::text::is_forbidden_control);
    match v {
        Value::String(s) if bad(s) => Some(if here.is_empty() { "body".into() } else { here }),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, x)| control_character_at(x, format!("{here}[{i}]")))
        }
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let at = if here.is_empty() { k.clone() } else { format!("{here}.{k}") };
            if bad(k) {
                Some(at.chars().filter(|c| !joren_core::text::is_forbidden_control(*c)).collect())
            } else {
                control_character_at(x, at)
            }
        }),
        _ => None,
    }
}

pub async fn healthz(State(s): State<AppState>) -> Response {
    match s.app.health().await {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable"}))).into_response()
        }
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Deserialize)]
struct Paging {
    limit: Option<i64>,
    offset: Option<i64>,
    customer_id: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerListQuery {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    sort: Option<String>,
    kind: Option<String>,
    prefecture: Option<String>,
    tag: Option<String>,
    segment: Option<String>,
}

async fn list_customers(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Query(p): Query<CustomerListQuery>,
) -> ApiResult {
    let limit = p.limit.unwrap_or(50);
    let offset = p.offset.unwrap_or(0);
    let sort = match p.sort.as_deref().unwrap_or("") {
        "" => joren_app::CustomerSort::default(),
        v => joren_app::CustomerSort::parse(v).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "sort must be kana, newest, last_order, lapsed, spent or orders",
            )
            .field("sort")
        })?,
    };
    let kind = match p.kind.as_deref().unwrap_or("") {
        "" => None,
        v => Some(joren_core::customer::CustomerKind::parse(v).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "kind must be person or account")
                .field("kind")
        })?),
    };
    let list = joren_app::CustomerList {
        query: p.q.unwrap_or_default(),
        kind,
        prefecture: p.prefecture,
        tag: p.tag,
        segment: p.segment,
        sort,
        limit,
        offset,
    };
    let page = s.app.list_customers(list).await?;
    Ok(Json(json!({"total": page.total, "limit": limit.clamp(1, 500), "offset": offset, "items": page.items}))
        .into_response())
}

async fn create_customer(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    JsonBody(input): JsonBody<NewCustomer>,
) -> ApiResult {
    let (c, was_replayed) = s.app.create_customer_keyed(&a, input, idempotency_key(&headers)?).await?;
    Ok(replayed((StatusCode::CREATED, Json(c)).into_response(), was_replayed))
}

async fn get_customer(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    let c = s.app.get_customer(id).await?;
    let contacts = s.app.list_contacts(id).await?;
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["contacts"] = serde_json::to_value(contacts).unwrap_or_default();
    Ok(Json(v).into_response())
}

async fn update_customer(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<CustomerInput>,
) -> ApiResult {
    Ok(Json(s.app.update_customer(&a, id, input).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    merge_id: i64,
}

async fn merge_customer(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<MergeBody>,
) -> ApiResult {
    Ok(Json(s.app.merge_customers(&a, id, b.merge_id).await?).into_response())
}

async fn timeline(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(p): Query<Paging>,
) -> ApiResult {
    let (items, next) = s.app.timeline_page(id, p.limit.unwrap_or(200), p.offset.unwrap_or(0)).await?;
    Ok(Json(json!({"items": items, "next_offset": next})).into_response())
}

/// The customer's metrics in the newest snapshot, with the snapshot's date and the customer's
/// recorded segment moves; 404 `metrics` when no snapshot includes the customer yet.
async fn customer_metrics(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    let Some((snapshot, metrics)) = s.app.customer_metrics(id).await? else {
        return Err(joren_app::AppError::NotFound("metrics").into());
    };
    let changes = s.app.segment_changes(id).await?;
    let next_action = joren_app::next_action::suggest(&s.app.next_action_rules().await?, &metrics);
    Ok(Json(json!({"snapshot": snapshot, "metrics": metrics, "segment_changes": changes, "next_action": next_action}))
        .into_response())
}

async fn latest_snapshot(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    match s.app.latest_snapshot().await? {
        Some(snapshot) => Ok(Json(snapshot).into_response()),
        None => Err(joren_app::AppError::NotFound("metric snapshot").into()),
    }
}

/// Recomputes every customer's metrics now (staff and owners).
async fn refresh_metrics(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    let snapshot = s.app.refresh_metrics(&a).await?;
    Ok((axum::http::StatusCode::CREATED, Json(snapshot)).into_response())
}

/// "Contact this week": slipped to a worse segment, past the expected next purchase, and
/// dormant customers worth reactivating (each most valuable first, `?limit=` per list).
async fn contact_lists(State(s): State<AppState>, ApiActor(_): ApiActor, Query(p): Query<Paging>) -> ApiResult {
    let l = s.app.contact_lists(p.limit.unwrap_or(20).clamp(1, 500)).await?;
    let item = |m: &joren_app::CustomerMetrics, name: &str| {
        json!({"customer_id": m.customer_id, "name": name, "metrics": m,
               "last_contacted_at": l.last_contacted.get(&m.customer_id)})
    };
    Ok(Json(json!({
        "slipping": l.slipping.iter().map(|(m, from, n)| { let mut v = item(m, n); v["from_segment"] = json!(from); v }).collect::<Vec<_>>(),
        "overdue": l.overdue.iter().map(|(m, n)| item(m, n)).collect::<Vec<_>>(),
        "dormant": l.dormant.iter().map(|(m, n)| item(m, n)).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateBody {
    filter: serde_json::Value,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

/// How many customers a segment filter selects, with a page of their ids.
async fn evaluate_segment(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    JsonBody(b): JsonBody<EvaluateBody>,
) -> ApiResult {
    let page = s.app.evaluate_segment(&b.filter, b.limit.unwrap_or(100), b.offset.unwrap_or(0)).await?;
    Ok(Json(page).into_response())
}

/// Products to suggest to a customer, each with the rule behind it.
async fn customer_cross_sell(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(p): Query<Paging>,
) -> ApiResult {
    let items = s.app.cross_sell_for_customer(id, p.limit.unwrap_or(5).clamp(1, 50) as usize).await?;
    Ok(Json(json!({"items": items})).into_response())
}

/// What the customers who bought a product (SKU, or name when it has none) also bought.
async fn product_associations(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(product): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult {
    Ok(Json(json!({"items": s.app.product_associations(&product, p.limit.unwrap_or(10)).await?})).into_response())
}

/// The pairs most often bought together.
async fn top_associations(State(s): State<AppState>, ApiActor(_): ApiActor, Query(p): Query<Paging>) -> ApiResult {
    Ok(Json(json!({"items": s.app.top_associations(p.limit.unwrap_or(20)).await?})).into_response())
}

async fn list_segments(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.saved_segments().await?})).into_response())
}

async fn create_segment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(input): JsonBody<SegmentInput>,
) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.create_segment(&a, &input).await?)).into_response())
}

/// A saved segment with how many customers it selects now.
async fn get_segment(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    let saved = s.app.saved_segment(id).await?;
    let count = s.app.evaluate_segment(&saved.filter, 1, 0).await?.total;
    let mut v = serde_json::to_value(saved).unwrap_or_default();
    v["count"] = json!(count);
    Ok(Json(v).into_response())
}

async fn update_segment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SegmentInput>,
) -> ApiResult {
    Ok(Json(s.app.update_segment(&a, id, &input).await?).into_response())
}

async fn delete_segment(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    s.app.delete_segment(&a, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The customers a saved segment selects now: count and a page of ids.
async fn segment_customers(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<Paging>,
) -> ApiResult {
    Ok(Json(s.app.segment_members(id, q.limit.unwrap_or(100), q.offset.unwrap_or(0)).await?).into_response())
}

/// The segment's customers as CSV (UTF-8 with BOM, formula injection escaped).
async fn export_segment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<crate::i18n::export::ExportQuery>,
) -> ApiResult {
    let mut buf = Vec::new();
    let words = q.words(crate::i18n::Lang::Ja); // Japanese unless asked
    s.app.export_segment(&a, id, &mut buf, words.as_ref()).await?;
    Ok(csv_download(&format!("segment-{id}.csv"), buf))
}

/// A CSV file download.
pub(crate) fn csv_download(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

async fn next_action_rules(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(json!({"rules": s.app.next_action_rules().await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesBody {
    rules: Vec<joren_app::next_action::Rule>,
}

/// Replaces the next-best-action rules (owners); the first matching rule wins.
async fn set_next_action_rules(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    JsonBody(b): JsonBody<RulesBody>,
) -> ApiResult {
    s.app.set_next_action_rules(&a, b.rules).await?;
    Ok(Json(json!({"rules": s.app.next_action_rules().await?})).into_response())
}

async fn list_contacts(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    s.app.get_customer(id).await?;
    Ok(Json(json!({"items": s.app.list_contacts(id).await?})).into_response())
}

async fn add_contact(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<ContactInput>,
) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.add_contact(&a, id, input).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    granted: bool,
    #[serde(default)]
    source: String,
}

async fn set_consent(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((id, channel)): Path<(i64, String)>,
    JsonBody(b): JsonBody<ConsentBody>,
) -> ApiResult {
    Ok(Json(s.app.set_consent(&a, id, &channel, b.granted, &b.source).await?).into_response())
}

async fn list_interactions(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(p): Query<Paging>,
) -> ApiResult {
    s.app.get_customer(id).await?;
    Ok(Json(json!({"items": s.app.list_interactions(id, p.limit.unwrap_or(100)).await?})).into_response())
}

async fn add_interaction(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<InteractionInput>,
) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.log_interaction(&a, id, input).await?)).into_response())
}

async fn list_orders(State(s): State<AppState>, ApiActor(_): ApiActor, Query(p): Query<Paging>) -> ApiResult {
    let limit = p.limit.unwrap_or(50);
    let offset = p.offset.unwrap_or(0);
    let page = s.app.list_orders(p.customer_id, limit, offset).await?;
    Ok(Json(json!({"total": page.total, "limit": limit.clamp(1, 500), "offset": offset, "items": page.items}))
        .into_response())
}

async fn create_order(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    JsonBody(input): JsonBody<OrderInput>,
) -> ApiResult {
    let created = s.app.create_order(&a, input, idempotency_key(&headers)?).await?;
    let mut body = serde_json::to_value(&created.order).map_err(|e| ApiError::bad_request(e.to_string()))?;
    body["points_earned"] = json!(created.points);
    body["rank_up"] = json!(created.rank_up);
    Ok(replayed((StatusCode::CREATED, Json(body)).into_response(), created.replayed))
}

async fn get_order(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.get_order(id).await?).into_response())
}

async fn refund_order(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<RefundInput>,
) -> ApiResult {
    let (order, points) = s.app.refund_order_with_points(&a, id, input).await?;
    let mut body = serde_json::to_value(&order).map_err(|e| ApiError::bad_request(e.to_string()))?;
    body["points"] = json!(points);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    reason: String,
}

async fn cancel_order(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>, body: Bytes) -> ApiResult {
    let b: CancelBody = if body.is_empty() {
        CancelBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    Ok(Json(s.app.cancel_order(&a, id, &b.reason).await?).into_response())
}

#[derive(Deserialize)]
struct ImportQuery {
    preset: Option<String>,
    system: Option<String>,
    /// Comma-separated `field=header` overrides.
    map: Option<String>,
}

/// Parses `field=header,field=header`.
pub fn parse_overrides(s: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let Some(s) = s.filter(|s| !s.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    s.split(',')
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| ApiError::bad_request(format!("mapping must be field=header: {kv}")).field("map"))
        })
        .collect()
}

async fn import(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult {
    let kind = ImportKind::parse(&kind)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "import kind must be customers or orders"))?;
    let mut options = ImportOptions::new(kind);
    options.preset = q.preset;
    options.source_system = q.system;
    options.overrides = parse_overrides(q.map.as_deref())?;
    let report = s.app.import_csv(&a, &body[..], &options, &mut |_| {}).await?;
    // Each reject's reasons as codes (`reasons`) and as one worded line naming the fields as the
    // file's mapping does (`reason`).
    let mut body = serde_json::to_value(&report).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(rejected) = body["rejected"].as_array_mut() {
        for (r, reject) in rejected.iter_mut().zip(&report.rejected) {
            r["reason"] = serde_json::json!(crate::i18n::errors::named(&reject.reasons, crate::i18n::Lang::Ja));
        }
    }
    // Each note worded too: what was changed, what was left out.
    if let Some(notes) = body["notes"].as_array_mut() {
        for (n, note) in notes.iter_mut().zip(&report.notes) {
            n["message"] = serde_json::json!(crate::i18n::errors::named(
                &note.changed.iter().chain(&note.dropped).cloned().collect::<Vec<_>>(),
                crate::i18n::Lang::Ja
            ));
        }
    }
    Ok(Json(body).into_response())
}

async fn export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(kind): Path<String>,
    Query(q): Query<crate::i18n::export::ExportQuery>,
) -> ApiResult {
    let mut buf = Vec::new();
    let words = q.words(crate::i18n::Lang::Ja); // Japanese unless asked
    let name = match kind.as_str() {
        "customers.csv" => {
            s.app.export_customers(&a, &mut buf, words.as_ref()).await?;
            "customers.csv"
        }
        "orders.csv" => {
            s.app.export_orders(&a, &mut buf, words.as_ref()).await?;
            "orders.csv"
        }
        _ => {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "export customers.csv or orders.csv"));
        }
    };
    Ok(csv_download(name, buf))
}

/// The addresses a postal code covers (Japan Post's table, shipped with Joren).
async fn postal_code(ApiActor(_): ApiActor, Path(code): Path<String>) -> ApiResult {
    Ok(Json(json!({"items": joren_core::postcodes::lookup(&code)})).into_response())
}

#[derive(Deserialize)]
struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    limit: Option<i64>,
}

async fn audit(State(s): State<AppState>, ApiActor(a): ApiActor, Query(q): Query<AuditQuery>) -> ApiResult {
    let filter = q.entity.as_deref().zip(q.entity_id.as_deref());
    let items = s.app.audit_log(&a, filter, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"items": items})).into_response())
}
