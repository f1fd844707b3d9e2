//! From directory entries to people: attributes to Pintu's fields, the unit from an attribute
//! or from the entry's position in the tree, roles from group membership (nested groups
//! resolved, cycles tolerated), and whether the account is disabled there. Pure functions.

use std::collections::{HashMap, HashSet};

use crate::config::{LdapDirectoryConfig, LdapPreset};
use crate::directory::{ExternalPerson, ExternalProblem, Provided, UserInput};
use crate::domain::text::{TextKind, check_text};

use super::client::Entry;

/// ppolicy's lock (OpenLDAP): present while the account is locked.
const LOCKED_TIME: &str = "pwdAccountLockedTime";
/// The value of a lock an administrator set (draft-behera-ldap-password-policy §5.3.3: locked
/// until an administrator unlocks it). Any other value is a lockout after failed binds, which
/// ends by itself: no reason to retire anyone (and anyone could cause it by guessing).
const LOCKED_BY_ADMINISTRATOR: &str = "000001010000Z";
/// Active Directory's account flags; bit 0x2 is ACCOUNTDISABLE.
const ACCOUNT_CONTROL: &str = "userAccountControl";

/// The attributes a people search asks for.
pub fn person_attributes(config: &LdapDirectoryConfig) -> Vec<String> {
    let a = &config.attributes;
    let mut attrs = vec![a.login.clone(), a.name.clone(), a.external_id.clone()];
    let optional = [&a.email, &a.front_title, &a.back_title, &a.nip, &a.job_title, &a.phone, &a.unit];
    attrs.extend(optional.into_iter().flatten().cloned());
    attrs.push(match config.preset {
        LdapPreset::OpenLdap => LOCKED_TIME.into(),
        LdapPreset::ActiveDirectory => ACCOUNT_CONTROL.into(),
    });
    attrs
}

/// A DN in one comparable form: RDNs split at unescaped commas, spaces around them and around
/// `=` dropped, escapes (`\,` or `\2C`) decoded, lower-cased (the attributes that name
/// entries compare case-insensitively).
pub fn normalize_dn(dn: &str) -> String {
    rdns(dn).join(",")
}

