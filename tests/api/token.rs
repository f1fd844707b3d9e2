//! The token endpoint: grants, client authentication, replay and reuse detection, bad input.

use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::{Backend, TestApp, TestClient};

pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) async fn code_with_pkce(app: &TestApp, client: &TestClient) -> String {
    app.user("budi").await;
    let browser = app.browser();
    app.code_for(&browser, client, "budi", &[("code_challenge", CHALLENGE), ("code_challenge_method", "S256")]).await
}

pub(crate) fn exchange<'a>(client: &'a TestClient, code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("code_verifier", verifier),
    ]
}

pub(crate) fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

async fn introspect(app: &TestApp, client: &TestClient, token: &str) -> Value {
    let (_, body, _) = app
        .post_form("/oauth2/introspect", &[("token", token)], Some((&client.id, client.secret.as_deref().unwrap())))
        .await;
    body
}

async fn authorization_code_is_single_use_and_replay_revokes_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (status, tokens) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &client, access).await["active"], true);

    let (status, replay) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    assert_eq!((status, error(&replay)), (400, "invalid_grant"));
    assert_eq!(introspect(&app, &client, access).await["active"], false, "access token revoked by the replay");
    let (status, body) = app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"), "refresh token revoked by the replay");
}

async fn token_response_is_not_cacheable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let (status, _, headers) = app
        .post_form(
            "/oauth2/token",
            &exchange(&client, &code, VERIFIER),
            Some((&client.id, client.secret.as_deref().unwrap())),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(headers.get("pragma").unwrap(), "no-cache");
}

async fn wrong_or_missing_pkce_verifier_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx";
    let (status, body) = app.token(&client, &exchange(&client, &code, wrong)).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let code = app
        .code_for(&app.browser(), &client, "budi", &[("code_challenge", CHALLENGE), ("code_challenge_method", "S256")])
        .await;
    let form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
    ];
    let (status, body) = app.token(&client, &form).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
}

async fn mismatched_redirect_uri_or_other_client_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let other = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let mut form = exchange(&client, &code, VERIFIER);
    form[2] = ("redirect_uri", "http://127.0.0.1:9/other");
    let (status, body) = app.token(&client, &form).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
    let code = app
        .code_for(&app.browser(), &client, "budi", &[("code_challenge", CHALLENGE), ("code_challenge_method", "S256")])
        .await;
    let (status, body) = app.token(&other, &exchange(&other, &code, VERIFIER)).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
}

async fn expired_code_is_rejected_with_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    app.clock.advance(61);
    let (status, body) = app.token(&client, &exchange(&client, &code, VERIFIER)).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));
}

async fn client_credentials_issue_rfc9068_access_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app
        .client_from(
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_post"}),
            false,
        )
        .await;
    let secret = client.secret.clone().unwrap();
    let (status, body, _) = app
        .post_form(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("client_id", &client.id), ("client_secret", &secret)],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let jwks: Value = app.http.get(app.url("/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).expect("kid in JWKS");
    let verifier = ES256.verifier_from_jwk(&Jwk::from_map(key.as_object().unwrap().clone()).unwrap()).unwrap();
    let (payload, _) =
        josekit::jws::deserialize_compact(token, &verifier).expect("signature verifies with the JWKS key");
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    for claim in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        assert!(claims.get(claim).is_some(), "RFC 9068 §2.2 requires {claim}");
    }
    assert_eq!(claims["sub"], client.id.as_str());
    let (status, body, _) = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "openid"),
                ("client_id", &client.id),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_eq!((status, error(&body)), (400, "invalid_scope"));
}

async fn wrong_secret_is_invalid_client_with_basic_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let (status, body, headers) = app
        .post_form("/oauth2/token", &[("grant_type", "authorization_code"), ("code", "x")], Some((&client.id, "wrong")))
        .await;
    assert_eq!((status, error(&body)), (401, "invalid_client"));
    assert!(headers.get("www-authenticate").unwrap().to_str().unwrap().starts_with("Basic"));
    let (status, body, _) = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &client.id),
                ("client_secret", client.secret.as_deref().unwrap()),
            ],
            None,
        )
        .await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "registered for basic, tried post");
    let (status, body, _) = app.post_form("/oauth2/token", &[("grant_type", "client_credentials")], None).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"));
}

