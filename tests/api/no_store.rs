//! RFC 6749 §5.1: every answer carrying tokens, credentials, token state or an error is sent
//! with `Cache-Control: no-store` and `Pragma: no-cache`, on every surface: the token,
//! introspection, revocation and userinfo endpoints, dynamic registration (RFC 7591 §3.2.1,
//! RFC 7592) and the admin API's problem documents.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp};
use crate::token::{VERIFIER, code_with_pkce, exchange};

fn assert_no_store(what: &str, headers: &HeaderMap) {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(value("cache-control").as_deref(), Some("no-store"), "{what}: cache-control");
    assert_eq!(value("pragma").as_deref(), Some("no-cache"), "{what}: pragma");
}

async fn token_introspection_revocation_and_userinfo_answers_are_never_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let basic = Some((client.id.as_str(), client.secret.as_deref().unwrap()));
    let code = code_with_pkce(&app, &client).await;

    let bogus = [("grant_type", "authorization_code"), ("code", "nope"), ("redirect_uri", &client.redirect_uri)];
    let (status, _, headers) = app.post_form("/oauth2/token", &bogus, basic).await;
    assert_eq!(status, 400);
    assert_no_store("token error", &headers);
    let (status, tokens, headers) = app.post_form("/oauth2/token", &exchange(&client, &code, VERIFIER), basic).await;
    assert_eq!(status, 200, "{tokens}");
    assert_no_store("token", &headers);
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let (status, body, headers) = app.post_form("/oauth2/introspect", &[("token", access)], basic).await;
    assert_eq!((status, &body["active"]), (200, &json!(true)));
    assert_no_store("introspection", &headers);
    let wrong = Some((client.id.as_str(), "wrong"));
    let (status, _, headers) = app.post_form("/oauth2/introspect", &[("token", access)], wrong).await;
    assert_eq!(status, 401);
    assert_no_store("introspection error", &headers);

    let userinfo = |token: Option<&str>| {
        let mut req = app.http.get(app.url("/oauth2/userinfo"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let answer = userinfo(Some(access)).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_no_store("userinfo", answer.headers());
    let answer = userinfo(None).await.unwrap();
    assert_eq!(answer.status(), 401);
    assert_no_store("userinfo challenge", answer.headers());
    let answer = userinfo(Some("not-a-token")).await.unwrap();
    assert_eq!(answer.status(), 401);
    assert_no_store("userinfo error", answer.headers());

    let (status, _, headers) = app.post_form("/oauth2/revoke", &[("token", refresh)], basic).await;
    assert_eq!(status, 200);
    assert_no_store("revocation", &headers);
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value, HeaderMap) {
    let mut req = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

async fn registration_answers_are_never_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let metadata = json!({ "client_name": "SIMPEG", "redirect_uris": ["https://simpeg.example.go.id/cb"] });
    let (status, _, headers) = send(&app, reqwest::Method::POST, "/oauth2/register", "wrong", Some(&metadata)).await;
    assert_eq!(status, 401);
    assert_no_store("registration with a wrong initial access token", &headers);

    let token = app.initial_access_token().await;
    let invalid = json!({ "redirect_uris": ["not a uri"] });
    let (status, _, headers) = send(&app, reqwest::Method::POST, "/oauth2/register", &token, Some(&invalid)).await;
    assert_eq!(status, 400);
    assert_no_store("registration error", &headers);
    let (status, created, headers) =
        send(&app, reqwest::Method::POST, "/oauth2/register", &token, Some(&metadata)).await;
    assert_eq!(status, 201, "{created}");
    assert_no_store("client information", &headers);

    let path = format!("/oauth2/register/{}", created["client_id"].as_str().unwrap());
    let rat = created["registration_access_token"].as_str().unwrap();
    let (status, _, headers) = send(&app, reqwest::Method::GET, &path, rat, None).await;
    assert_eq!(status, 200);
    assert_no_store("client read", &headers);
    let mut update = metadata.clone();
    update["client_id"] = created["client_id"].clone();
    let (status, body, headers) = send(&app, reqwest::Method::PUT, &path, rat, Some(&update)).await;
    assert_eq!(status, 200, "{body}");
    assert_no_store("client update", &headers);
    let (status, _, headers) = send(&app, reqwest::Method::GET, &path, "wrong", None).await;
    assert_eq!(status, 401);
    assert_no_store("client read with a wrong registration access token", &headers);
}

async fn admin_api_problems_are_never_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = app.http.get(app.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");
    assert_no_store("admin API without a token", anonymous.headers());
    let wrong = app.get_api("/api/v1/users", "not-a-token").await;
    assert_eq!(wrong.status, 401);
    assert_no_store("admin API with a wrong token", &wrong.headers);
}

backend_tests!(
    token_introspection_revocation_and_userinfo_answers_are_never_stored,
    registration_answers_are_never_stored,
    admin_api_problems_are_never_stored,
);
