//! Factors on the account page: register a passkey (named, within ten minutes of signing in,
//! like TOTP), remove one, turn TOTP off. Each is audited; the forms are bound to the session and the account
//! page's interaction like the page's other forms.

use crate::audit::AdminChange;
use crate::authn::AuthnError;
use crate::authn::webauthn::{PasskeyOptions, PasskeyProblem};
use crate::domain::User;
use crate::sso::InteractionKind;

use super::{AccountError, AccountService, RECENT_AUTH};

/// How a factor change on the account page went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorChange {
    Registered,
    PasskeyRemoved,
    TotpRemoved,
    Refused(PasskeyProblem),
    /// Signing in again is needed first (the last sign-in is older than ten minutes).
    SignInAgain,
}

impl AccountService {
    async fn recent_account_form(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
    ) -> Result<Option<User>, AccountError> {
        let (session, user) = self.form(InteractionKind::Account, form, session_cookie).await?;
        Ok((self.now() - session.authn.auth_time <= RECENT_AUTH).then_some(user))
    }

    /// Options for `navigator.credentials.create`, bound to the account page's interaction;
    /// `None` when the last sign-in is too old to add a factor.
    pub async fn passkey_registration_options(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
    ) -> Result<Option<PasskeyOptions>, AccountError> {
        let Some(user) = self.recent_account_form(form, session_cookie).await? else {
            return Ok(None);
        };
        match self.authn.start_passkey_registration(&user, form.0, self.now()).await {
            Ok(options) => Ok(Some(Ok(options))),
            Err(AuthnError::Passkey(problem)) => Ok(Some(Err(problem))),
            Err(other) => Err(other.into()),
        }
    }

    /// Verifies the authenticator's answer and stores the credential under `name`.
    pub async fn register_passkey(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        name: &str,
        response: &str,
        source_ip: Option<&str>,
    ) -> Result<FactorChange, AccountError> {
        let Some(user) = self.recent_account_form(form, session_cookie).await? else {
            return Ok(FactorChange::SignInAgain);
        };
        match self.authn.finish_passkey_registration(&user, form.0, name, response, self.now()).await {
            Ok(record) => {
                let detail = serde_json::json!({ "passkey": record.id, "name": record.name });
                self.audit_own_change(&user, AdminChange::FactorPasskeyEnroll, detail, source_ip).await;
                Ok(FactorChange::Registered)
            }
            Err(AuthnError::Passkey(problem)) => {
                let detail = serde_json::json!({ "refused": problem.code() });
                self.audit_own_change(&user, AdminChange::FactorPasskeyRefused, detail, source_ip).await;
                Ok(FactorChange::Refused(problem))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Turns off the person's TOTP authenticator (and its recovery codes), within ten
    /// minutes of signing in.
    pub async fn remove_totp(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        source_ip: Option<&str>,
    ) -> Result<FactorChange, AccountError> {
        let Some(user) = self.recent_account_form(form, session_cookie).await? else {
            return Ok(FactorChange::SignInAgain);
        };
        let mut tx = self.store.begin().await?;
        let removed = self.store.factors().reset_in(&mut tx, &user.id).await?;
        tx.commit().await?;
        if removed == 0 {
            return Err(AccountError::SignInFirst);
        }
        self.audit_own_change(&user, AdminChange::FactorTotpRemove, serde_json::json!({}), source_ip).await;
        Ok(FactorChange::TotpRemoved)
    }

    /// Removes one of the person's own passkeys.
    pub async fn remove_passkey(
        &self,
        form: (&str, &str),
        session_cookie: Option<&str>,
        passkey_id: &str,
        source_ip: Option<&str>,
    ) -> Result<FactorChange, AccountError> {
        let (_, user) = self.form(InteractionKind::Account, form, session_cookie).await?;
        if !self.authn.remove_passkey(&user, passkey_id).await? {
            return Err(AccountError::SignInFirst);
        }
        let detail = serde_json::json!({ "passkey": passkey_id });
        self.audit_own_change(&user, AdminChange::FactorPasskeyRemove, detail, source_ip).await;
        Ok(FactorChange::PasskeyRemoved)
    }
}
