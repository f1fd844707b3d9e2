//! The keyring of token-signing keys: one active key per algorithm, generated on first start
//! and stored sealed in the database so every node signs with the same keys. It reloads from
//! the database (`reload`), so a rotation made by one node or the command line reaches every
//! node without a restart (`rotation.rs` moves keys through next → active → retired).

use std::sync::{Arc, RwLock};

use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsHeader, JwsSigner, JwsVerifier, RS256};
use serde_json::{Map, Value};

use crate::domain::{KeyState, SigningAlg};
use crate::storage::{SigningKeyRow, Store};

use super::{KeyError, Sealer, jwk_thumbprint};

struct LoadedKey {
    kid: String,
    alg: SigningAlg,
    state: KeyState,
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
    public_jwk: Map<String, Value>,
}

/// A verified JWS: its header type and JSON payload.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    pub typ: Option<String>,
    pub alg: String,
    pub claims: Map<String, Value>,
}

/// The keys as loaded at one moment, with the JWK Set serialised once.
struct KeySet {
    keys: Vec<LoadedKey>,
    jwks: Arc<[u8]>,
}

/// The loaded signing keys. Deliberately not `Debug` (it holds private keys).
pub struct Keyring {
    store: Store,
    sealer: Arc<Sealer>,
    current: RwLock<Arc<KeySet>>,
    /// Authenticates refresh tokens (their family and generation).
    refresh_mac: super::sealing::MacKey,
}

impl Keyring {
    /// Loads every stored key and generates an active key for each algorithm that lacks one.
    pub async fn load_or_generate(store: &Store, sealer: Arc<Sealer>, now: i64) -> Result<Self, KeyError> {
        let mut rows = store.signing_keys().list().await?;
        for alg in SigningAlg::ALL {
            let has_active = rows.iter().any(|r| r.alg == alg.as_str() && r.state.signs());
            if !has_active {
                let row = generate(alg, KeyState::Active, &sealer, now)?;
                store.signing_keys().insert(&row).await?;
                tracing::info!(kid = %row.kid, alg = alg.as_str(), "generated a new signing key");
                rows.push(row);
            }
        }
        let set = key_set(&rows, &sealer)?;
        let refresh_mac = refresh_mac(store, &sealer, now).await?;
        Ok(Self { store: store.clone(), sealer, current: RwLock::new(Arc::new(set)), refresh_mac })
    }

    fn keys(&self) -> Arc<KeySet> {
        // A poisoned lock still holds a whole set: a writer only ever swaps the Arc.
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reads the stored keys again; `true` when they changed (a rotation) and were swapped in.
    pub async fn reload(&self) -> Result<bool, KeyError> {
        // A KEK rotated elsewhere (its files copied here) is picked up with the keys; a KEK file
        // that cannot be read does not stop the keys from reloading.
        if let Err(e) = self.sealer.reload_from_disk() {
            tracing::warn!(error = %e, "cannot read the key-encryption keys again");
        }
        let rows = self.store.signing_keys().list().await?;
        // The same keys in the same states: nothing to load (a key's material never changes).
        let unchanged = rows.iter().map(|r| (r.kid.as_str(), r.state)).eq(self
            .keys()
            .keys
            .iter()
            .map(|k| (k.kid.as_str(), k.state)));
        if unchanged {
            return Ok(false);
        }
        let set = Arc::new(key_set(&rows, &self.sealer)?);
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = set;
        Ok(true)
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The MAC tag of a refresh token's public part.
    pub fn refresh_tag(&self, data: &str) -> Result<String, KeyError> {
        self.refresh_mac.tag(data.as_bytes())
    }

    /// Signs `claims` as a compact JWS with the newest active key of `alg`.
    pub fn sign(&self, alg: SigningAlg, typ: &str, claims: &Map<String, Value>) -> Result<String, KeyError> {
        let set = self.keys();
        let key = set
            .keys
            .iter()
            .rev()
            .find(|k| k.alg == alg && k.state.signs())
            .ok_or(KeyError::NoActiveKey(alg.as_str()))?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(key.kid.clone());
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::BadSignature)?;
        Ok(josekit::jws::serialize_compact(&payload, &header, key.signer.as_ref())?)
    }

    /// Verifies a JWS signed by one of our keys (active or retired), selected by `kid`.
    /// Expiry and audience are the caller's business.
    pub fn verify(&self, token: &str) -> Result<VerifiedJws, KeyError> {
        let set = self.keys();
        let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
            // No `kid`, no key: our tokens always name their key. A next key verifies nothing:
            // it has signed nothing yet.
            let Some(kid) = header.key_id() else { return Ok(None) };
            let key = set.keys.iter().find(|k| k.kid == kid && k.state != KeyState::Next);
            Ok(key.map(|k| k.verifier.as_ref()))
        })
        .map_err(|_| KeyError::BadSignature)?;
        verified(payload, &header)
    }

    /// Whether a key with this `kid` is loaded (next, active or retired).
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys().keys.iter().any(|k| k.kid == kid)
    }

    /// The public JWK Set (RFC 7517 §5), serialised: every key that signs, will sign (published
    /// ahead, so relying parties' caches hold it before its first token) or signed a token
    /// that may still be valid.
    pub fn jwks(&self) -> Arc<[u8]> {
        self.keys().jwks.clone()
    }
}

