//! Application profiles: category, owning OPD, minimum security level, access policy,
//! released directory claims, and admin API reach. The OAuth registration itself (redirect
//! URIs, secrets) stays with `oidc::registration`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::application::check_released_claims;
use crate::domain::org_unit::normalize_code;
use crate::domain::{AccessPolicy, AdminScope, AppProfile, Category, ClientId, RelyingParty, RoleId, SecurityLevel};

use super::{Actor, DirectoryError, DirectoryService, Reach, check_version};

/// Fields to change; absent fields stay. Units are codes, roles are role ids.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub category: Option<String>,
    pub owner: Option<String>,
    pub min_level: Option<u8>,
    pub access_org_units: Option<Vec<String>>,
    pub access_roles: Option<Vec<String>>,
    pub claims: Option<Vec<String>>,
    /// `office`, a unit code, or `none`: who this client's own tokens administer.
    pub admin: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationRecord {
    pub client_id: String,
    pub client_name: Option<String>,
    pub category: Category,
    pub owner: Option<String>,
    pub min_level: u8,
    pub access_org_units: Vec<String>,
    pub access_roles: Vec<String>,
    pub claims: Vec<String>,
    pub admin: Option<String>,
    pub disabled: bool,
    pub version: i64,
}

impl DirectoryService {
    async fn app_record(&self, app: &RelyingParty) -> Result<ApplicationRecord, DirectoryError> {
        let codes = self.unit_codes().await?;
        let code = |id: &crate::domain::OrgUnitId| codes.get(id).cloned().unwrap_or_else(|| id.to_string());
        let p = &app.profile;
        Ok(ApplicationRecord {
            client_id: app.client_id.to_string(),
            client_name: app.metadata.client_name.clone(),
            category: p.category,
            owner: p.owner_unit_id.as_ref().map(code),
            min_level: p.min_level as u8,
            access_org_units: p.access.org_units.iter().map(code).collect(),
            access_roles: p.access.roles.iter().map(|r| r.to_string()).collect(),
            claims: p.released_claims.clone(),
            admin: p.admin_scope.as_ref().map(|s| match s {
                AdminScope::Office => "office".to_owned(),
                AdminScope::OrgUnit(id) => code(id),
            }),
            disabled: app.disabled,
            version: p.version,
        })
    }

    async fn app_within(&self, reach: &Reach, client_id: &str) -> Result<RelyingParty, DirectoryError> {
        let app = self.store.clients().find(client_id).await?;
        app.filter(|a| reach.covers(a.profile.owner_unit_id.as_ref())).ok_or(DirectoryError::NotFound("application"))
    }

    pub async fn list_applications(&self, actor: &Actor) -> Result<Vec<ApplicationRecord>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let mut out = Vec::new();
        for app in self.store.clients().list().await? {
            if reach.covers(app.profile.owner_unit_id.as_ref()) {
                out.push(self.app_record(&app).await?);
            }
        }
        Ok(out)
    }

    pub async fn get_application(&self, actor: &Actor, client_id: &str) -> Result<ApplicationRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        self.app_record(&self.app_within(&reach, client_id).await?).await
    }

    /// Updates the profile if `expected_version` is current. Releasing `nik` and granting
    /// admin API reach are for the office only.
    pub async fn update_application(
        &self,
        actor: &Actor,
        client_id: &str,
        patch: &ProfilePatch,
        expected_version: Option<i64>,
    ) -> Result<ApplicationRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let mut app = self.app_within(&reach, client_id).await?;
        let version = check_version(expected_version, app.profile.version)?;
        let profile = self.patched_profile(&reach, &app.profile, patch).await?;
        let mut tx = self.store.begin().await?;
        let id = ClientId::new(client_id);
        self.store
            .clients()
            .update_profile_in(&mut tx, &id, &profile, version, self.now())
            .await
            .map_err(DirectoryError::stale)?;
        let detail = json!({ "claims": profile.released_claims, "min_level": profile.min_level as u8 });
        let event = AuditEvent::admin(
            &actor.id,
            AdminChange::ApplicationUpdate,
            client_id,
            profile.owner_unit_id.as_ref(),
            detail,
        )
        .with_client(Some(&id));
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        app.profile = AppProfile { version: version + 1, ..profile };
        self.app_record(&app).await
    }

    async fn patched_profile(
        &self,
        reach: &Reach,
        current: &AppProfile,
        patch: &ProfilePatch,
    ) -> Result<AppProfile, DirectoryError> {
        let mut p = current.clone();
        if let Some(c) = &patch.category {
            p.category = Category::parse(c).ok_or_else(|| DirectoryError::invalid("category", "umum or khusus"))?;
        }
        if let Some(owner) = &patch.owner {
            p.owner_unit_id = Some(self.unit_in_reach(reach, "owner", &normalize_code(owner)).await?);
        }
        if let Some(level) = patch.min_level {
            p.min_level = SecurityLevel::ALL
                .into_iter()
                .find(|l| *l as u8 == level)
                .ok_or_else(|| DirectoryError::invalid("min_level", "min_level must be 1-4"))?;
        }
        if let Some(units) = &patch.access_org_units {
            let mut ids = Vec::new();
            for code in units {
                let unit = self.store.org_units().find_by_code(&normalize_code(code)).await?;
                let unit = unit
                    .ok_or_else(|| DirectoryError::invalid("access_org_units", format!("unknown org unit {code}")))?;
                ids.push(unit.id);
            }
            p.access = AccessPolicy { org_units: ids, ..p.access };
        }
        if let Some(roles) = &patch.access_roles {
            // Units may be anywhere (an agency's application may serve others); roles must be
            // ones the actor could hand out.
            for role in roles {
                let known = self.store.roles().find(&RoleId::new(role)).await?;
                match known {
                    Some(r) if self.role_in_reach(reach, &r).await? => {}
                    _ => {
                        return Err(DirectoryError::invalid(
                            "access_roles",
                            format!("unknown role {role} or outside your reach"),
                        ));
                    }
                }
            }
            p.access.roles = roles.iter().map(RoleId::new).collect();
        }
        if let Some(claims) = &patch.claims {
            check_released_claims(claims).map_err(|e| DirectoryError::invalid("claims", e))?;
            if claims.iter().any(|c| c == "nik") && !current.releases("nik") {
                reach.require_office("release NIK to an application")?;
            }
            p.released_claims = claims.clone();
        }
        if let Some(admin) = &patch.admin {
            reach.require_office("give an application admin API access")?;
            p.admin_scope = match admin.as_str() {
                "none" => None,
                "office" => Some(AdminScope::Office),
                code => Some(AdminScope::OrgUnit(self.unit_in_reach(reach, "admin", &normalize_code(code)).await?)),
            };
        }
        Ok(p)
    }
}
