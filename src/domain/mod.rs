//! The vocabulary of Pintu: plain data types with their invariants, and no I/O.
//!
//! Everything else depends on this module; it depends only on std, serde and uuid.

pub mod client;
pub mod grant;
pub mod ids;
pub mod nip;
pub mod scope;
pub mod security_level;
pub mod session;
pub mod user;

pub use client::{ClientAuthMethod, ClientMetadata, GrantType, RelyingParty, SigningAlg};
pub use ids::{ClientId, GrantId, SessionId, UserId};
pub use scope::Scope;
pub use security_level::SecurityLevel;
pub use session::{AuthnContext, SsoSession};
pub use user::User;
