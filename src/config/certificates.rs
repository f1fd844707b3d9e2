//! `[certificates]`: electronic certificates (sertifikat elektronik), level 4, and Pintu's own
//! TLS listener that asks browsers for a client certificate.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, problem};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCertificates {
    /// PEM bundles of the trusted CAs (roots and intermediates).
    pub trust_anchors: Option<Vec<PathBuf>>,
    /// What identifies the person in a certificate: any of nip, nik, email.
    pub identify_by: Option<Vec<String>>,
    /// The header a trusted reverse proxy forwards the client certificate in
    /// (nginx: `$ssl_client_escaped_cert`). Unset: no forwarded certificates.
    pub forwarded_header: Option<String>,
    /// hard (default: a certificate whose revocation status cannot be learnt does not count)
    /// or soft (it does; the failure is logged and audited).
    pub revocation: Option<String>,
    /// Ask this OCSP responder instead of the one each certificate names.
    pub ocsp_url: Option<String>,
    /// For each OCSP request and CRL download.
    pub ocsp_timeout_secs: Option<u64>,
    /// Check every bound certificate this often (hours; 0: only at binding and sign-in).
    pub check_every_hours: Option<u32>,
    /// Log (and report) certificates that expire within this many days.
    pub expiry_notice_days: Option<u32>,
    #[serde(default)]
    pub tls: RawTls,
    #[serde(default)]
    pub signing: RawSigning,
}

