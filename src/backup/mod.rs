//! Backups: one encrypted, self-contained archive of the database (every table, as of one
//! moment, in a format both backends read), the configuration without its secrets and, unless
//! left out, the key-encryption key the stored keys are sealed with. `archive.rs` is the
//! format; `restore.rs` brings an archive back into an empty database of either backend.
//! Taken while the server runs: the snapshot is one read transaction.

mod archive;
mod restore;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

pub use archive::{FORMAT_VERSION, Header, Manifest, Protection, TableSummary, Unlock, generate_key};
pub use restore::{RestoreReport, RestoreRequest, restore};

use crate::audit::{AdminChange, AuditEvent, AuditRecorder};
use crate::domain::ActorId;
use crate::keys::Sealer;
use crate::storage::{BackupRun, SnapshotItem, StorageError, Store};
use archive::{ArchiveReader, ArchiveWriter, FORMAT, Line, Record};

/// A gentle backup rests this many times as long as each batch of rows took to write, so it
/// uses about a third of the CPU a backup at full speed would (the reader waits for the
/// writer: the channel between them is bounded).
const GENTLE_REST: u32 = 2;
/// Backups are recorded for 90 days.
const KEEP_RUNS_SECS: i64 = 90 * 86400;
/// Scheduled archives are named `pintu-backup-<UTC time>.age`.
const SCHEDULED_PREFIX: &str = "pintu-backup-";
const SCHEDULED_SUFFIX: &str = ".age";

/// What can go wrong with a backup or a restore; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("the destination {0} is full: nothing was written (free space, or use another disk)")]
    Full(PathBuf),
    #[error("cannot write to {0}: it is read-only or not writable by this user; nothing was written")]
    NotWritable(PathBuf),
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid age key: {0}")]
    BadKey(String),
    #[error("the archive cannot be opened with this passphrase or key (it was encrypted for someone else)")]
    WrongKey,
    #[error("the archive is truncated: it ends before its manifest (copy it again from the backup disk)")]
    Truncated,
    #[error("the archive is damaged: {0}")]
    Corrupt(String),
    #[error("not a Pintu backup: {0}")]
    NotAnArchive(String),
    #[error(
        "the archive was made by a newer Pintu (format {format}, schema {schema}); this build reads format \
         {FORMAT_VERSION} and schema up to {supported}: restore it with that version or newer"
    )]
    Newer { format: u32, schema: i64, supported: i64 },
    #[error(
        "the database is not empty (rows in: {}); restore only into an empty database, or pass --force to \
         replace everything in it",
        .0.join(", ")
    )]
    NotEmpty(Vec<String>),
    #[error("{0}")]
    Kek(String),
    #[error("{0}; nothing was restored and the database is marked incomplete: run pintu restore again")]
    Incomplete(Box<BackupError>),
    #[error("the database failed during the backup or restore")]
    Storage(#[from] StorageError),
}

impl BackupError {
    /// A write failure, named for what an operator can do about it.
    fn write(path: &Path, e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded | std::io::ErrorKind::FileTooLarge => {
                BackupError::Full(path.into())
            }
            std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
                BackupError::NotWritable(path.into())
            }
            _ => BackupError::Io { path: path.into(), source: e },
        }
    }
}

/// How to take a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakeOptions {
    /// Carry the key-encryption key.
    pub include_kek: bool,
    /// Leave most of the CPU to the server: slower, lighter (scheduled backups are gentle).
    pub gentle: bool,
}

/// A finished backup.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
    pub includes_kek: bool,
    pub seconds: f64,
    pub manifest: Manifest,
}

/// What `pintu backup verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub header: Header,
    pub includes_kek: bool,
    pub manifest: Manifest,
}

/// Takes backups of one installation.
#[derive(Clone)]
pub struct Backups {
    store: Store,
    audit: AuditRecorder,
    sealer: Arc<Sealer>,
    issuer: String,
    config_toml: Arc<str>,
}

impl Backups {
    pub fn new(store: Store, audit: AuditRecorder, sealer: Arc<Sealer>, issuer: String, config_toml: &str) -> Self {
        Self { store, audit, sealer, issuer, config_toml: Arc::from(config_toml) }
    }

    /// The store backups read (the scheduled job takes its lease there).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The latest backup run and the latest that succeeded.
    pub async fn latest(&self) -> Result<(Option<BackupRun>, Option<BackupRun>), BackupError> {
        Ok(self.store.backup_runs().latest().await?)
    }

