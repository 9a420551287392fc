//! `/api/v1` surveys: the shop's surveys (made from questions or from a ready one, edited,
//! archived), sending one to a customer (once per `Idempotency-Key`; `channel: "link"` only
//! makes the link), the results (NPS, CSAT, CES against their targets, response rate, by
//! month and by segment, rank, 担当者 and scenario) and the answers, searchable.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use joren_app::surveys::{ResponseFilter, SendSurveyInput, SurveyInput};
use serde::Deserialize;

use super::{ApiResult, JsonBody, idempotency_key};
use crate::AppState;
use crate::auth::ApiActor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys", get(list).post(create))
        .route("/surveys/ready", post(create_ready))
        .route("/surveys/{id}", get(show).put(update))
        .route("/surveys/{id}/archive", post(archive))
        .route("/surveys/{id}/send", post(send))
        .route("/surveys/{id}/report", get(report))
        .route("/survey-report", get(report_all))
        .route("/survey-responses", get(responses))
        .route("/churn-reasons", get(churn_reasons))
}

async fn list(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.surveys().await?).into_response())
}

/// 201 with the survey; 422 naming each bad field (`questions[1].choices`).
async fn create(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(b): JsonBody<SurveyInput>) -> ApiResult {
    Ok((StatusCode::CREATED, Json(s.app.create_survey(&a, &b).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadyBody {
    /// `nps`, `csat`, `ces`, `case`, `exit`.
    code: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn create_ready(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(b): JsonBody<ReadyBody>) -> ApiResult {
    let lang = b.lang.as_deref().unwrap_or("ja");
    Ok((StatusCode::CREATED, Json(s.app.create_ready_survey(&a, &b.code, lang).await?)).into_response())
}

async fn show(State(s): State<AppState>, ApiActor(_): ApiActor, Path(id): Path<i64>) -> ApiResult {
    Ok(Json(s.app.survey(id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<SurveyInput>,
) -> ApiResult {
    Ok(Json(s.app.update_survey(&a, id, &b).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveBody {
    archived: bool,
}

async fn archive(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ArchiveBody>,
) -> ApiResult {
    Ok(Json(s.app.archive_survey(&a, id, b.archived).await?).into_response())
}

/// 201 with the invitation's link (200 when the same `Idempotency-Key` made it before); 422
/// `no_email_address` / `no_line_user` / `no_sms_phone` when the customer cannot be reached
/// on the channel; 409 `survey_archived`.
async fn send(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<SendSurveyInput>,
) -> ApiResult {
    let sent = s.app.send_survey(&a, id, &b, idempotency_key(&headers)?).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(sent)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    #[serde(default)]
    months: Option<u32>,
}

async fn report(
    State(s): State<AppState>,
    ApiActor(_): ApiActor,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> ApiResult {
    Ok(Json(s.app.survey_report(Some(id), q.months.unwrap_or(12)).await?).into_response())
}

async fn report_all(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ReportQuery>) -> ApiResult {
    Ok(Json(s.app.survey_report(None, q.months.unwrap_or(12)).await?).into_response())
}

/// Why customers leave: exit-survey reasons and membership cancel reasons, counted together.
async fn churn_reasons(State(s): State<AppState>, ApiActor(_): ApiActor) -> ApiResult {
    Ok(Json(s.app.churn_reasons().await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponsesQuery {
    #[serde(default)]
    survey_id: Option<i64>,
    #[serde(default)]
    customer_id: Option<i64>,
    /// Words in the written answers.
    #[serde(default)]
    q: String,
    /// `detractor`, `passive`, `promoter`, `unhappy`.
    #[serde(default)]
    group: String,
    #[serde(default)]
    limit: Option<i64>,
}

async fn responses(State(s): State<AppState>, ApiActor(_): ApiActor, Query(q): Query<ResponsesQuery>) -> ApiResult {
    let f = ResponseFilter {
        survey_id: q.survey_id,
        customer_id: q.customer_id,
        text: q.q,
        group: q.group,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(s.app.survey_responses(&f).await?).into_response())
}
