//! The only user of `ldap3`: connections (TLS with the configured CA, StartTLS, timeouts),
//! paged searches (RFC 2696), binds as a person, and the Password Modify operation (RFC 3062).
//! Connections used for people's binds are kept and reused; every operation is bounded by the
//! directory's timeout, so a stalled server never holds a login longer than that.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::ExposeSecret;

use crate::config::LdapDirectoryConfig;

use super::LdapError;

/// Result code 49 (RFC 4511 §A.1): wrong password, unknown DN, or a locked or disabled account
/// (Active Directory and ppolicy answer all of these with it).
const INVALID_CREDENTIALS: u32 = 49;
/// Result code 32 (RFC 4511 §A.1): the entry does not exist.
const NO_SUCH_OBJECT: u32 = 32;
/// Connections kept for binds, per directory.
const IDLE_CONNECTIONS: usize = 8;

/// One entry as read: its DN and its attributes (names lower-cased).
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub dn: String,
    pub attrs: HashMap<String, Vec<String>>,
    pub bin: HashMap<String, Vec<Vec<u8>>>,
}

impl Entry {
    pub fn first(&self, attr: &str) -> Option<&str> {
        self.attrs.get(&attr.to_lowercase()).and_then(|v| v.first()).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    pub fn all(&self, attr: &str) -> &[String] {
        self.attrs.get(&attr.to_lowercase()).map(Vec::as_slice).unwrap_or_default()
    }
}

pub struct LdapClient {
    config: Arc<LdapDirectoryConfig>,
    tls: Option<Arc<rustls::ClientConfig>>,
    idle: Mutex<Vec<Ldap>>,
}

impl LdapClient {
    /// Prepares the client (reads the CA file); connects only when used.
    pub fn new(config: Arc<LdapDirectoryConfig>) -> Result<Self, LdapError> {
        let uses_tls = config.starttls || config.url.scheme() == "ldaps";
        let tls = if uses_tls { Some(tls_config(&config)?) } else { None };
        Ok(Self { config, tls, idle: Mutex::new(Vec::new()) })
    }

