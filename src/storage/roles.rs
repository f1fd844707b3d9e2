//! Role definitions and their grants to users.

use crate::domain::{ActorId, ClientId, OrgUnitId, Role, RoleGrant, RoleGrantId, RoleId, UserId};

use super::{Db, StorageError, Tx, on_pool, on_tx, row_struct, touched};

type RoleRow = (String, String, Option<String>, String, i64);

fn into_role(r: RoleRow) -> Role {
    let min_level = super::level_of(r.4).unwrap_or(crate::domain::SecurityLevel::Password);
    Role { id: RoleId::new(r.0), name: r.1, client_id: r.2.map(ClientId::new), description: r.3, min_level }
}

row_struct!(GrantRow {
    id: String,
    role_id: String,
    user_id: String,
    org_unit_id: Option<String>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    created_at: i64,
    role_name: String,
    role_client_id: Option<String>,
    role_description: String,
    role_min_level: i64,
    unit_code: Option<String>,
});

/// A grant with its role and, when scoped, the unit's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRole {
    pub grant: RoleGrant,
    pub role: Role,
    pub unit_code: Option<String>,
}

fn into_held(r: GrantRow) -> HeldRole {
    HeldRole {
        grant: RoleGrant {
            id: RoleGrantId::new(r.id),
            role_id: RoleId::new(r.role_id.clone()),
            user_id: UserId::new(r.user_id),
            org_unit_id: r.org_unit_id.map(OrgUnitId::new),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            created_at: r.created_at,
        },
        role: Role {
            id: RoleId::new(r.role_id),
            name: r.role_name,
            client_id: r.role_client_id.map(ClientId::new),
            description: r.role_description,
            min_level: super::level_of(r.role_min_level).unwrap_or(crate::domain::SecurityLevel::Password),
        },
        unit_code: r.unit_code,
    }
}

const INSERT: &str =
    "INSERT INTO roles (id, name, client_id, description, created_at, min_level) VALUES ($1, $2, $3, $4, $5, $6)";
const FIND: &str = "SELECT id, name, client_id, description, min_level FROM roles WHERE id = $1";
const LIST: &str = "SELECT id, name, client_id, description, min_level FROM roles ORDER BY client_id, name";
/// The highest level required by the roles a person holds at `$2`.
const HELD_LEVEL: &str = "SELECT COALESCE(MAX(r.min_level), 1) FROM role_grants g JOIN roles r ON r.id = g.role_id \
     WHERE g.user_id = $1 AND (g.valid_from IS NULL OR g.valid_from <= $2) \
     AND (g.valid_until IS NULL OR g.valid_until > $2)";
const INSERT_GRANT: &str = "INSERT INTO role_grants (id, role_id, user_id, org_unit_id, valid_from, valid_until, \
     created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const GRANTS_OF_ROLE: &str = "SELECT id, role_id, user_id, org_unit_id, valid_from, valid_until, created_at \
     FROM role_grants WHERE role_id = $1";
const DELETE_GRANT: &str = "DELETE FROM role_grants WHERE id = $1";
const DELETE_UNIT_SCOPED: &str = "DELETE FROM role_grants WHERE user_id = $1 AND org_unit_id IS NOT NULL";
const HELD: &str = "SELECT g.id, g.role_id, g.user_id, g.org_unit_id, g.valid_from, g.valid_until, g.created_at, \
     r.name AS role_name, r.client_id AS role_client_id, r.description AS role_description, \
     r.min_level AS role_min_level, o.code AS unit_code \
     FROM role_grants g JOIN roles r ON r.id = g.role_id LEFT JOIN org_units o ON o.id = g.org_unit_id \
     WHERE g.user_id = $1 ORDER BY r.name, g.created_at";
const FIND_GRANT: &str = "SELECT g.id, g.role_id, g.user_id, g.org_unit_id, g.valid_from, g.valid_until, \
     g.created_at, r.name AS role_name, r.client_id AS role_client_id, r.description AS role_description, \
     r.min_level AS role_min_level, o.code AS unit_code FROM role_grants g JOIN roles r ON r.id = g.role_id \
     LEFT JOIN org_units o ON o.id = g.org_unit_id WHERE g.id = $1";

