//! `/api/v1/reports/*`: usage per OPD and per application, as JSON or CSV (`format=csv`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::directory::{DirectoryError, DirectoryService, Month, Period, ReportKind, periodic_csv, report_csv};

use super::{AdminPrincipal, ApiError, ApiPath, ApiQuery};
use crate::web::AppState;
use crate::web::views::PeriodicReportView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/org-units", get(by_org_unit))
        .route("/api/v1/reports/applications", get(by_application))
        .route("/api/v1/reports/periodic", get(periodic_list))
        .route("/api/v1/reports/periodic/{month}", get(periodic_one).post(periodic_make))
}

#[derive(Deserialize)]
struct PeriodicQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// The stored monthly reports, newest first.
async fn periodic_list(
    State(d): State<DirectoryService>,
    AdminPrincipal(a): AdminPrincipal,
) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "items": d.periodic_reports(&a).await? })).into_response())
}

/// Makes the report of a month that has ended (201), or answers the one made before (200).
async fn periodic_make(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(month): ApiPath<String>,
) -> Result<Response, ApiError> {
    let month = Month::parse(&month)?;
    let (report, created) = state.directory.periodic_report_for(&a, month, state.reports.utc_offset_hours).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(report)).into_response())
}

/// One month's report: JSON, CSV, or a printable page (`format=html`, `lang=id|en`).
async fn periodic_one(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiPath(month): ApiPath<String>,
    ApiQuery(q): ApiQuery<PeriodicQuery>,
) -> Result<Response, ApiError> {
    let report = state.directory.periodic_report(&a, &month).await?;
    Ok(match q.format.as_deref() {
        None | Some("json") => Json(report).into_response(),
        Some("csv") => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], periodic_csv(&report)).into_response(),
        Some("html") => {
            let lang = match q.lang.as_deref() {
                None => state.web.default_locale.as_str(),
                Some(l @ ("id" | "en")) => l,
                Some(_) => return Err(DirectoryError::invalid("lang", "lang must be id or en").into()),
            };
            let page = state.views.render("report.html", lang, &PeriodicReportView::new(&report));
            let page = page.map_err(|e| DirectoryError::Unavailable(format!("the report page: {e}")))?;
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }
        Some(_) => return Err(DirectoryError::invalid("format", "format must be json, csv or html").into()),
    })
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
