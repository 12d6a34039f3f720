//! 救急难 cases (SPEC §5): the case state machine, the streets' reserve funds, time limits and
//! the duplicate-aid check.
//!
//! Everything here is pure. The daemon keeps the cases and the [`Funds`], passes the time in,
//! and persists what [`apply`] returns; the console and `mzd case` show [`CaseError::reason`]
//! when an action is refused.
//!
//! # States
//!
//! ```text
//! new 待受理 ─accept─▶ accepted 已受理 ─dispatch─▶ dispatched 已分办
//!                          │                         │
//!                          └───────pay──▶ aided 已先行救助 ◀──pay──┘
//!
//! accepted, dispatched, aided ─close─▶ closed 已办结     (terminal)
//! new, accepted, dispatched, aided ─refer─▶ referred 已转办 (terminal)
//! ```
//!
//! | action | roles | from states | effect |
//! |---|---|---|---|
//! | `accept` | officer, supervisor, admin | new | → accepted |
//! | `dispatch DEPT` | officer+ | accepted, dispatched, aided | adds the department; accepted → dispatched |
//! | `refer STREET` | officer+ | new, accepted, dispatched, aided | → referred (terminal) |
//! | `pay AMOUNT` | officer+ | accepted, dispatched, aided | paid (→ aided), or a pending request above the cap |
//! | `approve` | supervisor, admin | a pending request | pays it (→ aided) |
//! | `reject` | supervisor, admin | a pending request | drops it |
//! | `paperwork TEXT` | officer+ | any non-terminal | files the oldest payment's missing paperwork |
//! | `note TEXT` | officer+ | any non-terminal | adds a note |
//! | `close OUTCOME` | officer+ | accepted, dispatched, aided | → closed (terminal) |
//!
//! `refer` and `close` also need no pending request and every payment's paperwork filed.
//! `viewer` and `station` users never act on cases. Closed and referred cases take no further
//! action at all, notes included: a terminal case is frozen as it was when it ended here.
//!
//! # Versions
//!
//! A case opens at version 1 with one history entry (`open`); every applied action adds exactly
//! one history entry and one to the version, so `version == history.len()`. Each action carries
//! the version it was based on; a different one is refused with [`CaseError::StaleVersion`].
//!
//! # Free text
//!
//! Summaries, notes, paperwork and outcomes are trimmed and anything in them that looks like an
//! ID number is masked ([`redact_id_numbers`]) before it is kept: ID numbers are never stored in
//! full (SPEC §3).

use crate::id_number::{redact_id_numbers, IdHash, ProtectedId};
use crate::reason::Reason;
use crate::registry::{Fen, Limits, Registry, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

/// Two payments to the same person closer than this raise a duplicate-aid warning.
pub const DUPLICATE_AID_WINDOW_MS: i64 = 30 * DAY_MS;

// ---------------------------------------------------------------------------------------------
// Identifiers and enumerations

/// A case number such as `JJN-2026-000123` (救急难, year, sequence of the year). The daemon assigns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(String);

impl CaseId {
    /// `JJN-{year:04}-{seq:06}`; sequences past 999999 simply take more digits.
    pub fn new(year: i16, seq: u32) -> CaseId {
        CaseId(format!("JJN-{year:04}-{seq:06}"))
    }

    /// Parses `JJN-2026-000123` (prefix in any case, blanks around ignored). The sequence needs
    /// at least six digits.
    pub fn parse(text: &str) -> Option<CaseId> {
        let t = text.trim();
        let mut parts = t.split('-');
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
        Some(CaseId(format!("JJN-{year}-{seq}")))
    }

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
    pub const ALL: [CaseState; 6] = [
        CaseState::New,
        CaseState::Accepted,
        CaseState::Dispatched,
        CaseState::Referred,
        CaseState::Aided,
        CaseState::Closed,
    ];

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
    #[default]
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Urgency::Normal => "一般",
            Urgency::High => "紧急",
        }
    }

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
    Open,
    Accept,
    Dispatch,
    Refer,
    Pay,
    PayRequest,
    Approve,
    Reject,
    Paperwork,
    Note,
    Close,
    /// A dispatched department answered.
    Reply,
    /// A supervisor reopened a closed case.
    Reopen,
    /// The daemon added a later event about the same person (instead of a second case).
    Event,
}

