//! Sealing secrets at rest: JWE compact serialization, `dir` + `A256GCM`, under the
//! key-encryption key (KEK). The KEK lives in `keys/kek.key` (mode 0600) or comes from
//! configuration.
//!
//! Each sealed value names its KEK in the JWE header (`kid`: the first 72 bits of the KEK's
//! SHA-256), so a KEK can be replaced (`kek_rotation.rs`): beside `kek.key` the keys directory
//! may hold `kek.next.key` (the KEK a rotation is moving to) and `kek.retired` (earlier KEKs, one
//! per line). Values open under any of them; new values are sealed under `kek.key`. A value
//! naming a KEK this node has not loaded makes it read the directory again, so a rotation made
//! elsewhere reaches a running node without a restart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{Dir, JweDecrypter, JweHeader};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};

use super::KeyError;

pub(super) const KEK_FILE: &str = "kek.key";
pub(super) const NEXT_FILE: &str = "kek.next.key";
pub(super) const RETIRED_FILE: &str = "kek.retired";

/// One KEK and its id.
struct Kek {
    id: String,
    key: SecretBox<[u8; 32]>,
}

impl Kek {
    fn new(bytes: [u8; 32]) -> Self {
        let id = URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..9]);
        Self { id, key: SecretBox::new(Box::new(bytes)) }
    }

    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self::new(bytes)
    }

    fn decode(encoded: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded.trim()).map_err(|_| KeyError::KekMalformed)?;
        Ok(Self::new(bytes.try_into().map_err(|_| KeyError::KekMalformed)?))
    }

    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.expose_secret())
    }

    fn copy(&self) -> Self {
        Self::new(*self.key.expose_secret())
    }
}

/// The KEKs a node holds: the one that seals, then the others that still open.
struct Keks {
    current: Kek,
    others: Vec<Kek>,
}

impl Keks {
    fn all(&self) -> impl Iterator<Item = &Kek> {
        std::iter::once(&self.current).chain(&self.others)
    }
}

/// Seals and opens secrets with the KEK. Deliberately not `Debug`.
pub struct Sealer {
    /// Where the KEKs are read again from (`None`: a configured or throw-away KEK).
    keys_dir: Option<PathBuf>,
    keks: RwLock<Keks>,
}

