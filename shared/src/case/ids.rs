//! Identifiers and enumerations of a case: [`CaseId`], [`CaseState`], [`Source`],
//! [`Urgency`] and [`ActionKind`], each with its Chinese and English words.

use crate::registry::Role;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A case number such as `JJN-2026-000123` (救急难, year, sequence of the year). The daemon assigns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(String);

impl CaseId {
    /// `JJN-{year:04}-{seq:06}`; sequences past 999999 simply take more digits.
    pub fn new(year: i16, seq: u32) -> CaseId {
        use std::fmt::Write;
        let mut id = String::with_capacity(16);
        let _ = write!(id, "JJN-{year:04}-{seq:06}");
        CaseId(id)
    }

    /// Parses `JJN-2026-000123` (prefix in any case, blanks around ignored). The sequence needs
    /// at least six digits.
    pub fn parse(text: &str) -> Option<CaseId> {
        let (year, seq) = Self::parts(text)?;
        Some(CaseId(format!("JJN-{year}-{seq}")))
    }

    /// The sequence of a case number as [`CaseId::parse`] reads it, without making a `CaseId`.
    pub fn seq_of(text: &str) -> Option<u32> {
        Self::parts(text)?.1.parse().ok()
    }

    /// The year and sequence digits of a well-formed case number.
    fn parts(text: &str) -> Option<(&str, &str)> {
        let mut parts = text.trim().split('-');
        let (prefix, year, seq) = (parts.next()?, parts.next()?, parts.next()?);
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if parts.next().is_some()
            || !prefix.eq_ignore_ascii_case("JJN")
            || year.len() != 4
            || !digits(year)
            || seq.len() < 6
            || !digits(seq)
        {
            return None;
        }
        Some((year, seq))
    }

    /// The number as text, e.g. `JJN-2026-000123`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The year part.
    pub fn year(&self) -> Option<i16> {
        self.0.split('-').nth(1)?.parse().ok()
    }

