//! Deciding what a sync changes: each entry validated and matched to its account (by the link
//! to its entry; with `on_conflict = "link"`, by NIP or e-mail too), its login names checked
//! against every other account, its managed grants compared. Nothing is written here.

use std::collections::{HashMap, HashSet};

use crate::config::ConflictRule;
use crate::domain::login_names::LoginNamespace;
use crate::domain::nip::Date;
use crate::domain::{OrgUnitId, RoleGrant, RoleGrantId, RoleId, User, UserStatus};
use crate::storage::ExternalLink;

use super::super::users::{apply, blank_user};
use super::super::{DirectoryError, DirectoryService, UserInput};
use super::{ExternalPerson, ExternalProblem, GrantChange, ReconcileOptions, SyncReport};

/// What the sync will do to one account.
pub(in crate::directory) enum Change {
    Create { user: Box<User>, link: ExternalLink, grants: Vec<GrantChange> },
    Update(Box<Update>),
}

pub(in crate::directory) struct Update {
    pub current: User,
    /// `None` when the account itself stays as it is.
    pub updated: Option<User>,
    /// Written when the entry is newly linked or its DN changed.
    pub link: Option<ExternalLink>,
    /// An account that did not come from this directory, taken over.
    pub adopted: bool,
    pub grants: Vec<GrantChange>,
    pub revokes: Vec<RoleGrantId>,
}

impl Update {
    /// Whether this update retires an active account (its entry is disabled in the directory).
    fn retires(&self) -> bool {
        let retired = self.updated.as_ref().is_some_and(|u| u.profile.status == UserStatus::Retired);
        retired && self.current.profile.status == UserStatus::Active
    }
}

pub(in crate::directory) struct Plan {
    pub changes: Vec<Change>,
    pub retirees: Vec<User>,
    /// Accounts of this source that can sign in, before the run.
    active_before: usize,
    unchanged: usize,
    skipped_disabled: usize,
    problems: Vec<ExternalProblem>,
}

impl Plan {
    pub fn report(&self, entries: usize) -> SyncReport {
        let mut report = SyncReport { entries, ..SyncReport::default() };
        for change in &self.changes {
            match change {
                Change::Create { grants, .. } => {
                    report.created += 1;
                    report.roles_granted += grants.len();
                }
                Change::Update(u) => {
                    report.updated += 1;
                    report.linked += usize::from(u.adopted);
                    report.roles_granted += u.grants.len();
                    report.roles_revoked += u.revokes.len();
                }
            }
        }
        report.unchanged = self.unchanged;
        report.skipped_disabled = self.skipped_disabled;
        report.retired = self.retirees.len();
        report.problems = self.problems.clone();
        report
    }

    /// Why the run must not be applied: more leavers (gone, or disabled there) than the
    /// configured share.
    pub fn refusal(&self, max_percent: u8) -> Option<String> {
        let disabled = self.changes.iter().filter(|c| matches!(c, Change::Update(u) if u.retires())).count();
        let (leaving, of) = (self.retirees.len() + disabled, self.active_before);
        (leaving > 0 && leaving * 100 > usize::from(max_percent) * of).then(|| {
            format!(
                "the run would retire {leaving} of {of} accounts, more than max_retire_percent ({max_percent}%); \
                 check base_dn, user_filter and the locks in the directory, or allow it for one run \
                 (pintu ldap sync --apply --max-retire-percent N)"
            )
        })
    }
}

/// What the plan reads once: the accounts and how to find them.
struct Known<'a> {
    by_id: HashMap<&'a str, &'a User>,
    by_nip: HashMap<&'a str, &'a User>,
    by_email: HashMap<&'a str, &'a User>,
    links: HashMap<&'a str, &'a ExternalLink>,
    linked_users: HashSet<&'a str>,
    units: HashMap<String, OrgUnitId>,
    unit_codes: HashMap<&'a OrgUnitId, &'a str>,
    roles: HashMap<String, RoleId>,
    /// Managed roles not revoked in this run (their groups could not be read whole).
    unrevoked: HashSet<RoleId>,
    grants: HashMap<&'a str, Vec<&'a RoleGrant>>,
    now: i64,
    /// Administrators (the flag, or a grant of an administration role): never taken over.
    admins: HashSet<String>,
}

