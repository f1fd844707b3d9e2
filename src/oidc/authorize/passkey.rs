//! Passkey login from the login page: no name typed, the browser offers the person's passkeys
//! (conditional UI, or a button), and a verified assertion starts the SSO session at level 3.

use crate::audit::AuditEvent;
use crate::authn::AuthnError;
use crate::authn::webauthn::PasskeyProblem;

use super::super::interaction::{InteractionError, request_of};
use super::{AuthorizeOutcome, InteractionStage, OidcService};
use crate::oidc::OAuthError;
use crate::sso::InteractionKind;

/// Ceremony options for the page's script, or why none can be given (the script shows it).
pub type PasskeyOptions = Result<serde_json::Value, PasskeyProblem>;

pub(crate) fn options_result(
    result: Result<serde_json::Value, AuthnError>,
) -> Result<PasskeyOptions, InteractionError> {
    match result {
        Ok(options) => Ok(Ok(options)),
        Err(AuthnError::Passkey(problem)) => Ok(Err(problem)),
        Err(other) => Err(InteractionError::OAuth(OAuthError::server(other))),
    }
}

impl OidcService {
    /// Options for the login page's passkey request (any discoverable passkey).
    pub async fn passkey_login_options(
        &self,
        interaction_id: &str,
        csrf: &str,
    ) -> Result<PasskeyOptions, InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::AuthorizeLogin, csrf).await?;
        options_result(self.authn.start_passkey_login(&interaction.id, None, self.now()).await)
    }

    /// A passkey assertion from the login page. Returns the new session cookie with the next
    /// step, like a password login.
    pub async fn submit_passkey_login(
        &self,
        interaction_id: &str,
        csrf: &str,
        response: &str,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::AuthorizeLogin, csrf).await?;
        let req = request_of(&interaction)?;
        let client = self.client_of(&req).await?;
        match self.authn.finish_passkey_login(&interaction.id, None, &[], response, self.now()).await {
            Ok((user, authn)) => self.logged_in((&interaction.id, csrf), &req, &client, user, authn, source_ip).await,
            Err(e @ (AuthnError::Passkey(_) | AuthnError::InvalidCredentials)) => {
                let problem = match e {
                    AuthnError::Passkey(p) => p,
                    _ => PasskeyProblem::Rejected,
                };
                let why = format!("passkey {}", problem.code());
                let event = AuditEvent::login_failed(None, Some(&client.client_id), &why);
                self.audit.record_or_log(event.from_ip(source_ip)).await;
                let name = client.display_name().to_owned();
                let pending =
                    self.pending(interaction.id.clone(), csrf.to_owned(), InteractionStage::Login, &req, name);
                Err(InteractionError::Passkey { pending: Box::new(pending), problem })
            }
            Err(e) => Err(InteractionError::OAuth(OAuthError::server(e))),
        }
    }
}
