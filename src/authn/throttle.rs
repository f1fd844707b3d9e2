//! Brute-force protection (NIST SP 800-63B §5.2.2): failures are counted per account (or, for
//! a name no account has, per name) and per source address in a window; past a limit the name or address is locked for a while
//! that doubles with every further failure. The state lives in the database, so every node
//! sees the same counts. Names are counted whether or not an account has them, and stored
//! only as a SHA-256, so a lockout says nothing about which accounts exist.

use sha2::{Digest, Sha256};

/// Counting window, in seconds.
pub const WINDOW: i64 = 15 * 60;
/// Failures per login name in a window before it locks.
pub const ACCOUNT_LIMIT: i64 = 5;
/// Failures per source address in a window before it locks (many names from one place).
pub const SOURCE_LIMIT: i64 = 30;
/// The first lock; each further failure doubles it, up to `MAX_LOCK`.
pub const BASE_LOCK: i64 = 60;
pub const MAX_LOCK: i64 = 60 * 60;

/// The counter key of a (normalised) login name.
pub fn account_key(login: &str) -> String {
    let digest = Sha256::digest(login.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("account:{hex}")
}

/// The counter of the account a login name resolves to, so its username, e-mail and NIP
/// share one count; a name no account has is counted by itself.
pub fn login_key(login: &str, account: Option<&crate::domain::UserId>) -> String {
    match account {
        Some(id) => account_key(&format!("id:{id}")),
        None => account_key(login),
    }
}

/// Password checks of one account run one at a time on a node (lock stripes chosen by a
/// per-process random hash, so no one can aim at another account's stripe): a burst of
/// concurrent guesses cannot all pass the lockout check before the first failure is counted.
/// Across several nodes, at most one guess per node overlaps.
pub struct Turns {
    stripes: Box<[tokio::sync::Mutex<()>]>,
    hasher: std::hash::RandomState,
}

impl Default for Turns {
    fn default() -> Self {
        Self { stripes: (0..256).map(|_| tokio::sync::Mutex::new(())).collect(), hasher: Default::default() }
    }
}

impl Turns {
    pub async fn wait(&self, key: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::BuildHasher;
        let i = (self.hasher.hash_one(key) % self.stripes.len() as u64) as usize;
        self.stripes[i].lock().await
    }
}

/// The counter of second-factor attempts of one account: separate from the login name's, so
/// that knowing the password does not reset it.
pub fn factor_key(user: &crate::domain::UserId) -> String {
    format!("factor:{user}")
}

/// Second-factor attempts per account in a window before it locks.
pub const FACTOR_LIMIT: i64 = 5;

pub fn source_key(ip: &str) -> String {
    format!("source:{ip}")
}

/// How long to lock after `failures` failures against `limit`, if at all.
pub fn lock_for(failures: i64, limit: i64) -> Option<i64> {
    if failures < limit {
        return None;
    }
    let doublings = u32::try_from(failures - limit).unwrap_or(u32::MAX).min(16);
    Some(BASE_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_limit_and_double_up_to_an_hour() {
        assert_eq!(lock_for(4, 5), None);
        assert_eq!(lock_for(5, 5), Some(60));
        assert_eq!(lock_for(6, 5), Some(120));
        assert_eq!(lock_for(50, 5), Some(3600));
    }

    #[test]
    fn account_keys_do_not_reveal_the_name() {
        let key = account_key("budi");
        assert!(key.starts_with("account:") && !key.contains("budi"));
        assert_eq!(key, account_key("budi"));
    }
}
