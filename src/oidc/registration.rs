//! Client registration: RFC 7591 (dynamic registration), RFC 7592 (management), and the same
//! validation for clients an administrator creates from the command line.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::AuditEvent;
use crate::domain::{ClientAuthMethod, ClientId, ClientMetadata, GrantType, RelyingParty, Scope, SigningAlg};
use crate::storage::{NewClient, StorageError};

use super::{OAuthError, OidcService, random_token, secure_eq, token_hash};

/// Shortest client secret an administrator may choose (it is stored as SHA-256, so it must
/// carry enough entropy on its own).
pub const MIN_GIVEN_SECRET_CHARS: usize = 32;

/// RFC 7591 §2 metadata as sent, before validation.
#[derive(Debug, Default, Deserialize)]
pub struct RawMetadata {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    pub scope: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub contacts: Option<Vec<String>>,
}

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

/// Turns raw metadata into validated `ClientMetadata` (RFC 7591 §2, §3.2.2 error codes).
pub fn validate_metadata(raw: RawMetadata) -> Result<ClientMetadata, OAuthError> {
    if raw.jwks_uri.is_some() {
        return Err(bad_meta("jwks_uri is not supported; register keys with jwks"));
    }
    let grant_types = match raw.grant_types {
        None => vec![GrantType::AuthorizationCode],
        Some(list) => list
            .iter()
            .map(|g| GrantType::parse(g).ok_or_else(|| bad_meta(format!("grant type {g} is not supported"))))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let wants_code = grant_types.contains(&GrantType::AuthorizationCode);
    match raw.response_types.as_deref() {
        None => {}
        Some([]) if !wants_code => {}
        Some([one]) if one == "code" && wants_code => {}
        Some(_) => return Err(bad_meta("response_types must be [\"code\"] with the authorization_code grant")),
    }
    let method = match raw.token_endpoint_auth_method.as_deref() {
        None => ClientAuthMethod::ClientSecretBasic,
        Some(m) => ClientAuthMethod::parse(m)
            .ok_or_else(|| bad_meta(format!("token_endpoint_auth_method {m} is not supported")))?,
    };
    if method == ClientAuthMethod::PrivateKeyJwt
        && raw.jwks.as_ref().and_then(|j| j.get("keys")).and_then(Value::as_array).is_none_or(Vec::is_empty)
    {
        return Err(bad_meta("private_key_jwt needs a jwks with at least one key"));
    }
    if method == ClientAuthMethod::None && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(bad_meta("public clients cannot use client_credentials"));
    }
    let alg = match raw.id_token_signed_response_alg.as_deref() {
        None => SigningAlg::ES256,
        Some(a) => SigningAlg::parse(a)
            .ok_or_else(|| bad_meta(format!("id_token_signed_response_alg {a} is not supported")))?,
    };
    if let Some(scope) = &raw.scope {
        Scope::parse(scope).map_err(|e| bad_meta(e.to_string()))?;
    }
    let redirect_uris = raw.redirect_uris.unwrap_or_default();
    if wants_code && redirect_uris.is_empty() {
        return Err(OAuthError::invalid_redirect_uri("redirect_uris is required for the authorization_code grant"));
    }
    let public = method == ClientAuthMethod::None;
    for uri in &redirect_uris {
        check_redirect_uri(uri, public).map_err(OAuthError::invalid_redirect_uri)?;
    }
    let post_logout = raw.post_logout_redirect_uris.unwrap_or_default();
    for uri in &post_logout {
        check_redirect_uri(uri, public).map_err(|m| bad_meta(format!("post_logout_redirect_uris: {m}")))?;
    }
    if raw.client_name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(bad_meta("client_name is too long"));
    }
    Ok(ClientMetadata {
        client_name: raw.client_name,
        redirect_uris,
        post_logout_redirect_uris: post_logout,
        grant_types,
        token_endpoint_auth_method: method,
        id_token_signed_response_alg: alg,
        scope: raw.scope,
        jwks: raw.jwks,
        contacts: raw.contacts.unwrap_or_default(),
    })
}

/// RFC 6749 §3.1.2, RFC 9700 §4.1, RFC 8252 §7: absolute, no fragment; https, http only on
/// loopback, or (public native clients) a private-use scheme with a dot.
pub fn check_redirect_uri(uri: &str, public: bool) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|_| format!("{uri} is not an absolute URI"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri} must not contain a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::config::is_loopback(&url) => Ok(()),
        "http" => Err(format!("{uri} must use https (plain http only on loopback)")),
        s if public && s.contains('.') => Ok(()),
        s => Err(format!("scheme {s} is not allowed in {uri}")),
    }
}

