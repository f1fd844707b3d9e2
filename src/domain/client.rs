//! Relying parties (applications): their registered metadata, in RFC 7591 vocabulary so the
//! same structure serves storage, dynamic registration and the admin CLI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ClientId, Scope};

/// RFC 7591 §2 `grant_types` values Pintu supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    /// OpenID Connect CIBA Core 1.0 §10.1.
    #[serde(rename = "urn:openid:params:grant-type:ciba")]
    Ciba,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Ciba => "urn:openid:params:grant-type:ciba",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials, Self::Ciba]
            .into_iter()
            .find(|g| g.as_str() == value)
    }
}

/// RFC 7591 §2 `token_endpoint_auth_method` values Pintu supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
    /// RFC 8705 §2.1: a certificate from a trusted CA whose subject or SAN was registered.
    TlsClientAuth,
    /// RFC 8705 §2.2: a self-signed certificate registered in the client's `jwks` (`x5c`).
    SelfSignedTlsClientAuth,
}

impl ClientAuthMethod {
    pub const ALL: [ClientAuthMethod; 6] = [
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None,
        ClientAuthMethod::TlsClientAuth,
        ClientAuthMethod::SelfSignedTlsClientAuth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
            ClientAuthMethod::TlsClientAuth => "tls_client_auth",
            ClientAuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// RFC 8705: the client authenticates with its TLS certificate.
    pub fn uses_certificate(self) -> bool {
        matches!(self, ClientAuthMethod::TlsClientAuth | ClientAuthMethod::SelfSignedTlsClientAuth)
    }

    /// Whether clients using this method hold a shared secret issued by Pintu.
    pub fn uses_secret(self) -> bool {
        matches!(self, ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost)
    }
}

/// JWS algorithms an application may choose for its ID tokens (`id_token_signed_response_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    ES256,
    RS256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::ES256, SigningAlg::RS256, SigningAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::ES256 => "ES256",
            SigningAlg::RS256 => "RS256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::AuthorizationCode]
}

fn default_auth_method() -> ClientAuthMethod {
    ClientAuthMethod::ClientSecretBasic
}

fn default_alg() -> SigningAlg {
    SigningAlg::ES256
}

/// Registered client metadata (RFC 7591 §2, OIDC Dynamic Registration §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<GrantType>,
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: ClientAuthMethod,
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: SigningAlg,
    /// Space-delimited scopes the client may request; `None` means every supported scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Public keys for `private_key_jwt` (RFC 7591 `jwks`, a JWK Set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where the application publishes its JWK Set instead (RFC 7591 `jwks_uri`; never with `jwks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    /// The application's home page (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// How the application uses people's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    /// The application's terms of service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    /// Language-tagged forms of the human-readable fields (RFC 7591 §2.2), keyed as sent:
    /// `client_name#en`, `logo_uri#id-ID`. Stored under this member; the RFC 7591 §3.2.1
    /// representation puts each key back at the top level.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized: BTreeMap<String, String>,
    /// RFC 8705 §2.1.2: what identifies the client's certificate for `tls_client_auth`
    /// (exactly one of these).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_email: Option<String>,
    /// RFC 8705 §3.4: access tokens issued to this client are bound to its certificate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// RFC 9396 §10: the authorization details types the application may request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_details_types: Vec<String>,
    /// CIBA Core §4: poll or ping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_token_delivery_mode: Option<String>,
    /// CIBA Core §4: where the ping goes (ping mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_client_notification_endpoint: Option<String>,
    /// Where the application hears that a session ended (Back-Channel Logout 1.0 §2.2).
    #[serde(flatten)]
    pub logout: LogoutUris,
}

/// The logout notifications an application registered (OpenID Connect Back-Channel Logout 1.0
/// §2.2, Front-Channel Logout 1.0 §2). Pintu always sends `sid`; the `*_session_required`
/// flags are kept as registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutUris {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backchannel_logout_session_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frontchannel_logout_session_required: bool,
}

impl Default for ClientMetadata {
    fn default() -> Self {
        Self {
            client_name: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            grant_types: default_grant_types(),
            token_endpoint_auth_method: default_auth_method(),
            id_token_signed_response_alg: default_alg(),
            scope: None,
            jwks: None,
            jwks_uri: None,
            contacts: Vec::new(),
            client_uri: None,
            logo_uri: None,
            policy_uri: None,
            tos_uri: None,
            localized: BTreeMap::new(),
            tls_client_auth_subject_dn: None,
            tls_client_auth_san_dns: None,
            tls_client_auth_san_uri: None,
            tls_client_auth_san_ip: None,
            tls_client_auth_san_email: None,
            tls_client_certificate_bound_access_tokens: false,
            authorization_details_types: Vec::new(),
            backchannel_token_delivery_mode: None,
            backchannel_client_notification_endpoint: None,
            logout: LogoutUris::default(),
        }
    }
}

/// A registered application as the protocol core sees it.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    pub client_id: ClientId,
    /// SHA-256 of the client secret (hex); `None` for public and `private_key_jwt` clients.
    pub secret_hash: Option<String>,
    pub metadata: ClientMetadata,
    /// An administrator approved this first-party application: no consent page.
    pub pre_approved: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// What the directory knows about the application (category, owner, access, claims).
    pub profile: super::AppProfile,
}

impl RelyingParty {
    /// RFC 6749 §2.1: a client that cannot keep a secret.
    pub fn is_public(&self) -> bool {
        self.metadata.token_endpoint_auth_method == ClientAuthMethod::None
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.metadata.grant_types.contains(&grant)
    }

    /// The scopes this client may ever be granted.
    /// The registered scope (default: every supported scope). `pintu.admin` only for
    /// applications the office made admin-capable.
    pub fn allowed_scope(&self) -> Scope {
        let registered = match &self.metadata.scope {
            Some(scope) => Scope::parse(scope).unwrap_or_default(),
            None => Scope::from_tokens(super::scope::SUPPORTED_SCOPES.iter().copied()),
        };
        let admin_capable = self.profile.admin_scope.is_some();
        Scope::from_tokens(registered.iter().filter(|s| admin_capable || *s != super::application::ADMIN_SCOPE))
    }

    pub fn display_name(&self) -> &str {
        self.metadata.client_name.as_deref().unwrap_or(self.client_id.as_str())
    }
}
