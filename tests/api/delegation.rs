//! Delegated administration: an OPD administrator reads and changes their own subtree and
//! nothing outside it.

use serde_json::json;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(opd_admin_reaches_only_their_subtree, opd_admin_cannot_escalate);

async fn opd_admin_reaches_only_their_subtree(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let inside = app.pegawai("andi", "APTIKA").await;
    let outside = app.pegawai("dewi", "DINKES").await;
    let token = app.opd_admin_token("kadis", "DISKOMINFO").await;

    let users = app.get_api("/api/v1/users", &token).await;
    assert_eq!(users.status, 200, "{}", users.body);
    let names: Vec<&str> =
        users.body["items"].as_array().unwrap().iter().filter_map(|u| u["username"].as_str()).collect();
    assert!(names.contains(&"andi") && names.contains(&"kadis") && !names.contains(&"dewi"), "{names:?}");
    assert_eq!(app.get_api("/api/v1/users?opd=DINKES", &token).await.status, 403);
    assert_eq!(app.get_api("/api/v1/users?q=dewi", &token).await.body["items"].as_array().unwrap().len(), 0);

    assert_eq!(app.get_api(&format!("/api/v1/users/{outside}"), &token).await.status, 404);
    let patch = app
        .api("PATCH", &format!("/api/v1/users/{outside}"), &token, Some(json!({"jabatan": "x"})), Some("\"1\""))
        .await;
    assert_eq!(patch.status, 404);
    assert_eq!(app.get_api(&format!("/api/v1/users/{outside}/history"), &token).await.status, 404);
    assert_eq!(app.get_api(&format!("/api/v1/users/{outside}/roles"), &token).await.status, 404);

    let mine = app.get_api(&format!("/api/v1/users/{inside}"), &token).await;
    assert_eq!(mine.status, 200);
    let away = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{inside}"),
            &token,
            Some(json!({"org_unit": "DINKES"})),
            Some(&mine.etag()),
        )
        .await;
    assert_eq!(away.status, 403, "moving a person out of the subtree is refused");
    let ok = app
        .api(
            "PATCH",
            &format!("/api/v1/users/{inside}"),
            &token,
            Some(json!({"jabatan": "Pranata"})),
            Some(&mine.etag()),
        )
        .await;
    assert_eq!(ok.status, 200);

    let elsewhere = json!({"name": "Baru", "email": "baru@example.go.id", "org_unit": "PUSKESMAS"});
    assert_eq!(app.api("POST", "/api/v1/users", &token, Some(elsewhere), None).await.status, 403);
    let nowhere = json!({"name": "Baru", "email": "baru@example.go.id"});
    assert_eq!(app.api("POST", "/api/v1/users", &token, Some(nowhere), None).await.status, 422);
    let here = json!({"name": "Baru", "email": "baru@example.go.id", "org_unit": "APTIKA"});
    assert_eq!(app.api("POST", "/api/v1/users", &token, Some(here), None).await.status, 201);

    let units = app.get_api("/api/v1/org-units", &token).await;
    let codes: Vec<&str> = units.body["items"].as_array().unwrap().iter().filter_map(|u| u["code"].as_str()).collect();
    assert_eq!(codes, vec!["APTIKA", "DISKOMINFO"]);
    assert_eq!(app.get_api("/api/v1/org-units/DINKES", &token).await.status, 404);
    assert_eq!(app.get_api("/api/v1/org-units/PEMDA/history", &token).await.status, 404);
    let child = json!({"code": "SEKSI-1", "name": "Seksi", "kind": "seksi", "parent": "APTIKA"});
    assert_eq!(app.api("POST", "/api/v1/org-units", &token, Some(child), None).await.status, 201);
    let foreign = json!({"code": "SEKSI-2", "name": "Seksi", "kind": "seksi", "parent": "DINKES"});
    assert_eq!(app.api("POST", "/api/v1/org-units", &token, Some(foreign), None).await.status, 403);
    let root = json!({"code": "ROOT2", "name": "Root", "kind": "pemda"});
    assert_eq!(app.api("POST", "/api/v1/org-units", &token, Some(root), None).await.status, 403);

    let csv = "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status\n";
    let import =
        app.http.post(app.url("/api/v1/imports")).bearer_auth(&token).header("content-type", "text/csv").body(csv);
    assert_eq!(import.send().await.unwrap().status(), 403);
    assert_eq!(app.get_api("/api/v1/audit/verify", &token).await.status, 403);
    let events = app.get_api("/api/v1/audit/events", &token).await;
    assert!(
        events.body["items"].as_array().unwrap().iter().all(|e| e["target"] != outside.as_str()),
        "no events about people outside"
    );
}

