//! `[ldap.<name>]`: the LDAP directories people and passwords come from. Each is validated
//! into an `LdapDirectoryConfig` with its preset's defaults filled in (OpenLDAP or Active
//! Directory), so the federation module never guesses.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::validate::{is_loopback, secret_with_file};
use super::{ConfigError, problem};

/// One directory as the operator writes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLdapDirectory {
    pub preset: Option<String>,
    pub url: Option<String>,
    pub starttls: Option<bool>,
    pub ca_file: Option<PathBuf>,
    pub bind_dn: Option<String>,
    pub bind_password: Option<String>,
    pub bind_password_file: Option<PathBuf>,
    pub base_dn: Option<String>,
    pub user_filter: Option<String>,
    pub group_base_dn: Option<String>,
    pub group_filter: Option<String>,
    pub timeout_secs: Option<u64>,
    pub page_size: Option<u32>,
    pub sync_interval_minutes: Option<u32>,
    pub on_conflict: Option<String>,
    pub max_retire_percent: Option<u8>,
    pub password_change: Option<String>,
    pub password_change_url: Option<String>,
    #[serde(default)]
    pub attributes: RawLdapAttributes,
    /// Unit mapping: a DN (the entry's position in the tree) or a value of `attributes.unit`,
    /// to a Pintu unit code.
    #[serde(default)]
    pub units: BTreeMap<String, String>,
    /// Group DN to a Pintu role name.
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLdapAttributes {
    pub login: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub front_title: Option<String>,
    pub back_title: Option<String>,
    pub nip: Option<String>,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub unit: Option<String>,
    pub external_id: Option<String>,
    pub member: Option<String>,
}

/// Which kind of directory server: decides the defaults and how a disabled account shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapPreset {
    /// OpenLDAP: `inetOrgPerson`, `groupOfNames`, `entryUUID`; locked by ppolicy
    /// (`pwdAccountLockedTime`).
    OpenLdap,
    /// Active Directory (and Samba AD): `user`, `group`, `objectGUID`; disabled by the
    /// `userAccountControl` ACCOUNTDISABLE bit (0x2).
    ActiveDirectory,
}

/// What to do with a directory entry whose NIP or e-mail is already an account's that does
/// not come from this directory (an HR import, an administrator's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictRule {
    /// Report it and leave both alone.
    Report,
    /// The directory takes the account over (audited): its password is then checked there.
    Link,
}

/// What a password change on Pintu's account page does for a person from this directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    /// Refused, pointing to where it can be changed (if a URL is configured).
    Refuse { url: Option<Url> },
    /// Written to the directory (LDAP Password Modify extended operation, RFC 3062).
    Write,
}

/// The attribute names mapped to Pintu's fields; `None` for a field the directory does not
/// provide (Pintu keeps its own value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapAttributes {
    pub login: String,
    pub email: Option<String>,
    pub name: String,
    pub front_title: Option<String>,
    pub back_title: Option<String>,
    pub nip: Option<String>,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    /// The unit from an attribute; `None`: from the entry's position in the tree.
    pub unit: Option<String>,
    pub external_id: String,
    /// The group attribute naming its members' DNs.
    pub member: String,
}

/// One validated directory.
#[derive(Debug, Clone)]
pub struct LdapDirectoryConfig {
    pub name: String,
    pub preset: LdapPreset,
    pub url: Url,
    pub starttls: bool,
    pub ca_file: Option<PathBuf>,
    pub bind_dn: String,
    pub bind_password: SecretString,
    pub base_dn: String,
    pub user_filter: String,
    pub group_base_dn: String,
    pub group_filter: String,
    pub timeout: Duration,
    pub page_size: i32,
    /// `None`: only `pintu ldap sync --apply` syncs.
    pub sync_interval: Option<Duration>,
    pub on_conflict: ConflictRule,
    pub max_retire_percent: u8,
    pub password_change: PasswordChange,
    pub attributes: LdapAttributes,
    /// Keys lower-cased (DNs normalised by the federation module when it reads them).
    pub units: BTreeMap<String, String>,
    pub groups: BTreeMap<String, String>,
}

