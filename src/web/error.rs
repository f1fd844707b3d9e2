//! The one place where errors become HTTP. Causes are logged with the request's span and
//! never sent. Token-style endpoints answer JSON (RFC 6749 §5.2), bearer-protected ones add
//! `WWW-Authenticate` (RFC 6750 §3), browser flows get a themed page.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::oidc::{ErrorCode, OAuthError};

use super::views::{ErrorView, Views};

fn log_cause(error: &OAuthError) {
    if let Some(cause) = &error.cause {
        tracing::error!(code = error.code.as_str(), error = %cause, "request failed");
    }
}

fn json_body(error: &OAuthError) -> Json<serde_json::Value> {
    Json(json!({ "error": error.code.as_str(), "error_description": error.description }))
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
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
        let mut response = no_store((status, json_body(&error)).into_response());
        if matches!(error.code, ErrorCode::InvalidToken | ErrorCode::InsufficientScope | ErrorCode::InvalidRequest) {
            let description = error.description.replace(['"', '\\'], "'");
            let value = format!(
                "Bearer realm=\"pintu\", error=\"{}\", error_description=\"{description}\"",
                error.code.as_str()
            );
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }
}

/// RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
pub fn bearer_challenge() -> Response {
    let mut response = no_store(StatusCode::UNAUTHORIZED.into_response());
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"pintu\""));
    response
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
