//! What an application asks a person to approve, as RFC 9396 `authorization_details`: the
//! types Pintu knows, each validated against its schema (unknown types and unknown fields
//! refused), within size limits, and only the types the application registered for.
//!
//! - `credential`: the Cloud Signature Consortium API v2 type for remote signing (CSC v2
//!   §8.3.2): `documentDigests` (`hash`, base64, and a `label` the person reads),
//!   `hashAlgorithmOID`, optionally `credentialID`.
//! - `urn:pintu:transaction`: approving a transaction that has no document: a description,
//!   a reference, optionally an amount with its currency and the OPD it concerns.

use base64::Engine;
use serde_json::{Map, Value};

pub use crate::certificates::HashAlg;

pub use crate::domain::authorization::{
    AUTHORIZATION_DETAILS_TYPES as TYPES, CREDENTIAL_TYPE as CREDENTIAL, TRANSACTION_TYPE as TRANSACTION,
};

/// The longest `authorization_details` accepted, as sent (bytes).
pub const MAX_TEXT: usize = 16 * 1024;
/// At most this many objects in one request, and digests in all.
const MAX_DETAILS: usize = 10;
const MAX_DIGESTS: usize = 50;
const MAX_LABEL: usize = 200;
const MAX_DESCRIPTION: usize = 500;
const MAX_REFERENCE: usize = 100;

/// One document digest to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentDigest {
    pub hash: Vec<u8>,
    pub label: String,
}

/// One validated authorization detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Credential {
        credential_id: Option<String>,
        alg: HashAlg,
        digests: Vec<DocumentDigest>,
        /// CSC fields Pintu checks but does not act on (`locations`, `signatureQualifier`),
        /// kept so the granted details are the requested ones.
        retained: Map<String, Value>,
    },
    Transaction(Transaction),
}

/// A transaction approved without a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub description: String,
    pub reference: String,
    /// A decimal amount as text (never a float) and its ISO 4217 currency.
    pub amount: Option<(String, String)>,
    pub opd: Option<String>,
}

impl Detail {
    /// The digest algorithm the detail is signed with (a transaction's content: SHA-256).
    pub fn alg(&self) -> HashAlg {
        match self {
            Detail::Credential { alg, .. } => *alg,
            Detail::Transaction(_) => HashAlg::Sha256,
        }
    }

    /// The CSC credential the application named, if any.
    pub fn credential_id(&self) -> Option<&str> {
        match self {
            Detail::Credential { credential_id, .. } => credential_id.as_deref(),
            Detail::Transaction(_) => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Detail::Credential { .. } => CREDENTIAL,
            Detail::Transaction(_) => TRANSACTION,
        }
    }

    /// The detail as JSON, in the form it was validated from (keys sorted).
    pub fn to_json(&self) -> Value {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut out = Map::new();
        out.insert("type".into(), self.type_name().into());
        match self {
            Detail::Credential { credential_id, alg, digests, retained } => {
                out.extend(retained.clone());
                if let Some(id) = credential_id {
                    out.insert("credentialID".into(), id.clone().into());
                }
                out.insert("hashAlgorithmOID".into(), alg.oid().into());
                let list = digests
                    .iter()
                    .map(|d| serde_json::json!({ "hash": b64.encode(&d.hash), "label": d.label }))
                    .collect();
                out.insert("documentDigests".into(), Value::Array(list));
            }
            Detail::Transaction(t) => {
                out.insert("description".into(), t.description.clone().into());
                out.insert("reference".into(), t.reference.clone().into());
                if let Some((amount, currency)) = &t.amount {
                    out.insert("amount".into(), amount.clone().into());
                    out.insert("currency".into(), currency.clone().into());
                }
                if let Some(opd) = &t.opd {
                    out.insert("opd".into(), opd.clone().into());
                }
            }
        }
        Value::Object(out)
    }
}

