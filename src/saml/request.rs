//! Reading a service provider's `<AuthnRequest>` (SAML Core §3.4.1) as it arrives over the
//! HTTP-Redirect binding (DEFLATE, then base64, then URL-encoding; Bindings §3.4.4) or the
//! HTTP-POST binding (base64; Bindings §3.5.4), with limits before and after inflating, no
//! DTD (the parser refuses one), and the Redirect binding's signature over the query string
//! exactly as it was sent (Bindings §3.4.4.1). What the request asks for is then checked
//! against the SP's registration by the caller; nothing here trusts it.

use saml_rs::binding::{base64_decode_with_limit, deflate_raw_decode_with_limit};
use saml_rs::xml::dom::{Node, XmlLimits, parse_with_limits};

/// The largest `SAMLRequest` parameter accepted, as sent.
pub const MAX_ENCODED_BYTES: usize = 32 * 1024;
/// The largest request document accepted, after base64 and inflating.
pub const MAX_XML_BYTES: usize = 64 * 1024;
/// Bindings §3.4.3, §3.5.3: "RelayState data MUST NOT exceed 80 bytes".
pub const MAX_RELAY_STATE_BYTES: usize = 80;

/// The signature algorithms a request may be signed with: RSA with SHA-2 (no SHA-1).
const SIGNATURE_ALGORITHMS: [&str; 3] = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
];

/// Why a request is refused. The messages are for logs and the error page, never secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the SAML request is malformed: {0}")]
    Malformed(String),
    #[error("the SAML request's signature does not verify: {0}")]
    Signature(String),
}

fn malformed(why: impl Into<String>) -> RequestError {
    RequestError::Malformed(why.into())
}

/// The Redirect binding's signature: the algorithm, the signature, and the octets it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectSignature {
    pub algorithm: String,
    pub signature: String,
    pub signed_octets: String,
}

/// A request as received: its XML, the RelayState to echo byte for byte, and for the Redirect
/// binding its signature, if signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub xml: String,
    pub relay_state: Option<String>,
    pub redirect_signature: Option<RedirectSignature>,
}

