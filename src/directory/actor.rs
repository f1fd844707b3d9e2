//! Who is acting, and how far their authority reaches. The office reaches everything; an OPD
//! administrator reaches their unit and everything below it, nothing else.

use std::collections::HashSet;

use crate::domain::role::{OFFICE_ADMIN, OPD_ADMIN};
use crate::domain::{ActorId, AdminScope, OrgUnitId, RelyingParty, UserId};

use super::{DirectoryError, DirectoryService};

/// An administrator (a person or an automation client) or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Recorded in audit events.
    pub id: ActorId,
    pub scope: AdminScope,
    pub source_ip: Option<String>,
}

impl Actor {
    /// The operator at the server's command line: the office's authority.
    pub fn cli() -> Self {
        Self { id: ActorId::cli(), scope: AdminScope::Office, source_ip: None }
    }

    /// Pintu's own scheduled work (a periodic directory sync): the office's authority.
    pub fn scheduler() -> Self {
        Self { id: ActorId::scheduler(), scope: AdminScope::Office, source_ip: None }
    }
}

/// The units an actor may touch.
#[derive(Debug, Clone)]
pub enum Reach {
    Everything,
    Subtree { root: OrgUnitId, units: HashSet<OrgUnitId> },
}

impl Reach {
    /// Whether a record placed in `unit` is within reach. Records without a unit belong to
    /// the office.
    pub fn covers(&self, unit: Option<&OrgUnitId>) -> bool {
        match (self, unit) {
            (Reach::Everything, _) => true,
            (Reach::Subtree { units, .. }, Some(u)) => units.contains(u),
            (Reach::Subtree { .. }, None) => false,
        }
    }

    pub fn root(&self) -> Option<&OrgUnitId> {
        match self {
            Reach::Everything => None,
            Reach::Subtree { root, .. } => Some(root),
        }
    }

    pub fn is_office(&self) -> bool {
        matches!(self, Reach::Everything)
    }

    /// `Forbidden` unless the actor is the office.
    pub fn require_office(&self, what: &str) -> Result<(), DirectoryError> {
        if self.is_office() { Ok(()) } else { Err(DirectoryError::Forbidden(format!("only the office may {what}"))) }
    }
}

impl DirectoryService {
    /// The units `actor` reaches, read fresh for each operation.
    pub async fn reach(&self, actor: &Actor) -> Result<Reach, DirectoryError> {
        match &actor.scope {
            AdminScope::Office => Ok(Reach::Everything),
            AdminScope::OrgUnit(root) => {
                let units = self.store.org_units().subtree(root).await?.into_iter().collect();
                Ok(Reach::Subtree { root: root.clone(), units })
            }
        }
    }

    /// The admin authority of a person right now: `is_admin` accounts and holders of
    /// `pintu.admin` are the office; a `pintu.opd_admin` grant reaches its unit's subtree.
    pub async fn admin_scope_of(&self, user: &UserId) -> Result<Option<AdminScope>, DirectoryError> {
        let Some(account) = self.store.users().find(user).await? else { return Ok(None) };
        if account.disabled {
            return Ok(None);
        }
        if account.is_admin {
            return Ok(Some(AdminScope::Office));
        }
        let now = self.now();
        let held = self.store.roles().held_by(user).await?;
        let active = held.iter().filter(|h| h.role.client_id.is_none() && h.grant.is_active(now));
        let mut opd = None;
        for h in active {
            match (h.role.name.as_str(), &h.grant.org_unit_id) {
                (OFFICE_ADMIN, _) => return Ok(Some(AdminScope::Office)),
                (OPD_ADMIN, Some(unit)) if opd.is_none() => opd = Some(AdminScope::OrgUnit(unit.clone())),
                _ => {}
            }
        }
        Ok(opd)
    }

    /// Refuses to let an OPD administrator manage someone whose own authority reaches beyond
    /// the actor's subtree (an office administrator, or the administrator of another unit):
    /// resetting their password or status would be a takeover. Grants count whether or not
    /// they are in force yet, and disabled accounts too (re-enabling is a change).
    pub(super) async fn check_may_manage(
        &self,
        reach: &Reach,
        target: &crate::domain::User,
    ) -> Result<(), DirectoryError> {
        if reach.is_office() {
            return Ok(());
        }
        let forbidden = || DirectoryError::Forbidden("this person administers beyond your reach".into());
        if target.is_admin {
            return Err(forbidden());
        }
        for held in self.store.roles().held_by(&target.id).await? {
            let beyond = match (held.role.client_id.is_none(), held.role.name.as_str(), &held.grant.org_unit_id) {
                (true, OFFICE_ADMIN, _) => true,
                (true, OPD_ADMIN, Some(unit)) => !reach.covers(Some(unit)),
                _ => false,
            };
            if beyond {
                return Err(forbidden());
            }
        }
        Ok(())
    }

    /// The actor behind an admin API bearer token: the client's own authority for client
    /// credentials, the person's for a token issued to them through an admin-capable client.
    pub async fn actor_for_token(
        &self,
        client: &RelyingParty,
        user: Option<&UserId>,
        source_ip: Option<String>,
    ) -> Result<Option<Actor>, DirectoryError> {
        let Some(client_scope) = &client.profile.admin_scope else { return Ok(None) };
        let (id, scope) = match user {
            None => (ActorId::client(&client.client_id), client_scope.clone()),
            Some(user) => match self.admin_scope_of(user).await? {
                Some(scope) => (ActorId::user(user), scope),
                None => return Ok(None),
            },
        };
        Ok(Some(Actor { id, scope, source_ip }))
    }
}
