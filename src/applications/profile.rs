//! The directory profile of applications, as administrators see and change it: listing and
//! reading within the actor's reach, and changing category, owner, minimum level, access
//! policy, released claims and admin reach (the directory checks the references; this writes).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::directory::{Actor, DirectoryError, ProfilePatch, check_version};
use crate::domain::{AdminScope, Application, ApplicationId, Category, ClientAuthMethod, OrgUnitId, Protocol};

use super::{ApplicationError, ApplicationService, ChangedBy};

/// An application as the admin API and the CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationRecord {
    pub id: String,
    pub protocol: Protocol,
    pub name: String,
    /// The OIDC registration's client_id, client_name and client authentication method
    /// (`null` for other protocols).
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    /// A SAML service provider's entity ID (`null` for other protocols).
    pub entity_id: Option<String>,
    /// The OIDC registration's redirect URIs, post-logout redirect URIs and home page.
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub client_uri: Option<String>,
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

impl ApplicationRecord {
    fn new(app: &Application, codes: &HashMap<OrgUnitId, String>) -> Self {
        let code = |id: &OrgUnitId| codes.get(id).cloned().unwrap_or_else(|| id.to_string());
        let p = &app.profile;
        let oidc = app.oidc();
        ApplicationRecord {
            id: app.id.to_string(),
            protocol: app.protocol(),
            name: app.name.clone(),
            client_id: oidc.map(|o| o.client_id.to_string()),
            client_name: oidc.and_then(|o| o.metadata.client_name.clone()),
            token_endpoint_auth_method: oidc.map(|o| o.metadata.token_endpoint_auth_method),
            entity_id: app.saml().map(|s| s.entity_id.clone()),
            redirect_uris: oidc.map(|o| o.metadata.redirect_uris.clone()).unwrap_or_default(),
            post_logout_redirect_uris: oidc.map(|o| o.metadata.post_logout_redirect_uris.clone()).unwrap_or_default(),
            client_uri: oidc.and_then(|o| o.metadata.client_uri.clone()),
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
        }
    }
}

impl ApplicationService {
    /// Every application within the actor's reach.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<ApplicationRecord>, ApplicationError> {
        let reach = self.directory.reach(actor).await?;
        let codes = self.directory.unit_codes().await?;
        let apps = self.store.applications().list().await?;
        let visible = apps.iter().filter(|a| reach.covers(a.profile.owner_unit_id.as_ref()));
        Ok(visible.map(|a| ApplicationRecord::new(a, &codes)).collect())
    }

    pub async fn get(&self, actor: &Actor, id: &ApplicationId) -> Result<ApplicationRecord, ApplicationError> {
        let (app, _) = self.load(id, ChangedBy::Admin(actor)).await?;
        Ok(ApplicationRecord::new(&app, &self.directory.unit_codes().await?))
    }

    /// Changes the directory profile if `expected_version` is current (`If-Match`).
    #[tracing::instrument(skip_all, fields(application = %id))]
    pub async fn update_profile(
        &self,
        actor: &Actor,
        id: &ApplicationId,
        patch: &ProfilePatch,
        expected_version: Option<i64>,
    ) -> Result<ApplicationRecord, ApplicationError> {
        let (mut app, reach) = self.load(id, ChangedBy::Admin(actor)).await?;
        let version = check_version(expected_version, app.profile.version)?;
        let profile = self.directory.resolve_profile(&reach, &app.profile, patch).await?;
        let mut tx = self.store.begin().await?;
        let written = self.store.applications().update_profile_in(&mut tx, id, &profile, version, self.now()).await;
        written.map_err(DirectoryError::stale)?;
        let detail = json!({ "claims": profile.released_claims, "min_level": profile.min_level as u8 });
        let client = app.oidc().map(|o| o.client_id.clone());
        let event = AuditEvent::admin(
            &actor.id,
            AdminChange::ApplicationUpdate,
            id.as_str(),
            profile.owner_unit_id.as_ref(),
            detail,
        )
        .with_client(client.as_ref())
        .from_ip(actor.source_ip.as_deref());
        self.audit.record_in(&mut tx, vec![event]).await?;
        tx.commit().await?;
        self.invalidate(&app).await;
        app.profile = crate::domain::AppProfile { version: version + 1, ..profile };
        Ok(ApplicationRecord::new(&app, &self.directory.unit_codes().await?))
    }
}
