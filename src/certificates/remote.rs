//! Certificates held by the CA's signing service (the key never leaves it): possession is
//! proven by asking the service to sign a fresh challenge with the person's certificate,
//! unlocked by the passphrase they type on Pintu's page (forwarded once, never stored or
//! logged), and verifying that signature against the certificate. The service sits behind
//! `SigningService`; `CscService` speaks the Cloud Signature Consortium API v2
//! (`credentials/list`, `credentials/authorize`, `signatures/signHash`), `bsre::BsreService`
//! the BSrE e-sign API.

use base64::Engine;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::detached::{self, HashAlg};

/// The signature algorithms by key type and digest (CSC v2 `signAlgo`).
fn sign_algo(rsa: bool, alg: HashAlg) -> &'static str {
    match (rsa, alg) {
        (true, HashAlg::Sha256) => "1.2.840.113549.1.1.11",
        (true, HashAlg::Sha384) => "1.2.840.113549.1.1.12",
        (true, HashAlg::Sha512) => "1.2.840.113549.1.1.13",
        (false, HashAlg::Sha256) => "1.2.840.10045.4.3.2",
        (false, HashAlg::Sha384) => "1.2.840.10045.4.3.3",
        (false, HashAlg::Sha512) => "1.2.840.10045.4.3.4",
    }
}
const RSA_KEY_OID: &str = "1.2.840.113549.1.1.1";

/// What to sign: each of `digests` (made with `alg`) for `holder`, with the credential whose
/// certificate has one of the thumbprints `wanted`, unlocked by `passphrase`.
pub struct SignRequest<'a> {
    pub holder: &'a str,
    pub passphrase: &'a str,
    pub alg: HashAlg,
    /// The credential the application named (CSC `credentialID`), if any.
    pub credential: Option<&'a str>,
    pub digests: &'a [Vec<u8>],
    pub wanted: &'a [String],
    pub signing_time: i64,
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

/// A remote signing service: a detached CMS SignedData (DER) over each digest, in order.
/// What comes back is checked by the caller (`detached::verify_detached`), never trusted as is.
pub trait SigningService: Send + Sync {
    fn sign_digests<'a>(&'a self, request: SignRequest<'a>) -> BoxFuture<'a, Result<Vec<Vec<u8>>, RemoteError>>;
}

/// The CSC API v2 over HTTPS with a bearer token for Pintu itself.
pub struct CscService {
    base: url::Url,
    token: String,
    client: reqwest::Client,
}

/// The HTTP client of a signing service: bounded in time, never following a redirect (the
/// passphrase goes only where it was configured to go).
pub(super) fn http_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default()
}

/// POSTs `body` as JSON; a transport failure is `Unavailable`. The status and the JSON answer
/// (`Null` when it is not JSON).
pub(super) async fn post_json(
    request: reqwest::RequestBuilder,
    body: &Value,
) -> Result<(reqwest::StatusCode, Value), RemoteError> {
    let sent = request.header("content-type", "application/json").body(body.to_string()).send().await;
    let response =
        sent.map_err(|e| RemoteError::Unavailable(if e.is_timeout() { "timed out" } else { "unreachable" }.into()))?;
    let status = response.status();
    let text = response.bytes().await.unwrap_or_default();
    Ok((status, serde_json::from_slice(&text).unwrap_or(Value::Null)))
}

impl CscService {
    pub fn new(base: url::Url, token: String, timeout: std::time::Duration) -> Self {
        Self { base, token, client: http_client(timeout) }
    }

    async fn call(&self, method: &str, body: Value) -> Result<Value, RemoteError> {
        let url = format!("{}/{method}", self.base.as_str().trim_end_matches('/'));
        let (status, answer) = post_json(self.client.post(url).bearer_auth(&self.token), &body).await?;
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
    fn sign_digests<'a>(&'a self, r: SignRequest<'a>) -> BoxFuture<'a, Result<Vec<Vec<u8>>, RemoteError>> {
        Box::pin(async move {
            let b64 = base64::engine::general_purpose::STANDARD;
            let list = json!({ "userID": r.holder, "credentialInfo": true, "certificates": "chain" });
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
                let id = info.get("credentialID").and_then(Value::as_str).unwrap_or_default().to_owned();
                let named = r.credential.is_none_or(|wanted| wanted == id);
                (named && r.wanted.contains(&super::x509::thumbprint_of_der(leaf))).then(|| {
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
            // CSC signs hashes: of each CMS's signed attributes, which carry the digest.
            let unsigned: Vec<detached::Unsigned> = r
                .digests
                .iter()
                .map(|d| detached::Unsigned::new(r.alg, d, r.signing_time))
                .collect::<Result<_, _>>()?;
            let hashes: Vec<String> = unsigned.iter().map(|u| b64.encode(u.to_be_signed())).collect();
            let authorize = json!({
                "credentialID": credential, "numSignatures": hashes.len(), "hashes": hashes,
                "hashAlgorithmOID": r.alg.oid(), "PIN": r.passphrase,
            });
            let sad = self.call("credentials/authorize", authorize).await?;
            let sad = sad.get("SAD").and_then(Value::as_str).ok_or(RemoteError::Unavailable("no SAD".into()))?;
            let algo = sign_algo(rsa, r.alg);
            let sign = json!({
                "credentialID": credential, "SAD": sad, "hashes": hashes, "hashAlgorithmOID": r.alg.oid(), "signAlgo": algo,
            });
            let signed = self.call("signatures/signHash", sign).await?;
            let signatures: Vec<Vec<u8>> = signed
                .get("signatures")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(|s| s.as_str().and_then(|s| b64.decode(s).ok())).collect())
                .unwrap_or_default();
            if signatures.len() != unsigned.len() {
                return Err(RemoteError::Unavailable("the answer does not hold one signature per hash".into()));
            }
            let assembled =
                unsigned.into_iter().zip(signatures).map(|(u, signature)| u.assemble(&chain, algo, signature));
            Ok(assembled.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

impl From<detached::CmsError> for RemoteError {
    fn from(e: detached::CmsError) -> Self {
        RemoteError::Unavailable(e.to_string())
    }
}
