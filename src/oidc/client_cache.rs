//! A short-lived, per-node cache of registered clients. Every token, introspection and
//! revocation request authenticates a client; reading it from the database each time was the
//! largest cost of the token endpoint after signing. Entries live `TTL_SECS`; this node drops
//! an entry at once when it changes the client, other nodes see a change within `TTL_SECS`.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::domain::RelyingParty;

use super::{OAuthError, OidcService};

/// How long another node's change to a client may go unseen here.
pub const TTL_SECS: i64 = 5;
/// Bound on entries, so unknown ids cannot grow memory without limit.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub struct ClientCache {
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

    pub fn invalidate(&self, client_id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(client_id);
        }
    }
}

impl OidcService {
    /// A registered client (disabled ones included; callers decide), through the cache.
    pub(crate) async fn client(&self, client_id: &str) -> Result<Option<RelyingParty>, OAuthError> {
        let now = self.now();
        if let Some(client) = self.clients.get(client_id, now) {
            return Ok(Some(client));
        }
        let found = self.store.clients().find(client_id).await?;
        if let Some(client) = &found {
            self.clients.put(client, now);
        }
        Ok(found)
    }
}
