//! Messages between `mzd` and its clients (`mzd status|export|…`, `mzc`) over the Unix socket.
//!
//! Framing: one JSON object per line, UTF-8, both directions. A client first sends
//! [`ClientMessage::Hello`] with [`PROTOCOL_VERSION`]; the daemon answers [`ServerMessage::Welcome`]
//! (or an error if the versions differ), then each [`Request`] gets its answer in order.
//! `Export` answers with any number of `Line`s then `End`; `Subscribe` turns the connection into a
//! stream of pushed updates. A refused request is answered by `Error`: a [`Refusal`] with a
//! [`RefusalCode`] and the bilingual reason.
//!
//! Answers are typed ([`views::CaseView`], [`views::TaskView`], [`StatusReport`], …): what a
//! `--json` output prints is the serialisation of the answer's type, field for field.
//!
//! To add a request:
//! 1. add its variant to [`Request`] (fields the daemon needs; `#[serde(default)]` on new
//!    optional fields so older clients still parse) and, if no existing answer fits, a variant to
//!    [`ServerMessage`] carrying a typed struct (put new answer views in [`views`]);
//! 2. in the daemon, `server.rs`: one line in `authorize` if a role may not make it, one arm in
//!    `Session::handle` calling one handler method that answers on the connection;
//! 3. in `mz-client`: one typed method returning the answer's type (or a stream for answers of
//!    many messages), mapping `Error` to `ClientError::Refused`;
//! 4. the command or console action calls that method; its `--json` prints the typed answer.

pub mod views;

pub use crate::refusal::{Refusal, RefusalCode};
pub use views::{CaseReply, CaseView, DepartmentView, HistoryView, PaymentView, TaskView};

use crate::dashboard::Dashboard;
use crate::feed::Feed;
use crate::reason::Reason;
use crate::registry::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped whenever a message changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message of a connection.
    Hello {
        /// The client's [`PROTOCOL_VERSION`]; the daemon refuses another.
        protocol: u32,
        /// What the client is, e.g. `mzc`, for the daemon's log.
        client: String,
    },
    /// Any request after the hello.
    Request(Request),
}

