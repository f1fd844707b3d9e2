//! Single sign-on that belongs to no protocol: the interactions that carry a protocol's pending
//! request while a person signs in at Pintu's own pages. OpenID Connect starts them today;
//! SAML, CIBA and account actions start their own kinds with their own pending requests, go
//! through the same pages and flow, and each protocol resumes its own request at the end.

pub mod interaction;

pub use interaction::{FormToken, InteractionKind, Interactions, PendingRequest, SsoError, StartedInteraction};