/// Why `authorization_details` were refused (RFC 9396 §5 `invalid_authorization_details`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DetailsError(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, DetailsError> {
    Err(DetailsError(why.into()))
}

/// Parses and validates `authorization_details` (a JSON array, RFC 9396 §2) for a client
/// registered for the types in `allowed`.
pub fn parse(text: &str, allowed: &[String]) -> Result<Vec<Detail>, DetailsError> {
    if text.len() > MAX_TEXT {
        return refuse(format!("authorization_details is longer than {MAX_TEXT} bytes"));
    }
    let Ok(Value::Array(list)) = serde_json::from_str::<Value>(text) else {
        return refuse("authorization_details must be a JSON array of objects");
    };
    if list.is_empty() || list.len() > MAX_DETAILS {
        return refuse(format!("authorization_details must hold 1 to {MAX_DETAILS} objects"));
    }
    let mut details = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let Value::Object(fields) = item else { return refuse(format!("authorization_details[{i}] is not an object")) };
        let kind = fields.get("type").and_then(Value::as_str).unwrap_or_default();
        if !TYPES.contains(&kind) {
            return refuse(format!("authorization_details[{i}]: type {kind:?} is not supported"));
        }
        if !allowed.iter().any(|a| a == kind) {
            return refuse(format!("authorization_details[{i}]: the application is not registered for type {kind}"));
        }
        let detail = match kind {
            CREDENTIAL => credential(fields),
            _ => transaction(fields),
        };
        details.push(detail.map_err(|e| DetailsError(format!("authorization_details[{i}]: {}", e.0)))?);
    }
    // One request, one signing call: one digest algorithm (a transaction is SHA-256) and one
    // credential, so one certificate signs everything and the passphrase travels once.
    let algs: std::collections::BTreeSet<&str> = details.iter().map(|d| d.alg().oid()).collect();
    if algs.len() > 1 {
        return refuse("every authorization detail of one request must use the same digest algorithm");
    }
    let ids: std::collections::BTreeSet<Option<&str>> =
        details.iter().filter(|d| matches!(d, Detail::Credential { .. })).map(Detail::credential_id).collect();
    if ids.len() > 1 {
        return refuse("every credential detail of one request must name the same credentialID");
    }
    let digests: usize =
        details.iter().map(|d| if let Detail::Credential { digests, .. } = d { digests.len() } else { 1 }).sum();
    if digests > MAX_DIGESTS {
        return refuse(format!("at most {MAX_DIGESTS} documents can be signed at once"));
    }
    Ok(details)
}

/// The details as the JSON array they are stored and shown as.
pub fn to_json(details: &[Detail]) -> Value {
    Value::Array(details.iter().map(Detail::to_json).collect())
}

fn only(fields: &Map<String, Value>, known: &[&str]) -> Result<(), DetailsError> {
    match fields.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => refuse(format!("unknown field {unknown}")),
        None => Ok(()),
    }
}

