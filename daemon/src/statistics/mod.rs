//! Period statistics (统计报表, SPEC §8): the per-day figures the engine keeps with every commit,
//! reports built from them, and the report files written after each day and month ends.
//!
//! [`Statistics`] holds every day's [`DayFigures`] in memory (a few hundred bytes a day) and
//! mirrors changed days to the store under their own key prefix (`sstat_day/YYYY-MM-DD`), in the
//! batch of the commit that changed them ([`crate::state::State::write_into`]). A report merges
//! at most 31 days; the midnight census (`occupied_at_end`, `bed_days`) walks back from the
//! stations' current occupancy over the days' changes. Nothing scans records.
//!
//! Invariants: a day's figures change only through the rules and actions that change the
//! records and cases they count, in the same commit. [`StatsMeta`] (also committed with them)
//! says which periods already have files and which of those a later change made stale, so a
//! `kill -9` between a commit and the file write still rewrites them ([`files`]). The files are
//! written by a thread of their own; while a round of them is in flight ([`InFlight`]), a change
//! to one of its periods keeps that period stale after the round is reported written.

pub mod files;

use crate::store::{encode, keys, Store, StoreError};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::case::Case;
use mz_shared::registry::Registry;
use mz_shared::statistics::{self as stats, DayFigures, Period, Report, ReportInput};
use mz_shared::task::StationTask;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The statistics' clock: now, or the instant in `MZD_STATISTICS_NOW` (RFC 3339), which tests
/// set to move the report periods across midnight without waiting for one. Only which periods
/// have ended and the census's "now" follow it; every other clock of the daemon stays real.
pub fn clock() -> Timestamp {
    static FIXED: std::sync::OnceLock<Option<Timestamp>> = std::sync::OnceLock::new();
    let fixed = FIXED.get_or_init(|| std::env::var("MZD_STATISTICS_NOW").ok().and_then(|v| v.parse().ok()));
    fixed.unwrap_or_else(Timestamp::now)
}

/// Store table (under [`keys::state`]) of the day figures, one key per day.
const DAY_TABLE: &str = "stat_day";
/// Store key of [`StatsMeta`].
fn meta_key() -> Vec<u8> {
    keys::state("stat_meta", "meta")
}

/// Which report files exist and which are stale (committed with the figures).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsMeta {
    /// The first day with any counted event: files are written back to it.
    pub first_day: Option<Date>,
    /// Days whose files were written: a contiguous range.
    pub days_done: Option<(Date, Date)>,
    /// Months (their first days) whose files were written: a contiguous range.
    pub months_done: Option<(Date, Date)>,
    /// Periods with files that a later change made stale: rewritten soon.
    pub dirty: BTreeSet<Period>,
}

impl StatsMeta {
    fn has_files(&self, p: Period) -> bool {
        let range = match p {
            Period::Day(_) => self.days_done,
            Period::Month(_) => self.months_done,
        };
        range.is_some_and(|(a, b)| (a..=b).contains(&p.from()))
    }
}

/// What a report needs of the live figures: each station's occupancy now and the due times of
/// the open station tasks (the engine builds it from its state).
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Each station's occupancy now.
    pub occupancy: BTreeMap<String, i64>,
    /// The due times of the open station tasks.
    pub open_task_due_ms: Vec<i64>,
    /// When given (the city, from what the district published), the open tasks past due by
    /// local due day, used instead of `open_task_due_ms`.
    pub overdue_by_day: Option<BTreeMap<Date, u64>>,
}

/// A round of report files handed to the writer thread and not reported back yet.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    /// The round's number ([`files::ReportWriter::hand_over`]).
    pub round: u64,
    /// Its periods.
    pub periods: BTreeSet<Period>,
    /// Those of them that changed after their report was built: still stale once written.
    pub changed: BTreeSet<Period>,
}

/// The maintained day figures.
pub struct Statistics {
    days: BTreeMap<Date, DayFigures>,
    meta: StatsMeta,
    /// Days changed since the last commit, with whether a station's occupancy changed.
    touched: BTreeMap<Date, bool>,
    /// The days the last [`Statistics::write_into`] wrote (what the outbox publishes).
    written: Vec<Date>,
    meta_dirty: bool,
    /// The round of report files being written, if any (never stored: a restart writes again
    /// whatever the committed meta does not record as written).
    in_flight: Option<InFlight>,
    /// The registry's zone: days are local days.
    pub tz: TimeZone,
}

