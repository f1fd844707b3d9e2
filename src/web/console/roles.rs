//! Roles and unit administrators in the console: the roles an administrator may hand out, a
//! new role (global for the office, or an application's within reach), and who administers
//! each unit: appointed by login (a `pintu.opd_admin` grant, with an optional end date) and
//! removed. Through the directory's role operations, with their reach checks and audit.

use super::{ConsoleGet, ConsolePost};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use crate::applications::ApplicationRecord;
use crate::directory::RoleInput;
use crate::domain::Role;

use super::pages::units_page;
use super::person::date;
use super::{Console, render};
use crate::web::state::AppState;

#[derive(Serialize)]
struct RolesView {
    roles: Vec<Role>,
    applications: Vec<ApplicationRecord>,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub(super) async fn roles(State(state): State<AppState>, ConsoleGet { c, lang }: ConsoleGet) -> Response {
    roles_page(&state, lang, &c, StatusCode::OK, None, None).await
}

async fn roles_page(
    state: &AppState,
    lang: &str,
    c: &Console,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let mut roles = state.directory.list_roles(&c.actor).await.unwrap_or_default();
    roles.sort_by(|a, b| (&a.client_id, &a.name).cmp(&(&b.client_id, &b.name)));
    let applications = state.applications.list(&c.actor).await.unwrap_or_default();
    let applications = applications.into_iter().filter(|a| a.client_id.is_some() && !a.disabled).collect();
    render(state, lang, c, status, "console_roles.html", &RolesView { roles, applications, notice, error })
}

pub(super) async fn create_role(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let field = |name: &str| f.form.get(name).map(str::trim).unwrap_or("").to_owned();
    let input = RoleInput {
        name: field("name"),
        application: Some(field("application")).filter(|a| !a.is_empty()),
        description: field("description"),
        min_level: field("min_level").parse::<u8>().ok(),
    };
    match state.directory.create_role(&c.actor, &input).await {
        Ok(_) => roles_page(&state, f.lang, &c, StatusCode::CREATED, Some("console_role_created"), None).await,
        Err(e) => roles_page(&state, f.lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await,
    }
}

/// Appoints a unit's administrator by login.
pub(super) async fn appoint(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let unit = f.form.get("unit").unwrap_or("");
    let login = f.form.get("login").map(str::trim).unwrap_or("");
    let done = match date(f.form.get("valid_until")) {
        Ok(until) => {
            state.directory.appoint_unit_administrator(&c.actor, unit, login, until).await.map_err(|e| e.to_string())
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => units_page(&state, f.lang, &c, StatusCode::OK, Some("console_admin_appointed"), None).await,
        Err(e) => units_page(&state, f.lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e)).await,
    }
}

/// Ends a unit administrator's grant.
pub(super) async fn dismiss(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let (user, grant) = (f.form.get("user").unwrap_or(""), f.form.get("grant").unwrap_or(""));
    match state.directory.revoke_grant(&c.actor, user, grant).await {
        Ok(()) => units_page(&state, f.lang, &c, StatusCode::OK, Some("console_admin_dismissed"), None).await,
        Err(e) => units_page(&state, f.lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await,
    }
}
