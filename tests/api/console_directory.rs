//! The console's directory pages beyond people and units: roles (defined within reach), a
//! unit's administrators (appointed by login and removed), a person's activity and changes
//! from the audit log, and the overview's figures (sessions, locks, last import).

use pintu::directory::{Actor, ImportMode};
use pintu::domain::AdminScope;

use crate::backend_tests;
use crate::console::{administrator, form_token};
use crate::support::{Backend, Browser, TestApp};

backend_tests!(
    roles_and_unit_administrators_are_managed_within_reach,
    the_overview_and_a_persons_page_tell_what_happened
);

/// The figure the overview shows under `label`.
fn figure(page: &str, label: &str) -> i64 {
    let after = page.split(&format!("<dt>{label}</dt><dd>")).nth(1).unwrap_or_else(|| panic!("{label} in {page}"));
    after.split('<').next().unwrap().trim().parse().unwrap_or_else(|_| panic!("a number for {label}"))
}

/// Posts to the page's form base (`/admin/units/{form}`) plus `suffix`.
async fn post_on(
    app: &TestApp,
    browser: &Browser,
    page: &str,
    prefix: &str,
    suffix: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let (base, csrf) = form_token(page, prefix);
    let base = base.split('/').take(4).collect::<Vec<_>>().join("/");
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    let (status, page, _) = browser.post(&format!("{base}{suffix}"), &all).await;
    let _ = app;
    (status.as_u16(), page)
}

