//! Time limits (时限): when a case is due to be accepted, answered and closed
//! ([`Deadlines`]), and which of those are overdue ([`Overdue`]).

use super::{department_words, Case, CaseState};
use crate::reason::Reason;
use crate::registry::{Limits, Registry};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A case's time limits, as Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// `opened_at + accept_within`.
    pub accept_by_ms: i64,
    /// `opened_at + close_within`.
    pub close_by_ms: i64,
    /// The earliest `paid_at + paperwork_within` among payments still lacking paperwork.
    pub paperwork_due_ms: Option<i64>,
    /// The earliest reply due of a dispatched department that has not replied.
    pub reply_due_ms: Option<i64>,
}

/// Which time limit a case has overrun.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overdue {
    /// Still new after `accept_within`.
    Accept,
    /// Not closed (nor referred) after `close_within`.
    Close,
    /// A payment's paperwork not filed within `paperwork_within`.
    Paperwork,
    /// A dispatched department has not replied within `reply_within` ([`overdue_departments`]
    /// names them).
    Reply,
}

impl Overdue {
    /// The overdue item in words (Chinese and English), as the case desk shows it.
    pub fn reason(self) -> Reason {
        match self {
            Overdue::Accept => Reason::new("超时未受理", "not accepted in time"),
            Overdue::Close => Reason::new("超时未办结", "not closed in time"),
            Overdue::Paperwork => Reason::new("事后补充说明逾期", "paperwork overdue"),
            Overdue::Reply => Reason::new("部门逾期未答复", "a department's reply is overdue"),
        }
    }
}

pub(super) fn plus(ms: i64, d: Duration) -> i64 {
    ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The case's time limits under the registry's `limits`.
pub fn deadlines(case: &Case, limits: &Limits) -> Deadlines {
    Deadlines {
        accept_by_ms: plus(case.opened_at_ms, limits.accept_within),
        close_by_ms: plus(case.opened_at_ms, limits.close_within),
        paperwork_due_ms: case.payments_missing_paperwork().map(|p| plus(p.at_ms, limits.paperwork_within)).min(),
        reply_due_ms: case.ext.dispatches.iter().filter(|d| d.replied_at_ms.is_none()).map(|d| d.reply_due_ms).min(),
    }
}

/// The limits the case has overrun at `now_ms` (a limit is overrun once `now_ms` is past it).
/// Closed and referred cases are never overdue.
pub fn overdue_items(case: &Case, limits: &Limits, now_ms: i64) -> Vec<Overdue> {
    if case.is_terminal() {
        return Vec::new();
    }
    let d = deadlines(case, limits);
    let mut out = Vec::new();
    if case.state == CaseState::New && now_ms > d.accept_by_ms {
        out.push(Overdue::Accept);
    }
    if now_ms > d.close_by_ms {
        out.push(Overdue::Close);
    }
    if d.paperwork_due_ms.is_some_and(|due| now_ms > due) {
        out.push(Overdue::Paperwork);
    }
    if d.reply_due_ms.is_some_and(|due| now_ms > due) {
        out.push(Overdue::Reply);
    }
    out
}

/// The departments of an open case whose reply is overdue at `now_ms`, in dispatch order.
pub fn overdue_departments(case: &Case, now_ms: i64) -> Vec<&str> {
    if case.is_terminal() {
        return Vec::new();
    }
    case.ext.dispatches.iter().filter(|d| d.overdue(now_ms)).map(|d| d.id.as_str()).collect()
}

/// What is overdue, in words, each reply naming its department: `部门逾期未答复：公安（police）`.
pub fn overdue_words(case: &Case, registry: &Registry, now_ms: i64) -> Vec<Reason> {
    let mut out = Vec::new();
    for item in overdue_items(case, &registry.limits, now_ms) {
        if item != Overdue::Reply {
            out.push(item.reason());
            continue;
        }
        for d in overdue_departments(case, now_ms) {
            let (zh, en) = department_words(registry, d);
            out.push(Reason::new(format!("{zh}逾期未答复"), format!("{en} has not replied in time")));
        }
    }
    out
}

/// Whether the case is overdue at `now_ms`: not accepted in time, not closed in time, a
/// payment's paperwork overdue, or a department's reply overdue.
pub fn overdue(case: &Case, limits: &Limits, now_ms: i64) -> bool {
    !overdue_items(case, limits, now_ms).is_empty()
}
