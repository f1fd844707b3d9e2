//! The credentials side of a person that administrators touch: one namespace of login names
//! (a new username, e-mail or NIP may not be another account's), passwords they set (hashed on
//! the argon2 threads; every session and token ends), and resetting second factors.

use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::User;
use crate::domain::login_names::{LoginNamespace, login_names};
use crate::storage::Tx;

use super::{Actor, DirectoryError, DirectoryService};

/// Two accounts sharing a login name: `name` is `account`'s `field` and `other`'s
/// `other_field`. The login resolves the name by precedence (username, e-mail, NIP).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoginConflict {
    pub account: String,
    pub field: String,
    pub name: String,
    pub other: String,
    pub other_field: String,
}

impl DirectoryService {
    /// One namespace of login names (`domain::login_names`): `user`'s new username, e-mail or
    /// NIP may not be another account's, checked in the transaction that writes it.
    pub(super) async fn check_login_names_in(
        &self,
        tx: &mut Tx,
        user: &User,
        before: Option<&User>,
    ) -> Result<(), DirectoryError> {
        let names: Vec<String> = login_names(user).into_iter().map(|(_, name)| name).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let holders = self.store.users().login_holders_in(tx, &names).await?;
        match LoginNamespace::of(&holders).clash_of_new(user, before) {
            Some(clash) => Err(DirectoryError::Conflict(clash.describe())),
            None => Ok(()),
        }
    }

    /// Every account, for the office's command-line listing.
    pub async fn list_accounts(&self, actor: &Actor) -> Result<Vec<User>, DirectoryError> {
        if !self.reach(actor).await?.is_office() {
            return Err(DirectoryError::Forbidden("only the office lists every account".into()));
        }
        Ok(self.store.users().list().await?)
    }

    /// Accounts that share a login name, left from before the namespace was enforced: the
    /// office resolves each by changing one of the two.
    pub async fn login_conflicts(&self, actor: &Actor) -> Result<Vec<LoginConflict>, DirectoryError> {
        if !self.reach(actor).await?.is_office() {
            return Err(DirectoryError::Forbidden("only the office sees every account".into()));
        }
        let rows = self.store.users().login_conflicts().await?;
        Ok(rows
            .into_iter()
            .map(|(account, field, name, other, other_field)| LoginConflict {
                account,
                field,
                name,
                other,
                other_field,
            })
            .collect())
    }

    /// Checks a chosen password against the policy, with the person's own details as words
    /// it must not be built from, and hashes it on the hashing threads.
    pub(super) async fn hash_password(&self, password: &str, context: &[&str]) -> Result<String, DirectoryError> {
        match self.authn.hash_chosen_password(password, context).await {
            Ok(hash) => Ok(hash),
            Err(crate::authn::AuthnError::Password(e)) => Err(DirectoryError::invalid("password", e.to_string())),
            Err(e) => Err(DirectoryError::Unavailable(e.to_string())),
        }
    }

    /// A password an administrator set: as when the person changes it themselves, every session
    /// and grant (hence refresh and access token) ends, and the change is audited (no secret).
    pub(super) async fn set_password_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        user: &User,
        hash: &str,
    ) -> Result<(), DirectoryError> {
        let users = self.store.users();
        users.set_password_hash_in(tx, &user.id, hash, user.updated_at).await?;
        users.cut_off_in(tx, &user.id, user.updated_at).await?;
        let unit = user.profile.org_unit_id.as_ref();
        let events = vec![
            AuditEvent::admin(&actor.id, AdminChange::UserPasswordSet, user.id.as_str(), unit, json!({})),
            AuditEvent::sessions_revoked(&actor.id, user, "password_set"),
        ];
        let events = events.into_iter().map(|e| e.from_ip(actor.source_ip.as_deref())).collect();
        Ok(self.audit.record_in(tx, events).await?)
    }
}

impl DirectoryService {
    /// Removes a person's second factors (a lost device): their TOTP authenticator, recovery
    /// codes and passkeys go, and their sessions end, so the next login starts at a password.
    pub async fn reset_factors(&self, actor: &Actor, id: &str) -> Result<u64, DirectoryError> {
        let reach = self.reach(actor).await?;
        let user = self.user_in_reach(&reach, id).await?;
        self.check_may_manage(&reach, &user).await?;
        let mut tx = self.store.begin().await?;
        let mut removed = self.store.factors().reset_in(&mut tx, &user.id).await?;
        removed += self.store.passkeys().remove_all_in(&mut tx, &user.id).await?;
        self.store.users().cut_off_in(&mut tx, &user.id, self.now()).await?;
        let detail = json!({ "removed": removed });
        let event = AuditEvent::admin(
            &actor.id,
            AdminChange::FactorReset,
            user.id.as_str(),
            user.profile.org_unit_id.as_ref(),
            detail,
        );
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        Ok(removed)
    }
}
