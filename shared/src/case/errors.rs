//! Errors and warnings of case actions: [`CaseError`] (refused, nothing changes) and
//! [`CaseWarning`] (applied, but an officer should look), each with a bilingual reason.

use super::{role_str, ActionKind, CaseId, CaseState};
use crate::reason::Reason;
use crate::refusal::{Refusal, RefusalCode};
use crate::registry::{Fen, Role};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an action was refused. [`CaseError::reason`] says it in plain Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// The actor's role may not take this action.
    WrongRole {
        /// The actor's role.
        role: Role,
        /// The action it may not take.
        action: ActionKind,
    },
    /// The case's state does not allow this action.
    WrongState {
        /// The case's current state.
        state: CaseState,
        /// The action that state does not allow.
        action: ActionKind,
    },
    /// The case changed since the actor saw it.
    StaleVersion {
        /// The version the actor saw.
        expected: u64,
        /// The case's version now.
        actual: u64,
    },
    /// The street's reserve fund cannot cover the amount.
    FundExhausted {
        /// The street whose fund would pay.
        street: String,
        /// What is left in the fund.
        balance: Fen,
        /// The amount asked for.
        amount: Fen,
    },
    /// Approve or reject without a pending request.
    NoPendingRequest,
    /// A request is already pending (pay), or must be decided first (close, refer).
    PendingRequestExists {
        /// The amount of the pending request.
        amount: Fen,
    },
    /// Close or refer while payments lack their paperwork.
    PaperworkMissing {
        /// How many payments lack their paperwork.
        count: usize,
    },
    /// No department with this id in the registry.
    UnknownDepartment(String),
    /// The case is already dispatched to this department.
    AlreadyDispatched(String),
    /// No street with this id in the registry.
    UnknownStreet(String),
    /// No rescue station with this id in the registry.
    UnknownStation(String),
    /// Refer to the case's own street.
    SameStreet(String),
    /// Zero, negative, or too large.
    InvalidAmount(Fen),
    /// Paperwork when every payment has its paperwork.
    NothingToFile,
    /// The action needs text (summary, note, paperwork, outcome) and got none.
    EmptyText(ActionKind),
    /// No community (社区/村) with this id in the registry.
    UnknownCommunity(String),
    /// The community belongs to another street.
    CommunityElsewhere {
        /// The community given.
        community: String,
        /// The street the case belongs to.
        street: String,
    },
    /// A reply from a department the case was not dispatched to (with a reply clock).
    NotDispatched(String),
    /// This department has already replied.
    AlreadyReplied(String),
}

impl CaseError {
    /// How a client should take the refusal: the role may not (`forbidden`), something named
    /// does not exist (`not_found`), the case as it stands now does not allow it (`conflict`:
    /// its state, a newer version, something already done), or a rule says no (`rejected`).
    pub fn code(&self) -> RefusalCode {
        use CaseError::*;
        match self {
            WrongRole { .. } => RefusalCode::Forbidden,
            UnknownDepartment(_) | UnknownStreet(_) | UnknownStation(_) | UnknownCommunity(_) => RefusalCode::NotFound,
            WrongState { .. }
            | StaleVersion { .. }
            | NoPendingRequest
            | PendingRequestExists { .. }
            | AlreadyDispatched(_)
            | AlreadyReplied(_)
            | NothingToFile => RefusalCode::Conflict,
            FundExhausted { .. }
            | PaperworkMissing { .. }
            | SameStreet(_)
            | InvalidAmount(_)
            | EmptyText(_)
            | CommunityElsewhere { .. }
            | NotDispatched(_) => RefusalCode::Rejected,
        }
    }

    /// The refusal a client gets: [`CaseError::code`] and [`CaseError::reason`].
    pub fn refusal(&self) -> Refusal {
        Refusal::new(self.code(), self.reason())
    }

