//! Encryption of small secrets at rest (TOTP seeds) under the deployment's key-encryption
//! key: the key material lives in `keys`, the secrets' owners only see this interface.

/// Seals and opens secrets that must be kept readable (not hashed) but never stored in clear.
pub trait SecretSealer: Send + Sync {
    fn seal(&self, plaintext: &[u8]) -> Result<String, String>;
    fn open(&self, sealed: &str) -> Result<Vec<u8>, String>;
}
