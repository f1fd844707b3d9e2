//! Writing a snapshot back (`snapshot.rs` reads it), into either backend.
//!
//! A restore first writes a marker table (committed on its own), then empties the database if
//! told to, migrates it to the snapshot's schema version, and loads every row in ONE
//! transaction that also drops the marker. Interrupted anywhere, the rows roll back and the
//! marker stays: `Store::open` (every command, `serve` included) refuses such a database, and
//! only a new restore clears it. The remaining migrations run after the load.

use serde_json::Value;

use super::snapshot::{ColumnKind, NOT_COPIED, TableShape, quoted, schema_version, table_names, tables};
use super::{Db, StorageError, Tx, migrations, on_tx};

/// The table whose presence says a restore began and did not finish.
pub const RESTORE_MARKER: &str = "pintu_restore_in_progress";
/// Bound values per INSERT statement. PostgreSQL allows 65,535 and each statement is a round
/// trip, so many; SQLite finds a numbered parameter's name by a linear scan, so binding costs
/// the square of the count: a few hundred (measured on 100,000 accounts, 200,114 rows: 13,500
/// per statement took 52.8 s, 512 took 4.6 s).
const MAX_BINDS_POSTGRES: usize = 30_000;
const MAX_BINDS_SQLITE: usize = 512;
const MAX_ROWS_PER_INSERT: usize = 500;
/// Rows the migrations themselves insert (the built-in administrator roles, `created_at` 0):
/// a database holding only these is empty.
const SEEDED: &[(&str, &str)] = &[("roles", "created_at <> 0")];

/// What a database holds before a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreTarget {
    /// Tables that hold rows (the ones a backup copies).
    pub tables_with_rows: Vec<String>,
    /// A restore into it began and did not finish.
    pub interrupted: bool,
    pub schema_version: Option<i64>,
}

impl RestoreTarget {
    pub fn is_empty(&self) -> bool {
        self.tables_with_rows.is_empty()
    }
}

impl Db {
    /// Whether a restore began here and did not finish.
    pub async fn restore_interrupted(&self) -> Result<bool, StorageError> {
        Ok(table_names(self).await?.contains(RESTORE_MARKER))
    }

