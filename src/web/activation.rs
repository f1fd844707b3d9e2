//! Account activation: `/activate` (the form a person opens from their letter) and the
//! printable letters administrators hand out (`letters`).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::account::ActivationProblem;
use crate::directory::IssuedCode;
use crate::domain::SecurityLevel;

use super::account::{failure, format_time};
use super::error::page;
use super::extract::ClientIp;
use super::interaction::{BoundForm, interaction_cookie, with_cookies};
use super::oidc::see_other;
use super::state::AppState;
use super::views::Views;
use super::{cookies, lang_for};

pub fn routes() -> Router<AppState> {
    Router::new().route("/activate", get(show)).route("/activate/{id}", post(submit))
}

#[derive(Debug, Serialize)]
struct ActivateView {
    action: String,
    csrf_token: String,
    login: Option<String>,
    code: Option<String>,
    error: Option<String>,
    detail: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ActivateQuery {
    #[serde(default)]
    login: Option<String>,
    /// From an e-mailed link (a reset or an activation).
    #[serde(default)]
    code: Option<String>,
}

async fn show(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<ActivateQuery>) -> Response {
    let lang = lang_for(&state, &headers, None);
    let plain = |v: Option<String>| v.filter(|l| l.len() <= 256 && !l.chars().any(char::is_control));
    form(&state, lang, (plain(q.login), plain(q.code)), StatusCode::OK, None, None).await
}

async fn form(
    state: &AppState,
    lang: &str,
    (login, code): (Option<String>, Option<String>),
    status: StatusCode,
    error: Option<&str>,
    detail: Option<String>,
) -> Response {
    match state.account.activation_form().await {
        Ok((id, csrf_token)) => {
            let view = ActivateView {
                action: format!("/activate/{id}"),
                csrf_token,
                login,
                code,
                error: error.map(str::to_owned),
                detail,
            };
            with_cookies(page(&state.views, status, "activate.html", lang, &view), [interaction_cookie(state, &id)])
        }
        Err(e) => failure(state, lang, &e),
    }
}

async fn submit(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let (lang, fields) = (f.lang, &f.form);
    let csrf = fields.get("csrf_token").unwrap_or("");
    let login = fields.get("login").unwrap_or("");
    let code = fields.get("code").unwrap_or("");
    let passwords = (fields.get("new_password").unwrap_or(""), fields.get("confirm_password").unwrap_or(""));
    let done = state.account.activate((&f.id, csrf), login, code, passwords, ip.as_deref()).await;
    let again = |status, key: &'static str, detail| {
        form(&state, lang, (Some(login.to_owned()), None), status, Some(key), detail)
    };
    match done {
        Ok(Ok(activated)) => {
            super::mail_pages::notify(&state, lang, &activated.user, "notice_password_changed").await;
            let cookie = cookies::set(cookies::SESSION, &activated.cookie, None, state.web.secure_cookies);
            // Where the person's unit or role asks for a second factor, it is enrolled first.
            let needs = state.directory.person_required_level(&activated.user).await.unwrap_or(SecurityLevel::Password);
            let next = if needs >= SecurityLevel::SecondFactor { "/account/totp" } else { "/account" };
            with_cookies(see_other(next), [cookie, cookies::clear(cookies::INTERACTION, state.web.secure_cookies)])
        }
        Ok(Err(ActivationProblem::Invalid)) => again(StatusCode::UNAUTHORIZED, "error_activation_invalid", None).await,
        Ok(Err(ActivationProblem::Mismatch)) => again(StatusCode::BAD_REQUEST, "error_activation_mismatch", None).await,
        Ok(Err(ActivationProblem::Password(why))) => {
            again(StatusCode::BAD_REQUEST, "error_activation_password", Some(why)).await
        }
        Ok(Err(ActivationProblem::Throttled { until })) => {
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, "error_throttled", None).await;
            let wait = (until - state.oidc.now()).max(1);
            if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Err(e) => failure(&state, lang, &e),
    }
}

/// One letter.
#[derive(Debug, Serialize)]
struct Letter {
    name: String,
    nip: Option<String>,
    unit_name: Option<String>,
    username: String,
    code: String,
    expires: String,
    qr_svg: String,
}

#[derive(Debug, Serialize)]
struct LettersView {
    issuer: String,
    activate_url: String,
    letters: Vec<Letter>,
}

/// The printable letters for `codes` (one page each, sorted as issued), in `lang`.
pub fn letters(views: &Views, lang: &str, issuer: &str, codes: &[IssuedCode]) -> Result<String, String> {
    let activate_url = format!("{}/activate", issuer.trim_end_matches('/'));
    let letters = codes
        .iter()
        .map(|c| {
            let link = format!(
                "{activate_url}?login={}",
                form_urlencoded::byte_serialize(c.username.as_bytes()).collect::<String>()
            );
            Letter {
                name: c.name.clone(),
                nip: c.nip.clone(),
                unit_name: c.unit_name.clone(),
                username: c.username.clone(),
                code: c.code.clone(),
                expires: format_time(c.expires_at),
                qr_svg: crate::authn::AuthnService::qr_svg(&link).unwrap_or_default(),
            }
        })
        .collect();
    let view = LettersView { issuer: issuer.to_owned(), activate_url, letters };
    views.render("activation_letters.html", lang, &view).map_err(|e| e.to_string())
}

/// The letters as an HTTP answer (never cached: they carry the codes).
pub fn letters_response(views: &Views, lang: &str, issuer: &str, codes: &[IssuedCode]) -> Response {
    match letters(views, lang, issuer, codes) {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the activation letters cannot be drawn");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
