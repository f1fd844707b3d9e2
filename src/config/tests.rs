use super::*;

#[test]
fn metrics_listen_on_loopback_by_default_and_can_be_turned_off() {
    let with = |listen: Option<&str>| {
        RawConfig { metrics: RawMetrics { listen: listen.map(str::to_owned) }, ..Default::default() }.validate()
    };
    assert_eq!(with(None).unwrap().metrics.listen.map(|a| a.to_string()).as_deref(), Some("127.0.0.1:9464"));
    assert_eq!(with(Some("")).unwrap().metrics.listen, None);
    assert_eq!(with(Some("localhost")).unwrap_err()[0].key, "metrics.listen");
}

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