fn key_set(rows: &[SigningKeyRow], sealer: &Sealer) -> Result<KeySet, KeyError> {
    let keys = rows.iter().map(|row| load(row, sealer)).collect::<Result<Vec<_>, _>>()?;
    let published: Vec<Value> = keys.iter().map(|k| Value::Object(k.public_jwk.clone())).collect();
    let jwks = serde_json::to_vec(&serde_json::json!({ "keys": published })).map_err(|_| KeyError::BadSignature)?;
    Ok(KeySet { keys, jwks: jwks.into() })
}

pub(super) fn verified(payload: Vec<u8>, header: &JwsHeader) -> Result<VerifiedJws, KeyError> {
    let claims: Map<String, Value> = serde_json::from_slice(&payload).map_err(|_| KeyError::BadSignature)?;
    Ok(VerifiedJws {
        typ: header.token_type().map(str::to_owned),
        alg: header.algorithm().unwrap_or_default().to_owned(),
        claims,
    })
}

pub(super) fn generate(alg: SigningAlg, state: KeyState, sealer: &Sealer, now: i64) -> Result<SigningKeyRow, KeyError> {
    let mut private = match alg {
        SigningAlg::ES256 => Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256)?,
        SigningAlg::RS256 => Jwk::generate_rsa_key(2048)?,
        SigningAlg::EdDSA => Jwk::generate_ed_key(josekit::jwk::alg::ed::EdCurve::Ed25519)?,
    };
    let mut public = private.to_public_key()?;
    let kid = jwk_thumbprint(public.as_ref()).ok_or(KeyError::NoActiveKey(alg.as_str()))?;
    for jwk in [&mut private, &mut public] {
        jwk.set_key_id(kid.clone());
        jwk.set_algorithm(alg.as_str());
        jwk.set_key_use("sig");
    }
    Ok(SigningKeyRow {
        kid,
        alg: alg.as_str().to_owned(),
        state,
        sealed_private: sealer.seal(private.to_string().as_bytes())?,
        public_jwk: public.to_string(),
        created_at: now,
        retired_at: None,
    })
}

fn load(row: &SigningKeyRow, sealer: &Sealer) -> Result<LoadedKey, KeyError> {
    let alg = SigningAlg::parse(&row.alg).ok_or(KeyError::NoActiveKey("unknown"))?;
    let private = Jwk::from_bytes(sealer.open(&row.sealed_private)?)?;
    // The public half is derived from the sealed private key, never taken from the row: whoever
    // can write the database cannot seal, so a key they add cannot match its `kid`.
    let mut public = private.to_public_key()?;
    if jwk_thumbprint(public.as_ref()).as_deref() != Some(row.kid.as_str()) {
        return Err(KeyError::Mismatch(row.kid.clone()));
    }
    public.set_key_id(row.kid.clone());
    public.set_algorithm(alg.as_str());
    public.set_key_use("sig");
    let (signer, verifier): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) = match alg {
        SigningAlg::ES256 => (Box::new(ES256.signer_from_jwk(&private)?), Box::new(ES256.verifier_from_jwk(&public)?)),
        SigningAlg::RS256 => (Box::new(RS256.signer_from_jwk(&private)?), Box::new(RS256.verifier_from_jwk(&public)?)),
        SigningAlg::EdDSA => (Box::new(EdDSA.signer_from_jwk(&private)?), Box::new(EdDSA.verifier_from_jwk(&public)?)),
    };
    Ok(LoadedKey { kid: row.kid.clone(), alg, state: row.state, signer, verifier, public_jwk: public.into() })
}

/// The stored secret refresh tokens are authenticated with (`sealed_secrets`). The first time,
/// it is the secret they were authenticated with before it was stored (derived from the KEK),
/// so tokens issued earlier keep working; from then on it is re-sealed, never changed, when
/// the KEK rotates. Several nodes starting at once store one: the first insert wins.
async fn refresh_mac(store: &Store, sealer: &Sealer, now: i64) -> Result<super::sealing::MacKey, KeyError> {
    const NAME: &str = "refresh-token-mac";
    let stored = match store.sealed_secrets().get(NAME).await? {
        Some(sealed) => sealed,
        None => {
            let secret = sealer.derived_secret("pintu refresh tokens")?;
            store.sealed_secrets().insert_if_absent(NAME, &sealer.seal(&secret)?, now).await?;
            store.sealed_secrets().get(NAME).await?.ok_or(KeyError::NoActiveKey("refresh tokens"))?
        }
    };
    super::sealing::MacKey::from_secret(&sealer.open(&stored)?)
}
