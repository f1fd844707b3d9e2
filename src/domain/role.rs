//! Roles: defined globally or for one application, granted to a user, optionally within an
//! org unit and for a period (acting posts, Plt/Plh, end by themselves).

use serde::Serialize;

use super::{ClientId, OrgUnitId, RoleGrantId, RoleId, UserId};

/// The office administrator role: manages the whole directory.
pub const OFFICE_ADMIN: &str = "pintu.admin";
/// An OPD administrator: manages the subtree of the unit the grant is scoped to.
pub const OPD_ADMIN: &str = "pintu.opd_admin";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    /// `None` for a global role.
    pub client_id: Option<ClientId>,
    pub description: String,
    /// Everyone holding this role (while the grant is in force) must log in at this level.
    #[serde(serialize_with = "super::security_level::as_number")]
    pub min_level: super::SecurityLevel,
}

impl Role {
    /// Whether this is one of Pintu's own administration roles.
    pub fn is_admin_role(&self) -> bool {
        self.client_id.is_none() && (self.name == OFFICE_ADMIN || self.name == OPD_ADMIN)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleGrant {
    pub id: RoleGrantId,
    pub role_id: RoleId,
    pub user_id: UserId,
    pub org_unit_id: Option<OrgUnitId>,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub created_at: i64,
}

impl RoleGrant {
    /// Whether the grant is in force at `now`: `valid_from` inclusive, `valid_until` exclusive.
    pub fn is_active(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|from| now >= from) && self.valid_until.is_none_or(|until| now < until)
    }
}

/// A role name: 1-64 characters of a-z, 0-9, `.`, `-`, `_`.
pub fn check_role_name(value: &str) -> Result<(), &'static str> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if ok { Ok(()) } else { Err("role name must be 1-64 characters of a-z, 0-9, '.', '-' or '_'") }
}

/// A period is valid when it ends after it starts.
pub fn check_period(from: Option<i64>, until: Option<i64>) -> Result<(), &'static str> {
    match (from, until) {
        (Some(f), Some(u)) if u <= f => Err("valid_until must be after valid_from"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(from: Option<i64>, until: Option<i64>) -> RoleGrant {
        RoleGrant {
            id: RoleGrantId::new("g"),
            role_id: RoleId::new("r"),
            user_id: UserId::new("u"),
            org_unit_id: None,
            valid_from: from,
            valid_until: until,
            created_at: 0,
        }
    }

    #[test]
    fn acting_posts_end_by_themselves() {
        let plt = grant(Some(100), Some(200));
        assert!(!plt.is_active(99));
        assert!(plt.is_active(100));
        assert!(!plt.is_active(200));
        assert!(grant(None, None).is_active(0));
    }

    #[test]
    fn names_and_periods_are_checked() {
        assert!(check_role_name("verifikator").is_ok());
        assert!(check_role_name("Verifikator").is_err());
        assert!(check_period(Some(5), Some(5)).is_err());
        assert!(check_period(None, Some(5)).is_ok());
    }
}
