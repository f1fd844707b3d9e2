//! `pintu keys rotate-kek`: everything sealed is re-sealed under a new key-encryption key while
//! the server runs; the running node, a node started afterwards and an interrupted rotation all
//! keep opening every value, and refresh tokens issued before keep working.

use pintu::directory::ProfilePatch;
use pintu::keys::{Sealer, rotate_kek};

use crate::backend_tests;
use crate::levels::{code_at, enrol, exchange};
use crate::support::browser::{form_in, location};
use crate::support::{Backend, PASSWORD, TestApp, scratch};

backend_tests!(the_kek_rotates_while_the_server_runs);

fn kid_of(sealed: &str) -> String {
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed.split('.').next().unwrap()).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    header["kid"].as_str().unwrap_or_default().to_owned()
}

async fn the_kek_rotates_while_the_server_runs(backend: Backend) {
    let keys_dir = scratch::path("pintu-keys", "");
    let (sealer, _) = Sealer::load_or_create(&keys_dir, None).unwrap();
    let old = sealer.kek_id();
    let url = backend.database_url().await;
    let app = TestApp::spawn_on_database("127.0.0.1", url.clone(), sealer).await;
    app.user("budi").await;
    let portal = app.client().await;
    let finance = app.client().await;
    app.set_profile(&finance.id, ProfilePatch { min_level: Some(2), ..Default::default() }).await;
    let browser = app.browser();
    let (secret, _) = enrol(&app, &browser, &portal, "budi").await;
    let code = app.code_for(&app.browser(), &portal, "budi", &[]).await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", &portal.redirect_uri)];
    let (_, tokens) = app.token(&portal, &form).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let saml_before = app.state.saml.keys().await.unwrap().remove(0).certificate_pem;

    // --prepare writes only the next KEK; everything still opens.
    let keyring = app.state.oidc.keyring();
    let prepared = rotate_kek(keyring, true).await.unwrap();
    assert!(prepared.prepared_only && prepared.kek != old && keys_dir.join("kek.next.key").exists());
    let rows = app.state.store.signing_keys().list().await.unwrap();
    assert!(rows.iter().all(|r| kid_of(&r.sealed_private) == old), "nothing re-sealed yet");

    let rotated = rotate_kek(keyring, false).await.unwrap();
    assert_eq!(rotated.kek, prepared.kek, "the prepared KEK is the one used");
    assert_eq!(rotated.resealed, rows.len() + 3, "signing keys, the TOTP seed, the refresh-token secret, the SAML key");
    assert!(!keys_dir.join("kek.next.key").exists());
    let retired = std::fs::read_to_string(keys_dir.join("kek.retired")).unwrap();
    assert_eq!(retired.lines().count(), 1);
    let rows = app.state.store.signing_keys().list().await.unwrap();
    assert!(rows.iter().all(|r| kid_of(&r.sealed_private) == rotated.kek), "every key re-sealed");
    let budi = app.state.store.users().resolve("budi").await.unwrap().unwrap();
    let totp = app.state.store.factors().find_totp(&budi).await.unwrap().unwrap();
    assert_eq!(kid_of(&totp.secret), rotated.kek);
    let saml = app.state.store.saml_keys().published().await.unwrap();
    assert!(saml.iter().all(|k| kid_of(&k.sealed_private) == rotated.kek), "the SAML key re-sealed");
    let saml_after = app.state.saml.keys().await.unwrap().remove(0);
    assert!(
        saml_after.private_pkcs8_pem.is_some() && saml_after.certificate_pem == saml_before,
        "the same key, opened"
    );

    // The running node: the refresh token issued before, the TOTP seed, new tokens.
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    let (status, body) = app.token(&portal, &form).await;
    assert_eq!(status, 200, "a refresh token from before the rotation still works: {body}");
    app.clock.advance(30);
    let other = app.browser();
    let (_, page, _) = other.get(&app.code_flow_url(&finance, &[])).await;
    let (_, page, _) = other.login(&page, "budi", PASSWORD).await;
    let form = form_in(&page).unwrap();
    let code = code_at(&secret, app.now());
    let (status, _, headers) = other.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
    assert_eq!(status, 303, "the re-sealed TOTP seed opens");
    exchange(&app, &finance, &location(&headers)).await;
    assert!(keyring.reload().await.is_ok(), "the keyring reloads the re-sealed keys");

    // A node started afterwards from the same keys directory.
    let (fresh, created) = Sealer::load_or_create(&keys_dir, None).unwrap();
    assert!(!created && fresh.kek_id() == rotated.kek);
    let second = TestApp::spawn_on_database("127.0.0.1", url, fresh).await;
    let refreshed = body["refresh_token"].as_str().unwrap();
    let (status, body) = second.token(&portal, &[("grant_type", "refresh_token"), ("refresh_token", refreshed)]).await;
    assert_eq!(status, 200, "{body}");
}

/// A KEK from the configuration is refused, with the reason.
#[tokio::test]
async fn a_configured_kek_is_not_rotated_here() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let err = rotate_kek(app.state.oidc.keyring(), false).await.unwrap_err();
    assert!(err.to_string().contains("comes from the configuration"), "{err}");
}
