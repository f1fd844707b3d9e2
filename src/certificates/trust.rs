//! The CAs the office trusts (PEM bundles of roots and intermediates) and chain validation with
//! OpenSSL's `X509Store`: validity at the given time, signatures, path length (basicConstraints),
//! a bounded depth. A configured intermediate is an anchor of its own (OpenSSL's partial chain):
//! trusting only the government CA's intermediate for civil servants does not trust everything
//! its root ever signed.

use std::path::{Path, PathBuf};

use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509, X509StoreContext, X509VerifyResult};

use super::CertProblem;
use super::x509::{Facts, Presented, inspect};

/// The longest chain accepted below the anchor (person, intermediates).
const MAX_DEPTH: i32 = 5;

/// The trusted CA certificates, as loaded from the configured files.
#[derive(Clone)]
pub struct TrustAnchors {
    anchors: Vec<X509>,
    files: Vec<PathBuf>,
}

impl std::fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustAnchors").field("files", &self.files).field("anchors", &self.anchors.len()).finish()
    }
}

/// A chain that validated: the person's certificate first, the anchor last.
#[derive(Clone)]
pub struct ValidChain {
    pub chain: Vec<X509>,
    pub facts: Facts,
}

impl TrustAnchors {
    /// Reads every file; each must hold at least one CA certificate.
    pub fn load(files: &[PathBuf]) -> Result<Self, String> {
        let mut anchors = Vec::new();
        for file in files {
            anchors.extend(read_bundle(file)?);
        }
        Ok(Self { anchors, files: files.to_vec() })
    }

    /// Reads the same files again (`pintu certificates reload`, SIGHUP); the old anchors stay
    /// in use when a file cannot be read.
    pub fn reload(&self) -> Result<Self, String> {
        Self::load(&self.files)
    }

    pub fn anchors(&self) -> &[X509] {
        &self.anchors
    }

    /// Validates `presented` at `at` (unix seconds) for a person: a chain to an anchor, every
    /// certificate valid then, key usage for signing, no CA certificate as the person's.
    pub fn validate(&self, presented: &Presented, at: i64) -> Result<ValidChain, CertProblem> {
        let facts = inspect(&presented.leaf)?;
        if facts.is_ca {
            return Err(CertProblem::NotAPersonCertificate);
        }
        let chain = self.build(presented, at)?;
        if !facts.signing_key_usage {
            return Err(CertProblem::KeyUsage);
        }
        if !facts.person_eku {
            return Err(CertProblem::ExtendedKeyUsage);
        }
        Ok(ValidChain { chain, facts })
    }

    fn build(&self, presented: &Presented, at: i64) -> Result<Vec<X509>, CertProblem> {
        let failed = |e: openssl::error::ErrorStack| CertProblem::Internal(e.to_string());
        let mut store = X509StoreBuilder::new().map_err(failed)?;
        for anchor in &self.anchors {
            store.add_cert(anchor.clone()).map_err(failed)?;
        }
        let mut param = X509VerifyParam::new().map_err(failed)?;
        param.set_time(at as _);
        param.set_depth(MAX_DEPTH);
        param.set_flags(X509VerifyFlags::X509_STRICT | X509VerifyFlags::PARTIAL_CHAIN).map_err(failed)?;
        store.set_param(&param).map_err(failed)?;
        let store: X509Store = store.build();
        let mut untrusted = Stack::new().map_err(failed)?;
        for cert in &presented.chain {
            untrusted.push(cert.clone()).map_err(failed)?;
        }
        let mut context = X509StoreContext::new().map_err(failed)?;
        let outcome = context
            .init(&store, &presented.leaf, &untrusted, |c| {
                let ok = c.verify_cert()?;
                let chain = c.chain().map(|s| s.iter().map(|x| x.to_owned()).collect::<Vec<_>>());
                Ok((ok, c.error(), c.error_depth(), chain))
            })
            .map_err(failed)?;
        match outcome {
            (true, _, _, Some(chain)) => Ok(chain),
            (_, error, depth, _) => Err(problem_of(error, depth)),
        }
    }
}

/// OpenSSL's verdict, in Pintu's words. Codes from `openssl/x509_vfy.h`.
fn problem_of(error: X509VerifyResult, depth: u32) -> CertProblem {
    let reason = error.error_string().to_owned();
    match error.as_raw() {
        // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), SELF_SIGNED in chain / depth zero,
        // UNABLE_TO_VERIFY_LEAF_SIGNATURE
        2 | 18 | 19 | 20 | 21 => CertProblem::Untrusted,
        // CERT_NOT_YET_VALID, CERT_HAS_EXPIRED (at any depth)
        9 => CertProblem::NotYetValid,
        10 if depth == 0 => CertProblem::Expired,
        // CERT_CHAIN_TOO_LONG, PATH_LENGTH_EXCEEDED
        22 | 25 => CertProblem::ChainTooLong,
        _ => CertProblem::Invalid(format!("{reason} (at depth {depth})")),
    }
}

fn read_bundle(file: &Path) -> Result<Vec<X509>, String> {
    let text = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let certs = X509::stack_from_pem(&text).map_err(|_| format!("{} is not a PEM bundle", file.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", file.display()));
    }
    for cert in &certs {
        let facts = inspect(cert).map_err(|e| format!("{}: {e}", file.display()))?;
        if !facts.is_ca {
            return Err(format!("{}: {} is not a CA certificate", file.display(), facts.subject));
        }
    }
    Ok(certs)
}
