//! Background jobs. Each is `spawn(…, shutdown)` and calls services only.

pub mod audit_checkpoints;
pub mod backup;
pub mod changes;
pub mod cleanup;
pub mod keys;
pub mod ldap_sync;
pub mod periodic_reports;
