//! The administrators' console at /admin: only at level 2 and for administrators, acting with
//! the same reach as the admin API; every form needs its CSRF token; what people type is never
//! shown unescaped; an application's secret is shown once.

use pintu::directory::{Actor, GrantInput, ProfilePatch};

use crate::backend_tests;
use crate::levels::{code_at, enrol};
use crate::support::browser::{form_in, location};
use crate::support::{Backend, Browser, TestApp};

backend_tests!(the_console_acts_within_reach_at_level_two);

/// `username` as an administrator (`role` for `unit`, or the office), signed in at level 2 in
/// a browser of their own.
pub(crate) async fn administrator(app: &TestApp, username: &str, unit: &str, office: bool) -> Browser {
    let user = app.pegawai(username, unit).await;
    let grant = GrantInput {
        role: if office { "pintu.admin" } else { "pintu.opd_admin" }.into(),
        org_unit: (!office).then(|| unit.into()),
        valid_from: None,
        valid_until: None,
    };
    app.state.directory.grant_role(&Actor::cli(), &user, &grant).await.expect("grant");
    let portal = app.client().await;
    let level2 = app.client().await;
    app.set_profile(&level2.id, ProfilePatch { min_level: Some(2), ..Default::default() }).await;
    let browser = app.browser();
    let (secret, _) = enrol(app, &browser, &portal, username).await;
    app.clock.advance(30);
    let (_, page, _) = browser.get(&app.code_flow_url(&level2, &[])).await;
    let form = form_in(&page).unwrap();
    let code = code_at(&secret, app.now());
    let (status, _, _) = browser.post(&form.action, &[("csrf_token", &form.csrf_token), ("code", &code)]).await;
    assert_eq!(status, 303, "stepped up to level 2");
    browser
}

/// Uploads `csv` on the console's import page as a browser does (multipart/form-data).
async fn upload_import(app: &TestApp, browser: &Browser, csv: &str, mode: &str) -> (u16, String) {
    let (_, page, _) = browser.get(&app.url("/admin/import")).await;
    let (action, csrf) = form_token(&page, "/admin/import/");
    let file = ("file", "simpeg.csv", "text/csv", csv.as_bytes());
    post_multipart(browser, &action, &[("csrf_token", &csrf), ("mode", mode)], file).await
}

/// Posts a form with one file as a browser does (multipart/form-data): `file` is the field's
/// name, the file's name, its media type and its bytes.
pub(crate) async fn post_multipart(
    browser: &Browser,
    action: &str,
    fields: &[(&str, &str)],
    file: (&str, &str, &str, &[u8]),
) -> (u16, String) {
    let boundary = "----pintu-console-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    let (name, filename, media_type, bytes) = file;
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {media_type}\r\n\r\n"
        )
        .bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let resp = browser
        .client
        .post(format!("{}{action}", browser.base()))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
}

/// The page's last form posting under `action_prefix` (the create form, after any per-row
/// forms), and the page's CSRF token.
pub(crate) fn form_token(page: &str, action_prefix: &str) -> (String, String) {
    let page = page.replace("&#x2f;", "/");
    let last = |from: &str| page.rsplit(from).next().unwrap().split('"').next().unwrap().to_owned();
    (format!("{action_prefix}{}", last(&format!("action=\"{action_prefix}"))), last("name=\"csrf_token\" value=\""))
}

