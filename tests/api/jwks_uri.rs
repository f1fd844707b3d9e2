//! `jwks_uri` (RFC 7591 §2): applications that publish their keys instead of registering
//! them. A small key server on 127.0.0.1 plays the application; the tests allow loopback
//! fetches, which the default configuration refuses.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use serde_json::{Value, json};

use pintu::keys::{JwksUriCache, JwksUriError};

use crate::backend_tests;
use crate::registration::register;
use crate::support::{Backend, TestApp};

/// The application's key server: `/jwks` serves the current set and counts fetches.
#[derive(Clone, Default)]
struct KeyServer {
    keys: Arc<Mutex<Vec<Jwk>>>,
    fetches: Arc<AtomicUsize>,
    port: u16,
}

impl KeyServer {
    async fn start() -> KeyServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = KeyServer { port: listener.local_addr().unwrap().port(), ..Default::default() };
        let state = server.clone();
        let jwks = move || {
            let state = state.clone();
            async move {
                state.fetches.fetch_add(1, Ordering::SeqCst);
                let keys: Vec<Value> = state
                    .keys
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|k| Value::Object(k.to_public_key().unwrap().into()))
                    .collect();
                ([(header::CONTENT_TYPE, "application/jwk-set+json")], json!({ "keys": keys }).to_string())
            }
        };
        let router = axum::Router::new()
            .route("/jwks", get(jwks))
            .route("/moved", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/jwks")]).into_response() }))
            .route("/large", get(|| async { big_set() }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "{}"
                }),
            );
        tokio::spawn(async move { axum::serve(listener, router).await });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Publishes a new key `kid` (replacing the old ones) and returns its private half.
    fn rotate(&self, kid: &str) -> Jwk {
        let mut key = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
        key.set_key_id(kid);
        key.set_algorithm("ES256");
        *self.keys.lock().unwrap() = vec![key.clone()];
        key
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// A valid set padded beyond the 64 KiB default limit.
fn big_set() -> Response {
    let pad = "x".repeat(70 * 1024);
    ([(header::CONTENT_TYPE, "application/json")], json!({ "keys": [], "pad": pad }).to_string()).into_response()
}

fn assertion(key: &Jwk, client_id: &str, aud: &str, jti: &str, exp: i64) -> String {
    let mut header = JwsHeader::new();
    header.set_key_id(key.key_id().unwrap());
    header.set_token_type("JWT");
    let claims = json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": jti, "exp": exp, "iat": exp - 60});
    josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &ES256.signer_from_jwk(key).unwrap())
        .unwrap()
}

/// An app that may fetch from loopback (as a deployment whose applications live on its own
/// network would configure), with a short timeout for the slow-server case.
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.oidc.jwks_uri.allow_private_addresses = true;
        c.oidc.jwks_uri.timeout = Duration::from_secs(1);
    })
    .await
}

/// Registers a `private_key_jwt` client whose keys are at `jwks_uri`; returns its client_id.
async fn register_jwt_client(app: &TestApp, jwks_uri: &str) -> String {
    let token = app.initial_access_token().await;
    let body = json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks_uri});
    let (status, created) = register(app, Some(&token), &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["jwks_uri"], jwks_uri);
    created["client_id"].as_str().unwrap().to_owned()
}

/// Client credentials with a fresh assertion signed by `key`; answers the status.
async fn token_with(app: &TestApp, key: &Jwk, client_id: &str) -> u16 {
    let jti = uuid::Uuid::new_v4().to_string();
    let jwt = assertion(key, client_id, &app.url("/oauth2/token"), &jti, app.now() + 60);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", jwt.as_str()),
    ];
    app.post_form("/oauth2/token", &form, None).await.0
}

async fn private_key_jwt_uses_the_keys_at_the_jwks_uri_and_caches_them(backend: Backend) {
    let app = spawn(backend).await;
    let server = KeyServer::start().await;
    let k1 = server.rotate("k1");
    let client = register_jwt_client(&app, &server.url("/jwks")).await;
    assert_eq!(server.fetches(), 0, "keys are fetched when first needed");
    assert_eq!(token_with(&app, &k1, &client).await, 200);
    assert_eq!(token_with(&app, &k1, &client).await, 200);
    assert_eq!(server.fetches(), 1, "the set is cached");
    let stranger = server_key("k1");
    assert_eq!(token_with(&app, &stranger, &client).await, 401, "a key not in the set does not authenticate");
    app.clock.advance(301);
    assert_eq!(token_with(&app, &k1, &client).await, 200);
    assert_eq!(server.fetches(), 2, "fetched again after cache_secs");
}

