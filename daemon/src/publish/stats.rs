//! The statistics part of each outbox entry, so that the city can build this district's §8
//! reports itself: the days the commit changed, the open tasks past due by due day and the
//! registry's report frame (each when it changed since the last entry), and once, every day
//! stored before entries carried statistics (the backfill).
//!
//! Invariants: what is sent is counts and the registry without user names
//! ([`report_frame`]); the city applies entries in `seq` order, so once it has caught up its
//! copy of the day figures equals this district's. "Changed since the last entry" is reckoned
//! from what durable commits carried: a failed commit takes back what it staged. The backfill
//! is done when key [`STATS_META`] exists; it is written in the batch of the entry that sends
//! the last backfilled day, at most [`BACKFILL_PER_ENTRY`] days per entry, oldest first.

use crate::state::State;
use crate::store::{Store, StoreError};
use jiff::civil::Date;
use mz_shared::registry::Registry;
use mz_shared::statistics::city::{report_frame, DistrictStats};
use std::collections::BTreeMap;

/// Written once every stored day has been sent.
pub const STATS_META: &[u8] = b"m/outbox_stats";
/// Backfilled days per entry at most (keeps a message well under the server's 1 MB limit).
const BACKFILL_PER_ENTRY: usize = 62;

/// What the entries sent so far (or the one being staged) said.
#[derive(Debug, Clone, Default)]
struct Sent {
    backfill_done: bool,
    /// The next day of the backfill (`None`: from the first).
    backfill_from: Option<Date>,
    overdue: Option<BTreeMap<Date, u64>>,
    frame: Option<Registry>,
}

/// The outbox's statistics feed.
#[derive(Debug, Default)]
pub struct StatsFeed {
    sent: Sent,
    staged: Option<Sent>,
}

impl StatsFeed {
    /// Reads whether the backfill was done.
    pub fn load(store: &Store) -> Result<StatsFeed, StoreError> {
        let backfill_done = store.reader().get_raw(STATS_META)?.is_some();
        Ok(StatsFeed { sent: Sent { backfill_done, ..Sent::default() }, staged: None })
    }

    /// True while stored days wait to be sent: the engine makes a commit for them.
    pub fn backfill_pending(&self) -> bool {
        !self.sent.backfill_done
    }

    /// The statistics of the entry being staged (`None` when nothing changed); writes the
    /// backfill's end into the batch when this entry completes it.
    pub fn stage(
        &mut self,
        state: &State,
        registry: &Registry,
        now_ms: i64,
        batch: &mut crate::store::Batch,
    ) -> Option<DistrictStats> {
        let mut next = self.sent.clone();
        let mut days = state.stats.written_days();
        if !next.backfill_done {
            let from = next.backfill_from;
            let mut rest = state.stats.all_days().filter(|(d, _)| from.is_none_or(|f| **d >= f));
            for (day, figures) in rest.by_ref().take(BACKFILL_PER_ENTRY) {
                days.entry(*day).or_insert_with(|| figures.clone());
            }
            match rest.next() {
                Some((day, _)) => next.backfill_from = Some(*day),
                None => {
                    next.backfill_done = true;
                    batch.insert(STATS_META, b"1".as_slice());
                }
            }
        }
        let due = state.tasks.values().filter(|t| t.is_open()).map(|t| t.due_at_ms);
        let overdue = state.stats.overdue_by_day(due, now_ms);
        let overdue = (next.overdue.as_ref() != Some(&overdue)).then_some(overdue);
        let frame = report_frame(registry);
        let frame = (next.frame.as_ref() != Some(&frame)).then_some(frame);
        next.overdue = overdue.clone().or(next.overdue);
        next.frame = frame.clone().or(next.frame);
        self.staged = Some(next);
        let stats = DistrictStats { days, overdue_open: overdue, frame };
        (!stats.is_empty()).then_some(stats)
    }

    /// The staged entry was committed.
    pub fn committed(&mut self) {
        if let Some(next) = self.staged.take() {
            self.sent = next;
        }
    }

    /// The staged entry was not written.
    pub fn aborted(&mut self) {
        self.staged = None;
    }
}
