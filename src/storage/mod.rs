//! Persistence: the only module that speaks SQL (sqlx). Every statement is written once in
//! portable SQL and runs on SQLite and PostgreSQL through `on_pool!` (STYLE.md §6).
//!
//! Repositories are grouped per aggregate: `store.users().find_by_login(..)`.

mod activation_codes;
mod application_icons;
mod applications;
mod audit;
mod audit_checkpoints;
mod backup_runs;
mod certificates;
mod changes;
mod db;
mod external_accounts;
mod factors;
mod grants;
mod initial_access_tokens;
mod interactions;
mod keys;
mod logout_deliveries;
mod mail_outbox;
mod migrations;
mod org_units;
mod passkeys;
mod periodic_reports;
mod pushed_requests;
mod restore;
mod roles;
mod saml_keys;
mod saml_participants;
mod saml_requests;
mod sealed_secrets;
mod session_list;
mod sessions;
mod signing;
mod snapshot;
mod throttle;
mod user_search;
mod users;

/// Log directives that quieten the driver: PostgreSQL's notices, which sqlx logs at INFO
/// ("relation _sqlx_migrations already exists, skipping" on every start of every command).
pub const QUIET_DRIVER_LOGS: &str = "sqlx::postgres::notice=warn";

pub use activation_codes::ActivationCodes;
pub use application_icons::{ApplicationIcons, StoredIcon};
pub use applications::Applications;
pub use audit::{AuditLog, AuditRow, GENESIS as AUDIT_GENESIS, NewAuditRow, ReportBy, ReportRow};
pub use audit_checkpoints::{AuditCheckpoints, CheckpointRow};
pub use backup_runs::{BackupRun, BackupRuns};
pub use certificates::{CertificateCount, CertificateRow, Certificates};
pub use changes::{Change, ChangeListener, Heard};
pub use db::{Db, Tx};
pub(crate) use db::{on_pool, on_tx, row_struct};
pub use external_accounts::{ExternalAccounts, ExternalLink, SyncRun};
pub use factors::{Factors, TotpCredential};
pub use grants::{Grants, PresentedRefresh, RefreshFamily, RefreshState, Rotation};
pub use initial_access_tokens::InitialAccessTokens;
pub use interactions::{Interaction, Interactions};
pub use keys::{SigningKeyRow, SigningKeys};
pub use logout_deliveries::{LogoutDeliveries, LogoutNotice};
pub use mail_outbox::{MailOutbox, OutgoingMail};
pub use migrations::{FILE_NAMES as MIGRATION_FILE_NAMES, latest as latest_schema_version};
pub use org_units::{OrgUnits, Placement};
pub use passkeys::{Ceremony, PasskeyRecord, Passkeys};
pub use periodic_reports::{PeriodicReportRow, PeriodicReports};
pub use pushed_requests::PushedRequests;
pub use restore::{Loader, RESTORE_MARKER, RestoreTarget};
pub use roles::{HeldRole, Roles};
pub use saml_keys::{SamlKeyRow, SamlKeys};
pub use saml_participants::{SamlParticipant, SamlParticipants};
pub use saml_requests::SamlRequests;
pub use sealed_secrets::SealedSecrets;
pub use session_list::{SessionList, SessionSummary};
pub use sessions::{NewSession, Sessions};
pub use signing::{CibaRow, Poll, Signing, TransactionCount, TransactionRow};
pub use snapshot::{ColumnKind, ColumnShape, NOT_COPIED, SnapshotItem, TableShape};
pub use throttle::Throttle;
pub use user_search::UserFilter;
pub use users::{NewUser, Users};

/// What can go wrong below the domain. Variants are facts; the source is kept.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("cannot create {path}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not found")]
    NotFound,
    /// A unique or foreign key refused the write.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A stored row does not decode into its domain type.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Whoever was receiving a snapshot stopped (a backup that failed to write).
    #[error("the copy was stopped")]
    Cancelled,
    /// A restore into this database began and did not finish: its content is incomplete.
    #[error(
        "a restore into this database began and did not finish, so its content is incomplete: \
         run `pintu restore` again (the database is refused until a restore completes)"
    )]
    RestoreInterrupted,
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && (db.is_unique_violation() || db.is_foreign_key_violation())
        {
            let constraint = db.constraint().map(str::to_owned).unwrap_or_else(|| db.message().to_owned());
            return StorageError::Conflict { constraint };
        }
        StorageError::Database(error)
    }
}

