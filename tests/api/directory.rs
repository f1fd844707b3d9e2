//! The admin API over the directory: org units, people, ETags, pagination, problem documents.

use serde_json::json;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(
    org_units_are_created_renamed_and_moved_with_history,
    org_tree_refuses_cycles_unknown_parents_and_duplicate_codes,
    people_are_created_validated_and_listed_with_filters_and_pages,
    concurrent_updates_get_412_not_lost_writes,
    the_api_needs_a_pintu_admin_token,
    a_transfer_ends_sessions_and_refresh_tokens,
);

async fn org_units_are_created_renamed_and_moved_with_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.office_token().await;
    let created = app
        .api(
            "POST",
            "/api/v1/org-units",
            &token,
            Some(json!({"code": "pemda", "name": "Pemkab", "kind": "pemda"})),
            None,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!((created.body["code"].as_str(), created.etag().as_str()), (Some("PEMDA"), "\"1\""));
    for (code, parent) in [("DISKOMINFO", "PEMDA"), ("SETDA", "PEMDA"), ("APTIKA", "DISKOMINFO")] {
        let body = json!({"code": code, "name": code, "kind": "dinas", "parent": parent});
        assert_eq!(app.api("POST", "/api/v1/org-units", &token, Some(body), None).await.status, 201);
    }
    let unit = app.get_api("/api/v1/org-units/aptika", &token).await;
    assert_eq!((unit.status, unit.body["parent"].as_str()), (200, Some("DISKOMINFO")));
    let patch = json!({"name": "Bidang Aptika", "parent": "SETDA"});
    let moved = app.api("PATCH", "/api/v1/org-units/APTIKA", &token, Some(patch), Some(&unit.etag())).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!((moved.body["parent"].as_str(), moved.etag().as_str()), (Some("SETDA"), "\"2\""));
    let history = app.get_api("/api/v1/org-units/APTIKA/history", &token).await;
    let items = history.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["subject_kind"], "org_unit");
    let list = app.get_api("/api/v1/org-units", &token).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 4);
}

async fn org_tree_refuses_cycles_unknown_parents_and_duplicate_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let pemda = app.get_api("/api/v1/org-units/PEMDA", &token).await;
    let cycle = app
        .api("PATCH", "/api/v1/org-units/PEMDA", &token, Some(json!({"parent": "APTIKA"})), Some(&pemda.etag()))
        .await;
    assert_eq!(cycle.status, 422, "{}", cycle.body);
    assert_eq!(cycle.content_type(), "application/problem+json");
    assert_eq!(cycle.body["errors"][0]["field"], "parent");
    let unknown = json!({"code": "X", "name": "X", "kind": "dinas", "parent": "NOPE"});
    let r = app.api("POST", "/api/v1/org-units", &token, Some(unknown), None).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (422, Some("parent")));
    let dup = json!({"code": "DINKES", "name": "again", "kind": "dinas", "parent": "PEMDA"});
    assert_eq!(app.api("POST", "/api/v1/org-units", &token, Some(dup), None).await.status, 409);
    let bad = json!({"code": "a b", "name": "", "kind": "kerajaan"});
    let r = app.api("POST", "/api/v1/org-units", &token, Some(bad), None).await;
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!((r.status, fields), (422, vec!["code", "name", "kind"]));
    let junk = app.api("POST", "/api/v1/org-units", &token, Some(json!({"code": 1})), None).await;
    assert_eq!((junk.status, junk.content_type().as_str()), (422, "application/problem+json"));
}

async fn people_are_created_validated_and_listed_with_filters_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let budi = json!({
        "nip": "198503302010011002", "name": "Budi Santoso", "front_title": "Ir.", "back_title": "M.T.",
        "email": "Budi@Kominfo.go.id", "employment_type": "PNS", "jabatan": "Kepala Bidang",
        "golongan": "IV/a", "org_unit": "APTIKA", "nik": "3301013003850001"
    });
    let r = app.api("POST", "/api/v1/users", &token, Some(budi.clone()), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["username"], "198503302010011002");
    assert_eq!(r.body["email"], "budi@kominfo.go.id");
    assert_eq!(r.body["display_name"], "Ir. Budi Santoso, M.T.");
    assert_eq!(app.api("POST", "/api/v1/users", &token, Some(budi), None).await.status, 409);
    let bad = json!({"name": "X", "nip": "198513302010011002", "nik": "123", "email": "x", "org_unit": "NOPE"});
    let r = app.api("POST", "/api/v1/users", &token, Some(bad), None).await;
    assert_eq!(r.status, 422);
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    for f in ["nip", "nik", "email"] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    for (i, unit) in ["DISKOMINFO", "APTIKA", "DINKES", "PUSKESMAS"].iter().enumerate() {
        let body = json!({"name": format!("Pegawai {i}"), "email": format!("p{i}@example.go.id"), "org_unit": unit});
        assert_eq!(app.api("POST", "/api/v1/users", &token, Some(body), None).await.status, 201);
    }
    let subtree = app.get_api("/api/v1/users?opd=DISKOMINFO", &token).await;
    assert_eq!(subtree.body["items"].as_array().unwrap().len(), 3, "{}", subtree.body);
    assert!(subtree.body["items"][0].get("nik").is_none(), "lists leave NIK out");
    let by_nip = app.get_api("/api/v1/users?q=19850330", &token).await;
    assert_eq!(by_nip.body["items"][0]["name"], "Budi Santoso");
    let by_name = app.get_api("/api/v1/users?q=pegawai%203", &token).await;
    assert_eq!(by_name.body["items"].as_array().unwrap().len(), 1);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get_api(&format!("/api/v1/users?limit=2{cursor}"), &token).await;
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages do not overlap");
    for weak in ["passwordpassword", "bismillah2024!", "santoso-1985-kab"] {
        let body = json!({"name": "Rudi Santoso", "email": "rudi@example.go.id", "password": weak});
        let r = app.api("POST", "/api/v1/users", &token, Some(body), None).await;
        assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (422, Some("password")), "{weak}: {}", r.body);
    }
    assert_eq!(app.get_api("/api/v1/users?limit=0", &token).await.status, 422);
    assert_eq!(app.get_api("/api/v1/users?status=asleep", &token).await.status, 422);
}

