//! The self-service account pages' protocol side: enrolling a TOTP authenticator for the
//! person signed in with the SSO session. Forms are bound to the session and carry a CSRF
//! token, like the login interactions.

use crate::audit::AuditEvent;
use crate::authn::AuthnError;
use crate::sso::{InteractionKind, PendingRequest};

use super::interaction::InteractionError;
use super::{OAuthError, OidcService};

/// Enrolling a factor needs a password given within this many seconds.
pub(super) const RECENT_AUTH: i64 = 10 * 60;

/// What the TOTP page shows.
#[derive(Debug, Clone)]
pub enum TotpPage {
    /// A new secret to scan, and the form to confirm it.
    Enroll { interaction_id: String, csrf_token: String, secret: String, qr_svg: String },
    /// A confirmed authenticator exists; `recovery_codes_left` are unused.
    Enrolled { recovery_codes_left: i64 },
}

impl OidcService {
    /// The session behind an account page, at the level the person's factors allow: someone
    /// who only knows the password of an account with TOTP cannot use these pages.
    pub(super) async fn account_session(
        &self,
        session_cookie: Option<&str>,
    ) -> Result<(crate::domain::SsoSession, crate::domain::User), InteractionError> {
        let (session, user) = self.find_session(session_cookie).await?.ok_or(InteractionError::Expired)?;
        let enrolled =
            self.authn.enrolled_level(&user).await.map_err(|e| InteractionError::OAuth(OAuthError::server(e)))?;
        // Any enrolled factor keeps a password alone out; a code session (level 2) suffices
        // even for someone who also has passkeys.
        if session.authn.level < enrolled.min(crate::domain::SecurityLevel::SecondFactor) {
            return Err(InteractionError::Expired);
        }
        Ok((session, user))
    }

    /// Starts TOTP enrollment for the signed-in person (`Expired` without a session, or when
    /// the password was given too long ago).
    pub async fn totp_page(&self, session_cookie: Option<&str>) -> Result<TotpPage, InteractionError> {
        let (session, user) = self.account_session(session_cookie).await?;
        if self.now() - session.authn.auth_time > RECENT_AUTH {
            return Err(InteractionError::Expired);
        }
        let enrollment = self.authn.start_totp(&user, self.issuer(), self.now()).await.map_err(factor_error)?;
        let Some(enrollment) = enrollment else {
            let left = self.store.factors().recovery_codes_left(&user.id).await?;
            return Ok(TotpPage::Enrolled { recovery_codes_left: left });
        };
        let (interaction_id, csrf_token) =
            self.start_interaction(InteractionKind::AccountTotp, &PendingRequest::Account, Some(&session.id)).await?;
        Ok(TotpPage::Enroll { interaction_id, csrf_token, secret: enrollment.secret, qr_svg: enrollment.qr_svg })
    }

    /// Confirms enrollment with a first code; returns the recovery codes (shown once), or
    /// `None` when the code is wrong.
    pub async fn confirm_totp(
        &self,
        interaction_id: &str,
        csrf: &str,
        code: &str,
        session_cookie: Option<&str>,
    ) -> Result<Option<Vec<String>>, InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::AccountTotp, csrf).await?;
        let (session, user) = self.account_session(session_cookie).await?;
        if interaction.session_id.as_ref() != Some(&session.id) {
            return Err(InteractionError::Expired);
        }
        let codes = match self.authn.confirm_totp(&user, code, self.now()).await {
            Ok(codes) => codes,
            Err(AuthnError::InvalidCredentials) => return Ok(None),
            Err(e) => return Err(factor_error(e)),
        };
        self.interactions.finish(interaction_id).await?;
        self.audit_own_change(&user, "factor.totp.enroll", serde_json::json!({}), None).await;
        Ok(Some(codes))
    }

    /// Audits a change a person made to their own account (password, factors), under their
    /// home unit so reports per OPD count it.
    pub(super) async fn audit_own_change(
        &self,
        user: &crate::domain::User,
        change: &str,
        detail: serde_json::Value,
        source_ip: Option<&str>,
    ) {
        let unit = user.profile.org_unit_id.as_ref();
        let event = AuditEvent::admin(&format!("user:{}", user.id), change, user.id.as_str(), unit, detail);
        self.audit.record_or_log(event.from_ip(source_ip)).await;
    }
}

fn factor_error(e: AuthnError) -> InteractionError {
    match e {
        AuthnError::Factor(_) => InteractionError::Expired,
        other => InteractionError::OAuth(OAuthError::server(other)),
    }
}

/// One live session on the account page.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    pub id: String,
    pub created_at: i64,
    pub acr: String,
    pub current: bool,
    pub applications: Vec<String>,
}

