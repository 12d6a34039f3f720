//! Typed answers: a case and a station task as the daemon shows them (`mzd case show --json`,
//! `mzd case list --json`, `mzd export cases`, `mzd task list --json`, the console).
//!
//! Invariants: the field order is the order the JSON prints in (the workspace's `serde_json`
//! keeps insertion order), every field is always present (`null` when empty) except `payments`
//! and `history`, which only a case shown with its history has; times are RFC 3339 strings with
//! the registry zone's offset (SPEC §7), `null` when a time cannot be shown. ID numbers are only
//! ever their masked form; names are masked for viewers by the daemon before it builds a view.

use crate::case::{CaseState, Source, Urgency};
use crate::reason::Reason;
use crate::task::{TaskKind, TaskState};
use serde::{Deserialize, Serialize};

/// A 救急难 case as officers see it: its facts, clocks, departments and (with history) payments
/// and history. SPEC §1 (`mzd case list/show --json`) names the keys scripts may rely on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: String,
    /// Changes with every action: the version to act on (`CaseAct::expected_version`).
    pub version: u64,
    pub state: CaseState,
    pub street: String,
    pub street_name: Option<String>,
    pub summary: String,
    /// Masked for viewers.
    pub name: Option<String>,
    /// Always masked.
    pub id_number: Option<String>,
    pub station: Option<String>,
    pub source: Source,
    pub urgency: Urgency,
    pub opened_at: Option<String>,
    pub opened_by: String,
    pub accepted_at: Option<String>,
    pub departments: Vec<DepartmentView>,
    /// The case opened in the receiving street by a referral.
    pub referred_to: Option<String>,
    pub referred_to_street: Option<String>,
    pub referred_from: Option<String>,
    pub community: Option<String>,
    pub community_name: Option<String>,
    pub summary_en: Option<String>,
    pub person_ref: Option<String>,
    pub paid_fen: i64,
    pub case_cap_fen: Option<i64>,
    /// A payment request above the cap awaiting a supervisor.
    pub pending_fen: Option<i64>,
    pub overdue: bool,
    /// `accept`, `close`, `paperwork`, `reply:DEPARTMENT`.
    pub overdue_items: Vec<String>,
    pub overdue_reasons: Vec<Reason>,
    pub accept_by: Option<String>,
    pub close_by: Option<String>,
    pub paperwork_due: Option<String>,
    pub closed_at: Option<String>,
    pub outcome: Option<String>,
    pub source_record: Option<String>,
    /// Only when shown with its history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<PaymentView>>,
    /// Only when shown with its history; starts with the `open` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

/// A department a case was dispatched to, with its reply clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentView {
    pub id: String,
    pub name: Option<String>,
    pub dispatched_at: Option<String>,
    pub reply_due: Option<String>,
    pub replied_at: Option<String>,
    pub reply: Option<String>,
    pub overdue: bool,
}

/// A payment from the street's reserve fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    pub amount_fen: i64,
    pub at: Option<String>,
    pub by: String,
    pub approved_by: Option<String>,
    pub paperwork: Option<String>,
}

/// One entry of a case's history: who did what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    pub at: Option<String>,
    pub user: String,
    pub action: String,
    pub detail: String,
    pub detail_en: String,
}

impl CaseView {
    /// The payment just made, as words: paid, or a request pending approval (SPEC §1: "what an
    /// action did is said plainly").
    pub fn payment_words(&self) -> String {
        use crate::registry::Fen;
        let last = self.history.as_ref().and_then(|h| h.last());
        if let Some(pending) = self.pending_fen.filter(|_| last.is_some_and(|h| h.action == "pay_request")) {
            let cap = Fen(self.case_cap_fen.unwrap_or_default());
            return format!(
                "request pending approval {} (above the cap {cap}), nothing paid yet / 已提交一事一议审批，尚未支付",
                Fen(pending)
            );
        }
        let paid = self.payments.as_ref().and_then(|p| p.last()).map_or(0, |p| p.amount_fen);
        format!("paid {} / 已支付", Fen(paid))
    }
}

/// A station task (在站事项, SPEC §7) as `mzd task list --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    /// Printable: `STATION/PERSON_REF/KIND`.
    pub id: String,
    pub kind: TaskKind,
    pub kind_zh: String,
    pub station: String,
    pub station_name: Option<String>,
    pub person_ref: String,
    pub record_id: String,
    pub created_at: Option<String>,
    pub due_at: Option<String>,
    pub state: TaskState,
    pub overdue: bool,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    pub voided_at: Option<String>,
    pub note: Option<String>,
}

/// A case after an action on it, with the action's warnings (e.g. the same person aided twice
/// within 30 days): the answer to `CaseOpen` and `CaseAct`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReply {
    pub case: CaseView,
    pub warnings: Vec<Reason>,
}