    async fn connect(&self) -> Result<Ldap, LdapError> {
        let mut settings = LdapConnSettings::new().set_conn_timeout(self.config.timeout);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone()).set_starttls(self.config.starttls);
        }
        let connecting = LdapConnAsync::with_settings(settings, self.config.url.as_str());
        let (conn, ldap) = tokio::time::timeout(self.config.timeout, connecting)
            .await
            .map_err(|_| LdapError::Timeout)?
            .map_err(|e| LdapError::Connect(e.to_string()))?;
        let name = self.config.name.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(directory = %name, error = %e, "LDAP connection closed");
            }
        });
        Ok(ldap)
    }

    /// A connection bound as the service account.
    pub async fn service(&self) -> Result<Ldap, LdapError> {
        let mut ldap = self.connect().await?;
        let password = self.config.bind_password.expose_secret();
        let result = ldap.with_timeout(self.config.timeout).simple_bind(&self.config.bind_dn, password).await;
        match result.map_err(protocol)? {
            r if r.rc == 0 => Ok(ldap),
            r => Err(LdapError::ServiceBind(format!("result {} {}", r.rc, r.text))),
        }
    }

    /// Every entry under `base` matching `filter`, a page at a time. An entry the client cannot
    /// decode is returned as a problem (its DN unknown), not a panic.
    pub async fn search(
        &self,
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attrs: Vec<String>,
    ) -> Result<(Vec<Entry>, usize), LdapError> {
        let adapters: Vec<Box<dyn Adapter<_, _>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(self.config.page_size))];
        let timeout = self.config.timeout;
        let mut stream = ldap
            .with_timeout(timeout)
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await
            .map_err(protocol)?;
        let (mut entries, mut undecodable) = (Vec::new(), 0);
        loop {
            let next = tokio::time::timeout(timeout, stream.next()).await.map_err(|_| LdapError::Timeout)?;
            let Some(raw) = next.map_err(protocol)? else { break };
            // ldap3 panics on an entry it cannot parse; a broken server must not stop Pintu.
            match std::panic::catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(raw))) {
                Ok(e) => entries.push(entry(e)),
                Err(_) => undecodable += 1,
            }
        }
        let done = tokio::time::timeout(timeout, stream.finish()).await.map_err(|_| LdapError::Timeout)?;
        if done.rc != 0 {
            return Err(LdapError::Search(format!("result {} {}", done.rc, done.text)));
        }
        Ok((entries, undecodable))
    }

    /// Binds as the entry `dn` with `password` and reads back, as that person, the entry's
    /// `id_attribute` (so the caller can check the DN still names the same person): `None`
    /// when the password is wrong, or the entry is gone. Uses a kept connection when there is
    /// one, and a fresh one once if the kept one turns out dead (a firewall dropped it).
    pub async fn check_password(
        &self,
        dn: &str,
        password: &str,
        id_attribute: &str,
    ) -> Result<Option<Entry>, LdapError> {
        // RFC 4513 §5.1.2: a simple bind with an empty password is an unauthenticated bind,
        // which servers answer with success. It proves nothing.
        if password.is_empty() || dn.is_empty() {
            return Ok(None);
        }
        let kept = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        let outcome = match kept.and_then(|mut l| (!l.is_closed()).then_some(l)) {
            Some(ldap) => match self.bind_and_read(ldap, dn, password, id_attribute).await {
                Err(LdapError::Protocol(_)) => {
                    self.bind_and_read(self.connect().await?, dn, password, id_attribute).await
                }
                other => other,
            },
            None => self.bind_and_read(self.connect().await?, dn, password, id_attribute).await,
        };
        let (result, ldap) = match outcome {
            Ok((result, ldap)) => (result, ldap),
            Err(e) => return Err(e),
        };
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(ldap);
        }
        Ok(result)
    }

    async fn bind_and_read(
        &self,
        mut ldap: Ldap,
        dn: &str,
        password: &str,
        id_attribute: &str,
    ) -> Result<(Option<Entry>, Ldap), LdapError> {
        let timeout = self.config.timeout;
        match ldap.with_timeout(timeout).simple_bind(dn, password).await.map_err(protocol)? {
            r if r.rc == 0 => {}
            r if r.rc == INVALID_CREDENTIALS => return Ok((None, ldap)),
            r => return Err(LdapError::Bind(format!("result {} {}", r.rc, r.text))),
        }
        let read = ldap.with_timeout(timeout).search(dn, Scope::Base, "(objectClass=*)", vec![id_attribute]).await;
        let ldap3::SearchResult(raw, done) = read.map_err(protocol)?;
        match done.rc {
            0 => {}
            NO_SUCH_OBJECT => return Ok((None, ldap)),
            rc => return Err(LdapError::Search(format!("reading the bound entry: result {rc} {}", done.text))),
        }
        let entry = raw
            .into_iter()
            .next()
            .and_then(|r| std::panic::catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(r))).ok())
            .map(entry);
        Ok((entry, ldap))
    }

    /// Changes the password of `dn` as that person (bound with `current`), by the Password
    /// Modify extended operation. `Ok(false)`: `current` is wrong.
    pub async fn change_password(&self, dn: &str, current: &str, new: &str) -> Result<bool, LdapError> {
        if current.is_empty() {
            return Ok(false);
        }
        let mut ldap = self.connect().await?;
        let bound = ldap.with_timeout(self.config.timeout).simple_bind(dn, current).await;
        match bound.map_err(protocol)? {
            r if r.rc == 0 => {}
            r if r.rc == INVALID_CREDENTIALS => return Ok(false),
            r => return Err(LdapError::Bind(format!("result {} {}", r.rc, r.text))),
        }
        let exop = PasswordModify { user_id: Some(dn), old_pass: Some(current), new_pass: Some(new) };
        let ldap3::result::ExopResult(_, result) =
            ldap.with_timeout(self.config.timeout).extended(exop).await.map_err(protocol)?;
        let _ = ldap.unbind().await;
        match result.rc {
            0 => Ok(true),
            rc => Err(LdapError::PasswordRefused(format!("result {rc}: {}", result.text.trim()))),
        }
    }
}

/// An operation's error; its own timeout is the directory's, told the same way as ours.
fn protocol(e: ldap3::LdapError) -> LdapError {
    match e {
        ldap3::LdapError::Timeout { .. } => LdapError::Timeout,
        other => LdapError::Protocol(other.to_string()),
    }
}

fn entry(e: SearchEntry) -> Entry {
    fn lower<V>(m: HashMap<String, V>) -> HashMap<String, V> {
        m.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect()
    }
    Entry { dn: e.dn, attrs: lower(e.attrs), bin: lower(e.bin_attrs) }
}

/// TLS to the directory with the ring provider: the configured CA bundle, or the system's roots.
fn tls_config(config: &LdapDirectoryConfig) -> Result<Arc<rustls::ClientConfig>, LdapError> {
    let mut roots = rustls::RootCertStore::empty();
    match &config.ca_file {
        Some(path) => {
            let bad = |e: String| LdapError::Tls(format!("{}: {e}", path.display()));
            let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                roots.add(cert.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(bad("no certificate in the file".into()));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
        }
    }
    // ring is the one provider in the tree (sqlx and reqwest use it too); its post-quantum
    // key exchange is not needed to reach a directory on the office's own network.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LdapError::Tls(e.to_string()))?;
    Ok(Arc::new(builder.with_root_certificates(roots).with_no_client_auth()))
}
