//! The audit trail: every login, token issuance, logout, session revocation and administrative
//! change becomes an event in an append-only, hash-chained log (ARCHITECTURE.md §6). Events
//! never carry secrets: no passwords, tokens, codes or NIKs.
//!
//! `action.rs` names the kinds of events, `event.rs` builds events, `recorder.rs` appends them
//! (alone, or inside the caller's transaction so an admin change and its event commit
//! together), `verify.rs` walks the chain.

mod action;
mod event;
mod recorder;
mod verify;

pub use action::{AdminChange, AuditAction, CertificateEvent, SigningEvent};
pub use event::{AuditEvent, Outcome, chain_hash};
pub use recorder::AuditRecorder;
pub use verify::{ChainProblem, VerifyReport};

/// Why an event could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit storage failed")]
    Storage(#[from] crate::storage::StorageError),
    /// The writer task is gone (the runtime is shutting down).
    #[error("the audit writer has stopped")]
    WriterStopped,
    /// The batch this event was in could not be committed.
    #[error("the audit batch failed: {0}")]
    Batch(String),
}
