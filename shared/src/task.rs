//! Station tasks (在站事项, SPEC §7): the clocks station staff keep for the people in their care.
//!
//! A [`StationTask`] is one thing to do about one stay: a family-search notice (寻亲公告) and a
//! DNA request (采血比对) for an arrival whose identity is unknown, a stay review (滞留评估) for
//! a stay past the registry's `long_stay_days`. Each is due relative to the arrival's own time,
//! never to when the daemon learnt of it, so a file dropped late yields tasks already overdue.
//!
//! Invariants: one task per stay (the admission record) and kind; a task leaves `open` once, to
//! `done` (completed by station staff of its station, an officer or above) or to `void` (the
//! person was discharged first), and never comes back. Notes are trimmed and any ID number in
//! them is masked before they are kept. Pure: times are passed in as Unix milliseconds and the
//! working-day calendar is the registry's ([`Registry::is_working_day`]).

use crate::id_number::redact_id_numbers;
use crate::reason::Reason;
use crate::refusal::{Refusal, RefusalCode};
use crate::registry::{Registry, Role};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// A family-search notice is due this long after the arrival.
pub const FAMILY_NOTICE_WITHIN_MS: i64 = DAY_MS;

/// A DNA request is due at the end of this many working days after the arrival day.
pub const DNA_REQUEST_WORKING_DAYS: u32 = 7;

/// A stay review is due this long after it is created.
pub const STAY_REVIEW_WITHIN_MS: i64 = DAY_MS;

/// Longest note kept with a completion, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

/// What a task is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// 寻亲公告: publish a family-search notice.
    FamilyNotice,
    /// 采血比对: request a blood sample for DNA matching.
    DnaRequest,
    /// 滞留评估: review a stay past the long-stay limit.
    StayReview,
}

impl TaskKind {
    /// Every kind, in the order of SPEC §7.
    pub const ALL: [TaskKind; 3] = [TaskKind::FamilyNotice, TaskKind::DnaRequest, TaskKind::StayReview];

    /// The snake_case name used in JSON and on the command line, e.g. `family_notice`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::FamilyNotice => "family_notice",
            TaskKind::DnaRequest => "dna_request",
            TaskKind::StayReview => "stay_review",
        }
    }

    /// The Chinese label, e.g. `寻亲公告`.
    pub fn zh(self) -> &'static str {
        match self {
            TaskKind::FamilyNotice => "寻亲公告",
            TaskKind::DnaRequest => "采血比对",
            TaskKind::StayReview => "滞留评估",
        }
    }

    /// Reads the snake_case name or the Chinese label.
    pub fn parse(s: &str) -> Option<TaskKind> {
        TaskKind::ALL.into_iter().find(|k| k.as_str() == s || k.zh() == s)
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Not done yet; overdue once past its due time.
    Open,
    /// Completed by station staff, an officer or above.
    Done,
    /// The person left before the task was done.
    Void,
}

impl TaskState {
    /// The snake_case name used in JSON: `open`, `done` or `void`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Done => "done",
            TaskState::Void => "void",
        }
    }

    /// The Chinese label, e.g. `待办`.
    pub fn zh(self) -> &'static str {
        match self {
            TaskState::Open => "待办",
            TaskState::Done => "已完成",
            TaskState::Void => "已作废",
        }
    }
}

/// What `mzd task list --state` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskFilter {
    /// Tasks still open, overdue or not.
    Open,
    /// Completed tasks.
    Done,
    /// Tasks voided by a discharge.
    Void,
    /// Open and past due.
    Overdue,
}

