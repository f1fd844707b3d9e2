//! One sync of one directory: read every person and group (paged), map them, and hand them to
//! the directory service, which reconciles in one transaction. A run that cannot read the
//! whole directory (connection lost, a timeout, an entry that cannot be decoded) changes
//! nothing. Every run is recorded for the admin view; a refused or failed apply is audited.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::json;

use crate::audit::{AdminChange, AuditEvent, Outcome};
use crate::directory::{Actor, ImportMode, ReconcileOptions, SyncReport};
use crate::storage::SyncRun;

use super::{Directory, LdapError, LdapFederation, mapping};

/// How long sync runs are kept for the admin view.
const KEEP_RUNS_SECS: i64 = 90 * 86_400;
/// The longest a sync may spend reading the directory (each operation has the directory's own
/// timeout; this bounds a server that answers just often enough).
const READ_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30 * 60);
/// Problems kept in a run's record (all of them are in the answer to whoever ran it): a
/// directory with thousands of bad entries, synced every few minutes for 90 days, must not
/// fill the database.
const RECORDED_PROBLEMS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    DryRun,
    Apply,
}

/// A run as recorded: its outcome (`applied`, `dry-run`, `refused`, `failed`), and its report
/// or the error that stopped it.
#[derive(Debug, Clone, Serialize)]
pub struct SyncOutcome {
    pub directory: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<SyncReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LdapFederation {
    /// Syncs the directory `name`: a dry run lists every change and problem; `Apply` carries
    /// it out. The run is recorded whatever happens; `Err` only when it could not be recorded
    /// or the directory is unknown.
    pub async fn sync(&self, actor: &Actor, name: &str, mode: SyncMode) -> Result<SyncOutcome, LdapError> {
        self.sync_with_limit(actor, name, mode, None).await
    }

    /// `sync`, with this run's leaver limit (`max_retire_percent`) set by the operator: for a
    /// run they checked in a dry run, where many people really did leave.
    pub async fn sync_with_limit(
        &self,
        actor: &Actor,
        name: &str,
        mode: SyncMode,
        max_retire_percent: Option<u8>,
    ) -> Result<SyncOutcome, LdapError> {
        let d = self.find(name)?;
        let started_at = self.clock.now();
        let limit = max_retire_percent.unwrap_or(d.config.max_retire_percent).min(100);
        let result = self.read_and_reconcile(d, actor, mode, limit).await;
        let finished_at = self.clock.now();
        if let Err(e) = &result
            && matches!(e, LdapError::Storage(_) | LdapError::Directory(_))
        {
            tracing::error!(directory = %name, error = %e, "LDAP sync failed in Pintu");
        }
        let (outcome, report, error) = match result {
            Ok(r) if r.applied => ("applied", Some(r), None),
            Ok(r) if mode == SyncMode::Apply && r.refused.is_some() => ("refused", Some(r), None),
            Ok(r) => ("dry-run", Some(r), None),
            Err(e) => ("failed", None, Some(error_chain(&e))),
        };
        let outcome =
            SyncOutcome { directory: name.to_owned(), started_at, finished_at, outcome: outcome.into(), report, error };
        let run = SyncRun {
            id: uuid::Uuid::now_v7().to_string(),
            source: d.config.source(),
            started_at,
            finished_at,
            outcome: outcome.outcome.clone(),
            report: serde_json::to_string(&recorded(&outcome)).unwrap_or_default(),
        };
        self.store.external_accounts().record_run(&run, started_at - KEEP_RUNS_SECS).await?;
        if mode == SyncMode::Apply && outcome.outcome != "applied" {
            let why = outcome.error.clone().or_else(|| outcome.report.as_ref().and_then(|r| r.refused.clone()));
            let mut event =
                AuditEvent::admin(&actor.id, AdminChange::LdapSync, &run.source, None, json!({ "reason": why }));
            event.outcome = Outcome::Failure;
            if let Err(e) = self.audit.record(event.from_ip(actor.source_ip.as_deref())).await {
                tracing::error!(error = %e, "cannot audit a failed LDAP sync");
            }
        }
        Ok(outcome)
    }

    /// The latest recorded run of each directory.
    pub async fn status(&self) -> Result<Vec<DirectoryStatus>, LdapError> {
        let mut all = Vec::new();
        for (d, (name, reachability)) in self.directories.iter().zip(self.reachability()) {
            let last = self.store.external_accounts().latest_run(&d.config.source()).await?;
            let last_run = last.and_then(|r| serde_json::from_str(&r.report).ok());
            // Read at every metrics scrape: a count, not the directory's every link.
            let accounts = self.store.external_accounts().count_links(&d.config.source()).await?;
            let interval = d.config.sync_interval.map(|i| i.as_secs() / 60);
            all.push(DirectoryStatus {
                directory: name,
                url: d.config.url.to_string(),
                accounts,
                sync_interval_minutes: interval,
                reachability,
                last_run,
            });
        }
        Ok(all)
    }

    async fn read_and_reconcile(
        &self,
        d: &Directory,
        actor: &Actor,
        mode: SyncMode,
        max_retire_percent: u8,
    ) -> Result<SyncReport, LdapError> {
        let read = tokio::time::timeout(READ_DEADLINE, async {
            let mut ldap = d.client.service().await?;
            let attrs = mapping::person_attributes(&d.config);
            let people = d.client.search(&mut ldap, &d.config.base_dn, &d.config.user_filter, attrs).await?;
            let groups = match d.config.groups.is_empty() {
                true => (Vec::new(), 0),
                false => {
                    let (base, filter) = (&d.config.group_base_dn, &d.config.group_filter);
                    d.client.search(&mut ldap, base, filter, vec![d.config.attributes.member.clone()]).await?
                }
            };
            let _ = ldap.unbind().await;
            Ok::<_, LdapError>((people, groups))
        })
        .await
        .unwrap_or(Err(LdapError::Timeout));
        d.note(self.clock.now(), read.as_ref().map(|_| ()));
        let ((entries, bad_people), (groups, bad_groups)) = read?;
        if bad_people + bad_groups > 0 {
            let n = bad_people + bad_groups;
            return Err(LdapError::Search(format!("{n} entries could not be decoded; nothing was changed")));
        }
        let memberships = mapping::roles_by_member(&d.config, &groups);
        let (mut people, mut problems, mut unreadable) = (Vec::new(), memberships.problems, HashSet::new());
        for entry in &entries {
            match mapping::to_person(&d.config, entry, &memberships.roles, &d.units) {
                Ok(person) => people.push(person),
                Err((id, found)) => {
                    unreadable.extend(id);
                    problems.extend(found);
                }
            }
        }
        let mut managed: Vec<String> = d.config.groups.values().cloned().collect();
        managed.sort();
        managed.dedup();
        let options = ReconcileOptions {
            source: d.config.source(),
            mode: if mode == SyncMode::Apply { ImportMode::Apply } else { ImportMode::DryRun },
            on_conflict: d.config.on_conflict,
            max_retire_percent,
            managed_roles: managed,
            unrevoked_roles: memberships.unreliable,
        };
        Ok(self.directory.reconcile(actor, people, problems, unreadable, &options).await?)
    }
}

/// A directory's state for the admin view.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryStatus {
    pub directory: String,
    pub url: String,
    /// Accounts linked to the directory's entries.
    pub accounts: i64,
    pub sync_interval_minutes: Option<u64>,
    pub reachability: super::Reachability,
    pub last_run: Option<serde_json::Value>,
}