async fn concurrent_updates_get_412_not_lost_writes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let id = app.pegawai("sari", "DINKES").await;
    let path = format!("/api/v1/users/{id}");
    let read = app.get_api(&path, &token).await;
    let tag = read.etag();
    let missing = app.api("PATCH", &path, &token, Some(json!({"jabatan": "A"})), None).await;
    assert_eq!((missing.status, missing.content_type().as_str()), (428, "application/problem+json"));
    let first = app.api("PATCH", &path, &token, Some(json!({"jabatan": "Analis"})), Some(&tag)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = app.api("PATCH", &path, &token, Some(json!({"golongan": "III/b"})), Some(&tag)).await;
    assert_eq!(second.status, 412);
    let now = app.get_api(&path, &token).await;
    assert_eq!((now.body["jabatan"].as_str(), now.body["golongan"].as_str()), (Some("Analis"), None));
    let cleared = app.api("PATCH", &path, &token, Some(json!({"jabatan": null})), Some(&now.etag())).await;
    assert_eq!((cleared.status, cleared.body["jabatan"].is_null()), (200, true));
    let nip = json!({"nip": "198503302010011002"});
    let set = app.api("PATCH", &path, &token, Some(nip), Some(&cleared.etag())).await;
    assert_eq!(set.status, 200, "a NIP can be set once: {}", set.body);
    let change = json!({"nip": "198503302010012002"});
    let r = app.api("PATCH", &path, &token, Some(change), Some(&set.etag())).await;
    assert_eq!((r.status, r.body["errors"][0]["field"].as_str()), (422, Some("nip")));
}

async fn the_api_needs_a_pintu_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = app.http.get(app.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(app.get_api("/api/v1/users", "not-a-token").await.status, 401);
    let plain = app
        .client_from(json!({"client_name": "Batch", "grant_types": ["client_credentials"], "redirect_uris": []}), true)
        .await;
    let (status, body) = app.token(&plain, &[("grant_type", "client_credentials"), ("scope", "pintu.admin")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "only admin-capable apps get pintu.admin"
    );
    let (_, body) = app.token(&plain, &[("grant_type", "client_credentials")]).await;
    let r = app.get_api("/api/v1/users", body["access_token"].as_str().unwrap()).await;
    assert_eq!(r.status, 403, "a token without pintu.admin is refused");
    let spec = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(spec.status(), 200, "the API description is public");
}

async fn a_transfer_ends_sessions_and_refresh_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let id = app.pegawai("rina", "DINKES").await;
    let scoped = pintu::directory::GrantInput {
        role: "pintu.opd_admin".into(),
        org_unit: Some("DINKES".into()),
        valid_from: None,
        valid_until: None,
    };
    app.state.directory.grant_role(&pintu::directory::Actor::cli(), &id, &scoped).await.unwrap();
    let client = app.client().await;
    let browser = app.browser();
    let code = app.code_for(&browser, &client, "rina", &[]).await;
    let (_, tokens) = app
        .token(
            &client,
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)],
        )
        .await;
    let path = format!("/api/v1/users/{id}");
    let tag = app.get_api(&path, &token).await.etag();
    let moved = app.api("PATCH", &path, &token, Some(json!({"org_unit": "APTIKA"})), Some(&tag)).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let userinfo = app.http.get(app.url("/oauth2/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap());
    assert_eq!(userinfo.send().await.unwrap().status(), 401, "access tokens die with the grant");
    let history = app.get_api(&format!("{path}/history"), &token).await;
    assert_eq!(history.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(history.body["items"][0]["from_unit"], "DINKES");
    let grants = app.get_api(&format!("{path}/roles"), &token).await;
    assert_eq!(grants.body["items"], json!([]), "unit-scoped grants end with the post");
}
