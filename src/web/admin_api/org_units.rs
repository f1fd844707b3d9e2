//! `/api/v1/org-units`: the OPD tree.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::directory::{DirectoryService, OrgUnitInput, OrgUnitPatch};

use super::{AdminPrincipal, ApiError, ApiPath, JsonBody, if_match, with_etag};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/org-units", get(list).post(create))
        .route("/api/v1/org-units/{code}", get(show).patch(update))
        .route("/api/v1/org-units/{code}/history", get(history))
}

async fn list(State(d): State<DirectoryService>, AdminPrincipal(a): AdminPrincipal) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": d.list_org_units(&a).await? })).into_response())
}

async fn create(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    JsonBody(input): JsonBody<OrgUnitInput>,
) -> Result<Response, ApiError> {
    let unit = d.create_org_unit(&a, &input).await?;
    Ok(with_etag(StatusCode::CREATED, unit.version, &unit))
}

async fn show(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    let unit = d.get_org_unit(&a, &code).await?;
    Ok(with_etag(StatusCode::OK, unit.version, &unit))
}

async fn update(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<OrgUnitPatch>,
) -> Result<Response, ApiError> {
    let unit = d.update_org_unit(&a, &code, &patch, if_match(&headers)?).await?;
    Ok(with_etag(StatusCode::OK, unit.version, &unit))
}

async fn history(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": d.org_unit_history(&a, &code).await? })).into_response())
}
