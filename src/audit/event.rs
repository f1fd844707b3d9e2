//! Audit events and the chain hash. The hash commits to the previous event's hash, the
//! sequence number and every field, so editing, inserting or deleting an event breaks it.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::{ClientId, OrgUnitId, SecurityLevel, User, UserId};
use crate::storage::NewAuditRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One thing that happened. Build with the named constructors, then add context.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub action: String,
    pub outcome: Outcome,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub org_unit_id: Option<OrgUnitId>,
    pub client_id: Option<ClientId>,
    pub source_ip: Option<String>,
    pub level: Option<SecurityLevel>,
    pub detail: Value,
}

impl AuditEvent {
    fn new(action: &str, outcome: Outcome) -> Self {
        Self {
            action: action.to_owned(),
            outcome,
            actor: None,
            target: None,
            org_unit_id: None,
            client_id: None,
            source_ip: None,
            level: None,
            detail: Value::Object(Default::default()),
        }
    }

    fn about(mut self, user: &User) -> Self {
        self.actor = Some(format!("user:{}", user.id));
        self.target = Some(user.id.to_string());
        self.org_unit_id = user.profile.org_unit_id.clone();
        self
    }

    /// A person signed in with `method` (RFC 8176 `amr` values) and reached `level`.
    pub fn login_succeeded(user: &User, client: Option<&ClientId>, amr: &[String], level: SecurityLevel) -> Self {
        let mut e = Self::new("login", Outcome::Success).about(user);
        e.client_id = client.cloned();
        e.level = Some(level);
        e.detail = json!({ "amr": amr, "acr": level.acr() });
        e
    }

    /// A sign-in failed. `user` is the account the login name matched, if any; the name
    /// typed is not recorded (people type passwords into the wrong field).
    pub fn login_failed(user: Option<&User>, client: Option<&ClientId>, reason: &str) -> Self {
        let mut e = Self::new("login", Outcome::Failure);
        if let Some(user) = user {
            e = e.about(user);
        }
        e.client_id = client.cloned();
        // The method that failed (RFC 8176 names; a passkey's kind is unknown until it verifies).
        let amr = match reason {
            r if r.starts_with("passkey") => json!([]),
            r if r.contains("second factor") => json!(["otp"]),
            _ => json!(["pwd"]),
        };
        e.detail = json!({ "reason": reason, "amr": amr });
        e
    }

    /// The application's access policy turned the person away.
    pub fn access_denied(user: &User, client: &ClientId, error: &str) -> Self {
        let mut e = Self::new("access.denied", Outcome::Failure).about(user);
        e.client_id = Some(client.clone());
        e.detail = json!({ "error": error });
        e
    }

    /// Tokens were issued to `client` (for `user`, unless client credentials).
    pub fn token_issued(user: Option<&UserId>, client: &ClientId, grant_type: &str, scope: &str) -> Self {
        let mut e = Self::new("token.issued", Outcome::Success);
        e.actor = Some(format!("client:{client}"));
        e.target = user.map(|u| u.to_string());
        e.client_id = Some(client.clone());
        e.detail = json!({ "grant_type": grant_type, "scope": scope });
        e
    }

    /// A client failed to authenticate (token, introspection or revocation endpoint) with
    /// `method` (RFC 7591 names; `None` when it sent no credentials). `client` is the
    /// registered client the request named, if any; a name no client has is not recorded.
    pub fn client_authentication_failed(client: Option<&ClientId>, method: Option<&str>, reason: &str) -> Self {
        let mut e = Self::new("client.authentication", Outcome::Failure);
        e.actor = client.map(|c| format!("client:{c}"));
        e.client_id = client.cloned();
        e.detail = json!({ "method": method, "reason": reason });
        e
    }

    /// A person ended their session (RP-initiated logout).
    pub fn logged_out(user: &User, client: Option<&ClientId>) -> Self {
        let mut e = Self::new("logout", Outcome::Success).about(user);
        e.client_id = client.cloned();
        e
    }

    /// Sessions and refresh tokens of `user` were revoked because of `reason`.
    pub fn sessions_revoked(actor: &str, user: &User, reason: &str) -> Self {
        let mut e = Self::new("session.revoked", Outcome::Success).about(user);
        e.actor = Some(actor.to_owned());
        e.detail = json!({ "reason": reason });
        e
    }

    /// An administrative change: `change` like `user.update`, on `target`.
    pub fn admin(actor: &str, change: &str, target: &str, org_unit: Option<&OrgUnitId>, detail: Value) -> Self {
        let mut e = Self::new(&format!("admin.{change}"), Outcome::Success);
        e.actor = Some(actor.to_owned());
        e.target = Some(target.to_owned());
        e.org_unit_id = org_unit.cloned();
        e.detail = detail;
        e
    }

    pub fn from_ip(mut self, ip: Option<&str>) -> Self {
        self.source_ip = ip.map(str::to_owned);
        self
    }

    pub fn with_client(mut self, client: Option<&ClientId>) -> Self {
        if client.is_some() {
            self.client_id = client.cloned();
        }
        self
    }

    pub(crate) fn into_row(self, at: i64) -> NewAuditRow {
        NewAuditRow {
            at,
            action: self.action,
            outcome: self.outcome.as_str().to_owned(),
            actor: self.actor,
            target: self.target,
            org_unit_id: self.org_unit_id.map(|u| u.to_string()),
            client_id: self.client_id.map(|c| c.to_string()),
            source_ip: self.source_ip,
            level: self.level.map(|l| l as i64),
            detail: self.detail.to_string(),
        }
    }
}

/// SHA-256 (hex) over the previous hash and the event's canonical JSON encoding.
pub fn chain_hash(prev_hash: &str, seq: i64, e: &NewAuditRow) -> String {
    let canonical = json!([
        seq,
        e.at,
        e.action,
        e.outcome,
        e.actor,
        e.target,
        e.org_unit_id,
        e.client_id,
        e.source_ip,
        e.level,
        e.detail
    ]);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.to_string().as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_login_names_the_method_that_failed() {
        let amr = |reason| AuditEvent::login_failed(None, None, reason).detail["amr"].clone();
        assert_eq!(amr("invalid password"), json!(["pwd"]));
        assert_eq!(amr("invalid second factor"), json!(["otp"]));
        assert_eq!(amr("passkey rejected"), json!([]));
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let row = AuditEvent::admin("cli", "user.create", "u1", None, json!({})).into_row(10);
        let base = chain_hash("p", 1, &row);
        assert_eq!(base.len(), 64);
        assert_ne!(base, chain_hash("q", 1, &row));
        assert_ne!(base, chain_hash("p", 2, &row));
        let edited = NewAuditRow { outcome: "failure".into(), ..row.clone() };
        assert_ne!(base, chain_hash("p", 1, &edited));
        let edited = NewAuditRow { detail: "{\"x\":1}".into(), ..row };
        assert_ne!(base, chain_hash("p", 1, &edited));
    }
}
