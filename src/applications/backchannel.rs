//! Back-channel registration metadata: CIBA (OpenID Connect CIBA Core 1.0 §4: the delivery
//! mode and the ping endpoint an application registers with the CIBA grant) and the logout
//! notifications (Back-Channel Logout 1.0 §2.2, Front-Channel Logout 1.0 §2).

use crate::domain::{ClientAuthMethod, GrantType, LogoutUris};

use super::ApplicationError;
use super::oidc_client::{MAX_URI_LEN, RawMetadata};

fn bad_meta(msg: &str) -> ApplicationError {
    ApplicationError::invalid_metadata(msg.to_owned())
}

/// CIBA Core §4: the CIBA grant needs a confidential client and a delivery mode, poll or
/// ping (push is not offered); ping needs an https notification endpoint (http only to this
/// machine, for development).
pub(super) fn check_backchannel(
    raw: &RawMetadata,
    grants: &[GrantType],
    method: ClientAuthMethod,
) -> Result<(), ApplicationError> {
    let ciba = grants.contains(&GrantType::Ciba);
    let mode = raw.backchannel_token_delivery_mode.as_deref();
    if !ciba {
        if mode.is_some() || raw.backchannel_client_notification_endpoint.is_some() {
            return Err(bad_meta("backchannel_* metadata needs the urn:openid:params:grant-type:ciba grant"));
        }
        return Ok(());
    }
    if method == ClientAuthMethod::None {
        return Err(bad_meta("the CIBA grant is for confidential clients (CIBA Core §4)"));
    }
    match (mode, raw.backchannel_client_notification_endpoint.as_deref()) {
        (Some("poll"), None) => Ok(()),
        (Some("poll"), Some(_)) => Err(bad_meta("backchannel_client_notification_endpoint is for ping mode")),
        (Some("ping"), Some(endpoint)) => {
            let url = url::Url::parse(endpoint)
                .map_err(|_| bad_meta("backchannel_client_notification_endpoint must be an absolute URL"))?;
            let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
                return Err(bad_meta("backchannel_client_notification_endpoint must be https"));
            }
            if url.fragment().is_some() || endpoint.len() > MAX_URI_LEN {
                return Err(bad_meta("backchannel_client_notification_endpoint must have no fragment"));
            }
            Ok(())
        }
        (Some("ping"), None) => Err(bad_meta("ping mode needs backchannel_client_notification_endpoint")),
        _ => Err(bad_meta("backchannel_token_delivery_mode must be poll or ping")),
    }
}

/// An https URL (plain http only to this machine, for development), by the rules of every
/// registered URI (`oidc_client::check_uri`); Back-Channel Logout §2.2 and Front-Channel
/// Logout §2: "MUST NOT include any fragment".
fn endpoint_url(field: &str, value: &str) -> Result<url::Url, ApplicationError> {
    super::oidc_client::check_uri(value, false).map_err(|e| bad_meta(&format!("{field}: {e}")))?;
    url::Url::parse(value).map_err(|_| bad_meta(&format!("{field} must be an absolute URL")))
}

/// The logout URIs, checked. Front-Channel Logout §2: "The domain, port, and scheme of this
/// URL MUST be the same as that of a registered Redirection URI value."
pub(super) fn check_logout_uris(raw: &RawMetadata, redirect_uris: &[String]) -> Result<LogoutUris, ApplicationError> {
    if let Some(uri) = &raw.backchannel_logout_uri {
        endpoint_url("backchannel_logout_uri", uri)?;
    }
    if let Some(uri) = &raw.frontchannel_logout_uri {
        let url = endpoint_url("frontchannel_logout_uri", uri)?;
        let origin = url.origin();
        let same = redirect_uris.iter().filter_map(|r| url::Url::parse(r).ok()).any(|r| r.origin() == origin);
        if !same {
            return Err(bad_meta("frontchannel_logout_uri must have the scheme, host and port of a redirect URI"));
        }
    }
    Ok(LogoutUris {
        backchannel_logout_uri: raw.backchannel_logout_uri.clone(),
        backchannel_logout_session_required: raw.backchannel_logout_session_required.unwrap_or(false),
        frontchannel_logout_uri: raw.frontchannel_logout_uri.clone(),
        frontchannel_logout_session_required: raw.frontchannel_logout_session_required.unwrap_or(false),
    })
}
