//! An OpenID Connect authorization request after validation: everything later steps (login,
//! consent, code issuance) need, serialisable so a pending interaction (`sso`) can carry it
//! while the person signs in. Pure vocabulary, like `ClientMetadata`; `oidc::authorize`
//! produces it and resumes it.

use serde::{Deserialize, Serialize};

use super::{ClientId, Scope};

/// RFC 9396 authorization details types Pintu knows: the CSC v2 type for signing document
/// digests, and Pintu's own for approving a transaction without a document.
pub const CREDENTIAL_TYPE: &str = "credential";
pub const TRANSACTION_TYPE: &str = "urn:pintu:transaction";
pub const AUTHORIZATION_DETAILS_TYPES: &[&str] = &[CREDENTIAL_TYPE, TRANSACTION_TYPE];

/// OAuth 2.0 Multiple Response Types §2.1 and Form Post Response Mode §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A validated authorization request (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidRequest {
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    /// Granted-to-be scope, parsed once.
    pub scope: Scope,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `prompt` values: none, login, consent, select_account.
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// `sub` of a valid `id_token_hint`.
    pub id_token_hint_sub: Option<String>,
    pub ui_locales: Option<String>,
    /// Requested `acr_values`, recorded; enforced by security levels.
    pub acr_values: Option<String>,
    /// The OIDC `claims` request parameter (OIDC Core §5.5), as JSON.
    pub claims: Option<serde_json::Value>,
    /// RFC 9396 `authorization_details` as validated (a JSON array): what the person is asked
    /// to approve and sign. Only from a pushed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<serde_json::Value>,
}

impl ValidRequest {
    pub fn has_prompt(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }
}
