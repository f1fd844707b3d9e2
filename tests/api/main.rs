//! End-to-end tests over real HTTP. One binary; every case runs on SQLite and, when
//! `TEST_POSTGRES_URL` is set, on PostgreSQL too (see `backend_tests!`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod account;
mod accounts;
mod activation;
mod admin_openapi;
mod applications;
mod audit;
mod audit_checkpoints;
mod authorize;
mod backup;
mod certificates;
mod ciba;
mod client_auth;
mod code_exchange;
mod console;
mod console_browser;
mod control_chars;
mod delegation;
mod directory;
mod directory_claims;
mod discovery;
mod front_door;
mod import;
mod interaction_once;
mod jwks_uri;
mod kek_rotation;
mod key_rotation;
mod ldap_login;
mod ldap_safety;
mod ldap_sync;
mod levels;
mod lockout;
mod logout;
mod mail;
mod metrics;
mod mtls;
mod no_store;
mod nodes;
mod par;
mod passkey_browser;
mod passkeys;
mod periodic_reports;
mod portal;
mod refresh;
mod registration;
mod registration_rules;
mod rp;
mod screenshots;
mod signing;
mod sso;
mod token;
mod userinfo;
