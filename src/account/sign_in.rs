//! Signing in to the account pages themselves, when a person opens Pintu directly rather than
//! arriving from an application: the same sign-in steps as an authorization (`sso::flow`:
//! password or passkey, then a second step where the person's factors demand it), ending on
//! the account page instead of in an application. Two interaction kinds carry it, so a form of
//! one step can never complete the other, and nothing but the page waits.

use crate::authn::Enrolled;
use crate::authn::webauthn::PasskeyOptions;
use crate::certificates::{CertProblem, Presented, Proof};
use crate::domain::{SecurityLevel, SsoSession, User};
use crate::sso::interaction::LoadedInteraction;
use crate::sso::{Attempt, Authenticated, FormToken, InteractionKind, PendingRequest, SignInError, SignInProblem};

use super::{AccountError, AccountService};

/// What the sign-in page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInStage {
    /// A login name and password, or a passkey (`passkey`: the server can do WebAuthn).
    Login { passkey: bool },
    /// The second step the person's factors demand: a TOTP or recovery code, a passkey; or,
    /// for a waiting request that wants level 4, a bound electronic certificate only.
    SecondFactor { code: bool, passkey: bool, certificate: bool },
}

/// A sign-in page to render: its interaction, the CSRF token for its forms (shown once), and
/// its stage.
#[derive(Debug, Clone)]
pub struct SignInPage {
    pub interaction_id: String,
    pub csrf_token: String,
    pub stage: SignInStage,
}

/// Where a successful step leads.
#[derive(Debug, Clone)]
pub enum SignInStep {
    /// Signed in at the level the account pages need: set the cookie, show the account.
    Done { cookie: String },
    /// Signed in, but the person's factors demand a second step: set the cookie, ask for it.
    SecondFactor { cookie: String, page: SignInPage },
}

/// A refused step: the page to show again and the reason.
#[derive(Debug, Clone)]
pub struct SignInRefused {
    pub page: SignInPage,
    pub problem: SignInProblem,
}

/// The result of a sign-in form: the next step, or the page again; `Err` when the form no
/// longer applies (`SignInFirst`: start over) or a failure.
pub type SignInResult = Result<Result<SignInStep, SignInRefused>, AccountError>;

/// The level the account pages need of this person: any enrolled factor keeps a password
/// alone out; a code (level 2) suffices even for someone who also has passkeys.
pub(super) fn account_level(enrolled: Enrolled) -> SecurityLevel {
    enrolled.level().min(SecurityLevel::SecondFactor)
}

/// The level this sign-in ends at without a certificate: the account pages' own, or what a
/// waiting request wants where the person's factors and ceiling reach it (a passkey at most;
/// level 4 is `AccountService::plan`'s). What cannot be reached is not asked for; the request
/// that wanted it hears so from its own protocol.
fn target(user: &User, enrolled: Enrolled, wanted: Option<SecurityLevel>) -> SecurityLevel {
    let own = account_level(enrolled);
    let reach = enrolled.level().min(user.profile.level_ceiling).min(SecurityLevel::PhishingResistant);
    match wanted {
        Some(level) if level <= reach => own.max(level),
        _ => own,
    }
}

/// The second step toward `target`: a code reaches level 2 only, a passkey level 3.
fn second_step(enrolled: Enrolled, target: SecurityLevel) -> SignInStage {
    let code = enrolled.totp && target <= SecurityLevel::SecondFactor;
    SignInStage::SecondFactor { code, passkey: enrolled.passkeys > 0, certificate: false }
}

/// Level 4's step: a bound certificate proven on top of whatever the session holds, nothing
/// else asked (as in an authorization that needs it).
const CERTIFICATE_STEP: SignInStage = SignInStage::SecondFactor { code: false, passkey: false, certificate: true };

/// The level a waiting request wants of this sign-in, if it was started for one.
fn wanted_of(loaded: &LoadedInteraction) -> Option<SecurityLevel> {
    match loaded.request {
        PendingRequest::SignInFor { level } => crate::domain::security_level::from_number(level),
        _ => None,
    }
}

impl AccountService {
    /// The sign-in page for someone whose session cannot open the account pages: a login,
    /// or the second step when a session exists below what the person's factors demand.
    pub async fn sign_in_page(&self, session_cookie: Option<&str>) -> Result<SignInPage, AccountError> {
        let page = self.sign_in_page_for(session_cookie, None, false).await?;
        // Without a wanted level, a session that opens the account pages is not sent here.
        match page {
            Some(page) => Ok(page),
            None => self.sign_in_form(InteractionKind::AccountLogin, None, self.login_stage(), None).await,
        }
    }

