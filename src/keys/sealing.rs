//! Sealing private keys at rest: JWE compact serialization, `dir` + `A256GCM`, under the
//! key-encryption key. The KEK lives in `keys/kek.key` (mode 0600) or comes from configuration.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{Dir, JweHeader};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use super::KeyError;

const KEK_FILE: &str = "kek.key";

/// Seals and opens secrets with the KEK. Deliberately not `Debug`.
pub struct Sealer {
    kek: SecretBox<[u8; 32]>,
}

impl Sealer {
    /// Uses `configured` when given, otherwise reads `keys_dir/kek.key`, creating it (0600) on
    /// first start. Returns whether a new KEK was written.
    pub fn load_or_create(keys_dir: &Path, configured: Option<&SecretString>) -> Result<(Self, bool), KeyError> {
        if let Some(secret) = configured {
            return Ok((Self::from_encoded(secret.expose_secret())?, false));
        }
        let path = keys_dir.join(KEK_FILE);
        match std::fs::read_to_string(&path) {
            Ok(content) => Ok((Self::from_encoded(content.trim())?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Self::create(keys_dir, path)?, true)),
            Err(source) => Err(KeyError::KekIo { path, source }),
        }
    }

    fn create(keys_dir: &Path, path: PathBuf) -> Result<Self, KeyError> {
        let io = |source| KeyError::KekIo { path: path.clone(), source };
        private_dir(keys_dir).map_err(io)?;
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let mut file = open_private(&path).map_err(io)?;
        file.write_all(URL_SAFE_NO_PAD.encode(bytes).as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(Self { kek: SecretBox::new(Box::new(bytes)) })
    }

    fn from_encoded(encoded: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded.trim()).map_err(|_| KeyError::KekMalformed)?;
        let kek: [u8; 32] = bytes.try_into().map_err(|_| KeyError::KekMalformed)?;
        Ok(Self { kek: SecretBox::new(Box::new(kek)) })
    }

    /// The KEK as it is written in `kek.key` (base64url), for a backup that carries it.
    pub fn export(&self) -> SecretString {
        SecretString::from(URL_SAFE_NO_PAD.encode(self.kek.expose_secret()))
    }

    /// A KEK given as `kek.key` holds it (from a backup).
    pub fn from_export(encoded: &SecretString) -> Result<Self, KeyError> {
        Self::from_encoded(encoded.expose_secret())
    }

    /// Whether two sealers hold the same KEK (compared in constant time).
    pub fn same_kek(&self, other: &Sealer) -> bool {
        use subtle::ConstantTimeEq;
        self.kek.expose_secret().ct_eq(other.kek.expose_secret()).into()
    }

    /// The KEK configured or stored in `keys_dir`, if there is one (never creates one).
    pub fn existing(keys_dir: &Path, configured: Option<&SecretString>) -> Result<Option<Self>, KeyError> {
        if let Some(secret) = configured {
            return Ok(Some(Self::from_encoded(secret.expose_secret())?));
        }
        let path = keys_dir.join(KEK_FILE);
        match std::fs::read_to_string(&path) {
            Ok(content) => Ok(Some(Self::from_encoded(content.trim())?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeyError::KekIo { path, source }),
        }
    }

    /// Writes this KEK as `keys_dir/kek.key` (0600), which must not exist yet.
    pub fn install(&self, keys_dir: &Path) -> Result<(), KeyError> {
        let path = keys_dir.join(KEK_FILE);
        let io = |source| KeyError::KekIo { path: path.clone(), source };
        private_dir(keys_dir).map_err(io)?;
        let mut file = open_private(&path).map_err(io)?;
        file.write_all(self.export().expose_secret().as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// A throw-away KEK for tests and development databases in memory.
    pub fn ephemeral() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self { kek: SecretBox::new(Box::new(bytes)) }
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<String, KeyError> {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        let encrypter = Dir.encrypter_from_bytes(self.kek.expose_secret())?;
        Ok(josekit::jwe::serialize_compact(plaintext, &header, &encrypter)?)
    }

    /// A MAC key for one `purpose`, derived from the KEK (HMAC-SHA256 of the purpose under the
    /// KEK), so no key material is used for two things.
    pub fn mac_key(&self, purpose: &str) -> Result<MacKey, KeyError> {
        use josekit::jws::JwsSigner;
        let derived = josekit::jws::HS256.signer_from_bytes(self.kek.expose_secret())?.sign(purpose.as_bytes())?;
        Ok(MacKey(josekit::jws::HS256.signer_from_bytes(derived)?))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let decrypter = Dir.decrypter_from_bytes(self.kek.expose_secret())?;
        let (plaintext, _) = josekit::jwe::deserialize_compact(sealed, &decrypter).map_err(KeyError::Unseal)?;
        Ok(plaintext)
    }
}

/// HMAC-SHA256 under a derived key (through josekit's HS256). Deliberately not `Debug`.
pub struct MacKey(josekit::jws::alg::hmac::HmacJwsSigner);

impl MacKey {
    /// The tag of `data`, base64url without padding.
    pub fn tag(&self, data: &[u8]) -> Result<String, KeyError> {
        use josekit::jws::JwsSigner;
        Ok(URL_SAFE_NO_PAD.encode(self.0.sign(data)?))
    }
}

impl crate::domain::secrets::SecretSealer for Sealer {
    fn seal(&self, plaintext: &[u8]) -> Result<String, String> {
        Sealer::seal(self, plaintext).map_err(|e| e.to_string())
    }
    fn open(&self, sealed: &str) -> Result<Vec<u8>, String> {
        Sealer::open(self, sealed).map_err(|e| e.to_string())
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

/// The keys directory, when it does not exist yet, readable by Pintu's user only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_only_with_the_same_kek() {
        let sealer = Sealer::ephemeral();
        let sealed = sealer.seal(b"private key").unwrap();
        assert_eq!(sealer.open(&sealed).unwrap(), b"private key");
        assert!(Sealer::ephemeral().open(&sealed).is_err());
    }

    #[test]
    fn an_exported_kek_is_installed_and_found_again() {
        let dir = std::env::temp_dir().join(format!("pintu-kek-{}", uuid::Uuid::new_v4()));
        let sealer = Sealer::ephemeral();
        assert!(Sealer::existing(&dir, None).unwrap().is_none());
        let copy = Sealer::from_export(&sealer.export()).unwrap();
        assert!(copy.same_kek(&sealer) && !copy.same_kek(&Sealer::ephemeral()));
        copy.install(&dir).unwrap();
        assert!(Sealer::existing(&dir, None).unwrap().unwrap().same_kek(&sealer));
        assert!(copy.install(&dir).is_err(), "an existing kek.key is never overwritten");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn kek_file_is_created_with_owner_only_permissions() {
        let dir = std::env::temp_dir().join(format!("pintu-kek-{}", uuid::Uuid::new_v4()));
        let (_, created) = Sealer::load_or_create(&dir, None).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEK_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (_, created_again) = Sealer::load_or_create(&dir, None).unwrap();
        assert!(!created_again);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
