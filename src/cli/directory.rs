//! The directory's commands (`pintu admin opd|pegawai|role|profile|import|report`, `pintu audit
//! verify`): the same directory operations as the admin API, run as the office (`Actor::cli()`),
//! printing JSON records or CSV on stdout.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use pintu::app::App;
use pintu::directory::{
    Actor, DirectoryService, GrantInput, ImportMode, OrgUnitInput, OrgUnitPatch, Period, ProfilePatch, ReportKind,
    RoleInput, UserInput, UserQuery, report_csv,
};
use pintu::domain::ApplicationId;
use pintu::domain::nip::Date;

use super::args::{AuditCommand, DirectoryCommand};
use super::args::{OpdCommand, PegawaiCommand, ProfileCommand, ReportCommand, RoleCommand};
use super::{print_json, refused_app, refused_dir};

/// `key=value` pairs as a JSON object; an empty value is `null` (clears the field in a merge
/// patch); `level_ceiling` and `min_level` are numbers; list fields are comma-separated.
fn settings(pairs: &[String]) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut out = serde_json::Map::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else { bail!("--set {pair}: expected key=value") };
        if key.trim().eq_ignore_ascii_case("password") {
            // A password on the command line ends up in the shell's history and in `ps`.
            bail!(
                "--set password=…: passwords never go on the command line; write it to a file readable only by you and give --password-file FILE"
            );
        }
        let value = match (key, value) {
            ("claims" | "access_org_units" | "access_roles", "") => json!([]),
            (_, "") => Value::Null,
            ("level_ceiling" | "min_level", v) => json!(v.parse::<u8>().with_context(|| format!("{key} must be 1-4"))?),
            ("claims" | "access_org_units" | "access_roles", v) => {
                json!(v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>())
            }
            (_, v) => json!(v),
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

/// A password from a file (never from the command line), without its line ending.
pub(super) fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<Option<String>> {
    file.map(|path| {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .map(|t| t.trim_end_matches(['\r', '\n']).to_owned())
    })
    .transpose()
}

/// `YYYY-MM-DD` (midnight UTC) or unix seconds.
fn instant(value: &str) -> anyhow::Result<i64> {
    if let Ok(n) = value.parse::<i64>() {
        return Ok(n);
    }
    let parts: Vec<u32> = value.split('-').map(|p| p.parse().unwrap_or(0)).collect();
    let date = match parts[..] {
        [year, month, day] => Date { year, month, day },
        _ => bail!("{value}: expected YYYY-MM-DD or unix seconds"),
    };
    if !date.is_valid() {
        bail!("{value} is not a date");
    }
    Ok(date.to_unix())
}

pub async fn run(app: &App, cmd: DirectoryCommand) -> anyhow::Result<()> {
    let d = &app.state.directory;
    let actor = Actor::cli();
    match cmd {
        DirectoryCommand::Opd(c) => opd(d, &actor, c).await,
        DirectoryCommand::Pegawai(c) => pegawai(d, &actor, c).await,
        DirectoryCommand::Role(c) => role(d, &actor, c).await,
        DirectoryCommand::Profile(c) => profile(app, &actor, c).await,
        DirectoryCommand::Import { file, apply, retire_missing } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mode = if apply { ImportMode::Apply } else { ImportMode::DryRun };
            let report = d.import(&actor, &bytes, mode, retire_missing).await.map_err(refused_dir)?;
            print_json(&report)?;
            if !report.errors.is_empty() {
                bail!("{} problem(s); nothing was written", report.errors.len());
            }
            Ok(())
        }
        DirectoryCommand::PeriodicReport { month, format, lang, list } => {
            super::reports::periodic(app, &actor, month, &format, &lang, list).await
        }
        DirectoryCommand::Report(ReportCommand { by, from, to, csv }) => {
            let kind = match by.as_str() {
                "opd" => ReportKind::OrgUnit,
                "apps" => ReportKind::Application,
                other => bail!("report by {other}: use opd or apps"),
            };
            let period = Period { from: instant(&from)?, to: instant(&to)? };
            let lines = d.report(&actor, kind, period).await.map_err(refused_dir)?;
            if csv {
                print!("{}", report_csv(&lines))
            } else {
                print_json(&lines)?
            }
            Ok(())
        }
    }
}

async fn opd(d: &DirectoryService, actor: &Actor, cmd: OpdCommand) -> anyhow::Result<()> {
    match cmd {
        OpdCommand::Create { code, name, kind, parent, min_level } => {
            let input = OrgUnitInput { code, name, kind, parent, min_level };
            print_json(&d.create_org_unit(actor, &input).await.map_err(refused_dir)?)
        }
        OpdCommand::List => print_json(&d.list_org_units(actor).await.map_err(refused_dir)?),
        OpdCommand::Show { code } => print_json(&d.get_org_unit(actor, &code).await.map_err(refused_dir)?),
        OpdCommand::History { code } => print_json(&d.org_unit_history(actor, &code).await.map_err(refused_dir)?),
        OpdCommand::Update { code, set } => {
            let patch: OrgUnitPatch = serde_json::from_value(Value::Object(settings(&set)?))
                .context("unknown field: use code, name, kind or parent")?;
            let current = d.get_org_unit(actor, &code).await.map_err(refused_dir)?;
            print_json(&d.update_org_unit(actor, &code, &patch, Some(current.version)).await.map_err(refused_dir)?)
        }
    }
}