/// Characters that change how text reads without being seen (Unicode format characters:
/// bidirectional overrides and isolates, zero-width ones, the soft hyphen): a label could show
/// something else than it says.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}')
        || matches!(c, '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Text a person reads: present, not too long, nothing invisible in it.
pub fn readable(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(is_invisible)
}

fn text(fields: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>, DetailsError> {
    match fields.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if readable(s, max) => Ok(Some(s.clone())),
        Some(_) => {
            refuse(format!("{name} must be text of 1 to {max} characters without control or invisible characters"))
        }
    }
}

fn required(fields: &Map<String, Value>, name: &str, max: usize) -> Result<String, DetailsError> {
    text(fields, name, max)?.ok_or_else(|| DetailsError(format!("{name} is required")))
}

fn credential(fields: &Map<String, Value>) -> Result<Detail, DetailsError> {
    let known = ["type", "credentialID", "documentDigests", "hashAlgorithmOID", "locations", "signatureQualifier"];
    only(fields, &known)?;
    let mut retained = Map::new();
    if let Some(locations) = fields.get("locations") {
        let fine = locations
            .as_array()
            .is_some_and(|l| l.len() <= 5 && l.iter().all(|v| v.as_str().is_some_and(|s| readable(s, 200))));
        if !fine {
            return refuse("locations must be an array of at most 5 strings");
        }
        retained.insert("locations".into(), locations.clone());
    }
    if let Some(qualifier) = text(fields, "signatureQualifier", 100)? {
        retained.insert("signatureQualifier".into(), qualifier.into());
    }
    let oid = required(fields, "hashAlgorithmOID", 64)?;
    let alg =
        HashAlg::from_oid(&oid).ok_or_else(|| DetailsError(format!("hashAlgorithmOID {oid} is not supported")))?;
    let Some(Value::Array(list)) = fields.get("documentDigests") else {
        return refuse("documentDigests (an array) is required");
    };
    if list.is_empty() {
        return refuse("documentDigests is empty");
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut digests = Vec::with_capacity(list.len());
    for (j, entry) in list.iter().enumerate() {
        let Value::Object(digest) = entry else { return refuse(format!("documentDigests[{j}] is not an object")) };
        only(digest, &["hash", "label"]).map_err(|e| DetailsError(format!("documentDigests[{j}]: {}", e.0)))?;
        let hash = required(digest, "hash", 128)?;
        let hash = b64
            .decode(hash.as_bytes())
            .map_err(|_| DetailsError(format!("documentDigests[{j}].hash is not base64")))?;
        if hash.len() != alg.len() {
            return refuse(format!("documentDigests[{j}].hash has {} bytes, {oid} needs {}", hash.len(), alg.len()));
        }
        let label = required(digest, "label", MAX_LABEL)?;
        digests.push(DocumentDigest { hash, label });
    }
    Ok(Detail::Credential { credential_id: text(fields, "credentialID", 200)?, alg, digests, retained })
}

fn transaction(fields: &Map<String, Value>) -> Result<Detail, DetailsError> {
    only(fields, &["type", "description", "reference", "amount", "currency", "opd"])?;
    let amount = match fields.get("amount") {
        None => None,
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        Some(Value::String(s)) if is_decimal(s) => Some(s.clone()),
        Some(_) => return refuse("amount must be a non-negative decimal (text, at most 2 decimals) or an integer"),
    };
    let currency = text(fields, "currency", 3)?;
    if currency.as_ref().is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
        return refuse("currency must be an ISO 4217 code such as IDR");
    }
    let amount = match (amount, currency) {
        (Some(a), Some(c)) => Some((a, c)),
        (None, None) => None,
        _ => return refuse("amount and currency go together"),
    };
    Ok(Detail::Transaction(Transaction {
        description: required(fields, "description", MAX_DESCRIPTION)?,
        reference: required(fields, "reference", MAX_REFERENCE)?,
        amount,
        opd: text(fields, "opd", 100)?,
    }))
}

fn is_decimal(s: &str) -> bool {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !whole.is_empty()
        && whole.len() <= 15
        && digits(whole)
        && digits(fraction)
        && fraction.len() <= 2
        && (s.contains('.') != fraction.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        TYPES.iter().map(|t| (*t).to_owned()).collect()
    }

    fn sha256_b64() -> String {
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    }

    #[test]
    fn a_credential_request_is_read_and_written_back_the_same() {
        let text = format!(
            r#"[{{"type":"credential","hashAlgorithmOID":"2.16.840.1.101.3.4.2.1","documentDigests":[{{"hash":"{}","label":"Surat 12/2026"}}]}}]"#,
            sha256_b64()
        );
        let details = parse(&text, &all()).unwrap();
        assert_eq!(to_json(&details), serde_json::from_str::<Value>(&text).unwrap());
    }

    #[test]
    fn digests_of_the_wrong_length_for_their_algorithm_are_refused() {
        let text = format!(
            r#"[{{"type":"credential","hashAlgorithmOID":"2.16.840.1.101.3.4.2.3","documentDigests":[{{"hash":"{}","label":"x"}}]}}]"#,
            sha256_b64()
        );
        assert!(parse(&text, &all()).unwrap_err().0.contains("needs 64"));
    }

    #[test]
    fn unknown_types_fields_and_unregistered_types_are_refused() {
        assert!(parse(r#"[{"type":"payment_initiation"}]"#, &all()).unwrap_err().0.contains("not supported"));
        let extra = r#"[{"type":"urn:pintu:transaction","description":"d","reference":"r","color":"red"}]"#;
        assert!(parse(extra, &all()).unwrap_err().0.contains("unknown field color"));
        let fine = r#"[{"type":"urn:pintu:transaction","description":"d","reference":"r"}]"#;
        assert!(parse(fine, &[CREDENTIAL.to_owned()]).unwrap_err().0.contains("not registered"));
        assert!(parse(fine, &all()).is_ok());
    }

    #[test]
    fn amounts_are_decimals_with_a_currency() {
        let with = |amount: &str| {
            format!(
                r#"[{{"type":"urn:pintu:transaction","description":"d","reference":"r","amount":{amount},"currency":"IDR"}}]"#
            )
        };
        assert!(parse(&with("\"1500000.50\""), &all()).is_ok());
        assert!(parse(&with("1500000"), &all()).is_ok());
        for bad in ["1.5", "\"1.\"", "\"-3\"", "\"1.234\"", "\"1e5\""] {
            assert!(parse(&with(bad), &all()).is_err(), "{bad}");
        }
        let no_currency = r#"[{"type":"urn:pintu:transaction","description":"d","reference":"r","amount":"5"}]"#;
        assert!(parse(no_currency, &all()).is_err());
    }

    #[test]
    fn invisible_characters_mixed_algorithms_and_credentials_are_refused() {
        let rtl = "[{\"type\":\"urn:pintu:transaction\",\"description\":\"a\\u202eb\",\"reference\":\"r\"}]";
        assert!(parse(rtl, &all()).unwrap_err().0.contains("invisible"));
        let sha512 = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
        let mixed = format!(
            r#"[{{"type":"credential","hashAlgorithmOID":"2.16.840.1.101.3.4.2.3","documentDigests":[{{"hash":"{sha512}","label":"x"}}]}},
               {{"type":"urn:pintu:transaction","description":"d","reference":"r"}}]"#
        );
        assert!(parse(&mixed, &all()).unwrap_err().0.contains("same digest algorithm"));
        let one = |id: &str| {
            format!(
                r#"{{"type":"credential","credentialID":"{id}","hashAlgorithmOID":"2.16.840.1.101.3.4.2.1","documentDigests":[{{"hash":"{}","label":"x"}}]}}"#,
                sha256_b64()
            )
        };
        assert!(parse(&format!("[{},{}]", one("a"), one("b")), &all()).unwrap_err().0.contains("same credentialID"));
        let kept = format!(
            r#"[{{"type":"credential","locations":["https://esign.example"],"signatureQualifier":"eu_eidas_qes","hashAlgorithmOID":"2.16.840.1.101.3.4.2.1","documentDigests":[{{"hash":"{}","label":"x"}}]}}]"#,
            sha256_b64()
        );
        let granted = to_json(&parse(&kept, &all()).unwrap());
        assert_eq!(granted[0]["locations"][0], "https://esign.example");
        assert_eq!(granted[0]["signatureQualifier"], "eu_eidas_qes");
    }

    #[test]
    fn oversized_or_malformed_details_are_refused() {
        assert!(parse(&"[".repeat(MAX_TEXT + 1), &all()).is_err());
        assert!(parse("{}", &all()).is_err());
        assert!(parse("[]", &all()).is_err());
        let control = "[{\"type\":\"urn:pintu:transaction\",\"description\":\"a\\u0007\",\"reference\":\"r\"}]";
        assert!(parse(control, &all()).is_err());
    }
}
