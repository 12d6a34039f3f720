//! The [`Action`] type, who may take which action ([`role_allows`]) and [`apply`], which
//! checks an action against a case and returns the next case ([`Applied`]) or a [`CaseError`].
//!
//! Pure: the time, the registry and the street's fund balance come in through [`Context`].

use super::{
    clean_text, duplicate_aid, plus, ActionKind, Actor, AidRecord, Case, CaseError, CaseId, CaseNote, CaseState,
    CaseWarning, Dispatch, HistoryEntry, OpenCase, Payment, PaymentRequest, Source,
};
use crate::registry::{Fen, Registry, Role};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// An action on an existing case, as `mzd case act ID …` and the console give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Accept,
    Dispatch {
        department: String,
        note: Option<String>,
    },
    Refer {
        street: String,
        note: Option<String>,
    },
    Pay {
        amount: Fen,
        note: Option<String>,
    },
    Approve {
        note: Option<String>,
    },
    Reject {
        note: Option<String>,
    },
    Paperwork {
        text: String,
    },
    Note {
        text: String,
    },
    Close {
        outcome: String,
    },
    /// A dispatched department's answer, recorded by an officer.
    Reply {
        department: String,
        text: String,
    },
    /// Back to `accepted` from `closed` (supervisor), with the reason.
    Reopen {
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
    pub registry: &'a Registry,
    /// The current balance of the case's street's reserve fund ([`Funds::balance`]).
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
    /// [`Funds`] with it ([`Funds::debit`]) in the same commit.
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
/// request, and only one may be pending. Approving checks the fund again.
pub fn apply(
    case: &Case,
    action: &Action,
    actor: &Actor,
    expected_version: u64,
    now_ms: i64,
    ctx: &Context<'_>,
) -> Result<Applied, CaseError> {
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
    let mut next = case.clone();
    let mut debit = None;
    let mut warnings = Vec::new();
    let (recorded, mut zh, mut en) = match action {
        Action::Accept
        | Action::Dispatch { .. }
        | Action::Reply { .. }
        | Action::Refer { .. }
        | Action::Reopen { .. } => apply_handling(case, &mut next, action, actor, now_ms, ctx)?,
        _ => apply_money_and_text(case, &mut next, action, actor, now_ms, ctx, &mut debit, &mut warnings)?,
    };
    for w in &warnings {
        let r = w.reason();
        zh.push_str(&format!("；{}", r.zh));
        en.push_str(&format!("; {}", r.en));
    }
    next.version += 1;
    next.record(now_ms, &actor.user, recorded, zh, en);
    Ok(Applied { case: next, debit, warnings })
}

type Recorded = (ActionKind, String, String);

/// The actions that move a case between desks: accept, dispatch, reply, refer, reopen.
fn apply_handling(
    case: &Case,
    next: &mut Case,
    action: &Action,
    actor: &Actor,
    now_ms: i64,
    ctx: &Context<'_>,
) -> Result<Recorded, CaseError> {
    use CaseState::*;
    let kind = action.kind();
    let need_state = |allowed: &[CaseState]| {
        if allowed.contains(&case.state) {
            Ok(())
        } else {
            Err(CaseError::WrongState { state: case.state, action: kind })
        }
    };
    let (mut zh, mut en, note) = match action {
        Action::Accept => {
            need_state(&[New])?;
            next.state = Accepted;
            next.accepted_at_ms = Some(now_ms);
            (format!("受理（{}）", actor.user), format!("accepted ({})", actor.user), None)
        }
        Action::Dispatch { department, note } => {
            need_state(&[Accepted, Dispatched, Aided])?;
            if ctx.registry.department(department).is_none() {
                return Err(CaseError::UnknownDepartment(department.clone()));
            }
            if case.departments.contains(department) {
                return Err(CaseError::AlreadyDispatched(department.clone()));
            }
            next.departments.push(department.clone());
            let due = plus(now_ms, ctx.registry.limits.reply_within);
            next.ext.dispatches.push(Dispatch {
                id: department.clone(),
                dispatched_at_ms: now_ms,
                reply_due_ms: due,
                replied_at_ms: None,
                reply: None,
            });
            if next.state == Accepted {
                next.state = Dispatched;
            }
            let within = humantime::format_duration(ctx.registry.limits.reply_within).to_string();
            let (dzh, den) = department_words(ctx.registry, department);
            (
                format!("分办至{dzh}，应在{}内答复", within_zh(ctx.registry.limits.reply_within)),
                format!("dispatched to {den}, reply due within {within}"),
                note.clone(),
            )
        }
        Action::Reply { department, text } => {
            need_state(&[Dispatched, Aided])?;
            let text = clean_text(text).ok_or(CaseError::EmptyText(kind))?;
            let slot = next.ext.dispatches.iter_mut().find(|d| d.id == *department);
            let Some(slot) = slot else { return Err(CaseError::NotDispatched(department.clone())) };
            if slot.replied_at_ms.is_some() {
                return Err(CaseError::AlreadyReplied(department.clone()));
            }
            slot.replied_at_ms = Some(now_ms);
            slot.reply = Some(text.clone());
            let (dzh, den) = department_words(ctx.registry, department);
            (format!("{dzh}答复：{text}"), format!("reply from {den}: {text}"), None)
        }
        Action::Refer { street, note } => {
            need_state(&[New, Accepted, Dispatched, Aided])?;
            if ctx.registry.street(street).is_none() {
                return Err(CaseError::UnknownStreet(street.clone()));
            }
            if *street == case.street {
                return Err(CaseError::SameStreet(street.clone()));
            }
            ends_here_check(case)?;
            next.state = Referred;
            next.referred_to = Some(street.clone());
            next.closed_at_ms = Some(now_ms);
            next.ext.referred_to_case = ctx.referral_id.cloned();
            let (szh, sen) = street_words(ctx.registry, street);
            let (mut zh, mut en) = (format!("转办至{szh}，本街道办理结束"), format!("referred to {sen}; ends here"));
            if let Some(id) = ctx.referral_id {
                zh.push_str(&format!("，新案件 {id}"));
                en.push_str(&format!(", new case {id}"));
            }
            (zh, en, note.clone())
        }
        Action::Reopen { reason } => {
            let reason = clean_text(reason).ok_or(CaseError::EmptyText(kind))?;
            next.state = Accepted;
            next.closed_at_ms = None;
            next.outcome = None;
            (format!("重新办理，原因：{reason}"), format!("reopened, reason: {reason}"), None)
        }
        _ => return Err(CaseError::WrongState { state: case.state, action: kind }),
    };
    if let Some(n) = note.as_deref().and_then(clean_text) {
        zh.push_str(&format!("；备注：{n}"));
        en.push_str(&format!("; note: {n}"));
    }
    Ok((kind, zh, en))
}

/// Money, paperwork, notes and closing.
#[allow(clippy::too_many_arguments)]
fn apply_money_and_text(
    case: &Case,
    next: &mut Case,
    action: &Action,
    actor: &Actor,
    now_ms: i64,
    ctx: &Context<'_>,
    debit: &mut Option<Fen>,
    warnings: &mut Vec<CaseWarning>,
) -> Result<Recorded, CaseError> {
    use CaseState::*;
    let kind = action.kind();
    let need_state = |allowed: &[CaseState]| {
        if allowed.contains(&case.state) {
            Ok(())
        } else {
            Err(CaseError::WrongState { state: case.state, action: kind })
        }
    };
    Ok(match action {
        Action::Pay { amount, note } => apply_pay(case, next, amount, note, actor, now_ms, ctx, debit, warnings)?,
        Action::Approve { note } => {
            let request = case.pending.as_ref().ok_or(CaseError::NoPendingRequest)?;
            check_fund(case, request.amount, ctx.fund_balance)?;
            warnings.extend(aid_warnings(case, now_ms, ctx));
            next.payments.push(Payment {
                amount: request.amount,
                at_ms: now_ms,
                by: request.by.clone(),
                approved_by: Some(actor.user.clone()),
                note: request.note.clone(),
                paperwork: None,
                paperwork_at_ms: None,
            });
            next.pending = None;
            next.state = Aided;
            *debit = Some(request.amount);
            noted(
                (
                    ActionKind::Approve,
                    format!("{}，已支付", approve_detail_head(request.amount, &request.by)),
                    format!("approved {}'s request of {}: paid", request.by, request.amount),
                ),
                note,
            )
        }
        Action::Reject { note } => {
            let request = case.pending.as_ref().ok_or(CaseError::NoPendingRequest)?;
            next.pending = None;
            noted(
                (
                    ActionKind::Reject,
                    format!("驳回 {} 申请的 {}，不予支付", request.by, request.amount),
                    format!("rejected {}'s request of {}: nothing paid", request.by, request.amount),
                ),
                note,
            )
        }
        Action::Paperwork { text } => {
            let text = clean_text(text).ok_or(CaseError::EmptyText(kind))?;
            let (index, payment) = next
                .payments
                .iter_mut()
                .enumerate()
                .find(|(_, p)| p.paperwork.is_none())
                .ok_or(CaseError::NothingToFile)?;
            payment.paperwork = Some(text.clone());
            payment.paperwork_at_ms = Some(now_ms);
            let (n, amount) = (index + 1, payment.amount);
            (
                ActionKind::Paperwork,
                format!("第 {n} 笔拨付（{amount}）事后补充说明：{text}"),
                format!("paperwork for payment {n} ({amount}): {text}"),
            )
        }
        Action::Note { text } => {
            let text = clean_text(text).ok_or(CaseError::EmptyText(kind))?;
            next.notes.push(CaseNote { at_ms: now_ms, by: actor.user.clone(), text: text.clone() });
            (ActionKind::Note, text.clone(), text)
        }
        Action::Close { outcome } => {
            need_state(&[Accepted, Dispatched, Aided])?;
            let outcome = clean_text(outcome).ok_or(CaseError::EmptyText(kind))?;
            ends_here_check(case)?;
            next.state = Closed;
            next.closed_at_ms = Some(now_ms);
            next.outcome = Some(outcome.clone());
            (ActionKind::Close, format!("办结：{outcome}"), format!("closed: {outcome}"))
        }
        _ => return Err(CaseError::WrongState { state: case.state, action: kind }),
    })
}

/// `pay AMOUNT`: paid at once within the street's case cap (→ aided), else the pending request.
#[allow(clippy::too_many_arguments)]
fn apply_pay(
    case: &Case,
    next: &mut Case,
    amount: &Fen,
    note: &Option<String>,
    actor: &Actor,
    now_ms: i64,
    ctx: &Context<'_>,
    debit: &mut Option<Fen>,
    warnings: &mut Vec<CaseWarning>,
) -> Result<Recorded, CaseError> {
    use CaseState::*;
    if ![Accepted, Dispatched, Aided].contains(&case.state) {
        return Err(CaseError::WrongState { state: case.state, action: ActionKind::Pay });
    }
    if amount.0 <= 0 {
        return Err(CaseError::InvalidAmount(*amount));
    }
    if let Some(p) = &case.pending {
        return Err(CaseError::PendingRequestExists { amount: p.amount });
    }
    let street = ctx.registry.street(&case.street).ok_or_else(|| CaseError::UnknownStreet(case.street.clone()))?;
    check_fund(case, *amount, ctx.fund_balance)?;
    let total = case.paid_total().0.checked_add(amount.0).ok_or(CaseError::InvalidAmount(*amount))?;
    let note = note.as_deref().and_then(clean_text);
    warnings.extend(aid_warnings(case, now_ms, ctx));
    Ok(if total <= street.case_cap.0 {
        next.payments.push(Payment {
            amount: *amount,
            at_ms: now_ms,
            by: actor.user.clone(),
            approved_by: None,
            note: note.clone(),
            paperwork: None,
            paperwork_at_ms: None,
        });
        next.state = Aided;
        *debit = Some(*amount);
        let (fzh, fen) = street_words(ctx.registry, &case.street);
        noted(
            (
                ActionKind::Pay,
                format!("{}，来自{fzh}临时救助备用金", pay_detail_head(*amount)),
                format!("paid {amount} from the reserve fund of {fen}"),
            ),
            &note,
        )
    } else {
        next.pending =
            Some(PaymentRequest { amount: *amount, at_ms: now_ms, by: actor.user.clone(), note: note.clone() });
        let (cap, paid) = (street.case_cap, case.paid_total());
        noted(
                (
                    ActionKind::PayRequest,
                    format!("申请拨付 {amount}，超过单案上限 {cap}（已拨付 {paid}），已提交一事一议审批，尚未支付"),
                    format!("asked to pay {amount}, above the case cap {cap} (paid so far {paid}): awaiting a supervisor's approval, nothing paid yet"),
                ),
                &note,
            )
    })
}

/// The entry's words with the user's note, if any.
fn noted((k, zh, en): Recorded, note: &Option<String>) -> Recorded {
    match note.as_deref().and_then(clean_text) {
        Some(n) => (k, format!("{zh}；备注：{n}"), format!("{en}; note: {n}")),
        None => (k, zh, en),
    }
}

/// The start of a `pay` entry's detail (the audit check matches payments by it).
pub fn pay_detail_head(amount: Fen) -> String {
    format!("已支付 {amount}")
}

/// The start of an `approve` entry's detail (the audit check matches payments by it).
pub fn approve_detail_head(amount: Fen, requested_by: &str) -> String {
    format!("批准 {requested_by} 申请的 {amount}")
}

/// `北苑街道（ST-01）` and `北苑街道 (ST-01)`.
pub fn street_words(registry: &Registry, id: &str) -> (String, String) {
    match registry.street(id) {
        Some(s) => (format!("{}（{id}）", s.name), format!("{} ({id})", s.name)),
        None => (id.to_string(), id.to_string()),
    }
}

/// `公安（police）` and `公安 (police)`.
pub fn department_words(registry: &Registry, id: &str) -> (String, String) {
    match registry.department(id) {
        Some(d) => (format!("{}（{id}）", d.name), format!("{} ({id})", d.name)),
        None => (id.to_string(), id.to_string()),
    }
}

/// A duration in Chinese words: `48小时`, `5天`, `30分钟`, `2秒`.
pub fn within_zh(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 86_400 && s.is_multiple_of(86_400) {
        format!("{}天", s / 86_400)
    } else if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}小时", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}分钟", s / 60)
    } else {
        format!("{s}秒")
    }
}

