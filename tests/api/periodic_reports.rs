//! The monthly report: made by the scheduler once a month has ended (in the regency's time
//! zone), kept as made, read as JSON, CSV or a printable page in either language; the office
//! only, and never for a month still running.

use std::sync::Arc;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(the_monthly_report_is_made_once_kept_and_read_as_json_csv_or_a_page);

/// 18 November 2026, in the middle of the month in WIB.
const NOVEMBER: i64 = 1_795_000_000;
/// 2 December 2026.
const DECEMBER: i64 = 1_796_200_000;

async fn the_monthly_report_is_made_once_kept_and_read_as_json_csv_or_a_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    app.pegawai("ani", "DISKOMINFO").await;
    let client = app.client().await;
    app.clock.set(NOVEMBER);
    for _ in 0..2 {
        app.code_for(&app.browser(), &client, "ani", &[]).await;
    }
    let stranger = app.browser();
    let (_, page, _) = stranger.get(&app.url("/account")).await;
    stranger.login(&page, "ani", "bukan-kata-sandinya").await;

    app.clock.set(DECEMBER);
    let clock: pintu::clock::SharedClock = Arc::new(app.clock.clone());
    let made = pintu::jobs::periodic_reports::make_due(&app.state.directory, &clock, 7).await.unwrap();
    assert_eq!(made.as_deref(), Some("2026-11"), "the scheduler makes last month's report");
    assert_eq!(pintu::jobs::periodic_reports::make_due(&app.state.directory, &clock, 7).await.unwrap(), None, "once");

    let office = app.office_token().await;
    let again = app.api("POST", "/api/v1/reports/periodic/2026-11", &office, None, None).await;
    assert_eq!(again.status, 200, "kept as it was made: {:?}", again.body);
    let report = app.get_api("/api/v1/reports/periodic/2026-11", &office).await.body;
    assert_eq!((report["from"].as_i64(), report["to"].as_i64()), (Some(1_793_466_000), Some(1_796_058_000)));
    let unit = report["by_unit"].as_array().unwrap().iter().find(|l| l["key"] == "DISKOMINFO").expect("ani's unit");
    assert_eq!(
        (unit["logins"].as_i64(), unit["failures"].as_i64(), unit["level_1"].as_i64()),
        (Some(2), Some(1), Some(2))
    );
    assert_eq!(report["totals"]["logins"], 2);
    let apps = report["by_application"].as_array().unwrap();
    let app_line = apps.iter().find(|l| l["key"] == client.id.as_str()).expect("the application's line");
    assert_eq!(app_line["logins"].as_i64(), Some(2));

    let csv =
        app.http.get(app.url("/api/v1/reports/periodic/2026-11?format=csv")).bearer_auth(&office).send().await.unwrap();
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("section,key,name,active_users,logins,failures"), "{csv}");
    assert!(
        csv.contains("\r\nopd,DISKOMINFO,Unit DISKOMINFO,1,2,1,2,0,0,0\r\n") && csv.contains("\r\ntotal,TOTAL,"),
        "{csv}"
    );
    let page = app.http.get(app.url("/api/v1/reports/periodic/2026-11?format=html&lang=en")).bearer_auth(&office);
    let page = page.send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("SSO usage report 2026-11") && page.contains("<svg") && page.contains("Unit DISKOMINFO"),
        "{page}"
    );
    assert!(page.contains("2026-11-01 00:00 – 2026-12-01 00:00 (UTC+7)"), "{page}");
    let list = app.get_api("/api/v1/reports/periodic", &office).await.body;
    assert_eq!(list["items"][0]["period"], "2026-11");

    let running = app.api("POST", "/api/v1/reports/periodic/2026-12", &office, None, None).await;
    assert_eq!(running.status, 422, "December has not ended: {:?}", running.body);
    let malformed = app.api("POST", "/api/v1/reports/periodic/2026-13", &office, None, None).await;
    assert_eq!(malformed.status, 422);
    let opd = app.opd_admin_token("opd.admin", "DISKOMINFO").await;
    assert_eq!(app.get_api("/api/v1/reports/periodic", &opd).await.status, 403);
}
