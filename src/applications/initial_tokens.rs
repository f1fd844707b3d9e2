//! RFC 7591 §3 initial access tokens: what an administrator hands out so that an application
//! may register itself. Single use, stored as SHA-256, used up by `create` in the transaction
//! that registers the application.

use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::authn::secret::{random_token, token_hash};
use crate::directory::{Actor, DirectoryError};

use super::{ApplicationError, ApplicationService};

/// The longest an initial access token may live: it is a standing permission to register.
const MAX_TTL_SECS: i64 = 90 * 86400;

impl ApplicationService {
    /// Issues an initial access token valid for `ttl` seconds; returned once. The office's.
    pub async fn issue_initial_access_token(
        &self,
        actor: &Actor,
        description: &str,
        ttl: i64,
    ) -> Result<String, ApplicationError> {
        self.directory.reach(actor).await?.require_office("issue initial access tokens")?;
        if !(1..=MAX_TTL_SECS).contains(&ttl) {
            let reason = format!("ttl_secs must be 1 to {MAX_TTL_SECS} seconds (90 days)");
            return Err(DirectoryError::invalid("ttl_secs", reason).into());
        }
        let token = random_token();
        let (now, expires_at) = (self.now(), self.now() + ttl);
        let detail = json!({ "description": description, "expires_at": expires_at });
        let event =
            AuditEvent::admin(&actor.id, AdminChange::RegistrationTokenCreate, "initial-access-token", None, detail);
        // The token and its audit event are written together, or neither is.
        let mut tx = self.store.begin().await?;
        self.store
            .initial_access_tokens()
            .insert_in(&mut tx, &token_hash(&token), description, (now, expires_at))
            .await?;
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Whether `token_hash` names a known, unexpired, unused initial access token. Nothing is
    /// written: the token is used up only with the application it registers.
    pub async fn initial_access_token_is_usable(&self, token_hash: &str) -> Result<bool, ApplicationError> {
        Ok(self.store.initial_access_tokens().is_usable(token_hash, self.now()).await?)
    }
}
