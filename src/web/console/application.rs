//! One application in the console: its registration as the directory sees it, and its
//! directory profile: category (umum/khusus), owning OPD, minimum security level, access policy
//! (units, roles) and the directory claims it receives. Through the application service, at the
//! version the page showed.

use super::{ConsoleGet, ConsolePost, ConsoleUpload};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::applications::{AddressPatch, ApplicationRecord};
use crate::directory::{OrgUnitRecord, ProfilePatch};
use crate::domain::ApplicationId;
use crate::domain::application::DIRECTORY_CLAIMS;

use super::{Console, render};
use crate::web::error::{PageKind, error_page};
use crate::web::state::AppState;

#[derive(Serialize)]
struct ClaimChoice {
    name: &'static str,
    released: bool,
}

#[derive(Serialize)]
struct ApplicationView {
    app: ApplicationRecord,
    /// Where its icon is served, when it has one.
    icon: Option<String>,
    max_icon_kib: usize,
    units: Vec<OrgUnitRecord>,
    claims: Vec<ClaimChoice>,
    access_org_units: String,
    access_roles: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ApplicationQuery {
    id: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    ConsoleGet { c, lang }: ConsoleGet,
    Query(q): Query<ApplicationQuery>,
) -> Response {
    application_page(&state, lang, &c, &q.id, StatusCode::OK, None, None).await
}

async fn application_page(
    state: &AppState,
    lang: &str,
    c: &Console,
    id: &str,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let Ok(app) = state.applications.get(&c.actor, &ApplicationId::new(id)).await else {
        return error_page(&state.views, lang, PageKind::NotFound, None);
    };
    let units = state.directory.list_org_units(&c.actor).await.unwrap_or_default();
    let claims = DIRECTORY_CLAIMS
        .iter()
        .map(|(name, _)| ClaimChoice { name, released: app.claims.iter().any(|c| c == name) })
        .collect();
    let (access_org_units, access_roles) = (app.access_org_units.join(", "), app.access_roles.join(", "));
    let icon = match state.applications.icon(&app.id).await {
        Ok(Some((_, _, digest))) => Some(format!("/portal/icons/{}?v={digest}", app.id)),
        _ => None,
    };
    let max_icon_kib = crate::applications::MAX_ICON_BYTES / 1024;
    let view =
        ApplicationView { app, icon, max_icon_kib, units, claims, access_org_units, access_roles, notice, error };
    render(state, lang, c, status, "console_application.html", &view)
}

/// A comma- or space-separated list.
fn list(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("").split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// One URI per line (or separated by spaces).
fn lines(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("").split_whitespace().map(str::to_owned).collect()
}

/// The OIDC registration's name, redirect URIs and home page, validated as a registration is.
pub(super) async fn update_addresses(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let lang = f.lang;
    let id = f.form.get("application").unwrap_or("").to_owned();
    let version = f.form.get("version").and_then(|v| v.parse::<i64>().ok());
    let patch = AddressPatch {
        client_name: f.form.get("client_name").map(str::to_owned),
        redirect_uris: Some(lines(f.form.get("redirect_uris"))),
        post_logout_redirect_uris: Some(lines(f.form.get("post_logout_redirect_uris"))),
        client_uri: f.form.get("client_uri").map(str::to_owned),
    };
    match state.applications.update_addresses(&c.actor, &ApplicationId::new(&id), &patch, version).await {
        Ok(_) => application_page(&state, lang, &c, &id, StatusCode::OK, Some("console_addresses_saved"), None).await,
        Err(e) => {
            application_page(&state, lang, &c, &id, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await
        }
    }
}

/// Uploads the application's icon for the portal (PNG, JPEG or WebP).
pub(super) async fn upload_icon(State(state): State<AppState>, upload: ConsoleUpload) -> Response {
    let (c, lang) = (&upload.c, upload.lang);
    let id = upload.text("application").unwrap_or("").to_owned();
    let file = upload.fields.get("icon").map(Vec::as_slice).unwrap_or_default();
    match state.applications.set_icon(&c.actor, &ApplicationId::new(&id), file).await {
        Ok(_) => application_page(&state, lang, c, &id, StatusCode::OK, Some("console_icon_saved"), None).await,
        Err(e) => {
            application_page(&state, lang, c, &id, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await
        }
    }
}

pub(super) async fn remove_icon(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let id = f.form.get("application").unwrap_or("").to_owned();
    match state.applications.remove_icon(&c.actor, &ApplicationId::new(&id)).await {
        Ok(()) => application_page(&state, f.lang, &c, &id, StatusCode::OK, Some("console_icon_removed"), None).await,
        Err(e) => {
            let error = Some(e.to_string());
            application_page(&state, f.lang, &c, &id, StatusCode::UNPROCESSABLE_ENTITY, None, error).await
        }
    }
}

pub(super) async fn update(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let lang = f.lang;
    let id = f.form.get("application").unwrap_or("").to_owned();
    let version = f.form.get("version").and_then(|v| v.parse::<i64>().ok());
    let patch = ProfilePatch {
        category: f.form.get("category").map(str::to_owned),
        owner: f.form.get("owner").filter(|o| !o.is_empty()).map(str::to_owned),
        min_level: f.form.get("min_level").and_then(|l| l.parse::<u8>().ok()),
        access_org_units: Some(list(f.form.get("access_org_units"))),
        access_roles: Some(list(f.form.get("access_roles"))),
        claims: Some(
            DIRECTORY_CLAIMS
                .iter()
                .filter(|(name, _)| f.form.get(&format!("claim_{name}")) == Some("on"))
                .map(|(name, _)| (*name).to_owned())
                .collect(),
        ),
        admin: None,
    };
    match state.applications.update_profile(&c.actor, &ApplicationId::new(&id), &patch, version).await {
        Ok(_) => application_page(&state, lang, &c, &id, StatusCode::OK, Some("console_profile_saved"), None).await,
        Err(e) => {
            application_page(&state, lang, &c, &id, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await
        }
    }
}
