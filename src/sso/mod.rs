//! Single sign-on that belongs to no protocol: SSO sessions, the interactions that carry a
//! protocol's pending request while a person is on Pintu's pages, and the sign-in flow
//! (password or passkey, then second factor or passkey to step up) that ends in one
//! `Authenticated` outcome. OpenID Connect starts interactions today; SAML, CIBA and account
//! actions start their own kinds with their own pending requests, go through the same pages
//! and flow, and each protocol resumes its own request at the end.

pub mod flow;
pub mod interaction;
pub mod sessions;

pub use flow::{Attempt, Authenticated, SignIn, SignInError, SignInProblem};
pub use interaction::{FormToken, InteractionKind, Interactions, PendingRequest, SsoError, StartedInteraction};
pub use sessions::Sessions;

use crate::audit::AuditRecorder;
use crate::authn::AuthnService;
use crate::certificates::Certificates;
use crate::clock::SharedClock;
use crate::storage::Store;

/// The SSO core's services, built once and shared by every protocol. Cheap to clone.
#[derive(Clone)]
pub struct Sso {
    pub interactions: Interactions,
    pub sessions: Sessions,
    pub sign_in: SignIn,
    /// Electronic certificates: level 4.
    pub certificates: Certificates,
}

/// How long things of the SSO core last (seconds).
#[derive(Debug, Clone, Copy)]
pub struct SsoLifetimes {
    pub session: i64,
    pub interaction: i64,
}

impl Sso {
    pub fn new(
        store: &Store,
        clock: &SharedClock,
        authn: AuthnService,
        certificates: Certificates,
        audit: AuditRecorder,
        ttl: SsoLifetimes,
    ) -> Self {
        let interactions = Interactions::new(store.clone(), clock.clone(), ttl.interaction);
        let sessions = Sessions::new(store.clone(), clock.clone(), ttl.session);
        let sign_in = SignIn::new(authn, certificates.clone(), sessions.clone(), audit, clock.clone());
        Self { interactions, sessions, sign_in, certificates }
    }
}
