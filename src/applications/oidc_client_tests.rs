//! Tests of `oidc_client`: metadata validation.

use super::*;

#[test]
fn http_redirect_uri_is_only_allowed_on_loopback() {
    assert!(check_redirect_uri("http://127.0.0.1:9000/cb", false).is_ok());
    assert!(check_redirect_uri("http://app.example.go.id/cb", false).is_err());
    assert!(check_redirect_uri("https://app.example.go.id/cb#x", false).is_err());
    assert!(check_redirect_uri("id.go.kab.app:/cb", true).is_ok());
    assert!(check_redirect_uri("id.go.kab.app:/cb", false).is_err());
}

#[test]
fn redirect_uri_with_userinfo_or_hidden_characters_is_refused() {
    for uri in
        ["https://a.go.id@evil.example/cb", "https://@a.go.id/cb", "https://a.go.id/c\rb", "https://a.go.id/\u{85}"]
    {
        assert!(check_redirect_uri(uri, false).is_err(), "{uri:?}");
    }
}

#[test]
fn unknown_grant_type_is_invalid_client_metadata() {
    let raw = RawMetadata { grant_types: Some(vec!["implicit".into()]), ..Default::default() };
    assert!(matches!(validate_metadata(raw).unwrap_err(), ApplicationError::InvalidMetadata(_)));
}

#[test]
fn code_client_without_redirect_uris_is_invalid_redirect_uri() {
    assert!(matches!(validate_metadata(RawMetadata::default()).unwrap_err(), ApplicationError::InvalidRedirectUri(_)));
}

#[test]
fn language_tags_have_the_bcp47_shape() {
    for tag in ["en", "id-ID", "en-US", "zh-Hant-TW", "x-pintu", "sr-Latn-RS"] {
        assert!(is_language_tag(tag), "{tag}");
    }
    for tag in ["", "e", "en-", "en US", "toolonglanguage", "en-abcdefghi", "1d"] {
        assert!(!is_language_tag(tag), "{tag}");
    }
}
