//! Makes the monthly report by itself: once an hour one node (the one that takes the
//! `periodic-report` lease) checks whether last month's report exists and makes it if not
//! (stored once anyway: two nodes never make two).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::directory::{Actor, DirectoryError, DirectoryService, Month};
use crate::storage::Store;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(
    store: Store,
    directory: DirectoryService,
    utc_offset_hours: i32,
    clock: SharedClock,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let node = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), EVERY);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if !super::my_turn(&store, "periodic-report", &node, clock.now(), EVERY).await {
                        continue;
                    }
                    match make_due(&directory, &clock, utc_offset_hours).await {
                        Ok(Some(period)) => tracing::info!(%period, "monthly report made"),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "cannot make the monthly report"),
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// Makes last month's report if it does not exist yet; the month it made, if it made one.
pub async fn make_due(
    directory: &DirectoryService,
    clock: &SharedClock,
    utc_offset_hours: i32,
) -> Result<Option<String>, DirectoryError> {
    let month = Month::last_complete(clock.now() - crate::directory::SETTLE_SECS, utc_offset_hours);
    let (report, created) = directory.periodic_report_for(&Actor::scheduler(), month, utc_offset_hours).await?;
    Ok(created.then_some(report.period))
}