    /// The message for the officer.
    pub fn reason(&self) -> Reason {
        use CaseError::*;
        match self {
            WrongRole { role, action } => {
                let (rzh, ren) = role_str(*role);
                match (role, action) {
                    (Role::Viewer | Role::Station, _) => Reason::new(
                        format!("您的角色（{rzh}）不能办理救急难案件"),
                        format!("your role ({ren}) may not act on cases"),
                    ),
                    (_, ActionKind::Reopen) => Reason::new(
                        format!("只有主管或管理员可以重新办理已办结的案件，您的角色是{rzh}"),
                        format!("only a supervisor or admin may reopen a closed case; your role is {ren}"),
                    ),
                    (_, ActionKind::Approve | ActionKind::Reject) => Reason::new(
                        format!("只有主管或管理员可以{}超额拨付申请，您的角色是{rzh}", action.zh()),
                        format!(
                            "only a supervisor or admin may {} a payment request; your role is {ren}",
                            action.en_verb()
                        ),
                    ),
                    (_, ActionKind::Open) => Reason::new(
                        format!("此类案件由系统自动登记，您的角色（{rzh}）不能登记"),
                        format!("cases from this source are opened by the daemon; your role ({ren}) may not open them"),
                    ),
                    _ => Reason::new(
                        format!("您的角色（{rzh}）不能{}", action.zh()),
                        format!("your role ({ren}) may not {}", action.en_verb()),
                    ),
                }
            }
            WrongState { state, action } => {
                let s = state.as_str();
                if state.is_terminal() {
                    Reason::new(
                        format!("案件{}，不能再做任何操作", state.zh()),
                        format!("the case is {s}: no further action is possible"),
                    )
                } else if *state == CaseState::New {
                    Reason::new(
                        format!("案件尚未受理，请先受理再{}", action.zh()),
                        format!("the case is not accepted yet: accept it before you {}", action.en_verb()),
                    )
                } else {
                    Reason::new(
                        format!("案件当前为「{}」，不能{}", state.zh(), action.zh()),
                        format!("the case is {s}: cannot {}", action.en_verb()),
                    )
                }
            }
            StaleVersion { .. } => {
                Reason::new("案件已被他人修改，请刷新后重试", "the case changed, reload and try again")
            }
            FundExhausted { street, balance, amount } => Reason::new(
                format!("街道 {street} 的临时救助备用金仅剩 {balance}，不足以拨付 {amount}"),
                format!("the street's reserve fund ({street}) has only {balance} left, not enough for {amount}"),
            ),
            NoPendingRequest => Reason::new("没有待审批的拨付申请", "there is no payment request pending approval"),
            PendingRequestExists { amount } => Reason::new(
                format!("已有一笔 {amount} 的拨付申请待审批，请先审批或驳回"),
                format!("a payment request of {amount} is pending: approve or reject it first"),
            ),
            PaperworkMissing { count } => Reason::new(
                format!("还有 {count} 笔救助金未提交事后补充说明，案件不能办结或转办"),
                format!("{count} payment(s) still lack their paperwork: file it before closing or referring"),
            ),
            UnknownDepartment(d) => Reason::new(
                format!("没有编号为 {d} 的部门，请检查登记表中的 [[department]]"),
                format!("there is no department {d}: see [[department]] in the registry"),
            ),
            AlreadyDispatched(d) => Reason::new(
                format!("案件已分办至 {d}，如需催办请添加备注"),
                format!("the case is already dispatched to {d}: add a note to follow up"),
            ),
            UnknownStreet(s) => Reason::new(
                format!("没有编号为 {s} 的街道/乡镇，请检查登记表中的 [[street]]"),
                format!("there is no street {s}: see [[street]] in the registry"),
            ),
            UnknownStation(s) => Reason::new(
                format!("没有编号为 {s} 的救助站，请检查登记表中的 [[station]]"),
                format!("there is no station {s}: see [[station]] in the registry"),
            ),
            SameStreet(s) => Reason::new(
                format!("案件已由 {s} 办理，不能转办给本街道"),
                format!("the case is already with {s}: refer it to another street"),
            ),
            InvalidAmount(a) => Reason::new(
                format!("金额 {a} 无效：请填写大于零的金额（元），例如 500 或 500.00"),
                format!("{a} is not a valid amount: give more than zero yuan, e.g. 500 or 500.00"),
            ),
            NothingToFile => Reason::new(
                "没有需要补充说明的拨付：每笔救助金都已有说明",
                "no payment is waiting for paperwork: every payment has it",
            ),
            UnknownCommunity(c) => Reason::new(
                format!("没有编号为 {c} 的社区/村，请检查登记表中的 [[community]]"),
                format!("there is no community {c}: see [[community]] in the registry"),
            ),
            CommunityElsewhere { community, street } => Reason::new(
                format!("社区/村 {community} 属于街道 {street}，不属于本案街道：请选择本街道的社区或改办理街道"),
                format!("community {community} belongs to street {street}, not the case's street: pick one of its own communities or the other street"),
            ),
            NotDispatched(d) => Reason::new(
                format!("案件未分办至 {d}，不能登记其答复"),
                format!("the case was not dispatched to {d}: there is no reply to record"),
            ),
            AlreadyReplied(d) => Reason::new(
                format!("{d} 已答复，如有补充请添加备注"),
                format!("{d} has already replied: add a note for anything further"),
            ),
            EmptyText(action) => match action {
                ActionKind::Open => Reason::new("请填写案情摘要", "give a summary of the case"),
                ActionKind::Paperwork => Reason::new("请填写事后补充说明的内容", "give the text of the paperwork"),
                ActionKind::Close => Reason::new("请填写办结结果", "give the outcome of the case"),
                ActionKind::Reply => Reason::new("请填写部门答复内容", "give the text of the department's reply"),
                ActionKind::Reopen => Reason::new("请填写重新办理的原因", "give the reason for reopening"),
                _ => Reason::new("请填写备注内容", "give the text of the note"),
            },
        }
    }
}

/// `中文 | English`.
impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reason().fmt(f)
    }
}

/// Something the officer should know about an action that was applied anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum CaseWarning {
    /// The same person received emergency money on another case within 30 days, or from
    /// another street.
    DuplicateAid {
        /// The case of the other payment.
        other_case: CaseId,
        /// The street that paid the other payment.
        other_street: String,
        /// When the other payment was made (Unix milliseconds).
        other_at_ms: i64,
        /// The other payment's amount.
        amount: Fen,
        /// The other payment is less than 30 days from this one.
        within_30_days: bool,
        /// The other payment came from another street's fund.
        other_street_differs: bool,
    },
}

impl CaseWarning {
    /// The warning in words (Chinese and English), recorded in the history and shown to the officer.
    pub fn reason(&self) -> Reason {
        match self {
            CaseWarning::DuplicateAid {
                other_case,
                other_street,
                amount,
                within_30_days,
                other_street_differs,
                ..
            } => {
                let when_zh = if *within_30_days { "30 天内" } else { "" };
                let when_en = if *within_30_days { " within 30 days" } else { "" };
                let where_zh = if *other_street_differs { "另一街道" } else { "本街道" };
                let where_en = if *other_street_differs { "another street, " } else { "" };
                Reason::new(
                    format!(
                        "注意：此人{when_zh}已在{where_zh}（{other_street}）案件 {other_case} 中获得临时救助 {amount}，\
                         请核实是否重复救助"
                    ),
                    format!(
                        "note: this person already received {amount} of emergency aid{when_en} on case {other_case} \
                         ({where_en}{other_street}); check this is not a duplicate"
                    ),
                )
            }
        }
    }
}
