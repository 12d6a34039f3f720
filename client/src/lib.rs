//! `mz-client`: the connection to `mzd`'s Unix socket, used by the `mzd` commands and by the
//! `mzc` console. It owns how a client finds the socket ([`socket_path`]), the hello, and the
//! request methods; it depends only on the pure domain crate (`mz-shared`) and tokio, never on
//! the daemon, so the console does not link the store.
//!
//! One [`Client`] is one connection: a hello, then requests answered in order (see
//! [`mz_shared::protocol`]). Every request has a typed method ([`Client::status`],
//! [`Client::case_show`], …) returning the answer's type, or a [`ClientError`]:
//! [`ClientError::Refused`] carries the daemon's [`Refusal`] (code and bilingual reason).
//! Answers of many messages (exports, case lists, subscriptions) come as [`Answers`], read one
//! item at a time. [`Client::call`] and [`Client::recv`] stay for raw access (benches, tests).

use mz_shared::audit::{AuditAnchor, AuditReport};
use mz_shared::case::{Action, CaseState};
use mz_shared::dashboard::{Dashboard, FundRow};
use mz_shared::protocol::{
    CaseOpenRequest, CaseReply, CaseView, ClientMessage, ExportFormat, ExportWhat, Refusal, Request, ServerMessage,
    StatusReport, TaskView, PROTOCOL_VERSION,
};
use mz_shared::registry::Role;
use mz_shared::task::TaskFilter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

mod stream;
mod sys;
pub use stream::Answers;

/// Why a request to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be connected to.
    #[error("cannot reach mzd at {path}: {source} (is `mzd run` running? pass --socket or set MZ_SOCKET)")]
    Connect {
        /// The socket's path.
        path: PathBuf,
        /// The operating system's error (no such file, permission denied, refused).
        source: std::io::Error,
    },
    /// Reading or writing the connection failed after it was made.
    #[error("connection to mzd lost: {0}")]
    Io(#[from] std::io::Error),
    /// The daemon answered with a message that does not fit the request, or not JSON; what it was.
    #[error("mzd sent something unexpected: {0}")]
    Protocol(String),
    /// The daemon refused the request: the reason, `中文 | English`.
    #[error("{0}")]
    Refused(Refusal),
}

impl ClientError {
    /// The daemon's refusal, when that is what this is.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            ClientError::Refused(r) => Some(r),
            _ => None,
        }
    }
}

/// What to make of an answer a typed method did not expect: a refusal, or a protocol error that
/// names the answer's type only (its contents may hold personal data).
fn unexpected(msg: ServerMessage) -> ClientError {
    match msg {
        ServerMessage::Error(refusal) => ClientError::Refused(refusal),
        other => {
            let kind = serde_json::to_value(&other).ok().and_then(|v| v["type"].as_str().map(str::to_owned));
            ClientError::Protocol(format!("an answer of type `{}`", kind.unwrap_or_default()))
        }
    }
}

/// The socket a client uses: the flag, else `$MZ_SOCKET`, else the default socket of
/// `./mz-data` (SPEC §1).
pub fn socket_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("MZ_SOCKET").filter(|s| !s.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("./mz-data/mzd.sock"))
}

pub use sys::{current_uid, user_name};

/// What `Request::Status` is answered with, by a district daemon or by the city daemon.
#[derive(Debug)]
pub enum AnyStatus {
    /// A district daemon's `mzd status --json` (SPEC §6).
    District(Box<StatusReport>),
    /// The city daemon's `mzd status --json` (SPEC §9).
    City(Box<mz_shared::city::CityStatus>),
}

/// What `Request::Report` is answered with, by a district daemon or by the city daemon.
#[derive(Debug)]
pub enum AnyReport {
    /// A district's report (SPEC §8).
    District(Box<mz_shared::statistics::Report>),
    /// The city's: each district's report side by side with city totals.
    City(Box<mz_shared::statistics::city::CityReport>),
}

