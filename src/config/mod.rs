//! Configuration: serde layers (defaults, `pintu.toml`, `PINTU_*` environment) parsed into a
//! `RawConfig`, then validated into a typed `Config` with one sub-config per module.
//!
//! Every problem is collected, so an operator sees all of them at once (STYLE.md §5).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

mod backup;
mod certificates;
mod ldap;
mod mail;
mod validate;

pub use backup::{BackupConfig, RawBackup, redact_url};
pub use certificates::{
    CertificatesConfig, RawCertificates, RawSigning, RawTls, RevocationPolicy, SigningServiceConfig, TlsListenerConfig,
};
pub use mail::{MailConfig, RawMail, SmtpConfig, SmtpSecurity};

pub use ldap::{
    ConflictRule, LdapAttributes, LdapDirectoryConfig, LdapPreset, PasswordChange, RawLdapAttributes, RawLdapDirectory,
};

use validate::{
    check_database_url, secret_with_file, validate_issuer, validate_log, validate_oidc, validate_password,
    validate_web, validate_webauthn,
};
pub use validate::{check_issuer, is_loopback};

/// The configuration as written by the operator; every field optional with a documented default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub issuer: Option<String>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub database_url_file: Option<PathBuf>,
    pub keys_dir: Option<PathBuf>,
    pub kek: Option<String>,
    pub kek_file: Option<PathBuf>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    #[serde(default)]
    pub web: RawWeb,
    #[serde(default)]
    pub oidc: RawOidc,
    #[serde(default)]
    pub password: RawPassword,
    #[serde(default)]
    pub webauthn: RawWebauthn,
    #[serde(default)]
    pub key_rotation: RawKeyRotation,
    /// `[ldap.<name>]`: directories people and passwords come from.
    #[serde(default)]
    pub ldap: std::collections::BTreeMap<String, RawLdapDirectory>,
    #[serde(default)]
    pub metrics: RawMetrics,
    #[serde(default)]
    pub audit: RawAudit,
    #[serde(default)]
    pub reports: RawReports,
    #[serde(default)]
    pub backup: RawBackup,
    #[serde(default)]
    pub certificates: RawCertificates,
    #[serde(default)]
    pub mail: RawMail,
}

/// `[reports]`: the monthly report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReports {
    pub monthly: Option<bool>,
    pub utc_offset_hours: Option<i32>,
}

/// The monthly report: made by itself after each month (`monthly`), months counted at
/// `utc_offset_hours` (7: WIB, 8: WITA, 9: WIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportsConfig {
    pub monthly: bool,
    pub utc_offset_hours: i32,
}

/// `[audit]`: signed checkpoints of the audit chain.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    pub checkpoint_minutes: Option<u32>,
}

/// How often the audit chain's head is signed (`None`: only `pintu audit checkpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditConfig {
    pub checkpoint_every: Option<std::time::Duration>,
}

/// `[metrics]`: where Prometheus scrapes `/metrics`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<String>,
}

/// Metrics are served only on their own listener (loopback by default): never beside the
/// public pages, where they would tell anyone how busy each route is and how logins fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `None`: no metrics listener (`listen = ""`).
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeyRotation {
    pub rotate_after_days: Option<u32>,
    pub publish_hours: Option<u32>,
}

/// When the token-signing keys rotate: a next key is published `publish_for` seconds before it
/// signs; a rotation starts by itself once the active key is `rotate_after` seconds old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRotationConfig {
    /// `None`: only `pintu keys rotate` starts one.
    pub rotate_after: Option<i64>,
    pub publish_for: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebauthn {
    pub rp_id: Option<String>,
    pub rp_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    pub theme: Option<String>,
    pub themes_dir: Option<PathBuf>,
    pub default_locale: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub max_import_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    pub code_ttl_secs: Option<i64>,
    pub access_token_ttl_secs: Option<i64>,
    pub id_token_ttl_secs: Option<i64>,
    pub refresh_token_ttl_secs: Option<i64>,
    pub refresh_grace_secs: Option<i64>,
    pub session_ttl_secs: Option<i64>,
    pub interaction_ttl_secs: Option<i64>,
    pub open_registration: Option<bool>,
    #[serde(default)]
    pub jwks_uri: RawJwksUri,
}

/// `[oidc.jwks_uri]`: fetching the JWK Sets applications register by reference.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwksUri {
    pub timeout_secs: Option<u64>,
    pub max_bytes: Option<usize>,
    pub cache_secs: Option<i64>,
    pub allow_private_addresses: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPassword {
    pub memory_kib: Option<u32>,
    pub iterations: Option<u32>,
    pub parallelism: Option<u32>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: SecretString,
    pub keys_dir: PathBuf,
    /// The key-encryption key given directly (base64url); otherwise it lives in `keys_dir`.
    pub kek: Option<SecretString>,
    pub log: LogConfig,
    pub web: WebConfig,
    pub oidc: OidcConfig,
    pub password: PasswordConfig,
    pub webauthn: WebauthnConfig,
    pub key_rotation: KeyRotationConfig,
    pub ldap: Vec<LdapDirectoryConfig>,
    pub metrics: MetricsConfig,
    pub audit: AuditConfig,
    pub reports: ReportsConfig,
    pub backup: BackupConfig,
    pub certificates: CertificatesConfig,
    pub mail: MailConfig,
    /// This configuration as TOML without its secrets (a backup carries it).
    pub without_secrets: String,
}

