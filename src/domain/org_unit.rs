//! Organisational units (OPD): the regency government at the root, then agencies (dinas,
//! badan, kecamatan…), their divisions (bidang) and sections (seksi). A tree: no unit is its
//! own ancestor.

use serde::{Deserialize, Serialize};

use super::OrgUnitId;

/// One unit of the tree. `code` is the stable key used by the HR export and the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    pub code: String,
    pub name: String,
    pub kind: OrgUnitKind,
    pub parent_id: Option<OrgUnitId>,
    /// Everyone placed in this unit or below must log in at this level at least.
    pub min_level: super::SecurityLevel,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What kind of unit this is, from the regency government down to a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitKind {
    Pemda,
    Sekretariat,
    Dinas,
    Badan,
    Kecamatan,
    Kelurahan,
    Bagian,
    Bidang,
    Seksi,
    Uptd,
    Lainnya,
}

impl OrgUnitKind {
    pub const ALL: [OrgUnitKind; 11] = [
        OrgUnitKind::Pemda,
        OrgUnitKind::Sekretariat,
        OrgUnitKind::Dinas,
        OrgUnitKind::Badan,
        OrgUnitKind::Kecamatan,
        OrgUnitKind::Kelurahan,
        OrgUnitKind::Bagian,
        OrgUnitKind::Bidang,
        OrgUnitKind::Seksi,
        OrgUnitKind::Uptd,
        OrgUnitKind::Lainnya,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgUnitKind::Pemda => "pemda",
            OrgUnitKind::Sekretariat => "sekretariat",
            OrgUnitKind::Dinas => "dinas",
            OrgUnitKind::Badan => "badan",
            OrgUnitKind::Kecamatan => "kecamatan",
            OrgUnitKind::Kelurahan => "kelurahan",
            OrgUnitKind::Bagian => "bagian",
            OrgUnitKind::Bidang => "bidang",
            OrgUnitKind::Seksi => "seksi",
            OrgUnitKind::Uptd => "uptd",
            OrgUnitKind::Lainnya => "lainnya",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// Normalises a unit code: trimmed, upper-case.
pub fn normalize_code(value: &str) -> String {
    value.trim().to_uppercase()
}

/// A unit code: 1-32 characters of A-Z, 0-9, `.`, `-`, `_` (already normalised).
pub fn check_code(value: &str) -> Result<(), &'static str> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if ok { Ok(()) } else { Err("code must be 1-32 characters of A-Z, 0-9, '.', '-' or '_'") }
}

/// Refuses to make `parent` the parent of `unit` when `unit` is `parent` or one of its
/// ancestors. `ancestors_of_parent` lists `parent` and every unit above it.
pub fn check_no_cycle(unit: &OrgUnitId, ancestors_of_parent: &[OrgUnitId]) -> Result<(), &'static str> {
    if ancestors_of_parent.contains(unit) { Err("parent would make the unit its own ancestor") } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_case_and_short() {
        assert!(check_code(&normalize_code(" diskominfo ")).is_ok());
        assert!(check_code("DIS KOMINFO").is_err());
        assert!(check_code("").is_err());
        assert!(check_code(&"A".repeat(33)).is_err());
    }

    #[test]
    fn a_unit_cannot_move_under_its_own_descendant() {
        let (root, child) = (OrgUnitId::new("root"), OrgUnitId::new("child"));
        assert!(check_no_cycle(&root, &[child.clone(), root.clone()]).is_err());
        assert!(check_no_cycle(&root, std::slice::from_ref(&root)).is_err());
        assert!(check_no_cycle(&child, &[root]).is_ok());
    }

    #[test]
    fn kinds_round_trip() {
        for kind in OrgUnitKind::ALL {
            assert_eq!(OrgUnitKind::parse(kind.as_str()), Some(kind));
        }
    }
}
