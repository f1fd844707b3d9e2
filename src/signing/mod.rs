//! Transaction signing: an application asks (RFC 9396 `authorization_details`, pushed with PAR
//! or started with CIBA), the person sees exactly what they approve and approves at level 4,
//! the CA's signing service signs exactly the approved digests with the person's bound
//! certificate, and Pintu returns the signatures and a receipt anyone can verify later.
//!
//! Protocol-neutral like `sso`: the OAuth endpoints (`oidc`) parse the request with `parse`,
//! and call `approve` or `decline` when the person decides, whatever the channel.

pub mod details;
mod receipt;
mod report;

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};

pub use details::{Detail, DetailsError};
pub use receipt::{ReceiptCheck, SignatureCheck};
pub use report::{SigningReport, SigningReportRow};

use crate::audit::{AuditEvent, AuditRecorder, Outcome, SigningEvent};
use crate::authn::{AuthnError, AuthnService};
use crate::certificates::{CertProblem, Certificates, HashAlg, SignedBatch};
use crate::clock::SharedClock;
use crate::domain::{AuthnContext, ClientId, User};
use crate::keys::Keyring;
use crate::storage::{StorageError, Store, TransactionRow};

/// Where the person decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// In the browser, at the end of an authorization request (PAR).
    Browser,
    /// On their account page, for a CIBA request.
    Ciba,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Browser => "browser",
            Channel::Ciba => "ciba",
        }
    }
}

/// A person's approval of `details` for `client`, at the session's level (`authn`), with the
/// passphrase that unlocks their certificate at the signing service.
pub struct Approval<'a> {
    pub client: &'a ClientId,
    pub user: &'a User,
    pub authn: &'a AuthnContext,
    pub details: &'a [Detail],
    pub passphrase: &'a str,
    pub channel: Channel,
    pub source_ip: Option<&'a str>,
}

/// What the application gets back.
#[derive(Debug, Clone)]
pub struct Approved {
    pub transaction_id: String,
    /// The details enriched with the signatures (RFC 9396 §7 token response).
    pub authorization_details: Value,
    /// A JWS by Pintu: who approved what, when, at which level, with which certificate.
    pub receipt: String,
}

/// Why nothing was signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The signing service refused the passphrase (or the person has no credential there).
    #[error("the passphrase was refused")]
    Refused,
    #[error("too many attempts; try again later")]
    Throttled { until: i64 },
    /// The signing service is down, or answered a signature that does not hold.
    #[error("the signature could not be made: {0}")]
    Failed(&'static str),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl SigningError {
    /// A short code for pages and audit events.
    pub fn code(&self) -> &'static str {
        match self {
            SigningError::Refused => "refused",
            SigningError::Throttled { .. } => "throttled",
            SigningError::Failed(code) => code,
            SigningError::Storage(_) => "internal",
        }
    }
}

struct Inner {
    store: Store,
    certificates: Certificates,
    keyring: Arc<Keyring>,
    audit: AuditRecorder,
    authn: AuthnService,
    clock: SharedClock,
    issuer: String,
}

/// The transaction signing service. Cheap to clone.
#[derive(Clone)]
pub struct Signing {
    inner: Arc<Inner>,
}

/// The media type of receipts (the JWS `typ`).
pub const RECEIPT_TYPE: &str = "pintu-receipt+jwt";

impl Signing {
    pub fn new(
        store: Store,
        certificates: Certificates,
        keyring: Arc<Keyring>,
        audit: AuditRecorder,
        authn: AuthnService,
        clock: SharedClock,
        issuer: String,
    ) -> Self {
        Self { inner: Arc::new(Inner { store, certificates, keyring, audit, authn, clock, issuer }) }
    }

    /// Signing needs level 4 and the CA's signing service: without both, no type is offered.
    pub fn available(&self) -> bool {
        self.inner.certificates.remote_available()
    }

