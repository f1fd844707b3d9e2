//! Why a certificate was refused, in words for people and codes for pages and the API.

use crate::storage::StorageError;

/// Why a certificate was refused. Each has a message key for pages (`error_certificate_*`).
#[derive(Debug, thiserror::Error)]
pub enum CertProblem {
    #[error("the certificate is malformed: {0}")]
    Malformed(String),
    #[error("the upload is larger than 64 KiB")]
    TooLarge,
    #[error("the upload holds more than 8 certificates")]
    TooManyCertificates,
    #[error("a CA certificate is not a person's certificate")]
    NotAPersonCertificate,
    #[error("the certificate was not issued by a CA this office trusts")]
    Untrusted,
    #[error("the certificate has expired")]
    Expired,
    #[error("the certificate is not valid yet")]
    NotYetValid,
    #[error("the certificate chain is too long")]
    ChainTooLong,
    #[error("the certificate's key usage does not allow signing (digitalSignature or nonRepudiation)")]
    KeyUsage,
    #[error("the certificate's extended key usage is not for people (client authentication, e-mail, documents)")]
    ExtendedKeyUsage,
    #[error("the certificate chain is not valid: {0}")]
    Invalid(String),
    #[error("the certificate does not name this person (NIP, NIK or e-mail); an administrator must approve it")]
    NotIdentified,
    #[error("the certificate is already bound to an account")]
    AlreadyBound,
    #[error("the certificate is not bound to this account")]
    NotBound,
    #[error("the certificate has been revoked")]
    Revoked,
    #[error("the certificate's revocation status cannot be checked: {0}")]
    RevocationUnavailable(String),
    #[error("the signing service refused: {0}")]
    RemoteRefused(String),
    #[error("the signing service is unavailable: {0}")]
    RemoteUnavailable(String),
    #[error("the signing service's signature does not verify against the certificate")]
    RemoteSignatureInvalid,
    #[error("electronic certificates are not configured")]
    Disabled,
    #[error("no certificate was presented")]
    NonePresented,
    #[error("certificate check failed: {0}")]
    Internal(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl CertProblem {
    /// The message key's suffix (`error_certificate_<code>`), and the API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            CertProblem::Malformed(_) | CertProblem::TooLarge | CertProblem::TooManyCertificates => "malformed",
            CertProblem::NotAPersonCertificate | CertProblem::KeyUsage | CertProblem::ExtendedKeyUsage => "usage",
            CertProblem::Untrusted | CertProblem::ChainTooLong | CertProblem::Invalid(_) => "untrusted",
            CertProblem::Expired | CertProblem::NotYetValid => "expired",
            CertProblem::NotIdentified => "not_identified",
            CertProblem::AlreadyBound => "already_bound",
            CertProblem::NotBound => "not_bound",
            CertProblem::Revoked => "revoked",
            CertProblem::RevocationUnavailable(_) => "revocation_unavailable",
            CertProblem::RemoteRefused(_) => "remote_refused",
            CertProblem::RemoteUnavailable(_) => "remote_unavailable",
            CertProblem::RemoteSignatureInvalid => "remote_invalid",
            CertProblem::Disabled | CertProblem::NonePresented => "none",
            CertProblem::Internal(_) | CertProblem::Storage(_) => "internal",
        }
    }

    /// A refusal the person or administrator can act on (not a failure of Pintu's own).
    pub fn is_refusal(&self) -> bool {
        !matches!(self, CertProblem::Internal(_) | CertProblem::Storage(_))
    }
}
