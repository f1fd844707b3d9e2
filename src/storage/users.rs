//! User accounts and their directory attributes. Login names and e-mail addresses are stored
//! lower-case; `disabled` always equals `status <> 'active'`.

use crate::domain::nip::Nip;
use crate::domain::{EmploymentType, OrgUnitId, Profile, SecurityLevel, User, UserId, UserStatus};

use super::{Db, StorageError, Tx, corrupt, on_pool, on_tx, row_struct, touched};

macro_rules! user_columns {
    () => {
        "id, username, name, given_name, family_name, email, email_verified, phone_number, \
         phone_number_verified, locale, is_admin, disabled, created_at, updated_at, nip, nik, front_title, \
         back_title, employment_type, job_title, rank_grade, org_unit_id, status, level_ceiling, source, version"
    };
}
pub(super) use user_columns;

row_struct!(UserRow {
    id: String,
    username: String,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    email_verified: bool,
    phone_number: Option<String>,
    phone_number_verified: bool,
    locale: Option<String>,
    is_admin: bool,
    disabled: bool,
    created_at: i64,
    updated_at: i64,
    nip: Option<String>,
    nik: Option<String>,
    front_title: Option<String>,
    back_title: Option<String>,
    employment_type: Option<String>,
    job_title: Option<String>,
    rank_grade: Option<String>,
    org_unit_id: Option<String>,
    status: String,
    level_ceiling: i64,
    source: String,
    version: i64,
});

impl TryFrom<UserRow> for User {
    type Error = StorageError;
    fn try_from(r: UserRow) -> Result<Self, StorageError> {
        let bad = |what: &str, v: &str| corrupt("users", format!("{what} {v:?}"));
        let employment_type = match r.employment_type.as_deref() {
            Some(v) => Some(EmploymentType::parse(v).ok_or_else(|| bad("employment_type", v))?),
            None => None,
        };
        let level_ceiling = SecurityLevel::ALL
            .into_iter()
            .find(|l| *l as i64 == r.level_ceiling)
            .ok_or_else(|| bad("level_ceiling", &r.level_ceiling.to_string()))?;
        let profile = Profile {
            nip: r.nip.map(Nip::try_from).transpose().map_err(|e| corrupt("users", e))?,
            nik: r.nik,
            front_title: r.front_title,
            back_title: r.back_title,
            employment_type,
            job_title: r.job_title,
            rank: r.rank_grade,
            org_unit_id: r.org_unit_id.map(OrgUnitId::new),
            status: UserStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
            level_ceiling,
            source: r.source,
            version: r.version,
        };
        Ok(User {
            id: UserId::new(r.id),
            username: r.username,
            name: r.name,
            given_name: r.given_name,
            family_name: r.family_name,
            email: r.email,
            email_verified: r.email_verified,
            phone_number: r.phone_number,
            phone_number_verified: r.phone_number_verified,
            locale: r.locale,
            is_admin: r.is_admin,
            disabled: r.disabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
            profile,
        })
    }
}

/// A user to create; `password_hash` is already an argon2id PHC string.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    pub password_hash: Option<String>,
}

const INSERT: &str = "INSERT INTO users (id, username, password_hash, name, given_name, family_name, email, \
     email_verified, phone_number, phone_number_verified, locale, is_admin, disabled, created_at, updated_at, \
     nip, nik, front_title, back_title, employment_type, job_title, rank_grade, org_unit_id, status, \
     level_ceiling, source, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
     $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, 1)";
/// Optimistic update: only when the stored version is still `$2`.
const UPDATE: &str = "UPDATE users SET username = $3, name = $4, email = $5, phone_number = $6, disabled = $7, \
     updated_at = $8, nip = $9, nik = $10, front_title = $11, back_title = $12, employment_type = $13, \
     job_title = $14, rank_grade = $15, org_unit_id = $16, status = $17, level_ceiling = $18, source = $19, \
     version = version + 1 WHERE id = $1 AND version = $2";
const FIND_BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
/// Login names form one namespace (`domain::login_names`); where older data clashes, the
/// username wins over an e-mail, which wins over a NIP, for the login and every lookup alike.
const FIND_CREDENTIALS: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", password_hash FROM users WHERE username = $1 OR email = $1 OR nip = $1 \
     ORDER BY CASE WHEN username = $1 THEN 0 WHEN email = $1 THEN 1 ELSE 2 END, id LIMIT 1"
);
const LIST: &str = concat!("SELECT ", user_columns!(), " FROM users ORDER BY username");
const SET_STATUS: &str =
    "UPDATE users SET status = $2, disabled = $3, updated_at = $4, version = version + 1 WHERE id = $1";
