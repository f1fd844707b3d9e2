//! Request parameters of the OAuth endpoints and of the pages' forms, with the RFC 6749 §3.1
//! rules applied once: a parameter sent without a value is treated as omitted, and none may
//! appear twice. Control characters are refused here too, by the rule of `domain::text` for
//! each parameter's name (`text_kind`), so a new parameter or form field is covered without
//! a check of its own.

use std::collections::BTreeMap;

use crate::domain::text::{ControlCharacter, TextKind, check_text};

use super::OAuthError;

/// Why parameters were refused; every case is `invalid_request` (RFC 6749 §4.1.2.1, §5.2:
/// "repeats a parameter … or is otherwise malformed").
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    #[error("parameter {0} is repeated")]
    Repeated(String),
    #[error("parameter {name} {found}")]
    ControlCharacter { name: String, found: ControlCharacter },
}

impl From<ParamsError> for OAuthError {
    fn from(e: ParamsError) -> Self {
        OAuthError::invalid_request(e.to_string())
    }
}

/// The control-character rule of a parameter or form field (see `domain::text`).
fn text_kind(name: &str) -> TextKind {
    match name {
        // Secrets are hashed or compared, never shown: anything but NUL.
        "password" | "current_password" | "new_password" | "client_secret" => TextKind::Secret,
        // JSON documents in one value: OIDC Core §5.5 `claims`, a passkey's WebAuthn answer.
        "claims" | "credential" => TextKind::Multiline,
        // The console's lists, one address per line of a text area.
        "redirect_uris" | "post_logout_redirect_uris" => TextKind::Multiline,
        _ => TextKind::Line,
    }
}

/// Checks one parameter's name and value against its rule; also for credentials that arrive
/// outside the body (the `Authorization: Basic` pair, RFC 6749 §2.3.1).
pub fn check_parameter(name: &str, value: &str) -> Result<(), ParamsError> {
    let refused = |found| ParamsError::ControlCharacter { name: name.escape_debug().to_string(), found };
    check_text(TextKind::Line, name).map_err(refused)?;
    check_text(text_kind(name), value).map_err(refused)
}

/// Decoded request parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    /// Names and values with control characters their rule refuses are `ControlCharacter`.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, ParamsError> {
        let mut map = BTreeMap::new();
        for (key, value) in pairs {
            check_parameter(&key, &value)?;
            if value.is_empty() {
                // "Parameters sent without a value MUST be treated as if they were omitted."
                continue;
            }
            if map.insert(key.clone(), value).is_some() {
                return Err(ParamsError::Repeated(key));
            }
        }
        Ok(Self(map))
    }

    /// Parses `application/x-www-form-urlencoded` text (query string or body).
    pub fn parse(encoded: &[u8]) -> Result<Self, ParamsError> {
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

    /// The parameters as a JSON object, for storage (a pushed authorization request).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// Parameters stored by `to_json`, under the same rules as when they arrived.
    pub fn from_json(text: &str) -> Result<Self, ParamsError> {
        let map: BTreeMap<String, String> = serde_json::from_str(text).unwrap_or_default();
        Self::from_pairs(map)
    }

    /// Merges parameters from another source (e.g. query and body), refusing overlaps.
    pub fn merge(mut self, other: Params) -> Result<Self, ParamsError> {
        for (key, value) in other.0 {
            if self.0.insert(key.clone(), value).is_some() {
                return Err(ParamsError::Repeated(key));
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
        let err = OAuthError::from(Params::parse(b"scope=openid&scope=email").unwrap_err());
        assert_eq!(err.code, crate::oidc::ErrorCode::InvalidRequest);
    }

    #[test]
    fn control_characters_are_invalid_request_by_each_parameters_rule() {
        for refused in ["client_id=a%00b", "state=a%0Ab", "login_hint=a%09b", "a%00=x", "password=a%00b", "claims=%01"]
        {
            let err = OAuthError::from(Params::parse(refused.as_bytes()).unwrap_err());
            assert_eq!(err.code, crate::oidc::ErrorCode::InvalidRequest, "{refused}");
            assert!(err.description.contains("control character"), "{refused}: {}", err.description);
            assert!(!err.description.contains(['\0', '\n', '\t']), "the message is one safe line: {refused}");
        }
        let accepted = "password=a%09b%0A&claims=%7B%0A%09%22userinfo%22%3A%7B%7D%7D&client_secret=%1F";
        let params = Params::parse(accepted.as_bytes()).unwrap();
        assert_eq!(params.get("password"), Some("a\tb\n"));
    }

    #[test]
    fn an_empty_value_with_a_nul_still_counts() {
        assert!(Params::parse(b"%00=").is_err(), "a NUL name is refused even without a value");
    }

    #[test]
    fn empty_parameter_counts_as_omitted() {
        let params = Params::parse(b"state=&nonce=n").unwrap();
        assert_eq!(params.get("state"), None);
        assert_eq!(params.get("nonce"), Some("n"));
    }
}
