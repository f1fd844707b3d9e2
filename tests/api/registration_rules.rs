//! What dynamic registration (RFC 7591 / 7592) refuses and what it keeps: the initial access
//! token survives a refused request, the client type is fixed, URIs and keys are checked,
//! web page links are stored, and the ID token algorithm defaults to RS256.

use josekit::jwk::Jwk;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::registration::register;
use crate::support::{Backend, TestApp};

fn code_client() -> Value {
    json!({"client_name": "SIMPEG", "redirect_uris": ["https://simpeg.example.go.id/cb"]})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn public_jwks() -> Value {
    let mut key = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    key.set_key_id("k1");
    json!({"keys": [Value::Object(key.to_public_key().unwrap().into())]})
}

/// Registers `body` with a fresh initial access token; answers status and body.
async fn register_new(app: &TestApp, body: &Value) -> (u16, Value) {
    let token = app.initial_access_token().await;
    register(app, Some(&token), body).await
}

async fn refused_registration_does_not_use_up_the_initial_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.initial_access_token().await;
    let refused = [
        with(code_client(), "redirect_uris", json!(["http://simpeg.example.go.id/cb"])),
        with(code_client(), "client_id", json!("chosen")),
        with(code_client(), "grant_types", json!(["implicit"])),
    ];
    for body in refused {
        let (status, err) = register(&app, Some(&token), &body).await;
        assert_eq!(status, 400, "{body}: {err}");
    }
    let (status, body) = register(&app, Some(&token), &code_client()).await;
    assert_eq!(status, 201, "the token survived the refused requests: {body}");
    let (status, err) = register(&app, Some(&token), &code_client()).await;
    assert_eq!((status, err["error"].as_str()), (401, Some("invalid_token")), "and is used up by the success");
}

async fn update_cannot_turn_a_confidential_client_into_a_public_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let jwks = public_jwks();
    let body =
        json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks});
    let (status, created) = register_new(&app, &body).await;
    assert_eq!(status, 201, "{created}");
    let uri = created["registration_client_uri"].as_str().unwrap();
    let rat = created["registration_access_token"].as_str().unwrap();
    let public = json!({"client_id": created["client_id"], "redirect_uris": ["https://a.go.id/cb"], "token_endpoint_auth_method": "none"});
    let put = app.http.put(uri).bearer_auth(rat).json(&public).send().await.unwrap();
    assert_eq!(put.status(), 400);
    assert_eq!(put.json::<Value>().await.unwrap()["error"], "invalid_client_metadata");
    let read: Value = app.http.get(uri).bearer_auth(rat).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["token_endpoint_auth_method"], "private_key_jwt");

    let (_, secret_client) = register_new(&app, &code_client()).await;
    let uri = secret_client["registration_client_uri"].as_str().unwrap();
    let rat = secret_client["registration_access_token"].as_str().unwrap();
    let public = with(code_client(), "token_endpoint_auth_method", json!("none"));
    let public = with(public, "client_id", secret_client["client_id"].clone());
    let put = app.http.put(uri).bearer_auth(rat).json(&public).send().await.unwrap();
    assert_eq!(put.status(), 400, "client_secret_basic cannot become none either");
}

async fn redirect_uris_with_userinfo_or_control_characters_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for uri in [
        "https://simpeg.example.go.id@evil.example/cb",
        "https://user:pass@simpeg.example.go.id/cb",
        "https://@simpeg.example.go.id/cb",
        "https://simpeg.example.go.id/c\nb",
        "https://simpeg.example.go.id/cb\t",
        " https://simpeg.example.go.id/cb",
        "https://simpeg.example.go.id/c\u{7f}b",
        "https://simpeg.example.go.id\\@evil.example/cb",
    ] {
        let (status, err) = register_new(&app, &with(code_client(), "redirect_uris", json!([uri]))).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_redirect_uri")), "{uri:?}: {err}");
    }
    let logout = with(code_client(), "post_logout_redirect_uris", json!(["https://x@simpeg.example.go.id/"]));
    let (status, err) = register_new(&app, &logout).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_client_metadata")), "{err}");
}

