//! The maintained figures: everything a dashboard or a rule needs, kept up to date row by row
//! so that nothing is ever answered by scanning records.
//!
//! Each figure lives in a [`Table`]: an in-memory map mirrored to the store one key per entity.
//! Changing an entity marks it dirty; the engine writes the dirty entities in the same batch as
//! the rows that changed them, so figures and records are always durable together. The audit
//! trail's anchor (its length and head hash) is one such figure: written in the batch of every
//! commit that appends audit entries, so the trail must always end exactly at it.
//!
//! The in-memory indexes over these tables live here too ([`PersonIndex`]: the open case of
//! each person; [`TaskIndex`]: the open station tasks), so `cases`, `tasks` and `rules` build on
//! `state` and `state` imports none of them.

mod aid_index;
mod case_queue;
mod person_index;
mod task_index;

pub(crate) use aid_index::AidIndex;
pub(crate) use person_index::PersonIndex;
use task_index::archive_closed;
pub(crate) use task_index::TaskIndex;

use crate::store::{encode, keys, Store, StoreError};
use mz_shared::alert::Alert;
use mz_shared::audit::{AuditAnchor, AuditEntry, StoreFigure};
use mz_shared::case::{Case, Funds, OpenCase};
use mz_shared::dashboard::{EventRow, HourCounts};
use mz_shared::feed::Feed;
use mz_shared::id_number::IdHash;
use mz_shared::protocol::{FeedCounts, FileCounts};
use mz_shared::records::{Flag, Gender, MarriageKind};
use mz_shared::registry::Registry;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A persisted map of small values, one store key per entity, written when changed.
pub(crate) struct Table<V> {
    name: &'static str,
    /// Entities kept in the value log (`S<table>/…`) rather than in sled (`s<table>/…`): for
    /// tables of many entities, where sled's node rewrites cost 3–4× their size on disk.
    large: bool,
    map: HashMap<String, V>,
    dirty: HashSet<String>,
    /// Keys present in the store, so that an entity created and removed between two commits
    /// (a short stay inside one file) costs no store write at all.
    persisted: HashSet<String>,
    /// Bumped by every change, so that views derived from the table can be cached.
    changes: u64,
}

impl<V: Serialize + DeserializeOwned> Table<V> {
    fn new(name: &'static str) -> Self {
        Table {
            name,
            large: false,
            map: HashMap::default(),
            dirty: HashSet::default(),
            persisted: HashSet::default(),
            changes: 0,
        }
    }

    /// A table whose entities live in the value log.
    fn new_large(name: &'static str) -> Self {
        Table { large: true, ..Table::new(name) }
    }

    fn load(store: &Store, name: &'static str) -> Result<Self, StoreError> {
        Self::load_into(store, Table::new(name))
    }

    fn load_large(store: &Store, name: &'static str) -> Result<Self, StoreError> {
        Self::load_into(store, Table::new_large(name))
    }

    fn key(&self, entity: &str) -> Vec<u8> {
        table_key(self.name, self.large, entity)
    }

    fn load_into(store: &Store, mut t: Table<V>) -> Result<Self, StoreError> {
        let prefix = t.key("");
        for item in store.scan::<V>(&prefix) {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            t.persisted.insert(key.clone());
            t.map.insert(key, v);
        }
        Ok(t)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn mark(&mut self, key: &str) {
        self.changes += 1;
        if !self.dirty.contains(key) {
            self.dirty.insert(key.to_owned());
        }
    }

    /// Mutable access; the entity is written at the next commit.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        if !self.map.contains_key(key) {
            return None;
        }
        self.mark(key);
        self.map.get_mut(key)
    }

    /// The entity, created with `V::default()` if absent; written at the next commit.
    pub(crate) fn entry(&mut self, key: &str) -> &mut V
    where
        V: Default,
    {
        self.mark(key);
        if !self.map.contains_key(key) {
            self.map.insert(key.to_owned(), V::default());
        }
        self.map.get_mut(key).expect("just inserted")
    }

    pub(crate) fn insert(&mut self, key: String, value: V) {
        self.mark(&key);
        self.map.insert(key, value);
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let v = self.map.remove(key)?;
        self.mark(key);
        Some(v)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.map.iter()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values()
    }

    /// Entities whose key starts with `prefix` (any order).
    pub(crate) fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a String, &'a V)> + 'a {
        self.map.iter().filter(move |(k, _)| k.starts_with(prefix))
    }

    /// Changes so far (mutable accesses count as changes): equal numbers mean an equal table.
    pub(crate) fn changes(&self) -> u64 {
        self.changes
    }

    /// Entities in the table.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table holds no entity.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    fn write_into(&mut self, batch: &mut crate::store::Batch) {
        let (name, large) = (self.name, self.large);
        for key in self.dirty.drain() {
            match self.map.get(&key) {
                Some(v) => {
                    batch.insert(table_key(name, large, &key), encode(v));
                    self.persisted.insert(key);
                }
                None => {
                    if self.persisted.remove(&key) {
                        batch.remove(table_key(name, large, &key));
                    }
                }
            }
        }
    }
}

/// The store key of `entity` in table `name` (`S…` when the table is large, see [`Table`]).
fn table_key(name: &str, large: bool, entity: &str) -> Vec<u8> {
    let mut k = keys::state(name, entity);
    if large {
        k[0] = k[0].to_ascii_uppercase();
    }
    k
}

/// Joins the parts of a compound entity key.
pub(crate) fn key2(a: &str, b: &str) -> String {
    let mut k = String::with_capacity(a.len() + 1 + b.len());
    k.push_str(a);
    k.push('\u{1f}');
    k.push_str(b);
    k
}

