//! One person in the console: their record, the units they have belonged to, a transfer to
//! another unit, and their roles: grants (acting posts, Plt/Plh, with a period) and
//! revocation. Through the same directory operations as the admin API.

use super::{ConsoleGet, ConsolePost};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::directory::{GrantInput, GrantRecord, OrgUnitRecord, UserRecord};
use crate::domain::Role;

use super::{Console, render};
use crate::web::account::format_time;
use crate::web::interaction::BoundForm;
use crate::web::state::AppState;

#[derive(Serialize)]
struct Move {
    from: String,
    to: String,
    at: String,
    actor: String,
}

#[derive(Serialize)]
struct Grant {
    id: String,
    role: String,
    unit: String,
    from: String,
    until: String,
    active: bool,
}

/// An audit event about the person: a sign-in, or a change made to them.
#[derive(Serialize)]
struct Event {
    at: String,
    action: String,
    outcome: String,
    actor: String,
    client: String,
    detail: String,
}

/// How many of a person's latest audit events their page lists.
const EVENTS_SHOWN: i64 = 50;

#[derive(Serialize)]
struct PersonView {
    person: UserRecord,
    history: Vec<Move>,
    events: Vec<Event>,
    grants: Vec<Grant>,
    roles: Vec<Role>,
    units: Vec<OrgUnitRecord>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PersonQuery {
    id: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    ConsoleGet { c, lang }: ConsoleGet,
    Query(q): Query<PersonQuery>,
) -> Response {
    person_page(&state, lang, &c, &q.id, StatusCode::OK, None, None).await
}

async fn person_page(
    state: &AppState,
    lang: &str,
    c: &Console,
    id: &str,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let d = &state.directory;
    let person = match d.get_user(&c.actor, id).await {
        Ok(person) => person,
        Err(_) => {
            return crate::web::error::error_page(&state.views, lang, crate::web::error::PageKind::NotFound, None);
        }
    };
    let day = |t: Option<i64>| t.map(format_time).unwrap_or_default();
    let history = d
        .user_history(&c.actor, id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| Move {
            from: p.from_unit.unwrap_or_default(),
            to: p.to_unit.unwrap_or_default(),
            at: format_time(p.changed_at),
            actor: p.actor,
        })
        .collect();
    let grants = d
        .list_grants(&c.actor, id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|g: GrantRecord| Grant {
            id: g.id,
            role: g.role.name,
            unit: g.org_unit.unwrap_or_default(),
            from: day(g.valid_from),
            until: day(g.valid_until),
            active: g.active,
        })
        .collect();
    let events = d
        .person_events(&c.actor, id, EVENTS_SHOWN)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| Event {
            at: format_time(e.event.at),
            action: e.event.action,
            outcome: e.event.outcome,
            actor: e.event.actor.unwrap_or_default(),
            client: e.event.client_id.unwrap_or_default(),
            detail: e.event.detail,
        })
        .collect();
    let roles = d.list_roles(&c.actor).await.unwrap_or_default();
    let units = d.list_org_units(&c.actor).await.unwrap_or_default();
    let view = PersonView { person, history, events, grants, roles, units, notice, error };
    render(state, lang, c, status, "console_person.html", &view)
}

/// `YYYY-MM-DD` to unix seconds (midnight UTC); empty is none.
pub(super) fn date(text: Option<&str>) -> Result<Option<i64>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let parts: Vec<u32> = text.split('-').map(|p| p.parse::<u32>().unwrap_or(0)).collect();
    let [year, month, day] = parts[..] else { return Err(format!("{text}: a date is YYYY-MM-DD")) };
    let date = crate::domain::nip::Date { year, month, day };
    if year < 1970 || !date.is_valid() {
        return Err(format!("{text}: not a date"));
    }
    Ok(Some(date.to_unix()))
}

pub(super) async fn transfer(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    change(state, c, f, "transfer").await
}

pub(super) async fn edit(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    change(state, c, f, "edit").await
}

pub(super) async fn grant(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    change(state, c, f, "grant").await
}

pub(super) async fn revoke(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    change(state, c, f, "revoke").await
}

/// A change to the person (`what`: transfer, grant, revoke), from its form.
async fn change(state: AppState, c: Console, f: BoundForm, what: &str) -> Response {
    let lang = f.lang;
    let id = f.form.get("user").unwrap_or("").to_owned();
    let d = &state.directory;
    let done: Result<&'static str, String> = match what {
        "transfer" => {
            // The version the page showed: a change made meanwhile is not overwritten.
            let version = f.form.get("version").and_then(|v| v.parse::<i64>().ok());
            let patch = json!({ "org_unit": f.form.get("org_unit").unwrap_or("") });
            let updated = d.update_user(&c.actor, &id, &patch, version).await;
            updated.map(|_| "console_transferred").map_err(|e| e.to_string())
        }
        "edit" => {
            let version = f.form.get("version").and_then(|v| v.parse::<i64>().ok());
            let text = |name: &str| f.form.get(name).map(str::trim).unwrap_or("").to_owned();
            // An emptied optional field is removed (RFC 7396 null); the name is required.
            let optional = |name: &str| {
                let value = text(name);
                if value.is_empty() { serde_json::Value::Null } else { json!(value) }
            };
            let patch = json!({ "name": text("name"), "email": optional("email"), "nip": optional("nip"), "jabatan": optional("jabatan") });
            let updated = d.update_user(&c.actor, &id, &patch, version).await;
            updated.map(|_| "console_person_saved").map_err(|e| e.to_string())
        }
        "grant" => match (date(f.form.get("valid_from")), date(f.form.get("valid_until"))) {
            (Ok(valid_from), Ok(valid_until)) => {
                let unit = f.form.get("org_unit").map(str::to_owned).filter(|u| !u.is_empty());
                let input = GrantInput {
                    role: f.form.get("role").unwrap_or("").to_owned(),
                    org_unit: unit,
                    valid_from,
                    valid_until,
                };
                d.grant_role(&c.actor, &id, &input).await.map(|_| "console_granted").map_err(|e| e.to_string())
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        "revoke" => {
            let grant = f.form.get("grant").unwrap_or("");
            d.revoke_grant(&c.actor, &id, grant).await.map(|_| "console_revoked").map_err(|e| e.to_string())
        }
        _ => Err("unknown change".into()),
    };
    match done {
        Ok(notice) => person_page(&state, lang, &c, &id, StatusCode::OK, Some(notice), None).await,
        Err(error) => person_page(&state, lang, &c, &id, StatusCode::UNPROCESSABLE_ENTITY, None, Some(error)).await,
    }
}
