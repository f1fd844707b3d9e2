//! Web Browser SSO (Profiles §4.1): an AuthnRequest received, checked against the SP's
//! registration, answered at once from the person's SSO session, or kept while they sign in.
//!
//! Nothing is ever sent to an address the SP did not register: until the request's SP and
//! ACS are known, a refusal is a page (`Refused`), never a Response. After that, what the SP
//! asked for and Pintu cannot give (a NameID format, a level, a passive sign-in) is a signed
//! error Response to the registered ACS.

use serde::{Deserialize, Serialize};

use super::answer::Kept;
use super::request::{
    AuthnRequest, Comparison, Received, has_enveloped_signature, parse, verify_posted, verify_redirect,
};
use super::response::{Addressed, INVALID_NAME_ID_POLICY, NO_AUTHN_CONTEXT, REQUESTER, RESPONDER};
use super::{SamlError, SamlIdp};
use crate::domain::saml::NAME_ID_FORMATS;
use crate::domain::{Application, SecurityLevel, SsoSession};

/// How far an IssueInstant may be from Pintu's clock (seconds).
pub(super) const ISSUE_INSTANT_WINDOW: i64 = 300;
/// How long a request waits for the person to sign in (seconds), and is remembered against
/// replay.
const PENDING_SECS: i64 = 900;

/// SAML Core §3.4.1.1 and the level each class stands for: the standard class for a password
/// over TLS, then Pintu's own URI per level.
pub fn class_of(level: SecurityLevel) -> &'static str {
    match level {
        SecurityLevel::Password => "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
        SecurityLevel::SecondFactor => "urn:pintu:level:2",
        SecurityLevel::PhishingResistant => "urn:pintu:level:3",
        SecurityLevel::Certificate => "urn:pintu:level:4",
    }
}

fn level_of_class(class: &str) -> Option<SecurityLevel> {
    [SecurityLevel::Password, SecurityLevel::SecondFactor, SecurityLevel::PhishingResistant, SecurityLevel::Certificate]
        .into_iter()
        .find(|l| class_of(*l) == class || class == format!("urn:pintu:level:{}", *l as u8))
}

/// Why a request gets a page and not a Response.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Request(#[from] super::request::RequestError),
    #[error("the service provider {0} is not registered or is disabled")]
    UnknownSp(String),
    #[error("{0}")]
    Invalid(String),
    #[error("this request was received before")]
    Replayed,
    #[error("the sign-in request expired or was already answered")]
    Expired,
    #[error(transparent)]
    Failed(#[from] SamlError),
}

/// What the browser is sent next.
#[derive(Debug)]
pub enum Outcome {
    /// Post `response` (base64 of the XML) and the RelayState to the SP's ACS.
    Post { acs: String, response: String, relay_state: Option<String> },
    /// The person signs in first (or again, or steps up); then `/saml/resume` answers the
    /// request kept as `pending`.
    SignIn { pending: String },
}

/// A checked request, kept while the person signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Pending {
    /// The AuthnRequest's ID (Pintu's own for an unsolicited response, never sent).
    pub(super) request_id: String,
    /// IdP-initiated (Profiles §4.1.5): no request, so no InResponseTo.
    #[serde(default)]
    pub(super) unsolicited: bool,
    pub(super) acs: String,
    pub(super) relay_state: Option<String>,
    pub(super) name_id_format: String,
    /// The lowest level that satisfies the request and the SP's profile.
    pub(super) level: u8,
    /// `exact`: only this level's class will do.
    pub(super) exact: bool,
    pub(super) is_passive: bool,
    /// Core §3.4.1: the person authenticates again, after `received_at`.
    #[serde(default)]
    pub(super) force_authn: bool,
    #[serde(default)]
    pub(super) received_at: i64,
    /// The level the sign-in was last asked for (0: none yet), so it is asked once only.
    #[serde(default)]
    pub(super) asked: u8,
}

/// What the sign-in must reach for a waiting request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInWanted {
    pub level: SecurityLevel,
    /// A new authentication even over a session (ForceAuthn).
    pub fresh: bool,
}