/// `kind:subject`, the id of an alert.
pub(crate) fn alert_id(kind: &str, subject: &str) -> String {
    let mut k = String::with_capacity(kind.len() + 1 + subject.len());
    k.push_str(kind);
    k.push(':');
    k.push_str(subject);
    k
}

/// Store-wide totals since the store was created (SPEC §6), and sequence numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Drop files handled: stored, quarantined, partly rejected (status `files`).
    pub files: FileCounts,
    /// Rows refused by validation or the rules, per feed (status `rejected_rows`).
    pub rejected_rows: FeedCounts,
    /// Rows skipped as already stored, per feed.
    pub duplicate_rows: FeedCounts,
    /// Marriage registrations stored, per kind (marriage, divorce, …).
    pub marriages_by_kind: BTreeMap<MarriageKind, u64>,
    /// Next finalize job number.
    pub next_job: u64,
    /// Next handled-file history number.
    pub next_handled: u64,
    /// Next record id for rows logged from the console.
    pub next_console_record: u64,
    /// Rows rejected per local day of handling (`YYYY-MM-DD`), the last 31 days.
    pub rejected_by_day: BTreeMap<String, u64>,
    /// Next case number (the `000123` of `JJN-2026-000123`).
    #[serde(default)]
    pub next_case: u32,
    /// Next audit entry number.
    #[serde(default)]
    pub next_audit: u64,
}

impl Counters {
    pub(crate) fn reject(&mut self, feed: Feed, today: &str) {
        *self.rejected_rows.get_mut(feed) += 1;
        if let Some(n) = self.rejected_by_day.get_mut(today) {
            *n += 1;
        } else {
            self.rejected_by_day.insert(today.to_owned(), 1);
            while self.rejected_by_day.len() > 31 {
                self.rejected_by_day.pop_first();
            }
        }
    }

    pub(crate) fn duplicate(&mut self, feed: Feed) {
        *self.duplicate_rows.get_mut(feed) += 1;
    }
}

/// 在站人员: a person currently admitted at a station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resident {
    pub(crate) station_id: String,
    pub(crate) person_ref: String,
    pub(crate) record_id: String,
    pub(crate) admitted_at_ms: i64,
    pub(crate) name: Option<String>,
    pub(crate) gender: Option<Gender>,
    pub(crate) age: Option<u8>,
    pub(crate) flags: Vec<Flag>,
    pub(crate) bed: Option<String>,
    pub(crate) unidentified: bool,
    /// Incidents reported for this stay.
    pub(crate) incidents: u32,
}

/// 床位占用: a station's occupancy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StationOccupancy {
    pub(crate) occupied: u32,
}

/// A station's latest events, newest last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecentEvents {
    pub(crate) events: std::collections::VecDeque<EventRow>,
}

impl RecentEvents {
    pub(crate) const KEEP: usize = 20;

    pub(crate) fn push(&mut self, e: EventRow) {
        self.events.push_back(e);
        while self.events.len() > Self::KEEP {
            self.events.pop_front();
        }
    }
}

/// Events of one station on one local day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StationDay {
    pub(crate) admits: u32,
    pub(crate) discharges: u32,
    pub(crate) incidents: u32,
}

/// One burial-site report, as kept in a site's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SiteReport {
    pub(crate) record_id: String,
    /// `YYYY-MM-DD`.
    pub(crate) reported_on: String,
    pub(crate) capacity_total: u32,
    pub(crate) occupied: u32,
    pub(crate) new_interments: Option<u32>,
    pub(crate) eco_interments: Option<u32>,
    pub(crate) free_basic_services: Option<u32>,
}

/// A burial site's reports, oldest first; the last is its current state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SiteHistory {
    pub(crate) reports: Vec<SiteReport>,
}

impl SiteHistory {
    /// Reports kept per site (enough for two years of monthly reports).
    pub(crate) const KEEP: usize = 36;

    pub(crate) fn current(&self) -> Option<&SiteReport> {
        self.reports.last()
    }
}

/// Registrations of one office on one local day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OfficeDay {
    pub(crate) by_kind: BTreeMap<MarriageKind, u32>,
    /// Registrations with a party whose hukou is outside the office's district.
    pub(crate) cross_district: u32,
    /// Registrations whose `counselling` is known, and of those, true.
    pub(crate) counselling_known: u32,
    pub(crate) counselling_yes: u32,
}

/// A person's current spouse, by keyed ID hash (for the bigamy check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Spouse {
    pub(crate) spouse: IdHash,
    pub(crate) record_id: String,
}

/// A pending divorce application of a couple (for the cooling-off check and the marriages view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DivorceApplication {
    pub(crate) office_id: String,
    pub(crate) record_id: String,
    pub(crate) applied_at_ms: i64,
}

/// Divorce applications of one office deemed withdrawn (视为撤回申请, 民法典 1077): neither
/// withdrawn nor followed by a divorce within 60 days. Counted per local day of the lapse (the
/// application's time + 60 days) and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OfficeLapses {
    pub(crate) total: u64,
    /// `YYYY-MM-DD` → applications that lapsed that day.
    pub(crate) by_day: BTreeMap<String, u32>,
}

/// Store table of [`State::arrival_hours`]: a table of its own (not a field of a stored
/// struct), so stores written before it load, with no hourly figures for their past days.
const ARRIVAL_HOURS: &str = "arrival_hour";

