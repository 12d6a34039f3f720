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
    /// The case number, e.g. `JJN-2026-000123`.
    pub id: String,
    /// Changes with every action: the version to act on (`CaseAct::expected_version`).
    pub version: u64,
    /// Where the case stands.
    pub state: CaseState,
    /// The registry id of the street handling it.
    pub street: String,
    /// That street's name, when the registry has it.
    pub street_name: Option<String>,
    /// What the person needs.
    pub summary: String,
    /// Masked for viewers.
    pub name: Option<String>,
    /// Always masked.
    pub id_number: Option<String>,
    /// The rescue station concerned (daemon-opened cases).
    pub station: Option<String>,
    /// How the case came in.
    pub source: Source,
    /// How urgent it is.
    pub urgency: Urgency,
    /// When it was opened (RFC 3339, the registry zone's offset).
    pub opened_at: Option<String>,
    /// User name of whoever opened it.
    pub opened_by: String,
    /// When it was accepted (RFC 3339).
    pub accepted_at: Option<String>,
    /// Each department it was dispatched to, in dispatch order.
    pub departments: Vec<DepartmentView>,
    /// The case opened in the receiving street by a referral.
    pub referred_to: Option<String>,
    /// The street it was referred to.
    pub referred_to_street: Option<String>,
    /// The case this one was referred from.
    pub referred_from: Option<String>,
    /// The community (社区/村) that reported it, by registry id.
    pub community: Option<String>,
    /// That community's name.
    pub community_name: Option<String>,
    /// The summary in English (daemon-opened cases).
    pub summary_en: Option<String>,
    /// The station's number for the person (受助人编号), daemon-opened cases.
    pub person_ref: Option<String>,
    /// Paid so far, in fen (pending requests not included).
    pub paid_fen: i64,
    /// Most that may be paid on the case without approval, in fen.
    pub case_cap_fen: Option<i64>,
    /// A payment request above the cap awaiting a supervisor.
    pub pending_fen: Option<i64>,
    /// Past one of its time limits now.
    pub overdue: bool,
    /// `accept`, `close`, `paperwork`, `reply:DEPARTMENT`.
    pub overdue_items: Vec<String>,
    /// The overdue items in words, in the order of `overdue_items`.
    pub overdue_reasons: Vec<Reason>,
    /// The accept limit, `opened_at + accept_within` (RFC 3339).
    pub accept_by: Option<String>,
    /// The close limit, `opened_at + close_within` (RFC 3339).
    pub close_by: Option<String>,
    /// When the oldest missing paperwork is due (RFC 3339).
    pub paperwork_due: Option<String>,
    /// When the case ended here (RFC 3339).
    pub closed_at: Option<String>,
    /// The close outcome.
    pub outcome: Option<String>,
    /// The feed record that made the daemon open it.
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
    /// The registry's department id.
    pub id: String,
    /// Its name, when the registry has it.
    pub name: Option<String>,
    /// When it was dispatched (RFC 3339).
    pub dispatched_at: Option<String>,
    /// When its reply is due (RFC 3339); none for dispatches older than reply clocks.
    pub reply_due: Option<String>,
    /// When it replied (RFC 3339).
    pub replied_at: Option<String>,
    /// Its answer.
    pub reply: Option<String>,
    /// Its reply is due and missing.
    pub overdue: bool,
}

/// A payment from the street's reserve fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    /// The amount, in fen.
    pub amount_fen: i64,
    /// When it was paid (RFC 3339).
    pub at: Option<String>,
    /// User name of whoever asked for it.
    pub by: String,
    /// The supervisor who approved it (amounts above the cap).
    pub approved_by: Option<String>,
    /// The after-the-fact explanation, once filed.
    pub paperwork: Option<String>,
}

/// One entry of a case's history: who did what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    /// When it happened (RFC 3339).
    pub at: Option<String>,
    /// User name of whoever acted.
    pub user: String,
    /// The action's snake_case name, e.g. `pay_request`.
    pub action: String,
    /// What was done, in Chinese.
    pub detail: String,
    /// What was done, in English.
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
    /// Family notice, DNA request or stay review.
    pub kind: TaskKind,
    /// The kind's Chinese label, e.g. `寻亲公告`.
    pub kind_zh: String,
    /// Station id as in the registry, e.g. `TZ-JZZ`.
    pub station: String,
    /// The station's name, when the registry has it.
    pub station_name: Option<String>,
    /// The station's number for the person (受助人编号).
    pub person_ref: String,
    /// The admission record of the stay.
    pub record_id: String,
    /// When it was created (RFC 3339).
    pub created_at: Option<String>,
    /// When it is due (RFC 3339).
    pub due_at: Option<String>,
    /// Open, done or void.
    pub state: TaskState,
    /// Open and past its due time.
    pub overdue: bool,
    /// When it was done (RFC 3339).
    pub done_at: Option<String>,
    /// User name of whoever completed it.
    pub done_by: Option<String>,
    /// When it was voided by a discharge (RFC 3339).
    pub voided_at: Option<String>,
    /// The completion's note, or why it was voided.
    pub note: Option<String>,
}

/// A case after an action on it, with the action's warnings (e.g. the same person aided twice
/// within 30 days): the answer to `CaseOpen` and `CaseAct`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReply {
    /// The case after the action.
    pub case: CaseView,
    /// The action's warnings, in words; the action proceeded.
    pub warnings: Vec<Reason>,
}