impl LdapDirectoryConfig {
    /// The `source` of the accounts this directory provides (`ldap:<name>`).
    pub fn source(&self) -> String {
        format!("ldap:{}", self.name)
    }
}

fn preset_attributes(preset: LdapPreset, raw: RawLdapAttributes) -> LdapAttributes {
    let ad = preset == LdapPreset::ActiveDirectory;
    let pick =
        |v: Option<String>, openldap: &str, ad_name: &str| v.unwrap_or((if ad { ad_name } else { openldap }).into());
    let optional = |v: Option<String>, default: &str| Some(v.unwrap_or(default.into())).filter(|s| !s.is_empty());
    LdapAttributes {
        login: pick(raw.login, "uid", "sAMAccountName"),
        email: optional(raw.email, "mail"),
        name: pick(raw.name, "cn", "displayName"),
        front_title: raw.front_title.filter(|s| !s.is_empty()),
        back_title: raw.back_title.filter(|s| !s.is_empty()),
        nip: optional(raw.nip, if ad { "employeeID" } else { "employeeNumber" }),
        job_title: optional(raw.job_title, "title"),
        phone: optional(raw.phone, "telephoneNumber"),
        unit: raw.unit.filter(|s| !s.is_empty()),
        external_id: pick(raw.external_id, "entryUUID", "objectGUID"),
        member: pick(raw.member, "member", "member"),
    }
}

/// Whether an LDAP URL's host is loopback. `ldap:` is not a special scheme to the URL parser,
/// so an IP address arrives as an opaque host name.
fn on_this_machine(url: &Url) -> bool {
    is_loopback(url)
        || url
            .host_str()
            .is_some_and(|h| h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()))
}

/// A directory name: 1-32 characters of a-z, 0-9, `-`.
fn check_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn validate_ldap(
    raw: BTreeMap<String, RawLdapDirectory>,
    errors: &mut Vec<ConfigError>,
) -> Vec<LdapDirectoryConfig> {
    raw.into_iter().filter_map(|(name, raw)| validate_directory(name, raw, errors)).collect()
}

