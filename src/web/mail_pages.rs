//! What Pintu sends by e-mail, composed from the theme's templates in the person's language,
//! and the forgotten-password page that asks for a link.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;

use crate::account::ActivationProblem;
use crate::directory::IssuedCode;
use crate::domain::User;

use super::account::{failure, format_time};
use super::error::page;
use super::extract::ClientIp;
use super::interaction::{BoundForm, interaction_cookie, with_cookies};
use super::lang_for;
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/password/forgot", get(show)).route("/password/forgot/{id}", post(submit))
}

#[derive(Serialize)]
struct ForgotView {
    action: String,
    csrf_token: String,
    available: bool,
    sent: bool,
    error: Option<String>,
}

async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_for(&state, &headers, None);
    forgot_page(&state, lang, StatusCode::OK, false, None).await
}

async fn forgot_page(state: &AppState, lang: &str, status: StatusCode, sent: bool, error: Option<&str>) -> Response {
    match state.account.reset_form().await {
        Ok((id, csrf_token)) => {
            let view = ForgotView {
                action: format!("/password/forgot/{id}"),
                csrf_token,
                available: state.mailer.enabled(),
                sent,
                error: error.map(str::to_owned),
            };
            with_cookies(page(&state.views, status, "forgot.html", lang, &view), [interaction_cookie(state, &id)])
        }
        Err(e) => failure(state, lang, &e),
    }
}

async fn submit(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let lang = f.lang;
    let csrf = f.form.get("csrf_token").unwrap_or("");
    let login = f.form.get("login").unwrap_or("");
    if !state.mailer.enabled() {
        return forgot_page(&state, lang, StatusCode::OK, false, None).await;
    }
    match state.account.request_reset((&f.id, csrf), login, ip.as_deref()).await {
        Ok(Ok(Some((user, code)))) => {
            let link = activation_link(&state, &user.username, Some(&code));
            let body = ResetMail { name: display_name(&user), link, issuer: issuer(&state) };
            send(&state, lang, &user, "mail_reset_subject", "mail_reset", &body).await;
            forgot_page(&state, lang, StatusCode::OK, true, None).await
        }
        // The same answer whether or not the name has an account (no enumeration).
        Ok(Ok(None)) => forgot_page(&state, lang, StatusCode::OK, true, None).await,
        Ok(Err(ActivationProblem::Throttled { until })) => {
            let mut response =
                forgot_page(&state, lang, StatusCode::TOO_MANY_REQUESTS, false, Some("error_throttled")).await;
            let wait = (until - state.oidc.now()).max(1);
            if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Ok(Err(_)) => forgot_page(&state, lang, StatusCode::OK, true, None).await,
        Err(e) => failure(&state, lang, &e),
    }
}

#[derive(Serialize)]
struct ResetMail {
    name: String,
    link: String,
    issuer: String,
}

#[derive(Serialize)]
struct ActivationMail {
    name: String,
    link: String,
    code: String,
    expires: String,
    issuer: String,
}

#[derive(Serialize)]
struct NoticeMail {
    name: String,
    what: &'static str,
    when: String,
    issuer: String,
}

fn issuer(state: &AppState) -> String {
    state.oidc.config().issuer.clone()
}

fn display_name(user: &User) -> String {
    user.name.clone().unwrap_or_else(|| user.username.clone())
}

/// `/activate` for `login`, with the code when the link carries it (a reset, an e-mailed
/// activation).
fn activation_link(state: &AppState, login: &str, code: Option<&str>) -> String {
    let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let base = format!("{}/activate?login={}", issuer(state).trim_end_matches('/'), encode(login));
    match code {
        Some(code) => format!("{base}&code={}", encode(code)),
        None => base,
    }
}

/// The plain text (`{name}.txt`) and HTML (`{name}.html`, escaped) forms of a message.
fn compose<V: Serialize>(state: &AppState, lang: &str, name: &str, view: &V) -> Option<(String, String)> {
    let render = |template: String| match state.views.render(&template, lang, view) {
        Ok(body) => Some(body),
        Err(e) => {
            tracing::error!(error = %e, template, "an e-mail cannot be composed");
            None
        }
    };
    Some((render(format!("{name}.txt"))?, render(format!("{name}.html"))?))
}

/// Composes `template` for `user` and queues it; a failure is logged, never shown: mail must
/// not stand in the way of what the person was doing.
async fn send<V: Serialize>(state: &AppState, lang: &str, user: &User, subject: &str, template: &str, view: &V) {
    let Some(to) = user.email.as_deref() else { return };
    let Some((text, html)) = compose(state, lang, template, view) else { return };
    if let Err(e) = state.mailer.send(to, &state.views.message(lang, subject), &text, &html).await {
        tracing::error!(error = %e, "an e-mail cannot be queued");
    }
}

/// Tells the person by e-mail that something changed on their account (`what`: a message key).
pub(super) async fn notify(state: &AppState, lang: &str, user: &User, what: &'static str) {
    let when = format_time(state.oidc.now());
    let view = NoticeMail { name: display_name(user), what, when, issuer: issuer(state) };
    send(state, lang, user, "mail_notice_subject", "mail_notice", &view).await;
}

/// Sends each issued code with a known address its activation link; returns how many went.
pub async fn send_activations(state: &AppState, lang: &str, codes: &[IssuedCode]) -> usize {
    let mut sent = 0;
    for c in codes {
        let Some(email) = c.email.clone() else { continue };
        let view = ActivationMail {
            name: c.name.clone(),
            link: activation_link(state, &c.username, Some(&c.code)),
            code: c.code.clone(),
            expires: format_time(c.expires_at),
            issuer: issuer(state),
        };
        let Some((text, html)) = compose(state, lang, "mail_activation", &view) else { continue };
        let subject = state.views.message(lang, "mail_activation_subject");
        if matches!(state.mailer.send(&email, &subject, &text, &html).await, Ok(true)) {
            sent += 1;
        }
    }
    sent
}
