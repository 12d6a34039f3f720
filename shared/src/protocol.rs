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

mod refusal;
pub mod views;

pub use refusal::{Refusal, RefusalCode};
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
    Hello { protocol: u32, client: String },
    Request(Request),
}

/// A request after the hello.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Status,
    Export {
        what: ExportWhat,
        format: ExportFormat,
    },
    /// Push a fresh status to this connection after every commit.
    Subscribe,
    /// Push a fresh [`Dashboard`] to this connection after every commit (and every minute).
    SubscribeDashboard,
    /// Acknowledge an alert (any role but viewer); every console sees it.
    AckAlert {
        id: String,
    },
    /// Open a 救急难 case (`mzd case open`); answered by `Case`.
    CaseOpen(CaseOpenRequest),
    /// Act on a case (`mzd case act`). `expected_version` is the version the user saw; a case
    /// changed since is refused ("the case changed, reload"). Answered by `Case`.
    CaseAct {
        id: String,
        action: crate::case::Action,
        expected_version: u64,
    },
    /// Cases in id order, optionally in one state and at most `limit` of them; answered by a
    /// stream: one or more `Cases` (each a chunk, the first possibly empty), then `End` with the
    /// count. The daemon reads the store as it sends, so a long list costs it no memory.
    CaseList {
        state: Option<crate::case::CaseState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u64>,
    },
    /// One case with its history; answered by `Case`.
    CaseShow {
        id: String,
    },
    /// The first `lines` lines of a rejects file the dashboard lists (the ingest view's preview),
    /// answered by `Line`s then `End`: ID numbers masked for everyone, names also for viewers.
    RejectsPreview {
        path: String,
        lines: u32,
    },
    /// Re-compute the audit chain; answered by `AuditOk` or an error naming the first problem
    /// (the same checks as `AuditCheck` without anchors). Kept for older clients.
    AuditVerify,
    /// Every audit check: the chain, the store's own anchor, each of `anchors` (from backups or
    /// saved status) as a prefix, and every case against the trail. Answered by `AuditReport`.
    AuditCheck {
        #[serde(default)]
        anchors: Vec<crate::audit::AuditAnchor>,
    },
    /// Log an arrival, discharge or incident from the console (station staff at their own
    /// stations). `values` uses the admissions feed's column names; `record_id` is assigned by
    /// the daemon. The row goes through the same validation and rules as a feed row. Answered
    /// by `Logged` or an error with the reason.
    LogStationEvent {
        values: std::collections::BTreeMap<String, String>,
    },
    /// Copy a consistent snapshot of the store, the ID-hash key and the registry into `dest`
    /// (a folder on the daemon's machine; admin only). Answered by `Done` or an error.
    Backup {
        dest: std::path::PathBuf,
    },
    /// The reserve fund of every street (`mzd fund list`; any role); answered by `Funds` with
    /// the figures as of the engine's last change.
    FundList,
    /// Station tasks (`mzd task list`), optionally of one station and in one state (or
    /// overdue); answered by `Tasks`.
    TaskList {
        station: Option<String>,
        state: Option<crate::task::TaskFilter>,
    },
    /// A statistics report (`mzd report day|month`, SPEC §8): `period` `None` is yesterday for a
    /// day, last month for a month. Answered by `Report`.
    Report {
        kind: crate::statistics::PeriodKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<crate::statistics::Period>,
    },
    /// Complete an open task (`mzd task done`: station staff of its station, an officer or
    /// above); answered by `Task` or an error with the reason.
    TaskDone {
        id: String,
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
    pub street: String,
    pub summary: String,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub source: Option<crate::case::Source>,
    pub urgency: crate::case::Urgency,
    /// A community (社区/村) of the street: where a grid report came from.
    #[serde(default)]
    pub community: Option<String>,
}

/// What `mzd export` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportWhat {
    Feed(Feed),
    Cases,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Csv,
    Jsonl,
}