const RESOLVE: &str = "SELECT id FROM users WHERE id = $1 OR username = $1 OR email = $1 OR nip = $1 \
     ORDER BY CASE WHEN id = $1 THEN 0 WHEN username = $1 THEN 1 WHEN email = $1 THEN 2 ELSE 3 END, id LIMIT 1";
/// The accounts holding any of three login names, as any of their identifiers.
const LOGIN_HOLDERS: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE username IN ($1, $2, $3) OR email IN ($1, $2, $3) OR nip IN ($1, $2, $3)"
);
/// Pairs of accounts where one's login name is the other's e-mail or NIP (data from before
/// the namespace was enforced), case-folded.
const LOGIN_CONFLICTS: &str = "SELECT a.id, 'username', LOWER(a.username), b.id, 'email' FROM users a \
     JOIN users b ON b.id <> a.id AND LOWER(b.email) = LOWER(a.username) \
     UNION ALL SELECT a.id, 'username', LOWER(a.username), b.id, 'nip' FROM users a \
     JOIN users b ON b.id <> a.id AND b.nip = LOWER(a.username) \
     UNION ALL SELECT a.id, 'email', LOWER(a.email), b.id, 'nip' FROM users a \
     JOIN users b ON b.id <> a.id AND b.nip = LOWER(a.email) \
     UNION ALL SELECT a.id, 'email', LOWER(a.email), b.id, 'email' FROM users a \
     JOIN users b ON b.id > a.id AND LOWER(b.email) = LOWER(a.email) \
     UNION ALL SELECT a.id, 'username', LOWER(a.username), b.id, 'username' FROM users a \
     JOIN users b ON b.id > a.id AND LOWER(b.username) = LOWER(a.username) \
     ORDER BY 3, 1";
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1";
const COUNT: &str = "SELECT COUNT(*) FROM users";
const END_SESSIONS: &str = "UPDATE sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL";
const REVOKE_GRANTS: &str = "UPDATE grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";

/// A user row with its password hash.
struct LoginRow {
    user: UserRow,
    password_hash: Option<String>,
}

impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for LoginRow {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(Self { user: UserRow::from_row(row)?, password_hash: row.try_get("password_hash")? })
    }
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for LoginRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(Self { user: UserRow::from_row(row)?, password_hash: row.try_get("password_hash")? })
    }
}

pub struct Users<'a> {
    pub(super) db: &'a Db,
}

macro_rules! bind_insert {
    ($q:expr, $new:expr) => {{
        let (u, p) = (&$new.user, &$new.user.profile);
        $q.bind(u.id.as_str())
            .bind(&u.username)
            .bind(&$new.password_hash)
            .bind(&u.name)
            .bind(&u.given_name)
            .bind(&u.family_name)
            .bind(&u.email)
            .bind(u.email_verified)
            .bind(&u.phone_number)
            .bind(u.phone_number_verified)
            .bind(&u.locale)
            .bind(u.is_admin)
            .bind(p.status != UserStatus::Active)
            .bind(u.created_at)
            .bind(u.updated_at)
            .bind(p.nip.as_ref().map(Nip::as_str))
            .bind(&p.nik)
            .bind(&p.front_title)
            .bind(&p.back_title)
            .bind(p.employment_type.map(EmploymentType::as_str))
            .bind(&p.job_title)
            .bind(&p.rank)
            .bind(p.org_unit_id.as_ref().map(OrgUnitId::as_str))
            .bind(p.status.as_str())
            .bind(p.level_ceiling as i64)
            .bind(&p.source)
    }};
}

macro_rules! bind_update {
    ($q:expr, $u:expr, $expected:expr) => {{
        let (u, p) = ($u, &$u.profile);
        $q.bind(u.id.as_str())
            .bind($expected)
            .bind(&u.username)
            .bind(&u.name)
            .bind(&u.email)
            .bind(&u.phone_number)
            .bind(p.status != UserStatus::Active)
            .bind(u.updated_at)
            .bind(p.nip.as_ref().map(Nip::as_str))
            .bind(&p.nik)
            .bind(&p.front_title)
            .bind(&p.back_title)
            .bind(p.employment_type.map(EmploymentType::as_str))
            .bind(&p.job_title)
            .bind(&p.rank)
            .bind(p.org_unit_id.as_ref().map(OrgUnitId::as_str))
            .bind(p.status.as_str())
            .bind(p.level_ceiling as i64)
            .bind(&p.source)
    }};
}