impl ActionKind {
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
    fn en_verb(self) -> &'static str {
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

fn role_str(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Viewer => ("查看员", "viewer"),
        Role::Officer => ("值班员", "officer"),
        Role::Station => ("救助站工作人员", "station"),
        Role::Supervisor => ("主管", "supervisor"),
        Role::Admin => ("管理员", "admin"),
    }
}

// ---------------------------------------------------------------------------------------------
// The case

/// Who is acting: the OS user and the role the registry gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub role: Role,
}

impl Actor {
    pub fn new(user: impl Into<String>, role: Role) -> Actor {
        Actor { user: user.into(), role }
    }

    /// The daemon itself, for cases its rules open (user `mzd`, role admin).
    pub fn daemon() -> Actor {
        Actor::new("mzd", Role::Admin)
    }
}

/// Emergency money paid on a case from its street's reserve fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub amount: Fen,
    /// When it was paid (for an approved request: the approval). Unix milliseconds.
    pub at_ms: i64,
    /// Who asked for it.
    pub by: String,
    /// The supervisor who approved it, for amounts above the case cap.
    pub approved_by: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The after-the-fact explanation (事后补充说明), due within `limits.paperwork_within`.
    pub paperwork: Option<String>,
    pub paperwork_at_ms: Option<i64>,
}

/// A payment above the case cap, waiting for a supervisor (一事一议).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    pub amount: Fen,
    pub at_ms: i64,
    pub by: String,
    pub note: Option<String>,
}

/// A note added to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNote {
    pub at_ms: i64,
    pub by: String,
    pub text: String,
}

/// One line of a case's history (`mzd case show --json` renders `at_ms` as `at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at_ms: i64,
    pub user: String,
    /// An [`ActionKind`] name: `open`, `accept`, `pay`, `pay_request`, …
    pub action: String,
    /// Short facts (ids, amounts) and the user's own text, if any.
    pub detail: String,
}

/// A 救急难 case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    /// Equals `history.len()`; bumped by every applied action.
    pub version: u64,
    pub state: CaseState,
    /// The street handling the case and paying from its reserve fund.
    pub street: String,
    pub summary: String,
    pub name: Option<String>,
    pub person: Option<ProtectedId>,
    /// The rescue station concerned, for daemon-opened cases (part of the duplicate-aid key
    /// when there is no ID number).
    #[serde(default)]
    pub station: Option<String>,
    pub source: Source,
    pub urgency: Urgency,
    pub opened_at_ms: i64,
    pub opened_by: String,
    pub accepted_at_ms: Option<i64>,
    /// Department ids, in dispatch order.
    pub departments: Vec<String>,
    /// The street it was referred to.
    pub referred_to: Option<String>,
    pub payments: Vec<Payment>,
    pub pending: Option<PaymentRequest>,
    pub notes: Vec<CaseNote>,
    /// When the case ended here: closed, or referred to another street.
    pub closed_at_ms: Option<i64>,
    pub outcome: Option<String>,
    /// The feed record that made the daemon open it.
    pub source_record: Option<String>,
    /// What made the daemon open it (e.g. `incident:<record_id>`), so that no trigger opens two
    /// cases.
    #[serde(default)]
    pub trigger: Option<String>,
    pub history: Vec<HistoryEntry>,
    /// What the desk rules added later (replies, links, community, English texts). Always the
    /// last field: see [`CaseExt`].
    #[serde(default, deserialize_with = "lenient_ext")]
    pub ext: CaseExt,
}

