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

mod ldap;
mod validate;

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
        let web = validate_web(self.web, &issuer, &mut errors);
        let oidc = validate_oidc(self.oidc, &issuer, &mut errors);
        let password = validate_password(self.password, &mut errors);
        let webauthn = validate_webauthn(self.webauthn, &issuer, &mut errors);
        let key_rotation = validate::validate_key_rotation(self.key_rotation, &mut errors);
        let ldap = ldap::validate_ldap(self.ldap, &mut errors);
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_configuration_is_valid_and_uses_loopback_defaults() {
        let cfg = RawConfig::default().validate().unwrap();
        assert_eq!(cfg.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cfg.oidc.issuer, "http://127.0.0.1:8080");
        assert!(!cfg.web.secure_cookies);
    }

    #[test]
    fn a_jwks_cache_shorter_than_the_refetch_interval_is_rejected() {
        let mut raw = RawConfig::default();
        raw.oidc.jwks_uri.cache_secs = Some(10);
        let errors = raw.validate().unwrap_err();
        assert_eq!(errors[0].key, "oidc.jwks_uri.cache_secs");
    }

    #[test]
    fn a_password_cost_no_login_could_verify_is_rejected() {
        let with = |kib: u32| {
            let mut raw = RawConfig::default();
            raw.password.memory_kib = Some(kib);
            raw.validate()
        };
        assert_eq!(with(MAX_PASSWORD_MEMORY_KIB + 1).unwrap_err()[0].key, "password.memory_kib");
        assert!(with(MAX_PASSWORD_MEMORY_KIB).is_ok(), "1 GiB itself is allowed");
    }

    #[test]
    fn key_rotation_must_leave_a_next_key_its_publication_time() {
        let with = |days: u32, hours: u32| {
            let key_rotation = RawKeyRotation { rotate_after_days: Some(days), publish_hours: Some(hours) };
            RawConfig { key_rotation, ..Default::default() }.validate().map(|c| c.key_rotation)
        };
        assert_eq!(with(90, 24).unwrap().rotate_after, Some(90 * 86400));
        assert_eq!(with(0, 24).unwrap().rotate_after, None, "0: only on command");
        assert_eq!(with(1, 24).unwrap_err()[0].key, "key_rotation.rotate_after_days");
        assert_eq!(with(90, 0).unwrap_err()[0].key, "key_rotation.publish_hours");
        assert_eq!(with(90, 721).unwrap_err()[0].key, "key_rotation.publish_hours");
        assert!(with(90, 720).is_ok(), "30 days itself is allowed");
        let defaults = RawConfig::default().validate().unwrap().key_rotation;
        assert_eq!((defaults.rotate_after, defaults.publish_for), (Some(90 * 86400), 24 * 3600));
    }

    #[test]
    fn plain_http_issuer_outside_loopback_is_rejected() {
        let raw = RawConfig { issuer: Some("http://sso.example.go.id".into()), ..Default::default() };
        let errors = raw.validate().unwrap_err();
        assert_eq!(errors[0].key, "issuer");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let raw = RawConfig {
            listen: Some("nope".into()),
            log_format: Some("xml".into()),
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        let keys: Vec<String> = raw.validate().unwrap_err().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, vec!["listen", "database_url", "log_format"]);
    }

    #[test]
    fn secret_is_read_from_its_file() {
        let path = std::env::temp_dir().join(format!("pintu-db-url-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, "postgres://pintu@127.0.0.1/pintu\n").unwrap();
        let raw = RawConfig { database_url_file: Some(path.clone()), ..Default::default() };
        let cfg = raw.validate().unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(cfg.database_url.expose_secret(), "postgres://pintu@127.0.0.1/pintu");
        std::fs::remove_file(path).unwrap();
        let missing = RawConfig { kek_file: Some("/nonexistent/kek".into()), ..Default::default() };
        assert_eq!(missing.validate().unwrap_err()[0].key, "kek_file");
    }

    #[test]
    fn secret_and_its_file_together_are_rejected() {
        let raw = RawConfig {
            database_url: Some("sqlite::memory:".into()),
            database_url_file: Some("/dev/null".into()),
            ..Default::default()
        };
        assert_eq!(raw.validate().unwrap_err()[0].key, "database_url");
    }
}