/// The WebAuthn relying party: passkeys are scoped to `rp_id` (the issuer's host or a parent
/// domain of it) and accepted only from the issuer's origin. `None` when the issuer is an IP
/// address, which browsers refuse as an RP ID: passkeys are then unavailable.
#[derive(Debug, Clone)]
pub struct WebauthnConfig {
    pub rp_id: Option<String>,
    pub rp_name: String,
    pub origin: Url,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// What the web layer needs: pages, cookies and limits.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub issuer: Url,
    pub theme: String,
    pub themes_dir: PathBuf,
    pub default_locale: String,
    pub max_body_bytes: usize,
    /// Largest HR export accepted by `POST /api/v1/imports`.
    pub max_import_bytes: usize,
    pub request_timeout_secs: u64,
    /// Cookies carry `Secure` unless the issuer is a plain-http loopback address.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for audit events and
    /// per-address login throttling). Empty: the peer address is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// What the OAuth 2.0 / OIDC core needs.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer identifier, without a trailing slash (OIDC Discovery §4.3).
    pub issuer: String,
    pub code_ttl: i64,
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    pub refresh_token_ttl: i64,
    /// Seconds after a rotation during which the previous refresh token is still answered
    /// (with the current one) instead of revoking the family; 0 turns this off.
    pub refresh_grace: i64,
    pub session_ttl: i64,
    pub interaction_ttl: i64,
    /// RFC 7591 §3: registration without an initial access token (development only).
    pub open_registration: bool,
    pub jwks_uri: JwksUriConfig,
}

/// How Pintu fetches an application's `jwks_uri` (RFC 7591 §2): the fetch is a request to a
/// URL an outsider chose, so it is bounded in time and size and kept off internal addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUriConfig {
    /// For the whole fetch: connecting, TLS, headers and body.
    pub timeout: std::time::Duration,
    /// Largest JWK Set accepted, in bytes.
    pub max_bytes: usize,
    /// How long a fetched set is used before it is fetched again.
    pub cache_secs: i64,
    /// Fetch from private (RFC 1918, unique-local) and loopback addresses too.
    /// Link-local addresses (cloud metadata services) are refused regardless.
    pub allow_private_addresses: bool,
    /// Plain http to a loopback host; only when the issuer itself is a plain-http loopback
    /// address (development and tests).
    pub allow_http_loopback: bool,
}

/// The most argon2id memory a password hash may ask for (1 GiB): the configuration may not
/// set more, and a stored hash asking for more is refused as tampered. A configured cost above
/// it would rewrite each person's hash at login with parameters no login could then verify.
pub const MAX_PASSWORD_MEMORY_KIB: u32 = 1024 * 1024;

/// argon2id cost (OWASP: m=19 MiB, t=2, p=1 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// One thing wrong with the configuration, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

pub(crate) fn problem(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError { key: key.to_owned(), problem: problem.into() }
}

impl RawConfig {
    /// Layers `pintu.toml` (if `path` exists or was given) and `PINTU_*` variables.
    pub fn load(path: Option<&Path>) -> Result<Self, Vec<ConfigError>> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        match path {
            Some(p) if !p.exists() => {
                return Err(vec![problem("config", format!("file {} does not exist", p.display()))]);
            }
            Some(p) => figment = figment.merge(Toml::file_exact(p)),
            None => figment = figment.merge(Toml::file("pintu.toml")),
        }
        figment = figment.merge(Env::prefixed("PINTU_").split("__").ignore(&["config"]));
        figment.extract().map_err(|e| e.into_iter().map(|e| problem("config", e.to_string())).collect())
    }

    /// Checks every field and produces the typed configuration, or every problem found.
    pub fn validate(self) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let without_secrets = self.without_secrets();
        let backup = backup::validate_backup(self.backup, &mut errors);
        let issuer = validate_issuer(self.issuer.as_deref(), &mut errors);
        let listen = self.listen.as_deref().unwrap_or("127.0.0.1:8080").parse::<SocketAddr>();
        let listen = listen.unwrap_or_else(|e| {
            errors.push(problem("listen", format!("not a socket address: {e}")));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let database_url =
            secret_with_file("database_url", self.database_url, self.database_url_file.as_deref(), &mut errors)
                .unwrap_or_else(|| "sqlite://data/pintu.db".to_owned());
        check_database_url(&database_url, &mut errors);
        let kek = secret_with_file("kek", self.kek, self.kek_file.as_deref(), &mut errors);
        let log = validate_log(self.log_format.as_deref(), self.log_level, &mut errors);
        let certificates = certificates::validate_certificates(self.certificates, &issuer, &mut errors);
        let web = validate_web(self.web, &issuer, &mut errors);
        let oidc = validate_oidc(self.oidc, &issuer, &mut errors);
        let password = validate_password(self.password, &mut errors);
        let webauthn = validate_webauthn(self.webauthn, &issuer, &mut errors);
        let key_rotation = validate::validate_key_rotation(self.key_rotation, &mut errors);
        let ldap = ldap::validate_ldap(self.ldap, &mut errors);
        let (audit, reports, metrics) =
            validate::validate_operations(self.audit, self.reports, self.metrics, &mut errors);
        let mail = mail::validate_mail(self.mail, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            listen,
            database_url: SecretString::from(database_url),
            keys_dir: self.keys_dir.unwrap_or_else(|| PathBuf::from("keys")),
            kek: kek.map(SecretString::from),
            log,
            web,
            oidc,
            password,
            webauthn,
            key_rotation,
            ldap,
            metrics,
            audit,
            reports,
            backup,
            certificates,
            mail,
            without_secrets,
        })
    }
}

#[cfg(test)]
mod tests;
