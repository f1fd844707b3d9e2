//! A short-lived, per-node cache of OIDC clients. Every token, introspection and revocation
//! request authenticates a client; reading it from the database each time was the largest
//! cost of the token endpoint after signing. Entries live `TTL_SECS`. Every change goes through
//! `ApplicationService`, which drops this node's entry when it commits and announces it: on
//! PostgreSQL every node drops its entry at once (`jobs/changes.rs`), the command line's
//! changes included; on SQLite another process's change is seen within `TTL_SECS`.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::domain::RelyingParty;

use super::{ApplicationError, ApplicationService};

/// How long another process's change to a client may go unseen here.
pub const TTL_SECS: i64 = 5;
/// Bound on entries, so unknown ids cannot grow memory without limit.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub(super) struct ClientCache {
    entries: RwLock<HashMap<String, (i64, RelyingParty)>>,
}

impl ClientCache {
    fn get(&self, client_id: &str, now: i64) -> Option<RelyingParty> {
        let entries = self.entries.read().ok()?;
        entries.get(client_id).filter(|(at, _)| now - at < TTL_SECS).map(|(_, c)| c.clone())
    }

    fn put(&self, client: &RelyingParty, now: i64) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(client.client_id.to_string(), (now, client.clone()));
        }
    }

    pub(super) fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    pub(super) fn invalidate(&self, client_id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(client_id);
        }
    }
}

impl ApplicationService {
    /// A registered OIDC client (disabled ones included; callers decide), through the cache:
    /// no database read while the entry is fresh.
    pub async fn client(&self, client_id: &str) -> Result<Option<RelyingParty>, ApplicationError> {
        let now = self.now();
        if let Some(client) = self.cache.get(client_id, now) {
            return Ok(Some(client));
        }
        let found = self.store.applications().find_by_client_id(client_id).await?;
        let client = found.and_then(|app| app.into_relying_party());
        if let Some(client) = &client {
            self.cache.put(client, now);
        }
        Ok(client)
    }
}
