//! Control characters (`domain::text`) are refused at every surface with that surface's usual
//! error, identically on SQLite and PostgreSQL (which cannot store NUL and used to answer 500):
//! OAuth parameters, the pages' forms, the admin API, registration and the HR import.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::browser::form_in;
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(
    nul_in_protocol_parameters_is_invalid_request,
    nul_in_a_page_form_shows_the_translated_form_message,
    nul_in_admin_api_input_is_a_field_error,
    nul_in_registration_is_refused_before_the_initial_access_token_is_spent,
    nul_in_an_import_cell_is_a_row_error_and_nothing_is_written,
);

const FORM: &str = "application/x-www-form-urlencoded";

/// Status and body of a request (the body as text).
async fn send(req: reqwest::RequestBuilder) -> (u16, String) {
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
}

fn error(body: &str) -> String {
    serde_json::from_str::<Value>(body).map(|v| v["error"].as_str().unwrap_or_default().to_owned()).unwrap_or_default()
}

async fn nul_in_protocol_parameters_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    let secret = client.secret.clone().unwrap();
    let http = &app.http;
    // Browser endpoints: the error page (400), never 500.
    for url in [
        app.url("/oauth2/authorize?response_type=code&client_id=a%00b&redirect_uri=x&scope=openid"),
        app.code_flow_url(&client, &[("login_hint", "budi\u{0}")]),
        app.code_flow_url(&client, &[("nonce", "n\u{1b}[2J")]),
        app.url("/oauth2/logout?client_id=a%00b"),
    ] {
        let (status, page) = send(http.get(&url)).await;
        assert_eq!(status, 400, "{url}: {page}");
        assert!(page.contains("invalid_request") && page.contains("U+00"), "{url}: {page}");
    }
    let post = http.post(app.url("/oauth2/authorize")).header("content-type", FORM);
    assert_eq!(send(post.body(format!("client_id={}&state=%00", client.id))).await.0, 400);
    // Token-style endpoints: JSON invalid_request, whichever parameter carries it.
    let endpoint = |path: &str, body: &str| http.post(app.url(path)).header("content-type", FORM).body(body.to_owned());
    let post_auth = endpoint("/oauth2/token", "grant_type=client_credentials&client_id=a%00b&client_secret=x");
    let (status, answer) = send(post_auth).await;
    assert_eq!((status, error(&answer)), (400, "invalid_request".to_owned()), "{answer}");
    for (path, body) in [
        ("/oauth2/token", format!("grant_type=refresh_token&refresh_token=a%00b&client_id={}", client.id)),
        ("/oauth2/token", format!("grant_type=authorization_code&code=x%00&client_id={}", client.id)),
        ("/oauth2/introspect", "token=a%00b".to_owned()),
        ("/oauth2/revoke", "token=a%00b".to_owned()),
        ("/oauth2/userinfo", "access_token=a%00b".to_owned()),
    ] {
        let (status, answer) = send(endpoint(path, &body).basic_auth(&client.id, Some(&secret))).await;
        assert_eq!((status, error(&answer)), (400, "invalid_request".to_owned()), "{path} {body}: {answer}");
    }
    for (id, secret) in [("a\u{0}b", "x"), (client.id.as_str(), "s\u{0}")] {
        let req = endpoint("/oauth2/token", "grant_type=client_credentials").basic_auth(id, Some(secret));
        let (status, answer) = send(req).await;
        assert_eq!((status, error(&answer)), (400, "invalid_request".to_owned()), "Basic {id:?}: {answer}");
    }
    // A JSON `claims` parameter may be pretty-printed: TAB and line breaks are JSON whitespace.
    let claims = "{\n\t\"id_token\": {\"acr\": null}\n}";
    let (status, page) = send(http.get(app.code_flow_url(&client, &[("claims", claims)]))).await;
    assert_eq!(status, 200, "{page}");
}

async fn nul_in_a_page_form_shows_the_translated_form_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client().await;
    app.user("budi").await;
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.code_flow_url(&client, &[])).await;
    let form = form_in(&page).unwrap();
    for (user, password) in [("budi\u{0}", PASSWORD), ("budi", "kata\u{0}sandi"), ("bu\tdi", PASSWORD)] {
        let fields = [("csrf_token", form.csrf_token.as_str()), ("username", user), ("password", password)];
        let (status, page, _) = browser.post(&form.action, &fields).await;
        assert_eq!(status, 400, "{user:?}: {page}");
        assert!(page.contains("karakter kontrol"), "the Indonesian message from id.toml: {page}");
    }
    let (status, page, _) = browser.post("/login/a%00b", &[("csrf_token", "x"), ("username", "budi")]).await;
    assert_eq!(status, 400, "a NUL in the interaction id of the path: {page}");
    // Nothing was spent: the same form still signs the person in.
    let fields = [("csrf_token", form.csrf_token.as_str()), ("username", "budi"), ("password", PASSWORD)];
    let (status, page, _) = browser.post(&form.action, &fields).await;
    assert_eq!(status, 303, "{page}");
}

/// The field and status of an admin API refusal.
fn field_error(status: u16, body: &Value) -> (u16, String) {
    (status, body["errors"][0]["field"].as_str().unwrap_or_default().to_owned())
}

