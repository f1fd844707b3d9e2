//! An application, protocol-neutral: its directory profile (category umum/khusus, owning OPD,
//! minimum security level, who may sign in, which directory claims it receives, whether it may
//! call the admin API) and its protocol registration (an OpenID Connect client now; a SAML
//! service provider next).

use serde::{Deserialize, Serialize};

use super::{ApplicationId, ClientId, ClientMetadata, OrgUnitId, RelyingParty, RoleId, SecurityLevel};

/// Directory claims and the scope each one is behind. `nik` also needs an explicit grant.
pub const DIRECTORY_CLAIMS: &[(&str, &str)] = &[
    ("nip", "pegawai"),
    ("employment_type", "pegawai"),
    ("jabatan", "pegawai"),
    ("golongan", "pegawai"),
    ("opd", "opd"),
    ("roles", "roles"),
    ("nik", "nik"),
];

/// The scope that lets a token call the admin API (`/api/v1`).
pub const ADMIN_SCOPE: &str = "pintu.admin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppProfile {
    pub category: Category,
    pub owner_unit_id: Option<OrgUnitId>,
    pub min_level: SecurityLevel,
    pub access: AccessPolicy,
    /// Directory claims the application may receive (names from `DIRECTORY_CLAIMS`).
    pub released_claims: Vec<String>,
    /// `Some` for applications allowed to use the admin API, and over what.
    pub admin_scope: Option<AdminScope>,
    pub version: i64,
}

impl Default for AppProfile {
    fn default() -> Self {
        Self {
            category: Category::Khusus,
            owner_unit_id: None,
            min_level: SecurityLevel::Password,
            access: AccessPolicy::default(),
            released_claims: Vec::new(),
            admin_scope: None,
            version: 1,
        }
    }
}

impl AppProfile {
    /// Whether the application may receive the directory claim `name`.
    pub fn releases(&self, name: &str) -> bool {
        self.released_claims.iter().any(|c| c == name)
    }
}

/// One application: what the directory knows of it, and how it speaks its protocol.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: ApplicationId,
    /// The name people and reports see (an OIDC client's `client_name`, else its id).
    pub name: String,
    pub profile: AppProfile,
    /// An administrator approved this first-party application: no consent page.
    pub pre_approved: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub registration: Registration,
}

/// The protocols an application may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Oidc,
    Saml,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Oidc => "oidc",
            Protocol::Saml => "saml",
        }
    }
}

/// How an application speaks its protocol; the profile is the same for every protocol.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant, reason = "few applications, each read once into the client cache")]
pub enum Registration {
    Oidc(OidcRegistration),
    Saml(super::saml::SamlRegistration),
}

/// An OpenID Connect client's registration (RFC 7591).
#[derive(Debug, Clone)]
pub struct OidcRegistration {
    pub client_id: ClientId,
    /// SHA-256 of the client secret (hex); `None` for public and `private_key_jwt` clients.
    pub secret_hash: Option<String>,
    pub metadata: ClientMetadata,
}

impl Application {
    pub fn protocol(&self) -> Protocol {
        match self.registration {
            Registration::Oidc(_) => Protocol::Oidc,
            Registration::Saml(_) => Protocol::Saml,
        }
    }

    /// The OIDC client this application is, for the protocol core; `None` for other protocols.
    pub fn into_relying_party(self) -> Option<RelyingParty> {
        match self.registration {
            Registration::Oidc(oidc) => Some(RelyingParty {
                client_id: oidc.client_id,
                secret_hash: oidc.secret_hash,
                metadata: oidc.metadata,
                pre_approved: self.pre_approved,
                disabled: self.disabled,
                created_at: self.created_at,
                profile: self.profile,
            }),
            Registration::Saml(_) => None,
        }
    }

    /// The OIDC registration, if this application has one.
    pub fn oidc(&self) -> Option<&OidcRegistration> {
        match &self.registration {
            Registration::Oidc(oidc) => Some(oidc),
            Registration::Saml(_) => None,
        }
    }

    /// The SAML registration, if this application is a service provider.
    pub fn saml(&self) -> Option<&super::saml::SamlRegistration> {
        match &self.registration {
            Registration::Saml(saml) => Some(saml),
            Registration::Oidc(_) => None,
        }
    }
}

/// Aplikasi umum (general, run by the office) or khusus (special, built by one OPD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Umum,
    Khusus,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Umum => "umum",
            Category::Khusus => "khusus",
        }
    }
    pub fn parse(value: &str) -> Option<Self> {
        [Category::Umum, Category::Khusus].into_iter().find(|c| c.as_str() == value)
    }
}

/// Who may sign in: members of the listed units (and their subtrees) or holders of the listed
/// roles. Both empty means every active account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPolicy {
    #[serde(default)]
    pub org_units: Vec<OrgUnitId>,
    #[serde(default)]
    pub roles: Vec<RoleId>,
}

impl AccessPolicy {
    pub fn is_open(&self) -> bool {
        self.org_units.is_empty() && self.roles.is_empty()
    }

    /// `home_and_ancestors`: the person's home unit and every unit above it; `roles`: the
    /// roles they hold right now.
    pub fn permits(&self, home_and_ancestors: &[OrgUnitId], roles: &[RoleId]) -> bool {
        self.is_open()
            || self.org_units.iter().any(|u| home_and_ancestors.contains(u))
            || self.roles.iter().any(|r| roles.contains(r))
    }
}

/// The reach of an admin API caller: the whole directory, or one unit's subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminScope {
    Office,
    OrgUnit(OrgUnitId),
}

impl AdminScope {
    /// Stored as `*` for the office, otherwise the unit id.
    pub fn as_stored(&self) -> &str {
        match self {
            AdminScope::Office => "*",
            AdminScope::OrgUnit(id) => id.as_str(),
        }
    }
    pub fn from_stored(value: &str) -> Self {
        if value == "*" { AdminScope::Office } else { AdminScope::OrgUnit(OrgUnitId::new(value)) }
    }
}

/// Every listed claim must be a directory claim.
pub fn check_released_claims(claims: &[String]) -> Result<(), String> {
    match claims.iter().find(|c| !DIRECTORY_CLAIMS.iter().any(|(n, _)| n == c)) {
        Some(unknown) => Err(format!("unknown directory claim {unknown:?}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_policy_admits_everyone_and_closed_one_only_members() {
        let dinas = OrgUnitId::new("dinas");
        let role = RoleId::new("r");
        assert!(AccessPolicy::default().permits(&[], &[]));
        let policy = AccessPolicy { org_units: vec![dinas.clone()], roles: vec![role.clone()] };
        assert!(policy.permits(&[OrgUnitId::new("seksi"), dinas], &[]));
        assert!(policy.permits(&[], &[role]));
        assert!(!policy.permits(&[OrgUnitId::new("other")], &[RoleId::new("x")]));
    }

    #[test]
    fn only_directory_claims_can_be_released() {
        assert!(check_released_claims(&["nip".into(), "nik".into()]).is_ok());
        assert!(check_released_claims(&["password".into()]).is_err());
    }
}
