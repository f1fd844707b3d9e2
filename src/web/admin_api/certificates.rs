//! `/api/v1/users/{id}/certificates`: electronic certificates bound to a person, added, listed
//! and removed by an administrator within reach. An administrator's certificate stays pending
//! until the person proves possession at sign-in; `approve` binds one that does not carry the
//! person's NIP, NIK or e-mail (audited with the administrator's name).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;

use crate::certificates::AddedBy;
use crate::web::AppState;

use super::{AdminPrincipal, ApiError, ApiPath, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/{id}/certificates", get(list).post(add))
        .route("/api/v1/users/{id}/certificates/{thumbprint}", delete(remove))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddCertificate {
    /// PEM (the person's certificate first, then its chain) or base64 DER.
    pub certificate: String,
    #[serde(default)]
    pub approve: bool,
}

async fn list(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let user = state.directory.person_in_reach(&a, &id).await?;
    let items = state.sso.certificates.list(&user).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

async fn add(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(id): ApiPath<String>,
    JsonBody(input): JsonBody<AddCertificate>,
) -> Result<Response, ApiError> {
    let user = state.directory.person_in_reach(&a, &id).await?;
    let text = input.certificate.trim();
    let bytes = if text.starts_with("-----BEGIN") {
        text.as_bytes().to_vec()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text.split_whitespace().collect::<String>())
            .map_err(|_| crate::certificates::CertProblem::Malformed("neither PEM nor base64 DER".into()))?
    };
    let by = AddedBy::Admin { actor: a.id.clone(), approve: input.approve };
    let row = state.sso.certificates.add(&user, &bytes, &by).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath((id, thumbprint)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let user = state.directory.person_in_reach(&a, &id).await?;
    state.sso.certificates.remove(&user, &thumbprint, &a.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
