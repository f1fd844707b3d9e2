//! Signing-key rows: the lifecycle state is stored as its name and read back typed.

use pintu::domain::KeyState;
use pintu::storage::{SigningKeyRow, StorageError, Store};

use super::{postgres, sqlite};

fn key(kid: &str, state: KeyState, created_at: i64) -> SigningKeyRow {
    SigningKeyRow {
        kid: kid.to_owned(),
        alg: "ES256".to_owned(),
        state,
        sealed_private: "sealed".to_owned(),
        public_jwk: "{}".to_owned(),
        created_at,
        retired_at: (state == KeyState::Retired).then_some(created_at + 1),
    }
}

async fn every_key_state_is_stored_and_read_back(store: Store) {
    let keys = store.signing_keys();
    for (i, state) in KeyState::ALL.into_iter().enumerate() {
        keys.insert(&key(state.as_str(), state, i as i64)).await.unwrap();
    }
    let read: Vec<(String, KeyState)> = keys.list().await.unwrap().into_iter().map(|k| (k.kid, k.state)).collect();
    let expected: Vec<(String, KeyState)> = KeyState::ALL.into_iter().map(|s| (s.as_str().to_owned(), s)).collect();
    assert_eq!(read, expected);
}

/// One next key per algorithm; a promotion retires the active key and activates the next one
/// together, or (the next key gone, promoted by another node) changes nothing.
async fn a_promotion_is_all_or_nothing_and_one_key_waits_per_algorithm(store: Store) {
    let keys = store.signing_keys();
    keys.insert(&key("old", KeyState::Active, 1)).await.unwrap();
    keys.insert(&key("new", KeyState::Next, 2)).await.unwrap();
    let second = keys.insert(&key("other", KeyState::Next, 3)).await;
    assert!(matches!(second, Err(StorageError::Conflict { .. })), "{second:?}");
    assert!(!keys.promote("ES256", "other", 10).await.unwrap(), "not a next key: nothing changes");
    let states =
        |rows: Vec<SigningKeyRow>| rows.into_iter().map(|k| (k.kid, k.state, k.retired_at)).collect::<Vec<_>>();
    let untouched = vec![("old".to_owned(), KeyState::Active, None), ("new".to_owned(), KeyState::Next, None)];
    assert_eq!(states(keys.list().await.unwrap()), untouched);
    assert!(keys.promote("ES256", "new", 10).await.unwrap());
    assert!(!keys.promote("ES256", "new", 11).await.unwrap(), "promoted by another node first: nothing changes");
    let promoted = vec![("old".to_owned(), KeyState::Retired, Some(10)), ("new".to_owned(), KeyState::Active, None)];
    assert_eq!(states(keys.list().await.unwrap()), promoted);
    assert_eq!(keys.delete_retired_before(10).await.unwrap(), 0, "retired at 10 is kept until after 10");
    assert_eq!(keys.delete_retired_before(11).await.unwrap(), 1);
}

conformance!(every_key_state_is_stored_and_read_back, a_promotion_is_all_or_nothing_and_one_key_waits_per_algorithm);
