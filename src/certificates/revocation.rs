//! Revocation: OCSP first (RFC 6960: a request with a nonce, the response's signature checked
//! against the trusted CAs with OpenSSL, its nonce compared, its freshness checked), then the
//! certificate's CRL (signature checked with the issuer's key, cached until its nextUpdate).
//! Answers are cached for as long as they say they are valid.

use std::collections::HashMap;
use std::sync::Mutex;

use der::{Decode, Encode};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{CrlStatus, X509, X509Crl};

use super::fetch::Fetcher;

/// How long a good answer without a nextUpdate is believed (seconds).
const DEFAULT_FRESHNESS: i64 = 3600;
/// Clock skew allowed on an OCSP answer's times (seconds).
const SKEW: u32 = 300;
/// How old (thisUpdate) an OCSP answer that does not echo our nonce may be (seconds).
const MAX_AGE: u32 = 3600;

/// The nonce of an OCSP answer.
enum Nonce {
    Echoed(Vec<u8>),
    /// The extension is there but does not decode.
    Unreadable,
    Absent,
}

/// A certificate's revocation status, as learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Good,
    Revoked { reason: String },
}

/// Where an answer came from, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Ocsp,
    Crl,
    Cache,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ocsp => "ocsp",
            Source::Crl => "crl",
            Source::Cache => "cache",
        }
    }
}

pub struct Revocation {
    fetcher: Fetcher,
    /// Ask this responder instead of the certificate's.
    ocsp_url: Option<url::Url>,
    /// Thumbprint → (status, believed until).
    answers: Mutex<HashMap<String, (Status, i64)>>,
    /// CRL distribution point → (CRL DER, next update).
    crls: Mutex<HashMap<String, (Vec<u8>, i64)>>,
}

impl Revocation {
    pub fn new(fetcher: Fetcher, ocsp_url: Option<url::Url>) -> Self {
        Self { fetcher, ocsp_url, answers: Mutex::default(), crls: Mutex::default() }
    }

    /// The status of `chain[0]` (issued by `chain[1]`), or why it cannot be learnt.
    pub async fn check(
        &self,
        thumbprint: &str,
        chain: &[X509],
        anchors: &[X509],
        now: i64,
    ) -> Result<(Status, Source), String> {
        if let Some((status, until)) = lock(&self.answers).get(thumbprint).cloned()
            && now < until
        {
            return Ok((status, Source::Cache));
        }
        let (Some(leaf), Some(issuer)) = (chain.first(), chain.get(1)) else {
            return Err("the certificate's issuer is not in its chain".into());
        };
        let (mut status, mut until, source) = self.one(leaf, issuer, anchors, now, true).await?;
        // The intermediate CAs between it and the anchor, where they name a responder or a CRL
        // (the anchor itself is trusted as configured).
        if status == Status::Good && chain.len() > 2 {
            for pair in chain[1..chain.len() - 1].iter().zip(&chain[2..]) {
                let (ca, ca_issuer) = pair;
                if !names_revocation_source(ca) {
                    continue;
                }
                let (ca_status, ca_until, _) = self.one(ca, ca_issuer, anchors, now, false).await?;
                until = until.min(ca_until);
                if let Status::Revoked { reason } = ca_status {
                    status = Status::Revoked { reason: format!("an issuing CA is revoked ({reason})") };
                    break;
                }
            }
        }
        lock(&self.answers).insert(thumbprint.to_owned(), (status.clone(), until));
        Ok((status, source))
    }

    /// The status of `cert` from its issuer's OCSP responder (the configured one for people's
    /// and applications' certificates when `override_responder`), then its CRL.
    async fn one(
        &self,
        cert: &X509,
        issuer: &X509,
        anchors: &[X509],
        now: i64,
        override_responder: bool,
    ) -> Result<(Status, i64, Source), String> {
        let mut why = Vec::new();
        match self.by_ocsp(cert, issuer, anchors, now, override_responder).await {
            Ok((status, until)) => return Ok((status, until, Source::Ocsp)),
            Err(e) => why.push(format!("OCSP: {e}")),
        }
        match self.by_crl(cert, issuer, now).await {
            Ok((status, until)) => Ok((status, until, Source::Crl)),
            Err(e) => {
                why.push(format!("CRL: {e}"));
                Err(why.join("; "))
            }
        }
    }

