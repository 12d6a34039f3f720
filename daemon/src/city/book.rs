//! The city's book of districts (区账): per district, the last applied `seq` and what that
//! commit of the district said, kept in the city's own sled store.
//!
//! Keys: `d<district code>` holds a [`DistrictRecord`] (JSON); the districts' statistics
//! ([`super::report`]), the person index ([`super::people`]) and the city's alerts
//! ([`super::alerts`]) have key ranges of their own, written in the same batch as the messages
//! that change them. Invariants: a record's `last_seq`, its figures and its statistics change
//! together, in one batch; `seq` is applied only as
//! `last_seq + 1` ([`CityBook::verdict`]), so a message is applied once and none is skipped.

use super::people::DistrictEvents;
use crate::store::{Store, StoreError};
use mz_shared::city::{DistrictDetail, DistrictFigures, DistrictMessage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Prefix of the district records.
const PREFIX: &[u8] = b"d";

fn key(code: &str) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(code.as_bytes());
    k
}

/// What the city knows of one district.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistrictRecord {
    /// The last `seq` applied; the next message applied is `last_seq + 1`.
    pub last_seq: u64,
    /// When the district made commit `last_seq` (Unix ms).
    pub at_ms: Option<i64>,
    /// The district's §9 figures after that commit (the status figures).
    pub figures: DistrictFigures,
    /// The extra counts of that commit (arrivals today, cases by street, …), for drilling in.
    pub detail: DistrictDetail,
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The next one: apply.
    Apply,
    /// Applied before (redelivered after a crash before the acknowledgement): acknowledge only.
    Duplicate,
    /// An earlier `seq` has not arrived yet (redelivery in progress): ask again later.
    /// `expected` is the `seq` the book waits for (`last_seq + 1`).
    Early {
        /// The `seq` the book waits for.
        expected: u64,
    },
}

/// The districts' records, in memory and in the store.
pub struct CityBook {
    store: Store,
    /// Every district heard from, by code.
    pub districts: BTreeMap<String, DistrictRecord>,
    /// The districts' statistics, for the city's reports (applied with the same messages).
    pub statistics: super::report::CityStatistics,
    /// The city's own alerts (cross-district checks), raised in the batch of their message.
    pub alerts: super::alerts::CityAlerts,
    /// The city has a `city_key`: people events are matched (without one they are ignored).
    pub matching: bool,
}

impl CityBook {
    /// The book as committed in `store` (the city's own store).
    pub fn open(store: Store) -> Result<CityBook, StoreError> {
        let mut districts = BTreeMap::new();
        for item in store.reader().scan_raw(PREFIX) {
            let (k, v) = item?;
            let code = String::from_utf8_lossy(&k[1..]).into_owned();
            let record: DistrictRecord = serde_json::from_slice(&v)
                .map_err(|e| StoreError::Unavailable(format!("district record {code} unreadable: {e}")))?;
            districts.insert(code, record);
        }
        let statistics = super::report::CityStatistics::load(&store)?;
        let alerts = super::alerts::CityAlerts::load(&store.reader())?;
        Ok(CityBook { store, districts, statistics, alerts, matching: false })
    }

    /// The last `seq` applied for district `code` (0: none yet).
    pub fn last_seq(&self, code: &str) -> u64 {
        self.districts.get(code).map_or(0, |r| r.last_seq)
    }

    /// What to do with message `seq` of a district whose last applied one is `last_seq`.
    pub fn verdict(last_seq: u64, seq: u64) -> Verdict {
        if seq <= last_seq {
            Verdict::Duplicate
        } else if seq == last_seq + 1 {
            Verdict::Apply
        } else {
            Verdict::Early { expected: last_seq + 1 }
        }
    }

    /// Applies messages already checked with [`CityBook::verdict`], in order, in one durable
    /// batch.
    pub fn apply(&mut self, mut messages: Vec<DistrictMessage>) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        let events: Vec<DistrictEvents> = messages
            .iter_mut()
            .filter(|m| self.matching && !m.people.is_empty())
            .map(|m| DistrictEvents { district: m.district.clone(), events: std::mem::take(&mut m.people) })
            .collect();
        let mut next = self.districts.clone();
        let mut batch = crate::store::Batch::default();
        for m in messages {
            if let Some(stats) = &m.stats {
                self.statistics.stage(&m.district, stats, &mut batch);
            }
            let record = next.entry(m.district.clone()).or_default();
            debug_assert_eq!(m.seq, record.last_seq + 1);
            *record = DistrictRecord { last_seq: m.seq, at_ms: Some(m.at_ms), figures: m.figures, detail: m.detail };
        }
        for (code, record) in &next {
            if self.districts.get(code) != Some(record) {
                batch.insert(key(code), serde_json::to_vec(record).expect("records serialize"));
            }
        }
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let staged = super::people::stage(&self.store.reader(), &self.alerts, &events, now_ms, &mut batch);
        let committed = staged.and_then(|raised| self.store.commit(batch).map(|()| raised));
        let raised = match committed {
            Ok(raised) => raised,
            Err(e) => {
                // What was staged in memory is taken back by reading the store again.
                self.statistics = super::report::CityStatistics::load(&self.store).unwrap_or_default();
                return Err(e);
            }
        };
        self.districts = next;
        self.alerts.committed(raised);
        Ok(())
    }

    /// Acknowledges a city alert for `by`; false when there is no such alert.
    pub fn ack_alert(&mut self, id: &str, by: &str, at_ms: i64) -> Result<bool, StoreError> {
        let Some(alert) = self.alerts.ack(id, by, at_ms) else { return Ok(false) };
        let mut batch = crate::store::Batch::default();
        batch.insert(super::alerts::key(&alert.id), serde_json::to_vec(&alert).expect("alerts serialize"));
        self.store.commit(batch)?;
        self.alerts.committed(vec![alert]);
        Ok(true)
    }
}
