//! The full flow driven by the `openidconnect` crate as a real relying party.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};

use crate::backend_tests;
use crate::support::{Backend, PASSWORD, TestApp, browser::query_param};

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn rp_login(app: &TestApp, id_token_alg: &str, alg: CoreJwsSigningAlgorithm) {
    let user = app.user("budi").await;
    let client = app
        .client_from(
            serde_json::json!({
                "client_name": "E-Office",
                "redirect_uris": ["http://127.0.0.1:9/callback"],
                "grant_types": ["authorization_code", "refresh_token"],
                "id_token_signed_response_alg": id_token_alg,
            }),
            true,
        )
        .await;
    let http = http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http).await.unwrap();
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = app.browser();
    let location = browser.authorize_and_login(auth_url.as_str(), "budi", PASSWORD).await;
    assert!(location.starts_with("http://127.0.0.1:9/callback?"));
    assert_eq!(query_param(&location, "state").as_deref(), Some(state.secret().as_str()));
    assert_eq!(query_param(&location, "iss").as_deref(), Some(app.base.as_str()), "RFC 9207 iss");
    let code = query_param(&location, "code").unwrap();

    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("id_token");
    let verifier = rp.id_token_verifier().set_allowed_algs(vec![alg]);
    let claims = id_token.claims(&verifier, &nonce).expect("ID token verifies");
    assert_eq!(claims.subject().as_str(), user.id.as_str());
    assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some("urn:pintu:level:1"));
    assert_eq!(claims.auth_method_refs().unwrap().iter().map(|m| m.as_str()).collect::<Vec<_>>(), vec!["pwd"]);
    assert!(claims.auth_time().is_some());
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));

    let info: CoreUserInfoClaims =
        rp.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await.unwrap();
    assert_eq!(info.email().map(|e| e.as_str()), Some("budi@kominfo.go.id"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("budi"));

    let refreshed = rp
        .exchange_refresh_token(&RefreshToken::new(tokens.refresh_token().unwrap().secret().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(refreshed.refresh_token().unwrap().secret(), tokens.refresh_token().unwrap().secret(), "rotated");
}

async fn relying_party_completes_login_with_es256(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    rp_login(&app, "ES256", CoreJwsSigningAlgorithm::EcdsaP256Sha256).await;
}

async fn relying_party_completes_login_with_rs256(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    rp_login(&app, "RS256", CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256).await;
}

async fn relying_party_completes_login_with_eddsa(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    rp_login(&app, "EdDSA", CoreJwsSigningAlgorithm::EdDsa).await;
}

backend_tests!(
    relying_party_completes_login_with_es256,
    relying_party_completes_login_with_rs256,
    relying_party_completes_login_with_eddsa,
);
