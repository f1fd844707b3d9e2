//! Whole-database copies for backups, independent of the backend: every table as it stood at
//! one moment, as rows of portable values (integers, text, booleans, NULL), parents before
//! children. A backup reads them here (`Store::snapshot`); a restore writes them back through
//! `restore.rs`, into either backend.
//!
//! The tables and their columns are read from the database itself, so a migration that adds a
//! table adds it to every backup; only the migrations' own bookkeeping, the job leases (which
//! name the nodes running now) and the restore marker are left out.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use tokio::sync::mpsc;

use super::restore::RESTORE_MARKER;
use super::{Db, StorageError};

/// Tables a backup leaves out.
pub const NOT_COPIED: &[&str] = &["_sqlx_migrations", "job_leases", RESTORE_MARKER];
/// Rows per batch sent to the backup's writer.
const BATCH: usize = 1000;

/// A column's portable type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Int,
    Text,
    Bool,
}

impl ColumnKind {
    /// From a declared type (SQLite's `BIGINT`, `INTEGER`, `BOOLEAN`, `TEXT`; PostgreSQL's
    /// `bigint`, `integer`, `boolean`, `text`).
    fn of(declared: &str) -> Self {
        let declared = declared.to_ascii_lowercase();
        if declared.contains("bool") {
            ColumnKind::Bool
        } else if declared.contains("int") {
            ColumnKind::Int
        } else {
            ColumnKind::Text
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnShape {
    pub name: String,
    pub kind: ColumnKind,
}

/// A table's name and columns, in the database's column order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableShape {
    pub name: String,
    pub columns: Vec<ColumnShape>,
}

/// What a snapshot sends, in order: for each table its shape, its rows in batches, its end.
#[derive(Debug)]
pub enum SnapshotItem {
    /// First: the schema version of the copy.
    Schema(i64),
    Table(TableShape),
    Rows(Vec<Vec<Value>>),
    EndTable,
    /// Last, once every table was read: a copy without it is incomplete.
    Done,
}

/// A table as the database describes it, with the foreign keys that order it.
#[derive(Debug, Clone)]
pub(super) struct TableInfo {
    pub(super) shape: TableShape,
    /// (column, referenced table, referenced column)
    pub(super) references: Vec<(String, String, String)>,
}

/// The schema version (the newest migration applied), if the database has been migrated.
pub(super) async fn schema_version(db: &Db) -> Result<Option<i64>, StorageError> {
    let tables = table_names(db).await?;
    if !tables.contains("_sqlx_migrations") {
        return Ok(None);
    }
    let sql = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
    Ok(super::on_pool!(db, |pool| sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(pool).await)?)
}

pub(super) async fn table_names(db: &Db) -> Result<BTreeSet<String>, StorageError> {
    let sql = match db {
        Db::Sqlite(_) => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        Db::Postgres(_) => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let names: Vec<String> = super::on_pool!(db, |pool| sqlx::query_scalar(sql).fetch_all(pool).await)?;
    Ok(names.into_iter().collect())
}

/// Every table with its columns and foreign keys, parents before children (ties by name).
pub(super) async fn tables(db: &Db) -> Result<Vec<TableInfo>, StorageError> {
    let (columns_sql, references_sql) = match db {
        Db::Sqlite(_) => (
            "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list($1)",
        ),
        Db::Postgres(_) => (
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            "SELECT kcu.column_name::text, ccu.table_name::text, ccu.column_name::text \
             FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu \
               ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema \
             JOIN information_schema.constraint_column_usage ccu \
               ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() \
               AND tc.table_name = $1",
        ),
    };
    let mut infos = BTreeMap::new();
    for name in table_names(db).await? {
        if NOT_COPIED.contains(&name.as_str()) {
            continue;
        }
        let columns: Vec<(String, String)> =
            super::on_pool!(db, |pool| sqlx::query_as(columns_sql).bind(&name).fetch_all(pool).await)?;
        let references: Vec<(String, String, String)> =
            super::on_pool!(db, |pool| sqlx::query_as(references_sql).bind(&name).fetch_all(pool).await)?;
        let columns =
            columns.into_iter().map(|(name, declared)| ColumnShape { kind: ColumnKind::of(&declared), name }).collect();
        infos.insert(name.clone(), TableInfo { shape: TableShape { name, columns }, references });
    }
    Ok(parents_first(infos))
}

/// Orders tables so every table comes after the tables it references (Kahn's algorithm; a
/// cycle, which the schema does not have, would keep the remaining tables in name order).
fn parents_first(mut infos: BTreeMap<String, TableInfo>) -> Vec<TableInfo> {
    let mut ordered = Vec::with_capacity(infos.len());
    while !infos.is_empty() {
        let ready: Vec<String> = infos
            .iter()
            .filter(|(name, info)| {
                info.references.iter().all(|(_, parent, _)| parent == *name || !infos.contains_key(parent))
            })
            .map(|(name, _)| name.clone())
            .collect();
        let take = if ready.is_empty() { infos.keys().cloned().collect() } else { ready };
        for name in take {
            if let Some(info) = infos.remove(&name) {
                ordered.push(info);
            }
        }
    }
    ordered
}

/// Reads every table inside one read-only transaction (SQLite: one read snapshot of the WAL;
/// PostgreSQL: REPEATABLE READ), so the copy is consistent as of one moment while the server
/// goes on writing. Returns the schema version; stops with `Cancelled` when `out` is closed.
pub(super) async fn snapshot(db: &Db, out: mpsc::Sender<SnapshotItem>) -> Result<i64, StorageError> {
    let tables = tables(db).await?;
    // The same reads on either backend's transaction type.
    macro_rules! read_all {
        ($tx:expr, $values:expr) => {{
            let mut tx = $tx;
            // The first read fixes the snapshot; everything below reads the same one.
            let sql = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
            let version: Option<i64> = sqlx::query_scalar(sql).fetch_one(&mut *tx).await?;
            let version = version.ok_or(StorageError::NotFound)?;
            send(&out, SnapshotItem::Schema(version)).await?;
            for info in &tables {
                let sql = select_sql(&info.shape);
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx).map_err(StorageError::from);
                send_table(info, rows, $values, &out).await?;
            }
            tx.rollback().await?;
            send(&out, SnapshotItem::Done).await?;
            Ok(version)
        }};
    }
    match db {
        Db::Sqlite(pool) => read_all!(pool.begin().await?, sqlite_values),
        Db::Postgres(pool) => {
            read_all!(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?, pg_values)
        }
    }
}

fn select_sql(shape: &TableShape) -> String {
    let columns: Vec<String> = shape.columns.iter().map(|c| quoted(&c.name)).collect();
    format!("SELECT {} FROM {}", columns.join(", "), quoted(&shape.name))
}

/// A name from the database's own catalogue, quoted as an identifier.
pub(super) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn send_table<R>(
    info: &TableInfo,
    mut rows: impl futures_util::Stream<Item = Result<R, StorageError>> + Unpin,
    values: fn(&R, &TableShape) -> Result<Vec<Value>, StorageError>,
    out: &mpsc::Sender<SnapshotItem>,
) -> Result<(), StorageError> {
    send(out, SnapshotItem::Table(info.shape.clone())).await?;
    // A table that references itself (a unit's parent unit) is sent parents first, so a
    // restore's foreign keys hold row by row.
    let own = info.references.iter().find(|(_, parent, _)| *parent == info.shape.name);
    let mut held = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(row) = rows.try_next().await? {
        let row = values(&row, &info.shape)?;
        if own.is_some() {
            held.push(row);
            continue;
        }
        batch.push(row);
        if batch.len() == BATCH {
            send(out, SnapshotItem::Rows(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))).await?;
        }
    }
    if let Some((column, _, target)) = own {
        batch = self_ordered(held, &info.shape, column, target);
    }
    for chunk in batch.chunks(BATCH) {
        send(out, SnapshotItem::Rows(chunk.to_vec())).await?;
    }
    send(out, SnapshotItem::EndTable).await
}

async fn send(out: &mpsc::Sender<SnapshotItem>, item: SnapshotItem) -> Result<(), StorageError> {
    out.send(item).await.map_err(|_| StorageError::Cancelled)
}

/// Rows of a self-referencing table with every referenced row before the rows that reference
/// it (rows whose parent is missing or in a cycle come last, in their original order).
fn self_ordered(mut rows: Vec<Vec<Value>>, shape: &TableShape, column: &str, target: &str) -> Vec<Vec<Value>> {
    let index = |name: &str| shape.columns.iter().position(|c| c.name == name);
    let (Some(child), Some(key)) = (index(column), index(target)) else { return rows };
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::with_capacity(rows.len());
    loop {
        let before = rows.len();
        let (ready, waiting): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|r| r[child].is_null() || placed.contains(&r[child].to_string()));
        for row in ready {
            placed.insert(row[key].to_string());
            ordered.push(row);
        }
        rows = waiting;
        if rows.is_empty() || rows.len() == before {
            break;
        }
    }
    ordered.extend(rows);
    ordered
}

