//! Unit tests of the case state machine, funds, time limits and duplicate-aid warnings.

use super::*;
use crate::audit::{self, AuditEntry};
use crate::id_number::{IdHasher, IdNumber, ProtectedId};
use crate::registry::{Fen, Registry, Role};
use std::collections::BTreeMap;

const REGISTRY: &str = r#"
[[station]]
id = "S1"
name = "救助管理站"
street = "ST-A"
kind = "station"
beds = 10

[[street]]
id = "ST-A"
name = "北苑街道"
reserve_fund = 10000.00
case_cap = 5000.00

[[street]]
id = "ST-B"
name = "中仓街道"
reserve_fund = 1000.00
case_cap = 500.00

[[department]]
id = "police"
name = "公安"

[[department]]
id = "health"
name = "卫健"

[[community]]
id = "SQ-A1"
name = "北苑社区"
street = "ST-A"

[limits]
accept_within = "30m"
close_within = "72h"
paperwork_within = "5d"
"#;

const T0: i64 = 1_772_416_800_000; // 2026-03-02T10:00:00+08:00, a Monday
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

fn registry() -> Registry {
    Registry::parse(REGISTRY).unwrap()
}

fn officer() -> Actor {
    Actor::new("duty1", Role::Officer)
}
fn officer2() -> Actor {
    Actor::new("duty2", Role::Officer)
}
fn chief() -> Actor {
    Actor::new("chief", Role::Supervisor)
}
fn admin() -> Actor {
    Actor::new("root", Role::Admin)
}
fn viewer() -> Actor {
    Actor::new("guest", Role::Viewer)
}
fn clerk() -> Actor {
    Actor::new("clerk1", Role::Station)
}

fn yuan(y: i64) -> Fen {
    Fen(y * 100)
}

fn input(street: &str) -> OpenCase {
    OpenCase { street: street.into(), summary: "来访求助，钱包被盗".into(), ..OpenCase::default() }
}

fn new_case(street: &str) -> Case {
    Case::open(CaseId::new(2026, 1), input(street), &officer(), T0, &registry()).unwrap()
}

/// A test bench: one registry, its funds, and a clock.
struct Bench {
    reg: Registry,
    funds: Funds,
    now: i64,
    other_aid: Vec<AidRecord>,
}

impl Bench {
    fn new() -> Bench {
        let reg = registry();
        let funds = Funds::from_registry(&reg);
        Bench { reg, funds, now: T0 + MIN, other_aid: Vec::new() }
    }

    /// Applies at the case's current version, debits the funds, advances the clock a minute.
    fn act(&mut self, case: &Case, actor: &Actor, action: Action) -> Result<Applied, CaseError> {
        let ctx = Context {
            registry: &self.reg,
            fund_balance: self.funds.balance(&case.street),
            other_aid: &self.other_aid,
            referral_id: None,
        };
        let applied = apply(case, &action, actor, case.version, self.now, &ctx)?;
        if let Some(d) = applied.debit {
            self.funds.debit(&case.street, d).unwrap();
        }
        self.now += MIN;
        Ok(applied)
    }

    fn ok(&mut self, case: &Case, actor: &Actor, action: Action) -> Case {
        self.act(case, actor, action).unwrap_or_else(|e| panic!("refused: {e}")).case
    }

    /// Accepts the case, then applies `action` by `actor`.
    fn ok_after_accept(&mut self, case: &Case, actor: &Actor, action: Action) -> Case {
        let accepted = self.ok(case, &officer(), Action::Accept);
        self.ok(&accepted, actor, action)
    }

    fn err(&mut self, case: &Case, actor: &Actor, action: Action) -> CaseError {
        self.act(case, actor, action).expect_err("should be refused")
    }
}

fn pay(y: i64) -> Action {
    Action::Pay { amount: yuan(y), note: None }
}
fn paperwork(text: &str) -> Action {
    Action::Paperwork { text: text.into() }
}
fn close(text: &str) -> Action {
    Action::Close { outcome: text.into() }
}
fn note(text: &str) -> Action {
    Action::Note { text: text.into() }
}
fn dispatch(d: &str) -> Action {
    Action::Dispatch { department: d.into(), note: None }
}
fn refer(s: &str) -> Action {
    Action::Refer { street: s.into(), note: None }
}
fn approve() -> Action {
    Action::Approve { note: None }
}
fn reject() -> Action {
    Action::Reject { note: None }
}

fn all_actions() -> Vec<Action> {
    vec![
        Action::Accept,
        dispatch("police"),
        refer("ST-B"),
        pay(100),
        approve(),
        reject(),
        paperwork("说明"),
        note("备注"),
        close("已解决"),
    ]
}

fn wrong_state(state: CaseState, action: ActionKind) -> CaseError {
    CaseError::WrongState { state, action }
}

// ---- open

#[test]
fn open_starts_new_at_version_one_with_open_entry() {
    let c = new_case("ST-A");
    assert_eq!(c.state, CaseState::New);
    assert_eq!(c.version, 1);
    assert_eq!(c.history.len(), 1);
    assert_eq!(c.history[0].action, "open");
    assert_eq!(c.history[0].user, "duty1");
    assert_eq!(c.history[0].at_ms, T0);
    assert_eq!(c.source, Source::WalkIn);
    assert_eq!(c.opened_by, "duty1");
    assert_eq!(c.paid_total(), Fen(0));
}

#[test]
fn open_refusals() {
    let reg = registry();
    let id = CaseId::new(2026, 2);
    for actor in [viewer(), clerk()] {
        assert_eq!(
            Case::open(id.clone(), input("ST-A"), &actor, T0, &reg),
            Err(CaseError::WrongRole { role: actor.role, action: ActionKind::Open })
        );
    }
    let daemon_source = OpenCase { source: Some(Source::StationDeath), ..input("ST-A") };
    assert_eq!(
        Case::open(id.clone(), daemon_source.clone(), &officer(), T0, &reg),
        Err(CaseError::WrongRole { role: Role::Officer, action: ActionKind::Open })
    );
    assert!(Case::open(id.clone(), daemon_source, &Actor::daemon(), T0, &reg).is_ok());
    assert_eq!(
        Case::open(id.clone(), input("ST-X"), &officer(), T0, &reg),
        Err(CaseError::UnknownStreet("ST-X".into()))
    );
    let bad_station = OpenCase { station: Some("S9".into()), ..input("ST-A") };
    assert_eq!(Case::open(id.clone(), bad_station, &officer(), T0, &reg), Err(CaseError::UnknownStation("S9".into())));
    let blank = OpenCase { summary: "  ".into(), ..input("ST-A") };
    assert_eq!(Case::open(id, blank, &officer(), T0, &reg), Err(CaseError::EmptyText(ActionKind::Open)));
}

