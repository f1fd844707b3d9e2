//! Client registration: RFC 7591 (dynamic registration), RFC 7592 (management), and the same
//! validation for clients an administrator creates from the command line.

use serde_json::{Value, json};

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::{ActorId, ClientAuthMethod, ClientId, ClientMetadata, RelyingParty};
use crate::keys::check_jwks_uri;
use crate::storage::{NewClient, StorageError};

pub use super::client_metadata::{RawMetadata, check_redirect_uri, client_information, validate_metadata};
use super::{OAuthError, OidcService, random_token, secure_eq, token_hash};

/// Shortest client secret an administrator may choose (it is stored as SHA-256, so it must
/// carry enough entropy on its own).
pub const MIN_GIVEN_SECRET_CHARS: usize = 32;

/// A client to create (from registration or the admin CLI).
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub metadata: ClientMetadata,
    pub pre_approved: bool,
    pub with_registration_token: bool,
}

/// A created client, with the secrets shown exactly once.
#[derive(Debug, Clone)]
pub struct CreatedClient {
    pub client: RelyingParty,
    pub client_secret: Option<String>,
    pub registration_access_token: Option<String>,
}

fn bad_meta(msg: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::invalid_client_metadata(msg)
}

fn used_initial_token() -> OAuthError {
    OAuthError::invalid_token("the initial access token is invalid, used or expired")
}