    pub async fn restore_target(&self) -> Result<RestoreTarget, StorageError> {
        let mut tables_with_rows = Vec::new();
        for info in tables(self).await? {
            let name = &info.shape.name;
            let filter = SEEDED.iter().find(|(t, _)| t == name).map_or(String::new(), |(_, f)| format!(" WHERE {f}"));
            let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {}{filter} LIMIT 1) AS one", quoted(name));
            let sql = sqlx::AssertSqlSafe(sql);
            let n: i64 = super::on_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await)?;
            if n > 0 {
                tables_with_rows.push(info.shape.name);
            }
        }
        Ok(RestoreTarget {
            tables_with_rows,
            interrupted: self.restore_interrupted().await?,
            schema_version: schema_version(self).await?,
        })
    }

    /// Marks the database as being restored, empties it when `wipe` (every table, view of the
    /// data and function Pintu's migrations made), and migrates it to `version`.
    pub async fn prepare_restore(&self, version: i64, wipe: bool) -> Result<(), StorageError> {
        let create = format!("CREATE TABLE IF NOT EXISTS {RESTORE_MARKER} (started_at BIGINT NOT NULL)");
        super::on_pool!(self, |pool| sqlx::query(sqlx::AssertSqlSafe(create)).execute(pool).await.map(|_| ()))?;
        if wipe {
            self.wipe().await?;
        }
        let migrator = match self {
            Db::Sqlite(_) => migrations::sqlite_until(version),
            Db::Postgres(_) => migrations::postgres_until(version),
        };
        match self {
            Db::Sqlite(pool) => migrator.run(pool).await,
            Db::Postgres(pool) => migrator.run(pool).await,
        }
        .map_err(StorageError::Migrate)
    }

    /// Drops every table but the marker, children first (and, on PostgreSQL, the functions
    /// in the schema, which the audit log's append-only trigger uses).
    async fn wipe(&self) -> Result<(), StorageError> {
        let mut names: Vec<String> = tables(self).await?.into_iter().map(|t| t.shape.name).collect();
        names.reverse();
        names.extend(
            table_names(self).await?.into_iter().filter(|n| n != RESTORE_MARKER && NOT_COPIED.contains(&n.as_str())),
        );
        match self {
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
                for name in &names {
                    let sql = format!("DROP TABLE IF EXISTS {}", quoted(name));
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
                }
                sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for name in &names {
                    let sql = format!("DROP TABLE IF EXISTS {} CASCADE", quoted(name));
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
                }
                let functions: Vec<String> = sqlx::query_scalar(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace",
                )
                .fetch_all(&mut *tx)
                .await?;
                for function in functions {
                    let sql = format!("DROP FUNCTION IF EXISTS {function} CASCADE");
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Starts loading rows (one transaction; nothing is visible until `finish`). The rows
    /// the migrations seeded (built-in roles) go first, children first: the archive holds them
    /// as they were.
    ///
    /// Secondary indexes are dropped first and made again in `finish` (inside the same
    /// transaction): built once from sorted data instead of updated row by row, as pg_restore
    /// does. Indexes behind primary keys and unique constraints stay.
    pub async fn load(&self) -> Result<Loader, StorageError> {
        let shapes: Vec<TableShape> = tables(self).await?.into_iter().map(|t| t.shape).collect();
        let indexes_sql = match self {
            Db::Sqlite(_) => {
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
            }
            Db::Postgres(_) => {
                "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
                 AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE connamespace = current_schema()::regnamespace) \
                 ORDER BY indexname"
            }
        };
        let mut tx = self.begin().await?;
        let indexes: Vec<(String, String)> = on_tx!(&mut tx, |conn| sqlx::query_as(indexes_sql).fetch_all(conn).await)?;
        let setup: &[&str] = match self {
            // A large page cache: a million-row transaction otherwise spills pages to the WAL
            // again and again.
            Db::Sqlite(_) => &["PRAGMA cache_size = -262144"],
            Db::Postgres(_) => &["SET LOCAL maintenance_work_mem = '256MB'"],
        };
        let drops = indexes.iter().map(|(name, _)| format!("DROP INDEX {}", quoted(name)));
        let deletes = shapes.iter().rev().map(|shape| format!("DELETE FROM {}", quoted(&shape.name)));
        for sql in setup.iter().map(|s| (*s).to_owned()).chain(drops).chain(deletes) {
            on_tx!(&mut tx, |conn| sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(|_| ()))?;
        }
        let indexes = indexes.into_iter().map(|(_, create)| create).collect();
        Ok(Loader { tx, shapes, indexes, current: None })
    }

    /// Applies the migrations newer than the restored snapshot.
    pub async fn finish_restore(&self) -> Result<(), StorageError> {
        self.migrate().await
    }
}

/// The table being loaded.
struct Current {
    shape: TableShape,
    /// Each archive column's type in the target.
    kinds: Vec<ColumnKind>,
    per_insert: usize,
    /// The INSERT of `per_insert` rows, built once per table.
    full: String,
}

/// Rows going into one transaction, table by table.
pub struct Loader {
    tx: Tx,
    shapes: Vec<TableShape>,
    /// The secondary indexes dropped for the load, as the statements that make them again.
    indexes: Vec<String>,
    /// The table being loaded: its shape as the archive gave it, and where each archive
    /// column goes in the target's.
    current: Option<Current>,
}

impl Loader {
    /// Starts a table. Its name and columns must be the target's own (same schema version):
    /// names that are not are refused, so nothing from the archive reaches SQL unchecked.
    pub fn table(&mut self, shape: &TableShape) -> Result<(), StorageError> {
        let target = self.shapes.iter().find(|s| s.name == shape.name).ok_or_else(|| StorageError::Corrupt {
            table: "backup",
            reason: format!("table {} is not in this database's schema", shape.name),
        })?;
        let mut kinds = Vec::with_capacity(shape.columns.len());
        for column in &shape.columns {
            let own = target.columns.iter().find(|c| c.name == column.name).ok_or_else(|| StorageError::Corrupt {
                table: "backup",
                reason: format!("column {}.{} is not in this database's schema", shape.name, column.name),
            })?;
            kinds.push(own.kind);
        }
        let max_binds = match self.tx {
            Tx::Sqlite(_) => MAX_BINDS_SQLITE,
            Tx::Postgres(_) => MAX_BINDS_POSTGRES,
        };
        let per_insert = (max_binds / shape.columns.len().max(1)).clamp(1, MAX_ROWS_PER_INSERT);
        let full = insert_sql(shape, per_insert);
        self.current = Some(Current { shape: shape.clone(), kinds, per_insert, full });
        Ok(())
    }

    /// Inserts rows of the current table, several per statement.
    pub async fn rows(&mut self, rows: &[Vec<Value>]) -> Result<(), StorageError> {
        let Some(Current { shape, kinds, per_insert, full }) = &self.current else {
            return Err(StorageError::Corrupt { table: "backup", reason: "rows before any table".into() });
        };
        let width = shape.columns.len();
        for chunk in rows.chunks(*per_insert) {
            if let Some(bad) = chunk.iter().find(|r| r.len() != shape.columns.len()) {
                return Err(StorageError::Corrupt {
                    table: "backup",
                    reason: format!("a row of {} has {} values for {} columns", shape.name, bad.len(), width),
                });
            }
            let values = chunk
                .iter()
                .flat_map(|row| row.iter().zip(kinds))
                .map(|(value, kind)| bound(value, *kind))
                .collect::<Option<Vec<Bound>>>()
                .ok_or_else(|| StorageError::Corrupt {
                    table: "backup",
                    reason: format!("a value in {} does not fit its column's type", shape.name),
                })?;
            let sql = if chunk.len() == *per_insert { full.clone() } else { insert_sql(shape, chunk.len()) };
            on_tx!(&mut self.tx, |conn| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for value in values {
                    query = match value {
                        Bound::Int(v) => query.bind(v),
                        Bound::Bool(v) => query.bind(v),
                        Bound::Text(v) => query.bind(v),
                    };
                }
                query.execute(conn).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Ends the restore: makes the indexes again (a unique one fails on duplicate rows, and
    /// then nothing is restored), drops the marker and commits every row at once.
    pub async fn finish(mut self) -> Result<(), StorageError> {
        let drop_marker = format!("DROP TABLE {RESTORE_MARKER}");
        for sql in std::mem::take(&mut self.indexes).into_iter().chain([drop_marker]) {
            on_tx!(&mut self.tx, |conn| sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(|_| ()))?;
        }
        self.tx.commit().await
    }
}

fn insert_sql(shape: &TableShape, rows: usize) -> String {
    let columns: Vec<String> = shape.columns.iter().map(|c| quoted(&c.name)).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", quoted(&shape.name), columns.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..shape.columns.len() {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    sql
}

/// A value as the target column's type takes it (NULL typed too: PostgreSQL needs it).
enum Bound {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
}

/// `None` for a value of another type (a string in an integer column, a fraction): refused,
/// never stored as NULL.
fn bound(value: &Value, kind: ColumnKind) -> Option<Bound> {
    Some(match (kind, value) {
        (ColumnKind::Int, Value::Null) => Bound::Int(None),
        (ColumnKind::Int, Value::Bool(b)) => Bound::Int(Some(i64::from(*b))),
        (ColumnKind::Int, Value::Number(n)) => Bound::Int(Some(n.as_i64()?)),
        (ColumnKind::Bool, Value::Null) => Bound::Bool(None),
        (ColumnKind::Bool, Value::Bool(b)) => Bound::Bool(Some(*b)),
        (ColumnKind::Bool, Value::Number(n)) => Bound::Bool(Some(n.as_i64()? != 0)),
        (ColumnKind::Text, Value::Null) => Bound::Text(None),
        (ColumnKind::Text, Value::String(s)) => Bound::Text(Some(s.clone())),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::snapshot::ColumnShape;

    #[test]
    fn one_insert_carries_several_rows_with_numbered_placeholders() {
        let shape = TableShape {
            name: "units".into(),
            columns: vec![
                ColumnShape { name: "id".into(), kind: ColumnKind::Text },
                ColumnShape { name: "level".into(), kind: ColumnKind::Int },
            ],
        };
        assert_eq!(insert_sql(&shape, 2), "INSERT INTO \"units\" (\"id\", \"level\") VALUES ($1, $2), ($3, $4)");
    }

    #[test]
    fn booleans_and_integers_cross_between_backends() {
        assert!(matches!(bound(&Value::from(1), ColumnKind::Bool), Some(Bound::Bool(Some(true)))));
        assert!(matches!(bound(&Value::from(false), ColumnKind::Int), Some(Bound::Int(Some(0)))));
        assert!(matches!(bound(&Value::Null, ColumnKind::Text), Some(Bound::Text(None))));
        assert!(matches!(bound(&Value::Null, ColumnKind::Int), Some(Bound::Int(None))));
        assert!(bound(&Value::from("7"), ColumnKind::Int).is_none(), "a string is not an integer");
        assert!(bound(&Value::from(1.5), ColumnKind::Int).is_none(), "nor is a fraction");
        assert!(bound(&Value::from(3), ColumnKind::Text).is_none(), "a number is not text");
    }
}
