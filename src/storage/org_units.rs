//! Org units (OPD) and the placement history of units and people.

use serde::Serialize;

use crate::domain::{OrgUnit, OrgUnitId, OrgUnitKind};

use super::{Db, StorageError, Tx, corrupt, on_pool, on_tx, row_struct, touched};

row_struct!(OrgUnitRow {
    id: String,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<String>,
    min_level: i64,
    version: i64,
    created_at: i64,
    updated_at: i64,
});

impl TryFrom<OrgUnitRow> for OrgUnit {
    type Error = StorageError;
    fn try_from(r: OrgUnitRow) -> Result<Self, StorageError> {
        Ok(OrgUnit {
            kind: OrgUnitKind::parse(&r.kind).ok_or_else(|| corrupt("org_units", &r.kind))?,
            id: OrgUnitId::new(r.id),
            code: r.code,
            name: r.name,
            parent_id: r.parent_id.map(OrgUnitId::new),
            min_level: super::level_of(r.min_level).ok_or_else(|| corrupt("org_units", r.min_level))?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// One move of a unit or a person from one unit to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub subject_kind: String,
    pub subject_id: String,
    pub from_unit_id: Option<String>,
    pub to_unit_id: Option<String>,
    pub changed_at: i64,
    pub actor: String,
}

type PlacementTuple = (String, String, Option<String>, Option<String>, i64, String);

const COLUMNS: &str = "id, code, name, kind, parent_id, min_level, version, created_at, updated_at";
const INSERT: &str = "INSERT INTO org_units (id, code, name, kind, parent_id, min_level, version, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $7, 1, $6, $6)";
const UPDATE: &str = "UPDATE org_units SET code = $3, name = $4, kind = $5, parent_id = $6, updated_at = $7, \
     min_level = $8, version = version + 1 WHERE id = $1 AND version = $2";
/// The highest level required by a unit or any unit above it.
const UNIT_LEVEL: &str = "WITH RECURSIVE up(id, parent_id, min_level, depth) AS ( \
     SELECT id, parent_id, min_level, 0 FROM org_units WHERE id = $1 \
     UNION ALL SELECT o.id, o.parent_id, o.min_level, up.depth + 1 FROM org_units o JOIN up ON o.id = up.parent_id \
     WHERE up.depth < 64) SELECT COALESCE(MAX(min_level), 1) FROM up";
const ANCESTORS: &str = "WITH RECURSIVE up(id, parent_id, depth) AS ( \
     SELECT id, parent_id, 0 FROM org_units WHERE id = $1 \
     UNION ALL SELECT o.id, o.parent_id, up.depth + 1 FROM org_units o JOIN up ON o.id = up.parent_id \
     WHERE up.depth < 64) SELECT id FROM up ORDER BY depth";
const SUBTREE: &str = "WITH RECURSIVE down(id, depth) AS ( \
     SELECT id, 0 FROM org_units WHERE id = $1 \
     UNION ALL SELECT o.id, down.depth + 1 FROM org_units o JOIN down ON o.parent_id = down.id \
     WHERE down.depth < 64) SELECT id FROM down";
const INSERT_PLACEMENT: &str = "INSERT INTO placement_history (id, subject_kind, subject_id, from_unit_id, \
     to_unit_id, changed_at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const LIST_PLACEMENTS: &str = "SELECT subject_kind, subject_id, from_unit_id, to_unit_id, changed_at, actor \
     FROM placement_history WHERE subject_id = $1 ORDER BY changed_at, id";

pub struct OrgUnits<'a> {
    db: &'a Db,
}

impl<'a> OrgUnits<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Inserts a unit. A taken code is `Conflict`, an unknown parent too (foreign key).
    pub async fn insert_in(&self, tx: &mut Tx, unit: &OrgUnit) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(INSERT)
            .bind(unit.id.as_str())
            .bind(&unit.code)
            .bind(&unit.name)
            .bind(unit.kind.as_str())
            .bind(unit.parent_id.as_ref().map(OrgUnitId::as_str))
            .bind(unit.created_at)
            .bind(unit.min_level as i64)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Writes code, name, kind and parent if the stored version is still `expected_version`.
    pub async fn update_in(&self, tx: &mut Tx, unit: &OrgUnit, expected_version: i64) -> Result<(), StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(UPDATE)
            .bind(unit.id.as_str())
            .bind(expected_version)
            .bind(&unit.code)
            .bind(&unit.name)
            .bind(unit.kind.as_str())
            .bind(unit.parent_id.as_ref().map(OrgUnitId::as_str))
            .bind(unit.updated_at)
            .bind(unit.min_level as i64)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    pub async fn find(&self, id: &OrgUnitId) -> Result<Option<OrgUnit>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM org_units WHERE id = $1");
        let row: Option<OrgUnitRow> = on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(OrgUnit::try_from).transpose()
    }

    pub async fn find_by_code(&self, code: &str) -> Result<Option<OrgUnit>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM org_units WHERE code = $1");
        let row: Option<OrgUnitRow> = on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(code)
            .fetch_optional(pool)
            .await)?;
        row.map(OrgUnit::try_from).transpose()
    }

    /// Every unit, ordered by code.
    pub async fn list(&self) -> Result<Vec<OrgUnit>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM org_units ORDER BY code");
        let rows: Vec<OrgUnitRow> =
            on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await)?;
        rows.into_iter().map(OrgUnit::try_from).collect()
    }

    /// `id` and every unit above it, nearest first (empty when `id` is unknown).
    pub async fn ancestors(&self, id: &OrgUnitId) -> Result<Vec<OrgUnitId>, StorageError> {
        let rows: Vec<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(ANCESTORS).bind(id.as_str()).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|r| OrgUnitId::new(r.0)).collect())
    }

    /// The highest `min_level` of `id` and the units above it.
    pub async fn required_level(&self, id: &OrgUnitId) -> Result<i64, StorageError> {
        let (n,): (i64,) =
            on_pool!(self.db, |pool| sqlx::query_as(UNIT_LEVEL).bind(id.as_str()).fetch_one(pool).await)?;
        Ok(n)
    }

    /// `id` and every unit below it.
    pub async fn subtree(&self, id: &OrgUnitId) -> Result<Vec<OrgUnitId>, StorageError> {
        let rows: Vec<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(SUBTREE).bind(id.as_str()).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|r| OrgUnitId::new(r.0)).collect())
    }

    pub async fn insert_placement_in(&self, tx: &mut Tx, p: &Placement) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(INSERT_PLACEMENT)
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&p.subject_kind)
            .bind(&p.subject_id)
            .bind(&p.from_unit_id)
            .bind(&p.to_unit_id)
            .bind(p.changed_at)
            .bind(&p.actor)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The moves of a unit or a person, oldest first.
    pub async fn placements(&self, subject_id: &str) -> Result<Vec<Placement>, StorageError> {
        let rows: Vec<PlacementTuple> =
            on_pool!(self.db, |pool| sqlx::query_as(LIST_PLACEMENTS).bind(subject_id).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|r| Placement {
                subject_kind: r.0,
                subject_id: r.1,
                from_unit_id: r.2,
                to_unit_id: r.3,
                changed_at: r.4,
                actor: r.5,
            })
            .collect())
    }
}
