//! Receipts: a JWS by Pintu stating who approved (sub, NIP), what (the authorization details
//! with their signatures), when, at which level (`acr`, `amr`) and with which certificate
//! (`x5t#S256`). Verifiable offline: the JWS against Pintu's JWK Set, each signature against
//! its digest and the trust anchors.

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::details::{self, Detail};
use super::{Approval, RECEIPT_TYPE, Signing};
use crate::certificates::HashAlg;
use crate::domain::SigningAlg;
use crate::keys::KeyError;

pub(super) fn issue(
    signing: &Signing,
    id: &str,
    approval: &Approval<'_>,
    enriched: &Value,
    thumbprint: &str,
    now: i64,
) -> Result<String, KeyError> {
    let user = approval.user;
    let mut claims = Map::new();
    claims.insert("iss".into(), signing.inner.issuer.clone().into());
    claims.insert("iat".into(), now.into());
    claims.insert("jti".into(), id.into());
    claims.insert("sub".into(), user.id.to_string().into());
    if let Some(nip) = &user.profile.nip {
        claims.insert("nip".into(), nip.as_str().into());
    }
    if let Some(unit) = &user.profile.org_unit_id {
        claims.insert("opd".into(), unit.to_string().into());
    }
    claims.insert("client_id".into(), approval.client.to_string().into());
    claims.insert("channel".into(), approval.channel.as_str().into());
    claims.insert("acr".into(), approval.authn.level.acr().into());
    claims.insert("amr".into(), json!(approval.authn.amr));
    claims.insert("auth_time".into(), approval.authn.auth_time.into());
    claims.insert("x5t#S256".into(), thumbprint.into());
    claims.insert("authorization_details".into(), enriched.clone());
    signing.inner.keyring.sign(SigningAlg::RS256, RECEIPT_TYPE, &claims)
}

/// What verifying a receipt found.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptCheck {
    /// The JWS and every signature in it hold.
    pub valid: bool,
    pub problems: Vec<String>,
    /// The receipt's claims (when its JWS verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    pub signatures: Vec<SignatureCheck>,
}

/// One signature of a receipt.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureCheck {
    /// The document's label, or the transaction's reference.
    pub label: String,
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Signing {
    /// Verifies a receipt: its JWS with `jwks` (a JWK Set) or, without one, with Pintu's own
    /// keys; then each signature over its digest, by the certificate the receipt names,
    /// chaining to a trust anchor.
    pub fn verify_receipt(&self, token: &str, jwks: Option<&Value>) -> ReceiptCheck {
        let mut check = ReceiptCheck { valid: false, problems: Vec::new(), claims: None, signatures: Vec::new() };
        let verified = match jwks {
            Some(jwks) => crate::keys::verify_with_jwk_set(token.trim(), jwks),
            None => self.inner.keyring.verify(token.trim()),
        };
        let Ok(jws) = verified else {
            check.problems.push("the receipt's signature does not verify with the issuer's keys".into());
            return check;
        };
        if jws.typ.as_deref() != Some(RECEIPT_TYPE) {
            check.problems.push(format!("the JWS is not a receipt (typ must be {RECEIPT_TYPE})"));
        }
        if jwks.is_none() && jws.claims.get("iss").and_then(Value::as_str) != Some(self.inner.issuer.as_str()) {
            check.problems.push("the receipt was not issued here".into());
        }
        let thumbprint = jws.claims.get("x5t#S256").and_then(Value::as_str).unwrap_or_default().to_owned();
        let list = jws.claims.get("authorization_details").and_then(Value::as_array).cloned().unwrap_or_default();
        if list.is_empty() {
            check.problems.push("the receipt holds no authorization details".into());
        }
        for detail in &list {
            check.signatures.extend(self.check_detail(detail, &thumbprint));
        }
        if check.signatures.iter().any(|s| !s.valid) {
            check.problems.push("a signature does not hold".into());
        }
        check.valid = check.problems.is_empty();
        check.claims = Some(jws.claims);
        check
    }

    /// The signatures of one enriched detail, each checked against what the detail says was
    /// signed (the stated digests, or the transaction's content).
    fn check_detail(&self, enriched: &Value, thumbprint: &str) -> Vec<SignatureCheck> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let refused = |label: &str, why: &str| SignatureCheck {
            label: label.to_owned(),
            valid: false,
            signer: None,
            signing_time: None,
            problem: Some(why.to_owned()),
        };
        // The detail as approved: the enrichment removed, validated again.
        let mut base = enriched.clone();
        if let Value::Object(map) = &mut base {
            for key in ["signatures", "certificates", "signed_content"] {
                map.remove(key);
            }
        }
        let approved = match details::parse(&Value::Array(vec![base]).to_string(), &all_types()) {
            Ok(mut list) if list.len() == 1 => list.remove(0),
            _ => return vec![refused("?", "the authorization detail is not valid")],
        };
        let signatures = enriched.get("signatures").and_then(Value::as_array).cloned().unwrap_or_default();
        let (alg, expected): (HashAlg, Vec<(String, Vec<u8>)>) = match &approved {
            Detail::Credential { alg, digests, .. } => {
                (*alg, digests.iter().map(|d| (d.label.clone(), d.hash.clone())).collect())
            }
            Detail::Transaction(t) => {
                let content = approved.to_json().to_string().into_bytes();
                (HashAlg::Sha256, vec![(t.reference.clone(), HashAlg::Sha256.digest(&content))])
            }
        };
        if signatures.len() != expected.len() {
            return vec![refused("?", "not one signature per approved digest")];
        }
        expected
            .into_iter()
            .zip(signatures)
            .map(|((label, digest), signature)| {
                let stated = signature.get("hash").and_then(Value::as_str).and_then(|h| b64.decode(h).ok());
                if stated.as_deref() != Some(digest.as_slice()) {
                    return refused(&label, "the signature is not over the approved digest");
                }
                let Some(der) = signature.get("signature").and_then(Value::as_str).and_then(|s| b64.decode(s).ok())
                else {
                    return refused(&label, "no signature");
                };
                match self.inner.certificates.check_signature(&der, alg, &digest) {
                    Ok(found) if found.thumbprint == thumbprint => SignatureCheck {
                        label,
                        valid: true,
                        signer: Some(found.subject),
                        signing_time: found.signing_time,
                        problem: None,
                    },
                    Ok(_) => refused(&label, "signed with another certificate than the receipt names"),
                    Err(e) => refused(&label, &e.to_string()),
                }
            })
            .collect()
    }
}

fn all_types() -> Vec<String> {
    details::TYPES.iter().map(|t| (*t).to_owned()).collect()
}
