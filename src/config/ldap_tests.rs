use super::*;

fn raw(url: &str) -> RawLdapDirectory {
    RawLdapDirectory {
        preset: Some("openldap".into()),
        url: Some(url.into()),
        bind_dn: Some("cn=pintu,dc=example".into()),
        bind_password: Some("secret".into()),
        base_dn: Some("dc=example".into()),
        ..Default::default()
    }
}

fn one(name: &str, raw: RawLdapDirectory) -> Result<LdapDirectoryConfig, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut all = validate_ldap(BTreeMap::from([(name.to_owned(), raw)]), &mut errors);
    if errors.is_empty() { Ok(all.remove(0)) } else { Err(errors) }
}

#[test]
fn presets_fill_in_the_attributes_and_filters() {
    let d = one("kominfo", raw("ldap://127.0.0.1:389")).unwrap();
    assert_eq!((d.attributes.login.as_str(), d.attributes.external_id.as_str()), ("uid", "entryUUID"));
    assert_eq!(d.user_filter, "(objectClass=inetOrgPerson)");
    assert_eq!(d.group_base_dn, "dc=example");
    assert_eq!(d.source(), "ldap:kominfo");
    let ad =
        one("ad", RawLdapDirectory { preset: Some("active-directory".into()), ..raw("ldaps://dc.example") }).unwrap();
    assert_eq!((ad.attributes.login.as_str(), ad.attributes.nip.as_deref()), ("sAMAccountName", Some("employeeID")));
    assert_eq!(ad.group_filter, "(objectClass=group)");
}

#[test]
fn an_empty_service_password_a_url_without_host_and_password_writes_to_ad_are_refused() {
    let empty = one("x", RawLdapDirectory { bind_password: Some(String::new()), ..raw("ldaps://ldap.example") });
    assert_eq!(empty.unwrap_err()[0].key, "ldap.x.bind_password");
    assert_eq!(one("x", raw("ldaps:nohost")).unwrap_err()[0].key, "ldap.x.url");
    let ad = RawLdapDirectory {
        preset: Some("active-directory".into()),
        password_change: Some("ldap".into()),
        ..raw("ldaps://dc.example")
    };
    assert_eq!(one("x", ad).unwrap_err()[0].key, "ldap.x.password_change");
}

#[test]
fn passwords_never_travel_in_the_clear_off_this_machine() {
    let refused = one("x", raw("ldap://ldap.example.go.id")).unwrap_err();
    assert_eq!(refused[0].key, "ldap.x.url");
    assert!(one("x", RawLdapDirectory { starttls: Some(true), ..raw("ldap://ldap.example.go.id") }).is_ok());
    assert!(one("x", raw("ldaps://ldap.example.go.id")).is_ok());
    let both = one("x", RawLdapDirectory { starttls: Some(true), ..raw("ldaps://ldap.example.go.id") });
    assert_eq!(both.unwrap_err()[0].key, "ldap.x.starttls");
}

#[test]
fn every_problem_is_named() {
    let bad = RawLdapDirectory {
        preset: Some("novell".into()),
        on_conflict: Some("merge".into()),
        timeout_secs: Some(0),
        user_filter: Some("uid=*".into()),
        ..Default::default()
    };
    let keys: Vec<String> = one("Bad Name", bad).unwrap_err().into_iter().map(|e| e.key).collect();
    for k in ["ldap.Bad Name", "ldap.Bad Name.preset", "ldap.Bad Name.url", "ldap.Bad Name.bind_dn"] {
        assert!(keys.contains(&k.to_owned()), "{k} missing from {keys:?}");
    }
    for k in ["base_dn", "bind_password", "timeout_secs", "on_conflict", "user_filter"] {
        assert!(keys.contains(&format!("ldap.Bad Name.{k}")), "{k} missing from {keys:?}");
    }
}
