//! A person who signs in (pegawai): the login account; directory attributes live in `Profile`.

use super::UserId;

/// A user account as Pintu knows it. Never carries the password hash outside `authn`/`storage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Login name, stored lower-case; unique.
    pub username: String,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Stored lower-case; unique when present.
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub locale: Option<String>,
    pub is_admin: bool,
    /// Cannot sign in: kept equal to `profile.status != Active` by storage.
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub profile: super::Profile,
}

impl User {
    /// A new, enabled account with a fresh id and nothing but its login name; the directory
    /// fills in the rest.
    pub fn new_account(username: &str, now: i64) -> Self {
        Self {
            id: UserId::generate(),
            username: username.to_owned(),
            name: None,
            given_name: None,
            family_name: None,
            email: None,
            email_verified: false,
            phone_number: None,
            phone_number_verified: false,
            locale: None,
            is_admin: false,
            disabled: false,
            created_at: now,
            updated_at: now,
            profile: super::Profile::default(),
        }
    }

    /// What the person's password must not be built from (NIST SP 800-63B §3.1.1.2
    /// context-specific words): login, name, e-mail and NIP.
    pub fn personal_words(&self) -> Vec<&str> {
        let mut words = vec![self.username.as_str()];
        words.extend(self.name.as_deref());
        words.extend(self.email.as_deref());
        words.extend(self.profile.nip.as_ref().map(|n| n.as_str()));
        words
    }

    /// The displayable name with academic titles (OIDC `name`), falling back to the login.
    pub fn display_name(&self) -> String {
        let name = self.name.as_deref().unwrap_or(&self.username);
        super::pegawai::titled_name(self.profile.front_title.as_deref(), name, self.profile.back_title.as_deref())
    }
}

/// Normalises a login name or e-mail for storage and lookup.
pub fn normalize_login(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Validates a login name: 1-128 visible characters without spaces.
pub fn check_username(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || value.chars().count() > 128 {
        return Err("username must be 1 to 128 characters");
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("username must not contain spaces or control characters");
    }
    Ok(())
}

/// A deliberately small e-mail syntax check: one `@`, non-empty local part, a dotted domain.
pub fn check_email(value: &str) -> Result<(), &'static str> {
    let (local, domain) = value.split_once('@').ok_or("e-mail address needs an @")?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(()) } else { Err("e-mail address is not valid") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_syntax_is_checked() {
        assert!(check_email("budi@kominfo.go.id").is_ok());
        assert!(check_email("budi").is_err());
        assert!(check_email("budi@localhost").is_err());
        assert!(check_email("bu di@x.go.id").is_err());
    }

    #[test]
    fn username_rejects_spaces() {
        assert!(check_username("budi.santoso").is_ok());
        assert!(check_username("budi santoso").is_err());
        assert!(check_username("").is_err());
    }
}
