//! A unit's administrators: the people holding `pintu.opd_admin` for it, listed for the units
//! an actor reaches, and appointed by login through the same grant as any other role (the same
//! reach checks, period and audit event).

use serde::Serialize;

use crate::domain::RoleId;
use crate::domain::role::OPD_ADMIN;

use super::{Actor, DirectoryError, DirectoryService, GrantInput, GrantRecord};

/// One person administering one unit (and the units below it).
#[derive(Debug, Clone, Serialize)]
pub struct UnitAdministrator {
    /// The unit's code.
    pub unit: String,
    pub user_id: String,
    pub username: String,
    pub name: Option<String>,
    pub grant_id: String,
    pub valid_until: Option<i64>,
    /// Whether the grant is in force now (a future or lapsed period is listed too).
    pub active: bool,
}

impl DirectoryService {
    /// The administrators of every unit within the actor's reach, by unit code then login.
    pub async fn unit_administrators(&self, actor: &Actor) -> Result<Vec<UnitAdministrator>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let codes = self.unit_codes().await?;
        let now = self.now();
        let mut out = Vec::new();
        for grant in self.store.roles().grants_of_roles(&[RoleId::new(OPD_ADMIN)]).await? {
            let Some(unit) = grant.org_unit_id.as_ref().filter(|u| reach.covers(Some(u))) else { continue };
            let Some(user) = self.store.users().find(&grant.user_id).await? else { continue };
            out.push(UnitAdministrator {
                unit: codes.get(unit).cloned().unwrap_or_else(|| unit.to_string()),
                user_id: user.id.to_string(),
                username: user.username.clone(),
                name: user.name.clone(),
                grant_id: grant.id.to_string(),
                valid_until: grant.valid_until,
                active: grant.is_active(now),
            });
        }
        out.sort_by(|a, b| (&a.unit, &a.username).cmp(&(&b.unit, &b.username)));
        Ok(out)
    }

    /// Makes the person with `login` an administrator of `unit` (until `valid_until`, if
    /// given). The person and the unit must both be within the actor's reach.
    pub async fn appoint_unit_administrator(
        &self,
        actor: &Actor,
        unit: &str,
        login: &str,
        valid_until: Option<i64>,
    ) -> Result<GrantRecord, DirectoryError> {
        let person = self.person_in_reach(actor, login).await?;
        let input =
            GrantInput { role: OPD_ADMIN.to_owned(), org_unit: Some(unit.to_owned()), valid_from: None, valid_until };
        self.grant_role(actor, person.id.as_str(), &input).await
    }
}
