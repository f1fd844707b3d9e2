//! Dynamic client registration (RFC 7591) and management (RFC 7592).

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp};

pub(crate) async fn register(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = app.http.post(app.url("/oauth2/register")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

fn metadata() -> Value {
    json!({"client_name": "SIMPEG", "redirect_uris": ["https://simpeg.example.go.id/cb"], "grant_types": ["authorization_code", "refresh_token"]})
}

async fn registration_needs_a_single_use_initial_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = register(&app, None, &metadata()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    let token = app.initial_access_token().await;
    let (status, body) = register(&app, Some(&token), &metadata()).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["client_id"].is_string() && body["client_secret"].is_string());
    assert_eq!(body["client_secret_expires_at"], 0);
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    let (status, _) = register(&app, Some(&token), &metadata()).await;
    assert_eq!(status, 401, "the initial access token is single use");
}

async fn registered_client_is_managed_with_its_registration_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.initial_access_token().await;
    let (_, created) = register(&app, Some(&token), &metadata()).await;
    let uri = created["registration_client_uri"].as_str().unwrap().to_owned();
    let rat = created["registration_access_token"].as_str().unwrap().to_owned();
    let read = app.http.get(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert!(read.json::<Value>().await.unwrap().get("client_secret").is_none(), "the secret is shown only once");
    let wrong = app.http.get(&uri).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    let mut update = metadata();
    update["client_id"] = created["client_id"].clone();
    update["client_name"] = json!("SIMPEG Baru");
    let put = app.http.put(&uri).bearer_auth(&rat).json(&update).send().await.unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(put.json::<Value>().await.unwrap()["client_name"], "SIMPEG Baru");

    let deleted = app.http.delete(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = app.http.get(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(gone.status(), 401);
    let secret = created["client_secret"].as_str().unwrap();
    let client_id = created["client_id"].as_str().unwrap();
    let (status, _, _) = app
        .post_form(
            "/oauth2/token",
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            Some((client_id, secret)),
        )
        .await;
    assert_eq!(status, 401, "a deleted client cannot authenticate");
}

async fn invalid_metadata_gets_rfc7591_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (json!({"redirect_uris": ["http://simpeg.example.go.id/cb"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["https://a.go.id/cb#frag"]}), "invalid_redirect_uri"),
        (json!({"grant_types": ["authorization_code"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["https://a.go.id/cb"], "grant_types": ["implicit"]}), "invalid_client_metadata"),
        (
            json!({"redirect_uris": ["https://a.go.id/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.go.id/cb"], "id_token_signed_response_alg": "none"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.go.id/cb"], "jwks_uri": "http://a.go.id/jwks"}),
            "invalid_client_metadata",
        ),
        (json!({"redirect_uris": "https://a.go.id/cb"}), "invalid_client_metadata"),
    ];
    for (body, expected) in cases {
        let token = app.initial_access_token().await;
        let (status, err) = register(&app, Some(&token), &body).await;
        assert_eq!((status, err["error"].as_str()), (400, Some(expected)), "{body}");
    }
    let token = app.initial_access_token().await;
    let broken = app
        .http
        .post(app.url("/oauth2/register"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
}

async fn open_registration_needs_no_token_when_configured(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oidc.open_registration = true).await;
    let (status, _) = register(&app, None, &metadata()).await;
    assert_eq!(status, 201);
}

async fn update_must_name_the_client_and_its_current_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.initial_access_token().await;
    let (_, created) = register(&app, Some(&token), &metadata()).await;
    let uri = created["registration_client_uri"].as_str().unwrap().to_owned();
    let rat = created["registration_access_token"].as_str().unwrap().to_owned();
    let put = |body: Value| app.http.put(&uri).bearer_auth(&rat).json(&body).send();
    // RFC 7592 §2.2: client_id is required and must match.
    let resp = put(metadata()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let mut wrong_secret = metadata();
    wrong_secret["client_id"] = created["client_id"].clone();
    wrong_secret["client_secret"] = json!("not-the-secret");
    let resp = put(wrong_secret).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_request");
    let mut right_secret = metadata();
    right_secret["client_id"] = created["client_id"].clone();
    right_secret["client_secret"] = created["client_secret"].clone();
    assert_eq!(put(right_secret).await.unwrap().status(), 200);
}

backend_tests!(
    update_must_name_the_client_and_its_current_secret,
    registration_needs_a_single_use_initial_access_token,
    registered_client_is_managed_with_its_registration_token,
    invalid_metadata_gets_rfc7591_errors,
    open_registration_needs_no_token_when_configured,
);
