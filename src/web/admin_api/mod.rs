//! The admin REST API under `/api/v1` (JSON; errors are RFC 9457 problem documents). Every
//! request carries a bearer access token with the `pintu.admin` scope that Pintu issued:
//! client credentials for automation, or an administrator's own login through an
//! admin-capable application. `AdminPrincipal` turns it into the directory's `Actor`; each
//! handler calls one directory operation. Updates need `If-Match` with the ETag from a GET.
//!
//! The OpenAPI 3.1 description is `openapi.json` beside this file, served at
//! `/api/v1/openapi.json`; `tests/api/admin_openapi.rs` keeps it and these routes in step.
//!
//! Requests are read only through `JsonBody`, `ApiQuery` and `ApiPath`, which refuse control
//! characters (`domain::text`) with a field error naming where they were: every string and
//! member name of a body (a `password` may hold anything but NUL, a `description` may span
//! lines), every query parameter and every path segment is checked before a handler runs.

mod activation;
mod applications;
mod audit;
mod certificates;
mod imports;
mod ldap;
mod org_units;
mod reports;
mod signing;
mod users;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;

use crate::directory::{Actor, DirectoryError};
use crate::domain::text::{TextKind, check_json, check_text};

use super::AppState;
pub use super::error::ApiError;
use super::extract::ClientIp;

/// The OpenAPI document, kept beside the handlers it describes.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes(max_import_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .merge(org_units::routes())
        .merge(users::routes())
        .merge(activation::routes())
        .merge(certificates::routes())
        .merge(applications::routes())
        .merge(imports::routes(max_import_bytes))
        .merge(audit::routes())
        .merge(reports::routes())
        .merge(signing::routes())
        .merge(ldap::routes())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The authenticated administrator behind the request's bearer token.
pub struct AdminPrincipal(pub Actor);

impl FromRequestParts<AppState> for AdminPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // RFC 7235 §2.1: the scheme name is case-insensitive.
            .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or(ApiError::Unauthenticated)?;
        let Ok(cert) = crate::web::client_certificate::ClientCertificate::from_request_parts(parts, state).await;
        let actor = state.oidc.admin_actor(&token, cert.presented.as_ref(), ip).await.map_err(ApiError::Token)?;
        Ok(AdminPrincipal(actor))
    }
}

/// A JSON body whose syntax and shape errors become problem documents, not plain text.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.starts_with("application/merge-patch+json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType("application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(ApiError::from_body)?;
        // Malformed JSON is left to the typed parse below, which says where it broke.
        if let Ok(document) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            check_json(&document, &body_text_kind)
                .map_err(|(path, e)| DirectoryError::invalid(&path, e.to_string()))?;
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::Directory(DirectoryError::invalid("body", e.to_string())))
    }
}

/// The control-character rule of a body member (see `domain::text`).
fn body_text_kind(member: &str) -> TextKind {
    match member {
        "password" => TextKind::Secret,
        "description" | "certificate" | "certificates" | "metadata" => TextKind::Multiline,
        _ => TextKind::Line,
    }
}

/// Path segments whose errors become problem documents (field: the segment's name).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let invalid = |field: &str, reason: String| ApiError::Directory(DirectoryError::invalid(field, reason));
        let raw = RawPathParams::from_request_parts(parts, state).await.map_err(|e| invalid("path", e.body_text()))?;
        for (name, value) in &raw {
            check_text(TextKind::Line, value).map_err(|e| invalid(name, e.to_string()))?;
        }
        let Path(value) =
            Path::<T>::from_request_parts(parts, state).await.map_err(|e| invalid("path", e.body_text()))?;
        Ok(ApiPath(value))
    }
}

/// Query parameters whose errors become problem documents (field `query`).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let refused = check_text(TextKind::Line, &name).and_then(|()| check_text(TextKind::Line, &value));
            refused.map_err(|e| {
                ApiError::Directory(DirectoryError::invalid(&name.escape_debug().to_string(), e.to_string()))
            })?;
        }
        serde_urlencoded_query(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::Directory(DirectoryError::invalid("query", e)))
    }
}

fn serde_urlencoded_query<T: DeserializeOwned>(query: &str) -> Result<T, String> {
    axum::extract::Query::<T>::try_from_uri(&format!("/?{query}").parse().map_err(|_| "malformed query".to_owned())?)
        .map(|q| q.0)
        .map_err(|e| e.body_text())
}

/// `If-Match: "<version>"` as a version number; `None` when absent. `*` and weak or
/// malformed tags are refused: a specific representation must be named.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or("");
    text.trim()
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse().ok())
        .map(Some)
        .ok_or(ApiError::Directory(DirectoryError::PreconditionRequired))
}

/// A JSON response with a strong ETag naming the version.
pub fn with_etag<T: serde::Serialize>(status: StatusCode, version: i64, body: &T) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}
