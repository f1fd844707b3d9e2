//! The self-service account pages' protocol side: enrolling a TOTP authenticator for the
//! person signed in with the SSO session. Forms are bound to the session and carry a CSRF
//! token, like the login interactions.

use crate::audit::AuditEvent;
use crate::authn::AuthnError;

use super::interaction::InteractionError;
use super::{OAuthError, OidcService};

pub(crate) const KIND_ACCOUNT_TOTP: &str = "account-totp";

/// What the TOTP page shows.
#[derive(Debug, Clone)]
pub enum TotpPage {
    /// A new secret to scan, and the form to confirm it.
    Enroll { interaction_id: String, csrf_token: String, secret: String, qr_svg: String },
    /// A confirmed authenticator exists; `recovery_codes_left` are unused.
    Enrolled { recovery_codes_left: i64 },
}

impl OidcService {
    /// Starts TOTP enrollment for the signed-in person (`Expired` without a session).
    pub async fn totp_page(&self, session_cookie: Option<&str>) -> Result<TotpPage, InteractionError> {
        let (session, user) = self.find_session(session_cookie).await?.ok_or(InteractionError::Expired)?;
        let enrollment = self.authn.start_totp(&user, self.issuer(), self.now()).await.map_err(factor_error)?;
        let Some(enrollment) = enrollment else {
            let left = self.store.factors().recovery_codes_left(&user.id).await?;
            return Ok(TotpPage::Enrolled { recovery_codes_left: left });
        };
        let (interaction_id, csrf_token) =
            self.start_interaction(KIND_ACCOUNT_TOTP, String::new(), Some(&session.id)).await?;
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
        let interaction = self.load_interaction(interaction_id, KIND_ACCOUNT_TOTP, csrf).await?;
        let (session, user) = self.find_session(session_cookie).await?.ok_or(InteractionError::Expired)?;
        if interaction.session_id.as_ref() != Some(&session.id) {
            return Err(InteractionError::Expired);
        }
        let codes = match self.authn.confirm_totp(&user, code, self.now()).await {
            Ok(codes) => codes,
            Err(AuthnError::InvalidCredentials) => return Ok(None),
            Err(e) => return Err(factor_error(e)),
        };
        self.store.interactions().delete(interaction_id).await?;
        let event = AuditEvent::admin(
            &format!("user:{}", user.id),
            "factor.totp.enroll",
            user.id.as_str(),
            None,
            serde_json::json!({}),
        );
        self.audit.record_or_log(event).await;
        Ok(Some(codes))
    }
}

fn factor_error(e: AuthnError) -> InteractionError {
    match e {
        AuthnError::Factor(_) => InteractionError::Expired,
        other => InteractionError::OAuth(OAuthError::server(other)),
    }
}
