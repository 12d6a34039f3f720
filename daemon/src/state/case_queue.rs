//! The case queue (案件队列): the open cases in the order the console's case desk lists them —
//! high urgency first, then the nearest running deadline, then the case number — so that a
//! page of the queue (`Request::CasePage`, the dashboard's watch list) is read without scanning
//! or sorting the cases.
//!
//! Invariants: [`CaseQueue`] holds exactly one fixed-size entry (17 bytes of key, no strings)
//! per open case, kept by [`CaseIndex`]'s `add` and `remove` with every change of a case, from
//! the same keys as the overdue count (`CaseIndex::keys`: the earliest of the running clocks).
//! The order does not depend on the time: a deadline is a fixed instant, so an overdue case
//! simply sorts before those still running. Ended (closed, referred) cases come from
//! [`CaseIndex::ended`], latest ended first. A page costs `offset + limit` steps.

use super::{CaseIndex, CaseNo};
use mz_shared::dashboard::CaseQueueView;
use std::collections::BTreeSet;

/// (not high urgency, earliest running deadline, number): an open case's place in the queue.
pub(crate) type QueueKey = (bool, i64, CaseNo);

/// Open cases in queue order, and how often the whole index was rebuilt (a registry change of
/// the time limits reorders it without changing a case).
#[derive(Debug, Default)]
pub(crate) struct CaseQueue {
    open: BTreeSet<QueueKey>,
    /// Rebuilds of the index since start-up (see [`CaseIndex::queue_changes`]).
    pub(super) rebuilt: u64,
}

impl CaseQueue {
    pub(super) fn insert(&mut self, key: QueueKey) {
        self.open.insert(key);
    }

    pub(super) fn remove(&mut self, key: &QueueKey) {
        self.open.remove(key);
    }

    /// Open cases in the queue.
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }
}

impl CaseIndex {
    /// The numbers of the cases at queue positions `offset..offset + limit` of `view`, in queue
    /// order, and how many cases the view holds in all.
    pub(crate) fn queue_page(&self, view: CaseQueueView, offset: u64, limit: usize) -> (Vec<CaseNo>, u64) {
        let open = self.queue.open.iter().map(|(_, _, no)| *no);
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        match view {
            CaseQueueView::Open => (open.skip(skip).take(limit).collect(), self.queue.len() as u64),
            CaseQueueView::All => {
                let ended = self.ended.iter().rev().map(|(_, no)| *no);
                let total = (self.queue.len() + self.ended.len()) as u64;
                (open.chain(ended).skip(skip).take(limit).collect(), total)
            }
        }
    }

    /// A count that moves whenever the queue's order may have changed: with every change of a
    /// case (`cases_changed`, the case table's count) and every rebuild of the index.
    pub(crate) fn queue_changes(&self, cases_changed: u64) -> u64 {
        cases_changed.wrapping_add(self.queue.rebuilt)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CaseIndex, CaseNo};
    use mz_shared::case::{Actor, Case, CaseId, CaseState, OpenCase, Urgency};
    use mz_shared::dashboard::CaseQueueView;
    use mz_shared::registry::{Limits, Registry, Role};
    use proptest::prelude::*;

    const T0: i64 = 1_760_000_000_000;
    const MIN: i64 = 60_000;

    /// Case `n`, opened `age` minutes before `T0`, at `stage`: 0 new, 1 accepted a minute
    /// after opening, 2 closed two minutes after opening.
    fn case(n: u32, high: bool, age: i64, stage: u8) -> Case {
        let urgency = if high { Urgency::High } else { Urgency::Normal };
        let input = OpenCase { street: "ST-01".into(), summary: "test".into(), urgency, ..OpenCase::default() };
        let at = T0 - age * MIN;
        let officer = Actor::new("duty1", Role::Officer);
        static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        let registry = REGISTRY.get_or_init(Registry::demo);
        let mut c = Case::open(CaseId::new(2026, n), input, &officer, at, registry).expect("a valid case");
        if stage >= 1 {
            c.state = CaseState::Accepted;
            c.accepted_at_ms = Some(at + MIN);
        }
        if stage >= 2 {
            c.state = CaseState::Closed;
            c.closed_at_ms = Some(at + 2 * MIN);
        }
        c
    }

