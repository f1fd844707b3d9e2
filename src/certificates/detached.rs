//! Detached CMS SignedData (RFC 5652) over a document digest: built around a signature the
//! CA's signing service made (the key never leaves it), and checked when it comes back or
//! when a receipt is verified. The signed attributes are content type, signing time and the
//! message digest (RFC 5652 §5.3, §11): what the signature covers is the DER encoding of that
//! set (§5.4), so the digest the person approved is inside what was signed.

/// A digest algorithm a document digest may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub const ALL: [HashAlg; 3] = [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512];

    pub fn oid(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "2.16.840.1.101.3.4.2.1",
            HashAlg::Sha384 => "2.16.840.1.101.3.4.2.2",
            HashAlg::Sha512 => "2.16.840.1.101.3.4.2.3",
        }
    }

    pub fn from_oid(oid: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.oid() == oid)
    }

    /// The digest length in bytes.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    pub(super) fn message_digest(self) -> openssl::hash::MessageDigest {
        match self {
            HashAlg::Sha256 => openssl::hash::MessageDigest::sha256(),
            HashAlg::Sha384 => openssl::hash::MessageDigest::sha384(),
            HashAlg::Sha512 => openssl::hash::MessageDigest::sha512(),
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        openssl::hash::hash(self.message_digest(), data).map(|d| d.to_vec()).unwrap_or_default()
    }
}

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME};
use der::asn1::{GeneralizedTime, OctetString, SetOfVec, UtcTime};
use der::{Any, AnyRef, Decode, Encode, SliceReader, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;

/// Why a CMS SignedData could not be built or does not hold.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    #[error("malformed CMS: {0}")]
    Malformed(String),
    #[error("the CMS signature does not verify: {0}")]
    Invalid(&'static str),
}

impl From<der::Error> for CmsError {
    fn from(e: der::Error) -> Self {
        CmsError::Malformed(e.to_string())
    }
}

fn oid(text: &str) -> Result<ObjectIdentifier, CmsError> {
    ObjectIdentifier::new(text).map_err(|e| CmsError::Malformed(e.to_string()))
}

fn algorithm(text: &str, null_parameters: bool) -> Result<AlgorithmIdentifierOwned, CmsError> {
    // RFC 4055 §5: sha*WithRSAEncryption carries NULL parameters; RFC 5758 §3.2: ECDSA none.
    let parameters = null_parameters.then(|| Any::from(der::asn1::Null));
    Ok(AlgorithmIdentifierOwned { oid: oid(text)?, parameters })
}

fn attribute(id: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute { oid: id, values: SetOfVec::try_from(vec![value])? })
}

/// The signed attributes of one signature, waiting for the signature.
pub struct Unsigned {
    alg: HashAlg,
    attributes: SignedAttributes,
    /// Their DER as a SET OF (RFC 5652 §5.4): what the signature covers.
    der: Vec<u8>,
}

impl Unsigned {
    /// Content type `id-data`, the signing time and the message digest `digest` (RFC 5652 §11).
    pub fn new(alg: HashAlg, digest: &[u8], signing_time: i64) -> Result<Self, CmsError> {
        let at = der::DateTime::from_unix_duration(std::time::Duration::from_secs(signing_time.max(0) as u64))?;
        // RFC 5652 §11.3: UTCTime for dates before 2050.
        let time = if at.year() < 2050 {
            Time::UtcTime(UtcTime::from_date_time(at)?)
        } else {
            Time::GeneralTime(GeneralizedTime::from_date_time(at))
        };
        let mut attributes = SignedAttributes::new();
        attributes.insert(attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?)?;
        attributes.insert(attribute(ID_SIGNING_TIME, Any::encode_from(&time)?)?)?;
        attributes.insert(attribute(ID_MESSAGE_DIGEST, Any::new(Tag::OctetString, digest)?)?)?;
        let der = attributes.to_der()?;
        Ok(Self { alg, attributes, der })
    }

