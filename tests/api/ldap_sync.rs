//! LDAP sync against a real slapd: a dry run lists every change and problem, an apply makes
//! them in one go, a second run changes nothing; movers, renames and leavers follow the
//! directory; groups (nested, with a cycle) become role grants; conflicts with accounts from
//! elsewhere are reported or linked; a run that would retire most people is refused.

use pintu::directory::{Actor, RoleInput};
use pintu::federation::ldap::{SyncMode, SyncOutcome};

use crate::backend_tests;
use crate::support::slapd::{self, Slapd, attr};
use crate::support::{Backend, TestApp};

backend_tests!(
    a_dry_run_changes_nothing_an_apply_creates_people_and_a_rerun_changes_nothing,
    movers_renames_and_leavers_follow_the_directory,
    conflicts_with_accounts_from_elsewhere_are_reported_or_linked,
    a_run_that_would_retire_most_people_is_refused,
    the_periodic_sync_runs_once_per_interval_whichever_node_asks,
);

pub const ANI_NIP: &str = "199001012015032001";
pub const BUDI_NIP: &str = "198503302010011002";
pub const PASSWORD_ANI: &str = "kopi-tubruk-pagi-hari";
pub const PASSWORD_BUDI: &str = "nasi-goreng-kambing-7";
const PASSWORD_CITRA: &str = "es-teh-manis-sore-hari";

fn person(dn: &str, uid: &str, cn: &str, extra: &[(&str, &str)]) -> String {
    let mut s = format!("dn: {dn}\nobjectClass: inetOrgPerson\n");
    s += &attr("uid", uid);
    s += &attr("cn", cn);
    s += &attr("sn", cn.split(' ').next_back().unwrap_or(cn));
    for (k, v) in extra {
        s += &attr(k, v);
    }
    s + "\n"
}

/// The OPD tree and eight people: one without a NIP, one locked, one whose DN has an escaped
/// comma and whose name is not ASCII, and three with a problem (an invalid NIP, another's
/// e-mail, a unit with no mapping); nested groups with a cycle.
pub fn seed() -> String {
    let people = format!("ou=people,{}", slapd::SUFFIX);
    let mut s = String::new();
    for (dn, ou) in [
        (format!("ou=Diskominfo,{people}"), "Diskominfo"),
        (format!("ou=Aptika,ou=Diskominfo,{people}"), "Aptika"),
        (format!("ou=Dinkes,{people}"), "Dinkes"),
    ] {
        s += &format!("dn: {dn}\nobjectClass: organizationalUnit\nou: {ou}\n\n");
    }
    s += &person(
        &format!("uid=ani,ou=Diskominfo,{people}"),
        "ani",
        "Ani Wijaya",
        &[
            ("mail", "ani@kominfo.example.go.id"),
            ("employeeNumber", ANI_NIP),
            ("title", "Kepala Seksi"),
            ("userPassword", PASSWORD_ANI),
        ],
    );
    s += &person(
        &format!("uid=budi,ou=Aptika,ou=Diskominfo,{people}"),
        "budi",
        "Budi Santoso",
        &[
            ("mail", "budi@kominfo.example.go.id"),
            ("employeeNumber", BUDI_NIP),
            ("title", "Pranata Komputer"),
            ("userPassword", PASSWORD_BUDI),
        ],
    );
    s += &person(
        &format!("cn=Siti Nurhaliza\\, S.Kom,ou=Aptika,ou=Diskominfo,{people}"),
        "siti",
        "Siti Nurhaliza Ṡ.",
        &[("mail", "siti@kominfo.example.go.id")],
    );
    s += &person(
        &format!("uid=citra,ou=Dinkes,{people}"),
        "citra",
        "Citra Kontrak",
        &[("mail", "citra@dinkes.example.go.id"), ("userPassword", PASSWORD_CITRA)],
    );
    s += &person(
        &format!("uid=dodi,ou=Dinkes,{people}"),
        "dodi",
        "Dodi Terkunci",
        &[("mail", "dodi@dinkes.example.go.id"), ("pwdAccountLockedTime", "000001010000Z")],
    );
    s += &person(&format!("uid=eko,ou=Dinkes,{people}"), "eko", "Eko Salah", &[("employeeNumber", "123")]);
    s += &person(
        &format!("uid=fajar,ou=Dinkes,{people}"),
        "fajar",
        "Fajar Ganda",
        &[("mail", "ani@kominfo.example.go.id")],
    );
    s += &format!("dn: ou=Kontrak,{people}\nobjectClass: organizationalUnit\nou: Kontrak\n\n");
    s += &person(&format!("uid=gita,ou=Kontrak,{people}"), "gita", "Gita Tanpa Unit", &[]);
    let groups = format!("ou=groups,{}", slapd::SUFFIX);
    s += &format!(
        "dn: cn=eoffice-operators,{groups}\nobjectClass: groupOfNames\ncn: eoffice-operators\n\
         member: uid=ani,ou=Diskominfo,{people}\nmember: cn=aptika-staff,{groups}\n\n\
         dn: cn=aptika-staff,{groups}\nobjectClass: groupOfNames\ncn: aptika-staff\n\
         member: UID=budi, OU=Aptika, OU=Diskominfo, {people}\nmember: cn=eoffice-operators,{groups}\n\n"
    );
    s
}

