//! The migrations of each backend, embedded in the binary. File names are identical for both
//! backends (checked by `tests/architecture.rs`); released files are never edited.

use std::borrow::Cow;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// (version, description, SQLite text, PostgreSQL text), in order.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "core",
        include_str!("../../migrations/sqlite/0001_core.sql"),
        include_str!("../../migrations/postgres/0001_core.sql"),
    ),
    (
        2,
        "directory",
        include_str!("../../migrations/sqlite/0002_directory.sql"),
        include_str!("../../migrations/postgres/0002_directory.sql"),
    ),
    (
        3,
        "login_throttle",
        include_str!("../../migrations/sqlite/0003_login_throttle.sql"),
        include_str!("../../migrations/postgres/0003_login_throttle.sql"),
    ),
    (
        4,
        "second_factors",
        include_str!("../../migrations/sqlite/0004_second_factors.sql"),
        include_str!("../../migrations/postgres/0004_second_factors.sql"),
    ),
    (
        5,
        "level_requirements",
        include_str!("../../migrations/sqlite/0005_level_requirements.sql"),
        include_str!("../../migrations/postgres/0005_level_requirements.sql"),
    ),
    (
        6,
        "passkeys",
        include_str!("../../migrations/sqlite/0006_passkeys.sql"),
        include_str!("../../migrations/postgres/0006_passkeys.sql"),
    ),
    (
        7,
        "refresh_families",
        include_str!("../../migrations/sqlite/0007_refresh_families.sql"),
        include_str!("../../migrations/postgres/0007_refresh_families.sql"),
    ),
    (
        8,
        "codes_on_grants",
        include_str!("../../migrations/sqlite/0008_codes_on_grants.sql"),
        include_str!("../../migrations/postgres/0008_codes_on_grants.sql"),
    ),
    (
        9,
        "refresh_grace",
        include_str!("../../migrations/sqlite/0009_refresh_grace.sql"),
        include_str!("../../migrations/postgres/0009_refresh_grace.sql"),
    ),
    (
        10,
        "applications",
        include_str!("../../migrations/sqlite/0010_applications.sql"),
        include_str!("../../migrations/postgres/0010_applications.sql"),
    ),
    (
        11,
        "key_rotation",
        include_str!("../../migrations/sqlite/0011_key_rotation.sql"),
        include_str!("../../migrations/postgres/0011_key_rotation.sql"),
    ),
    (
        12,
        "ldap",
        include_str!("../../migrations/sqlite/0012_ldap.sql"),
        include_str!("../../migrations/postgres/0012_ldap.sql"),
    ),
    (
        13,
        "audit_checkpoints",
        include_str!("../../migrations/sqlite/0013_audit_checkpoints.sql"),
        include_str!("../../migrations/postgres/0013_audit_checkpoints.sql"),
    ),
    (
        14,
        "periodic_reports",
        include_str!("../../migrations/sqlite/0014_periodic_reports.sql"),
        include_str!("../../migrations/postgres/0014_periodic_reports.sql"),
    ),
    (
        15,
        "backup_runs",
        include_str!("../../migrations/sqlite/0015_backup_runs.sql"),
        include_str!("../../migrations/postgres/0015_backup_runs.sql"),
    ),
    (
        16,
        "sealed_secrets",
        include_str!("../../migrations/sqlite/0016_sealed_secrets.sql"),
        include_str!("../../migrations/postgres/0016_sealed_secrets.sql"),
    ),
    (
        17,
        "certificates",
        include_str!("../../migrations/sqlite/0017_certificates.sql"),
        include_str!("../../migrations/postgres/0017_certificates.sql"),
    ),
    (
        18,
        "pushed_requests",
        include_str!("../../migrations/sqlite/0018_pushed_requests.sql"),
        include_str!("../../migrations/postgres/0018_pushed_requests.sql"),
    ),
    (
        19,
        "signing",
        include_str!("../../migrations/sqlite/0019_signing.sql"),
        include_str!("../../migrations/postgres/0019_signing.sql"),
    ),
    (
        20,
        "activation_codes",
        include_str!("../../migrations/sqlite/0020_activation_codes.sql"),
        include_str!("../../migrations/postgres/0020_activation_codes.sql"),
    ),
    (
        21,
        "mail_outbox",
        include_str!("../../migrations/sqlite/0021_mail_outbox.sql"),
        include_str!("../../migrations/postgres/0021_mail_outbox.sql"),
    ),
    (
        22,
        "console",
        include_str!("../../migrations/sqlite/0022_console.sql"),
        include_str!("../../migrations/postgres/0022_console.sql"),
    ),
    (
        23,
        "saml",
        include_str!("../../migrations/sqlite/0023_saml.sql"),
        include_str!("../../migrations/postgres/0023_saml.sql"),
    ),
    (
        24,
        "logout",
        include_str!("../../migrations/sqlite/0024_logout.sql"),
        include_str!("../../migrations/postgres/0024_logout.sql"),
    ),
];

/// The file names the embedded list expects, for the parity test.
pub const FILE_NAMES: &[&str] = &[
    "0001_core.sql",
    "0002_directory.sql",
    "0003_login_throttle.sql",
    "0004_second_factors.sql",
    "0005_level_requirements.sql",
    "0006_passkeys.sql",
    "0007_refresh_families.sql",
    "0008_codes_on_grants.sql",
    "0009_refresh_grace.sql",
    "0010_applications.sql",
    "0011_key_rotation.sql",
    "0012_ldap.sql",
    "0013_audit_checkpoints.sql",
    "0014_periodic_reports.sql",
    "0015_backup_runs.sql",
    "0016_sealed_secrets.sql",
    "0017_certificates.sql",
    "0018_pushed_requests.sql",
    "0019_signing.sql",
    "0020_activation_codes.sql",
    "0021_mail_outbox.sql",
    "0022_console.sql",
    "0023_saml.sql",
    "0024_logout.sql",
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0)
}

fn migrator(pick: fn(&(i64, &str, &'static str, &'static str)) -> &'static str) -> Migrator {
    migrator_until(pick, i64::MAX)
}

fn migrator_until(pick: fn(&(i64, &str, &'static str, &'static str)) -> &'static str, version: i64) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .filter(|m| m.0 <= version)
        .map(|m| Migration::new(m.0, Cow::Borrowed(m.1), MigrationType::Simple, SqlStr::from_static(pick(m)), false))
        .collect::<Vec<_>>();
    Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
}

pub fn sqlite() -> Migrator {
    migrator(|m| m.2)
}

pub fn postgres() -> Migrator {
    migrator(|m| m.3)
}

/// The migrations up to `version` only (a restore recreates the schema of its snapshot).
pub fn sqlite_until(version: i64) -> Migrator {
    migrator_until(|m| m.2, version)
}

pub fn postgres_until(version: i64) -> Migrator {
    migrator_until(|m| m.3, version)
}
