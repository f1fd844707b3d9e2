//! Opening Pintu directly: `/` leads to the account page, and the account page without a
//! usable session shows the sign-in page (password or passkey, then the second step the
//! person's factors demand) and returns to itself.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

use crate::account::{AccountError, SignInPage, SignInResult, SignInStage, SignInStep};

use super::account::failure;
use super::client_certificate::ClientCertificate;
use super::error::page;
use super::extract::ClientIp;
use super::interaction::{BoundForm, certificate_action, interaction_cookie, locale_cookie, refused, with_cookies};
use super::oidc::see_other;
use super::passkeys::account_options;
use super::state::AppState;
use super::views::{LoginView, PasskeyForm};
use super::{cookies, lang_for};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/account/login/{id}", post(login))
        .route("/account/login/{id}/passkey/options", post(login_passkey_options))
        .route("/account/login/{id}/passkey", post(login_passkey))
        .route("/account/second-factor/{id}", post(second_factor))
        .route("/account/second-factor/{id}/passkey/options", post(second_factor_passkey_options))
        .route("/account/second-factor/{id}/passkey", post(second_factor_passkey))
        .route("/account/second-factor/{id}/certificate", post(second_factor_certificate))
        .route("/account/second-factor/{id}/remote-certificate", post(second_factor_remote_certificate))
}

/// Pintu's front door: the employees' portal (the applications this person may open), or the
/// sign-in page, which leads to the account page.
async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_for(&state, &headers, None);
    let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
    let user = match state.oidc.find_session(session.as_deref()).await {
        Ok(Some((_, user))) => user,
        Ok(None) => return see_other("/account"),
        Err(e) => return super::error::oauth_error_page(&state.views, lang, &e),
    };
    match state.applications.portal(&user).await {
        Ok(apps) => {
            let (general, special): (Vec<_>, Vec<_>) = apps.into_iter().partition(|a| a.category == "umum");
            let name = user.name.clone().unwrap_or_else(|| user.username.clone());
            let view = PortalView { name, general, special };
            page(&state.views, StatusCode::OK, "portal.html", lang, &view)
        }
        Err(e) => {
            tracing::error!(error = %e, "the portal cannot list the applications");
            super::error::error_page(&state.views, lang, super::error::PageKind::Server, None)
        }
    }
}

#[derive(serde::Serialize)]
struct PortalView {
    name: String,
    general: Vec<crate::applications::PortalEntry>,
    special: Vec<crate::applications::PortalEntry>,
}

/// The sign-in page for a browser whose session cannot open the account pages.
pub(super) async fn sign_in(state: &AppState, lang: &str, headers: &HeaderMap) -> Response {
    let session = cookies::get(headers, cookies::SESSION, state.web.secure_cookies);
    match state.account.sign_in_page(session.as_deref()).await {
        Ok(p) => render(state, lang, &p, StatusCode::OK, None),
        Err(e) => failure(state, lang, &e),
    }
}

pub(super) fn render(
    state: &AppState,
    lang: &str,
    p: &SignInPage,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let id = &p.interaction_id;
    let (template, action, code, passkey, certificate) = match p.stage {
        SignInStage::Login { passkey } => {
            let form = passkey.then(|| PasskeyForm {
                options_url: format!("/account/login/{id}/passkey/options"),
                action: format!("/account/login/{id}/passkey"),
                mode: "login",
            });
            ("login.html", format!("/account/login/{id}"), false, form, false)
        }
        SignInStage::SecondFactor { code, passkey, certificate } => {
            let form = passkey.then(|| PasskeyForm {
                options_url: format!("/account/second-factor/{id}/passkey/options"),
                action: format!("/account/second-factor/{id}/passkey"),
                mode: "step-up",
            });
            ("second_factor.html", format!("/account/second-factor/{id}"), code, form, certificate)
        }
    };
    let view = LoginView {
        action,
        csrf_token: p.csrf_token.clone(),
        client_name: state.views.message(lang, "account_title"),
        login_hint: None,
        error: error.map(str::to_owned),
        code,
        passkey,
        // Level 4 for a waiting request: the certificate through Pintu's TLS listener or a
        // proxy, or a passphrase for one the CA's signing service holds.
        certificate: certificate
            .then(|| certificate_action(state, &format!("/account/second-factor/{id}/certificate"))),
        remote_certificate: (certificate && state.account.remote_certificates())
            .then(|| format!("/account/second-factor/{id}/remote-certificate")),
    };
    let response = page(&state.views, status, template, lang, &view);
    with_cookies(response, [interaction_cookie(state, id), locale_cookie(state, lang)])
}

