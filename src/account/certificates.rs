//! A person's own electronic certificates on the account page: listed with their history,
//! added (pending until possession is proven at a level-4 sign-in), removed.

use crate::certificates::{AddedBy, CertProblem};
use crate::domain::ActorId;
use crate::sso::InteractionKind;
use crate::storage::CertificateRow;

use super::{AccountError, AccountService};

/// What became of an upload the person made.
#[derive(Debug)]
pub enum OwnCertificate {
    Added(Box<CertificateRow>),
    Refused(CertProblem),
}

impl AccountService {
    /// The signed-in person's certificates, `None` when certificates are not configured.
    pub(super) async fn own_certificates(
        &self,
        user: &crate::domain::User,
    ) -> Result<Option<Vec<CertificateRow>>, AccountError> {
        let certificates = &self.sso.certificates;
        if !certificates.enabled() {
            return Ok(None);
        }
        match certificates.list(user).await {
            Ok(list) => Ok(Some(list)),
            Err(CertProblem::Storage(e)) => Err(e.into()),
            Err(e) => Err(AccountError::failed(e)),
        }
    }

    /// Adds an uploaded certificate (PEM or DER) to the person's own account; it must name
    /// them (no one approves their own).
    pub async fn add_own_certificate(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        upload: &[u8],
    ) -> Result<OwnCertificate, AccountError> {
        let (_, user) = self.form(InteractionKind::Account, form, session_cookie).await?;
        match self.sso.certificates.add(&user, upload, &AddedBy::Person).await {
            Ok(row) => Ok(OwnCertificate::Added(Box::new(row))),
            Err(CertProblem::Storage(e)) => Err(e.into()),
            Err(e) if e.is_refusal() => Ok(OwnCertificate::Refused(e)),
            Err(e) => Err(AccountError::failed(e)),
        }
    }

    /// Removes one of the person's own certificates (the sessions it raised end).
    pub async fn remove_own_certificate(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        thumbprint: &str,
    ) -> Result<bool, AccountError> {
        let (_, user) = self.form(InteractionKind::Account, form, session_cookie).await?;
        match self.sso.certificates.remove(&user, thumbprint, &ActorId::user(&user.id)).await {
            Ok(()) => Ok(true),
            Err(CertProblem::NotBound) => Ok(false),
            Err(CertProblem::Storage(e)) => Err(e.into()),
            Err(e) => Err(AccountError::failed(e)),
        }
    }
}
