//! Bulk import from the civil-service HR export (CSV). A dry run reports every problem with
//! its line and field; an apply writes everything in one transaction or nothing. Re-importing
//! the same file changes nothing; people are matched by NIP, then by e-mail. With
//! `retire_missing`, imported people absent from the file are retired, which (like a transfer
//! to another unit) ends their sessions and refresh tokens. Every cell is trimmed; what is left
//! may hold no control character (`domain::text`, one line), or its row is reported.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::login_names::{LoginClash, LoginField, LoginNamespace};
use crate::domain::nip::Date;
use crate::domain::pegawai::SOURCE_IMPORT;
use crate::domain::{OrgUnitId, User, UserStatus};
use crate::storage::NewUser;

use super::user_input::UserInput;
use super::users::{apply, blank_user};
use super::{Actor, DirectoryError, DirectoryService, FieldError};

mod parse;

use parse::{Row, parse};

/// The header of the HR export, in this order (case-insensitive; `,` or `;` separated).
pub const COLUMNS: [&str; 11] = [
    "nip",
    "nama",
    "gelar_depan",
    "gelar_belakang",
    "jabatan",
    "golongan",
    "kode_unit",
    "email",
    "telepon",
    "jenis_pegawai",
    "status",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    DryRun,
    Apply,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub retired: usize,
    pub errors: Vec<FieldError>,
    pub applied: bool,
}

/// What the import will do to one person.
enum Change {
    Create(Box<User>),
    Update { current: Box<User>, updated: Box<User> },
}

impl DirectoryService {
    /// Checks (and with `ImportMode::Apply`, applies) an HR export. Office only.
    pub async fn import(
        &self,
        actor: &Actor,
        bytes: &[u8],
        mode: ImportMode,
        retire_missing: bool,
    ) -> Result<ImportReport, DirectoryError> {
        self.reach(actor).await?.require_office("import the HR export")?;
        let mut report = ImportReport::default();
        // A row that cannot be read is reported beside every problem of the rows that can: one
        // dry run lists everything to fix. Only a file without the right header stops here.
        let (rows, unreadable) = match parse(bytes) {
            Ok(parsed) => parsed,
            Err(errors) => return Ok(ImportReport { errors, ..report }),
        };
        let unreadable_lines: std::collections::HashSet<Option<usize>> = unreadable.iter().map(|e| e.line).collect();
        report.rows = rows.len() + unreadable_lines.len();
        let existing = self.store.users().list().await?;
        let (changes, seen, errors) = self.plan(&rows, &existing).await?;
        report.errors = unreadable;
        report.errors.extend(errors);
        report.errors.sort_by_key(|e| e.line);
        let retirees: Vec<&User> = existing
            .iter()
            .filter(|u| retire_missing && u.profile.source == SOURCE_IMPORT)
            .filter(|u| u.profile.status == UserStatus::Active && !seen.contains_key(u.id.as_str()))
            .collect();
        for change in &changes {
            match change {
                Change::Create(_) => report.created += 1,
                Change::Update { .. } => report.updated += 1,
            }
        }
        let failed: std::collections::HashSet<Option<usize>> = report.errors.iter().map(|e| e.line).collect();
        report.unchanged = report.rows - report.created - report.updated - failed.len().min(report.rows);
        report.retired = retirees.len();
        if mode == ImportMode::DryRun || !report.errors.is_empty() {
            return Ok(report);
        }
        self.apply_import(actor, changes, retirees).await?;
        report.applied = true;
        Ok(report)
    }

