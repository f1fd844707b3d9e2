//! Passwords: argon2id hashing (OWASP parameters by default), verification and rehash when the
//! configured cost rises. Hashing runs on the blocking pool: it takes tens of milliseconds.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher, PasswordVerifier, Version};
use subtle::ConstantTimeEq;

use crate::config::PasswordConfig;

/// The longest password accepted, in bytes; longer input is refused before hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// NIST SP 800-63B §3.1.1.2: at least 8 characters for memorized secrets; Pintu asks for 12.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Refuse stored parameters asking for more memory than the configuration may (a tampered hash).
const MAX_MEMORY_BLOCKS: usize = crate::config::MAX_PASSWORD_MEMORY_KIB as usize;

/// argon2id working memory, reused across verifications on one thread.
#[derive(Default)]
pub struct ArgonMemory(Vec<Block>);

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password is too long")]
    TooLong,
    #[error("password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Holds a control character (TAB, a line break, NUL…): refused in chosen passwords.
    #[error("password must not contain control characters")]
    ControlCharacter,
    /// Among the most common passwords (NIST SP 800-63B §3.1.1.2 blocklist).
    #[error("password is one of the most commonly used passwords")]
    Common,
    /// Guessable in fewer than 10^10 tries (a dictionary word, a name, a date, a keyboard
    /// pattern, the person's own details).
    #[error("password is too easy to guess: {0}")]
    Weak(String),
    /// The directory that keeps the password refused the new one (its own policy).
    #[error("the directory refused the new password: {0}")]
    DirectoryRefused(String),
    #[error("argon2 parameters are invalid")]
    Params,
    #[error("hashing failed")]
    Hash,
}

/// Hashes and verifies passwords at the configured cost.
#[derive(Debug, Clone, Copy)]
pub struct PasswordHasherService {
    config: PasswordConfig,
}

impl PasswordHasherService {
    pub fn new(config: PasswordConfig) -> Self {
        Self { config }
    }

    fn argon2(&self) -> Result<Argon2<'static>, PasswordError> {
        let params = Params::new(self.config.memory_kib, self.config.iterations, self.config.parallelism, None)
            .map_err(|_| PasswordError::Params)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// A PHC string (`$argon2id$v=19$m=…`). Checks the length only: callers accepting a
    /// password a person chose run `policy::check_policy` with the person's details first.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_length(password)?;
        self.rehash(password)
    }

    /// Hashes an already-accepted password again at the current cost (no policy check: the
    /// person chose it under the policy in force then).
    pub fn rehash(&self, password: &str) -> Result<String, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        let hash = self.argon2()?.hash_password(password.as_bytes()).map_err(|_| PasswordError::Hash)?;
        Ok(hash.to_string())
    }

    /// Whether `password` matches `phc`. A malformed stored hash never matches.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        match self.argon2() {
            Ok(argon2) => argon2.verify_password(password.as_bytes(), phc).is_ok(),
            Err(_) => false,
        }
    }

    /// Like `verify`, but computes in `memory`, which a hashing thread keeps between calls:
    /// no 19 MiB allocation (and its page faults) per login.
    pub fn verify_in(&self, password: &str, phc: &str, memory: &mut ArgonMemory) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        let Ok(hash) = PasswordHash::new(phc) else { return false };
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
        let Ok(params) = Params::try_from(&hash) else { return false };
        if hash.algorithm.as_str() != "argon2id" || params.block_count() > MAX_MEMORY_BLOCKS {
            return false;
        }
        let version = hash.version.and_then(|v| Version::try_from(v).ok()).unwrap_or(Version::V0x13);
        let blocks = params.block_count();
        let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
        memory.0.resize(blocks, Block::new());
        let mut out = vec![0u8; expected.as_bytes().len()];
        let computed = argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut memory.0[..blocks],
        );
        computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
    }

    /// Whether a stored hash was made with weaker parameters than configured now.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else { return true };
        let Ok(params) = Params::try_from(&hash) else { return true };
        hash.algorithm.as_str() != "argon2id"
            || params.m_cost() < self.config.memory_kib
            || params.t_cost() < self.config.iterations
            || params.p_cost() < self.config.parallelism
    }
}

/// NIST SP 800-63B §3.1.1.2: length, not composition rules.
pub fn check_length(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// A random password for `pintu admin user create --generate-password`: 20 characters from an
/// unambiguous alphabet (about 115 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let limit = 256 - (256 % ALPHABET.len());
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut byte = [0u8; 1];
        rand::fill(&mut byte);
        // Rejection sampling: 256 is not a multiple of the alphabet size.
        let b = usize::from(byte[0]);
        if b < limit {
            out.push(char::from(ALPHABET[b % ALPHABET.len()]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasherService {
        PasswordHasherService::new(PasswordConfig { memory_kib: 8192, iterations: 1, parallelism: 1 })
    }

    #[test]
    fn hashed_password_verifies_and_wrong_one_does_not() {
        let svc = cheap();
        let hash = svc.hash("kata sandi yang panjang").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(svc.verify("kata sandi yang panjang", &hash));
        assert!(!svc.verify("kata sandi yang salah!", &hash));
        assert!(!svc.verify("x", "not a phc string"));
    }

    #[test]
    fn verification_in_reused_memory_agrees_with_the_library() {
        let svc = cheap();
        let hash = svc.hash("kata sandi yang panjang").unwrap();
        let mut memory = ArgonMemory::default();
        assert!(svc.verify_in("kata sandi yang panjang", &hash, &mut memory));
        assert!(!svc.verify_in("kata sandi yang salah!", &hash, &mut memory));
        assert!(svc.verify_in("kata sandi yang panjang", &hash, &mut memory), "memory reuse is safe");
        assert!(!svc.verify_in("x", "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaA", &mut memory));
        assert!(!svc.verify_in("x", "garbage", &mut memory));
    }

    #[test]
    fn raising_the_cost_asks_for_a_rehash() {
        let hash = cheap().hash("kata sandi yang panjang").unwrap();
        assert!(!cheap().needs_rehash(&hash));
        let stronger = PasswordHasherService::new(PasswordConfig { memory_kib: 19456, iterations: 2, parallelism: 1 });
        assert!(stronger.needs_rehash(&hash));
    }

    #[test]
    fn short_password_is_refused() {
        assert!(matches!(cheap().hash("pendek"), Err(PasswordError::TooShort)));
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let a = generate_password();
        assert_eq!(a.len(), 20);
        assert!(check_length(&a).is_ok());
        assert!(crate::authn::check_policy(&a, &[]).is_ok());
        assert_ne!(a, generate_password());
    }
}
