//! The HR import in the console: upload the export (CSV), see the dry run (what would be
//! created, updated, retired, and every problem by line), then upload again to apply it.
//! The office only, as through the API.

use super::ConsoleGet;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use crate::directory::{FieldError, ImportMode, ImportReport};

use super::{Console, console, render};
use crate::web::account::failure;
use crate::web::error::{PageKind, error_page};
use crate::web::extract::ClientIp;
use crate::web::interaction::bound_to_browser;
use crate::web::state::AppState;
use crate::web::{cookies, lang_for};

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

struct Upload {
    csrf_token: String,
    apply: bool,
    retire_missing: bool,
    file: Vec<u8>,
}

async fn read_upload(mut multipart: Multipart) -> Option<Upload> {
    let mut upload = Upload { csrf_token: String::new(), apply: false, retire_missing: false, file: Vec::new() };
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.ok()?;
        match name.as_str() {
            "csrf_token" => upload.csrf_token = String::from_utf8(bytes.to_vec()).ok()?,
            "mode" => upload.apply = bytes.as_ref() == b"apply",
            "retire_missing" => upload.retire_missing = bytes.as_ref() == b"on",
            "file" => upload.file = bytes.to_vec(),
            _ => {}
        }
    }
    Some(upload)
}

pub(super) async fn upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let lang = lang_for(&state, &headers, None);
    if !bound_to_browser(&state, &headers, &id) {
        return error_page(&state.views, lang, PageKind::Forbidden, None);
    }
    let Some(upload) = read_upload(multipart).await else {
        return error_page(&state.views, lang, PageKind::BadRequest, None);
    };
    let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
    if let Err(e) = state.account.check_form((&id, &upload.csrf_token), session.as_deref()).await {
        return failure(&state, lang, &e);
    }
    let c = match console(&state, lang, &headers, ip).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    if upload.file.is_empty() {
        return page(
            &state,
            lang,
            &c,
            StatusCode::BAD_REQUEST,
            None,
            Some(state.views.message(lang, "console_import_no_file")),
        );
    }
    let mode = if upload.apply { ImportMode::Apply } else { ImportMode::DryRun };
    match state.directory.import(&c.actor, &upload.file, mode, upload.retire_missing).await {
        Ok(report) => {
            let status = if report.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            page(&state, lang, &c, status, Some((report, !upload.apply)), None)
        }
        Err(e) => page(&state, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())),
    }
}
