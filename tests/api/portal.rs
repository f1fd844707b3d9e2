//! The employees' portal at `/`: after signing in, the applications this person may open,
//! general ones first, then the special ones of their agencies; none they may not use.

use pintu::directory::ProfilePatch;
use serde_json::json;

use crate::backend_tests;
use crate::support::browser::location;
use crate::support::{Backend, TestApp, TestClient};

backend_tests!(the_portal_lists_the_applications_a_person_may_open);

async fn app_with_home(app: &TestApp, name: &str, home: Option<&str>) -> TestClient {
    let mut metadata = json!({
        "client_name": name,
        "redirect_uris": ["http://127.0.0.1:9/callback"],
        "grant_types": ["authorization_code"],
    });
    if let Some(home) = home {
        metadata["client_uri"] = json!(home);
    }
    app.client_from(metadata, true).await
}

async fn the_portal_lists_the_applications_a_person_may_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    app.pegawai("siti", "PUSKESMAS").await;
    let mail = app_with_home(&app, "Surat Elektronik", Some("https://mail.example.go.id/")).await;
    app.set_profile(&mail.id, ProfilePatch { category: Some("umum".into()), ..Default::default() }).await;
    let health = app_with_home(&app, "SIMPUS Puskesmas", Some("https://simpus.example.go.id/")).await;
    let special = |unit: &str| ProfilePatch {
        category: Some("khusus".into()),
        owner: Some(unit.into()),
        access_org_units: Some(vec![unit.into()]),
        ..Default::default()
    };
    app.set_profile(&health.id, special("DINKES")).await;
    let elsewhere = app_with_home(&app, "Aplikasi Kominfo", Some("https://kominfo.example.go.id/")).await;
    app.set_profile(&elsewhere.id, special("DISKOMINFO")).await;
    app_with_home(&app, "Tanpa Halaman", None).await;
    let gone = app_with_home(&app, "Aplikasi Lama", Some("https://lama.example.go.id/")).await;
    app.disable_app(&gone.id).await;

    // Without a session, the front door leads to the account page's sign-in.
    let browser = app.browser();
    let (status, _, headers) = browser.get(&app.url("/")).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/account"));
    app.code_for(&browser, &mail, "siti", &[]).await;
    let (status, page, _) = browser.get(&app.url("/")).await;
    assert_eq!(status, 200, "{page}");
    let page = page.replace("&#x2f;", "/");
    assert!(page.contains("Surat Elektronik") && page.contains("https://mail.example.go.id/"), "{page}");
    assert!(page.contains("SIMPUS Puskesmas") && page.contains("Unit DINKES"), "a unit's own application: {page}");
    for absent in ["Aplikasi Kominfo", "Tanpa Halaman", "Aplikasi Lama"] {
        assert!(!page.contains(absent), "{absent} should not be listed: {page}");
    }
    let general = page.find("Aplikasi umum").unwrap_or_else(|| panic!("{page}"));
    let special = page.find("Aplikasi khusus").unwrap();
    assert!(general < page.find("Surat Elektronik").unwrap() && special < page.find("SIMPUS").unwrap());
}
