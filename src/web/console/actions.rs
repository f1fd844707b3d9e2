//! The console's actions on people and applications: disable and enable a person, reset their
//! second factors, rotate an application's secret (shown once), disable an application. Each
//! through the same service and audit as the admin API.

use super::ConsolePost;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::applications::ChangedBy;
use crate::domain::{ApplicationId, UserStatus};

use super::pages::{PeopleQuery, applications_page, people_page};
use crate::web::state::AppState;

pub(super) async fn person_status(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let user = f.form.get("user").unwrap_or("");
    let (status, notice) = match f.form.get("status") {
        Some("active") => (UserStatus::Active, "console_person_enabled"),
        _ => (UserStatus::Suspended, "console_person_disabled"),
    };
    match state.directory.set_status(&c.actor, user, status).await {
        Ok(()) => people_page(&state, f.lang, &c, PeopleQuery::default(), StatusCode::OK, Some(notice), None).await,
        Err(e) => {
            let error = Some(e.to_string());
            people_page(&state, f.lang, &c, PeopleQuery::default(), StatusCode::UNPROCESSABLE_ENTITY, None, error).await
        }
    }
}

pub(super) async fn person_factors(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let user = f.form.get("user").unwrap_or("");
    match state.directory.reset_factors(&c.actor, user).await {
        Ok(_) => {
            if let Ok(person) = state.directory.person_in_reach(&c.actor, user).await {
                crate::web::mail_pages::notify(&state, f.lang, &person, "notice_factors_reset").await;
            }
            let notice = Some("console_factors_reset");
            people_page(&state, f.lang, &c, PeopleQuery::default(), StatusCode::OK, notice, None).await
        }
        Err(e) => {
            let error = Some(e.to_string());
            people_page(&state, f.lang, &c, PeopleQuery::default(), StatusCode::UNPROCESSABLE_ENTITY, None, error).await
        }
    }
}

pub(super) async fn rotate_secret(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let id = ApplicationId::new(f.form.get("application").unwrap_or(""));
    match state.applications.rotate_secret(&id, ChangedBy::Admin(&c.actor)).await {
        Ok(rotated) => {
            let shown = Some((rotated.client_id.to_string(), Some(rotated.client_secret)));
            applications_page(&state, f.lang, &c, StatusCode::OK, shown, None).await
        }
        Err(e) => {
            applications_page(&state, f.lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await
        }
    }
}

pub(super) async fn disable_application(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let id = ApplicationId::new(f.form.get("application").unwrap_or(""));
    match state.applications.disable(&id, ChangedBy::Admin(&c.actor)).await {
        Ok(()) => applications_page(&state, f.lang, &c, StatusCode::OK, None, None).await,
        Err(e) => {
            applications_page(&state, f.lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await
        }
    }
}

/// Renames or moves a unit (its history kept), at the version the page showed.
pub(super) async fn update_unit(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let field = |name: &str| f.form.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let code = field("code").unwrap_or_default();
    let version = field("version").and_then(|v| v.parse::<i64>().ok());
    let patch = crate::directory::OrgUnitPatch { name: field("name"), parent: field("parent"), ..Default::default() };
    match state.directory.update_org_unit(&c.actor, &code, &patch, version).await {
        Ok(_) => super::pages::units_page(&state, f.lang, &c, StatusCode::OK, Some("console_unit_updated"), None).await,
        Err(e) => {
            let error = Some(e.to_string());
            super::pages::units_page(&state, f.lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, error).await
        }
    }
}
