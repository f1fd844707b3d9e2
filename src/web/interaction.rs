//! Browser interactions: the login and consent pages and their form submissions (logging out
//! is `logout.rs`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::oidc::authorize::DenialReason;
use crate::oidc::interaction::InteractionError;
use crate::oidc::{
    AuthorizationResponse, AuthorizeOutcome, InteractionStage, Params, PendingInteraction, check_parameter,
};
use crate::sso::SignInProblem;

use super::client_certificate::ClientCertificate;
use super::error::{PageKind, error_page, oauth_error_page, page};
use super::extract::{ClientIp, form_fields};
use super::oidc::redirect_or_form;
use super::state::AppState;
use super::views::{ConsentView, DeniedView, FormPostView, LoginView, PasskeyForm};
use super::{cookies, lang_for};

/// The inline script of the form_post page; allowed by hash in its CSP.
const FORM_POST_SCRIPT: &str = "document.forms[0].submit();";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/{id}", post(login))
        .route("/second-factor/{id}", post(second_factor))
        .route("/second-factor/{id}/certificate", post(certificate_step_up))
        .route("/second-factor/{id}/remote-certificate", post(remote_certificate_step_up))
        .route("/consent/{id}", post(consent))
}

/// Renders the login or consent page and binds the interaction to this browser by cookie.
pub fn render_interaction(
    state: &AppState,
    lang: &str,
    p: &PendingInteraction,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let response = match p.stage {
        InteractionStage::Login => {
            let passkey = p.passkey_login.then(|| PasskeyForm {
                options_url: format!("/login/{}/passkey/options", p.id),
                action: format!("/login/{}/passkey", p.id),
                mode: "login",
            });
            let view = LoginView {
                action: format!("/login/{}", p.id),
                csrf_token: p.csrf_token.clone(),
                client_name: p.client_name.clone(),
                login_hint: p.login_hint.clone(),
                error: error.map(str::to_owned),
                code: false,
                passkey,
                certificate: None,
                remote_certificate: None,
            };
            page(&state.views, status, "login.html", lang, &view)
        }
        InteractionStage::SecondFactor(methods) => {
            let passkey = methods.passkey.then(|| PasskeyForm {
                options_url: format!("/second-factor/{}/passkey/options", p.id),
                action: format!("/second-factor/{}/passkey", p.id),
                mode: "step-up",
            });
            let view = LoginView {
                action: format!("/second-factor/{}", p.id),
                csrf_token: p.csrf_token.clone(),
                client_name: p.client_name.clone(),
                login_hint: None,
                error: error.map(str::to_owned),
                code: methods.code,
                passkey,
                certificate: methods
                    .certificate
                    .then(|| certificate_action(state, &format!("/second-factor/{}/certificate", p.id))),
                remote_certificate: (methods.certificate && state.sso.certificates.remote_available())
                    .then(|| format!("/second-factor/{}/remote-certificate", p.id)),
            };
            page(&state.views, status, "second_factor.html", lang, &view)
        }
        InteractionStage::Consent => {
            let view = ConsentView {
                action: format!("/consent/{}", p.id),
                csrf_token: p.csrf_token.clone(),
                client_name: p.client_name.clone(),
                scopes: p.scopes.clone(),
                details: p.authorization_details.as_ref().map(super::signing_views::details).unwrap_or_default(),
                error: error.map(str::to_owned),
            };
            page(&state.views, status, "consent.html", lang, &view)
        }
    };
    with_cookies(response, [interaction_cookie(state, &p.id), locale_cookie(state, lang)])
}

/// Where a certificate step-up posts (`path`): the TLS listener's URL when Pintu terminates
/// TLS for client certificates, this origin otherwise (a proxy forwards the certificate).
pub(super) fn certificate_action(state: &AppState, path: &str) -> String {
    match &state.sso.certificates.config().tls {
        Some(tls) => format!("{}{}", tls.url.as_str().trim_end_matches('/'), path),
        None => path.to_owned(),
    }
}

/// The access-denied page: explains that the application's access policy excludes this
/// account, and offers the way back to the application (which then gets `access_denied`).
pub fn render_denied(
    state: &AppState,
    lang: &str,
    client_name: String,
    response: &AuthorizationResponse,
    reason: DenialReason,
) -> Response {
    let pairs: Vec<(&str, &str)> = response.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let view = DeniedView {
        client_name,
        reason: if matches!(reason, DenialReason::Policy) { "policy" } else { "level" },
        return_url: crate::oidc::logout::with_query(&response.redirect_uri, &pairs),
        form_post: response.mode == crate::oidc::ResponseMode::FormPost,
        redirect_uri: response.redirect_uri.clone(),
        params: response.params.clone(),
    };
    page(&state.views, StatusCode::FORBIDDEN, "denied.html", lang, &view)
}

