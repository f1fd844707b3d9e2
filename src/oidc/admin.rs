//! Bearer tokens for the admin API: a Pintu access token with the `pintu.admin` scope,
//! issued to an admin-capable application (RFC 6750; RFC 9068 tokens verified as usual).

use crate::directory::Actor;
use crate::domain::application::ADMIN_SCOPE;
use crate::domain::{Scope, UserId};

use super::{OAuthError, OidcService};

impl OidcService {
    /// The administrator behind `token`, or `invalid_token` / `insufficient_scope`.
    /// `cert` is the request's TLS client certificate, for certificate-bound tokens (RFC 8705).
    pub async fn admin_actor(
        &self,
        token: &str,
        cert: Option<&crate::certificates::Presented>,
        source_ip: Option<String>,
    ) -> Result<Actor, OAuthError> {
        let claims = self.verify_access_token(token).await?;
        claims.check_binding(cert)?;
        if !Scope::parse(&claims.scope).unwrap_or_default().contains(ADMIN_SCOPE) {
            return Err(OAuthError::insufficient_scope("the access token lacks the pintu.admin scope"));
        }
        let client =
            self.client(&claims.client_id).await?.ok_or_else(|| OAuthError::invalid_token("unknown client"))?;
        // Client-credentials tokens carry no grant; tokens issued to a person do.
        let user = claims.grant_id.as_ref().map(|_| UserId::new(claims.subject.clone()));
        let actor =
            self.directory.actor_for_token(&client, user.as_ref(), source_ip).await.map_err(OAuthError::server)?;
        actor.ok_or_else(|| OAuthError::insufficient_scope("this token does not carry administrator rights"))
    }
}
