//! One function per case action: each checks the action's own rules against the case and
//! changes the next case, returning the history entry's kind and words.
//!
//! The common checks (role, version, terminal state) are done before, by [`super::apply`];
//! nothing here touches the version or the history.

use super::words::{approve_detail_head, department_words, pay_detail_head, street_words, within_zh};
use super::Context;
use crate::case::{
    clean_text, duplicate_aid, plus, ActionKind, Actor, Case, CaseError, CaseNote, CaseState, CaseWarning, Dispatch,
    Payment, PaymentRequest,
};
use crate::registry::Fen;
use CaseState::*;

/// The kind of the history entry and its words in Chinese and English.
pub(super) type Recorded = (ActionKind, String, String);

/// One action being applied: the case as it was, the case being changed, and what the action
/// adds to the result besides the case.
pub(super) struct Step<'a> {
    pub case: &'a Case,
    pub next: Case,
    pub actor: &'a Actor,
    pub now_ms: i64,
    pub ctx: &'a Context<'a>,
    /// Paid from the street's reserve fund by this action.
    pub debit: Option<Fen>,
    pub warnings: Vec<CaseWarning>,
}

impl Step<'_> {
    fn need_state(&self, allowed: &[CaseState], action: ActionKind) -> Result<(), CaseError> {
        if allowed.contains(&self.case.state) {
            Ok(())
        } else {
            Err(CaseError::WrongState { state: self.case.state, action })
        }
    }

    fn aid_warnings(&mut self) {
        let case = self.case;
        if let Some(person) = case.person_key() {
            let found = duplicate_aid(&person, &case.id, &case.street, self.now_ms, self.ctx.other_aid);
            self.warnings.extend(found);
        }
    }
}

/// `accept`: new → accepted.
pub(super) fn accept(s: &mut Step<'_>) -> Result<Recorded, CaseError> {
    s.need_state(&[New], ActionKind::Accept)?;
    s.next.state = Accepted;
    s.next.accepted_at_ms = Some(s.now_ms);
    let user = &s.actor.user;
    Ok((ActionKind::Accept, format!("受理（{user}）"), format!("accepted ({user})")))
}

/// `dispatch DEPT`: adds the department with its reply clock; accepted → dispatched.
pub(super) fn dispatch(s: &mut Step<'_>, department: &str, note: &Option<String>) -> Result<Recorded, CaseError> {
    s.need_state(&[Accepted, Dispatched, Aided], ActionKind::Dispatch)?;
    let registry = s.ctx.registry;
    if registry.department(department).is_none() {
        return Err(CaseError::UnknownDepartment(department.to_string()));
    }
    if s.case.departments.iter().any(|d| d == department) {
        return Err(CaseError::AlreadyDispatched(department.to_string()));
    }
    s.next.departments.push(department.to_string());
    s.next.ext.dispatches.push(Dispatch {
        id: department.to_string(),
        dispatched_at_ms: s.now_ms,
        reply_due_ms: plus(s.now_ms, registry.limits.reply_within),
        replied_at_ms: None,
        reply: None,
    });
    if s.next.state == Accepted {
        s.next.state = Dispatched;
    }
    let within = humantime::format_duration(registry.limits.reply_within).to_string();
    let (dzh, den) = department_words(registry, department);
    let words = (
        ActionKind::Dispatch,
        format!("分办至{dzh}，应在{}内答复", within_zh(registry.limits.reply_within)),
        format!("dispatched to {den}, reply due within {within}"),
    );
    Ok(noted(words, note))
}

/// `reply DEPT TEXT`: a dispatched department's answer, once.
pub(super) fn reply(s: &mut Step<'_>, department: &str, text: &str) -> Result<Recorded, CaseError> {
    s.need_state(&[Dispatched, Aided], ActionKind::Reply)?;
    let text = clean_text(text).ok_or(CaseError::EmptyText(ActionKind::Reply))?;
    let slot = s.next.ext.dispatches.iter_mut().find(|d| d.id == department);
    let Some(slot) = slot else { return Err(CaseError::NotDispatched(department.to_string())) };
    if slot.replied_at_ms.is_some() {
        return Err(CaseError::AlreadyReplied(department.to_string()));
    }
    slot.replied_at_ms = Some(s.now_ms);
    slot.reply = Some(text.clone());
    let (dzh, den) = department_words(s.ctx.registry, department);
    Ok((ActionKind::Reply, format!("{dzh}答复：{text}"), format!("reply from {den}: {text}")))
}

