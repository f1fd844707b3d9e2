//! The test PKI (`tests/pki/make-pki`, the `openssl` command): made once per test process in
//! the scratch directory. Its certificates name an OCSP responder and a CRL on a closed
//! loopback port; a test that needs a responder starts one and configures it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pintu::config::{Config, RawCertificates, RawConfig};

use super::scratch;

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// The PKI's directory, made on first use.
pub fn dir() -> &'static Path {
    DIR.get_or_init(|| {
        let dir = scratch::path("pki", "");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pki/make-pki");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(&dir)
            .arg("http://127.0.0.1:9/ocsp")
            .arg("http://127.0.0.1:9/crl.der")
            .output()
            .expect("run tests/pki/make-pki");
        assert!(out.status.success(), "make-pki failed: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

pub fn file(name: &str) -> PathBuf {
    dir().join(name)
}

pub fn read(name: &str) -> String {
    std::fs::read_to_string(file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The person certificate `name` with its chain (the intermediate), as a person uploads it.
pub fn with_chain(name: &str) -> String {
    read(&format!("{name}.pem")) + &read("chain.pem")
}

/// The NIP written in the test certificates' subject serialNumber.
pub const NIP: &str = "199001012015031001";

/// `[certificates]` trusting the test root, with `raw` applied on top; the test issuer is
/// plain-http loopback.
pub fn configure(config: &mut Config, issuer: &str, edit: impl FnOnce(&mut RawCertificates)) {
    let mut raw = RawCertificates { trust_anchors: Some(vec![file("bundle.pem")]), ..Default::default() };
    edit(&mut raw);
    let full = RawConfig { issuer: Some(issuer.to_owned()), certificates: raw, ..Default::default() };
    let validated = full.validate().unwrap_or_else(|e| panic!("certificates config: {e:?}"));
    config.certificates = validated.certificates;
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}
