//! `/api/v1/applications`: applications as administrators see them (directory profile, name,
//! protocol), their profile changes and secret rotation, all through `ApplicationService`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::applications::{AddressPatch, ApplicationService, ChangedBy, ProfilePatch};
use crate::domain::ApplicationId;

use super::{AdminPrincipal, ApiError, ApiPath, JsonBody, if_match, with_etag};
use crate::web::AppState;
use crate::web::caching::no_store;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/applications", get(list))
        .route("/api/v1/applications/{id}", get(show).patch(update))
        .route("/api/v1/applications/{id}/secret", post(rotate_secret))
        .route("/api/v1/applications/{id}/oidc", patch(update_addresses))
        .route("/api/v1/applications/{id}/icon", put(set_icon).delete(remove_icon))
        .route("/api/v1/applications/saml", post(create_saml))
        .route("/api/v1/applications/saml/metadata", post(import_saml))
        .route("/api/v1/applications/{id}/saml", get(show_saml).put(update_saml))
}

async fn list(State(s): State<ApplicationService>, AdminPrincipal(a): AdminPrincipal) -> Result<Response, ApiError> {
    Ok(Json(json!({ "items": s.list(&a).await? })).into_response())
}

async fn show(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let app = s.get(&a, &ApplicationId::new(id)).await?;
    Ok(with_etag(StatusCode::OK, app.version, &app))
}

async fn update(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<ProfilePatch>,
) -> Result<Response, ApiError> {
    let app = s.update_profile(&a, &ApplicationId::new(id), &patch, if_match(&headers)?).await?;
    Ok(with_etag(StatusCode::OK, app.version, &app))
}

/// The OIDC registration's name, redirect URIs and home page, validated as a registration is.
async fn update_addresses(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<AddressPatch>,
) -> Result<Response, ApiError> {
    let app = s.update_addresses(&a, &ApplicationId::new(id), &patch, if_match(&headers)?).await?;
    Ok(with_etag(StatusCode::OK, app.version, &app))
}

/// Registers a SAML service provider: its name beside the registration's fields.
async fn create_saml(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Response, ApiError> {
    let (name, registration) = crate::applications::saml_spec(body)?;
    let app = s.create_saml(&a, &name, registration).await?;
    Ok(with_etag(StatusCode::CREATED, app.version, &app))
}

/// What `POST /api/v1/applications/saml/metadata` takes: the SP's metadata as a document or
/// the URL it publishes it at, and what the metadata does not say.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataImport {
    name: String,
    metadata: Option<String>,
    metadata_url: Option<String>,
    #[serde(default)]
    sign_response: bool,
    #[serde(default)]
    idp_initiated: bool,
}

/// Registers a SAML service provider from its metadata.
async fn import_saml(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    JsonBody(body): JsonBody<MetadataImport>,
) -> Result<Response, ApiError> {
    use crate::applications::ApplicationError;
    use crate::saml::{ImportChoices, MetadataSource};
    let source = match (body.metadata, body.metadata_url) {
        (Some(xml), None) => MetadataSource::Document(xml),
        (None, Some(url)) => MetadataSource::Url(url),
        _ => return Err(ApplicationError::invalid_metadata("give either metadata or metadata_url").into()),
    };
    let name = crate::applications::saml_name(&body.name)?;
    // Only the office registers applications: asked before any URL is fetched.
    state.directory.reach(&a).await?.require_office("register an application")?;
    let choices = ImportChoices { sign_response: body.sign_response, idp_initiated: body.idp_initiated };
    let registration = state.saml.import_metadata(source, choices).await.map_err(ApplicationError::from)?;
    let app = state.applications.create_saml(&a, &name, registration).await?;
    Ok(with_etag(StatusCode::CREATED, app.version, &app))
}

/// A service provider's registration, with the application's version as its ETag.
async fn show_saml(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (record, registration) = s.saml_registration(&a, &ApplicationId::new(id)).await?;
    Ok(with_etag(StatusCode::OK, record.version, &registration))
}

/// Replaces a service provider's registration (`If-Match`); the name stays.
async fn update_saml(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    JsonBody(registration): JsonBody<crate::domain::saml::SamlRegistration>,
) -> Result<Response, ApiError> {
    let app = s.update_saml(&a, &ApplicationId::new(id), registration, if_match(&headers)?).await?;
    Ok(with_etag(StatusCode::OK, app.version, &app))
}

/// The application's icon for the portal: the image itself as the body (PNG, JPEG or WebP,
/// recognised by its bytes).
async fn set_icon(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    // Read no further than an icon may be.
    let body = axum::body::to_bytes(body, crate::applications::MAX_ICON_BYTES).await.map_err(|_| ApiError::TooLarge)?;
    let digest = s.set_icon(&a, &ApplicationId::new(&id), &body).await?;
    Ok(Json(json!({ "icon": format!("/portal/icons/{id}?v={digest}") })).into_response())
}

async fn remove_icon(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    s.remove_icon(&a, &ApplicationId::new(id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A new client secret, shown once (`no-store`); the old one stops working.
async fn rotate_secret(
    State(s): State<ApplicationService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let rotated = s.rotate_secret(&ApplicationId::new(id), ChangedBy::Admin(&a)).await?;
    let body = json!({ "client_id": rotated.client_id, "client_secret": rotated.client_secret });
    Ok(no_store(Json(body).into_response()))
}
