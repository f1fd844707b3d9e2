//! `/api/v1/applications`: the directory profile of each relying party.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::directory::ProfilePatch;

use super::{AdminPrincipal, ApiError, ApiPath, JsonBody, if_match, with_etag};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/applications", get(list))
        .route("/api/v1/applications/{client_id}", get(show).patch(update))
}

async fn list(State(s): State<AppState>, AdminPrincipal(a): AdminPrincipal) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": s.directory.list_applications(&a).await? })).into_response())
}

async fn show(
    State(s): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let app = s.directory.get_application(&a, &id).await?;
    Ok(with_etag(StatusCode::OK, app.version, &app))
}

async fn update(
    State(s): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<ProfilePatch>,
) -> Result<Response, ApiError> {
    let app = s.directory.update_application(&a, &id, &patch, if_match(&headers)?).await?;
    s.oidc.forget_client(&id);
    Ok(with_etag(StatusCode::OK, app.version, &app))
}