    /// Writes an archive to `dest` (which must not exist) and records the run.
    pub async fn take(
        &self,
        dest: &Path,
        protection: Protection,
        options: TakeOptions,
        started_by: &str,
        now: i64,
    ) -> Result<BackupReport, BackupError> {
        let started = std::time::Instant::now();
        let result = self.write(dest, protection, options, now).await;
        let finished_at = now + started.elapsed().as_secs() as i64;
        let outcome = result.as_ref().map(|(r, bytes)| (r.manifest.rows, *bytes));
        self.record(dest, started_by, now, finished_at, outcome).await;
        let (mut report, _) = result?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Records a backup that could not even start (its encryption is misconfigured, say).
    pub async fn record_failure(&self, dest: &Path, started_by: &str, now: i64, error: &BackupError) {
        self.record(dest, started_by, now, now, Err(error)).await;
    }

    async fn record(
        &self,
        dest: &Path,
        started_by: &str,
        now: i64,
        finished_at: i64,
        outcome: Result<(u64, u64), &BackupError>,
    ) {
        let run = BackupRun {
            id: uuid::Uuid::now_v7().to_string(),
            started_at: now,
            finished_at,
            started_by: started_by.to_owned(),
            succeeded: outcome.is_ok(),
            destination: dest.display().to_string(),
            bytes: outcome.as_ref().map_or(0, |o| o.1 as i64),
            rows: outcome.as_ref().map_or(0, |o| o.0 as i64),
            error: outcome.err().map(|e| e.to_string()),
        };
        if let Err(e) = self.store.backup_runs().record(&run, now - KEEP_RUNS_SECS).await {
            tracing::warn!(error = %e, "cannot record the backup run");
        }
        let actor = if started_by == "scheduled" { ActorId::scheduler() } else { ActorId::cli() };
        let detail = serde_json::json!({ "rows": run.rows, "bytes": run.bytes, "error": run.error });
        let mut event = AuditEvent::admin(&actor, AdminChange::Backup, &run.destination, None, detail);
        if !run.succeeded {
            event.outcome = crate::audit::Outcome::Failure;
        }
        if let Err(e) = self.audit.record(event).await {
            tracing::warn!(error = %e, "cannot audit the backup run");
        }
    }

    async fn write(
        &self,
        dest: &Path,
        protection: Protection,
        options: TakeOptions,
        now: i64,
    ) -> Result<(BackupReport, u64), BackupError> {
        let TakeOptions { include_kek, gentle } = options;
        let (sender, mut items) = tokio::sync::mpsc::channel::<SnapshotItem>(16);
        let mut writer = ArchiveWriter::create(dest, &protection)?;
        let header = Header {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            pintu_version: env!("CARGO_PKG_VERSION").to_owned(),
            schema_version: 0,
            source_backend: self.store.backend().to_owned(),
            taken_at: now,
            issuer: self.issuer.clone(),
        };
        let config = self.config_toml.to_string();
        let kek = include_kek.then(|| (self.sealer.export(), self.sealer.export_others()));
        // The archive is written on a blocking thread while the snapshot streams into it.
        let writing = tokio::task::spawn_blocking(move || -> Result<_, BackupError> {
            let mut complete = false;
            while let Some(item) = items.blocking_recv() {
                match item {
                    SnapshotItem::Schema(version) => {
                        writer.record(&Record::Header(Header { schema_version: version, ..header.clone() }))?;
                        writer.record(&Record::Config { toml: config.clone() })?;
                        if let Some((kek, others)) = &kek {
                            let others = others.iter().map(|k| k.expose_secret().to_owned()).collect();
                            writer.record(&Record::Kek { kek: kek.expose_secret().to_owned(), others })?;
                        }
                    }
                    SnapshotItem::Table(shape) => writer.begin_table(&shape)?,
                    SnapshotItem::Rows(rows) => {
                        let began = std::time::Instant::now();
                        rows.iter().try_for_each(|r| writer.row(r))?;
                        if gentle {
                            std::thread::sleep(began.elapsed() * GENTLE_REST);
                        }
                    }
                    SnapshotItem::EndTable => writer.end_table()?,
                    SnapshotItem::Done => complete = true,
                }
            }
            // Without `Done` the snapshot failed: the writer is dropped and its file removed.
            if complete { writer.finish().map(Some) } else { Ok(None) }
        });
        let snapshot = self.store.snapshot(sender).await;
        let written = writing.await.map_err(|e| BackupError::Corrupt(format!("the writer stopped: {e}")))?;
        match (snapshot, written) {
            // A writer that failed stopped the snapshot: its error is the cause.
            (_, Err(e)) => Err(e),
            (Err(e), Ok(_)) => Err(e.into()),
            (Ok(_), Ok(None)) => Err(BackupError::Corrupt("the snapshot ended before its last table".into())),
            (Ok(schema_version), Ok(Some((manifest, bytes)))) => {
                let report = BackupReport {
                    path: dest.into(),
                    bytes,
                    schema_version,
                    includes_kek: include_kek,
                    seconds: 0.0,
                    manifest,
                };
                Ok((report, bytes))
            }
        }
    }
}

/// The encryption `[backup]` configures (recipients, or the passphrase in a file), if any.
pub fn configured_protection(config: &crate::config::BackupConfig) -> Result<Option<Protection>, BackupError> {
    if !config.recipients.is_empty() {
        return Protection::recipients(&config.recipients).map(Some);
    }
    match &config.passphrase_file {
        Some(path) => read_passphrase(path).map(|p| Some(Protection::Passphrase(p))),
        None => Ok(None),
    }
}

/// A passphrase from a file (its first line; `/dev/stdin` to pipe it). Refused when empty.
pub fn read_passphrase(path: &Path) -> Result<SecretString, BackupError> {
    let text = std::fs::read_to_string(path).map_err(|source| BackupError::Io { path: path.into(), source })?;
    let line = text.lines().next().unwrap_or_default().trim_end_matches('\r');
    if line.is_empty() {
        return Err(BackupError::BadKey(format!("{}: the passphrase is empty", path.display())));
    }
    Ok(SecretString::from(line.to_owned()))
}

/// The key-encryption keys an archive carries: the one that sealed, and earlier ones kept.
#[derive(Debug)]
pub struct ArchiveKeks {
    pub current: SecretString,
    pub others: Vec<SecretString>,
}

/// Reads a whole archive and checks it without restoring anything (its signing keys included,
/// when it carries its KEK).
pub fn verify(path: &Path, unlock: &Unlock) -> Result<(VerifyReport, Option<ArchiveKeks>), BackupError> {
    read_through(path, unlock, None)
}

/// `verify`, and checks that every signing key opens under the archive's KEKs or, when it
/// carries none, under `here` (the KEK of the node restoring it).
fn read_through(
    path: &Path,
    unlock: &Unlock,
    here: Option<&Sealer>,
) -> Result<(VerifyReport, Option<ArchiveKeks>), BackupError> {
    let mut reader = ArchiveReader::open(path, unlock)?;
    let header = read_header(&mut reader)?;
    let (mut kek, mut archive_sealer, mut sealed_column) = (None, None, None);
    loop {
        match reader.next_line()? {
            Some(Line::Record(Record::Kek { kek: k, others })) => {
                let keks = ArchiveKeks {
                    current: SecretString::from(k),
                    others: others.into_iter().map(SecretString::from).collect(),
                };
                let sealer = Sealer::from_exports(&keks.current, &keks.others);
                archive_sealer = Some(sealer.map_err(|e| BackupError::Kek(format!("the archive's KEK: {e}")))?);
                kek = Some(keks);
            }
            Some(Line::Record(Record::Table(shape))) => sealed_column = restore::sealed_column(&shape),
            Some(Line::Row(row)) => {
                if let (Some(i), Some(sealer)) = (sealed_column, archive_sealer.as_ref().or(here)) {
                    restore::check_sealed(&row, i, sealer)?;
                }
            }
            Some(Line::Record(Record::Manifest(manifest))) => {
                let report = VerifyReport { header, includes_kek: kek.is_some(), manifest };
                return Ok((report, kek));
            }
            Some(Line::Record(Record::Header(_))) => return Err(BackupError::Corrupt("a second header".into())),
            Some(Line::Record(_)) => {}
            None => return Err(BackupError::Truncated),
        }
    }
}

/// The first line, which must be a header of a format and schema this build reads.
fn read_header(reader: &mut ArchiveReader) -> Result<Header, BackupError> {
    let header = match reader.next_line()? {
        Some(Line::Record(Record::Header(h))) if h.format == FORMAT => h,
        _ => return Err(BackupError::NotAnArchive("it does not begin with a Pintu backup header".into())),
    };
    let supported = crate::storage::latest_schema_version();
    if header.format_version > FORMAT_VERSION || header.schema_version > supported {
        return Err(BackupError::Newer { format: header.format_version, schema: header.schema_version, supported });
    }
    Ok(header)
}

/// The file name of a scheduled backup taken at `now` (UTC, sortable).
pub fn scheduled_name(now: i64) -> String {
    let secs = now.rem_euclid(86400);
    let date = crate::domain::nip::Date::from_unix(now);
    format!(
        "{SCHEDULED_PREFIX}{:04}{:02}{:02}T{:02}{:02}{:02}Z{SCHEDULED_SUFFIX}",
        date.year,
        date.month,
        date.day,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Removes the oldest scheduled archives in `dir` beyond the newest `keep` (other files are
/// never touched). Returns the names removed.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<String>, BackupError> {
    let io = |source| BackupError::Io { path: dir.into(), source };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
        .filter(|n| n.starts_with(SCHEDULED_PREFIX) && n.ends_with(SCHEDULED_SUFFIX))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    let removed: Vec<String> = names.into_iter().take(excess).collect();
    for name in &removed {
        std::fs::remove_file(dir.join(name)).map_err(io)?;
    }
    Ok(removed)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
