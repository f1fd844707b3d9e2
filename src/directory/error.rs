//! What can go wrong in the directory, in its own terms. `web/error.rs` turns these into
//! RFC 9457 problem documents; the CLI prints them.

use crate::storage::StorageError;

/// One invalid field, optionally on one line of an import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self { field: field.to_owned(), line: None, reason: reason.into() }
    }
    pub fn at(line: usize, field: &str, reason: impl Into<String>) -> Self {
        Self { field: field.to_owned(), line: Some(line), reason: reason.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Unknown, or outside the actor's reach (the two are indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The actor may see the target but not do this to it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Every field at fault, each with its reason (the CLI and the console show them all).
    #[error("invalid input: {}", fields(.0))]
    Invalid(Vec<FieldError>),
    /// A unique value is taken (login name, NIP, e-mail, unit code, role name).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An update without `If-Match`.
    #[error("this update needs If-Match with the current ETag")]
    PreconditionRequired,
    /// `If-Match` names a version that is no longer current.
    #[error("the resource changed since it was read")]
    PreconditionFailed,
    #[error("storage failed")]
    Storage(#[source] StorageError),
    /// A shared resource is saturated (the password-hashing queue): try again shortly.
    #[error("busy: {0}")]
    Unavailable(String),
}

/// `field: reason; …`, with the line where there is one.
fn fields(errors: &[FieldError]) -> String {
    let one = |e: &FieldError| match e.line {
        Some(line) => format!("line {line}, {}: {}", e.field, e.reason),
        None => format!("{}: {}", e.field, e.reason),
    };
    errors.iter().map(one).collect::<Vec<_>>().join("; ")
}

impl DirectoryError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        DirectoryError::Invalid(vec![FieldError::new(field, reason)])
    }
}

impl DirectoryError {
    /// For a conditional `UPDATE … WHERE version = $n`: touching no row means the version
    /// moved on (the row was read just before), so 412.
    pub fn stale(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => DirectoryError::PreconditionFailed,
            other => other.into(),
        }
    }
}

impl From<StorageError> for DirectoryError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict { constraint } => DirectoryError::Conflict(describe(&constraint)),
            other => DirectoryError::Storage(other),
        }
    }
}

/// Names the taken value from a constraint or message, without echoing SQL.
fn describe(constraint: &str) -> String {
    let c = constraint.to_lowercase();
    let what = [
        ("nip", "NIP is already registered"),
        ("email", "e-mail address is already registered"),
        ("username", "login name is already taken"),
        ("org_units", "org unit code is already taken"),
        ("roles", "a role with this name already exists"),
        ("foreign key", "a referenced record does not exist"),
    ];
    what.iter().find(|(k, _)| c.contains(k)).map(|(_, m)| (*m).to_owned()).unwrap_or_else(|| "duplicate value".into())
}