impl TaskFilter {
    /// Reads `open`, `done`, `void` or `overdue` (any case).
    pub fn parse(s: &str) -> Option<TaskFilter> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Some(TaskFilter::Open),
            "done" => Some(TaskFilter::Done),
            "void" => Some(TaskFilter::Void),
            "overdue" => Some(TaskFilter::Overdue),
            _ => None,
        }
    }

    /// Whether `task` is selected at `now_ms` (Unix milliseconds; decides overdue).
    pub fn matches(self, task: &StationTask, now_ms: i64) -> bool {
        match self {
            TaskFilter::Open => task.state == TaskState::Open,
            TaskFilter::Done => task.state == TaskState::Done,
            TaskFilter::Void => task.state == TaskState::Void,
            TaskFilter::Overdue => task.is_overdue(now_ms),
        }
    }
}

/// 在站事项: one task about one stay at a station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationTask {
    /// Printable and accepted as is by `mzd task done`: see [`task_id`].
    pub id: String,
    /// Family notice, DNA request or stay review.
    pub kind: TaskKind,
    /// Station id as in the registry, e.g. `TZ-JZZ`.
    pub station: String,
    /// The station's number for the person (受助人编号).
    pub person_ref: String,
    /// The admission record of the stay.
    pub record_id: String,
    /// When the task was created (Unix milliseconds): the arrival, or for a stay review the moment the
    /// stay passed `long_stay_days`.
    pub created_at_ms: i64,
    /// When it is due (Unix milliseconds), by SPEC §7's table.
    pub due_at_ms: i64,
    /// Open, done or void.
    pub state: TaskState,
    /// When it was done, or voided.
    pub done_at_ms: Option<i64>,
    /// Who completed it (not set for a void).
    pub done_by: Option<String>,
    /// The completion's note (ID numbers masked), or why it was voided.
    pub note: Option<String>,
}

/// `STATION/PERSON/KIND` for a person's first stay with such a task, `STATION/PERSON/KIND/N`
/// for the N-th (a re-admission after a discharge).
pub fn task_id(station: &str, person_ref: &str, kind: TaskKind, stay: u32) -> String {
    if stay <= 1 {
        format!("{station}/{person_ref}/{}", kind.as_str())
    } else {
        format!("{station}/{person_ref}/{}/{stay}", kind.as_str())
    }
}

/// Whether an arrival gets the identity tasks (family notice, DNA request): no valid ID number,
/// or a name that is empty or 无名氏 (SPEC §7).
pub fn needs_identity_tasks(has_id_number: bool, name: Option<&str>) -> bool {
    let name = name.map(str::trim).unwrap_or_default();
    !has_id_number || name.is_empty() || name == "无名氏"
}

/// Whether `user` with `role` may complete a task at `station`: station staff at their own
/// stations, officers, supervisors and admins anywhere; viewers never.
pub fn may_complete(registry: &Registry, user: &str, role: Role, station: &str) -> bool {
    match role {
        Role::Viewer => false,
        Role::Station => registry.may_log_at(user, role, station),
        Role::Officer | Role::Supervisor | Role::Admin => true,
    }
}

/// Why a completion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The user is not station staff of this station, nor an officer or above.
    #[error("{user} may not complete tasks at station {station}")]
    NotAllowed {
        /// The OS user name.
        user: String,
        /// The role the registry gives it.
        role: Role,
        /// The task's station.
        station: String,
    },
    /// The task is already done or void.
    #[error("task {id} is already {}", state.as_str())]
    NotOpen {
        /// The task's id.
        id: String,
        /// Its state now.
        state: TaskState,
    },
}

impl TaskError {
    /// How a client should take the refusal: not this user's station (`forbidden`), or the task
    /// is no longer open (`conflict`: done or void already).
    pub fn code(&self) -> RefusalCode {
        match self {
            TaskError::NotAllowed { .. } => RefusalCode::Forbidden,
            TaskError::NotOpen { .. } => RefusalCode::Conflict,
        }
    }

    /// The refusal a client gets: [`TaskError::code`] and [`TaskError::reason`].
    pub fn refusal(&self) -> Refusal {
        Refusal::new(self.code(), self.reason())
    }