fn decoded(raw: &str) -> String {
    form_urlencoded::parse(format!("v={raw}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

pub(super) fn relay_state(value: Option<String>) -> Result<Option<String>, RequestError> {
    match value {
        Some(v) if v.len() > MAX_RELAY_STATE_BYTES => {
            Err(malformed(format!("RelayState is longer than {MAX_RELAY_STATE_BYTES} bytes")))
        }
        other => Ok(other),
    }
}

/// The limits every SAML message is read with.
fn limits() -> XmlLimits {
    XmlLimits { max_bytes: MAX_XML_BYTES, ..XmlLimits::default() }
}

/// A SAML message's root element, read with the limits (no DTD, bounded size and depth).
pub(super) fn document(xml: &str) -> Result<Node, RequestError> {
    Ok(parse_with_limits(xml, limits()).map_err(|e| malformed(e.to_string()))?.root)
}

fn utf8(bytes: Vec<u8>) -> Result<String, RequestError> {
    String::from_utf8(bytes).map_err(|_| malformed("the request is not UTF-8"))
}

/// HTTP-Redirect: the raw query string as received (its values still URL-encoded).
pub fn from_redirect(raw_query: &str) -> Result<Received, RequestError> {
    from_redirect_as(raw_query, "SAMLRequest")
}

/// Which message a Redirect query carries: `SAMLRequest` or `SAMLResponse`.
pub fn redirect_message(raw_query: &str) -> &'static str {
    let names = raw_query.split('&').map(|p| p.split_once('=').map_or(p, |(n, _)| n));
    if names.clone().any(|n| n == "SAMLResponse") && !names.clone().any(|n| n == "SAMLRequest") {
        "SAMLResponse"
    } else {
        "SAMLRequest"
    }
}

/// HTTP-Redirect carrying the message `field` (`SAMLRequest` or `SAMLResponse`).
pub fn from_redirect_as(raw_query: &str, field: &'static str) -> Result<Received, RequestError> {
    let mut fields: [Option<&str>; 4] = [None; 4];
    let names: [&str; 4] = [field, "RelayState", "SigAlg", "Signature"];
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some(i) = names.iter().position(|n| *n == name)
            && fields[i].replace(value).is_some()
        {
            return Err(malformed(format!("{name} is repeated")));
        }
    }
    let [request, relay, algorithm, signature] = fields;
    let request = request.filter(|r| !r.is_empty()).ok_or_else(|| malformed(format!("{field} is missing")))?;
    if request.len() > MAX_ENCODED_BYTES {
        return Err(malformed(format!("{field} is too large")));
    }
    let deflated = base64_decode_with_limit(&decoded(request), MAX_ENCODED_BYTES)
        .map_err(|_| malformed(format!("{field} is not base64")))?;
    let xml = utf8(
        deflate_raw_decode_with_limit(&deflated, MAX_XML_BYTES)
            .map_err(|_| malformed(format!("{field} does not inflate within the size limit")))?,
    )?;
    let redirect_signature = match (algorithm, signature) {
        (None, None) => None,
        (Some(alg), Some(sig)) => {
            // Bindings §3.4.4.1: the octets are the parameters as they were URL-encoded in the
            // request, in this order, RelayState only when present.
            let mut signed_octets = format!("{field}={request}");
            if let Some(relay) = relay {
                signed_octets.push_str(&format!("&RelayState={relay}"));
            }
            signed_octets.push_str(&format!("&SigAlg={alg}"));
            Some(RedirectSignature { algorithm: decoded(alg), signature: decoded(sig), signed_octets })
        }
        _ => return Err(malformed("SigAlg and Signature go together")),
    };
    Ok(Received { xml, relay_state: relay_state(relay.map(decoded))?, redirect_signature })
}

/// HTTP-POST: the form's `SAMLRequest` (base64 of the XML) and `RelayState`.
pub fn from_post(saml_request: &str, relay: Option<&str>) -> Result<Received, RequestError> {
    if saml_request.len() > MAX_ENCODED_BYTES {
        return Err(malformed("the message is too large"));
    }
    let compact: String = saml_request.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let xml =
        utf8(base64_decode_with_limit(&compact, MAX_XML_BYTES).map_err(|_| malformed("the message is not base64"))?)?;
    Ok(Received { xml, relay_state: relay_state(relay.map(str::to_owned))?, redirect_signature: None })
}

/// The HTTP-POST binding's enveloped signature (XML-DSig inside the message, Bindings
/// §3.5.5.2), checked with the SP's certificates only (never a key the message carries).
/// Returns the signed element as saml-rs found it: the caller reads that, not the document it
/// came in, so nothing outside the signature is trusted (signature wrapping); it must be the
/// message itself (`root`), not some element inside it.
pub fn verify_posted(xml: &str, certificates: &[String], root: &str) -> Result<String, RequestError> {
    let verified = saml_rs::crypto::verify_signature_with_limits(xml, certificates, limits());
    let signed = match verified {
        Ok((true, Some(signed))) => signed,
        Ok(_) => return Err(RequestError::Signature("no registered certificate verifies it".into())),
        Err(e) => return Err(RequestError::Signature(e.to_string())),
    };
    let element = document(&signed)?;
    if element.local_name != root {
        return Err(RequestError::Signature(format!("the signature covers a {}, not the {root}", element.local_name)));
    }
    Ok(signed)
}

/// Whether a posted message carries an XML signature of its own (a `Signature` child).
pub fn has_enveloped_signature(xml: &str) -> bool {
    document(xml).is_ok_and(|root| root.children.iter().any(|c| c.local_name == "Signature"))
}

/// Checks the Redirect binding's signature with any of the SP's certificates (PEM).
pub fn verify_redirect(signature: &RedirectSignature, certificates: &[String]) -> Result<(), RequestError> {
    if !SIGNATURE_ALGORITHMS.contains(&signature.algorithm.as_str()) {
        return Err(RequestError::Signature(format!("{} is not accepted (RSA with SHA-2 only)", signature.algorithm)));
    }
    let verified = certificates.iter().any(|pem| {
        saml_rs::crypto::verify_message_signature(
            &signature.signed_octets,
            &signature.signature,
            pem,
            &signature.algorithm,
        )
        .unwrap_or(false)
    });
    if verified { Ok(()) } else { Err(RequestError::Signature("no registered certificate verifies it".into())) }
}

/// SAML Core §3.3.2.2.1: how the requested contexts compare with the one delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Exact,
    Minimum,
    Maximum,
    Better,
}

