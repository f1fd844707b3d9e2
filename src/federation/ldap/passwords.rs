//! Bind-through: the password of an account that comes from a directory is checked by a bind
//! as that person's entry, never stored in Pintu. Every other account goes to the local
//! verifier. The lockout around the check is `AuthnService`'s, the same for both.

use std::sync::Arc;

use crate::authn::AuthnError;
use crate::authn::credentials::{Check, CredentialVerifier, PasswordHome, StoredCredentials};
use crate::config::PasswordChange;
use crate::domain::User;

use super::{Directory, LdapError, LdapFederation, mapping};

/// Directory accounts by bind, the rest by `local`.
pub struct LdapPasswords {
    federation: LdapFederation,
    local: Arc<dyn CredentialVerifier>,
}

impl LdapFederation {
    /// The verifier that checks this federation's accounts by bind and the rest by `local`.
    pub fn passwords(&self, local: Arc<dyn CredentialVerifier>) -> LdapPasswords {
        LdapPasswords { federation: self.clone(), local }
    }
}

impl LdapPasswords {
    /// The directory `user` comes from, if any (`Err` names one no longer configured).
    fn directory_of(&self, user: &User) -> Option<Result<&Directory, String>> {
        let source = user.profile.source.as_str();
        source.starts_with("ldap:").then(|| self.federation.find_source(source).ok_or_else(|| source.to_owned()))
    }

    /// A bind as the person's entry, which must still be the entry the account is linked to:
    /// after a leaver's DN is given to someone new (and before a sync notices), the newcomer's
    /// password must not open the leaver's account.
    async fn bind(&self, directory: &Directory, user: &User, password: &str) -> Result<bool, AuthnError> {
        let name = directory.config.name.clone();
        let link = self.federation.store.external_accounts().link_of(&user.id).await?;
        let Some(link) = link else {
            tracing::warn!(directory = %name, user = %user.id, "directory account without a link to its entry");
            return Ok(false);
        };
        let id_attribute = &directory.config.attributes.external_id;
        let result = directory.client.check_password(&link.dn, password, id_attribute).await;
        let now = self.federation.clock.now();
        directory.note(now, result.as_ref().map(|_| ()));
        let entry = result.map_err(|e| {
            tracing::warn!(directory = %name, error = %e, "cannot check a password with the directory");
            AuthnError::DirectoryUnavailable(name.clone())
        })?;
        let Some(entry) = entry else { return Ok(false) };
        let same = mapping::external_id(&entry, id_attribute).is_some_and(|id| id == link.external_id);
        if !same {
            tracing::warn!(directory = %name, user = %user.id, "the linked DN now names another entry (or hides its id): refused until the next sync");
        }
        Ok(same)
    }
}

impl CredentialVerifier for LdapPasswords {
    fn verify<'a>(&'a self, account: Option<&'a StoredCredentials>, password: &'a str) -> Check<'a> {
        Box::pin(async move {
            // A directory account costs a bind, the others an argon2id verification: the dummy
            // verification beside the bind keeps response times from telling which names are
            // directory accounts.
            match account.and_then(|a| self.directory_of(&a.user).map(|d| (a, d))) {
                Some((a, Ok(directory))) => {
                    let (bound, _) =
                        tokio::join!(self.bind(directory, &a.user, password), self.local.verify(None, password));
                    bound
                }
                Some((a, Err(source))) => {
                    tracing::warn!(user = %a.user.id, %source, "the account's directory is no longer configured");
                    self.local.verify(None, password).await.map(|_| false)
                }
                None => self.local.verify(account, password).await,
            }
        })
    }

    fn home(&self, user: &User) -> PasswordHome {
        match self.directory_of(user) {
            Some(Ok(d)) => {
                let (writable, change_url) = match &d.config.password_change {
                    PasswordChange::Write => (true, None),
                    PasswordChange::Refuse { url } => (false, url.as_ref().map(|u| u.to_string())),
                };
                PasswordHome::Directory { name: d.config.name.clone(), writable, change_url }
            }
            Some(Err(source)) => PasswordHome::Directory { name: source, writable: false, change_url: None },
            None => self.local.home(user),
        }
    }

    fn change_elsewhere<'a>(&'a self, user: &'a User, current: &'a str, new: &'a str) -> Check<'a> {
        Box::pin(async move {
            let Some(Ok(directory)) = self.directory_of(user) else { return Ok(false) };
            if directory.config.password_change != PasswordChange::Write {
                return Ok(false);
            }
            let link = self.federation.store.external_accounts().link_of(&user.id).await?;
            let Some(link) = link else { return Ok(false) };
            match directory.client.change_password(&link.dn, current, new).await {
                Ok(changed) => Ok(changed),
                Err(LdapError::PasswordRefused(why)) => {
                    Err(AuthnError::Password(crate::authn::PasswordError::DirectoryRefused(why)))
                }
                Err(e) => {
                    tracing::warn!(directory = %directory.config.name, error = %e, "cannot change a password in the directory");
                    Err(AuthnError::DirectoryUnavailable(directory.config.name.clone()))
                }
            }
        })
    }
}
