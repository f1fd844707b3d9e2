//! `/api/v1/reports/signing`: transaction signing per OPD and per application over a period
//! (signed, declined, failed, level), within the caller's reach, as JSON or CSV.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::directory::DirectoryError;

use super::{AdminPrincipal, ApiError, ApiQuery};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/reports/signing", get(report))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningQuery {
    /// The period, unix seconds, `[from, to)`; the last 30 days when absent.
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
    #[serde(default)]
    format: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(q): ApiQuery<SigningQuery>,
) -> Result<Response, ApiError> {
    let now = state.oidc.now();
    let to = q.to.unwrap_or(now + 1);
    let from = q.from.unwrap_or(to.saturating_sub(30 * 86_400));
    if from < 0 || from >= to {
        return Err(DirectoryError::invalid("from", "from must be before to (unix seconds)").into());
    }
    let reach = state.directory.reach(&a).await?;
    let report =
        state.oidc.signing().report(from, to, |unit| reach.covers(unit)).await.map_err(DirectoryError::Storage)?;
    Ok(match q.format.as_deref() {
        None | Some("json") => Json(report).into_response(),
        Some("csv") => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], report.to_csv()).into_response(),
        Some(_) => return Err(DirectoryError::invalid("format", "format must be json or csv").into()),
    })
}
