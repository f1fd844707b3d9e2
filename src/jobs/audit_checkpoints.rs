//! Signs the audit chain's head every `[audit] checkpoint_minutes` (the first a minute after
//! start), on one node per interval (the one that takes the `audit-checkpoint` lease). A
//! checkpoint is stored once per event anyway, and an idle chain gets no new checkpoint.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AuditCheckpoints;
use crate::clock::SharedClock;

pub fn spawn(
    checkpoints: AuditCheckpoints,
    every: Duration,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let node = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let first = tokio::time::Instant::now() + Duration::from_secs(60).min(every);
        let mut ticker = tokio::time::interval_at(first, every);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if !super::my_turn(&checkpoints.store, "audit-checkpoint", &node, clock.now(), every).await {
                        continue;
                    }
                    match checkpoints.make(clock.now()).await {
                        Ok(Some(c)) => tracing::info!(seq = c.seq, "audit checkpoint signed"),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "cannot sign an audit checkpoint"),
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}