/// All maintained figures.
pub struct State {
    pub(crate) counters: Counters,
    counters_dirty: bool,
    pub(crate) occupancy: Table<StationOccupancy>,
    /// key: station ␟ person_ref.
    pub(crate) residents: Table<Resident>,
    /// key: station ␟ YYYY-MM-DD.
    pub(crate) station_days: Table<StationDay>,
    /// Admissions of all stations per local hour, by `occurred_at`; key: YYYY-MM-DD.
    pub(crate) arrival_hours: Table<HourCounts>,
    /// key: station.
    pub(crate) recent: Table<RecentEvents>,
    pub(crate) sites: Table<SiteHistory>,
    /// key: office ␟ YYYY-MM-DD.
    pub(crate) office_days: Table<OfficeDay>,
    /// key: hex of the person's ID hash.
    pub(crate) spouses: Table<Spouse>,
    /// key: the couple's two ID hashes in hex, smaller first.
    pub(crate) divorce_applications: Table<DivorceApplication>,
    /// Applications taken as lapsed, by couple: a divorce or withdrawal inside the window
    /// that arrives late undoes the lapse. key: as `divorce_applications`.
    pub(crate) lapsed_applications: Table<DivorceApplication>,
    /// key: office.
    pub(crate) divorce_lapses: Table<OfficeLapses>,
    /// key: alert id.
    pub(crate) alerts: Table<Alert>,
    /// 救急难 cases; key: case id. Change them through [`State::put_case`], which keeps
    /// [`State::case_index`] and [`State::aid`] in step.
    pub(crate) cases: CaseTable,
    /// Every case's payments by the person paid (the duplicate-aid warning).
    pub(crate) aid: AidIndex,
    /// Orderings of the cases for the dashboard and the status, kept with every change.
    pub(crate) case_index: CaseIndex,
    /// The triggers of the cases the rules opened, by [`trigger_hash`] (rebuilt from the cases
    /// at start-up).
    pub(crate) case_triggers: HashSet<u64>,
    /// Open cases by person (one person, one open case); kept by [`State::put_case`].
    pub(crate) open_by_person: PersonIndex,
    /// Reserve-fund balances, derived from the registry and the cases' payments.
    pub(crate) funds: Funds,
    /// Pending requests and open cases per street, kept by [`State::put_case`].
    pub(crate) fund_figures: crate::funds::CaseFundFigures,
    /// Cases the rules asked for since the last commit: (trigger, what to open).
    pub(crate) cases_to_open: Vec<(String, OpenCase)>,
    /// The last committed audit entry (the last entry is [`State::audit_last`]).
    pub(crate) audit_tail: Option<AuditEntry>,
    /// Audit entries appended since the last commit.
    pub(crate) audit_pending: Vec<AuditEntry>,
    /// Station tasks (在站事项); key: task id. Change them through [`crate::tasks::put`], which
    /// keeps [`State::task_index`] in step. Memory holds the open ones (and closed ones until
    /// written); done and void tasks stay in the store only.
    pub(crate) tasks: Table<mz_shared::task::StationTask>,
    /// Open tasks by due time, station and person; each stay's tasks (rebuilt at load).
    pub(crate) task_index: TaskIndex,
    /// Per-day figures of the statistics reports (统计报表), and which report files are stale.
    pub(crate) stats: crate::statistics::Statistics,
}