    /// The sign-in page for a request waiting elsewhere that wants `wanted` (and, `fresh`, a new
    /// authentication even over a session); `None` when the session already has all this
    /// sign-in can give.
    pub async fn sign_in_page_for(
        &self,
        session_cookie: Option<&str>,
        wanted: Option<SecurityLevel>,
        fresh: bool,
    ) -> Result<Option<SignInPage>, AccountError> {
        let found = if fresh { None } else { self.sso.sessions.find(session_cookie).await? };
        if let Some((session, user)) = found {
            let (target, stage) = self.plan(&user, wanted).await?;
            if session.authn.level >= target {
                return Ok(None);
            }
            let kind = InteractionKind::AccountSecondFactor;
            return self.sign_in_form(kind, Some(&session), stage, wanted).await.map(Some);
        }
        self.sign_in_form(InteractionKind::AccountLogin, None, self.login_stage(), wanted).await.map(Some)
    }

    /// What this sign-in ends at for `user` and the second step toward it: level 4 (a
    /// certificate) where a waiting request wants it, the person's ceiling allows it and a
    /// certificate of theirs can be proven; otherwise `target`'s level and factors.
    async fn plan(
        &self,
        user: &User,
        wanted: Option<SecurityLevel>,
    ) -> Result<(SecurityLevel, SignInStage), AccountError> {
        let level_four = SecurityLevel::Certificate;
        if wanted == Some(level_four)
            && user.profile.level_ceiling >= level_four
            && !self.sso.certificates.provable(user).await?.is_empty()
        {
            return Ok((level_four, CERTIFICATE_STEP));
        }
        let enrolled = self.authn.enrolled(user).await?;
        let target = target(user, enrolled, wanted);
        Ok((target, second_step(enrolled, target)))
    }

    fn login_stage(&self) -> SignInStage {
        SignInStage::Login { passkey: self.authn.passkeys_available() }
    }

    async fn sign_in_form(
        &self,
        kind: InteractionKind,
        session: Option<&SsoSession>,
        stage: SignInStage,
        wanted: Option<SecurityLevel>,
    ) -> Result<SignInPage, AccountError> {
        let session = session.map(|s| &s.id);
        let request = match wanted {
            Some(level) => PendingRequest::SignInFor { level: level as u8 },
            None => PendingRequest::Account,
        };
        let started = self.sso.interactions.start(kind, &request, session).await?;
        Ok(SignInPage { interaction_id: started.id, csrf_token: started.csrf, stage })
    }

    /// A login name and password from the sign-in page.
    pub async fn sign_in_with_password(
        &self,
        (interaction, csrf): (&str, &str),
        login: &str,
        password: &str,
        source_ip: Option<&str>,
    ) -> SignInResult {
        let form = FormToken { interaction, csrf };
        let loaded = self.sso.interactions.load(form, InteractionKind::AccountLogin).await?;
        let at = Attempt { client: None, source_ip };
        match self.sso.sign_in.with_password(at, login, password).await {
            Ok(signed_in) => self.signed_in(form, signed_in, wanted_of(&loaded)).await,
            Err(e) => self.refused(form, e, self.login_stage()),
        }
    }

    /// Options for the sign-in page's passkey request (any discoverable passkey).
    pub async fn sign_in_passkey_options(
        &self,
        (interaction, csrf): (&str, &str),
    ) -> Result<PasskeyOptions, AccountError> {
        let loaded = self.sso.interactions.load(FormToken { interaction, csrf }, InteractionKind::AccountLogin).await?;
        Ok(self.authn.start_passkey_login(&loaded.id, None, self.now()).await?)
    }

    /// A passkey assertion from the sign-in page.
    pub async fn sign_in_with_passkey(
        &self,
        (interaction, csrf): (&str, &str),
        response: &str,
        source_ip: Option<&str>,
    ) -> SignInResult {
        let form = FormToken { interaction, csrf };
        let loaded = self.sso.interactions.load(form, InteractionKind::AccountLogin).await?;
        let at = Attempt { client: None, source_ip };
        match self.sso.sign_in.with_passkey(at, &loaded.id, response).await {
            Ok(signed_in) => self.signed_in(form, signed_in, wanted_of(&loaded)).await,
            Err(e) => self.refused(form, e, self.login_stage()),
        }
    }

    /// The second step's interaction, posted from the browser whose session it names.
    async fn second_step_of(
        &self,
        form: FormToken<'_>,
        session_cookie: Option<&str>,
    ) -> Result<(SsoSession, User, SignInStage, Option<SecurityLevel>), AccountError> {
        let loaded = self.sso.interactions.load(form, InteractionKind::AccountSecondFactor).await?;
        let (session, user) = self.sso.sessions.find(session_cookie).await?.ok_or(AccountError::SignInFirst)?;
        if loaded.session_id.as_ref() != Some(&session.id) {
            return Err(AccountError::SignInFirst);
        }
        let wanted = wanted_of(&loaded);
        let (_, stage) = self.plan(&user, wanted).await?;
        Ok((session, user, stage, wanted))
    }

