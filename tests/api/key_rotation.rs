//! Rotating the signing keys: a next key is published before it signs, becomes the signing key
//! once its publication period has passed, and the key it replaces keeps verifying the tokens
//! it signed until they have expired; then it leaves the JWK Set.

use base64::Engine;
use pintu::keys::{RotationPolicy, RotationStep};
use serde_json::Value;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(
    a_rotation_publishes_first_then_signs_and_retires_the_old_key_after_its_tokens,
    a_rotation_falls_due_by_itself_and_other_nodes_pick_it_up,
    a_compromised_key_is_withdrawn_at_once_and_its_tokens_stop_working,
);

/// Access tokens live two hours here, so one signed before the rotation outlives the promotion.
const POLICY: RotationPolicy = RotationPolicy { rotate_after: None, publish_for: 3600, keep_retired_for: 7500 };

async fn kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.http.get(app.url("/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn exchange(app: &TestApp, client: &crate::support::TestClient) -> String {
    let code = app.code_for(&app.browser(), client, "budi", &[]).await;
    let form = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)];
    let (status, tokens) = app.token(client, &form).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn userinfo(app: &TestApp, token: &str) -> u16 {
    app.http.get(app.url("/oauth2/userinfo")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

async fn a_rotation_publishes_first_then_signs_and_retires_the_old_key_after_its_tokens(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oidc.access_token_ttl = 7200).await;
    let keyring = app.state.oidc.keyring().clone();
    let before = kids(&app).await;
    assert_eq!(before.len(), 3, "one key per algorithm");
    app.user("budi").await;
    let client = app.client().await;
    let old_token = exchange(&app, &client).await;
    let old_kid = kid_of(&old_token);

    let steps = keyring.rotate(&POLICY, app.now(), true).await.unwrap();
    let published: Vec<String> = steps
        .iter()
        .filter_map(|s| match s {
            RotationStep::Published { kid, .. } => Some(kid.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(published.len(), 3, "{steps:?}");
    let during = kids(&app).await;
    assert!(published.iter().all(|k| during.contains(k)), "the next keys are published before they sign");
    let token = keyring.sign(pintu::domain::SigningAlg::ES256, "JWT", &Default::default()).unwrap();
    assert_eq!(kid_of(&token), old_kid, "the active key still signs during publication");
    let again = keyring.rotate(&POLICY, app.now(), true).await.unwrap();
    let waiting = again.iter().filter(|s| matches!(s, RotationStep::Waiting { .. })).count();
    assert_eq!((waiting, again.len()), (3, 3), "a second start waits for the first: {again:?}");

    app.clock.advance(3600);
    let steps = keyring.rotate(&POLICY, app.now(), false).await.unwrap();
    assert_eq!(steps.iter().filter(|s| matches!(s, RotationStep::Promoted { .. })).count(), 3, "{steps:?}");
    let new_token = keyring.sign(pintu::domain::SigningAlg::ES256, "JWT", &Default::default()).unwrap();
    let new_kid = kid_of(&new_token);
    assert!(published.contains(&new_kid) && new_kid != old_kid, "the promoted key signs");
    assert!(kids(&app).await.contains(&old_kid), "the retired key stays published");
    assert_eq!(userinfo(&app, &old_token).await, 200, "a token of the retired key still verifies");
    assert!(keyring.verify(&old_token).is_ok());
    assert_eq!(kid_of(&exchange(&app, &client).await), new_kid, "tokens issued now carry the new key");

    app.clock.advance(7501);
    let steps = keyring.rotate(&POLICY, app.now(), false).await.unwrap();
    assert!(steps.contains(&RotationStep::Deleted { count: 3 }), "{steps:?}");
    let after = kids(&app).await;
    assert_eq!(after.len(), 3);
    assert!(!after.contains(&old_kid), "the retired key leaves once its tokens have expired");
    assert_eq!(userinfo(&app, &old_token).await, 401);
    assert!(keyring.verify(&old_token).is_err(), "its signatures no longer verify (expiry aside)");
}

/// A rotation starts by itself once the active key is `rotate_after` old, and a node whose
/// keyring did not make a change picks it up when it reloads.
async fn a_rotation_falls_due_by_itself_and_other_nodes_pick_it_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let keyring = app.state.oidc.keyring().clone();
    let policy = RotationPolicy { rotate_after: Some(86_400), ..POLICY };
    assert!(keyring.rotate(&policy, app.now(), false).await.unwrap().is_empty(), "a new key is not due");
    app.clock.advance(86_399);
    assert!(keyring.rotate(&policy, app.now(), false).await.unwrap().is_empty(), "nor a second before");
    app.clock.advance(1);
    let steps = keyring.rotate(&policy, app.now(), false).await.unwrap();
    assert_eq!(steps.iter().filter(|s| matches!(s, RotationStep::Published { .. })).count(), 3, "{steps:?}");

    // Another node promotes the next ES256 key: this node signs with it once it reloads.
    let old_kid = kid_of(&keyring.sign(pintu::domain::SigningAlg::ES256, "JWT", &Default::default()).unwrap());
    let next = app.state.store.signing_keys().list().await.unwrap();
    let next = next.iter().find(|k| k.alg == "ES256" && k.state == pintu::domain::KeyState::Next).unwrap();
    assert!(app.state.store.signing_keys().promote("ES256", &next.kid, app.now()).await.unwrap());
    let signed = || kid_of(&keyring.sign(pintu::domain::SigningAlg::ES256, "JWT", &Default::default()).unwrap());
    assert_eq!(signed(), old_kid, "not before the reload");
    assert!(keyring.reload().await.unwrap());
    assert_eq!(signed(), next.kid);
    assert!(!keyring.reload().await.unwrap(), "nothing changed since");
}

async fn a_compromised_key_is_withdrawn_at_once_and_its_tokens_stop_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let keyring = app.state.oidc.keyring().clone();
    app.user("budi").await;
    let client = app.client().await;
    let token = exchange(&app, &client).await;
    let compromised = kid_of(&token);
    assert_eq!(userinfo(&app, &token).await, 200);

    let step = keyring.revoke(&compromised, app.now()).await.unwrap();
    let RotationStep::Revoked { kid, replaced_by: Some(new), .. } = step else { panic!("{step:?}") };
    assert_eq!(kid, compromised);
    let published = kids(&app).await;
    assert!(!published.contains(&compromised) && published.contains(&new), "{published:?}");
    assert_eq!(userinfo(&app, &token).await, 401, "what the withdrawn key signed no longer verifies");
    let fresh = exchange(&app, &client).await;
    assert_eq!((kid_of(&fresh), userinfo(&app, &fresh).await), (new, 200), "the replacement signs at once");
    assert!(keyring.revoke("no-such-kid", app.now()).await.is_err());
    assert_eq!(kids(&app).await.len(), 3, "still one key per algorithm");
}