#[test]
fn id_numbers_in_free_text_are_masked() {
    let reg = registry();
    let open = OpenCase { summary: "身份证 11010519491231002X 遗失".into(), ..input("ST-A") };
    let c = Case::open(CaseId::new(2026, 3), open, &officer(), T0, &reg).unwrap();
    assert_eq!(c.summary, "身份证 110105********002X 遗失");
    let mut b = Bench::new();
    let c = b.ok(&c, &officer(), note("补充：11010519491231002X"));
    assert_eq!(c.notes[0].text, "补充：110105********002X");
    assert!(!c.history[1].detail.contains("11010519491231002X"));
}

// ---- guards common to all actions

#[test]
fn viewer_and_station_may_not_act() {
    let mut b = Bench::new();
    let c = new_case("ST-A");
    for actor in [viewer(), clerk()] {
        for action in all_actions() {
            let kind = action.kind();
            assert_eq!(b.err(&c, &actor, action), CaseError::WrongRole { role: actor.role, action: kind });
        }
    }
}

#[test]
fn only_supervisor_or_admin_approve_or_reject() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &officer(), Action::Accept);
    let c = b.ok(&c, &officer(), pay(6000));
    assert!(c.pending.is_some());
    assert_eq!(
        b.err(&c, &officer(), approve()),
        CaseError::WrongRole { role: Role::Officer, action: ActionKind::Approve }
    );
    assert_eq!(
        b.err(&c, &officer(), reject()),
        CaseError::WrongRole { role: Role::Officer, action: ActionKind::Reject }
    );
    assert!(b.act(&c, &admin(), approve()).is_ok());
    assert!(b.act(&c, &chief(), reject()).is_ok());
}

#[test]
fn stale_version_is_refused() {
    let b = Bench::new();
    let c = new_case("ST-A");
    let ctx = Context { registry: &b.reg, fund_balance: b.funds.balance("ST-A"), other_aid: &[], referral_id: None };
    // Two officers saw version 1; the first accepts.
    let first = apply(&c, &Action::Accept, &officer(), 1, T0 + MIN, &ctx).unwrap().case;
    assert_eq!(first.version, 2);
    let second = apply(&first, &note("我来处理"), &officer2(), 1, T0 + MIN, &ctx);
    let err = second.unwrap_err();
    assert_eq!(err, CaseError::StaleVersion { expected: 1, actual: 2 });
    assert_eq!(err.reason().zh, "案件已被他人修改，请刷新后重试");
    assert_eq!(err.reason().en, "the case changed, reload and try again");
    // A version from the future is just as stale.
    assert_eq!(
        apply(&first, &note("x"), &officer2(), 3, T0, &ctx),
        Err(CaseError::StaleVersion { expected: 3, actual: 2 })
    );
}

#[test]
fn each_applied_action_adds_one_history_entry_and_a_version() {
    let mut b = Bench::new();
    let mut c = new_case("ST-A");
    for action in [Action::Accept, dispatch("police"), pay(100), paperwork("票据"), note("n"), close("done")] {
        let applied = b.act(&c, &officer(), action).unwrap();
        assert_eq!(applied.case.version, c.version + 1);
        assert_eq!(applied.case.history.len(), c.history.len() + 1);
        assert_eq!(applied.case.history[..c.history.len()], c.history[..]);
        assert_eq!(applied.entry().user, "duty1");
        c = applied.case;
        assert_eq!(c.version as usize, c.history.len());
    }
    let actions: Vec<&str> = c.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["open", "accept", "dispatch", "pay", "paperwork", "note", "close"]);
}

// ---- accept

#[test]
fn accept() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &officer(), Action::Accept);
    assert_eq!(c.state, CaseState::Accepted);
    assert_eq!(c.accepted_at_ms, Some(T0 + MIN));
    assert_eq!(b.err(&c, &officer(), Action::Accept), wrong_state(CaseState::Accepted, ActionKind::Accept));
}

// ---- dispatch

#[test]
fn dispatch_transitions() {
    let mut b = Bench::new();
    let c = new_case("ST-A");
    assert_eq!(b.err(&c, &officer(), dispatch("police")), wrong_state(CaseState::New, ActionKind::Dispatch));
    let c = b.ok(&c, &officer(), Action::Accept);
    assert_eq!(b.err(&c, &officer(), dispatch("army")), CaseError::UnknownDepartment("army".into()));
    let c = b.ok(&c, &officer(), Action::Dispatch { department: "police".into(), note: Some(" 请核查 ".into()) });
    assert_eq!(c.state, CaseState::Dispatched);
    assert_eq!(c.history.last().unwrap().detail, "分办至公安（police），应在2天内答复；备注：请核查");
    assert_eq!(
        c.detail(c.history.len() - 1, true),
        "dispatched to 公安 (police), reply due within 2days; note: 请核查"
    );
    let c = b.ok(&c, &officer(), dispatch("health"));
    assert_eq!(c.state, CaseState::Dispatched);
    assert_eq!(c.departments, ["police", "health"]);
    assert_eq!(b.err(&c, &officer(), dispatch("police")), CaseError::AlreadyDispatched("police".into()));
}

#[test]
fn dispatch_after_aid_stays_aided() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &officer(), Action::Accept);
    let c = b.ok(&c, &officer(), pay(100));
    let c = b.ok(&c, &officer(), dispatch("police"));
    assert_eq!(c.state, CaseState::Aided);
    assert_eq!(c.departments, ["police"]);
}

// ---- refer

#[test]
fn refer_transitions() {
    let mut b = Bench::new();
    let c = new_case("ST-A");
    assert_eq!(b.err(&c, &officer(), refer("ST-X")), CaseError::UnknownStreet("ST-X".into()));
    assert_eq!(b.err(&c, &officer(), refer("ST-A")), CaseError::SameStreet("ST-A".into()));
    // Allowed straight from new.
    let r = b.ok(&c, &officer(), refer("ST-B"));
    assert_eq!(r.state, CaseState::Referred);
    assert_eq!(r.referred_to.as_deref(), Some("ST-B"));
    assert_eq!(r.closed_at_ms, Some(T0 + MIN));
    assert!(r.is_terminal());
    for action in all_actions() {
        let kind = action.kind();
        assert_eq!(b.err(&r, &admin(), action), wrong_state(CaseState::Referred, kind));
    }
}

#[test]
fn refer_needs_paperwork_and_no_pending_request() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &officer(), Action::Accept);
    let c = b.ok(&c, &officer(), pay(100));
    assert_eq!(b.err(&c, &officer(), refer("ST-B")), CaseError::PaperworkMissing { count: 1 });
    let c = b.ok(&c, &officer(), paperwork("票据已附"));
    let c = b.ok(&c, &officer(), pay(5000));
    assert_eq!(b.err(&c, &officer(), refer("ST-B")), CaseError::PendingRequestExists { amount: yuan(5000) });
    let c = b.ok(&c, &chief(), reject());
    let c = b.ok(&c, &officer(), refer("ST-B"));
    assert_eq!(c.state, CaseState::Referred);
    // Money paid here stays on this street's books.
    assert_eq!(b.funds.balance("ST-A"), yuan(9900));
    assert_eq!(b.funds.balance("ST-B"), yuan(1000));
}

