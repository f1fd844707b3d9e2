//! RP-Initiated Logout 1.0.

use reqwest::StatusCode;

use crate::backend_tests;
use crate::support::browser::{form_in, location, query_param};
use crate::support::{Backend, Browser, TestApp, TestClient};

/// Logs in through `browser` and returns the token response.
async fn logged_in(app: &TestApp, browser: &Browser, client: &TestClient, scope: &str) -> serde_json::Value {
    app.user("budi").await;
    let code = app.code_for(browser, client, "budi", &[("scope", scope)]).await;
    let (status, body) = app
        .token(client, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)])
        .await;
    assert_eq!(status, 200);
    body
}

fn logout_url(app: &TestApp, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    app.url(&format!("/oauth2/logout?{query}"))
}

async fn prompt_none(app: &TestApp, browser: &Browser, client: &TestClient) -> Option<String> {
    let url = app.authorize_url(&[
        ("response_type", "code"),
        ("client_id", &client.id),
        ("redirect_uri", &client.redirect_uri),
        ("scope", "openid"),
        ("prompt", "none"),
    ]);
    let (_, _, headers) = browser.get(&url).await;
    query_param(&location(&headers), "error")
}

async fn logout_with_id_token_hint_ends_the_session_and_returns_with_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let browser = app.browser();
    let tokens = logged_in(&app, &browser, &client, "openid").await;
    let hint = tokens["id_token"].as_str().unwrap();
    let url = logout_url(
        &app,
        &[("id_token_hint", hint), ("post_logout_redirect_uri", "http://127.0.0.1:9/signed-out"), ("state", "bye")],
    );
    let (status, _, headers) = browser.get(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "http://127.0.0.1:9/signed-out?state=bye");
    assert!(headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("pintu_session=;")));
    assert_eq!(
        prompt_none(&app, &browser, &client).await.as_deref(),
        Some("login_required"),
        "the session really ended"
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "session-bound refresh token ends with the session"
    );
}

async fn offline_access_refresh_token_survives_logout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let browser = app.browser();
    let tokens = logged_in(&app, &browser, &client, "openid offline_access").await;
    let hint = tokens["id_token"].as_str().unwrap();
    browser.get(&logout_url(&app, &[("id_token_hint", hint)])).await;
    let (status, _) = app
        .token(
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, 200);
}

async fn unregistered_post_logout_redirect_uri_is_refused_with_a_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let browser = app.browser();
    let tokens = logged_in(&app, &browser, &client, "openid").await;
    let hint = tokens["id_token"].as_str().unwrap();
    let (status, _, headers) = browser
        .get(&logout_url(&app, &[("id_token_hint", hint), ("post_logout_redirect_uri", "https://evil.example/")]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get("location").is_none());
    let (status, _, _) =
        browser.get(&logout_url(&app, &[("post_logout_redirect_uri", "http://127.0.0.1:9/signed-out")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a redirect needs the client identified");
    assert_eq!(prompt_none(&app, &browser, &client).await, None, "still logged in");
}

async fn logout_without_hint_asks_for_confirmation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let browser = app.browser();
    logged_in(&app, &browser, &client, "openid").await;
    let (status, page, _) = browser
        .get(&logout_url(
            &app,
            &[("client_id", &client.id), ("post_logout_redirect_uri", "http://127.0.0.1:9/signed-out")],
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(prompt_none(&app, &browser, &client).await, None, "nothing ended before confirmation");
    let form = form_in(&page).unwrap();
    let (status, _, _) = browser.post(&form.action, &[("csrf_token", "forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, headers) = browser.post(&form.action, &[("csrf_token", &form.csrf_token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "http://127.0.0.1:9/signed-out");
    assert_eq!(prompt_none(&app, &browser, &client).await.as_deref(), Some("login_required"));
}

async fn logout_without_session_shows_the_signed_out_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, page, _) = app.browser().get(&app.url("/oauth2/logout")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Anda telah keluar"));
}

backend_tests!(
    logout_with_id_token_hint_ends_the_session_and_returns_with_state,
    offline_access_refresh_token_survives_logout,
    unregistered_post_logout_redirect_uri_is_refused_with_a_page,
    logout_without_hint_asks_for_confirmation,
    logout_without_session_shows_the_signed_out_page,
);
