//! Activating an account with a code: the person types their login name, the code from their
//! letter and a new password (twice). A wrong name, a wrong, used or expired code all get the
//! same answer (no enumeration) and count against the name and the address like a
//! second-factor code; a password the policy refuses does not spend the code. Success sets
//! the password, spends the code and signs the person in.

use crate::audit::{AdminChange, AuditEvent};
use crate::authn::AuthnError;
use crate::authn::credentials::PasswordHome;
use crate::authn::secret::{activation_code_hash, secure_eq};
use crate::domain::user::normalize_login;
use crate::domain::{AuthnContext, User, UserStatus};
use crate::sso::{FormToken, InteractionKind, PendingRequest};

use super::{AccountError, AccountService};

/// Why an activation was refused (the page again, saying why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivationProblem {
    /// The name and code do not fit (whatever the reason: the same answer).
    Invalid,
    Throttled {
        until: i64,
    },
    /// The two passwords differ.
    Mismatch,
    /// The password policy refused it (the reason, shown).
    Password(String),
}

/// A signed-in person after activation, and their new session cookie.
#[derive(Debug, Clone)]
pub struct Activated {
    pub user: User,
    pub cookie: String,
}

impl AccountService {
    /// A new activation form: its interaction and CSRF token.
    pub async fn activation_form(&self) -> Result<(String, String), AccountError> {
        let started = self.sso.interactions.start(InteractionKind::Activation, &PendingRequest::Account, None).await?;
        Ok((started.id, started.csrf))
    }

    /// A new forgotten-password form: its interaction and CSRF token.
    pub async fn reset_form(&self) -> Result<(String, String), AccountError> {
        let kind = InteractionKind::PasswordReset;
        let started = self.sso.interactions.start(kind, &PendingRequest::Account, None).await?;
        Ok((started.id, started.csrf))
    }

    /// The activation form posted.
    pub async fn activate(
        &self,
        (interaction, csrf): (&str, &str),
        login: &str,
        code: &str,
        (password, confirm): (&str, &str),
        source_ip: Option<&str>,
    ) -> Result<Result<Activated, ActivationProblem>, AccountError> {
        let form = FormToken { interaction, csrf };
        self.sso.interactions.load(form, InteractionKind::Activation).await?;
        if password != confirm {
            return Ok(Err(ActivationProblem::Mismatch));
        }
        let now = self.now();
        let login = normalize_login(login);
        let attempt = match self.authn.activation_attempt(&login, source_ip, now).await {
            Ok(attempt) => attempt,
            Err(AuthnError::Throttled { until }) => return Ok(Err(ActivationProblem::Throttled { until })),
            Err(e) => return Err(e.into()),
        };
        let user = self.activatable(&login).await?;
        let stored = match &user {
            Some(user) => self.store.activation_codes().live_hash(user.id.as_str(), now).await?,
            None => None,
        };
        let typed = activation_code_hash(code);
        let (Some(user), Some(stored)) = (user, stored.filter(|s| secure_eq(s, &typed))) else {
            let refused = self.authn.factor_failed(&attempt, now).await?;
            let event = AuditEvent::login_failed(None, None, "activation code");
            self.audit.record_or_log(event.from_ip(source_ip)).await;
            return Ok(Err(match refused {
                AuthnError::Throttled { until } => ActivationProblem::Throttled { until },
                _ => ActivationProblem::Invalid,
            }));
        };
        self.authn.factor_succeeded(&attempt).await?;
        if let Err(e) = crate::authn::check_policy(password, &user.personal_words()) {
            return Ok(Err(ActivationProblem::Password(e.to_string())));
        }
        // Spent first: two submits of one code cannot both set a password.
        if !self.store.activation_codes().take(user.id.as_str(), &stored, now).await? {
            return Ok(Err(ActivationProblem::Invalid));
        }
        self.authn.set_password(&user, password, now).await?;
        self.sso.interactions.finish(interaction).await?;
        let (_, cookie) = self.sso.sessions.create(&user, AuthnContext::password(now)).await?;
        self.audit_own_change(&user, AdminChange::Activation, serde_json::json!({}), source_ip).await;
        Ok(Ok(Activated { user, cookie }))
    }

    /// A password-reset request (the name or e-mail typed on the form): when it names an
    /// account that may activate and has an e-mail address, a long single-use code (30
    /// minutes, replacing any other) for the link sent there, with the person. The caller
    /// answers the same either way. Throttled by the address and the name.
    pub async fn request_reset(
        &self,
        (interaction, csrf): (&str, &str),
        login: &str,
        source_ip: Option<&str>,
    ) -> Result<Result<Option<(User, String)>, ActivationProblem>, AccountError> {
        let form = FormToken { interaction, csrf };
        self.sso.interactions.load(form, InteractionKind::PasswordReset).await?;
        let now = self.now();
        let login = normalize_login(login);
        // Every request counts (as a failure would): asking is what a flood would do.
        let attempt = match self.authn.activation_attempt(&format!("reset:{login}"), source_ip, now).await {
            Ok(attempt) => attempt,
            Err(AuthnError::Throttled { until }) => return Ok(Err(ActivationProblem::Throttled { until })),
            Err(e) => return Err(e.into()),
        };
        self.authn.factor_failed(&attempt, now).await?;
        let Some(user) = self.activatable(&login).await?.filter(|u| u.email.is_some()) else { return Ok(Ok(None)) };
        let code = crate::authn::secret::random_token();
        let mut tx = self.store.begin().await?;
        let hash = activation_code_hash(&code);
        self.store
            .activation_codes()
            .replace_in(&mut tx, user.id.as_str(), &hash, "self-service", now, now + 1800)
            .await?;
        tx.commit().await?;
        self.audit_own_change(&user, AdminChange::PasswordResetRequest, serde_json::json!({}), source_ip).await;
        Ok(Ok(Some((user, code))))
    }

    /// The account a login name names, if a code may activate it: active, its password kept
    /// by Pintu.
    async fn activatable(&self, login: &str) -> Result<Option<User>, AccountError> {
        let Some(id) = self.store.users().resolve(login).await? else { return Ok(None) };
        let user = self.store.users().find(&id).await?;
        Ok(user.filter(|u| {
            !u.disabled
                && u.profile.status == UserStatus::Active
                && matches!(self.authn.password_home(u), PasswordHome::Pintu)
        }))
    }
}