// ---- pay, approve, reject

#[test]
fn pay_within_cap_is_paid_at_once() {
    let mut b = Bench::new();
    let c = new_case("ST-A");
    assert_eq!(b.err(&c, &officer(), pay(100)), wrong_state(CaseState::New, ActionKind::Pay));
    let c = b.ok(&c, &officer(), Action::Accept);
    let applied = b.act(&c, &officer(), Action::Pay { amount: Fen(300_050), note: Some("购买车票".into()) }).unwrap();
    assert_eq!(applied.debit, Some(Fen(300_050)));
    let c = applied.case;
    assert_eq!(c.state, CaseState::Aided);
    assert_eq!(c.payments.len(), 1);
    assert_eq!(c.payments[0].by, "duty1");
    assert_eq!(c.payments[0].approved_by, None);
    assert_eq!(c.history.last().unwrap().action, "pay");
    assert_eq!(
        c.history.last().unwrap().detail,
        "已支付 ¥3,000.50，来自北苑街道（ST-A）临时救助备用金；备注：购买车票"
    );
    assert_eq!(b.funds.balance("ST-A"), Fen(1_000_000 - 300_050));
    // Exactly up to the cap, cumulatively, is still no request.
    let c = b.ok(&c, &officer(), Action::Pay { amount: Fen(199_950), note: None });
    assert_eq!(c.paid_total(), yuan(5000));
    assert_eq!(c.pending, None);
    // Also from dispatched.
    let d = b.ok_after_accept(&new_case("ST-A"), &officer(), dispatch("police"));
    assert_eq!(b.ok(&d, &officer(), pay(1)).state, CaseState::Aided);
}

#[test]
fn pay_refusals() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-B"), &officer(), Action::Accept);
    assert_eq!(b.err(&c, &officer(), pay(0)), CaseError::InvalidAmount(Fen(0)));
    assert_eq!(b.err(&c, &officer(), pay(-5)), CaseError::InvalidAmount(yuan(-5)));
    // ST-B has ¥1,000.00; drain it to ¥300.00 on other cases.
    for _ in 0..2 {
        let other = b.ok(&new_case("ST-B"), &officer(), Action::Accept);
        b.ok(&other, &officer(), pay(350));
    }
    assert_eq!(b.funds.balance("ST-B"), yuan(300));
    let err = b.err(&c, &officer(), pay(400));
    assert_eq!(err, CaseError::FundExhausted { street: "ST-B".into(), balance: yuan(300), amount: yuan(400) });
    assert!(err.reason().en.contains("has only ¥300.00 left"), "{}", err.reason().en);
    assert!(err.reason().zh.contains("仅剩 ¥300.00"), "{}", err.reason().zh);
    // Above the cap but beyond the fund: refused too, not requested.
    assert!(matches!(b.err(&c, &officer(), pay(800)), CaseError::FundExhausted { .. }));
    // All of it is fine; then nothing is left.
    let c = b.ok(&c, &officer(), pay(300));
    assert_eq!(b.funds.balance("ST-B"), Fen(0));
    assert!(matches!(
        b.err(&c, &officer(), Action::Pay { amount: Fen(1), note: None }),
        CaseError::FundExhausted { .. }
    ));
}

#[test]
fn pay_above_cap_becomes_a_request_that_a_supervisor_approves() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &officer(), Action::Accept);
    let c = b.ok(&c, &officer(), pay(3000));
    let applied = b.act(&c, &officer(), Action::Pay { amount: yuan(2500), note: Some("住院押金".into()) }).unwrap();
    assert_eq!(applied.debit, None);
    let c = applied.case;
    assert_eq!(c.state, CaseState::Aided);
    assert_eq!(c.payments.len(), 1);
    let req = c.pending.clone().unwrap();
    assert_eq!((req.amount, req.by.as_str()), (yuan(2500), "duty1"));
    assert_eq!(c.history.last().unwrap().action, "pay_request");
    assert_eq!(b.funds.balance("ST-A"), yuan(7000));
    // Only one request at a time, and not even a small payment meanwhile.
    assert_eq!(b.err(&c, &officer(), pay(1)), CaseError::PendingRequestExists { amount: yuan(2500) });
    let applied = b.act(&c, &chief(), approve()).unwrap();
    assert_eq!(applied.debit, Some(yuan(2500)));
    let c = applied.case;
    assert_eq!(c.pending, None);
    assert_eq!(c.payments.len(), 2);
    assert_eq!(c.payments[1].by, "duty1");
    assert_eq!(c.payments[1].approved_by.as_deref(), Some("chief"));
    assert_eq!(c.payments[1].note.as_deref(), Some("住院押金"));
    assert_eq!(c.history.last().unwrap().action, "approve");
    assert_eq!(b.funds.balance("ST-A"), yuan(4500));
    assert_eq!(b.err(&c, &chief(), approve()), CaseError::NoPendingRequest);
    assert_eq!(b.err(&c, &chief(), reject()), CaseError::NoPendingRequest);
}

#[test]
fn a_supervisor_may_approve_own_request() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &chief(), Action::Accept);
    let c = b.ok(&c, &chief(), pay(8000));
    assert!(c.pending.is_some(), "a supervisor's own payment above the cap is still a request");
    let c = b.ok(&c, &chief(), approve());
    assert_eq!(c.payments[0].by, "chief");
    assert_eq!(c.payments[0].approved_by.as_deref(), Some("chief"));
    let who: Vec<_> = c.history.iter().map(|h| (h.action.as_str(), h.user.as_str())).collect();
    assert_eq!(who[2..], [("pay_request", "chief"), ("approve", "chief")]);
}

#[test]
fn approve_checks_the_fund_again() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-B"), &officer(), Action::Accept);
    let c = b.ok(&c, &officer(), pay(800)); // above the ¥500 cap: a request
    let other = b.ok(&new_case("ST-B"), &officer(), Action::Accept);
    b.ok(&other, &officer(), pay(500));
    assert_eq!(
        b.err(&c, &chief(), approve()),
        CaseError::FundExhausted { street: "ST-B".into(), balance: yuan(500), amount: yuan(800) }
    );
    // Rejecting is still possible; the request goes away, nothing is paid.
    let c = b.ok(&c, &chief(), Action::Reject { note: Some("金额过高".into()) });
    assert_eq!(c.pending, None);
    assert!(c.payments.is_empty());
    assert_eq!(c.state, CaseState::Accepted);
    assert_eq!(c.history.last().unwrap().detail, "驳回 duty1 申请的 ¥800.00，不予支付；备注：金额过高");
    assert_eq!(
        c.detail(c.history.len() - 1, true),
        "rejected duty1's request of ¥800.00: nothing paid; note: 金额过高"
    );
}

