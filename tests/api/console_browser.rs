//! The console, the activation and the password reset in a real browser (headless Chromium):
//! the office signs in at level 2, creates a unit, imports an HR export with a problem and then
//! a clean one, registers an application and sees its secret once, reads the reports and the
//! audit log; an OPD administrator sees only their units; an imported person activates with
//! the code from their letter and opens an application from the portal; a forgotten password
//! is reset through the link a local SMTP sink receives. Every console page is photographed to
//! `target/tmp/screenshots/console/` for a reviewer. Skipped with a notice where Chromium is
//! not installed, unless `PINTU_TEST_REQUIRE_BROWSER=1`.

use std::path::PathBuf;

use pintu::directory::{ActivationTarget, Actor, GrantInput, ProfilePatch, UserInput};
use serde_json::json;

use crate::levels::code_at;
use crate::support::smtp::Sink;
use crate::support::webdriver::Chromium;
use crate::support::{Backend, PASSWORD, TestApp, scratch};

/// Saves a screenshot of the page for a reviewer, then checks it against WCAG 2.1 AA as far as
/// a script can (`support/a11y.js`: names, labels, contrast, focus rings, structure).
async fn photograph(browser: &Chromium, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots/console");
    browser.screenshot(&dir.join(format!("{name}.png"))).await;
    let problems = browser.execute(include_str!("support/a11y.js")).await;
    let problems = problems.as_array().expect("the audit returns a list");
    assert!(problems.is_empty(), "{name} fails the accessibility audit: {problems:#?}");
}

/// Signs `username` in through `portal`, turns on TOTP, and steps up through `level2`: a
/// session at level 2, as the console needs.
async fn sign_in_at_level_two(app: &TestApp, browser: &Chromium, username: &str, landing: &str) {
    let authorize = |client: &crate::support::TestClient| {
        let params = [
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", landing),
            ("scope", "openid"),
            ("state", "s-1"),
        ];
        app.authorize_url(&params).replace(&app.base, &app.issuer)
    };
    let metadata =
        |name: &str| json!({ "client_name": name, "redirect_uris": [landing], "grant_types": ["authorization_code"] });
    let portal = app.client_from(metadata("Portal"), true).await;
    let level2 = app.client_from(metadata("Level 2"), true).await;
    app.set_profile(&level2.id, ProfilePatch { min_level: Some(2), ..Default::default() }).await;
    browser.goto(&authorize(&portal)).await;
    browser.wait_for("the sign-in page", |_, page| page.contains("id=\"username\"")).await;
    browser.type_into("#username", username).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("the application", |url, _| url.starts_with(landing)).await;
    browser.goto(&format!("{}/account/totp", app.issuer)).await;
    let (_, page) = browser.wait_for("the two-step page", |_, page| page.contains("<svg")).await;
    let secret = crate::levels::between(&page, "<code>", "</code>").to_owned();
    browser.type_into("#code", &code_at(&secret, app.now())).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("the recovery codes", |_, page| page.matches("<li><code>").count() == 10).await;
    app.clock.advance(30);
    browser.goto(&authorize(&level2)).await;
    browser.wait_for("the second step", |_, page| page.contains("id=\"code\"")).await;
    browser.type_into("#code", &code_at(&secret, app.now())).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("the application", |url, _| url.starts_with(landing) && url.contains("code=")).await;
}

