//! People: create, read, list, update (JSON merge patch with If-Match), and the effects of a
//! transfer or retirement (sessions and refresh tokens end).

use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::nip::Date;
use crate::domain::pegawai::SOURCE_LOCAL;
use crate::domain::{OrgUnitId, Profile, User, UserId, UserStatus};
use crate::storage::{NewUser, Placement, Tx, UserFilter};

pub use super::user_input::{UserInput, UserRecord};
use super::user_input::{ValidUser, merge_patch};
use super::{Actor, DirectoryError, DirectoryService, Reach, check_version};

/// Filters for listing people. `opd` is a unit code (its subtree is listed).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UserQuery {
    pub opd: Option<String>,
    pub status: Option<String>,
    /// `PNS`, `PPPK` or `non-ASN` (any case).
    #[serde(default, rename = "type")]
    pub employment_type: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// One page of a listing; `next_cursor` continues it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What an account may carry beyond `UserInput` when the command line creates it.
#[derive(Debug, Clone, Default)]
pub struct AccountExtras {
    pub is_admin: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// A JSON merge patch (RFC 7396) over `UserInput`.
pub type UserPatch = serde_json::Value;

impl DirectoryService {
    fn today(&self) -> Date {
        Date::from_unix(self.now())
    }

    /// Resolves a unit code to an id within reach; `field` names the input for errors.
    pub(super) async fn unit_in_reach(
        &self,
        reach: &Reach,
        field: &str,
        code: &str,
    ) -> Result<OrgUnitId, DirectoryError> {
        let unit = self.store.org_units().find_by_code(code).await?;
        match unit {
            Some(u) if reach.covers(Some(&u.id)) => Ok(u.id),
            Some(_) => Err(DirectoryError::Forbidden(format!("org unit {code} is outside your reach"))),
            None => Err(DirectoryError::invalid(field, format!("unknown org unit {code}"))),
        }
    }

    async fn unit_code(&self, unit: Option<&OrgUnitId>) -> Result<Option<String>, DirectoryError> {
        Ok(match unit {
            Some(id) => self.store.org_units().find(id).await?.map(|u| u.code),
            None => None,
        })
    }

    pub(super) async fn user_in_reach(&self, reach: &Reach, id: &str) -> Result<User, DirectoryError> {
        let user = self.store.users().find(&UserId::new(id)).await?;
        user.filter(|u| reach.covers(u.profile.org_unit_id.as_ref())).ok_or(DirectoryError::NotFound("user"))
    }

    /// Creates a person. OPD administrators must place them inside their subtree.
    pub async fn create_user(&self, actor: &Actor, input: &UserInput) -> Result<UserRecord, DirectoryError> {
        self.create_account(actor, input, &AccountExtras::default()).await
    }

    /// Creates a person with what only the command line sets: an administrator account (the
    /// office's to give) and name parts.
    pub async fn create_account(
        &self,
        actor: &Actor,
        input: &UserInput,
        extras: &AccountExtras,
    ) -> Result<UserRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let valid = input.validate(self.today()).map_err(DirectoryError::Invalid)?;
        let unit = match &valid.org_unit {
            Some(code) => Some(self.unit_in_reach(&reach, "org_unit", code).await?),
            None if reach.is_office() => None,
            None => return Err(DirectoryError::invalid("org_unit", "org_unit is required")),
        };
        let now = self.now();
        let mut user = blank_user(now);
        apply(&mut user, valid, unit);
        if extras.is_admin && !reach.is_office() {
            return Err(DirectoryError::Forbidden("only the office creates administrators".into()));
        }
        user.is_admin = extras.is_admin;
        (user.given_name, user.family_name) = (extras.given_name.clone(), extras.family_name.clone());
        let password_hash = match &input.password {
            Some(p) => Some(self.hash_password(p, &user.personal_words()).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        self.check_login_names_in(&mut tx, &user, None).await?;
        self.store.users().insert_in(&mut tx, &NewUser { user: user.clone(), password_hash }).await?;
        let detail = json!({ "admin": user.is_admin });
        let event = AuditEvent::admin(
            &actor.id,
            AdminChange::UserCreate,
            user.id.as_str(),
            user.profile.org_unit_id.as_ref(),
            detail,
        );
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        Ok(UserRecord::new(&user, self.unit_code(user.profile.org_unit_id.as_ref()).await?, true))
    }

    /// The person `id` (or login name), if `actor` may manage them (their unit is within reach).
    pub async fn person_in_reach(&self, actor: &Actor, id_or_login: &str) -> Result<User, DirectoryError> {
        let reach = self.reach(actor).await?;
        let login = crate::domain::user::normalize_login(id_or_login);
        let id = match self.store.users().resolve(&login).await? {
            Some(id) => id,
            None => self.store.users().resolve(id_or_login).await?.ok_or(DirectoryError::NotFound("user"))?,
        };
        self.user_in_reach(&reach, id.as_str()).await
    }

    pub async fn get_user(&self, actor: &Actor, id: &str) -> Result<UserRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let user = self.user_in_reach(&reach, id).await?;
        Ok(UserRecord::new(&user, self.unit_code(user.profile.org_unit_id.as_ref()).await?, true))
    }

