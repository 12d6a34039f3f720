//! The [`Action`] type, who may take which action ([`role_allows`]) and [`apply`], which
//! checks an action against a case and returns the next case ([`Applied`]) or a [`CaseError`].
//!
//! Pure: the time, the registry and the street's fund balance come in through [`Context`].
//! [`apply`] does the checks every action shares, then hands over to one function per action
//! (`handlers`); the words of history entries are built in `words`.

mod handlers;
mod words;

pub use words::*;

use super::{ActionKind, Actor, AidRecord, Case, CaseError, CaseId, CaseState, CaseWarning, HistoryEntry};
use crate::registry::{Fen, Registry, Role};
use handlers::Step;
use serde::{Deserialize, Serialize};

/// An action on an existing case, as `mzd case act ID …` and the console give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `new` → `accepted`: an officer takes the case on (受理).
    Accept,
    /// Hands the case to a department (分办), which then owes a reply within `reply_within`.
    Dispatch {
        /// The registry's department id.
        department: String,
        /// What the department is asked to do.
        note: Option<String>,
    },
    /// Refers the case to another street (转办): it ends here and a linked case opens there.
    Refer {
        /// The receiving street's registry id.
        street: String,
        /// Why, for the receiving street.
        note: Option<String>,
    },
    /// Pays emergency money from the street's reserve fund (先行救助); above the cap it becomes a
    /// request pending a supervisor's approval.
    Pay {
        /// The amount, more than zero.
        amount: Fen,
        /// What the money is for.
        note: Option<String>,
    },
    /// A supervisor pays the pending request (一事一议).
    Approve {
        /// The supervisor's remark.
        note: Option<String>,
    },
    /// A supervisor turns the pending request down; nothing is paid.
    Reject {
        /// The supervisor's remark.
        note: Option<String>,
    },
    /// Files the after-the-fact explanation (事后补充说明) of the oldest payment that lacks one.
    Paperwork {
        /// The explanation, not empty.
        text: String,
    },
    /// Adds a note to the case; the state does not change.
    Note {
        /// The note, not empty.
        text: String,
    },
    /// Ends the case (办结); refused while a payment lacks its paperwork.
    Close {
        /// How the case ended, not empty.
        outcome: String,
    },
    /// A dispatched department's answer, recorded by an officer.
    Reply {
        /// The registry id of the department answering.
        department: String,
        /// Its answer, not empty.
        text: String,
    },
    /// Back to `accepted` from `closed` (supervisor), with the reason.
    Reopen {
        /// Why the case is reopened, not empty.
        reason: String,
    },
}

impl Action {
    /// The same action with any valid ID number in its free text masked (officers type notes;
    /// an ID number typed there must not be stored in clear).
    pub fn with_id_numbers_masked(self) -> Action {
        let mask = |t: String| crate::id_number::protect_id_numbers_in(&t, None).into_owned();
        let mask_opt = |t: Option<String>| t.map(mask);
        match self {
            Action::Dispatch { department, note } => Action::Dispatch { department, note: mask_opt(note) },
            Action::Refer { street, note } => Action::Refer { street, note: mask_opt(note) },
            Action::Pay { amount, note } => Action::Pay { amount, note: mask_opt(note) },
            Action::Approve { note } => Action::Approve { note: mask_opt(note) },
            Action::Reject { note } => Action::Reject { note: mask_opt(note) },
            Action::Paperwork { text } => Action::Paperwork { text: mask(text) },
            Action::Note { text } => Action::Note { text: mask(text) },
            Action::Close { outcome } => Action::Close { outcome: mask(outcome) },
            Action::Reply { department, text } => Action::Reply { department, text: mask(text) },
            Action::Reopen { reason } => Action::Reopen { reason: mask(reason) },
            Action::Accept => Action::Accept,
        }
    }

    /// The kind of action asked for (`pay` even when it will become a `pay_request`).
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Accept => ActionKind::Accept,
            Action::Dispatch { .. } => ActionKind::Dispatch,
            Action::Refer { .. } => ActionKind::Refer,
            Action::Pay { .. } => ActionKind::Pay,
            Action::Approve { .. } => ActionKind::Approve,
            Action::Reject { .. } => ActionKind::Reject,
            Action::Paperwork { .. } => ActionKind::Paperwork,
            Action::Note { .. } => ActionKind::Note,
            Action::Close { .. } => ActionKind::Close,
            Action::Reply { .. } => ActionKind::Reply,
            Action::Reopen { .. } => ActionKind::Reopen,
        }
    }
}

/// Whether `role` may take an action of `kind` on a case at all.
pub fn role_allows(role: Role, kind: ActionKind) -> bool {
    match role {
        Role::Viewer | Role::Station => false,
        Role::Officer => !matches!(kind, ActionKind::Approve | ActionKind::Reject | ActionKind::Reopen),
        Role::Supervisor | Role::Admin => true,
    }
}