async fn roles_and_unit_administrators_are_managed_within_reach(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let dedi = app.pegawai("dedi", "PUSKESMAS").await;
    app.pegawai("sari", "APTIKA").await;
    let office = administrator(&app, "kominfo", "DISKOMINFO", true).await;
    let kepala = administrator(&app, "kepala", "DINKES", false).await;

    // Roles: the office defines a global role; a reserved name is refused.
    let (status, page, _) = office.get(&app.url("/admin/roles")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("pintu.opd_admin"), "{page}");
    let fields =
        [("name", "arsiparis"), ("application", ""), ("description", "Arsip <i>dinamis</i>"), ("min_level", "2")];
    let (status, page) = post_on(&app, &office, &page, "/admin/roles/", "", &fields).await;
    assert_eq!(status, 201, "{page}");
    assert!(page.contains("arsiparis") && page.contains("Arsip &lt;i&gt;dinamis"), "listed, escaped: {page}");
    let fields = [("name", "pintu.evil"), ("application", ""), ("description", ""), ("min_level", "1")];
    let (status, page) = post_on(&app, &office, &page, "/admin/roles/", "", &fields).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("reserved"), "{page}");
    // An OPD administrator may not define global roles.
    let (_, page, _) = kepala.get(&app.url("/admin/roles")).await;
    let fields = [("name", "bendahara"), ("application", ""), ("description", ""), ("min_level", "1")];
    let (status, page) = post_on(&app, &kepala, &page, "/admin/roles/", "", &fields).await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM roles WHERE name = 'bendahara'").await, 0);
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM roles WHERE name = 'arsiparis' AND min_level = 2").await, 1);

    // A unit's administrators: kepala is listed for DINKES; the office appoints dedi for
    // PUSKESMAS by login, until a date.
    let (_, page, _) = office.get(&app.url("/admin/units")).await;
    assert!(page.contains("<td>DINKES</td><td>kepala</td>"), "{page}");
    let fields = [("unit", "PUSKESMAS"), ("login", "dedi"), ("valid_until", "2036-06-30")];
    let (status, page) = post_on(&app, &office, &page, "/admin/units/", "/administrators", &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<td>PUSKESMAS</td><td>dedi</td>") && page.contains("2036-06-30"), "{page}");
    let dedi_id = pintu::domain::UserId::new(&dedi);
    let scope = app.state.directory.admin_scope_of(&dedi_id).await.unwrap();
    assert!(matches!(scope, Some(AdminScope::OrgUnit(_))), "dedi administers a unit: {scope:?}");

    // The OPD administrator sees their subtree's administrators only, and cannot appoint
    // someone from another unit, nor for a unit beyond their own.
    let (_, page, _) = kepala.get(&app.url("/admin/units")).await;
    assert!(page.contains("<td>PUSKESMAS</td><td>dedi</td>") && !page.contains("kominfo Pegawai"), "{page}");
    let fields = [("unit", "PUSKESMAS"), ("login", "sari"), ("valid_until", "")];
    let (status, page) = post_on(&app, &kepala, &page, "/admin/units/", "/administrators", &fields).await;
    assert_eq!(status, 422, "a person of APTIKA: {page}");
    let fields = [("unit", "APTIKA"), ("login", "dedi"), ("valid_until", "")];
    let (status, page) = post_on(&app, &kepala, &page, "/admin/units/", "/administrators", &fields).await;
    assert_eq!(status, 422, "a unit beyond DINKES: {page}");
    let fields = [("unit", "PUSKESMAS"), ("login", "dedi"), ("valid_until", "2036-02-31")];
    let (status, _) = post_on(&app, &kepala, &page, "/admin/units/", "/administrators", &fields).await;
    assert_eq!(status, 422, "a date that does not exist");
    assert_eq!(
        app.raw_count("SELECT COUNT(*) FROM role_grants WHERE role_id = 'pintu.opd_admin'").await,
        2,
        "kepala and dedi"
    );

    // Removing dedi ends their authority.
    let admins = app.state.directory.unit_administrators(&Actor::cli()).await.unwrap();
    let grant = admins.iter().find(|a| a.username == "dedi").unwrap().grant_id.clone();
    let (_, page, _) = kepala.get(&app.url("/admin/units")).await;
    let fields = [("user", dedi.as_str()), ("grant", grant.as_str())];
    let (status, page) = post_on(&app, &kepala, &page, "/admin/units/", "/administrators/remove", &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("<td>PUSKESMAS</td><td>dedi</td>"), "{page}");
    assert_eq!(app.state.directory.admin_scope_of(&dedi_id).await.unwrap(), None);

    // Every new form refuses a forged token before doing anything.
    let (_, page, _) = office.get(&app.url("/admin/units")).await;
    let (base, _) = form_token(&page, "/admin/units/");
    let form_id = base.trim_start_matches("/admin/units/").to_owned();
    for path in [
        format!("/admin/roles/{form_id}"),
        format!("/admin/units/{form_id}/administrators"),
        format!("/admin/units/{form_id}/administrators/remove"),
        format!("/admin/application/{form_id}/addresses"),
        format!("/admin/application/{form_id}/icon/remove"),
    ] {
        let fields = [("csrf_token", "forged"), ("unit", "PUSKESMAS"), ("login", "sari"), ("name", "palsu")];
        let (status, _, _) = office.post(&path, &fields).await;
        assert_eq!(status, 403, "{path} accepted a forged token");
    }
    assert_eq!(app.raw_count("SELECT COUNT(*) FROM roles WHERE name = 'palsu'").await, 0);
}

