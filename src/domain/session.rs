//! The SSO session: one browser login that serves every application until it ends.

use serde::{Deserialize, Serialize};

use super::{SecurityLevel, SessionId, UserId};

/// How and when a person authenticated (OIDC Core §2: `auth_time`, `acr`, `amr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthnContext {
    /// Unix seconds of the last active authentication.
    pub auth_time: i64,
    pub level: SecurityLevel,
    /// RFC 8176 method references, e.g. `pwd`.
    pub amr: Vec<String>,
}

impl AuthnContext {
    pub fn password(auth_time: i64) -> Self {
        Self { auth_time, level: SecurityLevel::Password, amr: vec!["pwd".to_owned()] }
    }

    /// The same authentication, at no more than `ceiling` (a person's own cap: a passkey used
    /// by someone capped at level 2 gives a level-2 session).
    pub fn capped(mut self, ceiling: SecurityLevel) -> Self {
        self.level = self.level.min(ceiling);
        self
    }

    /// Password plus a second factor `method` (RFC 8176: `otp`), completed at `auth_time`.
    pub fn second_factor(auth_time: i64, method: &str) -> Self {
        let amr = vec!["pwd".to_owned(), method.to_owned(), "mfa".to_owned()];
        Self { auth_time, level: SecurityLevel::SecondFactor, amr }
    }
}

/// A live SSO session as stored (the cookie only holds a random token whose hash is kept).
#[derive(Debug, Clone)]
pub struct SsoSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub authn: AuthnContext,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

impl SsoSession {
    /// A session is usable until it expires or the user logs out.
    pub fn is_active(&self, now: i64) -> bool {
        self.ended_at.is_none() && now < self.expires_at
    }
}
