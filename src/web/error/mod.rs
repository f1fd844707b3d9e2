//! The one place where errors become HTTP, one mapping per surface: OAuth JSON for the
//! token-style endpoints (RFC 6749 §5.2), with `WWW-Authenticate` on bearer-protected ones
//! (RFC 6750 §3) and on dynamic registration (RFC 7591 §3.2.2, RFC 7592); themed pages for
//! browser flows; RFC 9457 problem documents for the admin API (`problem.rs`). Causes are
//! logged with the request's span and never sent. Every error response is `no-store`.

mod problem;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::oidc::{ErrorCode, OAuthError};

use super::caching::no_store;
use super::views::{ErrorView, Views};

pub use problem::ApiError;

fn log_cause(error: &OAuthError) {
    if let Some(cause) = &error.cause {
        tracing::error!(code = error.code.as_str(), error = %cause, "request failed");
    }
}

fn json_body(error: &OAuthError) -> Json<serde_json::Value> {
    Json(json!({ "error": error.code.as_str(), "error_description": error.description }))
}

/// Adds an RFC 6750 §3 challenge: bare when the request had no token (§3.1), else with the
/// error code and, when given, its description (quotes and backslashes cannot appear in it).
fn with_bearer_challenge(mut response: Response, error: Option<(&str, Option<&str>)>) -> Response {
    let mut value = String::from("Bearer realm=\"pintu\"");
    if let Some((code, description)) = error {
        value.push_str(&format!(", error=\"{code}\""));
        if let Some(description) = description {
            value.push_str(&format!(", error_description=\"{}\"", description.replace(['"', '\\'], "'")));
        }
    }
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// RFC 6749 §5.2 error responses (token, introspection, revocation endpoints).
impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        log_cause(&self);
        let status = match self.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = no_store((status, json_body(&self)).into_response());
        if self.code == ErrorCode::InvalidClient && self.basic_auth_attempted {
            // §5.2: 401 with a WWW-Authenticate header matching the scheme the client used.
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"pintu\""));
        }
        response
    }
}

/// RFC 6750 §3 errors for bearer-protected resources (userinfo, registration management).
pub struct BearerError(pub OAuthError);

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let error = self.0;
        log_cause(&error);
        let status = match error.code {
            ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let response = no_store((status, json_body(&error)).into_response());
        if matches!(error.code, ErrorCode::InvalidToken | ErrorCode::InsufficientScope | ErrorCode::InvalidRequest) {
            with_bearer_challenge(response, Some((error.code.as_str(), Some(&error.description))))
        } else {
            response
        }
    }
}

/// RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
pub fn bearer_challenge() -> Response {
    with_bearer_challenge(no_store(StatusCode::UNAUTHORIZED.into_response()), None)
}

/// Dynamic registration: a missing or invalid initial or registration access token is an
/// RFC 6750 §3 error (RFC 7592 §2.1); every other error is JSON (RFC 7591 §3.2.2).
pub struct RegistrationError(pub OAuthError);

impl IntoResponse for RegistrationError {
    fn into_response(self) -> Response {
        match self.0.code {
            ErrorCode::InvalidToken => BearerError(self.0).into_response(),
            _ => self.0.into_response(),
        }
    }
}

/// Which page to show for a browser-facing failure.
#[derive(Debug, Clone, Copy)]
pub enum PageKind {
    BadRequest,
    Expired,
    Forbidden,
    NotFound,
    Server,
    /// An account page opened without an SSO session.
    SignInFirst,
    /// A form field held a control character its rule refuses (`domain::text`).
    ControlCharacters,
}

/// Renders a themed error page. `detail` is safe, client-caused text (never a cause).
pub fn error_page(views: &Views, lang: &str, kind: PageKind, detail: Option<String>) -> Response {
    let (status, key) = match kind {
        PageKind::BadRequest => (StatusCode::BAD_REQUEST, "error_bad_request"),
        PageKind::Expired => (StatusCode::BAD_REQUEST, "error_expired"),
        PageKind::Forbidden => (StatusCode::FORBIDDEN, "error_forbidden"),
        PageKind::NotFound => (StatusCode::NOT_FOUND, "error_not_found"),
        PageKind::Server => (StatusCode::INTERNAL_SERVER_ERROR, "error_server"),
        PageKind::SignInFirst => (StatusCode::UNAUTHORIZED, "error_account_login"),
        PageKind::ControlCharacters => (StatusCode::BAD_REQUEST, "error_control_characters"),
    };
    let view = ErrorView { title_key: "error_title".into(), message_key: key.into(), detail };
    page(views, status, "error.html", lang, &view)
}

/// The page for a protocol error that must not be redirected.
pub fn oauth_error_page(views: &Views, lang: &str, error: &OAuthError) -> Response {
    log_cause(error);
    if error.code == ErrorCode::ServerError {
        return error_page(views, lang, PageKind::Server, None);
    }
    error_page(views, lang, PageKind::BadRequest, Some(format!("{}: {}", error.code.as_str(), error.description)))
}

/// Renders a page with `no-store` (pages carry CSRF tokens); a template failure is logged and
/// becomes a plain 500.
pub fn page<V: serde::Serialize>(views: &Views, status: StatusCode, template: &str, lang: &str, view: &V) -> Response {
    match views.render(template, lang, view) {
        Ok(html) => no_store((status, Html(html)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, template, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
