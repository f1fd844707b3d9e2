//! Reading certificates: an upload (PEM with its chain, or one DER certificate), bounded in size
//! and count, and the facts Pintu needs from each (thumbprint, names, validity, key usage).
//! OpenSSL holds the certificates for chain building; x509-parser reads the extensions the
//! `openssl` crate does not expose (key usage, extended key usage, subject attributes).

use base64::Engine;
use openssl::x509::X509;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::CertProblem;

/// The largest upload read (a certificate with a long chain is a few kilobytes).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024;
/// The most certificates an upload may carry: the person's and its chain.
pub const MAX_CERTIFICATES: usize = 8;

/// A person's certificate as presented: the certificate, and the intermediates that came with it.
#[derive(Clone)]
pub struct Presented {
    pub leaf: X509,
    pub chain: Vec<X509>,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented").field("thumbprint", &thumbprint(&self.leaf)).finish()
    }
}

/// Reads an upload: PEM (the first certificate is the person's, the rest its chain) or DER.
pub fn read_upload(bytes: &[u8]) -> Result<Presented, CertProblem> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(CertProblem::TooLarge);
    }
    if bytes.is_empty() {
        return Err(CertProblem::Malformed("the upload is empty".into()));
    }
    let trimmed = bytes.trim_ascii_start();
    let mut certs = if trimmed.starts_with(b"-----BEGIN") {
        if count_pem_blocks(trimmed) > MAX_CERTIFICATES {
            return Err(CertProblem::TooManyCertificates);
        }
        X509::stack_from_pem(trimmed).map_err(|_| CertProblem::Malformed("the PEM text is not a certificate".into()))?
    } else {
        vec![X509::from_der(bytes).map_err(|_| CertProblem::Malformed("the DER bytes are not a certificate".into()))?]
    };
    if certs.is_empty() {
        return Err(CertProblem::Malformed("no certificate found in the PEM text".into()));
    }
    // Every certificate must also parse strictly: OpenSSL is lenient where x509-parser is not.
    for cert in &certs {
        inspect(cert)?;
    }
    let leaf = certs.remove(0);
    Ok(Presented { leaf, chain: certs })
}

fn count_pem_blocks(text: &[u8]) -> usize {
    text.windows(b"-----BEGIN".len()).filter(|w| *w == b"-----BEGIN").count()
}

/// The `x5t#S256` thumbprint (RFC 7515 §4.1.8, RFC 8705 §3.1): base64url SHA-256 of the DER.
pub fn thumbprint(cert: &X509) -> String {
    let der = cert.to_der().unwrap_or_default();
    thumbprint_of_der(&der)
}

pub fn thumbprint_of_der(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// What Pintu reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub thumbprint: String,
    pub subject: String,
    pub issuer: String,
    /// The serial number in hex.
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    /// Subject `serialNumber` attributes (2.5.4.5): where a NIK or NIP is written.
    pub serial_numbers: Vec<String>,
    /// E-mail addresses: subjectAltName rfc822Name and the subject's emailAddress.
    pub emails: Vec<String>,
    /// subjectAltName dNSName, uniformResourceIdentifier and iPAddress (as text) entries.
    pub san_dns: Vec<String>,
    pub san_uri: Vec<String>,
    pub san_ip: Vec<String>,
    /// The subject's attributes in RFC 4514 order (the last RDN first), as (type, value):
    /// short names where there are any (CN, O, C), dotted OIDs otherwise.
    pub subject_rdns: Vec<(String, String)>,
    pub is_ca: bool,
    /// keyUsage allows digitalSignature or nonRepudiation.
    pub signing_key_usage: bool,
    /// extendedKeyUsage is absent, or allows authenticating a person or signing.
    pub person_eku: bool,
}

/// id-kp-documentSigning (RFC 9336) and Microsoft's document signing.
const DOCUMENT_SIGNING: [&str; 2] = ["1.3.6.1.5.5.7.3.36", "1.3.6.1.4.1.311.10.3.12"];