/// What [`apply`] needs besides the case and the action.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Streets, departments, caps and time limits.
    pub registry: &'a Registry,
    /// The current balance of the case's street's reserve fund ([`Funds::balance`](super::Funds::balance)).
    pub fund_balance: Fen,
    /// Payments on other cases, for the duplicate-aid warning ([`Case::aid_records`]).
    /// Records of the case itself are ignored.
    pub other_aid: &'a [AidRecord],
    /// For `refer`: the id the linked case in the receiving street will get.
    pub referral_id: Option<&'a CaseId>,
}

/// The result of an applied action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The new case: version + 1, one history entry more.
    pub case: Case,
    /// Money paid from the case's street's reserve fund by this action: the daemon debits
    /// [`Funds`](super::Funds) with it ([`Funds::debit`](super::Funds::debit)) in the same commit.
    pub debit: Option<Fen>,
    /// Shown to the officer; the action was applied anyway.
    pub warnings: Vec<CaseWarning>,
}

impl Applied {
    /// The history entry this action added (also what goes into the audit trail).
    pub fn entry(&self) -> &HistoryEntry {
        self.case.history.last().expect("an applied action adds a history entry")
    }
}

/// Applies `action` by `actor` to `case`, which the actor saw at `expected_version`, at `now_ms`.
///
/// Pure: returns the new case, the fund debit and any warnings, or why the action is refused
/// (in which case nothing changed). Checks, in this order: the actor's role, the version, that
/// the case is not closed or referred, then the action's own rules (see the module docs).
///
/// Money: a payment must be more than zero and at most the fund's balance
/// ([`CaseError::FundExhausted`], also for requests above the cap: there is no point asking a
/// supervisor for money the fund does not have). When the case's payments plus this one stay
/// within the street's `case_cap` it is paid at once (→ aided); otherwise it becomes the pending
/// Applies `action` by `actor` to `case`, which the actor saw at `expected_version`, at `now_ms`.
///
/// Pure: returns the new case, the fund debit and any warnings, or why the action is refused
/// (in which case nothing changed). Checks, in this order: the actor's role, the version, that
/// the case is not closed or referred, then the action's own rules (see the module docs).
///
/// Money: a payment must be more than zero and at most the fund's balance
/// ([`CaseError::FundExhausted`], also for requests above the cap: there is no point asking a
/// supervisor for money the fund does not have). When the case's payments plus this one stay
/// within the street's `case_cap` it is paid at once (→ aided); otherwise it becomes the pending
/// request, and only one may be pending. Approving checks the fund again.
pub fn apply(
    case: &Case,
    action: &Action,
    actor: &Actor,
    expected_version: u64,
    now_ms: i64,
    ctx: &Context<'_>,
) -> Result<Applied, CaseError> {
    may_act(case, action, actor, expected_version)?;
    let mut step = Step { case, next: case.clone(), actor, now_ms, ctx, debit: None, warnings: Vec::new() };
    let s = &mut step;
    let (recorded, mut zh, mut en) = match action {
        Action::Accept => handlers::accept(s)?,
        Action::Dispatch { department, note } => handlers::dispatch(s, department, note)?,
        Action::Reply { department, text } => handlers::reply(s, department, text)?,
        Action::Refer { street, note } => handlers::refer(s, street, note)?,
        Action::Reopen { reason } => handlers::reopen(s, reason)?,
        Action::Pay { amount, note } => handlers::pay(s, *amount, note)?,
        Action::Approve { note } => handlers::approve(s, note)?,
        Action::Reject { note } => handlers::reject(s, note)?,
        Action::Paperwork { text } => handlers::paperwork(s, text)?,
        Action::Note { text } => handlers::note(s, text)?,
        Action::Close { outcome } => handlers::close(s, outcome)?,
    };
    let Step { mut next, debit, warnings, .. } = step;
    for w in &warnings {
        let r = w.reason();
        zh.push_str(&format!("；{}", r.zh));
        en.push_str(&format!("; {}", r.en));
    }
    next.version += 1;
    next.record(now_ms, &actor.user, recorded, zh, en);
    Ok(Applied { case: next, debit, warnings })
}

/// The checks every action shares: the actor's role, the version the actor saw, and that the
/// case has not ended here (only `reopen` acts on a case that has, and only on a closed one).
fn may_act(case: &Case, action: &Action, actor: &Actor, expected_version: u64) -> Result<(), CaseError> {
    let kind = action.kind();
    if !role_allows(actor.role, kind) {
        return Err(CaseError::WrongRole { role: actor.role, action: kind });
    }
    if expected_version != case.version {
        return Err(CaseError::StaleVersion { expected: expected_version, actual: case.version });
    }
    let reopening = matches!(action, Action::Reopen { .. });
    if case.state.is_terminal() != reopening || (reopening && case.state != CaseState::Closed) {
        return Err(CaseError::WrongState { state: case.state, action: kind });
    }
    Ok(())
}