    /// The hash a remote service signs: of the signed attributes' DER.
    pub fn to_be_signed(&self) -> Vec<u8> {
        self.alg.digest(&self.der)
    }

    /// The ContentInfo (DER) with `signature` made by `chain[0]`'s key with `sign_algo`.
    pub fn assemble(self, chain: &[Vec<u8>], sign_algo: &str, signature: Vec<u8>) -> Result<Vec<u8>, CmsError> {
        let certificates: Vec<Certificate> =
            chain.iter().map(|c| Certificate::from_der(c)).collect::<Result<_, _>>()?;
        let leaf = &certificates.first().ok_or(CmsError::Invalid("no signer certificate"))?.tbs_certificate;
        let digest_alg = algorithm(self.alg.oid(), false)?;
        let signer = SignerInfo {
            // Version 1: the signer is named by issuer and serial number (RFC 5652 §5.3).
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: leaf.issuer.clone(),
                serial_number: leaf.serial_number.clone(),
            }),
            digest_alg: digest_alg.clone(),
            signed_attrs: Some(self.attributes),
            signature_algorithm: algorithm(sign_algo, sign_algo.starts_with("1.2.840.113549"))?,
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        };
        let mut set = CertificateSet(SetOfVec::new());
        for certificate in certificates {
            set.0.insert(CertificateChoices::Certificate(certificate))?;
        }
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![digest_alg])?,
            // Detached: the content is the document the application holds.
            encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
            certificates: Some(set),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
        };
        Ok(ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? }.to_der()?)
    }
}

/// A detached signature that holds: its signer's chain (DER, the signer first) and when it
/// says it was made.
#[derive(Debug, Clone)]
pub struct VerifiedCms {
    pub chain: Vec<Vec<u8>>,
    pub signing_time: Option<i64>,
}

/// Checks a detached CMS SignedData over `digest`: one signer, content type `id-data`, the
/// digest algorithm `alg`, `digest` as its message digest, and a signature by the certificate
/// it names over the signed attributes exactly as they were sent. The chain is not judged
/// here (the caller validates it against the trust anchors).
pub fn verify_detached(bytes: &[u8], alg: HashAlg, digest: &[u8]) -> Result<VerifiedCms, CmsError> {
    let info = ContentInfo::from_der(bytes)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CmsError::Invalid("not a SignedData"));
    }
    let signed: SignedData = info.content.decode_as()?;
    if signed.encap_content_info.econtent_type != ID_DATA || signed.encap_content_info.econtent.is_some() {
        return Err(CmsError::Invalid("not a detached signature over data"));
    }
    let signers: Vec<&SignerInfo> = signed.signer_infos.0.iter().collect();
    let [signer] = signers.as_slice() else { return Err(CmsError::Invalid("not exactly one signer")) };
    let digest_oid = oid(alg.oid())?;
    if signer.digest_alg.oid != digest_oid || !signed.digest_algorithms.iter().any(|a| a.oid == digest_oid) {
        return Err(CmsError::Invalid("another digest algorithm"));
    }
    let attributes = signer.signed_attrs.as_ref().ok_or(CmsError::Invalid("no signed attributes"))?;
    // RFC 5652 §11: content type, message digest and signing time occur once, with one value.
    for id in [ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNING_TIME] {
        let found: Vec<_> = attributes.iter().filter(|a| a.oid == id).collect();
        if found.len() > 1 || found.iter().any(|a| a.values.len() != 1) {
            return Err(CmsError::Invalid("a signed attribute occurs twice or with several values"));
        }
    }
    let value_of = |id: ObjectIdentifier| {
        attributes.iter().find(|a| a.oid == id).and_then(|a| (a.values.len() == 1).then(|| a.values.get(0)).flatten())
    };
    let message_digest = value_of(ID_MESSAGE_DIGEST).filter(|v| v.tag() == Tag::OctetString).map(|v| v.value());
    if message_digest != Some(digest) {
        return Err(CmsError::Invalid("the message digest is not the approved digest"));
    }
    if value_of(ID_CONTENT_TYPE).and_then(|v| v.decode_as::<ObjectIdentifier>().ok()) != Some(ID_DATA) {
        return Err(CmsError::Invalid("the content type attribute is not id-data"));
    }
    let signing_time = value_of(ID_SIGNING_TIME)
        .and_then(|v| Time::from_der(&v.to_der().ok()?).ok())
        .map(|t| t.to_unix_duration().as_secs() as i64);
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
        return Err(CmsError::Invalid("the signer is not named by issuer and serial number"));
    };
    let certificates: Vec<&Certificate> = signed
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let leaf = certificates
        .iter()
        .find(|c| c.tbs_certificate.issuer == sid.issuer && c.tbs_certificate.serial_number == sid.serial_number)
        .ok_or(CmsError::Invalid("the signer's certificate is not included"))?;
    let leaf_der = leaf.to_der()?;
    // The signature covers the attributes as the signer encoded them (re-encoding a decoded
    // SET OF may reorder it), re-tagged as a SET (RFC 5652 §5.4).
    let raw = raw_signed_attributes(info.content.value())?;
    let key = openssl::x509::X509::from_der(&leaf_der)
        .and_then(|c| c.public_key())
        .map_err(|_| CmsError::Invalid("the signer's key cannot be read"))?;
    check_signature_algorithm(&signer.signature_algorithm, alg, key.id())?;
    let verified = openssl::sign::Verifier::new(alg.message_digest(), &key)
        .and_then(|mut v| v.verify_oneshot(signer.signature.as_bytes(), &raw))
        .unwrap_or(false);
    if !verified {
        return Err(CmsError::Invalid("the signature is not the signer's over these attributes"));
    }
    let mut chain = vec![leaf_der.clone()];
    for certificate in certificates {
        let der = certificate.to_der()?;
        if der != leaf_der {
            chain.push(der);
        }
    }
    Ok(VerifiedCms { chain, signing_time })
}

