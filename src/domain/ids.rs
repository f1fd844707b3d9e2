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
    /// An application, whatever protocol it speaks. An OpenID Connect application's id is
    /// its `client_id`.
    ApplicationId
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

/// Who acted, as audit events record it: the command line (`cli`), an application
/// (`client:<client_id>`), a person (`user:<user id>`), or a part of Pintu acting on a
/// protocol request's behalf (`client-registration`: RFC 7591/7592 requests carrying an
/// initial or registration access token), or Pintu's own scheduled jobs (`scheduler`: a key
/// rotation that fell due). Built only from these constructors, so a stored
/// actor always has one of these forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ActorId(String);

impl ActorId {
    /// The operator at the server's command line.
    pub fn cli() -> Self {
        Self("cli".to_owned())
    }

    /// An application acting with its own authority (client credentials).
    pub fn client(client: &ClientId) -> Self {
        Self(format!("client:{client}"))
    }

    /// A person acting on their own account or with their administrative authority.
    pub fn user(user: &UserId) -> Self {
        Self(format!("user:{user}"))
    }

    /// Dynamic client registration and its management protocol (RFC 7591, RFC 7592).
    pub fn client_registration() -> Self {
        Self("client-registration".to_owned())
    }

    /// Pintu's own scheduled jobs.
    pub fn scheduler() -> Self {
        Self("scheduler".to_owned())
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for ActorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_ids_keep_their_stored_forms() {
        assert_eq!(ActorId::cli().as_str(), "cli");
        assert_eq!(ActorId::client(&ClientId::new("app-1")).as_str(), "client:app-1");
        assert_eq!(ActorId::user(&UserId::new("0190-u")).as_str(), "user:0190-u");
        assert_eq!(ActorId::client_registration().as_str(), "client-registration");
        assert_eq!(serde_json::to_value(ActorId::cli()).unwrap(), serde_json::json!("cli"));
    }
}
