//! Where a password is checked: the seam between a login and the place a person's secret is
//! kept. Local accounts keep an argon2id hash in Pintu's database (`LocalPasswords`); accounts
//! that come from an LDAP directory are checked by a bind as that person
//! (`federation::ldap::LdapPasswords`), behind the same trait. Whatever the verifier, the login around it is the same: the lockout is checked before
//! and failures are counted after (`AuthnService::authenticate_password`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::domain::User;

use super::hashing::HashingPool;
use super::password::PasswordHasherService;
use super::{AuthnError, generate_password};

/// The answer of one check: `Ok(true)` the password is right, `Ok(false)` it is not, `Err` the
/// check could not be made (hashing threads saturated, a directory unreachable).
pub type Check<'a> = Pin<Box<dyn Future<Output = Result<bool, AuthnError>> + Send + 'a>>;

/// An account as a login found it: the person and what the local store keeps of their password.
#[derive(Debug, Clone)]
pub struct StoredCredentials {
    pub user: User,
    /// The argon2id PHC string; `None` for an account without a local password (imported and
    /// not yet activated, or kept in a directory elsewhere).
    pub password_hash: Option<String>,
}

/// Where a person's password is kept, so a change goes there (or is refused with a pointer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordHome {
    /// Pintu's own database.
    Pintu,
    /// An LDAP directory: `writable` when Pintu may change it there; `change_url` where the
    /// person can change it otherwise.
    Directory { name: String, writable: bool, change_url: Option<String> },
}

/// Checks a person's password where it is kept.
pub trait CredentialVerifier: Send + Sync {
    /// Whether `password` is `account`'s. For `None` (the name matched no account) the check
    /// still costs what a real one costs and fails, so response times do not tell which names
    /// exist.
    fn verify<'a>(&'a self, account: Option<&'a StoredCredentials>, password: &'a str) -> Check<'a>;

    /// Where `user`'s password is kept.
    fn home(&self, _user: &User) -> PasswordHome {
        PasswordHome::Pintu
    }

    /// Changes a password kept elsewhere (`home` is a writable directory): `Ok(false)` when
    /// `current` is wrong.
    fn change_elsewhere<'a>(&'a self, _user: &'a User, _current: &'a str, _new: &'a str) -> Check<'a> {
        Box::pin(async { Ok(false) })
    }
}

/// Passwords hashed with argon2id in Pintu's own database, verified on the hashing threads.
pub struct LocalPasswords {
    hasher: PasswordHasherService,
    hashing: HashingPool,
    /// Verified when the account is unknown or has no password, so every path costs one
    /// argon2id verification.
    dummy_hash: Arc<String>,
}

impl LocalPasswords {
    pub fn new(hasher: PasswordHasherService, hashing: HashingPool) -> Result<Self, super::PasswordError> {
        Ok(Self { hasher, hashing, dummy_hash: Arc::new(hasher.hash(&generate_password())?) })
    }
}

impl CredentialVerifier for LocalPasswords {
    fn verify<'a>(&'a self, account: Option<&'a StoredCredentials>, password: &'a str) -> Check<'a> {
        Box::pin(async move {
            let stored = account.and_then(|a| a.password_hash.clone());
            let usable = stored.is_some();
            let phc = stored.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
            let (hasher, candidate) = (self.hasher, password.to_owned());
            let ok = self
                .hashing
                .run(move |memory| hasher.verify_in(&candidate, &phc, memory))
                .await
                .map_err(AuthnError::Hashing)?;
            Ok(ok && usable)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PasswordConfig;

    fn account(password_hash: Option<String>) -> StoredCredentials {
        let user = User::new_account("budi", 0);
        StoredCredentials { user, password_hash }
    }

    #[tokio::test]
    async fn local_passwords_accept_only_the_stored_password() {
        let hasher = PasswordHasherService::new(PasswordConfig { memory_kib: 8192, iterations: 1, parallelism: 1 });
        let local = LocalPasswords::new(hasher, HashingPool::new()).unwrap();
        let with = account(Some(hasher.hash("kata-sandi-yang-benar").unwrap()));
        assert!(local.verify(Some(&with), "kata-sandi-yang-benar").await.unwrap());
        assert!(!local.verify(Some(&with), "kata-sandi-yang-salah").await.unwrap());
        assert!(!local.verify(Some(&account(None)), "kata-sandi-yang-benar").await.unwrap(), "no local password");
        assert!(!local.verify(None, "kata-sandi-yang-benar").await.unwrap(), "no account");
    }
}