pub fn inspect(cert: &X509) -> Result<Facts, CertProblem> {
    let der = cert.to_der().map_err(|_| CertProblem::Malformed("cannot encode the certificate".into()))?;
    let (rest, parsed) = X509Certificate::from_der(&der)
        .map_err(|e| CertProblem::Malformed(format!("the certificate does not parse: {e}")))?;
    if !rest.is_empty() {
        return Err(CertProblem::Malformed("bytes follow the certificate".into()));
    }
    let bad = |e: x509_parser::error::X509Error| CertProblem::Malformed(format!("a certificate extension: {e}"));
    let text = |attr: &x509_parser::x509::AttributeTypeAndValue| attr.as_str().ok().map(str::to_owned);
    let serial_numbers =
        parsed.subject().iter_by_oid(&x509_parser::oid_registry::OID_X509_SERIALNUMBER).filter_map(text).collect();
    let mut emails: Vec<String> =
        parsed.subject().iter_by_oid(&x509_parser::oid_registry::OID_PKCS9_EMAIL_ADDRESS).filter_map(text).collect();
    let (mut san_dns, mut san_uri, mut san_ip) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(san) = parsed.subject_alternative_name().map_err(bad)? {
        for name in &san.value.general_names {
            match name {
                GeneralName::RFC822Name(email) => emails.push((*email).to_owned()),
                GeneralName::DNSName(dns) => san_dns.push((*dns).to_owned()),
                GeneralName::URI(uri) => san_uri.push((*uri).to_owned()),
                GeneralName::IPAddress(bytes) => san_ip.extend(ip_text(bytes)),
                _ => {}
            }
        }
    }
    let registry = x509_parser::oid_registry::OidRegistry::default().with_x509().with_pkcs9();
    let mut subject_rdns: Vec<(String, String)> = parsed
        .subject()
        .iter_attributes()
        .map(|attr| {
            let oid = attr.attr_type();
            let name = registry.get(oid).map(|e| e.sn().to_owned()).unwrap_or_else(|| oid.to_id_string());
            (name, attr.as_str().map(str::to_owned).unwrap_or_default())
        })
        .collect();
    subject_rdns.reverse();
    let signing_key_usage =
        parsed.key_usage().map_err(bad)?.is_some_and(|ku| ku.value.digital_signature() || ku.value.non_repudiation());
    let person_eku = match parsed.extended_key_usage().map_err(bad)? {
        None => true,
        Some(eku) => {
            let e = eku.value;
            e.any
                || e.client_auth
                || e.email_protection
                || e.other.iter().any(|oid| DOCUMENT_SIGNING.contains(&oid.to_id_string().as_str()))
        }
    };
    let is_ca = parsed.basic_constraints().map_err(bad)?.is_some_and(|bc| bc.value.ca);
    Ok(Facts {
        thumbprint: thumbprint_of_der(&der),
        subject: parsed.subject().to_string(),
        issuer: parsed.issuer().to_string(),
        serial: parsed.raw_serial_as_string().replace(':', ""),
        not_before: parsed.validity().not_before.timestamp(),
        not_after: parsed.validity().not_after.timestamp(),
        serial_numbers,
        emails,
        san_dns,
        san_uri,
        san_ip,
        subject_rdns,
        is_ca,
        signing_key_usage,
        person_eku,
    })
}

/// An iPAddress SAN entry as text (4 bytes: IPv4, 16 bytes: IPv6).
fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes).ok().map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

/// PEM text, for storage where people read it (an SP's registration).
pub fn to_pem(cert: &X509) -> String {
    cert.to_pem().ok().and_then(|p| String::from_utf8(p).ok()).unwrap_or_default()
}

/// Base64 (standard) DER, for storage.
pub fn to_base64(cert: &X509) -> String {
    base64::engine::general_purpose::STANDARD.encode(cert.to_der().unwrap_or_default())
}

pub fn from_base64(text: &str) -> Result<X509, CertProblem> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| CertProblem::Malformed("stored certificate is not base64".into()))?;
    X509::from_der(&der).map_err(|_| CertProblem::Malformed("stored certificate does not parse".into()))
}

/// A certificate as nginx forwards it (`$ssl_client_escaped_cert`: URL-escaped PEM), or
/// plain PEM in one header line with spaces for newlines (some proxies send that).
pub fn from_forwarded_header(value: &str) -> Result<Presented, CertProblem> {
    if value.len() > MAX_UPLOAD_BYTES {
        return Err(CertProblem::TooLarge);
    }
    let unescaped: String = url::form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let pem = if unescaped.contains('\n') { unescaped } else { reflow_pem(&unescaped) };
    read_upload(pem.as_bytes())
}

/// PEM whose newlines became spaces: the base64 body has no spaces of its own.
fn reflow_pem(text: &str) -> String {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = String::new();
    let mut rest = text.trim();
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(end) = after.find(END) else { break };
        let body: String = after[..end].split_whitespace().collect();
        out.push_str(BEGIN);
        out.push('\n');
        out.push_str(&body);
        out.push('\n');
        out.push_str(END);
        out.push('\n');
        rest = &after[end + END.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_empty_and_huge_uploads_are_refused() {
        assert!(matches!(read_upload(b""), Err(CertProblem::Malformed(_))));
        assert!(matches!(read_upload(b"not a certificate"), Err(CertProblem::Malformed(_))));
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(read_upload(pem), Err(CertProblem::Malformed(_))));
        assert!(matches!(read_upload(&vec![b'A'; MAX_UPLOAD_BYTES + 1]), Err(CertProblem::TooLarge)));
        let many = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".repeat(MAX_CERTIFICATES + 1);
        assert!(matches!(read_upload(many.as_bytes()), Err(CertProblem::TooManyCertificates)));
    }

    #[test]
    fn a_pem_on_one_line_is_reflowed() {
        let text = "-----BEGIN CERTIFICATE----- QUJD REVG -----END CERTIFICATE-----";
        assert_eq!(reflow_pem(text), "-----BEGIN CERTIFICATE-----\nQUJDREVG\n-----END CERTIFICATE-----\n");
    }
}
