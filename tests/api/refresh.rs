//! The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

use serde_json::Value;

use crate::backend_tests;
use crate::support::{Backend, TestApp, TestClient};
use crate::token::{VERIFIER, code_with_pkce, error, exchange};

/// Presents `token` at the token endpoint as a refresh token.
async fn refresh(app: &TestApp, client: &TestClient, token: &str) -> (u16, Value) {
    app.token(client, &[("grant_type", "refresh_token"), ("refresh_token", token)]).await
}

async fn refresh_token_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (_, tokens) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(&app, &client, &first).await;
    assert_eq!(status, 200, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second_refresh);
    assert!(second["id_token"].is_string());
    let (status, narrowed) = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", &second_refresh), ("scope", "openid")])
        .await;
    assert_eq!((status, narrowed["scope"].as_str()), (200, Some("openid")));
    let third_refresh = narrowed["refresh_token"].as_str().unwrap().to_owned();
    // Knowing the family (access tokens name their grant) is not knowing a token of it: a
    // made-up secret is refused without harming the family.
    let family = third_refresh.split_once('.').unwrap().0;
    for forged in [format!("{family}.dibuat-buat"), format!("{family}.0.acak.tanda-palsu")] {
        let (status, body) = refresh(&app, &client, &forged).await;
        assert_eq!((status, error(&body)), (400, "invalid_grant"));
    }
    let (status, fourth) = refresh(&app, &client, &third_refresh).await;
    assert_eq!(status, 200, "{fourth}");
    let fourth_refresh = fourth["refresh_token"].as_str().unwrap().to_owned();
    // An attacker replays the first (rotated three times since) token: the whole family dies.
    let (status, body) = refresh(&app, &client, &first).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let (status, body) = refresh(&app, &client, &fourth_refresh).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "the legitimate latest token is revoked too");
    let (status, body) = refresh(&app, &client, "made-up").await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
}

/// A thief who rotates a stolen token many times cannot outrun reuse detection: the client's
/// next refresh, with its own (now old) token, still revokes the family.
async fn reuse_is_detected_however_many_rotations_later(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (_, tokens) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    let clients_own = tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut thief = clients_own.clone();
    for _ in 0..20 {
        let (status, body) = refresh(&app, &client, &thief).await;
        assert_eq!(status, 200, "{body}");
        thief = body["refresh_token"].as_str().unwrap().to_owned();
    }
    let (status, body) = refresh(&app, &client, &clients_own).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let (status, body) = refresh(&app, &client, &thief).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "the thief's newest token is revoked with the family");
}

async fn refresh_scope_cannot_widen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (_, tokens) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid phone")])
        .await;
    assert_eq!((status, error(&body)), (400, "invalid_scope"));
}

backend_tests!(
    refresh_token_rotates_and_reuse_revokes_the_family,
    reuse_is_detected_however_many_rotations_later,
    refresh_scope_cannot_widen,
);