/// The parts of a case added after stores with cases existed.
///
/// The store encodes cases without field names (postcard), so a new field can only be
/// appended, and a case stored before it simply ends early: [`lenient_ext`] reads a missing
/// extension as the default (no dispatch details, no links, no community, no English texts).
/// Old cases therefore load unchanged; departments they dispatched to have no reply clock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseExt {
    /// Each department's dispatch and reply (分办及答复), in dispatch order; the same ids as
    /// [`Case::departments`] (a department dispatched before replies were kept has none).
    pub dispatches: Vec<Dispatch>,
    /// The linked case opened in the receiving street by a referral.
    pub referred_to_case: Option<CaseId>,
    /// The case this one was referred from (转办来源).
    pub referred_from: Option<CaseId>,
    /// The community (社区/村) under the case's street that reported it.
    pub community: Option<String>,
    /// The summary in English, for cases the daemon opened (its rules write both languages).
    pub summary_en: Option<String>,
    /// The English of each history entry's `detail`, by position (empty: none).
    pub history_en: Vec<String>,
    /// The station's number for the person (受助人编号), for daemon-opened cases.
    pub person_ref: Option<String>,
    /// Later triggers about the same person added to this case instead of a second case.
    pub triggers: Vec<String>,
}

/// Reads a [`CaseExt`], or its default where a stored case ends before it (see there).
fn lenient_ext<'de, D: serde::Deserializer<'de>>(d: D) -> Result<CaseExt, D::Error> {
    Ok(CaseExt::deserialize(d).unwrap_or_default())
}

/// A department a case was dispatched to, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    /// The registry's department id.
    pub id: String,
    pub dispatched_at_ms: i64,
    /// `dispatched_at + limits.reply_within` when it was dispatched.
    pub reply_due_ms: i64,
    pub replied_at_ms: Option<i64>,
    pub reply: Option<String>,
}

impl Dispatch {
    /// Dispatched, not answered, and past its due time at `now_ms`.
    pub fn overdue(&self, now_ms: i64) -> bool {
        self.replied_at_ms.is_none() && now_ms > self.reply_due_ms
    }
}

/// What `mzd case open` (or a daemon rule) gives to open a case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenCase {
    pub street: String,
    pub summary: String,
    pub name: Option<String>,
    pub person: Option<ProtectedId>,
    pub station: Option<String>,
    pub source: Option<Source>,
    pub urgency: Urgency,
    pub source_record: Option<String>,
    /// A community (社区/村) of `street`.
    pub community: Option<String>,
    /// The summary in English (daemon-opened cases).
    pub summary_en: Option<String>,
    /// The station's number for the person (daemon-opened cases).
    pub person_ref: Option<String>,
    /// Warnings to record in the `open` entry (a possible duplicate case).
    pub warnings: Vec<Reason>,
}

