//! Security levels (tingkat keamanan): ordered assurance levels and their `acr` values
//! (ARCHITECTURE.md §4). The core records what was reached; enforcement comes with step-up.

use serde::{Deserialize, Serialize};

/// An ordered assurance level. `Password` < `SecondFactor` < `PhishingResistant` < `Certificate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SecurityLevel {
    Password = 1,
    SecondFactor = 2,
    PhishingResistant = 3,
    Certificate = 4,
}

impl SecurityLevel {
    pub const ALL: [SecurityLevel; 4] = [
        SecurityLevel::Password,
        SecurityLevel::SecondFactor,
        SecurityLevel::PhishingResistant,
        SecurityLevel::Certificate,
    ];

    /// The `acr` claim value for this level.
    pub fn acr(self) -> &'static str {
        match self {
            SecurityLevel::Password => "urn:pintu:level:1",
            SecurityLevel::SecondFactor => "urn:pintu:level:2",
            SecurityLevel::PhishingResistant => "urn:pintu:level:3",
            SecurityLevel::Certificate => "urn:pintu:level:4",
        }
    }

    /// Parses an `acr` value; unknown values are `None` (OIDC Core §3.1.2.1: voluntary `acr_values`).
    pub fn from_acr(acr: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.acr() == acr)
    }
}

/// Serialises a level as its number (1-4), for JSON records.
pub fn as_number<S: serde::Serializer>(level: &SecurityLevel, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(*level as u8)
}

/// The level with this number.
pub fn from_number(n: u8) -> Option<SecurityLevel> {
    SecurityLevel::ALL.into_iter().find(|l| *l as u8 == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_round_trip_through_acr() {
        assert!(SecurityLevel::Password < SecurityLevel::SecondFactor);
        for level in SecurityLevel::ALL {
            assert_eq!(SecurityLevel::from_acr(level.acr()), Some(level));
        }
        assert_eq!(SecurityLevel::from_acr("urn:other"), None);
    }
}