    /// A TOTP or recovery code for the second step.
    pub async fn sign_in_second_factor(
        &self,
        (interaction, csrf): (&str, &str),
        code: &str,
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> SignInResult {
        let form = FormToken { interaction, csrf };
        let (session, user, stage, wanted) = self.second_step_of(form, session_cookie).await?;
        // A code is taken only where the page offers it.
        if !matches!(stage, SignInStage::SecondFactor { code: true, .. }) {
            return self.refused(form, SignInError::InvalidSecondFactor, stage);
        }
        let at = Attempt { client: None, source_ip };
        match self.sso.sign_in.step_up_with_code(at, (session, user), code).await {
            Ok(signed_in) => self.signed_in(form, signed_in, wanted).await,
            Err(e) => self.refused(form, e, stage),
        }
    }

    /// Options for the second step's passkey request: the session owner's credentials.
    pub async fn second_factor_passkey_options(
        &self,
        (interaction, csrf): (&str, &str),
        session_cookie: Option<&str>,
    ) -> Result<PasskeyOptions, AccountError> {
        let (_, user, _, _) = self.second_step_of(FormToken { interaction, csrf }, session_cookie).await?;
        Ok(self.authn.start_passkey_login(interaction, Some(&user), self.now()).await?)
    }

    /// A passkey assertion for the second step.
    pub async fn second_factor_with_passkey(
        &self,
        (interaction, csrf): (&str, &str),
        response: &str,
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> SignInResult {
        let form = FormToken { interaction, csrf };
        let (session, user, stage, wanted) = self.second_step_of(form, session_cookie).await?;
        if !matches!(stage, SignInStage::SecondFactor { passkey: true, .. }) {
            return self.refused(form, SignInError::InvalidSecondFactor, stage);
        }
        let at = Attempt { client: None, source_ip };
        match self.sso.sign_in.step_up_with_passkey(at, interaction, (session, user), response).await {
            Ok(signed_in) => self.signed_in(form, signed_in, wanted).await,
            Err(e) => self.refused(form, e, stage),
        }
    }

    /// A certificate for level 4 (a TLS client certificate, from Pintu's listener or a trusted
    /// proxy), taken only where the page offers it.
    pub async fn second_factor_with_certificate(
        &self,
        (interaction, csrf): (&str, &str),
        (presented, proof): (Option<&Presented>, Proof),
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> SignInResult {
        let form = FormToken { interaction, csrf };
        let (session, user, stage, wanted) = self.second_step_of(form, session_cookie).await?;
        if stage != CERTIFICATE_STEP {
            return self.refused(form, SignInError::Certificate(CertProblem::NonePresented.code()), stage);
        }
        let at = Attempt { client: None, source_ip };
        match self.sso.sign_in.step_up_with_certificate(at, (session, user), presented, proof).await {
            Ok(signed_in) => self.signed_in(form, signed_in, wanted).await,
            Err(e) => self.refused(form, e, stage),
        }
    }

    /// A passphrase for the person's certificate held by the CA's signing service (level 4),
    /// taken only where the page offers the certificate and the service is configured.
    pub async fn second_factor_with_remote_certificate(
        &self,
        (interaction, csrf): (&str, &str),
        passphrase: &str,
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> SignInResult {
        let form = FormToken { interaction, csrf };
        let (session, user, stage, wanted) = self.second_step_of(form, session_cookie).await?;
        if stage != CERTIFICATE_STEP || !self.sso.certificates.remote_available() {
            return self.refused(form, SignInError::Certificate(CertProblem::NonePresented.code()), stage);
        }
        let at = Attempt { client: None, source_ip };
        match self.sso.sign_in.step_up_with_remote_certificate(at, (session, user), passphrase).await {
            Ok(signed_in) => self.signed_in(form, signed_in, wanted).await,
            Err(e) => self.refused(form, e, stage),
        }
    }

    /// Whether a certificate held by the CA's signing service can be offered.
    pub fn remote_certificates(&self) -> bool {
        self.sso.certificates.remote_available()
    }

    /// After a successful step: done when the session now opens the account pages, else the
    /// interaction moves on to the second step, bound to the new session.
    async fn signed_in(
        &self,
        form: FormToken<'_>,
        signed_in: Authenticated,
        wanted: Option<SecurityLevel>,
    ) -> SignInResult {
        let Authenticated { session, user, cookie } = signed_in;
        let (target, stage) = self.plan(&user, wanted).await?;
        if session.authn.level >= target {
            self.sso.interactions.finish(form.interaction).await?;
            return Ok(Ok(SignInStep::Done { cookie }));
        }
        self.sso.interactions.advance(form.interaction, &session.id, InteractionKind::AccountSecondFactor).await?;
        let page = SignInPage { interaction_id: form.interaction.to_owned(), csrf_token: form.csrf.to_owned(), stage };
        Ok(Ok(SignInStep::SecondFactor { cookie, page }))
    }

    /// The page again with the reason a step was refused.
    fn refused(&self, form: FormToken<'_>, e: SignInError, stage: SignInStage) -> SignInResult {
        let problem = match e.into_problem() {
            Ok(problem) => problem,
            Err(SignInError::Failed(cause)) => return Err(cause.into()),
            Err(_) => return Err(AccountError::SignInFirst),
        };
        let page = SignInPage { interaction_id: form.interaction.to_owned(), csrf_token: form.csrf.to_owned(), stage };
        Ok(Err(SignInRefused { page, problem }))
    }
}
