use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::config::{RawConfig, RawLdapDirectory};

/// A directory with `preset` at `url`, adjusted by `customize`, validated.
fn validated(preset: &str, url: &str, customize: impl FnOnce(&mut RawLdapDirectory)) -> LdapDirectoryConfig {
    let mut raw = RawLdapDirectory {
        preset: Some(preset.into()),
        url: Some(url.into()),
        bind_dn: Some("cn=pintu,dc=example".into()),
        bind_password: Some("secret".into()),
        base_dn: Some("dc=example".into()),
        ..Default::default()
    };
    customize(&mut raw);
    let cfg = RawConfig { ldap: BTreeMap::from([("test".to_owned(), raw)]), ..Default::default() };
    cfg.validate().unwrap().ldap.remove(0)
}

fn config(groups: &[(&str, &str)], unit_attribute: Option<&str>) -> LdapDirectoryConfig {
    validated("openldap", "ldap://127.0.0.1:3890", |raw| {
        raw.attributes.unit = unit_attribute.map(str::to_owned);
        raw.groups = groups.iter().map(|(g, r)| (g.to_string(), r.to_string())).collect();
    })
}

fn entry(dn: &str, attrs: &[(&str, &str)]) -> Entry {
    let mut e = Entry { dn: dn.into(), ..Default::default() };
    for (k, v) in attrs {
        e.attrs.entry(k.to_lowercase()).or_default().push(v.to_string());
    }
    e
}

#[test]
fn dns_compare_whatever_their_spacing_case_and_escapes() {
    assert_eq!(normalize_dn("CN=Siti\\, S.Kom , OU=People,dc=Example"), "cn=siti\\, s.kom,ou=people,dc=example");
    assert_eq!(
        normalize_dn("cn=Siti\\2C S.Kom,ou=people,dc=example"),
        normalize_dn("cn=siti\\, s.kom,ou=People,dc=example")
    );
    assert_eq!(normalize_dn("cn=Dewi Ayu Lestari,ou=Dinas Pendidikan"), "cn=dewi ayu lestari,ou=dinas pendidikan");
    let all: Vec<String> = ancestors("uid=a,ou=Kominfo,dc=x").collect();
    assert_eq!(all, ["uid=a,ou=kominfo,dc=x", "ou=kominfo,dc=x", "dc=x"]);
}

#[test]
fn nested_groups_give_their_members_the_outer_groups_role_and_cycles_end() {
    let cfg = config(&[("cn=Operators,ou=groups,dc=example", "eoffice.operator")], None);
    let groups = [
        entry(
            "cn=operators,ou=groups,dc=example",
            &[("member", "uid=ani,dc=example"), ("member", "cn=Shift,ou=groups,dc=example")],
        ),
        entry(
            "cn=shift,ou=groups,dc=example",
            &[("member", "uid=budi,dc=example"), ("member", "cn=operators,ou=groups,dc=example")],
        ),
        entry("cn=other,ou=groups,dc=example", &[("member", "uid=citra,dc=example")]),
    ];
    let found = roles_by_member(&cfg, &groups);
    assert!(found.problems.is_empty() && found.unreliable.is_empty());
    let roles = found.roles;
    assert_eq!(roles.get("uid=ani,dc=example").unwrap(), &["eoffice.operator"]);
    assert_eq!(roles.get("uid=budi,dc=example").unwrap(), &["eoffice.operator"], "through the nested group");
    assert!(!roles.contains_key("uid=citra,dc=example"), "an unmapped group gives nothing");
}