    /// The refusal in words a clerk can act on.
    pub fn reason(&self) -> Reason {
        match self {
            TaskError::NotAllowed { user, role: Role::Viewer, .. } => Reason::new(
                format!("{user} 是查看员（只读），不能完成事项"),
                format!("{user} is a viewer (read-only) and cannot complete tasks"),
            ),
            TaskError::NotAllowed { user, station, .. } => Reason::new(
                format!("{user} 不是救助站 {station} 的工作人员，不能完成该站的事项"),
                format!("{user} is not on the staff of station {station} and cannot complete its tasks"),
            ),
            TaskError::NotOpen { id, state } => Reason::new(
                format!("事项 {id} 已{}，不能再次完成", state.zh()),
                format!("task {id} is already {} and cannot be completed again", state.as_str()),
            ),
        }
    }
}

impl StationTask {
    /// An open task.
    pub fn open(
        kind: TaskKind,
        station: &str,
        person_ref: &str,
        record_id: &str,
        created_at_ms: i64,
        due_at_ms: i64,
        stay: u32,
    ) -> StationTask {
        StationTask {
            id: task_id(station, person_ref, kind, stay),
            kind,
            station: station.to_owned(),
            person_ref: person_ref.to_owned(),
            record_id: record_id.to_owned(),
            created_at_ms,
            due_at_ms,
            state: TaskState::Open,
            done_at_ms: None,
            done_by: None,
            note: None,
        }
    }

    /// Whether it is still waiting to be done.
    pub fn is_open(&self) -> bool {
        self.state == TaskState::Open
    }

    /// Open and strictly past its due time.
    pub fn is_overdue(&self, now_ms: i64) -> bool {
        self.is_open() && now_ms > self.due_at_ms
    }

