//! Which claims an application receives (OIDC Core §5.4 scopes, §5.5 `claims` requests).
//! A claim is released only when the scope that covers it was granted.

use serde_json::{Map, Value, json};

use crate::domain::{RelyingParty, Scope, User};

use super::{OAuthError, OidcService};

/// OIDC Core §5.4: the scope that covers each standard claim Pintu knows.
const CLAIM_SCOPES: &[(&str, &str)] = &[
    ("name", "profile"),
    ("given_name", "profile"),
    ("family_name", "profile"),
    ("preferred_username", "profile"),
    ("locale", "profile"),
    ("updated_at", "profile"),
    ("email", "email"),
    ("email_verified", "email"),
    ("phone_number", "phone"),
    ("phone_number_verified", "phone"),
];

/// Names of the claims Pintu can release, for discovery.
pub fn supported_claims() -> Vec<&'static str> {
    let mut names = vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash"];
    names.extend(CLAIM_SCOPES.iter().map(|(c, _)| *c));
    names.extend(crate::domain::application::DIRECTORY_CLAIMS.iter().map(|(c, _)| *c));
    names
}

fn claim_value(user: &User, name: &str) -> Option<Value> {
    let opt = |v: &Option<String>| v.as_ref().map(|s| json!(s));
    match name {
        "name" => user.name.as_ref().map(|_| json!(user.display_name())),
        "given_name" => opt(&user.given_name),
        "family_name" => opt(&user.family_name),
        "preferred_username" => Some(json!(user.username)),
        "locale" => opt(&user.locale),
        "updated_at" => Some(json!(user.updated_at)),
        "email" => opt(&user.email),
        "email_verified" => user.email.as_ref().map(|_| json!(user.email_verified)),
        "phone_number" => opt(&user.phone_number),
        "phone_number_verified" => user.phone_number.as_ref().map(|_| json!(user.phone_number_verified)),
        _ => None,
    }
}

fn covered(name: &str, scope: &Scope) -> bool {
    CLAIM_SCOPES.iter().any(|(claim, s)| *claim == name && scope.contains(s))
}

/// Claims for the userinfo response: everything the granted scopes cover. A `claims`
/// request may name individual claims, still only within the granted scopes.
pub fn userinfo_claims(user: &User, scope: &Scope, requested: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id.as_str()));
    for (name, s) in CLAIM_SCOPES {
        if scope.contains(s)
            && let Some(v) = claim_value(user, name)
        {
            out.insert((*name).into(), v);
        }
    }
    if let Some(Value::Object(names)) = requested {
        for name in names.keys().filter(|n| covered(n, scope)) {
            if let Some(v) = claim_value(user, name) {
                out.insert(name.clone(), v);
            }
        }
    }
    out
}

impl OidcService {
    /// Directory claims for an ID token: as for userinfo, except `nik`, which only the
    /// UserInfo endpoint releases (ID tokens travel through browsers and logs).
    pub(crate) async fn id_token_directory_claims(
        &self,
        client: &RelyingParty,
        user: &User,
        scope: &Scope,
    ) -> Result<Map<String, Value>, OAuthError> {
        let mut claims = self.directory.claims_for(client, user, scope).await?;
        claims.remove("nik");
        Ok(claims)
    }

    /// Claims the `claims` request asked for in the ID token (OIDC Core §5.5), within scope.
    pub(crate) fn id_token_claims(&self, user: &User, scope: &Scope, requested: Option<&Value>) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(Value::Object(names)) = requested {
            for name in names.keys().filter(|n| covered(n, scope)) {
                if let Some(v) = claim_value(user, name) {
                    out.insert(name.clone(), v);
                }
            }
        }
        out
    }
}
