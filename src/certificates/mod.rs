//! Electronic certificates (sertifikat elektronik): the CAs the office trusts, certificates
//! bound to people, proof of possession, and what a proof at sign-in gives (security level 4).
//!
//! A certificate counts only once it is *bound*: it chains to a configured CA, its key may
//! sign, it names the person (NIP or NIK in the subject's serialNumber, their e-mail) or an
//! administrator approved it, and the person proved they hold its key (a TLS client
//! certificate, directly or through a trusted proxy, or a signature by the CA's signing
//! service). A bound certificate proven at sign-in raises the session to level 4.

mod bsre;
mod clients;
pub mod detached;
mod fetch;
mod identity;
mod problem;
pub mod remote;
mod remote_proof;
mod report;
mod revocation;
mod revocation_checks;
mod signatures;
mod trust;
pub mod x509;

use std::sync::{Arc, RwLock};

use serde_json::json;

pub use clients::{ClientCertificateName, matches_registration};
pub use detached::HashAlg;
pub use identity::{IdentifiedBy, identify};
pub use problem::CertProblem;
pub use report::{CertificateReport, UnitCertificates};
pub use revocation_checks::CheckSummary;
pub use signatures::{CheckedSignature, SignedBatch};
pub use trust::{TrustAnchors, ValidChain};
pub use x509::{Facts, Presented};

use crate::audit::{AuditEvent, AuditRecorder, CertificateEvent, Outcome};
use crate::clock::SharedClock;
use crate::config::CertificatesConfig;
use crate::domain::{ActorId, AuthnContext, SecurityLevel, User};
use crate::storage::{CertificateRow, StorageError, Store};

/// How possession of a certificate's key was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A TLS handshake with Pintu's own listener (the browser signed with the key).
    Tls,
    /// A TLS handshake with a trusted reverse proxy, which forwarded the certificate.
    Forwarded,
    /// A signature over a fresh challenge by the CA's signing service.
    Remote,
}

impl Proof {
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Tls => "tls",
            Proof::Forwarded => "forwarded",
            Proof::Remote => "remote",
        }
    }

    /// RFC 8176: a certificate on a token or smart card presented in TLS is `sc` (and `hwk`);
    /// a key held by the CA's signing service is a hardware-secured key (`hwk`).
    fn amr(self) -> &'static [&'static str] {
        match self {
            Proof::Tls | Proof::Forwarded => &["sc", "hwk"],
            Proof::Remote => &["hwk"],
        }
    }
}

/// Who adds a certificate to an account.
#[derive(Debug, Clone)]
pub enum AddedBy {
    /// The person, on their account page.
    Person,
    /// An administrator; `approve` binds a certificate that does not name the person.
    Admin { actor: ActorId, approve: bool },
}

struct Inner {
    store: Store,
    audit: AuditRecorder,
    clock: SharedClock,
    config: CertificatesConfig,
    anchors: RwLock<TrustAnchors>,
    identify_by: Vec<IdentifiedBy>,
    revocation: revocation::Revocation,
    /// The CA's signing service, when configured.
    signer: Option<Box<dyn remote::SigningService>>,
}

/// The certificates service. Cheap to clone.
#[derive(Clone)]
pub struct Certificates {
    inner: Arc<Inner>,
}

