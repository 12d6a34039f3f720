//! The page of the case queue the console holds (案件分页): the daemon keeps the queue in order
//! and answers `Request::CasePage`; the console holds one page of [`PAGE`] cases around the
//! selection and says which page it needs next. Pure: no socket (the request goes out as an
//! [`Ask`] that `main` sends).
//!
//! Invariants: at most one ask is in flight; a page is asked again when it is of the other
//! view (the ended-cases toggle), when the daemon's count of case changes moved past the one it
//! was read at, after a reconnection, or when the selection comes within [`MARGIN`] cases of a
//! page edge that is not an end of the queue. A new page is centred on the selection.

use mz_shared::case::{AidRecord, Case};
use mz_shared::dashboard::{CasePage, CaseQueueView};

/// Cases asked for at a time: a few screens around the selection.
pub const PAGE: u32 = 120;

/// A page is asked again when the selection comes this close to one of its inner edges.
pub const MARGIN: u64 = 30;

/// A page to ask the daemon for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// Open cases, or all.
    pub view: CaseQueueView,
    /// The queue position of the first case wanted.
    pub offset: u64,
    /// How many cases.
    pub limit: u32,
}

/// The held page and what is asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseQueue {
    /// The last page the daemon sent.
    pub page: Option<CasePage>,
    /// The page asked for and not answered yet.
    pub asked: Option<Ask>,
    /// The queue position the selection moved to beyond the held page: selected when the page
    /// holding it arrives.
    pub target: Option<u64>,
    /// The held page may be out of date (a reconnection): ask again.
    pub stale: bool,
    /// Why the last ask failed, until one succeeds.
    pub error: Option<String>,
}

/// The view the ended-cases toggle asks for.
pub fn view(show_ended: bool) -> CaseQueueView {
    if show_ended {
        CaseQueueView::All
    } else {
        CaseQueueView::Open
    }
}

impl CaseQueue {
    /// The held page's cases, in queue order (none before the first page).
    pub fn cases(&self) -> &[Case] {
        self.page.as_ref().map_or(&[], |p| p.cases.as_slice())
    }

    /// The queue position of the held page's first case.
    pub fn offset(&self) -> u64 {
        self.page.as_ref().map_or(0, |p| p.offset)
    }

    /// Cases in the held page's view, as the daemon counted them.
    pub fn total(&self) -> Option<u64> {
        self.page.as_ref().map(|p| p.total)
    }

    /// Payments on any case to the held page's people, as the daemon sent them.
    pub fn aid(&self) -> &[AidRecord] {
        self.page.as_ref().map_or(&[], |p| p.aid.as_slice())
    }

    /// Whether queue position `pos` lies in the held page.
    pub fn holds(&self, pos: u64) -> bool {
        self.page.as_ref().is_some_and(|p| pos >= p.offset && pos < p.offset + p.cases.len() as u64)
    }

    /// The page to ask for so that position `cursor` of `view` is shown from a page read at
    /// `changes` (the dashboard's count; `None` before the first dashboard), or `None` when
    /// the held page does, or an ask is already in flight. The ask is then recorded.
    pub fn want(&mut self, view: CaseQueueView, cursor: u64, changes: Option<u64>) -> Option<Ask> {
        if self.asked.is_some() {
            return None;
        }
        let fresh = match &self.page {
            None => false,
            Some(p) => {
                let end = p.offset + p.cases.len() as u64;
                let near_top = p.offset > 0 && cursor < p.offset + MARGIN;
                let near_end = end < p.total && cursor + MARGIN >= end;
                p.view == view
                    && !self.stale
                    && changes.is_none_or(|c| c == p.changes)
                    && (self.holds(cursor) || p.total == 0)
                    && !near_top
                    && !near_end
            }
        };
        if fresh {
            return None;
        }
        let offset = cursor.saturating_sub(u64::from(PAGE / 2));
        let ask = Ask { view, offset, limit: PAGE };
        self.asked = Some(ask);
        Some(ask)
    }

    /// The daemon's answer to the ask in flight.
    pub fn received(&mut self, result: Result<CasePage, String>) {
        self.asked = None;
        match result {
            Ok(page) => {
                self.page = Some(page);
                self.stale = false;
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// A case of the held page by id.
    pub fn find(&self, id: &str) -> Option<&Case> {
        self.cases().iter().find(|c| c.id.as_str() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(view: CaseQueueView, offset: u64, len: u64, total: u64, changes: u64) -> CasePage {
        let base = crate::views::cases::tests::case(1);
        let cases = (offset..offset + len)
            .map(|i| Case { id: mz_shared::case::CaseId::new(2026, i as u32 + 1), ..base.clone() })
            .collect();
        CasePage { view, offset, total, changes, cases, aid: Vec::new() }
    }

    #[test]
    fn asks_once_then_again_when_the_view_the_count_or_the_selection_moves() {
        let open = CaseQueueView::Open;
        let mut q = CaseQueue::default();
        assert_eq!(q.want(open, 0, None), Some(Ask { view: open, offset: 0, limit: PAGE }));
        assert_eq!(q.want(open, 0, None), None, "one ask in flight");
        q.received(Ok(page(open, 0, u64::from(PAGE), 1_000, 7)));
        assert_eq!(q.want(open, 10, Some(7)), None, "the page holds it");
        assert_eq!(q.want(open, 10, Some(8)).map(|a| a.offset), Some(0), "the count moved");
        q.received(Ok(page(open, 0, u64::from(PAGE), 1_000, 8)));
        assert_eq!(q.want(CaseQueueView::All, 10, Some(8)).map(|a| a.view), Some(CaseQueueView::All));
        q.received(Err("down".into()));
        assert_eq!(q.error.as_deref(), Some("down"));
        assert!(q.page.is_some(), "a failed ask keeps the page held");
        // Near the inner edge of the page: the next page is centred on the selection.
        let near = u64::from(PAGE) - MARGIN;
        assert_eq!(q.want(open, near, Some(8)).map(|a| a.offset), Some(near - u64::from(PAGE / 2)));
        q.received(Ok(page(open, 940, 60, 1_000, 8)));
        assert_eq!(q.want(open, 999, Some(8)), None, "the end of the queue is no edge");
        assert_eq!(q.want(open, 5, Some(8)).map(|a| a.offset), Some(0), "the selection left the page");
    }

    #[test]
    fn an_empty_queue_is_asked_once() {
        let mut q = CaseQueue::default();
        assert!(q.want(CaseQueueView::Open, 0, Some(1)).is_some());
        q.received(Ok(page(CaseQueueView::Open, 0, 0, 0, 1)));
        assert_eq!(q.want(CaseQueueView::Open, 0, Some(1)), None);
        q.stale = true;
        assert!(q.want(CaseQueueView::Open, 0, Some(1)).is_some(), "after a reconnection");
    }
}
