//! The sign-in flow that belongs to no protocol: a password or a passkey at the login step
//! starts an SSO session; a second factor or a passkey raises it (step-up). Each ends in one
//! `Authenticated` outcome (the session as it now stands, the person, the cookie to set), and
//! the protocol that started the interaction resumes its own request from it: an OIDC
//! authorization decides between consent and a code; SAML and CIBA will answer their way.
//! Every attempt is audited here, successes and failures alike, on behalf of the application
//! that asked.

use crate::audit::{AuditEvent, AuditRecorder};
use crate::authn::webauthn::PasskeyProblem;
use crate::authn::{AuthnError, AuthnService};
use crate::certificates::{CertProblem, Certificates, Presented, Proof};
use crate::clock::SharedClock;
use crate::domain::{AuthnContext, ClientId, SsoSession, User};
use crate::storage::StorageError;

use super::sessions::Sessions;

/// On whose behalf and from where a person signs in, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The application whose request is waiting, if any.
    pub client: Option<&'a ClientId>,
    pub source_ip: Option<&'a str>,
}

/// A person signed in or stepped up: the session as it now stands, and its new cookie value.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: SsoSession,
    pub user: User,
    pub cookie: String,
}

/// Why a sign-in step did not succeed; the page shows the form again, saying why.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures for this name, account or address, until `until` (unix seconds).
    #[error("too many failed attempts")]
    Throttled { until: i64 },
    #[error("invalid second factor")]
    InvalidSecondFactor,
    #[error("passkey refused: {0}")]
    Passkey(PasskeyProblem),
    /// The directory that keeps the person's password cannot be reached (`directory`).
    #[error("directory {0} is unavailable")]
    DirectoryUnavailable(String),
    /// The certificate presented for level 4 was refused (`CertProblem::code`).
    #[error("certificate refused: {0}")]
    Certificate(&'static str),
    /// The step cannot apply any more (it would lower the session, its ceremony is gone).
    #[error("the sign-in step no longer applies")]
    Expired,
    #[error(transparent)]
    Failed(AuthnError),
}

