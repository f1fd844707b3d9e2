//! How a person proves who they are: passwords, TOTP and recovery codes, passkeys.

pub mod credentials;
pub mod hashing;
pub mod password;
pub mod policy;
pub mod secret;
pub mod throttle;
pub mod totp;
pub mod webauthn;

use std::sync::Arc;

use crate::domain::secrets::SecretSealer;
use crate::domain::user::normalize_login;
use crate::domain::{AuthnContext, SecurityLevel, User};
use crate::storage::{StorageError, Store};

pub use password::{PasswordError, PasswordHasherService, generate_password};
pub use policy::check_policy;

#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    /// Unknown login, wrong password, disabled account: one variant, so nothing can tell
    /// them apart (no user enumeration).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures for this login name or from this address: no password is checked
    /// until `until` (unix seconds).
    #[error("too many failed attempts")]
    Throttled { until: i64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Hashing(hashing::HashingError),
    /// A second-factor operation that cannot proceed (nothing pending, a malformed secret).
    #[error("{0}")]
    Factor(&'static str),
    /// A passkey ceremony refused (see `webauthn::PasskeyProblem`).
    #[error(transparent)]
    Passkey(#[from] webauthn::PasskeyProblem),
    /// The directory that keeps this account's password could not be asked (`name`); local
    /// accounts are unaffected. Not counted as a failed attempt.
    #[error("directory {0} is unavailable")]
    DirectoryUnavailable(String),
    /// A chosen password the policy refuses (too short, too common, built from the person's
    /// own details), or that cannot be hashed.
    #[error(transparent)]
    Password(password::PasswordError),
}

/// A counted attempt at a guessable second step (`AuthnService::factor_attempt`).
#[derive(Debug)]
pub struct FactorAttempt {
    key: String,
    source: String,
    attempts: i64,
}

/// The factors a person has enrolled besides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enrolled {
    pub totp: bool,
    /// Usable passkeys (none while the server cannot do WebAuthn).
    pub passkeys: i64,
}

impl Enrolled {
    /// The highest level these factors reach (before the person's ceiling).
    pub fn level(self) -> SecurityLevel {
        match (self.passkeys > 0, self.totp) {
            (true, _) => SecurityLevel::PhishingResistant,
            (false, true) => SecurityLevel::SecondFactor,
            (false, false) => SecurityLevel::Password,
        }
    }
}

/// A password check that did not let the person in, with the account the login name named (if
/// any), so the caller can audit the failure without reading the account again.
#[derive(Debug)]
pub struct LoginRefused {
    pub error: AuthnError,
    pub account: Option<Box<User>>,
}

impl From<AuthnError> for LoginRefused {
    fn from(error: AuthnError) -> Self {
        Self { error, account: None }
    }
}

impl From<StorageError> for LoginRefused {
    fn from(e: StorageError) -> Self {
        AuthnError::Storage(e).into()
    }
}

/// Verifies passwords against the directory.
#[derive(Clone)]
pub struct AuthnService {
    store: Store,
    hasher: PasswordHasherService,
    /// Where passwords are checked (local argon2id hashes; an LDAP bind to come).
    verifier: Arc<dyn credentials::CredentialVerifier>,
    /// One thread per core runs every argon2id computation (see `hashing`).
    hashing: hashing::HashingPool,
    /// The WebAuthn relying party; `None` when passkeys cannot work with the issuer.
    webauthn: Option<Arc<webauthn::RelyingParty>>,
    turns: Arc<throttle::Turns>,
    /// Seals TOTP seeds at rest.
    sealer: Arc<dyn SecretSealer>,
}

impl AuthnService {
    pub fn new(
        store: Store,
        hasher: PasswordHasherService,
        sealer: Arc<dyn SecretSealer>,
    ) -> Result<Self, PasswordError> {
        Self::with_metrics(store, hasher, sealer, crate::metrics::Metrics::new())
    }

    /// `new`, counting the hashing threads' queue in `metrics`.
    pub fn with_metrics(
        store: Store,
        hasher: PasswordHasherService,
        sealer: Arc<dyn SecretSealer>,
        metrics: crate::metrics::Metrics,
    ) -> Result<Self, PasswordError> {
        let hashing = hashing::HashingPool::with_metrics(metrics);
        let verifier = Arc::new(credentials::LocalPasswords::new(hasher, hashing.clone())?);
        Ok(Self { store, hasher, verifier, hashing, webauthn: None, turns: Default::default(), sealer })
    }

    /// Checks passwords through `wrap(local)` instead of the local verifier alone (the LDAP
    /// federation wraps it: directory accounts by bind, the rest locally).
    pub fn with_verifier(
        mut self,
        wrap: impl FnOnce(Arc<dyn credentials::CredentialVerifier>) -> Arc<dyn credentials::CredentialVerifier>,
    ) -> Self {
        self.verifier = wrap(self.verifier.clone());
        self
    }

    /// Where `user`'s password is kept.
    pub fn password_home(&self, user: &User) -> credentials::PasswordHome {
        self.verifier.home(user)
    }

    /// Changes a password kept in a writable directory (`password_home`); `InvalidCredentials`
    /// when `current` is wrong there.
    pub async fn change_password_elsewhere(&self, user: &User, current: &str, new: &str) -> Result<(), AuthnError> {
        match self.verifier.change_elsewhere(user, current, new).await? {
            true => Ok(()),
            false => Err(AuthnError::InvalidCredentials),
        }
    }

    /// Enables passkeys for the relying party `config` describes (if it can be built).
    pub fn with_passkeys(mut self, config: &crate::config::WebauthnConfig) -> Self {
        self.webauthn = webauthn::relying_party(config).map(Arc::new);
        self
    }

    /// Runs one argon2id computation on the hashing threads.
    async fn hash_work<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut password::ArgonMemory) -> T + Send + 'static,
    ) -> Result<T, AuthnError> {
        self.hashing.run(work).await.map_err(AuthnError::Hashing)
    }

    pub fn hasher(&self) -> PasswordHasherService {
        self.hasher
    }

    /// Checks a login name (or e-mail, or NIP) and password, unless the account (or the name)
    /// or the source address is locked out. Upgrades the stored hash when the configured cost
    /// has risen. A refusal names the account found, for the audit event.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_password(
        &self,
        login: &str,
        password: &str,
        source_ip: Option<&str>,
        now: i64,
    ) -> Result<(User, AuthnContext), LoginRefused> {
        let login = normalize_login(login);
        let found = self.store.users().find_credentials(&login).await?;
        let found = found.map(|(user, password_hash)| credentials::StoredCredentials { user, password_hash });
        let account = throttle::login_key(&login, found.as_ref().map(|f| &f.user.id));
        let keys = (account, source_ip.map(throttle::source_key).unwrap_or_default());
        let turn = self.turns.wait(&keys.0).await;
        let refused = |error: AuthnError, found: Option<credentials::StoredCredentials>| LoginRefused {
            error,
            account: found.map(|f| Box::new(f.user)),
        };
        let (until, counted) = self.store.throttle().state(&keys.0, &keys.1).await?;
        if until > now {
            return Err(refused(AuthnError::Throttled { until }, found));
        }
        // A directory that cannot be asked is neither a success nor a failure to count.
        let right = match self.verifier.verify(found.as_ref(), password).await {
            Ok(right) => right,
            Err(error) => return Err(refused(error, found)),
        };
        let found = match found {
            Some(f) if right && !f.user.disabled => f,
            found => return Err(refused(self.count_failure(&keys, now).await?, found)),
        };
        // The common case, a login without earlier failures, writes nothing here.
        if counted {
            self.store.throttle().clear(&keys.0).await?;
        }
        // The account's next check need not wait for a hash upgrade.
        drop(turn);
        // Only a password checked here is rehashed: a directory's must never be stored.
        let checked_here = self.verifier.home(&found.user) == credentials::PasswordHome::Pintu;
        if checked_here && found.password_hash.as_deref().is_some_and(|h| self.hasher.needs_rehash(h)) {
            self.rehash(&found.user, password, now).await;
        }
        Ok((found.user, AuthnContext::password(now)))
    }

    /// What the person has enrolled besides the password.
    pub async fn enrolled(&self, user: &User) -> Result<Enrolled, AuthnError> {
        let totp = self.store.factors().find_totp(&user.id).await?.is_some_and(|t| t.confirmed);
        let passkeys = if self.webauthn.is_some() { self.store.passkeys().count(&user.id).await? } else { 0 };
        Ok(Enrolled { totp, passkeys })
    }

    /// Replaces a person's password after `policy::check_policy` accepted it; the hash is
    /// computed on the hashing threads.
    pub async fn set_password(&self, user: &User, password: &str, now: i64) -> Result<(), AuthnError> {
        let hasher = self.hasher;
        let password = password.to_owned();
        let hash = self
            .hash_work(move |_| hasher.rehash(&password))
            .await?
            .map_err(|_| AuthnError::Factor("hashing failed"))?;
        self.store.users().set_password_hash(&user.id, &hash, now).await?;
        Ok(())
    }

    /// Checks a password someone chose for a person (`context`: the person's own details it
    /// must not be built from) against the policy and hashes it on the hashing threads, never
    /// on a request's runtime thread.
    pub async fn hash_chosen_password(&self, password: &str, context: &[&str]) -> Result<String, AuthnError> {
        policy::check_policy(password, context).map_err(AuthnError::Password)?;
        let (hasher, password) = (self.hasher, password.to_owned());
        self.hash_work(move |_| hasher.hash(&password)).await?.map_err(AuthnError::Password)
    }

    /// Checks a second factor for a person who already gave their password, under the same
    /// lockout as passwords (a TOTP code has only a million values).
    pub async fn check_second_factor(
        &self,
        user: &User,
        code: &str,
        source_ip: Option<&str>,
        now: i64,
    ) -> Result<AuthnContext, AuthnError> {
        let attempt = self.factor_attempt(user, source_ip, now).await?;
        match self.verify_second_factor(user, code, now).await {
            Ok(authn) => {
                self.factor_succeeded(&attempt).await?;
                Ok(authn)
            }
            Err(AuthnError::InvalidCredentials) => Err(self.factor_failed(&attempt, now).await?),
            other => other,
        }
    }

    /// Starts a guessable second step for `user` (a code, a certificate passphrase): refused
    /// while the person or the address is locked, and counted before it is checked, so a burst
    /// of concurrent guesses cannot all be checked before the first failure is recorded.
    pub async fn factor_attempt(
        &self,
        user: &User,
        source_ip: Option<&str>,
        now: i64,
    ) -> Result<FactorAttempt, AuthnError> {
        let t = self.store.throttle();
        let (key, source) = (throttle::factor_key(&user.id), source_ip.map(throttle::source_key).unwrap_or_default());
        let own_lock = t.locked_until(&key, &key).await?;
        let until = own_lock.max(t.locked_until(&source, &source).await?);
        if until > now {
            return Err(AuthnError::Throttled { until });
        }
        let attempts = t.record_failure(&key, now, now - throttle::WINDOW).await?;
        if attempts > throttle::FACTOR_LIMIT && own_lock == 0 {
            let lock = now + throttle::lock_for(attempts, throttle::FACTOR_LIMIT).unwrap_or(throttle::BASE_LOCK);
            t.lock(&key, lock).await?;
            return Err(AuthnError::Throttled { until: lock });
        }
        Ok(FactorAttempt { key, source, attempts })
    }

    /// An activation-code attempt for the login name `login` (normalised) from `source_ip`:
    /// counted under the name whether or not an account has it (no enumeration), locked like
    /// a second-factor code.
    pub async fn activation_attempt(
        &self,
        login: &str,
        source_ip: Option<&str>,
        now: i64,
    ) -> Result<FactorAttempt, AuthnError> {
        let t = self.store.throttle();
        let key = format!("activation:{}", throttle::account_key(login));
        let source = source_ip.map(throttle::source_key).unwrap_or_default();
        let until = t.locked_until(&key, &key).await?.max(t.locked_until(&source, &source).await?);
        if until > now {
            return Err(AuthnError::Throttled { until });
        }
        let attempts = t.record_failure(&key, now, now - throttle::WINDOW).await?;
        Ok(FactorAttempt { key, source, attempts })
    }

    /// The step succeeded: the person's count starts again.
    pub async fn factor_succeeded(&self, attempt: &FactorAttempt) -> Result<(), AuthnError> {
        Ok(self.store.throttle().clear(&attempt.key).await?)
    }

    /// The step failed: locks the person and the address once they pass their limits; the
    /// error to report (the failure, or the lockout it started).
    pub async fn factor_failed(&self, attempt: &FactorAttempt, now: i64) -> Result<AuthnError, AuthnError> {
        let t = self.store.throttle();
        let mut until = 0;
        if let Some(lock) = throttle::lock_for(attempt.attempts, throttle::FACTOR_LIMIT) {
            t.lock(&attempt.key, now + lock).await?;
            until = now + lock;
        }
        if !attempt.source.is_empty() {
            let failures = t.record_failure(&attempt.source, now, now - throttle::WINDOW).await?;
            if let Some(lock) = throttle::lock_for(failures, throttle::SOURCE_LIMIT) {
                t.lock(&attempt.source, now + lock).await?;
                until = until.max(now + lock);
            }
        }
        Ok(if until > now { AuthnError::Throttled { until } } else { AuthnError::InvalidCredentials })
    }

    /// Counts a failure against the name and the address; returns the error to report: the
    /// failure itself, or the lockout it just started.
    async fn count_failure(&self, keys: &(String, String), now: i64) -> Result<AuthnError, AuthnError> {
        let throttle = self.store.throttle();
        let mut until = 0;
        for (key, limit) in [(&keys.0, throttle::ACCOUNT_LIMIT), (&keys.1, throttle::SOURCE_LIMIT)] {
            if key.is_empty() {
                continue;
            }
            let failures = throttle.record_failure(key, now, now - throttle::WINDOW).await?;
            if let Some(lock) = throttle::lock_for(failures, limit) {
                throttle.lock(key, now + lock).await?;
                until = until.max(now + lock);
            }
        }
        Ok(if until > now { AuthnError::Throttled { until } } else { AuthnError::InvalidCredentials })
    }

    async fn rehash(&self, user: &User, password: &str, now: i64) {
        let hasher = self.hasher;
        let password = password.to_owned();
        if let Ok(Ok(hash)) = self.hash_work(move |_| hasher.rehash(&password)).await
            && let Err(e) = self.store.users().set_password_hash(&user.id, &hash, now).await
        {
            tracing::warn!(error = %e, "could not upgrade a password hash");
        }
    }
}
