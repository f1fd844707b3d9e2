//! Bind-through against a real slapd: directory accounts sign in with their LDAP password (none
//! is stored in Pintu), a lock in LDAP counts at once, a directory that is down or stalls is
//! said plainly on the login page while local accounts keep working, password changes are
//! refused with a pointer or written to LDAP, StartTLS with a test CA, and the admin API.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use pintu::federation::ldap::SyncMode;
use reqwest::StatusCode;

use crate::backend_tests;
use crate::ldap_sync::{BUDI_NIP, PASSWORD_ANI, PASSWORD_BUDI, app_with, seed, sync};
use crate::support::browser::{Browser, location};
use crate::support::slapd::{self, SUFFIX};
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(
    directory_people_sign_in_with_their_ldap_password_and_a_lock_there_counts_at_once,
    a_directory_that_is_down_is_said_plainly_and_local_accounts_keep_working,
    a_directory_that_stalls_never_holds_a_login_past_the_timeout,
    a_directory_that_drops_the_connection_mid_search_changes_nothing,
    password_changes_are_refused_with_a_pointer_or_written_to_ldap,
    starttls_with_the_configured_ca_and_the_admin_api,
);

/// Signs in on the account page; the status and page of the answer.
async fn sign_in(app: &TestApp, browser: &Browser, login: &str, password: &str) -> (StatusCode, String) {
    let (_, page, _) = browser.get(&app.url("/account")).await;
    let (status, page, headers) = browser.login(&page, login, password).await;
    if status == StatusCode::SEE_OTHER {
        return (status, location(&headers));
    }
    (status, page)
}

async fn directory_people_sign_in_with_their_ldap_password_and_a_lock_there_counts_at_once(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |_| {}).await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    let (status, to) = sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/account"));
    let (status, _) = sign_in(&app, &app.browser(), BUDI_NIP, PASSWORD_BUDI).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "by NIP too");
    let (status, page) = sign_in(&app, &app.browser(), "budi", "bukan-kata-sandinya").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    let (status, _) = sign_in(&app, &app.browser(), "budi", "").await;
    assert_ne!(status, StatusCode::SEE_OTHER, "an empty password is an unauthenticated bind: refused");
    for _ in 0..3 {
        sign_in(&app, &app.browser(), "budi", "bukan-kata-sandinya").await;
    }
    let (status, _) = sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the same lockout as local accounts, checked before the bind");

    slapd.modify(&format!(
        "dn: uid=ani,ou=Diskominfo,ou=people,{SUFFIX}\nchangetype: modify\n\
         add: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n"
    ));
    let (status, _) = sign_in(&app, &app.browser(), "ani", PASSWORD_ANI).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "locked in LDAP, before any sync");
}

async fn a_directory_that_is_down_is_said_plainly_and_local_accounts_keep_working(backend: Backend) {
    let Some(mut slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |_| {}).await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    app.user("lokal").await;
    let browser = app.browser();
    assert_eq!(sign_in(&app, &browser, "budi", PASSWORD_BUDI).await.0, StatusCode::SEE_OTHER);

    slapd.stop();
    let (status, page) = sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains("tidak dapat dihubungi"), "said plainly: {page}");
    assert_eq!(sign_in(&app, &app.browser(), "lokal", PASSWORD).await.0, StatusCode::SEE_OTHER, "local still works");
    for _ in 0..6 {
        sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await;
    }
    let (_, health, _) = app.browser().get(&app.url("/health")).await;
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!((health["status"].as_str(), health["ldap"][0]["reachable"].as_bool()), (Some("degraded"), Some(false)));
    let failed = app
        .raw_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'failure' \
         AND detail LIKE '%directory kominfo unavailable%'",
        )
        .await;
    assert!(failed >= 1, "audited");
    let run = sync(&app, SyncMode::Apply).await;
    assert_eq!(run.outcome, "failed", "a sync that cannot reach the directory changes nothing");

    slapd.restart().expect("slapd again");
    let (status, _) = sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no lockout from the outage, and a new connection");
    let (_, health, _) = app.browser().get(&app.url("/health")).await;
    assert!(health.contains("\"status\":\"ok\""), "{health}");
}

/// What the proxy in front of slapd does to the traffic: nothing, stall it (connections stay
/// open, nothing moves), or cut every connection once a budget of bytes has passed.
struct Faults {
    stalled: AtomicBool,
    /// Bytes still let through before connections are cut; negative: no limit.
    budget: AtomicI64,
}

