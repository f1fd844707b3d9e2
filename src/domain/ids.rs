//! Newtype identifiers, so a user id can never be passed where a client id is expected.

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier read from storage or a request.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// A fresh, time-ordered identifier (UUIDv7).
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A person's stable identifier; also the OIDC `sub` claim.
    UserId
);
string_id!(
    /// An application's OAuth `client_id`.
    ClientId
);
string_id!(
    /// An SSO session; also the OIDC `sid` claim.
    SessionId
);
string_id!(
    /// One authorization a user gave one client: the family its codes and tokens belong to.
    GrantId
);
string_id!(
    /// An organisational unit (OPD, bidang, seksi…).
    OrgUnitId
);
string_id!(
    /// A role definition, global or belonging to one application.
    RoleId
);
string_id!(
    /// One grant of a role to a user.
    RoleGrantId
);
