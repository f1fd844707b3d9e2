//! OpenID Connect CIBA (poll and ping): an application asks for a person by NIP; the person
//! sees the request (its binding message, what they would sign) on their account page and
//! approves at level 4 or declines; the application polls the token endpoint or is pinged.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend_tests;
use crate::signing::{budi_and_application, digest_b64, openssl_verifies, signing_app};
use crate::support::{Backend, Browser, TestApp, TestClient, pki};

backend_tests!(
    ciba_in_poll_mode_with_a_signature_approved_on_the_account_page,
    ciba_in_ping_mode_calls_the_client_back,
    ping_endpoints_are_fenced_like_jwks_uris
);

const CIBA: &str = "urn:openid:params:grant-type:ciba";

async fn ciba_client(app: &TestApp, mode: &str, endpoint: Option<&str>) -> TestClient {
    let mut metadata = json!({
        "client_name": "Aplikasi Persuratan",
        "grant_types": [CIBA],
        "backchannel_token_delivery_mode": mode,
        "authorization_details_types": ["credential"],
    });
    if let Some(endpoint) = endpoint {
        metadata["backchannel_client_notification_endpoint"] = json!(endpoint);
    }
    app.client_from(metadata, false).await
}

async fn start(app: &TestApp, client: &TestClient, form: &[(&str, &str)]) -> (u16, Value) {
    let (status, body, _) =
        app.post_form("/oauth2/ciba", form, Some((&client.id, client.secret.as_deref().unwrap_or("")))).await;
    (status, body)
}

async fn poll(app: &TestApp, client: &TestClient, auth_req_id: &str) -> (u16, Value) {
    app.token(client, &[("grant_type", CIBA), ("auth_req_id", auth_req_id)]).await
}

/// The person's account page, signed in (at level 1) through another application.
async fn account_page(app: &TestApp, browser: &Browser) -> String {
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert_eq!(status, 200, "{page}");
    page
}

fn approval_form(page: &str) -> (String, String, String) {
    let between = |from: &str| page.split(from).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let action = format!("/account/approvals/{}", between("/account/approvals/"));
    (action, between("name=\"csrf_token\" value=\""), between("name=\"request\" value=\""))
}

async fn decide(browser: &Browser, page: &str, decision: &str, passphrase: &str) -> (u16, String) {
    let (action, csrf, request) = approval_form(page);
    let fields =
        [("csrf_token", csrf.as_str()), ("request", &request), ("decision", decision), ("passphrase", passphrase)];
    let (status, page, _) = browser.post(&action, &fields).await;
    (status.as_u16(), page)
}

async fn ciba_in_poll_mode_with_a_signature_approved_on_the_account_page(backend: Backend) {
    let (app, _signer) = signing_app(backend, false).await;
    let (_, _) = budi_and_application(&app).await;
    let client = ciba_client(&app, "poll", None).await;
    let other = ciba_client(&app, "poll", None).await;
    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["backchannel_authentication_endpoint"], format!("{}/oauth2/ciba", app.issuer));
    assert_eq!(discovery["backchannel_token_delivery_modes_supported"], json!(["poll", "ping"]));
    let letter = b"Disposisi surat masuk 88/2026".to_vec();
    let details = json!([{
        "type": "credential", "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
        "documentDigests": [{ "hash": digest_b64(&letter), "label": "Disposisi 88/2026" }],
    }])
    .to_string();

    // Refusals: nobody by that hint, an unreadable binding message, no hint, an application
    // not registered for CIBA.
    let base = [("scope", "openid"), ("binding_message", "SURAT-88")];
    let (status, body) = start(&app, &client, &[base[0], base[1], ("login_hint", "199912312020121999")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unknown_user_id")), "{body}");
    let long = "x".repeat(80);
    let (status, body) = start(&app, &client, &[base[0], ("binding_message", &long), ("login_hint", pki::NIP)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_binding_message")), "{body}");
    let (status, body) = start(&app, &client, &base).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let plain = app.client().await;
    let (status, body) = start(&app, &plain, &[base[0], ("login_hint", pki::NIP)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{body}");

    let form = [base[0], base[1], ("login_hint", pki::NIP), ("authorization_details", details.as_str())];
    let (status, started) = start(&app, &client, &form).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["interval"], 5);
    let auth_req_id = started["auth_req_id"].as_str().unwrap().to_owned();

    // Polled before the person decided, too fast, and by another client.
    let (status, body) = poll(&app, &client, &auth_req_id).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("authorization_pending")), "{body}");
    let (status, body) = poll(&app, &client, &auth_req_id).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("slow_down")), "{body}");
    let (status, body) = poll(&app, &other, &auth_req_id).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    // Budi, signed in at level 1 elsewhere, sees it and approves with his passphrase: level 4
    // through the signing service, and the signature.
    let browser = app.browser();
    app.code_for(&browser, &app.client().await, "budi", &[]).await;
    let page = account_page(&app, &browser).await;
    assert!(page.contains("SURAT-88") && page.contains("Disposisi 88&#x2f;2026"), "{page}");
    let (status, page) = decide(&browser, &page, "approve", "salah").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("passphrase salah"), "{page}");
    let (status, page) = decide(&browser, &page, "approve", pki::PIN).await;
    assert_eq!(status, 303, "approving raised the session, whose new cookie comes back: {page}");
    let page = account_page(&app, &browser).await;
    assert!(!page.contains("SURAT-88"), "decided: {page}");

    app.clock.advance(15);
    let (status, tokens) = poll(&app, &client, &auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(id_token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["acr"], "urn:pintu:level:4");
    let signature = tokens["authorization_details"][0]["signatures"][0]["signature"].as_str().unwrap();
    assert!(openssl_verifies(signature, &letter));
    assert!(tokens["receipt"].as_str().is_some());
    app.clock.advance(15);
    let (status, body) = poll(&app, &client, &auth_req_id).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "used once: {body}");

    // Declined: the application hears access_denied. Expired: expired_token.
    let (_, started) = start(&app, &client, &[base[0], ("login_hint", "budi")]).await;
    let declined = started["auth_req_id"].as_str().unwrap().to_owned();
    let page = account_page(&app, &browser).await;
    let (status, _) = decide(&browser, &page, "decline", "").await;
    assert_eq!(status, 200);
    let (status, body) = poll(&app, &client, &declined).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("access_denied")), "{body}");
    let (_, started) = start(&app, &client, &[base[0], ("login_hint", pki::NIP), ("requested_expiry", "1")]).await;
    app.clock.advance(2);
    let (status, body) = poll(&app, &client, started["auth_req_id"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("expired_token")), "{body}");
}

