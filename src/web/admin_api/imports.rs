//! `POST /api/v1/imports`: the HR export as `text/csv`. `mode=dry-run` (default) reports;
//! `mode=apply` writes all or nothing (422 with every problem otherwise).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::directory::{DirectoryError, DirectoryService, ImportMode};

use super::{AdminPrincipal, ApiError, ApiQuery};
use crate::web::AppState;

pub fn routes(max_bytes: usize) -> Router<AppState> {
    Router::new().route("/api/v1/imports", post(import).layer(DefaultBodyLimit::max(max_bytes)))
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    retire_missing: bool,
}

async fn import(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let is_csv =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/csv"));
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType("text/csv"));
    }
    let body = body.map_err(ApiError::from_body)?;
    let mode = match q.mode.as_deref() {
        None | Some("dry-run") => ImportMode::DryRun,
        Some("apply") => ImportMode::Apply,
        Some(_) => return Err(DirectoryError::invalid("mode", "mode must be dry-run or apply").into()),
    };
    let report = d.import(&a, &body, mode, q.retire_missing).await?;
    if mode == ImportMode::Apply && !report.errors.is_empty() {
        return Err(DirectoryError::Invalid(report.errors).into());
    }
    Ok((StatusCode::OK, Json(report)).into_response())
}
