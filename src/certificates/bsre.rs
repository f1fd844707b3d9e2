//! The BSrE e-sign API (Balai Sertifikasi Elektronik, BSSN) as a `SigningService`: the person
//! is named by NIK and unlocks their certificate with their passphrase; BSrE signs a document
//! digest and answers a detached CMS (as for a PDF's byte range, PAdES). Before signing, the
//! person's certificate status is asked (only `ISSUE` may sign).
//!
//! BSrE publishes its API to registered institutions only; the paths and fields here are the
//! ones BSSN's own client code uses (OAuth 2.0 client credentials at `/oauth2/token`,
//! `/api/v2/user/check/status`, `/v2/esign/v2/api/entity/sign/hash/pdf` with
//! `signaturePropertiesHashMap` → `cmsSignedDataHashMap`), and the adapter is tested against
//! `tests/signing/dev-signer`, which speaks that subset. BSrE signs SHA-256 digests.

use std::sync::Mutex;

use base64::Engine;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::detached::HashAlg;
use super::remote::{RemoteError, SignRequest, SigningService, post_json};

/// BSrE's status codes for a refusal that is the person's (wrong passphrase, not registered).
const REFUSALS: &[i64] = &[2011, 2021, 2031, 1110];

pub struct BsreService {
    base: url::Url,
    /// `client_id:client_secret` for the token endpoint.
    credentials: (String, String),
    client: reqwest::Client,
    /// The current access token and when it stops being used (unix seconds).
    token: Mutex<Option<(String, i64)>>,
}

impl BsreService {
    pub fn new(base: url::Url, credentials: &str, timeout: std::time::Duration) -> Result<Self, String> {
        let (id, secret) =
            credentials.trim().split_once(':').ok_or("the BSrE token file must hold client_id:client_secret")?;
        let client = super::remote::http_client(timeout);
        Ok(Self { base, credentials: (id.to_owned(), secret.to_owned()), client, token: Mutex::new(None) })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }

    async fn access_token(&self) -> Result<String, RemoteError> {
        let cached = self.token.lock().ok().and_then(|t| t.clone());
        if let Some((token, until)) = cached
            && until > Self::now()
        {
            return Ok(token);
        }
        let (id, secret) = &self.credentials;
        let request = self.client.post(self.url("/oauth2/token")).basic_auth(id, Some(secret));
        let answer =
            Self::read(post_json(request, &json!({ "grant_type": "client_credentials" })).await?, "oauth2/token")?;
        let token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or(RemoteError::Unavailable("oauth2/token: no access_token".into()))?;
        let lifetime = answer.get("expires_in").and_then(Value::as_i64).unwrap_or(300);
        if let Ok(mut slot) = self.token.lock() {
            *slot = Some((token.to_owned(), Self::now() + (lifetime - 30).max(0)));
        }
        Ok(token.to_owned())
    }

    async fn call(&self, path: &str, body: Value) -> Result<Value, RemoteError> {
        let token = self.access_token().await?;
        Self::read(post_json(self.client.post(self.url(path)).bearer_auth(token), &body).await?, path)
    }

    /// BSrE's answer, or its refusal: `{status_code, error|message}`.
    fn read((status, answer): (reqwest::StatusCode, Value), what: &str) -> Result<Value, RemoteError> {
        if status.is_success() {
            return Ok(answer);
        }
        let code = answer.get("status_code").and_then(Value::as_i64).unwrap_or(0);
        let why = answer.get("message").or(answer.get("error")).and_then(Value::as_str).unwrap_or("refused");
        if REFUSALS.contains(&code) || status.as_u16() == 400 {
            Err(RemoteError::Refused(format!("{what}: {why} ({code})")))
        } else {
            Err(RemoteError::Unavailable(format!("{what}: HTTP {}", status.as_u16())))
        }
    }
}

impl SigningService for BsreService {
    fn sign_digests<'a>(&'a self, r: SignRequest<'a>) -> BoxFuture<'a, Result<Vec<Vec<u8>>, RemoteError>> {
        Box::pin(async move {
            if r.alg != HashAlg::Sha256 {
                return Err(RemoteError::Refused("BSrE signs SHA-256 digests only".into()));
            }
            if r.credential.is_some() {
                return Err(RemoteError::Refused("BSrE chooses the certificate by NIK, not by credentialID".into()));
            }
            let status = self.call("/api/v2/user/check/status", json!({ "nik": r.holder })).await?;
            let status = status.get("status").and_then(Value::as_str).unwrap_or("unknown");
            if status != "ISSUE" {
                return Err(RemoteError::Refused(format!("the certificate's status at BSrE is {status}")));
            }
            let b64 = base64::engine::general_purpose::STANDARD;
            let mut properties = Map::new();
            for (i, digest) in r.digests.iter().enumerate() {
                properties.insert(
                    i.to_string(),
                    json!({ "tampilan": "INVISIBLE", "documentDigestBase64": b64.encode(digest), "reason": "Pintu" }),
                );
            }
            let body = json!({
                "nik": r.holder, "passphrase": r.passphrase, "idSubscriber": null,
                "signaturePropertiesHashMap": properties,
            });
            let signed = self.call("/v2/esign/v2/api/entity/sign/hash/pdf", body).await?;
            let map = signed.pointer("/data/cmsSignedDataHashMap").and_then(Value::as_object);
            (0..r.digests.len())
                .map(|i| {
                    map.and_then(|m| m.get(&i.to_string()))
                        .and_then(Value::as_str)
                        .and_then(|s| b64.decode(s).ok())
                        .ok_or(RemoteError::Unavailable("the answer lacks a signature".into()))
                })
                .collect()
        })
    }
}
