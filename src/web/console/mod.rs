//! The administrators' console at `/admin`: server-rendered pages over the same services as the
//! admin API and the command line, acting as the same `Actor` with the same reach (the office
//! sees everything, an OPD administrator their units). It is reached through Pintu's own sign-in
//! at level 2 or more; every form carries the CSRF token of an interaction bound to the
//! session. First pages: the dashboard, people, units and applications.

mod actions;
mod application;
mod dashboard;
mod import;
mod pages;
mod person;
mod records;
mod roles;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;

use crate::directory::Actor;
use crate::domain::{ActorId, SecurityLevel, User};

use super::cookies;
use super::error::{PageKind, error_page, page};
use super::interaction::{interaction_cookie, with_cookies};
use super::oidc::see_other;
use super::state::AppState;

pub fn routes(max_import_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/admin/import", get(import::show))
        .route("/admin/import/{id}", post(import::upload).layer(axum::extract::DefaultBodyLimit::max(max_import_bytes)))
        .route("/admin", get(dashboard::dashboard))
        .route("/admin/people", get(pages::people))
        .route("/admin/people/{id}", post(pages::create_person))
        .route("/admin/people/{id}/activation", post(pages::activation_letter))
        .route("/admin/people/{id}/status", post(actions::person_status))
        .route("/admin/people/{id}/factors", post(actions::person_factors))
        .route("/admin/applications/{id}/rotate", post(actions::rotate_secret))
        .route("/admin/applications/{id}/disable", post(actions::disable_application))
        .route("/admin/person", get(person::show))
        .route("/admin/person/{id}/transfer", post(person::transfer))
        .route("/admin/person/{id}/edit", post(person::edit))
        .route("/admin/person/{id}/grant", post(person::grant))
        .route("/admin/person/{id}/revoke", post(person::revoke))
        .route("/admin/units", get(pages::units))
        .route("/admin/units/{id}", post(pages::create_unit))
        .route("/admin/units/{id}/update", post(actions::update_unit))
        .route("/admin/units/{id}/administrators", post(roles::appoint))
        .route("/admin/units/{id}/administrators/remove", post(roles::dismiss))
        .route("/admin/roles", get(roles::roles))
        .route("/admin/roles/{id}", post(roles::create_role))
        .route("/admin/application", get(application::show))
        .route("/admin/application/{id}", post(application::update))
        .route("/admin/application/{id}/addresses", post(application::update_addresses))
        .route(
            "/admin/application/{id}/icon",
            post(application::upload_icon)
                .layer(axum::extract::DefaultBodyLimit::max(crate::applications::MAX_ICON_BYTES + 16 * 1024)),
        )
        .route("/admin/application/{id}/icon/remove", post(application::remove_icon))
        .route("/admin/applications", get(pages::applications))
        .route("/admin/applications/{id}", post(pages::register_application))
        .route("/admin/audit", get(records::audit))
        .route("/admin/audit/{id}/verify", post(records::verify))
        .route("/admin/reports", get(records::reports))
        .route("/admin/reports.csv", get(records::reports_csv))
}

/// A console page requested: the administrator (or the answer why not) and the language.
pub(super) struct ConsoleGet {
    pub c: Console,
    pub lang: &'static str,
}

impl axum::extract::FromRequestParts<AppState> for ConsoleGet {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        let lang = super::lang_for(state, &parts.headers, None);
        let Ok(super::extract::ClientIp(ip)) = super::extract::ClientIp::from_request_parts(parts, state).await;
        let c = console(state, lang, &parts.headers, ip).await?;
        Ok(ConsoleGet { c, lang })
    }
}

/// A console form posted: bound to this browser, its CSRF token checked against the session,
/// then the administrator. Nothing is done for a form that fails any of these.
pub(super) struct ConsolePost {
    pub c: Console,
    pub f: super::interaction::BoundForm,
}

impl axum::extract::FromRequest<AppState> for ConsolePost {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        use axum::extract::FromRequestParts;
        let (mut parts, body) = req.into_parts();
        let Ok(super::extract::ClientIp(ip)) = super::extract::ClientIp::from_request_parts(&mut parts, state).await;
        let headers = parts.headers.clone();
        let req = axum::extract::Request::from_parts(parts, body);
        let f = super::interaction::BoundForm::from_request(req, state).await?;
        let csrf = f.form.get("csrf_token").unwrap_or("");
        if let Err(e) = state.account.check_form((&f.id, csrf), f.session.as_deref()).await {
            return Err(super::account::failure(state, f.lang, &e));
        }
        let c = console(state, f.lang, &headers, ip).await?;
        Ok(ConsolePost { c, f })
    }
}