    async fn by_ocsp(
        &self,
        leaf: &X509,
        issuer: &X509,
        anchors: &[X509],
        now: i64,
        override_responder: bool,
    ) -> Result<(Status, i64), String> {
        let url = match self.ocsp_url.as_ref().filter(|_| override_responder) {
            Some(url) => url.clone(),
            None => {
                let named = leaf.ocsp_responders().map_err(|_| "the certificate names no responder".to_owned())?;
                let first = named.iter().next().ok_or("the certificate names no responder")?;
                url::Url::parse(first).map_err(|_| "the responder's address is not a URL".to_owned())?
            }
        };
        let ssl = |e: openssl::error::ErrorStack| e.to_string();
        let mut nonce = [0u8; 32];
        openssl::rand::rand_bytes(&mut nonce).map_err(ssl)?;
        let request = with_nonce(&request_for(leaf, issuer)?, &nonce)?;
        let answer = self.fetcher.ocsp(&url, request).await?;
        let response = OcspResponse::from_der(&answer).map_err(|_| "the answer is not an OCSP response".to_owned())?;
        if response.status() != OcspResponseStatus::SUCCESSFUL {
            return Err(format!("the responder refused (status {})", response.status().as_raw()));
        }
        let basic = response.basic().map_err(|_| "the answer has no basic response".to_owned())?;
        // RFC 6960 §3.2: the signer is the CA or a responder it authorised; OpenSSL checks both.
        let mut store = X509StoreBuilder::new().map_err(ssl)?;
        for anchor in anchors {
            store.add_cert(anchor.clone()).map_err(ssl)?;
        }
        // A configured intermediate is an anchor here too (as in `trust.rs`).
        store.set_flags(openssl::x509::verify::X509VerifyFlags::PARTIAL_CHAIN).map_err(ssl)?;
        let store = store.build();
        let mut untrusted = Stack::new().map_err(ssl)?;
        untrusted.push(issuer.clone()).map_err(ssl)?;
        basic
            .verify(&untrusted, &store, OcspFlag::empty())
            .map_err(|_| "the answer's signature does not verify against a trusted CA".to_owned())?;
        // RFC 6960 §4.4.1: a nonce sent must come back unchanged; a responder that does not
        // echo nonces is believed only on a fresh answer (checked below).
        let (echoed, next_update) = read_answer(&answer)?;
        let echoed_ours = match echoed {
            Nonce::Echoed(echoed) if echoed != nonce => return Err("the answer's nonce is not the one sent".into()),
            Nonce::Echoed(_) => true,
            Nonce::Unreadable => return Err("the answer's nonce does not decode".into()),
            Nonce::Absent => false,
        };
        let id = OcspCertId::from_cert(MessageDigest::sha1(), leaf, issuer).map_err(ssl)?;
        let found = basic.find_status(&id).ok_or("the answer is about another certificate")?;
        // RFC 6960 §3.2: thisUpdate recent enough. An answer without our nonce could be a replay
        // of an old "good": it must have been made within the last MAX_AGE seconds.
        let max_age = if echoed_ours { None } else { Some(MAX_AGE) };
        found.check_validity(SKEW, max_age).map_err(|_| "the answer is stale or not yet valid".to_owned())?;
        let until = next_update.unwrap_or(now + DEFAULT_FRESHNESS);
        match found.status {
            OcspCertStatus::GOOD => Ok((Status::Good, until)),
            OcspCertStatus::REVOKED => {
                Ok((Status::Revoked { reason: format!("OCSP reason {}", found.reason.as_raw()) }, until))
            }
            _ => Err("the responder does not know the certificate".into()),
        }
    }

