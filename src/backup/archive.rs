//! The archive: age (a passphrase, or X25519 recipients) over gzip over JSON Lines. The only
//! user of `age` and `flate2`.
//!
//! Lines, in order: a `header` record; `config` (the configuration without secrets); `kek`
//! when the archive carries the key-encryption key; per table a `table` record (its columns),
//! its rows as JSON arrays, and an `end_table` record with the row count and the SHA-256 of
//! the row lines; last a `manifest` listing every table. age authenticates every 64 KiB chunk
//! and marks the last one, so a truncated or altered archive fails to decrypt; the counts and
//! hashes then check the content itself. Decrypted, an archive is `zcat`-readable text.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::storage::TableShape;

use super::BackupError;

pub const FORMAT: &str = "pintu-backup";
/// The newest format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The longest line read back (a row of the audit log or a stored report is far shorter).
const MAX_LINE: usize = 64 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    pub pintu_version: String,
    pub schema_version: i64,
    pub source_backend: String,
    pub taken_at: i64,
    pub issuer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub tables: Vec<TableSummary>,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    Config {
        toml: String,
    },
    /// The KEK and the earlier ones still kept (`kek.next.key`, `kek.retired`).
    Kek {
        kek: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        others: Vec<String>,
    },
    Table(TableShape),
    EndTable(TableSummary),
    Manifest(Manifest),
}

/// How an archive is encrypted.
pub enum Protection {
    Passphrase(SecretString),
    Recipients(Vec<age::x25519::Recipient>),
}

impl Protection {
    /// From age public keys (`age1…`).
    pub fn recipients(keys: &[String]) -> Result<Self, BackupError> {
        let parsed = keys
            .iter()
            .map(|k| k.trim().parse::<age::x25519::Recipient>().map_err(|e| BackupError::BadKey(format!("{k}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if parsed.is_empty() {
            return Err(BackupError::BadKey("no recipient given".into()));
        }
        Ok(Protection::Recipients(parsed))
    }
}

/// What opens an archive.
pub enum Unlock {
    Passphrase(SecretString),
    Identities(Vec<age::x25519::Identity>),
}

impl Unlock {
    /// The X25519 identities (`AGE-SECRET-KEY-1…` lines) of an age identity file.
    pub fn identity_file(path: &Path) -> Result<Self, BackupError> {
        let text = std::fs::read_to_string(path).map_err(|source| BackupError::Io { path: path.into(), source })?;
        let identities = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.parse::<age::x25519::Identity>().map_err(|_| BackupError::BadKey(format!("{}", path.display()))))
            .collect::<Result<Vec<_>, _>>()?;
        if identities.is_empty() {
            return Err(BackupError::BadKey(format!("{}: no AGE-SECRET-KEY-1 line", path.display())));
        }
        Ok(Unlock::Identities(identities))
    }
}

/// A new age key pair: (the identity file's text, the public key).
pub fn generate_key() -> (SecretString, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    (identity.to_string(), public)
}

type Sink = flate2::write::GzEncoder<age::stream::StreamWriter<BufWriter<File>>>;

/// Writes an archive into a hidden file beside `dest`, renamed to `dest` only once complete
/// and on disk: a backup that fails leaves nothing behind.
pub struct ArchiveWriter {
    sink: Option<Sink>,
    partial: PathBuf,
    dest: PathBuf,
    table: Option<(String, Sha256, u64)>,
    tables: Vec<TableSummary>,
    rows: u64,
    line: Vec<u8>,
}

impl ArchiveWriter {
    pub fn create(dest: &Path, protection: &Protection) -> Result<Self, BackupError> {
        if dest.exists() {
            return Err(BackupError::Exists(dest.into()));
        }
        let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let partial = dir.join(format!(".{name}.partial-{}", uuid::Uuid::new_v4().simple()));
        let file = private_file(&partial).map_err(|e| BackupError::write(dest, e))?;
        let encryptor = match protection {
            Protection::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
            Protection::Recipients(keys) => {
                age::Encryptor::with_recipients(keys.iter().map(|k| k as &dyn age::Recipient))
                    .map_err(|e| BackupError::BadKey(e.to_string()))?
            }
        };
        let mut writer = Self {
            sink: None,
            partial: partial.clone(),
            dest: dest.into(),
            table: None,
            tables: Vec::new(),
            rows: 0,
            line: Vec::with_capacity(4096),
        };
        let encrypted = encryptor.wrap_output(BufWriter::with_capacity(1 << 20, file)).map_err(|e| writer.fail(e))?;
        writer.sink = Some(flate2::write::GzEncoder::new(encrypted, flate2::Compression::fast()));
        Ok(writer)
    }

    fn fail(&self, e: std::io::Error) -> BackupError {
        BackupError::write(&self.dest, e)
    }

    fn write_line(&mut self) -> Result<(), BackupError> {
        self.line.push(b'\n');
        let result = match self.sink.as_mut() {
            Some(sink) => sink.write_all(&self.line),
            None => Err(std::io::Error::other("the archive is closed")),
        };
        result.map_err(|e| self.fail(e))
    }

    pub fn record(&mut self, record: &Record) -> Result<(), BackupError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record).map_err(|e| BackupError::Corrupt(e.to_string()))?;
        self.write_line()
    }