/// What an AuthnRequest asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    /// Unix seconds.
    pub issue_instant: i64,
    pub issuer: String,
    pub destination: Option<String>,
    pub acs_url: Option<String>,
    pub acs_index: Option<u16>,
    pub protocol_binding: Option<String>,
    pub name_id_format: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub requested_context: Option<(Comparison, Vec<String>)>,
}

pub(super) fn child<'a>(node: &'a Node, name: &str) -> Option<&'a Node> {
    node.children.iter().find(|c| c.local_name == name)
}

/// xs:boolean: `true`, `1`, `false`, `0`.
fn boolean(node: &Node, name: &str) -> Result<bool, RequestError> {
    match node.attr(name) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(malformed(format!("{name}=\"{other}\" is not a boolean"))),
    }
}

/// An xs:dateTime in UTC as SAML requires (Core §1.3.3: no time zone offset but `Z`).
pub fn parse_instant(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<u32>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    let date = crate::domain::nip::Date { year, month, day };
    if !date.is_valid() || h > 23 || m > 59 || s > 60 || d.next().is_some() || t.next().is_some() {
        return None;
    }
    Some(date.to_unix() + h * 3600 + m * 60 + s)
}

/// Parses the request document.
pub fn parse(xml: &str) -> Result<AuthnRequest, RequestError> {
    let root = &document(xml)?;
    if root.local_name != "AuthnRequest" {
        return Err(malformed(format!("a {} is not an AuthnRequest", root.local_name)));
    }
    if root.attr("Version") != Some("2.0") {
        return Err(malformed("Version must be 2.0"));
    }
    // xs:ID is an NCName: it cannot start with a digit, and has no spaces or colons.
    let id = root.attr("ID").filter(|id| {
        !id.is_empty()
            && id.len() <= 256
            && !id.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
            && id.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    });
    let id = id.ok_or_else(|| malformed("ID is missing or not an xs:ID"))?.to_owned();
    let issue_instant = root
        .attr("IssueInstant")
        .and_then(parse_instant)
        .ok_or_else(|| malformed("IssueInstant is missing or not a UTC time"))?;
    // Profiles §4.1.4.1: the request MUST carry the SP's entity ID as its Issuer.
    let issuer = child(root, "Issuer").map(|i| i.text.trim().to_owned()).filter(|i| !i.is_empty());
    let issuer = issuer.ok_or_else(|| malformed("Issuer is missing"))?;
    let acs_index = match root.attr("AssertionConsumerServiceIndex") {
        Some(i) => Some(i.parse::<u16>().map_err(|_| malformed("AssertionConsumerServiceIndex is not 0-65535"))?),
        None => None,
    };
    let policy = child(root, "NameIDPolicy");
    let requested_context = match child(root, "RequestedAuthnContext") {
        Some(ctx) => {
            let comparison = match ctx.attr("Comparison").unwrap_or("exact") {
                "exact" => Comparison::Exact,
                "minimum" => Comparison::Minimum,
                "maximum" => Comparison::Maximum,
                "better" => Comparison::Better,
                other => {
                    return Err(malformed(format!("Comparison=\"{other}\" is not exact, minimum, maximum or better")));
                }
            };
            let classes: Vec<String> = ctx
                .children
                .iter()
                .filter(|c| c.local_name == "AuthnContextClassRef")
                .map(|c| c.text.trim().to_owned())
                .collect();
            if classes.is_empty() {
                return Err(malformed("RequestedAuthnContext names no AuthnContextClassRef"));
            }
            Some((comparison, classes))
        }
        None => None,
    };
    Ok(AuthnRequest {
        id,
        issue_instant,
        issuer,
        destination: root.attr("Destination").map(str::to_owned),
        acs_url: root.attr("AssertionConsumerServiceURL").map(str::to_owned),
        acs_index,
        protocol_binding: root.attr("ProtocolBinding").map(str::to_owned),
        name_id_format: policy.and_then(|p| p.attr("Format")).map(str::to_owned),
        force_authn: boolean(root, "ForceAuthn")?,
        is_passive: boolean(root, "IsPassive")?,
        requested_context,
    })
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