fn validate_directory(
    name: String,
    raw: RawLdapDirectory,
    errors: &mut Vec<ConfigError>,
) -> Option<LdapDirectoryConfig> {
    let key = |k: &str| format!("ldap.{name}.{k}");
    let before = errors.len();
    if !check_name(&name) {
        errors.push(problem(&format!("ldap.{name}"), "a directory name is 1-32 characters of a-z, 0-9 and '-'"));
    }
    let preset = match raw.preset.as_deref() {
        Some("openldap") => LdapPreset::OpenLdap,
        Some("active-directory") => LdapPreset::ActiveDirectory,
        _ => {
            errors.push(problem(&key("preset"), "must be \"openldap\" or \"active-directory\""));
            LdapPreset::OpenLdap
        }
    };
    let starttls = raw.starttls.unwrap_or(false);
    let url = match raw.url.as_deref().map(Url::parse) {
        Some(Ok(url)) => Some(url),
        Some(Err(e)) => {
            errors.push(problem(&key("url"), format!("not a URL: {e}")));
            None
        }
        None => {
            errors.push(problem(&key("url"), "is required (ldap://host or ldaps://host)"));
            None
        }
    };
    if let Some(url) = &url
        && url.host_str().is_none_or(str::is_empty)
    {
        errors.push(problem(&key("url"), "names no host (ldaps://host[:port])"));
    }
    if let Some(url) = &url {
        // Passwords travel to the directory at every login: only over TLS, except to a
        // directory on this machine.
        match url.scheme() {
            "ldaps" if starttls => errors.push(problem(&key("starttls"), "ldaps:// is TLS already; remove starttls")),
            "ldaps" => {}
            "ldap" if starttls || on_this_machine(url) => {}
            "ldap" => errors.push(problem(
                &key("url"),
                "plain ldap:// is only allowed on loopback; use ldaps:// or starttls = true",
            )),
            other => errors.push(problem(&key("url"), format!("scheme {other} is not LDAP; use ldaps:// or ldap://"))),
        }
    }
    let password =
        secret_with_file(&key("bind_password"), raw.bind_password, raw.bind_password_file.as_deref(), errors);
    let required = |v: Option<String>, k: &str, errors: &mut Vec<ConfigError>| {
        let v = v.filter(|s| !s.trim().is_empty());
        if v.is_none() {
            errors.push(problem(&key(k), "is required"));
        }
        v.unwrap_or_default()
    };
    let bind_dn = required(raw.bind_dn, "bind_dn", errors);
    let base_dn = required(raw.base_dn, "base_dn", errors);
    // RFC 4513 §5.1.2: an empty password makes an unauthenticated bind, which servers may
    // accept as anonymous: the sync would see only what anyone sees.
    if password.as_deref().is_none_or(str::is_empty) {
        errors.push(problem(&key("bind_password"), "is required and may not be empty (or bind_password_file)"));
    }
    let timeout_secs = raw.timeout_secs.unwrap_or(5);
    if !(1..=60).contains(&timeout_secs) {
        errors.push(problem(&key("timeout_secs"), "must be 1 to 60"));
    }
    let page_size = raw.page_size.unwrap_or(500);
    if !(1..=10_000).contains(&page_size) {
        errors.push(problem(&key("page_size"), "must be 1 to 10000"));
    }
    let on_conflict = match raw.on_conflict.as_deref().unwrap_or("report") {
        "report" => ConflictRule::Report,
        "link" => ConflictRule::Link,
        _ => {
            errors.push(problem(&key("on_conflict"), "must be \"report\" or \"link\""));
            ConflictRule::Report
        }
    };
    let max_retire_percent = raw.max_retire_percent.unwrap_or(10);
    if max_retire_percent > 100 {
        errors.push(problem(&key("max_retire_percent"), "must be 0 to 100"));
    }
    let change_url = match raw.password_change_url.as_deref().map(Url::parse) {
        Some(Ok(u)) if matches!(u.scheme(), "https" | "http") => Some(u),
        Some(_) => {
            errors.push(problem(&key("password_change_url"), "must be an http(s) URL"));
            None
        }
        None => None,
    };
    let password_change = match raw.password_change.as_deref().unwrap_or("refuse") {
        "refuse" => PasswordChange::Refuse { url: change_url },
        "ldap" => PasswordChange::Write,
        _ => {
            errors.push(problem(&key("password_change"), "must be \"refuse\" or \"ldap\""));
            PasswordChange::Refuse { url: None }
        }
    };
    let ad = preset == LdapPreset::ActiveDirectory;
    if ad && password_change == PasswordChange::Write {
        // Active Directory does not implement the Password Modify operation (RFC 3062).
        errors
            .push(problem(&key("password_change"), "\"ldap\" is not available with Active Directory; use \"refuse\""));
    }
    let user_filter = raw.user_filter.unwrap_or_else(|| {
        (if ad { "(&(objectCategory=person)(objectClass=user))" } else { "(objectClass=inetOrgPerson)" }).into()
    });
    let group_filter = raw
        .group_filter
        .unwrap_or_else(|| (if ad { "(objectClass=group)" } else { "(objectClass=groupOfNames)" }).into());
    for (k, filter) in [("user_filter", &user_filter), ("group_filter", &group_filter)] {
        if !(filter.starts_with('(') && filter.ends_with(')')) {
            errors.push(problem(&key(k), "must be an LDAP filter in parentheses, e.g. (objectClass=person)"));
        }
    }
    if errors.len() > before {
        return None;
    }
    let lower = |m: BTreeMap<String, String>| m.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    Some(LdapDirectoryConfig {
        name,
        preset,
        url: url?,
        starttls,
        ca_file: raw.ca_file,
        bind_dn,
        bind_password: SecretString::from(password?),
        group_base_dn: raw.group_base_dn.unwrap_or_else(|| base_dn.clone()),
        base_dn,
        user_filter,
        group_filter,
        timeout: Duration::from_secs(timeout_secs),
        page_size: page_size as i32,
        sync_interval: raw.sync_interval_minutes.filter(|m| *m > 0).map(|m| Duration::from_secs(u64::from(m) * 60)),
        on_conflict,
        max_retire_percent,
        password_change,
        attributes: preset_attributes(preset, raw.attributes),
        units: lower(raw.units),
        groups: lower(raw.groups),
    })
}

#[cfg(test)]
#[path = "ldap_tests.rs"]
mod tests;
