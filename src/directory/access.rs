//! The protocol side of the directory: who may sign in to an application (its access policy)
//! and which directory claims it receives (`nip`, `opd`, `jabatan`, `golongan`, `roles`,
//! `employment_type`, `nik`). A claim is released only when its scope was granted AND the
//! application's profile lists it.

use serde_json::{Map, Value, json};

use crate::domain::application::DIRECTORY_CLAIMS;
use crate::domain::security_level::from_number;
use crate::domain::{AppProfile, ClientId, RelyingParty, Scope, SecurityLevel, User};

use super::{DirectoryError, DirectoryService};

/// Directory claims, ready to merge into userinfo or an ID token.
pub type DirectoryClaims = Map<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessDecision {
    Allowed,
    /// The person is neither in a listed unit nor holds a listed role.
    NotInPolicy,
}

impl DirectoryService {
    /// Whether `user` may sign in to `app` now.
    pub async fn access_decision(&self, app: &RelyingParty, user: &User) -> Result<AccessDecision, DirectoryError> {
        self.access_for_profile(&app.profile, user).await
    }

    /// Whether `user` may sign in to an application with `profile` now (any protocol).
    pub async fn access_for_profile(
        &self,
        profile: &crate::domain::AppProfile,
        user: &User,
    ) -> Result<AccessDecision, DirectoryError> {
        let policy = &profile.access;
        if policy.is_open() {
            return Ok(AccessDecision::Allowed);
        }
        let units = match &user.profile.org_unit_id {
            Some(unit) if !policy.org_units.is_empty() => self.store.org_units().ancestors(unit).await?,
            _ => Vec::new(),
        };
        let roles = if policy.roles.is_empty() {
            Vec::new()
        } else {
            let now = self.now();
            let held = self.store.roles().held_by(&user.id).await?;
            held.into_iter().filter(|h| h.grant.is_active(now)).map(|h| h.role.id).collect()
        };
        Ok(if policy.permits(&units, &roles) { AccessDecision::Allowed } else { AccessDecision::NotInPolicy })
    }

    /// The level a person's logins must reach whatever the application: the highest required
    /// by their home unit (or a unit above it) and by the roles they hold now.
    pub async fn person_required_level(&self, user: &User) -> Result<SecurityLevel, DirectoryError> {
        let unit = match &user.profile.org_unit_id {
            Some(unit) => self.store.org_units().required_level(unit).await?,
            None => 1,
        };
        let roles = self.store.roles().required_level(&user.id, self.now()).await?;
        Ok(from_number(u8::try_from(unit.max(roles)).unwrap_or(1)).unwrap_or(SecurityLevel::Password))
    }

    /// The directory claims `app` receives for `user` under the granted `scope`.
    pub async fn claims_for(
        &self,
        app: &RelyingParty,
        user: &User,
        scope: &Scope,
    ) -> Result<DirectoryClaims, DirectoryError> {
        self.released(&app.profile, &app.client_id, user, Some(scope)).await
    }

    /// The directory claims an application with `profile` receives for `user`: those its
    /// profile releases, and (`scope`, for OpenID Connect) only behind a granted scope. SAML
    /// has no scopes: the profile alone decides.
    pub async fn released(
        &self,
        profile: &AppProfile,
        client: &ClientId,
        user: &User,
        scope: Option<&Scope>,
    ) -> Result<DirectoryClaims, DirectoryError> {
        let mut out = Map::new();
        let wanted: Vec<&str> = DIRECTORY_CLAIMS
            .iter()
            .filter(|(claim, s)| scope.is_none_or(|scope| scope.contains(s)) && profile.releases(claim))
            .map(|(claim, _)| *claim)
            .collect();
        let p = &user.profile;
        for claim in wanted {
            let value = match claim {
                "nip" => p.nip.as_ref().map(|n| json!(n.as_str())),
                "employment_type" => p.employment_type.map(|e| json!(e.as_str())),
                "jabatan" => p.job_title.as_ref().map(|j| json!(j)),
                "golongan" => p.rank.as_ref().map(|g| json!(g)),
                "nik" => p.nik.as_ref().map(|n| json!(n)),
                "opd" => self.opd_claim(user).await?,
                "roles" => Some(self.roles_claim(client, user).await?),
                _ => None,
            };
            if let Some(value) = value {
                out.insert(claim.to_owned(), value);
            }
        }
        Ok(out)
    }

    async fn opd_claim(&self, user: &User) -> Result<Option<Value>, DirectoryError> {
        let Some(id) = &user.profile.org_unit_id else { return Ok(None) };
        Ok(self.store.org_units().find(id).await?.map(|u| json!({ "code": u.code, "name": u.name })))
    }

    /// Role names in force for this application: global roles and the application's own,
    /// `name@UNIT` when the grant is limited to a unit. Pintu's admin roles are not included.
    async fn roles_claim(&self, client: &ClientId, user: &User) -> Result<Value, DirectoryError> {
        let now = self.now();
        let held = self.store.roles().held_by(&user.id).await?;
        let mut names: Vec<String> = held
            .into_iter()
            .filter(|h| h.grant.is_active(now) && !h.role.is_admin_role())
            .filter(|h| h.role.client_id.as_ref().is_none_or(|c| c == client))
            .map(|h| match h.unit_code {
                Some(code) => format!("{}@{code}", h.role.name),
                None => h.role.name,
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(json!(names))
    }
}
