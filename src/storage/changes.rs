//! Telling every node that something it caches changed: PostgreSQL `NOTIFY` on the channel
//! `pintu_changes`, heard by each node's listener (`jobs/changes.rs`), which drops its cached
//! client or reloads its keyring at once instead of waiting for the cache's time to live.
//! SQLite serves one node: there announcing does nothing (another process, the command line,
//! is seen when the cache's entry expires).

use sqlx::postgres::PgListener;

use super::{Db, StorageError};

const CHANNEL: &str = "pintu_changes";

/// Something nodes cache, changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An OIDC client (its registration, secret, profile or state).
    Client(String),
    /// The signing keys (a rotation, a revocation) or the KEK.
    Keys,
}

impl Change {
    fn payload(&self) -> String {
        match self {
            Change::Client(id) => format!("client:{id}"),
            Change::Keys => "keys".to_owned(),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':') {
            Some(("client", id)) => Some(Change::Client(id.to_owned())),
            None if payload == "keys" => Some(Change::Keys),
            _ => None,
        }
    }
}

/// What a listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Change(Change),
    /// The connection was lost and made again: notifications in between are lost, so drop
    /// everything cached.
    Reconnected,
}

/// One node's subscription to the changes.
pub struct ChangeListener(PgListener);

impl ChangeListener {
    /// The next change (unknown payloads are skipped).
    pub async fn next(&mut self) -> Result<Heard, StorageError> {
        loop {
            match self.0.try_recv().await? {
                None => return Ok(Heard::Reconnected),
                Some(n) => {
                    if let Some(change) = Change::parse(n.payload()) {
                        return Ok(Heard::Change(change));
                    }
                }
            }
        }
    }
}

impl Db {
    /// Tells every node (PostgreSQL) that `change` happened; after the change committed.
    pub async fn announce(&self, change: &Change) -> Result<(), StorageError> {
        if let Db::Postgres(pool) = self {
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(change.payload()).execute(pool).await?;
        }
        Ok(())
    }

    /// Subscribes to the changes (PostgreSQL); `None` on SQLite.
    pub async fn listen(&self) -> Result<Option<ChangeListener>, StorageError> {
        let Db::Postgres(pool) = self else { return Ok(None) };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(ChangeListener(listener)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_unknown_ones_are_ignored() {
        for change in [Change::Client("portal".into()), Change::Keys] {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change::parse("client:a:b"), Some(Change::Client("a:b".into())));
        assert_eq!(Change::parse("something-else"), None);
    }
}