/// A Pintu with the unit tree, the operators' role and `slapd` as directory `kominfo`.
pub async fn app_with(
    backend: Backend,
    slapd: &Slapd,
    customize: impl FnOnce(&mut pintu::config::RawLdapDirectory),
) -> TestApp {
    let directory = slapd.config("kominfo", customize);
    let app = TestApp::spawn_with(backend, |c| c.ldap.push(directory)).await;
    app.org_tree().await;
    let role =
        RoleInput { name: "eoffice.operator".into(), application: None, description: String::new(), min_level: None };
    app.state.directory.create_role(&Actor::cli(), &role).await.expect("role");
    app
}

pub async fn sync(app: &TestApp, mode: SyncMode) -> SyncOutcome {
    app.state.federation.sync(&Actor::cli(), "kominfo", mode).await.expect("sync runs")
}

async fn user(app: &TestApp, login: &str) -> Option<pintu::domain::User> {
    let id = app.state.store.users().resolve(login).await.unwrap()?;
    app.state.store.users().find(&id).await.unwrap()
}

async fn roles_of(app: &TestApp, login: &str) -> Vec<(String, Option<String>)> {
    let u = user(app, login).await.expect("account");
    let held = app.state.store.roles().held_by(&u.id).await.unwrap();
    held.into_iter().map(|h| (h.role.name, h.unit_code)).collect()
}

async fn a_dry_run_changes_nothing_an_apply_creates_people_and_a_rerun_changes_nothing(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |_| {}).await;
    let dry = sync(&app, SyncMode::DryRun).await;
    let report = dry.report.clone().expect("a report");
    assert_eq!(dry.outcome, "dry-run");
    assert_eq!(
        (report.entries, report.created, report.skipped_disabled, report.roles_granted),
        (8, 4, 1, 2),
        "{report:?}"
    );
    let problems: Vec<(&str, &str)> =
        report.problems.iter().map(|p| (p.dn.split(',').next().unwrap(), p.field.as_str())).collect();
    assert_eq!(
        problems,
        [("uid=eko", "nip"), ("uid=fajar", "email"), ("uid=gita", "unit")],
        "by DN: {:?}",
        report.problems
    );
    assert!(user(&app, "ani").await.is_none(), "a dry run writes nothing");

    let applied = sync(&app, SyncMode::Apply).await;
    assert_eq!(applied.outcome, "applied", "{applied:?}");
    let ani = user(&app, "ani").await.expect("ani created");
    assert_eq!(
        (ani.profile.source.as_str(), ani.email.as_deref()),
        ("ldap:kominfo", Some("ani@kominfo.example.go.id"))
    );
    assert_eq!(ani.profile.nip.as_ref().map(|n| n.as_str()), Some(ANI_NIP));
    assert_eq!(ani.profile.job_title.as_deref(), Some("Kepala Seksi"));
    let siti = user(&app, "siti").await.expect("the entry with an escaped comma");
    assert_eq!(siti.name.as_deref(), Some("Siti Nurhaliza Ṡ."));
    let unit = app.state.store.org_units().find(siti.profile.org_unit_id.as_ref().unwrap()).await.unwrap().unwrap();
    assert_eq!(unit.code, "APTIKA", "the nearest mapped ancestor");
    let citra = user(&app, "citra").await.expect("contract staff without a NIP");
    assert!(citra.profile.nip.is_none());
    assert!(user(&app, "dodi").await.is_none(), "a locked entry with no account is not created");
    assert!(user(&app, "eko").await.is_none(), "an entry with a problem is not created");
    assert_eq!(roles_of(&app, "ani").await, [("eoffice.operator".to_owned(), Some("DISKOMINFO".to_owned()))]);
    assert_eq!(roles_of(&app, "budi").await, [("eoffice.operator".to_owned(), Some("APTIKA".to_owned()))], "nested");
    let found = app.state.store.users().find_credentials("budi").await.unwrap().unwrap();
    assert!(found.1.is_none(), "no LDAP password is stored in Pintu");

    let again = sync(&app, SyncMode::Apply).await.report.expect("report");
    assert_eq!((again.created, again.updated, again.retired, again.unchanged), (0, 0, 0, 4), "{again:?}");
    assert_eq!((again.roles_granted, again.roles_revoked), (0, 0));
}