impl Statistics {
    pub fn new(tz: TimeZone) -> Statistics {
        Statistics {
            days: BTreeMap::new(),
            meta: StatsMeta::default(),
            touched: BTreeMap::new(),
            written: Vec::new(),
            meta_dirty: false,
            in_flight: None,
            tz,
        }
    }

    pub fn load(store: &Store, registry: &Registry) -> Result<Statistics, StoreError> {
        let mut s = Statistics::new(registry.time_zone());
        let prefix = keys::state_prefix(DAY_TABLE);
        for item in store.scan::<DayFigures>(&prefix) {
            let (k, v) = item?;
            if let Ok(day) = String::from_utf8_lossy(&k[prefix.len()..]).parse::<Date>() {
                s.days.insert(day, v);
            }
        }
        s.meta = store.get(&meta_key())?.unwrap_or_default();
        Ok(s)
    }

    /// The local day of a Unix-ms instant.
    pub fn day_of(&self, ms: i64) -> Date {
        // Through the zone's offset at that instant: no zoned time made, no zone cloned.
        self.tz.to_datetime(Timestamp::from_millisecond(ms).unwrap_or_default()).date()
    }

    /// The figures of `day`, to change (written at the next commit).
    pub fn day_mut(&mut self, day: Date, occupancy_changes: bool) -> &mut DayFigures {
        let t = self.touched.entry(day).or_default();
        *t |= occupancy_changes;
        if self.meta.first_day.is_none_or(|f| day < f) {
            self.meta.first_day = Some(day);
            self.meta_dirty = true;
        }
        self.days.entry(day).or_default()
    }

    /// The figures of `day`, to change; `date` as the rules write it (`YYYY-MM-DD`).
    pub fn day_str_mut(&mut self, date: &str, occupancy_changes: bool) -> Option<&mut DayFigures> {
        let day = date.parse::<Date>().ok()?;
        Some(self.day_mut(day, occupancy_changes))
    }

    /// A case changed (`old` is `None` for a new case): counted on the days of what happened.
    pub fn case_change(&mut self, old: Option<&Case>, new: &Case) {
        for e in stats::case_events(old, new) {
            let day = self.day_of(e.at_ms());
            self.day_mut(day, false).case_event(&e);
        }
    }

    /// A task changed (`old` is `None` for a new task): counted on its due day.
    pub fn task_change(&mut self, old: Option<&StationTask>, new: &StationTask) {
        if let Some(old) = old {
            let day = self.day_of(old.due_at_ms);
            self.day_mut(day, false).task(old, -1);
        }
        let day = self.day_of(new.due_at_ms);
        self.day_mut(day, false).task(new, 1);
    }

    pub fn meta(&self) -> &StatsMeta {
        &self.meta
    }

    pub fn meta_mut(&mut self) -> &mut StatsMeta {
        self.meta_dirty = true;
        &mut self.meta
    }

    pub fn is_dirty(&self) -> bool {
        self.meta_dirty || !self.touched.is_empty()
    }

    /// True while a round of report files is with the writer.
    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Forgets the round in flight (its writer died): its periods are still due, so the next
    /// round hands them over again.
    pub fn abandon_in_flight(&mut self) {
        self.in_flight = None;
    }

    /// Notes the round `round` of `periods` as handed to the writer.
    pub fn handed_over(&mut self, round: u64, periods: BTreeSet<Period>) {
        self.in_flight = Some(InFlight { round, periods, changed: BTreeSet::new() });
    }

    /// Records what the writer reported for a round: each written period is done (or stays
    /// stale if it changed meanwhile); the record goes into the next commit. A report of a
    /// round not in flight (from before a reload of the figures) is ignored.
    pub fn written(&mut self, done: &files::RoundDone) {
        let Some(flight) = self.in_flight.take_if(|f| f.round == done.round) else { return };
        for p in &done.written {
            files::mark_done(self, *p);
            if flight.changed.contains(p) {
                self.meta_mut().dirty.insert(*p);
            }
        }
    }

    /// The periods with files that the changes in `touched` made stale: the changed days and
    /// their months, and, where a station's occupancy changed, every later day with files
    /// (their midnight census moved).
    fn mark_stale(&mut self, touched: &BTreeMap<Date, bool>) {
        let mut stale: BTreeSet<Period> = BTreeSet::new();
        let in_flight_last = self.in_flight.as_ref().and_then(|f| f.periods.iter().map(|p| p.to()).max());
        let through = self.meta.days_done.map(|(_, b)| b).max(in_flight_last);
        for (day, occupancy) in touched {
            stale.insert(Period::Day(*day));
            stale.insert(Period::month_of(*day));
            if let (true, Some(through)) = (*occupancy, through) {
                let later = std::iter::successors(day.tomorrow().ok(), |d| d.tomorrow().ok());
                for d in later.take_while(|d| *d <= through) {
                    stale.insert(Period::Day(d));
                    stale.insert(Period::month_of(d));
                }
            }
        }
        if let Some(flight) = &mut self.in_flight {
            flight.changed.extend(stale.intersection(&flight.periods).copied());
        }
        let meta = &mut self.meta;
        let before = meta.dirty.len();
        let fresh: Vec<Period> = stale.into_iter().filter(|p| meta.has_files(*p)).collect();
        meta.dirty.extend(fresh);
        self.meta_dirty |= self.meta.dirty.len() != before;
    }

