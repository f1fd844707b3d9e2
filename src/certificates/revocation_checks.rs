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
                self.unknown_status(why)
            }
        }
    }

    /// A status that could not be learnt: refused under the hard policy (the default), let
    /// through (and logged) under the soft one.
    pub(super) fn unknown_status(&self, why: String) -> Result<(), CertProblem> {
        if self.inner.config.revocation == crate::config::RevocationPolicy::Hard {
            return Err(CertProblem::RevocationUnavailable(why));
        }
        tracing::warn!(reason = %why, "revocation unknown; accepted under the soft policy");
        Ok(())
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
    /// under them (`Store::end_session`).
    pub(super) async fn end_sessions_raised_by(&self, thumbprint: &str, now: i64) -> Result<usize, StorageError> {
        let store = &self.inner.store;
        let sessions = store.sessions().raised_by_certificate(thumbprint, now).await?;
        for id in &sessions {
            store.end_session(id, now).await?;
        }
        Ok(sessions.len())
    }
}

/// What one background pass found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckSummary {
    pub checked: usize,
    pub good: usize,
    pub revoked: usize,
    pub expired: usize,
    /// Revocation could not be learnt (responder and CRL unreachable, bad answers).
    pub unavailable: usize,
    /// Bound certificates that no longer validate (an anchor was removed, say).
    pub invalid: usize,
    /// Bound certificates ending within the notice window (each logged for the person's OPD).
    pub expiring: usize,
}

impl Certificates {
    /// The background pass: bindings whose validity ended become `expired` (their level-4
    /// sessions end); up to `batch` bound certificates, least recently checked first, are
    /// validated and asked about revocation again; those ending within `notice_days` are logged.
    pub async fn check_all(&self, batch: i64, notice_days: u32) -> Result<CheckSummary, StorageError> {
        let mut summary = CheckSummary::default();
        if !self.enabled() {
            return Ok(summary);
        }
        let now = self.inner.clock.now();
        let store = &self.inner.store;
        for row in store.certificates().bound_and_expired(now, batch).await? {
            let Some(user) = store.users().find(&crate::domain::UserId::new(row.user_id.clone())).await? else {
                continue;
            };
            match store.certificates().end(&row.thumbprint, "expired", "validity ended", now).await {
                Ok(()) | Err(StorageError::NotFound) => {}
                Err(e) => return Err(e),
            }
            let ended = self.end_sessions_raised_by(&row.thumbprint, now).await?;
            let detail = json!({ "not_after": row.not_after, "sessions_ended": ended });
            let event = AuditEvent::certificate(
                CertificateEvent::Expired,
                Outcome::Success,
                &user,
                None,
                &row.thumbprint,
                detail,
            );
            self.inner.audit.record_or_log(event).await;
            summary.expired += 1;
        }
        let notice = now + i64::from(notice_days) * 86400;
        for row in store.certificates().with_status("bound", batch).await? {
            let Some(user) = store.users().find(&crate::domain::UserId::new(row.user_id.clone())).await? else {
                continue;
            };
            summary.checked += 1;
            if row.not_after <= notice {
                summary.expiring += 1;
                tracing::info!(
                    user = %user.id,
                    org_unit = ?user.profile.org_unit_id,
                    x5t = %row.thumbprint,
                    days_left = (row.not_after - now) / 86400,
                    "an electronic certificate expires soon"
                );
            }
            let valid = match super::stored_presented(&row).and_then(|p| self.validate(&p)) {
                Ok(valid) => valid,
                Err(e) => {
                    tracing::warn!(x5t = %row.thumbprint, error = %e, "a bound certificate no longer validates");
                    summary.invalid += 1;
                    continue;
                }
            };
            match self.check_revocation(&user, &valid).await {
                Ok(()) => summary.good += 1,
                Err(CertProblem::Revoked) => summary.revoked += 1,
                Err(CertProblem::Storage(e)) => return Err(e),
                Err(_) => summary.unavailable += 1,
            }
        }
        Ok(summary)
    }
}