impl Case {
    /// Opens a case: version 1, state `new`, history `[open]`.
    ///
    /// Officers, supervisors and admins may open walk-in, hotline and grid cases (the default
    /// source is walk-in); the daemon-opened sources need admin ([`Actor::daemon`]). The street
    /// and the station, if given, must be in the registry; the summary must not be empty.
    pub fn open(
        id: CaseId,
        input: OpenCase,
        actor: &Actor,
        now_ms: i64,
        registry: &Registry,
    ) -> Result<Case, CaseError> {
        let source = input.source.unwrap_or(Source::WalkIn);
        let allowed = match actor.role {
            Role::Officer | Role::Supervisor => !source.daemon_opened(),
            Role::Admin => true,
            Role::Viewer | Role::Station => false,
        };
        if !allowed {
            return Err(CaseError::WrongRole { role: actor.role, action: ActionKind::Open });
        }
        if registry.street(&input.street).is_none() {
            return Err(CaseError::UnknownStreet(input.street));
        }
        if let Some(station) = &input.station {
            if registry.station(station).is_none() {
                return Err(CaseError::UnknownStation(station.clone()));
            }
        }
        let community = match input.community.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => match registry.community(c) {
                None => return Err(CaseError::UnknownCommunity(c.to_string())),
                Some(k) if k.street != input.street => {
                    return Err(CaseError::CommunityElsewhere { community: c.to_string(), street: k.street.clone() })
                }
                Some(k) => Some(k.id.clone()),
            },
            None => None,
        };
        let summary = clean_text(&input.summary).ok_or(CaseError::EmptyText(ActionKind::Open))?;
        let name = input.name.as_deref().and_then(clean_text);
        let (zh, en) = open_words(&input, source, community.as_deref(), registry);
        let mut case = Case {
            id,
            version: 1,
            state: CaseState::New,
            street: input.street,
            summary,
            name,
            person: input.person,
            station: input.station,
            source,
            urgency: input.urgency,
            opened_at_ms: now_ms,
            opened_by: actor.user.clone(),
            accepted_at_ms: None,
            departments: Vec::new(),
            referred_to: None,
            payments: Vec::new(),
            pending: None,
            notes: Vec::new(),
            closed_at_ms: None,
            outcome: None,
            source_record: input.source_record,
            trigger: None,
            history: Vec::new(),
            ext: CaseExt {
                community,
                summary_en: input.summary_en.as_deref().and_then(clean_text),
                person_ref: input.person_ref,
                ..CaseExt::default()
            },
        };
        case.record(now_ms, &actor.user, ActionKind::Open, zh, en);
        Ok(case)
    }

    /// Appends one history entry with its detail in Chinese (`detail`) and English.
    fn record(&mut self, at_ms: i64, user: &str, action: ActionKind, zh: String, en: String) {
        self.ext.history_en.resize(self.history.len(), String::new());
        self.history.push(HistoryEntry {
            at_ms,
            user: user.to_string(),
            action: action.as_str().to_string(),
            detail: zh,
        });
        self.ext.history_en.push(en);
    }

    /// The detail of history entry `index` in `english` or Chinese (the Chinese one where no
    /// English was kept).
    pub fn detail(&self, index: usize, english: bool) -> &str {
        let zh = self.history.get(index).map_or("", |h| h.detail.as_str());
        if english {
            match self.ext.history_en.get(index) {
                Some(en) if !en.is_empty() => en,
                _ => zh,
            }
        } else {
            zh
        }
    }

    /// The summary in `english` where the daemon wrote one, else as typed.
    pub fn summary_in(&self, english: bool) -> &str {
        match (&self.ext.summary_en, english) {
            (Some(en), true) => en,
            _ => &self.summary,
        }
    }

    /// Every trigger that went into this case: the one that opened it and those added later.
    pub fn all_triggers(&self) -> impl Iterator<Item = &String> {
        self.trigger.iter().chain(self.ext.triggers.iter())
    }

    /// The department's dispatch, if it was dispatched with a reply clock.
    pub fn dispatch(&self, department: &str) -> Option<&Dispatch> {
        self.ext.dispatches.iter().find(|d| d.id == department)
    }

    /// Sum of the payments made (pending requests not included).
    pub fn paid_total(&self) -> Fen {
        Fen(self.payments.iter().map(|p| p.amount.0).sum())
    }

    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }

    /// Payments whose paperwork has not been filed yet.
    pub fn payments_missing_paperwork(&self) -> impl Iterator<Item = &Payment> {
        self.payments.iter().filter(|p| p.paperwork.is_none())
    }

    /// The key under which payments to this person are matched across cases, if there is one.
    pub fn person_key(&self) -> Option<PersonKey> {
        PersonKey::of(self.person.as_ref(), self.name.as_deref(), self.station.as_deref())
    }

    /// This case's payments, as the duplicate-aid check of other cases wants them. Empty when
    /// the person cannot be keyed.
    pub fn aid_records(&self) -> Vec<AidRecord> {
        let Some(person) = self.person_key() else { return Vec::new() };
        self.payments
            .iter()
            .map(|p| AidRecord {
                person: person.clone(),
                case_id: self.id.clone(),
                street: self.street.clone(),
                at_ms: p.at_ms,
                amount: p.amount,
            })
            .collect()
    }
}

/// Trims, masks ID numbers; `None` when nothing is left.
fn clean_text(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| redact_id_numbers(t))
}

// ---------------------------------------------------------------------------------------------
// One person, one open case; referrals

/// How a trigger finds the open case of the same person: the station and its number for the
/// person (受助人编号), or the keyed ID-number hash. Small and cheap to hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersonLink {
    Id(IdHash),
    Station { station: String, person_ref: String },
}

