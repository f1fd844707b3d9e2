//! `pintu keys rotate-kek`: every sealed value (signing keys, TOTP seeds, the refresh-token
//! secret) re-sealed under a new key-encryption key, while the server runs.
//!
//! 1. The new KEK is written to `kek.next.key` first (`--prepare` stops here: with several
//!    nodes, copy it to each node's keys directory, where it opens values at once).
//! 2. Every sealed value is opened and sealed again under it, in one transaction.
//! 3. The old KEK is appended to `kek.retired` and `kek.next.key` renamed to `kek.key`.
//!
//! Interrupted anywhere, nothing is lost: until step 3 the next KEK opens what step 2 wrote,
//! and running it again finishes. A running node meets the new `kid` and reads the directory
//! again (`Sealer::open`), or picks it up within a minute when its keyring reloads.

use std::io::Write;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::sealing::{KEK_FILE, NEXT_FILE, RETIRED_FILE, write_private};
use super::{KeyError, Keyring, Sealer};

/// What a rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct KekRotation {
    /// The KEK sealing from now on (its id, the `kid` of sealed values).
    pub kek: String,
    /// The KEK it replaced.
    pub previous: String,
    /// Only `kek.next.key` was written (`--prepare`).
    pub prepared_only: bool,
    pub resealed: usize,
}

/// Rotates the KEK of the keyring's keys directory (see the module's steps). A configured KEK
/// (`kek`, `kek_file`) is refused: it is changed where it is configured.
pub async fn rotate_kek(keyring: &Keyring, prepare_only: bool) -> Result<KekRotation, KeyError> {
    let (store, sealer) = (keyring.store(), keyring.sealer());
    let dir = sealer.keys_dir().ok_or_else(|| {
        KeyError::KekRotation(
            "the key-encryption key comes from the configuration (kek or kek_file), not from keys/kek.key: \
             rotate-kek works on the keys directory only"
                .into(),
        )
    })?;
    let previous = sealer.kek_id();
    let next_path = dir.join(NEXT_FILE);
    let next = match std::fs::read_to_string(&next_path) {
        Ok(encoded) => Sealer::from_export(&SecretString::from(encoded.trim().to_owned()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let next = Sealer::ephemeral();
            write_private(dir, &next_path, next.export().expose_secret())?;
            next
        }
        Err(source) => return Err(KeyError::KekIo { path: next_path, source }),
    };
    let kek = next.kek_id();
    if prepare_only {
        return Ok(KekRotation { kek, previous, prepared_only: true, resealed: 0 });
    }
    sealer.reload_from_disk()?;
    let rotated = sealer.rotated_to(&next);
    let resealed = store
        .reseal(|sealed| {
            let plain = sealer.open(sealed).map_err(|e| e.to_string())?;
            rotated.seal(&plain).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| KeyError::KekRotation(format!("re-sealing failed, nothing changed: {e}")))?;
    retire(dir, sealer)?;
    std::fs::rename(&next_path, dir.join(KEK_FILE))
        .map_err(|source| KeyError::KekIo { path: dir.join(KEK_FILE), source })?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    sealer.reload_from_disk()?;
    keyring.announce().await;
    Ok(KekRotation { kek, previous, prepared_only: false, resealed })
}

/// Appends the current KEK to `kek.retired` (0600) unless it is there already.
fn retire(dir: &Path, sealer: &Sealer) -> Result<(), KeyError> {
    let path = dir.join(RETIRED_FILE);
    let encoded = sealer.export();
    let encoded = encoded.expose_secret();
    let io = |source| KeyError::KekIo { path: path.clone(), source };
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return write_private(dir, &path, encoded);
        }
        Err(source) => return Err(io(source)),
    };
    if existing.lines().any(|l| l.trim() == encoded) {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).map_err(io)?;
    file.write_all(format!("{encoded}\n").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}
