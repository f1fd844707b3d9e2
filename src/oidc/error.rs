//! Protocol errors as data (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6; RFC 6750 §3.1;
//! RFC 7591 §3.2.2). `web/error.rs` is the only place that turns them into HTTP.

use std::borrow::Cow;

use serde::Serialize;

/// The registered error codes Pintu emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
    InvalidScope,
    AccessDenied,
    ServerError,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    /// RFC 9101 §7, RFC 9126 §4: the `request_uri` is unknown, used, expired or another client's.
    InvalidRequestUri,
    /// OIDC Core §3.1.2.6, RFC 9101 §7: the request object is not signed by the client, or
    /// its claims do not hold.
    InvalidRequestObject,
    InvalidToken,
    InsufficientScope,
    InvalidRedirectUri,
    InvalidClientMetadata,
    /// OpenID Connect Core Unmet Authentication Requirements 1.0: the requested `acr`
    /// cannot be reached.
    UnmetAuthenticationRequirements,
    /// RFC 9396 §5: `authorization_details` malformed, of an unknown type, or of a type the
    /// client is not registered for.
    InvalidAuthorizationDetails,
    /// CIBA Core §13: the request's `login_hint` names nobody Pintu knows.
    UnknownUserId,
    /// CIBA Core §13: the binding message is too long or has characters a person cannot read.
    InvalidBindingMessage,
    /// CIBA Core §11: not decided yet.
    AuthorizationPending,
    /// CIBA Core §11: polled sooner than the interval.
    SlowDown,
    /// CIBA Core §11: the auth_req_id expired.
    ExpiredToken,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            ErrorCode::InvalidAuthorizationDetails => "invalid_authorization_details",
            ErrorCode::UnknownUserId => "unknown_user_id",
            ErrorCode::InvalidBindingMessage => "invalid_binding_message",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
        }
    }
}

/// An error the client may see. The internal cause is only logged.
#[derive(Debug, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    /// The client tried HTTP Basic authentication: a 401 must carry `WWW-Authenticate: Basic`.
    pub basic_auth_attempted: bool,
    #[source]
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

macro_rules! constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        $(
            pub fn $name(description: impl Into<Cow<'static, str>>) -> Self {
                Self::new(ErrorCode::$code, description)
            }
        )*
    };
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self { code, description: description.into(), basic_auth_attempted: false, cause: None }
    }

    constructors! {
        invalid_request => InvalidRequest,
        invalid_client => InvalidClient,
        invalid_grant => InvalidGrant,
        unauthorized_client => UnauthorizedClient,
        unsupported_grant_type => UnsupportedGrantType,
        unsupported_response_type => UnsupportedResponseType,
        invalid_scope => InvalidScope,
        access_denied => AccessDenied,
        login_required => LoginRequired,
        consent_required => ConsentRequired,
        invalid_token => InvalidToken,
        insufficient_scope => InsufficientScope,
        invalid_redirect_uri => InvalidRedirectUri,
        invalid_client_metadata => InvalidClientMetadata,
        interaction_required => InteractionRequired,
        unmet_authentication_requirements => UnmetAuthenticationRequirements,
    }

    /// An internal failure; `cause` is logged, never sent.
    pub fn server(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self { cause: Some(Box::new(cause)), ..Self::new(ErrorCode::ServerError, "internal error") }
    }
}

impl From<crate::storage::StorageError> for OAuthError {
    fn from(e: crate::storage::StorageError) -> Self {
        OAuthError::server(e)
    }
}

impl From<crate::keys::KeyError> for OAuthError {
    fn from(e: crate::keys::KeyError) -> Self {
        OAuthError::server(e)
    }
}

impl From<crate::directory::DirectoryError> for OAuthError {
    fn from(e: crate::directory::DirectoryError) -> Self {
        OAuthError::server(e)
    }
}