impl State {
    /// Empty figures (a new store, or `mzd check`).
    pub(crate) fn empty() -> State {
        State {
            counters: Counters::default(),
            counters_dirty: false,
            occupancy: Table::new("occupancy"),
            residents: Table::new("resident"),
            station_days: Table::new("station_day"),
            arrival_hours: Table::new(ARRIVAL_HOURS),
            recent: Table::new("recent"),
            sites: Table::new("site"),
            office_days: Table::new("office_day"),
            spouses: Table::new("spouse"),
            divorce_applications: Table::new("divorce_app"),
            lapsed_applications: Table::new("divorce_app_lapsed"),
            divorce_lapses: Table::new("divorce_lapses"),
            alerts: Table::new_large("alert"),
            cases: CaseTable::new(None),
            aid: AidIndex::default(),
            case_index: CaseIndex::default(),
            case_triggers: HashSet::default(),
            open_by_person: PersonIndex::default(),
            funds: Funds::default(),
            fund_figures: Default::default(),
            cases_to_open: Vec::new(),
            audit_tail: None,
            audit_pending: Vec::new(),
            tasks: Table::new("task"),
            task_index: TaskIndex::default(),
            stats: crate::statistics::Statistics::new(
                jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC),
            ),
        }
    }

    pub(crate) fn load(store: &Store, registry: &Registry) -> Result<State, StoreError> {
        // Cases stay in the store; memory keeps their orderings, triggers, payments and funds.
        let mut funds = Funds::from_registry(registry);
        let mut case_index = CaseIndex::default();
        let mut case_triggers = HashSet::default();
        let mut open_by_person = PersonIndex::default();
        let mut aid = AidIndex::default();
        let mut fund_figures = crate::funds::CaseFundFigures::default();
        for item in scan_cases_read_ahead(&store.reader()) {
            let case = item?;
            funds.count_paid(&case);
            fund_figures.add(&case);
            case_index.add(&case, &registry.limits);
            case_triggers.extend(case.all_triggers().map(|t| trigger_hash(t)));
            open_by_person.update(None, &case);
            aid.update(None, &case);
        }
        let cases = CaseTable::new(Some(store.reader()));
        let audit_tail = match store.reader().last(keys::AUDIT_PREFIX)? {
            Some((key, bytes)) => decode_audit_chunk(&key, &bytes)?.pop(),
            None => None,
        };
        warn_if_off_anchor(&store.reader(), audit_tail.as_ref())?;
        let residents = Table::load(store, "resident")?;
        let mut tasks = Table::load(store, "task")?;
        let closed_marks = crate::task_archive::marks(&store.reader())?;
        let task_index = TaskIndex::build(&mut tasks, &residents, &closed_marks);
        Ok(State {
            stats: crate::statistics::Statistics::load(store, registry)?,
            tasks,
            task_index,
            case_index,
            cases,
            aid,
            case_triggers,
            open_by_person,
            funds,
            fund_figures,
            cases_to_open: Vec::new(),
            audit_tail,
            audit_pending: Vec::new(),
            counters: store.get(keys::COUNTERS)?.unwrap_or_default(),
            counters_dirty: false,
            occupancy: Table::load(store, "occupancy")?,
            residents,
            station_days: Table::load(store, "station_day")?,
            arrival_hours: Table::load(store, ARRIVAL_HOURS)?,
            recent: Table::load(store, "recent")?,
            sites: Table::load(store, "site")?,
            office_days: Table::load(store, "office_day")?,
            spouses: Table::load(store, "spouse")?,
            divorce_applications: Table::load(store, "divorce_app")?,
            lapsed_applications: Table::load(store, "divorce_app_lapsed")?,
            divorce_lapses: Table::load(store, "divorce_lapses")?,
            alerts: Table::load_large(store, "alert")?,
        })
    }

    /// Stores a new or changed case and re-indexes it.
    /// `old` is the case as it was (`None` for a new case).
    pub(crate) fn put_case(&mut self, old: Option<&Case>, case: Case, limits: &mz_shared::registry::Limits) {
        if let Some(old) = old {
            self.case_index.remove(old, limits);
        }
        self.case_index.add(&case, limits);
        self.aid.update(old, &case);
        // The reserve-fund figures (pending requests, open cases per street).
        if let Some(old) = old {
            self.fund_figures.remove(old);
        }
        self.fund_figures.add(&case);
        self.open_by_person.update(old, &case);
        self.stats.case_change(old, &case);
        self.cases.put(case);
    }

    /// The last audit entry, committed or not: the one the next entry chains to.
    pub(crate) fn audit_last(&self) -> Option<&AuditEntry> {
        self.audit_pending.last().or(self.audit_tail.as_ref())
    }

    /// The trail's length and head, committed or not (what status shows after a commit).
    pub(crate) fn audit_anchor(&self) -> AuditAnchor {
        AuditAnchor::of(self.audit_last())
    }

    /// Mutable counters; written at the next commit.
    pub(crate) fn counters_mut(&mut self) -> &mut Counters {
        self.counters_dirty = true;
        &mut self.counters
    }

    /// True when something changed since the last [`Self::write_into`].
    pub(crate) fn is_dirty(&self) -> bool {
        self.counters_dirty
            || self.occupancy.is_dirty()
            || self.residents.is_dirty()
            || self.station_days.is_dirty()
            || self.arrival_hours.is_dirty()
            || self.recent.is_dirty()
            || self.sites.is_dirty()
            || self.office_days.is_dirty()
            || self.spouses.is_dirty()
            || self.divorce_applications.is_dirty()
            || self.lapsed_applications.is_dirty()
            || self.divorce_lapses.is_dirty()
            || self.alerts.is_dirty()
            || self.cases.is_dirty()
            || !self.audit_pending.is_empty()
            || self.tasks.is_dirty()
            || self.stats.is_dirty()
    }

    /// Writes every changed figure into `batch`. The changed case blocks and the audit chunks
    /// (most of a bulk commit's encoding and compression) are deferred to the thread that
    /// commits the batch ([`crate::store::Deferred`]); the blocks stay readable here until
    /// [`Self::committed`].
    pub(crate) fn write_into(&mut self, batch: &mut crate::store::Batch) {
        self.cases.take_changed(batch);
        let audit = std::mem::take(&mut self.audit_pending);
        if let Some(last) = audit.last() {
            self.audit_tail = Some(last.clone());
        }
        if !audit.is_empty() {
            // The trail's anchor goes with the entries.
            batch.insert(audit_anchor_key(), encode(&self.audit_anchor()));
        }
        defer_audit_chunks(audit, batch);
        self.write_figures_into(batch);
    }

    /// The batch of the last [`Self::write_into`] is durable: its case blocks are read from the
    /// store from now on.
    pub(crate) fn committed(&mut self) {
        self.cases.committed();
    }

    /// Writes the changed figures other than cases and audit entries into `batch`.
    fn write_figures_into(&mut self, batch: &mut crate::store::Batch) {
        if std::mem::take(&mut self.counters_dirty) {
            batch.insert(keys::COUNTERS, encode(&self.counters));
        }
        self.occupancy.write_into(batch);
        self.residents.write_into(batch);
        self.station_days.write_into(batch);
        self.arrival_hours.write_into(batch);
        self.recent.write_into(batch);
        self.sites.write_into(batch);
        self.office_days.write_into(batch);
        self.spouses.write_into(batch);
        self.divorce_applications.write_into(batch);
        self.lapsed_applications.write_into(batch);
        self.divorce_lapses.write_into(batch);
        self.alerts.write_into(batch);
        self.tasks.write_into(batch);
        self.stats.write_into(batch);
        archive_closed(&mut self.task_index, batch);
    }
}