impl PersonLink {
    /// The links of an event or a case: its ID hash and its station's person number, when known.
    pub fn of(person: Option<&ProtectedId>, station: Option<&str>, person_ref: Option<&str>) -> Vec<PersonLink> {
        let mut out = Vec::new();
        if let Some(p) = person {
            out.push(PersonLink::Id(p.hash));
        }
        if let (Some(station), Some(person_ref)) = (station, person_ref) {
            out.push(PersonLink::Station { station: station.to_string(), person_ref: person_ref.to_string() });
        }
        out
    }
}

impl Case {
    /// How later triggers about this person find the case (empty once it ended here).
    pub fn person_links(&self) -> Vec<PersonLink> {
        if self.is_terminal() {
            return Vec::new();
        }
        PersonLink::of(self.person.as_ref(), self.station.as_deref(), self.ext.person_ref.as_deref())
    }
}

/// Adds a later trigger about the same person to an open case (`event` entry, one version
/// more), raising its urgency if the trigger's is higher. The words are the trigger's summary
/// in Chinese and English; `trigger` is remembered so that it never applies twice.
pub fn add_event(case: &Case, trigger: &str, input: &OpenCase, actor: &Actor, now_ms: i64) -> Case {
    let mut next = case.clone();
    let mut zh = format!("新情况：{}", input.summary.trim());
    let mut en = format!("new event: {}", input.summary_en.as_deref().unwrap_or(&input.summary).trim());
    if input.urgency > next.urgency {
        next.urgency = input.urgency;
        zh.push_str(&format!("；紧急程度升为{}", input.urgency.zh()));
        en.push_str(&format!("; urgency raised to {}", input.urgency));
    }
    if let Some(record) = &input.source_record {
        zh.push_str(&format!("（记录 {record}）"));
        en.push_str(&format!(" (record {record})"));
    }
    if next.person.is_none() {
        next.person = input.person.clone();
    }
    next.ext.triggers.push(trigger.to_string());
    next.version += 1;
    next.record(now_ms, &actor.user, ActionKind::Event, redact_id_numbers(&zh), redact_id_numbers(&en));
    next
}

/// The linked case a referral opens in the receiving street (`new`, `referred_from` the old
/// case): the same person, summary, source and urgency, its own history starting with `open`.
pub fn referred_in(old: &Case, id: CaseId, actor: &Actor, now_ms: i64, registry: &Registry) -> Option<Case> {
    let street = old.referred_to.clone()?;
    let (fzh, fen) = street_words(registry, &old.street);
    let (tzh, ten) = street_words(registry, &street);
    let mut case = Case {
        id,
        version: 1,
        state: CaseState::New,
        street,
        summary: old.summary.clone(),
        name: old.name.clone(),
        person: old.person.clone(),
        station: old.station.clone(),
        source: old.source,
        urgency: old.urgency,
        opened_at_ms: now_ms,
        opened_by: actor.user.clone(),
        accepted_at_ms: None,
        departments: Vec::new(),
        referred_to: None,
        payments: Vec::new(),
        pending: None,
        notes: Vec::new(),
        closed_at_ms: None,
        outcome: None,
        source_record: old.source_record.clone(),
        trigger: None,
        history: Vec::new(),
        ext: CaseExt {
            referred_from: Some(old.id.clone()),
            summary_en: old.ext.summary_en.clone(),
            person_ref: old.ext.person_ref.clone(),
            ..CaseExt::default()
        },
    };
    case.record(
        now_ms,
        &actor.user,
        ActionKind::Open,
        format!("登记：{tzh}，由{fzh}案件 {} 转办而来，{}", old.id, old.urgency.zh()),
        format!("opened: {ten}, referred from case {} of {fen}, {} urgency", old.id, old.urgency),
    );
    Some(case)
}