    /// Lists people within reach, filtered, one page at a time.
    pub async fn list_users(&self, actor: &Actor, query: &UserQuery) -> Result<Page<UserRecord>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let within = match &query.opd {
            Some(code) => {
                let code = crate::domain::org_unit::normalize_code(code);
                Some(self.unit_in_reach(&reach, "opd", &code).await?)
            }
            None => reach.root().cloned(),
        };
        let status = match query.status.as_deref() {
            Some(s) => Some(UserStatus::parse_or_refusal(s).map_err(|why| DirectoryError::invalid("status", why))?),
            None => None,
        };
        let employment_type = match query.employment_type.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(
                crate::domain::EmploymentType::parse(t)
                    .ok_or_else(|| DirectoryError::invalid("type", "type must be PNS, PPPK or non-ASN"))?
                    .as_str(),
            ),
            None => None,
        };
        let limit = query.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(DirectoryError::invalid("limit", "limit must be 1-500"));
        }
        let filter = UserFilter {
            within,
            status,
            employment_type,
            text: query.q.clone(),
            after_id: query.cursor.clone(),
            limit: limit + 1,
        };
        let mut users = self.store.users().search(&filter).await?;
        let next_cursor = if users.len() as i64 > limit {
            users.truncate(limit as usize);
            users.last().map(|u| u.id.to_string())
        } else {
            None
        };
        let codes = self.unit_codes().await?;
        let items = users
            .iter()
            .map(|u| UserRecord::new(u, u.profile.org_unit_id.as_ref().and_then(|id| codes.get(id).cloned()), false))
            .collect();
        Ok(Page { items, next_cursor })
    }

    /// Applies a JSON merge patch if `expected_version` is current. A new home unit or an
    /// inactive status ends the person's sessions and refresh tokens.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &str,
        patch: &UserPatch,
        expected_version: Option<i64>,
    ) -> Result<UserRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let current = self.user_in_reach(&reach, id).await?;
        self.check_may_manage(&reach, &current).await?;
        let version = check_version(expected_version, current.profile.version)?;
        check_not_cleared(patch)?;
        let code = self.unit_code(current.profile.org_unit_id.as_ref()).await?;
        let mut doc = serde_json::to_value(UserInput::from_user(&current, code))
            .map_err(|e| DirectoryError::invalid("body", e.to_string()))?;
        merge_patch(&mut doc, patch);
        let input: UserInput =
            serde_json::from_value(doc).map_err(|e| DirectoryError::invalid("body", e.to_string()))?;
        let valid = input.validate(self.today()).map_err(DirectoryError::Invalid)?;
        if current.profile.nip.is_some() && current.profile.nip != valid.nip {
            return Err(DirectoryError::invalid("nip", "a NIP cannot change once set"));
        }
        let unit = match &valid.org_unit {
            Some(code) => Some(self.unit_in_reach(&reach, "org_unit", code).await?),
            None if reach.is_office() => None,
            None => return Err(DirectoryError::invalid("org_unit", "org_unit is required")),
        };
        let mut user = current.clone();
        apply(&mut user, valid, unit);
        user.updated_at = self.now();
        if input.password.is_some() && current.profile.source.starts_with("ldap:") {
            let why = format!(
                "this account's password is kept in the LDAP directory ({}); change it there",
                current.profile.source
            );
            return Err(DirectoryError::invalid("password", why));
        }
        let password_hash = match &input.password {
            Some(p) => Some(self.hash_password(p, &user.personal_words()).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        self.check_login_names_in(&mut tx, &user, Some(&current)).await?;
        let events = self.save_user_in(&mut tx, actor, &current, &user, version).await?;
        self.audit.record_in(&mut tx, events).await?;
        if let Some(hash) = password_hash {
            self.set_password_in(&mut tx, actor, &user, &hash).await?;
        }
        tx.commit().await?;
        user.profile.version = version + 1;
        Ok(UserRecord::new(&user, self.unit_code(user.profile.org_unit_id.as_ref()).await?, true))
    }

    /// Writes `updated` over `current` with its placement history and, on a transfer or
    /// deactivation, the end of sessions and refresh tokens. Returns the audit events to record.
    pub(super) async fn save_user_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        current: &User,
        updated: &User,
        version: i64,
    ) -> Result<Vec<AuditEvent>, DirectoryError> {
        let users = self.store.users();
        users.update_in(tx, updated, version).await.map_err(DirectoryError::stale)?;
        let (before, after) = (&current.profile, &updated.profile);
        let moved = before.org_unit_id != after.org_unit_id;
        let mut events = vec![AuditEvent::admin(
            &actor.id,
            AdminChange::UserUpdate,
            updated.id.as_str(),
            after.org_unit_id.as_ref(),
            json!({ "status": after.status.as_str(), "moved": moved }),
        )];
        if moved {
            let placement = Placement {
                subject_kind: "user".into(),
                subject_id: updated.id.to_string(),
                from_unit_id: before.org_unit_id.as_ref().map(|u| u.to_string()),
                to_unit_id: after.org_unit_id.as_ref().map(|u| u.to_string()),
                changed_at: updated.updated_at,
                actor: actor.id.to_string(),
            };
            self.store.org_units().insert_placement_in(tx, &placement).await?;
        }
        let deactivated = after.status != UserStatus::Active && before.status != after.status;
        if moved && current.profile.org_unit_id.is_some() {
            // Grants limited to a unit belong to the post the person leaves (an OPD
            // administrator moved elsewhere no longer administers the old unit).
            let ended = self.store.roles().revoke_unit_scoped_in(tx, &updated.id).await?;
            if ended > 0 {
                let detail = json!({ "reason": "transferred", "unit_scoped_grants_ended": ended });
                events.push(AuditEvent::admin(
                    &actor.id,
                    AdminChange::RoleRevoke,
                    updated.id.as_str(),
                    after.org_unit_id.as_ref(),
                    detail,
                ));
            }
        }
        if (moved && current.profile.org_unit_id.is_some()) || deactivated {
            users.cut_off_in(tx, &updated.id, updated.updated_at).await?;
            let reason = if deactivated { after.status.as_str() } else { "transferred" };
            events.push(AuditEvent::sessions_revoked(&actor.id, updated, reason));
        }
        Ok(events.into_iter().map(|e| e.from_ip(actor.source_ip.as_deref())).collect())
    }

    /// Sets a person's status (CLI `disable`/`enable`), with the same effects as an update.
    pub async fn set_status(&self, actor: &Actor, id_or_login: &str, status: UserStatus) -> Result<(), DirectoryError> {
        let reach = self.reach(actor).await?;
        let login = crate::domain::user::normalize_login(id_or_login);
        let id = match self.store.users().resolve(&login).await? {
            Some(id) => id,
            None => self.store.users().resolve(id_or_login).await?.ok_or(DirectoryError::NotFound("user"))?,
        };
        let current = self.user_in_reach(&reach, id.as_str()).await?;
        self.check_may_manage(&reach, &current).await?;
        let mut user = current.clone();
        user.profile.status = status;
        user.disabled = status != UserStatus::Active;
        user.updated_at = self.now();
        let mut tx = self.store.begin().await?;
        let events = self.save_user_in(&mut tx, actor, &current, &user, current.profile.version).await?;
        self.audit.record_in(&mut tx, events).await?;
        Ok(tx.commit().await?)
    }

    /// The home units a person has had, oldest move first.
    pub async fn user_history(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Vec<super::org_units::PlacementRecord>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let user = self.user_in_reach(&reach, id).await?;
        self.placements_with_codes(user.id.as_str()).await
    }
}