/// `refer STREET`: → referred (terminal); the case ends here.
pub(super) fn refer(s: &mut Step<'_>, street: &str, note: &Option<String>) -> Result<Recorded, CaseError> {
    s.need_state(&[New, Accepted, Dispatched, Aided], ActionKind::Refer)?;
    if s.ctx.registry.street(street).is_none() {
        return Err(CaseError::UnknownStreet(street.to_string()));
    }
    if street == s.case.street {
        return Err(CaseError::SameStreet(street.to_string()));
    }
    ends_here_check(s.case)?;
    s.next.state = Referred;
    s.next.referred_to = Some(street.to_string());
    s.next.closed_at_ms = Some(s.now_ms);
    s.next.ext.referred_to_case = s.ctx.referral_id.cloned();
    let (szh, sen) = street_words(s.ctx.registry, street);
    let (mut zh, mut en) = (format!("转办至{szh}，本街道办理结束"), format!("referred to {sen}; ends here"));
    if let Some(id) = s.ctx.referral_id {
        zh.push_str(&format!("，新案件 {id}"));
        en.push_str(&format!(", new case {id}"));
    }
    Ok(noted((ActionKind::Refer, zh, en), note))
}

/// `reopen REASON`: closed → accepted (the closed-only check is [`super::apply`]'s).
pub(super) fn reopen(s: &mut Step<'_>, reason: &str) -> Result<Recorded, CaseError> {
    let reason = clean_text(reason).ok_or(CaseError::EmptyText(ActionKind::Reopen))?;
    s.next.state = Accepted;
    s.next.closed_at_ms = None;
    s.next.outcome = None;
    Ok((ActionKind::Reopen, format!("重新办理，原因：{reason}"), format!("reopened, reason: {reason}")))
}

/// `pay AMOUNT`: paid at once within the street's case cap (→ aided), else the pending request.
pub(super) fn pay(s: &mut Step<'_>, amount: Fen, note: &Option<String>) -> Result<Recorded, CaseError> {
    s.need_state(&[Accepted, Dispatched, Aided], ActionKind::Pay)?;
    let case = s.case;
    if amount.0 <= 0 {
        return Err(CaseError::InvalidAmount(amount));
    }
    if let Some(p) = &case.pending {
        return Err(CaseError::PendingRequestExists { amount: p.amount });
    }
    let street = s.ctx.registry.street(&case.street).ok_or_else(|| CaseError::UnknownStreet(case.street.clone()))?;
    check_fund(case, amount, s.ctx.fund_balance)?;
    let total = case.paid_total().0.checked_add(amount.0).ok_or(CaseError::InvalidAmount(amount))?;
    let note = note.as_deref().and_then(clean_text);
    s.aid_warnings();
    if total > street.case_cap.0 {
        return Ok(pay_request(s, amount, street.case_cap, note));
    }
    s.next.payments.push(Payment {
        amount,
        at_ms: s.now_ms,
        by: s.actor.user.clone(),
        approved_by: None,
        note: note.clone(),
        paperwork: None,
        paperwork_at_ms: None,
    });
    s.next.state = Aided;
    s.debit = Some(amount);
    let (fzh, fen) = street_words(s.ctx.registry, &case.street);
    let words = (
        ActionKind::Pay,
        format!("{}，来自{fzh}临时救助备用金", pay_detail_head(amount)),
        format!("paid {amount} from the reserve fund of {fen}"),
    );
    Ok(noted(words, &note))
}

/// A payment above the case cap: it becomes the pending request (一事一议), nothing is paid.
fn pay_request(s: &mut Step<'_>, amount: Fen, cap: Fen, note: Option<String>) -> Recorded {
    let by = s.actor.user.clone();
    s.next.pending = Some(PaymentRequest { amount, at_ms: s.now_ms, by, note: note.clone() });
    let paid = s.case.paid_total();
    let words = (
        ActionKind::PayRequest,
        format!("申请拨付 {amount}，超过单案上限 {cap}（已拨付 {paid}），已提交一事一议审批，尚未支付"),
        format!(
            "asked to pay {amount}, above the case cap {cap} (paid so far {paid}): awaiting a supervisor's approval, nothing paid yet"
        ),
    );
    noted(words, &note)
}

