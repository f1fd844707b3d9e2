//! The HR import in the console: upload the export (CSV), see the dry run (what would be
//! created, updated, retired, and every problem by line), then upload again to apply it.
//! The office only, as through the API.

use super::{ConsoleGet, ConsoleUpload};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use crate::directory::{FieldError, ImportMode, ImportReport};

use super::{Console, render};
use crate::web::state::AppState;

#[derive(Serialize)]
struct ImportView {
    report: Option<ImportReport>,
    problems: Vec<FieldError>,
    dry_run: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub(super) async fn show(State(state): State<AppState>, ConsoleGet { c, lang }: ConsoleGet) -> Response {
    page(&state, lang, &c, StatusCode::OK, None, None)
}

fn page(
    state: &AppState,
    lang: &str,
    c: &Console,
    status: StatusCode,
    report: Option<(ImportReport, bool)>,
    error: Option<String>,
) -> Response {
    let (report, dry_run) = match report {
        Some((report, dry_run)) => (Some(report), dry_run),
        None => (None, true),
    };
    let problems = report.as_ref().map(|r| r.errors.clone()).unwrap_or_default();
    let notice = report.as_ref().filter(|r| r.applied).map(|_| "console_import_applied");
    render(state, lang, c, status, "console_import.html", &ImportView { report, problems, dry_run, notice, error })
}

/// Uploads the export: a dry run, or (`mode=apply`) the import itself.
pub(super) async fn upload(State(state): State<AppState>, upload: ConsoleUpload) -> Response {
    let (c, lang) = (&upload.c, upload.lang);
    let apply = upload.text("mode") == Some("apply");
    let retire_missing = upload.text("retire_missing") == Some("on");
    let file = upload.fields.get("file").map(Vec::as_slice).unwrap_or_default();
    if file.is_empty() {
        return page(
            &state,
            lang,
            c,
            StatusCode::BAD_REQUEST,
            None,
            Some(state.views.message(lang, "console_import_no_file")),
        );
    }
    let mode = if apply { ImportMode::Apply } else { ImportMode::DryRun };
    match state.directory.import(&c.actor, file, mode, retire_missing).await {
        Ok(report) => {
            let status = if report.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            page(&state, lang, c, status, Some((report, !apply)), None)
        }
        Err(e) => page(&state, lang, c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())),
    }
}
