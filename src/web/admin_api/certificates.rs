//! `/api/v1/users/{id}/certificates`: electronic certificates bound to a person, added, listed
//! and removed by an administrator within reach. An administrator's certificate stays pending
//! until the person proves possession at sign-in; `approve` binds one that does not carry the
//! person's NIP, NIK or e-mail (audited with the administrator's name).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;

use crate::certificates::AddedBy;
use crate::web::AppState;

use crate::directory::DirectoryError;

use super::{AdminPrincipal, ApiError, ApiPath, ApiQuery, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/{id}/certificates", get(list).post(add))
        .route("/api/v1/users/{id}/certificates/{thumbprint}", delete(remove))
        .route("/api/v1/reports/certificates", get(report))
        .route("/api/v1/certificates/reload", post(reload))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    #[serde(default)]
    expiring_days: Option<u32>,
    #[serde(default)]
    format: Option<String>,
}

/// Reads the trust anchor files again (the office only); on failure the anchors in use stay.
async fn reload(State(state): State<AppState>, AdminPrincipal(a): AdminPrincipal) -> Result<Response, ApiError> {
    state.directory.reach(&a).await?.require_office("reload the trusted CAs")?;
    match state.sso.certificates.reload() {
        Ok(anchors) => {
            tracing::info!(anchors, "trust anchors reloaded");
            Ok(Json(serde_json::json!({ "anchors": anchors })).into_response())
        }
        Err(why) => Err(DirectoryError::invalid("trust_anchors", why).into()),
    }
}

/// Certificates per OPD within the caller's reach, as JSON or CSV (`format=csv`).
async fn report(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let certificates = &state.sso.certificates;
    let days = q.expiring_days.unwrap_or(certificates.config().expiry_notice_days);
    if !(1..=365).contains(&days) {
        return Err(DirectoryError::invalid("expiring_days", "expiring_days must be 1-365").into());
    }
    let reach = state.directory.reach(&a).await?;
    let report = certificates.report(days, |unit| reach.covers(unit)).await.map_err(DirectoryError::Storage)?;
    Ok(match q.format.as_deref() {
        None | Some("json") => Json(report).into_response(),
        Some("csv") => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], report.to_csv()).into_response(),
        Some(_) => return Err(DirectoryError::invalid("format", "format must be json or csv").into()),
    })
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