    /// Validates every row against the file and the directory and decides each change.
    async fn plan(
        &self,
        rows: &[Row],
        existing: &[User],
    ) -> Result<(Vec<Change>, HashMap<String, usize>, Vec<FieldError>), DirectoryError> {
        let now = self.now();
        let today = Date::from_unix(now);
        let all_units = self.store.org_units().list().await?;
        let units: HashMap<String, OrgUnitId> = all_units.iter().map(|u| (u.code.clone(), u.id.clone())).collect();
        let by_nip: HashMap<&str, &User> =
            existing.iter().filter_map(|u| u.profile.nip.as_ref().map(|n| (n.as_str(), u))).collect();
        let by_email: HashMap<&str, &User> =
            existing.iter().filter_map(|u| u.email.as_deref().map(|e| (e, u))).collect();
        let by_login: HashMap<&str, &User> = existing.iter().map(|u| (u.username.as_str(), u)).collect();
        // Every row's new login names against the directory and the rows before it, in memory.
        let mut namespace = LoginNamespace::of(existing);
        let (mut changes, mut errors) = (Vec::new(), Vec::new());
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut keys_in_file: HashMap<String, usize> = HashMap::new();
        for row in rows {
            let valid = match row.input.validate(today) {
                Ok(v) => v,
                Err(es) => {
                    errors.extend(in_columns(es, &row.input).map(|e| FieldError { line: Some(row.line), ..e }));
                    continue;
                }
            };
            let mut fail = |field: &str, reason: String| errors.push(FieldError::at(row.line, field, reason));
            let unit = match valid.org_unit.as_deref().map(|c| (c, units.get(c))) {
                Some((_, Some(id))) => Some(id.clone()),
                Some((code, None)) => {
                    fail("kode_unit", format!("unknown org unit {code}"));
                    continue;
                }
                None => {
                    fail("kode_unit", "kode_unit is required".into());
                    continue;
                }
            };
            let mut duplicate = false;
            let keys = [("nip", valid.nip.as_ref().map(|n| n.as_str().to_owned())), ("email", valid.email.clone())];
            for (field, key) in keys.into_iter().filter_map(|(f, k)| k.map(|k| (f, k))) {
                if let Some(first) = keys_in_file.insert(key.clone(), row.line) {
                    fail(field, format!("{key} already appears on line {first}"));
                    duplicate = true;
                }
            }
            if duplicate {
                continue;
            }
            let matched = valid
                .nip
                .as_ref()
                .and_then(|n| by_nip.get(n.as_str()))
                .or_else(|| valid.email.as_deref().and_then(|e| by_email.get(e)))
                .copied();
            let clash = |map: &HashMap<&str, &User>, key: Option<&str>| {
                key.and_then(|k| map.get(k)).filter(|other| matched.is_none_or(|m| m.id != other.id)).is_some()
            };
            if clash(&by_email, valid.email.as_deref()) {
                fail("email", "e-mail address belongs to another account".into());
                continue;
            }
            if matched.is_none() && clash(&by_login, Some(valid.username.as_str())) {
                let column = login_column(valid.nip.is_some(), valid.email.is_some());
                fail(column, "this login name belongs to another account".into());
                continue;
            }
            match matched {
                Some(current) if current.profile.source.starts_with("ldap:") => {
                    let source = &current.profile.source;
                    let column = if valid.nip.is_some() { "nip" } else { "email" };
                    fail(
                        column,
                        format!(
                            "this person comes from the LDAP directory ({source}): the HR import leaves them to it"
                        ),
                    );
                    continue;
                }
                Some(current) => {
                    if let Some(first) = seen.insert(current.id.to_string(), row.line) {
                        fail("nip", format!("this person (by NIP or e-mail) already appears on line {first}"));
                        continue;
                    }
                    if current.profile.nip.is_some() && current.profile.nip != valid.nip {
                        fail("nip", "a NIP cannot change once set".into());
                        continue;
                    }
                    // Only the export's columns change; NIK, login name and ceiling stay.
                    let merged = UserInput {
                        username: Some(current.username.clone()),
                        nik: current.profile.nik.clone(),
                        level_ceiling: Some(current.profile.level_ceiling as u8),
                        ..row.input.clone()
                    };
                    let valid = match merged.validate(today) {
                        Ok(v) => v,
                        Err(es) => {
                            errors.extend(in_columns(es, &row.input).map(|e| FieldError { line: Some(row.line), ..e }));
                            continue;
                        }
                    };
                    let mut updated = current.clone();
                    apply(&mut updated, valid, unit);
                    updated.profile.source = SOURCE_IMPORT.into();
                    if let Some(clash) = namespace.clash_of_new(&updated, Some(current)) {
                        fail(clash_column(&clash, &updated), clash.describe());
                        continue;
                    }
                    namespace.claim(&updated);
                    if updated != *current {
                        updated.updated_at = now;
                        changes.push(Change::Update { current: Box::new(current.clone()), updated: Box::new(updated) });
                    }
                }
                None => {
                    let mut user = blank_user(now);
                    apply(&mut user, valid, unit);
                    user.profile.source = SOURCE_IMPORT.into();
                    if let Some(clash) = namespace.clash(&user) {
                        fail(clash_column(&clash, &user), clash.describe());
                        continue;
                    }
                    namespace.claim(&user);
                    changes.push(Change::Create(Box::new(user)));
                }
            }
        }
        Ok((changes, seen, errors))
    }