    /// The queue by a plain sort of the cases, as the console used to sort them.
    fn sorted(cases: &[Case], limits: &Limits, view: CaseQueueView) -> Vec<CaseId> {
        let deadline = |c: &Case| {
            let d = mz_shared::case::deadlines(c, limits);
            let accept = (c.state == CaseState::New).then_some(d.accept_by_ms);
            [accept, Some(d.close_by_ms), d.paperwork_due_ms, d.reply_due_ms].into_iter().flatten().min()
        };
        let mut open: Vec<&Case> = cases.iter().filter(|c| !c.is_terminal()).collect();
        open.sort_by_key(|c| (std::cmp::Reverse(c.urgency), deadline(c), CaseNo::of(&c.id)));
        let mut ids: Vec<CaseId> = open.into_iter().map(|c| c.id.clone()).collect();
        if view == CaseQueueView::All {
            let mut ended: Vec<&Case> = cases.iter().filter(|c| c.is_terminal()).collect();
            ended.sort_by_key(|c| std::cmp::Reverse((c.closed_at_ms.unwrap_or(0), CaseNo::of(&c.id))));
            ids.extend(ended.into_iter().map(|c| c.id.clone()));
        }
        ids
    }

    fn pages(index: &CaseIndex, view: CaseQueueView, page: usize) -> (Vec<CaseId>, u64) {
        let (mut all, mut offset) = (Vec::new(), 0u64);
        loop {
            let (nos, total) = index.queue_page(view, offset, page);
            assert!(nos.len() <= page);
            offset += nos.len() as u64;
            all.extend(nos.into_iter().map(CaseNo::id));
            if offset >= total {
                return (all, total);
            }
        }
    }

    #[test]
    fn urgent_first_then_the_nearest_deadline_then_ended_latest_first() {
        let limits = Limits::default();
        let cases = [
            case(1, false, 200, 0), // new: its accept clock passed long ago
            case(2, true, 10, 0),   // high: first whatever its clock
            case(3, false, 5, 1),   // accepted: the close clock only, days away
            case(4, false, 1, 0),   // new, accept clock nearly whole
            case(5, false, 300, 2), // closed
            case(6, false, 100, 2), // closed later
        ];
        let mut index = CaseIndex::default();
        for c in &cases {
            index.add(c, &limits);
        }
        let ids = |v: Vec<CaseNo>| v.into_iter().map(|n| n.id().seq().unwrap_or(0)).collect::<Vec<_>>();
        assert_eq!(ids(index.queue_page(CaseQueueView::Open, 0, 10).0), [2, 1, 4, 3]);
        assert_eq!(index.queue_page(CaseQueueView::Open, 0, 10).1, 4);
        assert_eq!(ids(index.queue_page(CaseQueueView::All, 0, 10).0), [2, 1, 4, 3, 6, 5]);
        assert_eq!(ids(index.queue_page(CaseQueueView::All, 3, 2).0), [3, 6]);
        assert_eq!(index.queue_page(CaseQueueView::All, 9, 2), (Vec::new(), 6));
        // A case that changes moves: accepting case 1 leaves it the far close clock only.
        index.remove(&cases[0], &limits);
        index.add(&case(1, false, 200, 1), &limits);
        assert_eq!(ids(index.queue_page(CaseQueueView::Open, 0, 10).0), [2, 4, 1, 3]);
    }

    proptest! {
        /// Whatever the cases and their changes, paging the index gives the plain sort of the
        /// same cases, each once.
        #[test]
        fn pages_equal_a_plain_sort(
            specs in proptest::collection::vec((any::<bool>(), 0i64..5_000, 0u8..3), 0..120),
            changes in proptest::collection::vec((0usize..120, any::<bool>(), 0u8..3), 0..40),
            page in 1usize..40,
        ) {
            let limits = Limits::default();
            let mut cases: Vec<Case> =
                specs.iter().enumerate().map(|(i, (high, age, stage))| case(i as u32 + 1, *high, *age, *stage)).collect();
            let mut index = CaseIndex::default();
            for c in &cases {
                index.add(c, &limits);
            }
            for (i, high, stage) in changes {
                let Some(old) = cases.get(i).cloned() else { continue };
                let new = case(i as u32 + 1, high, (old.opened_at_ms - T0) / -MIN, stage);
                index.remove(&old, &limits);
                index.add(&new, &limits);
                cases[i] = new;
            }
            for view in [CaseQueueView::Open, CaseQueueView::All] {
                let want = sorted(&cases, &limits, view);
                let (got, total) = pages(&index, view, page);
                prop_assert_eq!(total, want.len() as u64);
                prop_assert_eq!(got, want);
            }
        }
    }
}