/// What the account page shows, and the token its forms carry.
#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub interaction_id: String,
    pub csrf_token: String,
    pub display_name: String,
    pub username: String,
    pub totp_enrolled: bool,
    pub recovery_codes_left: i64,
    pub sessions: Vec<SessionEntry>,
    /// `None` when the server cannot do WebAuthn.
    pub passkeys: Option<Vec<crate::storage::PasskeyRecord>>,
}

/// How a password change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    Changed,
    WrongCurrent,
    Throttled { until: i64 },
    Refused(String),
}

impl OidcService {
    /// The signed-in person's account page (`Expired` without a session).
    pub async fn account_overview(&self, session_cookie: Option<&str>) -> Result<AccountOverview, InteractionError> {
        let (session, user) = self.account_session(session_cookie).await?;
        let (interaction_id, csrf_token) =
            self.start_interaction(InteractionKind::Account, &PendingRequest::Account, Some(&session.id)).await?;
        let totp = self.store.factors().find_totp(&user.id).await?;
        let recovery_codes_left = self.store.factors().recovery_codes_left(&user.id).await?;
        let passkeys = match self.authn.passkeys_available() {
            true => Some(self.store.passkeys().of_user(&user.id).await?),
            false => None,
        };
        let mut sessions = Vec::new();
        for s in self.store.session_list().live(&user.id, self.now()).await? {
            let mut applications = Vec::new();
            for c in &s.clients {
                let name = self.client(c.as_str()).await?.map(|c| c.display_name().to_owned());
                applications.push(name.unwrap_or_else(|| c.to_string()));
            }
            let current = s.id == session.id;
            sessions.push(SessionEntry {
                id: s.id.to_string(),
                created_at: s.created_at,
                acr: s.acr,
                current,
                applications,
            });
        }
        Ok(AccountOverview {
            interaction_id,
            csrf_token,
            display_name: user.display_name(),
            username: user.username.clone(),
            totp_enrolled: totp.is_some_and(|t| t.confirmed),
            recovery_codes_left,
            sessions,
            passkeys,
        })
    }

    /// The account form's interaction, and the session and person it belongs to.
    pub(super) async fn account_form(
        &self,
        interaction_id: &str,
        csrf: &str,
        session_cookie: Option<&str>,
    ) -> Result<(crate::domain::SsoSession, crate::domain::User), InteractionError> {
        let interaction = self.load_interaction(interaction_id, InteractionKind::Account, csrf).await?;
        let (session, user) = self.account_session(session_cookie).await?;
        if interaction.session_id.as_ref() != Some(&session.id) {
            return Err(InteractionError::Expired);
        }
        Ok((session, user))
    }

    /// Changes the password: the current one must be right (under the login lockout), the new
    /// one must pass the policy; every other session of the person ends.
    pub async fn change_password(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        current: &str,
        new: &str,
        source_ip: Option<&str>,
    ) -> Result<PasswordChange, InteractionError> {
        let (session, user) = self.account_form(form.0, form.1, session_cookie).await?;
        let now = self.now();
        match self.authn.authenticate_password(&user.username, current, source_ip, now).await.map_err(|r| r.error) {
            // The login name must lead back to this very account.
            Ok((checked, _)) if checked.id == user.id => {}
            Ok(_) => return Ok(PasswordChange::WrongCurrent),
            Err(AuthnError::InvalidCredentials) => return Ok(PasswordChange::WrongCurrent),
            Err(AuthnError::Throttled { until }) => return Ok(PasswordChange::Throttled { until }),
            Err(e) => return Err(InteractionError::OAuth(OAuthError::server(e))),
        }
        if let Err(e) = crate::authn::check_policy(new, &user.personal_words()) {
            return Ok(PasswordChange::Refused(e.to_string()));
        }
        self.authn.set_password(&user, new, now).await.map_err(|e| InteractionError::OAuth(OAuthError::server(e)))?;
        self.store.session_list().end_others(&user.id, &session.id, now).await?;
        self.audit_own_change(&user, "password.change", serde_json::json!({}), source_ip).await;
        Ok(PasswordChange::Changed)
    }

    /// Ends one of the person's own sessions (and the grants bound to it).
    pub async fn end_own_session(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        target: &str,
    ) -> Result<(), InteractionError> {
        let (_, user) = self.account_form(form.0, form.1, session_cookie).await?;
        let live = self.store.session_list().live(&user.id, self.now()).await?;
        let Some(found) = live.into_iter().find(|s| s.id.as_str() == target) else {
            return Err(InteractionError::Expired);
        };
        self.sessions.end(&found.id).await?;
        let event = AuditEvent::sessions_revoked(&format!("user:{}", user.id), &user, "ended from the account page");
        self.audit.record_or_log(event).await;
        Ok(())
    }
}
