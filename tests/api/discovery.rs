//! Discovery, JWKS and operational endpoints.

use serde_json::Value;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

async fn get_json(app: &TestApp, path: &str) -> Value {
    app.http.get(app.url(path)).send().await.unwrap().json().await.unwrap()
}

async fn discovery_documents_describe_the_provider(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let oidc = get_json(&app, "/.well-known/openid-configuration").await;
    let oauth = get_json(&app, "/.well-known/oauth-authorization-server").await;
    assert_eq!(oidc, oauth);
    assert_eq!(oidc["issuer"], app.base.as_str());
    assert_eq!(oidc["token_endpoint"], app.url("/oauth2/token"));
    assert_eq!(oidc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(oidc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(oidc["request_parameter_supported"], false);
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(oidc["id_token_signing_alg_values_supported"], serde_json::json!(["ES256", "RS256", "EdDSA"]));
}

async fn jwks_publishes_one_key_per_algorithm_with_thumbprint_kids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app.http.get(app.url("/oauth2/jwks")).send().await.unwrap();
    assert_eq!(resp.headers().get("content-type").unwrap(), "application/jwk-set+json");
    let jwks: Value = resp.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort_unstable();
    assert_eq!(algs, vec!["ES256", "EdDSA", "RS256"]);
    for key in keys {
        assert!(key.get("d").is_none() && key.get("p").is_none(), "no private material");
        let kid = key["kid"].as_str().unwrap();
        assert_eq!(pintu::keys::jwk_thumbprint(key.as_object().unwrap()).as_deref(), Some(kid));
    }
}

/// A stored key whose state no build writes is a corrupt row, never taken for an active key.
async fn a_signing_key_in_an_unknown_state_is_refused_as_corrupt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert!(app.state.store.signing_keys().list().await.is_ok());
    app.raw_sql(
        "INSERT INTO signing_keys (kid, alg, state, sealed_private, public_jwk, created_at) \
         VALUES ('odd', 'ES256', 'rotating', 'x', '{}', 1)",
    )
    .await
    .unwrap();
    let refused = app.state.store.signing_keys().list().await.unwrap_err();
    assert!(
        matches!(&refused, pintu::storage::StorageError::Corrupt { table: "signing_keys", reason } if reason.contains("rotating")),
        "{refused:?}"
    );
}

async fn health_and_readiness_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().get("x-request-id").is_some());
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    app.state.store.close().await;
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 503);
}

async fn unknown_path_is_a_404_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.http.get(app.url("/nope")).send().await.unwrap().status(), 404);
}

backend_tests!(
    discovery_documents_describe_the_provider,
    jwks_publishes_one_key_per_algorithm_with_thumbprint_kids,
    a_signing_key_in_an_unknown_state_is_refused_as_corrupt,
    health_and_readiness_answer,
    unknown_path_is_a_404_page,
);
