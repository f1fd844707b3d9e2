//! LDAP federation: the regency's existing directories as a source of people (sync) and of
//! passwords (bind-through). One `LdapFederation` holds every configured directory; the CLI,
//! the admin API and the periodic job sync through it, and `authn` checks the passwords of
//! directory accounts through its `LdapPasswords`.

mod client;
mod mapping;
mod passwords;
mod sync;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::audit::AuditRecorder;
use crate::clock::SharedClock;
use crate::config::LdapDirectoryConfig;
use crate::directory::DirectoryService;
use crate::storage::{StorageError, Store};

pub use passwords::LdapPasswords;
pub use sync::{DirectoryStatus, SyncMode, SyncOutcome};

use client::LdapClient;

#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("no LDAP directory named {0} is configured")]
    UnknownDirectory(String),
    #[error("cannot connect to the directory: {0}")]
    Connect(String),
    #[error("the directory did not answer in time")]
    Timeout,
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("the service account's bind was refused ({0})")]
    ServiceBind(String),
    #[error("the bind failed ({0})")]
    Bind(String),
    #[error("the search failed ({0})")]
    Search(String),
    #[error("the directory refused the new password ({0})")]
    PasswordRefused(String),
    #[error("LDAP protocol error: {0}")]
    Protocol(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Directory(#[from] crate::directory::DirectoryError),
}

/// Whether a directory answered the last time Pintu needed it (for health and the login page).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reachability {
    pub reachable: bool,
    /// Unix seconds of the last contact attempt; 0 before the first.
    pub checked_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One configured directory and its client.
struct Directory {
    config: Arc<LdapDirectoryConfig>,
    client: LdapClient,
    /// `[units]` keys in the form entries are compared in (normalised DNs or lower-cased values).
    units: HashMap<String, String>,
    reachability: Mutex<Reachability>,
}

impl Directory {
    fn note(&self, now: i64, result: Result<(), &LdapError>) {
        if let Ok(mut r) = self.reachability.lock() {
            *r =
                Reachability { reachable: result.is_ok(), checked_at: now, error: result.err().map(|e| e.to_string()) };
        }
    }
}

/// Every configured directory. Cheap to clone.
#[derive(Clone)]
pub struct LdapFederation {
    directories: Arc<Vec<Directory>>,
    directory: DirectoryService,
    store: Store,
    clock: SharedClock,
    audit: AuditRecorder,
}

impl LdapFederation {
    pub fn new(
        configs: &[LdapDirectoryConfig],
        directory: DirectoryService,
        store: Store,
        clock: SharedClock,
        audit: AuditRecorder,
    ) -> Result<Self, LdapError> {
        let mut directories = Vec::with_capacity(configs.len());
        for config in configs {
            let config = Arc::new(config.clone());
            let units = config
                .units
                .iter()
                .map(|(k, v)| {
                    (if config.attributes.unit.is_some() { k.clone() } else { mapping::normalize_dn(k) }, v.clone())
                })
                .collect();
            let client = LdapClient::new(config.clone())?;
            directories.push(Directory { config, client, units, reachability: Mutex::default() });
        }
        Ok(Self { directories: Arc::new(directories), directory, store, clock, audit })
    }

    /// The configured directories' names.
    pub fn names(&self) -> Vec<String> {
        self.directories.iter().map(|d| d.config.name.clone()).collect()
    }

    /// The directories that sync by themselves, with their interval.
    pub fn scheduled(&self) -> Vec<(String, std::time::Duration)> {
        self.directories.iter().filter_map(|d| d.config.sync_interval.map(|i| (d.config.name.clone(), i))).collect()
    }

    fn find(&self, name: &str) -> Result<&Directory, LdapError> {
        self.directories.iter().find(|d| d.config.name == name).ok_or_else(|| LdapError::UnknownDirectory(name.into()))
    }

    fn find_source(&self, source: &str) -> Option<&Directory> {
        self.directories.iter().find(|d| d.config.source() == source)
    }

    /// Each directory's reachability as last seen.
    pub fn reachability(&self) -> Vec<(String, Reachability)> {
        let seen = |d: &Directory| d.reachability.lock().map(|r| r.clone()).unwrap_or_default();
        self.directories.iter().map(|d| (d.config.name.clone(), seen(d))).collect()
    }

    /// Takes the lease of a periodic job (`false`: another node holds it, or this node ran
    /// the job less than a lease ago).
    pub async fn take_lease(&self, name: &str, holder: &str, now: i64, until: i64) -> Result<bool, LdapError> {
        Ok(self.store.external_accounts().take_lease(name, holder, now, until).await?)
    }

    /// Connects and binds as the service account, and counts the people the filter finds.
    pub async fn test(&self, name: &str) -> Result<ConnectionTest, LdapError> {
        let d = self.find(name)?;
        let result = async {
            let mut ldap = d.client.service().await?;
            let (people, _) =
                d.client.search(&mut ldap, &d.config.base_dn, &d.config.user_filter, vec!["1.1".into()]).await?;
            let (groups, _) =
                d.client.search(&mut ldap, &d.config.group_base_dn, &d.config.group_filter, vec!["1.1".into()]).await?;
            let _ = ldap.unbind().await;
            Ok(ConnectionTest {
                directory: name.to_owned(),
                url: d.config.url.to_string(),
                people: people.len(),
                groups: groups.len(),
            })
        }
        .await;
        d.note(self.clock.now(), result.as_ref().map(|_| ()));
        result
    }
}

/// What `pintu ldap test` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionTest {
    pub directory: String,
    pub url: String,
    pub people: usize,
    pub groups: usize,
}
