//! `pintu restore`: an archive back into an empty database of either backend.
//!
//! The archive is read through once and checked before the database is touched (a damaged
//! archive changes nothing), then read again into one transaction (`storage/restore.rs`): a
//! restore interrupted halfway leaves a database marked incomplete, which every command and
//! `serve` refuse until a restore completes.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Serialize;

use crate::keys::Sealer;
use crate::storage::{Db, Loader};

use super::archive::{ArchiveReader, Line, Record};
use super::{BackupError, Unlock, read_header, read_through};

/// The signing keys' table and sealed column: an archive without the KEK must open under the
/// KEK the restored node has, which the restore checks row by row.
const SEALED_TABLE: &str = "signing_keys";
const SEALED_COLUMN: &str = "sealed_private";

pub struct RestoreRequest<'a> {
    pub archive: PathBuf,
    pub unlock: Unlock,
    pub database_url: &'a str,
    pub keys_dir: &'a Path,
    pub configured_kek: Option<&'a SecretString>,
    /// Replace whatever the database holds.
    pub force: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub tables: usize,
    pub rows: u64,
    pub schema_version: i64,
    pub source_backend: String,
    pub taken_at: i64,
    /// The archive's KEK was written to the keys directory (it had none).
    pub kek_installed: bool,
    /// The database held rows (or an interrupted restore) and was replaced.
    pub replaced: bool,
    pub seconds: f64,
}

pub async fn restore(request: RestoreRequest<'_>) -> Result<RestoreReport, BackupError> {
    let started = std::time::Instant::now();
    // The cheap refusals first: a database with data, a node without a usable KEK.
    let db = Db::connect(request.database_url).await?;
    let target = db.restore_target().await?;
    if !target.is_empty() && !request.force {
        return Err(BackupError::NotEmpty(target.tables_with_rows));
    }
    let replaced = !target.is_empty() || target.interrupted;
    let existing = Sealer::existing(request.keys_dir, request.configured_kek).map_err(kek_problem)?;

    // The whole archive, checked before anything changes: its rows, and its signing keys
    // against the KEK they will be opened with.
    let archive = request.archive.clone();
    let unlock = std::sync::Arc::new(request.unlock);
    let checking = unlock.clone();
    let (checked, archive_kek, existing) = tokio::task::spawn_blocking(move || {
        read_through(&archive, &checking, existing.as_ref()).map(|(report, keks)| (report, keks, existing))
    })
    .await
    .map_err(|e| BackupError::Corrupt(format!("the reader stopped: {e}")))??;
    let header = checked.header;

    let archive_sealer =
        archive_kek.as_ref().map(|k| Sealer::from_exports(&k.current, &k.others)).transpose().map_err(kek_problem)?;
    let (install, sealer) = match (existing, archive_sealer) {
        (Some(here), Some(there)) if !here.same_kek(&there) => {
            return Err(BackupError::Kek(
                "this node already has a different key-encryption key (keys/kek.key or the kek setting): the \
                 archive's keys would not open. Restore on a node without one, or move it aside first"
                    .into(),
            ));
        }
        (Some(_), _) => (false, None),
        (None, Some(there)) => (true, Some(there)),
        (None, None) => {
            return Err(BackupError::Kek(
                "the archive does not carry the key-encryption key and this node has none: put the KEK the \
                 backup was taken under in keys/kek.key (or the kek setting) first"
                    .into(),
            ));
        }
    };
    if let Some(sealer) = sealer {
        sealer.install(request.keys_dir).map_err(kek_problem)?;
    }

    let wipe = target.schema_version.is_some() || target.interrupted;
    let loaded = async {
        db.prepare_restore(header.schema_version, wipe).await?;
        let loader = db.load().await?;
        load(loader, request.archive, unlock).await
    };
    let rows = loaded.await.map_err(|e| BackupError::Incomplete(Box::new(e)))?;
    db.finish_restore().await?;
    db.close().await;
    Ok(RestoreReport {
        tables: checked.manifest.tables.len(),
        rows,
        schema_version: header.schema_version,
        source_backend: header.source_backend,
        taken_at: header.taken_at,
        kek_installed: install,
        replaced,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn kek_problem(e: crate::keys::KeyError) -> BackupError {
    BackupError::Kek(format!("key-encryption key: {e}"))
}

/// What the reading thread hands the loader.
enum Batch {
    Table(crate::storage::TableShape),
    Rows(Vec<Vec<serde_json::Value>>),
    Done,
}

/// Reads the archive again on a blocking thread and loads it; commits only after the
/// manifest checked out. Returns the rows loaded.
async fn load(mut loader: Loader, archive: PathBuf, unlock: std::sync::Arc<Unlock>) -> Result<u64, BackupError> {
    let (sender, mut batches) = tokio::sync::mpsc::channel::<Result<Batch, BackupError>>(8);
    let reading = tokio::task::spawn_blocking(move || {
        let result = read_batches(&archive, &unlock, &sender);
        if let Err(e) = result {
            let _ = sender.blocking_send(Err(e));
        }
    });
    let mut rows = 0u64;
    let mut complete = false;
    while let Some(batch) = batches.recv().await {
        match batch? {
            Batch::Table(shape) => loader.table(&shape)?,
            Batch::Rows(batch) => {
                rows += batch.len() as u64;
                loader.rows(&batch).await?;
            }
            Batch::Done => complete = true,
        }
    }
    let _ = reading.await;
    if !complete {
        return Err(BackupError::Truncated);
    }
    loader.finish().await?;
    Ok(rows)
}

/// Where a table's sealed signing keys are, if it is the signing keys' table.
pub(super) fn sealed_column(shape: &crate::storage::TableShape) -> Option<usize> {
    (shape.name == SEALED_TABLE).then(|| shape.columns.iter().position(|c| c.name == SEALED_COLUMN)).flatten()
}

/// Refuses a signing key that does not open under `sealer`.
pub(super) fn check_sealed(row: &[serde_json::Value], column: usize, sealer: &Sealer) -> Result<(), BackupError> {
    let opens = row.get(column).and_then(|v| v.as_str()).is_some_and(|sealed| sealer.open(sealed).is_ok());
    if opens {
        return Ok(());
    }
    Err(BackupError::Kek(
        "the archive's signing keys do not open with this key-encryption key: use the KEK the backup was taken \
         under"
            .into(),
    ))
}

fn read_batches(
    archive: &Path,
    unlock: &Unlock,
    sender: &tokio::sync::mpsc::Sender<Result<Batch, BackupError>>,
) -> Result<(), BackupError> {
    let send = |batch| sender.blocking_send(Ok(batch)).map_err(|_| BackupError::Corrupt("the loader stopped".into()));
    let mut reader = ArchiveReader::open(archive, unlock)?;
    read_header(&mut reader)?;
    let mut rows = Vec::with_capacity(1000);
    while let Some(line) = reader.next_line()? {
        match line {
            Line::Row(values) => {
                rows.push(values);
                if rows.len() == 1000 {
                    send(Batch::Rows(std::mem::take(&mut rows)))?;
                }
            }
            Line::Record(Record::Table(shape)) => send(Batch::Table(shape))?,
            Line::Record(Record::EndTable(_)) => {
                if !rows.is_empty() {
                    send(Batch::Rows(std::mem::take(&mut rows)))?;
                }
            }
            Line::Record(Record::Manifest(_)) => send(Batch::Done)?,
            Line::Record(Record::Header(_) | Record::Config { .. } | Record::Kek { .. }) => {}
        }
    }
    Ok(())
}
