//! Identity management: people (pegawai), org units (OPD), roles, the rules of application
//! profiles (written by `applications`), the HR import and the reports. Every operation takes the acting administrator (`Actor`), checks
//! that the target is within their reach (the office: everything; an OPD administrator: their
//! unit's subtree), writes in one transaction together with its audit event, and returns
//! domain data. The admin API (`web/admin_api`) and the CLI (`main.rs`) both call this.
//!
//! For the protocol side, `access.rs` decides who may sign in to an application and which
//! directory claims it receives.

mod access;
mod activation;
mod actor;
mod applications;
mod credentials;
mod error;
mod external;
mod import;
mod org_units;
mod periodic;
mod reports;
mod roles;
mod unit_admins;
mod user_input;
mod users;

pub use access::{AccessDecision, DirectoryClaims};
pub use activation::{ActivationTarget, DEFAULT_ACTIVATION_DAYS, IssuedCode};
pub use actor::{Actor, Reach};
pub use applications::ProfilePatch;
pub use credentials::LoginConflict;
pub use error::{DirectoryError, FieldError};
pub use external::{ExternalPerson, ExternalProblem, Provided, ReconcileOptions, SyncReport};
pub use import::{COLUMNS as IMPORT_COLUMNS, ImportMode, ImportReport};
pub use org_units::{OrgUnitInput, OrgUnitPatch, OrgUnitRecord, PlacementRecord};
pub use periodic::{Month, PeriodicLine, PeriodicReport, PeriodicSummary, SETTLE_SECS, periodic_csv};
pub use reports::{Period, ReportKind, ReportLine, report_csv};
pub use roles::{GrantInput, GrantRecord, RoleInput};
pub use unit_admins::UnitAdministrator;
pub use users::{AccountExtras, Page, UserInput, UserPatch, UserQuery, UserRecord};

use crate::audit::AuditRecorder;
use crate::authn::AuthnService;
use crate::clock::SharedClock;
use crate::storage::Store;

/// The directory's operations. Cheap to clone.
#[derive(Clone)]
pub struct DirectoryService {
    store: Store,
    clock: SharedClock,
    audit: AuditRecorder,
    /// Hashes the passwords administrators set, on the argon2 threads.
    authn: AuthnService,
}

impl DirectoryService {
    pub fn new(store: Store, clock: SharedClock, audit: AuditRecorder, authn: AuthnService) -> Self {
        Self { store, clock, audit, authn }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn audit(&self) -> &AuditRecorder {
        &self.audit
    }
}

/// `If-Match` for an update: `None` when the request had none (RFC 6585 §3: 428).
pub fn check_version(expected: Option<i64>, current: i64) -> Result<i64, DirectoryError> {
    match expected {
        None => Err(DirectoryError::PreconditionRequired),
        Some(v) if v != current => Err(DirectoryError::PreconditionFailed),
        Some(v) => Ok(v),
    }
}