/// A request after the hello.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// `mzd status`: answered by `Status` (or `CityStatus` from the city daemon).
    Status,
    /// `mzd export`: answered by `Line`s then `End` (ID numbers masked, names too for viewers).
    Export {
        /// A feed, the cases or the audit trail.
        what: ExportWhat,
        /// CSV or JSON lines.
        format: ExportFormat,
    },
    /// Push a fresh status to this connection after every commit.
    Subscribe,
    /// Push a fresh [`Dashboard`] to this connection after every commit (and every minute).
    SubscribeDashboard,
    /// Acknowledge an alert (any role but viewer); every console sees it.
    AckAlert {
        /// The alert's id, as `mzd alert list` prints it.
        id: String,
    },
    /// Open a 救急难 case (`mzd case open`); answered by `Case`.
    CaseOpen(CaseOpenRequest),
    /// Act on a case (`mzd case act`). `expected_version` is the version the user saw; a case
    /// changed since is refused ("the case changed, reload"). Answered by `Case`.
    CaseAct {
        /// The case number, e.g. `JJN-2026-000123`.
        id: String,
        /// What to do.
        action: crate::case::Action,
        /// The case's version as the user saw it.
        expected_version: u64,
    },
    /// Cases in id order, optionally in one state and at most `limit` of them; answered by a
    /// stream: one or more `Cases` (each a chunk, the first possibly empty), then `End` with the
    /// count. The daemon reads the store as it sends, so a long list costs it no memory.
    CaseList {
        /// Only cases in this state; all when `None`.
        state: Option<crate::case::CaseState>,
        /// At most this many cases; all when `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u64>,
    },
    /// One page of the case queue, as the console's case desk shows it (any role; names masked
    /// for viewers): at most `limit` cases (cut to [`crate::dashboard::CasePage::MAX`]) from
    /// position `offset` of `view`. Answered by `CasePage`, read from the daemon's ordered index
    /// of the cases: it costs the daemon `offset + limit` steps and `limit` cases read.
    CasePage {
        /// Open cases only, or all of them (the ended ones after the open ones).
        #[serde(default)]
        view: crate::dashboard::CaseQueueView,
        /// The queue position of the first case wanted (0-based).
        #[serde(default)]
        offset: u64,
        /// How many cases at most.
        limit: u32,
    },
    /// One case with its history; answered by `Case`.
    CaseShow {
        /// The case number, e.g. `JJN-2026-000123`.
        id: String,
    },
    /// The first `lines` lines of a rejects file the dashboard lists (the ingest view's preview),
    /// answered by `Line`s then `End`: ID numbers masked for everyone, names also for viewers.
    RejectsPreview {
        /// The rejects file's path, as the dashboard's ingest list gives it.
        path: String,
        /// How many lines to send at most.
        lines: u32,
    },
    /// Re-compute the audit chain; answered by `AuditOk` or an error naming the first problem
    /// (the same checks as `AuditCheck` without anchors). Kept for older clients.
    AuditVerify,
    /// Every audit check: the chain, the store's own anchor, each of `anchors` (from backups or
    /// saved status) as a prefix, and every case against the trail. Answered by `AuditReport`.
    AuditCheck {
        /// Anchors to check the trail against, each as a prefix.
        #[serde(default)]
        anchors: Vec<crate::audit::AuditAnchor>,
    },
    /// Log an arrival, discharge or incident from the console (station staff at their own
    /// stations). `values` uses the admissions feed's column names; `record_id` is assigned by
    /// the daemon. The row goes through the same validation and rules as a feed row. Answered
    /// by `Logged` or an error with the reason.
    LogStationEvent {
        /// Column name → value, e.g. `event` → `admit`.
        values: std::collections::BTreeMap<String, String>,
    },
    /// Copy a consistent snapshot of the store, the ID-hash key and the registry into `dest`
    /// (a folder on the daemon's machine; admin only). Answered by `Done` or an error.
    Backup {
        /// The folder to write the backup into, on the daemon's machine.
        dest: std::path::PathBuf,
    },
    /// The reserve fund of every street (`mzd fund list`; any role); answered by `Funds` with
    /// the figures as of the engine's last change.
    FundList,
    /// Station tasks (`mzd task list`), optionally of one station and in one state (or
    /// overdue); answered by `Tasks`.
    TaskList {
        /// Only tasks of this station (registry id); all when `None`.
        station: Option<String>,
        /// Only tasks in this state (or overdue); all when `None`.
        state: Option<crate::task::TaskFilter>,
    },
    /// A statistics report (`mzd report day|month`, SPEC §8): `period` `None` is yesterday for a
    /// day, last month for a month. Answered by `Report`.
    Report {
        /// Day or month.
        kind: crate::statistics::PeriodKind,
        /// The day or month to report on; `None` for the last one that ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<crate::statistics::Period>,
    },
    /// Complete an open task (`mzd task done`: station staff of its station, an officer or
    /// above); answered by `Task` or an error with the reason.
    TaskDone {
        /// The task's printable id, as `mzd task list` prints it.
        id: String,
        /// What was done (ID numbers in it are masked before it is stored).
        note: Option<String>,
    },
    /// The city's own alerts (cross-district checks, SPEC §9), active first then newest first;
    /// only the city daemon answers it, with `CityAlerts`.
    CityAlerts,
}

/// What opening a case needs. The ID number, if given, travels to the daemon only, which keeps
/// its masked form and keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseOpenRequest {
    /// The registry id of the street that will handle the case.
    pub street: String,
    /// What the person needs (not empty).
    pub summary: String,
    /// The person's name, if known.
    pub name: Option<String>,
    /// The person's ID number in full, if known; the daemon keeps only its masked form and hash.
    pub id_number: Option<String>,
    /// Walk-in, hotline or grid; walk-in when `None`.
    pub source: Option<crate::case::Source>,
    /// How urgent the case is.
    pub urgency: crate::case::Urgency,
    /// A community (社区/村) of the street: where a grid report came from.
    #[serde(default)]
    pub community: Option<String>,
}

/// What `mzd export` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportWhat {
    /// The stored records of one feed.
    Feed(Feed),
    /// Every case.
    Cases,
    /// The audit trail, oldest entry first.
    Audit,
}

