//! People kept in an external directory (an LDAP server): the federation module reads the
//! entries and maps them to `ExternalPerson`s; this module reconciles them with the accounts,
//! through the same validation, login-name rules and audit events as the HR import.
//!
//! Joiners are created, movers updated (unit history kept; unit-scoped grants follow the
//! person), leavers (gone from the directory, or disabled there) retired, which ends their
//! sessions and refresh tokens. Groups become grants of the roles the configuration maps them
//! to, scoped to the person's home unit; grants of other roles are never touched.
//!
//! An entry with a problem is reported by its DN and left as it is (it is not a leaver); the
//! rest is written in one transaction, or nothing is. A run that would retire more than the
//! configured share of the directory's accounts (a wrong base DN or filter looks just like
//! everyone leaving) applies nothing.

use std::collections::HashSet;

use serde::Serialize;

use crate::config::ConflictRule;
use crate::domain::OrgUnitId;

use super::import::ImportMode;
use super::{Actor, DirectoryError, DirectoryService, UserInput};

mod apply;
mod plan;

/// Which of the optional fields the directory provides; Pintu keeps its own value of the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Provided {
    pub email: bool,
    pub nip: bool,
    pub front_title: bool,
    pub back_title: bool,
    pub phone: bool,
    pub jabatan: bool,
}

/// One person as the directory has them.
#[derive(Debug, Clone)]
pub struct ExternalPerson {
    /// The entry's stable id (entryUUID, objectGUID).
    pub external_id: String,
    pub dn: String,
    /// Login name, name, unit code and the provided fields; `status` is ignored.
    pub input: UserInput,
    pub provided: Provided,
    /// Disabled or locked in the directory.
    pub disabled: bool,
    /// Names of the roles the person's groups map to.
    pub roles: Vec<String>,
}

/// A problem with one entry (or, with `dn` empty, with the run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalProblem {
    pub dn: String,
    pub field: String,
    pub reason: String,
}

impl ExternalProblem {
    pub fn new(dn: &str, field: &str, reason: impl Into<String>) -> Self {
        Self { dn: dn.to_owned(), field: field.to_owned(), reason: reason.into() }
    }
}

/// How one source is reconciled.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// `ldap:<name>`: the accounts' `source` and the links' key.
    pub source: String,
    pub mode: ImportMode,
    pub on_conflict: ConflictRule,
    pub max_retire_percent: u8,
    /// The roles the group mapping manages (grants of any other role are left alone).
    pub managed_roles: Vec<String>,
    /// Managed roles whose groups could not be read whole: granted, never revoked, this run.
    pub unrevoked_roles: Vec<String>,
}

/// What a run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub entries: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub retired: usize,
    /// Existing accounts the directory took over (`on_conflict = "link"`).
    pub linked: usize,
    /// Disabled entries with no account: nothing to create.
    pub skipped_disabled: usize,
    pub roles_granted: usize,
    pub roles_revoked: usize,
    /// How many problems were found (`problems` may hold fewer where a record keeps only the
    /// first ones).
    pub problems_total: usize,
    pub problems: Vec<ExternalProblem>,
    /// Why nothing was applied although asked, when something stopped the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    pub applied: bool,
}

/// A grant to make or end for a role the mapping manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GrantChange {
    pub role: crate::domain::RoleId,
    pub unit: Option<OrgUnitId>,
}

impl DirectoryService {
    /// Reconciles the accounts of `options.source` with `people` (and the problems found while
    /// reading them, which are reported with the run's). Office only.
    pub async fn reconcile(
        &self,
        actor: &Actor,
        people: Vec<ExternalPerson>,
        read_problems: Vec<ExternalProblem>,
        unreadable: HashSet<String>,
        options: &ReconcileOptions,
    ) -> Result<SyncReport, DirectoryError> {
        self.reach(actor).await?.require_office("sync people from a directory")?;
        let mut plan = self.plan_sync(&people, &unreadable, options).await?;
        let mut report = plan.report(people.len() + unreadable.len());
        report.problems = read_problems.into_iter().chain(std::mem::take(&mut report.problems)).collect();
        report.problems.sort_by(|a, b| a.dn.cmp(&b.dn));
        report.problems_total = report.problems.len();
        report.refused = plan.refusal(options.max_retire_percent);
        if options.mode == ImportMode::DryRun || report.refused.is_some() {
            return Ok(report);
        }
        let changes = std::mem::take(&mut plan.changes);
        self.apply_sync(actor, options, changes, plan.retirees).await?;
        report.applied = true;
        Ok(report)
    }
}