/// RFC 7396 `null` removes a member, which for these would silently reset an account
/// (re-enable it, lift its ceiling): they must be given a value instead.
fn check_not_cleared(patch: &UserPatch) -> Result<(), DirectoryError> {
    let cleared: Vec<_> = ["name", "username", "status", "level_ceiling"]
        .into_iter()
        .filter(|k| patch.get(k).is_some_and(serde_json::Value::is_null))
        .map(|k| super::FieldError::new(k, format!("{k} cannot be removed; give a value")))
        .collect();
    if cleared.is_empty() { Ok(()) } else { Err(DirectoryError::Invalid(cleared)) }
}

pub(super) fn blank_user(now: i64) -> User {
    let mut user = User::new_account("", now);
    user.profile = Profile { source: SOURCE_LOCAL.into(), ..Profile::default() };
    user
}

/// Copies validated values onto a user; the unit is already resolved.
pub(super) fn apply(user: &mut User, v: ValidUser, unit: Option<OrgUnitId>) {
    user.username = v.username;
    user.name = Some(v.name);
    // An address the office enters from the HR record counts as verified (OIDC Core §5.1).
    user.email_verified = v.email.is_some();
    user.email = v.email;
    user.phone_number = v.phone;
    user.disabled = v.status != UserStatus::Active;
    let p = &mut user.profile;
    p.nip = v.nip;
    p.nik = v.nik;
    p.front_title = v.front_title;
    p.back_title = v.back_title;
    p.employment_type = v.employment_type;
    p.job_title = v.job_title;
    p.rank = v.rank;
    p.org_unit_id = unit;
    p.status = v.status;
    p.level_ceiling = v.level_ceiling;
}