/// `[certificates.signing]`: the CA's signing service (CSC API v2), for certificates whose key
/// it holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSigning {
    /// The CSC API's base URL (…/csc/v2).
    pub url: Option<String>,
    /// A file holding Pintu's bearer token for the service.
    pub token_file: Option<PathBuf>,
    /// How the service knows the person: nik (default), nip or username.
    pub holder: Option<String>,
    /// Which API the service speaks: csc (default, CSC API v2) or bsre (BSrE e-sign).
    pub api: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningServiceConfig {
    pub url: url::Url,
    pub token_file: PathBuf,
    pub holder: String,
    /// csc or bsre.
    pub api: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationPolicy {
    Hard,
    Soft,
}

/// `[certificates.tls]`: Pintu's own HTTPS listener, asking for (not requiring) a client certificate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub listen: Option<String>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The listener's public URL, where the step-up page sends the browser (default
    /// https://<issuer host>:<port>).
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsListenerConfig {
    pub listen: SocketAddr,
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub url: url::Url,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatesConfig {
    /// Empty: certificates are off (no level 4).
    pub trust_anchors: Vec<PathBuf>,
    pub identify_by: Vec<String>,
    pub forwarded_header: Option<String>,
    pub tls: Option<TlsListenerConfig>,
    pub revocation: RevocationPolicy,
    pub ocsp_url: Option<url::Url>,
    pub ocsp_timeout: std::time::Duration,
    /// `None`: no background check.
    pub check_every: Option<std::time::Duration>,
    pub expiry_notice_days: u32,
    pub signing: Option<SigningServiceConfig>,
}

impl CertificatesConfig {
    pub fn enabled(&self) -> bool {
        !self.trust_anchors.is_empty()
    }
}

pub(super) fn validate_certificates(
    raw: RawCertificates,
    issuer: &url::Url,
    errors: &mut Vec<ConfigError>,
) -> CertificatesConfig {
    let identify_by = raw.identify_by.unwrap_or_else(|| vec!["nip".into(), "nik".into(), "email".into()]);
    for how in &identify_by {
        if !matches!(how.as_str(), "nip" | "nik" | "email") {
            errors.push(problem("certificates.identify_by", format!("{how:?} is not one of nip, nik, email")));
        }
    }
    if let Some(header) = &raw.forwarded_header
        && header_name_ok(header).is_err()
    {
        errors.push(problem("certificates.forwarded_header", "not a valid header name"));
    }
    let revocation = match raw.revocation.as_deref().unwrap_or("hard") {
        "hard" => RevocationPolicy::Hard,
        "soft" => RevocationPolicy::Soft,
        other => {
            errors.push(problem("certificates.revocation", format!("{other:?} is not hard or soft")));
            RevocationPolicy::Hard
        }
    };
    let ocsp_url = raw.ocsp_url.as_deref().and_then(|u| {
        url::Url::parse(u).map_err(|e| errors.push(problem("certificates.ocsp_url", format!("not a URL: {e}")))).ok()
    });
    let timeout = raw.ocsp_timeout_secs.unwrap_or(5);
    if !(1..=60).contains(&timeout) {
        errors.push(problem("certificates.ocsp_timeout_secs", "must be 1 to 60"));
    }
    let check_hours = raw.check_every_hours.unwrap_or(6);
    if check_hours > 24 * 7 {
        errors.push(problem("certificates.check_every_hours", "must be 0 (off) to 168 (a week)"));
    }
    let expiry_notice_days = raw.expiry_notice_days.unwrap_or(30);
    if !(1..=365).contains(&expiry_notice_days) {
        errors.push(problem("certificates.expiry_notice_days", "must be 1 to 365"));
    }
    let tls = validate_tls(raw.tls, issuer, errors);
    let signing = validate_signing(raw.signing, errors);
    let trust_anchors = raw.trust_anchors.unwrap_or_default();
    if trust_anchors.is_empty() && (tls.is_some() || raw.forwarded_header.is_some()) {
        errors.push(problem("certificates.trust_anchors", "needed for the TLS listener and forwarded certificates"));
    }
    CertificatesConfig {
        trust_anchors,
        identify_by,
        forwarded_header: raw.forwarded_header.map(|h| h.to_ascii_lowercase()),
        tls,
        revocation,
        ocsp_url,
        ocsp_timeout: std::time::Duration::from_secs(timeout),
        check_every: (check_hours > 0).then(|| std::time::Duration::from_secs(u64::from(check_hours) * 3600)),
        expiry_notice_days,
        signing,
    }
}

fn validate_signing(raw: RawSigning, errors: &mut Vec<ConfigError>) -> Option<SigningServiceConfig> {
    let url = raw.url?;
    let url = url::Url::parse(&url)
        .map_err(|e| errors.push(problem("certificates.signing.url", format!("not a URL: {e}"))))
        .ok()?;
    // The passphrase travels to the service: only over TLS, or to this machine.
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !loopback {
        errors.push(problem("certificates.signing.url", "must be https (the passphrase travels to it)"));
    }
    let Some(token_file) = raw.token_file else {
        errors.push(problem("certificates.signing", "url needs token_file (Pintu's bearer token for the service)"));
        return None;
    };
    let holder = raw.holder.unwrap_or_else(|| "nik".into());
    if !matches!(holder.as_str(), "nik" | "nip" | "username") {
        errors.push(problem("certificates.signing.holder", "must be nik, nip or username"));
    }
    let api = raw.api.unwrap_or_else(|| "csc".into());
    if !matches!(api.as_str(), "csc" | "bsre") {
        errors.push(problem("certificates.signing.api", "must be csc or bsre"));
    }
    Some(SigningServiceConfig { url, token_file, holder, api })
}

fn header_name_ok(name: &str) -> Result<(), ()> {
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(()) }
}

fn validate_tls(raw: RawTls, issuer: &url::Url, errors: &mut Vec<ConfigError>) -> Option<TlsListenerConfig> {
    let listen = raw.listen?;
    let listen = listen
        .parse::<SocketAddr>()
        .map_err(|e| errors.push(problem("certificates.tls.listen", format!("not a socket address: {e}"))))
        .ok()?;
    let (Some(certificate), Some(key)) = (raw.certificate, raw.key) else {
        errors.push(problem("certificates.tls", "listen needs certificate and key (PEM files)"));
        return None;
    };
    let default_url = format!("https://{}:{}", issuer.host_str().unwrap_or("localhost"), listen.port());
    let url = url::Url::parse(raw.url.as_deref().unwrap_or(&default_url))
        .map_err(|e| errors.push(problem("certificates.tls.url", format!("not a URL: {e}"))))
        .ok()?;
    Some(TlsListenerConfig { listen, certificate, key, url })
}