/// The run as recorded: its first `RECORDED_PROBLEMS` problems (`problems_total` counts all).
/// Copied only when there are more.
fn recorded(outcome: &SyncOutcome) -> std::borrow::Cow<'_, SyncOutcome> {
    if outcome.report.as_ref().is_none_or(|r| r.problems.len() <= RECORDED_PROBLEMS) {
        return std::borrow::Cow::Borrowed(outcome);
    }
    let mut kept = outcome.clone();
    if let Some(report) = kept.report.as_mut() {
        report.problems.truncate(RECORDED_PROBLEMS);
    }
    std::borrow::Cow::Owned(kept)
}

/// An error and its causes, for the run record (no secrets reach LDAP errors).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::ExternalProblem;

    #[test]
    fn a_run_record_keeps_the_first_thousand_problems_and_counts_all() {
        let problems: Vec<ExternalProblem> =
            (0..1500).map(|i| ExternalProblem::new(&format!("uid={i}"), "nip", "bad")).collect();
        let report = SyncReport { problems_total: 1500, problems, ..SyncReport::default() };
        let outcome = SyncOutcome {
            directory: "kominfo".into(),
            started_at: 0,
            finished_at: 1,
            outcome: "dry-run".into(),
            report: Some(report),
            error: None,
        };
        let kept = recorded(&outcome);
        let kept = kept.report.as_ref().unwrap();
        assert_eq!((kept.problems.len(), kept.problems_total), (RECORDED_PROBLEMS, 1500));
        assert_eq!(outcome.report.as_ref().unwrap().problems.len(), 1500, "the answer keeps them all");
        let small = SyncOutcome { report: Some(SyncReport::default()), ..outcome.clone() };
        assert!(matches!(recorded(&small), std::borrow::Cow::Borrowed(_)), "nothing copied when under the limit");
    }
}
