//! `/api/v1/users` and `/api/v1/roles`: people, their home units, roles and grants.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};

use crate::directory::{DirectoryService, GrantInput, RoleInput, UserInput, UserPatch, UserQuery};

use super::{AdminPrincipal, ApiError, ApiPath, ApiQuery, JsonBody, if_match, with_etag};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", get(show).patch(update))
        .route("/api/v1/users/{id}/history", get(history))
        .route("/api/v1/users/{id}/roles", get(grants).post(grant))
        .route("/api/v1/users/{id}/roles/{grant_id}", delete(revoke))
        .route("/api/v1/users/{id}/factors", delete(reset_factors))
        .route("/api/v1/roles", get(roles).post(create_role))
}

async fn list(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Response, ApiError> {
    Ok(Json(d.list_users(&a, &query).await?).into_response())
}

async fn create(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    JsonBody(input): JsonBody<UserInput>,
) -> Result<Response, ApiError> {
    let user = d.create_user(&a, &input).await?;
    Ok(with_etag(StatusCode::CREATED, user.version, &user))
}

async fn show(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let user = d.get_user(&a, &id).await?;
    Ok(with_etag(StatusCode::OK, user.version, &user))
}

async fn update(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Response, ApiError> {
    let user = d.update_user(&a, &id, &patch, if_match(&headers)?).await?;
    Ok(with_etag(StatusCode::OK, user.version, &user))
}

async fn history(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": d.user_history(&a, &id).await? })).into_response())
}

async fn grants(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": d.list_grants(&a, &id).await? })).into_response())
}

async fn grant(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    JsonBody(input): JsonBody<GrantInput>,
) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, Json(d.grant_role(&a, &id, &input).await?)).into_response())
}

async fn revoke(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath((id, grant_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    d.revoke_grant(&a, &id, &grant_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn reset_factors(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    d.reset_factors(&a, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn roles(State(d): State<DirectoryService>, AdminPrincipal(a): AdminPrincipal) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": d.list_roles(&a).await? })).into_response())
}

async fn create_role(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    JsonBody(input): JsonBody<RoleInput>,
) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, Json(d.create_role(&a, &input).await?)).into_response())
}