// ---------------------------------------------------------------------------------------------
// Actions

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
fn open_words(input: &OpenCase, source: Source, community: Option<&str>, registry: &Registry) -> (String, String) {
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

// ---------------------------------------------------------------------------------------------
// Errors and warnings

/// Why an action was refused. [`CaseError::reason`] says it in plain Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// The actor's role may not take this action.
    WrongRole {
        role: Role,
        action: ActionKind,
    },
    /// The case's state does not allow this action.
    WrongState {
        state: CaseState,
        action: ActionKind,
    },
    /// The case changed since the actor saw it.
    StaleVersion {
        expected: u64,
        actual: u64,
    },
    /// The street's reserve fund cannot cover the amount.
    FundExhausted {
        street: String,
        balance: Fen,
        amount: Fen,
    },
    /// Approve or reject without a pending request.
    NoPendingRequest,
    /// A request is already pending (pay), or must be decided first (close, refer).
    PendingRequestExists {
        amount: Fen,
    },
    /// Close or refer while payments lack their paperwork.
    PaperworkMissing {
        count: usize,
    },
    UnknownDepartment(String),
    AlreadyDispatched(String),
    UnknownStreet(String),
    UnknownStation(String),
    /// Refer to the case's own street.
    SameStreet(String),
    /// Zero, negative, or too large.
    InvalidAmount(Fen),
    /// Paperwork when every payment has its paperwork.
    NothingToFile,
    /// The action needs text (summary, note, paperwork, outcome) and got none.
    EmptyText(ActionKind),
    UnknownCommunity(String),
    /// The community belongs to another street.
    CommunityElsewhere {
        community: String,
        street: String,
    },
    /// A reply from a department the case was not dispatched to (with a reply clock).
    NotDispatched(String),
    AlreadyReplied(String),
}

impl CaseError {
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
        other_case: CaseId,
        other_street: String,
        other_at_ms: i64,
        amount: Fen,
        /// The other payment is less than 30 days from this one.
        within_30_days: bool,
        /// The other payment came from another street's fund.
        other_street_differs: bool,
    },
}

impl CaseWarning {
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

// ---------------------------------------------------------------------------------------------
// Duplicate aid

/// How payments to one person are matched across cases: the keyed ID-number hash, or else the
/// name together with the rescue station (a name alone is too common to match on).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKey {
    Id(IdHash),
    NameStation { name: String, station: String },
}

/// Names that stand for "unknown" and never identify anyone.
const PLACEHOLDER_NAMES: [&str; 6] = ["无名氏", "无", "未知", "不详", "unknown", "n/a"];

impl PersonKey {
    /// The ID hash when there is one; else name + station when both are known and the name is
    /// not a placeholder such as 无名氏.
    pub fn of(person: Option<&ProtectedId>, name: Option<&str>, station: Option<&str>) -> Option<PersonKey> {
        if let Some(p) = person {
            return Some(PersonKey::Id(p.hash));
        }
        let name: String = name?.split_whitespace().collect();
        let station = station?.trim();
        if name.is_empty() || station.is_empty() || PLACEHOLDER_NAMES.iter().any(|p| name.eq_ignore_ascii_case(p)) {
            return None;
        }
        Some(PersonKey::NameStation { name, station: station.to_string() })
    }
}

/// One payment on some case, for the duplicate-aid check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AidRecord {
    pub person: PersonKey,
    pub case_id: CaseId,
    pub street: String,
    pub at_ms: i64,
    pub amount: Fen,
}