impl Certificates {
    /// Loads the trust anchors; a file that cannot be read is an error at start.
    pub fn new(
        store: Store,
        audit: AuditRecorder,
        clock: SharedClock,
        config: CertificatesConfig,
    ) -> Result<Self, String> {
        let anchors = TrustAnchors::load(&config.trust_anchors)?;
        let identify_by = config.identify_by.iter().filter_map(|s| IdentifiedBy::parse(s)).collect();
        let fetcher = fetch::Fetcher::new(config.ocsp_timeout);
        let revocation = revocation::Revocation::new(fetcher, config.ocsp_url.clone());
        let signer = match &config.signing {
            Some(s) => {
                let token = std::fs::read_to_string(&s.token_file)
                    .map_err(|e| format!("cannot read {}: {e}", s.token_file.display()))?;
                let timeout = config.ocsp_timeout * 3;
                let service: Box<dyn remote::SigningService> = match s.api.as_str() {
                    "bsre" => Box::new(bsre::BsreService::new(s.url.clone(), &token, timeout)?),
                    _ => Box::new(remote::CscService::new(s.url.clone(), token.trim().to_owned(), timeout)),
                };
                Some(service)
            }
            None => None,
        };
        let inner =
            Inner { store, audit, clock, config, anchors: RwLock::new(anchors), identify_by, revocation, signer };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Certificates are configured (trust anchors given): level 4 exists.
    pub fn enabled(&self) -> bool {
        self.inner.config.enabled()
    }

    pub fn config(&self) -> &CertificatesConfig {
        &self.inner.config
    }

    /// Reads the trust anchor files again; on failure the anchors in use stay.
    pub fn reload(&self) -> Result<usize, String> {
        let fresh = self.anchors().reload()?;
        let count = fresh.anchors().len();
        if let Ok(mut anchors) = self.inner.anchors.write() {
            *anchors = fresh;
        }
        Ok(count)
    }

    /// The trusted CAs' names (DER), which a TLS server hints to browsers choosing a certificate.
    pub fn anchor_subjects(&self) -> Vec<Vec<u8>> {
        self.anchors().anchors().iter().filter_map(|c| c.subject_name().to_der().ok()).collect()
    }

    fn anchors(&self) -> TrustAnchors {
        match self.inner.anchors.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Validates a presented certificate against the trust anchors, now.
    pub fn validate(&self, presented: &Presented) -> Result<ValidChain, CertProblem> {
        if !self.enabled() {
            return Err(CertProblem::Disabled);
        }
        self.anchors().validate(presented, self.inner.clock.now())
    }

    /// A person's certificates, newest first.
    pub async fn list(&self, user: &User) -> Result<Vec<CertificateRow>, CertProblem> {
        Ok(self.inner.store.certificates().for_user(user.id.as_str()).await?)
    }

    /// Certificates within their validity that a proof at sign-in can use: bound ones, and
    /// pending ones (the same proof binds them).
    pub async fn provable(&self, user: &User) -> Result<Vec<CertificateRow>, StorageError> {
        if !self.enabled() {
            return Ok(Vec::new());
        }
        let now = self.inner.clock.now();
        let all = self.inner.store.certificates().for_user(user.id.as_str()).await?;
        let live = |c: &CertificateRow| matches!(c.status.as_str(), "bound" | "pending");
        Ok(all.into_iter().filter(|c| live(c) && c.not_before <= now && now < c.not_after).collect())
    }

    /// Adds a certificate to `user`'s account: validated, identified (or approved by an
    /// administrator), pending until the person proves possession. Refusals are audited.
    pub async fn add(&self, user: &User, upload: &[u8], by: &AddedBy) -> Result<CertificateRow, CertProblem> {
        let actor = match by {
            AddedBy::Person => ActorId::user(&user.id),
            AddedBy::Admin { actor, .. } => actor.clone(),
        };
        let result = self.try_add(user, upload, by).await;
        let event = match &result {
            Ok(row) => AuditEvent::certificate(
                CertificateEvent::Add,
                Outcome::Success,
                user,
                Some(&actor),
                &row.thumbprint,
                json!({ "subject": row.subject, "issuer": row.issuer, "identified_by": row.identified_by }),
            ),
            Err(e) => AuditEvent::certificate(
                CertificateEvent::Add,
                Outcome::Failure,
                user,
                Some(&actor),
                "",
                json!({ "reason": e.code(), "detail": e.to_string() }),
            ),
        };
        self.inner.audit.record_or_log(event).await;
        result
    }

    async fn try_add(&self, user: &User, upload: &[u8], by: &AddedBy) -> Result<CertificateRow, CertProblem> {
        let presented = x509::read_upload(upload)?;
        let valid = self.validate(&presented)?;
        self.check_revocation(user, &valid).await?;
        let facts = &valid.facts;
        let (identified_by, approved_by) = match (identify(user, facts, &self.inner.identify_by), by) {
            (Some(how), _) => (how, None),
            (None, AddedBy::Admin { actor, approve: true }) => (IdentifiedBy::Approval, Some(actor.to_string())),
            (None, _) => return Err(CertProblem::NotIdentified),
        };
        if let Some(existing) = self.inner.store.certificates().find(&facts.thumbprint).await?
            && (existing.user_id != user.id.as_str() || !matches!(existing.status.as_str(), "pending" | "removed"))
        {
            return Err(CertProblem::AlreadyBound);
        }
        let chain: Vec<String> = presented.chain.iter().map(x509::to_base64).collect();
        let row = CertificateRow {
            thumbprint: facts.thumbprint.clone(),
            user_id: user.id.to_string(),
            subject: facts.subject.clone(),
            issuer: facts.issuer.clone(),
            serial: facts.serial.clone(),
            not_before: facts.not_before,
            not_after: facts.not_after,
            der: x509::to_base64(&presented.leaf),
            chain: chain.join(" "),
            status: "pending".into(),
            identified_by: identified_by.as_str().into(),
            approved_by,
            proof: None,
            created_at: self.inner.clock.now(),
            bound_at: None,
            ended_at: None,
            end_reason: None,
            checked_at: None,
            check_result: None,
        };
        self.inner.store.certificates().upsert_pending(&row).await.map_err(|e| match e {
            StorageError::Conflict { .. } => CertProblem::AlreadyBound,
            other => CertProblem::Storage(other),
        })?;
        Ok(row)
    }

    /// `presented` was proven (`proof`) by `user`: a pending certificate of theirs becomes
    /// bound; a bound one is checked again. Returns the binding as it now stands.
    pub async fn prove(&self, user: &User, presented: &Presented, proof: Proof) -> Result<CertificateRow, CertProblem> {
        let result = self.try_prove(user, presented, proof).await;
        let thumbprint = x509::thumbprint(&presented.leaf);
        let (event, outcome, detail) = match &result {
            Ok((row, newly_bound)) => (
                if *newly_bound { CertificateEvent::Bind } else { CertificateEvent::Proof },
                Outcome::Success,
                json!({ "proof": proof.as_str(), "subject": row.subject }),
            ),
            Err(e) => (
                CertificateEvent::Proof,
                Outcome::Failure,
                json!({ "proof": proof.as_str(), "reason": e.code(), "detail": e.to_string() }),
            ),
        };
        let actor = ActorId::user(&user.id);
        let event = AuditEvent::certificate(event, outcome, user, Some(&actor), &thumbprint, detail);
        self.inner.audit.record_or_log(event).await;
        result.map(|(row, _)| row)
    }

    async fn try_prove(
        &self,
        user: &User,
        presented: &Presented,
        proof: Proof,
    ) -> Result<(CertificateRow, bool), CertProblem> {
        let thumbprint = x509::thumbprint(&presented.leaf);
        let row = self.inner.store.certificates().find(&thumbprint).await?;
        let row = row.filter(|r| r.user_id == user.id.as_str());
        // The chain is checked first and again now (a stranger's certificate is refused for
        // what it is); the stored intermediates stand in for any the browser did not send.
        let mut with_chain = presented.clone();
        if let Some(row) = &row
            && with_chain.chain.is_empty()
        {
            with_chain.chain = stored_chain(row)?;
        }
        let valid = self.validate(&with_chain)?;
        let row = row.ok_or(CertProblem::NotBound)?;
        if matches!(row.status.as_str(), "pending" | "bound") {
            self.check_revocation(user, &valid).await?;
        }
        let now = self.inner.clock.now();
        match row.status.as_str() {
            "pending" => {
                if !self.inner.store.certificates().mark_bound(&thumbprint, proof.as_str(), now).await? {
                    return Err(CertProblem::NotBound);
                }
                let bound = self.inner.store.certificates().find(&thumbprint).await?.ok_or(CertProblem::NotBound)?;
                // A renewed certificate (same subject, same issuer) replaces the older ones.
                self.inner.store.certificates().replace_others(&bound, now).await?;
                Ok((bound, true))
            }
            "bound" => Ok((row, false)),
            "revoked" => Err(CertProblem::Revoked),
            "expired" => Err(CertProblem::Expired),
            _ => Err(CertProblem::NotBound),
        }
    }

    /// What a certificate proven at sign-in adds to `current` (the session's authentication):
    /// level 4, the certificate's methods, `mfa`, at `now` (ARCHITECTURE.md §4).
    pub fn level_four(current: &AuthnContext, proof: Proof, now: i64) -> AuthnContext {
        let mut amr = current.amr.clone();
        for method in proof.amr().iter().chain(["mfa"].iter()) {
            if !amr.iter().any(|m| m == method) {
                amr.push((*method).to_owned());
            }
        }
        AuthnContext { auth_time: now, level: SecurityLevel::Certificate, amr }
    }

    /// Records that `thumbprint` raised session `session` (its revocation ends the session).
    pub async fn raised(&self, session: &crate::domain::SessionId, thumbprint: &str) -> Result<(), StorageError> {
        self.inner.store.sessions().set_certificate(session, thumbprint).await
    }

    /// Removes a certificate from an account (the person or an administrator): it no longer
    /// counts; its history stays.
    pub async fn remove(&self, user: &User, thumbprint: &str, actor: &ActorId) -> Result<(), CertProblem> {
        let row = self.inner.store.certificates().find(thumbprint).await?;
        let row = row.filter(|r| r.user_id == user.id.as_str()).ok_or(CertProblem::NotBound)?;
        let now = self.inner.clock.now();
        self.inner.store.certificates().end(&row.thumbprint, "removed", "removed", now).await.map_err(|e| match e {
            StorageError::NotFound => CertProblem::NotBound,
            other => CertProblem::Storage(other),
        })?;
        self.end_sessions_raised_by(&row.thumbprint, now).await?;
        let event = AuditEvent::certificate(
            CertificateEvent::Remove,
            Outcome::Success,
            user,
            Some(actor),
            &row.thumbprint,
            json!({ "subject": row.subject }),
        );
        self.inner.audit.record_or_log(event).await;
        Ok(())
    }
}

/// A stored certificate as if presented again, with its stored chain.
fn stored_presented(row: &CertificateRow) -> Result<Presented, CertProblem> {
    Ok(Presented { leaf: x509::from_base64(&row.der)?, chain: stored_chain(row)? })
}

fn stored_chain(row: &CertificateRow) -> Result<Vec<openssl::x509::X509>, CertProblem> {
    row.chain.split_whitespace().map(x509::from_base64).collect()
}