async fn pegawai(d: &DirectoryService, actor: &Actor, cmd: PegawaiCommand) -> anyhow::Result<()> {
    match cmd {
        PegawaiCommand::Add { set, password_file } => {
            let mut fields = settings(&set)?;
            fields.retain(|_, v| !v.is_null());
            if let Some(p) = read_password(password_file.as_deref())? {
                fields.insert("password".into(), json!(p));
            }
            let input: UserInput = serde_json::from_value(Value::Object(fields)).context("invalid --set fields")?;
            print_json(&d.create_user(actor, &input).await.map_err(refused_dir)?)
        }
        PegawaiCommand::Show { id } => print_json(&d.get_user(actor, &id).await.map_err(refused_dir)?),
        PegawaiCommand::History { id } => print_json(&d.user_history(actor, &id).await.map_err(refused_dir)?),
        PegawaiCommand::ResetFactors { id } => {
            let removed = d.reset_factors(actor, &id).await.map_err(refused_dir)?;
            println!("second factors reset ({removed} removed); sessions ended");
            Ok(())
        }
        PegawaiCommand::Find { opd, status, q, limit, cursor } => {
            let query = UserQuery { opd, status, q, cursor, limit: Some(limit), ..Default::default() };
            print_json(&d.list_users(actor, &query).await.map_err(refused_dir)?)
        }
        PegawaiCommand::Update { id, set, password_file } => {
            let mut patch = settings(&set)?;
            if let Some(p) = read_password(password_file.as_deref())? {
                patch.insert("password".into(), json!(p));
            }
            let current = d.get_user(actor, &id).await.map_err(refused_dir)?;
            let updated = d.update_user(actor, &id, &Value::Object(patch), Some(current.version)).await;
            print_json(&updated.map_err(refused_dir)?)
        }
    }
}

async fn role(d: &DirectoryService, actor: &Actor, cmd: RoleCommand) -> anyhow::Result<()> {
    match cmd {
        RoleCommand::Create { name, app, description, min_level } => {
            let input = RoleInput { name, application: app, description, min_level };
            print_json(&d.create_role(actor, &input).await.map_err(refused_dir)?)
        }
        RoleCommand::List => print_json(&d.list_roles(actor).await.map_err(refused_dir)?),
        RoleCommand::Grant { user, role, org_unit, from, until } => {
            let input = GrantInput {
                role,
                org_unit,
                valid_from: from.as_deref().map(instant).transpose()?,
                valid_until: until.as_deref().map(instant).transpose()?,
            };
            print_json(&d.grant_role(actor, &user, &input).await.map_err(refused_dir)?)
        }
        RoleCommand::Grants { user } => print_json(&d.list_grants(actor, &user).await.map_err(refused_dir)?),
        RoleCommand::Revoke { user, grant } => {
            d.revoke_grant(actor, &user, &grant).await.map_err(refused_dir)?;
            println!("grant {grant} revoked");
            Ok(())
        }
    }
}

/// `pintu admin profile`: through the application service, which writes application profiles.
async fn profile(app: &App, actor: &Actor, cmd: ProfileCommand) -> anyhow::Result<()> {
    let apps = &app.state.applications;
    match cmd {
        ProfileCommand::Show { id } => {
            print_json(&apps.get(actor, &ApplicationId::new(id)).await.map_err(refused_app)?)
        }
        ProfileCommand::Set { id, set } => {
            let patch: ProfilePatch = serde_json::from_value(Value::Object(settings(&set)?)).context(
                "unknown field: use category, owner, min_level, access_org_units, access_roles, claims or admin",
            )?;
            let id = ApplicationId::new(id);
            let current = apps.get(actor, &id).await.map_err(refused_app)?;
            let updated = apps.update_profile(actor, &id, &patch, Some(current.version)).await;
            print_json(&updated.map_err(refused_app)?)
        }
    }
}

/// `pintu audit verify`: walks the chain; a broken chain is a failure exit.
pub async fn audit(app: &App, cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify { checkpoints } => {
            let report = app.state.directory.verify_audit(&Actor::cli()).await.map_err(refused_dir)?;
            let exported = match checkpoints {
                Some(path) => Some(read_checkpoints(&path)?),
                None => None,
            };
            let signed = app.checkpoints.verify(exported.as_ref()).await?;
            let mut summary = BTreeMap::new();
            summary.insert("events", json!(report.events));
            summary.insert("head_seq", json!(report.head_seq));
            summary.insert("head_hash", json!(report.head_hash));
            summary.insert("problems", json!(report.problems));
            summary.insert("checkpoints", json!(signed));
            print_json(&summary)?;
            if !report.is_intact() {
                bail!("the audit log has been tampered with: {} problem(s)", report.problems.len());
            }
            if !signed.problems.is_empty() {
                bail!("the audit log does not match its signed checkpoints: {} problem(s)", signed.problems.len());
            }
            Ok(())
        }
        AuditCommand::Checkpoint => {
            match app.checkpoints.make(pintu::clock::Clock::now(&pintu::clock::SystemClock)).await? {
                Some(c) => print_json(&json!({ "seq": c.seq, "hash": c.hash, "jws": c.jws })),
                None => print_json(
                    &json!({ "signed": false, "reason": "the newest checkpoint already signs the head (or there are no events)" }),
                ),
            }
        }
        AuditCommand::Checkpoints => print_json(&app.checkpoints.export().await?),
    }
}

/// A checkpoints file written by `pintu audit checkpoints`.
fn read_checkpoints(path: &std::path::Path) -> anyhow::Result<pintu::app::CheckpointExport> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a checkpoints file written by `pintu audit checkpoints`", path.display()))
}