impl std::str::FromStr for ExportWhat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cases" => Ok(ExportWhat::Cases),
            "audit" => Ok(ExportWhat::Audit),
            other => other
                .parse::<Feed>()
                .map(ExportWhat::Feed)
                .map_err(|_| format!("unknown export `{s}`: expected admissions, burials, marriages, cases or audit")),
        }
    }
}

/// How `mzd export` prints (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// CSV with a header row.
    #[default]
    Csv,
    /// One JSON object per line, canonical field names.
    Jsonl,
}

/// What the daemon sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The answer to `Hello`.
    Welcome {
        /// The daemon's [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The daemon's version, e.g. `0.1.0`.
        version: String,
        /// The client's OS user, from the socket's peer credentials.
        user: String,
        /// The role the registry gives that user; it decides what the connection may do.
        role: Role,
    },
    /// The answer to `Status`, and each push after `Subscribe`.
    Status(Box<StatusReport>),
    /// The answer to `Status` from the city daemon (SPEC §9).
    CityStatus(Box<crate::city::CityStatus>),
    /// The city's alerts, as `mzd alert list` against the city lists them.
    CityAlerts {
        /// Every city alert, active and acknowledged.
        alerts: Vec<crate::cross_district::CityAlert>,
    },
    /// One line of an export (without the newline).
    Line {
        /// The line's text.
        line: String,
    },
    /// End of a streamed answer.
    End {
        /// How many items the stream carried (lines, cases).
        count: u64,
    },
    /// A push after `SubscribeDashboard`.
    Dashboard(Box<Dashboard>),
    /// An action was applied.
    Done,
    /// A case as `mzd case show --json` prints it.
    Case {
        /// The case after the action.
        case: Box<CaseView>,
        /// Warnings of the action just applied (e.g. the same person aided twice in 30 days).
        warnings: Vec<Reason>,
    },
    /// Cases as `mzd case list --json` prints them: one chunk of a `CaseList` answer.
    Cases {
        /// The chunk's cases, in id order.
        cases: Vec<CaseView>,
    },
    /// A page of the case queue (the answer to `CasePage`).
    CasePage(Box<crate::dashboard::CasePage>),
    /// A station event logged from the console was stored under this record id.
    Logged {
        /// The record id the daemon assigned.
        record_id: String,
    },
    /// The audit chain verified: this many entries.
    AuditOk {
        /// The trail's length.
        entries: u64,
    },
    /// What an `AuditCheck` checked and found.
    AuditReport(Box<crate::audit::AuditReport>),
    /// The reserve funds, one row per street of the registry.
    Funds {
        /// One row per street.
        funds: Vec<crate::dashboard::FundRow>,
    },
    /// Station tasks as `mzd task list --json` prints them.
    Tasks {
        /// The selected tasks.
        tasks: Vec<TaskView>,
    },
    /// A task as `mzd task list --json` prints it, after an action on it.
    Task {
        /// The task after the action.
        task: Box<TaskView>,
    },
    /// A statistics report, as `mzd report --format json` prints it.
    Report(Box<crate::statistics::Report>),
    /// The answer to `Report` from the city daemon: each district's report and city totals.
    CityReport(Box<crate::statistics::city::CityReport>),
    /// The request was refused: `{"type":"error","code":…,"reason":{"zh":…,"en":…}}`.
    Error(Refusal),
}

/// `mzd status --json` (SPEC §6). Keys are stable; more may be added.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StatusReport {
    /// The daemon's version, e.g. `0.1.0`.
    pub version: String,
    /// False while a problem stops ingest (inbox unreadable, store error, disk low).
    pub healthy: bool,
    /// Why the daemon is unhealthy, empty when healthy.
    #[serde(default)]
    pub problems: Vec<String>,
    /// File counts since the store was created.
    pub files: FileCounts,
    /// Distinct stored records per feed (corrections do not add).
    pub records: FeedCounts,
    /// Rejected rows per feed since the store was created.
    pub rejected_rows: FeedCounts,
    /// Rows identical to a stored record, per feed, since the store was created.
    pub duplicate_rows: FeedCounts,
    /// Beds and occupancy of each station of the registry.
    pub stations: Vec<StationStatus>,
    /// Capacity and occupancy of each burial site of the registry.
    pub sites: Vec<SiteStatus>,
    /// Stored marriage records by kind (`marriage`, `divorce`, …), every kind present.
    pub marriages_by_kind: BTreeMap<String, u64>,
    /// 救急难 cases: open, and of those overdue.
    pub cases: CaseCounts,
    /// Station tasks (SPEC §7): open, and of those past their due time.
    #[serde(default)]
    pub tasks: TaskCounts,
    /// Active alerts, in all and by kind.
    pub alerts: AlertCounts,
    /// The audit trail's length and head as of the last commit: an anchor to keep and give to a
    /// later `mzd audit verify --anchor`.
    #[serde(default)]
    pub audit: crate::audit::AuditAnchor,
    /// Publishing to the city (SPEC §9).
    #[serde(default)]
    pub publish: PublishStatus,
}

