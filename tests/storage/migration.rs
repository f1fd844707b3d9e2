//! Migration 0010 on a database written by the release before it: every client becomes an
//! application with its OIDC registration, keeping its id, secret hash, registration access
//! token, profile, and every grant, consent and role that names it.

use std::borrow::Cow;

use pintu::domain::{AccessPolicy, AdminScope, Category, GrantId, OrgUnitId, RoleId, SecurityLevel};
use pintu::storage::Store;
use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Migrations 0001 to 0009 of `backend`, as released.
fn migrator_before_0010(backend: &str) -> Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let migrations = files
        .iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            let (version, description) = name.split_once('_')?;
            let version: i64 = version.parse().ok()?;
            let sql: &'static str = Box::leak(std::fs::read_to_string(path).ok()?.into_boxed_str());
            let description = Cow::Owned(description.to_owned());
            (version < 10)
                .then(|| Migration::new(version, description, MigrationType::Simple, SqlStr::from_static(sql), false))
        })
        .collect::<Vec<_>>();
    assert_eq!(migrations.len(), 9);
    Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
}

/// A client with a full profile, one without, and a grant, a consent and a role naming the first.
const OLD_ROWS: &str = r#"
INSERT INTO org_units (id, code, name, kind, parent_id, version, created_at, updated_at)
VALUES ('u1', 'DISKOMINFO', 'Diskominfo', 'dinas', NULL, 1, 1, 1);
INSERT INTO users (id, username, created_at, updated_at) VALUES ('user1', 'budi', 1, 1);
INSERT INTO clients (client_id, secret_hash, metadata, pre_approved, disabled, registration_token_hash, created_at,
                     updated_at, category, owner_unit_id, min_level, access_policy, released_claims, admin_scope, version)
VALUES ('eoffice', 'hash1', '{"client_name":"E-Office","redirect_uris":["https://e.go.id/cb"]}', TRUE, FALSE,
        'regtok', 3, 4, 'umum', 'u1', 2, '{"org_units":["u1"],"roles":[]}', '["nip"]', '*', 5);
INSERT INTO clients (client_id, secret_hash, metadata, pre_approved, disabled, registration_token_hash, created_at,
                     updated_at)
VALUES ('anon', NULL, '{"token_endpoint_auth_method":"none"}', FALSE, TRUE, NULL, 1, 1);
INSERT INTO grants (id, client_id, user_id, scope, offline, created_at) VALUES ('g1', 'eoffice', 'user1', 'openid', FALSE, 1);
INSERT INTO consents (user_id, client_id, scope, updated_at) VALUES ('user1', 'eoffice', 'openid', 1);
INSERT INTO roles (id, name, client_id, description, created_at) VALUES ('r1', 'operator', 'eoffice', '', 1);
"#;

/// What must hold after 0010, through the store.
async fn check_moved_over(store: &Store) {
    let apps = store.applications();
    let eoffice = apps.find_by_client_id("eoffice").await.unwrap().expect("eoffice moved over");
    assert_eq!((eoffice.id.as_str(), eoffice.name.as_str()), ("eoffice", "E-Office"));
    assert_eq!((eoffice.pre_approved, eoffice.disabled, eoffice.created_at), (true, false, 3));
    let p = &eoffice.profile;
    assert_eq!(
        (p.category, p.owner_unit_id.clone(), p.min_level),
        (Category::Umum, Some(OrgUnitId::new("u1")), SecurityLevel::SecondFactor)
    );
    assert_eq!(p.access, AccessPolicy { org_units: vec![OrgUnitId::new("u1")], roles: vec![] });
    assert_eq!(
        (p.released_claims.clone(), p.admin_scope.clone(), p.version),
        (vec!["nip".to_owned()], Some(AdminScope::Office), 5)
    );
    let oidc = eoffice.oidc().unwrap();
    assert_eq!(
        (oidc.secret_hash.as_deref(), oidc.metadata.redirect_uris.clone()),
        (Some("hash1"), vec!["https://e.go.id/cb".to_owned()])
    );
    assert!(apps.find_by_registration_token("eoffice", "regtok").await.unwrap().is_some(), "RFC 7592 token kept");
    let anon = apps.find_by_client_id("anon").await.unwrap().expect("anon moved over");
    assert_eq!((anon.name.as_str(), anon.disabled, anon.profile.category), ("anon", true, Category::Khusus));
    assert_eq!(apps.list().await.unwrap().len(), 2);
    let grant = store.grants().find(&GrantId::new("g1")).await.unwrap().expect("grant kept");
    assert_eq!(grant.client_id.as_str(), "eoffice");
    let consent = store.sessions().find_consent(&pintu::domain::UserId::new("user1"), &grant.client_id).await;
    assert_eq!(consent.unwrap().as_deref(), Some("openid"));
    let role = store.roles().find(&RoleId::new("r1")).await.unwrap().expect("role kept");
    assert_eq!(role.client_id.map(|c| c.to_string()).as_deref(), Some("eoffice"));
}

const DANGLING_GRANT: &str = "INSERT INTO grants (id, client_id, user_id, scope, offline, created_at) VALUES ('g2', 'nope', 'user1', 'openid', FALSE, 1)";
/// The same statement for a migrated client: it works, so the dangling one fails for its
/// foreign key, not for a broken table.
const GRANT_OF_MIGRATED: &str = "INSERT INTO grants (id, client_id, user_id, scope, offline, created_at) VALUES ('g3', 'anon', 'user1', 'openid', FALSE, 1)";

#[tokio::test]
async fn existing_clients_become_applications_on_sqlite() {
    let path = crate::scratch::path("pintu-migration", ".db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    migrator_before_0010("sqlite").run(&pool).await.unwrap();
    sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
    pool.close().await;
    let store = Store::open(&url).await.unwrap();
    check_moved_over(&store).await;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    assert!(sqlx::raw_sql(GRANT_OF_MIGRATED).execute(&pool).await.is_ok(), "a migrated client takes grants");
    assert!(sqlx::raw_sql(DANGLING_GRANT).execute(&pool).await.is_err(), "grants still need a registered client");
    pool.close().await;
    crate::scratch::remove_sqlite(&path);
}

#[tokio::test]
#[ignore = "PostgreSQL: run with --include-ignored and TEST_POSTGRES_URL (bash tests/run does)"]
async fn existing_clients_become_applications_on_postgres() {
    let url = crate::scratch::postgres_schema_url("m").await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    migrator_before_0010("postgres").run(&pool).await.unwrap();
    sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
    let store = Store::open(&url).await.unwrap();
    check_moved_over(&store).await;
    assert!(sqlx::raw_sql(GRANT_OF_MIGRATED).execute(&pool).await.is_ok(), "a migrated client takes grants");
    assert!(sqlx::raw_sql(DANGLING_GRANT).execute(&pool).await.is_err(), "grants still need a registered client");
}
