//! Walks the chain from the first event and reports every break: a hash that does not match
//! the event's content, a `prev_hash` that does not match the previous event, or a gap in the
//! sequence (a deleted event).

use serde::Serialize;

use crate::storage::{AUDIT_GENESIS, Store};

use crate::storage::StorageError;

use super::chain_hash;

/// One place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub seq: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    /// The last event's sequence number and hash: record it elsewhere to detect truncation.
    pub head_seq: i64,
    pub head_hash: String,
    pub problems: Vec<ChainProblem>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

const PAGE: i64 = 5_000;

/// Verifies the whole chain, `PAGE` events at a time.
pub async fn verify(store: &Store) -> Result<VerifyReport, StorageError> {
    let mut report = VerifyReport { events: 0, head_seq: 0, head_hash: AUDIT_GENESIS.to_owned(), problems: Vec::new() };
    loop {
        let page = store.audit().page(report.head_seq, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in page {
            let mut reasons = Vec::new();
            if row.seq != report.head_seq + 1 {
                reasons.push("sequence gap: an event before this one was deleted");
            }
            if row.prev_hash != report.head_hash {
                reasons.push("prev_hash does not match the previous event");
            }
            if chain_hash(&row.prev_hash, row.seq, &row.event) != row.hash {
                reasons.push("hash does not match the event's content: the event was edited");
            }
            report.problems.extend(reasons.into_iter().map(|r| ChainProblem { seq: row.seq, reason: r.into() }));
            report.events += 1;
            report.head_seq = row.seq;
            report.head_hash = row.hash;
        }
    }
    Ok(report)
}

impl super::AuditRecorder {
    /// See [`verify`].
    pub async fn verify(&self) -> Result<VerifyReport, StorageError> {
        verify(self.store()).await
    }
}
