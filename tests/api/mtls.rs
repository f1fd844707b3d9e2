//! RFC 8705: applications authenticating with TLS client certificates (`tls_client_auth` with a
//! certificate from a trusted CA, `self_signed_tls_client_auth` with a registered one) through
//! Pintu's TLS listener, and access tokens bound to the certificate (`cnf`), refused at
//! userinfo without it.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::Digest;

use crate::backend_tests;
use crate::support::{Backend, Browser, TestApp, pki};

backend_tests!(applications_authenticate_with_certificates_and_get_bound_tokens);

fn claims_of(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

fn thumbprint(name: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(std::fs::read(pki::file(&format!("{name}.der"))).unwrap()))
}

/// An HTTPS client trusting the test root, presenting `name`'s certificate when asked.
fn tls_client(name: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki::read("root.pem").as_bytes()).unwrap());
    if let Some(name) = name {
        let identity = pki::read(&format!("{name}.key")) + &pki::read(&format!("{name}.pem"));
        builder = builder.identity(reqwest::Identity::from_pem(identity.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

async fn post(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let resp =
        client.post(url).header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn applications_authenticate_with_certificates_and_get_bound_tokens(backend: Backend) {
    let port = pki::free_port();
    let app = TestApp::spawn_with(backend, |c| {
        let issuer = c.oidc.issuer.clone();
        pki::configure(c, &issuer, |raw| {
            raw.tls = pintu::config::RawTls {
                listen: Some(format!("127.0.0.1:{port}")),
                certificate: Some(pki::file("server-chain.pem")),
                key: Some(pki::file("server.key")),
                url: Some(format!("https://127.0.0.1:{port}")),
            };
        });
    })
    .await;
    let tls = format!("https://127.0.0.1:{port}");
    let discovery: Value =
        app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["tls_client_certificate_bound_access_tokens"], true);
    assert_eq!(discovery["mtls_endpoint_aliases"]["token_endpoint"], format!("{tls}/oauth2/token"));
    let methods = discovery["token_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(methods.contains(&json!("tls_client_auth")) && methods.contains(&json!("self_signed_tls_client_auth")));

    // tls_client_auth: the finance application's certificate, from the trusted CA, by its DNS name.
    let finance = app
        .client_from(
            json!({
                "client_name": "Keuangan",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "tls_client_auth",
                "tls_client_auth_san_dns": "keuangan.example.go.id",
                "tls_client_certificate_bound_access_tokens": true,
            }),
            true,
        )
        .await;
    let form = [("grant_type", "client_credentials"), ("client_id", finance.id.as_str())];
    let (status, body) = post(&tls_client(Some("app")), &format!("{tls}/oauth2/token"), &form).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&token)["cnf"]["x5t#S256"], thumbprint("app"), "the token is bound to the certificate");
    // No certificate, or someone else's (a person's, from the same CA): invalid_client.
    let (status, body) = post(&app.http, &app.url("/oauth2/token"), &form).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    let (status, body) = post(&tls_client(Some("nip")), &format!("{tls}/oauth2/token"), &form).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    let (status, body) = post(&tls_client(None), &format!("{tls}/oauth2/token"), &form).await;
    assert_eq!(status, 401, "{body}");
    // Introspection by the same application answers the binding.
    let introspect = [("token", token.as_str()), ("client_id", finance.id.as_str())];
    let (status, body) = post(&tls_client(Some("app")), &format!("{tls}/oauth2/introspect"), &introspect).await;
    assert_eq!((status, &body["active"]), (200, &json!(true)), "{body}");
    assert_eq!(body["cnf"]["x5t#S256"], thumbprint("app"));

    // The admin API, too, takes a bound token only with its certificate.
    let profile = pintu::directory::ProfilePatch { admin: Some("office".into()), ..Default::default() };
    app.set_profile(&finance.id, profile).await;
    let form = [("grant_type", "client_credentials"), ("client_id", finance.id.as_str()), ("scope", "pintu.admin")];
    let (status, body) = post(&tls_client(Some("app")), &format!("{tls}/oauth2/token"), &form).await;
    assert_eq!(status, 200, "{body}");
    let admin_token = body["access_token"].as_str().unwrap().to_owned();
    let admin = |client: reqwest::Client, url: String| {
        let token = admin_token.clone();
        async move { client.get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(admin(tls_client(Some("app")), format!("{tls}/api/v1/org-units")).await, 200);
    assert_eq!(admin(app.http.clone(), app.url("/api/v1/org-units")).await, 401, "without the certificate");
    assert_eq!(admin(tls_client(Some("nip")), format!("{tls}/api/v1/org-units")).await, 401, "with another one");

    // self_signed_tls_client_auth: the certificate registered in jwks (x5c), code flow, and a
    // bound access token that userinfo accepts only over a connection with that certificate.
    let der = std::fs::read(pki::file("selfsigned.der")).unwrap();
    let cert = openssl::x509::X509::from_der(&der).unwrap();
    let rsa = cert.public_key().unwrap().rsa().unwrap();
    let jwk = json!({
        "kty": "RSA", "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()), "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
        "x5c": [STANDARD.encode(&der)],
    });
    let portal = app
        .client_from(
            json!({
                "client_name": "Portal Mandiri",
                "redirect_uris": ["http://127.0.0.1:9/callback"],
                "token_endpoint_auth_method": "self_signed_tls_client_auth",
                "jwks": { "keys": [jwk] },
                "tls_client_certificate_bound_access_tokens": true,
            }),
            true,
        )
        .await;
    app.user("budi").await;
    let browser = Browser::new(&app.base);
    let code = app.code_for(&browser, &portal, "budi", &[]).await;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", portal.redirect_uri.as_str()),
        ("client_id", portal.id.as_str()),
    ];
    let (status, body) = post(&tls_client(Some("selfsigned")), &format!("{tls}/oauth2/token"), &exchange).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&token)["cnf"]["x5t#S256"], thumbprint("selfsigned"));
    let userinfo = |client: reqwest::Client, url: String| {
        let token = token.clone();
        async move { client.get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(userinfo(tls_client(Some("selfsigned")), format!("{tls}/oauth2/userinfo")).await, 200);
    assert_eq!(userinfo(app.http.clone(), app.url("/oauth2/userinfo")).await, 401, "a stolen bound token is useless");
    assert_eq!(userinfo(tls_client(Some("app")), format!("{tls}/oauth2/userinfo")).await, 401);
}
