//! Signing what a person approved (transaction signing): detached CMS signatures made by the
//! CA's signing service with the person's *bound* certificate, each checked before it counts,
//! and checked again when anyone verifies a receipt.

use super::detached::{self, HashAlg};
use super::remote_proof::presented_of;
use super::{CertProblem, Certificates, x509};
use crate::domain::User;

/// Signatures over approved digests, all by one certificate.
#[derive(Debug, Clone)]
pub struct SignedBatch {
    /// `x5t#S256` of the signing certificate.
    pub thumbprint: String,
    /// The signing certificate and its chain (DER, the signer first).
    pub chain: Vec<Vec<u8>>,
    /// A detached CMS SignedData (DER) per digest, in order, with its signing time.
    pub signatures: Vec<(Vec<u8>, i64)>,
}

/// A signature that held when checked.
#[derive(Debug, Clone)]
pub struct CheckedSignature {
    pub thumbprint: String,
    pub subject: String,
    pub signing_time: Option<i64>,
}

impl Certificates {
    /// Signs each of `digests` (made with `alg`) with one of `user`'s bound certificates at
    /// the CA's signing service, unlocked with `passphrase` (forwarded once, never kept). The
    /// signatures must verify over those digests by that certificate, whose chain and
    /// revocation status are checked now.
    pub async fn sign_approved(
        &self,
        user: &User,
        passphrase: &str,
        alg: HashAlg,
        credential: Option<&str>,
        digests: &[Vec<u8>],
    ) -> Result<SignedBatch, CertProblem> {
        let bound: Vec<String> =
            self.provable(user).await?.into_iter().filter(|c| c.status == "bound").map(|c| c.thumbprint).collect();
        let signed = self.remote_signatures(user, passphrase, (alg, credential), digests, &bound).await?;
        let chain = signed.first().map(|(_, v)| v.chain.clone()).ok_or(CertProblem::RemoteSignatureInvalid)?;
        let valid = self.validate(&presented_of(&chain)?)?;
        self.check_revocation(user, &valid).await?;
        let now = self.inner.clock.now();
        Ok(SignedBatch {
            thumbprint: valid.facts.thumbprint.clone(),
            chain,
            signatures: signed.into_iter().map(|(der, v)| (der, v.signing_time.unwrap_or(now))).collect(),
        })
    }

    /// Checks a detached CMS over `digest` (a receipt's): it verifies, and its certificate
    /// chains to a trust anchor at the time it says it was signed (revocation is not asked:
    /// the receipt records what was checked when it was made).
    pub fn check_signature(&self, der: &[u8], alg: HashAlg, digest: &[u8]) -> Result<CheckedSignature, CertProblem> {
        let verified = detached::verify_detached(der, alg, digest).map_err(|_| CertProblem::RemoteSignatureInvalid)?;
        let presented = presented_of(&verified.chain)?;
        let at = verified.signing_time.unwrap_or_else(|| self.inner.clock.now());
        let valid = self.anchors().validate(&presented, at)?;
        Ok(CheckedSignature {
            thumbprint: x509::thumbprint(&presented.leaf),
            subject: valid.facts.subject.clone(),
            signing_time: verified.signing_time,
        })
    }
}
