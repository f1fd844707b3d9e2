//! The UserInfo endpoint (OIDC Core §5.3), protected by a bearer access token (RFC 6750).

use serde_json::{Map, Value};

use crate::domain::{Scope, UserId};

use super::claims::userinfo_claims;
use super::{OAuthError, OidcService};

impl OidcService {
    /// The claims of the person behind `access_token`.
    pub async fn userinfo(
        &self,
        access_token: &str,
        cert: Option<&crate::certificates::Presented>,
    ) -> Result<Map<String, Value>, OAuthError> {
        let token = self.verify_access_token(access_token).await?;
        // RFC 8705 §3: a certificate-bound token is accepted only with that certificate.
        token.check_binding(cert)?;
        let scope = Scope::parse(&token.scope).unwrap_or_default();
        // OIDC Core §5.3.1: the access token must have been granted the openid scope.
        if !scope.contains("openid") {
            return Err(OAuthError::insufficient_scope("the access token lacks the openid scope"));
        }
        let user = match self.store.users().find(&UserId::new(token.subject.clone())).await? {
            Some(user) if !user.disabled => user,
            _ => return Err(OAuthError::invalid_token("the account is no longer active")),
        };
        let requested = match &token.grant_id {
            Some(id) => {
                self.store.grants().find(&crate::domain::GrantId::new(id.clone())).await?.and_then(|g| g.claims)
            }
            None => None,
        };
        let requested: Option<Value> = requested.and_then(|c| serde_json::from_str(&c).ok());
        let mut claims = userinfo_claims(&user, &scope, requested.as_ref());
        if let Some(client) = self.client(&token.client_id).await? {
            claims.extend(self.directory.claims_for(&client, &user, &scope).await?);
        }
        Ok(claims)
    }
}
