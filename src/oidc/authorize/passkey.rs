//! Passkey login from the login page: no name typed, the browser offers the person's passkeys
//! (conditional UI, or a button), and a verified assertion starts the SSO session at level 3.

use crate::authn::AuthnError;

use super::super::interaction::{InteractionError, request_of};
use super::continuation::sign_in_problem;
use super::{AuthorizeOutcome, InteractionStage, OidcService};
use crate::oidc::OAuthError;
use crate::sso::{Attempt, InteractionKind};

pub use crate::authn::webauthn::PasskeyOptions;

/// A passkey-options failure, for the page's script (it says only `server_error`).
pub(crate) fn options_failed(e: AuthnError) -> InteractionError {
    InteractionError::OAuth(OAuthError::server(e))
}

impl OidcService {
    /// Options for the login page's passkey request (any discoverable passkey).
    pub async fn passkey_login_options(
        &self,
        interaction_id: &str,
        csrf: &str,
    ) -> Result<PasskeyOptions, InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::AuthorizeLogin, csrf).await?;
        self.authn.start_passkey_login(&interaction.id, None, self.now()).await.map_err(options_failed)
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
        let at = Attempt { client: Some(&client.client_id), source_ip };
        let again = || {
            let name = client.display_name().to_owned();
            Box::new(self.pending(interaction.id.clone(), csrf.to_owned(), InteractionStage::Login, &req, name))
        };
        match self.sign_in.with_passkey(at, &interaction.id, response).await {
            Ok(signed_in) => self.resume_signed_in((&interaction.id, csrf), &req, &client, signed_in).await,
            Err(e) => Err(sign_in_problem(e, again)),
        }
    }
}
