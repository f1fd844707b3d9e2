//! Checks bound electronic certificates every `[certificates] check_every_hours` (the first
//! five minutes after start), on one node per interval (the `certificates-check` lease):
//! expired bindings end, revocation is asked again, certificates about to expire are logged.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::certificates::Certificates;
use crate::clock::SharedClock;
use crate::storage::Store;

/// Certificates checked per pass (the least recently checked first).
const BATCH: i64 = 5000;

pub fn spawn(
    certificates: Certificates,
    store: Store,
    every: Duration,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let node = uuid::Uuid::new_v4().to_string();
    let notice_days = certificates.config().expiry_notice_days;
    tokio::spawn(async move {
        let first = tokio::time::Instant::now() + Duration::from_secs(300).min(every);
        let mut ticker = tokio::time::interval_at(first, every);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if !super::my_turn(&store, "certificates-check", &node, clock.now(), every).await {
                        continue;
                    }
                    match certificates.check_all(BATCH, notice_days).await {
                        Ok(s) => tracing::info!(
                            checked = s.checked, good = s.good, revoked = s.revoked, expired = s.expired,
                            unavailable = s.unavailable, invalid = s.invalid, expiring = s.expiring,
                            "electronic certificates checked"
                        ),
                        Err(e) => tracing::warn!(error = %e, "cannot check the electronic certificates"),
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}