// ---- paperwork

#[test]
fn paperwork_files_the_oldest_missing_first() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &officer(), Action::Accept);
    assert_eq!(b.err(&c, &officer(), paperwork("x")), CaseError::NothingToFile);
    let c = b.ok(&c, &officer(), pay(100));
    let c = b.ok(&c, &officer(), pay(200));
    assert_eq!(b.err(&c, &officer(), paperwork("  ")), CaseError::EmptyText(ActionKind::Paperwork));
    let c = b.ok(&c, &officer(), paperwork("车票收据"));
    assert_eq!(c.payments[0].paperwork.as_deref(), Some("车票收据"));
    assert!(c.payments[0].paperwork_at_ms.is_some());
    assert_eq!(c.payments[1].paperwork, None);
    assert_eq!(c.history.last().unwrap().detail, "第 1 笔拨付（¥100.00）事后补充说明：车票收据");
    let c = b.ok(&c, &officer(), paperwork("餐费收据"));
    assert_eq!(c.payments[1].paperwork.as_deref(), Some("餐费收据"));
    assert_eq!(b.err(&c, &officer(), paperwork("x")), CaseError::NothingToFile);
}

// ---- note

#[test]
fn notes_on_any_open_case_but_not_on_ended_ones() {
    let mut b = Bench::new();
    let c = b.ok(&new_case("ST-A"), &officer(), note("已电话联系"));
    assert_eq!(c.state, CaseState::New);
    assert_eq!(c.notes.len(), 1);
    assert_eq!(c.notes[0].by, "duty1");
    assert_eq!(b.err(&c, &officer(), note("")), CaseError::EmptyText(ActionKind::Note));
    let c = b.ok_after_accept(&c, &officer(), close("已返乡"));
    assert_eq!(b.err(&c, &officer(), note("后续回访")), wrong_state(CaseState::Closed, ActionKind::Note));
}

// ---- close

#[test]
fn close_transitions() {
    let mut b = Bench::new();
    let c = new_case("ST-A");
    assert_eq!(b.err(&c, &officer(), close("x")), wrong_state(CaseState::New, ActionKind::Close));
    let c = b.ok(&c, &officer(), Action::Accept);
    assert_eq!(b.err(&c, &officer(), close(" ")), CaseError::EmptyText(ActionKind::Close));
    let c = b.ok(&c, &officer(), pay(100));
    let c = b.ok(&c, &officer(), pay(100));
    assert_eq!(b.err(&c, &officer(), close("x")), CaseError::PaperworkMissing { count: 2 });
    let c = b.ok(&c, &officer(), paperwork("a"));
    assert_eq!(b.err(&c, &officer(), close("x")), CaseError::PaperworkMissing { count: 1 });
    let c = b.ok(&c, &officer(), paperwork("b"));
    let c = b.ok(&c, &officer(), pay(6000));
    assert_eq!(b.err(&c, &officer(), close("x")), CaseError::PendingRequestExists { amount: yuan(6000) });
    let c = b.ok(&c, &chief(), reject());
    let closed = b.ok(&c, &officer(), close("已资助返乡"));
    assert_eq!(closed.state, CaseState::Closed);
    assert_eq!(closed.outcome.as_deref(), Some("已资助返乡"));
    assert!(closed.closed_at_ms.is_some());
    for action in all_actions() {
        let kind = action.kind();
        assert_eq!(b.err(&closed, &admin(), action), wrong_state(CaseState::Closed, kind));
    }
}

// ---- errors

