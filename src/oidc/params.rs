//! Request parameters of the OAuth endpoints, with the RFC 6749 §3.1 rules applied once:
//! a parameter sent without a value is treated as omitted, and none may appear twice.

use std::collections::BTreeMap;

use super::OAuthError;

/// Decoded request parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, OAuthError> {
        let mut map = BTreeMap::new();
        for (key, value) in pairs {
            if value.is_empty() {
                // "Parameters sent without a value MUST be treated as if they were omitted."
                continue;
            }
            if map.insert(key.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!("parameter {key} is repeated")));
            }
        }
        Ok(Self(map))
    }

    /// Parses `application/x-www-form-urlencoded` text (query string or body).
    pub fn parse(encoded: &[u8]) -> Result<Self, OAuthError> {
        Self::from_pairs(form_urlencoded::parse(encoded).map(|(k, v)| (k.into_owned(), v.into_owned())))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A required parameter, or `invalid_request` naming it.
    pub fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key).ok_or_else(|| OAuthError::invalid_request(format!("parameter {key} is missing")))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Merges parameters from another source (e.g. query and body), refusing overlaps.
    pub fn merge(mut self, other: Params) -> Result<Self, OAuthError> {
        for (key, value) in other.0 {
            if self.0.insert(key.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!("parameter {key} is repeated")));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameter_is_invalid_request() {
        let err = Params::parse(b"scope=openid&scope=email").unwrap_err();
        assert_eq!(err.code, crate::oidc::ErrorCode::InvalidRequest);
    }

    #[test]
    fn empty_parameter_counts_as_omitted() {
        let params = Params::parse(b"state=&nonce=n").unwrap();
        assert_eq!(params.get("state"), None);
        assert_eq!(params.get("nonce"), Some("n"));
    }
}
