//! The console's pages: people (search,
//! create, an activation letter), units (list, create) and applications (list, register with
//! the secret shown once). Each goes through the same service as the admin API.

use super::{ConsoleGet, ConsolePost};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::applications::{ChangedBy, ClientSpec, RawMetadata, validate_metadata};
use crate::directory::{ActivationTarget, OrgUnitInput, OrgUnitRecord, UserInput, UserQuery};
use crate::domain::OrgUnitKind;

use super::{Console, render};
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct PeopleQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    opd: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, rename = "type")]
    employment_type: Option<String>,
}

#[derive(Serialize)]
struct PeopleView {
    people: Vec<crate::directory::UserRecord>,
    units: Vec<OrgUnitRecord>,
    q: Option<String>,
    opd: Option<String>,
    status: Option<String>,
    employment_type: Option<String>,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub(super) async fn people(
    State(state): State<AppState>,
    ConsoleGet { c, lang }: ConsoleGet,
    Query(q): Query<PeopleQuery>,
) -> Response {
    people_page(&state, lang, &c, q, StatusCode::OK, None, None).await
}

pub(super) async fn people_page(
    state: &AppState,
    lang: &str,
    c: &Console,
    q: PeopleQuery,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let filled = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (text, opd) = (filled(q.q), filled(q.opd));
    let (person_status, employment_type) = (filled(q.status), filled(q.employment_type));
    let query = UserQuery {
        q: text.clone(),
        opd: opd.clone(),
        status: person_status.clone(),
        employment_type: employment_type.clone(),
        limit: Some(100),
        ..Default::default()
    };
    let (people, error) = match state.directory.list_users(&c.actor, &query).await {
        Ok(page) => (page.items, error),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let units = state.directory.list_org_units(&c.actor).await.unwrap_or_default();
    let view = PeopleView { people, units, q: text, opd, status: person_status, employment_type, notice, error };
    render(state, lang, c, status, "console_people.html", &view)
}

pub(super) async fn create_person(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let lang = f.lang;
    let field = |name: &str| f.form.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let input = UserInput {
        username: field("username"),
        name: field("name").unwrap_or_default(),
        email: field("email"),
        nip: field("nip"),
        org_unit: field("org_unit"),
        ..Default::default()
    };
    match state.directory.create_user(&c.actor, &input).await {
        Ok(_) => {
            people_page(
                &state,
                lang,
                &c,
                PeopleQuery::default(),
                StatusCode::CREATED,
                Some("console_person_created"),
                None,
            )
            .await
        }
        Err(e) => {
            let error = Some(e.to_string());
            people_page(&state, lang, &c, PeopleQuery::default(), StatusCode::UNPROCESSABLE_ENTITY, None, error).await
        }
    }
}

/// A printable activation letter for one person (the code shown only there).
pub(super) async fn activation_letter(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let lang = f.lang;
    let person = f.form.get("user").unwrap_or("").to_owned();
    let by_email = f.form.get("send") == Some("email");
    if by_email && !state.mailer.enabled() {
        let error = Some(state.views.message(lang, "console_mail_off"));
        return people_page(&state, lang, &c, PeopleQuery::default(), StatusCode::CONFLICT, None, error).await;
    }
    // Without an address nothing is issued: a printed letter's code keeps working.
    if by_email && state.directory.person_in_reach(&c.actor, &person).await.is_ok_and(|p| p.email.is_none()) {
        let error = Some(state.views.message(lang, "console_activation_no_address"));
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return people_page(&state, lang, &c, PeopleQuery::default(), status, None, error).await;
    }
    match state.directory.issue_activation(&c.actor, &ActivationTarget::Person(person), None).await {
        Ok(codes) if by_email => {
            let (status, notice) = match crate::web::mail_pages::send_activations(&state, lang, &codes).await {
                0 => (StatusCode::UNPROCESSABLE_ENTITY, "console_activation_no_address"),
                _ => (StatusCode::OK, "console_activation_emailed"),
            };
            people_page(&state, lang, &c, PeopleQuery::default(), status, Some(notice), None).await
        }
        Ok(codes) => crate::web::activation::letters_response(&state.views, lang, &state.oidc.config().issuer, &codes),
        Err(e) => {
            people_page(
                &state,
                lang,
                &c,
                PeopleQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e.to_string()),
            )
            .await
        }
    }
}

#[derive(Serialize)]
struct Admin {
    a: crate::directory::UnitAdministrator,
    until: String,
}

/// A unit in the tree: how deep it sits below the top of the actor's reach (0 for the top).
#[derive(Serialize)]
struct TreeUnit {
    #[serde(flatten)]
    unit: OrgUnitRecord,
    depth: usize,
}

/// The units depth-first, each parent before its children and siblings by name: the tree as
/// the page lists it. A unit whose parent is beyond reach starts a tree of its own.
fn as_tree(units: Vec<OrgUnitRecord>) -> Vec<TreeUnit> {
    let codes: std::collections::HashSet<String> = units.iter().map(|u| u.code.clone()).collect();
    let mut children: std::collections::BTreeMap<Option<String>, Vec<OrgUnitRecord>> = Default::default();
    for unit in units {
        let parent = unit.parent.clone().filter(|p| codes.contains(p));
        children.entry(parent).or_default().push(unit);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (a.name.to_lowercase(), &a.code).cmp(&(b.name.to_lowercase(), &b.code)));
        list.reverse();
    }
    let mut out = Vec::new();
    let mut stack: Vec<(OrgUnitRecord, usize)> =
        children.remove(&None).unwrap_or_default().into_iter().map(|u| (u, 0)).collect();
    while let Some((unit, depth)) = stack.pop() {
        let below = children.remove(&Some(unit.code.clone())).unwrap_or_default();
        stack.extend(below.into_iter().map(|u| (u, depth + 1)));
        out.push(TreeUnit { unit, depth });
    }
    out
}

