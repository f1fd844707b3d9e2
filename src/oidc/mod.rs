//! OAuth 2.0 and OpenID Connect, without HTTP: every endpoint is a service method that takes
//! parsed parameters and returns an outcome or an `OAuthError`; `web/` renders them.

pub mod admin;
pub mod authorize;
mod backchannel_logout;
pub mod ciba;
pub mod ciba_approval;
mod ciba_ping;
pub mod claims;
pub mod client_auth;
mod client_keys;
mod clients;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod interaction;
pub mod introspection;
pub mod logout;
pub mod par;
pub mod params;
pub mod registration;
pub mod revocation;
pub mod tokens;
pub mod userinfo;

use std::sync::Arc;

use crate::applications::ApplicationService;
use crate::audit::AuditRecorder;
use crate::authn::AuthnService;
use crate::clock::SharedClock;
use crate::config::OidcConfig;
use crate::directory::DirectoryService;
use crate::domain::{SsoSession, User};
use crate::keys::{JwksUriCache, Keyring};
use crate::storage::Store;

pub use crate::authn::secret::{random_token, secure_eq, token_hash};
pub use authorize::{AuthorizationResponse, AuthorizeOutcome, ResponseMode};
pub use client_auth::ClientCredentials;
pub use error::{ErrorCode, OAuthError};
pub use interaction::{InteractionStage, PendingInteraction, StepUpMethods};
pub use params::{Params, ParamsError, check_parameter};

/// The OpenID provider: holds what every endpoint needs. One `Arc`, so the web layer's
/// per-request copy (axum's `State`) costs one reference count, not one per service.
#[derive(Clone)]
pub struct OidcService(Arc<Provider>);

impl std::ops::Deref for OidcService {
    type Target = Provider;
    fn deref(&self) -> &Provider {
        &self.0
    }
}

/// What the provider's endpoints share.
pub struct Provider {
    pub(crate) store: Store,
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) config: Arc<OidcConfig>,
    pub(crate) clock: SharedClock,
    pub(crate) authn: AuthnService,
    /// Registered applications: the only writer of them, and the cache clients are read from.
    pub(crate) applications: ApplicationService,
    /// JWK Sets fetched from applications' `jwks_uri`s.
    pub(crate) client_keys: Arc<JwksUriCache>,
    pub(crate) directory: DirectoryService,
    pub(crate) audit: AuditRecorder,
    /// Pending interactions, SSO sessions and the sign-in flow: the protocol-neutral core.
    pub(crate) interactions: crate::sso::Interactions,
    pub(crate) sessions: crate::sso::Sessions,
    pub(crate) sign_in: crate::sso::SignIn,
    pub(crate) certificates: crate::certificates::Certificates,
    /// Transaction signing (RFC 9396 authorization details approved at level 4).
    pub(crate) signing: crate::signing::Signing,
}

/// What the OIDC provider is built from.
pub struct OidcParts {
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub config: OidcConfig,
    pub clock: SharedClock,
    pub authn: AuthnService,
    pub directory: DirectoryService,
    pub sso: crate::sso::Sso,
    /// Registered applications: the protocol reads clients through its cache.
    pub applications: ApplicationService,
}

impl OidcService {
    pub fn new(parts: OidcParts) -> Self {
        let OidcParts { store, keyring, config, clock, authn, directory, sso, applications } = parts;
        let audit = directory.audit().clone();
        let crate::sso::Sso { interactions, sessions, sign_in, certificates } = sso;
        let client_keys = Arc::new(JwksUriCache::new(config.jwks_uri.clone()));
        let signing = crate::signing::Signing::new(
            store.clone(),
            certificates.clone(),
            keyring.clone(),
            audit.clone(),
            authn.clone(),
            clock.clone(),
            config.issuer.clone(),
        );
        Self(Arc::new(Provider {
            store,
            keyring,
            config: Arc::new(config),
            clock,
            authn,
            applications,
            client_keys,
            directory,
            audit,
            interactions,
            sessions,
            sign_in,
            certificates,
            signing,
        }))
    }

    /// Transaction signing: receipts, the report.
    pub fn signing(&self) -> &crate::signing::Signing {
        &self.signing
    }

    /// The live session behind a cookie value, if it is active and its user is enabled.
    pub async fn find_session(&self, cookie: Option<&str>) -> Result<Option<(SsoSession, User)>, OAuthError> {
        Ok(self.sessions.find(cookie).await?)
    }

    /// The password hasher at the configured cost (for accounts created in tests and tools).
    pub fn password_hasher(&self) -> crate::authn::PasswordHasherService {
        self.authn.hasher()
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The JWK Set (RFC 7517) served at `/oauth2/jwks`, serialised; it changes with a
    /// key rotation (the keyring reloads).
    pub fn jwks(&self) -> std::sync::Arc<[u8]> {
        self.keyring.jwks()
    }

    /// The signing keys, for rotation and its job.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.config.issuer, path)
    }
}
