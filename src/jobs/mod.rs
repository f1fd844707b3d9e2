//! Background jobs. Each is `spawn(…, shutdown)` and calls services only.

pub mod audit_checkpoints;
pub mod backup;
pub mod certificates;
pub mod changes;
pub mod cleanup;
pub mod keys;
pub mod ldap_sync;
pub mod logout;
pub mod mail;
pub mod periodic_reports;

use std::time::Duration;

use crate::storage::Store;

/// Whether this node (`node`) runs the periodic job `name` now: it takes the job's lease
/// (`job_leases`) for a little less than `every`, so with several nodes the job runs once per
/// interval, on whichever node asks first; a node that died leaves a lease that expires.
pub(crate) async fn my_turn(store: &Store, name: &str, node: &str, now: i64, every: Duration) -> bool {
    let until = now + (every.as_secs() as i64 - 5).max(1);
    match store.external_accounts().take_lease(name, node, now, until).await {
        Ok(taken) => taken,
        Err(e) => {
            tracing::warn!(job = name, error = %e, "cannot take the job's lease");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_periodic_job_runs_on_one_node_per_interval() {
        let path = std::env::temp_dir().join(format!("pintu-jobs-{}.db", uuid::Uuid::new_v4()));
        let store = Store::open(&format!("sqlite://{}", path.display())).await.unwrap();
        let every = Duration::from_secs(600);
        assert!(my_turn(&store, "cleanup", "node-a", 1000, every).await);
        assert!(!my_turn(&store, "cleanup", "node-b", 1001, every).await, "the other node skips");
        assert!(!my_turn(&store, "cleanup", "node-a", 1300, every).await, "and so does the first, until it expires");
        assert!(my_turn(&store, "report", "node-b", 1300, every).await, "each job has its own lease");
        assert!(my_turn(&store, "cleanup", "node-b", 1600, every).await, "the next interval: whoever asks first");
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
