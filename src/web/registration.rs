//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592).
//! Control characters (`domain::text`) are refused here, before validation: in every member
//! name and string of the metadata (`client_secret` may hold anything but NUL, everything
//! else is one line) and in the client_id of the path.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::domain::text::{TextKind, check_json};
use crate::oidc::{OAuthError, OidcService, check_parameter};

use super::caching::no_store;
use super::error::RegistrationError;
use super::extract::bearer;
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/register", post(register))
        .route("/oauth2/register/{client_id}", get(read).put(update).delete(delete))
}

/// RFC 7591 §3: the body must be a JSON object.
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, OAuthError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(OAuthError::invalid_request("the body must be application/json"));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|_| OAuthError::invalid_client_metadata("the body is not valid JSON"))?;
    if !value.is_object() {
        return Err(OAuthError::invalid_client_metadata("the body must be a JSON object"));
    }
    check_json(&value, &metadata_text_kind).map_err(|(path, found)| {
        let description = format!("{path} {found}");
        // RFC 7591 §3.2.2: "invalid_redirect_uri: The value of one or more redirection URIs is invalid."
        if path.starts_with("redirect_uris") {
            OAuthError::invalid_redirect_uri(description)
        } else {
            OAuthError::invalid_client_metadata(description)
        }
    })?;
    Ok(value)
}

/// The control-character rule of a metadata member: the secret an RFC 7592 update repeats
/// is compared, never shown; every other value is one line.
fn metadata_text_kind(member: &str) -> TextKind {
    if member == "client_secret" { TextKind::Secret } else { TextKind::Line }
}

/// The client_id of a management URL, under the rule of the client_id parameter.
fn path_client_id(Path(client_id): Path<String>) -> Result<String, OAuthError> {
    check_parameter("client_id", &client_id)?;
    Ok(client_id)
}

fn failure(e: OAuthError) -> Response {
    RegistrationError(e).into_response()
}

async fn register(State(oidc): State<OidcService>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async { oidc.register(bearer(&headers), json_body(&headers, &body)?).await }.await;
    match result {
        Ok(info) => no_store((StatusCode::CREATED, Json(info)).into_response()),
        Err(e) => failure(e),
    }
}

async fn read(State(oidc): State<OidcService>, path: Path<String>, headers: HeaderMap) -> Response {
    let result = async { oidc.read_registration(&path_client_id(path)?, bearer(&headers)).await }.await;
    match result {
        Ok(info) => no_store(Json(info).into_response()),
        Err(e) => failure(e),
    }
}

async fn update(State(oidc): State<OidcService>, path: Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let client_id = path_client_id(path)?;
        oidc.update_registration(&client_id, bearer(&headers), json_body(&headers, &body)?).await
    }
    .await;
    match result {
        Ok(info) => no_store(Json(info).into_response()),
        Err(e) => failure(e),
    }
}

async fn delete(State(oidc): State<OidcService>, path: Path<String>, headers: HeaderMap) -> Response {
    let result = async { oidc.delete_registration(&path_client_id(path)?, bearer(&headers)).await }.await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failure(e),
    }
}