impl Sealer {
    fn with(current: Kek, others: Vec<Kek>, keys_dir: Option<PathBuf>) -> Self {
        Self { keys_dir, keks: RwLock::new(Keks { current, others }) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keks> {
        // A poisoned lock still holds whole KEKs: a writer only swaps the set.
        self.keks.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Uses `configured` when given, otherwise reads `keys_dir/kek.key` (with `kek.next.key`
    /// and `kek.retired` when present), creating it (0600) on first start. Returns whether a
    /// new KEK was written.
    pub fn load_or_create(keys_dir: &Path, configured: Option<&SecretString>) -> Result<(Self, bool), KeyError> {
        if let Some(sealer) = Self::existing(keys_dir, configured)? {
            return Ok((sealer, false));
        }
        let path = keys_dir.join(KEK_FILE);
        let kek = Kek::generate();
        write_private(keys_dir, &path, &kek.encode())?;
        Ok((Self::with(kek, Vec::new(), Some(keys_dir.to_path_buf())), true))
    }

    /// The KEK configured or stored in `keys_dir`, if there is one (never creates one).
    pub fn existing(keys_dir: &Path, configured: Option<&SecretString>) -> Result<Option<Self>, KeyError> {
        if let Some(secret) = configured {
            return Ok(Some(Self::with(Kek::decode(secret.expose_secret())?, Vec::new(), None)));
        }
        Ok(read_dir_keks(keys_dir)?.map(|keks| Self::with(keks.current, keks.others, Some(keys_dir.to_path_buf()))))
    }

    /// The KEK as it is written in `kek.key` (base64url), for a backup that carries it.
    pub fn export(&self) -> SecretString {
        SecretString::from(self.read().current.encode())
    }

    /// A KEK given as `kek.key` holds it (from a backup).
    pub fn from_export(encoded: &SecretString) -> Result<Self, KeyError> {
        Self::from_exports(encoded, &[])
    }

    /// The KEKs besides the current one (`kek.next.key`, `kek.retired`), as `export` gives it.
    pub fn export_others(&self) -> Vec<SecretString> {
        self.read().others.iter().map(|k| SecretString::from(k.encode())).collect()
    }

    /// A current KEK and earlier ones, as `export` and `export_others` give them.
    pub fn from_exports(current: &SecretString, others: &[SecretString]) -> Result<Self, KeyError> {
        let others = others.iter().map(|k| Kek::decode(k.expose_secret())).collect::<Result<_, _>>()?;
        Ok(Self::with(Kek::decode(current.expose_secret())?, others, None))
    }

    /// Whether two sealers seal with the same KEK (compared in constant time).
    pub fn same_kek(&self, other: &Sealer) -> bool {
        use subtle::ConstantTimeEq;
        let (mine, theirs) = (self.read(), other.read());
        mine.current.key.expose_secret().ct_eq(theirs.current.key.expose_secret()).into()
    }

    /// The id of the KEK that seals (`kid` of new sealed values).
    pub fn kek_id(&self) -> String {
        self.read().current.id.clone()
    }

    /// Writes this KEK as `keys_dir/kek.key` (0600), which must not exist yet, and the others
    /// it holds as `kek.retired`.
    pub fn install(&self, keys_dir: &Path) -> Result<(), KeyError> {
        let keks = self.read();
        if !keks.others.is_empty() {
            let lines: Vec<String> = keks.others.iter().map(Kek::encode).collect();
            write_private(keys_dir, &keys_dir.join(RETIRED_FILE), &lines.join("\n"))?;
        }
        write_private(keys_dir, &keys_dir.join(KEK_FILE), &keks.current.encode())
    }

    /// A throw-away KEK for tests and development databases in memory.
    pub fn ephemeral() -> Self {
        Self::with(Kek::generate(), Vec::new(), None)
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<String, KeyError> {
        let keks = self.read();
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        header.set_key_id(&keks.current.id);
        let encrypter = Dir.encrypter_from_bytes(keks.current.key.expose_secret())?;
        Ok(josekit::jwe::serialize_compact(plaintext, &header, &encrypter)?)
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, KeyError> {
        match self.open_loaded(sealed) {
            Err(KeyError::UnknownKek(kid)) => {
                // Sealed under a KEK this node has not read yet: a rotation happened.
                if self.reload_from_disk()? { self.open_loaded(sealed) } else { Err(KeyError::UnknownKek(kid)) }
            }
            other => other,
        }
    }

    fn open_loaded(&self, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let keks = self.read();
        let decrypters = keks
            .all()
            .map(|k| Ok((k.id.as_str(), Dir.decrypter_from_bytes(k.key.expose_secret())?)))
            .collect::<Result<Vec<_>, KeyError>>()?;
        let unknown = std::cell::RefCell::new(None);
        let opened = josekit::jwe::deserialize_compact_with_selector(sealed, |header| {
            Ok(match header.key_id() {
                Some(kid) => {
                    let found = decrypters.iter().find(|(id, _)| *id == kid).map(|(_, d)| d as &dyn JweDecrypter);
                    if found.is_none() {
                        *unknown.borrow_mut() = Some(kid.to_owned());
                    }
                    found
                }
                // Sealed before values named their KEK: the current one, then the others.
                None => None,
            })
        });
        if let Some(kid) = unknown.into_inner() {
            return Err(KeyError::UnknownKek(kid));
        }
        match opened {
            Ok((plaintext, _)) => Ok(plaintext),
            Err(e) if sealed_without_kid(sealed) => decrypters
                .iter()
                .find_map(|(_, d)| josekit::jwe::deserialize_compact(sealed, d).ok())
                .map(|(plaintext, _)| plaintext)
                .ok_or(KeyError::Unseal(e)),
            Err(e) => Err(KeyError::Unseal(e)),
        }
    }

    /// Reads the keys directory again; `true` when it held KEKs this node had not loaded.
    pub fn reload_from_disk(&self) -> Result<bool, KeyError> {
        let Some(dir) = &self.keys_dir else { return Ok(false) };
        let Some(found) = read_dir_keks(dir)? else { return Ok(false) };
        let changed = {
            let keks = self.read();
            found.current.id != keks.current.id || found.all().any(|k| !keks.all().any(|mine| mine.id == k.id))
        };
        if changed {
            *self.keks.write().unwrap_or_else(std::sync::PoisonError::into_inner) = found;
        }
        Ok(changed)
    }

    /// HMAC-SHA256 of `purpose` under the KEK: the secret refresh tokens were authenticated
    /// with before it was kept sealed in the database (`Keyring::load_or_generate`).
    pub fn derived_secret(&self, purpose: &str) -> Result<Vec<u8>, KeyError> {
        use josekit::jws::JwsSigner;
        let keks = self.read();
        Ok(josekit::jws::HS256.signer_from_bytes(keks.current.key.expose_secret())?.sign(purpose.as_bytes())?)
    }

    /// A sealer over `next` (sealing) and every KEK this one holds (opening), for a rotation.
    pub(super) fn rotated_to(&self, next: &Sealer) -> Sealer {
        let (keks, next) = (self.read(), next.read());
        let others = keks.all().filter(|k| k.id != next.current.id).map(Kek::copy).collect();
        Self::with(next.current.copy(), others, self.keys_dir.clone())
    }

    pub(super) fn keys_dir(&self) -> Option<&Path> {
        self.keys_dir.as_deref()
    }
}

fn sealed_without_kid(sealed: &str) -> bool {
    let header = sealed.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok());
    let header: Option<serde_json::Value> = header.and_then(|h| serde_json::from_slice(&h).ok());
    header.is_some_and(|h| h.get("kid").is_none())
}

/// `kek.key`, then `kek.next.key` and the lines of `kek.retired`, when `kek.key` exists.
fn read_dir_keks(dir: &Path) -> Result<Option<Keks>, KeyError> {
    let Some(current) = read_optional(&dir.join(KEK_FILE))? else { return Ok(None) };
    let current = Kek::decode(&current)?;
    let mut others = Vec::new();
    if let Some(next) = read_optional(&dir.join(NEXT_FILE))? {
        others.push(Kek::decode(&next)?);
    }
    if let Some(retired) = read_optional(&dir.join(RETIRED_FILE))? {
        for line in retired.lines().map(str::trim).filter(|l| !l.is_empty()) {
            others.push(Kek::decode(line)?);
        }
    }
    others.retain(|k| k.id != current.id);
    others.dedup_by(|a, b| a.id == b.id);
    Ok(Some(Keks { current, others }))
}

fn read_optional(path: &Path) -> Result<Option<String>, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(content) => Ok(Some(content)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::KekIo { path: path.to_path_buf(), source }),
    }
}

/// Writes `content` and a newline into a new file (0600) in `dir`, creating `dir` (0700).
pub(super) fn write_private(dir: &Path, path: &Path, content: &str) -> Result<(), KeyError> {
    let io = |source| KeyError::KekIo { path: path.to_path_buf(), source };
    private_dir(dir).map_err(io)?;
    let mut file = open_private(path).map_err(io)?;
    file.write_all(content.as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)
}

/// HMAC-SHA256 under a secret (through josekit's HS256). Deliberately not `Debug`.
pub struct MacKey(josekit::jws::alg::hmac::HmacJwsSigner);

impl MacKey {
    pub fn from_secret(secret: &[u8]) -> Result<Self, KeyError> {
        Ok(Self(josekit::jws::HS256.signer_from_bytes(secret)?))
    }

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
#[path = "sealing_tests.rs"]
mod tests;