/// What the run has decided so far, entry by entry.
struct Claims {
    namespace: LoginNamespace,
    /// Accounts an entry has taken over in this run: a second entry may not take the same one.
    adopted: HashSet<String>,
}

impl DirectoryService {
    pub(in crate::directory) async fn plan_sync(
        &self,
        people: &[ExternalPerson],
        unreadable: &HashSet<String>,
        options: &ReconcileOptions,
    ) -> Result<Plan, DirectoryError> {
        let today = Date::from_unix(self.now());
        let users = self.store.users().list().await?;
        let links = self.store.external_accounts().links(&options.source).await?;
        let all_units = self.store.org_units().list().await?;
        let mut problems = Vec::new();
        let mut roles = HashMap::new();
        let all_roles = self.store.roles().list().await?;
        for name in &options.managed_roles {
            let matching: Vec<&crate::domain::Role> = all_roles.iter().filter(|r| &r.name == name).collect();
            match matching.as_slice() {
                [role] => drop(roles.insert(name.clone(), role.id.clone())),
                [] => problems.push(ExternalProblem::new("", "groups", format!("role {name} does not exist in Pintu"))),
                _ => problems.push(ExternalProblem::new("", "groups", format!("role name {name} is ambiguous"))),
            }
        }
        let managed: Vec<RoleId> = roles.values().cloned().collect();
        let grant_rows = self.store.roles().grants_of_roles(&managed).await?;
        let admin_roles: Vec<RoleId> = all_roles.iter().filter(|r| r.is_admin_role()).map(|r| r.id.clone()).collect();
        let mut admins: HashSet<String> = self
            .store
            .roles()
            .grants_of_roles(&admin_roles)
            .await?
            .into_iter()
            .map(|g| g.user_id.to_string())
            .collect();
        admins.extend(users.iter().filter(|u| u.is_admin).map(|u| u.id.to_string()));
        let mut grants: HashMap<&str, Vec<&RoleGrant>> = HashMap::new();
        for g in &grant_rows {
            grants.entry(g.user_id.as_str()).or_default().push(g);
        }
        let known = Known {
            by_id: users.iter().map(|u| (u.id.as_str(), u)).collect(),
            by_nip: users.iter().filter_map(|u| u.profile.nip.as_ref().map(|n| (n.as_str(), u))).collect(),
            by_email: users.iter().filter_map(|u| u.email.as_deref().map(|e| (e, u))).collect(),
            links: links.iter().map(|l| (l.external_id.as_str(), l)).collect(),
            linked_users: links.iter().map(|l| l.user_id.as_str()).collect(),
            units: all_units.iter().map(|u| (u.code.clone(), u.id.clone())).collect(),
            unit_codes: all_units.iter().map(|u| (&u.id, u.code.as_str())).collect(),
            unrevoked: options.unrevoked_roles.iter().filter_map(|n| roles.get(n).cloned()).collect(),
            roles,
            grants,
            now: self.now(),
            admins,
        };
        let mut claims = Claims { namespace: LoginNamespace::of(&users), adopted: HashSet::new() };
        let (mut changes, mut seen) = (Vec::new(), unreadable.clone());
        let (mut unchanged, mut skipped_disabled) = (0, 0);
        for person in people {
            if !seen.insert(person.external_id.clone()) {
                problems.push(ExternalProblem::new(&person.dn, "external_id", "another entry has the same id"));
                continue;
            }
            match self.plan_one(person, &known, &mut claims, options, today) {
                Ok(Some(change)) => changes.push(change),
                Ok(None) if person.disabled && !known.links.contains_key(person.external_id.as_str()) => {
                    skipped_disabled += 1
                }
                Ok(None) => unchanged += 1,
                Err(p) => problems.extend(p),
            }
        }
        let retirees: Vec<User> = links
            .iter()
            .filter(|l| !seen.contains(&l.external_id))
            .filter_map(|l| known.by_id.get(l.user_id.as_str()))
            .filter(|u| u.profile.status == UserStatus::Active)
            .map(|u| (*u).clone())
            .collect();
        let active_before =
            links.iter().filter_map(|l| known.by_id.get(l.user_id.as_str())).filter(|u| !u.disabled).count();
        Ok(Plan { changes, retirees, active_before, unchanged, skipped_disabled, problems })
    }