/// Sends the authorization response to the client (redirect or form post).
pub fn respond_to_client(state: &AppState, lang: &str, response: &AuthorizationResponse) -> Response {
    match redirect_or_form(response) {
        Ok(redirect) => redirect,
        Err(form) => form_post(state, lang, &form.redirect_uri, form.params.clone()),
    }
}

/// A page that posts `params` to `action` by itself (its one script allowed by hash), with a
/// button for browsers without scripts: OAuth's form_post and SAML's HTTP-POST binding.
pub(super) fn form_post(state: &AppState, lang: &str, action: &str, params: Vec<(String, String)>) -> Response {
    let view = FormPostView { redirect_uri: action.to_owned(), params };
    let mut response = page(&state.views, StatusCode::OK, "form_post.html", lang, &view);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(FORM_POST_SCRIPT.as_bytes()));
    // The form posts to the application: `form-action` is left open, as the response is for it.
    let csp = format!("default-src 'none'; script-src 'sha256-{hash}'; frame-ancestors 'none'; base-uri 'none'");
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The form of an interaction page (`/…/{id}`): well-formed, and posted by the browser the
/// interaction belongs to (its cookie names the interaction in the URL). Rejected with the
/// page to answer with. Carries the page language and the SSO session cookie.
pub(super) struct BoundForm {
    pub id: String,
    pub lang: &'static str,
    pub form: Params,
    pub session: Option<String>,
    /// A SAML request waiting for this sign-in (`cookies::SAML`), to answer once it is done.
    pub saml_pending: Option<String>,
}

impl FromRequest<AppState> for BoundForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let lang = lang_for(state, &parts.headers, None);
        let bad = || error_page(&state.views, lang, PageKind::BadRequest, None);
        let Ok(Path(id)) = Path::<String>::from_request_parts(&mut parts, state).await else { return Err(bad()) };
        let headers = parts.headers.clone();
        let Ok(body) = Bytes::from_request(Request::from_parts(parts, body), state).await else { return Err(bad()) };
        // The interaction id in the path is read by the same rule as the fields.
        let form = form_fields(&headers, &body).and_then(|form| Ok(check_parameter("id", &id).map(|()| form)?));
        let form = form.map_err(|e| {
            if e.is_control_character() {
                error_page(&state.views, lang, PageKind::ControlCharacters, None)
            } else {
                bad()
            }
        })?;
        if !bound_to_browser(state, &headers, &id) {
            return Err(error_page(&state.views, lang, PageKind::Forbidden, None));
        }
        let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
        let saml_pending = cookies::get(&headers, cookies::SAML, state.web.secure_cookies);
        Ok(Self { id, lang, form, session, saml_pending })
    }
}

/// The interaction cookie must name the interaction in the URL.
pub(super) fn bound_to_browser(state: &AppState, headers: &HeaderMap, id: &str) -> bool {
    cookies::get(headers, cookies::INTERACTION, state.web.secure_cookies)
        .is_some_and(|c| crate::oidc::secure_eq(&c, id))
}

pub(super) fn interaction_failure(state: &AppState, lang: &str, e: &InteractionError) -> Response {
    match e {
        InteractionError::Expired => error_page(&state.views, lang, PageKind::Expired, None),
        InteractionError::Csrf => error_page(&state.views, lang, PageKind::Forbidden, None),
        InteractionError::Refused { pending, problem } => {
            refused(state, *problem, |status, key| render_interaction(state, lang, pending, status, Some(key)))
        }
        InteractionError::OAuth(e) => oauth_error_page(&state.views, lang, e),
    }
}

