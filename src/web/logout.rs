//! Logging out in the browser, whatever the protocol: OpenID Connect RP-Initiated Logout
//! (`/oauth2/logout`, confirmed on Pintu's page unless an ID token proves who asks) and the page
//! every logout ends on. When the session ended here, that page tells the applications that
//! listen in the browser: SAML SPs through Pintu's signed LogoutRequests (front-channel single
//! logout), OpenID Connect clients through their `frontchannel_logout_uri` (Front-Channel
//! Logout 1.0 §3, with `iss` and `sid`), each in a hidden frame, then continues where the
//! logout said (a `post_logout_redirect_uri`, an SP's LogoutResponse). Applications with a
//! back-channel URI were told from the server already.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::domain::SsoSession;
use crate::oidc::logout::{LogoutOutcome, LogoutTarget};

use super::error::{oauth_error_page, page};
use super::extract::{form_params, query_params};
use super::interaction::{BoundForm, interaction_cookie, interaction_failure, with_cookies};
use super::oidc::see_other;
use super::state::AppState;
use super::views::LogoutView;
use super::{cookies, lang_for};

pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth2/logout", get(logout).post(logout)).route("/logout/confirm/{id}", post(confirm_logout))
}

/// RP-Initiated Logout 1.0 §2: GET and POST.
async fn logout(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    let params = if method == axum::http::Method::POST { form_params(&headers, &body) } else { query_params(&uri) };
    let lang = lang_for(&state, &headers, params.as_ref().ok().and_then(|p| p.get("ui_locales")));
    let params = match params {
        Ok(p) => p,
        Err(e) => return oauth_error_page(&state.views, lang, &e),
    };
    let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
    let before = state.oidc.find_session(session.as_deref()).await.ok().flatten().map(|(s, _)| s);
    match state.oidc.logout(&params, session.as_deref()).await {
        Ok(LogoutOutcome::Done(target)) => logged_out(&state, lang, &target, before.as_ref()).await,
        Ok(LogoutOutcome::Confirm { id, csrf_token, target }) => {
            let view = LogoutView {
                confirm_action: Some(format!("/logout/confirm/{id}")),
                csrf_token: Some(csrf_token),
                client_name: target.client_name,
                frames: Vec::new(),
                continue_url: None,
            };
            let response = page(&state.views, StatusCode::OK, "logout.html", lang, &view);
            with_cookies(response, [interaction_cookie(&state, &id)])
        }
        Err(e) => oauth_error_page(&state.views, lang, &e),
    }
}

async fn confirm_logout(State(state): State<AppState>, f: BoundForm) -> Response {
    let lang = f.lang;
    let before = state.oidc.find_session(f.session.as_deref()).await.ok().flatten().map(|(s, _)| s);
    match state.oidc.confirm_logout(&f.id, f.form.get("csrf_token").unwrap_or(""), f.session.as_deref()).await {
        Ok(target) => logged_out(&state, lang, &target, before.as_ref()).await,
        Err(e) => interaction_failure(&state, lang, &e),
    }
}

/// Clears the session cookie; tells the browser-side listeners of the session that ended
/// (`ended`); then the verified target, or a notice.
async fn logged_out(state: &AppState, lang: &str, target: &LogoutTarget, ended: Option<&SsoSession>) -> Response {
    let secure = state.web.secure_cookies;
    let frames = match ended {
        Some(session) => front_channel(state, session).await,
        None => Vec::new(),
    };
    let response = logged_out_page(state, lang, target.client_name.clone(), frames, target.redirect.clone());
    with_cookies(response, [cookies::clear(cookies::SESSION, secure), cookies::clear(cookies::INTERACTION, secure)])
}

/// The front-channel logout URLs of a session that ended: its SAML SPs' and its OpenID
/// Connect clients'. A failure to make one is logged; the logout itself stands.
pub(super) async fn front_channel(state: &AppState, session: &SsoSession) -> Vec<String> {
    let mut frames = match state.saml.front_channel_logouts(session).await {
        Ok(urls) => urls,
        Err(e) => {
            tracing::error!(error = %e, "the SAML front-channel logout requests cannot be made");
            Vec::new()
        }
    };
    frames.extend(state.oidc.frontchannel_logout_urls(&session.id).await);
    frames
}

/// The page a logout ends on: with `frames` to load (each in a hidden frame, allowed by this
/// page's CSP alone), then on to `then`; straight to `then` when there is nothing to load.
pub(super) fn logged_out_page(
    state: &AppState,
    lang: &str,
    client_name: Option<String>,
    frames: Vec<String>,
    then: Option<String>,
) -> Response {
    if frames.is_empty()
        && let Some(then) = &then
    {
        return see_other(then);
    }
    let origins: Vec<String> =
        frames.iter().filter_map(|f| url::Url::parse(f).ok()).map(|u| u.origin().ascii_serialization()).collect();
    let view = LogoutView { confirm_action: None, csrf_token: None, client_name, frames, continue_url: then };
    let mut response = page(&state.views, StatusCode::OK, "logout.html", lang, &view);
    if !origins.is_empty() {
        let csp = format!(
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-src {}; frame-ancestors 'none'; base-uri 'none'",
            origins.join(" ")
        );
        if let Ok(value) = HeaderValue::from_str(&csp) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
