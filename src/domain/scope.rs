//! OAuth scopes (RFC 6749 §3.3): a set of space-delimited, case-sensitive tokens.

use std::collections::BTreeSet;

/// Scopes Pintu understands; others are rejected with `invalid_scope`.
/// `pegawai`, `opd`, `roles` and `nik` cover the directory claims (see `application.rs`);
/// `pintu.admin` lets a token call the admin API.
pub const SUPPORTED_SCOPES: &[&str] =
    &["openid", "profile", "email", "phone", "offline_access", "pegawai", "opd", "roles", "nik", "pintu.admin"];

/// A set of scope tokens, kept sorted so that stored and compared values are canonical.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(BTreeSet<String>);

/// A scope string broke the RFC 6749 §3.3 grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidScope;

impl std::fmt::Display for InvalidScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scope token contains a forbidden character")
    }
}

impl std::error::Error for InvalidScope {}

impl Scope {
    /// Parses a space-delimited scope string (RFC 6749 §3.3 `scope-token`).
    pub fn parse(value: &str) -> Result<Self, InvalidScope> {
        let mut set = BTreeSet::new();
        for token in value.split(' ').filter(|t| !t.is_empty()) {
            // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
            let valid = token.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
            if !valid {
                return Err(InvalidScope);
            }
            set.insert(token.to_owned());
        }
        Ok(Self(set))
    }

    pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Self {
        Self(tokens.into_iter().map(str::to_owned).collect())
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The tokens of `self` that `other` lacks.
    pub fn difference(&self, other: &Scope) -> Scope {
        Self(self.0.difference(&other.0).cloned().collect())
    }

    pub fn union(&self, other: &Scope) -> Scope {
        Self(self.0.union(&other.0).cloned().collect())
    }

    pub fn without(&self, token: &str) -> Scope {
        let mut set = self.0.clone();
        set.remove(token);
        Self(set)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

/// Stored and sent as the RFC 6749 §3.3 space-delimited string, so a request, a code's
/// payload or a refresh family carries the scope parsed once and reads back the same.
impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scope::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_travels_as_its_string() {
        let scope = Scope::parse("openid email").unwrap();
        assert_eq!(serde_json::to_string(&scope).unwrap(), "\"email openid\"");
        assert_eq!(serde_json::from_str::<Scope>("\"openid  email\"").unwrap(), scope);
        assert!(serde_json::from_str::<Scope>("\"a\\\\b\"").is_err());
    }

    #[test]
    fn scope_is_parsed_sorted_and_deduplicated() {
        let scope = Scope::parse("profile openid  profile").unwrap();
        assert_eq!(scope.to_string(), "openid profile");
    }

    #[test]
    fn scope_with_quote_or_backslash_is_rejected() {
        assert_eq!(Scope::parse("open\"id"), Err(InvalidScope));
        assert_eq!(Scope::parse("a\\b"), Err(InvalidScope));
    }

    #[test]
    fn subset_and_difference_follow_set_semantics() {
        let all = Scope::parse("openid profile email").unwrap();
        let some = Scope::parse("openid email").unwrap();
        assert!(some.is_subset_of(&all));
        assert_eq!(all.difference(&some).to_string(), "profile");
    }
}