async fn unknown_kid_refetches_the_set_at_most_once_per_interval(backend: Backend) {
    let app = spawn(backend).await;
    let server = KeyServer::start().await;
    let k1 = server.rotate("k1");
    let client = register_jwt_client(&app, &server.url("/jwks")).await;
    assert_eq!(token_with(&app, &k1, &client).await, 200);
    let k2 = server.rotate("k2");
    assert_eq!(token_with(&app, &k2, &client).await, 401, "fetched moments ago: not again yet");
    assert_eq!(server.fetches(), 1);
    app.clock.advance(pintu::keys::REFETCH_INTERVAL_SECS);
    assert_eq!(token_with(&app, &k2, &client).await, 200, "the rotated key is fetched on its unknown kid");
    assert_eq!(server.fetches(), 2);
    for kid in ["made-up-1", "made-up-2", "made-up-3"] {
        let forged = server_key(kid);
        assert_eq!(token_with(&app, &forged, &client).await, 401);
    }
    assert_eq!(server.fetches(), 2, "made-up kids cannot make Pintu hammer the application's server");
    assert_eq!(token_with(&app, &k2, &client).await, 200);
}

fn server_key(kid: &str) -> Jwk {
    let mut key = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    key.set_key_id(kid);
    key
}

async fn jwks_uri_fetch_follows_no_redirect_and_stops_at_size_and_time_limits(backend: Backend) {
    let app = spawn(backend).await;
    let server = KeyServer::start().await;
    let k1 = server.rotate("k1");
    for path in ["/moved", "/large", "/slow"] {
        let client = register_jwt_client(&app, &server.url(path)).await;
        let started = std::time::Instant::now();
        assert_eq!(token_with(&app, &k1, &client).await, 401, "{path}");
        assert!(started.elapsed() < Duration::from_secs(10), "{path} took {:?}", started.elapsed());
    }
    assert_eq!(server.fetches(), 0, "the redirect to /jwks was not followed");
    // The same fetches, asking the cache itself why they failed.
    let cache = JwksUriCache::new(app.state.oidc.config().jwks_uri.clone());
    let jwt = assertion(&k1, "c", "aud", "j", app.now() + 60);
    let moved = cache.verify(&server.url("/moved"), &jwt, 0).await;
    assert!(matches!(&moved, Err(JwksUriError::Unreachable(m)) if m.contains("302")), "{moved:?}");
    let large = cache.verify(&server.url("/large"), &jwt, 0).await;
    assert!(matches!(large, Err(JwksUriError::TooLarge(65536))), "{large:?}");
    let slow = cache.verify(&server.url("/slow"), &jwt, 0).await;
    assert!(matches!(slow, Err(JwksUriError::Timeout)), "{slow:?}");
    let again = cache.verify(&server.url("/slow"), &jwt, 1).await;
    assert!(matches!(again, Err(JwksUriError::RecentlyFailed)), "a failed fetch is not retried at once: {again:?}");
    assert_eq!(server.fetches(), 0);
}

async fn internal_addresses_are_refused_unless_configured(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = KeyServer::start().await;
    let k1 = server.rotate("k1");
    let token = app.initial_access_token().await;
    let body = json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": server.url("/jwks")});
    let (status, err) = register(&app, Some(&token), &body).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_client_metadata")), "{err}");
    // A host name is resolved when fetched; localhost leads to loopback, which is refused.
    let by_name = format!("http://localhost:{}/jwks", server.port);
    let client = register_jwt_client(&app, &by_name).await;
    assert_eq!(token_with(&app, &k1, &client).await, 401);
    assert_eq!(server.fetches(), 0, "nothing was fetched from loopback");
}

async fn jwks_uri_must_be_https_without_credentials(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oidc.jwks_uri.allow_http_loopback = false).await;
    let jwt_client = |uri: &str| json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri});
    for uri in [
        "http://simpeg.example.go.id/jwks",
        "http://127.0.0.1:9/jwks",
        "https://10.0.0.8/jwks",
        "https://[fd00::1]/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://user:pw@simpeg.example.go.id/jwks",
        "https://simpeg.example.go.id/jwks#k",
        "file:///etc/passwd",
        "https://simpeg.example.go.id/jw\nks",
    ] {
        let token = app.initial_access_token().await;
        let (status, err) = register(&app, Some(&token), &jwt_client(uri)).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_client_metadata")), "{uri:?}: {err}");
    }
    let token = app.initial_access_token().await;
    let (status, body) = register(&app, Some(&token), &jwt_client("https://simpeg.example.go.id/jwks")).await;
    assert_eq!(status, 201, "{body}");
}

backend_tests!(
    private_key_jwt_uses_the_keys_at_the_jwks_uri_and_caches_them,
    unknown_kid_refetches_the_set_at_most_once_per_interval,
    jwks_uri_fetch_follows_no_redirect_and_stops_at_size_and_time_limits,
    internal_addresses_are_refused_unless_configured,
    jwks_uri_must_be_https_without_credentials,
);