    /// The sequence part.
    pub fn seq(&self) -> Option<u32> {
        self.0.split('-').nth(2)?.parse().ok()
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a case stands. The snake_case names are those of `mzd case list --state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 待受理: opened, nobody has taken it on yet.
    New,
    /// 已受理: an officer has taken it on.
    Accepted,
    /// 已分办: handed to one or more departments.
    Dispatched,
    /// 已转办: handed to another street; ends the case here.
    Referred,
    /// 已先行救助: emergency money paid from the street's reserve fund.
    Aided,
    /// 已办结: done.
    Closed,
}

impl CaseState {
    /// Every state, in the order of the case's life.
    pub const ALL: [CaseState; 6] = [
        CaseState::New,
        CaseState::Accepted,
        CaseState::Dispatched,
        CaseState::Referred,
        CaseState::Aided,
        CaseState::Closed,
    ];

    /// The snake_case name used in JSON and on the command line, e.g. `accepted`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::New => "new",
            CaseState::Accepted => "accepted",
            CaseState::Dispatched => "dispatched",
            CaseState::Referred => "referred",
            CaseState::Aided => "aided",
            CaseState::Closed => "closed",
        }
    }

    /// The Chinese label, e.g. `已受理`.
    pub fn zh(self) -> &'static str {
        match self {
            CaseState::New => "待受理",
            CaseState::Accepted => "已受理",
            CaseState::Dispatched => "已分办",
            CaseState::Referred => "已转办",
            CaseState::Aided => "已先行救助",
            CaseState::Closed => "已办结",
        }
    }

    /// Closed and referred cases take no further action.
    pub fn is_terminal(self) -> bool {
        matches!(self, CaseState::Closed | CaseState::Referred)
    }

    /// The English name (any case) or the Chinese one.
    pub fn parse(text: &str) -> Option<CaseState> {
        let t = text.trim();
        CaseState::ALL.into_iter().find(|s| t.eq_ignore_ascii_case(s.as_str()) || t == s.zh())
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a case came in. The first three are opened by officers, the others by the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 来访: the person came to the office.
    WalkIn,
    /// 12345 热线.
    Hotline,
    /// 网格上报: a grid worker's report.
    Grid,
    /// 救助站异常事件 (incident other than a death of a person without family).
    StationIncident,
    /// 未成年人或其他困境人员入站.
    VulnerableArrival,
    /// 长期滞留.
    LongStay,
    /// 身份不明人员入站: also runs the family-search notice and DNA-request clocks.
    UnidentifiedArrival,
    /// 站内死亡、无亲属，需基本殡葬服务.
    StationDeath,
}

impl Source {
    /// Every source, officer-opened first.
    pub const ALL: [Source; 8] = [
        Source::WalkIn,
        Source::Hotline,
        Source::Grid,
        Source::StationIncident,
        Source::VulnerableArrival,
        Source::LongStay,
        Source::UnidentifiedArrival,
        Source::StationDeath,
    ];

    /// The snake_case name used in JSON and on the command line, e.g. `walk_in`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::WalkIn => "walk_in",
            Source::Hotline => "hotline",
            Source::Grid => "grid",
            Source::StationIncident => "station_incident",
            Source::VulnerableArrival => "vulnerable_arrival",
            Source::LongStay => "long_stay",
            Source::UnidentifiedArrival => "unidentified_arrival",
            Source::StationDeath => "station_death",
        }
    }

    /// The Chinese label, e.g. `来访`.
    pub fn zh(self) -> &'static str {
        match self {
            Source::WalkIn => "来访",
            Source::Hotline => "12345热线",
            Source::Grid => "网格上报",
            Source::StationIncident => "救助站异常事件",
            Source::VulnerableArrival => "困境人员入站",
            Source::LongStay => "长期滞留",
            Source::UnidentifiedArrival => "身份不明人员入站",
            Source::StationDeath => "站内死亡",
        }
    }

    /// Plain English words.
    pub fn en(self) -> &'static str {
        match self {
            Source::WalkIn => "walk-in",
            Source::Hotline => "12345 hotline",
            Source::Grid => "grid report",
            Source::StationIncident => "station incident",
            Source::VulnerableArrival => "vulnerable arrival",
            Source::LongStay => "long stay",
            Source::UnidentifiedArrival => "unidentified arrival",
            Source::StationDeath => "death at a station",
        }
    }

    /// Opened by the daemon's rules rather than by an officer.
    pub fn daemon_opened(self) -> bool {
        !matches!(self, Source::WalkIn | Source::Hotline | Source::Grid)
    }

    /// The English name with `_` or `-` (`walk-in` as on the command line, any case) or the
    /// Chinese one.
    pub fn parse(text: &str) -> Option<Source> {
        let t = text.trim().replace('-', "_");
        Source::ALL.into_iter().find(|s| t.eq_ignore_ascii_case(s.as_str()) || t == s.zh())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 一般: the default.
    #[default]
    Normal,
    /// 紧急: a later trigger about the same person may raise a case to it.
    High,
}

impl Urgency {
    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }

    /// The Chinese label: `一般` or `紧急`.
    pub fn zh(self) -> &'static str {
        match self {
            Urgency::Normal => "一般",
            Urgency::High => "紧急",
        }
    }

    /// Reads `normal`/`high` (any case) or the Chinese label; `None` for anything else.
    pub fn parse(text: &str) -> Option<Urgency> {
        let t = text.trim();
        [Urgency::Normal, Urgency::High].into_iter().find(|u| t.eq_ignore_ascii_case(u.as_str()) || t == u.zh())
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was done to a case: the `action` of history and audit entries.
///
/// A `pay` that stays within the cap is recorded as `pay`; one above it as `pay_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// The case was opened (登记): always the first history entry.
    Open,
    /// See [`Action::Accept`](super::Action::Accept).
    Accept,
    /// See [`Action::Dispatch`](super::Action::Dispatch).
    Dispatch,
    /// See [`Action::Refer`](super::Action::Refer).
    Refer,
    /// A payment within the cap, paid at once.
    Pay,
    /// A payment above the cap, waiting for a supervisor.
    PayRequest,
    /// See [`Action::Approve`](super::Action::Approve).
    Approve,
    /// See [`Action::Reject`](super::Action::Reject).
    Reject,
    /// See [`Action::Paperwork`](super::Action::Paperwork).
    Paperwork,
    /// See [`Action::Note`](super::Action::Note).
    Note,
    /// See [`Action::Close`](super::Action::Close).
    Close,
    /// A dispatched department answered.
    Reply,
    /// A supervisor reopened a closed case.
    Reopen,
    /// The daemon added a later event about the same person (instead of a second case).
    Event,
}

impl ActionKind {
    /// The snake_case name: the `action` of history and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Open => "open",
            ActionKind::Accept => "accept",
            ActionKind::Dispatch => "dispatch",
            ActionKind::Refer => "refer",
            ActionKind::Pay => "pay",
            ActionKind::PayRequest => "pay_request",
            ActionKind::Approve => "approve",
            ActionKind::Reject => "reject",
            ActionKind::Paperwork => "paperwork",
            ActionKind::Note => "note",
            ActionKind::Close => "close",
            ActionKind::Reply => "reply",
            ActionKind::Reopen => "reopen",
            ActionKind::Event => "event",
        }
    }

    /// The Chinese verb, e.g. `受理`.
    pub fn zh(self) -> &'static str {
        match self {
            ActionKind::Open => "登记",
            ActionKind::Accept => "受理",
            ActionKind::Dispatch => "分办",
            ActionKind::Refer => "转办",
            ActionKind::Pay => "拨付救助金",
            ActionKind::PayRequest => "申请超额拨付",
            ActionKind::Approve => "审批通过",
            ActionKind::Reject => "驳回",
            ActionKind::Paperwork => "补充说明",
            ActionKind::Note => "备注",
            ActionKind::Close => "办结",
            ActionKind::Reply => "部门答复",
            ActionKind::Reopen => "重新办理",
            ActionKind::Event => "新情况",
        }
    }

    /// English verb phrase for messages ("may not …").
    pub(super) fn en_verb(self) -> &'static str {
        match self {
            ActionKind::Open => "open cases",
            ActionKind::Accept => "accept",
            ActionKind::Dispatch => "dispatch",
            ActionKind::Refer => "refer",
            ActionKind::Pay | ActionKind::PayRequest => "pay",
            ActionKind::Approve => "approve",
            ActionKind::Reject => "reject",
            ActionKind::Paperwork => "file paperwork",
            ActionKind::Note => "add a note",
            ActionKind::Close => "close",
            ActionKind::Reply => "record a reply",
            ActionKind::Reopen => "reopen cases",
            ActionKind::Event => "add events",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(super) fn role_str(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Viewer => ("查看员", "viewer"),
        Role::Officer => ("值班员", "officer"),
        Role::Station => ("救助站工作人员", "station"),
        Role::Supervisor => ("主管", "supervisor"),
        Role::Admin => ("管理员", "admin"),
    }
}
