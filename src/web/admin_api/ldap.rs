//! `/api/v1/ldap`: the LDAP directories (office only): each one's last sync and reachability,
//! and a sync run on demand (a dry run unless `apply=true`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::directory::DirectoryError;
use crate::federation::ldap::SyncMode;

use super::{AdminPrincipal, ApiError, ApiPath, ApiQuery};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/ldap", get(status)).route("/api/v1/ldap/{name}/sync", post(sync))
}

#[derive(Deserialize)]
struct SyncQuery {
    #[serde(default)]
    apply: bool,
    /// This run's leaver limit (0-100), instead of the directory's.
    #[serde(default)]
    max_retire_percent: Option<u8>,
}

async fn status(State(state): State<AppState>, AdminPrincipal(a): AdminPrincipal) -> Result<Response, ApiError> {
    state.directory.reach(&a).await?.require_office("see the LDAP directories")?;
    Ok(Json(state.federation.status().await?).into_response())
}

async fn sync(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<SyncQuery>,
) -> Result<Response, ApiError> {
    state.directory.reach(&a).await?.require_office("sync an LDAP directory")?;
    if q.max_retire_percent.is_some_and(|p| p > 100) {
        return Err(DirectoryError::invalid("max_retire_percent", "max_retire_percent must be 0 to 100").into());
    }
    let mode = if q.apply { SyncMode::Apply } else { SyncMode::DryRun };
    let run = state.federation.sync_with_limit(&a, &name, mode, q.max_retire_percent).await?;
    Ok(Json(run).into_response())
}
