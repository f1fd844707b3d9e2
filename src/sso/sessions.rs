//! SSO sessions: one per signed-in browser, whatever protocol the applications speak. Created
//! at sign-in, found from the browser's cookie, raised by a step-up, ended at logout. The
//! cookie holds 256 random bits; the database holds their SHA-256.

use crate::authn::secret::{random_token, token_hash};
use crate::clock::SharedClock;
use crate::domain::{AuthnContext, SessionId, SsoSession, User};
use crate::storage::{NewSession, StorageError, Store};

/// Starts, finds, raises and ends SSO sessions. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    clock: SharedClock,
    /// How long a session lasts from sign-in (seconds).
    ttl: i64,
    /// Woken when a session ends here, so its applications hear of it at once (the notices
    /// are queued in the database either way).
    ended: std::sync::Arc<tokio::sync::Notify>,
}

impl Sessions {
    pub fn new(store: Store, clock: SharedClock, ttl: i64) -> Self {
        Self { store, clock, ttl, ended: Default::default() }
    }

    /// What wakes when a session ends through `end`.
    pub fn ended_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.ended.clone()
    }

    /// Starts a session for `user`; returns it and the cookie value.
    pub async fn create(&self, user: &User, authn: AuthnContext) -> Result<(SsoSession, String), StorageError> {
        let now = self.clock.now();
        let token = random_token();
        let session = NewSession {
            id: SessionId::generate(),
            token_hash: token_hash(&token),
            user_id: user.id.clone(),
            authn: authn.clone(),
            now,
            expires_at: now + self.ttl,
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
    pub async fn find(&self, cookie: Option<&str>) -> Result<Option<(SsoSession, User)>, StorageError> {
        let Some(cookie) = cookie else { return Ok(None) };
        let Some(session) = self.store.sessions().find_by_token_hash(&token_hash(cookie)).await? else {
            return Ok(None);
        };
        if !session.is_active(self.clock.now()) {
            return Ok(None);
        }
        match self.store.users().find(&session.user_id).await? {
            Some(user) if !user.disabled => Ok(Some((session, user))),
            _ => Ok(None),
        }
    }

    /// Records a step-up: the session's level, methods and `auth_time` become `authn`, under a
    /// new cookie token (returned), so a cookie seen before the step-up does not carry it.
    pub async fn raise(&self, session: &SsoSession, authn: &AuthnContext) -> Result<String, StorageError> {
        let cookie = random_token();
        self.store.sessions().set_authn(&session.id, authn, &token_hash(&cookie)).await?;
        Ok(cookie)
    }

    /// Ends a session and revokes what applications were given under it (all but
    /// `offline_access` grants).
    pub async fn end(&self, id: &SessionId) -> Result<(), StorageError> {
        self.store.end_session(id, self.clock.now()).await?;
        self.ended.notify_one();
        Ok(())
    }
}
