//! `[mail]`: the SMTP server Pintu sends e-mail through (password reset links, activation
//! links, notices of password and factor changes). Without `smtp_host`, Pintu sends none and the
//! pages that would say so.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{ConfigError, problem, validate::secret_with_file};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMail {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// starttls (default), tls, or none (only to a server on this machine).
    pub security: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Pintu <sso@kab.go.id>`.
    pub from: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Tls,
    /// Plain SMTP, allowed only to a loopback host (a local relay, a test sink).
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, SecretString)>,
    pub from: String,
}

/// `None` when no SMTP server is configured.
#[derive(Debug, Clone, Default)]
pub struct MailConfig {
    pub smtp: Option<SmtpConfig>,
}

pub(super) fn validate_mail(raw: RawMail, errors: &mut Vec<ConfigError>) -> MailConfig {
    let password = secret_with_file("mail.password", raw.password, raw.password_file.as_deref(), errors);
    let Some(host) = raw.smtp_host.filter(|h| !h.is_empty()) else { return MailConfig::default() };
    let security = match raw.security.as_deref().unwrap_or("starttls") {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::None,
        other => {
            errors.push(problem("mail.security", format!("{other}: must be starttls, tls or none")));
            SmtpSecurity::StartTls
        }
    };
    if security == SmtpSecurity::None && !matches!(host.as_str(), "127.0.0.1" | "localhost" | "::1") {
        errors.push(problem("mail.security", "none (plain SMTP) is only for a server on this machine"));
    }
    let port = raw.smtp_port.unwrap_or(match security {
        SmtpSecurity::Tls => 465,
        _ => 587,
    });
    let Some(from) = raw.from.filter(|f| f.contains('@')) else {
        errors.push(problem("mail.from", "the sender address is required, e.g. \"Pintu <sso@kab.go.id>\""));
        return MailConfig::default();
    };
    let credentials = match (raw.username, password) {
        (Some(user), Some(pass)) => Some((user, SecretString::from(pass))),
        (None, None) => None,
        _ => {
            errors.push(problem("mail.username", "username and password go together"));
            None
        }
    };
    MailConfig { smtp: Some(SmtpConfig { host, port, security, credentials, from }) }
}
