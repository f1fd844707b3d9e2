//! The certificate a browser presented in TLS: to Pintu's own listener (`web::tls` puts the
//! handshake's certificates on each request), or to a reverse proxy that forwards it in the
//! configured header, believed only from `web.trusted_proxies`. Either way the TLS handshake
//! proved that the browser holds the certificate's key.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::certificates::{Presented, Proof, x509};

use super::state::AppState;

/// The certificates of a TLS handshake with Pintu's own listener (DER, the client's first).
#[derive(Debug, Clone, Default)]
pub struct TlsPeer {
    pub certificates: Vec<Vec<u8>>,
}

/// What this request presents, if anything, and how it was proven.
pub struct ClientCertificate {
    pub presented: Option<Presented>,
    pub proof: Proof,
}

impl FromRequestParts<AppState> for ClientCertificate {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // On Pintu's own TLS listener only the handshake counts: whatever sits in front of it
        // passes TCP through, so a header there proves nothing.
        if let Some(peer) = parts.extensions.get::<TlsPeer>() {
            let presented = peer.certificates.split_first().and_then(|(leaf, chain)| from_der(leaf, chain));
            return Ok(Self { presented, proof: Proof::Tls });
        }
        let none = Self { presented: None, proof: Proof::Forwarded };
        let Some(header) = state.sso.certificates.config().forwarded_header.as_deref() else { return Ok(none) };
        let Some(value) = parts.headers.get(header).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()) else {
            return Ok(none);
        };
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        if !peer.is_some_and(|ip| state.web.trusted_proxies.contains(&ip)) {
            // Anyone can send a header: only a configured proxy's is believed.
            tracing::warn!(peer = ?peer, header, "a forwarded client certificate from an untrusted address was ignored");
            return Ok(none);
        }
        match x509::from_forwarded_header(value) {
            Ok(presented) => Ok(Self { presented: Some(presented), proof: Proof::Forwarded }),
            Err(e) => {
                tracing::warn!(error = %e, "the forwarded client certificate does not parse");
                Ok(none)
            }
        }
    }
}

fn from_der(leaf: &[u8], chain: &[Vec<u8>]) -> Option<Presented> {
    let leaf = parse_der(leaf)?;
    let chain = chain.iter().filter_map(|c| parse_der(c)).map(|p| p.leaf).collect();
    Some(Presented { leaf: leaf.leaf, chain })
}

fn parse_der(der: &[u8]) -> Option<Presented> {
    x509::read_upload(der).map_err(|e| tracing::warn!(error = %e, "a TLS client certificate does not parse")).ok()
}