    /// One entry: `Ok(None)` when nothing changes (or a disabled entry has no account to make).
    fn plan_one(
        &self,
        person: &ExternalPerson,
        known: &Known<'_>,
        claims: &mut Claims,
        options: &ReconcileOptions,
        today: Date,
    ) -> Result<Option<Change>, Vec<ExternalProblem>> {
        let fail = |field: &str, reason: String| vec![ExternalProblem::new(&person.dn, field, reason)];
        let link = known.links.get(person.external_id.as_str()).copied();
        let (current, adopted) = match link.and_then(|l| known.by_id.get(l.user_id.as_str()).copied()) {
            Some(user) => (Some(user), false),
            None => match self.conflict(person, known, options.on_conflict, today)? {
                Some(user) if !claims.adopted.insert(user.id.to_string()) => {
                    let why = format!("account {} is already taken over by another entry in this run", user.username);
                    return Err(fail("external_id", why));
                }
                Some(user) => (Some(user), true),
                None => (None, false),
            },
        };
        if current.is_none() && person.disabled {
            return Ok(None);
        }
        let input = merged_input(person, current, known);
        let valid = input.validate(today).map_err(|es| {
            es.into_iter().map(|e| ExternalProblem::new(&person.dn, &e.field, e.reason)).collect::<Vec<_>>()
        })?;
        let unit = match valid.org_unit.as_deref() {
            Some(code) => {
                known.units.get(code).cloned().ok_or_else(|| fail("unit", format!("unknown org unit {code}")))?
            }
            None => return Err(fail("unit", "no unit: the entry's position or unit attribute maps to none".into())),
        };
        let mut user = current.cloned().unwrap_or_else(|| blank_user(self.now()));
        if let Some(nip) = current.and_then(|c| c.profile.nip.as_ref()).filter(|n| Some(*n) != valid.nip.as_ref()) {
            return Err(fail("nip", format!("a NIP cannot change once set (Pintu has {})", nip.as_str())));
        }
        apply(&mut user, valid, Some(unit.clone()));
        user.profile.source = options.source.clone();
        if let Some(clash) = claims.namespace.clash_of_new(&user, current) {
            return Err(fail(clash.field.as_str(), clash.describe()));
        }
        claims.namespace.claim(&user);
        let new_link = ExternalLink {
            user_id: user.id.clone(),
            source: options.source.clone(),
            external_id: person.external_id.clone(),
            dn: person.dn.clone(),
            synced_at: self.now(),
        };
        let (grants, revokes) = grant_changes(person, current, &unit, known);
        let Some(current) = current else {
            return Ok(Some(Change::Create { user: Box::new(user), link: new_link, grants }));
        };
        let updated = (user != *current).then(|| User { updated_at: self.now(), ..user });
        let link = (link.is_none_or(|l| l.dn != person.dn)).then_some(new_link);
        if updated.is_none() && link.is_none() && grants.is_empty() && revokes.is_empty() {
            return Ok(None);
        }
        let update = Update { current: current.clone(), updated, link, adopted, grants, revokes };
        Ok(Some(Change::Update(Box::new(update))))
    }

    /// An existing account the entry's NIP or e-mail names, that is not linked to this
    /// directory: reported (`Report`), or taken over (`Link`) unless another source owns it.
    fn conflict<'a>(
        &self,
        person: &ExternalPerson,
        known: &Known<'a>,
        rule: ConflictRule,
        today: Date,
    ) -> Result<Option<&'a User>, Vec<ExternalProblem>> {
        let nip = person.input.nip.as_deref().and_then(|n| crate::domain::nip::Nip::parse(n, today).ok());
        let email = person.input.email.as_deref().map(crate::domain::user::normalize_login);
        let found = nip
            .as_ref()
            .and_then(|n| known.by_nip.get(n.as_str()).map(|u| ("nip", *u)))
            .or_else(|| email.as_deref().and_then(|e| known.by_email.get(e)).map(|u| ("email", *u)));
        let Some((field, user)) = found else { return Ok(None) };
        let owned_elsewhere = known.linked_users.contains(user.id.as_str()) || user.profile.source.starts_with("ldap:");
        // A directory attribute (an e-mail nobody verified there) must not hand over an
        // administrator's account.
        let admin = known.admins.contains(user.id.as_str());
        if rule == ConflictRule::Link && !owned_elsewhere && !admin {
            return Ok(Some(user));
        }
        let hint = match (owned_elsewhere, admin) {
            (true, _) => "",
            (false, true) => "; an administrator's account is never taken over",
            (false, false) => "; set on_conflict = \"link\" to let the directory take it over",
        };
        let reason = format!("the {field} belongs to account {} (source {}){hint}", user.username, user.profile.source);
        Err(vec![ExternalProblem::new(&person.dn, field, reason)])
    }
}