/// The account page after a successful step, the second step, the page again saying why,
/// or (the form no longer applying) a fresh start.
async fn next(state: &AppState, f: &BoundForm, result: SignInResult) -> Response {
    let secure = state.web.secure_cookies;
    match result {
        // A SAML request waiting for this sign-in is answered next.
        Ok(Ok(SignInStep::Done { cookie })) => with_cookies(
            see_other(if f.saml_pending.is_some() { "/saml/resume" } else { "/account" }),
            [cookies::set(cookies::SESSION, &cookie, None, secure), cookies::clear(cookies::INTERACTION, secure)],
        ),
        Ok(Ok(SignInStep::SecondFactor { cookie, page })) => with_cookies(
            render(state, f.lang, &page, StatusCode::OK, None),
            [cookies::set(cookies::SESSION, &cookie, None, secure)],
        ),
        Ok(Err(r)) => refused(state, r.problem, |status, key| render(state, f.lang, &r.page, status, Some(key))),
        Err(AccountError::SignInFirst) => see_other("/account"),
        Err(e) => failure(state, f.lang, &e),
    }
}

fn form_token(f: &BoundForm) -> (&str, &str) {
    (f.id.as_str(), f.form.get("csrf_token").unwrap_or(""))
}

fn field<'a>(f: &'a BoundForm, name: &str) -> &'a str {
    f.form.get(name).unwrap_or("")
}

async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let (login, password) = (field(&f, "username"), field(&f, "password"));
    let result = state.account.sign_in_with_password(form_token(&f), login, password, ip.as_deref()).await;
    next(&state, &f, result).await
}

async fn login_passkey(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let result = state.account.sign_in_with_passkey(form_token(&f), field(&f, "credential"), ip.as_deref()).await;
    next(&state, &f, result).await
}

async fn second_factor(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let (code, session) = (field(&f, "code"), f.session.as_deref());
    let result = state.account.sign_in_second_factor(form_token(&f), code, session, ip.as_deref()).await;
    next(&state, &f, result).await
}

async fn second_factor_passkey(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let (credential, session) = (field(&f, "credential"), f.session.as_deref());
    let result = state.account.second_factor_with_passkey(form_token(&f), credential, session, ip.as_deref()).await;
    next(&state, &f, result).await
}

/// A certificate for level 4: this request's TLS client certificate (Pintu's own listener, or
/// a trusted proxy's forwarded header). Done, it leads on by a path on the origin it was
/// posted to (the TLS listener serves the same pages and the cookies are the host's).
async fn second_factor_certificate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cert: ClientCertificate,
    f: BoundForm,
) -> Response {
    let (presented, session) = ((cert.presented.as_ref(), cert.proof), f.session.as_deref());
    let result = state.account.second_factor_with_certificate(form_token(&f), presented, session, ip.as_deref()).await;
    next(&state, &f, result).await
}

async fn second_factor_remote_certificate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    f: BoundForm,
) -> Response {
    let (passphrase, session) = (field(&f, "passphrase"), f.session.as_deref());
    let result =
        state.account.second_factor_with_remote_certificate(form_token(&f), passphrase, session, ip.as_deref()).await;
    next(&state, &f, result).await
}

async fn login_passkey_options(State(state): State<AppState>, f: BoundForm) -> Response {
    let result = state.account.sign_in_passkey_options(form_token(&f)).await;
    account_options(&state, f.lang, result)
}

async fn second_factor_passkey_options(State(state): State<AppState>, f: BoundForm) -> Response {
    let result = state.account.second_factor_passkey_options(form_token(&f), f.session.as_deref()).await;
    account_options(&state, f.lang, result)
}