#[tokio::test]
async fn the_console_activation_and_reset_in_a_browser() {
    let browser = match Chromium::start().await {
        Ok(b) => b,
        Err(why) if std::env::var("PINTU_TEST_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("NOTICE: headless Chromium unavailable ({}); the console browser test is SKIPPED", why.0);
            return;
        }
        Err(why) => panic!("headless Chromium is required here: {}", why.0),
    };
    // The audit finds what it looks for: a page with one of each problem.
    let flawed = "<html><head><title>x</title><style>button{outline:none}</style></head><body>\
        <h1>A</h1><h1>B</h1><input id=a><input id=a><p style='color:#aaa'>faint</p><button>ok</button>\
        <img src=''></body></html>";
    browser.goto(&format!("data:text/html,{}", flawed.replace('#', "%23"))).await;
    let found = browser.execute(include_str!("support/a11y.js")).await;
    let found = found.to_string();
    for problem in ["no lang", "2 h1", "duplicate id a", "no label", "contrast", "no focus ring", "no alt"] {
        assert!(found.contains(problem), "the audit misses {problem}: {found}");
    }

    let sink = Sink::start().await;
    let mail = sink.config();
    let app = TestApp::spawn_localhost_with(Backend::Sqlite, move |c| c.mail = mail).await;
    app.org_tree().await;
    let landing = format!("{}/healthz", app.issuer);
    let office = app.pegawai("kominfo", "DISKOMINFO").await;
    let admin = GrantInput { role: "pintu.admin".into(), org_unit: None, valid_from: None, valid_until: None };
    app.state.directory.grant_role(&Actor::cli(), &office, &admin).await.unwrap();
    sign_in_at_level_two(&app, &browser, "kominfo", &landing).await;

    let admin_url = |path: &str| format!("{}{path}", app.issuer);
    browser.goto(&admin_url("/admin")).await;
    browser.wait_for("the console", |_, page| page.contains("class=\"console\"")).await;
    photograph(&browser, "01-overview").await;

    browser.goto(&admin_url("/admin/units")).await;
    browser.wait_for("the units page", |_, page| page.contains("id=\"code\"")).await;
    browser.type_into("#code", "BPBD").await;
    browser.type_into("#unit-name", "Badan Penanggulangan Bencana Daerah").await;
    browser.click("#create-unit button[type=submit]").await;
    browser.wait_for("the unit created", |_, page| page.contains("role=\"status\"") && page.contains("BPBD")).await;
    photograph(&browser, "02-units").await;

    let header = "nip,nama,gelar_depan,gelar_belakang,jabatan,golongan,kode_unit,email,telepon,jenis_pegawai,status";
    let bad = scratch::path("simpeg-bad", ".csv");
    std::fs::write(&bad, format!("{header}\n199013302015031001,Nip Salah,,,,,APTIKA,,,PNS,aktif\n")).unwrap();
    let clean = scratch::path("simpeg-clean", ".csv");
    let row = "198503302010011002,Budi Santoso,Ir.,M.T.,Kepala Bidang,IV/a,APTIKA,budi@example.go.id,0812,PNS,aktif";
    std::fs::write(&clean, format!("{header}\n{row}\n")).unwrap();
    browser.goto(&admin_url("/admin/import")).await;
    browser.wait_for("the import page", |_, page| page.contains("type=\"file\"")).await;
    browser.type_into("#file", bad.to_str().unwrap()).await;
    browser.click("form[enctype] button[type=submit]").await;
    browser.wait_for("the problems", |_, page| page.contains("<td>nip</td>")).await;
    photograph(&browser, "03-import-problems").await;
    browser.type_into("#file", clean.to_str().unwrap()).await;
    browser.click("input[value=apply]").await;
    browser.click("form[enctype] button[type=submit]").await;
    browser.wait_for("the import applied", |_, page| page.contains("role=\"status\"")).await;
    photograph(&browser, "04-import-applied").await;

    browser.goto(&admin_url("/admin/applications")).await;
    browser.wait_for("the applications page", |_, page| page.contains("id=\"client_name\"")).await;
    browser.type_into("#client_name", "Surat Elektronik").await;
    browser.type_into("#redirect_uri", &format!("{}/healthz/callback", app.issuer)).await;
    browser.type_into("#client_uri", &landing).await;
    browser.click("#create-app button[type=submit]").await;
    let (_, page) = browser.wait_for("the secret", |_, page| page.contains("class=\"secret\"")).await;
    photograph(&browser, "05-application-secret").await;
    let secret = page.split("class=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let client_id = page.split("class=\"secret\"").next().unwrap().rsplit("<code>").next().unwrap();
    let client_id = client_id.split('<').next().unwrap().to_owned();
    browser.goto(&admin_url("/admin/applications")).await;
    let (_, page) = browser.wait_for("the list", |_, page| page.contains("Surat Elektronik")).await;
    assert!(!page.contains(&secret), "the secret is shown once");

    // The application's page: its addresses, and an icon for the portal.
    browser.click(&format!("a[href='/admin/application?id={client_id}']")).await;
    browser.wait_for("the application's page", |_, page| page.contains("id=\"icon-file\"")).await;
    let icon = scratch::path("icon", ".png");
    std::fs::write(&icon, crate::application_console::png()).unwrap();
    browser.type_into("#icon-file", icon.to_str().unwrap()).await;
    browser.click("#icon button[type=submit]").await;
    browser.wait_for("the icon saved", |_, page| page.contains("class=\"app-icon\"")).await;
    photograph(&browser, "06-application").await;

    // A role, and a unit's administrator appointed by login.
    browser.goto(&admin_url("/admin/roles")).await;
    browser.wait_for("the roles page", |_, page| page.contains("id=\"role-name\"")).await;
    browser.type_into("#role-name", "arsiparis").await;
    browser.type_into("#role-description", "Pengelola arsip dinamis").await;
    browser.click("#create-role button[type=submit]").await;
    browser.wait_for("the role created", |_, page| page.contains("role=\"status\"")).await;
    photograph(&browser, "07-roles").await;
    browser.goto(&admin_url("/admin/units")).await;
    browser.wait_for("the units page", |_, page| page.contains("id=\"admin-login\"")).await;
    browser.type_into("#admin-login", "198503302010011002").await;
    browser.click("#appoint-admin button[type=submit]").await;
    browser.wait_for("the administrator appointed", |_, page| page.contains("<td>Budi Santoso</td>")).await;
    photograph(&browser, "08-unit-administrators").await;

    for (path, name, marker) in [
        ("/admin/reports?kind=opd&days=30", "09-reports", "/admin/reports.csv"),
        ("/admin/audit?days=7", "10-audit", "admin.application.create"),
        ("/admin/people", "11-people", "Budi Santoso"),
    ] {
        browser.goto(&admin_url(path)).await;
        browser.wait_for(name, |_, page| page.contains(marker)).await;
        photograph(&browser, name).await;
    }
    browser.click("a[href^='/admin/person?id=']").await;
    browser.wait_for("a person's page", |_, page| page.contains("id=\"edit-name\"")).await;
    photograph(&browser, "12-person").await;

    // An OPD administrator sees only their units.
    browser.delete_cookies().await;
    let kepala = app.pegawai("kepala", "DINKES").await;
    let opd = GrantInput {
        role: "pintu.opd_admin".into(),
        org_unit: Some("DINKES".into()),
        valid_from: None,
        valid_until: None,
    };
    app.state.directory.grant_role(&Actor::cli(), &kepala, &opd).await.unwrap();
    sign_in_at_level_two(&app, &browser, "kepala", &landing).await;
    browser.goto(&admin_url("/admin/people")).await;
    let (_, page) = browser.wait_for("their people", |_, page| page.contains("kepala")).await;
    assert!(!page.contains("kominfo") && !page.contains("Budi Santoso"), "another unit's people: {page}");
    photograph(&browser, "13-opd-people").await;

    // An imported person activates with their code and opens an application from the portal.
    browser.delete_cookies().await;
    let imported = UserInput {
        username: Some("wati".into()),
        name: "Wati Rahayu".into(),
        email: Some("wati@dinkes.example.go.id".into()),
        org_unit: Some("DINKES".into()),
        ..Default::default()
    };
    app.state.directory.create_user(&Actor::cli(), &imported).await.unwrap();
    let codes = app
        .state
        .directory
        .issue_activation(&Actor::cli(), &ActivationTarget::Person("wati".into()), None)
        .await
        .unwrap();
    browser.goto(&admin_url("/activate?login=wati")).await;
    browser.wait_for("the activation page", |_, page| page.contains("id=\"code\"")).await;
    photograph(&browser, "14-activation").await;
    browser.type_into("#code", &codes[0].code).await;
    browser.type_into("#new_password", "sungai-mahakam-pagi-2026").await;
    browser.type_into("#confirm_password", "sungai-mahakam-pagi-2026").await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("the account page", |url, _| url.ends_with("/account")).await;
    browser.goto(&admin_url("/")).await;
    let (_, page) = browser.wait_for("the portal", |_, page| page.contains("class=\"apps\"")).await;
    assert!(page.contains("Surat Elektronik") && page.contains("class=\"app-icon\""), "on the portal: {page}");
    photograph(&browser, "15-portal").await;
    browser.click("ul.apps a").await;
    browser.wait_for("the application", |url, _| url.starts_with(&landing)).await;

    // A forgotten password, reset through the e-mailed link.
    browser.delete_cookies().await;
    browser.goto(&admin_url("/password/forgot")).await;
    browser.wait_for("the forgotten-password page", |_, page| page.contains("id=\"login\"")).await;
    photograph(&browser, "16-forgotten-password").await;
    browser.type_into("#login", "wati").await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("sent", |_, page| page.contains("role=\"status\"")).await;
    // The reset e-mail (an earlier one told her the password was set at activation).
    let mut link = None;
    for _ in 0..100 {
        let texts = sink.all().into_iter().map(|m| m.replace("=\r\n", "").replace("=3D", "="));
        link = texts.filter(|t| t.contains("To: wati@")).find_map(|t| {
            let start = t.find("/activate?login=wati&code=")?;
            let begin = t[..start].rfind("http://")?;
            t[begin..].lines().next().map(|l| l.trim().to_owned())
        });
        if link.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let link = link.expect("the reset e-mail");
    browser.goto(&link).await;
    browser.wait_for("the form with the code", |_, page| page.contains("id=\"new_password\"")).await;
    browser.type_into("#new_password", "danau-toba-senja-2026").await;
    browser.type_into("#confirm_password", "danau-toba-senja-2026").await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("signed in again", |url, _| url.ends_with("/account")).await;
}