/// The signature algorithm must be the one the key and the approved digest call for: RSA
/// PKCS #1 v1.5 (`rsaEncryption` or `shaNWithRSAEncryption`, NULL or absent parameters) for an
/// RSA key, `ecdsa-with-SHAN` (no parameters) for an EC key, N the approved digest's.
fn check_signature_algorithm(
    used: &AlgorithmIdentifierOwned,
    alg: HashAlg,
    key: openssl::pkey::Id,
) -> Result<(), CmsError> {
    let (rsa_with, ecdsa_with) = match alg {
        HashAlg::Sha256 => ("1.2.840.113549.1.1.11", "1.2.840.10045.4.3.2"),
        HashAlg::Sha384 => ("1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3"),
        HashAlg::Sha512 => ("1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4"),
    };
    let null_or_absent = used.parameters.as_ref().is_none_or(|p| p.tag() == Tag::Null);
    let fits = if key == openssl::pkey::Id::RSA {
        (used.oid == oid("1.2.840.113549.1.1.1")? || used.oid == oid(rsa_with)?) && null_or_absent
    } else if key == openssl::pkey::Id::EC {
        used.oid == oid(ecdsa_with)? && used.parameters.is_none()
    } else {
        false
    };
    if fits { Ok(()) } else { Err(CmsError::Invalid("the signature algorithm does not fit the key and digest")) }
}

/// The one signer's `signedAttrs` as sent, as a SET (the bytes its signature covers).
fn raw_signed_attributes(signed_data: &[u8]) -> Result<Vec<u8>, CmsError> {
    let fields = elements(signed_data)?;
    let signer_infos = fields.last().ok_or(CmsError::Invalid("no signerInfos"))?;
    let signers = elements(signer_infos.value())?;
    let signer = signers.first().ok_or(CmsError::Invalid("no signer"))?;
    let implicit = Tag::ContextSpecific { constructed: true, number: der::TagNumber::N0 };
    let attributes = elements(signer.value())?
        .into_iter()
        .find(|e| e.tag() == implicit)
        .ok_or(CmsError::Invalid("no signed attributes"))?;
    Ok(AnyRef::new(Tag::Set, attributes.value())?.to_der()?)
}

