//! Passkey endpoints of the login, step-up and account pages (and turning TOTP off, the
//! account page's other factor form). The page's script
//! (`/static/webauthn.js`) posts the form's CSRF token to `…/options` and gets the WebAuthn
//! options as JSON; it hands them to the browser and posts the authenticator's answer back in
//! the same form (field `credential`), so what follows is an ordinary page or redirect.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::account::AccountError;
use crate::account::FactorChange;
use crate::authn::webauthn::{PasskeyOptions, PasskeyProblem};
use crate::oidc::interaction::InteractionError;

use super::account::{Notice, failure as account_failure, render_overview};
use super::caching::{Keep, no_store, public};
use super::error::page;
use super::extract::ClientIp;
use super::interaction::{BoundForm, logged_in};
use super::state::AppState;
use super::views::ErrorView;

/// The page script; the pages' CSP allows scripts from this origin only.
const SCRIPT: &str = include_str!("webauthn.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/webauthn.js", get(script))
        .route("/login/{id}/passkey/options", post(login_options))
        .route("/login/{id}/passkey", post(login))
        .route("/second-factor/{id}/passkey/options", post(step_up_options))
        .route("/second-factor/{id}/passkey", post(step_up))
        .route("/account/passkeys/{id}/options", post(register_options))
        .route("/account/passkeys/{id}", post(register))
        .route("/account/passkeys/{id}/remove", post(remove))
        .route("/account/totp/{id}/remove", post(remove_totp))
}

async fn script() -> Response {
    public(SCRIPT, "text/javascript; charset=utf-8", Keep::AnHour)
}

/// `{"error": code, "message": text}` with a status, for the script to show.
fn json_error(state: &AppState, lang: &str, status: StatusCode, code: &str, key: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": state.views.message(lang, key) });
    no_store((status, axum::Json(body)).into_response())
}

/// The answer to an options request.
fn options_response(
    state: &AppState,
    lang: &str,
    result: Result<Result<serde_json::Value, PasskeyProblem>, InteractionError>,
) -> Response {
    match result {
        Ok(Ok(options)) => no_store(axum::Json(options).into_response()),
        Ok(Err(problem)) => {
            let key = format!("error_passkey_{}", problem.code());
            json_error(state, lang, StatusCode::BAD_REQUEST, problem.code(), &key)
        }
        Err(InteractionError::Csrf) => json_error(state, lang, StatusCode::FORBIDDEN, "forbidden", "error_forbidden"),
        Err(InteractionError::Expired) => json_error(state, lang, StatusCode::GONE, "expired", "error_expired"),
        Err(_) => json_error(state, lang, StatusCode::INTERNAL_SERVER_ERROR, "server_error", "error_server"),
    }
}

fn csrf(f: &BoundForm) -> &str {
    f.form.get("csrf_token").unwrap_or("")
}

fn credential(f: &BoundForm) -> &str {
    f.form.get("credential").unwrap_or("")
}

async fn login_options(State(state): State<AppState>, f: BoundForm) -> Response {
    options_response(&state, f.lang, state.oidc.passkey_login_options(&f.id, csrf(&f)).await)
}

async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let result = state.oidc.submit_passkey_login(&f.id, csrf(&f), credential(&f), ip.as_deref()).await;
    logged_in(&state, f.lang, result)
}

async fn step_up_options(State(state): State<AppState>, f: BoundForm) -> Response {
    let result = state.oidc.passkey_step_up_options(&f.id, csrf(&f), f.session.as_deref()).await;
    options_response(&state, f.lang, result)
}

async fn step_up(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let session = f.session.as_deref();
    let result = state.oidc.submit_passkey_step_up(&f.id, csrf(&f), credential(&f), session, ip.as_deref()).await;
    logged_in(&state, f.lang, result)
}

/// The answer to an account page's options request (registration, the account's own sign-in).
pub(super) fn account_options(state: &AppState, lang: &str, result: Result<PasskeyOptions, AccountError>) -> Response {
    match result {
        Ok(options) => options_response(state, lang, Ok(options)),
        Err(AccountError::SignInFirst) => options_response(state, lang, Err(InteractionError::Expired)),
        Err(AccountError::Csrf) => options_response(state, lang, Err(InteractionError::Csrf)),
        Err(AccountError::Failed(cause)) => {
            tracing::error!(error = %cause, "passkey options for an account page failed");
            json_error(state, lang, StatusCode::INTERNAL_SERVER_ERROR, "server_error", "error_server")
        }
    }
}