/// The security level stored as its number.
pub(crate) fn level_of(n: i64) -> Option<crate::domain::SecurityLevel> {
    crate::domain::SecurityLevel::ALL.into_iter().find(|l| *l as i64 == n)
}

/// `NotFound` unless a write touched a row: for updates addressed by key.
pub(crate) fn touched(rows: u64) -> Result<(), StorageError> {
    if rows == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}

pub(crate) fn corrupt(table: &'static str, reason: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt { table, reason: reason.to_string() }
}

/// The handle every service holds. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Connects and applies migrations.
    /// A database a restore left incomplete is refused (`RestoreInterrupted`).
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        let db = Db::connect(url).await?;
        if db.restore_interrupted().await? {
            return Err(StorageError::RestoreInterrupted);
        }
        db.migrate().await?;
        Ok(Self { db })
    }

    /// Tells every node that `change` happened (PostgreSQL NOTIFY; nothing on SQLite).
    pub async fn announce(&self, change: &Change) -> Result<(), StorageError> {
        self.db.announce(change).await
    }

    /// Subscribes this node to changes made anywhere (`None` on SQLite).
    pub async fn listen(&self) -> Result<Option<ChangeListener>, StorageError> {
        self.db.listen().await
    }

    pub fn saml_participants(&self) -> SamlParticipants<'_> {
        SamlParticipants::new(&self.db)
    }

    pub fn saml_requests(&self) -> SamlRequests<'_> {
        SamlRequests::new(&self.db)
    }
    pub fn saml_keys(&self) -> SamlKeys<'_> {
        SamlKeys::new(&self.db)
    }
    pub fn sealed_secrets(&self) -> SealedSecrets<'_> {
        SealedSecrets::new(&self.db)
    }

    /// Re-seals every sealed value in the database through `reseal`, all or none.
    pub async fn reseal(&self, reseal: impl Fn(&str) -> Result<String, String>) -> Result<usize, StorageError> {
        sealed_secrets::reseal_all(&self.db, reseal).await
    }

    pub fn backup_runs(&self) -> BackupRuns<'_> {
        BackupRuns::new(&self.db)
    }

    pub fn certificates(&self) -> Certificates<'_> {
        Certificates::new(&self.db)
    }
    pub fn users(&self) -> Users<'_> {
        Users::new(&self.db)
    }
    pub fn applications(&self) -> Applications<'_> {
        Applications::new(&self.db)
    }
    pub fn initial_access_tokens(&self) -> InitialAccessTokens<'_> {
        InitialAccessTokens::new(&self.db)
    }
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions::new(&self.db)
    }
    pub fn interactions(&self) -> Interactions<'_> {
        Interactions::new(&self.db)
    }
    pub fn grants(&self) -> Grants<'_> {
        Grants::new(&self.db)
    }
    pub fn signing_keys(&self) -> SigningKeys<'_> {
        SigningKeys::new(&self.db)
    }
    pub fn org_units(&self) -> OrgUnits<'_> {
        OrgUnits::new(&self.db)
    }
    pub fn roles(&self) -> Roles<'_> {
        Roles::new(&self.db)
    }
    pub fn session_list(&self) -> SessionList<'_> {
        SessionList::new(&self.db)
    }
    pub fn factors(&self) -> Factors<'_> {
        Factors::new(&self.db)
    }
    pub fn passkeys(&self) -> Passkeys<'_> {
        Passkeys::new(&self.db)
    }
    pub fn throttle(&self) -> Throttle<'_> {
        Throttle::new(&self.db)
    }
    pub fn external_accounts(&self) -> ExternalAccounts<'_> {
        ExternalAccounts::new(&self.db)
    }
    pub fn audit_checkpoints(&self) -> AuditCheckpoints<'_> {
        AuditCheckpoints::new(&self.db)
    }
    pub fn pushed_requests(&self) -> PushedRequests<'_> {
        PushedRequests::new(&self.db)
    }
    pub fn application_icons(&self) -> ApplicationIcons<'_> {
        ApplicationIcons::new(&self.db)
    }
    pub fn logout_deliveries(&self) -> LogoutDeliveries<'_> {
        LogoutDeliveries::new(&self.db)
    }

    pub fn mail_outbox(&self) -> MailOutbox<'_> {
        MailOutbox::new(&self.db)
    }
    pub fn activation_codes(&self) -> ActivationCodes<'_> {
        ActivationCodes::new(&self.db)
    }
    pub fn signing(&self) -> Signing<'_> {
        Signing::new(&self.db)
    }
    pub fn periodic_reports(&self) -> PeriodicReports<'_> {
        PeriodicReports::new(&self.db)
    }
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog::new(&self.db)
    }

    /// Starts a transaction for a multi-step write.
    pub async fn begin(&self) -> Result<Tx, StorageError> {
        self.db.begin().await
    }

    pub async fn ping(&self) -> Result<(), StorageError> {
        self.db.ping().await
    }

    /// Sends every table, consistent as of one moment, to `out` (`snapshot.rs`); returns the
    /// schema version of what was sent.
    pub async fn snapshot(&self, out: tokio::sync::mpsc::Sender<SnapshotItem>) -> Result<i64, StorageError> {
        snapshot::snapshot(&self.db, out).await
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    /// Open database connections and how many of them are idle (for metrics).
    pub fn pool_stats(&self) -> (u32, usize) {
        self.db.pool_stats()
    }

    pub async fn close(&self) {
        self.db.close().await
    }

    /// Ends a session, queues a logout notice for every application it reached, and revokes
    /// what they were given under it (all but `offline_access` grants): the one way a session
    /// is ended on purpose.
    /// One transaction: the notices are never lost to a session that ended without them.
    pub async fn end_session(&self, id: &crate::domain::SessionId, now: i64) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        for sql in [sessions::END, logout_deliveries::ENQUEUE_FOR_SESSION, grants::REVOKE_SESSION_GRANTS] {
            on_tx!(&mut tx, |conn| sqlx::query(sql).bind(id.as_str()).bind(now).execute(conn).await.map(|_| ()))?;
        }
        tx.commit().await
    }

    /// Deletes expired artefacts (codes, tokens, interactions, revocation entries) older than
    /// `before`. Returns how many rows went.
    pub async fn delete_expired(&self, before: i64) -> Result<u64, StorageError> {
        const STATEMENTS: [&str; 13] = [
            // What was sent or given up, after a month.
            "DELETE FROM mail_outbox WHERE status <> 'pending' AND created_at < $1 - 2592000",
            "DELETE FROM pushed_requests WHERE expires_at < $1",
            "DELETE FROM activation_codes WHERE expires_at < $1",
            // A day longer, so a late poll still hears expired_token (CIBA Core §11).
            "DELETE FROM ciba_requests WHERE expires_at < $1 - 86400",
            "DELETE FROM webauthn_ceremonies WHERE expires_at < $1",
            "DELETE FROM login_throttle WHERE locked_until < $1 AND window_start < $1 - 86400",
            "DELETE FROM interactions WHERE expires_at < $1",
            "DELETE FROM revoked_access_tokens WHERE expires_at < $1",
            "DELETE FROM client_assertion_jtis WHERE expires_at < $1",
            // Kept past the IssueInstant window (five minutes either way), so a replayed
            // AuthnRequest is still refused by its row until its own timestamp refuses it.
            "DELETE FROM saml_requests WHERE expires_at < $1",
            // Delivered or given up, after a month (kept that long to answer "was it told?").
            "DELETE FROM logout_deliveries WHERE status <> 'pending' AND created_at < $1 - 2592000",
            // Who a session reached, a month after the session ended or expired.
            "DELETE FROM saml_session_participants WHERE session_id IN \
             (SELECT id FROM sessions WHERE COALESCE(ended_at, expires_at) < $1 - 2592000)",
            // A grant whose code and refresh tokens have all expired keeps its row (access
            // tokens name it for revocation) but loses what they stood for.
            "UPDATE grants SET payload = NULL, code_hash = NULL, refresh_hash = NULL \
             WHERE payload IS NOT NULL AND code_expires_at < $1 \
             AND COALESCE(refresh_expires_at, 0) < $1",
        ];
        let mut total = 0;
        for sql in STATEMENTS {
            total += on_pool!(&self.db, |pool| sqlx::query(sql)
                .bind(before)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(total)
    }
}
