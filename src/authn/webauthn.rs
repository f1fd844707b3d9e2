//! Passkeys and security keys (security level 3) through webauthn-rs: registration, login
//! with a passkey the browser offers (username-less, conditional UI) and step-up with one of
//! the person's own credentials. User verification is always required (a PIN or biometric on
//! the authenticator), so one passkey gesture is two factors and phishing-resistant.
//!
//! Ceremony state (the challenge, what was offered) is stored in the database under the
//! interaction it belongs to and consumed by the first answer, so a challenge is answered at
//! most once and nothing the browser sends back is trusted beyond the signed response.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder,
};

use crate::config::WebauthnConfig;
use crate::domain::{AuthnContext, User};
use crate::storage::{Ceremony, PasskeyRecord, StorageError};

use super::{AuthnError, AuthnService};

/// Ceremony options for a page's script, or why none can be given (the script shows it).
pub type PasskeyOptions = Result<serde_json::Value, PasskeyProblem>;

pub const PURPOSE_REGISTER: &str = "register";
/// Login without a name: the browser offers whichever passkey the person picks.
pub const PURPOSE_LOGIN: &str = "login";
/// Step-up of a session: one of the session owner's credentials.
pub const PURPOSE_STEP_UP: &str = "step-up";

/// How long a challenge can be answered.
const CEREMONY_TTL: i64 = 300;
/// Larger responses are refused unread (a real one is a few kilobytes).
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024;
const MAX_NAME_CHARS: usize = 64;
/// Credentials one person may register.
pub const MAX_PER_PERSON: i64 = 20;

/// Why a passkey operation was refused; `code` names it in audit events and page messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyProblem {
    #[error("passkeys are not available on this server (the issuer has no host name)")]
    Unavailable,
    #[error("the authenticator's response is malformed or too large")]
    Malformed,
    #[error("no challenge is pending (expired, or already answered)")]
    NoChallenge,
    #[error("the authenticator's response does not verify")]
    Rejected,
    #[error("this passkey is not registered")]
    UnknownCredential,
    #[error("no passkey is registered for this account")]
    NoneRegistered,
    #[error("a passkey needs a name of 1 to 64 characters")]
    BadName,
    #[error("too many passkeys are registered for this account")]
    TooMany,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
}

impl PasskeyProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Malformed => "malformed",
            Self::NoChallenge => "no_challenge",
            Self::Rejected => "rejected",
            Self::UnknownCredential => "unknown_credential",
            Self::NoneRegistered => "none_registered",
            Self::BadName => "bad_name",
            Self::TooMany => "too_many",
            Self::AlreadyRegistered => "already_registered",
        }
    }
}

/// The WebAuthn relying party (RP ID, origin, name).
pub type RelyingParty = Webauthn;

/// Builds the WebAuthn relying party, or `None` when passkeys cannot work with this issuer.
pub fn relying_party(config: &WebauthnConfig) -> Option<RelyingParty> {
    let rp_id = config.rp_id.as_deref()?;
    let built = WebauthnBuilder::new(rp_id, &config.origin).and_then(|b| b.rp_name(&config.rp_name).build());
    match built {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are disabled: the WebAuthn relying party cannot be built");
            None
        }
    }
}

/// The WebAuthn user handle: the person's id, which is a UUID. Never the login name or NIP,
/// which authenticators may show or sync.
fn user_handle(user: &User) -> Result<Uuid, AuthnError> {
    Uuid::parse_str(user.id.as_str()).map_err(|_| AuthnError::Factor("this account's id is not a UUID"))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, AuthnError> {
    serde_json::to_string(value).map_err(|_| AuthnError::Factor("cannot serialise WebAuthn state"))
}

fn from_json<T: DeserializeOwned>(text: &str, problem: PasskeyProblem) -> Result<T, AuthnError> {
    serde_json::from_str(text).map_err(|_| problem.into())
}

/// Parses a browser's response after a size check.
fn parse_response<T: DeserializeOwned>(response: &str) -> Result<T, AuthnError> {
    if response.len() > MAX_RESPONSE_BYTES {
        return Err(PasskeyProblem::Malformed.into());
    }
    from_json(response, PasskeyProblem::Malformed)
}

fn credential_key(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

fn check_name(name: &str) -> Result<String, AuthnError> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyProblem::BadName.into());
    }
    Ok(name.to_owned())
}

