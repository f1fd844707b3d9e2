//! Liveness and readiness for load balancers and orchestrators.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::caching::{Keep, no_store, public};
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/health", get(health))
        .route("/static/pintu.css", get(stylesheet))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// What the server depends on, as JSON: the database (503 when it does not answer), each
/// LDAP directory as last seen (a directory that cannot be reached makes the status
/// `degraded`, not unavailable: local accounts still sign in) and the last backup (a failed
/// one is `degraded` too). The backup's error itself is for administrators (`pintu backup
/// status`, the log).
async fn health(State(state): State<AppState>) -> Response {
    let database = state.store.ping().await;
    // Each directory's error itself (hosts, ports, TLS details) is for administrators only:
    // `/api/v1/ldap`.
    let ldap: Vec<serde_json::Value> = state
        .federation
        .reachability()
        .into_iter()
        .map(|(name, r)| {
            serde_json::json!({ "directory": name, "reachable": r.reachable || r.checked_at == 0,
            "checked_at": r.checked_at })
        })
        .collect();
    // The last backup: a failed one makes the status `degraded` until one succeeds.
    let (last, good) = state.store.backup_runs().latest().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read the last backup for /health");
        (None, None)
    });
    let backup_failed = last.as_ref().is_some_and(|r| !r.succeeded);
    let backup = serde_json::json!({
        "last_success_at": good.map(|r| r.finished_at),
        "last_run_at": last.as_ref().map(|r| r.finished_at),
        "last_run_succeeded": last.map(|r| r.succeeded),
    });
    let degraded = ldap.iter().any(|d| d["reachable"] == false) || backup_failed;
    let status = match (&database, degraded) {
        (Err(_), _) => "unavailable",
        (Ok(()), true) => "degraded",
        (Ok(()), false) => "ok",
    };
    let body = serde_json::json!({ "status": status, "database": database.is_ok(), "ldap": ldap,
        "backup": backup });
    let code = if database.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    no_store((code, axum::Json(body)).into_response())
}

async fn stylesheet(State(state): State<AppState>) -> Response {
    public(state.views.css().to_owned(), "text/css; charset=utf-8", Keep::AnHour)
}
