//! `[backup]`: scheduled backups into a directory (an external disk's mount point), and the
//! configuration a backup carries, without its secrets.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, RawConfig, problem};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackup {
    pub directory: Option<PathBuf>,
    pub every_hours: Option<u32>,
    pub keep: Option<u32>,
    /// age public keys (`age1…`); the matching private key stays off the server.
    pub recipients: Option<Vec<String>>,
    pub passphrase_file: Option<PathBuf>,
    pub include_kek: Option<bool>,
}

/// Scheduled backups: every `every_hours` into `directory`, the newest `keep` kept, each
/// encrypted to `recipients` or with the passphrase in `passphrase_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// `None`: no scheduled backups (`pintu backup` still works).
    pub directory: Option<PathBuf>,
    pub every: std::time::Duration,
    pub keep: u32,
    pub recipients: Vec<String>,
    pub passphrase_file: Option<PathBuf>,
    /// Whether archives carry the key-encryption key (so they restore on a new machine).
    pub include_kek: bool,
}

pub(super) fn validate_backup(raw: RawBackup, errors: &mut Vec<ConfigError>) -> BackupConfig {
    let every_hours = raw.every_hours.unwrap_or(24);
    if !(1..=24 * 31).contains(&every_hours) {
        errors.push(problem("backup.every_hours", "must be 1 to 744 (31 days)"));
    }
    let keep = raw.keep.unwrap_or(7);
    if keep == 0 {
        errors.push(problem("backup.keep", "must be at least 1"));
    }
    let recipients = raw.recipients.unwrap_or_default();
    for r in &recipients {
        if !r.starts_with("age1") {
            errors.push(problem("backup.recipients", format!("{r:?} is not an age public key (age1…)")));
        }
    }
    if raw.directory.is_some() && recipients.is_empty() == raw.passphrase_file.is_none() {
        errors.push(problem(
            "backup",
            "scheduled backups need exactly one of recipients (age public keys) or passphrase_file",
        ));
    }
    BackupConfig {
        directory: raw.directory,
        every: std::time::Duration::from_secs(u64::from(every_hours) * 3600),
        keep,
        recipients,
        passphrase_file: raw.passphrase_file,
        include_kek: raw.include_kek.unwrap_or(true),
    }
}

/// A database URL with its password replaced by `***`, for messages and backups.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl RawConfig {
    /// The configuration as TOML without its secrets (the database password, the KEK, LDAP
    /// bind passwords; the files that hold secrets are named, not read), for backups.
    pub fn without_secrets(&self) -> String {
        let mut copy = self.clone();
        copy.database_url = copy.database_url.as_deref().map(redact_url);
        copy.kek = None;
        for directory in copy.ldap.values_mut() {
            directory.bind_password = None;
        }
        toml::to_string(&copy).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_carries_the_configuration_without_its_secrets() {
        let raw: RawConfig = toml::from_str(
            r#"
            database_url = "postgres://pintu:rahasia-db@127.0.0.1/pintu"
            kek = "c2VjcmV0LWtlay1zZWNyZXQta2VrLXNlY3JldC1rZWs"
            [ldap.kominfo]
            url = "ldaps://ldap.example"
            bind_password = "rahasia-ldap"
            "#,
        )
        .unwrap();
        let text = raw.without_secrets();
        assert!(!text.contains("rahasia") && !text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("postgres://pintu:***@127.0.0.1/pintu") && text.contains("ldaps://ldap.example"));
    }

    #[test]
    fn scheduled_backups_need_one_way_to_encrypt() {
        let mut errors = Vec::new();
        let raw = RawBackup { directory: Some("/mnt/backup".into()), ..Default::default() };
        validate_backup(raw, &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let mut errors = Vec::new();
        let raw = RawBackup {
            directory: Some("/mnt/backup".into()),
            recipients: Some(vec!["age1abc".into(), "ssh-ed25519 AAAA".into()]),
            keep: Some(0),
            ..Default::default()
        };
        validate_backup(raw, &mut errors);
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["backup.keep", "backup.recipients"]);
    }
}
