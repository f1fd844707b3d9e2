//! Signing-key rows: the lifecycle state is stored as its name and read back typed.

use pintu::domain::KeyState;
use pintu::storage::{SigningKeyRow, Store};

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

conformance!(every_key_state_is_stored_and_read_back);