async fn grant_type_problems_have_their_own_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let (status, body) = app.token(&client, &[("grant_type", "password")]).await;
    assert_eq!((status, error(&body)), (400, "unsupported_grant_type"));
    let (status, body) = app.token(&client, &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, error(&body)), (400, "unauthorized_client"));
    let (status, body) = app.token(&client, &[("code", "x")]).await;
    assert_eq!((status, error(&body)), (400, "invalid_request"));
    let (status, body) =
        app.token(&client, &[("grant_type", "authorization_code"), ("grant_type", "refresh_token")]).await;
    assert_eq!((status, error(&body)), (400, "invalid_request"));
}

async fn malformed_bodies_are_rejected_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let secret = client.secret.clone().unwrap();
    let json_body = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.id, Some(&secret))
        .header("content-type", "application/json")
        .body("{\"grant_type\":\"client_credentials\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
    assert_eq!(json_body.json::<Value>().await.unwrap()["error"], "invalid_request");
    let broken = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=%ff%fe")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let huge = "a".repeat(200_000);
    let oversized = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);
}

fn client_key() -> (Jwk, Value) {
    let mut private = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    private.set_key_id("k1");
    private.set_algorithm("ES256");
    let mut public = private.to_public_key().unwrap();
    public.set_key_id("k1");
    (private, json!({"keys": [Value::Object(public.into())]}))
}

fn assertion(private: &Jwk, client_id: &str, aud: &str, jti: &str, exp: i64) -> String {
    let mut header = JwsHeader::new();
    header.set_key_id("k1");
    header.set_token_type("JWT");
    let claims = json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": jti, "exp": exp, "iat": exp - 60});
    josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &ES256.signer_from_jwk(private).unwrap())
        .unwrap()
}

async fn private_key_jwt_authenticates_once_per_assertion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (private, jwks) = client_key();
    let client = app
        .client_from(json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}), false)
        .await;
    let aud = app.url("/oauth2/token");
    let jwt = assertion(&private, &client.id, &aud, "jti-1", app.now() + 60);
    let form = |a: &str| {
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_assertion_type".to_owned(), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned()),
            ("client_assertion".to_owned(), a.to_owned()),
        ]
    };
    let send = |f: Vec<(String, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.post_form("/oauth2/token", &pairs, None).await
        }
    };
    let (status, body, _) = send(form(&jwt)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = send(form(&jwt)).await;
    assert_eq!((status, error(&body)), (401, "invalid_client"), "a replayed assertion is refused");
    let expired = assertion(&private, &client.id, &aud, "jti-2", app.now() - 10);
    assert_eq!(send(form(&expired)).await.0, 401);
    let wrong_aud = assertion(&private, &client.id, "https://other.example/token", "jti-3", app.now() + 60);
    assert_eq!(send(form(&wrong_aud)).await.0, 401);
    let (other_key, _) = client_key();
    let forged = assertion(&other_key, &client.id, &aud, "jti-4", app.now() + 60);
    assert_eq!(send(form(&forged)).await.0, 401);
}

async fn public_client_exchanges_code_with_pkce_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app
        .client_from(json!({"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"}), true)
        .await;
    let code = code_with_pkce(&app, &client).await;
    let mut form = exchange(&client, &code, VERIFIER);
    form.push(("client_id", client.id.as_str()));
    let (status, body, _) = app.post_form("/oauth2/token", &form, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "not registered for refresh_token");
}

backend_tests!(
    authorization_code_is_single_use_and_replay_revokes_its_tokens,
    token_response_is_not_cacheable,
    wrong_or_missing_pkce_verifier_is_invalid_grant,
    mismatched_redirect_uri_or_other_client_is_invalid_grant,
    expired_code_is_rejected_with_invalid_grant,
    client_credentials_issue_rfc9068_access_tokens,
    wrong_secret_is_invalid_client_with_basic_challenge,
    grant_type_problems_have_their_own_errors,
    malformed_bodies_are_rejected_cleanly,
    private_key_jwt_authenticates_once_per_assertion,
    public_client_exchanges_code_with_pkce_only,
);

async fn concurrent_redemptions_of_one_code_yield_one_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let code = code_with_pkce(&app, &client).await;
    let form = exchange(&client, &code, VERIFIER);
    let redeem = || app.token(&client, &form);
    let results = tokio::join!(redeem(), redeem(), redeem(), redeem(), redeem(), redeem());
    let statuses = [results.0.0, results.1.0, results.2.0, results.3.0, results.4.0, results.5.0];
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "exactly one redemption wins: {statuses:?}");
}

backend_tests!(concurrent_redemptions_of_one_code_yield_one_token);