impl Faults {
    fn new() -> Arc<Self> {
        Arc::new(Faults { stalled: AtomicBool::new(false), budget: AtomicI64::new(-1) })
    }
}

/// A TCP proxy on loopback in front of slapd, doing what `faults` says.
async fn faulty_proxy(target: u16, faults: Arc<Faults>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else { continue };
            let (ri, wi) = inbound.into_split();
            let (ro, wo) = outbound.into_split();
            tokio::spawn(pipe(ri, wo, faults.clone()));
            tokio::spawn(pipe(ro, wi, faults.clone()));
        }
    });
    port
}

async fn pipe(mut from: tokio::net::tcp::OwnedReadHalf, mut to: tokio::net::tcp::OwnedWriteHalf, faults: Arc<Faults>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 512];
    while let Ok(n) = from.read(&mut buf).await {
        while faults.stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let limited = faults.budget.load(Ordering::SeqCst) >= 0;
        if limited && faults.budget.fetch_sub(n as i64, Ordering::SeqCst) < n as i64 {
            break; // the budget is spent: both halves drop, the connection is cut
        }
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

async fn a_directory_that_stalls_never_holds_a_login_past_the_timeout(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let faults = Faults::new();
    let port = faulty_proxy(slapd.port, faults.clone()).await;
    let app = app_with(backend, &slapd, |d| {
        d.url = Some(format!("ldap://127.0.0.1:{port}"));
        d.timeout_secs = Some(1);
    })
    .await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    assert_eq!(sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await.0, StatusCode::SEE_OTHER);
    faults.stalled.store(true, Ordering::SeqCst);
    let (status, page) = sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "the bind timed out: {page}");
    let run = sync(&app, SyncMode::Apply).await;
    assert_eq!(run.outcome, "failed");
    let error = run.error.unwrap_or_default();
    assert!(error.contains("did not answer in time"), "{error}");
    faults.stalled.store(false, Ordering::SeqCst);
}

async fn a_directory_that_drops_the_connection_mid_search_changes_nothing(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let faults = Faults::new();
    let port = faulty_proxy(slapd.port, faults.clone()).await;
    let app = app_with(backend, &slapd, |d| {
        d.url = Some(format!("ldap://127.0.0.1:{port}"));
        d.max_retire_percent = Some(50);
    })
    .await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    slapd.modify(&format!(
        "dn: uid=budi,ou=Aptika,ou=Diskominfo,ou=people,{SUFFIX}\nchangetype: modify\nreplace: title\ntitle: Analis Data\n\n\
         dn: uid=citra,ou=Dinkes,ou=people,{SUFFIX}\nchangetype: delete\n\n"
    ));
    // Enough for the bind and the first entries, not for the whole search.
    faults.budget.store(900, Ordering::SeqCst);
    let run = sync(&app, SyncMode::Apply).await;
    assert_eq!(run.outcome, "failed", "{run:?}");
    let title = |app: &TestApp| {
        let store = app.state.store.clone();
        async move {
            let id = store.users().resolve("budi").await.unwrap().unwrap();
            store.users().find(&id).await.unwrap().unwrap().profile.job_title
        }
    };
    assert_eq!(title(&app).await.as_deref(), Some("Pranata Komputer"), "nothing applied");
    let citra = app.state.store.users().resolve("citra").await.unwrap().unwrap();
    let citra = app.state.store.users().find(&citra).await.unwrap().unwrap();
    assert_eq!(citra.profile.status.as_str(), "active", "not taken for a leaver by a cut search");
    faults.budget.store(-1, Ordering::SeqCst);
    let run = sync(&app, SyncMode::Apply).await;
    assert_eq!((run.outcome.as_str(), run.report.map(|r| (r.updated, r.retired))), ("applied", Some((1, 1))));
    assert_eq!(title(&app).await.as_deref(), Some("Analis Data"));
}

