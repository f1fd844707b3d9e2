//! A private OpenLDAP `slapd` for a test: its own configuration and database under the test's
//! scratch directory, on a loopback port, with ppolicy (so a locked account cannot bind) and,
//! when asked, StartTLS with a certificate from a test CA made with `openssl`. The directory
//! is seeded with an LDIF the test writes (`seed_ldif`); it stops when dropped. `slapd` and
//! `ldap-utils` come from the system's packages (`tests/install-ldap`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use pintu::config::{LdapDirectoryConfig, RawConfig, RawLdapDirectory};

use super::scratch;

pub const SUFFIX: &str = "dc=pintu,dc=test";
pub const ROOT_DN: &str = "cn=admin,dc=pintu,dc=test";
const ROOT_PW: &str = "root-secret";
pub const SERVICE_DN: &str = "cn=pintu,ou=services,dc=pintu,dc=test";
pub const SERVICE_PW: &str = "service-secret";

/// Why slapd cannot run here (the caller skips, or fails when `PINTU_TEST_REQUIRE_LDAP=1`).
#[derive(Debug)]
pub struct Unavailable(pub String);

pub struct Slapd {
    child: Option<Child>,
    dir: PathBuf,
    pub port: u16,
    /// The ldaps:// port, when started with TLS.
    pub tls_port: Option<u16>,
    /// The test CA's certificate, when started with TLS.
    pub ca_file: Option<PathBuf>,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts slapd, or says why it cannot: a skip unless the run requires LDAP.
pub fn start_or_skip(tls: bool, seed: &str) -> Option<Slapd> {
    match Slapd::start(tls, seed) {
        Ok(s) => Some(s),
        Err(Unavailable(why)) if std::env::var("PINTU_TEST_REQUIRE_LDAP").as_deref() != Ok("1") => {
            eprintln!("SKIPPED: slapd unavailable: {why}");
            None
        }
        Err(Unavailable(why)) => panic!("slapd is required (PINTU_TEST_REQUIRE_LDAP=1) but cannot run: {why}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn run(cmd: &mut Command) -> Result<(), Unavailable> {
    let out = cmd.output().map_err(|e| Unavailable(format!("{cmd:?}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Unavailable(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr))))
    }
}

impl Slapd {
    pub fn start(tls: bool, seed: &str) -> Result<Slapd, Unavailable> {
        let slapd = Path::new("/usr/sbin/slapd");
        if !slapd.exists() || !Path::new("/usr/sbin/slapadd").exists() {
            return Err(Unavailable("slapd is not installed (packages slapd and ldap-utils)".into()));
        }
        let dir = scratch::path("slapd", "");
        std::fs::create_dir_all(dir.join("db")).map_err(|e| Unavailable(e.to_string()))?;
        let ca_file = if tls { Some(make_certificates(&dir)?) } else { None };
        let conf = config_text(&dir, tls);
        std::fs::write(dir.join("slapd.conf"), conf).map_err(|e| Unavailable(e.to_string()))?;
        std::fs::write(dir.join("seed.ldif"), base_ldif() + seed).map_err(|e| Unavailable(e.to_string()))?;
        run(Command::new("/usr/sbin/slapadd")
            .arg("-q")
            .arg("-f")
            .arg(dir.join("slapd.conf"))
            .arg("-l")
            .arg(dir.join("seed.ldif")))?;
        let tls_port = tls.then(free_port);
        let mut s = Slapd { child: None, dir, port: free_port(), tls_port, ca_file };
        s.restart()?;
        Ok(s)
    }

    /// Starts (again) on the same port with the same data.
    pub fn restart(&mut self) -> Result<(), Unavailable> {
        let child = Command::new("/usr/sbin/slapd")
            .arg("-f")
            .arg(self.dir.join("slapd.conf"))
            .arg("-h")
            .arg(match self.tls_port {
                Some(tls) => format!("ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{tls}/", self.port),
                None => format!("ldap://127.0.0.1:{}/", self.port),
            })
            .arg("-d")
            .arg("0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Unavailable(e.to_string()))?;
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(Unavailable("slapd did not start listening".into()))
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Applies an LDIF of changes (`changetype:` records) as the directory's administrator.
    pub fn modify(&self, ldif: &str) {
        let path = self.dir.join("change.ldif");
        std::fs::write(&path, ldif).expect("write change");
        let out = Command::new("ldapmodify")
            .args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PW, "-f"])
            .arg(&path)
            .output()
            .expect("run ldapmodify");
        assert!(out.status.success(), "ldapmodify failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A directory configuration for this server: OpenLDAP preset, people under
    /// `ou=people`, units mapped from the tree, the e-office operators' group to its role.
    pub fn config(&self, name: &str, customize: impl FnOnce(&mut RawLdapDirectory)) -> LdapDirectoryConfig {
        let mut raw = RawLdapDirectory {
            preset: Some("openldap".into()),
            url: Some(self.url()),
            bind_dn: Some(SERVICE_DN.into()),
            bind_password: Some(SERVICE_PW.into()),
            base_dn: Some(format!("ou=people,{SUFFIX}")),
            group_base_dn: Some(format!("ou=groups,{SUFFIX}")),
            timeout_secs: Some(2),
            ..Default::default()
        };
        raw.units = [
            ("ou=Diskominfo,ou=people,dc=pintu,dc=test", "DISKOMINFO"),
            ("ou=Aptika, ou=Diskominfo, ou=people, dc=pintu, dc=test", "APTIKA"),
            ("OU=Dinkes,OU=people,DC=pintu,DC=test", "DINKES"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        raw.groups =
            [("cn=eoffice-operators,ou=groups,dc=pintu,dc=test".to_owned(), "eoffice.operator".to_owned())].into();
        customize(&mut raw);
        let cfg = RawConfig { ldap: [(name.to_owned(), raw)].into(), ..Default::default() };
        cfg.validate().expect("test LDAP config is valid").ldap.remove(0)
    }
}

/// One LDIF attribute line; values that are not plain ASCII are base64 (RFC 2849).
pub fn attr(name: &str, value: &str) -> String {
    let safe = value.is_ascii() && !value.starts_with([' ', ':', '<']) && !value.contains(['\n', '\r']);
    if safe {
        format!("{name}: {value}\n")
    } else {
        format!("{name}:: {}\n", base64::engine::general_purpose::STANDARD.encode(value))
    }
}

fn base_ldif() -> String {
    format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Pemkab Test\ndc: pintu\n\n\
         dn: ou=policies,{SUFFIX}\nobjectClass: organizationalUnit\nou: policies\n\n\
         dn: cn=default,ou=policies,{SUFFIX}\nobjectClass: pwdPolicy\nobjectClass: person\ncn: default\nsn: policy\n\
         pwdAttribute: userPassword\npwdLockout: TRUE\n\n\
         dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n\n\
         dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: pintu\n\
         userPassword: {SERVICE_PW}\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n"
    )
}

fn config_text(dir: &Path, tls: bool) -> String {
    let d = dir.display();
    let tls_lines = if tls {
        format!(
            "TLSCACertificateFile {d}/ca.pem\nTLSCertificateFile {d}/server.pem\nTLSCertificateKeyFile {d}/server.key\n"
        )
    } else {
        String::new()
    };
    format!(
        "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/inetorgperson.schema\nmodulepath /usr/lib/ldap\nmoduleload back_mdb.la\n\
         moduleload ppolicy.la\npidfile {d}/slapd.pid\nsizelimit unlimited\n{tls_lines}\
         database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{ROOT_DN}\"\nrootpw {ROOT_PW}\ndirectory {d}/db\n\
         maxsize 1073741824\nindex objectClass eq\nindex uid eq\nindex entryUUID eq\n\
         access to attrs=userPassword by self write by anonymous auth by * none\n\
         access to * by * read\n\
         overlay ppolicy\nppolicy_default \"cn=default,ou=policies,{SUFFIX}\"\n"
    )
}

/// A test CA and a server certificate for 127.0.0.1 and localhost; returns the CA's file.
fn make_certificates(dir: &Path) -> Result<PathBuf, Unavailable> {
    let d = |f: &str| dir.join(f);
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    run(Command::new("openssl")
        .args(["req", "-x509"])
        .args(ec)
        .args(["-days", "2", "-subj", "/CN=Pintu Test LDAP CA"])
        .arg("-keyout")
        .arg(d("ca.key"))
        .arg("-out")
        .arg(d("ca.pem")))?;
    run(Command::new("openssl")
        .arg("req")
        .args(ec)
        .args(["-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(d("server.key"))
        .arg("-out")
        .arg(d("server.csr")))?;
    std::fs::write(d("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        .map_err(|e| Unavailable(e.to_string()))?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2"])
        .arg("-in")
        .arg(d("server.csr"))
        .arg("-CA")
        .arg(d("ca.pem"))
        .arg("-CAkey")
        .arg(d("ca.key"))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(d("ext.cnf"))
        .arg("-out")
        .arg(d("server.pem")))?;
    Ok(d("ca.pem"))
}