/// A one-shot HTTP server on loopback: the request it received (head and body).
async fn callback_server() -> (String, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ciba-callback", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        while !String::from_utf8_lossy(&received).contains("auth_req_id") {
            let n = socket.read(&mut buffer).await.unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
        }
        let _ = socket.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
        let _ = tx.send(String::from_utf8_lossy(&received).into_owned());
    });
    (url, rx)
}

async fn ciba_in_ping_mode_calls_the_client_back(backend: Backend) {
    // The client's callback is on this machine: allowed, as a regency whose applications live
    // on its own network would configure (the default refuses internal addresses).
    let app = TestApp::spawn_with(backend, |c| c.oidc.jwks_uri.allow_private_addresses = true).await;
    app.user("budi").await;
    let (endpoint, received) = callback_server().await;
    let client = ciba_client(&app, "ping", Some(&endpoint)).await;
    let (status, body) = start(&app, &client, &[("scope", "openid"), ("login_hint", "budi")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "ping needs a token: {body}");
    let form = [("scope", "openid"), ("login_hint", "budi"), ("client_notification_token", "notify-7f3a")];
    let (status, started) = start(&app, &client, &form).await;
    assert_eq!(status, 200, "{started}");
    assert!(started.get("interval").is_none(), "{started}");
    let auth_req_id = started["auth_req_id"].as_str().unwrap().to_owned();

    let browser = app.browser();
    app.code_for(&browser, &app.client().await, "budi", &[]).await;
    let page = account_page(&app, &browser).await;
    let (status, page) = decide(&browser, &page, "approve", "").await;
    assert_eq!(status, 200, "{page}");
    let ping = tokio::time::timeout(Duration::from_secs(10), received).await.expect("pinged").unwrap();
    assert!(ping.to_lowercase().contains("authorization: bearer notify-7f3a"), "{ping}");
    assert!(ping.contains(&auth_req_id), "{ping}");
    let (status, tokens) = poll(&app, &client, &auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].as_str().is_some());
}

/// With the default configuration, a notification endpoint on an internal address is never
/// called (the jwks_uri fences); the client can still poll.
async fn ping_endpoints_are_fenced_like_jwks_uris(backend: Backend) {
    let form = [("scope", "openid"), ("login_hint", "budi"), ("client_notification_token", "notify-7f3a")];
    let fenced = TestApp::spawn(backend).await;
    fenced.user("budi").await;
    let (endpoint, received) = callback_server().await;
    let client = ciba_client(&fenced, "ping", Some(&endpoint)).await;
    let (_, started) = start(&fenced, &client, &form).await;
    let auth_req_id = started["auth_req_id"].as_str().unwrap().to_owned();
    let browser = fenced.browser();
    fenced.code_for(&browser, &fenced.client().await, "budi", &[]).await;
    let page = account_page(&fenced, &browser).await;
    assert_eq!(decide(&browser, &page, "approve", "").await.0, 200);
    assert!(tokio::time::timeout(Duration::from_secs(3), received).await.is_err(), "no request reached it");
    assert_eq!(poll(&fenced, &client, &auth_req_id).await.0, 200);
}
