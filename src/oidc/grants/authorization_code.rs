//! authorization_code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3, RFC 7636 §4.6).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::domain::grant::{CodeData, Consumed};
use crate::domain::{GrantId, GrantType, RelyingParty};

use super::TokenResponse;
use crate::oidc::tokens::{AccessTokenSpec, IdTokenSpec};
use crate::oidc::{OAuthError, OidcService, Params, secure_eq, token_hash};

impl OidcService {
    pub(super) async fn exchange_code(
        &self,
        client: &RelyingParty,
        params: &Params,
        binding: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let code = params.require("code")?;
        let now = self.now();
        let Some(grant) = code_grant(code) else {
            return Err(OAuthError::invalid_grant("the authorization code is invalid"));
        };
        // The refresh token is made first, so that consuming the code starts its family in
        // the same statement.
        let refresh = match client.allows_grant(GrantType::RefreshToken) {
            true => Some(self.next_refresh_token(&grant, 0)?),
            false => None,
        };
        let started = refresh.as_ref().map(|r| (r.hash.as_str(), r.expires_at));
        let hash = token_hash(code);
        let consumed = self.store.grants().consume_code((&grant, &hash, &client.client_id), started, now).await?;
        let consumable = match consumed {
            Consumed::Fresh(c) => c,
            Consumed::Replayed(grant) => {
                // RFC 6749 §4.1.2 / §10.5: a reused code revokes every token issued from it.
                self.store.grants().revoke(&grant, now).await?;
                tracing::warn!(client_id = %client.client_id, "authorization code replayed; grant revoked");
                return Err(OAuthError::invalid_grant("the authorization code was already used"));
            }
            Consumed::Unknown => {
                return Err(OAuthError::invalid_grant(
                    "the authorization code is invalid, expired, issued to another client, or its session has ended",
                ));
            }
        };
        let data = consumable.data;
        check_code(&data, params)?;
        // A signing grant is one transaction: no refresh token.
        let refresh = refresh.filter(|_| data.transaction_id.is_none()).map(|r| r.token);
        self.tokens_for_code(client, (&consumable.grant_id, binding), &data, refresh).await
    }

    pub(in crate::oidc) async fn tokens_for_code(
        &self,
        client: &RelyingParty,
        (grant_id, binding): (&GrantId, Option<&str>),
        data: &CodeData,
        refresh_token: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let user = match self.store.users().find(&data.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => return Err(OAuthError::invalid_grant("the account is no longer active")),
        };
        // RFC 9396: the transaction the person approved, as signed, and its receipt.
        let signed = match &data.transaction_id {
            Some(id) => {
                let signed = self.signing.transaction(id).await?;
                let signed = signed.filter(|t| t.status == "signed" && t.client_id == client.client_id.as_str());
                Some(signed.ok_or_else(|| OAuthError::invalid_grant("the signing transaction is gone"))?)
            }
            None => None,
        };
        let approved: Option<serde_json::Value> = signed.as_ref().and_then(|t| serde_json::from_str(&t.details).ok());
        let authorization_details =
            signed.as_ref().and_then(|t| t.result.as_deref()).and_then(|r| serde_json::from_str(r).ok());
        let receipt = signed.and_then(|t| t.receipt);
        let (access_token, expires_in) = self.mint_access_token(&AccessTokenSpec {
            client_id: &client.client_id,
            subject: user.id.as_str(),
            scope: &data.scope.to_string(),
            grant_id: Some(grant_id),
            authn: Some(&data.authn),
            cnf: binding,
            authorization_details: approved.as_ref(),
        })?;
        let scope = &data.scope;
        let id_token = if scope.contains("openid") {
            let mut extra = self.id_token_claims(&user, scope, data.id_token_claims.as_ref());
            extra.extend(self.id_token_directory_claims(client, &user, scope).await?);
            Some(self.mint_id_token(IdTokenSpec {
                client,
                subject: &user.id,
                authn: &data.authn,
                session_id: data.session_id.as_str(),
                nonce: data.nonce.as_deref(),
                access_token: Some(&access_token),
                extra,
            })?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token,
            id_token,
            scope: data.scope.to_string(),
            authorization_details,
            receipt,
            user: Some(user.id.clone()),
        })
    }
}

/// The grant a code names: codes are `<grant>.<random>` (see `issue_code`).
fn code_grant(code: &str) -> Option<GrantId> {
    let (grant, random) = code.split_once('.')?;
    let plausible = !grant.is_empty() && grant.len() <= 64 && !random.is_empty() && !random.contains('.');
    plausible.then(|| GrantId::new(grant))
}

/// The RFC 6749 §4.1.3 checks left after consuming the code (client, expiry, grant and session
/// were conditions of the consuming statement).
fn check_code(data: &CodeData, params: &Params) -> Result<(), OAuthError> {
    // §4.1.3: redirect_uri is required when it was in the authorization request (always, here).
    if params.get("redirect_uri") != Some(data.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    check_code_verifier(data.code_challenge.as_deref(), params.get("code_verifier"))
}

/// RFC 7636 §4.6, and RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
pub fn check_code_verifier(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant("code_verifier sent but no code_challenge was registered")),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required")),
        (Some(challenge), Some(verifier)) => {
            // RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if well_formed && secure_eq(&computed, challenge) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_example_verifier_matches_its_challenge() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_code_verifier(Some(challenge), Some(verifier)).is_ok());
        assert!(check_code_verifier(Some(challenge), Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx")).is_err());
    }

    #[test]
    fn a_code_names_its_grant() {
        assert_eq!(code_grant("g-1.abc"), Some(GrantId::new("g-1")));
        for bad in ["", "abc", ".abc", "g-1.", "g.a.b", &format!("{}.abc", "x".repeat(65))] {
            assert_eq!(code_grant(bad), None, "{bad}");
        }
    }

    #[test]
    fn verifier_without_challenge_is_refused() {
        assert!(check_code_verifier(None, Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).is_err());
        assert!(check_code_verifier(None, None).is_ok());
    }
}
