//! What administrators do to accounts beyond their directory fields: one namespace of login
//! names, and passwords they set.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::browser::location;
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(
    a_password_set_by_an_administrator_ends_sessions_and_tokens,
    a_login_name_may_not_be_another_accounts_email_or_nip,
    an_import_row_may_not_take_another_accounts_login_name,
    clashing_old_data_resolves_one_account_for_login_and_commands,
);

const NEW_PASSWORD: &str = "jembatan-merah-putih-di-sungai-musi";

async fn a_password_set_by_an_administrator_ends_sessions_and_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let id = app.pegawai("rina", "DINKES").await;
    let client = app.client().await;
    let browser = app.browser();
    let code = app.code_for(&browser, &client, "rina", &[]).await;
    let exchange = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)];
    let (_, tokens) = app.token(&client, &exchange).await;
    let path = format!("/api/v1/users/{id}");
    let tag = app.get_api(&path, &token).await.etag();
    let set = app.api("PATCH", &path, &token, Some(json!({"password": NEW_PASSWORD})), Some(&tag)).await;
    assert_eq!(set.status, 200, "{}", set.body);

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "offline_access too");
    let userinfo = app.http.get(app.url("/oauth2/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap());
    assert_eq!(userinfo.send().await.unwrap().status(), 401);
    // The browser's session is over: the next authorization asks for the password again.
    let (status, page, headers) = browser.get(&app.code_flow_url(&client, &[])).await;
    assert_eq!(status, 200, "a login page, not a redirect to {}", location(&headers));
    assert!(page.contains("password"), "{page}");
    let (status, _, _) = browser.login(&page, "rina", PASSWORD).await;
    assert_eq!(status, 401, "the old password no longer works");

    let events = app.get_api("/api/v1/audit/events?limit=1000", &token).await.body;
    let items = events["items"].as_array().unwrap();
    let has = |action: &str, reason: Option<&str>| {
        items.iter().any(|e| {
            e["action"] == action && reason.is_none_or(|r| e["detail"].as_str().is_some_and(|d| d.contains(r)))
        })
    };
    assert!(has("admin.user.password.set", None) && has("session.revoked", Some("password_set")));
    assert!(!events.to_string().contains(NEW_PASSWORD), "no secret in the audit log");
}

async fn create(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let created = app.api("POST", "/api/v1/users", token, Some(body), None).await;
    (created.status, created.body)
}

async fn a_login_name_may_not_be_another_accounts_email_or_nip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let budi = json!({"username": "budi", "name": "Budi", "email": "budi@example.go.id",
        "nip": "198503302010011002", "org_unit": "APTIKA"});
    assert_eq!(create(&app, &token, budi).await.0, 201);
    let dewi = json!({"username": "dewi@example.go.id", "name": "Dewi", "org_unit": "APTIKA"});
    assert_eq!(create(&app, &token, dewi).await.0, 201);
    let clashes = [("Budi@Example.go.id", None), ("198503302010011002", None), ("ani", Some("DEWI@example.go.id"))];
    for (username, email) in clashes {
        let body = json!({"username": username, "name": "Lain", "email": email, "org_unit": "APTIKA"});
        let (status, problem) = create(&app, &token, body).await;
        assert_eq!(status, 409, "{username} / {email:?}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("already taken"), "{problem}");
    }
    let (status, ani) = create(&app, &token, json!({"username": "ani", "name": "Ani", "org_unit": "APTIKA"})).await;
    assert_eq!(status, 201, "{ani}");
    let path = format!("/api/v1/users/{}", ani["id"].as_str().unwrap());
    let tag = app.get_api(&path, &token).await.etag();
    let taken = app.api("PATCH", &path, &token, Some(json!({"email": "dewi@example.go.id"})), Some(&tag)).await;
    assert_eq!(taken.status, 409, "an update may not take a login name either: {}", taken.body);
    let fine = app.api("PATCH", &path, &token, Some(json!({"email": "ani@example.go.id"})), Some(&tag)).await;
    assert_eq!(fine.status, 200, "{}", fine.body);
}

async fn an_import_row_may_not_take_another_accounts_login_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    // An account whose login name is an e-mail address the HR export also carries.
    let body = json!({"username": "sari@example.go.id", "name": "Sari", "org_unit": "APTIKA"});
    assert_eq!(create(&app, &token, body).await.0, 201);
    let csv = "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status\n\
        ,Sari Lain,,,,,DINKES,sari@example.go.id,,non-ASN,aktif\n";
    let resp = app.http.post(app.url("/api/v1/imports")).bearer_auth(&token).header("content-type", "text/csv");
    let report: Value = resp.body(csv).send().await.unwrap().json().await.unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!((errors.len(), errors[0]["line"].as_u64(), errors[0]["field"].as_str()), (1, Some(2), Some("email")));
}

async fn clashing_old_data_resolves_one_account_for_login_and_commands(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.user("x@kominfo.go.id").await; // username = another's e-mail, from before the rule
    let other = app.user("lain").await;
    app.raw_sql(&format!("UPDATE users SET email = 'x@kominfo.go.id' WHERE id = '{}'", other.id)).await.unwrap();
    app.raw_sql(&format!("UPDATE users SET email = NULL WHERE id = '{}'", owner.id)).await.unwrap();
    let found = app.state.store.users().find_credentials("x@kominfo.go.id").await.unwrap().unwrap();
    assert_eq!(found.0.id, owner.id, "the username takes precedence at login");
    let actor = pintu::directory::Actor::cli();
    let suspended = pintu::domain::UserStatus::Suspended;
    app.state.directory.set_status(&actor, "X@kominfo.go.id", suspended).await.unwrap();
    let owner_now = app.state.store.users().find(&owner.id).await.unwrap().unwrap();
    let other_now = app.state.store.users().find(&other.id).await.unwrap().unwrap();
    assert!(owner_now.disabled && !other_now.disabled, "the command named the account the login resolves");
    let conflicts = app.state.directory.login_conflicts(&actor).await.unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!((conflicts[0].account.as_str(), conflicts[0].other.as_str()), (owner.id.as_str(), other.id.as_str()));
}
