//! The audit trail and the reports derived from it.

use serde_json::Value;

use crate::backend_tests;
use crate::support::browser::form_in;
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(
    logins_tokens_and_changes_are_audited_and_reported,
    tampering_with_the_audit_log_is_detected,
    report_csv_cells_never_start_a_formula
);

async fn failed_login(app: &TestApp, client: &crate::support::TestClient, username: &str) {
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.code_flow_url(client, &[])).await;
    let (status, page, _) = browser.login(&page, username, "salah-salah-salah").await;
    assert_eq!(status, 401, "{page}");
    assert!(form_in(&page).is_some());
}

async fn logins_tokens_and_changes_are_audited_and_reported(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let client = app.client().await;
    app.pegawai("budi", "APTIKA").await;
    app.pegawai("sari", "DINKES").await;
    let start = app.now();
    for user in ["budi", "budi", "sari"] {
        let code = app.code_for(&app.browser(), &client, user, &[]).await;
        let (status, _) = app
            .token(
                &client,
                &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)],
            )
            .await;
        assert_eq!(status, 200);
    }
    failed_login(&app, &client, "budi").await;
    failed_login(&app, &client, "nobody").await;

    let events = app.get_api("/api/v1/audit/events?limit=1000", &token).await;
    let items = events.body["items"].as_array().unwrap();
    let count =
        |action: &str, outcome: &str| items.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).count();
    assert_eq!(count("login", "success"), 3);
    assert_eq!(count("login", "failure"), 2);
    assert!(count("token.issued", "success") >= 4, "three code exchanges and the office token");
    assert!(count("admin.user.create", "success") >= 2);
    assert!(count("admin.org_unit.create", "success") == 5);
    let login = items.iter().find(|e| e["action"] == "login" && e["outcome"] == "success").unwrap();
    assert_eq!((login["level"].as_i64(), login["source_ip"].as_str()), (Some(1), Some("127.0.0.1")));
    assert_eq!(login["client_id"], client.id.as_str());
    let text = events.body.to_string();
    assert!(
        !text.contains(PASSWORD) && !text.contains("salah-salah") && !text.contains(&token),
        "no secrets in events"
    );
    let verify = app.get_api("/api/v1/audit/verify", &token).await;
    assert_eq!(
        (verify.body["problems"].as_array().map(Vec::len), verify.body["events"].as_u64() > Some(10)),
        (Some(0), true)
    );

    let period = format!("from={start}&to={}", app.now() + 1);
    let report = app.get_api(&format!("/api/v1/reports/org-units?{period}"), &token).await;
    let rows = report.body["items"].as_array().unwrap();
    let row = |key: &str| rows.iter().find(|r| r["key"] == key).cloned().unwrap_or(Value::Null);
    let aptika = row("APTIKA");
    assert_eq!(
        (
            aptika["logins"].as_i64(),
            aptika["failures"].as_i64(),
            aptika["active_users"].as_i64(),
            aptika["level_1"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(2)),
        "{report:?}",
        report = report.body
    );
    assert_eq!(row("DINKES")["logins"], 1);
    let by_app = app.get_api(&format!("/api/v1/reports/applications?{period}"), &token).await;
    let eoffice =
        by_app.body["items"].as_array().unwrap().iter().find(|r| r["key"] == client.id.as_str()).cloned().unwrap();
    assert_eq!(
        (eoffice["name"].as_str(), eoffice["logins"].as_i64(), eoffice["active_users"].as_i64()),
        (Some("E-Office"), Some(3), Some(2))
    );
    let csv = app.http.get(app.url(&format!("/api/v1/reports/org-units?{period}&format=csv"))).bearer_auth(&token);
    let csv = csv.send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("key,name,active_users,logins,failures,level_1"), "{csv}");
    assert!(csv.contains("APTIKA,Unit APTIKA,1,2,1,2,0,0,0\r\n"), "{csv}");
    assert_eq!(app.get_api(&format!("/api/v1/reports/org-units?{period}&format=xml"), &token).await.status, 422);
    assert_eq!(app.get_api("/api/v1/reports/org-units?from=10&to=5", &token).await.status, 422);
}

async fn tampering_with_the_audit_log_is_detected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    assert!(app.raw_sql("UPDATE audit_events SET outcome = 'failure' WHERE seq = 2").await.is_err(), "append-only");
    assert!(app.raw_sql("DELETE FROM audit_events WHERE seq = 2").await.is_err(), "append-only");
    let intact = app.get_api("/api/v1/audit/verify", &token).await.body;
    assert_eq!(intact["problems"], serde_json::json!([]));

    let drop = if app.db_url.starts_with("sqlite:") {
        "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;"
    } else {
        "DROP TRIGGER audit_events_no_change ON audit_events;"
    };
    app.raw_sql(drop).await.unwrap();
    app.raw_sql("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2").await.unwrap();
    let edited = app.get_api("/api/v1/audit/verify", &token).await.body;
    let problems = edited["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{edited}");
    assert_eq!(problems[0]["seq"], 2);
    app.raw_sql("DELETE FROM audit_events WHERE seq = 4").await.unwrap();
    let deleted = app.get_api("/api/v1/audit/verify", &token).await.body;
    assert!(deleted["problems"].as_array().unwrap().iter().any(|p| p["seq"] == 5), "the gap is reported: {deleted}");
}

/// OWASP "CSV Injection": a cell starting with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'`.
async fn report_csv_cells_never_start_a_formula(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let client = app.client().await;
    // Names as they may sit in the database (written before the control-character rule, or
    // straight into it): the API refuses a TAB or CR in a name today.
    for (code, name) in [("APTIKA", "=HYPERLINK(\"http://x\")"), ("DINKES", "\t=1+2"), ("PUSKESMAS", "\r@SUM(1)")] {
        app.raw_sql(&format!("UPDATE org_units SET name = '{name}' WHERE code = '{code}'")).await.unwrap();
    }
    let start = app.now();
    for (user, unit) in [("budi", "APTIKA"), ("sari", "DINKES"), ("tono", "PUSKESMAS")] {
        app.pegawai(user, unit).await;
        app.code_for(&app.browser(), &client, user, &[]).await;
    }
    let period = format!("from={start}&to={}", app.now() + 1);
    let csv = app.http.get(app.url(&format!("/api/v1/reports/org-units?{period}&format=csv"))).bearer_auth(&token);
    let csv = csv.send().await.unwrap().text().await.unwrap();
    for line in ["APTIKA,\"'=HYPERLINK(\"\"http://x\"\")\",1,", "DINKES,'\t=1+2,1,", "PUSKESMAS,\"'\r@SUM(1)\",1,"] {
        assert!(csv.contains(line), "{line:?} missing from {csv:?}");
    }
}