async fn opd_admin_cannot_escalate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.opd_admin_token("kadis", "DISKOMINFO").await;
    let me = app.get_api("/api/v1/users?q=kadis", &token).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    let root = app.get_api("/api/v1/org-units/DISKOMINFO", &token).await;
    let moved = app
        .api("PATCH", "/api/v1/org-units/DISKOMINFO", &token, Some(json!({"parent": "DINKES"})), Some(&root.etag()))
        .await;
    assert_eq!(moved.status, 403);
    let office = json!({"role": "pintu.admin"});
    let r = app.api("POST", &format!("/api/v1/users/{me}/roles"), &token, Some(office), None).await;
    assert_eq!(r.status, 422, "pintu.admin is out of reach: {}", r.body);
    let roles = app.get_api("/api/v1/roles", &token).await;
    assert!(roles.body["items"].as_array().unwrap().iter().all(|r| r["name"] != "pintu.admin"));
    let boss = app.pegawai("boss", "APTIKA").await;
    let office = pintu::directory::GrantInput {
        role: "pintu.admin".into(),
        org_unit: None,
        valid_from: None,
        valid_until: None,
    };
    app.state.directory.grant_role(&pintu::directory::Actor::cli(), &boss, &office).await.unwrap();
    let boss_path = format!("/api/v1/users/{boss}");
    let tag = app.get_api(&boss_path, &token).await.etag();
    let takeover = json!({"password": "kata-sandi-baru-yang-panjang"});
    let r = app.api("PATCH", &boss_path, &token, Some(takeover), Some(&tag)).await;
    assert_eq!(r.status, 403, "an office administrator in the subtree is not the OPD admin's to manage");
    let r = app
        .api(
            "POST",
            &format!("{boss_path}/roles"),
            &token,
            Some(json!({"role": "pintu.opd_admin", "org_unit": "APTIKA"})),
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    let global = json!({"name": "operator"});
    assert_eq!(app.api("POST", "/api/v1/roles", &token, Some(global), None).await.status, 403);

    let app_outside = app.client().await;
    app.set_profile(
        &app_outside.id,
        pintu::directory::ProfilePatch { owner: Some("DINKES".into()), ..Default::default() },
    )
    .await;
    let app_inside = app.client().await;
    app.set_profile(
        &app_inside.id,
        pintu::directory::ProfilePatch { owner: Some("APTIKA".into()), ..Default::default() },
    )
    .await;
    let apps = app.get_api("/api/v1/applications", &token).await;
    let ids: Vec<&str> =
        apps.body["items"].as_array().unwrap().iter().filter_map(|a| a["client_id"].as_str()).collect();
    assert_eq!(ids, vec![app_inside.id.as_str()]);
    assert_eq!(app.get_api(&format!("/api/v1/applications/{}", app_outside.id), &token).await.status, 404);
    let path = format!("/api/v1/applications/{}", app_inside.id);
    let tag = app.get_api(&path, &token).await.etag();
    let nik = app.api("PATCH", &path, &token, Some(json!({"claims": ["nik"]})), Some(&tag)).await;
    assert_eq!(nik.status, 403, "releasing NIK is for the office");
    let admin = app.api("PATCH", &path, &token, Some(json!({"admin": "office"})), Some(&tag)).await;
    assert_eq!(admin.status, 403);
    let fine = app
        .api("PATCH", &path, &token, Some(json!({"claims": ["nip", "opd"], "category": "khusus"})), Some(&tag))
        .await;
    assert_eq!(fine.status, 200, "{}", fine.body);
    let role = json!({"name": "verifikator", "application": app_inside.id});
    let created = app.api("POST", "/api/v1/roles", &token, Some(role), None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let foreign_role = json!({"name": "verifikator", "application": app_outside.id});
    assert_eq!(app.api("POST", "/api/v1/roles", &token, Some(foreign_role), None).await.status, 422);
}