/// A refused sign-in step's page (`page` renders it with a status and a message key), with
/// `Retry-After` while the name or address is throttled (RFC 9110 §10.2.3).
pub(super) fn refused(
    state: &AppState,
    problem: SignInProblem,
    page: impl FnOnce(StatusCode, &str) -> Response,
) -> Response {
    let (status, key) = match problem {
        SignInProblem::InvalidCredentials => (StatusCode::UNAUTHORIZED, "error_invalid_credentials".to_owned()),
        SignInProblem::InvalidSecondFactor => (StatusCode::UNAUTHORIZED, "error_invalid_second_factor".to_owned()),
        SignInProblem::Passkey(problem) => (StatusCode::UNAUTHORIZED, format!("error_passkey_{}", problem.code())),
        SignInProblem::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "error_throttled".to_owned()),
        SignInProblem::Certificate(code) => (StatusCode::UNAUTHORIZED, format!("error_certificate_{code}")),
        SignInProblem::Signing("passphrase_missing") => {
            (StatusCode::BAD_REQUEST, "error_signing_passphrase_missing".to_owned())
        }
        SignInProblem::Signing(code) => (StatusCode::BAD_GATEWAY, format!("error_signing_{code}")),
        SignInProblem::DirectoryUnavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "error_directory_unavailable".to_owned())
        }
    };
    let mut response = page(status, &key);
    if let SignInProblem::Throttled { until } = problem {
        let wait = (until - state.oidc.now()).max(1);
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

/// Binds a page's interaction to this browser, for as long as the interaction lives: a form
/// posted to the interaction must carry this cookie (`BoundForm`).
pub(super) fn interaction_cookie(state: &AppState, id: &str) -> HeaderValue {
    cookies::set(cookies::INTERACTION, id, Some(state.sso.interactions.ttl()), state.web.secure_cookies)
}

/// Keeps the negotiated language for the form submissions that follow.
pub(super) fn locale_cookie(state: &AppState, lang: &str) -> HeaderValue {
    cookies::set(cookies::LOCALE, lang, Some(365 * 86400), state.web.secure_cookies)
}

pub(super) fn with_cookies(mut response: Response, values: impl IntoIterator<Item = HeaderValue>) -> Response {
    for v in values {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn login(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let (id, lang, form) = (&f.id, f.lang, &f.form);
    let (csrf, user, pass) =
        (form.get("csrf_token").unwrap_or(""), form.get("username").unwrap_or(""), form.get("password").unwrap_or(""));
    logged_in(&state, lang, state.oidc.submit_login(id, csrf, user, pass, ip.as_deref()).await)
}

/// The page or redirect for the next step of an interaction; a finished interaction's
/// cookie is cleared.
pub(super) fn render_outcome(state: &AppState, lang: &str, outcome: AuthorizeOutcome) -> Response {
    let clear = [cookies::clear(cookies::INTERACTION, state.web.secure_cookies)];
    match outcome {
        AuthorizeOutcome::Respond(r) => with_cookies(respond_to_client(state, lang, &r), clear),
        AuthorizeOutcome::Interact(p) => render_interaction(state, lang, &p, StatusCode::OK, None),
        AuthorizeOutcome::Denied { client_name, response, reason } => {
            with_cookies(render_denied(state, lang, client_name, &response, reason), clear)
        }
    }
}

async fn second_factor(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let lang = f.lang;
    let (csrf, code) = (f.form.get("csrf_token").unwrap_or(""), f.form.get("code").unwrap_or(""));
    let submitted = state.oidc.submit_second_factor(&f.id, csrf, code, f.session.as_deref(), ip.as_deref()).await;
    logged_in(&state, lang, submitted)
}

/// A certificate for level 4: the TLS client certificate of this request (Pintu's own
/// listener, or a trusted proxy's forwarded header).
async fn certificate_step_up(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    cert: ClientCertificate,
    f: BoundForm,
) -> Response {
    let csrf = f.form.get("csrf_token").unwrap_or("");
    let (presented, proof) = (cert.presented.as_ref(), cert.proof);
    let submitted =
        state.oidc.submit_certificate_step_up(&f.id, csrf, f.session.as_deref(), presented, proof, ip.as_deref()).await;
    logged_in(&state, f.lang, submitted)
}

/// A passphrase for a certificate held by the CA's signing service, for level 4.
async fn remote_certificate_step_up(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let csrf = f.form.get("csrf_token").unwrap_or("");
    let passphrase = f.form.get("passphrase").unwrap_or("");
    let submitted = state
        .oidc
        .submit_remote_certificate_step_up(&f.id, csrf, f.session.as_deref(), passphrase, ip.as_deref())
        .await;
    logged_in(&state, f.lang, submitted)
}

/// The next step after a login or step-up, with the session's (new) cookie.
pub(super) fn logged_in(
    state: &AppState,
    lang: &str,
    result: Result<(Option<String>, AuthorizeOutcome), InteractionError>,
) -> Response {
    match result {
        Ok((session, outcome)) => {
            let cookie = session.map(|s| cookies::set(cookies::SESSION, &s, None, state.web.secure_cookies));
            with_cookies(render_outcome(state, lang, outcome), cookie)
        }
        Err(e) => interaction_failure(state, lang, &e),
    }
}

async fn consent(State(state): State<AppState>, ClientIp(ip): ClientIp, f: BoundForm) -> Response {
    let lang = f.lang;
    let approve = f.form.get("decision") == Some("allow");
    let csrf = f.form.get("csrf_token").unwrap_or("");
    let passphrase = f.form.get("passphrase");
    let ip = ip.as_deref();
    match state.oidc.submit_consent(&f.id, csrf, approve, f.session.as_deref(), passphrase, ip).await {
        Ok(r) => with_cookies(
            respond_to_client(&state, lang, &r),
            [cookies::clear(cookies::INTERACTION, state.web.secure_cookies)],
        ),
        Err(e) => interaction_failure(&state, lang, &e),
    }
}