/// The cases: read from the store when needed (there may be hundreds of thousands); only the
/// changes since the last commit are held in memory.
///
/// Stored in blocks of [`CASE_BLOCK`] cases by number (`c<block>`, see [`keys::case_block`]):
/// a block is postcard, zstd-compressed, so cases the rules open in bulk are written once, a
/// block per 64, and cost a few hundred bytes each. A case changed later rewrites its block.
/// Cases of stores written before blocks (`scase/<id>`) are read where they are and move into
/// their block the first time they change, in the same batch.
pub(crate) struct CaseTable {
    reader: Option<crate::store::StoreReader>,
    pending: HashMap<String, Case>,
    changes: u64,
    /// The store still has cases kept one per key (written before blocks).
    legacy: bool,
    /// The last block read, decoded (reads come in runs over neighbouring cases).
    cached: std::sync::Mutex<Option<(u32, std::sync::Arc<Vec<Case>>)>>,
    /// The blocks written into the batch being committed, until it is durable: what the store
    /// will hold, read from here meanwhile.
    in_flight: HashMap<u32, std::sync::Arc<Vec<Case>>>,
}

/// Cases per stored block.
pub(crate) const CASE_BLOCK: u32 = 64;

/// The block of a case id, `None` for an id without a number (never made by the daemon).
fn block_of(id: &str) -> Option<u32> {
    mz_shared::case::CaseId::seq_of(id).map(|s| s / CASE_BLOCK)
}

/// Encodes a block of cases (sorted by number): postcard, compressed.
fn encode_block(cases: &[Case]) -> Vec<u8> {
    crate::store::compress(&encode(&cases))
}

/// Decodes a stored block.
fn decode_block(key: &[u8], bytes: &[u8]) -> Result<Vec<Case>, StoreError> {
    let raw = crate::store::decompress(key, bytes)?;
    crate::store::decode(key, &raw)
}

impl CaseTable {
    fn new(reader: Option<crate::store::StoreReader>) -> CaseTable {
        let legacy = reader.as_ref().is_some_and(|r| r.scan_raw(&keys::state_prefix("case")).next().is_some());
        CaseTable {
            reader,
            pending: HashMap::default(),
            changes: 0,
            legacy,
            cached: Default::default(),
            in_flight: HashMap::default(),
        }
    }

