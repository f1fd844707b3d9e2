//! The keyring of token-signing keys: one active key per algorithm, generated on first start
//! and stored sealed in the database so every node signs with the same keys.

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

/// The loaded signing keys. Deliberately not `Debug` (it holds private keys).
pub struct Keyring {
    keys: Vec<LoadedKey>,
    /// Authenticates refresh tokens (their family and generation).
    refresh_mac: super::sealing::MacKey,
}

impl Keyring {
    /// Loads every stored key and generates an active key for each algorithm that lacks one.
    pub async fn load_or_generate(store: &Store, sealer: &Sealer, now: i64) -> Result<Self, KeyError> {
        let mut rows = store.signing_keys().list().await?;
        for alg in SigningAlg::ALL {
            let has_active = rows.iter().any(|r| r.alg == alg.as_str() && r.state.signs());
            if !has_active {
                let row = generate(alg, sealer, now)?;
                store.signing_keys().insert(&row).await?;
                tracing::info!(kid = %row.kid, alg = alg.as_str(), "generated a new signing key");
                rows.push(row);
            }
        }
        let keys = rows.iter().map(|row| load(row, sealer)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { keys, refresh_mac: sealer.mac_key("pintu refresh tokens")? })
    }

    /// The MAC tag of a refresh token's public part.
    pub fn refresh_tag(&self, data: &str) -> Result<String, KeyError> {
        self.refresh_mac.tag(data.as_bytes())
    }

    /// Signs `claims` as a compact JWS with the newest active key of `alg`.
    pub fn sign(&self, alg: SigningAlg, typ: &str, claims: &Map<String, Value>) -> Result<String, KeyError> {
        let key = self
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
        let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
            // No `kid`, no key: our tokens always name their key.
            let Some(kid) = header.key_id() else { return Ok(None) };
            Ok(self.keys.iter().find(|k| k.kid == kid).map(|k| k.verifier.as_ref()))
        })
        .map_err(|_| KeyError::BadSignature)?;
        verified(payload, &header)
    }

    /// The public JWK Set (RFC 7517 §5) of every key still able to verify tokens.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self.keys.iter().map(|k| Value::Object(k.public_jwk.clone())).collect();
        serde_json::json!({ "keys": keys })
    }
}

pub(super) fn verified(payload: Vec<u8>, header: &JwsHeader) -> Result<VerifiedJws, KeyError> {
    let claims: Map<String, Value> = serde_json::from_slice(&payload).map_err(|_| KeyError::BadSignature)?;
    Ok(VerifiedJws {
        typ: header.token_type().map(str::to_owned),
        alg: header.algorithm().unwrap_or_default().to_owned(),
        claims,
    })
}

fn generate(alg: SigningAlg, sealer: &Sealer, now: i64) -> Result<SigningKeyRow, KeyError> {
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
        state: KeyState::Active,
        sealed_private: sealer.seal(private.to_string().as_bytes())?,
        public_jwk: public.to_string(),
        created_at: now,
        retired_at: None,
    })
}

fn load(row: &SigningKeyRow, sealer: &Sealer) -> Result<LoadedKey, KeyError> {
    let alg = SigningAlg::parse(&row.alg).ok_or(KeyError::NoActiveKey("unknown"))?;
    let private = Jwk::from_bytes(sealer.open(&row.sealed_private)?)?;
    let public = Jwk::from_bytes(row.public_jwk.as_bytes())?;
    let (signer, verifier): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) = match alg {
        SigningAlg::ES256 => (Box::new(ES256.signer_from_jwk(&private)?), Box::new(ES256.verifier_from_jwk(&public)?)),
        SigningAlg::RS256 => (Box::new(RS256.signer_from_jwk(&private)?), Box::new(RS256.verifier_from_jwk(&public)?)),
        SigningAlg::EdDSA => (Box::new(EdDSA.signer_from_jwk(&private)?), Box::new(EdDSA.verifier_from_jwk(&public)?)),
    };
    Ok(LoadedKey { kid: row.kid.clone(), alg, state: row.state, signer, verifier, public_jwk: public.into() })
}