/// Warnings for a payment to `person` on case `case_id` from `street`'s fund at `at_ms`, given
/// the payments of other cases: one per other payment to the same person that is less than
/// 30 days away (either side), or that came from a different street (at any time: pass only the
/// records you want considered). Records of `case_id` itself are ignored.
pub fn duplicate_aid(
    person: &PersonKey,
    case_id: &CaseId,
    street: &str,
    at_ms: i64,
    others: &[AidRecord],
) -> Vec<CaseWarning> {
    others
        .iter()
        .filter(|r| r.person == *person && r.case_id != *case_id)
        .filter_map(|r| {
            let within = r.at_ms.abs_diff(at_ms) < DUPLICATE_AID_WINDOW_MS.unsigned_abs();
            let differs = r.street != street;
            (within || differs).then(|| CaseWarning::DuplicateAid {
                other_case: r.case_id.clone(),
                other_street: r.street.clone(),
                other_at_ms: r.at_ms,
                amount: r.amount,
                within_30_days: within,
                other_street_differs: differs,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reserve funds

/// One street's reserve fund (临时救助备用金).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReserveFund {
    /// The registry's `reserve_fund` for the street.
    pub initial: Fen,
    /// Everything paid from it so far.
    pub paid: Fen,
}

impl ReserveFund {
    /// `initial − paid`, never below zero (the registry's amount may be lowered after payments).
    pub fn balance(&self) -> Fen {
        Fen(self.initial.0.saturating_sub(self.paid.0).max(0))
    }
}

/// The reserve funds of all streets: a pure value the daemon persists (or rebuilds with
/// [`Funds::tally`]) and debits with every [`Applied::debit`].
///
/// The registry's `reserve_fund` is read as the fund's allotment: the balance is that amount
/// minus what was paid, so editing the registry (a top-up) keeps the record of payments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Funds {
    pub streets: BTreeMap<String, ReserveFund>,
}

impl Funds {
    /// Every street of the registry, nothing paid yet.
    pub fn from_registry(registry: &Registry) -> Funds {
        let mut funds = Funds::default();
        funds.sync(registry);
        funds
    }

    /// Rebuilds the funds from the registry and the payments of all cases.
    pub fn tally<'a>(registry: &Registry, cases: impl IntoIterator<Item = &'a Case>) -> Funds {
        let mut funds = Funds::from_registry(registry);
        for case in cases {
            funds.count_paid(case);
        }
        funds
    }

    /// Adds what `case` has paid to its street's fund (building the funds case by case).
    pub fn count_paid(&mut self, case: &Case) {
        let fund = self.streets.entry(case.street.clone()).or_default();
        fund.paid = Fen(fund.paid.0.saturating_add(case.paid_total().0));
    }

    /// After a registry reload: every street's `initial` becomes the registry's `reserve_fund`,
    /// new streets are added; streets gone from the registry keep their record of payments.
    pub fn sync(&mut self, registry: &Registry) {
        for street in &registry.streets {
            self.streets.entry(street.id.clone()).or_default().initial = street.reserve_fund;
        }
    }

    /// The street's balance; zero for a street without a fund.
    pub fn balance(&self, street: &str) -> Fen {
        self.streets.get(street).map_or(Fen(0), ReserveFund::balance)
    }

    /// Takes `amount` from the street's fund and returns the new balance; refused when the
    /// balance does not cover it (the fund never goes below zero) or the amount is not positive.
    pub fn debit(&mut self, street: &str, amount: Fen) -> Result<Fen, CaseError> {
        if amount.0 <= 0 {
            return Err(CaseError::InvalidAmount(amount));
        }
        let balance = self.balance(street);
        if amount > balance {
            return Err(CaseError::FundExhausted { street: street.to_string(), balance, amount });
        }
        let fund = self.streets.entry(street.to_string()).or_default();
        fund.paid = Fen(fund.paid.0 + amount.0);
        Ok(fund.balance())
    }
}

// ---------------------------------------------------------------------------------------------
// Time limits

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
    pub fn reason(self) -> Reason {
        match self {
            Overdue::Accept => Reason::new("超时未受理", "not accepted in time"),
            Overdue::Close => Reason::new("超时未办结", "not closed in time"),
            Overdue::Paperwork => Reason::new("事后补充说明逾期", "paperwork overdue"),
            Overdue::Reply => Reason::new("部门逾期未答复", "a department's reply is overdue"),
        }
    }
}

fn plus(ms: i64, d: Duration) -> i64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{self, AuditEntry};
    use crate::id_number::{IdHasher, IdNumber};

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
        assert_eq!(
            Case::open(id.clone(), bad_station, &officer(), T0, &reg),
            Err(CaseError::UnknownStation("S9".into()))
        );
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
        let ctx =
            Context { registry: &b.reg, fund_balance: b.funds.balance("ST-A"), other_aid: &[], referral_id: None };
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
        let applied =
            b.act(&c, &officer(), Action::Pay { amount: Fen(300_050), note: Some("购买车票".into()) }).unwrap();
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
        }
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
        assert!(matches!(
            b.err(&referred, &admin(), Action::Reopen { reason: "x".into() }),
            CaseError::WrongState { .. }
        ));
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
}