async fn movers_renames_and_leavers_follow_the_directory(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    // One leaver of four is 25%: above the default limit of 10%.
    let app = app_with(backend, &slapd, |d| d.max_retire_percent = Some(50)).await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    let budi_before = user(&app, "budi").await.unwrap();
    let citras_browser = app.browser();
    let (_, page, _) = citras_browser.get(&app.url("/account")).await;
    assert_eq!(citras_browser.login(&page, "citra", PASSWORD_CITRA).await.0, 303);
    let people = format!("ou=people,{}", slapd::SUFFIX);
    slapd.modify(&format!(
        "dn: uid=budi,ou=Aptika,ou=Diskominfo,{people}\nchangetype: modrdn\nnewrdn: uid=budi\ndeleteoldrdn: 1\n\
         newsuperior: ou=Dinkes,{people}\n\n\
         dn: uid=budi,ou=Dinkes,{people}\nchangetype: modify\nreplace: title\ntitle: Analis Data\n\n\
         dn: cn=eoffice-operators,ou=groups,{}\nchangetype: modify\ndelete: member\nmember: uid=ani,ou=Diskominfo,{people}\n\n\
         dn: uid=ani,ou=Diskominfo,{people}\nchangetype: modrdn\nnewrdn: uid=ani.wijaya\ndeleteoldrdn: 1\n\n\
         dn: uid=citra,ou=Dinkes,{people}\nchangetype: delete\n\n\
         dn: cn=Siti Nurhaliza\\, S.Kom,ou=Aptika,ou=Diskominfo,{people}\nchangetype: modify\n\
         add: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n",
        slapd::SUFFIX
    ));
    // The group still names budi's old DN: he loses the role with the move, as a directory would.
    let run = sync(&app, SyncMode::Apply).await;
    assert_eq!(run.outcome, "applied", "{run:?}");
    let report = run.report.expect("report");
    assert_eq!((report.updated, report.retired, report.created), (3, 1, 0), "{report:?}");
    let budi = user(&app, "budi").await.unwrap();
    assert_eq!(budi.id, budi_before.id, "the same account");
    assert_eq!(budi.profile.job_title.as_deref(), Some("Analis Data"));
    let history = app.state.directory.user_history(&Actor::cli(), budi.id.as_str()).await.unwrap();
    assert_eq!(history.last().and_then(|p| p.to_unit.as_deref()), Some("DINKES"), "{history:?}");
    assert!(roles_of(&app, "budi").await.is_empty(), "the old DN is no longer in the group");
    let renamed = user(&app, "ani.wijaya").await.expect("a rename is a rename");
    assert!(user(&app, "ani").await.is_none());
    assert!(roles_of(&app, "ani.wijaya").await.is_empty(), "removed from the group");
    let citra = user(&app, "citra").await.unwrap();
    assert_eq!((citra.profile.status.as_str(), citra.disabled), ("retired", true), "gone from LDAP");
    let (_, page, _) = citras_browser.get(&app.url("/account")).await;
    assert!(page.contains("<h1>Masuk</h1>"), "her session ended: the sign-in page, not her account: {page}");
    let siti = user(&app, "siti").await.unwrap();
    assert_eq!((siti.profile.status.as_str(), siti.disabled), ("retired", true), "locked in LDAP");
    assert_eq!(renamed.profile.status.as_str(), "active");

    slapd.modify(&format!(
        "dn: cn=Siti Nurhaliza\\, S.Kom,ou=Aptika,ou=Diskominfo,{people}\nchangetype: modify\ndelete: pwdAccountLockedTime\n\n"
    ));
    sync(&app, SyncMode::Apply).await;
    assert_eq!(user(&app, "siti").await.unwrap().profile.status.as_str(), "active", "unlocked: back");
}

