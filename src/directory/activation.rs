//! Activation codes: how imported and new people get their first password. An administrator
//! issues a code for one person or for everyone active in a unit and its sub-units (within
//! reach); each code is single use, expires, and is stored only as a hash, so the answer
//! that issues it is the only place it is ever shown (for the letters handed out on paper).

use serde::Serialize;
use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::authn::credentials::PasswordHome;
use crate::authn::secret::{activation_code, activation_code_hash};
use crate::domain::{User, UserStatus};
use crate::storage::UserFilter;

use super::{Actor, DirectoryError, DirectoryService};

/// How long a code stays usable by default, and at most (days).
pub const DEFAULT_ACTIVATION_DAYS: u32 = 14;
const MAX_ACTIVATION_DAYS: u32 = 90;
/// The most people one unit-wide issuance covers.
const MAX_PER_ISSUE: usize = 10_000;

/// Whom codes are issued for.
#[derive(Debug, Clone)]
pub enum ActivationTarget {
    /// One person (id, username, e-mail or NIP).
    Person(String),
    /// Everyone active in a unit (its code) and its sub-units.
    Unit(String),
}

/// One issued code, with what its letter needs.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCode {
    pub user_id: String,
    pub username: String,
    pub name: String,
    pub nip: Option<String>,
    pub unit: Option<String>,
    pub unit_name: Option<String>,
    pub code: String,
    pub expires_at: i64,
    /// Where an activation link can be sent, if the directory knows an address.
    pub email: Option<String>,
}

impl DirectoryService {
    /// Issues (or replaces) activation codes, sorted by unit then name. People whose
    /// password is kept in an LDAP directory get none (they already have one there).
    pub async fn issue_activation(
        &self,
        actor: &Actor,
        target: &ActivationTarget,
        days: Option<u32>,
    ) -> Result<Vec<IssuedCode>, DirectoryError> {
        let days = days.unwrap_or(DEFAULT_ACTIVATION_DAYS);
        if !(1..=MAX_ACTIVATION_DAYS).contains(&days) {
            return Err(DirectoryError::invalid("days", format!("days must be 1-{MAX_ACTIVATION_DAYS}")));
        }
        let reach = self.reach(actor).await?;
        let people = match target {
            ActivationTarget::Person(id) => {
                let user = self.person_in_reach(actor, id).await?;
                self.check_may_manage(&reach, &user).await?;
                if user.profile.status != UserStatus::Active || user.disabled {
                    return Err(DirectoryError::invalid("user", "the account is not active"));
                }
                if matches!(self.authn.password_home(&user), PasswordHome::Directory { .. }) {
                    return Err(DirectoryError::invalid("user", "this person's password is kept in an LDAP directory"));
                }
                vec![user]
            }
            ActivationTarget::Unit(code) => {
                let code = crate::domain::org_unit::normalize_code(code);
                let unit = self.unit_in_reach(&reach, "org_unit", &code).await?;
                self.active_people_in(unit).await?
            }
        };
        let now = self.now();
        let expires_at = now + i64::from(days) * 86_400;
        let units = self.store.org_units().list().await?;
        let unit_of = |user: &User| {
            let found = user.profile.org_unit_id.as_ref().and_then(|id| units.iter().find(|u| &u.id == id));
            (found.map(|u| u.code.clone()), found.map(|u| u.name.clone()))
        };
        let mut issued = Vec::with_capacity(people.len());
        let mut tx = self.store.begin().await?;
        for user in &people {
            let code = activation_code();
            let by = actor.id.to_string();
            let codes = self.store.activation_codes();
            codes.replace_in(&mut tx, user.id.as_str(), &activation_code_hash(&code), &by, now, expires_at).await?;
            let (unit, unit_name) = unit_of(user);
            issued.push(IssuedCode {
                user_id: user.id.to_string(),
                username: user.username.clone(),
                name: user.name.clone().unwrap_or_else(|| user.username.clone()),
                nip: user.profile.nip.as_ref().map(|n| n.as_str().to_owned()),
                unit,
                unit_name,
                code,
                expires_at,
                email: user.email.clone(),
            });
        }
        let events = people
            .iter()
            .map(|user| {
                let detail = json!({ "expires_at": expires_at });
                let unit = user.profile.org_unit_id.as_ref();
                let event = AuditEvent::admin(&actor.id, AdminChange::ActivationIssue, user.id.as_str(), unit, detail);
                event.from_ip(actor.source_ip.as_deref())
            })
            .collect();
        self.audit.record_in(&mut tx, events).await?;
        tx.commit().await?;
        issued.sort_by(|a, b| (a.unit.as_deref(), a.name.as_str()).cmp(&(b.unit.as_deref(), b.name.as_str())));
        Ok(issued)
    }

    /// The active people of `unit` and its sub-units whose password Pintu keeps.
    async fn active_people_in(&self, unit: crate::domain::OrgUnitId) -> Result<Vec<User>, DirectoryError> {
        let mut people = Vec::new();
        let mut after_id = None;
        loop {
            let filter = UserFilter {
                within: Some(unit.clone()),
                status: Some(UserStatus::Active),
                employment_type: None,
                text: None,
                after_id: after_id.clone(),
                limit: 500,
            };
            let page = self.store.users().search(&filter).await?;
            let Some(last) = page.last() else { break };
            after_id = Some(last.id.to_string());
            let full = page.len() == 500;
            people.extend(
                page.into_iter().filter(|u| !u.disabled && matches!(self.authn.password_home(u), PasswordHome::Pintu)),
            );
            if people.len() > MAX_PER_ISSUE {
                return Err(DirectoryError::invalid(
                    "org_unit",
                    format!("more than {MAX_PER_ISSUE} people: issue per sub-unit"),
                ));
            }
            if !full {
                break;
            }
        }
        Ok(people)
    }
}
