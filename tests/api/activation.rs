//! Activating imported accounts: an administrator issues single-use, expiring codes for a
//! person or a whole unit (within reach), printed as letters; the person types their name,
//! the code and a new password, and is signed in; where their unit asks for a second factor,
//! they enrol it first. No enumeration, throttled, audited.

use pintu::directory::{Actor, OrgUnitInput, UserInput};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::browser::location;
use crate::support::{Backend, Browser, PASSWORD, TestApp};

backend_tests!(
    imported_people_activate_their_accounts_with_a_code,
    codes_are_issued_per_unit_within_reach_and_printed_as_letters,
);

/// A person as the HR import leaves them: no password.
async fn imported(app: &TestApp, username: &str, unit: &str) -> String {
    let input = UserInput {
        username: Some(username.into()),
        name: format!("{username} Imported"),
        org_unit: Some(unit.into()),
        ..Default::default()
    };
    app.state.directory.create_user(&Actor::cli(), &input).await.expect("create").id
}

async fn issue(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let r = app.api("POST", "/api/v1/activations", token, Some(body), None).await;
    (r.status, r.body)
}

/// The activation form's action and CSRF token.
fn form_of(page: &str) -> (String, String) {
    let page = page.replace("&#x2f;", "/");
    let between = |from: &str| page.split(from).nth(1).unwrap().split('"').next().unwrap().to_owned();
    (format!("/activate/{}", between("action=\"/activate/")), between("name=\"csrf_token\" value=\""))
}

async fn activate(browser: &Browser, login: &str, code: &str, password: &str, confirm: &str) -> (u16, String, String) {
    let (_, page, _) = browser.get(&format!("{}/activate", browser.base())).await;
    let (action, csrf) = form_of(&page);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("login", login),
        ("code", code),
        ("new_password", password),
        ("confirm_password", confirm),
    ];
    let (status, page, headers) = browser.post(&action, &fields).await;
    let to = if status == 303 { location(&headers) } else { String::new() };
    (status.as_u16(), page, to)
}

const NEW_PASSWORD: &str = "tanjung-priok-senja-2026";