pub struct Roles<'a> {
    db: &'a Db,
}

impl<'a> Roles<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Inserts a role. The same name twice for one application (or globally) is `Conflict`.
    pub async fn insert_in(&self, tx: &mut Tx, role: &Role, now: i64) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(INSERT)
            .bind(role.id.as_str())
            .bind(&role.name)
            .bind(role.client_id.as_ref().map(ClientId::as_str))
            .bind(&role.description)
            .bind(now)
            .bind(role.min_level as i64)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn find(&self, id: &RoleId) -> Result<Option<Role>, StorageError> {
        let row: Option<RoleRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND).bind(id.as_str()).fetch_optional(pool).await)?;
        Ok(row.map(into_role))
    }

    pub async fn list(&self) -> Result<Vec<Role>, StorageError> {
        let rows: Vec<RoleRow> = on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(into_role).collect())
    }

    /// The highest `min_level` among the roles `user` holds at `now`.
    pub async fn required_level(&self, user: &UserId, now: i64) -> Result<i64, StorageError> {
        let (n,): (i64,) =
            on_pool!(self.db, |pool| sqlx::query_as(HELD_LEVEL).bind(user.as_str()).bind(now).fetch_one(pool).await)?;
        Ok(n)
    }

    /// Every grant of the roles `roles` (a directory sync's managed roles), with one query each.
    pub async fn grants_of_roles(&self, roles: &[RoleId]) -> Result<Vec<RoleGrant>, StorageError> {
        type Row = (String, String, String, Option<String>, Option<i64>, Option<i64>, i64);
        let mut grants = Vec::new();
        for role in roles {
            let rows: Vec<Row> =
                on_pool!(self.db, |pool| sqlx::query_as(GRANTS_OF_ROLE).bind(role.as_str()).fetch_all(pool).await)?;
            grants.extend(rows.into_iter().map(|r| RoleGrant {
                id: RoleGrantId::new(r.0),
                role_id: RoleId::new(r.1),
                user_id: UserId::new(r.2),
                org_unit_id: r.3.map(OrgUnitId::new),
                valid_from: r.4,
                valid_until: r.5,
                created_at: r.6,
            }));
        }
        Ok(grants)
    }

    pub async fn grant_in(&self, tx: &mut Tx, grant: &RoleGrant, actor: &ActorId) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(INSERT_GRANT)
            .bind(grant.id.as_str())
            .bind(grant.role_id.as_str())
            .bind(grant.user_id.as_str())
            .bind(grant.org_unit_id.as_ref().map(OrgUnitId::as_str))
            .bind(grant.valid_from)
            .bind(grant.valid_until)
            .bind(grant.created_at)
            .bind(actor.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn revoke_in(&self, tx: &mut Tx, id: &RoleGrantId) -> Result<(), StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(DELETE_GRANT)
            .bind(id.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// Removes a person's grants that are limited to a unit; returns how many went.
    pub async fn revoke_unit_scoped_in(&self, tx: &mut Tx, user: &UserId) -> Result<u64, StorageError> {
        Ok(on_tx!(tx, |conn| sqlx::query(DELETE_UNIT_SCOPED)
            .bind(user.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?)
    }

    pub async fn find_grant(&self, id: &RoleGrantId) -> Result<Option<HeldRole>, StorageError> {
        let row: Option<GrantRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_GRANT).bind(id.as_str()).fetch_optional(pool).await)?;
        Ok(row.map(into_held))
    }

    /// Every grant a user has, in force or not.
    pub async fn held_by(&self, user: &UserId) -> Result<Vec<HeldRole>, StorageError> {
        let rows: Vec<GrantRow> =
            on_pool!(self.db, |pool| sqlx::query_as(HELD).bind(user.as_str()).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(into_held).collect())
    }
}
