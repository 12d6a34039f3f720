//! The city's person index (人员索引) for the cross-district checks (SPEC §9): one
//! [`PersonRecord`] per city hash, in the city store's own key range `p<city hash>` (JSON).
//!
//! The consumer applies the people events of the messages it applies in the same batch as the
//! messages themselves ([`stage`]), together with the alerts they raise, so a `kill -9` of the
//! city neither loses nor doubles an alert: a message is applied once, by (district, `seq`), and
//! everything it changed commits with it or not at all. The matching rules are pure, in
//! [`mz_shared::cross_district`]. Records are read from the store when an event needs them;
//! only the records a batch touches are held in memory.

use super::alerts::CityAlerts;
use crate::store::{StoreError, StoreReader};
use mz_shared::cross_district::{self, CityAlert, CityHash, PersonEvent, PersonRecord};
use std::collections::{BTreeMap, BTreeSet};

/// Prefix of the person records.
pub const PREFIX: &[u8] = b"p";

/// `p<city hash>`.
pub fn key(hash: &CityHash) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(&hash.0);
    k
}

/// The people events of one district's message.
pub struct DistrictEvents {
    /// The publishing district's code.
    pub district: String,
    /// Its marriages, divorces and payments, in order.
    pub events: Vec<PersonEvent>,
}

/// Applies `events` (in order) to the person records, writes the changed records and the new
/// alerts into `batch`, and returns the new alerts (kept in memory once the batch commits).
pub fn stage(
    reader: &StoreReader,
    alerts: &CityAlerts,
    events: &[DistrictEvents],
    now_ms: i64,
    batch: &mut crate::store::Batch,
) -> Result<Vec<CityAlert>, StoreError> {
    let mut people: BTreeMap<CityHash, PersonRecord> = BTreeMap::new();
    let mut raised: Vec<CityAlert> = Vec::new();
    let mut touched = BTreeSet::new();
    for d in events {
        for event in &d.events {
            for p in event.persons() {
                load(reader, &mut people, p)?;
                touched.insert(p);
            }
            let Some(finding) = cross_district::apply(&mut people, &d.district, event) else { continue };
            let id = finding.alert_id();
            if alerts.contains(&id) || raised.iter().any(|a| a.id == id) {
                continue;
            }
            raised.push(alerts.alert(&finding, now_ms));
        }
    }
    for p in touched {
        let record = people.get(&p).cloned().unwrap_or_default();
        batch.insert(key(&p), serde_json::to_vec(&record).expect("person records serialize"));
    }
    for a in &raised {
        batch.insert(super::alerts::key(&a.id), serde_json::to_vec(a).expect("alerts serialize"));
    }
    Ok(raised)
}

/// Reads `p`'s record into `people` unless it is there already.
fn load(reader: &StoreReader, people: &mut BTreeMap<CityHash, PersonRecord>, p: CityHash) -> Result<(), StoreError> {
    if people.contains_key(&p) {
        return Ok(());
    }
    let record = match reader.get_raw(&key(&p))? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Unavailable(format!("a person record of the city store is unreadable: {e}")))?,
        None => PersonRecord::default(),
    };
    people.insert(p, record);
    Ok(())
}
