//! The HR export import: dry run, all-or-nothing apply, idempotent re-import, retirement.

use serde_json::Value;

use crate::backend_tests;
use crate::support::{Backend, TestApp};

backend_tests!(
    import_reports_every_problem_and_writes_nothing_until_clean,
    reimport_updates_in_place_and_retires_the_missing
);

const HEADER: &str =
    "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status";

async fn post_csv(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/imports{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn lines(rows: &[&str]) -> Vec<u8> {
    format!("{HEADER}\n{}\n", rows.join("\n")).into_bytes()
}

async fn user_count(app: &TestApp) -> i64 {
    app.state.store.users().count().await.unwrap()
}

async fn import_reports_every_problem_and_writes_nothing_until_clean(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let before = user_count(&app).await;
    let rows = [
        "198503302010011002,Budi Santoso,Ir.,M.T.,Kepala Bidang,IV/a,APTIKA,budi@example.go.id,0812,PNS,aktif",
        "199013302015031001,Nip Salah,,,,,APTIKA,,,PNS,aktif",
        "199001012015031001,Unit Salah,,,,,NOPE,x@example.go.id,,PNS,aktif",
        "198503302010011002,Duplikat,,,,,APTIKA,dup@example.go.id,,PNS,aktif",
        ",Honorer,,,,,DINKES,not-an-email,,non-ASN,aktif",
    ];
    let (status, report) = post_csv(&app, &token, "", lines(&rows)).await;
    assert_eq!(status, 200, "{report}");
    let problems: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    for expected in [(3, "nip"), (4, "kode_unit"), (5, "nip"), (6, "email")] {
        assert!(problems.contains(&expected), "{expected:?} missing from {problems:?}");
    }
    assert_eq!(report["applied"], false);
    let (status, problem) = post_csv(&app, &token, "?mode=apply", lines(&rows)).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["errors"].as_array().unwrap().len() >= 4);
    assert_eq!(user_count(&app).await, before, "nothing half-written");

    let (_, wrong_header) = post_csv(&app, &token, "", b"nip;nama;unit\n1;2;3\n".to_vec()).await;
    assert_eq!(
        (wrong_header["errors"][0]["line"].as_u64(), wrong_header["errors"][0]["field"].as_str()),
        (Some(1), Some("header"))
    );
    let mut latin1 = format!("{HEADER}\n").into_bytes();
    latin1.extend_from_slice(b"198503302010011002,Jos\xe9,,,,,APTIKA,,,PNS,aktif\n");
    let (_, encoding) = post_csv(&app, &token, "", latin1).await;
    assert_eq!(encoding["errors"][0]["line"].as_u64(), Some(2));
    // A row with the wrong number of fields hides no other row's problem.
    let mixed = [
        "198503302010011002,Budi,APTIKA",
        "123,Ani,,,,,APTIKA,,,PNS,aktif",
        "1,2",
        "198503302010011003,Dedi,,,,,APTIKA,,,PNS,mutasi",
    ];
    let (_, ragged) = post_csv(&app, &token, "", lines(&mixed)).await;
    let found: Vec<_> = ragged["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [(2, "row"), (3, "nip"), (4, "row"), (5, "status")].map(|(l, f)| (l, f.to_owned()));
    assert_eq!(found, expected, "{ragged}");
    assert_eq!(ragged["rows"], 4, "{ragged}");
    let mutasi = ragged["errors"][3]["reason"].as_str().unwrap();
    assert!(mutasi.contains("kode_unit") && mutasi.contains("pindah"), "one word, one meaning: {mutasi}");
    let wrong_type = app
        .http
        .post(app.url("/api/v1/imports"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{}");
    assert_eq!(wrong_type.send().await.unwrap().status(), 415);

    let (status, report) = post_csv(&app, &token, "?mode=apply", lines(&rows[..1])).await;
    assert_eq!(
        (status, report["created"].as_u64(), report["applied"].as_bool()),
        (200, Some(1), Some(true)),
        "{report}"
    );
    let found = app.get_api("/api/v1/users?q=198503302010011002", &token).await;
    let budi = &found.body["items"][0];
    assert_eq!(
        (budi["org_unit"].as_str(), budi["display_name"].as_str()),
        (Some("APTIKA"), Some("Ir. Budi Santoso, M.T."))
    );
}

async fn reimport_updates_in_place_and_retires_the_missing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let token = app.office_token().await;
    let rows = [
        "198503302010011002,Budi Santoso,,,Analis,III/a,APTIKA,budi@example.go.id,,PNS,aktif",
        "199001012015031001,Sari Dewi,dr.,,Dokter,III/b,PUSKESMAS,sari@example.go.id,,PNS,aktif",
        ",Joko,,,Pramu Bakti,,DINKES,joko@example.go.id,,non-ASN,aktif",
    ];
    let (_, first) = post_csv(&app, &token, "?mode=apply", lines(&rows)).await;
    assert_eq!(first["created"], 3, "{first}");
    let (_, again) = post_csv(&app, &token, "?mode=apply", lines(&rows)).await;
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(0), Some(3)),
        "{again}"
    );

    let sari = app.get_api("/api/v1/users?q=199001012015031001", &token).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/users/{sari}");
    let tag = app.get_api(&path, &token).await.etag();
    let nik = serde_json::json!({"nik": "3301014101900001", "password": crate::support::PASSWORD});
    assert_eq!(app.api("PATCH", &path, &token, Some(nik), Some(&tag)).await.status, 200);
    let client = app.client().await;
    let browser = app.browser();
    let code = app.code_for(&browser, &client, "199001012015031001", &[]).await;
    let (_, tokens) = app
        .token(
            &client,
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &client.redirect_uri)],
        )
        .await;

    let moved = [rows[0], "199001012015031001,Sari Dewi,dr.,,Dokter,III/c,DINKES,sari@example.go.id,,PNS,aktif"];
    let (_, third) = post_csv(&app, &token, "?mode=apply&retire_missing=true", lines(&moved)).await;
    assert_eq!(
        (third["updated"].as_u64(), third["unchanged"].as_u64(), third["retired"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{third}"
    );
    let now = app.get_api(&path, &token).await.body;
    assert_eq!((now["org_unit"].as_str(), now["golongan"].as_str()), (Some("DINKES"), Some("III/c")));
    assert_eq!(now["nik"], "3301014101900001", "columns the export lacks are kept");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(status, 400, "a transfer ends refresh tokens");
    let twice = [rows[0], ",Budi Lagi,,,,,APTIKA,budi@example.go.id,,non-ASN,aktif"];
    let (_, report) = post_csv(&app, &token, "", lines(&twice)).await;
    assert_eq!(report["errors"][0]["line"], 3, "one person, two rows: {report}");
    let joko = app.get_api("/api/v1/users?q=joko", &token).await;
    assert_eq!(joko.body["items"][0]["status"], "retired");
    let active = app.get_api("/api/v1/users?status=active&opd=PEMDA", &token).await;
    assert_eq!(active.body["items"].as_array().unwrap().len(), 2);
}