fn sqlite_values(row: &sqlx::sqlite::SqliteRow, shape: &TableShape) -> Result<Vec<Value>, StorageError> {
    let mut values = Vec::with_capacity(shape.columns.len());
    for (i, column) in shape.columns.iter().enumerate() {
        values.push(match column.kind {
            ColumnKind::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::from),
            ColumnKind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::from),
            ColumnKind::Text => row.try_get::<Option<String>, _>(i)?.map(Value::from),
        });
    }
    Ok(values.into_iter().map(|v| v.unwrap_or(Value::Null)).collect())
}

fn pg_values(row: &sqlx::postgres::PgRow, shape: &TableShape) -> Result<Vec<Value>, StorageError> {
    use sqlx::{TypeInfo, ValueRef};
    let mut values = Vec::with_capacity(shape.columns.len());
    for (i, column) in shape.columns.iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let narrow = raw.type_info().name() == "INT4";
        let value = match column.kind {
            ColumnKind::Int if narrow => row.try_get::<Option<i32>, _>(i)?.map(Value::from),
            ColumnKind::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::from),
            ColumnKind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::from),
            ColumnKind::Text => row.try_get::<Option<String>, _>(i)?.map(Value::from),
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, parents: &[&str]) -> (String, TableInfo) {
        let references = parents.iter().map(|p| ("x".to_owned(), (*p).to_owned(), "id".to_owned())).collect();
        (name.to_owned(), TableInfo { shape: TableShape { name: name.to_owned(), columns: vec![] }, references })
    }

    #[test]
    fn tables_come_after_the_tables_they_reference() {
        let infos = BTreeMap::from([
            info("a_grants", &["users", "clients"]),
            info("clients", &["units"]),
            info("units", &["units"]),
            info("users", &["units"]),
        ]);
        let order: Vec<String> = parents_first(infos).into_iter().map(|i| i.shape.name).collect();
        assert_eq!(order, ["units", "clients", "users", "a_grants"]);
    }

    #[test]
    fn a_self_referencing_table_sends_parents_first() {
        let shape = TableShape {
            name: "units".into(),
            columns: vec![
                ColumnShape { name: "id".into(), kind: ColumnKind::Text },
                ColumnShape { name: "parent_id".into(), kind: ColumnKind::Text },
            ],
        };
        let row = |id: &str, parent: Option<&str>| vec![Value::from(id), parent.map_or(Value::Null, Value::from)];
        let rows = vec![row("c", Some("b")), row("b", Some("a")), row("a", None), row("x", Some("missing"))];
        let ordered = self_ordered(rows, &shape, "parent_id", "id");
        let ids: Vec<&str> = ordered.iter().map(|r| r[0].as_str().unwrap()).collect();
        assert_eq!(ids, ["a", "b", "c", "x"]);
    }

    #[test]
    fn declared_types_map_to_portable_kinds() {
        assert_eq!(ColumnKind::of("BIGINT"), ColumnKind::Int);
        assert_eq!(ColumnKind::of("integer"), ColumnKind::Int);
        assert_eq!(ColumnKind::of("BOOLEAN"), ColumnKind::Bool);
        assert_eq!(ColumnKind::of("text"), ColumnKind::Text);
    }
}