    async fn by_crl(&self, leaf: &X509, issuer: &X509, now: i64) -> Result<(Status, i64), String> {
        let urls = distribution_points(leaf);
        let url = urls.first().ok_or("the certificate names no CRL")?;
        let cached = lock(&self.crls).get(url).cloned().filter(|(_, next)| now < *next);
        let (der, next) = match cached {
            Some(hit) => hit,
            None => {
                let url_parsed = url::Url::parse(url).map_err(|_| "the CRL's address is not a URL".to_owned())?;
                let bytes = self.fetcher.get(&url_parsed).await?;
                let crl = X509Crl::from_der(&bytes)
                    .or_else(|_| X509Crl::from_pem(&bytes))
                    .map_err(|_| "the answer is not a CRL".to_owned())?;
                let key = issuer.public_key().map_err(|e| e.to_string())?;
                if !crl.verify(&key).unwrap_or(false)
                    || crl.issuer_name().to_der().ok() != issuer.subject_name().to_der().ok()
                {
                    return Err("the CRL is not signed by the certificate's issuer".into());
                }
                let next = crl
                    .next_update()
                    .and_then(|next| Asn1Time::from_unix(now).ok().and_then(|t| t.diff(next).ok()))
                    .map(|d| now + i64::from(d.days) * 86400 + i64::from(d.secs))
                    .ok_or("the CRL has no nextUpdate")?;
                if next <= now {
                    return Err("the CRL is out of date".into());
                }
                let der = crl.to_der().map_err(|e| e.to_string())?;
                lock(&self.crls).insert(url.clone(), (der.clone(), next));
                (der, next)
            }
        };
        let crl = X509Crl::from_der(&der).map_err(|e| e.to_string())?;
        let status = match crl.get_by_cert(leaf) {
            CrlStatus::Revoked(entry) => {
                Status::Revoked { reason: format!("in the CRL since {}", entry.revocation_date()) }
            }
            CrlStatus::NotRevoked | CrlStatus::RemoveFromCrl(_) => Status::Good,
        };
        Ok((status, next))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn request_for(leaf: &X509, issuer: &X509) -> Result<Vec<u8>, String> {
    let ssl = |e: openssl::error::ErrorStack| e.to_string();
    let id = OcspCertId::from_cert(MessageDigest::sha1(), leaf, issuer).map_err(ssl)?;
    let mut request = OcspRequest::new().map_err(ssl)?;
    request.add_id(id).map_err(ssl)?;
    request.to_der().map_err(ssl)
}

/// The request with a nonce extension (RFC 6960 §4.4.1).
fn with_nonce(request: &[u8], nonce: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |e: der::Error| format!("cannot encode the OCSP request: {e}");
    let mut parsed = x509_ocsp::OcspRequest::from_der(request).map_err(bad)?;
    let value = x509_ocsp::ext::Nonce::new(nonce.to_vec()).map_err(bad)?.to_der().map_err(bad)?;
    let extension = x509_cert::ext::Extension {
        extn_id: der::oid::db::rfc6960::ID_PKIX_OCSP_NONCE,
        critical: false,
        extn_value: der::asn1::OctetString::new(value).map_err(bad)?,
    };
    parsed.tbs_request.request_extensions = Some(vec![extension]);
    parsed.to_der().map_err(bad)
}

/// The nonce an OCSP answer carries, and its earliest nextUpdate (unix seconds).
fn read_answer(answer: &[u8]) -> Result<(Nonce, Option<i64>), String> {
    let bad = |_| "the OCSP answer does not decode".to_owned();
    let response = x509_ocsp::OcspResponse::from_der(answer).map_err(bad)?;
    let Some(bytes) = response.response_bytes else { return Ok((Nonce::Absent, None)) };
    let basic = x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(bad)?;
    let next = basic
        .tbs_response_data
        .responses
        .iter()
        .filter_map(|r| r.next_update.as_ref())
        .map(|t| t.0.to_unix_duration().as_secs() as i64)
        .min();
    let has_extension = basic
        .tbs_response_data
        .response_extensions
        .as_ref()
        .is_some_and(|exts| exts.iter().any(|e| e.extn_id == der::oid::db::rfc6960::ID_PKIX_OCSP_NONCE));
    let nonce = match (basic.nonce(), has_extension) {
        (Some(n), _) => Nonce::Echoed(n.0.as_bytes().to_vec()),
        (None, true) => Nonce::Unreadable,
        (None, false) => Nonce::Absent,
    };
    Ok((nonce, next))
}

/// Whether a certificate names an OCSP responder or a CRL to ask about it.
fn names_revocation_source(cert: &X509) -> bool {
    let ocsp = cert.ocsp_responders().map(|r| !r.is_empty()).unwrap_or(false);
    ocsp || !distribution_points(cert).is_empty()
}

/// The http(s) URIs of a certificate's CRL distribution points.
fn distribution_points(cert: &X509) -> Vec<String> {
    let Some(points) = cert.crl_distribution_points() else { return Vec::new() };
    points
        .iter()
        .filter_map(|p| p.distpoint())
        .filter_map(|name| name.fullname())
        .flat_map(|names| names.iter().filter_map(|n| n.uri().map(str::to_owned)).collect::<Vec<_>>())
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .collect()
}
