//! What follows once the sign-in flow (`sso::flow`) authenticated a person inside an
//! authorization interaction: the next page, a code, or a refusal.

use crate::domain::RelyingParty;
use crate::oidc::{OAuthError, PendingInteraction};
use crate::sso::{Authenticated, SignInError};

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
                let issued = self.issue_code(req, &found.0, &found.1, grant_of(interaction_id), None).await?;
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

    /// The sign-in flow ended (a new session, or one stepped up): resume the authorization
    /// where it stopped. Returns the session cookie to set with the next step.
    pub(super) async fn resume_signed_in(
        &self,
        form: (&str, &str),
        req: &ValidRequest,
        client: &RelyingParty,
        signed_in: Authenticated,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let found = Some((signed_in.session, signed_in.user));
        let decision = self.decide(client, req, found, true).await.map_err(InteractionError::OAuth)?;
        let outcome = self.continue_interaction(form.0, form.1, req, client, decision).await?;
        Ok((Some(signed_in.cookie), outcome))
    }
}

/// A sign-in step that failed, as the page that asks again (`again`) shows it.
pub(super) fn sign_in_problem(e: SignInError, again: impl FnOnce() -> Box<PendingInteraction>) -> InteractionError {
    match e.into_problem() {
        Ok(problem) => InteractionError::Refused { pending: again(), problem },
        Err(SignInError::Failed(cause)) => InteractionError::OAuth(OAuthError::server(cause)),
        Err(_) => InteractionError::Expired,
    }
}