fn rdns(dn: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut current, mut chars) = (String::new(), dn.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let hex: String = chars.clone().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(byte) if hex.len() == 2 => {
                        chars.next();
                        chars.next();
                        current.push_str(&escape(byte as char));
                    }
                    _ => match chars.next() {
                        Some(next) => current.push_str(&escape(next)),
                        None => current.push('\\'),
                    },
                }
            }
            ',' | ';' => out.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|rdn| match rdn.split_once('=') {
            Some((t, v)) => format!("{}={}", t.trim().to_lowercase(), v.trim().to_lowercase()),
            None => rdn.trim().to_lowercase(),
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// The one escaped form of a character that is special in a DN value.
fn escape(c: char) -> String {
    match c {
        ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => format!("\\{c}"),
        other => other.to_string(),
    }
}

/// The entry's DN and each of its ancestors, nearest first (each normalised).
fn ancestors(dn: &str) -> impl Iterator<Item = String> {
    let parts = rdns(dn);
    (0..parts.len()).map(move |i| parts[i..].join(","))
}

/// The roles the configured groups give: each person's (by normalised DN), and the roles whose
/// membership could not be read whole, with why (a mapped group the group search does not
/// find, or a group whose members the server sends in ranges, as Active Directory does past
/// 1500). A sync grants those roles but revokes none of them: an unreadable group must not look
/// like an empty one.
pub struct Memberships {
    pub roles: HashMap<String, Vec<String>>,
    pub unreliable: Vec<String>,
    pub problems: Vec<ExternalProblem>,
}

/// Resolves the configured groups: a member of a group inside a mapped group holds the mapped
/// group's role (nesting followed, cycles ended).
pub fn roles_by_member(config: &LdapDirectoryConfig, groups: &[Entry]) -> Memberships {
    let member = config.attributes.member.to_lowercase();
    let ranged = |g: &Entry| g.attrs.keys().any(|k| k.starts_with(&format!("{member};range=")));
    let members: HashMap<String, (Vec<String>, bool)> = groups
        .iter()
        .map(|g| (normalize_dn(&g.dn), (g.all(&member).iter().map(|m| normalize_dn(m)).collect(), ranged(g))))
        .collect();
    let mut out = Memberships { roles: HashMap::new(), unreliable: Vec::new(), problems: Vec::new() };
    for (group, role) in &config.groups {
        let root = normalize_dn(group);
        if !members.contains_key(&root) {
            let why = "the group search (group_base_dn, group_filter) does not find this group: its role is granted to nobody new and revoked from nobody";
            out.problems.push(ExternalProblem::new(group, "groups", why));
            out.unreliable.push(role.clone());
            continue;
        }
        let (mut seen, mut stack) = (HashSet::new(), vec![root]);
        while let Some(dn) = stack.pop() {
            if !seen.insert(dn.clone()) {
                continue;
            }
            match members.get(&dn) {
                Some((inner, partial)) => {
                    if *partial {
                        let why = "the server sends this group's members in ranges (more than it returns at once), which Pintu does not follow: its role is not revoked from anyone";
                        out.problems.push(ExternalProblem::new(&dn, "groups", why));
                        out.unreliable.push(role.clone());
                    }
                    stack.extend(inner.iter().cloned());
                }
                None => {
                    let held = out.roles.entry(dn).or_default();
                    if !held.contains(role) {
                        held.push(role.clone());
                    }
                }
            }
        }
    }
    out.unreliable.sort();
    out.unreliable.dedup();
    out
}

/// The entry's stable id: entryUUID as text, objectGUID (16 bytes, little-endian fields) as
/// a UUID.
pub fn external_id(entry: &Entry, attr: &str) -> Option<String> {
    if let Some(bytes) = entry.bin.get(&attr.to_lowercase()).and_then(|v| v.first()) {
        let array: [u8; 16] = bytes.as_slice().try_into().ok()?;
        return Some(uuid::Uuid::from_bytes_le(array).to_string());
    }
    entry.first(attr).map(str::to_lowercase)
}

fn disabled(entry: &Entry, preset: LdapPreset) -> bool {
    match preset {
        LdapPreset::OpenLdap => entry.first(LOCKED_TIME) == Some(LOCKED_BY_ADMINISTRATOR),
        LdapPreset::ActiveDirectory => {
            entry.first(ACCOUNT_CONTROL).and_then(|v| v.parse::<u32>().ok()).is_some_and(|f| f & 2 != 0)
        }
    }
}

/// One entry as a person, or its problems. The external id comes back with the problems when
/// it is known, so that an entry with a problem is not taken for a leaver.
pub fn to_person(
    config: &LdapDirectoryConfig,
    entry: &Entry,
    roles: &HashMap<String, Vec<String>>,
    units: &HashMap<String, String>,
) -> Result<ExternalPerson, (Option<String>, Vec<ExternalProblem>)> {
    let a = &config.attributes;
    let id = external_id(entry, &a.external_id);
    let mut problems = Vec::new();
    let mut require = |attr: &str| {
        let value = entry.first(attr).map(str::to_owned);
        if value.is_none() {
            problems.push(ExternalProblem::new(&entry.dn, attr, format!("the entry has no {attr}")));
        }
        value
    };
    let (login, name) = (require(&a.login), require(&a.name));
    if id.is_none() {
        problems.push(ExternalProblem::new(&entry.dn, &a.external_id, "the entry has no stable id"));
    }
    let optional = |attr: &Option<String>| attr.as_deref().and_then(|n| entry.first(n)).map(str::to_owned);
    let unit = match &a.unit {
        Some(attr) => entry.first(attr).and_then(|v| units.get(&v.to_lowercase())).cloned(),
        None => ancestors(&entry.dn).find_map(|dn| units.get(&dn).cloned()),
    };
    if unit.is_none() {
        let reason = match &a.unit {
            Some(attr) => format!("the value of {attr} is missing or has no entry in [units]"),
            None => "no ancestor of the entry is in [units]".to_owned(),
        };
        problems.push(ExternalProblem::new(&entry.dn, "unit", reason));
    }
    let input = UserInput {
        username: login,
        name: name.unwrap_or_default(),
        email: optional(&a.email),
        nip: optional(&a.nip),
        front_title: optional(&a.front_title),
        back_title: optional(&a.back_title),
        phone: optional(&a.phone),
        jabatan: optional(&a.job_title),
        org_unit: unit,
        ..UserInput::default()
    };
    let texts = [
        &input.username,
        &input.email,
        &input.nip,
        &input.front_title,
        &input.back_title,
        &input.phone,
        &input.jabatan,
    ];
    if texts.into_iter().flatten().chain([&input.name]).any(|t| check_text(TextKind::Line, t).is_err()) {
        problems.push(ExternalProblem::new(&entry.dn, "entry", "a value holds a control character"));
    }
    if !problems.is_empty() {
        return Err((id, problems));
    }
    let provided = Provided {
        email: a.email.is_some(),
        nip: a.nip.is_some(),
        front_title: a.front_title.is_some(),
        back_title: a.back_title.is_some(),
        phone: a.phone.is_some(),
        jabatan: a.job_title.is_some(),
    };
    Ok(ExternalPerson {
        external_id: id.unwrap_or_default(),
        dn: entry.dn.clone(),
        input,
        provided,
        disabled: disabled(entry, config.preset),
        roles: roles.get(&normalize_dn(&entry.dn)).cloned().unwrap_or_default(),
    })
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
