//! UserInfo (OIDC Core §5.3) with RFC 6750 bearer tokens; introspection and revocation.

use pintu::directory::Actor;
use pintu::domain::UserStatus;
use serde_json::Value;

use crate::backend_tests;
use crate::support::{Backend, TestApp, TestClient};

async fn tokens(app: &TestApp, client: &TestClient, scope: &str) -> Value {
    app.user("budi").await;
    let code = app.code_for(&app.browser(), client, "budi", &[("scope", scope)]).await;
    let (status, body) = app
        .token(client, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)])
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn get_userinfo(app: &TestApp, token: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let resp = app.http.get(app.url("/oauth2/userinfo")).bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

async fn userinfo_releases_only_claims_of_granted_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "openid email").await;
    let (status, claims, _) = get_userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(claims["email"], "budi@kominfo.go.id");
    assert_eq!(claims["email_verified"], true);
    assert!(claims.get("name").is_none(), "profile scope not granted");
    assert!(claims.get("phone_number").is_none());
}

async fn claims_parameter_requests_a_claim_within_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    app.user("budi").await;
    let claims = r#"{"userinfo":{"name":null,"phone_number":{"essential":true}},"id_token":{"email":null}}"#;
    let code =
        app.code_for(&app.browser(), &client, "budi", &[("scope", "openid profile email"), ("claims", claims)]).await;
    let (_, body) = app
        .token(
            &client,
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)],
        )
        .await;
    let (_, info, _) = get_userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "budi Santoso");
    assert!(info.get("phone_number").is_none(), "phone scope was not granted");
    let id_token = body["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["email"], "budi@kominfo.go.id", "requested in the ID token");
    assert_eq!(claims["nonce"], "n-1");
}

async fn userinfo_accepts_the_token_in_a_form_body_but_not_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "openid").await;
    let token = body["access_token"].as_str().unwrap();
    let (status, claims, _) = app.post_form("/oauth2/userinfo", &[("access_token", token)], None).await;
    assert_eq!(status, 200);
    assert!(claims["sub"].is_string());
    let both = app
        .http
        .post(app.url("/oauth2/userinfo"))
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
}

async fn missing_or_invalid_bearer_token_gets_a_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let none = app.http.get(app.url("/oauth2/userinfo")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers().get("www-authenticate").unwrap(), "Bearer realm=\"pintu\"");
    let (status, body, headers) = get_userinfo(&app, "not-a-token").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    assert!(headers.get("www-authenticate").unwrap().to_str().unwrap().contains("error=\"invalid_token\""));
}

async fn expired_access_token_is_invalid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "openid").await;
    app.clock.advance(601);
    let (status, _, _) = get_userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
}

async fn access_token_without_openid_scope_is_insufficient(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "email").await;
    assert!(body.get("id_token").is_none(), "plain OAuth 2.0 request: no ID token");
    let (status, body, _) = get_userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")));
}

async fn revoked_access_token_stops_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "openid").await;
    let token = body["access_token"].as_str().unwrap();
    let secret = client.secret.clone().unwrap();
    let other = app.client().await;
    let (status, err, _) =
        app.post_form("/oauth2/revoke", &[("token", token)], Some((&other.id, other.secret.as_deref().unwrap()))).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_request")), "another client cannot revoke it");
    let (status, _, _) = app
        .post_form(
            "/oauth2/revoke",
            &[("token", token), ("token_type_hint", "access_token")],
            Some((&client.id, &secret)),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(get_userinfo(&app, token).await.0, 401);
    let (status, _, _) =
        app.post_form("/oauth2/revoke", &[("token", "unknown-token")], Some((&client.id, &secret))).await;
    assert_eq!(status, 200, "RFC 7009 §2.2: unknown tokens are not an error");
}

async fn revoking_a_refresh_token_revokes_its_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "openid").await;
    let secret = client.secret.clone().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    let (_, info, _) = app
        .post_form(
            "/oauth2/introspect",
            &[("token", refresh), ("token_type_hint", "refresh_token")],
            Some((&client.id, &secret)),
        )
        .await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_type"], "refresh_token");
    let (status, _, _) = app.post_form("/oauth2/revoke", &[("token", refresh)], Some((&client.id, &secret))).await;
    assert_eq!(status, 200);
    let (_, info, _) = app.post_form("/oauth2/introspect", &[("token", refresh)], Some((&client.id, &secret))).await;
    assert_eq!(info, serde_json::json!({"active": false}));
    assert_eq!(
        get_userinfo(&app, body["access_token"].as_str().unwrap()).await.0,
        401,
        "access tokens of the grant die too"
    );
}

async fn introspection_requires_client_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "openid").await;
    let (status, err, _) =
        app.post_form("/oauth2/introspect", &[("token", body["access_token"].as_str().unwrap())], None).await;
    assert_eq!((status, err["error"].as_str()), (401, Some("invalid_client")));
    let (status, info, _) = app
        .post_form(
            "/oauth2/introspect",
            &[("token", body["access_token"].as_str().unwrap())],
            Some((&client.id, client.secret.as_deref().unwrap())),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], client.id.as_str());
    assert_eq!(info["scope"], "openid");
}

backend_tests!(
    userinfo_releases_only_claims_of_granted_scopes,
    claims_parameter_requests_a_claim_within_scope,
    userinfo_accepts_the_token_in_a_form_body_but_not_twice,
    missing_or_invalid_bearer_token_gets_a_challenge,
    expired_access_token_is_invalid,
    access_token_without_openid_scope_is_insufficient,
    revoked_access_token_stops_working,
    revoking_a_refresh_token_revokes_its_grant,
    introspection_requires_client_authentication,
);

async fn disabling_a_user_by_id_revokes_sessions_and_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let body = tokens(&app, &client, "openid").await;
    let access = body["access_token"].as_str().unwrap();
    let id = app.state.store.users().find_credentials("budi").await.unwrap().unwrap().0.id;
    app.state.directory.set_status(&Actor::cli(), id.as_str(), UserStatus::Suspended).await.unwrap();
    let secret = client.secret.clone().unwrap();
    let (_, info, _) = app.post_form("/oauth2/introspect", &[("token", access)], Some((&client.id, &secret))).await;
    assert_eq!(info["active"], false);
    let (status, _) = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", body["refresh_token"].as_str().unwrap())])
        .await;
    assert_eq!(status, 400);
}

async fn public_clients_cannot_introspect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let public = app
        .client_from(
            serde_json::json!({"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"}),
            true,
        )
        .await;
    let (status, body, _) =
        app.post_form("/oauth2/introspect", &[("token", "x"), ("client_id", &public.id)], None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
}

async fn tokens_of_a_disabled_application_become_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let service = app.client_from(serde_json::json!({"grant_types": ["client_credentials"]}), false).await;
    let checker = app.client().await;
    let (_, body) = app.token(&service, &[("grant_type", "client_credentials")]).await;
    let token = body["access_token"].as_str().unwrap();
    let checker_auth = Some((checker.id.as_str(), checker.secret.as_deref().unwrap()));
    assert_eq!(app.post_form("/oauth2/introspect", &[("token", token)], checker_auth).await.1["active"], true);
    app.disable_app(&service.id).await;
    assert_eq!(app.post_form("/oauth2/introspect", &[("token", token)], checker_auth).await.1["active"], false);
}

backend_tests!(
    disabling_a_user_by_id_revokes_sessions_and_tokens,
    public_clients_cannot_introspect,
    tokens_of_a_disabled_application_become_inactive,
);
