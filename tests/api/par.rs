//! Pushed Authorization Requests (RFC 9126): the request goes to /oauth2/par with client
//! authentication; the browser carries only the request_uri, once, before it expires, for the
//! client that pushed it.

use serde_json::Value;

use crate::backend_tests;
use crate::support::browser::query_param;
use crate::support::{Backend, PASSWORD, TestApp, TestClient};

backend_tests!(
    pushed_requests_are_validated_used_once_and_only_by_their_client,
    signed_request_objects_are_accepted_inside_par,
);

async fn push(app: &TestApp, client: &TestClient, form: &[(&str, &str)]) -> (u16, Value) {
    let secret = client.secret.as_deref().unwrap_or("");
    let (status, body, headers) = app.post_form("/oauth2/par", form, Some((&client.id, secret))).await;
    if status == 201 {
        assert_eq!(headers["cache-control"], "no-store");
    }
    (status, body)
}

fn authorize(app: &TestApp, client: &TestClient, request_uri: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![("client_id", client.id.as_str()), ("request_uri", request_uri)];
    params.extend_from_slice(extra);
    app.authorize_url(&params)
}

async fn pushed_requests_are_validated_used_once_and_only_by_their_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let client = app.client().await;
    let other = app.client().await;
    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["pushed_authorization_request_endpoint"], format!("{}/oauth2/par", app.issuer));
    assert_eq!(discovery["require_pushed_authorization_requests"], false);

    let request = [
        ("response_type", "code"),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid email"),
        ("state", "pushed-state"),
        ("nonce", "pushed-nonce"),
    ];
    let (status, body) = push(&app, &client, &request).await;
    assert_eq!(status, 201, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"), "{body}");
    assert_eq!(body["expires_in"], 60);

    // Another client cannot use it; the pushed client still can (a refusal does not consume it).
    let browser = app.browser();
    let (status, page, _) = browser.get(&authorize(&app, &other, &request_uri, &[])).await;
    assert_eq!(status, 400, "{page}");
    // Parameters sent beside the request_uri are ignored (RFC 9126 §4): the pushed state wins.
    let url = authorize(&app, &client, &request_uri, &[("state", "from-the-browser"), ("scope", "openid")]);
    let location = browser.authorize_and_login(&url, "budi", PASSWORD).await;
    assert_eq!(query_param(&location, "state").as_deref(), Some("pushed-state"), "{location}");
    let code = query_param(&location, "code").unwrap();
    let (status, tokens) = app
        .token(
            &client,
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let scope: Vec<&str> = tokens["scope"].as_str().unwrap().split(' ').collect();
    assert!(scope.contains(&"email"), "the pushed scope, not the browser's: {tokens}");

    // Used once.
    let (status, page, _) = browser.get(&authorize(&app, &client, &request_uri, &[])).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("invalid_request_uri") || page.contains("request_uri"), "{page}");

    // Expired after a minute.
    let (_, body) = push(&app, &client, &request).await;
    let stale = body["request_uri"].as_str().unwrap().to_owned();
    app.clock.advance(61);
    let (status, _, _) = browser.get(&authorize(&app, &client, &stale, &[])).await;
    assert_eq!(status, 400);

    // Refused at the PAR endpoint, never redirected: an unregistered redirect_uri, a pushed
    // request_uri, another client's client_id, no client authentication, a bad scope.
    let bad_redirect = [("response_type", "code"), ("redirect_uri", "https://evil.example/cb"), ("scope", "openid")];
    let (status, body) = push(&app, &client, &bad_redirect).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let nested = [("response_type", "code"), ("redirect_uri", client.redirect_uri.as_str()), ("request_uri", "x")];
    let (status, body) = push(&app, &client, &nested).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let mut theirs = request.to_vec();
    theirs.push(("client_id", other.id.as_str()));
    let (status, _) = push(&app, &client, &theirs).await;
    assert_eq!(status, 400);
    let (status, body, _) = app.post_form("/oauth2/par", &request, None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    let bad_scope =
        [("response_type", "code"), ("redirect_uri", client.redirect_uri.as_str()), ("scope", "openid nope")];
    let (status, body) = push(&app, &client, &bad_scope).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
}

/// A request object (RFC 9101) signed with `key`.
fn request_object(key: &josekit::jwk::Jwk, claims: &Value) -> String {
    let mut header = josekit::jws::JwsHeader::new();
    header.set_key_id(key.key_id().unwrap());
    header.set_token_type("oauth-authz-req+jwt");
    let signer = josekit::jws::ES256.signer_from_jwk(key).unwrap();
    josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &signer).unwrap()
}

async fn signed_request_objects_are_accepted_inside_par(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("budi").await;
    let mut key = josekit::jwk::Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    key.set_key_id("request-key");
    key.set_algorithm("ES256");
    let public: Value = serde_json::from_str(&key.to_public_key().unwrap().to_string()).unwrap();
    let client = app
        .client_from(
            serde_json::json!({
                "client_name": "Persuratan",
                "redirect_uris": [crate::support::REDIRECT_URI],
                "jwks": { "keys": [public] },
            }),
            true,
        )
        .await;
    let claims = |aud: &str, state: &str| {
        serde_json::json!({
            "iss": client.id, "aud": aud, "client_id": client.id, "exp": app.now() + 300,
            "response_type": "code", "redirect_uri": client.redirect_uri, "scope": "openid",
            "state": state, "nonce": "jar-nonce",
        })
    };
    let object = request_object(&key, &claims(&app.issuer, "from-the-object"));
    // Parameters beside the object are not the request: only the object's count.
    let (status, body) = push(&app, &client, &[("request", object.as_str()), ("state", "beside")]).await;
    assert_eq!(status, 201, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    let location =
        app.browser().authorize_and_login(&authorize(&app, &client, &request_uri, &[]), "budi", PASSWORD).await;
    assert_eq!(query_param(&location, "state").as_deref(), Some("from-the-object"), "{location}");

    // Tampered, for another audience, or signed by a key the client never registered.
    let mut tampered = object.clone();
    tampered.pop();
    tampered.push(if object.ends_with('A') { 'B' } else { 'A' });
    let other_aud = request_object(&key, &claims("https://elsewhere.example", "x"));
    let mut stranger = josekit::jwk::Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    stranger.set_key_id("request-key");
    let forged = request_object(&stranger, &claims(&app.issuer, "x"));
    for bad in [tampered, other_aud, forged] {
        let (status, body) = push(&app, &client, &[("request", bad.as_str())]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request_object")), "{body}");
    }
}
