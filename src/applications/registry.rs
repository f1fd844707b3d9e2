//! Registering an application, changing its OIDC registration, disabling it and rotating its
//! secret. Each change is one transaction with its audit event; the cache entry goes after the
//! commit. Secrets are random (or, from the CLI, given), shown once, stored as SHA-256.

use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::authn::secret::{random_token, token_hash};
use crate::domain::{AppProfile, Application, ApplicationId, ClientAuthMethod, ClientId, ClientMetadata};
use crate::domain::{OidcRegistration, Registration, RelyingParty};
use crate::keys::check_jwks_uri;
use crate::storage::StorageError;

use super::{ApplicationError, ApplicationService, ChangedBy};

/// Shortest client secret an administrator may choose (it is stored as SHA-256, so it must
/// carry enough entropy on its own).
const MIN_GIVEN_SECRET_CHARS: usize = 32;

/// An OIDC application to register (from RFC 7591 or the CLI), metadata already validated.
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub metadata: ClientMetadata,
    pub pre_approved: bool,
    pub with_registration_token: bool,
}

/// A registered client, with the secrets shown exactly once.
#[derive(Debug, Clone)]
pub struct CreatedClient {
    pub client: RelyingParty,
    pub client_secret: Option<String>,
    pub registration_access_token: Option<String>,
}

/// A client's new secret, shown once. No `Debug`: it must not reach a log.
pub struct RotatedSecret {
    pub client_id: ClientId,
    pub client_secret: String,
}

fn bad_meta(msg: impl Into<std::borrow::Cow<'static, str>>) -> ApplicationError {
    ApplicationError::invalid_metadata(msg)
}

/// RFC 7591 §2 leaves the client_id to the server; the CLI may choose one.
fn client_id(given: Option<String>) -> Result<ClientId, ApplicationError> {
    match given {
        Some(id) if id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Err(bad_meta("client_id must be 1-128 visible characters"))
        }
        Some(id) => Ok(ClientId::new(id)),
        None => Ok(ClientId::generate()),
    }
}

/// The secret a new client gets: the one given (long enough to be stored as SHA-256) or a
/// generated one; none for clients that authenticate without a shared secret.
fn client_secret(uses_secret: bool, given: Option<String>) -> Result<Option<String>, ApplicationError> {
    match (uses_secret, given) {
        (false, Some(_)) => Err(bad_meta("only client_secret_basic/post clients have a secret")),
        (false, None) => Ok(None),
        (true, Some(s)) if s.chars().count() < MIN_GIVEN_SECRET_CHARS => {
            Err(bad_meta(format!("a given client secret needs at least {MIN_GIVEN_SECRET_CHARS} characters")))
        }
        (true, Some(s)) => Ok(Some(s)),
        (true, None) => Ok(Some(random_token())),
    }
}

/// RFC 7592 §2.2 lets the server refuse a change. A confidential client never becomes public:
/// that would drop its authentication while its grants, refresh tokens and
/// `client_credentials` access stay (RFC 6749 §2.1: the type is fixed at registration), and a
/// public client never becomes confidential. Between secret and secretless methods the secret
/// would have to appear or vanish, which RFC 7592 has no way to deliver.
fn check_auth_method_change(old: ClientAuthMethod, new: ClientAuthMethod) -> Result<(), ApplicationError> {
    if (old == ClientAuthMethod::None) != (new == ClientAuthMethod::None) {
        return Err(bad_meta(format!(
            "token_endpoint_auth_method cannot change from {} to {}: the client type (confidential or public, \
             RFC 6749 §2.1) is fixed at registration; register a new client",
            old.as_str(),
            new.as_str()
        )));
    }
    if old.uses_secret() != new.uses_secret() {
        return Err(bad_meta(
            "changing between secret and secretless authentication is not supported; register a new client",
        ));
    }
    Ok(())
}

/// The name an OIDC application is listed under: its `client_name`, else its client_id.
fn name_of(metadata: &ClientMetadata, client_id: &ClientId) -> String {
    metadata.client_name.clone().unwrap_or_else(|| client_id.to_string())
}

