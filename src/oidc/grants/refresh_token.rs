//! refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
//! every use returns a new refresh token; presenting a rotated one revokes the whole family.

use crate::domain::grant::Consumed;
use crate::domain::{RelyingParty, Scope};

use super::TokenResponse;
use crate::oidc::tokens::{AccessTokenSpec, IdTokenSpec};
use crate::oidc::{OAuthError, OidcService, Params};

impl OidcService {
    pub(super) async fn refresh(&self, client: &RelyingParty, params: &Params) -> Result<TokenResponse, OAuthError> {
        let presented = params.require("refresh_token")?;
        let now = self.now();
        let Some(p) = self.refresh_family(presented) else {
            return Err(OAuthError::invalid_grant("the refresh token is invalid"));
        };
        // The next token is made first, so rotation is one statement.
        let next = self.next_refresh_token(&p.grant, p.generation + 1)?;
        let presented = (&p.grant, p.generation, p.hash.as_str());
        let rotated = self.store.grants().rotate_refresh(presented, &next.hash, next.expires_at, now).await?;
        let consumable = match rotated {
            Consumed::Fresh(c) => c,
            Consumed::Replayed(grant) => {
                self.store.grants().revoke(&grant, now).await?;
                tracing::warn!(client_id = %client.client_id, "rotated refresh token reused; family revoked");
                return Err(OAuthError::invalid_grant("the refresh token was already used"));
            }
            Consumed::Unknown => return Err(OAuthError::invalid_grant("the refresh token is invalid or expired")),
        };
        let (data, state) = consumable.data;
        if data.client_id != client.client_id {
            return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
        }
        // The consuming statement also told us: grant revoked? offline? session alive? account enabled?
        if state.grant_revoked {
            return Err(OAuthError::invalid_grant("the refresh token was revoked"));
        }
        // Without offline_access the token lives only as long as the SSO session.
        if !state.offline && !state.session_active {
            self.store.grants().revoke(&consumable.grant_id, now).await?;
            return Err(OAuthError::invalid_grant("the session of this refresh token has ended"));
        }
        if !state.user_active {
            return Err(OAuthError::invalid_grant("the account is no longer active"));
        }
        let scope = narrowed_scope(&data.scope, params.get("scope"))?;
        let (access_token, expires_in) = self.mint_access_token(&AccessTokenSpec {
            client_id: &client.client_id,
            subject: data.user_id.as_str(),
            scope: &scope.to_string(),
            grant_id: Some(&consumable.grant_id),
            authn: Some(&data.authn),
        })?;
        // OIDC Core §12.2: a new ID token keeps auth_time, carries no nonce.
        let id_token = if scope.contains("openid") {
            // Directory claims need the account; applications that receive none skip the read.
            let extra = match client.profile.released_claims.is_empty() {
                true => serde_json::Map::new(),
                false => match self.store.users().find(&data.user_id).await? {
                    Some(user) => self.id_token_directory_claims(client, &user, &scope).await?,
                    None => return Err(OAuthError::invalid_grant("the account is no longer active")),
                },
            };
            Some(self.mint_id_token(IdTokenSpec {
                client,
                subject: &data.user_id,
                authn: &data.authn,
                session_id: data.session_id.as_str(),
                nonce: None,
                access_token: Some(&access_token),
                extra,
            })?)
        } else {
            None
        };
        // The family keeps its original scope, so a narrowed request does not shrink later ones.
        let refresh_token = next.token;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token: Some(refresh_token),
            id_token,
            scope: scope.to_string(),
            user: Some(data.user_id.clone()),
        })
    }
}

/// RFC 6749 §6: a requested scope must not exceed the original grant.
fn narrowed_scope(original: &str, requested: Option<&str>) -> Result<Scope, OAuthError> {
    let original = Scope::parse(original).unwrap_or_default();
    let Some(requested) = requested else { return Ok(original) };
    let requested = Scope::parse(requested).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if requested.is_subset_of(&original) {
        Ok(requested)
    } else {
        Err(OAuthError::invalid_scope("the requested scope exceeds the original grant"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_scope_may_narrow_but_not_widen() {
        assert_eq!(narrowed_scope("openid email", Some("openid")).unwrap().to_string(), "openid");
        assert!(narrowed_scope("openid", Some("openid email")).is_err());
        assert_eq!(narrowed_scope("openid email", None).unwrap().to_string(), "email openid");
    }
}
