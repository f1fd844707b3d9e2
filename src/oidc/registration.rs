//! Client registration as a protocol: RFC 7591 (dynamic registration) and RFC 7592
//! (management). This file reads requests and writes answers; registering, changing and
//! disabling the application is `ApplicationService`'s, which validates the metadata the same
//! way for the command line.

use serde_json::{Value, json};

use crate::applications::{ApplicationError, ChangedBy, ClientSpec, RawMetadata, validate_metadata};
use crate::domain::{Application, GrantType, RelyingParty};

use super::{OAuthError, OidcService, secure_eq, token_hash};

fn bad_meta(msg: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::invalid_client_metadata(msg)
}

fn used_initial_token() -> OAuthError {
    OAuthError::invalid_token("the initial access token is invalid, used or expired")
}

/// RFC 7591 §3.2.2 codes for what the application service refused.
impl From<ApplicationError> for OAuthError {
    fn from(e: ApplicationError) -> Self {
        match e {
            ApplicationError::InvalidMetadata(m) => OAuthError::invalid_client_metadata(m),
            ApplicationError::InvalidRedirectUri(m) => OAuthError::invalid_redirect_uri(m),
            ApplicationError::IdTaken | ApplicationError::NoSecret { .. } | ApplicationError::NotOidc => {
                bad_meta(e.to_string())
            }
            ApplicationError::InitialTokenUnusable => used_initial_token(),
            // RFC 7592 §2.1: a client that no longer exists answers 401 invalid_token.
            ApplicationError::NotFound => OAuthError::invalid_token("the registration access token is invalid"),
            ApplicationError::Directory(_) | ApplicationError::Storage(_) => OAuthError::server(e),
        }
    }
}

/// The RFC 7591 §3.2.1 representation of a client: its registered metadata, language-tagged
/// fields at the top level.
pub fn client_information(client: &RelyingParty) -> Value {
    let mut value = crate::applications::metadata_document(&client.metadata);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("client_id".into(), json!(client.client_id.as_str()));
        obj.insert("client_id_issued_at".into(), json!(client.created_at));
        let response_types: Vec<&str> =
            if client.allows_grant(GrantType::AuthorizationCode) { vec!["code"] } else { vec![] };
        obj.insert("response_types".into(), json!(response_types));
        if client.metadata.token_endpoint_auth_method.uses_secret() {
            obj.insert("client_secret_expires_at".into(), json!(0));
        }
    }
    value
}

impl OidcService {
    /// RFC 7591 §3: registers a client; answers with its information (201). The initial
    /// access token is checked first (RFC 6750 errors before anything else) but used up only
    /// with the client's creation: a request refused for its metadata can be corrected and
    /// sent again with the same token.
    pub async fn register(&self, initial_token: Option<&str>, body: Value) -> Result<Value, OAuthError> {
        let initial_token_hash = match (self.config.open_registration, initial_token) {
            (true, _) => None,
            (false, None) => return Err(OAuthError::invalid_token("an initial access token is required")),
            (false, Some(token)) => Some(token_hash(token)),
        };
        if let Some(hash) = &initial_token_hash
            && !self.applications.initial_access_token_is_usable(hash).await?
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
        let created = self.applications.create(spec, ChangedBy::Registration, initial_token_hash.as_deref()).await?;
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

    /// RFC 7592 §2: the application behind a registration access token.
    async fn registered_client(&self, client_id: &str, token: Option<&str>) -> Result<Application, OAuthError> {
        let invalid = || OAuthError::invalid_token("the registration access token is invalid");
        let token = token.ok_or_else(invalid)?;
        self.applications.registered_client(client_id, &token_hash(token)).await?.ok_or_else(invalid)
    }

    /// RFC 7592 §2.1.
    pub async fn read_registration(&self, client_id: &str, token: Option<&str>) -> Result<Value, OAuthError> {
        let app = self.registered_client(client_id, token).await?;
        let client = app.into_relying_party().ok_or_else(|| OAuthError::invalid_token("not an OIDC client"))?;
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
        let app = self.registered_client(client_id, token).await?;
        let raw: RawMetadata =
            serde_json::from_value(body).map_err(|e| bad_meta(format!("malformed metadata: {e}")))?;
        if raw.client_id.as_deref() != Some(client_id) {
            return Err(OAuthError::invalid_request("client_id in the body must match the registration"));
        }
        let secret_hash = app.oidc().and_then(|o| o.secret_hash.as_deref());
        if let Some(secret) = &raw.client_secret
            && !secret_hash.is_some_and(|h| secure_eq(h, &token_hash(secret)))
        {
            return Err(OAuthError::invalid_request("client_secret does not match"));
        }
        let metadata = validate_metadata(RawMetadata { client_id: None, client_secret: None, ..raw })?;
        let updated = self.applications.update_oidc_metadata(&app.id, metadata, ChangedBy::Registration).await?;
        Ok(self.registration_response(&updated, None, None))
    }

    /// RFC 7592 §2.3: deprovisions the client (disabled, its grants revoked).
    pub async fn delete_registration(&self, client_id: &str, token: Option<&str>) -> Result<(), OAuthError> {
        let app = self.registered_client(client_id, token).await?;
        Ok(self.applications.disable(&app.id, ChangedBy::Registration).await?)
    }
}