/// The account as the directory says it should be: its fields over what Pintu has (NIK,
/// employment type, rank and ceiling, and any field the directory does not provide, stay).
fn merged_input(person: &ExternalPerson, current: Option<&User>, known: &Known<'_>) -> UserInput {
    let code = current.and_then(|c| c.profile.org_unit_id.as_ref()).and_then(|u| known.unit_codes.get(u));
    let mut input = current.map(|c| UserInput::from_user(c, code.map(|c| c.to_string()))).unwrap_or_default();
    let from = &person.input;
    let p = person.provided;
    input.username = from.username.clone();
    input.name = from.name.clone();
    input.org_unit = from.org_unit.clone();
    let take = |provided: bool, theirs: &Option<String>, ours: &mut Option<String>| {
        if provided {
            ours.clone_from(theirs);
        }
    };
    take(p.email, &from.email, &mut input.email);
    take(p.nip, &from.nip, &mut input.nip);
    take(p.front_title, &from.front_title, &mut input.front_title);
    take(p.back_title, &from.back_title, &mut input.back_title);
    take(p.phone, &from.phone, &mut input.phone);
    take(p.jabatan, &from.jabatan, &mut input.jabatan);
    // Disabled there: retired here. Enabled there brings back a retired account; a suspension
    // or transfer decided in Pintu stays.
    let status = current.map_or(UserStatus::Active, |c| c.profile.status);
    input.status = Some(
        match (person.disabled, status) {
            (true, _) => UserStatus::Retired,
            (false, UserStatus::Retired) => UserStatus::Active,
            (false, other) => other,
        }
        .as_str()
        .to_owned(),
    );
    input
}

/// The managed grants to make and end: each mapped role in the person's home unit. A move ends
/// every unit-scoped grant (`save_user_in`), so then they are all made again in the new unit.
fn grant_changes(
    person: &ExternalPerson,
    current: Option<&User>,
    unit: &OrgUnitId,
    known: &Known<'_>,
) -> (Vec<GrantChange>, Vec<RoleGrantId>) {
    let mut wanted: Vec<GrantChange> = Vec::new();
    for name in &person.roles {
        if let Some(role) = known.roles.get(name) {
            let change = GrantChange { role: role.clone(), unit: Some(unit.clone()) };
            if !wanted.contains(&change) {
                wanted.push(change);
            }
        }
    }
    let empty = Vec::new();
    let held = current.and_then(|c| known.grants.get(c.id.as_str())).unwrap_or(&empty);
    // `save_user_in` ends unit-scoped grants when a person placed in a unit moves.
    let cut = current.is_some_and(|c| c.profile.org_unit_id.as_ref().is_some_and(|u| u != unit));
    let kept: Vec<&&RoleGrant> = held.iter().filter(|g| !(cut && g.org_unit_id.is_some())).collect();
    // A grant counts while in force; an expired (or not yet valid) one of a managed role is
    // replaced. Roles whose groups could not be read whole are never revoked.
    let matches = |g: &RoleGrant, w: &GrantChange| g.role_id == w.role && g.org_unit_id == w.unit;
    let holds = |w: &GrantChange| kept.iter().any(|g| g.is_active(known.now) && matches(g, w));
    let revokes = kept
        .iter()
        .filter(|g| !known.unrevoked.contains(&g.role_id))
        .filter(|g| !(g.is_active(known.now) && wanted.iter().any(|w| matches(g, w))))
        .map(|g| g.id.clone())
        .collect();
    let grants = wanted.iter().filter(|w| !holds(w)).cloned().collect();
    (grants, revokes)
}
