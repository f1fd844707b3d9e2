//! Key rotation on schedule, and every node's keyring kept current: once a minute each node
//! runs a rotation pass (it publishes a next key when the active one is due, promotes a next key
//! published long enough, deletes retired keys no token needs) and reloads the keyring, so a
//! rotation made anywhere (another node, `pintu keys rotate`) is picked up within a minute,
//! without a restart. Several nodes running it at once is safe (`keys::rotation`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::{AdminChange, AuditEvent, AuditRecorder};
use crate::clock::SharedClock;
use crate::domain::ActorId;
use crate::keys::{Keyring, RotationPolicy, RotationStep};

/// How often each node looks.
const INTERVAL_SECS: u64 = 60;

pub fn spawn(
    keyring: Arc<Keyring>,
    policy: RotationPolicy,
    (clock, audit): (SharedClock, AuditRecorder),
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(INTERVAL_SECS));
        loop {
            tokio::select! {
                _ = ticker.tick() => match keyring.rotate(&policy, clock.now(), false).await {
                    Ok(steps) => record(&audit, &ActorId::scheduler(), &steps).await,
                    Err(e) => tracing::warn!(error = %e, "key rotation pass failed"),
                },
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// Audits what a rotation pass changed (waiting is no change).
pub async fn record(audit: &AuditRecorder, actor: &ActorId, steps: &[RotationStep]) {
    for step in steps.iter().filter(|s| !matches!(s, RotationStep::Waiting { .. })) {
        let target = match step {
            RotationStep::Published { kid, .. } | RotationStep::Promoted { kid, .. } => kid.as_str(),
            _ => "signing_keys",
        };
        let detail = serde_json::to_value(step).unwrap_or_default();
        audit.record_or_log(AuditEvent::admin(actor, AdminChange::KeyRotate, target, None, detail)).await;
    }
}
