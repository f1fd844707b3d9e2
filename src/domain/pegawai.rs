//! What the directory knows about a person beyond the login: NIP, NIK, titles, employment
//! type, position, rank, home unit, status and the highest security level they may reach.

use serde::{Deserialize, Serialize};

use super::nip::Nip;
use super::{OrgUnitId, SecurityLevel};

/// Directory attributes of a user. `Default` is a local account without a home unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub nip: Option<Nip>,
    /// NIK (Nomor Induk Kependudukan): sensitive, released only to applications granted it.
    pub nik: Option<String>,
    pub front_title: Option<String>,
    pub back_title: Option<String>,
    pub employment_type: Option<EmploymentType>,
    pub job_title: Option<String>,
    pub rank: Option<String>,
    pub org_unit_id: Option<OrgUnitId>,
    pub status: UserStatus,
    pub level_ceiling: SecurityLevel,
    /// `local` (created by an administrator) or `hr-import` (owned by the HR export).
    pub source: String,
    pub version: i64,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            nip: None,
            nik: None,
            front_title: None,
            back_title: None,
            employment_type: None,
            job_title: None,
            rank: None,
            org_unit_id: None,
            status: UserStatus::Active,
            level_ceiling: SecurityLevel::Certificate,
            source: SOURCE_LOCAL.to_owned(),
            version: 1,
        }
    }
}

pub const SOURCE_LOCAL: &str = "local";
pub const SOURCE_IMPORT: &str = "hr-import";

/// Employment type (jenis kepegawaian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmploymentType {
    #[serde(rename = "PNS")]
    Pns,
    #[serde(rename = "PPPK")]
    Pppk,
    #[serde(rename = "non-ASN")]
    NonAsn,
}

impl EmploymentType {
    pub fn as_str(self) -> &'static str {
        match self {
            EmploymentType::Pns => "PNS",
            EmploymentType::Pppk => "PPPK",
            EmploymentType::NonAsn => "non-ASN",
        }
    }

    /// Accepts the canonical spelling in any case (`pns`, `PPPK`, `Non-ASN`, `NON ASN`).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_uppercase().replace(' ', "-").as_str() {
            "PNS" => Some(EmploymentType::Pns),
            "PPPK" => Some(EmploymentType::Pppk),
            "NON-ASN" | "NONASN" => Some(EmploymentType::NonAsn),
            _ => None,
        }
    }
}

/// Whether a person may sign in. Only `Active` may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
    Retired,
    Transferred,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Suspended => "suspended",
            UserStatus::Retired => "retired",
            UserStatus::Transferred => "transferred",
        }
    }

    /// `parse`, or why the value is refused, for whoever typed it.
    pub fn parse_or_refusal(value: &str) -> Result<Self, &'static str> {
        Self::parse(value).ok_or(match value.trim().eq_ignore_ascii_case("mutasi") {
            true => MUTASI_IS_NOT_A_STATUS,
            false => STATUS_VALUES,
        })
    }

    /// Accepts the English names and the Indonesian ones the HR export uses. `transferred`
    /// (`pindah`) is a person who left for another government: no sign-in. "Mutasi" is not a
    /// status: in Pintu it means only a move between units, which keeps the person active
    /// (`parse_or_refusal` says so to whoever tries).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_lowercase().as_str() {
            "active" | "aktif" => Some(UserStatus::Active),
            "suspended" | "diberhentikan sementara" | "nonaktif" => Some(UserStatus::Suspended),
            "retired" | "pensiun" => Some(UserStatus::Retired),
            "transferred" | "pindah" | "pindah instansi" => Some(UserStatus::Transferred),
            _ => None,
        }
    }
}

/// Why `mutasi` is refused as a status: one word, one meaning.
const MUTASI_IS_NOT_A_STATUS: &str = "status mutasi is not a status: a move between units (mutasi) keeps the \
     person active, so change their unit (kode_unit / org_unit) instead; someone who left for another government is \
     pindah (transferred)";

const STATUS_VALUES: &str = "status must be active (aktif), suspended (nonaktif, diberhentikan sementara), retired \
     (pensiun) or transferred (pindah)";

/// NIK: 16 digits whose first six name a region (not all zero) and whose digits 7-12 are a
/// date of birth (day + 40 for women).
pub fn check_nik(value: &str) -> Result<(), &'static str> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err("NIK must be exactly 16 digits");
    }
    let num = |r: std::ops::Range<usize>| value[r].parse::<u32>().unwrap_or(0);
    if num(0..6) == 0 {
        return Err("NIK digits 1-6 must be a region code");
    }
    let day = num(6..8);
    let day = if day > 40 { day - 40 } else { day };
    if !(1..=31).contains(&day) || !(1..=12).contains(&num(8..10)) {
        return Err("NIK digits 7-12 must be a date of birth (ddmmyy, day + 40 for women)");
    }
    Ok(())
}

/// The displayable full name with academic titles: "Dr. Budi Santoso, S.Kom., M.T.".
pub fn titled_name(front: Option<&str>, name: &str, back: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(front) = front.filter(|s| !s.is_empty()) {
        out.push_str(front);
        out.push(' ');
    }
    out.push_str(name);
    if let Some(back) = back.filter(|s| !s.is_empty()) {
        out.push_str(", ");
        out.push_str(back);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_needs_sixteen_digits_a_region_and_a_birth_date() {
        assert!(check_nik("3301014509900001").is_ok());
        assert!(check_nik("3301011509900001").is_ok());
        assert!(check_nik("330101150990000").is_err());
        assert!(check_nik("0000001509900001").is_err());
        assert!(check_nik("3301019909900001").is_err());
        assert!(check_nik("33010115139000a1").is_err());
    }

    #[test]
    fn titles_wrap_the_name() {
        assert_eq!(titled_name(Some("Dr."), "Budi", Some("S.Kom., M.T.")), "Dr. Budi, S.Kom., M.T.");
        assert_eq!(titled_name(None, "Budi", None), "Budi");
    }

    #[test]
    fn employment_type_and_status_accept_hr_spellings() {
        assert_eq!(EmploymentType::parse("Non ASN"), Some(EmploymentType::NonAsn));
        assert_eq!(EmploymentType::parse("pppk"), Some(EmploymentType::Pppk));
        assert_eq!(UserStatus::parse("Pensiun"), Some(UserStatus::Retired));
        assert_eq!(UserStatus::parse("x"), None);
        assert_eq!(UserStatus::parse("Pindah"), Some(UserStatus::Transferred));
        assert_eq!(UserStatus::parse("mutasi"), None, "a move between units is not a status");
        assert!(UserStatus::parse_or_refusal(" Mutasi ").unwrap_err().contains("kode_unit"));
        assert!(UserStatus::parse_or_refusal("x").unwrap_err().contains("pindah"));
    }
}
