//! The step-up of an authorization interaction: a person whose session is below the level the
//! request needs gives a TOTP or recovery code, or uses a passkey (`sso::flow` raises the
//! session under a new cookie token), and the authorization continues where it stopped.

use crate::domain::{RelyingParty, SsoSession, User};
use crate::sso::interaction::LoadedInteraction;
use crate::sso::{Attempt, InteractionKind, SignInError, SignInProblem};

use super::super::interaction::{InteractionError, request_of};
use super::continuation::sign_in_problem;
use super::{AuthorizeOutcome, InteractionStage, OidcService, StepUpMethods, ValidRequest};

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
            _ => StepUpMethods { code: true, passkey: false, certificate: false },
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
            let problem = SignInProblem::InvalidSecondFactor;
            return Err(InteractionError::Refused { pending: self.step_up_again(&s, csrf, methods), problem });
        }
        let at = Attempt { client: Some(&s.client.client_id), source_ip };
        let found = (s.session.clone(), s.user.clone());
        match self.sign_in.step_up_with_code(at, found, code).await {
            Ok(signed_in) => self.resume_signed_in((&s.interaction.id, csrf), &s.req, &s.client, signed_in).await,
            Err(e) => Err(sign_in_problem(e, || self.step_up_again(&s, csrf, methods))),
        }
    }

    /// Options for the step-up page's passkey request: the session owner's credentials.
    pub async fn passkey_step_up_options(
        &self,
        interaction_id: &str,
        csrf: &str,
        session_cookie: Option<&str>,
    ) -> Result<super::passkey::PasskeyOptions, InteractionError> {
        let s = self.step_up(interaction_id, csrf, session_cookie).await?;
        let options = self.authn.start_passkey_login(&s.interaction.id, Some(&s.user), self.now()).await;
        options.map_err(super::passkey::options_failed)
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
        let at = Attempt { client: Some(&s.client.client_id), source_ip };
        let found = (s.session.clone(), s.user.clone());
        match self.sign_in.step_up_with_passkey(at, &s.interaction.id, found, response).await {
            Ok(signed_in) => self.resume_signed_in((&s.interaction.id, csrf), &s.req, &s.client, signed_in).await,
            Err(e @ SignInError::Passkey(_)) => {
                let methods = self.step_up_methods(&s).await?;
                Err(sign_in_problem(e, || self.step_up_again(&s, csrf, methods)))
            }
            Err(e) => Err(sign_in_problem(e, || self.step_up_again(&s, csrf, StepUpMethods::default()))),
        }
    }

    /// A certificate presented for level 4 (a TLS client certificate, from Pintu's listener or
    /// a trusted proxy). Taken only where the page offers it.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_certificate_step_up(
        &self,
        interaction_id: &str,
        csrf: &str,
        session_cookie: Option<&str>,
        presented: Option<&crate::certificates::Presented>,
        proof: crate::certificates::Proof,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let s = self.step_up(interaction_id, csrf, session_cookie).await?;
        let methods = self.step_up_methods(&s).await?;
        if !methods.certificate {
            let problem = SignInProblem::Certificate("none");
            return Err(InteractionError::Refused { pending: self.step_up_again(&s, csrf, methods), problem });
        }
        let at = Attempt { client: Some(&s.client.client_id), source_ip };
        let found = (s.session.clone(), s.user.clone());
        match self.sign_in.step_up_with_certificate(at, found, presented, proof).await {
            Ok(signed_in) => self.resume_signed_in((&s.interaction.id, csrf), &s.req, &s.client, signed_in).await,
            Err(e) => Err(sign_in_problem(e, || self.step_up_again(&s, csrf, methods))),
        }
    }

    /// A passphrase for the person's certificate held by the CA's signing service (level 4).
    pub async fn submit_remote_certificate_step_up(
        &self,
        interaction_id: &str,
        csrf: &str,
        session_cookie: Option<&str>,
        passphrase: &str,
        source_ip: Option<&str>,
    ) -> Result<(Option<String>, AuthorizeOutcome), InteractionError> {
        let s = self.step_up(interaction_id, csrf, session_cookie).await?;
        let methods = self.step_up_methods(&s).await?;
        if !methods.certificate || !self.certificates.remote_available() {
            let problem = SignInProblem::Certificate("none");
            return Err(InteractionError::Refused { pending: self.step_up_again(&s, csrf, methods), problem });
        }
        let at = Attempt { client: Some(&s.client.client_id), source_ip };
        let found = (s.session.clone(), s.user.clone());
        match self.sign_in.step_up_with_remote_certificate(at, found, passphrase).await {
            Ok(signed_in) => self.resume_signed_in((&s.interaction.id, csrf), &s.req, &s.client, signed_in).await,
            Err(e) => Err(sign_in_problem(e, || self.step_up_again(&s, csrf, methods))),
        }
    }
}
