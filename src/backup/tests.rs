use std::path::PathBuf;

use secrecy::ExposeSecret;
use serde_json::Value;

use super::archive::{ArchiveWriter, Record};
use super::*;
use crate::storage::{ColumnKind, ColumnShape, TableShape};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pintu-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn header(schema_version: i64, format_version: u32) -> Header {
    Header {
        format: "pintu-backup".into(),
        format_version,
        pintu_version: "test".into(),
        schema_version,
        source_backend: "sqlite".into(),
        taken_at: 1_800_000_000,
        issuer: "https://sso.example".into(),
    }
}

/// An archive of one table with `rows` rows, encrypted to a fresh key.
fn archive(path: &std::path::Path, rows: usize, header: Header) -> Unlock {
    let (identity, public) = generate_key();
    let mut writer = ArchiveWriter::create(path, &Protection::recipients(&[public]).unwrap()).unwrap();
    writer.record(&Record::Header(header)).unwrap();
    let kek = crate::keys::Sealer::ephemeral().export().expose_secret().to_owned();
    writer.record(&Record::Kek { kek, others: vec![] }).unwrap();
    let shape =
        TableShape { name: "units".into(), columns: vec![ColumnShape { name: "id".into(), kind: ColumnKind::Text }] };
    writer.begin_table(&shape).unwrap();
    for i in 0..rows {
        // Random text, so the archive spans several of age's 64 KiB chunks after gzip.
        writer.row(&[Value::from(format!("unit-{i}-{}", uuid::Uuid::new_v4().simple()))]).unwrap();
    }
    writer.end_table().unwrap();
    writer.finish().unwrap();
    Unlock::Identities(vec![identity.expose_secret().parse().unwrap()])
}

#[test]
fn an_archive_verifies_with_its_key_and_counts() {
    let path = scratch("a.age");
    let unlock = archive(&path, 3, header(1, FORMAT_VERSION));
    let (report, kek) = verify(&path, &unlock).unwrap();
    assert_eq!(report.manifest.rows, 3);
    assert_eq!(report.manifest.tables[0].name, "units");
    assert!(report.includes_kek && kek.is_some());
    let (_, other) = generate_key();
    let _ = other;
    let (stranger, _) = generate_key();
    let wrong = Unlock::Identities(vec![stranger.expose_secret().parse().unwrap()]);
    assert!(matches!(verify(&path, &wrong), Err(BackupError::WrongKey)));
}

#[test]
fn a_truncated_or_altered_archive_is_refused() {
    let path = scratch("b.age");
    let unlock = archive(&path, 20_000, header(1, FORMAT_VERSION));
    let bytes = std::fs::read(&path).unwrap();
    // age: the header ends with its MAC line, then a 16-byte nonce, then chunks of 64 KiB
    // plus a 16-byte tag. Cut after the second chunk: age sees the last chunk missing.
    let mac_line = bytes.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let payload = mac_line + bytes[mac_line..].iter().position(|b| *b == b'\n').unwrap() + 1 + 16;
    assert!(bytes.len() > payload + 3 * 65_552, "the test archive spans several chunks");
    let cut = scratch("cut.age");
    std::fs::write(&cut, &bytes[..payload + 2 * 65_552]).unwrap();
    assert!(matches!(verify(&cut, &unlock), Err(BackupError::Truncated)), "{:?}", verify(&cut, &unlock).err());
    // Cut inside a chunk, the chunk fails authentication: damaged (no partial content is used).
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).unwrap();
    let err = verify(&cut, &unlock).unwrap_err();
    assert!(matches!(err, BackupError::Truncated | BackupError::Corrupt(_)), "{err:?}");
    let mut altered = bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 1;
    let bad = scratch("bad.age");
    std::fs::write(&bad, &altered).unwrap();
    assert!(matches!(verify(&bad, &unlock), Err(BackupError::Corrupt(_))), "{:?}", verify(&bad, &unlock).err());
    let junk = scratch("junk.age");
    std::fs::write(&junk, b"not an archive at all").unwrap();
    assert!(matches!(verify(&junk, &unlock), Err(BackupError::NotAnArchive(_))));
}

#[test]
fn an_archive_from_a_newer_version_is_refused() {
    let path = scratch("c.age");
    let unlock = archive(&path, 1, header(crate::storage::latest_schema_version() + 1, FORMAT_VERSION));
    assert!(matches!(verify(&path, &unlock), Err(BackupError::Newer { .. })));
    let path = scratch("d.age");
    let unlock = archive(&path, 1, header(1, FORMAT_VERSION + 1));
    assert!(matches!(verify(&path, &unlock), Err(BackupError::Newer { .. })));
}

#[test]
fn a_passphrase_archive_opens_only_with_that_passphrase() {
    let path = scratch("p.age");
    let secret = secrecy::SecretString::from("kata sandi cadangan yang panjang");
    let mut writer = ArchiveWriter::create(&path, &Protection::Passphrase(secret.clone())).unwrap();
    writer.record(&Record::Header(header(1, FORMAT_VERSION))).unwrap();
    writer.finish().unwrap();
    assert!(verify(&path, &Unlock::Passphrase(secret)).is_ok());
    let wrong = Unlock::Passphrase(secrecy::SecretString::from("salah"));
    assert!(matches!(verify(&path, &wrong), Err(BackupError::WrongKey)));
}

#[test]
fn an_existing_file_is_never_overwritten_and_a_failed_backup_leaves_nothing() {
    let path = scratch("e.age");
    std::fs::write(&path, b"keep me").unwrap();
    let (_, public) = generate_key();
    let protection = Protection::recipients(&[public]).unwrap();
    assert!(matches!(ArchiveWriter::create(&path, &protection), Err(BackupError::Exists(_))));
    let other = path.with_file_name("f.age");
    drop(ArchiveWriter::create(&other, &protection).unwrap());
    let dir = path.parent().unwrap();
    let names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["e.age"], "an unfinished archive is removed");
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
}

#[test]
fn scheduled_archives_are_named_by_time_and_pruned_oldest_first() {
    assert_eq!(scheduled_name(1_800_000_000), "pintu-backup-20270115T080000Z.age");
    let dir = scratch("x").parent().unwrap().to_path_buf();
    for t in [1_800_000_000, 1_800_086_400, 1_800_172_800] {
        std::fs::write(dir.join(scheduled_name(t)), b"").unwrap();
    }
    std::fs::write(dir.join("notes.txt"), b"").unwrap();
    let removed = prune(&dir, 2).unwrap();
    assert_eq!(removed, [scheduled_name(1_800_000_000)]);
    assert!(dir.join("notes.txt").exists() && dir.join(scheduled_name(1_800_172_800)).exists());
}

#[test]
fn write_failures_are_named_for_what_an_operator_can_do() {
    use std::io::{Error, ErrorKind};
    let at = std::path::Path::new("/media/backup/x.age");
    assert!(matches!(BackupError::write(at, Error::from(ErrorKind::StorageFull)), BackupError::Full(_)));
    assert!(matches!(BackupError::write(at, Error::from(ErrorKind::FileTooLarge)), BackupError::Full(_)));
    assert!(matches!(BackupError::write(at, Error::from(ErrorKind::ReadOnlyFilesystem)), BackupError::NotWritable(_)));
    assert!(matches!(BackupError::write(at, Error::from(ErrorKind::PermissionDenied)), BackupError::NotWritable(_)));
    let full = BackupError::write(at, Error::from(ErrorKind::StorageFull)).to_string();
    assert!(full.contains("/media/backup/x.age is full") && full.contains("nothing was written"), "{full}");
}
