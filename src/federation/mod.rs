//! Identity that lives elsewhere: LDAP directories as a source of people and passwords.

pub mod ldap;