    /// `authorization_details_types_supported` (RFC 9396 §10).
    pub fn types(&self) -> &'static [&'static str] {
        if self.available() { details::TYPES } else { &[] }
    }

    /// Validates `authorization_details` for a client registered for `allowed` types.
    pub fn parse(&self, text: &str, allowed: &[String]) -> Result<Vec<Detail>, DetailsError> {
        if !self.available() {
            return Err(DetailsError("transaction signing is not configured here".into()));
        }
        details::parse(text, allowed)
    }

    /// Records an application's request in the audit log, once the person it is for is known.
    pub async fn requested(&self, client: &ClientId, user: &User, details: &Value, channel: Channel) {
        let types: Vec<&str> =
            details.as_array().map(|l| l.iter().filter_map(|d| d.get("type")?.as_str()).collect()).unwrap_or_default();
        let detail = json!({ "channel": channel.as_str(), "types": types });
        let event = AuditEvent::signing(SigningEvent::Request, Outcome::Success, user, client, "", detail);
        self.inner.audit.record_or_log(event).await;
    }

    /// The person declined: recorded, audited, nothing signed.
    pub async fn decline(
        &self,
        client: &ClientId,
        user: &User,
        details: &[Detail],
        channel: Channel,
    ) -> Result<String, StorageError> {
        let row = self.row(client, user, details, channel, "declined", None);
        self.inner.store.signing().insert_transaction(&row).await?;
        let detail = json!({ "channel": channel.as_str(), "types": types_of(details) });
        let event = AuditEvent::signing(SigningEvent::Decline, Outcome::Success, user, client, &row.id, detail);
        self.inner.audit.record_or_log(event).await;
        Ok(row.id)
    }

    /// Signs exactly `approval.details` and returns the signatures and the receipt. The
    /// passphrase is counted like a second-factor code (a wrong one locks after a few tries)
    /// and forwarded once; a failure of the service is recorded as a failed transaction.
    pub async fn approve(&self, approval: Approval<'_>) -> Result<Approved, SigningError> {
        let Approval { client, user, .. } = approval;
        let now = self.inner.clock.now();
        let authn = &self.inner.authn;
        // Nothing typed is not a guess: asked again, not counted.
        if approval.passphrase.is_empty() {
            return Err(SigningError::Failed("passphrase_missing"));
        }
        let attempt = match authn.factor_attempt(user, approval.source_ip, now).await {
            Ok(attempt) => attempt,
            Err(AuthnError::Throttled { until }) => {
                self.failed(&approval, "throttled", None).await?;
                return Err(SigningError::Throttled { until });
            }
            Err(AuthnError::Storage(e)) => return Err(e.into()),
            Err(_) => return Err(SigningError::Failed("internal")),
        };
        let signed = self.sign_all(&approval).await;
        let batches = match signed {
            Ok(batches) => {
                authn.factor_succeeded(&attempt).await.map_err(|_| SigningError::Failed("internal"))?;
                batches
            }
            Err(CertProblem::RemoteRefused(_)) => {
                let locked = authn.factor_failed(&attempt, now).await.map_err(|_| SigningError::Failed("internal"))?;
                self.failed(&approval, "refused", None).await?;
                return Err(match locked {
                    AuthnError::Throttled { until } => SigningError::Throttled { until },
                    _ => SigningError::Refused,
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "transaction signing failed");
                let code = match e {
                    CertProblem::RemoteUnavailable(_) => "unavailable",
                    CertProblem::RemoteSignatureInvalid => "signature_invalid",
                    CertProblem::Storage(e) => return Err(e.into()),
                    other => other.code(),
                };
                self.failed(&approval, code, Some(now)).await?;
                return Err(SigningError::Failed(code));
            }
        };
        let enriched = enrich(approval.details, &batches);
        let thumbprint = batches.first().map(|(_, b)| b.thumbprint.clone()).unwrap_or_default();
        let mut row = self.row(client, user, approval.details, approval.channel, "signed", Some(approval.authn));
        let receipt = match receipt::issue(self, &row.id, &approval, &enriched, &thumbprint, now) {
            Ok(receipt) => receipt,
            Err(e) => {
                // Signed but unreceipted: recorded as failed, never handed out.
                tracing::error!(error = %e, "the receipt could not be signed");
                self.failed(&approval, "receipt", Some(now)).await?;
                return Err(SigningError::Failed("internal"));
            }
        };
        row.result = Some(enriched.to_string());
        row.receipt = Some(receipt.clone());
        self.inner.store.signing().insert_transaction(&row).await?;
        let detail = json!({
            "channel": approval.channel.as_str(), "types": types_of(approval.details),
            "x5t#S256": thumbprint, "signatures": batches.iter().map(|(_, b)| b.signatures.len()).sum::<usize>(),
        });
        let mut event = AuditEvent::signing(SigningEvent::Sign, Outcome::Success, user, client, &row.id, detail);
        event.level = Some(approval.authn.level);
        self.inner.audit.record_or_log(event.from_ip(approval.source_ip)).await;
        Ok(Approved { transaction_id: row.id, authorization_details: enriched, receipt })
    }

    /// A signed transaction as stored (for the token response of its grant).
    pub async fn transaction(&self, id: &str) -> Result<Option<TransactionRow>, StorageError> {
        self.inner.store.signing().transaction(id).await
    }

    /// One signing call for every digest, in the order the details came: `details::parse`
    /// lets one request hold one digest algorithm and one credential only.
    async fn sign_all(&self, approval: &Approval<'_>) -> Result<Vec<(HashAlg, SignedBatch)>, CertProblem> {
        let alg = approval.details.first().map(Detail::alg).unwrap_or(HashAlg::Sha256);
        let credential = approval.details.iter().find_map(Detail::credential_id);
        let digests: Vec<Vec<u8>> = approval.details.iter().flat_map(|d| digests_of(d, alg)).collect();
        let certificates = &self.inner.certificates;
        let batch = certificates.sign_approved(approval.user, approval.passphrase, alg, credential, &digests).await?;
        Ok(vec![(alg, batch)])
    }

    async fn failed(&self, approval: &Approval<'_>, code: &str, record_at: Option<i64>) -> Result<(), StorageError> {
        let mut id = String::new();
        if record_at.is_some() {
            let mut row = self.row(approval.client, approval.user, approval.details, approval.channel, "failed", None);
            row.failure = Some(code.to_owned());
            self.inner.store.signing().insert_transaction(&row).await?;
            id = row.id;
        }
        let detail = json!({ "channel": approval.channel.as_str(), "reason": code });
        let event =
            AuditEvent::signing(SigningEvent::Fail, Outcome::Failure, approval.user, approval.client, &id, detail);
        self.inner.audit.record_or_log(event.from_ip(approval.source_ip)).await;
        Ok(())
    }

    fn row(
        &self,
        client: &ClientId,
        user: &User,
        details: &[Detail],
        channel: Channel,
        status: &str,
        authn: Option<&AuthnContext>,
    ) -> TransactionRow {
        TransactionRow {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: client.to_string(),
            user_id: user.id.to_string(),
            unit_id: user.profile.org_unit_id.as_ref().map(ToString::to_string),
            channel: channel.as_str().into(),
            status: status.into(),
            level: authn.map(|a| a.level as i64),
            details: details::to_json(details).to_string(),
            result: None,
            receipt: None,
            failure: None,
            created_at: self.inner.clock.now(),
        }
    }
}