/// `approve`: pays the pending request (→ aided), if the fund still has the money.
pub(super) fn approve(s: &mut Step<'_>, note: &Option<String>) -> Result<Recorded, CaseError> {
    let case = s.case;
    let request = case.pending.as_ref().ok_or(CaseError::NoPendingRequest)?;
    check_fund(case, request.amount, s.ctx.fund_balance)?;
    s.aid_warnings();
    s.next.payments.push(Payment {
        amount: request.amount,
        at_ms: s.now_ms,
        by: request.by.clone(),
        approved_by: Some(s.actor.user.clone()),
        note: request.note.clone(),
        paperwork: None,
        paperwork_at_ms: None,
    });
    s.next.pending = None;
    s.next.state = Aided;
    s.debit = Some(request.amount);
    let words = (
        ActionKind::Approve,
        format!("{}，已支付", approve_detail_head(request.amount, &request.by)),
        format!("approved {}'s request of {}: paid", request.by, request.amount),
    );
    Ok(noted(words, note))
}

/// `reject`: drops the pending request; nothing is paid.
pub(super) fn reject(s: &mut Step<'_>, note: &Option<String>) -> Result<Recorded, CaseError> {
    let request = s.case.pending.as_ref().ok_or(CaseError::NoPendingRequest)?;
    s.next.pending = None;
    let words = (
        ActionKind::Reject,
        format!("驳回 {} 申请的 {}，不予支付", request.by, request.amount),
        format!("rejected {}'s request of {}: nothing paid", request.by, request.amount),
    );
    Ok(noted(words, note))
}

/// `paperwork TEXT`: files the oldest payment's missing paperwork (事后补充说明).
pub(super) fn paperwork(s: &mut Step<'_>, text: &str) -> Result<Recorded, CaseError> {
    let text = clean_text(text).ok_or(CaseError::EmptyText(ActionKind::Paperwork))?;
    let (index, payment) =
        s.next.payments.iter_mut().enumerate().find(|(_, p)| p.paperwork.is_none()).ok_or(CaseError::NothingToFile)?;
    payment.paperwork = Some(text.clone());
    payment.paperwork_at_ms = Some(s.now_ms);
    let (n, amount) = (index + 1, payment.amount);
    Ok((
        ActionKind::Paperwork,
        format!("第 {n} 笔拨付（{amount}）事后补充说明：{text}"),
        format!("paperwork for payment {n} ({amount}): {text}"),
    ))
}

/// `note TEXT`: adds a note.
pub(super) fn note(s: &mut Step<'_>, text: &str) -> Result<Recorded, CaseError> {
    let text = clean_text(text).ok_or(CaseError::EmptyText(ActionKind::Note))?;
    s.next.notes.push(CaseNote { at_ms: s.now_ms, by: s.actor.user.clone(), text: text.clone() });
    Ok((ActionKind::Note, text.clone(), text))
}

/// `close OUTCOME`: → closed (terminal).
pub(super) fn close(s: &mut Step<'_>, outcome: &str) -> Result<Recorded, CaseError> {
    s.need_state(&[Accepted, Dispatched, Aided], ActionKind::Close)?;
    let outcome = clean_text(outcome).ok_or(CaseError::EmptyText(ActionKind::Close))?;
    ends_here_check(s.case)?;
    s.next.state = Closed;
    s.next.closed_at_ms = Some(s.now_ms);
    s.next.outcome = Some(outcome.clone());
    Ok((ActionKind::Close, format!("办结：{outcome}"), format!("closed: {outcome}")))
}

/// The entry's words with the user's note, if any.
fn noted((k, zh, en): Recorded, note: &Option<String>) -> Recorded {
    match note.as_deref().and_then(clean_text) {
        Some(n) => (k, format!("{zh}；备注：{n}"), format!("{en}; note: {n}")),
        None => (k, zh, en),
    }
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

/// A payment must fit in the street's fund balance.
fn check_fund(case: &Case, amount: Fen, balance: Fen) -> Result<(), CaseError> {
    if amount > balance {
        return Err(CaseError::FundExhausted { street: case.street.clone(), balance: Fen(balance.0.max(0)), amount });
    }
    Ok(())
}
