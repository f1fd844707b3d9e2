//! The second-factor step of an interaction: a person whose session is below the level the
//! request needs gives a TOTP code or a recovery code; the session's level, methods and
//! `auth_time` are raised, and the flow continues where it stopped.

use crate::audit::AuditEvent;
use crate::authn::AuthnError;

use super::super::interaction::{InteractionError, KIND_SECOND_FACTOR, request_of};
use super::{AuthorizeOutcome, InteractionStage, OidcService};

impl OidcService {
    /// Second-factor form submitted, from the browser whose session the interaction names.
    pub async fn submit_second_factor(
        &self,
        interaction_id: &str,
        csrf: &str,
        code: &str,
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> Result<AuthorizeOutcome, InteractionError> {
        let interaction = self.load_interaction(interaction_id, KIND_SECOND_FACTOR, csrf).await?;
        let req = request_of(&interaction)?;
        let (session, user) = self.find_session(session_cookie).await?.ok_or(InteractionError::Expired)?;
        if interaction.session_id.as_ref() != Some(&session.id) {
            return Err(InteractionError::Expired);
        }
        let client = self.client_of(&req).await?;
        let again = |stage| {
            let name = client.display_name().to_owned();
            Box::new(self.pending(interaction.id.clone(), csrf.to_owned(), stage, &req, name))
        };
        let authn = match self.authn.check_second_factor(&user, code, source_ip, self.now()).await {
            Ok(authn) => authn,
            Err(AuthnError::Throttled { until }) => {
                self.audit_failed_login(&user.username, &client, source_ip, "throttled").await;
                return Err(InteractionError::Throttled { pending: again(InteractionStage::SecondFactor), until });
            }
            Err(AuthnError::InvalidCredentials) => {
                self.audit_failed_login(&user.username, &client, source_ip, "invalid second factor").await;
                return Err(InteractionError::InvalidSecondFactor(again(InteractionStage::SecondFactor)));
            }
            Err(e) => return Err(InteractionError::OAuth(crate::oidc::OAuthError::server(e))),
        };
        // Never lower a session: a step-up only ever raises it.
        if authn.level < session.authn.level {
            return Err(InteractionError::Expired);
        }
        self.store.sessions().set_authn(&session.id, &authn).await?;
        let event = AuditEvent::login_succeeded(&user, Some(&client.client_id), &authn.amr, authn.level);
        self.audit.record_or_log(event.from_ip(source_ip)).await;
        let session = crate::domain::SsoSession { authn, ..session };
        let decision =
            self.decide(&client, &req, Some((session, user)), true).await.map_err(InteractionError::OAuth)?;
        self.continue_interaction(interaction_id, csrf, &req, &client, decision).await
    }
}
