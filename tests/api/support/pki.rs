//! The test PKI (`tests/pki/make-pki`, the `openssl` command): made once per test process in
//! the scratch directory, its CRL served on a loopback port for as long as the process runs
//! (`tests/pki/serve-crl`). The OCSP responder its certificates name is on a closed port, so
//! revocation falls back to the CRL; a test that wants OCSP starts a real responder
//! (`openssl ocsp`, `Responder`) and configures it as `ocsp_url`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pintu::config::{Config, RawCertificates, RawConfig};

use super::scratch;

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// The PKI's directory, made on first use.
pub fn dir() -> &'static Path {
    DIR.get_or_init(|| {
        let dir = scratch::path("pki", "");
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pki");
        let crl_port = free_port();
        let out = std::process::Command::new("bash")
            .arg(scripts.join("make-pki"))
            .arg(&dir)
            .arg("http://127.0.0.1:9/ocsp")
            .arg(format!("http://127.0.0.1:{crl_port}/crl.der"))
            .output()
            .expect("run tests/pki/make-pki");
        assert!(out.status.success(), "make-pki failed: {}", String::from_utf8_lossy(&out.stderr));
        // It runs as long as this process and then exits by itself (it watches our pid).
        #[allow(clippy::zombie_processes)]
        std::process::Command::new("python3")
            .arg(scripts.join("serve-crl"))
            .arg(&dir)
            .arg(crl_port.to_string())
            .arg(std::process::id().to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start tests/pki/serve-crl");
        wait_for(crl_port);
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

fn wait_for(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// A real OCSP responder (`openssl ocsp`) for the test PKI's intermediate, asked on loopback;
/// it stops when dropped.
pub struct Responder {
    child: std::process::Child,
    pub url: String,
}

impl Responder {
    pub fn start() -> Responder {
        Self::signed_by("ocsp")
    }

    /// A responder that signs with `name`'s key (`ocsp`: the CA's delegated responder).
    pub fn signed_by(name: &str) -> Responder {
        let dir = dir();
        let port = free_port();
        let log = scratch::path("ocsp", ".log");
        let child = std::process::Command::new("openssl")
            .args(["ocsp", "-index"])
            .arg(dir.join("index.txt"))
            // OpenSSL 3.0's responder takes a port only and listens on every interface: on an
            // ephemeral port, for the few seconds of one test.
            .arg("-port")
            .arg(port.to_string())
            .arg("-rsigner")
            .arg(dir.join(format!("{name}.pem")))
            .arg("-rkey")
            .arg(dir.join(format!("{name}.key")))
            .arg("-CA")
            .arg(dir.join("inter.pem"))
            .args(["-nmin", "5", "-ignore_err"])
            .env("OPENSSL_CONF", "/dev/null")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("responder log"))
            .spawn()
            .expect("start openssl ocsp");
        // Not probed with a connection: the responder would wait on it and answer no one else.
        for _ in 0..100 {
            if std::fs::read_to_string(&log).is_ok_and(|l| l.contains("waiting for OCSP client")) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Responder { child, url: format!("http://127.0.0.1:{port}/") }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The development stand-in for the CA's signing service (`tests/signing/dev-signer`, CSC API
/// v2) on loopback, holding Budi's NIP certificate and key under `PIN`; it stops when dropped.
pub struct Signer {
    child: std::process::Child,
    pub url: String,
    pub token_file: PathBuf,
    /// The BSrE API subset's base URL and the file holding Pintu's `client_id:secret` for it.
    pub bsre_url: String,
    pub bsre_token_file: PathBuf,
}

pub const PIN: &str = "passphrase-budi";
/// The NIK the stand-in's BSrE side knows Budi's credential by.
pub const NIK: &str = "3201010101800001";

impl Signer {
    pub fn start(user_id: &str) -> Signer {
        let dir = dir();
        let port = free_port();
        let token_file = scratch::path("signer-token", ".txt");
        std::fs::write(&token_file, "dev-signer-token\n").unwrap();
        let bsre_token_file = scratch::path("bsre-client", ".txt");
        std::fs::write(&bsre_token_file, "pintu:bsre-secret\n").unwrap();
        let config = serde_json::json!({
            "token": "dev-signer-token",
            "bsre_client": "pintu:bsre-secret",
            "credentials": [{
                "userID": user_id, "credentialID": "budi-1", "pin": PIN, "nik": NIK,
                "key": dir.join("nip.key"), "certificates": [dir.join("nip.pem"), dir.join("inter.pem")],
            }],
        });
        let config_file = scratch::path("signer", ".json");
        std::fs::write(&config_file, config.to_string()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signing/dev-signer");
        let child = std::process::Command::new("python3")
            .arg(script)
            .arg(&config_file)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start tests/signing/dev-signer");
        wait_for(port);
        Signer {
            child,
            url: format!("http://127.0.0.1:{port}/csc/v2"),
            token_file,
            bsre_url: format!("http://127.0.0.1:{port}"),
            bsre_token_file,
        }
    }

    /// Makes every later signature wrong (or right again), as a faulty service would.
    pub async fn tamper(&self, on: bool) {
        let url = self.bsre_url.clone() + "/_dev/tamper";
        let body = serde_json::json!({ "on": on }).to_string();
        reqwest::Client::new().post(url).body(body).send().await.expect("dev-signer tamper");
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
