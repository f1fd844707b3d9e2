//! Cookies: read from the `Cookie` header, written with `HttpOnly`, `SameSite=Lax`, `Path=/`,
//! and `Secure` (plus the `__Host-` prefix) whenever the issuer is https.

use axum::http::{HeaderMap, HeaderValue, header};

/// The SSO session cookie's base name.
pub const SESSION: &str = "pintu_session";
/// Binds a pending login/consent interaction to the browser that started it.
pub const INTERACTION: &str = "pintu_interaction";
/// A SAML AuthnRequest waiting while the person signs in (its pending id).
pub const SAML: &str = "pintu_saml";
/// The person's language choice.
pub const LOCALE: &str = "pintu_locale";

/// The on-the-wire name: `__Host-` prefixed when secure (RFC 6265bis §4.1.3.2).
pub fn name(base: &str, secure: bool) -> String {
    if secure { format!("__Host-{base}") } else { base.to_owned() }
}

/// The value of cookie `base` in the request, if present.
pub fn get(headers: &HeaderMap, base: &str, secure: bool) -> Option<String> {
    let wanted = name(base, secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == wanted)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value. `max_age` of `None` makes a browser-session cookie.
pub fn set(base: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{}={value}; Path=/; HttpOnly; SameSite=Lax", name(base, secure));
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(base: &str, secure: bool) -> HeaderValue {
    set(base, "", Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_use_the_host_prefix_and_secure_flag() {
        let v = set(SESSION, "abc", None, true);
        assert_eq!(v.to_str().unwrap(), "__Host-pintu_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure");
        let plain = set(SESSION, "abc", Some(60), false);
        assert_eq!(plain.to_str().unwrap(), "pintu_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
    }

    #[test]
    fn cookie_is_read_by_its_prefixed_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; __Host-pintu_session=xyz"));
        assert_eq!(get(&headers, SESSION, true).as_deref(), Some("xyz"));
        assert_eq!(get(&headers, SESSION, false), None);
    }
}
