//! Scratch files of a test run (SQLite databases, working directories): under the build's own
//! temporary directory (`target/tmp`), one directory per test process. Each process removes the
//! directories of processes that are gone, so a run leaves at most its own behind, and
//! `tests/run` removes that too.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// This process's scratch directory.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pintu-tests");
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let pid = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok());
            let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = root.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        dir
    })
}

/// A fresh path in the scratch directory: `{prefix}-{uuid}{suffix}`.
pub fn path(prefix: &str, suffix: &str) -> PathBuf {
    dir().join(format!("{prefix}-{}{suffix}", uuid::Uuid::new_v4()))
}

/// Removes a SQLite database and the files SQLite keeps beside it.
pub fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Whether the PostgreSQL variants were asked for: they are `#[ignore]`d, and run with
/// `--include-ignored` (as `tests/run` does when PostgreSQL answers). Run so, they need
/// `TEST_POSTGRES_URL`; without it they fail rather than pass without testing anything.
pub fn postgres_url() -> String {
    match std::env::var("TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => url,
        None => panic!(
            "this PostgreSQL test needs TEST_POSTGRES_URL (a database it may create schemas in); \
             `bash tests/run` creates one and sets it"
        ),
    }
}

/// A URL of the PostgreSQL test database whose connections use a fresh schema of their own
/// (`{prefix}_{uuid}`): each test is isolated, and the run's database drops them all.
pub async fn postgres_schema_url(prefix: &str) -> String {
    let admin = postgres_url();
    let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin).await.expect("TEST_POSTGRES_URL is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&pool).await.expect("create schema");
    pool.close().await;
    let sep = if admin.contains('?') { '&' } else { '?' };
    format!("{admin}{sep}options=-c%20search_path%3D{schema}")
}
