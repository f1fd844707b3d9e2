//! The state every handler can extract.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::applications::ApplicationService;
use crate::config::WebConfig;
use crate::directory::DirectoryService;
use crate::oidc::OidcService;
use crate::storage::Store;

use super::views::Views;

/// Shared by every request behind one `Arc`: axum clones the state for each request, and
/// cloning every service (each a handful of `Arc`s) cost discovery and the JWK Set about a
/// fifth of their throughput. Fields are reached through `Deref` (`state.oidc`).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

/// Everything a handler may use.
pub struct Services {
    pub oidc: OidcService,
    /// Registers and changes applications (CLI, admin API); owns the client cache.
    pub applications: ApplicationService,
    /// The protocol-neutral SSO core (interactions, sessions, sign-in), shared with `oidc`.
    pub sso: crate::sso::Sso,
    /// The account pages' self-service.
    pub account: crate::account::AccountService,
    pub directory: DirectoryService,
    /// The LDAP directories: sync and status for the admin API, reachability for health.
    pub federation: crate::federation::ldap::LdapFederation,
    /// Prometheus metrics, served by `metrics_router` on their own listener.
    pub metrics: crate::metrics::Metrics,
    /// Whether a metrics listener is configured; without one, requests are not counted.
    pub serve_metrics: bool,
    /// When months begin (the regency's UTC offset) and whether they are reported by themselves.
    pub reports: crate::config::ReportsConfig,
    pub views: Arc<Views>,
    /// E-mail (password reset links, activation links, notices).
    pub mailer: crate::mail::Mailer,
    /// The SAML identity provider (its keys and metadata).
    pub saml: crate::saml::SamlIdp,
    pub web: Arc<WebConfig>,
    pub store: Store,
    pub published: Published,
}

/// The discovery document, serialised once (it cannot change while the process runs) and
/// shared, not copied, by every response. The JWK Set changes with a key rotation: the keyring
/// keeps it serialised.
#[derive(Clone)]
pub struct Published {
    pub discovery: axum::body::Bytes,
}

impl Published {
    pub fn from_service(oidc: &OidcService) -> Self {
        Self { discovery: serde_json::to_vec(&oidc.discovery()).unwrap_or_default().into() }
    }
}

impl FromRef<AppState> for Published {
    fn from_ref(state: &AppState) -> Self {
        state.published.clone()
    }
}

impl FromRef<AppState> for OidcService {
    fn from_ref(state: &AppState) -> Self {
        state.oidc.clone()
    }
}

impl FromRef<AppState> for ApplicationService {
    fn from_ref(state: &AppState) -> Self {
        state.applications.clone()
    }
}

impl FromRef<AppState> for DirectoryService {
    fn from_ref(state: &AppState) -> Self {
        state.directory.clone()
    }
}
