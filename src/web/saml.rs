//! `/saml/*`: Pintu as a SAML 2.0 identity provider. The metadata; single sign-on over the
//! HTTP-Redirect and HTTP-POST bindings (the answer always over HTTP-POST to a registered
//! ACS); `/saml/sign-in`, the account sign-in (or step-up, or new authentication) a request
//! waits for, and `/saml/resume`, where it returns.
//! `/saml/slo`: single logout (an SP's signed LogoutRequest, or its LogoutResponse to Pintu's).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::interaction::{form_post, with_cookies};
use super::oidc::see_other;
use super::state::AppState;
use super::{cookies, lang_for};
use crate::saml::{Outcome, Refused, SloOutcome};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saml/metadata", get(metadata))
        .route("/saml/sso", get(sso_redirect).post(sso_post))
        .route("/saml/init", get(initiate))
        .route("/saml/sign-in", get(sign_in))
        .route("/saml/resume", get(resume))
        .route("/saml/slo", get(slo_redirect).post(slo_post))
}

/// SAML Metadata §4.1.1: served as `application/samlmetadata+xml`, cacheable for an hour.
async fn metadata(State(state): State<AppState>) -> Response {
    match state.saml.metadata().await {
        Ok(xml) => {
            let mut response = xml.into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "the SAML metadata cannot be made");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn session(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookies::get(headers, cookies::SESSION, state.web.secure_cookies)
}

/// Bindings §3.4: the raw query string, as the SP signed it.
async fn sso_redirect(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let lang = lang_for(&state, &headers, None);
    let received = crate::saml::request::from_redirect(query.as_deref().unwrap_or(""));
    let outcome = match received {
        Ok(received) => state.saml.receive(received, session(&state, &headers).as_deref()).await,
        Err(e) => Err(e.into()),
    };
    answer(&state, lang, outcome).await
}

/// Bindings §3.5: `SAMLRequest` and `RelayState` in a form.
async fn sso_post(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let lang = lang_for(&state, &headers, None);
    let fields = match posted_fields(&body) {
        Ok(fields) => fields,
        Err(e) => return refused(&state, lang, &e).await,
    };
    let field = |name: &str| single(&fields, name);
    let outcome = match (field("SAMLRequest"), field("RelayState")) {
        (Ok(Some(request)), Ok(relay)) => match crate::saml::request::from_post(request, relay) {
            Ok(received) => state.saml.receive(received, session(&state, &headers).as_deref()).await,
            Err(e) => Err(e.into()),
        },
        (Ok(None), _) => Err(Refused::Invalid("SAMLRequest is missing".into())),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    answer(&state, lang, outcome).await
}

/// The fields of a form posted by the HTTP-POST binding, refused whole when it is larger than
/// any message Pintu reads.
fn posted_fields(body: &[u8]) -> Result<Vec<(String, String)>, Refused> {
    if body.len() > crate::saml::request::MAX_ENCODED_BYTES + 1024 {
        return Err(Refused::Invalid("the message is too large".into()));
    }
    Ok(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}

/// The one value of `name`, if sent; sent twice is refused.
fn single<'a>(fields: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Refused> {
    let mut values = fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match (values.next(), values.next()) {
        (value, None) => Ok(value),
        _ => Err(Refused::Invalid(format!("{name} is repeated"))),
    }
}

/// The sign-in a waiting request needs: a login, the step up to the level it wants, or (for
/// ForceAuthn) a login over the session. With nothing more to give, straight on to the answer.
async fn sign_in(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_for(&state, &headers, None);
    let Some(pending) = cookies::get(&headers, cookies::SAML, state.web.secure_cookies) else {
        return refused(&state, lang, &Refused::Expired).await;
    };
    let wanted = match state.saml.sign_in_wanted(&pending).await {
        Ok(Some(wanted)) => wanted,
        Ok(None) => return refused(&state, lang, &Refused::Expired).await,
        Err(e) => return refused(&state, lang, &Refused::Failed(e)).await,
    };
    let session = session(&state, &headers);
    match state.account.sign_in_page_for(session.as_deref(), Some(wanted.level), wanted.fresh).await {
        Ok(Some(page)) => super::account_sign_in::render(&state, lang, &page, StatusCode::OK, None),
        Ok(None) => see_other("/saml/resume"),
        Err(e) => super::account::failure(&state, lang, &e),
    }
}

/// IdP-initiated sign-in (Profiles §4.1.5): `?sp=ENTITY_ID[&RelayState=…]`, from the portal.
async fn initiate(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let lang = lang_for(&state, &headers, None);
    let query = query.unwrap_or_default();
    let mut sp = None;
    let mut relay = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "sp" => &mut sp,
            "RelayState" => &mut relay,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return refused(&state, lang, &Refused::Invalid(format!("{key} is repeated"))).await;
        }
    }
    let Some(sp) = sp else {
        return refused(&state, lang, &Refused::Invalid("sp (the service provider's entity ID) is missing".into()))
            .await;
    };
    let outcome = state.saml.initiate(&sp, relay, session(&state, &headers).as_deref()).await;
    answer(&state, lang, outcome).await
}

/// Back from the account sign-in: the request that waited for it.
async fn resume(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_for(&state, &headers, None);
    let Some(pending) = cookies::get(&headers, cookies::SAML, state.web.secure_cookies) else {
        return refused(&state, lang, &Refused::Expired).await;
    };
    let outcome = state.saml.resume(&pending, session(&state, &headers).as_deref()).await;
    // A request that asks the sign-in for more keeps waiting under its cookie (set again by
    // `answer`); otherwise the cookie has done its work.
    let waits = matches!(outcome, Ok(Outcome::SignIn { .. }));
    let response = answer(&state, lang, outcome).await;
    let clear = (!waits).then(|| cookies::clear(cookies::SAML, state.web.secure_cookies));
    with_cookies(response, clear)
}

async fn answer(state: &AppState, lang: &str, outcome: Result<Outcome, Refused>) -> Response {
    match outcome {
        Ok(Outcome::Post { acs, response, relay_state }) => {
            let mut params = vec![("SAMLResponse".to_owned(), response)];
            if let Some(relay) = relay_state {
                params.push(("RelayState".to_owned(), relay));
            }
            with_cookies(
                form_post(state, lang, &acs, params),
                [cookies::clear(cookies::SAML, state.web.secure_cookies)],
            )
        }
        // The account sign-in, then /saml/resume.
        Ok(Outcome::SignIn { pending }) => {
            let cookie = cookies::set(cookies::SAML, &pending, Some(900), state.web.secure_cookies);
            with_cookies(see_other("/saml/sign-in"), [cookie])
        }
        Err(e) => refused(state, lang, &e).await,
    }
}

/// A request that cannot be answered to the SP: a page saying why (audited and logged, never
/// a Response to an address the SP did not register).
async fn refused(state: &AppState, lang: &str, e: &Refused) -> Response {
    if let Refused::Failed(cause) = e {
        tracing::error!(error = %cause, "a SAML request failed");
        return super::error::error_page(&state.views, lang, super::error::PageKind::Server, None);
    }
    tracing::info!(reason = %e, "a SAML request was refused");
    state.saml.audit_refusal(e).await;
    super::error::error_page(&state.views, lang, super::error::PageKind::BadRequest, Some(e.to_string()))
}

/// Single logout over HTTP-Redirect: the raw query string, as the SP signed it.
async fn slo_redirect(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let lang = lang_for(&state, &headers, None);
    let query = query.unwrap_or_default();
    let message = crate::saml::request::redirect_message(&query);
    let outcome = match crate::saml::request::from_redirect_as(&query, message) {
        Ok(received) => state.saml.single_logout(received, session(&state, &headers).as_deref()).await,
        Err(e) => Err(e.into()),
    };
    logged_out(&state, lang, outcome).await
}

/// Single logout over HTTP-POST: `SAMLRequest` or `SAMLResponse`, and `RelayState`.
async fn slo_post(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let lang = lang_for(&state, &headers, None);
    let fields = match posted_fields(&body) {
        Ok(fields) => fields,
        Err(e) => return refused(&state, lang, &e).await,
    };
    let one = |name: &str| single(&fields, name);
    let outcome = match (one("SAMLRequest"), one("SAMLResponse"), one("RelayState")) {
        (Ok(Some(message)), Ok(None), Ok(relay)) | (Ok(None), Ok(Some(message)), Ok(relay)) => {
            match crate::saml::request::from_post(message, relay) {
                Ok(received) => state.saml.single_logout(received, session(&state, &headers).as_deref()).await,
                Err(e) => Err(e.into()),
            }
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
        _ => Err(Refused::Invalid("one of SAMLRequest and SAMLResponse is needed".into())),
    };
    logged_out(&state, lang, outcome).await
}

/// After single logout: the other applications told in the browser, then the LogoutResponse
/// to the SP that asked; the session cookie cleared.
async fn logged_out(state: &AppState, lang: &str, outcome: Result<SloOutcome, Refused>) -> Response {
    let (frames, then, ended) = match outcome {
        Ok(SloOutcome::LoggedOut { ended, mut front_channel, answer }) => {
            if let Some(session) = &ended {
                front_channel.extend(state.oidc.frontchannel_logout_urls(session).await);
            }
            (front_channel, Some(answer), ended.is_some())
        }
        Ok(SloOutcome::Acknowledged) => (Vec::new(), None, false),
        Err(e) => return refused(state, lang, &e).await,
    };
    let response = super::logout::logged_out_page(state, lang, None, frames, then);
    // The cookie goes with the session it named: an unsigned LogoutResponse, or a request
    // about someone else, leaves this browser signed in.
    let clear = ended.then(|| cookies::clear(cookies::SESSION, state.web.secure_cookies));
    with_cookies(response, clear)
}
