//! The directory's rules for an application profile: a patch (category, owning OPD, minimum
//! security level, access policy, released directory claims, admin API reach) checked against
//! the org tree, the roles and the actor's reach. Writing the profile is the application
//! service's (`applications`), which calls `resolve_profile` first.

use serde::Deserialize;

use crate::domain::application::check_released_claims;
use crate::domain::org_unit::normalize_code;
use crate::domain::{AccessPolicy, AdminScope, AppProfile, Category, RoleId, SecurityLevel};

use super::{DirectoryError, DirectoryService, Reach};

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

impl DirectoryService {
    /// `current` with `patch` applied, every reference resolved and checked: the owner within
    /// the actor's reach, access units that exist, roles the actor could hand out. Releasing
    /// `nik` and granting admin API reach are for the office only. Nothing is written.
    pub async fn resolve_profile(
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
            self.check_access_roles(reach, roles).await?;
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

    /// Units may be anywhere (an agency's application may serve others); roles must be ones
    /// the actor could hand out.
    async fn check_access_roles(&self, reach: &Reach, roles: &[String]) -> Result<(), DirectoryError> {
        for role in roles {
            match self.store.roles().find(&RoleId::new(role)).await? {
                Some(r) if self.role_in_reach(reach, &r).await? => {}
                _ => {
                    return Err(DirectoryError::invalid(
                        "access_roles",
                        format!("unknown role {role} or outside your reach"),
                    ));
                }
            }
        }
        Ok(())
    }
}