/// The `open` entry's detail in Chinese and English.
pub(super) fn open_words(
    input: &OpenCase,
    source: Source,
    community: Option<&str>,
    registry: &Registry,
) -> (String, String) {
    let (szh, sen) = street_words(registry, &input.street);
    let mut zh = format!("登记：{szh}，{}，{}", source.zh(), input.urgency.zh());
    let mut en = format!("opened: {sen}, {}, {} urgency", source.en(), input.urgency);
    if let Some(c) = community.and_then(|c| registry.community(c)) {
        zh.push_str(&format!("，{}（{}）", c.name, c.id));
        en.push_str(&format!(", {} ({})", c.name, c.id));
    }
    if let Some(record) = &input.source_record {
        zh.push_str(&format!("，依据记录 {record}"));
        en.push_str(&format!(", from record {record}"));
    }
    for w in &input.warnings {
        zh.push_str(&format!("；{}", w.zh));
        en.push_str(&format!("; {}", w.en));
    }
    (zh, en)
}

/// Closing or referring: no request may be pending and every payment needs its paperwork.
fn ends_here_check(case: &Case) -> Result<(), CaseError> {
    if let Some(p) = &case.pending {
        return Err(CaseError::PendingRequestExists { amount: p.amount });
    }
    let missing = case.payments_missing_paperwork().count();
    if missing > 0 {
        return Err(CaseError::PaperworkMissing { count: missing });
    }
    Ok(())
}

fn check_fund(case: &Case, amount: Fen, balance: Fen) -> Result<(), CaseError> {
    if amount > balance {
        return Err(CaseError::FundExhausted { street: case.street.clone(), balance: Fen(balance.0.max(0)), amount });
    }
    Ok(())
}

fn aid_warnings(case: &Case, now_ms: i64, ctx: &Context<'_>) -> Vec<CaseWarning> {
    match case.person_key() {
        Some(person) => duplicate_aid(&person, &case.id, &case.street, now_ms, ctx.other_aid),
        None => Vec::new(),
    }
}
