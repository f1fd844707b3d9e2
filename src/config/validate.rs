//! Validation of each configuration section: every problem is pushed, none stops the others.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use url::Url;

use super::{
    ConfigError, JwksUriConfig, KeyRotationConfig, LogConfig, LogFormat, OidcConfig, PasswordConfig, RawJwksUri,
    RawKeyRotation, RawOidc, RawPassword, RawWeb, RawWebauthn, WebConfig, WebauthnConfig, problem,
};

fn default_issuer() -> Url {
    #[allow(clippy::expect_used)]
    Url::parse("http://127.0.0.1:8080").expect("the default issuer literal is a valid URL")
}

pub(super) fn validate_issuer(value: Option<&str>, errors: &mut Vec<ConfigError>) -> Url {
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

pub(super) fn secret_with_file(
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

pub(super) fn check_database_url(url: &str, errors: &mut Vec<ConfigError>) {
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|p| url.starts_with(p)) {
        errors.push(problem("database_url", "must start with sqlite:, postgres:// or postgresql://"));
    }
}

pub(super) fn validate_log(format: Option<&str>, level: Option<String>, errors: &mut Vec<ConfigError>) -> LogConfig {
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

pub(super) fn validate_web(raw: RawWeb, issuer: &Url, errors: &mut Vec<ConfigError>) -> WebConfig {
    let default_locale = raw.default_locale.unwrap_or_else(|| "id".to_owned());
    if !["id", "en"].contains(&default_locale.as_str()) {
        errors.push(problem("web.default_locale", "must be id or en"));
    }
    let max_body_bytes = raw.max_body_bytes.unwrap_or(64 * 1024);
    if !(1024..=10 * 1024 * 1024).contains(&max_body_bytes) {
        errors.push(problem("web.max_body_bytes", "must be between 1024 and 10485760"));
    }
    let max_import_bytes = raw.max_import_bytes.unwrap_or(64 * 1024 * 1024);
    if !(1024..=1024 * 1024 * 1024).contains(&max_import_bytes) {
        errors.push(problem("web.max_import_bytes", "must be between 1024 and 1073741824"));
    }
    let request_timeout_secs = raw.request_timeout_secs.unwrap_or(30);
    if !(1..=3600).contains(&request_timeout_secs) {
        errors.push(problem("web.request_timeout_secs", "must be between 1 and 3600"));
    }
    let mut trusted_proxies = Vec::new();
    for p in raw.trusted_proxies.unwrap_or_default() {
        match p.parse::<std::net::IpAddr>() {
            Ok(ip) => trusted_proxies.push(ip),
            Err(_) => errors.push(problem("web.trusted_proxies", "must be a list of IP addresses")),
        }
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
        max_import_bytes,
        request_timeout_secs,
        secure_cookies: issuer.scheme() == "https",
        trusted_proxies,
    }
}

fn positive(key: &str, value: Option<i64>, default: i64, errors: &mut Vec<ConfigError>) -> i64 {
    let v = value.unwrap_or(default);
    if v <= 0 {
        errors.push(problem(key, "must be a positive number of seconds"));
    }
    v
}

/// The refresh-token grace period: 0 (off) up to a minute. Longer would let a stolen token be
/// used beside the rightful one for longer without tripping reuse detection (RFC 9700 §4.14.2).
fn refresh_grace(value: Option<i64>, errors: &mut Vec<ConfigError>) -> i64 {
    let v = value.unwrap_or(5);
    if !(0..=60).contains(&v) {
        errors.push(problem("oidc.refresh_grace_secs", "must be between 0 (off) and 60 seconds"));
    }
    v
}

pub(super) fn validate_oidc(raw: RawOidc, issuer: &Url, errors: &mut Vec<ConfigError>) -> OidcConfig {
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
        refresh_grace: refresh_grace(raw.refresh_grace_secs, errors),
        session_ttl: positive("oidc.session_ttl_secs", raw.session_ttl_secs, 8 * 3600, errors),
        interaction_ttl: positive("oidc.interaction_ttl_secs", raw.interaction_ttl_secs, 900, errors),
        open_registration: raw.open_registration.unwrap_or(false),
        jwks_uri: validate_jwks_uri(raw.jwks_uri, issuer, errors),
    }
}

fn validate_jwks_uri(raw: RawJwksUri, issuer: &Url, errors: &mut Vec<ConfigError>) -> JwksUriConfig {
    let timeout_secs = raw.timeout_secs.unwrap_or(5);
    if !(1..=60).contains(&timeout_secs) {
        errors.push(problem("oidc.jwks_uri.timeout_secs", "must be between 1 and 60"));
    }
    let max_bytes = raw.max_bytes.unwrap_or(64 * 1024);
    if !(1024..=1024 * 1024).contains(&max_bytes) {
        errors.push(problem("oidc.jwks_uri.max_bytes", "must be between 1024 and 1048576"));
    }
    let cache_secs = raw.cache_secs.unwrap_or(300);
    // At least the refetch interval (30 s, `keys::REFETCH_INTERVAL_SECS`): a set must not
    // expire while a new fetch is still refused, or a client would be locked out meanwhile.
    if !(30..=86400).contains(&cache_secs) {
        errors.push(problem("oidc.jwks_uri.cache_secs", "must be between 30 and 86400"));
    }
    JwksUriConfig {
        timeout: std::time::Duration::from_secs(timeout_secs),
        max_bytes,
        cache_secs,
        allow_private_addresses: raw.allow_private_addresses.unwrap_or(false),
        allow_http_loopback: issuer.scheme() == "http" && is_loopback(issuer),
    }
}

pub(super) fn validate_password(raw: RawPassword, errors: &mut Vec<ConfigError>) -> PasswordConfig {
    let cfg = PasswordConfig {
        memory_kib: raw.memory_kib.unwrap_or(19 * 1024),
        iterations: raw.iterations.unwrap_or(2),
        parallelism: raw.parallelism.unwrap_or(1),
    };
    if cfg.memory_kib < 8 * 1024 {
        errors.push(problem("password.memory_kib", "must be at least 8192 (OWASP minimum is 19456 with t=2)"));
    }
    if cfg.memory_kib > super::MAX_PASSWORD_MEMORY_KIB {
        let most = super::MAX_PASSWORD_MEMORY_KIB;
        errors.push(problem("password.memory_kib", format!("must be at most {most} (1 GiB)")));
    }
    if cfg.iterations == 0 || cfg.parallelism == 0 {
        errors.push(problem("password", "iterations and parallelism must be at least 1"));
    }
    cfg
}

/// The RP ID defaults to the issuer's host; a configured one must be that host or a parent
/// domain of it (WebAuthn §5.1.3: a registrable domain suffix of the origin's effective
/// domain).
pub(super) fn validate_webauthn(raw: RawWebauthn, issuer: &Url, errors: &mut Vec<ConfigError>) -> WebauthnConfig {
    let host = issuer.domain().map(str::to_ascii_lowercase);
    let rp_id = match (raw.rp_id.map(|r| r.to_ascii_lowercase()), &host) {
        (Some(id), Some(host)) if host == &id || host.ends_with(&format!(".{id}")) => Some(id),
        (Some(_), Some(_)) => {
            errors.push(problem("webauthn.rp_id", "must be the issuer's host name or a parent domain of it"));
            None
        }
        (Some(_), None) => {
            errors.push(problem("webauthn.rp_id", "passkeys need an issuer with a host name, not an IP address"));
            None
        }
        (None, host) => host.clone(),
    };
    let rp_name = raw.rp_name.unwrap_or_else(|| "Pintu".to_owned());
    if rp_name.trim().is_empty() || rp_name.len() > 64 {
        errors.push(problem("webauthn.rp_name", "must be 1 to 64 characters"));
    }
    let mut origin = issuer.clone();
    origin.set_path("");
    WebauthnConfig { rp_id, rp_name, origin }
}

/// A next key is published at least an hour (relying parties cache the JWK Set; Pintu says five
/// minutes, libraries often keep it longer) and at most 30 days before it signs; automatic
/// rotation every `rotate_after_days` (default 90, 0 for only on command) must leave the next
/// key its publication time.
pub(super) fn validate_key_rotation(raw: RawKeyRotation, errors: &mut Vec<ConfigError>) -> KeyRotationConfig {
    let publish_hours = raw.publish_hours.unwrap_or(24);
    let rotate_after_days = raw.rotate_after_days.unwrap_or(90);
    if !(1..=720).contains(&publish_hours) {
        errors.push(problem("key_rotation.publish_hours", "must be 1 to 720 (30 days)"));
    }
    let (publish_for, rotate_after) = (i64::from(publish_hours) * 3600, i64::from(rotate_after_days) * 86400);
    if rotate_after_days > 0 && rotate_after <= publish_for {
        errors.push(problem(
            "key_rotation.rotate_after_days",
            "must leave longer than publish_hours (or be 0: only on command)",
        ));
    }
    KeyRotationConfig { rotate_after: (rotate_after_days > 0).then_some(rotate_after), publish_for }
}

/// `[audit]`, `[reports]` and `[metrics]`.
pub(super) fn validate_operations(
    audit: super::RawAudit,
    reports: super::RawReports,
    metrics: super::RawMetrics,
    errors: &mut Vec<ConfigError>,
) -> (super::AuditConfig, super::ReportsConfig, super::MetricsConfig) {
    let checkpoint_minutes = audit.checkpoint_minutes.unwrap_or(60);
    if checkpoint_minutes > 1440 {
        errors.push(problem("audit.checkpoint_minutes", "must be 0 (off) to 1440 (a day)"));
    }
    let audit_config = super::AuditConfig {
        checkpoint_every: (checkpoint_minutes > 0)
            .then(|| std::time::Duration::from_secs(u64::from(checkpoint_minutes) * 60)),
    };
    let reports_config = super::ReportsConfig {
        monthly: reports.monthly.unwrap_or(true),
        utc_offset_hours: reports.utc_offset_hours.unwrap_or(7),
    };
    if !(-12..=14).contains(&reports_config.utc_offset_hours) {
        errors.push(problem("reports.utc_offset_hours", "must be -12 to 14 (7: WIB, 8: WITA, 9: WIT)"));
    }
    let metrics_config = match metrics.listen.as_deref().unwrap_or("127.0.0.1:9464") {
        "" => super::MetricsConfig { listen: None },
        text => super::MetricsConfig {
            listen: text
                .parse::<std::net::SocketAddr>()
                .map_err(|e| errors.push(problem("metrics.listen", format!("not a socket address: {e}"))))
                .ok(),
        },
    };
    (audit_config, reports_config, metrics_config)
}