impl AuthnContext {
    /// A passkey with user verification (RFC 8176: `hwk` for a device-bound key, `swk` for a
    /// synced one, `user` for the verification gesture), added to the methods a step-up
    /// builds on.
    pub fn passkey(auth_time: i64, synced: bool, earlier: &[String]) -> Self {
        let mut amr: Vec<String> = earlier.to_vec();
        for m in [if synced { "swk" } else { "hwk" }, "user", "mfa"] {
            if !amr.iter().any(|a| a == m) {
                amr.push(m.to_owned());
            }
        }
        Self { auth_time, level: crate::domain::SecurityLevel::PhishingResistant, amr }
    }
}

impl AuthnService {
    fn webauthn(&self) -> Result<&Webauthn, AuthnError> {
        self.webauthn.as_deref().ok_or(PasskeyProblem::Unavailable.into())
    }

    pub fn passkeys_available(&self) -> bool {
        self.webauthn.is_some()
    }

    async fn put_ceremony<T: Serialize>(
        &self,
        purpose: &str,
        binding: &str,
        user: Option<&User>,
        state: &T,
        now: i64,
    ) -> Result<(), AuthnError> {
        let ceremony =
            Ceremony { user_id: user.map(|u| u.id.clone()), state: to_json(state)?, expires_at: now + CEREMONY_TTL };
        Ok(self.store.passkeys().put_ceremony(purpose, binding, &ceremony).await?)
    }

    /// Consumes the pending ceremony; it must be live and, when `user` is given, theirs.
    /// Returns its state as stored.
    async fn take_ceremony(
        &self,
        purpose: &str,
        binding: &str,
        user: Option<&User>,
        now: i64,
    ) -> Result<String, AuthnError> {
        let ceremony = self.store.passkeys().take_ceremony(purpose, binding).await?;
        let ceremony = ceremony.filter(|c| c.expires_at > now).ok_or(PasskeyProblem::NoChallenge)?;
        if ceremony.user_id.as_ref() != user.map(|u| &u.id) {
            return Err(PasskeyProblem::NoChallenge.into());
        }
        Ok(ceremony.state)
    }

    /// Starts registering a passkey for `user`; returns the options for
    /// `navigator.credentials.create`. Credentials already registered are excluded.
    pub async fn start_passkey_registration(
        &self,
        user: &User,
        binding: &str,
        now: i64,
    ) -> Result<serde_json::Value, AuthnError> {
        let webauthn = self.webauthn()?;
        let existing = self.store.passkeys().of_user(&user.id).await?;
        if existing.len() as i64 >= MAX_PER_PERSON {
            return Err(PasskeyProblem::TooMany.into());
        }
        let exclude = existing
            .iter()
            .filter_map(|r| serde_json::from_str::<Passkey>(&r.passkey).ok())
            .map(|p| p.cred_id().clone())
            .collect();
        let (options, state) = webauthn
            .start_passkey_registration(user_handle(user)?, &user.username, &user.display_name(), Some(exclude))
            .map_err(|_| AuthnError::Factor("cannot start a WebAuthn registration"))?;
        let mut options =
            serde_json::to_value(options).map_err(|_| AuthnError::Factor("cannot serialise WebAuthn options"))?;
        // Ask for a discoverable credential, so the passkey also works without typing a name
        // (WebAuthn §5.4.4 "preferred": security keys without storage still register). The
        // server does not depend on it: a non-discoverable key still serves step-up.
        if let Some(selection) =
            options.pointer_mut("/publicKey/authenticatorSelection").and_then(|s| s.as_object_mut())
        {
            selection.insert("residentKey".to_owned(), "preferred".into());
        }
        self.put_ceremony::<PasskeyRegistration>(PURPOSE_REGISTER, binding, Some(user), &state, now).await?;
        Ok(options)
    }