/// Why a step was refused, when the person can try again: the page is shown again, saying why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInProblem {
    InvalidCredentials,
    InvalidSecondFactor,
    /// Too many failures, until this time (unix seconds).
    Throttled {
        until: i64,
    },
    Passkey(PasskeyProblem),
    /// The directory that checks this person's password cannot be reached; local accounts
    /// still sign in.
    DirectoryUnavailable,
    /// Transaction signing failed (`SigningError::code`): the service is down, or its
    /// signature did not verify.
    Signing(&'static str),
    /// The certificate presented was refused (`CertProblem::code`).
    Certificate(&'static str),
}

impl SignInError {
    /// The refusal to show the person, or (`Err`) the error itself when the step cannot be
    /// tried again (`Expired`) or failed.
    pub fn into_problem(self) -> Result<SignInProblem, SignInError> {
        match self {
            SignInError::InvalidCredentials => Ok(SignInProblem::InvalidCredentials),
            SignInError::InvalidSecondFactor => Ok(SignInProblem::InvalidSecondFactor),
            SignInError::Throttled { until } => Ok(SignInProblem::Throttled { until }),
            SignInError::Passkey(problem) => Ok(SignInProblem::Passkey(problem)),
            SignInError::DirectoryUnavailable(_) => Ok(SignInProblem::DirectoryUnavailable),
            SignInError::Certificate(code) => Ok(SignInProblem::Certificate(code)),
            other => Err(other),
        }
    }
}

impl From<StorageError> for SignInError {
    fn from(e: StorageError) -> Self {
        SignInError::Failed(AuthnError::Storage(e))
    }
}

/// Runs the sign-in steps. Cheap to clone.
#[derive(Clone)]
pub struct SignIn {
    authn: AuthnService,
    certificates: Certificates,
    sessions: Sessions,
    audit: AuditRecorder,
    clock: SharedClock,
}

impl SignIn {
    pub fn new(
        authn: AuthnService,
        certificates: Certificates,
        sessions: Sessions,
        audit: AuditRecorder,
        clock: SharedClock,
    ) -> Self {
        Self { authn, certificates, sessions, audit, clock }
    }

    /// A login name and password at the login step: a new session.
    pub async fn with_password(
        &self,
        at: Attempt<'_>,
        login: &str,
        password: &str,
    ) -> Result<Authenticated, SignInError> {
        match self.authn.authenticate_password(login, password, at.source_ip, self.clock.now()).await {
            Ok((user, authn)) => self.start(at, user, authn).await,
            Err(refused) => {
                let account = refused.account.as_deref();
                Err(match refused.error {
                    AuthnError::Throttled { until } => {
                        self.failed(at, account, "throttled").await;
                        SignInError::Throttled { until }
                    }
                    AuthnError::InvalidCredentials => {
                        let why = if account.is_some() { "invalid password" } else { "unknown account" };
                        self.failed(at, account, why).await;
                        SignInError::InvalidCredentials
                    }
                    AuthnError::DirectoryUnavailable(directory) => {
                        self.failed(at, account, &format!("directory {directory} unavailable")).await;
                        SignInError::DirectoryUnavailable(directory)
                    }
                    other => SignInError::Failed(other),
                })
            }
        }
    }

    /// A passkey assertion at the login step (no name typed): a new session. `ceremony` is
    /// what the options were issued under (the interaction).
    pub async fn with_passkey(
        &self,
        at: Attempt<'_>,
        ceremony: &str,
        response: &str,
    ) -> Result<Authenticated, SignInError> {
        match self.authn.finish_passkey_login(ceremony, None, &[], response, self.clock.now()).await {
            Ok((user, authn)) => self.start(at, user, authn).await,
            Err(AuthnError::Passkey(problem)) => Err(self.passkey_failed(at, None, problem).await),
            Err(AuthnError::InvalidCredentials) => Err(self.passkey_failed(at, None, PasskeyProblem::Rejected).await),
            Err(e) => Err(SignInError::Failed(e)),
        }
    }

    /// A TOTP or recovery code raising `session` (step-up).
    pub async fn step_up_with_code(
        &self,
        at: Attempt<'_>,
        (session, user): (SsoSession, User),
        code: &str,
    ) -> Result<Authenticated, SignInError> {
        match self.authn.check_second_factor(&user, code, at.source_ip, self.clock.now()).await {
            Ok(authn) => self.raise(at, (session, user), authn).await,
            Err(AuthnError::Throttled { until }) => {
                self.failed(at, Some(&user), "throttled").await;
                Err(SignInError::Throttled { until })
            }
            Err(AuthnError::InvalidCredentials) => {
                self.failed(at, Some(&user), "invalid second factor").await;
                Err(SignInError::InvalidSecondFactor)
            }
            Err(e) => Err(SignInError::Failed(e)),
        }
    }

    /// A passkey assertion raising `session` (step-up); the session's earlier methods are kept.
    pub async fn step_up_with_passkey(
        &self,
        at: Attempt<'_>,
        ceremony: &str,
        (session, user): (SsoSession, User),
        response: &str,
    ) -> Result<Authenticated, SignInError> {
        let now = self.clock.now();
        match self.authn.finish_passkey_login(ceremony, Some(&user), &session.authn.amr, response, now).await {
            Ok((_, authn)) => self.raise(at, (session, user), authn).await,
            Err(AuthnError::Passkey(problem)) => Err(self.passkey_failed(at, Some(&user), problem).await),
            Err(AuthnError::InvalidCredentials) => Err(SignInError::Expired),
            Err(e) => Err(SignInError::Failed(e)),
        }
    }

    /// A bound certificate proven (`proof`) raising `session` to level 4; a pending one of the
    /// person's becomes bound by the same proof. The session remembers the certificate: its
    /// revocation ends the session.
    pub async fn step_up_with_certificate(
        &self,
        at: Attempt<'_>,
        (session, user): (SsoSession, User),
        presented: Option<&Presented>,
        proof: Proof,
    ) -> Result<Authenticated, SignInError> {
        let Some(presented) = presented else {
            self.failed(at, Some(&user), "certificate none").await;
            return Err(SignInError::Certificate(CertProblem::NonePresented.code()));
        };
        let proven = self.certificates.prove(&user, presented, proof).await;
        self.raise_by_certificate(at, (session, user), proven, proof).await
    }

    /// A certificate held by the CA's signing service, unlocked with `passphrase`, raising
    /// `session` to level 4 (as `step_up_with_certificate`).
    pub async fn step_up_with_remote_certificate(
        &self,
        at: Attempt<'_>,
        (session, user): (SsoSession, User),
        passphrase: &str,
    ) -> Result<Authenticated, SignInError> {
        // The passphrase is guessable: counted and locked like a second-factor code, so the
        // signing service is never used to guess it (nor the person's credential locked there).
        let now = self.clock.now();
        let attempt = match self.authn.factor_attempt(&user, at.source_ip, now).await {
            Ok(attempt) => attempt,
            Err(AuthnError::Throttled { until }) => {
                self.failed(at, Some(&user), "throttled").await;
                return Err(SignInError::Throttled { until });
            }
            Err(e) => return Err(SignInError::Failed(e)),
        };
        let proven = self.certificates.prove_remote(&user, passphrase).await.map(|(binding, _)| binding);
        match &proven {
            Ok(_) => self.authn.factor_succeeded(&attempt).await.map_err(SignInError::Failed)?,
            Err(CertProblem::RemoteRefused(_)) => {
                if let AuthnError::Throttled { until } =
                    self.authn.factor_failed(&attempt, now).await.map_err(SignInError::Failed)?
                {
                    self.failed(at, Some(&user), "certificate remote_refused").await;
                    return Err(SignInError::Throttled { until });
                }
            }
            Err(_) => {}
        }
        self.raise_by_certificate(at, (session, user), proven, Proof::Remote).await
    }

    /// Level 4 from a proof's outcome: the session raised and tied to the certificate, or the
    /// refusal audited and shown.
    async fn raise_by_certificate(
        &self,
        at: Attempt<'_>,
        (session, user): (SsoSession, User),
        proven: Result<crate::storage::CertificateRow, CertProblem>,
        proof: Proof,
    ) -> Result<Authenticated, SignInError> {
        match proven {
            Ok(binding) => {
                let authn = Certificates::level_four(&session.authn, proof, self.clock.now());
                let done = self.raise(at, (session, user), authn).await?;
                self.certificates.raised(&done.session.id, &binding.thumbprint).await?;
                Ok(done)
            }
            Err(e) if e.is_refusal() => {
                self.failed(at, Some(&user), &format!("certificate {}", e.code())).await;
                Err(SignInError::Certificate(e.code()))
            }
            Err(CertProblem::Storage(e)) => Err(e.into()),
            Err(e) => Err(SignInError::Failed(AuthnError::Factor(internal(&e)))),
        }
    }

    /// Starts the session of a person who just signed in, capped to their ceiling.
    async fn start(&self, at: Attempt<'_>, user: User, authn: AuthnContext) -> Result<Authenticated, SignInError> {
        let authn = authn.capped(user.profile.level_ceiling);
        self.succeeded(at, &user, &authn).await;
        let (session, cookie) = self.sessions.create(&user, authn).await?;
        Ok(Authenticated { session, user, cookie })
    }

    /// Raises a session (never lowers it) under a new cookie token.
    async fn raise(
        &self,
        at: Attempt<'_>,
        (session, user): (SsoSession, User),
        authn: AuthnContext,
    ) -> Result<Authenticated, SignInError> {
        let authn = authn.capped(user.profile.level_ceiling);
        if authn.level < session.authn.level {
            return Err(SignInError::Expired);
        }
        let cookie = self.sessions.raise(&session, &authn).await?;
        if authn.level > session.authn.level {
            self.audit.metrics().step_up(authn.level as u8);
        }
        self.succeeded(at, &user, &authn).await;
        Ok(Authenticated { session: SsoSession { authn, ..session }, user, cookie })
    }

    async fn succeeded(&self, at: Attempt<'_>, user: &User, authn: &AuthnContext) {
        let event = AuditEvent::login_succeeded(user, at.client, &authn.amr, authn.level);
        self.audit.record_or_log(event.from_ip(at.source_ip)).await;
    }

    /// Records a failed attempt against the account it concerned, if any (never the typed
    /// name: people type passwords into the wrong field).
    async fn failed(&self, at: Attempt<'_>, account: Option<&User>, why: &str) {
        let event = AuditEvent::login_failed(account, at.client, why);
        self.audit.record_or_log(event.from_ip(at.source_ip)).await;
    }

    async fn passkey_failed(&self, at: Attempt<'_>, account: Option<&User>, problem: PasskeyProblem) -> SignInError {
        self.failed(at, account, &format!("passkey {}", problem.code())).await;
        SignInError::Passkey(problem)
    }
}

/// A certificate check that failed inside Pintu, logged here (the error is not shown).
fn internal(e: &CertProblem) -> &'static str {
    tracing::error!(error = %e, "certificate check failed");
    "certificate check failed"
}
