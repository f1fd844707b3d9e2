//! Whether a certificate names the person it is bound to: their NIP or NIK in the subject's
//! serialNumber, or their directory e-mail in the certificate. What counts is configured
//! (`[certificates] identify_by`); anything else needs an administrator's approval.

use serde::{Deserialize, Serialize};

use crate::domain::User;

use super::x509::Facts;

/// How a binding knows the certificate is this person's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifiedBy {
    Nip,
    Nik,
    Email,
    /// An administrator looked and approved (audited with their name).
    Approval,
}

impl IdentifiedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifiedBy::Nip => "nip",
            IdentifiedBy::Nik => "nik",
            IdentifiedBy::Email => "email",
            IdentifiedBy::Approval => "approval",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Nip, Self::Nik, Self::Email, Self::Approval].into_iter().find(|m| m.as_str() == text)
    }
}

/// The digits of a serialNumber attribute written with a label (`NIP:1990…`, `NIK-3201…`),
/// or `None` when it holds anything but one run of digits after an optional label.
fn labelled_digits(value: &str) -> Option<&str> {
    let value = value.trim();
    let start = value.find(|c: char| c.is_ascii_digit())?;
    let (label, digits) = value.split_at(start);
    let label_ok = label.chars().all(|c| c.is_ascii_alphabetic() || matches!(c, ':' | '-' | ' ' | '.'));
    (label_ok && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// The first of `allowed` that the certificate satisfies for `user`.
pub fn identify(user: &User, facts: &Facts, allowed: &[IdentifiedBy]) -> Option<IdentifiedBy> {
    allowed.iter().copied().find(|how| match how {
        IdentifiedBy::Nip => user.profile.nip.as_ref().is_some_and(|nip| {
            facts.serial_numbers.iter().filter_map(|s| labelled_digits(s)).any(|d| d == nip.as_str())
        }),
        IdentifiedBy::Nik => user
            .profile
            .nik
            .as_deref()
            .is_some_and(|nik| facts.serial_numbers.iter().filter_map(|s| labelled_digits(s)).any(|d| d == nik)),
        IdentifiedBy::Email => {
            user.email.as_deref().is_some_and(|email| facts.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
        }
        IdentifiedBy::Approval => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_before_the_digits_are_allowed_and_nothing_else() {
        assert_eq!(labelled_digits("199001012015031001"), Some("199001012015031001"));
        assert_eq!(labelled_digits("NIP:199001012015031001"), Some("199001012015031001"));
        assert_eq!(labelled_digits("NIK-3201014101900001"), Some("3201014101900001"));
        assert_eq!(labelled_digits("1990x0101"), None);
        assert_eq!(labelled_digits("PNS"), None);
    }
}
