//! The periodic LDAP sync: each directory with a `sync_interval_minutes` is synced (applied)
//! once per interval by exactly one node. A node runs a directory's sync only while it holds
//! that directory's lease (`job_leases`), taken for one interval, so nodes sharing PostgreSQL
//! do not sync the same directory twice. A failed run is recorded and audited by the sync
//! itself, and logged here.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::directory::Actor;
use crate::federation::ldap::{LdapFederation, SyncMode};

/// How often each node looks whether a sync is due.
const TICK: Duration = Duration::from_secs(30);

pub fn spawn(federation: LdapFederation, clock: SharedClock, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let node = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let scheduled = federation.scheduled();
        if scheduled.is_empty() {
            return;
        }
        let mut ticker = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    for (name, interval) in &scheduled {
                        // A shutdown does not wait for a sync: its transaction is dropped unapplied.
                        tokio::select! {
                            _ = run_if_due(&federation, &clock, &node, name, *interval) => {}
                            _ = shutdown.changed() => return,
                        }
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// Syncs `name` when this node (`node`) takes its lease: the lease lasts one interval, so the
/// next run (on whichever node) comes an interval later. Whether this node ran it.
pub async fn run_if_due(
    federation: &LdapFederation,
    clock: &SharedClock,
    node: &str,
    name: &str,
    interval: Duration,
) -> bool {
    let now = clock.now();
    let lease = format!("ldap-sync:{name}");
    match federation.take_lease(&lease, node, now, now + interval.as_secs() as i64).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            tracing::warn!(directory = %name, error = %e, "cannot take the LDAP sync lease");
            return false;
        }
    }
    match federation.sync(&Actor::scheduler(), name, SyncMode::Apply).await {
        Ok(run) if run.outcome == "applied" => {
            let report = run.report.unwrap_or_default();
            tracing::info!(directory = %name, created = report.created, updated = report.updated,
                retired = report.retired, problems = report.problems.len(), "LDAP sync applied");
        }
        Ok(run) => {
            tracing::warn!(directory = %name, outcome = %run.outcome, error = ?run.error, "LDAP sync not applied")
        }
        Err(e) => tracing::warn!(directory = %name, error = %e, "LDAP sync failed"),
    }
    true
}