async fn password_changes_are_refused_with_a_pointer_or_written_to_ldap(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    for writable in [false, true] {
        let app = app_with(backend.clone(), &slapd, |d| {
            d.password_change = Some(if writable { "ldap" } else { "refuse" }.into());
            d.password_change_url = Some("https://sandi.example.go.id/ubah".into());
        })
        .await;
        assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
        let browser = app.browser();
        assert_eq!(sign_in(&app, &browser, "ani", PASSWORD_ANI).await.0, StatusCode::SEE_OTHER);
        // A second session, so the page has a form naming its interaction whatever else it shows.
        assert_eq!(sign_in(&app, &app.browser(), "ani", PASSWORD_ANI).await.0, StatusCode::SEE_OTHER);
        let (_, page, _) = browser.get(&app.url("/account")).await;
        assert_eq!(page.contains("/account/password/"), writable, "the form only where Pintu can change it: {page}");
        let interaction = page.split("/account/sessions/").nth(1).unwrap().split('"').next().unwrap();
        let action = format!("/account/password/{interaction}");
        let csrf = page.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let new = "ikan-bakar-sambal-matah";
        let form = [("csrf_token", csrf.as_str()), ("current_password", PASSWORD_ANI), ("new_password", new)];
        let (status, page, _) = browser.post(&action, &form).await;
        assert_eq!(status, StatusCode::OK);
        if writable {
            assert!(page.contains("Kata sandi sudah diganti"), "{page}");
            assert_eq!(sign_in(&app, &app.browser(), "ani", new).await.0, StatusCode::SEE_OTHER, "the new one works");
            assert_eq!(sign_in(&app, &app.browser(), "ani", PASSWORD_ANI).await.0, StatusCode::UNAUTHORIZED);
            // Back, for the next round's directory.
            slapd.modify(&format!(
                "dn: uid=ani,ou=Diskominfo,ou=people,{SUFFIX}\nchangetype: modify\nreplace: userPassword\nuserPassword: {PASSWORD_ANI}\n\n"
            ));
        } else {
            assert!(page.contains("sandi.example.go.id"), "a pointer: {page}");
            assert_eq!(sign_in(&app, &app.browser(), "ani", PASSWORD_ANI).await.0, StatusCode::SEE_OTHER, "unchanged");
        }
        let ani = app.state.store.users().resolve("ani").await.unwrap().unwrap();
        let patch = serde_json::json!({ "password": "kata-sandi-dari-admin-1" });
        let refused =
            app.state.directory.update_user(&pintu::directory::Actor::cli(), ani.as_str(), &patch, Some(1)).await;
        assert!(format!("{refused:?}").contains("kept in the LDAP directory"), "{refused:?}");
    }
}

async fn starttls_with_the_configured_ca_and_the_admin_api(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(true, &seed()) else { return };
    let ca = slapd.ca_file.clone().unwrap();
    let app = app_with(backend.clone(), &slapd, |d| {
        d.starttls = Some(true);
        d.ca_file = Some(ca);
    })
    .await;
    let tested = app.state.federation.test("kominfo").await.expect("StartTLS with the test CA");
    assert_eq!((tested.people, tested.groups), (8, 2));
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    assert_eq!(sign_in(&app, &app.browser(), "budi", PASSWORD_BUDI).await.0, StatusCode::SEE_OTHER);
    let ca = slapd.ca_file.clone().unwrap();
    let tls_port = slapd.tls_port.unwrap();
    let ldaps = app_with(backend.clone(), &slapd, |d| {
        d.url = Some(format!("ldaps://127.0.0.1:{tls_port}"));
        d.ca_file = Some(ca);
    })
    .await;
    assert_eq!(ldaps.state.federation.test("kominfo").await.expect("ldaps:// with the test CA").people, 8);
    let untrusted = app_with(backend, &slapd, |d| d.starttls = Some(true)).await;
    let refused =
        untrusted.state.federation.test("kominfo").await.expect_err("the system roots do not know the test CA");
    assert!(format!("{refused:?}").to_lowercase().contains("certificate"), "{refused:?}");

    let office = app.office_token().await;
    let status = app.get_api("/api/v1/ldap", &office).await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body[0]["directory"], "kominfo");
    assert_eq!(status.body[0]["last_run"]["outcome"], "applied");
    assert_eq!(status.body[0]["accounts"], 4);
    let dry = app.api("POST", "/api/v1/ldap/kominfo/sync", &office, None, None).await;
    assert_eq!((dry.status, dry.body["outcome"].as_str()), (200, Some("dry-run")));
    assert_eq!(dry.body["report"]["unchanged"], 4);
    let unknown = app.api("POST", "/api/v1/ldap/nope/sync", &office, None, None).await;
    assert_eq!(unknown.status, 404);
    let opd = app.opd_admin_token("opd.admin", "DISKOMINFO").await;
    assert_eq!(app.get_api("/api/v1/ldap", &opd).await.status, 403);
}
