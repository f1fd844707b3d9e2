//! Roles and their grants. The office defines global roles and any application's roles; an
//! OPD administrator defines roles of applications their subtree owns and grants roles to the
//! people of their subtree. `pintu.admin` is granted only by the office.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::role::{OFFICE_ADMIN, OPD_ADMIN, check_period, check_role_name};
use crate::domain::{ClientId, Role, RoleGrant, RoleGrantId, RoleId};
use crate::storage::HeldRole;

use super::{Actor, DirectoryError, DirectoryService, Reach};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub name: String,
    /// The application's `client_id`; absent for a global role.
    #[serde(default)]
    pub application: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The security level holders of this role must reach (1-4, default 1).
    #[serde(default)]
    pub min_level: Option<u8>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub role: String,
    /// A unit code the grant is limited to (required for `pintu.opd_admin`).
    #[serde(default)]
    pub org_unit: Option<String>,
    #[serde(default)]
    pub valid_from: Option<i64>,
    #[serde(default)]
    pub valid_until: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrantRecord {
    pub id: String,
    pub role: Role,
    pub org_unit: Option<String>,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub active: bool,
}

impl DirectoryService {
    /// Whether the actor may define or hand out `role`.
    pub(super) async fn role_in_reach(&self, reach: &Reach, role: &Role) -> Result<bool, DirectoryError> {
        if reach.is_office() {
            return Ok(true);
        }
        Ok(match &role.client_id {
            None => role.name != OFFICE_ADMIN,
            Some(client) => self.app_in_reach(reach, client).await?,
        })
    }

    pub(super) async fn app_in_reach(&self, reach: &Reach, client: &ClientId) -> Result<bool, DirectoryError> {
        let app = self.store.applications().find_by_client_id(client.as_str()).await?;
        Ok(app.is_some_and(|a| reach.covers(a.profile.owner_unit_id.as_ref())))
    }

    pub async fn create_role(&self, actor: &Actor, input: &RoleInput) -> Result<Role, DirectoryError> {
        let reach = self.reach(actor).await?;
        check_role_name(&input.name).map_err(|e| DirectoryError::invalid("name", e))?;
        if input.name.starts_with("pintu.") {
            return Err(DirectoryError::invalid("name", "names starting with pintu. are reserved"));
        }
        let client_id = input.application.as_deref().map(ClientId::new);
        match &client_id {
            Some(c) if !self.app_in_reach(&reach, c).await? => {
                return Err(DirectoryError::invalid("application", "unknown application or outside your reach"));
            }
            None => reach.require_office("define global roles")?,
            _ => {}
        }
        let min_level =
            super::org_units::level_field(input.min_level)?.unwrap_or(crate::domain::SecurityLevel::Password);
        let role = Role {
            id: RoleId::generate(),
            name: input.name.clone(),
            client_id,
            description: input.description.clone(),
            min_level,
        };
        let mut tx = self.store.begin().await?;
        self.store.roles().insert_in(&mut tx, &role, self.now()).await?;
        let detail = json!({ "name": role.name, "application": role.client_id });
        let event = AuditEvent::admin(&actor.id, AdminChange::RoleCreate, role.id.as_str(), None, detail)
            .with_client(role.client_id.as_ref());
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// Roles the actor may hand out.
    pub async fn list_roles(&self, actor: &Actor) -> Result<Vec<Role>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let mut out = Vec::new();
        for role in self.store.roles().list().await? {
            if self.role_in_reach(&reach, &role).await? {
                out.push(role);
            }
        }
        Ok(out)
    }

    /// Grants a role to a person within reach, optionally limited to a unit and a period.
    pub async fn grant_role(
        &self,
        actor: &Actor,
        user_id: &str,
        input: &GrantInput,
    ) -> Result<GrantRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let user = self.user_in_reach(&reach, user_id).await?;
        self.check_may_manage(&reach, &user).await?;
        let role = self.store.roles().find(&RoleId::new(&input.role)).await?;
        let role = match role {
            Some(r) if self.role_in_reach(&reach, &r).await? => r,
            _ => return Err(DirectoryError::invalid("role", "unknown role or outside your reach")),
        };
        check_period(input.valid_from, input.valid_until).map_err(|e| DirectoryError::invalid("valid_until", e))?;
        let org_unit_id = match &input.org_unit {
            Some(code) => {
                Some(self.unit_in_reach(&reach, "org_unit", &crate::domain::org_unit::normalize_code(code)).await?)
            }
            None if role.name == OPD_ADMIN && role.client_id.is_none() => {
                return Err(DirectoryError::invalid("org_unit", "pintu.opd_admin needs the unit it administers"));
            }
            None => None,
        };
        let now = self.now();
        let grant = RoleGrant {
            id: RoleGrantId::generate(),
            role_id: role.id.clone(),
            user_id: user.id.clone(),
            org_unit_id,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            created_at: now,
        };
        let mut tx = self.store.begin().await?;
        self.store.roles().grant_in(&mut tx, &grant, &actor.id).await?;
        let detail = json!({ "role": role.name, "grant": grant.id, "valid_until": grant.valid_until });
        let event = AuditEvent::admin(
            &actor.id,
            AdminChange::RoleGrant,
            user.id.as_str(),
            user.profile.org_unit_id.as_ref(),
            detail,
        );
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        let unit_code = match &grant.org_unit_id {
            Some(id) => self.store.org_units().find(id).await?.map(|u| u.code),
            None => None,
        };
        Ok(grant_record(&HeldRole { grant, role, unit_code }, now))
    }

    pub async fn list_grants(&self, actor: &Actor, user_id: &str) -> Result<Vec<GrantRecord>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let user = self.user_in_reach(&reach, user_id).await?;
        let now = self.now();
        Ok(self.store.roles().held_by(&user.id).await?.iter().map(|h| grant_record(h, now)).collect())
    }

    pub async fn revoke_grant(&self, actor: &Actor, user_id: &str, grant_id: &str) -> Result<(), DirectoryError> {
        let reach = self.reach(actor).await?;
        let user = self.user_in_reach(&reach, user_id).await?;
        self.check_may_manage(&reach, &user).await?;
        let held = self.store.roles().find_grant(&RoleGrantId::new(grant_id)).await?;
        let held = held.filter(|h| h.grant.user_id == user.id).ok_or(DirectoryError::NotFound("role grant"))?;
        if !self.role_in_reach(&reach, &held.role).await? {
            return Err(DirectoryError::Forbidden("this role is outside your reach".into()));
        }
        let mut tx = self.store.begin().await?;
        self.store.roles().revoke_in(&mut tx, &held.grant.id).await?;
        let detail = json!({ "role": held.role.name, "grant": held.grant.id });
        let event = AuditEvent::admin(
            &actor.id,
            AdminChange::RoleRevoke,
            user.id.as_str(),
            user.profile.org_unit_id.as_ref(),
            detail,
        );
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        Ok(tx.commit().await?)
    }
}

fn grant_record(h: &HeldRole, now: i64) -> GrantRecord {
    GrantRecord {
        id: h.grant.id.to_string(),
        role: h.role.clone(),
        org_unit: h.unit_code.clone(),
        valid_from: h.grant.valid_from,
        valid_until: h.grant.valid_until,
        active: h.grant.is_active(now),
    }
}