    /// Verifies the browser's answer to a registration and stores the named credential.
    pub async fn finish_passkey_registration(
        &self,
        user: &User,
        binding: &str,
        name: &str,
        response: &str,
        now: i64,
    ) -> Result<PasskeyRecord, AuthnError> {
        let webauthn = self.webauthn()?;
        let name = check_name(name)?;
        let state = self.take_ceremony(PURPOSE_REGISTER, binding, Some(user), now).await?;
        let state: PasskeyRegistration = from_json(&state, PasskeyProblem::NoChallenge)?;
        let credential: RegisterPublicKeyCredential = parse_response(response)?;
        let passkey = webauthn.finish_passkey_registration(&credential, &state).map_err(|e| {
            tracing::info!(error = %e, "a passkey registration did not verify");
            PasskeyProblem::Rejected
        })?;
        let record = PasskeyRecord {
            id: Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            credential_id: credential_key(passkey.cred_id()),
            name,
            passkey: to_json(&passkey)?,
            created_at: now,
            last_used_at: None,
        };
        match self.store.passkeys().insert(&record).await {
            Ok(()) => Ok(record),
            Err(StorageError::Conflict { .. }) => Err(PasskeyProblem::AlreadyRegistered.into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts a passkey login: for `Some(user)` (a step-up) with that person's credentials,
    /// for `None` with whichever discoverable passkey the browser offers. Returns the options
    /// for `navigator.credentials.get`, or the problem to show the person (no passkeys here,
    /// none registered); `Err` is a failure.
    pub async fn start_passkey_login(
        &self,
        binding: &str,
        user: Option<&User>,
        now: i64,
    ) -> Result<PasskeyOptions, AuthnError> {
        match self.passkey_login_options(binding, user, now).await {
            Ok(options) => Ok(Ok(options)),
            Err(AuthnError::Passkey(problem)) => Ok(Err(problem)),
            Err(failure) => Err(failure),
        }
    }

    async fn passkey_login_options(
        &self,
        binding: &str,
        user: Option<&User>,
        now: i64,
    ) -> Result<serde_json::Value, AuthnError> {
        let webauthn = self.webauthn()?;
        let failed = |_| AuthnError::Factor("cannot start a WebAuthn authentication");
        let options = match user {
            None => {
                let (options, state) = webauthn.start_discoverable_authentication().map_err(failed)?;
                self.put_ceremony::<DiscoverableAuthentication>(PURPOSE_LOGIN, binding, None, &state, now).await?;
                serde_json::to_value(options)
            }
            Some(user) => {
                let passkeys = self.passkeys_of(user).await?;
                if passkeys.is_empty() {
                    return Err(PasskeyProblem::NoneRegistered.into());
                }
                let creds: Vec<Passkey> = passkeys.into_iter().map(|(_, p)| p).collect();
                let (options, state) = webauthn.start_passkey_authentication(&creds).map_err(failed)?;
                self.put_ceremony::<PasskeyAuthentication>(PURPOSE_STEP_UP, binding, Some(user), &state, now).await?;
                serde_json::to_value(options)
            }
        };
        options.map_err(|_| AuthnError::Factor("cannot serialise WebAuthn options"))
    }

    async fn passkeys_of(&self, user: &User) -> Result<Vec<(PasskeyRecord, Passkey)>, AuthnError> {
        let records = self.store.passkeys().of_user(&user.id).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| serde_json::from_str::<Passkey>(&r.passkey).ok().map(|p| (r, p)))
            .collect())
    }

    /// Verifies a passkey assertion for the pending login (`user: None`) or step-up
    /// (`Some`, whose session used the methods `earlier`); returns the person and the
    /// authentication reached. A signature counter that did not advance (a cloned
    /// authenticator) is refused by webauthn-rs.
    pub async fn finish_passkey_login(
        &self,
        binding: &str,
        user: Option<&User>,
        earlier: &[String],
        response: &str,
        now: i64,
    ) -> Result<(User, AuthnContext), AuthnError> {
        let webauthn = self.webauthn()?;
        let purpose = if user.is_some() { PURPOSE_STEP_UP } else { PURPOSE_LOGIN };
        // Consumed before the response is even parsed: one answer per challenge.
        let state = self.take_ceremony(purpose, binding, user, now).await?;
        let credential: PublicKeyCredential = parse_response(response)?;
        let key = credential_key(credential.get_credential_id());
        let record =
            self.store.passkeys().find_by_credential_id(&key).await?.ok_or(PasskeyProblem::UnknownCredential)?;
        let mut passkey: Passkey = from_json(&record.passkey, PasskeyProblem::UnknownCredential)?;
        let rejected = |e: webauthn_rs::prelude::WebauthnError| {
            tracing::info!(error = %e, "a passkey assertion did not verify");
            AuthnError::from(PasskeyProblem::Rejected)
        };
        let result = match user {
            Some(user) => {
                if record.user_id != user.id {
                    return Err(PasskeyProblem::UnknownCredential.into());
                }
                let state: PasskeyAuthentication = from_json(&state, PasskeyProblem::NoChallenge)?;
                webauthn.finish_passkey_authentication(&credential, &state).map_err(rejected)?
            }
            None => {
                // The user handle must name the credential's owner (WebAuthn §7.2 step 6).
                let (handle, _) = webauthn.identify_discoverable_authentication(&credential).map_err(rejected)?;
                if handle.to_string() != record.user_id.as_str() {
                    return Err(PasskeyProblem::Rejected.into());
                }
                let state: DiscoverableAuthentication = from_json(&state, PasskeyProblem::NoChallenge)?;
                webauthn.finish_discoverable_authentication_v2(&credential, state, &passkey).map_err(rejected)?
            }
        };
        passkey.update_credential(&result);
        self.store.passkeys().record_use(&record.id, &to_json(&passkey)?, now).await?;
        let owner = self.store.users().find(&record.user_id).await?.ok_or(PasskeyProblem::UnknownCredential)?;
        if owner.disabled {
            return Err(AuthnError::InvalidCredentials);
        }
        Ok((owner, AuthnContext::passkey(now, result.backup_eligible(), earlier)))
    }

    /// Removes one of a person's credentials; `false` if it was not theirs.
    pub async fn remove_passkey(&self, user: &User, id: &str) -> Result<bool, AuthnError> {
        Ok(self.store.passkeys().remove(&user.id, id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  YubiKey kantor ").ok().as_deref(), Some("YubiKey kantor"));
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
        assert!(check_name("a\u{0007}b").is_err());
    }

    #[test]
    fn oversized_and_malformed_responses_are_refused() {
        let big = format!("{{\"id\":\"{}\"}}", "a".repeat(MAX_RESPONSE_BYTES));
        assert!(matches!(
            parse_response::<PublicKeyCredential>(&big),
            Err(AuthnError::Passkey(PasskeyProblem::Malformed))
        ));
        assert!(matches!(
            parse_response::<PublicKeyCredential>("{\"id\": 1}"),
            Err(AuthnError::Passkey(PasskeyProblem::Malformed))
        ));
    }

    #[test]
    fn passkey_methods_build_on_the_earlier_ones() {
        let a = AuthnContext::passkey(10, false, &["pwd".to_owned()]);
        assert_eq!(a.amr, ["pwd", "hwk", "user", "mfa"]);
        assert_eq!(AuthnContext::passkey(10, true, &[]).amr, ["swk", "user", "mfa"]);
    }
}