    /// Completes the task for `user`, who must be allowed to ([`may_complete`]).
    pub fn complete(
        &mut self,
        registry: &Registry,
        user: &str,
        role: Role,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<(), TaskError> {
        if !may_complete(registry, user, role, &self.station) {
            return Err(TaskError::NotAllowed { user: user.to_owned(), role, station: self.station.clone() });
        }
        if !self.is_open() {
            return Err(TaskError::NotOpen { id: self.id.clone(), state: self.state });
        }
        self.state = TaskState::Done;
        self.done_at_ms = Some(now_ms);
        self.done_by = Some(user.to_owned());
        self.note = note.map(clean_note).filter(|n| !n.is_empty());
        Ok(())
    }

    /// Voids an open task: the person left at `at_ms` (the discharge's time) by `record_id`.
    pub fn void(&mut self, at_ms: i64, record_id: &str) {
        if self.is_open() {
            self.state = TaskState::Void;
            self.done_at_ms = Some(at_ms);
            self.note = Some(format!("离站 discharge {record_id}"));
        }
    }
}

/// A note as kept: trimmed, ID numbers masked, at most [`NOTE_MAX_CHARS`] characters.
pub fn clean_note(text: &str) -> String {
    redact_id_numbers(text.trim()).chars().take(NOTE_MAX_CHARS).collect()
}

/// The family-search notice of an arrival at `arrival_ms`: 24 hours later.
pub fn family_notice_due(arrival_ms: i64) -> i64 {
    arrival_ms.saturating_add(FAMILY_NOTICE_WITHIN_MS)
}

/// The DNA request of an arrival at `arrival_ms`: the end of the 7th working day after the
/// arrival day, by the registry's calendar and zone.
pub fn dna_request_due(arrival_ms: i64, registry: &Registry) -> Option<i64> {
    end_of_working_days(arrival_ms, DNA_REQUEST_WORKING_DAYS, registry)
}

/// When a stay admitted at `admitted_ms` passes `long_stay_days` (the stay review's creation).
pub fn stay_review_created(admitted_ms: i64, long_stay_days: u32) -> i64 {
    admitted_ms.saturating_add(i64::from(long_stay_days) * DAY_MS)
}

/// The stay review created at `created_ms`: 24 hours later.
pub fn stay_review_due(created_ms: i64) -> i64 {
    created_ms.saturating_add(STAY_REVIEW_WITHIN_MS)
}

/// The end (the next local midnight) of the `days`-th working day after the local day of
/// `start_ms`: the start day itself never counts; weekends and `holidays` are not working days,
/// `workdays` are (SPEC §4). `None` outside the calendar's range.
pub fn end_of_working_days(start_ms: i64, days: u32, registry: &Registry) -> Option<i64> {
    let tz: TimeZone = registry.time_zone();
    let mut date: Date = tz.to_datetime(Timestamp::from_millisecond(start_ms).ok()?).date();
    let mut counted = 0;
    while counted < days {
        date = date.tomorrow().ok()?;
        if registry.is_working_day(date) {
            counted += 1;
        }
    }
    Some(date.tomorrow().ok()?.to_zoned(tz).ok()?.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(calendar: &str) -> Registry {
        Registry::parse(&format!(
            "{calendar}\n[[station]]\nid = \"S1\"\nname = \"救助管理站\"\nstreet = \"ST-01\"\nkind = \"station\"\n\
             beds = 10\nstaff = [\"clerk1\"]\n\n[[station]]\nid = \"S2\"\nname = \"临时救助点\"\nstreet = \"ST-01\"\n\
             kind = \"point\"\nbeds = 5\nstaff = [\"clerk2\"]\n\n[[street]]\nid = \"ST-01\"\nname = \"北苑街道\"\n\
             reserve_fund = 1\ncase_cap = 1\n"
        ))
        .unwrap()
    }

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn dna(at: &str, calendar: &str) -> i64 {
        dna_request_due(ms(at), &registry(calendar)).unwrap()
    }

    #[test]
    fn dna_request_skips_weekends() {
        // Monday 2026-03-02 10:00: Tue–Fri are 1–4, Mon–Wed of the next week 5–7.
        assert_eq!(dna("2026-03-02T10:00:00+08:00", ""), ms("2026-03-12T00:00:00+08:00"));
        // Late on Friday: Mon–Fri 1–5, Mon–Tue 6–7.
        assert_eq!(dna("2026-03-06T23:30:00+08:00", ""), ms("2026-03-18T00:00:00+08:00"));
    }

    #[test]
    fn arrival_on_a_weekend_or_holiday_counts_from_the_next_working_day() {
        for at in ["2026-03-07T09:00:00+08:00", "2026-03-08T18:00:00+08:00"] {
            assert_eq!(dna(at, ""), ms("2026-03-18T00:00:00+08:00"), "{at}");
        }
        // Arriving on a holiday Wednesday: Thu, Fri, Mon–Wed, Thu, Fri → due at the end of Fri.
        assert_eq!(dna("2026-03-04T12:00:00+08:00", "holidays = [\"2026-03-04\"]"), ms("2026-03-14T00:00:00+08:00"));
        // The zone decides the day: Sunday 17:00 UTC is Monday 01:00 in Beijing.
        assert_eq!(dna("2026-03-08T17:00:00Z", ""), ms("2026-03-19T00:00:00+08:00"));
    }

    #[test]
    fn a_holiday_inside_the_window_moves_the_due_date() {
        let plain = dna("2026-09-28T10:00:00+08:00", "");
        // Mon 09-28: Tue 29, Wed 30, Thu 1, Fri 2, Mon 5, Tue 6, Wed 7 → end of Wed 10-07.
        assert_eq!(plain, ms("2026-10-08T00:00:00+08:00"));
        // National Day: 10-01 … 10-07 off, so 29, 30, then 8, 9, 12, 13, 14 → end of Wed 10-14.
        let golden_week = "holidays = [\"2026-10-01\", \"2026-10-02\", \"2026-10-05\", \"2026-10-06\", \"2026-10-07\"]";
        assert_eq!(dna("2026-09-28T10:00:00+08:00", golden_week), ms("2026-10-15T00:00:00+08:00"));
    }

    #[test]
    fn an_adjusted_workday_counts() {
        // Friday 2026-09-25: Sunday 09-27 is a 调休 working day: Sun 27, Mon 28, Tue 29, Wed 30,
        // Thu 1, Fri 2, Mon 5 → end of Mon 10-05 (without it: end of Tue 10-06).
        assert_eq!(dna("2026-09-25T10:00:00+08:00", ""), ms("2026-10-07T00:00:00+08:00"));
        assert_eq!(dna("2026-09-25T10:00:00+08:00", "workdays = [\"2026-09-27\"]"), ms("2026-10-06T00:00:00+08:00"));
    }

    #[test]
    fn a_window_across_a_month_end() {
        // Thursday 2026-04-23: Fri 24, Mon 27 … Thu 30, Fri 05-01, and Mon 05-04 is the 7th; with
        // 05-01 a holiday, Tue 05-05 is.
        assert_eq!(dna("2026-04-23T08:00:00+08:00", ""), ms("2026-05-05T00:00:00+08:00"));
        assert_eq!(dna("2026-04-23T08:00:00+08:00", "holidays = [\"2026-05-01\"]"), ms("2026-05-06T00:00:00+08:00"));
        // Across the year end too.
        assert_eq!(dna("2026-12-28T08:00:00+08:00", ""), ms("2027-01-07T00:00:00+08:00"));
    }

    #[test]
    fn other_clocks() {
        let at = ms("2026-03-02T10:00:00+08:00");
        assert_eq!(family_notice_due(at), ms("2026-03-03T10:00:00+08:00"));
        let created = stay_review_created(at, 10);
        assert_eq!(created, ms("2026-03-12T10:00:00+08:00"));
        assert_eq!(stay_review_due(created), ms("2026-03-13T10:00:00+08:00"));
    }

    #[test]
    fn who_is_unidentified() {
        assert!(needs_identity_tasks(false, Some("张三")));
        assert!(needs_identity_tasks(true, None));
        assert!(needs_identity_tasks(true, Some(" 无名氏 ")));
        assert!(needs_identity_tasks(true, Some("")));
        assert!(!needs_identity_tasks(true, Some("张三")));
    }

    #[test]
    fn completion_by_role_and_station_once() {
        let r = registry("");
        let open = || StationTask::open(TaskKind::DnaRequest, "S1", "P1", "A1", 0, 10, 1);
        assert_eq!(open().id, "S1/P1/dna_request");
        assert_eq!(task_id("S1", "P1", TaskKind::StayReview, 2), "S1/P1/stay_review/2");
        let mut t = open();
        let e = t.complete(&r, "clerk2", Role::Station, None, 5).unwrap_err();
        assert!(e.reason().en.contains("not on the staff of station S1"), "{}", e.reason().en);
        let e = t.complete(&r, "nobody", Role::Viewer, None, 5).unwrap_err();
        assert!(e.reason().zh.contains("查看员"));
        assert!(t.is_open() && !t.is_overdue(10) && t.is_overdue(11));
        t.complete(&r, "clerk1", Role::Station, Some(" 已采血 110105194912310021 "), 12).unwrap();
        assert_eq!((t.state, t.done_at_ms, t.done_by.as_deref()), (TaskState::Done, Some(12), Some("clerk1")));
        assert!(!t.note.as_deref().unwrap().contains("11010519491231002"), "{:?}", t.note);
        assert!(!t.is_overdue(100));
        let e = t.complete(&r, "duty1", Role::Officer, None, 13).unwrap_err();
        assert!(e.reason().en.contains("already done"), "{}", e.reason().en);
        // An officer anywhere; a void task stays void.
        let mut t = open();
        t.void(7, "D1");
        assert_eq!(t.state, TaskState::Void);
        assert!(t.complete(&r, "duty1", Role::Officer, None, 8).unwrap_err().reason().en.contains("already void"));
        let mut t = open();
        t.complete(&r, "duty1", Role::Officer, Some("  "), 8).unwrap();
        assert_eq!(t.note, None);
    }
}