async fn invalid_jwks_and_unknown_scopes_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let private = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    let jwt_client = |jwks: Value| json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks});
    let cases = [
        jwt_client(json!({"keys": [Value::Object(private.into())]})),
        jwt_client(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}]})),
        jwt_client(json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]})),
        jwt_client(json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})),
        jwt_client(json!({"keys": [{"foo": "bar"}]})),
        jwt_client(json!({"keys": "k1"})),
        with(jwt_client(public_jwks()), "jwks_uri", json!("https://simpeg.example.go.id/jwks")),
        with(code_client(), "jwks", json!({"keys": [{"kty": "EC"}]})),
        with(code_client(), "scope", json!("openid superuser")),
        with(code_client(), "scope", json!("openid profile admin")),
    ];
    for body in cases {
        let (status, err) = register_new(&app, &body).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}: {err}");
    }
    let (status, body) = register_new(&app, &with(code_client(), "scope", json!("openid profile pegawai"))).await;
    assert_eq!(status, 201, "supported scopes are accepted: {body}");
    assert_eq!(body["scope"], "openid profile pegawai");
}

async fn web_page_uris_are_stored_validated_and_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pages = json!({
        "client_name": "SIMPEG",
        "client_name#en": "Civil Servant Records",
        "redirect_uris": ["https://simpeg.example.go.id/cb"],
        "client_uri": "https://simpeg.example.go.id/",
        "logo_uri": "https://simpeg.example.go.id/logo.png",
        "logo_uri#en": "https://simpeg.example.go.id/logo-en.png",
        "policy_uri": "https://simpeg.example.go.id/privasi",
        "policy_uri#en-US": "https://simpeg.example.go.id/privacy",
        "tos_uri": "https://simpeg.example.go.id/ketentuan",
        "tos_uri#id": "https://simpeg.example.go.id/ketentuan",
        "client_uri#en": "https://simpeg.example.go.id/en/",
        "software_version#en": "ignored: not a field Pintu knows",
    });
    let (status, created) = register_new(&app, &pages).await;
    assert_eq!(status, 201, "{created}");
    let uri = created["registration_client_uri"].as_str().unwrap();
    let rat = created["registration_access_token"].as_str().unwrap();
    let read: Value = app.http.get(uri).bearer_auth(rat).send().await.unwrap().json().await.unwrap();
    for info in [&created, &read] {
        for field in [
            "client_name#en",
            "client_uri",
            "client_uri#en",
            "logo_uri",
            "logo_uri#en",
            "policy_uri",
            "policy_uri#en-US",
            "tos_uri",
            "tos_uri#id",
        ] {
            assert_eq!(info[field], pages[field], "{field} in {info}");
        }
        assert!(info.get("software_version#en").is_none() && info.get("localized").is_none(), "{info}");
    }
    for (field, value) in [
        ("logo_uri", json!("http://simpeg.example.go.id/logo.png")),
        ("policy_uri", json!("javascript:alert(1)")),
        ("tos_uri", json!("https://x@simpeg.example.go.id/tos")),
        ("client_uri", json!("/relative")),
        ("logo_uri#en", json!("ftp://simpeg.example.go.id/logo.png")),
        ("logo_uri#not a tag", json!("https://simpeg.example.go.id/logo.png")),
        ("tos_uri#en", json!(42)),
        ("client_name#en", json!("bad\u{1b}[31m")),
    ] {
        let (status, err) = register_new(&app, &with(code_client(), field, value.clone())).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_client_metadata")), "{field}={value}: {err}");
    }
}

async fn id_token_alg_defaults_to_rs256_when_omitted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = register_new(&app, &code_client()).await;
    assert_eq!(status, 201, "{created}");
    // OpenID Connect Dynamic Client Registration 1.0 §2: "The default, if omitted, is RS256."
    assert_eq!(created["id_token_signed_response_alg"], "RS256");
    let (_, chosen) = register_new(&app, &with(code_client(), "id_token_signed_response_alg", json!("ES256"))).await;
    assert_eq!(chosen["id_token_signed_response_alg"], "ES256");
}

backend_tests!(
    refused_registration_does_not_use_up_the_initial_access_token,
    update_cannot_turn_a_confidential_client_into_a_public_one,
    redirect_uris_with_userinfo_or_control_characters_are_refused,
    invalid_jwks_and_unknown_scopes_are_refused,
    web_page_uris_are_stored_validated_and_returned,
    id_token_alg_defaults_to_rs256_when_omitted,
);