async fn imported_people_activate_their_accounts_with_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let strict = OrgUnitInput {
        code: "RSUD".into(),
        name: "Rumah Sakit Umum Daerah".into(),
        kind: "uptd".into(),
        parent: Some("PEMDA".into()),
        min_level: Some(2),
    };
    app.state.directory.create_org_unit(&Actor::cli(), &strict).await.unwrap();
    imported(&app, "siti", "DINKES").await;
    imported(&app, "rina", "RSUD").await;
    imported(&app, "agus", "DINKES").await;
    let token = app.office_token().await;
    let (status, body) = issue(&app, &token, json!({ "user": "siti" })).await;
    assert_eq!(status, 201, "{body}");
    let code = body["items"][0]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14, "{body}");

    // The letter's link fills in the name.
    let browser = app.browser();
    let (status, page, _) = browser.get(&app.url("/activate?login=siti")).await;
    assert_eq!(status, 200);
    assert!(page.contains("value=\"siti\""), "{page}");

    // A wrong code and an unknown name get the same answer; nothing about who exists.
    let (status, wrong, _) = activate(&browser, "siti", "AAAA-BBBB-CCCC", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 401);
    let (status, unknown, _) = activate(&browser, "nobody", &code, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 401);
    let message = "kodenya sudah dipakai atau kedaluwarsa";
    assert!(wrong.contains(message) && unknown.contains(message), "{wrong}");
    // Passwords that differ, or that the policy refuses, do not spend the code.
    let (status, _, _) = activate(&browser, "siti", &code, NEW_PASSWORD, "something-else-2026").await;
    assert_eq!(status, 400);
    let (status, page, _) = activate(&browser, "siti", &code, "12345678", "12345678").await;
    assert_eq!(status, 400, "{page}");
    // Typed in lower case with spaces, as people do.
    let typed = code.to_lowercase().replace('-', " ");
    let (status, page, to) = activate(&browser, "siti", &typed, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!((status, to.as_str()), (303, "/account"), "{page}");
    let (status, page, _) = browser.get(&app.url("/account")).await;
    assert_eq!(status, 200, "signed in: {page}");
    assert!(page.contains("siti"), "{page}");
    // Single use; the new password signs in anywhere.
    let (status, _, _) = activate(&app.browser(), "siti", &code, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 401);
    let portal = app.client().await;
    let other = app.browser();
    let (_, page, _) = other.get(&app.code_flow_url(&portal, &[])).await;
    let (status, _, headers) = other.login(&page, "siti", NEW_PASSWORD).await;
    assert_eq!(status, 303, "the chosen password signs in");
    assert!(location(&headers).contains("code="));

    // A unit that asks for a second factor: its people enrol one first.
    let (_, body) = issue(&app, &token, json!({ "user": "rina" })).await;
    let rina = body["items"][0]["code"].as_str().unwrap().to_owned();
    let (status, _, to) = activate(&app.browser(), "rina", &rina, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!((status, to.as_str()), (303, "/account/totp"));

    // Expired codes do not work; guessing is throttled.
    let (_, body) = issue(&app, &token, json!({ "user": "agus", "days": 1 })).await;
    let agus = body["items"][0]["code"].as_str().unwrap().to_owned();
    app.clock.advance(2 * 86_400);
    let (status, _, _) = activate(&app.browser(), "agus", &agus, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 401);
    let guesser = app.browser();
    let mut throttled = false;
    for i in 0..12 {
        let (status, _, _) =
            activate(&guesser, "agus", &format!("ZZZZ-ZZZZ-ZZ{i:02}"), NEW_PASSWORD, NEW_PASSWORD).await;
        if status == 429 {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "guessing codes is throttled");

    let issued = app.raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'admin.activation.issue'").await;
    let used = app.raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'admin.activation.use'").await;
    assert_eq!((issued, used), (3, 2));
    let stored = app.raw_count(&format!("SELECT COUNT(*) FROM activation_codes WHERE code_hash LIKE '%{agus}%'")).await;
    assert_eq!(stored, 0, "codes are stored hashed");
}

async fn codes_are_issued_per_unit_within_reach_and_printed_as_letters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    imported(&app, "wati", "DINKES").await;
    imported(&app, "bayu", "PUSKESMAS").await;
    let outside = imported(&app, "dedi", "DISKOMINFO").await;
    app.pegawai("lama", "DINKES").await; // has a password already: still gets a code (a reset)
    let admin = app.opd_admin_token("kepala", "DINKES").await;

    let (status, body) = issue(&app, &admin, json!({ "org_unit": "DINKES" })).await;
    assert_eq!(status, 201, "{body}");
    let names: Vec<&str> = body["items"].as_array().unwrap().iter().map(|i| i["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"wati") && names.contains(&"bayu") && !names.contains(&"dedi"), "{names:?}");
    let units: Vec<&str> = body["items"].as_array().unwrap().iter().map(|i| i["unit"].as_str().unwrap()).collect();
    let mut sorted = units.clone();
    sorted.sort();
    assert_eq!(units, sorted, "sorted by unit");

    // Outside the administrator's reach: refused.
    let (status, _) = issue(&app, &admin, json!({ "org_unit": "DISKOMINFO" })).await;
    assert_eq!(status, 403);
    let (status, _) = issue(&app, &admin, json!({ "user": outside })).await;
    assert_eq!(status, 404);
    let (status, _) = issue(&app, &admin, json!({ "user": "wati", "org_unit": "DINKES" })).await;
    assert!(status == 400 || status == 422, "{status}");
    let (status, _) = issue(&app, &admin, json!({ "user": "wati", "days": 365 })).await;
    assert!(status == 400 || status == 422, "{status}");

    // The letters: one per person, with the code and a QR code, never cached.
    let token = app.office_token().await;
    let resp = app
        .http
        .post(app.url("/api/v1/activations?format=html&lang=id"))
        .bearer_auth(&token)
        .json(&json!({ "org_unit": "PUSKESMAS" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let html = resp.text().await.unwrap();
    assert!(html.contains("bayu Imported") && html.contains("<svg"), "{html}");
    assert_eq!(html.matches("class=\"letter\"").count(), 1, "{html}");
    let _ = PASSWORD;
}