#[derive(Serialize)]
struct UnitsView {
    units: Vec<TreeUnit>,
    admins: Vec<Admin>,
    kinds: Vec<&'static str>,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub(super) async fn units(State(state): State<AppState>, ConsoleGet { c, lang }: ConsoleGet) -> Response {
    units_page(&state, lang, &c, StatusCode::OK, None, None).await
}

pub(super) async fn units_page(
    state: &AppState,
    lang: &str,
    c: &Console,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let units = as_tree(state.directory.list_org_units(&c.actor).await.unwrap_or_default());
    let kinds = OrgUnitKind::ALL.iter().map(|k| k.as_str()).collect();
    let admins = state.directory.unit_administrators(&c.actor).await.unwrap_or_default();
    let admins = admins
        .into_iter()
        .map(|a| Admin { until: a.valid_until.map(crate::web::account::format_time).unwrap_or_default(), a })
        .collect();
    render(state, lang, c, status, "console_units.html", &UnitsView { units, admins, kinds, notice, error })
}

pub(super) async fn create_unit(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let lang = f.lang;
    let field = |name: &str| f.form.get(name).map(str::trim).unwrap_or("").to_owned();
    let parent = Some(field("parent")).filter(|p| !p.is_empty());
    let input = OrgUnitInput { code: field("code"), name: field("name"), kind: field("kind"), parent, min_level: None };
    match state.directory.create_org_unit(&c.actor, &input).await {
        Ok(_) => units_page(&state, lang, &c, StatusCode::CREATED, Some("console_unit_created"), None).await,
        Err(e) => units_page(&state, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await,
    }
}

#[derive(Serialize)]
struct ApplicationsView {
    applications: Vec<crate::applications::ApplicationRecord>,
    /// A new application's client_id and its secret, shown this once.
    created: Option<(String, Option<String>)>,
    error: Option<String>,
}

pub(super) async fn applications(State(state): State<AppState>, ConsoleGet { c, lang }: ConsoleGet) -> Response {
    applications_page(&state, lang, &c, StatusCode::OK, None, None).await
}

pub(super) async fn applications_page(
    state: &AppState,
    lang: &str,
    c: &Console,
    status: StatusCode,
    created: Option<(String, Option<String>)>,
    error: Option<String>,
) -> Response {
    let applications = state.applications.list(&c.actor).await.unwrap_or_default();
    let view = ApplicationsView { applications, created, error };
    let mut response = render(state, lang, c, status, "console_applications.html", &view);
    // The secret is on this page: never stored by a cache.
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}

pub(super) async fn register_application(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let lang = f.lang;
    let name = f.form.get("client_name").map(str::trim).unwrap_or("").to_owned();
    let redirect = f.form.get("redirect_uri").map(str::trim).unwrap_or("").to_owned();
    let home = f.form.get("client_uri").map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let raw = RawMetadata {
        client_name: Some(name).filter(|n| !n.is_empty()),
        redirect_uris: Some(vec![redirect]),
        client_uri: home,
        ..Default::default()
    };
    let created = match validate_metadata(raw) {
        Ok(metadata) => {
            let spec = ClientSpec { metadata, ..Default::default() };
            state.applications.create(spec, ChangedBy::Admin(&c.actor), None).await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(created) => {
            let shown = Some((created.client.client_id.to_string(), created.client_secret));
            applications_page(&state, lang, &c, StatusCode::CREATED, shown, None).await
        }
        Err(e) => {
            applications_page(&state, lang, &c, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await
        }
    }
}