#[test]
fn the_unit_comes_from_the_nearest_mapped_ancestor_or_the_attribute() {
    let cfg = config(&[], None);
    let units = HashMap::from([("ou=kominfo,ou=people,dc=example".to_owned(), "DISKOMINFO".to_owned())]);
    let e = entry(
        "uid=ani,ou=Bidang TIK,ou=Kominfo,ou=people,dc=example",
        &[("uid", "ani"), ("cn", "Ani"), ("entryUUID", "7A4C-1"), ("employeeNumber", "198503302010011002")],
    );
    let person = to_person(&cfg, &e, &HashMap::new(), &units).unwrap();
    assert_eq!(person.input.org_unit.as_deref(), Some("DISKOMINFO"));
    assert_eq!(person.external_id, "7a4c-1");
    assert!(!person.disabled);
    let by_attr = config(&[], Some("departmentNumber"));
    let units = HashMap::from([("42".to_owned(), "DISDIK".to_owned())]);
    let e = entry("uid=b,dc=example", &[("uid", "b"), ("cn", "B"), ("entryUUID", "u2"), ("departmentNumber", "42")]);
    assert_eq!(to_person(&by_attr, &e, &HashMap::new(), &units).unwrap().input.org_unit.as_deref(), Some("DISDIK"));
}

#[test]
fn an_entry_missing_what_pintu_needs_is_reported_with_its_id() {
    let cfg = config(&[], None);
    let locked =
        entry("uid=c,dc=example", &[("uid", "c"), ("entryUUID", "u3"), ("pwdAccountLockedTime", "000001010000Z")]);
    let (id, problems) = to_person(&cfg, &locked, &HashMap::new(), &HashMap::new()).unwrap_err();
    assert_eq!(id.as_deref(), Some("u3"), "known, so the account is not taken for a leaver");
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["cn", "unit"]);
    assert!(problems.iter().all(|p| p.dn == "uid=c,dc=example"));
    let units = HashMap::from([("dc=example".to_owned(), "X".to_owned())]);
    let locked = entry(
        "uid=c,dc=example",
        &[("uid", "c"), ("cn", "C"), ("entryUUID", "u3"), ("pwdAccountLockedTime", "000001010000Z")],
    );
    assert!(to_person(&cfg, &locked, &HashMap::new(), &units).unwrap().disabled);
    let failures = entry(
        "uid=d,dc=example",
        &[("uid", "d"), ("cn", "D"), ("entryUUID", "u4"), ("pwdAccountLockedTime", "20261205010203Z")],
    );
    assert!(
        !to_person(&cfg, &failures, &HashMap::new(), &units).unwrap().disabled,
        "a lockout after failed binds ends by itself"
    );
}

#[test]
fn active_directory_guids_and_disabled_flags_are_read() {
    let cfg = validated("active-directory", "ldaps://dc.example", |_| {});
    let mut e =
        entry("cn=Eko,dc=example", &[("sAMAccountName", "eko"), ("displayName", "Eko"), ("userAccountControl", "514")]);
    e.bin.insert("objectguid".into(), vec![(0u8..16).collect()]);
    let units = HashMap::from([("dc=example".to_owned(), "X".to_owned())]);
    let person = to_person(&cfg, &e, &HashMap::new(), &units).unwrap();
    assert_eq!(person.external_id, "03020100-0504-0706-0809-0a0b0c0d0e0f");
    assert!(person.disabled, "514 = NORMAL_ACCOUNT | ACCOUNTDISABLE");
}

#[test]
fn a_group_that_cannot_be_read_whole_is_reported_and_its_role_never_revoked() {
    let cfg = config(&[("cn=missing,dc=example", "a.role"), ("cn=big,dc=example", "b.role")], None);
    let mut big = entry("cn=big,dc=example", &[("member", "uid=ani,dc=example")]);
    big.attrs.insert("member;range=0-1499".into(), vec!["uid=budi,dc=example".into()]);
    let found = roles_by_member(&cfg, &[big]);
    assert_eq!(found.unreliable, ["a.role", "b.role"]);
    let fields: Vec<(&str, &str)> = found.problems.iter().map(|p| (p.dn.as_str(), p.field.as_str())).collect();
    assert_eq!(fields, [("cn=big,dc=example", "groups"), ("cn=missing,dc=example", "groups")]);
    assert!(!found.roles.contains_key("cn=missing,dc=example"), "a missing group is not taken for a person");
}
