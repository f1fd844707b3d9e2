//! Applications through the application service: secret rotation (admin API), and the
//! per-node client cache dropping an application the moment the service changes it (disabled,
//! secret rotated, RFC 7592 update), without waiting for its 5 seconds.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::registration::register;
use crate::support::{Backend, TestApp, TestClient};

backend_tests!(
    rotated_secret_replaces_the_old_one_at_once,
    only_the_office_or_the_owning_opd_rotates_a_secret,
    a_disabled_application_is_refused_at_once,
    registration_update_goes_through_the_service_and_is_audited_once,
    an_initial_access_token_needs_a_bounded_lifetime,
);

/// A lifetime of zero, or one that would overflow the expiry, is refused with a field error
/// instead of panicking or storing a token that is born expired.
async fn an_initial_access_token_needs_a_bounded_lifetime(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let office = pintu::directory::Actor::cli();
    for ttl in [0, -5, i64::MAX] {
        let refused = app.state.applications.issue_initial_access_token(&office, "x", ttl).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("invalid input")), "ttl {ttl}");
    }
    let token = app.state.applications.issue_initial_access_token(&office, "x", 3600).await.unwrap();
    assert!(!token.is_empty());
}

/// A confidential client with only the client_credentials grant.
async fn service_client(app: &TestApp) -> TestClient {
    app.client_from(json!({ "client_name": "Layanan", "grant_types": ["client_credentials"] }), false).await
}

async fn client_credentials(app: &TestApp, id: &str, secret: &str) -> u16 {
    app.post_form("/oauth2/token", &[("grant_type", "client_credentials")], Some((id, secret))).await.0
}

async fn events(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    let r = app.get_api("/api/v1/audit/events?limit=1000", token).await;
    r.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

async fn rotated_secret_replaces_the_old_one_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let office = app.office_token().await;
    let client = service_client(&app).await;
    let old = client.secret.clone().unwrap();
    // The client is now in this node's cache; the clock does not move in this test.
    assert_eq!(client_credentials(&app, &client.id, &old).await, 200);

    let path = format!("/api/v1/applications/{}/secret", client.id);
    let r = app.api("POST", &path, &office, None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.body["client_id"], client.id.as_str());
    let new = r.body["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(client_credentials(&app, &client.id, &old).await, 401, "the old secret stops working at once");
    assert_eq!(client_credentials(&app, &client.id, &new).await, 200);

    let rotations = events(&app, &office, "admin.application.secret_rotate").await;
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0]["client_id"], client.id.as_str());
    assert!(rotations[0]["actor"].as_str().unwrap().starts_with("client:"), "the office's admin client");
    let all = app.get_api("/api/v1/audit/events?limit=1000", &office).await.body.to_string();
    assert!(!all.contains(&new) && !all.contains(&old), "no secret in the audit log");

    // A public client has no secret to rotate; an unknown application is not found.
    let public = app
        .client_from(
            json!({ "redirect_uris": [crate::support::REDIRECT_URI], "token_endpoint_auth_method": "none" }),
            false,
        )
        .await;
    let r = app.api("POST", &format!("/api/v1/applications/{}/secret", public.id), &office, None, None).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("urn:pintu:problem:no-client-secret")), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("none"), "{}", r.body);
    let r = app.api("POST", "/api/v1/applications/no-such-app/secret", &office, None, None).await;
    assert_eq!(r.status, 404);
}

async fn only_the_office_or_the_owning_opd_rotates_a_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let opd = app.opd_admin_token("ani", "DISKOMINFO").await;
    let own = service_client(&app).await;
    let other = service_client(&app).await;
    let owner = |unit: &str| pintu::directory::ProfilePatch { owner: Some(unit.into()), ..Default::default() };
    app.set_profile(&own.id, owner("APTIKA")).await;
    app.set_profile(&other.id, owner("DINKES")).await;
    let path = |id: &str| format!("/api/v1/applications/{id}/secret");
    let r = app.api("POST", &path(&own.id), &opd, None, None).await;
    assert_eq!(r.status, 200, "an application of the administrator's subtree: {}", r.body);
    let new = r.body["client_secret"].as_str().unwrap();
    assert_eq!(client_credentials(&app, &own.id, new).await, 200);
    assert_eq!(
        app.api("POST", &path(&other.id), &opd, None, None).await.status,
        404,
        "another unit's application does not exist for them"
    );
    assert_eq!(client_credentials(&app, &other.id, other.secret.as_deref().unwrap()).await, 200, "untouched");
}

async fn a_disabled_application_is_refused_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = service_client(&app).await;
    let secret = client.secret.clone().unwrap();
    assert_eq!(client_credentials(&app, &client.id, &secret).await, 200, "cached now");
    app.disable_app(&client.id).await;
    assert_eq!(client_credentials(&app, &client.id, &secret).await, 401, "refused before the cache entry expires");
}

/// RFC 7592 §2.2 through the application service: one audit event, the application's name
/// follows `client_name`, and the new metadata applies at once although the client was cached.
async fn registration_update_goes_through_the_service_and_is_audited_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let office = app.office_token().await;
    let token = app.initial_access_token().await;
    let old_uri = "https://simpeg.example.go.id/cb";
    let body = json!({ "client_name": "SIMPEG", "redirect_uris": [old_uri] });
    let (status, created) = register(&app, Some(&token), &body).await;
    assert_eq!(status, 201, "{created}");
    let client = TestClient {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: None,
        redirect_uri: "https://simpeg.example.go.id/baru".to_owned(),
    };
    let browser = app.browser();
    let old = TestClient { redirect_uri: old_uri.to_owned(), ..client.clone() };
    assert_eq!(browser.get(&app.code_flow_url(&old, &[])).await.0, 200, "the client is cached");

    let update =
        json!({ "client_id": client.id, "client_name": "SIMPEG Baru", "redirect_uris": [client.redirect_uri] });
    let uri = created["registration_client_uri"].as_str().unwrap();
    let rat = created["registration_access_token"].as_str().unwrap();
    let put = app.http.put(uri).bearer_auth(rat).json(&update).send().await.unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(browser.get(&app.code_flow_url(&client, &[])).await.0, 200, "the new redirect URI works at once");
    assert_eq!(browser.get(&app.code_flow_url(&old, &[])).await.0, 400, "the old one no longer does");

    let updates = events(&app, &office, "admin.application.register_update").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(
        (updates[0]["actor"].as_str(), updates[0]["client_id"].as_str()),
        (Some("client-registration"), Some(client.id.as_str()))
    );
    let record = app.get_api(&format!("/api/v1/applications/{}", client.id), &office).await;
    assert_eq!((record.body["name"].as_str(), record.body["protocol"].as_str()), (Some("SIMPEG Baru"), Some("oidc")));
}