impl<'a> Users<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Inserts a user. A taken username, e-mail or NIP is `Conflict`.
    pub async fn insert(&self, new: &NewUser) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| bind_insert!(sqlx::query(INSERT), new)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Inserts a user inside a transaction.
    pub async fn insert_in(&self, tx: &mut Tx, new: &NewUser) -> Result<(), StorageError> {
        on_tx!(tx, |conn| bind_insert!(sqlx::query(INSERT), new).execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Writes every mutable field of `user` if the stored version is still `expected_version`;
    /// the version goes up by one. `NotFound` when the id is unknown or the version moved on.
    pub async fn update_in(&self, tx: &mut Tx, user: &User, expected_version: i64) -> Result<(), StorageError> {
        let n = on_tx!(tx, |conn| bind_update!(sqlx::query(UPDATE), user, expected_version)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    pub async fn find(&self, id: &UserId) -> Result<Option<User>, StorageError> {
        let row: Option<UserRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_BY_ID).bind(id.as_str()).fetch_optional(pool).await)?;
        row.map(User::try_from).transpose()
    }

    /// The accounts that hold any of `names` (up to three) as a username, e-mail or NIP,
    /// read inside the transaction that is about to write a person.
    pub async fn login_holders_in(&self, tx: &mut Tx, names: &[&str]) -> Result<Vec<User>, StorageError> {
        let name = |i: usize| names.get(i).copied();
        let rows: Vec<UserRow> = on_tx!(tx, |conn| sqlx::query_as(LOGIN_HOLDERS)
            .bind(name(0))
            .bind(name(1))
            .bind(name(2))
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Accounts sharing a login name: (account, its field, the name, other account, its field).
    pub async fn login_conflicts(&self) -> Result<Vec<(String, String, String, String, String)>, StorageError> {
        Ok(on_pool!(self.db, |pool| sqlx::query_as(LOGIN_CONFLICTS).fetch_all(pool).await)?)
    }

    /// The account a login identifier (username, e-mail or NIP, normalised) names, with its
    /// password hash: one read serves the check, the session and the audit event.
    pub async fn find_credentials(&self, login: &str) -> Result<Option<(User, Option<String>)>, StorageError> {
        let row: Option<LoginRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_CREDENTIALS).bind(login).fetch_optional(pool).await)?;
        row.map(|r| Ok((User::try_from(r.user)?, r.password_hash))).transpose()
    }

    pub async fn list(&self) -> Result<Vec<User>, StorageError> {
        let rows: Vec<UserRow> = on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// The id of the account named by id, username, e-mail or NIP (normalised).
    pub async fn resolve(&self, id_or_login: &str) -> Result<Option<UserId>, StorageError> {
        let row: Option<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(RESOLVE).bind(id_or_login).fetch_optional(pool).await)?;
        Ok(row.map(|r| UserId::new(r.0)))
    }

    /// Sets the status (and with it `disabled`) inside a transaction. `NotFound` when unknown.
    pub async fn set_status_in(
        &self,
        tx: &mut Tx,
        id: &UserId,
        status: UserStatus,
        now: i64,
    ) -> Result<(), StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(SET_STATUS)
            .bind(id.as_str())
            .bind(status.as_str())
            .bind(status != UserStatus::Active)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// Ends every session of a user and revokes every grant, and with them every refresh
    /// and access token (transfer, retirement, suspension).
    pub async fn cut_off_in(&self, tx: &mut Tx, id: &UserId, now: i64) -> Result<(), StorageError> {
        // The applications of those sessions are told (back-channel logout), in the same
        // transaction.
        let enqueue = super::logout_deliveries::ENQUEUE_FOR_USER;
        on_tx!(tx, |conn| sqlx::query(enqueue).bind(id.as_str()).bind("").bind(now).execute(conn).await.map(|_| ()))?;
        for sql in [END_SESSIONS, REVOKE_GRANTS] {
            on_tx!(tx, |conn| sqlx::query(sql)
                .bind(id.as_str())
                .bind(now)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    pub async fn set_password_hash(&self, id: &UserId, hash: &str, now: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(SET_PASSWORD)
            .bind(id.as_str())
            .bind(hash)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_password_hash_in(
        &self,
        tx: &mut Tx,
        id: &UserId,
        hash: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(SET_PASSWORD)
            .bind(id.as_str())
            .bind(hash)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Removes the account's local password (its password is now kept in a directory).
    pub async fn clear_password_hash_in(&self, tx: &mut Tx, id: &UserId, now: i64) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(SET_PASSWORD)
            .bind(id.as_str())
            .bind(None::<String>)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn count(&self) -> Result<i64, StorageError> {
        let (n,): (i64,) = on_pool!(self.db, |pool| sqlx::query_as(COUNT).fetch_one(pool).await)?;
        Ok(n)
    }
}