async fn register_options(State(state): State<AppState>, f: BoundForm) -> Response {
    let lang = f.lang;
    match state.account.passkey_registration_options((&f.id, csrf(&f)), f.session.as_deref()).await {
        Ok(None) => json_error(&state, lang, StatusCode::FORBIDDEN, "sign_in_again", "account_passkey_sign_in_again"),
        Ok(Some(options)) => account_options(&state, lang, Ok(options)),
        Err(e) => account_options(&state, lang, Err(e)),
    }
}

async fn register(State(state): State<AppState>, ClientIp(ip): ClientIp, headers: HeaderMap, f: BoundForm) -> Response {
    let name = f.form.get("name").unwrap_or("");
    let session = f.session.as_deref();
    let result = state.account.register_passkey((&f.id, csrf(&f)), session, name, credential(&f), ip.as_deref()).await;
    changed(&state, f.lang, &headers, result, false).await
}

async fn remove(State(state): State<AppState>, ClientIp(ip): ClientIp, headers: HeaderMap, f: BoundForm) -> Response {
    let id = f.form.get("passkey").unwrap_or("");
    let result = state.account.remove_passkey((&f.id, csrf(&f)), f.session.as_deref(), id, ip.as_deref()).await;
    changed(&state, f.lang, &headers, result, false).await
}

async fn remove_totp(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: BoundForm,
) -> Response {
    let result = state.account.remove_totp((&f.id, csrf(&f)), f.session.as_deref(), ip.as_deref()).await;
    changed(&state, f.lang, &headers, result, true).await
}

/// The account page again, saying what happened.
async fn changed(
    state: &AppState,
    lang: &'static str,
    headers: &HeaderMap,
    result: Result<FactorChange, AccountError>,
    totp: bool,
) -> Response {
    // The person is told by e-mail of every change to their factors.
    let told = match &result {
        Ok(FactorChange::Registered) => Some("notice_passkey_registered"),
        Ok(FactorChange::PasskeyRemoved) => Some("notice_passkey_removed"),
        Ok(FactorChange::TotpRemoved) => Some("notice_totp_removed"),
        _ => None,
    };
    if let Some(what) = told {
        let session = super::cookies::get(headers, super::cookies::SESSION, state.web.secure_cookies);
        if let Ok(Some((_, user))) = state.oidc.find_session(session.as_deref()).await {
            super::mail_pages::notify(state, lang, &user, what).await;
        }
    }
    let notice = match result {
        Ok(FactorChange::Registered) => Notice::ok("account_passkey_registered"),
        Ok(FactorChange::PasskeyRemoved) => Notice::ok("account_passkey_removed"),
        Ok(FactorChange::TotpRemoved) => Notice::ok("account_totp_removed"),
        Ok(FactorChange::SignInAgain) if totp => Notice::error("account_totp_sign_in_again"),
        Ok(FactorChange::SignInAgain) => Notice::error("account_passkey_sign_in_again"),
        Ok(FactorChange::Refused(problem)) => Notice::error(&format!("error_passkey_{}", problem.code())),
        Err(e) => return account_failure(state, lang, &e),
    };
    let (status, registered) = (
        if notice.is_error { StatusCode::BAD_REQUEST } else { StatusCode::OK },
        notice.key_is("account_passkey_registered"),
    );
    let mut response = render_overview(state, lang, headers, Some(notice)).await;
    match response.status() {
        StatusCode::OK => *response.status_mut() = status,
        // The new passkey raised what the account pages ask of this session (a password
        // alone no longer opens them): say it worked, and how to come back.
        StatusCode::UNAUTHORIZED if registered => {
            let view = ErrorView {
                title_key: "account_passkeys".into(),
                message_key: "account_passkey_registered_sign_in".into(),
                detail: None,
            };
            response = page(&state.views, StatusCode::OK, "error.html", lang, &view);
        }
        _ => {}
    }
    response
}