#[test]
fn every_error_has_plain_bilingual_words() {
    let errors = [
        CaseError::WrongRole { role: Role::Viewer, action: ActionKind::Pay },
        CaseError::WrongRole { role: Role::Officer, action: ActionKind::Approve },
        CaseError::WrongRole { role: Role::Officer, action: ActionKind::Open },
        CaseError::WrongState { state: CaseState::New, action: ActionKind::Pay },
        CaseError::WrongState { state: CaseState::Accepted, action: ActionKind::Accept },
        CaseError::WrongState { state: CaseState::Closed, action: ActionKind::Note },
        CaseError::StaleVersion { expected: 1, actual: 2 },
        CaseError::FundExhausted { street: "ST-A".into(), balance: Fen(12), amount: Fen(100) },
        CaseError::NoPendingRequest,
        CaseError::PendingRequestExists { amount: Fen(1) },
        CaseError::PaperworkMissing { count: 1 },
        CaseError::UnknownDepartment("x".into()),
        CaseError::AlreadyDispatched("x".into()),
        CaseError::UnknownStreet("x".into()),
        CaseError::UnknownStation("x".into()),
        CaseError::SameStreet("x".into()),
        CaseError::InvalidAmount(Fen(0)),
        CaseError::NothingToFile,
        CaseError::EmptyText(ActionKind::Close),
    ];
    for e in errors {
        let r = e.reason();
        assert!(r.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{r:?}");
        assert!(r.en.is_ascii() || r.en.contains('¥'), "{r:?}");
        assert!(!r.en.contains("Some(") && !r.en.contains("{"), "{r:?}");
        assert_eq!(e.to_string(), r.to_string());
    }
    let r = CaseError::WrongState { state: CaseState::Closed, action: ActionKind::Note }.reason();
    assert_eq!(r.en, "the case is closed: no further action is possible");
    let r = CaseError::WrongRole { role: Role::Viewer, action: ActionKind::Pay }.reason();
    assert_eq!(r.zh, "您的角色（查看员）不能办理救急难案件");
}

// ---- deadlines

#[test]
fn deadlines_and_overdue() {
    let reg = registry();
    let limits = &reg.limits;
    let mut b = Bench::new();
    let c = new_case("ST-A");
    let d = deadlines(&c, limits);
    assert_eq!(
        d,
        Deadlines {
            accept_by_ms: T0 + 30 * MIN,
            close_by_ms: T0 + 72 * HOUR,
            paperwork_due_ms: None,
            reply_due_ms: None
        }
    );
    assert!(!overdue(&c, limits, T0 + 30 * MIN));
    assert_eq!(overdue_items(&c, limits, T0 + 30 * MIN + 1), [Overdue::Accept]);
    let c = b.ok(&c, &officer(), Action::Accept); // at T0 + 1 min
    assert!(!overdue(&c, limits, T0 + 72 * HOUR));
    assert_eq!(overdue_items(&c, limits, T0 + 72 * HOUR + 1), [Overdue::Close]);
    b.now = T0 + HOUR;
    let c = b.ok(&c, &officer(), pay(100));
    b.now = T0 + 2 * HOUR;
    let c = b.ok(&c, &officer(), pay(100));
    let d = deadlines(&c, limits);
    assert_eq!(d.paperwork_due_ms, Some(T0 + HOUR + 120 * HOUR));
    let c = b.ok(&c, &officer(), paperwork("a"));
    let d = deadlines(&c, limits);
    assert_eq!(d.paperwork_due_ms, Some(T0 + 2 * HOUR + 120 * HOUR));
    let late = T0 + 2 * HOUR + 120 * HOUR + 1;
    assert_eq!(overdue_items(&c, limits, late), [Overdue::Close, Overdue::Paperwork]);
    let c = b.ok(&c, &officer(), paperwork("b"));
    let c = b.ok(&c, &officer(), close("done"));
    assert!(!overdue(&c, limits, late));
    assert_eq!(Overdue::Paperwork.reason().zh, "事后补充说明逾期");
}

// ---- duplicate aid

fn protected(id: &str) -> ProtectedId {
    IdNumber::parse(id).unwrap().protect(&IdHasher::new([9; 32]))
}

#[test]
fn person_keys() {
    let p = protected("11010519491231002X");
    assert_eq!(PersonKey::of(Some(&p), Some("王芳"), None), Some(PersonKey::Id(p.hash)));
    assert_eq!(
        PersonKey::of(None, Some(" 王 芳 "), Some("S1")),
        Some(PersonKey::NameStation { name: "王芳".into(), station: "S1".into() })
    );
    assert_eq!(PersonKey::of(None, Some("王芳"), None), None);
    assert_eq!(PersonKey::of(None, Some("无名氏"), Some("S1")), None);
    assert_eq!(PersonKey::of(None, None, Some("S1")), None);
}

#[test]
fn duplicate_aid_warnings() {
    let me = PersonKey::Id(protected("11010519491231002X").hash);
    let someone_else = PersonKey::Id(protected("34052419800101001X").hash);
    let this = CaseId::new(2026, 10);
    let rec = |person: &PersonKey, case: u32, street: &str, at: i64| AidRecord {
        person: person.clone(),
        case_id: CaseId::new(2026, case),
        street: street.into(),
        at_ms: at,
        amount: yuan(300),
    };
    let now = T0 + 40 * 24 * HOUR;
    let others = [
        rec(&me, 1, "ST-A", now - 29 * 24 * HOUR),  // same street, within 30 days
        rec(&me, 2, "ST-A", now - 31 * 24 * HOUR),  // same street, long ago: fine
        rec(&me, 3, "ST-B", now - 300 * 24 * HOUR), // another street
        rec(&me, 10, "ST-A", now - HOUR),           // this very case
        rec(&someone_else, 4, "ST-A", now - HOUR),  // someone else
    ];
    let w = duplicate_aid(&me, &this, "ST-A", now, &others);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        matches!(&w[0], CaseWarning::DuplicateAid { other_case, within_30_days: true, other_street_differs: false, .. } if other_case.seq() == Some(1))
    );
    assert!(
        matches!(&w[1], CaseWarning::DuplicateAid { other_case, within_30_days: false, other_street_differs: true, .. } if other_case.seq() == Some(3))
    );
    let r = w[1].reason();
    assert!(r.zh.contains("另一街道") && r.en.contains("another street"), "{r:?}");
    let r = w[0].reason();
    assert!(r.en.contains("within 30 days") && !r.en.contains("  "), "{r:?}");
}

#[test]
fn pay_and_approve_warn_but_apply() {
    let reg = registry();
    let p = protected("11010519491231002X");
    let open = |n: u32, street: &str| {
        let input = OpenCase { person: Some(p.clone()), ..input(street) };
        Case::open(CaseId::new(2026, n), input, &officer(), T0, &reg).unwrap()
    };
    let mut b = Bench::new();
    let first = b.ok_after_accept(&open(1, "ST-B"), &officer(), pay(200));
    assert_eq!(first.aid_records().len(), 1);
    b.other_aid = first.aid_records();
    let second = b.ok(&open(2, "ST-A"), &officer(), Action::Accept);
    let applied = b.act(&second, &officer(), pay(100)).unwrap();
    assert_eq!(applied.warnings.len(), 1);
    assert!(matches!(
        &applied.warnings[0],
        CaseWarning::DuplicateAid { within_30_days: true, other_street_differs: true, .. }
    ));
    let requested = b.act(&applied.case, &officer(), pay(6000)).unwrap();
    assert_eq!(requested.warnings.len(), 1, "the supervisor sees it on the request too");
    let approved = b.act(&requested.case, &chief(), approve()).unwrap();
    assert_eq!(approved.warnings.len(), 1);
    // Without a key (no ID, no station) nothing can be matched.
    assert!(new_case("ST-A").aid_records().is_empty());
}

// ---- funds

#[test]
fn funds() {
    let reg = registry();
    let mut f = Funds::from_registry(&reg);
    assert_eq!(f.balance("ST-A"), yuan(10000));
    assert_eq!(f.balance("ST-X"), Fen(0));
    assert_eq!(f.debit("ST-B", yuan(400)), Ok(yuan(600)));
    assert_eq!(
        f.debit("ST-B", yuan(601)),
        Err(CaseError::FundExhausted { street: "ST-B".into(), balance: yuan(600), amount: yuan(601) })
    );
    assert_eq!(f.debit("ST-B", Fen(0)), Err(CaseError::InvalidAmount(Fen(0))));
    assert_eq!(f.debit("ST-B", yuan(600)), Ok(Fen(0)));
    // A registry top-up keeps what was paid.
    let topped = Registry::parse(&REGISTRY.replace("reserve_fund = 1000.00", "reserve_fund = 3000.00")).unwrap();
    f.sync(&topped);
    assert_eq!(f.balance("ST-B"), yuan(2000));
    // Lowered below what was paid: zero, never negative.
    let lowered = Registry::parse(&REGISTRY.replace("reserve_fund = 1000.00", "reserve_fund = 500.00")).unwrap();
    f.sync(&lowered);
    assert_eq!(f.balance("ST-B"), Fen(0));
    assert_eq!(f.streets["ST-B"].paid, yuan(1000));
}

#[test]
fn funds_tally_matches_debits() {
    let mut b = Bench::new();
    let a = b.ok_after_accept(&new_case("ST-A"), &officer(), pay(1234));
    let c = b.ok_after_accept(&new_case("ST-B"), &officer(), pay(321));
    assert_eq!(Funds::tally(&b.reg, [&a, &c]), b.funds);
}

// ---- names and serde

