//! RFC 7591 §3 initial access tokens: what an administrator hands out so that an application
//! may register itself. Single use, stored as SHA-256, used up by `create` in the transaction
//! that registers the application.

use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::authn::secret::{random_token, token_hash};
use crate::directory::Actor;

use super::{ApplicationError, ApplicationService};

impl ApplicationService {
    /// Issues an initial access token valid for `ttl` seconds; returned once. The office's.
    pub async fn issue_initial_access_token(
        &self,
        actor: &Actor,
        description: &str,
        ttl: i64,
    ) -> Result<String, ApplicationError> {
        self.directory.reach(actor).await?.require_office("issue initial access tokens")?;
        let token = random_token();
        let now = self.now();
        self.store.initial_access_tokens().insert(&token_hash(&token), description, now, now + ttl).await?;
        let detail = json!({ "description": description, "expires_at": now + ttl });
        let event =
            AuditEvent::admin(&actor.id, AdminChange::RegistrationTokenCreate, "initial-access-token", None, detail);
        self.audit.record_or_log(event.from_ip(actor.source_ip.as_deref())).await;
        Ok(token)
    }

    /// Whether `token_hash` names a known, unexpired, unused initial access token. Nothing is
    /// written: the token is used up only with the application it registers.
    pub async fn initial_access_token_is_usable(&self, token_hash: &str) -> Result<bool, ApplicationError> {
        Ok(self.store.initial_access_tokens().is_usable(token_hash, self.now()).await?)
    }
}