/// A connected, greeted client.
pub struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
    /// The OS user the daemon sees, from the socket's peer credentials.
    pub user: String,
    /// The role the daemon's registry gives that user.
    pub role: Role,
    /// The daemon's version, e.g. `0.1.0`.
    pub daemon_version: String,
}

impl Client {
    /// Connects to the socket at `path` and says hello as `client_name` (e.g. `mzc`); fails
    /// unless the daemon answers with a welcome (a daemon of another [`PROTOCOL_VERSION`] refuses).
    pub async fn connect(path: &Path, client_name: &str) -> Result<Client, ClientError> {
        let stream =
            UnixStream::connect(path).await.map_err(|source| ClientError::Connect { path: path.to_owned(), source })?;
        let (r, writer) = stream.into_split();
        let mut c = Client {
            lines: BufReader::new(r).lines(),
            writer,
            user: String::new(),
            role: Role::Viewer,
            daemon_version: String::new(),
        };
        // A daemon over its connection limit says why and closes without reading: its reason is
        // still there to read when writing the hello failed.
        let sent = c.send(&ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: client_name.to_owned() }).await;
        let answer = match (c.recv().await, sent) {
            (Ok(answer), _) => answer,
            (Err(_), Err(e)) | (Err(e), Ok(())) => return Err(e),
        };
        match answer {
            ServerMessage::Welcome { user, role, version, .. } => {
                c.user = user;
                c.role = role;
                c.daemon_version = version;
                Ok(c)
            }
            other => Err(unexpected(other)),
        }
    }

    async fn send(&mut self, msg: &ClientMessage) -> Result<(), ClientError> {
        let mut line = serde_json::to_vec(msg).expect("protocol messages serialize");
        line.push(b'\n');
        self.writer.write_all(&line).await?;
        Ok(())
    }

    /// Sends a request without waiting for its answer: read it with [`Client::recv`].
    pub async fn request(&mut self, request: Request) -> Result<(), ClientError> {
        self.send(&ClientMessage::Request(request)).await
    }

    /// The next message from the daemon.
    pub async fn recv(&mut self) -> Result<ServerMessage, ClientError> {
        let line = self.lines.next_line().await?.ok_or_else(|| {
            ClientError::Io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "mzd closed the connection"))
        })?;
        serde_json::from_str(&line).map_err(|e| ClientError::Protocol(format!("{e}: {line}")))
    }

    /// Sends a request and returns its single answer.
    pub async fn call(&mut self, request: Request) -> Result<ServerMessage, ClientError> {
        self.request(request).await?;
        self.recv().await
    }

    /// The daemon's status (SPEC §6).
    pub async fn status(&mut self) -> Result<StatusReport, ClientError> {
        match self.call(Request::Status).await? {
            ServerMessage::Status(s) => Ok(*s),
            other => Err(unexpected(other)),
        }
    }

    /// The status of whichever daemon answers: a district's (SPEC §6) or the city's (SPEC §9).
    pub async fn any_status(&mut self) -> Result<AnyStatus, ClientError> {
        match self.call(Request::Status).await? {
            ServerMessage::Status(s) => Ok(AnyStatus::District(s)),
            ServerMessage::CityStatus(s) => Ok(AnyStatus::City(s)),
            other => Err(unexpected(other)),
        }
    }

    /// The city's own alerts (SPEC §9; only the city daemon answers).
    pub async fn city_alerts(&mut self) -> Result<Vec<mz_shared::cross_district::CityAlert>, ClientError> {
        match self.call(Request::CityAlerts).await? {
            ServerMessage::CityAlerts { alerts } => Ok(alerts),
            other => Err(unexpected(other)),
        }
    }

    /// Sends a request answered by `Done`.
    async fn done(&mut self, request: Request) -> Result<(), ClientError> {
        match self.call(request).await? {
            ServerMessage::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Acknowledges an alert by its printable id.
    pub async fn ack_alert(&mut self, id: &str) -> Result<(), ClientError> {
        self.done(Request::AckAlert { id: id.to_owned() }).await
    }

    /// Backs the store up into `dest` (a folder on the daemon's machine; admin only).
    pub async fn backup(&mut self, dest: &Path) -> Result<(), ClientError> {
        self.done(Request::Backup { dest: dest.to_owned() }).await
    }

    /// Sends a request answered by `Case`.
    async fn case(&mut self, request: Request) -> Result<CaseReply, ClientError> {
        match self.call(request).await? {
            ServerMessage::Case { case, warnings } => Ok(CaseReply { case: *case, warnings }),
            other => Err(unexpected(other)),
        }
    }

    /// Opens a case: the new case and its warnings.
    pub async fn case_open(&mut self, request: CaseOpenRequest) -> Result<CaseReply, ClientError> {
        self.case(Request::CaseOpen(request)).await
    }

    /// Acts on a case at the version the user saw: the case after the action, and its warnings.
    pub async fn case_act(
        &mut self,
        id: &str,
        action: Action,
        expected_version: u64,
    ) -> Result<CaseReply, ClientError> {
        self.case(Request::CaseAct { id: id.to_owned(), action, expected_version }).await
    }

    /// One case with its history.
    pub async fn case_show(&mut self, id: &str) -> Result<CaseView, ClientError> {
        Ok(self.case(Request::CaseShow { id: id.to_owned() }).await?.case)
    }

    /// Cases in id order, as the daemon streams them: chunks of cases, then the end.
    pub async fn case_list(
        &mut self,
        state: Option<CaseState>,
        limit: Option<u64>,
    ) -> Result<Answers<'_, Vec<CaseView>>, ClientError> {
        self.request(Request::CaseList { state, limit }).await?;
        Ok(Answers::new(self, stream::case_chunk))
    }

    /// The lines of an export (CSV with its header, or JSONL), as the daemon streams them.
    pub async fn export(&mut self, what: ExportWhat, format: ExportFormat) -> Result<Answers<'_, String>, ClientError> {
        self.request(Request::Export { what, format }).await?;
        Ok(Answers::new(self, stream::line))
    }

    /// A statistics report (SPEC §8): `period` `None` is the default of `kind` (yesterday, last
    /// month).
    pub async fn report(
        &mut self,
        kind: mz_shared::statistics::PeriodKind,
        period: Option<mz_shared::statistics::Period>,
    ) -> Result<mz_shared::statistics::Report, ClientError> {
        match self.call(Request::Report { kind, period }).await? {
            ServerMessage::Report(r) => Ok(*r),
            other => Err(unexpected(other)),
        }
    }

    /// A statistics report from whichever daemon answers: a district's or the city's.
    pub async fn any_report(
        &mut self,
        kind: mz_shared::statistics::PeriodKind,
        period: Option<mz_shared::statistics::Period>,
    ) -> Result<AnyReport, ClientError> {
        match self.call(Request::Report { kind, period }).await? {
            ServerMessage::Report(r) => Ok(AnyReport::District(r)),
            ServerMessage::CityReport(r) => Ok(AnyReport::City(r)),
            other => Err(unexpected(other)),
        }
    }

    /// The first `lines` lines of a rejects file the dashboard lists, masked as the role asks.
    pub async fn rejects_preview(&mut self, path: &str, lines: u32) -> Result<Vec<String>, ClientError> {
        self.request(Request::RejectsPreview { path: path.to_owned(), lines }).await?;
        Answers::new(self, stream::line).collect().await
    }

    /// A fresh status after every commit; the connection serves nothing else afterwards.
    pub async fn subscribe(&mut self) -> Result<Answers<'_, StatusReport>, ClientError> {
        self.request(Request::Subscribe).await?;
        Ok(Answers::new(self, stream::status))
    }

    /// A fresh dashboard after every commit and every minute; the connection serves nothing else
    /// afterwards.
    pub async fn subscribe_dashboard(&mut self) -> Result<Answers<'_, Box<Dashboard>>, ClientError> {
        self.request(Request::SubscribeDashboard).await?;
        Ok(Answers::new(self, stream::dashboard))
    }

    /// The dashboard as of now (the first of a subscription; the connection is used up).
    pub async fn dashboard(&mut self) -> Result<Box<Dashboard>, ClientError> {
        let mut updates = self.subscribe_dashboard().await?;
        let first = updates.next().await?;
        first.ok_or_else(|| ClientError::Protocol("a dashboard subscription that ended at once".into()))
    }

    /// Every audit check, with `anchors` as earlier states of the trail.
    pub async fn audit_check(&mut self, anchors: Vec<AuditAnchor>) -> Result<AuditReport, ClientError> {
        match self.call(Request::AuditCheck { anchors }).await? {
            ServerMessage::AuditReport(r) => Ok(*r),
            other => Err(unexpected(other)),
        }
    }

    /// The older audit request: the number of entries verified, or the first problem.
    pub async fn audit_verify(&mut self) -> Result<u64, ClientError> {
        match self.call(Request::AuditVerify).await? {
            ServerMessage::AuditOk { entries } => Ok(entries),
            other => Err(unexpected(other)),
        }
    }

    /// Logs an arrival, discharge or incident (station staff): the record id it was stored under.
    pub async fn log_station_event(&mut self, values: BTreeMap<String, String>) -> Result<String, ClientError> {
        match self.call(Request::LogStationEvent { values }).await? {
            ServerMessage::Logged { record_id } => Ok(record_id),
            other => Err(unexpected(other)),
        }
    }

    /// The reserve fund of every street.
    pub async fn fund_list(&mut self) -> Result<Vec<FundRow>, ClientError> {
        match self.call(Request::FundList).await? {
            ServerMessage::Funds { funds } => Ok(funds),
            other => Err(unexpected(other)),
        }
    }

    /// One page of the case queue: at most `limit` cases from position `offset` of `view`, in
    /// the queue's order, with the view's total (names masked for viewers).
    pub async fn case_page(
        &mut self,
        view: mz_shared::dashboard::CaseQueueView,
        offset: u64,
        limit: u32,
    ) -> Result<mz_shared::dashboard::CasePage, ClientError> {
        match self.call(Request::CasePage { view, offset, limit }).await? {
            ServerMessage::CasePage(page) => Ok(*page),
            other => Err(unexpected(other)),
        }
    }

    /// Station tasks, soonest due first.
    pub async fn task_list(
        &mut self,
        station: Option<String>,
        state: Option<TaskFilter>,
    ) -> Result<Vec<TaskView>, ClientError> {
        match self.call(Request::TaskList { station, state }).await? {
            ServerMessage::Tasks { tasks } => Ok(tasks),
            other => Err(unexpected(other)),
        }
    }

    /// Completes an open task: the task after it.
    pub async fn task_done(&mut self, id: &str, note: Option<String>) -> Result<TaskView, ClientError> {
        match self.call(Request::TaskDone { id: id.to_owned(), note }).await? {
            ServerMessage::Task { task } => Ok(*task),
            other => Err(unexpected(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_environment_and_the_default() {
        assert_eq!(socket_path(Some(PathBuf::from("/run/mz/mzd.sock"))), PathBuf::from("/run/mz/mzd.sock"));
        // This test alone touches MZ_SOCKET in this test process.
        std::env::set_var("MZ_SOCKET", "/tmp/x.sock");
        assert_eq!(socket_path(None), PathBuf::from("/tmp/x.sock"));
        std::env::set_var("MZ_SOCKET", "");
        assert_eq!(socket_path(None), PathBuf::from("./mz-data/mzd.sock"));
        std::env::remove_var("MZ_SOCKET");
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0), "root");
    }
}
