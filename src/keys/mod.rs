//! Keys: the key-encryption key (KEK) that seals private keys at rest, the keyring of token
//! signing keys, JWKS publication and JWS verification, and applications' own public keys
//! (registered inline or fetched from their `jwks_uri`). The only place (with `oidc/tokens.rs`)
//! that uses josekit, and the only place that makes outgoing HTTP requests (reqwest, in
//! `jwks_uri/fetch.rs`).

mod client_jwks;
mod jwks_uri;
mod kek_rotation;
mod keyring;
mod rotation;
mod sealing;
mod thumbprint;

pub use client_jwks::{check_client_jwks, verify_with_jwk_set};
pub use jwks_uri::{
    JwksUriCache, JwksUriError, REFETCH_INTERVAL_SECS, check_jwks_uri, fetch_published, post_published,
    post_published_json, post_published_soap,
};
pub use kek_rotation::{KekRotation, rotate_kek};
pub use keyring::{Keyring, VerifiedJws};
pub use rotation::{KeyInfo, RotationPolicy, RotationStep};
pub use sealing::Sealer;
pub use thumbprint::jwk_thumbprint;

use crate::storage::StorageError;

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the key-encryption key at {path}")]
    KekIo {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the key-encryption key is not 32 bytes of base64url")]
    KekMalformed,
    #[error("a sealed key cannot be opened with this key-encryption key")]
    Unseal(#[source] josekit::JoseError),
    /// A value sealed under a KEK this node does not hold (not in `keys/` either).
    #[error(
        "a value is sealed under key-encryption key {0}, which this node does not have (copy kek.key, kek.next.key and kek.retired from the node that rotated it)"
    )]
    UnknownKek(String),
    #[error("{0}")]
    KekRotation(String),
    #[error("JOSE operation failed")]
    Jose(#[from] josekit::JoseError),
    #[error("no active signing key for {0}")]
    NoActiveKey(&'static str),
    #[error("the token's signature, algorithm or key id is not acceptable")]
    BadSignature,
    /// A stored key whose `kid` is not the thumbprint of its own sealed private key: a row
    /// someone wrote into the database (a public key of their own beside a copied private one
    /// would otherwise verify their tokens). The keyring refuses to load.
    #[error("signing key {0} does not match its sealed private key: the signing_keys table was altered")]
    Mismatch(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}
