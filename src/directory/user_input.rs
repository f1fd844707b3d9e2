//! The representation of a person that the admin API, the CLI and the HR import share: what an
//! administrator may set (`UserInput`), its validation into domain values, and the record
//! returned (`UserRecord`). PATCH is a JSON merge patch (RFC 7396) over `UserInput`.

use serde::{Deserialize, Serialize};

use crate::domain::nip::{Date, Nip};
use crate::domain::pegawai::check_nik;
use crate::domain::user::{check_email, check_username, normalize_login};
use crate::domain::{EmploymentType, SecurityLevel, User, UserStatus};

use super::FieldError;

/// Fields an administrator sets. `org_unit` is a unit code; `username` defaults to the NIP,
/// then the e-mail address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub nip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nik: Option<String>,
    pub name: String,
    #[serde(default)]
    pub front_title: Option<String>,
    #[serde(default)]
    pub back_title: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub employment_type: Option<String>,
    #[serde(default)]
    pub jabatan: Option<String>,
    #[serde(default)]
    pub golongan: Option<String>,
    #[serde(default)]
    pub org_unit: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub level_ceiling: Option<u8>,
    /// Only on input; never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A person as the admin API returns them.
#[derive(Debug, Clone, Serialize)]
pub struct UserRecord {
    pub id: String,
    #[serde(flatten)]
    pub fields: UserInput,
    pub display_name: String,
    /// Whether applications are told the e-mail address is verified (`email_verified`): an
    /// address an administrator or the HR import entered from the personnel record is.
    pub email_verified: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRecord {
    /// `with_nik`: NIK is sensitive; lists leave it out.
    pub fn new(user: &User, unit_code: Option<String>, with_nik: bool) -> Self {
        let mut fields = UserInput::from_user(user, unit_code);
        if !with_nik {
            fields.nik = None;
        }
        Self {
            id: user.id.to_string(),
            fields,
            display_name: user.display_name(),
            email_verified: user.email_verified,
            version: user.profile.version,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// The validated values of a `UserInput`, before they are applied to a `User`.
#[derive(Debug, Clone)]
pub(super) struct ValidUser {
    pub username: String,
    pub nip: Option<Nip>,
    pub nik: Option<String>,
    pub name: String,
    pub front_title: Option<String>,
    pub back_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub employment_type: Option<EmploymentType>,
    pub job_title: Option<String>,
    pub rank: Option<String>,
    pub org_unit: Option<String>,
    pub status: UserStatus,
    pub level_ceiling: SecurityLevel,
}

fn clean(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl UserInput {
    pub fn from_user(user: &User, unit_code: Option<String>) -> Self {
        let p = &user.profile;
        Self {
            username: Some(user.username.clone()),
            nip: p.nip.as_ref().map(|n| n.as_str().to_owned()),
            nik: p.nik.clone(),
            name: user.name.clone().unwrap_or_default(),
            front_title: p.front_title.clone(),
            back_title: p.back_title.clone(),
            email: user.email.clone(),
            phone: user.phone_number.clone(),
            employment_type: p.employment_type.map(|e| e.as_str().to_owned()),
            jabatan: p.job_title.clone(),
            golongan: p.rank.clone(),
            org_unit: unit_code,
            status: Some(p.status.as_str().to_owned()),
            level_ceiling: Some(p.level_ceiling as u8),
            password: None,
        }
    }

    /// Checks every field and reports every problem, not just the first.
    pub(super) fn validate(&self, today: Date) -> Result<ValidUser, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, reason: String| errors.push(FieldError::new(field, reason));
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            fail("name", "name must be 1-200 characters".into());
        }
        let nip = clean(&self.nip).and_then(|v| Nip::parse(&v, today).map_err(|e| fail("nip", e.to_string())).ok());
        let nik = clean(&self.nik).filter(|v| check_nik(v).map_err(|e| fail("nik", e.into())).is_ok());
        let email = clean(&self.email)
            .map(|v| normalize_login(&v))
            .filter(|v| check_email(v).map_err(|e| fail("email", e.into())).is_ok());
        let phone = clean(&self.phone);
        if phone.as_deref().is_some_and(|p| !p.starts_with('+') && !p.starts_with('0') || p.len() > 20) {
            fail("phone", "phone must start with + or 0 and have at most 20 characters".into());
        }
        let employment_type = clean(&self.employment_type).and_then(|v| {
            EmploymentType::parse(&v).or_else(|| {
                fail("employment_type", "employment_type must be PNS, PPPK or non-ASN".into());
                None
            })
        });
        let status = match clean(&self.status) {
            None => UserStatus::Active,
            Some(v) => UserStatus::parse_or_refusal(&v).unwrap_or_else(|why| {
                fail("status", why.to_owned());
                UserStatus::Active
            }),
        };
        let level_ceiling = match self.level_ceiling {
            None => SecurityLevel::Certificate,
            Some(n) => SecurityLevel::ALL.into_iter().find(|l| *l as u8 == n).unwrap_or_else(|| {
                fail("level_ceiling", "level_ceiling must be 1-4".into());
                SecurityLevel::Certificate
            }),
        };
        if employment_type == Some(EmploymentType::Pns) && nip.is_none() && self.nip.is_none() {
            fail("nip", "a PNS needs a NIP".into());
        }
        let username = clean(&self.username)
            .map(|v| normalize_login(&v))
            .or_else(|| nip.as_ref().map(|n| n.as_str().to_owned()))
            .or_else(|| email.clone());
        match &username {
            None => fail("username", "username is required when there is neither NIP nor e-mail".into()),
            Some(u) => {
                if let Err(e) = check_username(u) {
                    fail("username", e.into());
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidUser {
            username: username.unwrap_or_default(),
            nip,
            nik,
            name,
            front_title: clean(&self.front_title),
            back_title: clean(&self.back_title),
            email,
            phone,
            employment_type,
            job_title: clean(&self.jabatan),
            rank: clean(&self.golongan),
            org_unit: clean(&self.org_unit).map(|c| crate::domain::org_unit::normalize_code(&c)),
            status,
            level_ceiling,
        })
    }
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub(super) fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date { year: 2026, month: 11, day: 23 };

    #[test]
    fn every_invalid_field_is_reported() {
        let input = UserInput {
            name: " ".into(),
            nip: Some("12345".into()),
            nik: Some("99".into()),
            email: Some("nope".into()),
            employment_type: Some("honorer".into()),
            ..Default::default()
        };
        let errors = input.validate(TODAY).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in ["name", "nip", "nik", "email", "employment_type", "username"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn username_defaults_to_the_nip_then_the_email() {
        let input = UserInput {
            name: "Budi".into(),
            nip: Some("199001012015031001".into()),
            email: Some("Budi@Kominfo.go.id".into()),
            ..Default::default()
        };
        let valid = input.validate(TODAY).unwrap();
        assert_eq!(valid.username, "199001012015031001");
        assert_eq!(valid.email.as_deref(), Some("budi@kominfo.go.id"));
        let input = UserInput { nip: None, ..input };
        assert_eq!(input.validate(TODAY).unwrap().username, "budi@kominfo.go.id");
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = serde_json::json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &serde_json::json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, serde_json::json!({"a": "z", "c": {"d": "e"}}));
    }
}
