//! Registering and changing SAML service providers (ADR 0002: the same profile, another
//! registration). The office registers them, as it does OpenID Connect clients; each change is
//! one transaction with its audit event. The SP's certificates must each be one X.509
//! certificate (read strictly, as people's are).

use serde_json::{Value, json};

use crate::audit::AdminChange;
use crate::directory::{Actor, check_version};
use crate::domain::saml::SamlRegistration;
use crate::domain::{AppProfile, Application, ApplicationId, Registration};
use crate::storage::StorageError;

use super::registry::event;
use super::{ApplicationError, ApplicationRecord, ApplicationService, ChangedBy};

/// A registration as the admin API and the CLI send it: `name` beside the registration's
/// fields.
pub fn saml_spec(mut body: Value) -> Result<(String, SamlRegistration), ApplicationError> {
    let name = body.as_object_mut().and_then(|o| o.remove("name"));
    let name = saml_name(name.as_ref().and_then(Value::as_str).unwrap_or(""))?;
    let registration: SamlRegistration = serde_json::from_value(body)
        .map_err(|e| ApplicationError::invalid_metadata(format!("the registration: {e}")))?;
    Ok((name, registration))
}

/// A service provider's name as people see it: 1 to 200 printable characters, trimmed.
pub fn saml_name(name: &str) -> Result<String, ApplicationError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(ApplicationError::invalid_metadata("name: 1 to 200 printable characters"));
    }
    Ok(name.to_owned())
}

impl ApplicationService {
    /// Checks a registration and normalises its certificates (one PEM certificate each).
    fn checked(mut registration: SamlRegistration) -> Result<SamlRegistration, ApplicationError> {
        registration.check().map_err(ApplicationError::invalid_metadata)?;
        for pem in &mut registration.certificates {
            let presented = crate::certificates::x509::read_upload(pem.as_bytes())
                .map_err(|e| ApplicationError::invalid_metadata(format!("certificates: {e}")))?;
            if !presented.chain.is_empty() {
                return Err(ApplicationError::invalid_metadata("certificates: one certificate per entry"));
            }
            *pem = crate::certificates::x509::to_pem(&presented.leaf);
        }
        Ok(registration)
    }

    /// Registers a service provider (the office only). Its entity ID must be new.
    pub async fn create_saml(
        &self,
        actor: &Actor,
        name: &str,
        registration: SamlRegistration,
    ) -> Result<ApplicationRecord, ApplicationError> {
        self.directory.reach(actor).await?.require_office("register an application")?;
        let registration = Self::checked(registration)?;
        let app = Application {
            id: ApplicationId::new(uuid::Uuid::now_v7().to_string()),
            name: name.to_owned(),
            profile: AppProfile::default(),
            pre_approved: false,
            disabled: false,
            created_at: self.now(),
            registration: Registration::Saml(registration),
        };
        let mut tx = self.store.begin().await?;
        match self.store.applications().insert_in(&mut tx, &app, None).await {
            Err(StorageError::Conflict { .. }) => return Err(ApplicationError::IdTaken),
            other => other?,
        }
        let detail = json!({ "entity_id": app.saml().map(|s| s.entity_id.clone()), "name": app.name });
        self.audit
            .record_in(&mut tx, vec![event(ChangedBy::Admin(actor), AdminChange::ApplicationCreate, &app, detail)])
            .await?;
        tx.commit().await?;
        self.get(actor, &app.id).await
    }

    /// Replaces a service provider's registration if `expected_version` is current.
    pub async fn update_saml(
        &self,
        actor: &Actor,
        id: &ApplicationId,
        registration: SamlRegistration,
        expected_version: Option<i64>,
    ) -> Result<ApplicationRecord, ApplicationError> {
        let (app, _) = self.load(id, ChangedBy::Admin(actor)).await?;
        check_version(expected_version, app.profile.version)?;
        if app.saml().is_none() {
            return Err(ApplicationError::invalid_metadata("this application is not a SAML service provider"));
        }
        let registration = Self::checked(registration)?;
        let mut tx = self.store.begin().await?;
        match self.store.applications().update_saml_in(&mut tx, id, &registration, self.now()).await {
            Err(StorageError::Conflict { .. }) => return Err(ApplicationError::IdTaken),
            other => other?,
        }
        // The version moves on with the registration: a page read before no longer matches.
        self.store.applications().set_name_in(&mut tx, id, &app.name, self.now()).await?;
        let detail = json!({ "entity_id": registration.entity_id });
        let changed = event(ChangedBy::Admin(actor), AdminChange::ApplicationRegisterUpdate, &app, detail);
        self.audit.record_in(&mut tx, vec![changed]).await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// A service provider's registration, within the actor's reach.
    pub async fn saml_registration(
        &self,
        actor: &Actor,
        id: &ApplicationId,
    ) -> Result<(ApplicationRecord, SamlRegistration), ApplicationError> {
        let (app, _) = self.load(id, ChangedBy::Admin(actor)).await?;
        let registration = app.saml().cloned().ok_or(ApplicationError::NotFound)?;
        Ok((self.get(actor, id).await?, registration))
    }

    /// An application by id, whatever its state (the SAML endpoints check it).
    pub async fn application(&self, id: &str) -> Result<Option<Application>, ApplicationError> {
        let app = self.store.applications().find(&ApplicationId::new(id)).await?;
        Ok(app.filter(|a| !a.disabled))
    }

    /// The enabled service provider whose entity ID is `entity_id`, for the SAML endpoints.
    pub async fn service_provider(&self, entity_id: &str) -> Result<Option<Application>, ApplicationError> {
        let app = self.store.applications().find_by_entity_id(entity_id).await?;
        Ok(app.filter(|a| !a.disabled && a.saml().is_some()))
    }
}