async fn conflicts_with_accounts_from_elsewhere_are_reported_or_linked(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    for (rule, linked) in [("report", false), ("link", true)] {
        let app = app_with(backend.clone(), &slapd, |d| d.on_conflict = Some(rule.into())).await;
        let input = pintu::directory::UserInput {
            username: Some("budi.hr".into()),
            name: "Budi dari HR".into(),
            nip: Some(BUDI_NIP.into()),
            org_unit: Some("APTIKA".into()),
            ..Default::default()
        };
        let existing = app.state.directory.create_user(&Actor::cli(), &input).await.unwrap();
        let run = sync(&app, SyncMode::Apply).await;
        let report = run.report.expect("report");
        assert_eq!(run.outcome, "applied", "the other entries are applied");
        let account = user(&app, &existing.id).await.unwrap();
        if linked {
            assert_eq!(report.linked, 1, "{report:?}");
            assert_eq!((account.username.as_str(), account.profile.source.as_str()), ("budi", "ldap:kominfo"));
        } else {
            let problem = report.problems.iter().find(|p| p.dn.starts_with("uid=budi,")).expect("budi reported");
            assert!(problem.reason.contains("budi.hr") && problem.field == "nip", "{problem:?}");
            assert_eq!(
                (account.username.as_str(), account.profile.source.as_str()),
                ("budi.hr", "local"),
                "left alone"
            );
        }
    }
}

async fn a_run_that_would_retire_most_people_is_refused(backend: Backend) {
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |_| {}).await;
    assert_eq!(sync(&app, SyncMode::Apply).await.outcome, "applied");
    // Half the directory gone at once looks like a wrong base DN or filter, not like leavers.
    let people = format!("ou=people,{}", slapd::SUFFIX);
    slapd.modify(&format!(
        "dn: uid=budi,ou=Aptika,ou=Diskominfo,{people}\nchangetype: delete\n\n\
         dn: uid=citra,ou=Dinkes,{people}\nchangetype: delete\n\n"
    ));
    let run = sync(&app, SyncMode::Apply).await;
    assert_eq!(run.outcome, "refused", "{run:?}");
    let why = run.report.as_ref().and_then(|r| r.refused.clone()).unwrap();
    assert!(why.contains("retire 2 of 4"), "{why}");
    assert_eq!(user(&app, "budi").await.unwrap().profile.status.as_str(), "active", "nothing applied");
    let status = app.state.federation.status().await.unwrap();
    assert_eq!(status[0].last_run.as_ref().unwrap()["outcome"], "refused");
    assert_eq!(status[0].accounts, 4);
    // The operator checked the dry run: they did leave. One run may retire them.
    let run = app.state.federation.sync_with_limit(&Actor::cli(), "kominfo", SyncMode::Apply, Some(50)).await.unwrap();
    assert_eq!((run.outcome.as_str(), run.report.map(|r| r.retired)), ("applied", Some(2)));
    assert_eq!(user(&app, "budi").await.unwrap().profile.status.as_str(), "retired");
}

async fn the_periodic_sync_runs_once_per_interval_whichever_node_asks(backend: Backend) {
    use pintu::jobs::ldap_sync::run_if_due;
    let Some(slapd) = slapd::start_or_skip(false, &seed()) else { return };
    let app = app_with(backend, &slapd, |d| d.sync_interval_minutes = Some(60)).await;
    let federation = &app.state.federation;
    let (name, interval) = federation.scheduled().remove(0);
    assert_eq!((name.as_str(), interval.as_secs()), ("kominfo", 3600));
    let clock: pintu::clock::SharedClock = std::sync::Arc::new(app.clock.clone());
    assert!(run_if_due(federation, &clock, "node-1", &name, interval).await, "the first node runs it");
    assert!(user(&app, "budi").await.is_some(), "applied");
    app.clock.advance(1800);
    assert!(!run_if_due(federation, &clock, "node-2", &name, interval).await, "another node, within the interval");
    assert!(!run_if_due(federation, &clock, "node-1", &name, interval).await, "the same node, within the interval");
    app.clock.advance(1800);
    assert!(run_if_due(federation, &clock, "node-2", &name, interval).await, "an interval later: whoever asks first");
    let runs = app.raw_count("SELECT COUNT(*) FROM sync_runs").await;
    assert_eq!(runs, 2);
    let by_scheduler = app
        .raw_count("SELECT COUNT(*) FROM audit_events WHERE action = 'admin.ldap.sync' AND actor = 'scheduler'")
        .await;
    assert_eq!(by_scheduler, 2, "audited as the scheduler's");
}
