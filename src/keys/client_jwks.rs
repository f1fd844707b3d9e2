//! An application's own public keys (RFC 7591 `jwks`, or the set behind its `jwks_uri`): which
//! sets are acceptable, and verifying a JWS (RFC 7523 client assertion) with one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsVerifier, RS256};
use serde_json::Value;

use super::KeyError;
use super::keyring::{VerifiedJws, verified};

/// Most keys a registered set may hold (a set is a rotation window, not a key store).
pub const MAX_CLIENT_KEYS: usize = 20;

/// JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Checks a JWK Set an application registers inline (`jwks`). Every key must be a public key;
/// every key that may sign (`use` absent or `sig`) must be one Pintu can verify with: EC P-256
/// (ES256), RSA of 2048 bits or more (RS256) or Ed25519 (EdDSA). `kid`s are distinct
/// (RFC 7517 §4.5), so that an assertion's `kid` names one key.
pub fn check_client_jwks(jwks: &Value) -> Result<(), String> {
    let keys = key_list(jwks)?;
    let mut kids = Vec::new();
    let mut signing = 0;
    for (i, key) in keys.iter().enumerate() {
        let jwk = public_jwk(key).map_err(|e| format!("key {i}: {e}"))?;
        if let Some(kid) = jwk.key_id() {
            if kids.iter().any(|k| k == kid) {
                return Err(format!("key {i}: kid {kid} is used twice"));
            }
            kids.push(kid.to_owned());
        }
        if jwk.key_use() == Some("enc") {
            continue;
        }
        if verifier_for(&jwk).is_none() {
            return Err(format!(
                "key {i}: not a usable EC P-256 (ES256), RSA of 2048 bits or more (RS256) or Ed25519 (EdDSA) \
                 public key"
            ));
        }
        signing += 1;
    }
    if signing == 0 {
        return Err("the set has no signing key".to_owned());
    }
    Ok(())
}

/// Checks a set fetched from a `jwks_uri`. More tolerant than a registered set (it may carry
/// encryption keys or keys for other algorithms, which are ignored), but a set that publishes
/// private key material is refused whole: its owner has leaked the key.
pub fn check_fetched_jwks(jwks: &Value) -> Result<(), String> {
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or("not a JWK Set (no keys array)")?;
    if keys.iter().any(|k| PRIVATE_MEMBERS.iter().any(|m| k.get(m).is_some())) {
        return Err("the set contains private key material".to_owned());
    }
    if !keys.iter().filter_map(usable_verifier).any(|_| true) {
        return Err("the set has no usable signing key".to_owned());
    }
    Ok(())
}

/// The `kid` in the protected header of a compact JWS, if any (unverified).
pub fn jws_key_id(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    header.get("kid")?.as_str().map(str::to_owned)
}

/// Whether the set holds a key with this `kid`.
pub fn has_key_id(jwks: &Value, kid: &str) -> bool {
    jwks.get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| keys.iter().any(|k| k.get("kid").and_then(Value::as_str) == Some(kid)))
}

/// Verifies a compact JWS with one of the set's signing keys: the header's `alg` must match the
/// key, and its `kid`, when both name one, must match too. Private keys are never used.
pub fn verify_with_jwk_set(token: &str, jwks: &Value) -> Result<VerifiedJws, KeyError> {
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or(KeyError::BadSignature)?;
    let verifiers: Vec<(Option<String>, Box<dyn JwsVerifier>)> = keys.iter().filter_map(usable_verifier).collect();
    let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
        let alg = header.algorithm();
        let kid = header.key_id();
        Ok(verifiers
            .iter()
            // A key without `kid` matches any header `kid`; a named key only its own.
            .find(|(k, v)| Some(v.algorithm().name()) == alg && (kid.is_none() || k.is_none() || k.as_deref() == kid))
            .map(|(_, v)| v.as_ref()))
    })
    .map_err(|_| KeyError::BadSignature)?;
    verified(payload, &header)
}

fn key_list(jwks: &Value) -> Result<&Vec<Value>, String> {
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or("must be a JWK Set: an object with a keys array")?;
    if keys.is_empty() {
        return Err("the keys array is empty".to_owned());
    }
    if keys.len() > MAX_CLIENT_KEYS {
        return Err(format!("at most {MAX_CLIENT_KEYS} keys"));
    }
    Ok(keys)
}

