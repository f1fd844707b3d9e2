//! Certificates held by the CA's signing service (the key never leaves it): possession is
//! proven by asking the service to sign a fresh challenge with the person's certificate,
//! unlocked by the passphrase they type on Pintu's page (forwarded once, never stored or
//! logged), and verifying that signature against the certificate. The service sits behind
//! `SigningService`; `CscService` speaks the Cloud Signature Consortium API v2
//! (`credentials/list`, `credentials/authorize`, `signatures/signHash`).

use base64::Engine;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

/// SHA-256 (the digest signed) and the signature algorithms by key type.
const SHA256_OID: &str = "2.16.840.1.101.3.4.2.1";
const RSA_SHA256_OID: &str = "1.2.840.113549.1.1.11";
const ECDSA_SHA256_OID: &str = "1.2.840.10045.4.3.2";
const RSA_KEY_OID: &str = "1.2.840.113549.1.1.1";

/// What the service answered: the certificate chain of the credential used (DER, the person's
/// first) and its signature over the digest.
#[derive(Debug, Clone)]
pub struct RemoteSignature {
    pub chain: Vec<Vec<u8>>,
    pub signature: Vec<u8>,
}

/// Why the service did not sign.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The passphrase (or OTP) was refused, or the holder has no usable credential.
    #[error("the signing service refused: {0}")]
    Refused(String),
    #[error("the signing service is unavailable: {0}")]
    Unavailable(String),
}

/// A remote signing service: sign `digest` (SHA-256) for `holder` with the credential whose
/// certificate has one of the thumbprints `wanted`, unlocked by `passphrase`.
pub trait SigningService: Send + Sync {
    fn sign_hash<'a>(
        &'a self,
        holder: &'a str,
        passphrase: &'a str,
        digest: &'a [u8],
        wanted: &'a [String],
    ) -> BoxFuture<'a, Result<RemoteSignature, RemoteError>>;
}

/// The CSC API v2 over HTTPS with a bearer token for Pintu itself.
pub struct CscService {
    base: url::Url,
    token: String,
    client: reqwest::Client,
}

impl CscService {
    pub fn new(base: url::Url, token: String, timeout: std::time::Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { base, token, client }
    }

    async fn call(&self, method: &str, body: Value) -> Result<Value, RemoteError> {
        let url = format!("{}/{method}", self.base.as_str().trim_end_matches('/'));
        let sent = self
            .client
            .post(url)
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await;
        let response = sent
            .map_err(|e| RemoteError::Unavailable(if e.is_timeout() { "timed out" } else { "unreachable" }.into()))?;
        let status = response.status();
        let text = response.bytes().await.unwrap_or_default();
        let answer: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(answer);
        }
        // CSC v2 §10.1: errors are {error, error_description}; 4xx is a refusal of this request.
        let why = answer.get("error_description").or(answer.get("error")).and_then(Value::as_str).unwrap_or("refused");
        if status.is_client_error() {
            Err(RemoteError::Refused(format!("{method}: {why}")))
        } else {
            Err(RemoteError::Unavailable(format!("{method}: HTTP {}", status.as_u16())))
        }
    }
}

impl SigningService for CscService {
    fn sign_hash<'a>(
        &'a self,
        holder: &'a str,
        passphrase: &'a str,
        digest: &'a [u8],
        wanted: &'a [String],
    ) -> BoxFuture<'a, Result<RemoteSignature, RemoteError>> {
        Box::pin(async move {
            let b64 = base64::engine::general_purpose::STANDARD;
            let list = json!({ "userID": holder, "credentialInfo": true, "certificates": "chain" });
            let listed = self.call("credentials/list", list).await?;
            let infos = listed.get("credentialInfos").and_then(Value::as_array).cloned().unwrap_or_default();
            let found = infos.iter().find_map(|info| {
                let chain: Vec<Vec<u8>> = info
                    .pointer("/cert/certificates")?
                    .as_array()?
                    .iter()
                    .filter_map(|c| c.as_str().and_then(|c| b64.decode(c).ok()))
                    .collect();
                let leaf = chain.first()?;
                wanted.contains(&super::x509::thumbprint_of_der(leaf)).then(|| {
                    let id = info.get("credentialID").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let rsa = info
                        .pointer("/key/algo")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|o| o.as_str() == Some(RSA_KEY_OID)));
                    (id, chain, rsa)
                })
            });
            let Some((credential, chain, rsa)) = found else {
                return Err(RemoteError::Refused("no credential of this person holds a certificate bound here".into()));
            };
            let hash = b64.encode(digest);
            let authorize = json!({
                "credentialID": credential, "numSignatures": 1, "hashes": [hash],
                "hashAlgorithmOID": SHA256_OID, "PIN": passphrase,
            });
            let sad = self.call("credentials/authorize", authorize).await?;
            let sad = sad.get("SAD").and_then(Value::as_str).ok_or(RemoteError::Unavailable("no SAD".into()))?;
            let sign = json!({
                "credentialID": credential, "SAD": sad, "hashes": [hash], "hashAlgorithmOID": SHA256_OID,
                "signAlgo": if rsa { RSA_SHA256_OID } else { ECDSA_SHA256_OID },
            });
            let signed = self.call("signatures/signHash", sign).await?;
            let signature = signed
                .pointer("/signatures/0")
                .and_then(Value::as_str)
                .and_then(|s| b64.decode(s).ok())
                .ok_or(RemoteError::Unavailable("no signature in the answer".into()))?;
            Ok(RemoteSignature { chain, signature })
        })
    }
}
