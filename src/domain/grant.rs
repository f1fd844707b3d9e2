//! Grants and the artefacts issued under them: authorization codes and refresh tokens.
//!
//! A grant is one authorization a user (or, for client_credentials, nobody) gave one client.
//! Every code and refresh token belongs to one grant, so revoking the grant revokes the family
//! (RFC 6749 §10.5 code replay, RFC 9700 §4.14.2 refresh token reuse).

use serde::{Deserialize, Serialize};

use super::{AuthnContext, ClientId, GrantId, Scope, SessionId, UserId};

/// A grant as stored.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: GrantId,
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    pub session_id: Option<SessionId>,
    /// Granted scope.
    pub scope: Scope,
    /// The OIDC `claims` request (JSON), kept for the userinfo endpoint.
    pub claims: Option<String>,
    /// `offline_access` was granted: refresh tokens outlive the SSO session.
    pub offline: bool,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// What an authorization code stands for (OIDC Core §3.1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeData {
    pub client_id: ClientId,
    pub user_id: UserId,
    pub session_id: SessionId,
    pub redirect_uri: String,
    pub scope: Scope,
    pub nonce: Option<String>,
    /// RFC 7636 S256 challenge; `None` when the client sent none.
    pub code_challenge: Option<String>,
    pub authn: AuthnContext,
    /// Claims requested for the ID token via the `claims` parameter (JSON object).
    pub id_token_claims: Option<serde_json::Value>,
    /// The signing transaction the person approved for this code (RFC 9396).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

/// What a refresh token stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshData {
    pub client_id: ClientId,
    pub user_id: UserId,
    pub session_id: SessionId,
    pub scope: Scope,
    pub authn: AuthnContext,
}

/// A stored, hash-addressed artefact that can be consumed once.
#[derive(Debug, Clone)]
pub struct Consumable<T> {
    pub grant_id: GrantId,
    pub data: T,
    pub expires_at: i64,
}

/// The outcome of presenting a single-use artefact.
#[derive(Debug, Clone)]
pub enum Consumed<T> {
    /// First use: the caller now owns it.
    Fresh(Consumable<T>),
    /// It was used before: a replay. The caller must revoke the grant.
    Replayed(GrantId),
    /// Unknown value.
    Unknown,
}
