//! Org units: create, read, list, rename, move (with history), and the cycle rule.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{AdminChange, AuditEvent};
use crate::domain::org_unit::{check_code, check_no_cycle, normalize_code};
use crate::domain::security_level::from_number;
use crate::domain::{OrgUnit, OrgUnitId, OrgUnitKind, SecurityLevel};
use crate::storage::Placement;

use super::{Actor, DirectoryError, DirectoryService, FieldError, Reach, check_version};

/// A unit to create. `parent` is the parent's code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUnitInput {
    pub code: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub parent: Option<String>,
    /// The security level everyone in this unit and below must reach (1-4, default 1).
    #[serde(default)]
    pub min_level: Option<u8>,
}

/// Fields to change; absent (or `null`) fields stay. `parent` moves the unit; a unit never
/// becomes a root again (roots are created by the office).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUnitPatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub parent: Option<String>,
    pub min_level: Option<u8>,
}

/// A unit as the admin API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct OrgUnitRecord {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: OrgUnitKind,
    pub parent: Option<String>,
    pub min_level: u8,
    pub version: i64,
}

fn check_fields(code: &str, name: &str, kind: &str) -> Result<OrgUnitKind, DirectoryError> {
    let mut errors = Vec::new();
    if let Err(e) = check_code(code) {
        errors.push(FieldError::new("code", e));
    }
    if name.trim().is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "name must be 1-200 characters"));
    }
    let kind = OrgUnitKind::parse(kind);
    if kind.is_none() {
        let kinds: Vec<&str> = OrgUnitKind::ALL.iter().map(|k| k.as_str()).collect();
        errors.push(FieldError::new("kind", format!("kind must be one of {}", kinds.join(", "))));
    }
    match kind {
        Some(kind) if errors.is_empty() => Ok(kind),
        _ => Err(DirectoryError::Invalid(errors)),
    }
}

impl DirectoryService {
    /// Unit ids to codes, for presenting references.
    pub async fn unit_codes(&self) -> Result<HashMap<OrgUnitId, String>, DirectoryError> {
        Ok(self.store.org_units().list().await?.into_iter().map(|u| (u.id, u.code)).collect())
    }

    fn record(unit: &OrgUnit, codes: &HashMap<OrgUnitId, String>) -> OrgUnitRecord {
        OrgUnitRecord {
            id: unit.id.to_string(),
            code: unit.code.clone(),
            name: unit.name.clone(),
            kind: unit.kind,
            parent: unit.parent_id.as_ref().and_then(|p| codes.get(p).cloned()),
            min_level: unit.min_level as u8,
            version: unit.version,
        }
    }

    async fn unit_record(&self, unit: &OrgUnit) -> Result<OrgUnitRecord, DirectoryError> {
        Ok(Self::record(unit, &self.unit_codes().await?))
    }

    async fn unit_by_code(&self, reach: &Reach, code: &str) -> Result<OrgUnit, DirectoryError> {
        let unit = self.store.org_units().find_by_code(&normalize_code(code)).await?;
        unit.filter(|u| reach.covers(Some(&u.id))).ok_or(DirectoryError::NotFound("org unit"))
    }

    /// Creates a unit. Only the office creates roots; an OPD administrator creates units below
    /// their own.
    pub async fn create_org_unit(&self, actor: &Actor, input: &OrgUnitInput) -> Result<OrgUnitRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let code = normalize_code(&input.code);
        let kind = check_fields(&code, &input.name, &input.kind)?;
        let parent_id = match &input.parent {
            Some(p) => Some(self.unit_in_reach(&reach, "parent", &normalize_code(p)).await?),
            None => {
                reach.require_office("create a top-level org unit")?;
                None
            }
        };
        let now = self.now();
        let unit = OrgUnit {
            id: OrgUnitId::generate(),
            code,
            name: input.name.trim().to_owned(),
            kind,
            parent_id,
            min_level: level_field(input.min_level)?.unwrap_or(SecurityLevel::Password),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        self.store.org_units().insert_in(&mut tx, &unit).await?;
        let event = AuditEvent::admin(&actor.id, AdminChange::OrgUnitCreate, &unit.code, Some(&unit.id), json!({}));
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        self.unit_record(&unit).await
    }