impl Pending {
    /// An unsolicited response's: to `acs`, at the application's own level, in the SP's
    /// default NameID format. `id` stands for the request it does not answer.
    pub(super) fn unsolicited(id: String, acs: String, relay_state: Option<String>, app: &Application) -> Self {
        let format = app.saml().map(|sp| sp.default_name_id_format()).unwrap_or(NAME_ID_FORMATS[0]);
        Pending {
            request_id: id,
            unsolicited: true,
            acs,
            relay_state,
            name_id_format: format.to_owned(),
            level: app.profile.min_level as u8,
            exact: false,
            is_passive: false,
            force_authn: false,
            received_at: 0,
            asked: 0,
        }
    }
}

pub(super) fn invalid(why: impl Into<String>) -> Refused {
    Refused::Invalid(why.into())
}

impl SamlIdp {
    pub(super) fn base64(xml: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(xml)
    }

    /// A request from the browser. `session_cookie`: the SSO session, if any.
    pub async fn receive(&self, received: Received, session_cookie: Option<&str>) -> Result<Outcome, Refused> {
        let mut request = parse(&received.xml)?;
        let app = self.sp.service_provider(&request.issuer).await.map_err(SamlError::from)?;
        let app = app.ok_or_else(|| Refused::UnknownSp(request.issuer.clone()))?;
        let sp = app.saml().ok_or_else(|| Refused::UnknownSp(request.issuer.clone()))?;
        // HTTP-POST with an enveloped signature: from here on only the signed element is read.
        let posted_signature = received.redirect_signature.is_none() && has_enveloped_signature(&received.xml);
        if posted_signature {
            if sp.certificates.is_empty() {
                return Err(invalid("the request is signed but the SP has no registered certificate"));
            }
            request = parse(&verify_posted(&received.xml, &sp.certificates, "AuthnRequest")?)?;
            if request.issuer != sp.entity_id {
                return Err(invalid("the signed request names another issuer"));
            }
        }
        // Bindings §3.4.5.2, §3.5.5.2: a request naming another endpoint is not for us.
        if request.destination.as_deref().is_some_and(|d| d != self.sso_url()) {
            return Err(invalid("the request is addressed to another endpoint (Destination)"));
        }
        if (received.redirect_signature.is_some() || posted_signature) && request.destination.is_none() {
            return Err(invalid("a signed request must name its Destination"));
        }
        match (&received.redirect_signature, sp.sign_requests) {
            (Some(signature), _) if !sp.certificates.is_empty() => verify_redirect(signature, &sp.certificates)?,
            (Some(_), _) => return Err(invalid("the request is signed but the SP has no registered certificate")),
            (None, true) if !posted_signature => {
                return Err(invalid("this SP's requests must be signed (SigAlg and Signature, or an XML signature)"));
            }
            (None, _) => {}
        }
        let now = self.clock.now();
        if (request.issue_instant - now).abs() > ISSUE_INSTANT_WINDOW {
            return Err(invalid("IssueInstant is too far from Pintu's clock"));
        }
        let acs = sp.acs_for(request.acs_url.as_deref(), request.acs_index);
        let acs = acs.ok_or_else(|| invalid("the assertion consumer service is not registered for this SP"))?;
        if request.protocol_binding.as_deref().is_some_and(|b| b != crate::domain::saml::HTTP_POST) {
            return Err(invalid("Pintu answers over HTTP-POST only (ProtocolBinding)"));
        }
        let to = Addressed {
            acs: acs.location.clone(),
            audience: sp.entity_id.clone(),
            in_response_to: Some(request.id.clone()),
        };
        let pending_id = uuid::Uuid::new_v4().simple().to_string();
        let pending = match self.pending_of(&app, &request, received.relay_state.clone(), &acs.location) {
            Ok(pending) => pending,
            Err((status, second)) => {
                self.remember(&pending_id, &app, &request.id, "", now).await?;
                let xml = self.failure(&to, status, Some(second)).await?;
                return Ok(Outcome::Post {
                    acs: to.acs,
                    response: Self::base64(&xml),
                    relay_state: received.relay_state,
                });
            }
        };
        self.answer(&pending_id, &app, pending, session_cookie, Kept::NotYet).await
    }

    /// After the sign-in: answers the request kept as `pending_id`.
    pub async fn resume(&self, pending_id: &str, session_cookie: Option<&str>) -> Result<Outcome, Refused> {
        let found = self.store.saml_requests().pending(pending_id, self.clock.now()).await.map_err(SamlError::from)?;
        let (app_id, json) = found.filter(|(_, json)| !json.is_empty()).ok_or(Refused::Expired)?;
        let pending: Pending = serde_json::from_str(&json).map_err(|_| Refused::Expired)?;
        let app = self.sp.application(&app_id).await.map_err(SamlError::from)?.ok_or(Refused::Expired)?;
        self.answer(pending_id, &app, pending, session_cookie, Kept::Waiting).await
    }