/// A console form posted as `multipart/form-data` (a file upload): the same checks as
/// `ConsolePost` (bound to this browser, the CSRF token, the administrator), then its fields
/// by name. A field sent twice keeps its last value.
pub(super) struct ConsoleUpload {
    pub c: Console,
    pub lang: &'static str,
    pub fields: std::collections::HashMap<String, Vec<u8>>,
}

impl ConsoleUpload {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }
}

impl axum::extract::FromRequest<AppState> for ConsoleUpload {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        use axum::extract::{FromRequestParts, Multipart, Path};
        let (mut parts, body) = req.into_parts();
        let lang = super::lang_for(state, &parts.headers, None);
        let bad = |kind| error_page(&state.views, lang, kind, None);
        let Ok(super::extract::ClientIp(ip)) = super::extract::ClientIp::from_request_parts(&mut parts, state).await;
        let Ok(Path(id)) = Path::<String>::from_request_parts(&mut parts, state).await else {
            return Err(bad(PageKind::NotFound));
        };
        if !super::interaction::bound_to_browser(state, &parts.headers, &id) {
            return Err(bad(PageKind::Forbidden));
        }
        let headers = parts.headers.clone();
        let req = axum::extract::Request::from_parts(parts, body);
        let Ok(mut multipart) = Multipart::from_request(req, state).await else {
            return Err(bad(PageKind::BadRequest));
        };
        let mut fields = std::collections::HashMap::new();
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let Ok(bytes) = field.bytes().await else { return Err(bad(PageKind::BadRequest)) };
                    fields.insert(name, bytes.to_vec());
                }
                Ok(None) => break,
                Err(_) => return Err(bad(PageKind::BadRequest)),
            }
        }
        let csrf = fields.get("csrf_token").and_then(|v| std::str::from_utf8(v).ok()).unwrap_or("");
        let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
        if let Err(e) = state.account.check_form((&id, csrf), session.as_deref()).await {
            return Err(super::account::failure(state, lang, &e));
        }
        let c = console(state, lang, &headers, ip).await?;
        Ok(ConsoleUpload { c, lang, fields })
    }
}

/// An administrator on a console page: who acts, and the form token of this page.
pub(super) struct Console {
    pub actor: Actor,
    pub user: User,
    pub form_id: String,
    pub csrf_token: String,
}

/// Who may open the console: a signed-in administrator at level 2 or more. Otherwise the
/// sign-in (no session), or a page saying why.
pub(super) async fn console(
    state: &AppState,
    lang: &str,
    headers: &HeaderMap,
    source_ip: Option<String>,
) -> Result<Console, Response> {
    let cookie = cookies::get(headers, cookies::SESSION, state.web.secure_cookies);
    let found = state.oidc.find_session(cookie.as_deref()).await;
    let (session, user) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Err(see_other("/account")),
        Err(e) => return Err(super::error::oauth_error_page(&state.views, lang, &e)),
    };
    if session.authn.level < SecurityLevel::SecondFactor {
        let view = Message { key: "console_needs_level_2" };
        return Err(page(&state.views, StatusCode::FORBIDDEN, "console_message.html", lang, &view));
    }
    let scope = match state.directory.admin_scope_of(&user.id).await {
        Ok(Some(scope)) => scope,
        Ok(None) => return Err(error_page(&state.views, lang, PageKind::Forbidden, None)),
        Err(e) => {
            tracing::error!(error = %e, "the console cannot read the administrator's scope");
            return Err(error_page(&state.views, lang, PageKind::Server, None));
        }
    };
    let actor = Actor { id: ActorId::user(&user.id), scope, source_ip };
    let (form_id, csrf_token) = match state.account.form_token(cookie.as_deref()).await {
        Ok(token) => token,
        Err(e) => return Err(super::account::failure(state, lang, &e)),
    };
    Ok(Console { actor, user, form_id, csrf_token })
}

#[derive(Serialize)]
struct Message {
    key: &'static str,
}

/// A console page: `view` as `v`, the section for the navigation, this page's form token.
pub(super) fn render<V: Serialize>(
    state: &AppState,
    lang: &str,
    c: &Console,
    status: StatusCode,
    template: &str,
    view: &V,
) -> Response {
    #[derive(Serialize)]
    struct Frame<'a, V> {
        admin: String,
        office: bool,
        /// E-mail can be sent: the pages offer what needs it, or say it is off.
        mail: bool,
        form_id: &'a str,
        csrf_token: &'a str,
        page: &'a V,
    }
    let frame = Frame {
        admin: c.user.name.clone().unwrap_or_else(|| c.user.username.clone()),
        office: matches!(c.actor.scope, crate::domain::AdminScope::Office),
        mail: state.mailer.enabled(),
        form_id: &c.form_id,
        csrf_token: &c.csrf_token,
        page: view,
    };
    with_cookies(page(&state.views, status, template, lang, &frame), [interaction_cookie(state, &c.form_id)])
}
