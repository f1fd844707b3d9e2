//! # Pintu: single sign-on for Indonesian regional governments
//!
//! The crate's table of contents, in dependency order (a module may use those below it, never
//! those above; `tests/architecture.rs` enforces it):
//!
//! | module | owns |
//! |---|---|
//! | `web` | HTTP (axum): routes, extractors, pages, the one error-to-HTTP mapping |
//! | `oidc` | OAuth 2.0 / OpenID Connect without HTTP: authorize, token grants, userinfo, introspection, revocation, logout, registration, discovery |
//! | `signing` | transaction signing: RFC 9396 authorization details, approval at level 4, signatures by the CA's signing service, receipts, the per-OPD report |
//! | `applications` | applications (OIDC clients now, SAML service providers next): the one place they are registered, changed, disabled and their secrets rotated; the per-node client cache |
//! | `directory` | pegawai, OPD tree, roles, application profiles, HR import, reports; access policy and directory claims |
//! | `certificates` | electronic certificates: trusted CAs (OpenSSL chain validation), certificates bound to people, proof of possession, level 4 |
//! | `audit` | the append-only, hash-chained audit log |
//! | `authn` | how people prove who they are (passwords now; TOTP, WebAuthn and certificates later) |
//! | `mail` | e-mail: the outbox and its delivery over SMTP (lettre), with retries |
//! | `keys` | the key-encryption key, sealed signing keys, JWKS |
//! | `storage` | the only SQL: SQLite and PostgreSQL through one set of portable statements |
//! | `domain` | vocabulary: users, org units, roles, relying parties, scopes, sessions, grants, security levels |
//!
//! `app` composes them; `config` and `clock` are shared leaves.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod account;
pub mod app;
pub mod applications;
pub mod audit;
pub mod authn;
pub mod backup;
pub mod certificates;
pub mod clock;
pub mod config;
pub mod directory;
pub mod domain;
pub mod federation;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod saml;
pub mod signing;
pub mod sso;
pub mod storage;
pub mod web;
