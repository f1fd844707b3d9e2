//! SSO sessions: created at login, found from the browser's cookie, ended at logout. The
//! cookie holds 256 random bits; the database holds their SHA-256.

use crate::domain::{AuthnContext, SessionId, SsoSession, User};
use crate::storage::NewSession;

use super::{OAuthError, OidcService, random_token, token_hash};

impl OidcService {
    /// Starts a session for `user`; returns it and the cookie value.
    pub async fn create_session(&self, user: &User, authn: AuthnContext) -> Result<(SsoSession, String), OAuthError> {
        let now = self.now();
        let token = random_token();
        let session = NewSession {
            id: SessionId::generate(),
            token_hash: token_hash(&token),
            user_id: user.id.clone(),
            authn: authn.clone(),
            now,
            expires_at: now + self.config.session_ttl,
        };
        self.store.sessions().insert(&session).await?;
        let sso = SsoSession {
            id: session.id,
            user_id: user.id.clone(),
            authn,
            expires_at: session.expires_at,
            ended_at: None,
        };
        Ok((sso, token))
    }

    /// The live session behind a cookie value, if it is active and its user is enabled.
    pub async fn find_session(&self, cookie: Option<&str>) -> Result<Option<(SsoSession, User)>, OAuthError> {
        let Some(cookie) = cookie else { return Ok(None) };
        let Some(session) = self.store.sessions().find_by_token_hash(&token_hash(cookie)).await? else {
            return Ok(None);
        };
        if !session.is_active(self.now()) {
            return Ok(None);
        }
        match self.store.users().find(&session.user_id).await? {
            Some(user) if !user.disabled => Ok(Some((session, user))),
            _ => Ok(None),
        }
    }

    /// Ends a session and revokes the grants bound to it (all but `offline_access` ones).
    pub async fn end_session(&self, id: &SessionId) -> Result<(), OAuthError> {
        let now = self.now();
        self.store.sessions().end(id, now).await?;
        self.store.grants().revoke_for_session(id, now).await?;
        Ok(())
    }
}

impl OidcService {
    /// The password hasher at the configured cost (for accounts created by administrators).
    pub fn password_hasher(&self) -> crate::authn::PasswordHasherService {
        self.authn.hasher()
    }
}
