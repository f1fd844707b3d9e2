//! The step-up of an interaction: a person whose session is below the level the request needs
//! gives a TOTP or recovery code, or uses a passkey; the session's level, methods and
//! `auth_time` are raised under a new cookie token, and the flow continues where it stopped.

use crate::audit::AuditEvent;
use crate::authn::AuthnError;
use crate::domain::{AuthnContext, RelyingParty, SsoSession, User};
use crate::sso::interaction::LoadedInteraction;

use super::super::interaction::{InteractionError, request_of};
use super::{AuthorizeOutcome, InteractionStage, OidcService, StepUpMethods, ValidRequest};
use crate::oidc::{OAuthError, random_token, token_hash};
use crate::sso::InteractionKind;

/// Everything a step-up form is checked against.
struct StepUp {
    interaction: LoadedInteraction,
    req: ValidRequest,
    client: RelyingParty,
    session: SsoSession,
    user: User,
}

impl OidcService {
    /// The step-up interaction, posted from the browser whose session it names.
    async fn step_up(
        &self,
        interaction_id: &str,
        csrf: &str,
        cookie: Option<&str>,
    ) -> Result<StepUp, InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::AuthorizeSecondFactor, csrf).await?;
        let req = request_of(&interaction)?;
        let (session, user) = self.find_session(cookie).await?.ok_or(InteractionError::Expired)?;
        if interaction.session_id.as_ref() != Some(&session.id) {
            return Err(InteractionError::Expired);
        }
        let client = self.client_of(&req).await?;
        Ok(StepUp { interaction, req, client, session, user })
    }

    /// What still reaches the level the request needs, for the step-up page.
    async fn step_up_methods(&self, s: &StepUp) -> Result<StepUpMethods, InteractionError> {
        Ok(match self.check_level(&s.client, &s.req, &s.session, &s.user).await? {
            super::level::LevelCheck::StepUp(methods) => methods,
            _ => StepUpMethods { code: true, passkey: false },
        })
    }

    /// The step-up page again, offering `methods`.
    fn step_up_again(&self, s: &StepUp, csrf: &str, methods: StepUpMethods) -> Box<crate::oidc::PendingInteraction> {
        let stage = InteractionStage::SecondFactor(methods);
        let name = s.client.display_name().to_owned();
        Box::new(self.pending(s.interaction.id.clone(), csrf.to_owned(), stage, &s.req, name))
    }

    /// Second-factor code submitted. Returns the session's new cookie with the next step.
    pub async fn submit_second_factor(
        &self,
        interaction_id: &str,
        csrf: &str,
        code: &str,
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let s = self.step_up(interaction_id, csrf, session_cookie).await?;
        // A code is taken only where the page offers it: it cannot reach level 3.
        let methods = self.step_up_methods(&s).await?;
        if !methods.code {
            return Err(InteractionError::InvalidSecondFactor(self.step_up_again(&s, csrf, methods)));
        }
        let authn = match self.authn.check_second_factor(&s.user, code, source_ip, self.now()).await {
            Ok(authn) => authn,
            Err(AuthnError::Throttled { until }) => {
                self.audit_failed_login(Some(&s.user), &s.client, source_ip, "throttled").await;
                return Err(InteractionError::Throttled { pending: self.step_up_again(&s, csrf, methods), until });
            }
            Err(AuthnError::InvalidCredentials) => {
                self.audit_failed_login(Some(&s.user), &s.client, source_ip, "invalid second factor").await;
                return Err(InteractionError::InvalidSecondFactor(self.step_up_again(&s, csrf, methods)));
            }
            Err(e) => return Err(InteractionError::OAuth(OAuthError::server(e))),
        };
        self.stepped_up(s, csrf, authn, source_ip).await
    }

    /// Options for the step-up page's passkey request: the session owner's credentials.
    pub async fn passkey_step_up_options(
        &self,
        interaction_id: &str,
        csrf: &str,
        session_cookie: Option<&str>,
    ) -> Result<super::passkey::PasskeyOptions, InteractionError> {
        let s = self.step_up(interaction_id, csrf, session_cookie).await?;
        super::passkey::options_result(
            self.authn.start_passkey_login(&s.interaction.id, Some(&s.user), self.now()).await,
        )
    }

    /// A passkey assertion for the step-up page.
    pub async fn submit_passkey_step_up(
        &self,
        interaction_id: &str,
        csrf: &str,
        response: &str,
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let s = self.step_up(interaction_id, csrf, session_cookie).await?;
        let now = self.now();
        let id = s.interaction.id.clone();
        match self.authn.finish_passkey_login(&id, Some(&s.user), &s.session.authn.amr, response, now).await {
            Ok((_, authn)) => self.stepped_up(s, csrf, authn, source_ip).await,
            Err(AuthnError::Passkey(problem)) => {
                let why = format!("passkey {}", problem.code());
                let event = AuditEvent::login_failed(Some(&s.user), Some(&s.client.client_id), &why);
                self.audit.record_or_log(event.from_ip(source_ip)).await;
                let methods = self.step_up_methods(&s).await?;
                Err(InteractionError::Passkey { pending: self.step_up_again(&s, csrf, methods), problem })
            }
            Err(AuthnError::InvalidCredentials) => Err(InteractionError::Expired),
            Err(e) => Err(InteractionError::OAuth(OAuthError::server(e))),
        }
    }

    /// Raises the session (never lowers it), under a new cookie token, and continues.
    async fn stepped_up(
        &self,
        s: StepUp,
        csrf: &str,
        authn: AuthnContext,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let authn = authn.capped(s.user.profile.level_ceiling);
        if authn.level < s.session.authn.level {
            return Err(InteractionError::Expired);
        }
        let cookie = random_token();
        self.store.sessions().set_authn(&s.session.id, &authn, &token_hash(&cookie)).await?;
        let event = AuditEvent::login_succeeded(&s.user, Some(&s.client.client_id), &authn.amr, authn.level);
        self.audit.record_or_log(event.from_ip(source_ip)).await;
        let session = SsoSession { authn, ..s.session };
        let decision =
            self.decide(&s.client, &s.req, Some((session, s.user)), true).await.map_err(InteractionError::OAuth)?;
        let outcome = self.continue_interaction(&s.interaction.id, csrf, &s.req, &s.client, decision).await?;
        Ok((Some(cookie), outcome))
    }
}
