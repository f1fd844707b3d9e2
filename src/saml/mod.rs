//! Pintu as a SAML 2.0 identity provider (ADR 0003): its signing keys and certificates, and
//! its metadata. Pintu writes the XML it sends from its own templates, with every value
//! escaped; XML signatures are made and checked by the saml-rs library, never here.
//!
//! The entity ID is `{issuer}/saml/metadata` (where the metadata is published), single sign-on
//! is `{issuer}/saml/sso` and single logout `{issuer}/saml/slo`, each over the HTTP-Redirect
//! and HTTP-POST bindings.

mod answer;
mod attributes;
mod keys;
mod logout;
mod logout_messages;
mod metadata;
pub mod request;
pub mod response;
mod rotation;
mod soap_logout;
mod sp_metadata;
mod sso;
mod unsolicited;

use std::sync::Arc;

use crate::audit::AuditRecorder;
use crate::clock::SharedClock;
use crate::keys::Sealer;
use crate::storage::{StorageError, Store};

pub use keys::{IdpKey, KEY_BITS, VALIDITY_SECS};
pub use logout::SloOutcome;
pub use metadata::NAME_ID_FORMATS;
pub use rotation::{SamlKeyInfo, SamlRotation};
pub use sp_metadata::{ImportChoices, ImportError, MetadataSource};
pub use sso::{Outcome, Refused, SignInWanted, class_of};

/// What can go wrong on the SAML side.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("storage failed")]
    Storage(#[from] StorageError),
    #[error("the application cannot be read")]
    Application(#[from] crate::applications::ApplicationError),
    #[error("the SAML signing key cannot be sealed or opened")]
    Sealing(#[source] crate::keys::KeyError),
    #[error("the SAML signing key cannot be made or read: {0}")]
    Key(String),
    #[error("the directory cannot be read")]
    Directory(#[from] crate::directory::DirectoryError),
}

/// What the identity provider is built from.
pub struct SamlParts {
    pub store: Store,
    pub sealer: Arc<Sealer>,
    pub clock: SharedClock,
    pub audit: AuditRecorder,
    pub sessions: crate::sso::Sessions,
}

/// The identity provider. Cheap to clone.
#[derive(Clone)]
pub struct SamlIdp {
    store: Store,
    sealer: Arc<Sealer>,
    clock: SharedClock,
    audit: AuditRecorder,
    /// Service providers, and the applications' profiles.
    sp: crate::applications::ApplicationService,
    directory: crate::directory::DirectoryService,
    sessions: crate::sso::Sessions,
    /// Pintu's issuer URL, without a trailing slash.
    base: Arc<str>,
    /// The current signing key as last read, opened and parsed (and when): read again after
    /// `KEY_CACHE_SECS`, or at once after a rotation on this node. Parsing an RSA key
    /// (PKCS#8, checked) costs about as much as a signature: it is done once, not per message.
    key_cache: Arc<std::sync::Mutex<Option<(i64, SigningKey)>>>,
    /// The persistent-NameID secret, opened once (it never changes).
    name_id_secret: Arc<tokio::sync::OnceCell<secrecy::SecretSlice<u8>>>,
}

/// What a signature covers: the whole message, its assertion (enveloped XML-DSig, after the
/// element's Issuer), the metadata (enveloped, its first child: Metadata §3.1), or the octets
/// of an HTTP-Redirect message.
#[derive(Debug, Clone, Copy)]
enum Signed {
    Document,
    Assertion,
    Metadata,
    Octets,
}

type Signer = dyn Fn(&str, Signed) -> Result<String, SamlError> + Send + Sync;

/// The current key as saml-rs parsed it, with its certificate. saml-rs's key type belongs to
/// its crypto backend, which Pintu does not name: the parsed key is held by the closure that
/// signs with it.
#[derive(Clone)]
struct SigningKey(Arc<Signer>);

impl SigningKey {
    fn parse(pkcs8_pem: &secrecy::SecretString, certificate_pem: &str) -> Result<Self, SamlError> {
        use response::RSA_SHA256;
        use saml_rs::crypto::{construct_message_signature, construct_saml_signature};
        use secrecy::ExposeSecret;
        let key = saml_rs::crypto::keys::load_private_key(pkcs8_pem.expose_secret(), None)
            .map_err(|e| SamlError::Key(e.to_string()))?;
        let certificate = certificate_pem.to_owned();
        let signer = move |data: &str, signed: Signed| {
            match signed {
                Signed::Octets => construct_message_signature(data, &key, RSA_SHA256),
                Signed::Document | Signed::Assertion => {
                    let whole = matches!(signed, Signed::Document);
                    construct_saml_signature(data, whole, &key, &certificate, RSA_SHA256, &[], None)
                }
                Signed::Metadata => {
                    let first_child = saml_rs::entity::SignatureConfig {
                        prefix: "ds".into(),
                        reference: Some("/*[local-name(.)='EntityDescriptor']".into()),
                        action: saml_rs::entity::SignatureAction::Prepend,
                    };
                    construct_saml_signature(data, true, &key, &certificate, RSA_SHA256, &[], Some(&first_child))
                }
            }
            .map_err(|e| SamlError::Key(format!("cannot sign: {e}")))
        };
        Ok(Self(Arc::new(signer)))
    }

    fn sign(&self, data: &str, signed: Signed) -> Result<String, SamlError> {
        (self.0)(data, signed)
    }
}

/// How long this node signs with the key it read before looking again (another node's
/// rotation reaches it within this time).
const KEY_CACHE_SECS: i64 = 10;

impl SamlIdp {
    pub fn new(
        parts: SamlParts,
        applications: crate::applications::ApplicationService,
        directory: crate::directory::DirectoryService,
        issuer: &str,
    ) -> Self {
        let SamlParts { store, sealer, clock, audit, sessions } = parts;
        Self {
            store,
            sealer,
            clock,
            audit,
            sp: applications,
            directory,
            sessions,
            base: issuer.trim_end_matches('/').into(),
            key_cache: Default::default(),
            name_id_secret: Default::default(),
        }
    }

    /// The entity ID: where the metadata is published.
    pub fn entity_id(&self) -> String {
        format!("{}/saml/metadata", self.base)
    }

    pub fn sso_url(&self) -> String {
        format!("{}/saml/sso", self.base)
    }

    pub fn slo_url(&self) -> String {
        format!("{}/saml/slo", self.base)
    }

    /// Records a refused message in the audit log (its reason; the SP, when it named an
    /// unknown one).
    pub async fn audit_refusal(&self, refused: &Refused) {
        let sp = match refused {
            Refused::UnknownSp(entity) => Some(entity.as_str()),
            _ => None,
        };
        let reason: String = refused.to_string().chars().take(300).collect();
        self.audit.record_or_log(crate::audit::AuditEvent::saml_refused(sp, &reason)).await;
    }
}
