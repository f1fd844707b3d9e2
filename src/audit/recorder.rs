//! Appends events to the chain. Protocol events are written in their own short transaction;
//! administrative changes pass their transaction so the change and its event commit together.

use crate::clock::SharedClock;
use crate::storage::{Store, Tx};

use super::{AuditError, AuditEvent, chain_hash};

#[derive(Clone)]
pub struct AuditRecorder {
    store: Store,
    clock: SharedClock,
}

impl AuditRecorder {
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// Appends one event on its own.
    pub async fn record(&self, event: AuditEvent) -> Result<(), AuditError> {
        let mut tx = self.store.begin().await?;
        self.record_in(&mut tx, vec![event]).await?;
        tx.commit().await
    }

    /// Appends events inside the caller's transaction.
    pub async fn record_in(&self, tx: &mut Tx, events: Vec<AuditEvent>) -> Result<(), AuditError> {
        let now = self.clock.now();
        let rows: Vec<_> = events.into_iter().map(|e| e.into_row(now)).collect();
        self.store.audit().append_in(tx, &rows, chain_hash).await?;
        Ok(())
    }

    /// Appends an event, logging instead of failing: for protocol paths where a lost audit
    /// write must not turn a completed login into an error page.
    pub async fn record_or_log(&self, event: AuditEvent) {
        let action = event.action.clone();
        if let Err(error) = self.record(event).await {
            tracing::error!(%action, error = %error, "audit event could not be written");
        }
    }
}
