//! The outbox (发布待发队列): one entry per commit (a few when a commit carries more than
//! [`EVENTS_PER_ENTRY`] cross-district events), written by the engine in the commit's own sled
//! batch, read by the publisher, pruned once the NATS server acknowledged it.
//!
//! Keys: `o<seq BE>` holds the [`DistrictMessage`] of commit `seq` as published (JSON bytes);
//! `m/outbox` holds [`OutboxMeta`]: the next `seq`, how far entries are pruned, and what the
//! last entry said (to tell when the clock alone changed a figure, e.g. a case becoming
//! overdue: that is a commit too). Invariants: `seq` runs 1, 2, 3… without a gap; an entry is
//! removed only when [`PublishShared::acked`] is at or past it; meta and entries change only in
//! a commit's batch.

use super::people::People;
use super::PublishShared;
use crate::report::{self, ReportCache};
use crate::state::{key2, State};
use crate::store::pages::RecordIndex;
use crate::store::{Store, StoreError};
use mz_shared::city::{DistrictDetail, DistrictFigures, DistrictMessage, OfficeFigures, StreetCases};
use mz_shared::cross_district::PersonEvent;
use mz_shared::registry::Registry;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The key of the outbox's bookkeeping.
pub const META: &[u8] = b"m/outbox";
/// Prefix of the outbox entries.
pub const PREFIX: &[u8] = b"o";
/// Entries pruned in one batch at most (a long outage leaves many).
const PRUNE_PER_BATCH: u64 = 4096;
/// People events per entry at most: a large file's commit is published as several entries
/// (seq after seq, the same figures), each well below NATS's 1 MB message limit.
pub const EVENTS_PER_ENTRY: usize = 2000;

/// `o<seq BE>`.
pub fn entry_key(seq: u64) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// What the outbox keeps beside its entries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutboxMeta {
    /// The `seq` of the next commit.
    pub next_seq: u64,
    /// Entries up to here are removed.
    pub pruned_to: u64,
    /// The figures and detail of the last entry (JSON), empty before the first.
    pub last: Vec<u8>,
}

/// The engine's side of publishing.
pub struct Outbox {
    meta: OutboxMeta,
    /// The meta as of the last durable commit, restored when a commit fails.
    committed_meta: OutboxMeta,
    cache: ReportCache,
    shared: Arc<PublishShared>,
    /// The statistics each entry carries for the city's reports.
    stats: super::stats::StatsFeed,
    /// The cross-district events of the commit being made (with a city key).
    people: Option<People>,
}

impl Outbox {
    /// Reads the outbox's bookkeeping; tells the status how far it goes.
    pub fn load(store: &Store, shared: Arc<PublishShared>) -> Result<Outbox, StoreError> {
        let mut meta: OutboxMeta = store.get(META)?.unwrap_or_default();
        meta.next_seq = meta.next_seq.max(1);
        shared.head.store(meta.next_seq - 1, Ordering::Release);
        shared.acked.fetch_max(meta.pruned_to, Ordering::AcqRel);
        let stats = super::stats::StatsFeed::load(store)?;
        let people = shared.city.clone().map(People::new);
        Ok(Outbox { committed_meta: meta.clone(), meta, cache: ReportCache::default(), shared, stats, people })
    }

    /// The figures and detail as they stand, as published JSON (without seq and time).
    fn content(&mut self, state: &State, index: &RecordIndex, registry: &Registry, now_ms: i64) -> Vec<u8> {
        let status = report::status(state, index, registry, &mut self.cache);
        let figures = DistrictFigures::from_status(&status);
        let detail = detail(state, registry, &status, now_ms);
        serde_json::to_vec(&(figures, detail)).expect("figures serialize")
    }

    /// True when a figure differs from the last entry's (the clock or a registry change moved
    /// it, or nothing was ever published): the engine then commits, which writes an entry.
    pub fn changed(&mut self, state: &State, index: &RecordIndex, registry: &Registry, now_ms: i64) -> bool {
        self.content(state, index, registry, now_ms) != self.meta.last || self.stats.backfill_pending()
    }