pub(super) fn event(
    by: ChangedBy<'_>,
    change: AdminChange,
    app: &Application,
    detail: serde_json::Value,
) -> AuditEvent {
    let event = AuditEvent::admin(&by.actor_id(), change, app.id.as_str(), app.profile.owner_unit_id.as_ref(), detail);
    event.with_client(app.oidc().map(|o| &o.client_id)).from_ip(by.source_ip())
}

impl ApplicationService {
    /// Registers an OIDC application. With `initial_token_hash` (RFC 7591 §3), uses that
    /// initial access token up in the same transaction, so a registration that fails uses up
    /// nothing. Only the office registers from the admin side.
    #[tracing::instrument(skip_all, fields(client_id = spec.client_id.as_deref()))]
    pub async fn create(
        &self,
        spec: ClientSpec,
        by: ChangedBy<'_>,
        initial_token_hash: Option<&str>,
    ) -> Result<CreatedClient, ApplicationError> {
        if let ChangedBy::Admin(actor) = by {
            self.directory.reach(actor).await?.require_office("register an application")?;
        }
        let client_id = client_id(spec.client_id)?;
        self.check_metadata_policy(&spec.metadata)?;
        let secret = client_secret(spec.metadata.token_endpoint_auth_method.uses_secret(), spec.client_secret)?;
        let registration_token = spec.with_registration_token.then(random_token);
        let now = self.now();
        let app = Application {
            id: ApplicationId::new(client_id.as_str()),
            name: name_of(&spec.metadata, &client_id),
            profile: AppProfile::default(),
            pre_approved: spec.pre_approved,
            disabled: false,
            created_at: now,
            registration: Registration::Oidc(OidcRegistration {
                client_id,
                secret_hash: secret.as_deref().map(token_hash),
                metadata: spec.metadata,
            }),
        };
        let mut tx = self.store.begin().await?;
        if let Some(hash) = initial_token_hash
            && !self.store.initial_access_tokens().use_in(&mut tx, hash, now).await?
        {
            return Err(ApplicationError::InitialTokenUnusable); // dropping `tx` rolls back
        }
        let registration_hash = registration_token.as_deref().map(token_hash);
        match self.store.applications().insert_in(&mut tx, &app, registration_hash.as_deref()).await {
            Err(StorageError::Conflict { .. }) => return Err(ApplicationError::IdTaken),
            other => other?,
        }
        let detail = json!({ "client_name": app.oidc().and_then(|o| o.metadata.client_name.clone()) });
        self.audit.record_in(&mut tx, vec![event(by, AdminChange::ApplicationCreate, &app, detail)]).await?;
        tx.commit().await?;
        let client = app.into_relying_party().ok_or(ApplicationError::NotFound)?;
        Ok(CreatedClient { client, client_secret: secret, registration_access_token: registration_token })
    }

    /// The checks of metadata that depend on the configuration: a `jwks_uri` Pintu may fetch
    /// (https; plain http only to loopback in development; no internal address literal).
    fn check_metadata_policy(&self, metadata: &ClientMetadata) -> Result<(), ApplicationError> {
        if let Some(uri) = &metadata.jwks_uri {
            check_jwks_uri(uri, &self.jwks_uri).map_err(|e| bad_meta(format!("jwks_uri: {e}")))?;
        }
        Ok(())
    }

    /// Replaces an OIDC application's metadata (RFC 7592 §2.2) and its name with it. The
    /// client type and secret handling cannot change; see `check_auth_method_change`.
    #[tracing::instrument(skip_all, fields(application = %id))]
    pub async fn update_oidc_metadata(
        &self,
        id: &ApplicationId,
        metadata: ClientMetadata,
        by: ChangedBy<'_>,
    ) -> Result<RelyingParty, ApplicationError> {
        let (mut app, _) = self.load(id, by).await?;
        let Registration::Oidc(oidc) = &mut app.registration else { return Err(ApplicationError::NotOidc) };
        check_auth_method_change(oidc.metadata.token_endpoint_auth_method, metadata.token_endpoint_auth_method)?;
        self.check_metadata_policy(&metadata)?;
        app.name = name_of(&metadata, &oidc.client_id);
        oidc.metadata = metadata;
        let mut tx = self.store.begin().await?;
        let key = (&app.id, &oidc.client_id);
        self.store.applications().update_oidc_metadata_in(&mut tx, key, &oidc.metadata, &app.name, self.now()).await?;
        self.audit.record_in(&mut tx, vec![event(by, AdminChange::ApplicationRegisterUpdate, &app, json!({}))]).await?;
        tx.commit().await?;
        self.invalidate(&app).await;
        app.profile.version += 1;
        app.into_relying_party().ok_or(ApplicationError::NotFound)
    }

