//! The account overview, the password change, ending one's own sessions, and TOTP enrolment.

use crate::audit::{AdminChange, AuditEvent};
use crate::authn::AuthnError;
use crate::authn::credentials::PasswordHome;
use crate::domain::ActorId;
use crate::sso::InteractionKind;

use super::{AccountError, AccountService, RECENT_AUTH};

/// What the TOTP page shows.
#[derive(Debug, Clone)]
pub enum TotpPage {
    /// A new secret to scan, and the form to confirm it.
    Enroll { interaction_id: String, csrf_token: String, secret: String, qr_svg: String },
    /// A confirmed authenticator exists; `recovery_codes_left` are unused.
    Enrolled { recovery_codes_left: i64 },
}

impl AccountService {
    /// Starts TOTP enrollment for the signed-in person (`Expired` without a session, or when
    /// the password was given too long ago).
    pub async fn totp_page(&self, session_cookie: Option<&str>) -> Result<TotpPage, AccountError> {
        let (session, user) = self.account_session(session_cookie).await?;
        if self.now() - session.authn.auth_time > RECENT_AUTH {
            return Err(AccountError::SignInFirst);
        }
        let enrollment = self.authn.start_totp(&user, &self.issuer, self.now()).await?;
        let Some(enrollment) = enrollment else {
            let left = self.store.factors().recovery_codes_left(&user.id).await?;
            return Ok(TotpPage::Enrolled { recovery_codes_left: left });
        };
        let (interaction_id, csrf_token) = self.start_form(InteractionKind::AccountTotp, &session).await?;
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
    ) -> Result<Option<Vec<String>>, AccountError> {
        let (_, user) = self.form(InteractionKind::AccountTotp, (interaction_id, csrf), session_cookie).await?;
        let codes = match self.authn.confirm_totp(&user, code, self.now()).await {
            Ok(codes) => codes,
            Err(AuthnError::InvalidCredentials) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        self.sso.interactions.finish(interaction_id).await?;
        self.audit_own_change(&user, AdminChange::FactorTotpEnroll, serde_json::json!({}), None).await;
        Ok(Some(codes))
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
    /// The password is kept in a directory Pintu may not write: no form, a pointer instead
    /// (`Some(url)`, the URL where it is changed, if configured).
    pub password_elsewhere: Option<Option<String>>,
    /// The person's electronic certificates; `None` when certificates are not configured.
    pub certificates: Option<Vec<crate::storage::CertificateRow>>,
}

/// How a password change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    Changed,
    WrongCurrent,
    Throttled {
        until: i64,
    },
    Refused(String),
    /// The password is kept in a directory that Pintu may not write: change it there (`url`,
    /// when the office configured one).
    KeptElsewhere {
        directory: String,
        url: Option<String>,
    },
    /// The directory that keeps the password cannot be reached.
    DirectoryUnavailable,
}

impl AccountService {
    /// The signed-in person's account page (`Expired` without a session).
    pub async fn account_overview(&self, session_cookie: Option<&str>) -> Result<AccountOverview, AccountError> {
        let (session, user) = self.account_session(session_cookie).await?;
        let (interaction_id, csrf_token) = self.start_form(InteractionKind::Account, &session).await?;
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
                // Through the application cache: a person with many sessions costs no read each.
                let client = self.applications.client(c.as_str()).await.map_err(AccountError::failed)?;
                let name = client.map(|c| c.display_name().to_owned());
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
            certificates: self.own_certificates(&user).await?,
            password_elsewhere: match self.authn.password_home(&user) {
                PasswordHome::Directory { writable: false, change_url, .. } => Some(change_url),
                _ => None,
            },
        })
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
    ) -> Result<PasswordChange, AccountError> {
        let (session, user) = self.form(InteractionKind::Account, form, session_cookie).await?;
        let now = self.now();
        let home = self.authn.password_home(&user);
        if let PasswordHome::Directory { name, writable: false, change_url } = home {
            return Ok(PasswordChange::KeptElsewhere { directory: name, url: change_url });
        }
        match self.authn.authenticate_password(&user.username, current, source_ip, now).await.map_err(|r| r.error) {
            // The login name must lead back to this very account.
            Ok((checked, _)) if checked.id == user.id => {}
            Ok(_) => return Ok(PasswordChange::WrongCurrent),
            Err(AuthnError::InvalidCredentials) => return Ok(PasswordChange::WrongCurrent),
            Err(AuthnError::Throttled { until }) => return Ok(PasswordChange::Throttled { until }),
            Err(AuthnError::DirectoryUnavailable(_)) => return Ok(PasswordChange::DirectoryUnavailable),
            Err(e) => return Err(e.into()),
        }
        if let Err(e) = crate::authn::check_policy(new, &user.personal_words()) {
            return Ok(PasswordChange::Refused(e.to_string()));
        }
        match home {
            PasswordHome::Pintu => self.authn.set_password(&user, new, now).await?,
            PasswordHome::Directory { .. } => match self.authn.change_password_elsewhere(&user, current, new).await {
                Ok(()) => {}
                Err(AuthnError::InvalidCredentials) => return Ok(PasswordChange::WrongCurrent),
                Err(AuthnError::Password(e)) => return Ok(PasswordChange::Refused(e.to_string())),
                Err(AuthnError::DirectoryUnavailable(_)) => return Ok(PasswordChange::DirectoryUnavailable),
                Err(e) => return Err(e.into()),
            },
        }
        self.store.session_list().end_others(&user.id, &session.id, now).await?;
        self.audit_own_change(&user, AdminChange::PasswordChange, serde_json::json!({}), source_ip).await;
        Ok(PasswordChange::Changed)
    }

    /// Ends one of the person's own sessions (and the grants bound to it).
    pub async fn end_own_session(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        target: &str,
    ) -> Result<(), AccountError> {
        let (_, user) = self.form(InteractionKind::Account, form, session_cookie).await?;
        let live = self.store.session_list().live(&user.id, self.now()).await?;
        let Some(found) = live.into_iter().find(|s| s.id.as_str() == target) else {
            return Err(AccountError::SignInFirst);
        };
        self.sso.sessions.end(&found.id).await?;
        let event = AuditEvent::sessions_revoked(&ActorId::user(&user.id), &user, "ended from the account page");
        self.audit.record_or_log(event).await;
        Ok(())
    }
}