async fn the_console_acts_within_reach_at_level_two(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    app.pegawai("dedi", "DISKOMINFO").await;

    // Without a session: to the sign-in; an employee at level 1: not an administrator.
    let (status, _, headers) = app.browser().get(&app.url("/admin")).await;
    assert_eq!((status.as_u16(), location(&headers).as_str()), (303, "/account"));
    let employee = app.browser();
    app.code_for(&employee, &app.client().await, "dedi", &[]).await;
    let (status, page, _) = employee.get(&app.url("/admin")).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("tingkat keamanan 2"), "level 1 is not enough: {page}");

    // An OPD administrator of DINKES at level 2.
    let admin = administrator(&app, "kepala", "DINKES", false).await;
    let (status, page, _) = admin.get(&app.url("/admin")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Konsol administrator") && page.contains("<svg"), "{page}");
    let (status, page, _) = admin.get(&app.url("/admin/people")).await;
    assert_eq!(status, 200);
    assert!(page.contains("kepala") && !page.contains("dedi"), "only their own units' people: {page}");

    // Creating a person: script in a name is shown as text; another unit is refused.
    let (action, csrf) = form_token(&page, "/admin/people/");
    let evil = "<script>alert(1)</script> Wati";
    let fields = [("csrf_token", csrf.as_str()), ("name", evil), ("username", "wati"), ("org_unit", "PUSKESMAS")];
    let (status, page, _) = admin.post(&action, &fields).await;
    assert_eq!(status, 201, "{page}");
    assert!(!page.contains("<script>alert(1)</script>") && page.contains("&lt;script&gt;"), "{page}");
    let (action, csrf) = form_token(&page, "/admin/people/");
    let fields =
        [("csrf_token", csrf.as_str()), ("name", "Orang Lain"), ("username", "lain"), ("org_unit", "DISKOMINFO")];
    let (status, page, _) = admin.post(&action, &fields).await;
    assert_eq!(status, 422, "{page}");
    // A forged or missing CSRF token is refused before anything happens.
    let (status, _, _) = admin.post(&action, &[("csrf_token", "forged"), ("name", "X"), ("org_unit", "DINKES")]).await;
    assert_eq!(status, 403);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM users WHERE username = 'X'").await, 0);

    // A unit below their own; the office's units are not theirs.
    let (status, page, _) = admin.get(&app.url("/admin/units")).await;
    assert_eq!(status, 200);
    assert!(page.contains("PUSKESMAS") && !page.contains("DISKOMINFO"), "{page}");
    let (action, csrf) = form_token(&page, "/admin/units/");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("code", "PUSTU"),
        ("name", "Puskesmas Pembantu"),
        ("kind", "uptd"),
        ("parent", "PUSKESMAS"),
    ];
    let (status, page, _) = admin.post(&action, &fields).await;
    assert_eq!(status, 201, "{page}");
    // Renamed and moved, at the version the page showed.
    let plain = page.replace("&#x2f;", "/");
    let row = plain.split("name=\"code\" value=\"PUSTU\"").nth(1).unwrap();
    let version = row.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let update = format!(
        "/admin/units/{}",
        plain.split("action=\"/admin/units/").find(|a| a.contains("/update\"")).unwrap().split('"').next().unwrap()
    );
    let csrf = plain.rsplit("name=\"csrf_token\" value=\"").next().unwrap().split('"').next().unwrap().to_owned();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("code", "PUSTU"),
        ("version", &version),
        ("name", "Pustu Sungai Kunjang"),
        ("parent", "DINKES"),
    ];
    let (status, page, _) = admin.post(&update, &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Pustu Sungai Kunjang"), "{page}");
    let moved = app.raw_count("SELECT COUNT(*) FROM org_units c JOIN org_units p ON c.parent_id = p.id WHERE c.code = 'PUSTU' AND p.code = 'DINKES'").await;
    assert_eq!(moved, 1);

    // The office registers an application and sees its secret once.
    let office = administrator(&app, "kominfo", "DISKOMINFO", true).await;
    let (_, page, headers) = office.get(&app.url("/admin/applications")).await;
    assert_eq!(headers["cache-control"], "no-store");
    let (action, csrf) = form_token(&page, "/admin/applications/");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("client_name", "Surat Elektronik"),
        ("redirect_uri", "https://mail.example.go.id/callback"),
        ("client_uri", "https://mail.example.go.id/"),
    ];
    let (status, page, _) = office.post(&action, &fields).await;
    assert_eq!(status, 201, "{page}");
    let secret = page.split("class=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(secret.len() >= 32, "{page}");
    let (_, again, _) = office.get(&app.url("/admin/applications")).await;
    assert!(again.contains("Surat Elektronik") && !again.contains(&secret), "shown once");
    let audited = app.raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'admin.application.create'").await;
    assert!(audited >= 1);

    // Rotating the secret shows the new one once; a disabled application is marked so.
    let (action, csrf) = form_token(&again, "/admin/applications/");
    let _ = action;
    let app_id = again.split("name=\"application\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let rotate = again
        .replace("&#x2f;", "/")
        .split("action=\"/admin/applications/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(rotate.ends_with("/rotate"), "{rotate}");
    let (status, page, _) = office
        .post(&format!("/admin/applications/{rotate}"), &[("csrf_token", csrf.as_str()), ("application", &app_id)])
        .await;
    assert_eq!(status, 200, "{page}");
    let rotated = page.split("class=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(rotated.len() >= 32 && rotated != secret, "a new secret, shown once");

    // The application's directory profile: general, owned by an OPD, level 2, for DINKES only,
    // receiving the NIP.
    let (_, list, _) = office.get(&app.url("/admin/applications")).await;
    let app_page = list.split("/admin/application?id=").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, page, _) = office.get(&app.url(&format!("/admin/application?id={app_page}"))).await;
    assert_eq!(status, 200, "{page}");
    let (profile, csrf) = form_token(&page, "/admin/application/");
    let version = page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("application", app_page.as_str()),
        ("version", version.as_str()),
        ("category", "umum"),
        ("owner", "DISKOMINFO"),
        ("min_level", "2"),
        ("access_org_units", "DINKES"),
        ("access_roles", ""),
        ("claim_nip", "on"),
    ];
    let (status, page, _) = office.post(&profile, &fields).await;
    assert_eq!(status, 200, "{page}");
    let saved = app.state.applications.get(&Actor::cli(), &pintu::domain::ApplicationId::new(&app_page)).await.unwrap();
    assert_eq!(
        (saved.min_level, saved.claims.clone(), saved.access_org_units.clone()),
        (2, vec!["nip".to_owned()], vec!["DINKES".to_owned()])
    );

    // A person's page: an acting post for a period, then revoked; a transfer, in the history.
    let (_, page, _) = admin.get(&app.url("/admin/people?q=wati")).await;
    let wati_id = page.split("/admin/person?id=").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, page, _) = office.get(&app.url(&format!("/admin/person?id={wati_id}"))).await;
    assert_eq!(status, 200, "{page}");
    let (grant, csrf) = form_token(&page, "/admin/person/");
    let grant = grant.replace("/transfer", "/grant").replace("/revoke", "/grant");
    let grant = format!("{}/grant", grant.rsplit_once('/').unwrap().0);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("user", wati_id.as_str()),
        ("role", "pintu.opd_admin"),
        ("org_unit", "PUSKESMAS"),
        ("valid_from", "2026-01-01"),
        ("valid_until", "2036-12-31"),
    ];
    let (status, page, _) = office.post(&grant, &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("2036-12-31") && page.contains("pintu.opd_admin"), "{page}");
    // Each page carries a fresh form token: the next change uses this page's.
    let (latest, csrf) = form_token(&page, "/admin/person/");
    let base = latest.rsplit_once('/').unwrap().0.to_owned();
    let bad = [
        ("csrf_token", csrf.as_str()),
        ("user", wati_id.as_str()),
        ("role", "pintu.opd_admin"),
        ("valid_from", "2026-13-45"),
    ];
    let (status, page, _) = office.post(&format!("{base}/grant"), &bad).await;
    assert_eq!(status, 422, "a date that does not exist");
    let (latest, csrf) = form_token(&page, "/admin/person/");
    let transfer = format!("{}/transfer", latest.rsplit_once('/').unwrap().0);
    let version = page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("user", wati_id.as_str()),
        ("org_unit", "DINKES"),
        ("version", version.as_str()),
    ];
    let (status, page, _) = office.post(&transfer, &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("PUSKESMAS") && page.contains("DINKES"), "the move is in the history: {page}");

    // Editing a person's record: what is typed is kept, and shown as text.
    let (_, page, _) = office.get(&app.url(&format!("/admin/person?id={wati_id}"))).await;
    let (latest, csrf) = form_token(&page, "/admin/person/");
    let edit = format!("{}/edit", latest.rsplit_once('/').unwrap().0);
    let version = page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("user", wati_id.as_str()),
        ("version", version.as_str()),
        ("name", "Wati Rahayu"),
        ("email", "wati@dinkes.example.go.id"),
        ("nip", ""),
        ("jabatan", "Perawat <b>Ahli</b>"),
    ];
    let (status, page, _) = office.post(&edit, &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Wati Rahayu") && page.contains("Perawat &lt;b&gt;Ahli") && !page.contains("<b>Ahli"),
        "{page}"
    );

    // Every console form refuses a forged token before doing anything.
    let (_, people, _) = office.get(&app.url("/admin/people")).await;
    let (create, _) = form_token(&people, "/admin/people/");
    let form_id = create.trim_start_matches("/admin/people/").to_owned();
    for path in [
        format!("/admin/people/{form_id}"),
        format!("/admin/people/{form_id}/activation"),
        format!("/admin/people/{form_id}/status"),
        format!("/admin/people/{form_id}/factors"),
        format!("/admin/person/{form_id}/edit"),
        format!("/admin/person/{form_id}/transfer"),
        format!("/admin/person/{form_id}/grant"),
        format!("/admin/person/{form_id}/revoke"),
        format!("/admin/units/{form_id}"),
        format!("/admin/units/{form_id}/update"),
        format!("/admin/applications/{form_id}"),
        format!("/admin/applications/{form_id}/rotate"),
        format!("/admin/applications/{form_id}/disable"),
        format!("/admin/application/{form_id}"),
        format!("/admin/audit/{form_id}/verify"),
    ] {
        let (status, _, _) = office.post(&path, &[("csrf_token", "forged"), ("user", wati_id.as_str())]).await;
        assert_eq!(status, 403, "{path} accepted a forged token");
    }

    // Suspending a person from the console ends their access.
    let (_, page, _) = admin.get(&app.url("/admin/people?q=wati")).await;
    let page = page.replace("&#x2f;", "/");
    let wati = page.split("name=\"user\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let status_action = format!(
        "/admin/people/{}",
        page.split("action=\"/admin/people/").find(|a| a.contains("/status\"")).unwrap().split('"').next().unwrap()
    );
    let csrf = page.rsplit("name=\"csrf_token\" value=\"").next().unwrap().split('"').next().unwrap().to_owned();
    let (status, page, _) =
        admin.post(&status_action, &[("csrf_token", csrf.as_str()), ("user", &wati), ("status", "suspended")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(app.raw_count(&format!("SELECT COUNT(*) FROM users WHERE id = '{wati}' AND disabled")).await, 1);

    // The office's overview counts failed sign-ins too.
    let (status, page, _) = office.get(&app.url("/admin")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Login gagal (7 hari)"), "{page}");

    // The audit log, filtered; the office verifies the chain.
    let (status, page, _) = office.get(&app.url("/admin/audit?days=7&action=admin.application")).await;
    assert_eq!(status, 200);
    assert!(page.contains("admin.application.create") && !page.contains(">login<"), "{page}");
    let (action, csrf) = form_token(&page, "/admin/audit/");
    let (status, page, _) = office.post(&action, &[("csrf_token", csrf.as_str())]).await;
    assert_eq!(status, 200);
    assert!(page.contains("OK: "), "the chain is intact: {page}");
    // The HR import: a file with a problem shows it by line and changes nothing; a clean one
    // is applied. An OPD administrator is told it is the office's.
    let header = "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status";
    let bad = format!("{header}\n199013302015031001,Nip Salah,,,,,APTIKA,,,PNS,aktif\n");
    let (status, page) = upload_import(&app, &office, &bad, "dry-run").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("<td>2</td><td>nip</td>"), "the problem by line: {page}");
    let clean = format!(
        "{header}\n198503302010011002,Budi Santoso,Ir.,M.T.,Kepala Bidang,IV/a,APTIKA,budi@example.go.id,0812,PNS,aktif\n"
    );
    let (status, page) = upload_import(&app, &office, &clean, "dry-run").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM users WHERE nip = '198503302010011002'").await, 0, "a dry run");
    let (status, page) = upload_import(&app, &office, &clean, "apply").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM users WHERE nip = '198503302010011002'").await, 1);
    let (_, page, _) = admin.get(&app.url("/admin/import")).await;
    assert!(page.contains("hanya dilakukan oleh Dinas Kominfo") && !page.contains("type=\"file\""), "{page}");

    // Reports, and their CSV.
    let (status, page, _) = office.get(&app.url("/admin/reports?kind=opd&days=30")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Unit DINKES") || page.contains("Unit DISKOMINFO"), "{page}");
    let (status, csv, headers) = office.get(&app.url("/admin/reports.csv?kind=apps&days=30")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.starts_with("key,name,active_users,logins"), "{csv}");
}