    pub fn begin_table(&mut self, shape: &TableShape) -> Result<(), BackupError> {
        self.record(&Record::Table(shape.clone()))?;
        self.table = Some((shape.name.clone(), Sha256::new(), 0));
        Ok(())
    }

    pub fn row(&mut self, values: &[Value]) -> Result<(), BackupError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, values).map_err(|e| BackupError::Corrupt(e.to_string()))?;
        if let Some((_, hash, count)) = self.table.as_mut() {
            hash.update(&self.line);
            *count += 1;
        }
        self.write_line()
    }

    pub fn end_table(&mut self) -> Result<(), BackupError> {
        let Some((name, hash, rows)) = self.table.take() else { return Ok(()) };
        let summary = TableSummary { name, rows, sha256: hex(&hash.finalize()) };
        self.rows += rows;
        self.tables.push(summary.clone());
        self.record(&Record::EndTable(summary))
    }

    /// Writes the manifest, closes gzip and age, syncs and renames into place.
    pub fn finish(mut self) -> Result<(Manifest, u64), BackupError> {
        let manifest = Manifest { tables: std::mem::take(&mut self.tables), rows: self.rows };
        self.record(&Record::Manifest(manifest.clone()))?;
        let sink = self.sink.take().ok_or_else(|| BackupError::Corrupt("the archive is closed".into()))?;
        let closed = sink.finish().and_then(|age| age.finish()).and_then(|buffered| {
            let file = buffered.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(file.metadata()?.len())
        });
        let bytes = closed.map_err(|e| self.fail(e))?;
        std::fs::rename(&self.partial, &self.dest).map_err(|e| self.fail(e))?;
        if let Some(dir) = self.dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok((manifest, bytes))
    }
}

impl Drop for ArchiveWriter {
    fn drop(&mut self) {
        // Not renamed: unfinished. (After a rename the partial name no longer exists.)
        let _ = std::fs::remove_file(&self.partial);
    }
}

fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line of an archive.
#[derive(Debug)]
pub enum Line {
    Record(Record),
    Row(Vec<Value>),
}

type Source = BufReader<flate2::read::GzDecoder<age::stream::StreamReader<BufReader<File>>>>;

/// Reads an archive line by line, checking each table's count and hash as it ends and the
/// manifest at the end.
pub struct ArchiveReader {
    source: Source,
    line: Vec<u8>,
    table: Option<(TableShape, Sha256, u64)>,
    seen: Vec<TableSummary>,
    done: bool,
}

