//! Applications, whatever protocol they speak: the one place where an application is
//! registered, changed (its protocol registration and its directory profile), disabled or
//! has its secret rotated, and where the per-node client cache is invalidated. The command
//! line, the admin API and RFC 7591/7592 (through `oidc`) all call `ApplicationService`; the
//! protocol reads clients through its cache.
//!
//! An application is its directory profile plus one protocol registration
//! (`domain::Registration`): an OpenID Connect client now (`oidc_client.rs` validates its
//! metadata), a SAML service provider next. Every change is written in one transaction with
//! its audit event. Nothing here speaks HTTP or OAuth error codes: errors are
//! `ApplicationError`, which `oidc` and `web` translate.

mod addresses;
mod backchannel;
mod cache;
mod error;
mod icons;
mod initial_tokens;
mod oidc_client;
mod portal;
mod profile;
mod registry;
mod saml_sp;

use std::sync::Arc;

use crate::audit::AuditRecorder;
use crate::clock::SharedClock;
use crate::config::JwksUriConfig;
use crate::directory::{Actor, DirectoryService, Reach};
use crate::domain::{ActorId, Application, ApplicationId};
use crate::storage::Store;

pub use crate::directory::ProfilePatch;
pub use addresses::{AddressPatch, metadata_document};
pub use error::ApplicationError;
pub use icons::{MAX_ICON_BYTES, icon_media_type};
pub use oidc_client::{RawMetadata, validate_metadata};
pub use portal::PortalEntry;
pub use profile::ApplicationRecord;
pub use registry::{ClientSpec, CreatedClient, RotatedSecret};
pub use saml_sp::{saml_name, saml_spec};

/// Registers and changes applications; serves OIDC clients from a per-node cache. Cheap to
/// clone: clones share the cache.
#[derive(Clone)]
pub struct ApplicationService {
    store: Store,
    clock: SharedClock,
    audit: AuditRecorder,
    /// Reach of administrators, and the rules of a profile's references (units, roles).
    directory: DirectoryService,
    cache: Arc<cache::ClientCache>,
    /// Which `jwks_uri`s Pintu would fetch: a registration naming another is refused.
    jwks_uri: Arc<JwksUriConfig>,
}

/// Who changes an application: decides the reach check and the audit event's actor.
#[derive(Debug, Clone, Copy)]
pub enum ChangedBy<'a> {
    /// An administrator (the CLI acts as the office): the application must be in their reach.
    Admin(&'a Actor),
    /// The application itself, holding an RFC 7591 initial access token or its RFC 7592
    /// registration access token, which the caller has checked.
    Registration,
}

impl ChangedBy<'_> {
    fn actor_id(&self) -> ActorId {
        match self {
            ChangedBy::Admin(actor) => actor.id.clone(),
            ChangedBy::Registration => ActorId::client_registration(),
        }
    }

    fn source_ip(&self) -> Option<&str> {
        match self {
            ChangedBy::Admin(actor) => actor.source_ip.as_deref(),
            ChangedBy::Registration => None,
        }
    }
}

impl ApplicationService {
    /// Records its audit events through the directory's recorder (one audit chain writer).
    pub fn new(store: Store, clock: SharedClock, directory: DirectoryService, jwks_uri: JwksUriConfig) -> Self {
        let cache = Arc::new(cache::ClientCache::default());
        let audit = directory.audit().clone();
        Self { store, clock, audit, directory, cache, jwks_uri: Arc::new(jwks_uri) }
    }

    /// How documents an application publishes are fetched (its `jwks_uri`, a SAML SP's
    /// metadata): the same fences for both.
    pub fn fetch_config(&self) -> &JwksUriConfig {
        &self.jwks_uri
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The application `id` if `by` may change it: an administrator needs it within their
    /// reach (the office's own applications have no owner); outside it, it does not exist.
    async fn load(&self, id: &ApplicationId, by: ChangedBy<'_>) -> Result<(Application, Reach), ApplicationError> {
        let reach = match by {
            ChangedBy::Admin(actor) => self.directory.reach(actor).await?,
            ChangedBy::Registration => Reach::Everything,
        };
        let app = self.store.applications().find(id).await?;
        let app = app.filter(|a| reach.covers(a.profile.owner_unit_id.as_ref())).ok_or(ApplicationError::NotFound)?;
        Ok((app, reach))
    }

    /// Drops this node's cached copy of `app`'s OIDC client after a change committed, and
    /// tells the other nodes to drop theirs (a failed announcement leaves them the cache's
    /// five seconds).
    async fn invalidate(&self, app: &Application) {
        if let Some(oidc) = app.oidc() {
            self.forget(oidc.client_id.as_str());
            let change = crate::storage::Change::Client(oidc.client_id.to_string());
            if let Err(e) = self.store.announce(&change).await {
                tracing::warn!(error = %e, "cannot announce a client change to the other nodes");
            }
        }
    }

    /// Drops this node's cached copy of a client another node changed.
    pub fn forget(&self, client_id: &str) {
        self.cache.invalidate(client_id);
    }

    /// Drops every cached client (changes may have been missed).
    pub fn forget_all(&self) {
        self.cache.clear();
    }
}