    /// The block `block` as committed or being committed, decoded (empty when absent).
    fn block(&self, block: u32) -> Result<std::sync::Arc<Vec<Case>>, StoreError> {
        if let Some(cases) = self.in_flight.get(&block) {
            return Ok(cases.clone());
        }
        if let Some((b, cases)) = self.cached.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if *b == block {
                return Ok(cases.clone());
            }
        }
        let Some(reader) = &self.reader else { return Ok(Default::default()) };
        let key = keys::case_block(block);
        let cases = match reader.get_raw(&key)? {
            Some(bytes) => std::sync::Arc::new(decode_block(&key, &bytes)?),
            None => Default::default(),
        };
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some((block, cases.clone()));
        Ok(cases)
    }

    /// The case as last changed (committed or not).
    pub(crate) fn get(&self, id: &str) -> Option<Case> {
        if let Some(c) = self.pending.get(id) {
            return Some(c.clone());
        }
        let reader = self.reader.as_ref()?;
        let found = match block_of(id) {
            Some(b) => self.block(b).map(|cases| cases.iter().find(|c| c.id.as_str() == id).cloned()),
            None => Ok(None),
        };
        let found = match found {
            Ok(None) => reader.get::<Case>(&keys::state("case", id)),
            other => other,
        };
        found.unwrap_or_else(|e| {
            tracing::error!(case = id, error = %e, "case unreadable");
            None
        })
    }

    fn put(&mut self, case: Case) {
        self.changes += 1;
        self.pending.insert(case.id.as_str().to_owned(), case);
    }

    /// Every case (store and pending), for rare full passes such as a registry change.
    pub(crate) fn all(&self) -> Vec<Case> {
        let mut all: HashMap<String, Case> = HashMap::default();
        if let Some(reader) = &self.reader {
            for item in scan_cases(reader) {
                match item {
                    Ok(c) => {
                        all.insert(c.id.as_str().to_owned(), c);
                    }
                    Err(e) => tracing::error!(error = %e, "case unreadable"),
                }
            }
        }
        for c in self.in_flight.values().flat_map(|b| b.iter()).chain(self.pending.values()) {
            all.insert(c.id.as_str().to_owned(), c.clone());
        }
        all.into_values().collect()
    }

    /// The cases changed since the last commit.
    pub fn pending(&self) -> impl Iterator<Item = &Case> {
        self.pending.values()
    }

    /// Changes so far: equal numbers mean equal cases.
    pub(crate) fn changes(&self) -> u64 {
        self.changes
    }

    fn is_dirty(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Writes the changes since the last commit into `batch` as blocks, each the committed block
    /// merged with its changed cases, encoded by the committing thread; they are read from
    /// [`Self::in_flight`] until [`Self::committed`]. Cases kept one per key go into `batch`
    /// here: a case without a number is written at its key, and a changed case of an older
    /// store has its old key removed (it moves into its block).
    fn take_changed(&mut self, batch: &mut crate::store::Batch) {
        let mut blocks: BTreeMap<u32, Vec<Case>> = BTreeMap::new();
        for (id, case) in self.pending.drain() {
            match block_of(&id) {
                Some(b) => {
                    if self.legacy {
                        batch.remove(keys::state("case", &id));
                    }
                    blocks.entry(b).or_default().push(case);
                }
                None => batch.insert(keys::state("case", &id), encode(&case)),
            }
        }
        for (b, changed) in blocks {
            let stored = self.block(b).map(|c| (*c).clone()).unwrap_or_else(|e| {
                tracing::error!(block = b, error = %e, "case block unreadable: rewritten from the changes");
                Vec::new()
            });
            let cases = std::sync::Arc::new(merge_block(stored, changed));
            let shared = cases.clone();
            batch.defer(move || (keys::case_block(b), encode_block(&shared)));
            self.in_flight.insert(b, cases);
        }
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The blocks of the last batch are durable.
    fn committed(&mut self) {
        self.in_flight.clear();
    }
}

/// `stored` with `changed` cases replaced or added, ordered by number.
fn merge_block(stored: Vec<Case>, changed: Vec<Case>) -> Vec<Case> {
    let mut all = changed;
    all.extend(stored);
    // Stable: a changed case sorts before its stored version, and `dedup_by` keeps the first.
    // Each id is parsed once, not at every comparison.
    all.sort_by_cached_key(|c| (c.id.seq().unwrap_or(0), c.id.as_str().to_owned()));
    all.dedup_by(|later, kept| later.id == kept.id);
    all
}

/// Defers the encoding of a commit's audit entries to the committing thread: one value per
/// chunk of [`AUDIT_CHUNK`], keyed by the chunk's first entry's number.
fn defer_audit_chunks(audit: Vec<AuditEntry>, batch: &mut crate::store::Batch) {
    let audit = std::sync::Arc::new(audit);
    for start in (0..audit.len()).step_by(AUDIT_CHUNK) {
        let entries = audit.clone();
        batch.defer(move || {
            let chunk = &entries[start..(start + AUDIT_CHUNK).min(entries.len())];
            (keys::audit(chunk[0].seq), encode_audit_chunk(chunk))
        });
    }
}

/// Every stored case: the blocks in number order, then cases of older stores kept one per key.
/// Read as the iterator is advanced (committed cases only).
pub(crate) fn scan_cases(reader: &crate::store::StoreReader) -> impl Iterator<Item = Result<Case, StoreError>> {
    let blocks = reader.scan_raw(keys::CASE_BLOCK_PREFIX).flat_map(|item| {
        let cases = item.and_then(|(k, v)| decode_block(&k, &v));
        let (ok, err) = match cases {
            Ok(cases) => (cases, None),
            Err(e) => (Vec::new(), Some(Err(e))),
        };
        err.into_iter().chain(ok.into_iter().map(Ok))
    });
    let legacy = reader.scan::<Case>(&keys::state_prefix("case")).map(|r| r.map(|(_, c)| c));
    blocks.chain(legacy)
}

/// Writes `cases` and removes the cases numbered `removed` straight into `batch`, each block
/// once: for tools and tests that repair or tamper with a stopped store (the engine changes
/// cases through [`State::put_case`] only).
pub fn write_cases_raw(
    reader: &crate::store::StoreReader,
    batch: &mut crate::store::Batch,
    cases: Vec<Case>,
    removed: &[&str],
) -> Result<(), StoreError> {
    let mut blocks: BTreeMap<u32, (Vec<Case>, Vec<&str>)> = BTreeMap::new();
    for c in cases {
        match block_of(c.id.as_str()) {
            Some(b) => blocks.entry(b).or_default().0.push(c),
            None => batch.insert(keys::state("case", c.id.as_str()), encode(&c)),
        }
    }
    for id in removed {
        match block_of(id) {
            Some(b) => blocks.entry(b).or_default().1.push(id),
            None => batch.remove(keys::state("case", id)),
        }
    }
    for (b, (changed, gone)) in blocks {
        let key = keys::case_block(b);
        let stored = match reader.get_raw(&key)? {
            Some(bytes) => decode_block(&key, &bytes)?,
            None => Vec::new(),
        };
        let mut merged = merge_block(stored, changed);
        merged.retain(|c| !gone.contains(&c.id.as_str()));
        batch.insert(key, encode_block(&merged));
    }
    Ok(())
}

/// Every stored chunk of audit entries with its key, in order.
pub fn audit_chunks(reader: &crate::store::StoreReader) -> Result<Vec<(sled::IVec, Vec<AuditEntry>)>, StoreError> {
    let mut all = Vec::new();
    for item in reader.scan_raw(keys::AUDIT_PREFIX) {
        let (key, bytes) = item?;
        let entries = decode_audit_chunk(&key, &bytes)?;
        all.push((key, entries));
    }
    Ok(all)
}

/// A chunk of audit entries as stored.
pub fn encode_audit_chunk(entries: &[AuditEntry]) -> Vec<u8> {
    crate::store::compress(&encode(&entries))
}

/// [`scan_cases`] on a second thread, a few blocks ahead: decompressing and decoding take one
/// core while the caller indexes on the other (start-up).
fn scan_cases_read_ahead(reader: &crate::store::StoreReader) -> impl Iterator<Item = Result<Case, StoreError>> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<Case, StoreError>>>(4);
    let reader = reader.clone();
    let spawned = std::thread::Builder::new().name("mzd-case-load".into()).spawn(move || {
        let mut chunk = Vec::with_capacity(CASE_BLOCK as usize);
        for item in scan_cases(&reader) {
            chunk.push(item);
            if chunk.len() == CASE_BLOCK as usize && tx.send(std::mem::take(&mut chunk)).is_err() {
                return;
            }
        }
        let _ = tx.send(chunk);
    });
    let failed = spawned.err().map(|e| Err(StoreError::Io { path: "case loader thread".into(), source: e }));
    failed.into_iter().chain(rx.into_iter().flatten())
}

