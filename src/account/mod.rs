//! Self-service for the person signed in: the account pages' side that belongs to no
//! protocol. The overview (sessions with the applications each reached), the password
//! change, TOTP enrolment and removal, passkey registration and removal. Every form is bound to
//! the SSO session and to an interaction of the account's kind (`sso::interaction`), and every
//! change is audited under the person's home unit.

mod activation;
mod certificates;
mod factors;
mod pages;
mod sign_in;

use crate::applications::ApplicationService;
use crate::audit::{AdminChange, AuditEvent, AuditRecorder};
use crate::authn::{AuthnError, AuthnService};
use crate::clock::SharedClock;
use crate::domain::{ActorId, SsoSession, User};
use crate::sso::{FormToken, InteractionKind, PendingRequest, Sso, SsoError};
use crate::storage::{StorageError, Store};

pub use activation::{Activated, ActivationProblem};
pub use certificates::OwnCertificate;
pub use factors::FactorChange;
pub use pages::{AccountOverview, PasswordChange, SessionEntry, TotpPage};
pub use sign_in::{SignInPage, SignInRefused, SignInResult, SignInStage, SignInStep};

/// Enrolling or removing a factor needs a sign-in within this many seconds.
const RECENT_AUTH: i64 = 10 * 60;

/// Why an account page or form cannot proceed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No session (or one below what the person's factors allow), or a form that no longer
    /// applies: sign in (again) first.
    #[error("sign in first")]
    SignInFirst,
    #[error("the form's CSRF token does not match")]
    Csrf,
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl AccountError {
    fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        AccountError::Failed(Box::new(e))
    }
}

impl From<StorageError> for AccountError {
    fn from(e: StorageError) -> Self {
        AccountError::failed(e)
    }
}

impl From<AuthnError> for AccountError {
    fn from(e: AuthnError) -> Self {
        match e {
            AuthnError::Factor(_) => AccountError::SignInFirst,
            other => AccountError::Failed(Box::new(other)),
        }
    }
}

impl From<SsoError> for AccountError {
    fn from(e: SsoError) -> Self {
        match e {
            SsoError::Expired => AccountError::SignInFirst,
            SsoError::Csrf => AccountError::Csrf,
            other => AccountError::Failed(Box::new(other)),
        }
    }
}

/// The account pages' operations. Cheap to clone.
#[derive(Clone)]
pub struct AccountService {
    store: Store,
    applications: ApplicationService,
    authn: AuthnService,
    sso: Sso,
    audit: AuditRecorder,
    clock: SharedClock,
    /// The issuer, as the label authenticator apps show beside a TOTP entry.
    issuer: String,
}

/// What the account pages' service is built from.
pub struct AccountParts {
    pub store: Store,
    /// For the names of the applications a session reached (its cache).
    pub applications: ApplicationService,
    pub authn: AuthnService,
    pub sso: Sso,
    pub audit: AuditRecorder,
    pub clock: SharedClock,
    /// The issuer, as the label authenticator apps show beside a TOTP entry.
    pub issuer: String,
}

impl AccountService {
    pub fn new(parts: AccountParts) -> Self {
        let AccountParts { store, applications, authn, sso, audit, clock, issuer } = parts;
        Self { store, applications, authn, sso, audit, clock, issuer }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The session behind an account page, at the level the person's factors allow: someone
    /// who only knows the password of an account with TOTP cannot use these pages.
    async fn account_session(&self, session_cookie: Option<&str>) -> Result<(SsoSession, User), AccountError> {
        let (session, user) = self.sso.sessions.find(session_cookie).await?.ok_or(AccountError::SignInFirst)?;
        if session.authn.level < sign_in::account_level(self.authn.enrolled(&user).await?) {
            return Err(AccountError::SignInFirst);
        }
        Ok((session, user))
    }

    /// Starts an interaction of `kind` for the account pages' forms.
    async fn start_form(&self, kind: InteractionKind, session: &SsoSession) -> Result<(String, String), AccountError> {
        let started = self.sso.interactions.start(kind, &PendingRequest::Account, Some(&session.id)).await?;
        Ok((started.id, started.csrf))
    }

    /// A posted account form of `kind`, and the session and person it belongs to.
    async fn form(
        &self,
        kind: InteractionKind,
        (interaction, csrf): (&str, &str),
        session_cookie: Option<&str>,
    ) -> Result<(SsoSession, User), AccountError> {
        let loaded = self.sso.interactions.load(FormToken { interaction, csrf }, kind).await?;
        let (session, user) = self.account_session(session_cookie).await?;
        if loaded.session_id.as_ref() != Some(&session.id) {
            return Err(AccountError::SignInFirst);
        }
        Ok((session, user))
    }

    /// A form token (interaction and CSRF) bound to the session behind `session_cookie`, for
    /// pages outside the account pages that act on the person's behalf (the console).
    pub async fn form_token(&self, session_cookie: Option<&str>) -> Result<(String, String), AccountError> {
        let (session, _) = self.sso.sessions.find(session_cookie).await?.ok_or(AccountError::SignInFirst)?;
        self.start_form(InteractionKind::Account, &session).await
    }

    /// Checks an account-page form (its interaction, CSRF token and session) for an action
    /// another service carries out.
    pub async fn check_form(&self, form: (&str, &str), session_cookie: Option<&str>) -> Result<(), AccountError> {
        self.form(InteractionKind::Account, form, session_cookie).await.map(|_| ())
    }

    /// Audits a change a person made to their own account (password, factors), under their
    /// home unit so reports per OPD count it.
    async fn audit_own_change(
        &self,
        user: &User,
        change: AdminChange,
        detail: serde_json::Value,
        source_ip: Option<&str>,
    ) {
        let unit = user.profile.org_unit_id.as_ref();
        let event = AuditEvent::admin(&ActorId::user(&user.id), change, user.id.as_str(), unit, detail);
        self.audit.record_or_log(event.from_ip(source_ip)).await;
    }
}