impl ArchiveReader {
    pub fn open(path: &Path, unlock: &Unlock) -> Result<Self, BackupError> {
        let file = File::open(path).map_err(|source| BackupError::Io { path: path.into(), source })?;
        let decryptor = age::Decryptor::new(BufReader::new(file)).map_err(|e| decrypt_error(e, path))?;
        let reader = match unlock {
            Unlock::Passphrase(p) => {
                let identity = age::scrypt::Identity::new(p.clone());
                decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
            }
            Unlock::Identities(ids) => decryptor.decrypt(ids.iter().map(|i| i as &dyn age::Identity)),
        }
        .map_err(|e| decrypt_error(e, path))?;
        let source = BufReader::with_capacity(1 << 20, flate2::read::GzDecoder::new(reader));
        Ok(Self { source, line: Vec::new(), table: None, seen: Vec::new(), done: false })
    }

    /// The next line; `None` after the manifest (which must be the last line).
    pub fn next_line(&mut self) -> Result<Option<Line>, BackupError> {
        if self.done {
            return Ok(None);
        }
        self.line.clear();
        let n = (&mut self.source).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut self.line).map_err(read_error)?;
        if n == 0 {
            return Err(BackupError::Truncated);
        }
        if self.line.len() > MAX_LINE || self.line.last() != Some(&b'\n') {
            return Err(BackupError::Corrupt("a line is cut off or too long".into()));
        }
        if self.line.first() == Some(&b'[') {
            let Some((_, hash, rows)) = self.table.as_mut() else {
                return Err(BackupError::Corrupt("a row outside any table".into()));
            };
            hash.update(&self.line[..self.line.len() - 1]);
            *rows += 1;
            let values = serde_json::from_slice(&self.line).map_err(|e| BackupError::Corrupt(e.to_string()))?;
            return Ok(Some(Line::Row(values)));
        }
        let record: Record = serde_json::from_slice(&self.line).map_err(|e| BackupError::Corrupt(e.to_string()))?;
        match &record {
            Record::Table(shape) => {
                if self.table.is_some() {
                    return Err(BackupError::Corrupt(format!("table {} begins inside another", shape.name)));
                }
                self.table = Some((shape.clone(), Sha256::new(), 0));
            }
            Record::EndTable(summary) => {
                let (shape, hash, rows) =
                    self.table.take().ok_or_else(|| BackupError::Corrupt("a table ends that never began".into()))?;
                let found = TableSummary { name: shape.name, rows, sha256: hex(&hash.finalize()) };
                if &found != summary {
                    return Err(BackupError::Corrupt(format!(
                        "table {} does not match its count and hash",
                        found.name
                    )));
                }
                self.seen.push(found);
            }
            Record::Manifest(manifest) => {
                if self.table.is_some() || manifest.tables != self.seen {
                    return Err(BackupError::Corrupt("the manifest does not match the tables".into()));
                }
                let mut rest = [0u8; 1];
                if self.source.read(&mut rest).map_err(read_error)? != 0 {
                    return Err(BackupError::Corrupt("content after the manifest".into()));
                }
                self.done = true;
            }
            Record::Header(_) | Record::Config { .. } | Record::Kek { .. } => {}
        }
        Ok(Some(Line::Record(record)))
    }
}

fn decrypt_error(e: age::DecryptError, path: &Path) -> BackupError {
    match e {
        age::DecryptError::NoMatchingKeys
        | age::DecryptError::DecryptionFailed
        | age::DecryptError::KeyDecryptionFailed => BackupError::WrongKey,
        age::DecryptError::Io(source) if source.kind() == std::io::ErrorKind::UnexpectedEof => BackupError::Truncated,
        age::DecryptError::Io(source) => BackupError::Io { path: path.into(), source },
        age::DecryptError::ExcessiveWork { required, target } => BackupError::Corrupt(format!(
            "the passphrase's work factor {required} is far above this machine's {target}"
        )),
        age::DecryptError::UnknownFormat => BackupError::NotAnArchive("an age format this build does not know".into()),
        other => BackupError::NotAnArchive(other.to_string()),
    }
}

/// A read failure inside the decrypted stream: age reports a cut-off archive as an unexpected
/// end and an altered one as invalid data; gzip reports its own damage as invalid input.
fn read_error(e: std::io::Error) -> BackupError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => BackupError::Truncated,
        _ => BackupError::Corrupt(e.to_string()),
    }
}