/// One committed case.
pub fn read_case(reader: &crate::store::StoreReader, id: &str) -> Result<Option<Case>, StoreError> {
    if let Some(b) = block_of(id) {
        let key = keys::case_block(b);
        if let Some(bytes) = reader.get_raw(&key)? {
            if let Some(c) = decode_block(&key, &bytes)?.into_iter().find(|c| c.id.as_str() == id) {
                return Ok(Some(c));
            }
        }
    }
    reader.get(&keys::state("case", id))
}

/// A case's number in 8 bytes: its year and sequence number (`JJN-2026-000123`), so that the
/// orderings below hold fixed-size keys instead of strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct CaseNo(u64);

impl CaseNo {
    /// The number of `id` (`None` for an id the daemon never makes).
    pub(crate) fn of(id: &mz_shared::case::CaseId) -> Option<CaseNo> {
        let (year, seq) = (id.year()?, id.seq()?);
        Some(CaseNo((u64::from(year as u16) << 32) | u64::from(seq)))
    }

    /// The case id again.
    pub(crate) fn id(self) -> mz_shared::case::CaseId {
        mz_shared::case::CaseId::new((self.0 >> 32) as u16 as i16, self.0 as u32)
    }

    /// Below every real number (for range bounds).
    pub(crate) const MIN: CaseNo = CaseNo(0);
}

/// The 64-bit hash a rule trigger is remembered by (in memory only: rebuilt at start-up).
pub(crate) fn trigger_hash(trigger: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    trigger.hash(&mut h);
    h.finish()
}

/// (not high urgency, opened at, number): the queue order of open cases.
pub(crate) type UrgencyKey = (bool, i64, CaseNo);
/// (earliest deadline, number) of an open case: overdue once it is in the past.
pub(crate) type DeadlineKey = (i64, CaseNo);

/// Open cases by urgency and age, by their earliest deadline, and ended cases by end time: the
/// dashboard's queue and the status's counts without walking every case. Keys are fixed-size
/// (24 bytes at most), no strings.
#[derive(Debug, Default)]
pub(crate) struct CaseIndex {
    pub(crate) open_by_urgency: std::collections::BTreeSet<UrgencyKey>,
    pub(crate) open_by_deadline: std::collections::BTreeSet<DeadlineKey>,
    /// (closed at, number) of closed and referred cases.
    pub(crate) ended: std::collections::BTreeSet<(i64, CaseNo)>,
    /// Open cases in the console's queue order ([`case_queue`]).
    pub(crate) queue: case_queue::CaseQueue,
}

impl CaseIndex {
    /// The keys of an open case (`None` for a closed or referred one).
    fn keys(case: &Case, no: CaseNo, limits: &mz_shared::registry::Limits) -> Option<(UrgencyKey, DeadlineKey)> {
        if case.is_terminal() {
            return None;
        }
        let d = mz_shared::case::deadlines(case, limits);
        let accept = (case.state == mz_shared::case::CaseState::New).then_some(d.accept_by_ms);
        let earliest = [accept, Some(d.close_by_ms), d.paperwork_due_ms, d.reply_due_ms]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(i64::MAX);
        Some(((case.urgency != mz_shared::case::Urgency::High, case.opened_at_ms, no), (earliest, no)))
    }

    fn add(&mut self, case: &Case, limits: &mz_shared::registry::Limits) {
        let Some(no) = CaseNo::of(&case.id) else { return };
        match Self::keys(case, no, limits) {
            Some((u, d)) => {
                self.queue.insert((u.0, d.0, no));
                self.open_by_urgency.insert(u);
                self.open_by_deadline.insert(d);
            }
            None => {
                self.ended.insert((case.closed_at_ms.unwrap_or(0), no));
            }
        }
    }

    fn remove(&mut self, case: &Case, limits: &mz_shared::registry::Limits) {
        let Some(no) = CaseNo::of(&case.id) else { return };
        match Self::keys(case, no, limits) {
            Some((u, d)) => {
                self.queue.remove(&(u.0, d.0, no));
                self.open_by_urgency.remove(&u);
                self.open_by_deadline.remove(&d);
            }
            None => {
                self.ended.remove(&(case.closed_at_ms.unwrap_or(0), no));
            }
        }
    }

    /// Rebuilds the deadline ordering after the registry's limits changed.
    pub(crate) fn reindex(&mut self, cases: &CaseTable, limits: &mz_shared::registry::Limits) {
        let rebuilt = self.queue.rebuilt + 1;
        *self = CaseIndex::default();
        self.queue.rebuilt = rebuilt;
        for c in cases.all() {
            self.add(&c, limits);
        }
    }

    /// Open cases with a deadline before `now_ms`.
    pub(crate) fn overdue(&self, now_ms: i64) -> usize {
        self.open_by_deadline.range(..(now_ms, CaseNo::MIN)).count()
    }

    /// The earliest deadline still ahead of `now_ms`.
    pub(crate) fn next_deadline(&self, now_ms: i64) -> Option<i64> {
        self.open_by_deadline.range((now_ms, CaseNo::MIN)..).next().map(|(t, _)| *t)
    }
}

/// Audit entries per stored value (an entry is a few hundred bytes; a chunk is compressed).
const AUDIT_CHUNK: usize = 256;

/// A stored chunk of audit entries: compressed, or plain postcard as older stores wrote it.
fn decode_audit_chunk(key: &[u8], bytes: &[u8]) -> Result<Vec<AuditEntry>, StoreError> {
    let raw = crate::store::decompress(key, bytes)?;
    crate::store::decode(key, &raw)
}

/// Store key of the trail's anchor ([`AuditAnchor`]), written in the batch of every commit that
/// appends audit entries. Stores written before anchors were kept have none until their next
/// audit entry; their counters' `next_audit` (the last entry's number) stands in for it.
fn audit_anchor_key() -> Vec<u8> {
    keys::state("audit", "anchor")
}

