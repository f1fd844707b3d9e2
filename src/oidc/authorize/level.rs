//! Security levels in the authorization flow (ARCHITECTURE.md §4): what a request needs (the
//! application's minimum, `acr_values`, an essential `acr` claim), whether the session has it,
//! and otherwise either a step-up (asking only for the missing factor) or a refusal the
//! application hears about: `unmet_authentication_requirements` when the request asked for
//! the level, `access_denied` when the application demands it.

use serde_json::Value;

use crate::audit::AuditEvent;
use crate::domain::{RelyingParty, SecurityLevel, SsoSession, User};

use super::{AuthorizeOutcome, DenialReason, ErrorTarget};
use crate::domain::authorization::ValidRequest;
use crate::oidc::{OAuthError, OidcService, StepUpMethods};

/// The level a request needs and who asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub level: SecurityLevel,
    /// The request (acr_values, claims) asked for more than the application's minimum.
    pub by_request: bool,
}

/// The lowest of the known `acr` values listed (any of them satisfies the client).
fn lowest_known<'a>(values: impl Iterator<Item = &'a str>) -> Option<SecurityLevel> {
    values.filter_map(SecurityLevel::from_acr).min()
}

/// OIDC Core §3.1.2.1 `acr_values` and §5.5.1.1 an essential `acr` claim (`value` or
/// `values`), combined with the application's minimum. Unknown values are ignored.
pub fn required_level(min_level: SecurityLevel, acr_values: Option<&str>, claims: Option<&Value>) -> Requirement {
    let from_values = acr_values.and_then(|v| lowest_known(v.split(' ')));
    let acr_claim = claims.and_then(|c| c.get("id_token")).and_then(|c| c.get("acr"));
    let essential = acr_claim.filter(|a| a.get("essential").and_then(Value::as_bool) == Some(true));
    let from_claim = essential.and_then(|a| match (a.get("value").and_then(Value::as_str), a.get("values")) {
        (Some(v), _) => SecurityLevel::from_acr(v),
        (None, Some(Value::Array(vs))) => lowest_known(vs.iter().filter_map(Value::as_str)),
        _ => None,
    });
    let requested = from_values.max(from_claim);
    match requested {
        Some(level) if level > min_level => Requirement { level, by_request: true },
        _ => Requirement { level: min_level, by_request: false },
    }
}

/// What to do about the session's level.
pub(super) enum LevelCheck {
    Enough,
    StepUp(StepUpMethods),
    Unreachable(Requirement),
}

impl OidcService {
    /// Compares the session with what the request needs.
    pub(super) async fn check_level(
        &self,
        client: &RelyingParty,
        req: &ValidRequest,
        session: &SsoSession,
        user: &User,
    ) -> Result<LevelCheck, OAuthError> {
        // The person's own units and roles may demand more than the application does.
        let personal = self.directory.person_required_level(user).await?;
        let floor = client.profile.min_level.max(personal);
        let mut need = required_level(floor, req.acr_values.as_deref(), req.claims.as_ref());
        // Signing what the application asks is approved at level 4 (ARCHITECTURE.md §5).
        if req.authorization_details.is_some() && need.level < SecurityLevel::Certificate {
            need = Requirement { level: SecurityLevel::Certificate, by_request: true };
        }
        // The ceiling first: a session that somehow holds more than the person may reach
        // (the ceiling was lowered since) does not count.
        if user.profile.level_ceiling < need.level {
            return Ok(LevelCheck::Unreachable(need));
        }
        if session.authn.level >= need.level {
            return Ok(LevelCheck::Enough);
        }
        // Level 4 is a bound certificate proven on top of what the session holds: from any
        // lower level, only the certificate is asked for.
        if need.level == SecurityLevel::Certificate {
            let usable = self.certificates.provable(user).await.map_err(OAuthError::server)?;
            if usable.is_empty() {
                return Ok(LevelCheck::Unreachable(need));
            }
            return Ok(LevelCheck::StepUp(StepUpMethods { code: false, passkey: false, certificate: true }));
        }
        let enrolled = self.authn.enrolled(user).await.map_err(OAuthError::server)?;
        if enrolled.level() < need.level {
            return Ok(LevelCheck::Unreachable(need));
        }
        // A code reaches level 2 only; a passkey reaches level 3 on its own.
        let code = enrolled.totp && need.level <= SecurityLevel::SecondFactor;
        Ok(LevelCheck::StepUp(StepUpMethods { code, passkey: enrolled.passkeys > 0, certificate: false }))
    }

    /// The refusal for an unreachable level, as an error for `prompt=none` or a page.
    pub(super) fn unreachable_error(need: Requirement) -> OAuthError {
        if need.by_request {
            OAuthError::unmet_authentication_requirements("the requested security level cannot be reached")
        } else {
            OAuthError::access_denied("this application needs a higher security level than the account can reach")
        }
    }

    /// A page explaining a refusal, whose way back carries the error to the application.
    pub(super) async fn denied(
        &self,
        client: &RelyingParty,
        req: &ValidRequest,
        user: &User,
        reason: DenialReason,
    ) -> AuthorizeOutcome {
        let target =
            ErrorTarget { redirect_uri: req.redirect_uri.clone(), mode: req.response_mode, state: req.state.clone() };
        let error = match reason {
            DenialReason::Policy => OAuthError::access_denied("this account may not use this application"),
            DenialReason::Level(need) => Self::unreachable_error(need),
        };
        let event = AuditEvent::access_denied(user, &client.client_id, error.code.as_str());
        self.audit.record_or_log(event).await;
        let response = self.error_response(&target, &error);
        AuthorizeOutcome::Denied { client_name: client.display_name().to_owned(), response, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L1: SecurityLevel = SecurityLevel::Password;
    const L2: SecurityLevel = SecurityLevel::SecondFactor;
    const L3: SecurityLevel = SecurityLevel::PhishingResistant;

    #[test]
    fn the_application_minimum_applies_unless_the_request_asks_for_more() {
        assert_eq!(required_level(L2, None, None), Requirement { level: L2, by_request: false });
        assert_eq!(required_level(L2, Some("urn:pintu:level:1"), None), Requirement { level: L2, by_request: false });
        assert_eq!(required_level(L1, Some("urn:pintu:level:2"), None), Requirement { level: L2, by_request: true });
    }

    #[test]
    fn any_listed_acr_satisfies_and_unknown_ones_are_ignored() {
        let need = required_level(L1, Some("urn:pintu:level:3 urn:other urn:pintu:level:2"), None);
        assert_eq!(need.level, L2);
        assert_eq!(required_level(L1, Some("urn:other"), None).level, L1);
    }

    #[test]
    fn only_an_essential_acr_claim_is_a_requirement() {
        let essential = serde_json::json!({"id_token": {"acr": {"essential": true, "values": ["urn:pintu:level:3"]}}});
        assert_eq!(required_level(L1, None, Some(&essential)).level, L3);
        let voluntary = serde_json::json!({"id_token": {"acr": {"values": ["urn:pintu:level:3"]}}});
        assert_eq!(required_level(L1, None, Some(&voluntary)).level, L1);
        let single = serde_json::json!({"id_token": {"acr": {"essential": true, "value": "urn:pintu:level:2"}}});
        assert_eq!(required_level(L1, None, Some(&single)).level, L2);
    }
}
