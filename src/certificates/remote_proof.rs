//! Proof of possession through the CA's signing service: a fresh challenge signed with the
//! person's remote certificate and verified here against that certificate.

use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{AuditEvent, CertificateEvent, Outcome};
use crate::domain::{ActorId, User};
use crate::storage::CertificateRow;

use super::remote::RemoteError;
use super::{CertProblem, Certificates, Presented, Proof, x509};

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
        let signer = self.inner.signer.as_ref().ok_or(CertProblem::Disabled)?;
        let holder = self.holder_of(user).ok_or(CertProblem::NotBound)?;
        let wanted: Vec<String> = self.provable(user).await?.into_iter().map(|c| c.thumbprint).collect();
        if wanted.is_empty() {
            return Err(CertProblem::NotBound);
        }
        if passphrase.is_empty() || passphrase.len() > 1024 {
            return Err(CertProblem::RemoteRefused("a passphrase is needed".into()));
        }
        let mut challenge = [0u8; 32];
        openssl::rand::rand_bytes(&mut challenge).map_err(|e| CertProblem::Internal(e.to_string()))?;
        let digest = Sha256::digest(challenge);
        let signed = signer.sign_hash(&holder, passphrase, &digest, &wanted).await.map_err(|e| match e {
            RemoteError::Refused(why) => CertProblem::RemoteRefused(why),
            RemoteError::Unavailable(why) => CertProblem::RemoteUnavailable(why),
        })?;
        let mut certificates = signed.chain.iter();
        let leaf = certificates.next().ok_or(CertProblem::RemoteSignatureInvalid)?;
        let mut presented = x509::read_upload(leaf)?;
        for der in certificates {
            presented.chain.push(x509::read_upload(der)?.leaf);
        }
        // The service signed SHA-256(challenge): the signature over the challenge with SHA-256.
        let key = presented.leaf.public_key().map_err(|e| CertProblem::Internal(e.to_string()))?;
        let verified = Verifier::new(MessageDigest::sha256(), &key)
            .and_then(|mut v| v.verify_oneshot(&signed.signature, &challenge))
            .unwrap_or(false);
        if !verified {
            return Err(CertProblem::RemoteSignatureInvalid);
        }
        Ok(presented)
    }

    /// How the signing service knows `user` (`[certificates.signing] holder`).
    fn holder_of(&self, user: &User) -> Option<String> {
        let how = self.inner.config.signing.as_ref().map(|s| s.holder.as_str()).unwrap_or("nik");
        match how {
            "nip" => user.profile.nip.as_ref().map(|n| n.as_str().to_owned()),
            "username" => Some(user.username.clone()),
            _ => user.profile.nik.clone(),
        }
    }
}
