//! `/metrics` for Prometheus, on its own listener (`metrics.listen`), and the middleware that
//! counts and times every routed request by its route pattern. What is cheaper to read than to
//! track (the database pool, each LDAP directory's last sync) is read when scraped.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::Metrics;

use super::AppState;
use super::caching::no_store;

/// The router of the metrics listener: `GET /metrics` only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let (connections, idle) = state.store.pool_stats();
    state.metrics.db_pool(connections, idle);
    state.metrics.audit_queue(state.directory.audit().pending());
    let reachability = state.federation.reachability();
    match state.federation.status().await {
        Ok(all) => {
            for (d, (_, seen)) in all.iter().zip(reachability) {
                let last = d.last_run.as_ref();
                let ended = last.and_then(|r| r["finished_at"].as_i64());
                let ok = last.is_some_and(|r| matches!(r["outcome"].as_str(), Some("applied" | "dry-run")));
                state.metrics.ldap(&d.directory, ended, ok, seen.reachable || seen.checked_at == 0);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the LDAP sync status for metrics"),
    }
    match state.store.backup_runs().latest().await {
        Ok((Some(last), good)) => state.metrics.backup(good.map(|r| r.finished_at), last.succeeded),
        Ok((None, _)) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the last backup for metrics"),
    }
    let body = state.metrics.encode();
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    no_store(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// Counts and times each routed request under its route's pattern (never the raw path).
pub(super) async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    // Both clones are cheap: the pattern is shared, a standard method is a small enum.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.request(route, method.as_str(), response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
