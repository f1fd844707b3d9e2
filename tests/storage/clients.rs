//! Clients and RFC 7591 initial access tokens.

use pintu::domain::{ClientId, ClientMetadata};
use pintu::storage::{NewClient, Store};

use super::{postgres, sqlite};

fn new_client() -> NewClient {
    NewClient {
        client_id: ClientId::generate(),
        secret_hash: None,
        metadata: ClientMetadata::default(),
        pre_approved: false,
        registration_token_hash: Some(uuid::Uuid::new_v4().to_string()),
        now: 10,
    }
}

async fn an_initial_access_token_is_used_up_only_with_the_client_it_creates(store: Store) {
    let clients = store.clients();
    clients.insert_initial_access_token("iat", "test", 1, 100).await.unwrap();
    assert!(clients.initial_access_token_is_usable("iat", 10).await.unwrap());
    assert!(clients.initial_access_token_is_usable("iat", 10).await.unwrap(), "checking writes nothing");
    assert!(!clients.initial_access_token_is_usable("iat", 100).await.unwrap(), "expired");
    assert!(!clients.initial_access_token_is_usable("unknown", 10).await.unwrap());

    let first = new_client();
    assert!(clients.insert_with_initial_access_token(&first, "iat").await.unwrap());
    assert!(clients.find(first.client_id.as_str()).await.unwrap().is_some());
    assert!(!clients.initial_access_token_is_usable("iat", 11).await.unwrap(), "used by the client");

    let second = new_client();
    assert!(!clients.insert_with_initial_access_token(&second, "iat").await.unwrap(), "single use");
    assert!(clients.find(second.client_id.as_str()).await.unwrap().is_none(), "nothing written");

    // A client that cannot be written (its id is taken) leaves the token unused.
    clients.insert_initial_access_token("iat-2", "test", 1, 100).await.unwrap();
    let taken = NewClient { client_id: first.client_id.clone(), ..new_client() };
    assert!(clients.insert_with_initial_access_token(&taken, "iat-2").await.is_err());
    assert!(clients.initial_access_token_is_usable("iat-2", 12).await.unwrap());
}

conformance!(an_initial_access_token_is_used_up_only_with_the_client_it_creates);
