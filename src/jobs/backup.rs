//! Scheduled backups: every `[backup] every_hours`, on exactly one node (the one that takes the
//! `backup` lease for that interval), an archive into `[backup] directory` (an external disk's
//! mount point), then the oldest beyond `keep` removed. A failure is logged and recorded, so
//! `/health` and `/metrics` show it on every node.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backup::{BackupError, BackupReport, Backups, TakeOptions, configured_protection, prune, scheduled_name};
use crate::clock::SharedClock;
use crate::config::BackupConfig;

/// How often each node looks whether a backup is due.
const LOOK_EVERY: Duration = Duration::from_secs(300);

pub fn spawn(
    backups: Backups,
    config: BackupConfig,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let node = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), LOOK_EVERY);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    tokio::select! {
                        _ = run_if_due(&backups, &config, &clock, &node) => {}
                        _ = shutdown.changed() => break,
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// Takes a backup when this node takes the lease; what it wrote, if it ran.
pub async fn run_if_due(
    backups: &Backups,
    config: &BackupConfig,
    clock: &SharedClock,
    node: &str,
) -> Option<Result<BackupReport, BackupError>> {
    let dir = config.directory.as_ref()?;
    let now = clock.now();
    if !super::my_turn(backups.store(), "backup", node, now, config.every).await {
        return None;
    }
    let dest = dir.join(scheduled_name(now));
    let protection = configured_protection(config).and_then(|p| {
        p.ok_or_else(|| BackupError::BadKey("[backup] has neither recipients nor passphrase_file".into()))
    });
    let result = match protection {
        // Gentle: the server goes on answering while its backup runs beside it.
        Ok(protection) => {
            let options = TakeOptions { include_kek: config.include_kek, gentle: true };
            backups.take(&dest, protection, options, "scheduled", now).await
        }
        Err(e) => {
            backups.record_failure(&dest, "scheduled", now, &e).await;
            Err(e)
        }
    };
    match &result {
        Ok(report) => {
            tracing::info!(path = %report.path.display(), bytes = report.bytes, rows = report.manifest.rows,
                seconds = report.seconds, "backup written");
            match prune(dir, config.keep as usize) {
                Ok(removed) if !removed.is_empty() => tracing::info!(?removed, "old backups removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot remove old backups"),
            }
        }
        Err(e) => tracing::error!(error = %e, dir = %dir.display(), "scheduled backup failed"),
    }
    Some(result)
}
