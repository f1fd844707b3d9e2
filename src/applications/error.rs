//! What can go wrong when an application is registered or changed, in this module's terms.
//! `oidc` turns these into RFC 7591 §3.2.2 / RFC 7592 errors; `web/admin_api` into problem
//! documents; the CLI prints them.

use std::borrow::Cow;

use crate::directory::DirectoryError;
use crate::domain::ClientAuthMethod;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// Unknown, or outside the actor's reach (the two are indistinguishable on purpose).
    #[error("application not found")]
    NotFound,
    /// RFC 7591 §3.2.2 `invalid_client_metadata`: a field breaks a rule.
    #[error("invalid client metadata: {0}")]
    InvalidMetadata(Cow<'static, str>),
    /// RFC 7591 §3.2.2 `invalid_redirect_uri`.
    #[error("invalid redirect URI: {0}")]
    InvalidRedirectUri(Cow<'static, str>),
    /// The chosen id or client_id belongs to another application.
    #[error("that client_id is taken")]
    IdTaken,
    /// RFC 7591 §3: the initial access token is unknown, expired or used (checked again in
    /// the transaction that would have used it up).
    #[error("the initial access token is invalid, used or expired")]
    InitialTokenUnusable,
    /// Only `client_secret_basic` and `client_secret_post` clients hold a secret.
    #[error("this application has no client secret: it authenticates with {}", method.as_str())]
    NoSecret { method: ClientAuthMethod },
    /// The operation is an OpenID Connect one and the application speaks another protocol.
    #[error("this application is not an OpenID Connect client")]
    NotOidc,
    /// The directory refused the change: reach, a profile field, a stale or missing version.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("storage failed")]
    Storage(#[source] StorageError),
}

impl ApplicationError {
    pub fn invalid_metadata(msg: impl Into<Cow<'static, str>>) -> Self {
        ApplicationError::InvalidMetadata(msg.into())
    }

    pub fn invalid_redirect_uri(msg: impl Into<Cow<'static, str>>) -> Self {
        ApplicationError::InvalidRedirectUri(msg.into())
    }
}

impl From<StorageError> for ApplicationError {
    fn from(e: StorageError) -> Self {
        ApplicationError::Storage(e)
    }
}