/// The `publish` block of the status (SPEC §6, §9): how far the district's outbox is published.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PublishStatus {
    /// Whether the config has a `[publish]` table.
    pub enabled: bool,
    /// Whether the daemon is connected to the NATS server now.
    pub connected: bool,
    /// The last outbox `seq` the NATS server acknowledged.
    pub published_seq: u64,
    /// Commits in the outbox not acknowledged yet.
    pub pending: u64,
    /// The last publishing error, until a publish succeeds.
    pub last_error: Option<String>,
}

/// The `files` block of the status (SPEC §6): totals since the store was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileCounts {
    /// Files fully ingested.
    pub ingested: u64,
    /// Files moved to `quarantine/` (unreadable, or an unusable header).
    pub quarantined: u64,
    /// Files whose content was handled before.
    pub duplicates: u64,
    /// Files being ingested now (a live figure).
    pub in_progress: u64,
}

/// A count per feed (`records`, `rejected_rows`, `duplicate_rows` of the status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeedCounts {
    /// 救助站事件 feed.
    pub admissions: u64,
    /// 殡葬点位统计 feed.
    pub burials: u64,
    /// 婚姻登记 feed.
    pub marriages: u64,
}

impl FeedCounts {
    /// The count of `feed`, to change it.
    pub fn get_mut(&mut self, feed: Feed) -> &mut u64 {
        match feed {
            Feed::Admissions => &mut self.admissions,
            Feed::Burials => &mut self.burials,
            Feed::Marriages => &mut self.marriages,
        }
    }

    /// The count of `feed`.
    pub fn get(&self, feed: Feed) -> u64 {
        match feed {
            Feed::Admissions => self.admissions,
            Feed::Burials => self.burials,
            Feed::Marriages => self.marriages,
        }
    }
}

/// One station in the status (`stations[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StationStatus {
    /// Station id as in the registry, e.g. `TZ-JZZ`.
    pub id: String,
    /// Beds, from the registry.
    pub beds: u32,
    /// People present now.
    pub occupied: u32,
}

/// One burial site in the status (`sites[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SiteStatus {
    /// Site id as in the registry, e.g. `C-SZ`.
    pub id: String,
    /// Graves in all, as last reported.
    pub capacity_total: u32,
    /// Graves taken, as last reported.
    pub occupied: u32,
}

/// The `cases` block of the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseCounts {
    /// Cases not closed or referred.
    pub open: u64,
    /// Open cases past one of their time limits.
    pub overdue: u64,
}

/// The `tasks` block of the status (SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskCounts {
    /// Tasks not done or void.
    pub open: u64,
    /// Open tasks past their due time.
    pub overdue: u64,
}

/// The `alerts` block of the status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertCounts {
    /// Alerts not yet acknowledged.
    pub active: u64,
    /// Active alerts by kind (snake_case key), every kind present.
    pub by_kind: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_travels_with_its_type_code_and_reason() {
        let msg = ServerMessage::Error(Refusal::new(RefusalCode::Forbidden, Reason::new("不行", "no")));
        let text = serde_json::to_string(&msg).unwrap();
        assert_eq!(text, r#"{"type":"error","code":"forbidden","reason":{"zh":"不行","en":"no"}}"#);
        assert_eq!(serde_json::from_str::<ServerMessage>(&text).unwrap(), msg);
        // An older daemon's refusal, without a code.
        let old: ServerMessage = serde_json::from_str(r#"{"type":"error","reason":{"zh":"不行","en":"no"}}"#).unwrap();
        assert_eq!(old, ServerMessage::Error(Refusal::rejected(Reason::new("不行", "no"))));
    }
}