    /// Writes the days changed since the last commit, and the meta with the periods they made
    /// stale, into the commit's batch.
    pub fn write_into(&mut self, batch: &mut crate::store::Batch) {
        let touched = std::mem::take(&mut self.touched);
        self.mark_stale(&touched);
        self.written = touched.keys().copied().collect();
        for day in touched.keys() {
            let key = keys::state(DAY_TABLE, &day.to_string());
            match self.days.get(day).filter(|f| !f.is_empty()) {
                Some(f) => batch.insert(key, encode(f)),
                None => {
                    self.days.remove(day);
                    batch.remove(key);
                }
            }
        }
        if std::mem::take(&mut self.meta_dirty) {
            batch.insert(meta_key(), encode(&self.meta));
        }
    }

    /// The report of `period` as of `now`: the period's days merged, the census, the tasks
    /// still open past their due time.
    pub fn report(&self, live: &Live, registry: &Registry, period: Period, now: Timestamp) -> Report {
        let zoned = now.to_zoned(self.tz.clone());
        let today = zoned.date();
        let mut merged = DayFigures::default();
        for (_, f) in self.days.range(period.from()..=period.to()) {
            merged.add(f);
        }
        let last = period.to().min(today);
        let mut later: BTreeMap<String, i64> = BTreeMap::new();
        let after = last.tomorrow().unwrap_or(last);
        for (_, f) in self.days.range(after..) {
            for (id, s) in &f.stations {
                *later.entry(id.clone()).or_default() += s.net();
            }
        }
        let day_net = |d: Date| -> BTreeMap<String, i64> {
            self.days
                .get(&d)
                .map(|f| f.stations.iter().map(|(id, s)| (id.clone(), s.net())).collect())
                .unwrap_or_default()
        };
        let census = stats::census(period, today, &live.occupancy, &later, &day_net);
        let overdue = match &live.overdue_by_day {
            Some(by_day) => by_day.clone(),
            None => self.overdue_by_day(live.open_task_due_ms.iter().copied(), now.as_millisecond()),
        };
        let open_overdue = overdue.range(period.from()..=period.to()).map(|(_, n)| n).sum();
        let occupied: i64 = census.values().map(|c| c.occupied_at_end as i64).sum();
        let daily = stats::report::daily(period, today, occupied, &|d: Date| self.days.get(&d).cloned());
        let input = ReportInput {
            daily,
            period,
            registry,
            merged: &merged,
            census: &census,
            open_overdue,
            generated_at: zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            complete: period.has_ended(today),
        };
        stats::build(&input)
    }

    /// Open tasks past their due time at `now_ms`, by local due day.
    pub fn overdue_by_day(&self, due_ms: impl Iterator<Item = i64>, now_ms: i64) -> BTreeMap<Date, u64> {
        let mut out = BTreeMap::new();
        for due in due_ms.filter(|due| *due < now_ms) {
            *out.entry(self.day_of(due)).or_default() += 1;
        }
        out
    }

    /// The days the last commit wrote, as they stand now (an empty record for a day that
    /// counts nothing any more).
    pub fn written_days(&self) -> BTreeMap<Date, DayFigures> {
        self.written.iter().map(|d| (*d, self.days.get(d).cloned().unwrap_or_default())).collect()
    }

    /// Every stored day, oldest first.
    pub fn all_days(&self) -> impl Iterator<Item = (&Date, &DayFigures)> {
        self.days.iter()
    }

    /// Sets a day's figures as another daemon published them (the city's copy of a
    /// district's statistics); an empty record removes the day.
    pub fn replace_day(&mut self, day: Date, figures: DayFigures) {
        if figures.is_empty() {
            self.days.remove(&day);
        } else {
            self.days.insert(day, figures);
        }
    }

    /// The local date of `now`.
    pub fn today(&self, now: Timestamp) -> Date {
        now.to_zoned(self.tz.clone()).date()
    }
}
