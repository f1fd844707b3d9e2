//! Filtered, keyset-paginated listing of users for the admin API.

use crate::domain::{OrgUnitId, User, UserStatus};

use super::users::{UserRow, Users, user_columns};
use super::{StorageError, on_pool};

/// Which users to list. `within` limits to a unit's subtree; `text` matches the name, the
/// login, the e-mail or the start of the NIP; `after_id` continues a previous page.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub within: Option<OrgUnitId>,
    pub status: Option<UserStatus>,
    /// `PNS`, `PPPK` or `non-ASN`.
    pub employment_type: Option<&'static str>,
    pub text: Option<String>,
    pub after_id: Option<String>,
    pub limit: i64,
}

const SUBTREE: &str = "WITH RECURSIVE down(id, depth) AS (SELECT id, 0 FROM org_units WHERE id = $1 \
     UNION ALL SELECT o.id, down.depth + 1 FROM org_units o JOIN down ON o.parent_id = down.id WHERE down.depth < 64) ";

impl Users<'_> {
    /// Users matching `filter`, ordered by id (creation order), at most `filter.limit`.
    pub async fn search(&self, filter: &UserFilter) -> Result<Vec<User>, StorageError> {
        // Every parameter is always bound; a filter that is off compares with '' instead.
        let sql = format!(
            "{cte}SELECT {cols} FROM users WHERE {unit} \
             AND ($2 = '' OR status = $2) AND ($8 = '' OR employment_type = $8) \
             AND ($3 = '' OR LOWER(COALESCE(name, '')) LIKE $4 ESCAPE '\\' OR username LIKE $4 ESCAPE '\\' \
                  OR email LIKE $4 ESCAPE '\\' OR nip LIKE $5 ESCAPE '\\') \
             AND id > $6 ORDER BY id LIMIT $7",
            cte = if filter.within.is_some() { SUBTREE } else { "" },
            cols = user_columns!(),
            unit = if filter.within.is_some() { "org_unit_id IN (SELECT id FROM down)" } else { "$1 = ''" },
        );
        let text = filter.text.as_deref().map(|t| t.trim().to_lowercase()).unwrap_or_default();
        // LIKE wildcards in the search text are matched literally.
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let rows: Vec<UserRow> = on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(filter.within.as_ref().map(OrgUnitId::as_str).unwrap_or(""))
            .bind(filter.status.map(UserStatus::as_str).unwrap_or(""))
            .bind(&text)
            .bind(format!("%{escaped}%"))
            .bind(format!("{escaped}%"))
            .bind(filter.after_id.as_deref().unwrap_or(""))
            .bind(filter.limit)
            .bind(filter.employment_type.unwrap_or(""))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(User::try_from).collect()
    }
}