/// A key as a public JWK, or why it is not one.
fn public_jwk(key: &Value) -> Result<Jwk, String> {
    let map = key.as_object().ok_or("not a JSON object")?;
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| map.contains_key(**m)) {
        return Err(format!("has the private member {member}; register public keys only"));
    }
    let jwk = Jwk::from_map(map.clone()).map_err(|_| "not a JWK (RFC 7517 §4)".to_owned())?;
    match jwk.key_use() {
        None | Some("sig") | Some("enc") => Ok(jwk),
        Some(other) => Err(format!("use {other} is neither sig nor enc")),
    }
}

fn usable_verifier(key: &Value) -> Option<(Option<String>, Box<dyn JwsVerifier>)> {
    let jwk = public_jwk(key).ok()?;
    let verifier = verifier_for(&jwk)?;
    Some((jwk.key_id().map(str::to_owned), verifier))
}

/// A verifier for a client's public key; only the algorithms Pintu accepts. josekit refuses
/// RSA keys under 2048 bits, curves other than the algorithm's, and `use` other than `sig`.
fn verifier_for(jwk: &Jwk) -> Option<Box<dyn JwsVerifier>> {
    let alg = jwk.algorithm();
    match jwk.key_type() {
        "EC" if alg.is_none_or(|a| a == "ES256") => ES256.verifier_from_jwk(jwk).ok().map(|v| Box::new(v) as _),
        "RSA" if alg.is_none_or(|a| a == "RS256") => RS256.verifier_from_jwk(jwk).ok().map(|v| Box::new(v) as _),
        "OKP" if alg.is_none_or(|a| a == "EdDSA") => EdDSA.verifier_from_jwk(jwk).ok().map(|v| Box::new(v) as _),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec_key(kid: &str) -> (Jwk, Value) {
        let mut private = Jwk::generate_ec_key(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
        private.set_key_id(kid);
        let mut public = private.to_public_key().unwrap();
        public.set_key_id(kid);
        (private, Value::Object(public.into()))
    }

    #[test]
    fn a_public_p256_key_is_accepted() {
        let (_, public) = ec_key("k1");
        assert_eq!(check_client_jwks(&serde_json::json!({ "keys": [public] })), Ok(()));
    }

    #[test]
    fn private_symmetric_malformed_and_weak_keys_are_refused() {
        let (private, public) = ec_key("k1");
        let private = Value::Object(private.into());
        let rsa_1024 = {
            let pair = josekit::jws::RS256.generate_key_pair(2048).unwrap().to_jwk_public_key();
            let mut v = Value::Object(pair.into());
            v["n"] = Value::String(URL_SAFE_NO_PAD.encode([0xc5u8; 128])); // 1024 bits
            v
        };
        let cases = [
            serde_json::json!({ "keys": [private] }),
            serde_json::json!({ "keys": [{"kty": "oct", "k": "c2VjcmV0"}] }),
            serde_json::json!({ "keys": [{"kty": "EC", "crv": "P-256"}] }),
            serde_json::json!({ "keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}] }),
            serde_json::json!({ "keys": [rsa_1024] }),
            serde_json::json!({ "keys": [] }),
            serde_json::json!({ "keys": "nope" }),
            serde_json::json!([public.clone()]),
            serde_json::json!({ "keys": [public.clone(), public.clone()] }),
        ];
        for case in cases {
            assert!(check_client_jwks(&case).is_err(), "{case}");
        }
    }

    #[test]
    fn encryption_keys_are_allowed_beside_a_signing_key_but_not_alone() {
        let (_, public) = ec_key("sig-1");
        let (_, mut enc) = ec_key("enc-1");
        enc["use"] = "enc".into();
        assert_eq!(check_client_jwks(&serde_json::json!({ "keys": [public, enc.clone()] })), Ok(()));
        assert!(check_client_jwks(&serde_json::json!({ "keys": [enc] })).is_err());
    }

    #[test]
    fn a_fetched_set_with_private_material_is_refused() {
        let (private, public) = ec_key("k1");
        assert!(check_fetched_jwks(&serde_json::json!({ "keys": [public.clone()] })).is_ok());
        let leaked = serde_json::json!({ "keys": [public, Value::Object(private.into())] });
        assert!(check_fetched_jwks(&leaked).is_err());
    }

    #[test]
    fn key_id_is_read_from_the_protected_header() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"k9"}"#);
        assert_eq!(jws_key_id(&format!("{header}.e30.sig")).as_deref(), Some("k9"));
        assert_eq!(jws_key_id("!!.e30.sig"), None);
    }
}