/// The RFC 7591 §3.2.1 representation of a client.
pub fn client_information(client: &RelyingParty) -> Value {
    let mut value = serde_json::to_value(&client.metadata).unwrap_or_else(|_| json!({}));
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
    /// Creates a client with validated metadata; generates what was not given.
    pub async fn create_client(&self, spec: ClientSpec) -> Result<CreatedClient, OAuthError> {
        let client_id = match spec.client_id {
            Some(id) if id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(bad_meta("client_id must be 1-128 visible characters"));
            }
            Some(id) => id,
            None => uuid::Uuid::now_v7().to_string(),
        };
        let uses_secret = spec.metadata.token_endpoint_auth_method.uses_secret();
        let secret = match (uses_secret, spec.client_secret) {
            (false, Some(_)) => return Err(bad_meta("only client_secret_basic/post clients have a secret")),
            (false, None) => None,
            (true, Some(s)) if s.chars().count() < MIN_GIVEN_SECRET_CHARS => {
                return Err(bad_meta(format!(
                    "a given client secret needs at least {MIN_GIVEN_SECRET_CHARS} characters"
                )));
            }
            (true, Some(s)) => Some(s),
            (true, None) => Some(random_token()),
        };
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
        match self.store.clients().insert(&new).await {
            Err(StorageError::Conflict { .. }) => return Err(bad_meta("that client_id is taken")),
            other => other?,
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
        let actor = if registration_token.is_some() { "client-registration" } else { "cli" };
        let detail = json!({ "client_name": client.metadata.client_name });
        let event = AuditEvent::admin(actor, "application.create", client.client_id.as_str(), None, detail);
        self.audit.record_or_log(event.with_client(Some(&client.client_id))).await;
        Ok(CreatedClient { client, client_secret: secret, registration_access_token: registration_token })
    }

    /// Issues an RFC 7591 initial access token (single use) valid for `ttl` seconds.
    pub async fn create_initial_access_token(&self, description: &str, ttl: i64) -> Result<String, OAuthError> {
        let token = random_token();
        let now = self.now();
        self.store.clients().insert_initial_access_token(&token_hash(&token), description, now, now + ttl).await?;
        let detail = json!({ "description": description, "expires_at": now + ttl });
        self.audit
            .record_or_log(AuditEvent::admin("cli", "registration_token.create", "initial-access-token", None, detail))
            .await;
        Ok(token)
    }

    /// RFC 7591 §3: registers a client; answers with its information (201).
    pub async fn register(&self, initial_token: Option<&str>, body: Value) -> Result<Value, OAuthError> {
        if !self.config.open_registration {
            let token =
                initial_token.ok_or_else(|| OAuthError::invalid_token("an initial access token is required"))?;
            if !self.store.clients().use_initial_access_token(&token_hash(token), self.now()).await? {
                return Err(OAuthError::invalid_token("the initial access token is invalid, used or expired"));
            }
        }
        let raw: RawMetadata =
            serde_json::from_value(body).map_err(|e| bad_meta(format!("malformed metadata: {e}")))?;
        if raw.client_id.is_some() || raw.client_secret.is_some() {
            return Err(bad_meta("client_id and client_secret are assigned by the server"));
        }
        let metadata = validate_metadata(raw)?;
        let created =
            self.create_client(ClientSpec { metadata, with_registration_token: true, ..Default::default() }).await?;
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
        if metadata.token_endpoint_auth_method.uses_secret() != client.metadata.token_endpoint_auth_method.uses_secret()
        {
            return Err(bad_meta(
                "changing between secret and secretless authentication is not supported; register anew",
            ));
        }
        self.store.clients().update_metadata(&client.client_id, &metadata, self.now()).await?;
        self.clients.invalidate(client.client_id.as_str());
        let event = AuditEvent::admin("client-registration", "application.register_update", client_id, None, json!({}));
        self.audit.record_or_log(event.with_client(Some(&client.client_id))).await;
        let updated = RelyingParty { metadata, ..client };
        Ok(self.registration_response(&updated, None, None))
    }

    /// RFC 7592 §2.3: deprovisions the client and revokes its grants.
    pub async fn delete_registration(&self, client_id: &str, token: Option<&str>) -> Result<(), OAuthError> {
        let client = self.registered_client(client_id, token).await?;
        self.disable_client(&client.client_id, "client-registration").await
    }

    /// Disables a client and revokes every grant it holds.
    /// `actor` names who asked, for the audit event (`cli`, `client-registration`).
    pub async fn disable_client(&self, client_id: &ClientId, actor: &str) -> Result<(), OAuthError> {
        let now = self.now();
        match self.store.clients().set_disabled(client_id.as_str(), true, now).await {
            Err(StorageError::NotFound) => return Err(OAuthError::invalid_request("no such client")),
            other => other?,
        }
        self.clients.invalidate(client_id.as_str());
        self.store.grants().revoke_for_client(client_id, now).await?;
        let event = AuditEvent::admin(actor, "application.disable", client_id.as_str(), None, json!({}));
        self.audit.record_or_log(event.with_client(Some(client_id))).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_redirect_uri_is_only_allowed_on_loopback() {
        assert!(check_redirect_uri("http://127.0.0.1:9000/cb", false).is_ok());
        assert!(check_redirect_uri("http://app.example.go.id/cb", false).is_err());
        assert!(check_redirect_uri("https://app.example.go.id/cb#x", false).is_err());
        assert!(check_redirect_uri("id.go.kab.app:/cb", true).is_ok());
        assert!(check_redirect_uri("id.go.kab.app:/cb", false).is_err());
    }

    #[test]
    fn unknown_grant_type_is_invalid_client_metadata() {
        let raw = RawMetadata { grant_types: Some(vec!["implicit".into()]), ..Default::default() };
        assert_eq!(validate_metadata(raw).unwrap_err().code, crate::oidc::ErrorCode::InvalidClientMetadata);
    }

    #[test]
    fn code_client_without_redirect_uris_is_invalid_redirect_uri() {
        assert_eq!(
            validate_metadata(RawMetadata::default()).unwrap_err().code,
            crate::oidc::ErrorCode::InvalidRedirectUri
        );
    }
}
