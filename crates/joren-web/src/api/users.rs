//! `/api/v1` staff accounts and API tokens (owners): list, create, change (name, role,
//! password, disabled), a temporary password for a forgotten one, tokens made and revoked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use joren_app::auth::UserEdit;
use joren_core::role::Role;
use serde::Deserialize;
use serde_json::json;

use super::ApiResult;
use super::JsonBody;
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{username}", axum::routing::patch(update))
        .route("/users/{username}/password-reset", post(reset_password))
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
}

fn role(field: &str, v: &str) -> Result<Role, ApiError> {
    Role::parse(v).ok_or_else(|| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "role must be owner, staff or viewer")
            .field(field)
    })
}

async fn list(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.list_users(&a).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    #[serde(default)]
    display_name: String,
    role: String,
    password: String,
}

async fn create(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(u): JsonBody<NewUser>) -> ApiResult {
    let role = role("role", &u.role)?;
    let id = s.app.create_user(&a, &u.username, &u.display_name, role, &u.password).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "username": u.username, "role": role}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    display_name: Option<String>,
    role: Option<String>,
    password: Option<String>,
    disabled: Option<bool>,
}

/// `PATCH /users/{username}`: the fields given change; the answer is the account as it now is.
async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(username): Path<String>,
    JsonBody(p): JsonBody<UserPatch>,
) -> ApiResult {
    let role = p.role.as_deref().map(|r| role("role", r)).transpose()?;
    let edit = UserEdit {
        display_name: p.display_name.as_deref(),
        role,
        password: p.password.as_deref(),
        disabled: p.disabled,
    };
    s.app.update_user(&a, &username, edit).await?;
    let user = s.app.list_users(&a).await?.into_iter().find(|u| u.username == username);
    Ok(Json(user).into_response())
}

/// `POST /users/{username}/password-reset`: a temporary password, in this answer only.
async fn reset_password(State(s): State<AppState>, ApiActor(a): ApiActor, Path(username): Path<String>) -> ApiResult {
    let password = s.app.reset_password(&a, &username).await?;
    Ok(Json(json!({"username": username, "password": password})).into_response())
}

async fn tokens(State(s): State<AppState>, ApiActor(a): ApiActor) -> ApiResult {
    Ok(Json(json!({"items": s.app.list_api_tokens(&a).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    username: String,
    name: String,
}

/// `POST /tokens`: the secret is in this answer only.
async fn create_token(State(s): State<AppState>, ApiActor(a): ApiActor, JsonBody(k): JsonBody<NewToken>) -> ApiResult {
    let (token, id) = s.app.create_api_token(&a, &k.username, &k.name).await?;
    let body = json!({"id": id, "username": k.username, "name": k.name.trim(), "token": token});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_token(State(s): State<AppState>, ApiActor(a): ApiActor, Path(id): Path<i64>) -> ApiResult {
    s.app.revoke_api_token(&a, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