    /// Writes the planned changes and their audit events in one transaction.
    async fn apply_import(
        &self,
        actor: &Actor,
        changes: Vec<Change>,
        retirees: Vec<&User>,
    ) -> Result<(), DirectoryError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut events = Vec::with_capacity(changes.len() + retirees.len() + 1);
        let ip = actor.source_ip.as_deref();
        let (mut created, mut updated) = (0, 0);
        let retired = retirees.len();
        for change in changes {
            match change {
                Change::Create(user) => {
                    created += 1;
                    self.store
                        .users()
                        .insert_in(&mut tx, &NewUser { user: (*user).clone(), password_hash: None })
                        .await?;
                    let unit = user.profile.org_unit_id.as_ref();
                    events.push(
                        AuditEvent::admin(&actor.id, AdminChange::UserImport, user.id.as_str(), unit, json!({}))
                            .from_ip(ip),
                    );
                }
                Change::Update { current, updated: new } => {
                    updated += 1;
                    let version = current.profile.version;
                    events.extend(self.save_user_in(&mut tx, actor, &current, &new, version).await?);
                }
            }
        }
        for current in retirees {
            let mut retired = current.clone();
            retired.profile.status = UserStatus::Retired;
            retired.disabled = true;
            retired.updated_at = now;
            events.extend(self.save_user_in(&mut tx, actor, current, &retired, current.profile.version).await?);
        }
        let detail = json!({ "created": created, "updated": updated, "retired": retired });
        events.push(AuditEvent::admin(&actor.id, AdminChange::ImportApply, "hr-export", None, detail).from_ip(ip));
        self.audit.record_in(&mut tx, events).await?;
        Ok(tx.commit().await?)
    }
}

/// The export's column behind a clashing login name (an imported login name comes from the
/// NIP, or the e-mail when there is none).
fn clash_column(clash: &LoginClash, user: &User) -> &'static str {
    match clash.field {
        LoginField::Username => login_column(user.profile.nip.is_some(), user.email.is_some()),
        LoginField::Nip => "nip",
        LoginField::Email => "email",
    }
}

/// The file has no username column: the login name comes from the NIP, else the e-mail, so a
/// problem with it is that column's.
fn login_column(has_nip: bool, has_email: bool) -> &'static str {
    if has_nip || !has_email { "nip" } else { "email" }
}

/// A row's validation problems named by the CSV's columns, not the API's fields; the login
/// name's (`login_column`) told once.
fn in_columns(errors: Vec<FieldError>, row: &UserInput) -> impl Iterator<Item = FieldError> {
    let login_column = login_column(row.nip.is_some(), row.email.is_some());
    let told = errors.iter().any(|e| e.field == login_column);
    errors.into_iter().filter(move |e| !(told && e.field == "username")).map(move |e| {
        let column = match e.field.as_str() {
            "name" => "nama",
            "front_title" => "gelar_depan",
            "back_title" => "gelar_belakang",
            "org_unit" => "kode_unit",
            "phone" => "telepon",
            "employment_type" => "jenis_pegawai",
            "username" => login_column,
            other => other,
        };
        FieldError { field: column.to_owned(), ..e }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_named_by_the_files_columns() {
        let problems = || vec![FieldError::at(2, "username", "already taken"), FieldError::at(2, "phone", "x")];
        let by_email = UserInput { email: Some("ani@kominfo.go.id".into()), ..UserInput::default() };
        let fields: Vec<String> = in_columns(problems(), &by_email).map(|e| e.field).collect();
        assert_eq!(fields, ["email", "telepon"], "a login name taken from the e-mail is the e-mail's problem");
        let by_nip = UserInput { nip: Some("198503302010011002".into()), ..by_email };
        let fields: Vec<String> = in_columns(problems(), &by_nip).map(|e| e.field).collect();
        assert_eq!(fields, ["nip", "telepon"]);
    }
}