    /// Disables an application and, for an OIDC client, revokes every grant it holds: it can
    /// no longer authenticate or start a sign-in, and its tokens stop working.
    #[tracing::instrument(skip_all, fields(application = %id))]
    pub async fn disable(&self, id: &ApplicationId, by: ChangedBy<'_>) -> Result<(), ApplicationError> {
        let (app, _) = self.load(id, by).await?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        self.store.applications().set_disabled_in(&mut tx, &app.id, true, now).await?;
        if let Some(oidc) = app.oidc() {
            self.store.grants().revoke_for_client_in(&mut tx, &oidc.client_id, now).await?;
        }
        self.audit.record_in(&mut tx, vec![event(by, AdminChange::ApplicationDisable, &app, json!({}))]).await?;
        tx.commit().await?;
        self.invalidate(&app).await;
        Ok(())
    }

    /// Gives a confidential OIDC client a new random secret, returned once and stored as
    /// SHA-256. The old secret stops matching when this commits (on other nodes once their
    /// cached copy expires, within the cache's `TTL_SECS`). Clients without a shared secret (public,
    /// `private_key_jwt`) are refused with `NoSecret`.
    #[tracing::instrument(skip_all, fields(application = %id))]
    pub async fn rotate_secret(
        &self,
        id: &ApplicationId,
        by: ChangedBy<'_>,
    ) -> Result<RotatedSecret, ApplicationError> {
        let (app, _) = self.load(id, by).await?;
        let Registration::Oidc(oidc) = &app.registration else { return Err(ApplicationError::NotOidc) };
        let method = oidc.metadata.token_endpoint_auth_method;
        if !method.uses_secret() {
            return Err(ApplicationError::NoSecret { method });
        }
        let secret = random_token();
        let mut tx = self.store.begin().await?;
        self.store
            .applications()
            .set_secret_hash_in(&mut tx, &oidc.client_id, &token_hash(&secret), self.now())
            .await?;
        self.audit.record_in(&mut tx, vec![event(by, AdminChange::ApplicationSecretRotate, &app, json!({}))]).await?;
        tx.commit().await?;
        self.invalidate(&app).await;
        Ok(RotatedSecret { client_id: oidc.client_id.clone(), client_secret: secret })
    }

    /// RFC 7592 §2: the enabled application whose registration access token hashes to
    /// `token_hash`, registered as `client_id`.
    pub async fn registered_client(
        &self,
        client_id: &str,
        token_hash: &str,
    ) -> Result<Option<Application>, ApplicationError> {
        let app = self.store.applications().find_by_registration_token(client_id, token_hash).await?;
        Ok(app.filter(|a| !a.disabled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientAuthMethod::{ClientSecretBasic, ClientSecretPost, None as Public, PrivateKeyJwt};

    /// RFC 7592 §2.2 updates a registration in place: the client type stays, and a change that
    /// would need a secret to appear or vanish is refused; one between secret methods is fine.
    #[test]
    fn an_update_keeps_the_client_type_and_its_secret() {
        assert!(check_auth_method_change(ClientSecretBasic, ClientSecretPost).is_ok());
        assert!(check_auth_method_change(PrivateKeyJwt, PrivateKeyJwt).is_ok());
        for (old, new) in [(ClientSecretBasic, Public), (Public, PrivateKeyJwt)] {
            let refused = check_auth_method_change(old, new).unwrap_err().to_string();
            assert!(refused.contains("client type"), "{refused}");
        }
        for (old, new) in [(ClientSecretBasic, PrivateKeyJwt), (PrivateKeyJwt, ClientSecretPost)] {
            let refused = check_auth_method_change(old, new).unwrap_err().to_string();
            assert!(refused.contains("secret and secretless"), "{refused}");
        }
    }
}
