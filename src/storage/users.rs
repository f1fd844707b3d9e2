//! User accounts. Login names and e-mail addresses are stored lower-case.

use crate::domain::{User, UserId};

use super::{Db, StorageError, on_pool, touched};

type UserRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
    bool,
    Option<String>,
    bool,
    bool,
    i64,
    i64,
);

fn into_user(row: UserRow) -> User {
    User {
        id: UserId::new(row.0),
        username: row.1,
        name: row.2,
        given_name: row.3,
        family_name: row.4,
        email: row.5,
        email_verified: row.6,
        phone_number: row.7,
        phone_number_verified: row.8,
        locale: row.9,
        is_admin: row.10,
        disabled: row.11,
        created_at: row.12,
        updated_at: row.13,
    }
}

/// A user to create; `password_hash` is already an argon2id PHC string.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    pub password_hash: Option<String>,
}

const INSERT: &str = "INSERT INTO users (id, username, password_hash, name, given_name, family_name, email, \
     email_verified, phone_number, phone_number_verified, locale, is_admin, disabled, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
const FIND_BY_ID: &str = "SELECT id, username, name, given_name, family_name, email, email_verified, phone_number, \
     phone_number_verified, locale, is_admin, disabled, created_at, updated_at FROM users WHERE id = $1";
const FIND_CREDENTIALS: &str = "SELECT id, password_hash FROM users WHERE username = $1 OR email = $1";
const LIST: &str = "SELECT id, username, name, given_name, family_name, email, email_verified, phone_number, \
     phone_number_verified, locale, is_admin, disabled, created_at, updated_at FROM users ORDER BY username";
const SET_DISABLED: &str = "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1";
const RESOLVE: &str = "SELECT id FROM users WHERE id = $1 OR username = $1 OR email = $1";
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1";
const COUNT: &str = "SELECT COUNT(*) FROM users";

pub struct Users<'a> {
    db: &'a Db,
}

impl<'a> Users<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Inserts a user. A taken username or e-mail is `Conflict`.
    pub async fn insert(&self, new: &NewUser) -> Result<(), StorageError> {
        let u = &new.user;
        on_pool!(self.db, |pool| {
            sqlx::query(INSERT)
                .bind(u.id.as_str())
                .bind(&u.username)
                .bind(&new.password_hash)
                .bind(&u.name)
                .bind(&u.given_name)
                .bind(&u.family_name)
                .bind(&u.email)
                .bind(u.email_verified)
                .bind(&u.phone_number)
                .bind(u.phone_number_verified)
                .bind(&u.locale)
                .bind(u.is_admin)
                .bind(u.disabled)
                .bind(u.created_at)
                .bind(u.updated_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn find(&self, id: &UserId) -> Result<Option<User>, StorageError> {
        let row: Option<UserRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_BY_ID).bind(id.as_str()).fetch_optional(pool).await)?;
        Ok(row.map(into_user))
    }

    /// The id and password hash for a login identifier (username or e-mail, already normalised).
    pub async fn find_credentials(&self, login: &str) -> Result<Option<(UserId, Option<String>)>, StorageError> {
        let row: Option<(String, Option<String>)> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_CREDENTIALS).bind(login).fetch_optional(pool).await)?;
        Ok(row.map(|(id, hash)| (UserId::new(id), hash)))
    }

    pub async fn list(&self) -> Result<Vec<User>, StorageError> {
        let rows: Vec<UserRow> = on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(into_user).collect())
    }

    /// The id of the account named by id, username or e-mail (normalised).
    pub async fn resolve(&self, id_or_login: &str) -> Result<Option<UserId>, StorageError> {
        let row: Option<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(RESOLVE).bind(id_or_login).fetch_optional(pool).await)?;
        Ok(row.map(|r| UserId::new(r.0)))
    }

    /// Disables or enables an account. `NotFound` when the id is unknown.
    pub async fn set_disabled(&self, id: &UserId, disabled: bool, now: i64) -> Result<(), StorageError> {
        let n = on_pool!(self.db, |pool| {
            sqlx::query(SET_DISABLED)
                .bind(id.as_str())
                .bind(disabled)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        touched(n)
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

    pub async fn count(&self) -> Result<i64, StorageError> {
        let (n,): (i64,) = on_pool!(self.db, |pool| sqlx::query_as(COUNT).fetch_one(pool).await)?;
        Ok(n)
    }
}