/// RFC 7592 §2.2 lets the server refuse a change. A confidential client never becomes public:
/// that would drop its authentication while its grants, refresh tokens and
/// `client_credentials` access stay (RFC 6749 §2.1: the type is fixed at registration), and a
/// public client never becomes confidential. Between secret and secretless methods the secret
/// would have to appear or vanish, which RFC 7592 has no way to deliver.
fn check_auth_method_change(old: ClientAuthMethod, new: ClientAuthMethod) -> Result<(), OAuthError> {
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

/// The secret a new client gets: the one given (long enough to be stored as SHA-256) or a
/// generated one; none for clients that authenticate without a shared secret.
fn client_secret(uses_secret: bool, given: Option<String>) -> Result<Option<String>, OAuthError> {
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

impl OidcService {
    /// Creates a client with validated metadata; generates what was not given.
    pub async fn create_client(&self, spec: ClientSpec) -> Result<CreatedClient, OAuthError> {
        self.create_client_with(spec, None).await
    }

    /// Creates a client; with `initial_token_hash`, consumes that initial access token in the
    /// same transaction, so a registration that fails uses up nothing.
    async fn create_client_with(
        &self,
        spec: ClientSpec,
        initial_token_hash: Option<&str>,
    ) -> Result<CreatedClient, OAuthError> {
        let client_id = match spec.client_id {
            Some(id) if id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(bad_meta("client_id must be 1-128 visible characters"));
            }
            Some(id) => id,
            None => uuid::Uuid::now_v7().to_string(),
        };
        self.check_metadata_policy(&spec.metadata)?;
        let secret = client_secret(spec.metadata.token_endpoint_auth_method.uses_secret(), spec.client_secret)?;
        let registration_token = spec.with_registration_token.then(random_token);
        let now = self.now();
        let new = NewClient {
            client_id: ClientId::new(client_id),
            secret_hash: secret.as_deref().map(token_hash),
            metadata: spec.metadata,
            pre_approved: spec.pre_approved,
            registration_token_hash: registration_token.as_deref().map(token_hash),
            now,
        };
        let inserted = match initial_token_hash {
            None => self.store.clients().insert(&new).await.map(|()| true),
            Some(hash) => self.store.clients().insert_with_initial_access_token(&new, hash).await,
        };
        match inserted {
            Ok(true) => {}
            Ok(false) => return Err(used_initial_token()),
            Err(StorageError::Conflict { .. }) => return Err(bad_meta("that client_id is taken")),
            Err(e) => return Err(e.into()),
        }
        let client = RelyingParty {
            client_id: new.client_id,
            secret_hash: new.secret_hash,
            metadata: new.metadata,
            pre_approved: new.pre_approved,
            disabled: false,
            created_at: now,
            profile: Default::default(),
        };
        let actor = if registration_token.is_some() { ActorId::client_registration() } else { ActorId::cli() };
        let detail = json!({ "client_name": client.metadata.client_name });
        let event = AuditEvent::admin(&actor, AdminChange::ApplicationCreate, client.client_id.as_str(), None, detail);
        self.audit.record_or_log(event.with_client(Some(&client.client_id))).await;
        Ok(CreatedClient { client, client_secret: secret, registration_access_token: registration_token })
    }

    /// The checks of metadata that depend on the configuration: a `jwks_uri` Pintu may fetch
    /// (https; plain http only to loopback in development; no internal address literal).
    fn check_metadata_policy(&self, metadata: &ClientMetadata) -> Result<(), OAuthError> {
        if let Some(uri) = &metadata.jwks_uri {
            check_jwks_uri(uri, &self.config.jwks_uri).map_err(|e| bad_meta(format!("jwks_uri: {e}")))?;
        }
        Ok(())
    }

    /// Issues an RFC 7591 initial access token (single use) valid for `ttl` seconds.
    pub async fn create_initial_access_token(&self, description: &str, ttl: i64) -> Result<String, OAuthError> {
        let token = random_token();
        let now = self.now();
        self.store.clients().insert_initial_access_token(&token_hash(&token), description, now, now + ttl).await?;
        let detail = json!({ "description": description, "expires_at": now + ttl });
        self.audit
            .record_or_log(AuditEvent::admin(
                &ActorId::cli(),
                AdminChange::RegistrationTokenCreate,
                "initial-access-token",
                None,
                detail,
            ))
            .await;
        Ok(token)
    }

    /// RFC 7591 §3: registers a client; answers with its information (201). The initial
    /// access token is checked first (RFC 6750 errors before anything else) but consumed only
    /// with the client's creation: a request refused for its metadata can be corrected and
    /// sent again with the same token.
    pub async fn register(&self, initial_token: Option<&str>, body: Value) -> Result<Value, OAuthError> {
        let initial_token_hash = match (self.config.open_registration, initial_token) {
            (true, _) => None,
            (false, None) => return Err(OAuthError::invalid_token("an initial access token is required")),
            (false, Some(token)) => Some(token_hash(token)),
        };
        if let Some(hash) = &initial_token_hash
            && !self.store.clients().initial_access_token_is_usable(hash, self.now()).await?
        {
            return Err(used_initial_token());
        }
        let raw: RawMetadata =
            serde_json::from_value(body).map_err(|e| bad_meta(format!("malformed metadata: {e}")))?;
        if raw.client_id.is_some() || raw.client_secret.is_some() {
            return Err(bad_meta("client_id and client_secret are assigned by the server"));
        }
        let metadata = validate_metadata(raw)?;
        let spec = ClientSpec { metadata, with_registration_token: true, ..Default::default() };
        let created = self.create_client_with(spec, initial_token_hash.as_deref()).await?;
        Ok(self.registration_response(&created.client, created.client_secret, created.registration_access_token))
    }

    fn registration_response(&self, client: &RelyingParty, secret: Option<String>, token: Option<String>) -> Value {
        let mut info = client_information(client);
        if let Some(obj) = info.as_object_mut() {
            if let Some(secret) = secret {
                obj.insert("client_secret".into(), json!(secret));
            }
            if let Some(token) = token {
                obj.insert("registration_access_token".into(), json!(token));
            }
            let uri = self.endpoint(&format!("/oauth2/register/{}", client.client_id));
            obj.insert("registration_client_uri".into(), json!(uri));
        }
        info
    }

    /// RFC 7592 §2: the client behind a registration access token.
    async fn registered_client(&self, client_id: &str, token: Option<&str>) -> Result<RelyingParty, OAuthError> {
        let invalid = || OAuthError::invalid_token("the registration access token is invalid");
        let token = token.ok_or_else(invalid)?;
        let hash = token_hash(token);
        let client = self.store.clients().find_by_registration_token(client_id, &hash).await?;
        client.filter(|c| !c.disabled).ok_or_else(invalid)
    }

    /// RFC 7592 §2.1.
    pub async fn read_registration(&self, client_id: &str, token: Option<&str>) -> Result<Value, OAuthError> {
        let client = self.registered_client(client_id, token).await?;
        Ok(self.registration_response(&client, None, None))
    }

    /// RFC 7592 §2.2: replaces the metadata. `client_id` must be sent and match; a sent
    /// `client_secret` must match the current one.
    pub async fn update_registration(
        &self,
        client_id: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<Value, OAuthError> {
        let client = self.registered_client(client_id, token).await?;
        let raw: RawMetadata =
            serde_json::from_value(body).map_err(|e| bad_meta(format!("malformed metadata: {e}")))?;
        if raw.client_id.as_deref() != Some(client_id) {
            return Err(OAuthError::invalid_request("client_id in the body must match the registration"));
        }
        if let Some(secret) = &raw.client_secret
            && !client.secret_hash.as_deref().is_some_and(|h| secure_eq(h, &token_hash(secret)))
        {
            return Err(OAuthError::invalid_request("client_secret does not match"));
        }
        let metadata = validate_metadata(RawMetadata { client_id: None, client_secret: None, ..raw })?;
        check_auth_method_change(client.metadata.token_endpoint_auth_method, metadata.token_endpoint_auth_method)?;
        self.check_metadata_policy(&metadata)?;
        self.store.clients().update_metadata(&client.client_id, &metadata, self.now()).await?;
        self.clients.invalidate(client.client_id.as_str());
        let event = AuditEvent::admin(
            &ActorId::client_registration(),
            AdminChange::ApplicationRegisterUpdate,
            client_id,
            None,
            json!({}),
        );
        self.audit.record_or_log(event.with_client(Some(&client.client_id))).await;
        let updated = RelyingParty { metadata, ..client };
        Ok(self.registration_response(&updated, None, None))
    }

    /// RFC 7592 §2.3: deprovisions the client and revokes its grants.
    pub async fn delete_registration(&self, client_id: &str, token: Option<&str>) -> Result<(), OAuthError> {
        let client = self.registered_client(client_id, token).await?;
        self.disable_client(&client.client_id, &ActorId::client_registration()).await
    }

    /// Disables a client and revokes every grant it holds.
    /// `actor` names who asked, for the audit event (`cli`, `client-registration`).
    pub async fn disable_client(&self, client_id: &ClientId, actor: &ActorId) -> Result<(), OAuthError> {
        let now = self.now();
        match self.store.clients().set_disabled(client_id.as_str(), true, now).await {
            Err(StorageError::NotFound) => return Err(OAuthError::invalid_request("no such client")),
            other => other?,
        }
        self.clients.invalidate(client_id.as_str());
        self.store.grants().revoke_for_client(client_id, now).await?;
        let event = AuditEvent::admin(actor, AdminChange::ApplicationDisable, client_id.as_str(), None, json!({}));
        self.audit.record_or_log(event.with_client(Some(client_id))).await;
        Ok(())
    }
}
