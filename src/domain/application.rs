//! What the directory adds to a relying party: category (umum/khusus), owning OPD, minimum
//! security level, who may sign in, which directory claims it receives, and whether it may
//! call the admin API.

use serde::{Deserialize, Serialize};

use super::{OrgUnitId, RoleId, SecurityLevel};

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
