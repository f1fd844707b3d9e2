//! OpenID Connect Back-Channel Logout 1.0: a session that ends reaches every client it signed
//! in to that registered a `backchannel_logout_uri`, with a logout token signed by Pintu
//! (verified here with the JWKS, as an RP would), whether it ended by a logout or in bulk (an
//! administrator suspending the person); a client that refuses is retried later; one without
//! the URI is left alone; the registration rules and discovery.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::routing::post;
use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::RS256;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp, TestClient};

backend_tests!(a_session_that_ends_reaches_its_clients_back_channel);

/// The RPs' server on 127.0.0.1: `/bcl` takes every logout token; `/flaky` refuses until told.
#[derive(Clone, Default)]
struct Rp {
    received: Arc<Mutex<Vec<String>>>,
    flaky_ok: Arc<AtomicBool>,
}

async fn start_rp() -> (Rp, String) {
    let rp = Rp::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let token_of = |body: &str| {
        url::form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == "logout_token").map(|(_, v)| v.into_owned())
    };
    let (ok, flaky) = (rp.clone(), rp.clone());
    let router = axum::Router::new()
        .route(
            "/bcl",
            post(move |body: String| async move {
                ok.received.lock().unwrap().extend(token_of(&body));
                StatusCode::OK
            }),
        )
        .route(
            "/flaky",
            post(move |body: String| async move {
                if !flaky.flaky_ok.load(Ordering::SeqCst) {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                flaky.received.lock().unwrap().extend(token_of(&body));
                StatusCode::NO_CONTENT
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    (rp, base)
}

async fn client_with(app: &TestApp, name: &str, backchannel: Option<String>) -> TestClient {
    let mut metadata = json!({
        "client_name": name,
        "redirect_uris": [crate::support::REDIRECT_URI],
        "grant_types": ["authorization_code"],
    });
    if let Some(uri) = backchannel {
        metadata["backchannel_logout_uri"] = json!(uri);
        metadata["backchannel_logout_session_required"] = json!(true);
    }
    app.client_from(metadata, true).await
}

/// The logout token's header and claims, after its signature verified with Pintu's JWKS.
async fn verified(app: &TestApp, token: &str) -> (Value, Value) {
    let part = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    let jwks: Value = app.http.get(app.url("/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).expect("kid in JWKS");
    let verifier = RS256.verifier_from_jwk(&Jwk::from_map(key.as_object().unwrap().clone()).unwrap()).unwrap();
    let (payload, _) = josekit::jws::deserialize_compact(token, &verifier).expect("the signature verifies");
    (header, serde_json::from_slice(&payload).unwrap())
}

async fn a_session_that_ends_reaches_its_clients_back_channel(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oidc.jwks_uri.allow_private_addresses = true).await;
    app.user("budi").await;
    let (rp, base) = start_rp().await;
    let mail = client_with(&app, "Surel", Some(format!("{base}/bcl"))).await;
    let office = client_with(&app, "E-Office", Some(format!("{base}/flaky"))).await;
    let portal = client_with(&app, "Portal", None).await;

    // One session signs in to all three.
    let browser = app.browser();
    let code = app.code_for(&browser, &mail, "budi", &[("scope", "openid")]).await;
    let form = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &mail.redirect_uri)];
    let (status, tokens) = app.token(&mail, &form).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let (_, id_claims) = verified(&app, &id_token).await;
    let sid = id_claims["sid"].as_str().expect("sid in the ID token").to_owned();
    for client in [&office, &portal] {
        app.code_for(&browser, client, "budi", &[("scope", "openid")]).await;
    }

    // RP-initiated logout from the mail client ends the session for all of them.
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("id_token_hint", &id_token).finish();
    let (status, _, _) = browser.get(&app.url(&format!("/oauth2/logout?{query}"))).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    assert_eq!(app.state.oidc.deliver_logouts().await, 1, "the mail client accepts; the office refuses");

    let token = rp.received.lock().unwrap().first().cloned().expect("a logout token posted to /bcl");
    let (header, claims) = verified(&app, &token).await;
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some(app.issuer.as_str()), Some(mail.id.as_str())));
    assert_eq!((claims["sid"].as_str(), claims["sub"].as_str()), (Some(sid.as_str()), id_claims["sub"].as_str()));
    assert_eq!(claims["events"], json!({ "http://schemas.openid.net/event/backchannel-logout": {} }));
    assert!(claims.get("nonce").is_none() && claims["jti"].is_string());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);

    // The office refused: kept, and tried again after the pause; then it accepts.
    let row = "SELECT COUNT(*) FROM logout_deliveries WHERE status = 'pending' AND attempts = 1 \
               AND last_error LIKE '%500%'";
    assert_eq!(app.raw_count(row).await, 1);
    assert_eq!(app.state.oidc.deliver_logouts().await, 0, "not before its time");
    rp.flaky_ok.store(true, Ordering::SeqCst);
    app.clock.advance(31);
    assert_eq!(app.state.oidc.deliver_logouts().await, 1);
    assert_eq!(rp.received.lock().unwrap().len(), 2);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM logout_deliveries WHERE status = 'sent'").await, 2);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM logout_deliveries WHERE status = 'none'").await, 1, "the portal");
    assert_eq!(app.state.oidc.deliver_logouts().await, 0, "each told once");

    // A session ended in bulk (an administrator suspends the person) is told as well.
    let again = app.browser();
    app.code_for(&again, &mail, "budi", &[("scope", "openid")]).await;
    let suspended = pintu::domain::UserStatus::Suspended;
    app.state.directory.set_status(&pintu::directory::Actor::cli(), "budi", suspended).await.unwrap();
    assert_eq!(app.state.oidc.deliver_logouts().await, 1);
    assert_eq!(rp.received.lock().unwrap().len(), 3);

    // Discovery, and what a registration may not say.
    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["backchannel_logout_supported"], true);
    assert_eq!(discovery["backchannel_logout_session_supported"], true);
    assert_eq!(discovery["frontchannel_logout_supported"], true);
    for (field, uri, why) in [
        ("backchannel_logout_uri", "https://rp.example/bcl#x", "fragment"),
        ("backchannel_logout_uri", "http://rp.example/bcl", "https"),
        ("backchannel_logout_uri", "rp/bcl", "absolute"),
        ("frontchannel_logout_uri", "https://elsewhere.example/fcl", "redirect URI"),
    ] {
        let raw = json!({ "redirect_uris": [crate::support::REDIRECT_URI], field: uri });
        let raw: pintu::applications::RawMetadata = serde_json::from_value(raw).unwrap();
        let refused = pintu::applications::validate_metadata(raw).expect_err(uri).to_string();
        assert!(refused.contains(why), "{uri}: {refused}");
    }
}