    pub async fn get_org_unit(&self, actor: &Actor, code: &str) -> Result<OrgUnitRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let unit = self.unit_by_code(&reach, code).await?;
        self.unit_record(&unit).await
    }

    /// Every unit within reach, ordered by code.
    pub async fn list_org_units(&self, actor: &Actor) -> Result<Vec<OrgUnitRecord>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let units = self.store.org_units().list().await?;
        let codes: HashMap<OrgUnitId, String> = units.iter().map(|u| (u.id.clone(), u.code.clone())).collect();
        Ok(units.iter().filter(|u| reach.covers(Some(&u.id))).map(|u| Self::record(u, &codes)).collect())
    }

    /// Renames or moves a unit if `expected_version` is current. A move keeps history and may
    /// not create a cycle; an OPD administrator cannot move their own root.
    pub async fn update_org_unit(
        &self,
        actor: &Actor,
        code: &str,
        patch: &OrgUnitPatch,
        expected_version: Option<i64>,
    ) -> Result<OrgUnitRecord, DirectoryError> {
        let reach = self.reach(actor).await?;
        let current = self.unit_by_code(&reach, code).await?;
        let version = check_version(expected_version, current.version)?;
        let mut unit = current.clone();
        unit.code = patch.code.as_deref().map(normalize_code).unwrap_or(unit.code);
        unit.name = patch.name.as_deref().map(|n| n.trim().to_owned()).unwrap_or(unit.name);
        let kind = patch.kind.clone().unwrap_or_else(|| unit.kind.as_str().to_owned());
        unit.kind = check_fields(&unit.code, &unit.name, &kind)?;
        if let Some(parent) = &patch.parent {
            if reach.root() == Some(&current.id) {
                return Err(DirectoryError::Forbidden("an OPD administrator cannot move their own unit".into()));
            }
            let parent_id = self.unit_in_reach(&reach, "parent", &normalize_code(parent)).await?;
            let ancestors = self.store.org_units().ancestors(&parent_id).await?;
            check_no_cycle(&current.id, &ancestors).map_err(|e| DirectoryError::invalid("parent", e))?;
            unit.parent_id = Some(parent_id);
        }
        if let Some(level) = level_field(patch.min_level)? {
            unit.min_level = level;
        }
        unit.updated_at = self.now();
        let mut tx = self.store.begin().await?;
        self.store.org_units().update_in(&mut tx, &unit, version).await.map_err(DirectoryError::stale)?;
        let moved = unit.parent_id != current.parent_id;
        if moved {
            let placement = Placement {
                subject_kind: "org_unit".into(),
                subject_id: unit.id.to_string(),
                from_unit_id: current.parent_id.as_ref().map(|u| u.to_string()),
                to_unit_id: unit.parent_id.as_ref().map(|u| u.to_string()),
                changed_at: unit.updated_at,
                actor: actor.id.to_string(),
            };
            self.store.org_units().insert_placement_in(&mut tx, &placement).await?;
        }
        let event = AuditEvent::admin(
            &actor.id,
            AdminChange::OrgUnitUpdate,
            &unit.code,
            Some(&unit.id),
            json!({ "moved": moved }),
        );
        self.audit.record_in(&mut tx, vec![event.from_ip(actor.source_ip.as_deref())]).await?;
        tx.commit().await?;
        unit.version = version + 1;
        self.unit_record(&unit).await
    }

    /// The parents a unit has had, oldest move first.
    pub async fn org_unit_history(&self, actor: &Actor, code: &str) -> Result<Vec<PlacementRecord>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let unit = self.unit_by_code(&reach, code).await?;
        self.placements_with_codes(unit.id.as_str()).await
    }

    /// Placement history with unit codes instead of internal ids.
    pub(super) async fn placements_with_codes(&self, subject: &str) -> Result<Vec<PlacementRecord>, DirectoryError> {
        let codes = self.unit_codes().await?;
        let code = |id: Option<String>| id.map(|i| codes.get(&OrgUnitId::new(i.clone())).cloned().unwrap_or(i));
        let items = self.store.org_units().placements(subject).await?;
        Ok(items
            .into_iter()
            .map(|p| PlacementRecord {
                subject_kind: p.subject_kind,
                subject_id: p.subject_id,
                from_unit: code(p.from_unit_id),
                to_unit: code(p.to_unit_id),
                changed_at: p.changed_at,
                actor: p.actor,
            })
            .collect())
    }
}

/// One move of a unit or a person as the API and CLI show it: units by their codes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlacementRecord {
    pub subject_kind: String,
    pub subject_id: String,
    /// The previous unit's code (a parent, for a unit; the home unit, for a person).
    pub from_unit: Option<String>,
    pub to_unit: Option<String>,
    pub changed_at: i64,
    pub actor: String,
}

/// A `min_level` field: 1-4 when given.
pub(super) fn level_field(n: Option<u8>) -> Result<Option<SecurityLevel>, DirectoryError> {
    n.map(|n| from_number(n).ok_or_else(|| DirectoryError::invalid("min_level", "min_level must be 1-4"))).transpose()
}