#[test]
fn case_ids() {
    let id = CaseId::new(2026, 123);
    assert_eq!(id.as_str(), "JJN-2026-000123");
    assert_eq!(CaseId::parse(" jjn-2026-000123 "), Some(id.clone()));
    assert_eq!((id.year(), id.seq()), (Some(2026), Some(123)));
    assert_eq!(CaseId::new(2026, 1_234_567).as_str(), "JJN-2026-1234567");
    for bad in ["", "JJN-2026-123", "ABC-2026-000123", "JJN-26-000123", "JJN-2026-00012a", "JJN-2026-000123-1"] {
        assert_eq!(CaseId::parse(bad), None, "{bad}");
        assert_eq!(CaseId::seq_of(bad), None, "{bad}");
    }
    assert_eq!(CaseId::seq_of(" jjn-2026-000123 "), Some(123));
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"JJN-2026-000123\"");
}

#[test]
fn enumeration_names() {
    let names: Vec<String> = CaseState::ALL.iter().map(|s| serde_json::to_string(s).unwrap()).collect();
    assert_eq!(names, ["\"new\"", "\"accepted\"", "\"dispatched\"", "\"referred\"", "\"aided\"", "\"closed\""]);
    for s in CaseState::ALL {
        assert_eq!(CaseState::parse(s.as_str()), Some(s));
        assert_eq!(CaseState::parse(s.zh()), Some(s));
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
    }
    assert_eq!(CaseState::Aided.zh(), "已先行救助");
    for s in Source::ALL {
        assert_eq!(Source::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
    }
    assert_eq!(Source::parse("walk-in"), Some(Source::WalkIn));
    assert_eq!(Source::ALL.iter().filter(|s| s.daemon_opened()).count(), 5);
    assert_eq!(Urgency::parse("HIGH"), Some(Urgency::High));
    assert_eq!(Urgency::parse("紧急"), Some(Urgency::High));
}

#[test]
fn case_and_action_json() {
    let mut b = Bench::new();
    let c = b.ok_after_accept(&new_case("ST-A"), &officer(), pay(10));
    let back: Case = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    let a = Action::Pay { amount: Fen(50_000), note: None };
    assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"action":"pay","amount":50000,"note":null}"#);
    assert_eq!(serde_json::from_str::<Action>(r#"{"action":"accept"}"#).unwrap(), Action::Accept);
}

// ---- property test over random sequences

mod prop {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::{select, Index};

    const PROP_REGISTRY: &str = r#"
[[station]]
id = "S1"
name = "救助管理站"
street = "ST-A"
kind = "station"
beds = 10

[[street]]
id = "ST-A"
name = "北苑街道"
reserve_fund = 2000.00
case_cap = 500.00

[[street]]
id = "ST-B"
name = "中仓街道"
reserve_fund = 800.00
case_cap = 300.00

[[department]]
id = "police"
name = "公安"

[[department]]
id = "health"
name = "卫健"
"#;

    fn actors() -> Vec<Actor> {
        // Weighted towards those who may act.
        vec![viewer(), clerk(), officer(), officer(), officer2(), officer2(), chief(), chief(), admin()]
    }

    fn text() -> impl Strategy<Value = String> {
        select(vec!["", " ", "说明", "ok"]).prop_map(str::to_string)
    }

    fn opt_note() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(text())
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            2 => Just(Action::Accept),
            1 => (select(vec!["police", "health", "army"]), opt_note())
                .prop_map(|(d, note)| Action::Dispatch { department: d.into(), note }),
            1 => (select(vec!["ST-A", "ST-B", "ST-X", "ST-A", "ST-B", "ST-X", "ST-B"]), opt_note())
                .prop_map(|(s, note)| Action::Refer { street: s.into(), note }),
            6 => (prop_oneof![1 => -500i64..=0, 8 => 1i64..=80_000], opt_note())
                .prop_map(|(fen, note)| Action::Pay { amount: Fen(fen), note }),
            2 => opt_note().prop_map(|note| Action::Approve { note }),
            1 => opt_note().prop_map(|note| Action::Reject { note }),
            3 => text().prop_map(|text| Action::Paperwork { text }),
            1 => text().prop_map(|text| Action::Note { text }),
            1 => text().prop_map(|outcome| Action::Close { outcome }),
        ]
    }

    #[derive(Debug, Clone)]
    struct Step {
        case: usize,
        actor: usize,
        action: Action,
        stale: bool,
        advance_ms: i64,
    }

    fn step() -> impl Strategy<Value = Step> {
        (0usize..3, 0usize..9, action(), proptest::bool::weighted(0.1), 0i64..4 * HOUR)
            .prop_map(|(case, actor, action, stale, advance_ms)| Step { case, actor, action, stale, advance_ms })
    }

    fn tamper(e: &mut AuditEntry, field: usize) {
        match field {
            0 => e.seq = e.seq.wrapping_add(1),
            1 => e.at_ms = e.at_ms.wrapping_add(1),
            2 => e.user.push('x'),
            3 => e.case_id = if e.case_id.is_some() { None } else { Some("JJN-2026-999999".into()) },
            4 => e.action.push('x'),
            5 => e.detail.push('x'),
            6 => e.prev_hash[0] ^= 1,
            _ => e.hash[0] ^= 1,
        }
    }

    /// No payment beyond the street's cap without a supervisor's approval entry.
    fn check_cap(case: &Case, cap: Fen) -> Result<(), TestCaseError> {
        let mut running = 0i64;
        for p in &case.payments {
            if running + p.amount.0 > cap.0 {
                let by = p.approved_by.as_deref();
                prop_assert!(by.is_some(), "{} paid above the cap without approval", p.amount);
                prop_assert!(
                    case.history
                        .iter()
                        .any(|h| h.action == "approve" && Some(h.user.as_str()) == by && h.at_ms == p.at_ms),
                    "no approve entry for {:?}",
                    p
                );
            }
            if let Some(by) = &p.approved_by {
                prop_assert!(["chief", "root"].contains(&by.as_str()), "approved by {}", by);
            }
            running += p.amount.0;
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_sequences_keep_the_invariants(
            streets in proptest::collection::vec(select(vec!["ST-A", "ST-B"]), 3),
            same_person in any::<bool>(),
            steps in proptest::collection::vec(step(), 1..120),
            tamper_at in any::<Index>(),
            tamper_field in 0usize..8,
        ) {
            let reg = Registry::parse(PROP_REGISTRY).unwrap();
            let actors = actors();
            let initial: BTreeMap<&str, Fen> = [("ST-A", yuan(2000)), ("ST-B", yuan(800))].into();
            let mut funds = Funds::from_registry(&reg);
            let mut audit: Vec<AuditEntry> = Vec::new();
            let mut now = T0;
            let person = protected("11010519491231002X");
            let mut cases: Vec<Case> = Vec::new();
            for (i, street) in streets.iter().enumerate() {
                let input = OpenCase {
                    person: (same_person && i < 2).then(|| person.clone()),
                    ..input(street)
                };
                let c = Case::open(CaseId::new(2026, i as u32 + 1), input, &officer(), now, &reg).unwrap();
                audit.push(audit::append_case_entry(audit.last(), &c.id, &c.history[0]));
                cases.push(c);
            }

            for s in &steps {
                now += s.advance_ms;
                let before = cases[s.case].clone();
                let actor = &actors[s.actor];
                let expected = if s.stale { before.version - 1 } else { before.version };
                let other_aid: Vec<AidRecord> = cases.iter().flat_map(Case::aid_records).collect();
                let ctx = Context { registry: &reg, fund_balance: funds.balance(&before.street), other_aid: &other_aid, referral_id: None };
                match apply(&before, &s.action, actor, expected, now, &ctx) {
                    Ok(applied) => {
                        prop_assert!(role_allows(actor.role, s.action.kind()));
                        prop_assert!(!s.stale);
                        prop_assert!(!before.is_terminal(), "{:?} applied to a {} case", s.action, before.state);
                        let after = &applied.case;
                        prop_assert_eq!(after.version, before.version + 1);
                        prop_assert_eq!(after.history.len(), before.history.len() + 1);
                        prop_assert_eq!(&after.history[..before.history.len()], &before.history[..]);
                        prop_assert_eq!(&after.id, &before.id);
                        prop_assert_eq!(&after.street, &before.street);
                        // Payments are only ever appended, and a new one is exactly the debit.
                        prop_assert!(after.payments.len() <= before.payments.len() + 1);
                        prop_assert_eq!(&after.payments[..before.payments.len()].iter().map(|p| p.amount).collect::<Vec<_>>(),
                                        &before.payments.iter().map(|p| p.amount).collect::<Vec<_>>());
                        let new_payment = after.payments.get(before.payments.len()).map(|p| p.amount);
                        prop_assert_eq!(new_payment, applied.debit);
                        if let Some(d) = applied.debit {
                            prop_assert!(d.0 > 0);
                            funds.debit(&before.street, d).expect("apply checked the balance");
                        }
                        audit.push(audit::append_case_entry(audit.last(), &after.id, applied.entry()));
                        cases[s.case] = applied.case;
                    }
                    Err(e) => {
                        if !role_allows(actor.role, s.action.kind()) {
                            prop_assert!(matches!(e, CaseError::WrongRole { .. }), "{:?}", e);
                        } else if s.stale {
                            prop_assert_eq!(e, CaseError::StaleVersion { expected, actual: before.version });
                        } else if before.is_terminal() {
                            prop_assert_eq!(e, CaseError::WrongState { state: before.state, action: s.action.kind() });
                        }
                    }
                }

                // Invariants after every step.
                for (street, initial) in &initial {
                    let paid: i64 = cases.iter().filter(|c| c.street == *street).map(|c| c.paid_total().0).sum();
                    prop_assert_eq!(funds.balance(street), Fen(initial.0 - paid));
                    prop_assert!(funds.balance(street).0 >= 0);
                }
                prop_assert_eq!(&Funds::tally(&reg, &cases), &funds);
                for c in &cases {
                    prop_assert_eq!(c.version as usize, c.history.len());
                    check_cap(c, reg.street(&c.street).unwrap().case_cap)?;
                    if c.state == CaseState::Closed || c.state == CaseState::Referred {
                        prop_assert!(c.pending.is_none());
                        prop_assert_eq!(c.payments_missing_paperwork().count(), 0);
                    }
                    if c.state == CaseState::Aided {
                        prop_assert!(!c.payments.is_empty());
                    }
                }
                let history_total: usize = cases.iter().map(|c| c.history.len()).sum();
                prop_assert_eq!(audit.len(), history_total);
            }

            // The audit trail verifies, and breaks exactly where it is changed.
            prop_assert_eq!(audit::verify(&audit), Ok(audit.len() as u64));
            let i = tamper_at.index(audit.len());
            let mut tampered = audit.clone();
            tamper(&mut tampered[i], tamper_field);
            let err = audit::verify(&tampered).unwrap_err();
            prop_assert_eq!(err.seq, i as u64 + 1, "field {} of entry {}: {:?}", tamper_field, i, err);
        }
    }
}

// -----------------------------------------------------------------------------------------
// The desk rules: replies, reopen, referral links, later events, communities, old cases.

fn reply(d: &str, text: &str) -> Action {
    Action::Reply { department: d.into(), text: text.into() }
}

#[test]
fn dispatch_sets_a_reply_due_and_a_reply_clears_it() {
    let mut b = Bench::new();
    let c = b.ok_after_accept(&new_case("ST-A"), &officer(), dispatch("police"));
    let at = b.now - MIN;
    let d = c.dispatch("police").unwrap().clone();
    assert_eq!((d.dispatched_at_ms, d.reply_due_ms), (at, at + 48 * HOUR), "default reply_within 48h");
    assert_eq!(deadlines(&c, &b.reg.limits).reply_due_ms, Some(at + 48 * HOUR));
    let c = b.ok(&c, &officer(), dispatch("health"));
    assert_eq!(b.err(&c, &officer(), reply("police", " ")), CaseError::EmptyText(ActionKind::Reply));
    let c = b.ok(&c, &officer(), reply("police", "已立案"));
    assert_eq!(b.err(&c, &officer(), reply("police", "再答")), CaseError::AlreadyReplied("police".into()));
    assert_eq!(b.err(&c, &officer(), reply("nobody", "x")), CaseError::NotDispatched("nobody".into()));
    assert_eq!(c.history.last().unwrap().detail, "公安（police）答复：已立案");
    assert_eq!(c.detail(c.history.len() - 1, true), "reply from 公安 (police): 已立案");
    // Only health is still waiting: its deadline is the case's reply due.
    let due = c.dispatch("health").unwrap().reply_due_ms;
    assert_eq!(deadlines(&c, &b.reg.limits).reply_due_ms, Some(due));
    let limits = &b.reg.limits;
    assert!(!overdue_items(&c, limits, due).contains(&Overdue::Reply));
    assert!(overdue_items(&c, limits, due + 1).contains(&Overdue::Reply));
    assert_eq!(overdue_departments(&c, due + 1), ["health"]);
    let words = overdue_words(&c, &b.reg, due + 1);
    assert!(words.iter().any(|r| r.zh == "卫健（health）逾期未答复"), "{words:?}");
    let c = b.ok(&c, &officer(), reply("health", "已安排就医"));
    assert!(overdue_departments(&c, due + 1).is_empty());
    assert_eq!(c.version as usize, c.history.len());
    assert_eq!(c.ext.history_en.len(), c.history.len());
}

#[test]
fn a_supervisor_reopens_a_closed_case() {
    let mut b = Bench::new();
    let c = b.ok_after_accept(&new_case("ST-A"), &officer(), close("已解决"));
    assert_eq!(
        b.err(&c, &officer(), Action::Reopen { reason: "再次求助".into() }),
        CaseError::WrongRole { role: Role::Officer, action: ActionKind::Reopen }
    );
    let r = b.err(&c, &officer(), Action::Reopen { reason: "x".into() }).reason();
    assert!(r.zh.contains("主管") && r.en.contains("supervisor"), "{r:?}");
    let open = b.ok(&c, &chief(), Action::Reopen { reason: "再次求助".into() });
    assert_eq!((open.state, open.closed_at_ms, open.outcome.clone()), (CaseState::Accepted, None, None));
    assert_eq!(open.history.last().unwrap().action, "reopen");
    assert!(open.history.last().unwrap().detail.contains("再次求助"));
    // Only closed cases: not an open one, not a referred one.
    assert!(matches!(b.err(&open, &chief(), Action::Reopen { reason: "x".into() }), CaseError::WrongState { .. }));
    let referred = b.ok(&new_case("ST-A"), &officer(), refer("ST-B"));
    assert!(matches!(b.err(&referred, &admin(), Action::Reopen { reason: "x".into() }), CaseError::WrongState { .. }));
}

#[test]
fn a_referral_names_the_linked_case_which_opens_new_in_the_other_street() {
    let reg = registry();
    let c = new_case("ST-A");
    let new_id = CaseId::new(2026, 2);
    let ctx = Context { registry: &reg, fund_balance: Fen(0), other_aid: &[], referral_id: Some(&new_id) };
    let old = apply(&c, &refer("ST-B"), &officer(), 1, T0 + MIN, &ctx).unwrap().case;
    assert_eq!(old.ext.referred_to_case.as_ref(), Some(&new_id));
    assert!(old.history.last().unwrap().detail.contains("JJN-2026-000002"));
    let new = referred_in(&old, new_id.clone(), &officer(), T0 + MIN, &reg).unwrap();
    assert_eq!((new.state, new.street.as_str(), new.version), (CaseState::New, "ST-B", 1));
    assert_eq!(new.ext.referred_from.as_ref(), Some(&c.id));
    assert_eq!(new.history[0].action, "open");
    assert!(new.history[0].detail.contains(c.id.as_str()));
    assert!(referred_in(&c, new_id, &officer(), T0, &reg).is_none(), "only a referred case hands off");
}

#[test]
fn later_events_join_the_open_case_and_raise_its_urgency() {
    let reg = registry();
    let input = OpenCase {
        street: "ST-A".into(),
        summary: "救助管理站 报告异常（受伤）".into(),
        summary_en: Some("incident (injury)".into()),
        station: Some("S1".into()),
        person_ref: Some("P-1".into()),
        source: Some(Source::LongStay),
        ..OpenCase::default()
    };
    let c = Case::open(CaseId::new(2026, 1), input.clone(), &Actor::daemon(), T0, &reg).unwrap();
    assert_eq!(c.person_links(), [PersonLink::Station { station: "S1".into(), person_ref: "P-1".into() }]);
    assert_eq!(c.summary_in(true), "incident (injury)");
    let death =
        OpenCase {
            summary: "受助人死亡".into(), summary_en: Some("died".into()), urgency: Urgency::High, ..input
        };
    let c2 = add_event(&c, "death:S1/P-1", &death, &Actor::daemon(), T0 + HOUR);
    assert_eq!((c2.version, c2.urgency), (2, Urgency::High));
    assert_eq!(c2.history[1].action, "event");
    assert!(c2.history[1].detail.contains("受助人死亡") && c2.history[1].detail.contains("紧急"));
    assert!(c2.detail(1, true).contains("died") && c2.detail(1, true).contains("urgency raised"));
    assert_eq!(c2.all_triggers().collect::<Vec<_>>(), ["death:S1/P-1"]);
    // An ended case has no links: a later trigger opens a new case.
    let mut ended = c2.clone();
    ended.state = CaseState::Closed;
    assert!(ended.person_links().is_empty());
}

#[test]
fn communities_must_belong_to_the_street() {
    let reg = registry();
    let with = |street: &str, k: &str| OpenCase { community: Some(k.into()), ..input(street) };
    let c = Case::open(CaseId::new(2026, 1), with("ST-A", "SQ-A1"), &officer(), T0, &reg).unwrap();
    assert_eq!(c.ext.community.as_deref(), Some("SQ-A1"));
    assert!(c.history[0].detail.contains("北苑社区"));
    assert_eq!(
        Case::open(CaseId::new(2026, 1), with("ST-B", "SQ-A1"), &officer(), T0, &reg).unwrap_err(),
        CaseError::CommunityElsewhere { community: "SQ-A1".into(), street: "ST-A".into() }
    );
    assert_eq!(
        Case::open(CaseId::new(2026, 1), with("ST-A", "SQ-X"), &officer(), T0, &reg).unwrap_err(),
        CaseError::UnknownCommunity("SQ-X".into())
    );
}

#[test]
fn histories_are_plain_words_in_both_languages() {
    let mut b = Bench::new();
    let c = b.ok_after_accept(&new_case("ST-A"), &officer(), pay(8000));
    let entry = c.history.last().unwrap();
    assert_eq!(entry.action, "pay_request");
    assert!(entry.detail.contains("一事一议") && !entry.detail.contains("cap"), "{}", entry.detail);
    assert!(c.detail(c.history.len() - 1, true).contains("above the case cap ¥5,000.00"));
    let c = b.ok(&c, &chief(), Action::Approve { note: None });
    assert!(c.history.last().unwrap().detail.starts_with(&approve_detail_head(yuan(8000), "duty1")));
    for (i, h) in c.history.iter().enumerate() {
        assert!(!h.detail.contains("walk_in") && !h.detail.contains("requested by"), "{h:?}");
        assert!(!c.detail(i, true).is_empty());
    }
}

#[test]
fn a_case_stored_without_the_extension_still_reads() {
    // JSON without `ext` (and postcard ending before it, see the daemon's store test).
    let c = new_case("ST-A");
    let mut v = serde_json::to_value(&c).unwrap();
    v.as_object_mut().unwrap().remove("ext");
    v["departments"] = serde_json::json!(["police"]);
    let old: Case = serde_json::from_value(v).unwrap();
    assert_eq!(old.ext, CaseExt::default());
    assert_eq!(old.departments, ["police"]);
    assert!(old.dispatch("police").is_none(), "no reply clock for an old dispatch");
    assert_eq!(old.detail(0, true), old.history[0].detail, "Chinese where no English was kept");
    assert_eq!(deadlines(&old, &registry().limits).reply_due_ms, None);
}
