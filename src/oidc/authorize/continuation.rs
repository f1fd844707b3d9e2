//! What follows once a person has authenticated inside an interaction (password or second
//! factor): the next page, a code, or a refusal; and the audit record of failed attempts.

use crate::audit::AuditEvent;
use crate::domain::{RelyingParty, User};

use super::super::interaction::{InteractionError, grant_of};
use super::{AuthorizeOutcome, Decision, InteractionStage, OidcService, ValidRequest};
use crate::sso::InteractionKind;

impl OidcService {
    /// The next step of an interaction after a person authenticated in it: the second
    /// factor, consent (both bound to the session), a code, or a refusal.
    pub(super) async fn continue_interaction(
        &self,
        interaction_id: &str,
        csrf: &str,
        req: &ValidRequest,
        client: &RelyingParty,
        decision: Decision,
    ) -> Result<AuthorizeOutcome, InteractionError> {
        let page = |stage| {
            let name = client.display_name().to_owned();
            AuthorizeOutcome::Interact(self.pending(interaction_id.to_owned(), csrf.to_owned(), stage, req, name))
        };
        Ok(match decision {
            Decision::StepUp(session, methods) => {
                self.interactions.advance(interaction_id, &session.id, InteractionKind::AuthorizeSecondFactor).await?;
                page(InteractionStage::SecondFactor(methods))
            }
            Decision::Consent(session) => {
                // The consent step must come from the session that just logged in.
                self.interactions.advance(interaction_id, &session.id, InteractionKind::AuthorizeConsent).await?;
                page(InteractionStage::Consent)
            }
            // The grant's id is fixed by the interaction: of two concurrent submits only one
            // issues a code, without a write to finish the interaction.
            Decision::Issue(found) => {
                let issued = self.issue_code(req, &found.0, &found.1, grant_of(interaction_id)).await?;
                AuthorizeOutcome::Respond(issued.ok_or(InteractionError::Expired)?)
            }
            Decision::Denied(user, reason) => {
                if !self.interactions.finish(interaction_id).await? {
                    return Err(InteractionError::Expired);
                }
                self.denied(client, req, &user, reason).await
            }
            Decision::Login => return Err(InteractionError::Expired),
        })
    }

    /// A person authenticated at the login step (password or passkey): audit it, start the
    /// SSO session and continue. Returns the new session cookie with the next step.
    pub(super) async fn logged_in(
        &self,
        form: (&str, &str),
        req: &ValidRequest,
        client: &RelyingParty,
        user: crate::domain::User,
        authn: crate::domain::AuthnContext,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let authn = authn.capped(user.profile.level_ceiling);
        let event = AuditEvent::login_succeeded(&user, Some(&client.client_id), &authn.amr, authn.level);
        self.audit.record_or_log(event.from_ip(source_ip)).await;
        let (session, cookie) = self.create_session(&user, authn).await?;
        let decision = self.decide(client, req, Some((session, user)), true).await.map_err(InteractionError::OAuth)?;
        let outcome = self.continue_interaction(form.0, form.1, req, client, decision).await?;
        Ok((Some(cookie), outcome))
    }

    /// Records a failed login against the account the name matched, if any (never the name
    /// itself: people type passwords into the wrong field).
    pub(super) async fn audit_failed_login(
        &self,
        account: Option<&User>,
        client: &RelyingParty,
        source_ip: Option<&str>,
        why: &str,
    ) {
        let reason = match (why, account.is_some()) {
            ("throttled" | "invalid second factor", _) => why,
            (_, true) => "invalid password",
            (_, false) => "unknown account",
        };
        let event = AuditEvent::login_failed(account, Some(&client.client_id), reason);
        self.audit.record_or_log(event.from_ip(source_ip)).await;
    }
}
