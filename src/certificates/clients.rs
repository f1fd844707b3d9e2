//! Applications authenticating with TLS certificates (RFC 8705 §2): a certificate from a CA the
//! office trusts, checked like people's (chain, validity, revocation), whose subject or SAN is
//! the one the application registered.

use super::x509::Facts;
use super::{CertProblem, Certificates, Presented, ValidChain};

/// What an application registered to name its certificate (RFC 8705 §2.1.2): exactly one.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCertificateName<'a> {
    pub subject_dn: Option<&'a str>,
    pub san_dns: Option<&'a str>,
    pub san_uri: Option<&'a str>,
    pub san_ip: Option<&'a str>,
    pub san_email: Option<&'a str>,
}

/// Whether the certificate carries the registered name. A subject DN is compared attribute by
/// attribute in RFC 4514 order (types without regard to case, values exactly); SANs exactly,
/// DNS names and e-mail addresses without regard to case.
pub fn matches_registration(facts: &Facts, name: ClientCertificateName<'_>) -> bool {
    let any = |list: &[String], want: &str, fold: bool| {
        list.iter().any(|v| if fold { v.eq_ignore_ascii_case(want) } else { v == want })
    };
    if let Some(dn) = name.subject_dn {
        let Some(wanted) = parse_dn(dn) else { return false };
        return wanted.len() == facts.subject_rdns.len()
            && wanted.iter().zip(&facts.subject_rdns).all(|((t, v), (ft, fv))| t.eq_ignore_ascii_case(ft) && v == fv);
    }
    if let Some(dns) = name.san_dns {
        return any(&facts.san_dns, dns, true);
    }
    if let Some(uri) = name.san_uri {
        return any(&facts.san_uri, uri, false);
    }
    if let Some(ip) = name.san_ip {
        let want = ip.parse::<std::net::IpAddr>().map(|a| a.to_string()).unwrap_or_default();
        return any(&facts.san_ip, &want, false);
    }
    if let Some(email) = name.san_email {
        return any(&facts.emails, email, true);
    }
    false
}

/// An RFC 4514 string (`CN=app,O=Pemda,C=ID`) as (type, value) pairs, with `\,` `\+` `\\` `\=`
/// escapes undone; `None` when it is not one.
fn parse_dn(dn: &str) -> Option<Vec<(String, String)>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.push(chars.next()?),
            ',' | '+' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| {
            let (t, v) = p.split_once('=')?;
            let (t, v) = (t.trim(), v.trim());
            (!t.is_empty()).then(|| (t.to_owned(), v.to_owned()))
        })
        .collect()
}

impl Certificates {
    /// A client's certificate: it chains to a trusted CA now, may authenticate, and is not
    /// revoked (under the configured policy).
    pub async fn validate_client(&self, presented: &Presented) -> Result<ValidChain, CertProblem> {
        let valid = self.validate(presented)?;
        let anchors = self.anchors();
        let now = self.inner.clock.now();
        match self.inner.revocation.check(&valid.facts.thumbprint, &valid.chain, anchors.anchors(), now).await {
            Ok((super::revocation::Status::Good, _)) => Ok(valid),
            Ok((super::revocation::Status::Revoked { .. }, _)) => Err(CertProblem::Revoked),
            Err(why) => self.unknown_status(why).map(|()| valid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguished_names_are_read_with_their_escapes() {
        let parsed = parse_dn("CN=Aplikasi\\, Keuangan,O=Pemda,C=ID").unwrap();
        assert_eq!(parsed[0], ("CN".to_owned(), "Aplikasi, Keuangan".to_owned()));
        assert_eq!(parsed.len(), 3);
        assert!(parse_dn("no equals sign").is_none());
    }
}