fn elements(value: &[u8]) -> Result<Vec<AnyRef<'_>>, CmsError> {
    let mut reader = SliceReader::new(value)?;
    let mut out = Vec::new();
    while !der::Reader::is_finished(&reader) {
        out.push(AnyRef::decode(&mut reader)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use openssl::hash::MessageDigest;
    use openssl::pkey::{PKey, Private};
    use openssl::x509::{X509, X509NameBuilder};

    use super::*;

    fn signer() -> (PKey<Private>, Vec<u8>) {
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "Budi Santoso").unwrap();
        let name = name.build();
        let mut builder = X509::builder().unwrap();
        builder.set_version(2).unwrap();
        builder.set_subject_name(&name).unwrap();
        builder.set_issuer_name(&name).unwrap();
        builder.set_pubkey(&key).unwrap();
        builder.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap()).unwrap();
        builder.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap()).unwrap();
        builder.sign(&key, MessageDigest::sha256()).unwrap();
        (key, builder.build().to_der().unwrap())
    }

    /// What a remote service does: sign the hash of the signed attributes (PKCS #1 v1.5).
    fn sign(key: &PKey<Private>, unsigned: &Unsigned) -> Vec<u8> {
        let mut ctx = openssl::pkey_ctx::PkeyCtx::new(key).unwrap();
        ctx.sign_init().unwrap();
        ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1).unwrap();
        ctx.set_signature_md(openssl::md::Md::sha256()).unwrap();
        let mut out = Vec::new();
        ctx.sign_to_vec(&unsigned.to_be_signed(), &mut out).unwrap();
        out
    }

    const RSA_SHA256: &str = "1.2.840.113549.1.1.11";

    #[test]
    fn a_signature_verifies_over_its_digest_only() {
        let (key, cert) = signer();
        let digest = HashAlg::Sha256.digest(b"Surat Edaran 12/2026");
        let unsigned = Unsigned::new(HashAlg::Sha256, &digest, 1_800_000_000).unwrap();
        let signature = sign(&key, &unsigned);
        let cms = unsigned.assemble(std::slice::from_ref(&cert), RSA_SHA256, signature).unwrap();
        let verified = verify_detached(&cms, HashAlg::Sha256, &digest).unwrap();
        assert_eq!(verified.chain, vec![cert]);
        assert_eq!(verified.signing_time, Some(1_800_000_000));
        let other = HashAlg::Sha256.digest(b"another letter");
        assert!(verify_detached(&cms, HashAlg::Sha256, &other).is_err());
        assert!(verify_detached(&cms, HashAlg::Sha384, &digest).is_err());
        assert!(verify_detached(b"not DER", HashAlg::Sha256, &digest).is_err());
    }

    #[test]
    fn a_wrong_signature_or_algorithm_is_refused() {
        let (key, cert) = signer();
        let digest = HashAlg::Sha256.digest(b"Nota Dinas");
        let unsigned = Unsigned::new(HashAlg::Sha256, &digest, 1_800_000_000).unwrap();
        let mut signature = sign(&key, &unsigned);
        signature[10] ^= 1;
        let cms = unsigned.assemble(std::slice::from_ref(&cert), RSA_SHA256, signature).unwrap();
        assert!(matches!(verify_detached(&cms, HashAlg::Sha256, &digest), Err(CmsError::Invalid(_))));
        // An ECDSA algorithm named for an RSA key's signature.
        let unsigned = Unsigned::new(HashAlg::Sha256, &digest, 1_800_000_000).unwrap();
        let signature = sign(&key, &unsigned);
        let cms = unsigned.assemble(std::slice::from_ref(&cert), "1.2.840.10045.4.3.2", signature).unwrap();
        let refused = verify_detached(&cms, HashAlg::Sha256, &digest);
        assert!(matches!(refused, Err(CmsError::Invalid(why)) if why.contains("algorithm")), "{refused:?}");
    }
}
