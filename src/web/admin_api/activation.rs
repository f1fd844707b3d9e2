//! `/api/v1/activations`: activation codes for one person or a whole unit, shown once: as
//! JSON, or (`format=html`) as the printable letters handed out on paper.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::directory::{ActivationTarget, DirectoryError};

use super::{AdminPrincipal, ApiError, ApiQuery, JsonBody};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/activations", post(issue))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueActivation {
    /// One person: id, username, e-mail or NIP.
    #[serde(default)]
    pub user: Option<String>,
    /// Everyone active in this unit (its code) and its sub-units.
    #[serde(default)]
    pub org_unit: Option<String>,
    /// How long the codes work (days, 1-90; 14 by default).
    #[serde(default)]
    pub days: Option<u32>,
    /// Also e-mail each person whose address is known their activation link.
    #[serde(default)]
    pub email: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

async fn issue(
    State(state): State<AppState>,
    AdminPrincipal(a): AdminPrincipal,
    ApiQuery(q): ApiQuery<IssueQuery>,
    JsonBody(input): JsonBody<IssueActivation>,
) -> Result<Response, ApiError> {
    let target = match (input.user, input.org_unit) {
        (Some(user), None) => ActivationTarget::Person(user),
        (None, Some(unit)) => ActivationTarget::Unit(unit),
        _ => return Err(DirectoryError::invalid("user", "give exactly one of user and org_unit").into()),
    };
    let lang = match q.lang.as_deref() {
        None => state.web.default_locale.as_str(),
        Some(l @ ("id" | "en")) => l,
        Some(_) => return Err(DirectoryError::invalid("lang", "lang must be id or en").into()),
    };
    if !matches!(q.format.as_deref(), None | Some("json" | "html")) {
        return Err(DirectoryError::invalid("format", "format must be json or html").into());
    }
    if input.email && !state.mailer.enabled() {
        return Err(DirectoryError::invalid("email", "e-mail is not configured here ([mail] smtp_host)").into());
    }
    let codes = state.directory.issue_activation(&a, &target, input.days).await?;
    let emailed = if input.email { crate::web::mail_pages::send_activations(&state, lang, &codes).await } else { 0 };
    Ok(match q.format.as_deref() {
        Some("html") => {
            crate::web::activation::letters_response(&state.views, lang, &state.oidc.config().issuer, &codes)
        }
        _ => {
            let body = Json(serde_json::json!({ "items": codes, "emailed": emailed }));
            (StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], body).into_response()
        }
    })
}
