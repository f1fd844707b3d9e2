//! Configuration: serde layers (defaults, `pintu.toml`, `PINTU_*` environment) parsed into a
//! `RawConfig`, then validated into a typed `Config` with one sub-config per module.
//!
//! Every problem is collected, so an operator sees all of them at once (STYLE.md §5).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

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
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    pub theme: Option<String>,
    pub themes_dir: Option<PathBuf>,
    pub default_locale: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    pub code_ttl_secs: Option<i64>,
    pub access_token_ttl_secs: Option<i64>,
    pub id_token_ttl_secs: Option<i64>,
    pub refresh_token_ttl_secs: Option<i64>,
    pub session_ttl_secs: Option<i64>,
    pub interaction_ttl_secs: Option<i64>,
    pub open_registration: Option<bool>,
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
    pub request_timeout_secs: u64,
    /// Cookies carry `Secure` unless the issuer is a plain-http loopback address.
    pub secure_cookies: bool,
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
    pub session_ttl: i64,
    pub interaction_ttl: i64,
    /// RFC 7591 §3: registration without an initial access token (development only).
    pub open_registration: bool,
}

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

fn problem(key: &str, problem: impl Into<String>) -> ConfigError {
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
        })
    }
}

fn default_issuer() -> Url {
    #[allow(clippy::expect_used)]
    Url::parse("http://127.0.0.1:8080").expect("the default issuer literal is a valid URL")
}

fn validate_issuer(value: Option<&str>, errors: &mut Vec<ConfigError>) -> Url {
    let Some(raw) = value else { return default_issuer() };
    match Url::parse(raw) {
        Ok(url) => {
            if let Err(msg) = check_issuer(&url) {
                errors.push(problem("issuer", msg));
            }
            url
        }
        Err(e) => {
            errors.push(problem("issuer", format!("not a URL: {e}")));
            default_issuer()
        }
    }
}

/// OIDC Discovery §3: the issuer is an https URL without query or fragment. Plain http is
/// accepted for loopback hosts only, for development and tests.
pub fn check_issuer(url: &Url) -> Result<(), String> {
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not contain a query or fragment".to_owned());
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err("plain http is only allowed for loopback issuers; use https".to_owned()),
        other => Err(format!("scheme {other} is not allowed; use https")),
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn secret_with_file(
    key: &str,
    value: Option<String>,
    file: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    match (value, file) {
        (Some(_), Some(_)) => {
            errors.push(problem(key, format!("set either {key} or {key}_file, not both")));
            None
        }
        (Some(v), None) => Some(v),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(content) => Some(content.trim_end_matches(['\r', '\n']).to_owned()),
            Err(e) => {
                errors.push(problem(&format!("{key}_file"), format!("cannot read {}: {e}", path.display())));
                None
            }
        },
        (None, None) => None,
    }
}

fn check_database_url(url: &str, errors: &mut Vec<ConfigError>) {
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|p| url.starts_with(p)) {
        errors.push(problem("database_url", "must start with sqlite:, postgres:// or postgresql://"));
    }
}

fn validate_log(format: Option<&str>, level: Option<String>, errors: &mut Vec<ConfigError>) -> LogConfig {
    let format = match format.unwrap_or("human") {
        "human" => LogFormat::Human,
        "json" => LogFormat::Json,
        other => {
            errors.push(problem("log_format", format!("{other:?} is not one of human, json")));
            LogFormat::Human
        }
    };
    let level = level.unwrap_or_else(|| "info".to_owned());
    if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
        errors.push(problem("log_level", format!("{level:?} is not a valid filter")));
    }
    LogConfig { format, level }
}

fn validate_web(raw: RawWeb, issuer: &Url, errors: &mut Vec<ConfigError>) -> WebConfig {
    let default_locale = raw.default_locale.unwrap_or_else(|| "id".to_owned());
    if !["id", "en"].contains(&default_locale.as_str()) {
        errors.push(problem("web.default_locale", "must be id or en"));
    }
    let max_body_bytes = raw.max_body_bytes.unwrap_or(64 * 1024);
    if !(1024..=10 * 1024 * 1024).contains(&max_body_bytes) {
        errors.push(problem("web.max_body_bytes", "must be between 1024 and 10485760"));
    }
    let theme = raw.theme.unwrap_or_else(|| "default".to_owned());
    if theme.is_empty() || !theme.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        errors.push(problem("web.theme", "must be a name of letters, digits, - or _"));
    }
    WebConfig {
        issuer: issuer.clone(),
        theme,
        themes_dir: raw.themes_dir.unwrap_or_else(|| PathBuf::from("themes")),
        default_locale,
        max_body_bytes,
        request_timeout_secs: raw.request_timeout_secs.unwrap_or(30),
        secure_cookies: issuer.scheme() == "https",
    }
}

fn positive(key: &str, value: Option<i64>, default: i64, errors: &mut Vec<ConfigError>) -> i64 {
    let v = value.unwrap_or(default);
    if v <= 0 {
        errors.push(problem(key, "must be a positive number of seconds"));
    }
    v
}

fn validate_oidc(raw: RawOidc, issuer: &Url, errors: &mut Vec<ConfigError>) -> OidcConfig {
    let code_ttl = positive("oidc.code_ttl_secs", raw.code_ttl_secs, 60, errors);
    if code_ttl > 600 {
        // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
        errors.push(problem("oidc.code_ttl_secs", "must be at most 600 (RFC 6749 §4.1.2)"));
    }
    OidcConfig {
        issuer: issuer.as_str().trim_end_matches('/').to_owned(),
        code_ttl,
        access_token_ttl: positive("oidc.access_token_ttl_secs", raw.access_token_ttl_secs, 600, errors),
        id_token_ttl: positive("oidc.id_token_ttl_secs", raw.id_token_ttl_secs, 600, errors),
        refresh_token_ttl: positive("oidc.refresh_token_ttl_secs", raw.refresh_token_ttl_secs, 30 * 86400, errors),
        session_ttl: positive("oidc.session_ttl_secs", raw.session_ttl_secs, 8 * 3600, errors),
        interaction_ttl: positive("oidc.interaction_ttl_secs", raw.interaction_ttl_secs, 900, errors),
        open_registration: raw.open_registration.unwrap_or(false),
    }
}

fn validate_password(raw: RawPassword, errors: &mut Vec<ConfigError>) -> PasswordConfig {
    let cfg = PasswordConfig {
        memory_kib: raw.memory_kib.unwrap_or(19 * 1024),
        iterations: raw.iterations.unwrap_or(2),
        parallelism: raw.parallelism.unwrap_or(1),
    };
    if cfg.memory_kib < 8 * 1024 {
        errors.push(problem("password.memory_kib", "must be at least 8192 (OWASP minimum is 19456 with t=2)"));
    }
    if cfg.iterations == 0 || cfg.parallelism == 0 {
        errors.push(problem("password", "iterations and parallelism must be at least 1"));
    }
    cfg
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
    fn secret_and_its_file_together_are_rejected() {
        let raw = RawConfig {
            database_url: Some("sqlite::memory:".into()),
            database_url_file: Some("/dev/null".into()),
            ..Default::default()
        };
        assert_eq!(raw.validate().unwrap_err()[0].key, "database_url");
    }
}
