//! Transaction signing per OPD and per application over a period (the regulations ask that
//! use be monitored per OPD): signed, declined and failed, and the level signed at.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::OrgUnitId;
use crate::domain::text::csv_field;
use crate::storage::StorageError;

use super::Signing;

/// One unit's line for one application. `unit` is `None` for people placed in no unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SigningReportRow {
    pub unit: Option<String>,
    pub unit_name: Option<String>,
    pub client_id: String,
    pub signed: i64,
    pub declined: i64,
    pub failed: i64,
    /// Signed at level 4 (every signature is; a lower level here would be a defect).
    pub signed_level_4: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningReport {
    /// The period, unix seconds, `[from, to)`.
    pub from: i64,
    pub to: i64,
    pub rows: Vec<SigningReportRow>,
}

impl SigningReport {
    /// RFC 4180 CSV, safe for spreadsheets.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("unit,unit_name,client_id,signed,declined,failed,signed_level_4\r\n");
        for r in &self.rows {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\r\n",
                csv_field(r.unit.as_deref().unwrap_or("-")),
                csv_field(r.unit_name.as_deref().unwrap_or("-")),
                csv_field(&r.client_id),
                r.signed,
                r.declined,
                r.failed,
                r.signed_level_4
            ));
        }
        out
    }
}

impl Signing {
    /// The report for `[from, to)` over the units `covers` lets the caller see.
    pub async fn report(
        &self,
        from: i64,
        to: i64,
        covers: impl Fn(Option<&OrgUnitId>) -> bool,
    ) -> Result<SigningReport, StorageError> {
        let store = &self.inner.store;
        let units: BTreeMap<String, (String, String)> =
            store.org_units().list().await?.into_iter().map(|u| (u.id.to_string(), (u.code, u.name))).collect();
        let mut rows: BTreeMap<(Option<String>, String), SigningReportRow> = BTreeMap::new();
        for count in store.signing().counts(from, to).await? {
            let id = count.unit_id.as_deref().map(|u| OrgUnitId::new(u.to_owned()));
            if !covers(id.as_ref()) {
                continue;
            }
            let known = count.unit_id.as_ref().and_then(|u| units.get(u));
            let code = known.map(|(code, _)| code.clone());
            let row = rows.entry((code.clone(), count.client_id.clone())).or_insert_with(|| SigningReportRow {
                unit: code,
                unit_name: known.map(|(_, name)| name.clone()),
                client_id: count.client_id.clone(),
                ..Default::default()
            });
            match count.status.as_str() {
                "signed" => {
                    row.signed += count.count;
                    if count.level == Some(4) {
                        row.signed_level_4 += count.count;
                    }
                }
                "declined" => row.declined += count.count,
                _ => row.failed += count.count,
            }
        }
        Ok(SigningReport { from, to, rows: rows.into_values().collect() })
    }
}
