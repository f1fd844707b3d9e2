//! The admin API's errors as RFC 9457 problem details. Causes of server errors are logged,
//! not sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::applications::ApplicationError;
use crate::directory::DirectoryError;
use crate::oidc::{ErrorCode, OAuthError};
use crate::web::caching::no_store;

use super::with_bearer_challenge;

#[derive(Debug)]
pub enum ApiError {
    /// No bearer token (RFC 6750 §3.1).
    Unauthenticated,
    /// The token is invalid, or lacks admin authority.
    Token(OAuthError),
    Directory(DirectoryError),
    Application(ApplicationError),
    UnsupportedMediaType(&'static str),
    TooLarge,
    Certificate(crate::certificates::CertProblem),
}

impl From<crate::certificates::CertProblem> for ApiError {
    fn from(e: crate::certificates::CertProblem) -> Self {
        ApiError::Certificate(e)
    }
}

impl ApiError {
    /// A body that could not be read: too large (413) or broken (400).
    pub fn from_body(rejection: axum::extract::rejection::BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::Directory(DirectoryError::invalid("body", rejection.body_text()))
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        ApiError::Directory(e)
    }
}

impl From<crate::federation::ldap::LdapError> for ApiError {
    fn from(e: crate::federation::ldap::LdapError) -> Self {
        use crate::federation::ldap::LdapError;
        ApiError::Directory(match e {
            LdapError::UnknownDirectory(_) => DirectoryError::NotFound("LDAP directory"),
            LdapError::Directory(e) => e,
            LdapError::Storage(e) => DirectoryError::Storage(e),
            other => DirectoryError::Unavailable(other.to_string()),
        })
    }
}

impl From<ApplicationError> for ApiError {
    fn from(e: ApplicationError) -> Self {
        match e {
            ApplicationError::Directory(e) => ApiError::Directory(e),
            other => ApiError::Application(other),
        }
    }
}

fn problem(status: StatusCode, kind: &str, detail: &str, extra: Option<(&str, serde_json::Value)>) -> Response {
    let mut body = json!({
        "type": if kind == "about:blank" { kind.to_owned() } else { format!("urn:pintu:problem:{kind}") },
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some((key, value)), Some(obj)) = (extra, body.as_object_mut()) {
        obj.insert(key.to_owned(), value);
    }
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    no_store(response)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthenticated => with_bearer_challenge(
                problem(StatusCode::UNAUTHORIZED, "about:blank", "a bearer access token is required", None),
                None,
            ),
            ApiError::Token(e) => token_problem(e),
            ApiError::Directory(e) => directory_problem(e),
            ApiError::Application(e) => application_problem(e),
            ApiError::UnsupportedMediaType(expected) => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "about:blank",
                &format!("the body must be {expected}"),
                None,
            ),
            ApiError::TooLarge => problem(StatusCode::PAYLOAD_TOO_LARGE, "about:blank", "the body is too large", None),
            ApiError::Certificate(e) => certificate_problem(e),
        }
    }
}

fn token_problem(e: OAuthError) -> Response {
    if let Some(cause) = &e.cause {
        tracing::error!(error = %cause, "admin API authentication failed");
    }
    let (status, code) = match e.code {
        ErrorCode::InsufficientScope => (StatusCode::FORBIDDEN, "insufficient_scope"),
        ErrorCode::ServerError => {
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "about:blank", "internal error", None);
        }
        _ => (StatusCode::UNAUTHORIZED, "invalid_token"),
    };
    with_bearer_challenge(problem(status, "about:blank", &e.description, None), Some((code, None)))
}

fn directory_problem(e: DirectoryError) -> Response {
    match e {
        DirectoryError::NotFound(what) => {
            problem(StatusCode::NOT_FOUND, "about:blank", &format!("{what} not found"), None)
        }
        DirectoryError::Forbidden(why) => problem(StatusCode::FORBIDDEN, "forbidden", &why, None),
        DirectoryError::Invalid(errors) => {
            let detail = errors.iter().map(|f| format!("{}: {}", f.field, f.reason)).collect::<Vec<_>>().join("; ");
            problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", &detail, Some(("errors", json!(errors))))
        }
        DirectoryError::Conflict(what) => problem(StatusCode::CONFLICT, "conflict", &what, None),
        DirectoryError::PreconditionRequired => problem(
            StatusCode::PRECONDITION_REQUIRED,
            "about:blank",
            "send If-Match with the ETag of the current representation",
            None,
        ),
        DirectoryError::PreconditionFailed => problem(
            StatusCode::PRECONDITION_FAILED,
            "about:blank",
            "the resource changed since you read it; read it again and reapply your change",
            None,
        ),
        DirectoryError::Unavailable(why) => {
            tracing::warn!(reason = %why, "admin API request refused as busy");
            problem(StatusCode::SERVICE_UNAVAILABLE, "about:blank", "busy; try again shortly", None)
        }
        DirectoryError::Storage(cause) => {
            tracing::error!(error = %cause, "admin API storage failure");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "about:blank", "internal error", None)
        }
    }
}

/// A refused certificate: 422 with `urn:pintu:problem:certificate-<code>`; a certificate that
/// is not the person's: 404; one already bound elsewhere: 409.
fn certificate_problem(e: crate::certificates::CertProblem) -> Response {
    use crate::certificates::CertProblem;
    let detail = e.to_string();
    match e {
        CertProblem::NotBound => problem(StatusCode::NOT_FOUND, "about:blank", "certificate not found", None),
        CertProblem::AlreadyBound => problem(StatusCode::CONFLICT, "conflict", &detail, None),
        CertProblem::Disabled => problem(StatusCode::CONFLICT, "certificates-disabled", &detail, None),
        CertProblem::Storage(cause) => {
            tracing::error!(error = %cause, "admin API storage failure");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "about:blank", "internal error", None)
        }
        CertProblem::Internal(cause) => {
            tracing::error!(error = %cause, "certificate check failed");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "about:blank", "internal error", None)
        }
        other => {
            let kind = format!("certificate-{}", other.code().replace('_', "-"));
            problem(StatusCode::UNPROCESSABLE_ENTITY, &kind, &detail, None)
        }
    }
}

fn application_problem(e: ApplicationError) -> Response {
    let invalid = |field: &str, reason: &str| {
        let errors = json!([{ "field": field, "reason": reason }]);
        problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            &format!("{field}: {reason}"),
            Some(("errors", errors)),
        )
    };
    match e {
        ApplicationError::NotFound => problem(StatusCode::NOT_FOUND, "about:blank", "application not found", None),
        ApplicationError::InvalidMetadata(reason) => invalid("metadata", &reason),
        ApplicationError::InvalidRedirectUri(reason) => invalid("redirect_uris", &reason),
        ApplicationError::InitialTokenUnusable => invalid("initial_access_token", &e.to_string()),
        ApplicationError::IdTaken => problem(StatusCode::CONFLICT, "conflict", &e.to_string(), None),
        // The application exists but has nothing to rotate: its state, not the request, is why.
        ApplicationError::NoSecret { .. } => problem(StatusCode::CONFLICT, "no-client-secret", &e.to_string(), None),
        ApplicationError::NotOidc => problem(StatusCode::CONFLICT, "not-oidc", &e.to_string(), None),
        ApplicationError::Directory(e) => directory_problem(e),
        ApplicationError::Storage(cause) => {
            tracing::error!(error = %cause, "admin API storage failure");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "about:blank", "internal error", None)
        }
    }
}