/// What the daemon sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome {
        protocol: u32,
        version: String,
        user: String,
        role: Role,
    },
    Status(Box<StatusReport>),
    /// The answer to `Status` from the city daemon (SPEC §9).
    CityStatus(Box<crate::city::CityStatus>),
    /// The city's alerts, as `mzd alert list` against the city lists them.
    CityAlerts {
        alerts: Vec<crate::cross_district::CityAlert>,
    },
    /// One line of an export (without the newline).
    Line {
        line: String,
    },
    /// End of a streamed answer.
    End {
        count: u64,
    },
    Dashboard(Box<Dashboard>),
    /// An action was applied.
    Done,
    /// A case as `mzd case show --json` prints it.
    Case {
        case: Box<CaseView>,
        /// Warnings of the action just applied (e.g. the same person aided twice in 30 days).
        warnings: Vec<Reason>,
    },
    /// Cases as `mzd case list --json` prints them: one chunk of a `CaseList` answer.
    Cases {
        cases: Vec<CaseView>,
    },
    /// A station event logged from the console was stored under this record id.
    Logged {
        record_id: String,
    },
    /// The audit chain verified: this many entries.
    AuditOk {
        entries: u64,
    },
    /// What an `AuditCheck` checked and found.
    AuditReport(Box<crate::audit::AuditReport>),
    /// The reserve funds, one row per street of the registry.
    Funds {
        funds: Vec<crate::dashboard::FundRow>,
    },
    /// Station tasks as `mzd task list --json` prints them.
    Tasks {
        tasks: Vec<TaskView>,
    },
    /// A task as `mzd task list --json` prints it, after an action on it.
    Task {
        task: Box<TaskView>,
    },
    /// A statistics report, as `mzd report --format json` prints it.
    Report(Box<crate::statistics::Report>),
    /// The request was refused: `{"type":"error","code":…,"reason":{"zh":…,"en":…}}`.
    Error(Refusal),
}

/// `mzd status --json` (SPEC §6). Keys are stable; more may be added.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StatusReport {
    pub version: String,
    pub healthy: bool,
    /// Why the daemon is unhealthy, empty when healthy.
    #[serde(default)]
    pub problems: Vec<String>,
    pub files: FileCounts,
    pub records: FeedCounts,
    pub rejected_rows: FeedCounts,
    pub duplicate_rows: FeedCounts,
    pub stations: Vec<StationStatus>,
    pub sites: Vec<SiteStatus>,
    pub marriages_by_kind: BTreeMap<String, u64>,
    pub cases: CaseCounts,
    /// Station tasks (SPEC §7): open, and of those past their due time.
    #[serde(default)]
    pub tasks: TaskCounts,
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
    pub enabled: bool,
    pub connected: bool,
    /// The last outbox `seq` the NATS server acknowledged.
    pub published_seq: u64,
    /// Commits in the outbox not acknowledged yet.
    pub pending: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileCounts {
    pub ingested: u64,
    pub quarantined: u64,
    pub duplicates: u64,
    pub in_progress: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeedCounts {
    pub admissions: u64,
    pub burials: u64,
    pub marriages: u64,
}

impl FeedCounts {
    pub fn get_mut(&mut self, feed: Feed) -> &mut u64 {
        match feed {
            Feed::Admissions => &mut self.admissions,
            Feed::Burials => &mut self.burials,
            Feed::Marriages => &mut self.marriages,
        }
    }

    pub fn get(&self, feed: Feed) -> u64 {
        match feed {
            Feed::Admissions => self.admissions,
            Feed::Burials => self.burials,
            Feed::Marriages => self.marriages,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StationStatus {
    pub id: String,
    pub beds: u32,
    pub occupied: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SiteStatus {
    pub id: String,
    pub capacity_total: u32,
    pub occupied: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseCounts {
    pub open: u64,
    pub overdue: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskCounts {
    pub open: u64,
    pub overdue: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertCounts {
    pub active: u64,
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
