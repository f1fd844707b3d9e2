//! `/api/v1/reports/*`: usage per OPD and per application, as JSON or CSV (`format=csv`).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::directory::{DirectoryError, DirectoryService, Period, ReportKind, report_csv};

use super::{AdminPrincipal, ApiError, ApiQuery};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/org-units", get(by_org_unit))
        .route("/api/v1/reports/applications", get(by_application))
}

#[derive(Deserialize)]
struct ReportQuery {
    from: i64,
    to: i64,
    #[serde(default)]
    format: Option<String>,
}

async fn by_org_unit(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    report(&d, &a, ReportKind::OrgUnit, q).await
}

async fn by_application(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    report(&d, &a, ReportKind::Application, q).await
}

async fn report(
    d: &DirectoryService,
    a: &crate::directory::Actor,
    kind: ReportKind,
    q: ReportQuery,
) -> Result<Response, ApiError> {
    let lines = d.report(a, kind, Period { from: q.from, to: q.to }).await?;
    Ok(match q.format.as_deref() {
        Some("csv") => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], report_csv(&lines)).into_response(),
        None | Some("json") => Json(serde_json::json!({ "from": q.from, "to": q.to, "items": lines })).into_response(),
        Some(_) => return Err(DirectoryError::invalid("format", "format must be json or csv").into()),
    })
}
