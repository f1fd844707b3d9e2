//! Directory links, sync runs and job leases: written and read back the same on both backends.

use pintu::storage::{ExternalLink, StorageError, Store, SyncRun};

use super::{postgres, sqlite, user};

async fn links_runs_and_leases_read_back_as_written(store: Store) {
    let (ani, budi) = (user("ani"), user("budi"));
    store.users().insert(&ani).await.unwrap();
    store.users().insert(&budi).await.unwrap();
    let link = |u: &pintu::storage::NewUser, id: &str, dn: &str| ExternalLink {
        user_id: u.user.id.clone(),
        source: "ldap:kominfo".into(),
        external_id: id.into(),
        dn: dn.into(),
        synced_at: 4_000_000_000,
    };
    let mut tx = store.begin().await.unwrap();
    store.external_accounts().upsert_in(&mut tx, &link(&ani, "u-1", "uid=ani,dc=x")).await.unwrap();
    store.external_accounts().upsert_in(&mut tx, &link(&ani, "u-1", "uid=ani.w,dc=x")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let taken = store.external_accounts().upsert_in(&mut tx, &link(&budi, "u-1", "uid=budi,dc=x")).await;
    assert!(matches!(taken, Err(StorageError::Conflict { .. })), "one account per entry: {taken:?}");
    drop(tx);
    let links = store.external_accounts().links("ldap:kominfo").await.unwrap();
    assert_eq!(links, [link(&ani, "u-1", "uid=ani.w,dc=x")], "a re-link replaces the DN");
    assert_eq!(store.external_accounts().link_of(&budi.user.id).await.unwrap(), None);
    assert_eq!(store.external_accounts().count_links("ldap:kominfo").await.unwrap(), 1);
    assert_eq!(store.external_accounts().count_links("ldap:other").await.unwrap(), 0);

    let run = |id: &str, at: i64| SyncRun {
        id: id.into(),
        source: "ldap:kominfo".into(),
        started_at: at,
        finished_at: at + 1,
        outcome: "applied".into(),
        report: "{}".into(),
    };
    store.external_accounts().record_run(&run("a", 4_000_000_000), 0).await.unwrap();
    store.external_accounts().record_run(&run("b", 4_000_000_100), 4_000_000_050).await.unwrap();
    assert_eq!(store.external_accounts().latest_run("ldap:kominfo").await.unwrap(), Some(run("b", 4_000_000_100)));
    assert_eq!(store.external_accounts().latest_run("ldap:other").await.unwrap(), None);

    let leases = store.external_accounts();
    assert!(leases.take_lease("ldap-sync:kominfo", "node-1", 100, 160).await.unwrap());
    assert!(!leases.take_lease("ldap-sync:kominfo", "node-2", 120, 180).await.unwrap(), "held by node-1");
    assert!(!leases.take_lease("ldap-sync:kominfo", "node-1", 130, 190).await.unwrap(), "not again within the lease");
    assert!(leases.take_lease("ldap-sync:kominfo", "node-2", 160, 220).await.unwrap(), "expired: anyone");
}

conformance!(links_runs_and_leases_read_back_as_written);
