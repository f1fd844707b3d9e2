//! A minimal browser: keeps cookies, never follows redirects, finds forms in Pintu's pages.

use reqwest::StatusCode;

/// A cookie-keeping HTTP client.
pub struct Browser {
    pub client: reqwest::Client,
    base: String,
}

/// A form found on a page.
#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub csrf_token: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("browser client");
        Self { client, base: base.to_owned() }
    }

    /// A browser that trusts the test PKI's root for HTTPS and presents `identity` (a
    /// certificate and its key, PEM) when a TLS server asks for a client certificate.
    pub fn with_certificate(base: &str, root_pem: &str, identity: Option<&str>) -> Self {
        let mut builder = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .add_root_certificate(reqwest::Certificate::from_pem(root_pem.as_bytes()).expect("root"));
        if let Some(identity) = identity {
            builder = builder.identity(reqwest::Identity::from_pem(identity.as_bytes()).expect("identity"));
        }
        Self { client: builder.build().expect("browser client"), base: base.to_owned() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get(&self, url: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let resp = self.client.get(url).send().await.expect("GET");
        let status = resp.status();
        let headers = resp.headers().clone();
        (status, resp.text().await.unwrap_or_default(), headers)
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let resp = self
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = resp.status();
        let headers = resp.headers().clone();
        (status, resp.text().await.unwrap_or_default(), headers)
    }

    /// Submits the login form on `page`.
    pub async fn login(
        &self,
        page: &str,
        username: &str,
        password: &str,
    ) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let form = form_in(page).expect("login form on the page");
        self.post(&form.action, &[("csrf_token", &form.csrf_token), ("username", username), ("password", password)])
            .await
    }

    /// Follows the code flow from `auth_url` through login and (if shown) consent, approving;
    /// returns the final redirect's Location.
    pub async fn authorize_and_login(&self, auth_url: &str, username: &str, password: &str) -> String {
        let (mut status, mut page, mut headers) = self.get(auth_url).await;
        if status == StatusCode::OK && page.contains("name=\"password\"") {
            (status, page, headers) = self.login(&page, username, password).await;
        }
        if status == StatusCode::OK && page.contains("name=\"decision\"") {
            let form = form_in(&page).expect("consent form");
            (status, page, headers) =
                self.post(&form.action, &[("csrf_token", &form.csrf_token), ("decision", "allow")]).await;
        }
        assert_eq!(status, StatusCode::SEE_OTHER, "expected a redirect to the client, got page: {page}");
        location(&headers)
    }
}

pub fn location(headers: &reqwest::header::HeaderMap) -> String {
    headers.get("location").and_then(|v| v.to_str().ok()).expect("Location header").to_owned()
}

/// The first form's action and CSRF token.
pub fn form_in(page: &str) -> Option<Form> {
    let action = attr_after(page, "<form method=\"post\" action=\"")?;
    let csrf_token = attr_after(page, "name=\"csrf_token\" value=\"")?;
    Some(Form { action, csrf_token })
}

fn attr_after(page: &str, marker: &str) -> Option<String> {
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].replace("&#x2f;", "/").replace("&amp;", "&"))
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}
