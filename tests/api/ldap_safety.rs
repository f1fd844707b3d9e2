//! What an LDAP directory must never be able to do: open a leaver's account with a newcomer's
//! password (a DN reused before the next sync), take an administrator's account, leave a taken
//! account's old local password working, be overridden by the HR import, or revoke a role
//! because its group could not be read.

use pintu::directory::{AccountExtras, Actor, GrantInput, ImportMode, UserInput};
use pintu::federation::ldap::SyncMode;
use reqwest::StatusCode;

use crate::backend_tests;
use crate::ldap_sync::{ANI_NIP, BUDI_NIP, PASSWORD_BUDI, app_with, seed, sync};
use crate::support::browser::location;
use crate::support::slapd::{self, SUFFIX, attr};
use crate::support::{Backend, PASSWORD, TestApp};

backend_tests!(
    a_dn_given_to_someone_new_does_not_open_the_leavers_account,
    the_hr_import_leaves_directory_people_to_the_directory,
    a_taken_over_account_loses_its_local_password_and_administrators_are_never_taken_over,
    a_group_the_search_cannot_find_is_reported_and_its_role_revoked_from_nobody,
);

async fn sign_in(app: &TestApp, login: &str, password: &str) -> StatusCode {
    let browser = app.browser();
    let (_, page, _) = browser.get(&app.url("/account")).await;
    let (status, _, headers) = browser.login(&page, login, password).await;
    if status == StatusCode::SEE_OTHER {
        assert_eq!(location(&headers), "/account");
    }
    status
}

async fn a_dn_given_to_someone_new_does_not_open_the_leavers_account(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |_| {}).await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    assert_eq!(sign_in(&app, "budi", PASSWORD_BUDI).await, StatusCode::SEE_OTHER);
    // Budi leaves; a newcomer gets his uid, and so his DN, before any sync.
    let dn = format!("uid=budi,ou=Aptika,ou=Diskominfo,ou=people,{SUFFIX}");
    let newcomer = format!(
        "dn: {dn}\nchangetype: add\nobjectClass: inetOrgPerson\n{}{}{}\n",
        attr("uid", "budi"),
        attr("cn", "Budi Baru"),
        attr("sn", "Baru") + &attr("userPassword", "sandi-pegawai-baru-123")
    );
    slapd.modify(&format!("dn: {dn}\nchangetype: delete\n\n{newcomer}"));
    assert_eq!(
        sign_in(&app, "budi", "sandi-pegawai-baru-123").await,
        StatusCode::UNAUTHORIZED,
        "the DN names another entry now: not the old account's password"
    );
    assert_eq!(sign_in(&app, BUDI_NIP, PASSWORD_BUDI).await, StatusCode::UNAUTHORIZED, "nor the old one");
}

async fn the_hr_import_leaves_directory_people_to_the_directory(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |_| {}).await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    let header = pintu::directory::IMPORT_COLUMNS.join(",");
    let csv = format!("{header}\n{ANI_NIP},Ani dari HR,,,Staf,III/a,DINKES,ani.hr@example.go.id,,PNS,aktif\n");
    let report = app.state.directory.import(&Actor::cli(), csv.as_bytes(), ImportMode::Apply, true).await.unwrap();
    assert!(!report.applied, "{report:?}");
    assert!(report.errors.iter().any(|e| e.reason.contains("LDAP directory (ldap:kominfo)")), "{report:?}");
    let ani = app.state.store.users().resolve("ani").await.unwrap().unwrap();
    let ani = app.state.store.users().find(&ani).await.unwrap().unwrap();
    assert_eq!(ani.profile.source, "ldap:kominfo");
}

async fn a_taken_over_account_loses_its_local_password_and_administrators_are_never_taken_over(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |d| d.on_conflict = Some("link".into())).await;
    let budi = UserInput {
        username: Some("budi.hr".into()),
        name: "Budi dari HR".into(),
        nip: Some(BUDI_NIP.into()),
        org_unit: Some("APTIKA".into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    app.state.directory.create_user(&Actor::cli(), &budi).await.unwrap();
    let admin = UserInput {
        username: Some("admin.ani".into()),
        name: "Admin".into(),
        email: Some("ani@kominfo.example.go.id".into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    let extras = AccountExtras { is_admin: true, ..Default::default() };
    app.state.directory.create_account(&Actor::cli(), &admin, &extras).await.unwrap();
    assert_eq!(sign_in(&app, "budi.hr", PASSWORD).await, StatusCode::SEE_OTHER);

    let report = sync(&app, SyncMode::Apply).await.report.unwrap();
    assert_eq!(report.linked, 1, "{report:?}");
    let refused = report.problems.iter().find(|p| p.dn.starts_with("uid=ani,")).expect("ani's entry reported");
    assert!(refused.reason.contains("never taken over"), "{refused:?}");
    assert_eq!(sign_in(&app, "admin.ani", PASSWORD).await, StatusCode::SEE_OTHER, "the administrator is untouched");
    assert_eq!(sign_in(&app, "budi", PASSWORD).await, StatusCode::UNAUTHORIZED, "the old local password is gone");
    assert_eq!(sign_in(&app, "budi", PASSWORD_BUDI).await, StatusCode::SEE_OTHER, "the directory's works");
    let (_, hash) = app.state.store.users().find_credentials("budi").await.unwrap().unwrap();
    assert!(hash.is_none(), "no password hash is kept for a directory account");
}

async fn a_group_the_search_cannot_find_is_reported_and_its_role_revoked_from_nobody(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    // The filter misses the operators' group (as a typo would).
    let app = app_with(backend, &slapd, |d| d.group_filter = Some("(cn=aptika-staff)".into())).await;
    let run = sync(&app, SyncMode::Apply).await;
    let report = run.report.unwrap();
    assert_eq!((run.outcome.as_str(), report.roles_granted), ("applied", 0));
    let problem = report.problems.iter().find(|p| p.field == "groups").expect("the missing group is reported");
    assert!(problem.dn.starts_with("cn=eoffice-operators"), "{problem:?}");
    let role = app.state.directory.list_roles(&Actor::cli()).await.unwrap();
    let role = role.iter().find(|r| r.name == "eoffice.operator").unwrap();
    let ani = app.state.store.users().resolve("ani").await.unwrap().unwrap();
    let grant = GrantInput {
        role: role.id.to_string(),
        org_unit: Some("DISKOMINFO".into()),
        valid_from: None,
        valid_until: None,
    };
    app.state.directory.grant_role(&Actor::cli(), ani.as_str(), &grant).await.unwrap();
    let report = sync(&app, SyncMode::Apply).await.report.unwrap();
    assert_eq!(report.roles_revoked, 0, "an unreadable group must not look empty: {report:?}");
    assert_eq!(app.state.store.roles().held_by(&ani).await.unwrap().len(), 1);
}
