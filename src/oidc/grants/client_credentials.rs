//! client_credentials grant (RFC 6749 §4.4): confidential clients acting for themselves.

use crate::domain::{RelyingParty, Scope};

use super::TokenResponse;
use crate::oidc::tokens::AccessTokenSpec;
use crate::oidc::{OAuthError, OidcService, Params};

/// Scopes that only make sense with a person behind the token.
const USER_SCOPES: &[&str] = &["openid", "profile", "email", "phone", "offline_access"];

impl OidcService {
    pub(super) fn client_credentials(
        &self,
        client: &RelyingParty,
        params: &Params,
        binding: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
        if client.is_public() {
            return Err(OAuthError::unauthorized_client("public clients cannot use client_credentials"));
        }
        let requested = match params.get("scope") {
            Some(s) => Scope::parse(s).map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
            None => Scope::default(),
        };
        if let Some(bad) = requested.iter().find(|s| USER_SCOPES.contains(s)) {
            return Err(OAuthError::invalid_scope(format!(
                "scope {bad} needs a user; not available to client_credentials"
            )));
        }
        if !requested.is_subset_of(&client.allowed_scope()) {
            return Err(OAuthError::invalid_scope("this application may not request that scope"));
        }
        let scope = requested.to_string();
        let (access_token, expires_in) = self.mint_access_token(&AccessTokenSpec {
            client_id: &client.client_id,
            subject: client.client_id.as_str(),
            scope: &scope,
            grant_id: None,
            authn: None,
            cnf: binding,
            authorization_details: None,
        })?;
        // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token: None,
            id_token: None,
            scope,
            authorization_details: None,
            receipt: None,
            user: None,
        })
    }
}