async fn nul_in_admin_api_input_is_a_field_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    for (path, body, field) in [
        ("/api/v1/users", json!({ "name": "Budi\u{0}", "username": "budi", "org_unit": "APTIKA" }), "name"),
        ("/api/v1/users", json!({ "name": "Budi", "jabatan": "Analis\r\nKepala", "org_unit": "APTIKA" }), "jabatan"),
        ("/api/v1/users", json!({ "name": "Budi", "password": "x\u{0}", "org_unit": "APTIKA" }), "password"),
        ("/api/v1/users", json!({ "name": "Budi", "nip\u{0}": "1" }), "nip\\0"),
        ("/api/v1/org-units", json!({ "code": "X", "name": "Dinas\u{0}", "kind": "dinas", "parent": "PEMDA" }), "name"),
        ("/api/v1/roles", json!({ "name": "operator", "description": "Operator\u{0}" }), "description"),
    ] {
        let r = app.api("POST", path, &token, Some(body.clone()), None).await;
        assert_eq!(field_error(r.status, &r.body), (422, field.to_owned()), "{path} {body}: {}", r.body);
        assert_eq!(r.content_type(), "application/problem+json");
    }
    for (path, field) in [
        ("/api/v1/users/a%00b", "id"),
        ("/api/v1/users/a%00b/roles", "id"),
        ("/api/v1/org-units/A%00", "code"),
        ("/api/v1/applications/a%00b", "id"),
        ("/api/v1/users?q=a%00b", "q"),
        ("/api/v1/audit/events?cursor=%00", "cursor"),
    ] {
        let r = app.get_api(path, &token).await;
        assert_eq!(field_error(r.status, &r.body), (422, field.to_owned()), "{path}: {}", r.body);
    }
    // A description may span lines; a password may hold a TAB as far as the body goes (the
    // password policy then refuses it, with its own reason).
    let role = json!({ "name": "operator", "description": "Operator aplikasi.\nBoleh mengubah data." });
    assert_eq!(app.api("POST", "/api/v1/roles", &token, Some(role), None).await.status, 201);
    let tabbed =
        json!({ "name": "Budi", "username": "budi", "org_unit": "APTIKA", "password": "Jendela\tbiru laut 7" });
    let r = app.api("POST", "/api/v1/users", &token, Some(tabbed), None).await;
    assert_eq!(field_error(r.status, &r.body), (422, "password".to_owned()), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("control characters"), "{}", r.body);
    // Unauthenticated requests learn nothing: the token is checked first.
    assert_eq!(app.get_api("/api/v1/users/a%00b", "wrong").await.status, 401);
}

async fn register(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let resp = app.http.post(app.url("/oauth2/register")).bearer_auth(token).json(body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn nul_in_registration_is_refused_before_the_initial_access_token_is_spent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.initial_access_token().await;
    let valid = json!({ "client_name": "E-Office", "redirect_uris": ["http://127.0.0.1:9/cb"] });
    for (body, code) in [
        (
            json!({ "client_name": "E-Office\u{0}", "redirect_uris": ["http://127.0.0.1:9/cb"] }),
            "invalid_client_metadata",
        ),
        (json!({ "redirect_uris": ["http://127.0.0.1:9/cb\u{0}"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["http://127.0.0.1:9/cb"], "contacts": ["a@b.id\n"] }), "invalid_client_metadata"),
    ] {
        let (status, err) = register(&app, &token, &body).await;
        assert_eq!((status, err["error"].as_str()), (400, Some(code)), "{body}: {err}");
    }
    let (status, created) = register(&app, &token, &valid).await;
    assert_eq!(status, 201, "the token survived the refusals: {created}");
    let management = format!("/oauth2/register/{}%00", created["client_id"].as_str().unwrap());
    let rat = created["registration_access_token"].as_str().unwrap();
    let (status, body) = send(app.http.get(app.url(&management)).bearer_auth(rat)).await;
    assert_eq!((status, error(&body)), (400, "invalid_request".to_owned()), "{body}");
    let (status, body) = send(app.http.delete(app.url(&management)).bearer_auth(rat)).await;
    assert_eq!(status, 400, "{body}");
}

async fn nul_in_an_import_cell_is_a_row_error_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let before = app.state.store.users().count().await.unwrap();
    let csv = "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status\n\
               198503302010011002,Budi\u{0}Santoso,,,Analis\u{1b}[2J,,APTIKA,budi@example.go.id,,PNS,aktif \t\n\
               199001012015031001,\"Sari\nDewi\",,,,,APTIKA,sari@example.go.id,,PNS,aktif\n\
               199001012015031002,Tono,,,,,APTIKA,tono@example.go.id,,PNS,aktif\n";
    let resp = app
        .http
        .post(app.url("/api/v1/imports?mode=apply"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    let errors: Vec<(Option<u64>, Option<&str>)> =
        body["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_u64(), e["field"].as_str())).collect();
    let expected = [(Some(2), Some("nama")), (Some(2), Some("jabatan")), (Some(3), Some("nama"))];
    assert_eq!((status, errors), (422, expected.to_vec()), "cells are trimmed first (the TAB after aktif): {body}");
    assert!(body["errors"][0]["reason"].as_str().unwrap().contains("U+0000"), "{body}");
    assert_eq!(app.state.store.users().count().await.unwrap(), before, "all or nothing");
}
