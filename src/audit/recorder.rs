//! Appends events to the chain. Administrative changes pass their transaction, so the change
//! and its event commit together. Protocol events (logins, tokens, logouts) go through one
//! writer task that commits whatever has queued up in one transaction (group commit) and then
//! answers every caller: a caller returns only once its event is durable, and under load many
//! events share one write instead of each taking the database's write lock on its own.

use tokio::sync::{mpsc, oneshot};

use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::storage::{NewAuditRow, StorageError, Store, Tx};

use super::{AuditAction, AuditError, AuditEvent, Outcome, chain_hash};

/// Events one transaction takes at most.
const BATCH: usize = 256;

struct Pending {
    row: NewAuditRow,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct AuditRecorder {
    store: Store,
    clock: SharedClock,
    queue: mpsc::Sender<Pending>,
    /// Sign-ins, step-ups and tokens are counted from the events that record them.
    metrics: Metrics,
}

impl AuditRecorder {
    /// Starts the writer task; it ends when the last recorder is dropped.
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self::with_metrics(store, clock, Metrics::new())
    }

    /// `new`, counting what the events record (and the writer's queue) in `metrics`.
    pub fn with_metrics(store: Store, clock: SharedClock, metrics: Metrics) -> Self {
        let (queue, rx) = mpsc::channel(4 * BATCH);
        tokio::spawn(writer(store.clone(), rx, metrics.clone()));
        Self { store, clock, queue, metrics }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Events waiting for the writer (read when metrics are scraped, so a stalled writer shows).
    pub fn pending(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// Appends one event; returns once it is committed.
    pub async fn record(&self, event: AuditEvent) -> Result<(), AuditError> {
        observe(&self.metrics, &event);
        let (done, committed) = oneshot::channel();
        let pending = Pending { row: event.into_row(self.clock.now()), done };
        self.queue.send(pending).await.map_err(|_| AuditError::WriterStopped)?;
        committed.await.map_err(|_| AuditError::WriterStopped)?.map_err(AuditError::Batch)
    }

    /// Appends events inside the caller's transaction.
    pub async fn record_in(&self, tx: &mut Tx, events: Vec<AuditEvent>) -> Result<(), StorageError> {
        let now = self.clock.now();
        let rows: Vec<_> = events.into_iter().map(|e| e.into_row(now)).collect();
        self.store.audit().append_in(tx, &rows, chain_hash).await?;
        Ok(())
    }

    /// Appends an event, logging instead of failing: for protocol paths where a lost audit
    /// write must not turn a completed login into an error page.
    pub async fn record_or_log(&self, event: AuditEvent) {
        let action = event.action;
        if let Err(error) = self.record(event).await {
            tracing::error!(%action, error = %error, "audit event could not be written");
        }
    }
}

/// Commits queued events in batches, in arrival order, and answers each caller.
/// What a protocol event tells the metrics: a sign-in step (its method, outcome and reason) or a
/// token response (its grant type).
fn observe(metrics: &Metrics, event: &AuditEvent) {
    let text = |key: &str| event.detail.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    match event.action {
        AuditAction::Login => {
            // The method the step added: the last one named, `mfa` and `user` aside (a TOTP
            // step-up records ["pwd", "otp", "mfa"]: an `otp` step).
            let amr = event.detail.get("amr").and_then(|a| a.as_array());
            let step =
                amr.and_then(|a| a.iter().rev().filter_map(|m| m.as_str()).find(|m| !matches!(*m, "mfa" | "user")));
            let success = event.outcome == Outcome::Success;
            let method = step.unwrap_or(if success { "pwd" } else { "passkey" });
            metrics.login(method, success, &text("reason"));
        }
        AuditAction::TokenIssued => metrics.token_issued(&text("grant_type")),
        _ => {}
    }
}

async fn writer(store: Store, mut rx: mpsc::Receiver<Pending>, metrics: Metrics) {
    // The head this task wrote last: the next batch's INSERT checks it is still the head
    // instead of reading it first (administrative changes may have appended meanwhile).
    let mut head: Option<(i64, String)> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        metrics.audit_batch(batch.len());
        let rows: Vec<NewAuditRow> = batch.iter().map(|p| p.row.clone()).collect();
        let appended = append(&store, &rows, head.as_ref()).await;
        head = appended.as_ref().ok().cloned();
        let result = appended.map(|_| ()).map_err(|e| format!("{e}: {}", source_of(&e)));
        for p in batch {
            let _ = p.done.send(result.clone());
        }
    }
}

async fn append(
    store: &Store,
    rows: &[NewAuditRow],
    head: Option<&(i64, String)>,
) -> Result<(i64, String), StorageError> {
    let mut tx = store.begin().await?;
    let head = store.audit().append_after(&mut tx, rows, chain_hash, head).await?;
    tx.commit().await?;
    Ok(head)
}

fn source_of(e: &StorageError) -> String {
    std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_default()
}
