//! What a revocation check does to bindings and sessions: a revoked certificate's binding ends
//! with the sessions it raised; a check that cannot be made is refused or let through by policy.

use serde_json::json;

use crate::audit::{AuditEvent, CertificateEvent, Outcome};
use crate::domain::User;
use crate::storage::StorageError;

use super::{CertProblem, Certificates, ValidChain, revocation};

impl Certificates {
    /// Asks whether a certificate is revoked (OCSP, then its CRL). Revoked: a binding ends, with
    /// the sessions it raised. Unknowable: refused under the hard policy (the default), let
    /// through under the soft one; audited either way.
    pub(super) async fn check_revocation(&self, user: &User, valid: &ValidChain) -> Result<(), CertProblem> {
        let now = self.inner.clock.now();
        let thumbprint = &valid.facts.thumbprint;
        let anchors = self.anchors();
        let answer = self.inner.revocation.check(thumbprint, &valid.chain, anchors.anchors(), now).await;
        let certificates = self.inner.store.certificates();
        match answer {
            Ok((revocation::Status::Good, _)) => {
                certificates.checked(thumbprint, "good", now).await?;
                Ok(())
            }
            Ok((revocation::Status::Revoked { reason }, source)) => {
                certificates.checked(thumbprint, "revoked", now).await?;
                self.ended_by_revocation(user, thumbprint, &reason, source.as_str(), now).await?;
                Err(CertProblem::Revoked)
            }
            Err(why) => {
                certificates.checked(thumbprint, "unavailable", now).await?;
                let hard = self.inner.config.revocation == crate::config::RevocationPolicy::Hard;
                let detail = json!({ "reason": why, "policy": if hard { "hard" } else { "soft" } });
                let event =
                    AuditEvent::certificate(CertificateEvent::Check, Outcome::Failure, user, None, thumbprint, detail);
                self.inner.audit.record_or_log(event).await;
                if hard {
                    return Err(CertProblem::RevocationUnavailable(why));
                }
                tracing::warn!(reason = %why, "revocation unknown; accepted under the soft policy");
                Ok(())
            }
        }
    }

    /// A revoked certificate's binding ends (if it had one), and the sessions it raised.
    async fn ended_by_revocation(
        &self,
        user: &User,
        thumbprint: &str,
        reason: &str,
        source: &str,
        now: i64,
    ) -> Result<(), CertProblem> {
        match self.inner.store.certificates().end(thumbprint, "revoked", reason, now).await {
            Ok(()) | Err(StorageError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let ended = self.end_sessions_raised_by(thumbprint, now).await?;
        let detail = json!({ "reason": reason, "source": source, "sessions_ended": ended });
        let event =
            AuditEvent::certificate(CertificateEvent::Revoked, Outcome::Success, user, None, thumbprint, detail);
        self.inner.audit.record_or_log(event).await;
        Ok(())
    }

    /// Ends the sessions a certificate raised to level 4, and what applications were given
    /// under them (as `sso::Sessions::end` does).
    pub(super) async fn end_sessions_raised_by(&self, thumbprint: &str, now: i64) -> Result<usize, StorageError> {
        let store = &self.inner.store;
        let sessions = store.sessions().raised_by_certificate(thumbprint, now).await?;
        for id in &sessions {
            store.sessions().end(id, now).await?;
            store.grants().revoke_for_session(id, now).await?;
        }
        Ok(sessions.len())
    }
}