fn types_of(details: &[Detail]) -> Vec<&'static str> {
    details.iter().map(Detail::type_name).collect()
}

/// What a transaction approval signs: the canonical JSON of the detail (keys sorted).
fn transaction_content(detail: &Detail) -> Vec<u8> {
    detail.to_json().to_string().into_bytes()
}

/// The digests a detail contributes to the signing call for `alg`.
fn digests_of(detail: &Detail, alg: HashAlg) -> Vec<Vec<u8>> {
    match detail {
        Detail::Credential { alg: a, digests, .. } if *a == alg => digests.iter().map(|d| d.hash.clone()).collect(),
        Detail::Transaction(_) if alg == HashAlg::Sha256 => vec![alg.digest(&transaction_content(detail))],
        _ => Vec::new(),
    }
}

/// The details with their signatures (RFC 9396 §7: the token response's
/// `authorization_details`, enriched): per digest the detached CMS, its signing time, and the
/// signer's chain; a transaction also carries the exact content that was signed.
fn enrich(details: &[Detail], batches: &[(HashAlg, SignedBatch)]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    // Each batch's signatures are consumed in the order `digests_of` produced them.
    let mut cursors: Vec<(HashAlg, &SignedBatch, usize)> = batches.iter().map(|(a, b)| (*a, b, 0)).collect();
    let mut out = Vec::with_capacity(details.len());
    for detail in details {
        let mut object = detail.to_json();
        let alg = match detail {
            Detail::Credential { alg, .. } => *alg,
            Detail::Transaction(_) => HashAlg::Sha256,
        };
        let digests = digests_of(detail, alg);
        let Some(cursor) = cursors.iter_mut().find(|(a, _, _)| *a == alg) else { continue };
        let mut signatures = Vec::with_capacity(digests.len());
        for digest in &digests {
            let (der, at) = cursor.1.signatures.get(cursor.2).cloned().unwrap_or_default();
            cursor.2 += 1;
            signatures.push(json!({ "hash": b64.encode(digest), "signature": b64.encode(der), "signing_time": at }));
        }
        if let Value::Object(map) = &mut object {
            map.insert("signatures".into(), Value::Array(signatures));
            let chain: Vec<Value> = cursor.1.chain.iter().map(|c| Value::String(b64.encode(c))).collect();
            map.insert("certificates".into(), Value::Array(chain));
            if matches!(detail, Detail::Transaction(_)) {
                map.insert("signed_content".into(), Value::String(b64.encode(transaction_content(detail))));
            }
        }
        out.push(object);
    }
    Value::Array(out)
}