    /// Writes the entry (or entries, see [`EVENTS_PER_ENTRY`]) of the commit being made into
    /// its batch, and prunes acknowledged ones.
    pub fn stage(&mut self, state: &State, index: &RecordIndex, registry: &Registry, batch: &mut crate::store::Batch) {
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let content = self.content(state, index, registry, now_ms);
        let (figures, detail): (DistrictFigures, DistrictDetail) =
            serde_json::from_slice(&content).expect("just serialized");
        let stats_now = crate::statistics::clock().as_millisecond();
        // The commit's statistics ride in its first entry.
        let mut stats = self.stats.stage(state, registry, stats_now, batch);
        let events = self.people.as_mut().map(People::take_events).unwrap_or_default();
        let mut parts: Vec<&[PersonEvent]> = events.chunks(EVENTS_PER_ENTRY).collect();
        if parts.is_empty() {
            parts.push(&[]);
        }
        for people in parts {
            let seq = self.meta.next_seq;
            let message = DistrictMessage {
                v: DistrictMessage::version_needed(people),
                district: self.shared.district.clone(),
                seq,
                at_ms: now_ms,
                figures: figures.clone(),
                detail: detail.clone(),
                stats: stats.take(),
                people: people.to_vec(),
            };
            batch.insert(entry_key(seq), message.to_json());
            self.meta.next_seq = seq + 1;
        }
        self.meta.last = content;
        let acked = self.shared.acked.load(Ordering::Acquire).min(self.meta.next_seq - 1);
        let prune_to = acked.min(self.meta.pruned_to + PRUNE_PER_BATCH);
        for s in self.meta.pruned_to + 1..=prune_to {
            batch.remove(entry_key(s));
        }
        self.meta.pruned_to = self.meta.pruned_to.max(prune_to);
        batch.insert(META, crate::store::encode(&self.meta));
    }

    /// The cross-district side, when a city key is configured.
    pub fn people_mut(&mut self) -> Option<&mut People> {
        self.people.as_mut()
    }

    /// Links the changed cases of the commit being made to their people's city hashes (before
    /// the state writes them out).
    pub fn link_cases(&self, state: &State, batch: &mut crate::store::Batch) {
        if let Some(p) = &self.people {
            p.link_cases(state.cases.pending(), batch);
        }
    }

    /// The batch was durably committed: the publisher may take the new entry.
    pub fn committed(&mut self) {
        self.committed_meta = self.meta.clone();
        self.stats.committed();
        self.shared.head.store(self.meta.next_seq - 1, Ordering::Release);
        self.shared.wake.notify_one();
    }

    /// The batch failed: the entry was not written.
    pub fn aborted(&mut self) {
        self.meta = self.committed_meta.clone();
        self.stats.aborted();
        if let Some(p) = &mut self.people {
            p.aborted();
        }
    }

    /// A batch removing acknowledged entries, when some wait (for idle times; a commit prunes
    /// as it goes).
    pub fn prune_batch(&mut self) -> Option<crate::store::Batch> {
        let acked = self.shared.acked.load(Ordering::Acquire).min(self.meta.next_seq - 1);
        if acked <= self.meta.pruned_to {
            return None;
        }
        let mut batch = crate::store::Batch::default();
        let prune_to = acked.min(self.meta.pruned_to + PRUNE_PER_BATCH);
        for s in self.meta.pruned_to + 1..=prune_to {
            batch.remove(entry_key(s));
        }
        self.meta.pruned_to = prune_to;
        batch.insert(META, crate::store::encode(&self.meta));
        Some(batch)
    }

    /// What the engine, the publisher and the status share about publishing.
    pub fn shared(&self) -> &Arc<PublishShared> {
        &self.shared
    }
}

/// The city's extra figures: arrivals today, cases by street, registrations per office, alerts
/// by kind. Counts only: nothing here names a person.
fn detail(
    state: &State,
    registry: &Registry,
    status: &mz_shared::protocol::StatusReport,
    now_ms: i64,
) -> DistrictDetail {
    let today = jiff::Timestamp::from_millisecond(now_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(registry.time_zone())
        .date()
        .to_string();
    let arrivals_today = registry
        .stations
        .iter()
        .filter_map(|s| state.station_days.get(&key2(&s.id, &today)))
        .map(|d| u64::from(d.admits))
        .sum();
    let cases_by_street = crate::funds::fund_rows(&state.funds, &state.fund_figures, registry)
        .into_iter()
        .map(|r| StreetCases { street: r.street, name: r.name, open: u64::from(r.cases_open), paid_fen: r.paid.0 })
        .collect();
    let offices = registry
        .offices
        .iter()
        .map(|o| OfficeFigures {
            id: o.id.clone(),
            registrations_today: state
                .office_days
                .get(&key2(&o.id, &today))
                .map_or(0, |d| d.by_kind.values().map(|n| u64::from(*n)).sum()),
        })
        .collect();
    DistrictDetail { arrivals_today, today, cases_by_street, offices, alerts_by_kind: status.alerts.by_kind.clone() }
}