/// Logs an error when the trail does not end at the store's anchor (entries removed or added
/// outside the daemon): the next entries would chain onto the damaged trail, so an operator
/// should run `mzd audit verify` now.
fn warn_if_off_anchor(reader: &crate::store::StoreReader, tail: Option<&AuditEntry>) -> Result<(), StoreError> {
    let found = AuditAnchor::of(tail);
    let (entries, head) = match audit_figure(reader)? {
        StoreFigure::Anchor(a) => (a.entries, Some(a.head)),
        StoreFigure::CountOnly { entries } => (entries, None),
    };
    if entries != found.entries || head.is_some_and(|h| h != found.head) {
        tracing::error!(
            recorded_entries = entries,
            found_entries = found.entries,
            "the audit trail does not end where the store recorded it: run `mzd audit verify`"
        );
    }
    Ok(())
}

/// What the store records about its own trail: its anchor, else the counters' entry count.
pub(crate) fn audit_figure(reader: &crate::store::StoreReader) -> Result<StoreFigure, StoreError> {
    if let Some(anchor) = reader.get::<AuditAnchor>(&audit_anchor_key())? {
        return Ok(StoreFigure::Anchor(anchor));
    }
    let counters: Counters = reader.get(keys::COUNTERS)?.unwrap_or_default();
    Ok(StoreFigure::CountOnly { entries: counters.next_audit })
}

/// Every audit entry, in order.
pub(crate) fn audit_entries(reader: &crate::store::StoreReader) -> Result<Vec<AuditEntry>, StoreError> {
    let mut all = Vec::new();
    for item in reader.scan_raw(keys::AUDIT_PREFIX) {
        let (key, bytes) = item?;
        all.extend(decode_audit_chunk(&key, &bytes)?);
    }
    Ok(all)
}

/// Lower-case hex of an ID hash, as used in entity keys.
pub(crate) fn hash_key(h: &IdHash) -> String {
    h.0.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::case::{Actor, CaseId, OpenCase};

    fn case(registry: &Registry, seq: u32, summary: &str) -> Case {
        let input = OpenCase { street: "ST-01".into(), summary: summary.into(), ..OpenCase::default() };
        Case::open(
            CaseId::new(2026, seq),
            input,
            &Actor::new("officer", mz_shared::registry::Role::Officer),
            0,
            registry,
        )
        .expect("a valid case")
    }

    #[test]
    fn case_numbers_round_trip() {
        for (year, seq) in [(2026, 1), (1999, 999_999), (2100, 64)] {
            let id = CaseId::new(year, seq);
            assert_eq!(CaseNo::of(&id).map(CaseNo::id), Some(id));
        }
        assert!(CaseNo::of(&CaseId::new(2026, 1)) < CaseNo::of(&CaseId::new(2026, 2)));
    }

    #[test]
    fn cases_go_into_blocks_and_old_per_case_keys_move_when_changed() {
        let registry = Registry::demo();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // A store from before blocks: cases 1 and 70 one per key.
        let mut batch = crate::store::Batch::default();
        for seq in [1, 70] {
            let c = case(&registry, seq, "old");
            batch.insert(keys::state("case", c.id.as_str()), encode(&c));
        }
        store.commit(batch).unwrap();

        let mut state = State::load(&store, &registry).unwrap();
        assert_eq!(state.case_index.open_by_urgency.len(), 2);
        let old = state.cases.get(CaseId::new(2026, 70).as_str()).expect("old case readable");
        let mut changed = old.clone();
        changed.summary = "changed".into();
        state.put_case(Some(&old), changed, &registry.limits);
        for seq in (2..=130).filter(|s| *s != 70) {
            state.put_case(None, case(&registry, seq, "new"), &registry.limits);
        }
        let mut batch = crate::store::Batch::default();
        state.write_into(&mut batch);
        // While the batch is committed, the changed blocks are read from memory.
        assert_eq!(state.cases.get(CaseId::new(2026, 70).as_str()).unwrap().summary, "changed");
        assert_eq!(state.cases.get(CaseId::new(2026, 130).as_str()).unwrap().summary, "new");
        store.commit(batch).unwrap();
        state.committed();
        assert_eq!(state.cases.get(CaseId::new(2026, 130).as_str()).unwrap().summary, "new", "now from the store");

        let reader = store.reader();
        let all: Vec<Case> = scan_cases(&reader).collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 130, "every case once");
        let ids: Vec<u32> = all.iter().filter_map(|c| c.id.seq()).collect();
        let want: Vec<u32> = (2..=130).chain([1]).collect();
        assert_eq!(ids, want, "blocks first, in number order, then case 1 still kept old-style");
        assert!(reader.get_raw(&keys::state("case", CaseId::new(2026, 70).as_str())).unwrap().is_none());
        assert!(reader.get_raw(&keys::state("case", CaseId::new(2026, 1).as_str())).unwrap().is_some());
        assert_eq!(read_case(&reader, CaseId::new(2026, 70).as_str()).unwrap().unwrap().summary, "changed");
        assert_eq!(reader.scan_raw(keys::CASE_BLOCK_PREFIX).count(), 3, "blocks 0, 1 and 2");

        let again = State::load(&store, &registry).unwrap();
        assert_eq!(again.case_index.open_by_urgency.len(), 130);
        assert_eq!(again.cases.get(CaseId::new(2026, 129).as_str()).map(|c| c.summary), Some("new".into()));
    }
}
