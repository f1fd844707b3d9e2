//! The account page's electronic certificates: an upload (multipart: the file, PEM or DER, or
//! PEM pasted) and removal. Both are forms of the account page's interaction, bound to this
//! browser by its cookie and carrying its CSRF token.

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;

use crate::account::OwnCertificate;
use crate::certificates::x509::MAX_UPLOAD_BYTES;

use super::account::{Notice, failure, render_overview};
use super::error::{PageKind, error_page};
use super::interaction::{BoundForm, bound_to_browser};
use super::state::AppState;
use super::{cookies, lang_for};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/certificates/{id}", post(add))
        .route("/account/certificates/{id}/remove", post(remove))
}

/// The fields of the upload form.
#[derive(Default)]
struct Upload {
    csrf_token: String,
    certificate: Vec<u8>,
}

async fn read_upload(mut multipart: Multipart) -> Option<Upload> {
    let mut upload = Upload::default();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.ok()?;
        match name.as_str() {
            "csrf_token" => upload.csrf_token = String::from_utf8(bytes.to_vec()).ok()?,
            // The file, or PEM pasted: whichever is not empty.
            "file" | "pem" if !bytes.is_empty() && upload.certificate.is_empty() => {
                if bytes.len() > MAX_UPLOAD_BYTES {
                    upload.certificate = vec![0; MAX_UPLOAD_BYTES + 1];
                } else {
                    upload.certificate = bytes.to_vec();
                }
            }
            _ => {}
        }
    }
    Some(upload)
}

async fn add(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let lang = lang_for(&state, &headers, None);
    if !bound_to_browser(&state, &headers, &id) {
        return error_page(&state.views, lang, PageKind::Forbidden, None);
    }
    let Some(upload) = read_upload(multipart).await else {
        return error_page(&state.views, lang, PageKind::BadRequest, None);
    };
    let session = cookies::get(&headers, cookies::SESSION, state.web.secure_cookies);
    let added =
        state.account.add_own_certificate((&id, &upload.csrf_token), session.as_deref(), &upload.certificate).await;
    let notice = match added {
        Ok(OwnCertificate::Added(_)) => Notice::ok("account_certificate_added"),
        Ok(OwnCertificate::Refused(problem)) => Notice::error(&format!("error_certificate_{}", problem.code())),
        Err(e) => return failure(&state, lang, &e),
    };
    render_overview(&state, lang, &headers, Some(notice)).await
}

async fn remove(State(state): State<AppState>, headers: HeaderMap, f: BoundForm) -> Response {
    let lang = f.lang;
    let csrf = f.form.get("csrf_token").unwrap_or("");
    let thumbprint = f.form.get("thumbprint").unwrap_or("");
    match state.account.remove_own_certificate((&f.id, csrf), f.session.as_deref(), thumbprint).await {
        Ok(true) => render_overview(&state, lang, &headers, Some(Notice::ok("account_certificate_removed"))).await,
        Ok(false) => render_overview(&state, lang, &headers, Some(Notice::error("error_certificate_not_bound"))).await,
        Err(e) => failure(&state, lang, &e),
    }
}
