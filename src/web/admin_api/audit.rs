//! `/api/v1/audit`: reading the audit log and verifying its chain.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::directory::DirectoryService;

use super::{AdminPrincipal, ApiError, ApiQuery};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit/events", get(events)).route("/api/v1/audit/verify", get(verify))
}

#[derive(Deserialize)]
struct EventQuery {
    from: Option<i64>,
    to: Option<i64>,
    cursor: Option<i64>,
    limit: Option<i64>,
}

async fn events(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Response, ApiError> {
    let period = (q.from.unwrap_or(0), q.to.unwrap_or(i64::MAX));
    Ok(Json(d.audit_events(&a, period, q.cursor, q.limit).await?).into_response())
}

async fn verify(State(d): State<DirectoryService>, AdminPrincipal(a): AdminPrincipal) -> Result<Response, ApiError> {
    Ok(Json(d.verify_audit(&a).await?).into_response())
}
