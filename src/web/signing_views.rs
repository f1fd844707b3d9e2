//! What a person is asked to sign, as pages show it: each document's label and digest (hex,
//! as `sha256sum` prints it), or the transaction's description, reference, amount and OPD.
//! Built from the validated `authorization_details`, never from anything the browser sent.

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

/// One authorization detail on a page.
#[derive(Debug, Default, Serialize)]
pub struct DetailView {
    /// `credential` or `transaction`.
    pub kind: &'static str,
    pub algorithm: String,
    pub documents: Vec<DocumentView>,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub amount: Option<String>,
    pub opd: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DocumentView {
    pub label: String,
    pub digest: String,
}

fn algorithm_name(oid: &str) -> &'static str {
    match oid {
        "2.16.840.1.101.3.4.2.1" => "SHA-256",
        "2.16.840.1.101.3.4.2.2" => "SHA-384",
        "2.16.840.1.101.3.4.2.3" => "SHA-512",
        _ => "?",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The page form of validated details (a JSON array).
pub fn details(list: &Value) -> Vec<DetailView> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let b64 = base64::engine::general_purpose::STANDARD;
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|d| match d.get("type").and_then(Value::as_str) {
                    Some("credential") => DetailView {
                        kind: "credential",
                        algorithm: algorithm_name(
                            d.get("hashAlgorithmOID").and_then(Value::as_str).unwrap_or_default(),
                        )
                        .to_owned(),
                        documents: d
                            .get("documentDigests")
                            .and_then(Value::as_array)
                            .map(|docs| {
                                docs.iter()
                                    .map(|doc| DocumentView {
                                        label: text(doc, "label").unwrap_or_default(),
                                        digest: text(doc, "hash")
                                            .and_then(|h| b64.decode(h).ok())
                                            .map(|h| hex(&h))
                                            .unwrap_or_default(),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        ..DetailView::default()
                    },
                    _ => DetailView {
                        kind: "transaction",
                        description: text(d, "description"),
                        reference: text(d, "reference"),
                        amount: text(d, "amount").map(|a| format!("{a} {}", text(d, "currency").unwrap_or_default())),
                        opd: text(d, "opd"),
                        ..DetailView::default()
                    },
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A CIBA request waiting for the person, on their account page.
#[derive(Debug, Serialize)]
pub struct ApprovalView {
    pub id: String,
    pub client_name: String,
    pub binding_message: Option<String>,
    pub scopes: Vec<String>,
    pub details: Vec<DetailView>,
    /// "YYYY-MM-DD HH:MM UTC".
    pub expires: String,
}
