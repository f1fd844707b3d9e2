//! Proof of possession through the CA's signing service: a fresh challenge signed with the
//! person's remote certificate and verified here against that certificate.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{AuditEvent, CertificateEvent, Outcome};
use crate::domain::{ActorId, User};
use crate::storage::CertificateRow;

use super::detached::{self, HashAlg, VerifiedCms};
use super::remote::{RemoteError, SignRequest};
use super::{CertProblem, Certificates, Presented, Proof, x509};

/// The certificate a CMS came with, as if uploaded (the signer first, then its chain).
pub(super) fn presented_of(chain: &[Vec<u8>]) -> Result<Presented, CertProblem> {
    let mut certificates = chain.iter();
    let leaf = certificates.next().ok_or(CertProblem::RemoteSignatureInvalid)?;
    let mut presented = x509::read_upload(leaf)?;
    for der in certificates {
        presented.chain.push(x509::read_upload(der)?.leaf);
    }
    Ok(presented)
}

impl Certificates {
    /// Whether a signing service is configured (the step-up page then offers it).
    pub fn remote_available(&self) -> bool {
        self.enabled() && self.inner.signer.is_some()
    }

    /// Proves possession of one of `user`'s certificates held by the signing service,
    /// unlocked with `passphrase` (forwarded once, never stored or logged): the binding as it
    /// now stands and the certificate as presented. Refusals are audited.
    pub async fn prove_remote(
        &self,
        user: &User,
        passphrase: &str,
    ) -> Result<(CertificateRow, Presented), CertProblem> {
        match self.signed_challenge(user, passphrase).await {
            Ok(presented) => {
                let row = self.prove(user, &presented, Proof::Remote).await?;
                Ok((row, presented))
            }
            Err(e) => {
                let detail = json!({ "proof": "remote", "reason": e.code(), "detail": e.to_string() });
                let actor = ActorId::user(&user.id);
                let event =
                    AuditEvent::certificate(CertificateEvent::Proof, Outcome::Failure, user, Some(&actor), "", detail);
                self.inner.audit.record_or_log(event).await;
                Err(e)
            }
        }
    }

    async fn signed_challenge(&self, user: &User, passphrase: &str) -> Result<Presented, CertProblem> {
        let wanted: Vec<String> = self.provable(user).await?.into_iter().map(|c| c.thumbprint).collect();
        let mut challenge = [0u8; 32];
        openssl::rand::rand_bytes(&mut challenge).map_err(|e| CertProblem::Internal(e.to_string()))?;
        let digest = Sha256::digest(challenge).to_vec();
        let signed = self.remote_signatures(user, passphrase, (HashAlg::Sha256, None), &[digest], &wanted).await?;
        let verified = signed.into_iter().next().ok_or(CertProblem::RemoteSignatureInvalid)?.1;
        presented_of(&verified.chain)
    }

    /// Asks the signing service for a detached CMS over each of `digests` with one of the
    /// certificates `wanted`, and checks every answer: it verifies, over that very digest, by
    /// a certificate in `wanted` (the same one for all). Returns each CMS with what it says.
    pub(super) async fn remote_signatures(
        &self,
        user: &User,
        passphrase: &str,
        (alg, credential): (HashAlg, Option<&str>),
        digests: &[Vec<u8>],
        wanted: &[String],
    ) -> Result<Vec<(Vec<u8>, VerifiedCms)>, CertProblem> {
        let signer = self.inner.signer.as_ref().ok_or(CertProblem::Disabled)?;
        let holder = self.holder_of(user).ok_or(CertProblem::NotBound)?;
        if wanted.is_empty() {
            return Err(CertProblem::NotBound);
        }
        if passphrase.is_empty() || passphrase.len() > 1024 {
            return Err(CertProblem::RemoteRefused("a passphrase is needed".into()));
        }
        let request = SignRequest {
            holder: &holder,
            passphrase,
            alg,
            credential,
            digests,
            wanted,
            signing_time: self.inner.clock.now(),
        };
        let signatures = signer.sign_digests(request).await.map_err(|e| match e {
            RemoteError::Refused(why) => CertProblem::RemoteRefused(why),
            RemoteError::Unavailable(why) => CertProblem::RemoteUnavailable(why),
        })?;
        if signatures.len() != digests.len() {
            return Err(CertProblem::RemoteSignatureInvalid);
        }
        let mut out = Vec::with_capacity(digests.len());
        let mut signer_thumbprint: Option<String> = None;
        for (cms, digest) in signatures.into_iter().zip(digests) {
            let verified = detached::verify_detached(&cms, alg, digest).map_err(|e| {
                tracing::warn!(error = %e, "the signing service returned a signature that does not hold");
                CertProblem::RemoteSignatureInvalid
            })?;
            let thumbprint = verified.chain.first().map(|leaf| x509::thumbprint_of_der(leaf)).unwrap_or_default();
            let same = signer_thumbprint.get_or_insert_with(|| thumbprint.clone()) == &thumbprint;
            if !same || !wanted.contains(&thumbprint) {
                return Err(CertProblem::RemoteSignatureInvalid);
            }
            out.push((cms, verified));
        }
        Ok(out)
    }

    /// How the signing service knows `user` (`[certificates.signing] holder`).
    pub(super) fn holder_of(&self, user: &User) -> Option<String> {
        let how = self.inner.config.signing.as_ref().map(|s| s.holder.as_str()).unwrap_or("nik");
        match how {
            "nip" => user.profile.nip.as_ref().map(|n| n.as_str().to_owned()),
            "username" => Some(user.username.clone()),
            _ => user.profile.nik.clone(),
        }
    }
}