    /// What the sign-in for the request kept as `pending_id` must reach; `None` when nothing
    /// waits under it (expired, answered).
    pub async fn sign_in_wanted(&self, pending_id: &str) -> Result<Option<SignInWanted>, SamlError> {
        let found = self.store.saml_requests().pending(pending_id, self.clock.now()).await?;
        let pending = found.and_then(|(_, json)| serde_json::from_str::<Pending>(&json).ok());
        Ok(pending.map(|p| SignInWanted {
            level: crate::domain::security_level::from_number(p.level.max(p.asked)).unwrap_or(SecurityLevel::Password),
            fresh: p.force_authn,
        }))
    }

    pub(super) async fn remember(
        &self,
        id: &str,
        app: &Application,
        request_id: &str,
        json: &str,
        now: i64,
    ) -> Result<(), Refused> {
        let requests = self.store.saml_requests();
        let inserted = requests.insert(id, app.id.as_str(), request_id, json, now, now + PENDING_SECS).await;
        if inserted.map_err(SamlError::from)? { Ok(()) } else { Err(Refused::Replayed) }
    }

    /// What the request asks for, checked against what Pintu and the SP's registration allow;
    /// an error status and its second-level code when Pintu cannot give it.
    fn pending_of(
        &self,
        app: &Application,
        request: &AuthnRequest,
        relay_state: Option<String>,
        acs: &str,
    ) -> Result<Pending, (&'static str, &'static str)> {
        let sp = app.saml().ok_or((RESPONDER, NO_AUTHN_CONTEXT))?;
        let allowed: Vec<&str> = match sp.name_id_formats.is_empty() {
            true => vec![NAME_ID_FORMATS[0]],
            false => sp.name_id_formats.iter().map(String::as_str).collect(),
        };
        let name_id_format = match request.name_id_format.as_deref() {
            None | Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified") => sp.default_name_id_format(),
            Some(format) if allowed.contains(&format) => format,
            Some(_) => return Err((REQUESTER, INVALID_NAME_ID_POLICY)),
        };
        let profile_level = app.profile.min_level;
        let (level, exact) = match &request.requested_context {
            None => (profile_level, false),
            Some((comparison, classes)) => {
                let levels: Vec<SecurityLevel> = classes.iter().filter_map(|c| level_of_class(c)).collect();
                let Some(lowest) = levels.iter().min().copied() else { return Err((REQUESTER, NO_AUTHN_CONTEXT)) };
                match comparison {
                    Comparison::Exact if levels.len() == 1 && lowest >= profile_level => (lowest, true),
                    Comparison::Minimum => (lowest.max(profile_level), false),
                    // Better than the lowest named: the next level up; maximum and an exact
                    // list Pintu cannot honour alone are refused rather than guessed.
                    Comparison::Better => match next_level(lowest) {
                        Some(next) => (next.max(profile_level), false),
                        None => return Err((REQUESTER, NO_AUTHN_CONTEXT)),
                    },
                    _ => return Err((REQUESTER, NO_AUTHN_CONTEXT)),
                }
            }
        };
        Ok(Pending {
            request_id: request.id.clone(),
            unsolicited: false,
            acs: acs.to_owned(),
            relay_state,
            name_id_format: name_id_format.to_owned(),
            level: level as u8,
            exact,
            is_passive: request.is_passive,
            force_authn: request.force_authn,
            received_at: self.clock.now(),
            asked: 0,
        })
    }
}

fn next_level(level: SecurityLevel) -> Option<SecurityLevel> {
    match level {
        SecurityLevel::Password => Some(SecurityLevel::SecondFactor),
        SecurityLevel::SecondFactor => Some(SecurityLevel::PhishingResistant),
        SecurityLevel::PhishingResistant => Some(SecurityLevel::Certificate),
        SecurityLevel::Certificate => None,
    }
}

/// The session, as SPs name it in a LogoutRequest: its id (not the cookie, which is secret).
pub(super) fn session_index(session: &SsoSession) -> String {
    session_index_of(session.id.as_str())
}

/// The SessionIndex of the session whose id is `session_id`.
pub(super) fn session_index_of(session_id: &str) -> String {
    format!("_{}", session_id.replace('-', ""))
}
