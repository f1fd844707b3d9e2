//! The vocabulary of Pintu: plain data types with their invariants, and no I/O.
//!
//! Everything else depends on this module; it depends only on std, serde and uuid.

pub mod application;
pub mod authorization;
pub mod client;
pub mod grant;
pub mod ids;
pub mod login_names;
pub mod nip;
pub mod org_unit;
pub mod pegawai;
pub mod role;
pub mod saml;
pub mod scope;
pub mod secrets;
pub mod security_level;
pub mod session;
pub mod signing_key;
pub mod text;
pub mod user;

pub use application::{
    AccessPolicy, AdminScope, AppProfile, Application, Category, OidcRegistration, Protocol, Registration,
};
pub use client::{ClientAuthMethod, ClientMetadata, GrantType, LogoutUris, RelyingParty, SigningAlg};
pub use ids::{ActorId, ApplicationId, ClientId, GrantId, OrgUnitId, RoleGrantId, RoleId, SessionId, UserId};
pub use org_unit::{OrgUnit, OrgUnitKind};
pub use pegawai::{EmploymentType, Profile, UserStatus};
pub use role::{Role, RoleGrant};
pub use scope::Scope;
pub use security_level::SecurityLevel;
pub use session::{AuthnContext, SsoSession};
pub use signing_key::KeyState;
pub use user::User;
