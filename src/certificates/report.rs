//! Monitoring certificates per OPD (the regulations' "use is monitored per OPD"): for each unit,
//! how many certificates are pending, bound, expiring within the window, expired, revoked or
//! removed, and how many people must sign in at level 4 without a usable certificate.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::OrgUnitId;
use crate::domain::text::csv_field;
use crate::storage::StorageError;

use super::Certificates;

/// One unit's line. `unit` is `None` for people placed in no unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitCertificates {
    pub unit: Option<String>,
    pub unit_name: Option<String>,
    pub pending: i64,
    pub bound: i64,
    pub expiring: i64,
    pub expired: i64,
    pub revoked: i64,
    pub removed: i64,
    /// People whose unit or role demands level 4 and who hold no usable certificate.
    pub without_certificate: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateReport {
    /// Unix seconds the report describes.
    pub at: i64,
    pub expiring_days: u32,
    pub units: Vec<UnitCertificates>,
}

impl CertificateReport {
    /// RFC 4180 CSV, safe for spreadsheets.
    pub fn to_csv(&self) -> String {
        let mut out =
            String::from("unit,unit_name,pending,bound,expiring,expired,revoked,removed,without_certificate\r\n");
        for u in &self.units {
            let counts = [u.pending, u.bound, u.expiring, u.expired, u.revoked, u.removed, u.without_certificate];
            let counts: Vec<String> = counts.iter().map(i64::to_string).collect();
            out.push_str(&format!(
                "{},{},{}\r\n",
                csv_field(u.unit.as_deref().unwrap_or("-")),
                csv_field(u.unit_name.as_deref().unwrap_or("-")),
                counts.join(",")
            ));
        }
        out
    }
}

impl Certificates {
    /// The report at `now` for the units `covers` lets the caller see (an OPD administrator
    /// their subtree, the office everything).
    pub async fn report(
        &self,
        expiring_days: u32,
        covers: impl Fn(Option<&OrgUnitId>) -> bool,
    ) -> Result<CertificateReport, StorageError> {
        let now = self.inner.clock.now();
        let store = &self.inner.store;
        let window = now + i64::from(expiring_days) * 86400;
        let units: BTreeMap<String, (String, String)> =
            store.org_units().list().await?.into_iter().map(|u| (u.id.to_string(), (u.code, u.name))).collect();
        let mut lines: BTreeMap<Option<String>, UnitCertificates> = BTreeMap::new();
        for count in store.certificates().counts_by_unit(now, window).await? {
            let Some(l) = line(&mut lines, &units, &covers, count.org_unit_id) else { continue };
            match count.status.as_str() {
                "pending" => l.pending += count.count,
                "bound" => {
                    l.bound += count.count;
                    l.expiring += count.expiring;
                }
                "expired" => l.expired += count.count,
                "revoked" => l.revoked += count.count,
                _ => l.removed += count.count,
            }
        }
        for (unit, people) in store.certificates().people_without(now).await? {
            if let Some(l) = line(&mut lines, &units, &covers, unit) {
                l.without_certificate += people;
            }
        }
        Ok(CertificateReport { at: now, expiring_days, units: lines.into_values().collect() })
    }
}

/// The line of `unit` (a unit id), made on first use; `None` when the caller may not see it.
fn line<'a>(
    lines: &'a mut BTreeMap<Option<String>, UnitCertificates>,
    units: &BTreeMap<String, (String, String)>,
    covers: &impl Fn(Option<&OrgUnitId>) -> bool,
    unit: Option<String>,
) -> Option<&'a mut UnitCertificates> {
    let id = unit.as_deref().map(|u| OrgUnitId::new(u.to_owned()));
    if !covers(id.as_ref()) {
        return None;
    }
    let known = unit.as_ref().and_then(|u| units.get(u));
    let code = known.map(|(code, _)| code.clone());
    Some(lines.entry(code.clone()).or_insert_with(|| UnitCertificates {
        unit: code,
        unit_name: known.map(|(_, name)| name.clone()),
        ..Default::default()
    }))
}