async fn the_overview_and_a_persons_page_tell_what_happened(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org_tree().await;
    let office = administrator(&app, "kominfo", "DISKOMINFO", true).await;
    let kepala = administrator(&app, "kepala", "DINKES", false).await;
    let dedi = app.pegawai("dedi", "PUSKESMAS").await;
    app.code_for(&app.browser(), &app.client().await, "dedi", &[]).await;

    // Sessions open now: everyone's for the office, the subtree's for an OPD administrator.
    let (_, page, _) = office.get(&app.url("/admin")).await;
    let live = format!(
        "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.ended_at IS NULL AND s.expires_at > {}",
        app.now()
    );
    let all = app.raw_count(&live).await;
    assert!(all >= 3, "kominfo, kepala, dedi signed in");
    assert_eq!(figure(&page, "Sesi yang terbuka sekarang"), all);
    let (_, page, _) = kepala.get(&app.url("/admin")).await;
    let units = "(SELECT id FROM org_units WHERE code IN ('DINKES', 'PUSKESMAS'))";
    let theirs = app.raw_count(&format!("{live} AND u.org_unit_id IN {units}")).await;
    assert!(theirs >= 2 && theirs < all, "{theirs} of {all}");
    assert_eq!(figure(&page, "Sesi yang terbuka sekarang"), theirs);
    assert!(!page.contains("Terkunci sekarang") && !page.contains("Impor SDM terakhir"), "the office's figures");

    // Locks in force and the last import, for the office.
    let (_, page, _) = office.get(&app.url("/admin")).await;
    assert_eq!(figure(&page, "Terkunci sekarang (pegawai, nama, alamat)"), 0);
    assert!(!page.contains("Impor SDM terakhir"), "no import yet");
    let now = app.now();
    let lock = format!(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ('account:x', 9, {now}, {})",
        now + 600
    );
    app.raw_sql(&lock).await.unwrap();
    let header = "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status";
    let csv = format!("{header}\n198503302010011002,Budi Santoso,,,,,APTIKA,,,PNS,aktif\n");
    app.state.directory.import(&Actor::cli(), csv.as_bytes(), ImportMode::Apply, false).await.unwrap();
    let (_, page, _) = office.get(&app.url("/admin")).await;
    assert_eq!(figure(&page, "Terkunci sekarang (pegawai, nama, alamat)"), 1);
    assert!(page.contains("<dt>Impor SDM terakhir</dt><dd>") && page.contains("(success)"), "{page}");

    // Sign-ins per day and per OPD: dedi's today, in the last column of PUSKESMAS's row; e-mail
    // is off here, and the overview says what that means.
    let row = page.split("<th scope=\"row\">Unit PUSKESMAS</th>").nth(1).expect("PUSKESMAS's row");
    let today = row.split("</tr>").next().unwrap().rsplit("<td>").next().unwrap().split('<').next().unwrap();
    assert!(today.parse::<i64>().unwrap() >= 1, "{row}");
    assert!(page.contains("E-mail belum dipasang"), "{page}");

    // People by status and by employment type; a type that does not exist is refused.
    app.state.directory.set_status(&Actor::cli(), &dedi, pintu::domain::UserStatus::Suspended).await.unwrap();
    let (_, page, _) = office.get(&app.url("/admin/people?status=suspended")).await;
    assert!(page.contains(">dedi<") && !page.contains(">kepala<"), "{page}");
    let (_, page, _) = office.get(&app.url("/admin/people?type=pns")).await;
    assert!(page.contains("Budi Santoso") && !page.contains(">kepala<"), "{page}");
    let (_, page, _) = office.get(&app.url("/admin/people?type=honorer")).await;
    assert!(page.contains("type must be PNS, PPPK or non-ASN"), "{page}");

    // The units as a tree: each parent before its children, siblings by name.
    let (_, page, _) = office.get(&app.url("/admin/units")).await;
    let at = |code: &str| page.find(&format!("<tr><td>{code}</td>")).unwrap_or_else(|| panic!("{code}: {page}"));
    let order = ["PEMDA", "DINKES", "PUSKESMAS", "DISKOMINFO", "APTIKA"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "tree order: {order:?}");
    assert!(page.contains("<tr><td>PUSKESMAS</td><td class=\"depth-2\">"), "{page}");

    // A person's page: their sign-in and the role granted to them, newest first.
    let (_, page, _) = office.get(&app.url(&format!("/admin/person?id={dedi}"))).await;
    let fields = [("user", dedi.as_str()), ("role", "pintu.opd_admin"), ("org_unit", "PUSKESMAS")];
    let (base, csrf) = form_token(&page, "/admin/person/");
    let grant = format!("{}/grant", base.rsplit_once('/').unwrap().0);
    let mut all_fields = vec![("csrf_token", csrf.as_str())];
    all_fields.extend_from_slice(&fields);
    let (status, page, _) = office.post(&grant, &all_fields).await;
    assert_eq!(status, 200, "{page}");
    let events = page.split("Aktivitas dan perubahan").nth(1).expect("the activity section");
    let (grant_at, login_at) = (events.find("admin.role.grant").unwrap(), events.find("<code>login</code>").unwrap());
    assert!(grant_at < login_at, "newest first: {events}");
    // Another unit's administrator cannot open the page of someone beyond their reach.
    let sari = app.pegawai("sari", "APTIKA").await;
    let (status, _, _) = kepala.get(&app.url(&format!("/admin/person?id={sari}"))).await;
    assert_eq!(status, 404);
}
