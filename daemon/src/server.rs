//! The Unix-socket server: one task per connection, newline-delimited JSON
//! ([`mz_shared::protocol`]). It reads the figures the engine publishes after each commit and the
//! store's pages for exports; it never writes the store.
//!
//! Who is connected comes from the socket's peer credentials (`SO_PEERCRED`). What they may do is
//! decided for each request from the registry in force, so a role changed on reload applies to
//! connections already open. Unknown users are viewers; viewers see names masked everywhere.
//!
//! Limits keep one client from starving the others: a request line is at most
//! [`MAX_LINE_BYTES`]; [`MAX_CONNECTIONS`] connections are served at once and up to
//! [`MAX_STATUS_ONLY`] more may still ask for the status (so `mzd status` answers when the limit
//! is reached); a connection must send its hello within [`HELLO_TIMEOUT`] and is closed after
//! [`IDLE_TIMEOUT`] without a request (subscriptions only receive and never time out); a request
//! waits at most [`ENGINE_TIMEOUT`] for the engine (a backup [`BACKUP_TIMEOUT`]).
//! `MZD_HELLO_TIMEOUT_MS`, `MZD_IDLE_TIMEOUT_MS` and `MZD_ENGINE_TIMEOUT_MS` override the three
//! timeouts (for tests).

use crate::cases;
use crate::engine::handle::span;
use crate::engine::EngineHandle;
use crate::export;
pub use crate::health::Problem;
use crate::report;
use crate::shutdown::Shutdown;
use crate::store::pages::export_latest;
use crate::store::StoreError;
use crate::store::StoreReader;
use crate::tasks;
use mz_shared::audit::{AuditAnchor, AuditReport};
use mz_shared::case::{Action, Actor, Case, CaseState};
use mz_shared::dashboard::Dashboard;
use mz_shared::protocol::{
    CaseOpenRequest, ClientMessage, ExportFormat, ExportWhat, Refusal, RefusalCode, Request, ServerMessage,
    StatusReport, PROTOCOL_VERSION,
};
use mz_shared::reason::Reason;
use mz_shared::registry::Registry;
use mz_shared::registry::Role;
use mz_shared::task::{StationTask, TaskFilter};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{watch, Semaphore};

/// The longest request line (1 MiB). A longer line is answered with an error and the connection
/// closed: a client cannot make the daemon buffer without end.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Connections served at once. Beyond it, new connections may only ask for the status.
pub const MAX_CONNECTIONS: usize = 256;

/// Connections beyond [`MAX_CONNECTIONS`] still let in to ask for the status, once, within
/// [`STATUS_ONLY_TIMEOUT`]. Beyond these, a connection is told why and closed at once.
pub const MAX_STATUS_ONLY: usize = 64;

/// How long a status-only connection has for its hello and its one request.
pub const STATUS_ONLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a new connection has to send its hello (`MZD_HELLO_TIMEOUT_MS` overrides).
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection may wait between requests (`MZD_IDLE_TIMEOUT_MS` overrides). Not for
/// subscriptions (`Subscribe`, `SubscribeDashboard`): they only receive, all shift long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How long a request waits for the engine's answer (`MZD_ENGINE_TIMEOUT_MS` overrides).
pub const ENGINE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a backup waits for the engine: copying a large store takes minutes.
pub const BACKUP_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The timeouts in force: the constants above or their environment overrides.
#[derive(Debug, Clone, Copy)]
struct Limits {
    hello: Duration,
    idle: Duration,
    engine: Duration,
}

impl Limits {
    fn from_env() -> Limits {
        Limits {
            hello: env_ms("MZD_HELLO_TIMEOUT_MS").unwrap_or(HELLO_TIMEOUT),
            idle: env_ms("MZD_IDLE_TIMEOUT_MS").unwrap_or(IDLE_TIMEOUT),
            engine: env_ms("MZD_ENGINE_TIMEOUT_MS").unwrap_or(ENGINE_TIMEOUT),
        }
    }
}

/// A positive number of milliseconds from the environment variable `name`, if set.
fn env_ms(name: &str) -> Option<Duration> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => {
            tracing::info!(name, ms, "timeout set from the environment");
            Some(Duration::from_millis(ms))
        }
        _ => {
            tracing::warn!(name, value, "ignored: not a positive number of milliseconds");
            None
        }
    }
}

/// What the server reads.
#[derive(Clone)]
pub struct ServerContext {
    /// The figures as of the last commit.
    pub dashboard: watch::Receiver<Arc<Dashboard>>,
    /// Commands to the engine (the only writer).
    pub engine: EngineHandle,
    pub registry: watch::Receiver<Arc<Registry>>,
    pub reader: StoreReader,
    /// Live checks added to every status: files waiting in the inbox, health problems.
    pub live: Arc<dyn Fn() -> LiveStatus + Send + Sync>,
}

/// Figures that are measured when asked rather than published by the engine.
#[derive(Debug, Clone, Default)]
pub struct LiveStatus {
    pub in_progress: u64,
    pub problems: Vec<Problem>,
    /// Publishing to the city, when configured (SPEC §9).
    pub publish: Option<mz_shared::protocol::PublishStatus>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("another mzd is already listening on {0}; stop it first or use another --socket")]
    InUse(PathBuf),
    #[error(
        "{0} exists and is not a socket; mzd does not replace it: give --socket a path that does not exist yet \
         (the default is <data>/mzd.sock)"
    )]
    NotASocket(PathBuf),
    #[error("cannot listen on {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
    #[error("socket group `{0}` does not exist; fix socket_group in the config")]
    NoGroup(String),
}

/// Binds the socket with mode 0660 (group `socket_group` if given). A socket nobody answers on
/// (left by a daemon that was killed) is replaced; any other file there is refused.
pub async fn bind(path: &Path, socket_group: Option<&str>) -> Result<UnixListener, ServerError> {
    let bind_error = |source| ServerError::Bind { path: path.to_owned(), source };
    remove_stale_socket(path).await?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(bind_error)?;
    }
    let listener = UnixListener::bind(path).map_err(bind_error)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(bind_error)?;
    if let Some(group) = socket_group {
        let gid = crate::sys::group_id(group).ok_or_else(|| ServerError::NoGroup(group.to_owned()))?;
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(bind_error)?;
    }
    Ok(listener)
}

/// Removes `path` if it is a socket that refuses connections; nothing there is fine too.
async fn remove_stale_socket(path: &Path) -> Result<(), ServerError> {
    use std::os::unix::fs::FileTypeExt;
    let bind_error = |source| ServerError::Bind { path: path.to_owned(), source };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(bind_error(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ServerError::NotASocket(path.to_owned()));
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(ServerError::InUse(path.to_owned())),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(socket = %path.display(), "replacing the stale socket of an earlier run");
            std::fs::remove_file(path).map_err(bind_error)
        }
        Err(e) => Err(bind_error(e)),
    }
}

/// Accepts connections until `shutdown` fires.
pub async fn serve(listener: UnixListener, ctx: ServerContext, mut shutdown: Shutdown) {
    let gate = Gate::new(Limits::from_env());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => gate.admit(stream, &ctx, &shutdown),
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.recv() => break,
        }
    }
}

/// Who gets in: [`MAX_CONNECTIONS`] served, then [`MAX_STATUS_ONLY`] for the status only, then
/// nobody until some leave.
struct Gate {
    limits: Limits,
    served: Arc<Semaphore>,
    status_only: Arc<Semaphore>,
    /// Connections that found [`MAX_CONNECTIONS`] taken, since start.
    over_limit: AtomicU64,
}

impl Gate {
    fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            served: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            status_only: Arc::new(Semaphore::new(MAX_STATUS_ONLY)),
            over_limit: AtomicU64::new(0),
        }
    }

    /// Serves, serves the status only, or refuses `stream`, by the connections already open.
    fn admit(&self, stream: UnixStream, ctx: &ServerContext, shutdown: &Shutdown) {
        let (ctx, limits, shutdown) = (ctx.clone(), self.limits, shutdown.clone());
        if let Ok(permit) = self.served.clone().try_acquire_owned() {
            tokio::spawn(async move {
                log_end(Session::new(stream, ctx, limits, shutdown).run().await);
                drop(permit);
            });
            return;
        }
        let n = self.over_limit.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!(
                limit = MAX_CONNECTIONS,
                over_limit = n,
                "connection limit reached: new connections get the status only"
            );
        }
        match self.status_only.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(async move {
                    log_end(Session::new(stream, ctx, limits, shutdown).run_status_only().await);
                    drop(permit);
                });
            }
            Err(_) => refuse_now(&stream),
        }
    }
}

/// Over every limit: says why without waiting (a new connection's send buffer is empty, the
/// line fits) and closes.
fn refuse_now(stream: &UnixStream) {
    let mut line = serde_json::to_vec(&refused(too_many_connections())).expect("protocol messages serialize");
    line.push(b'\n');
    let _ = stream.try_write(&line);
}

fn log_end(result: io::Result<()>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended");
    }
}

/// What the next line of a connection gave.
enum Incoming {
    Request(Request),
    /// The client left, or was told why it is being closed.
    End,
}

/// One client connection: who it is, its requests, their answers.
struct Session {
    ctx: ServerContext,
    limits: Limits,
    user: String,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    shutdown: Shutdown,
}

impl Session {
    fn new(stream: UnixStream, ctx: ServerContext, limits: Limits, shutdown: Shutdown) -> Session {
        let user = stream.peer_cred().map(|c| mz_client::user_name(c.uid())).unwrap_or_else(|_| "unknown".to_owned());
        let (r, writer) = stream.into_split();
        Session { ctx, limits, user, reader: BufReader::new(r), writer, shutdown }
    }

    /// This user's role in the registry in force now.
    fn role(&self) -> Role {
        self.ctx.registry.borrow().role_of(&self.user)
    }

    async fn send(&mut self, msg: &ServerMessage) -> io::Result<()> {
        send(&mut self.writer, msg).await
    }

    async fn refuse(&mut self, refusal: Refusal) -> io::Result<()> {
        self.send(&ServerMessage::Error(refusal)).await
    }

    /// The hello, then requests until the client leaves, idles too long or subscribes.
    async fn run(mut self) -> io::Result<()> {
        if !self.handshake(self.limits.hello).await? {
            return Ok(());
        }
        while let Incoming::Request(request) = self.next_request(self.limits.idle, idle_reason).await? {
            if let Flow::Close = self.handle(request).await? {
                break;
            }
        }
        Ok(())
    }

    /// Over [`MAX_CONNECTIONS`]: the hello and one request, answered only if it asks for the
    /// status, so that `mzd status` still tells how the daemon is.
    async fn run_status_only(mut self) -> io::Result<()> {
        if !self.handshake(STATUS_ONLY_TIMEOUT).await? {
            return Ok(());
        }
        match self.next_request(STATUS_ONLY_TIMEOUT, |_| too_many_connections()).await? {
            Incoming::Request(Request::Status) => self.status().await,
            Incoming::Request(_) => self.refuse(too_many_connections()).await,
            Incoming::End => Ok(()),
        }
    }

    /// Reads the hello and answers it; `false` when the connection is to end.
    async fn handshake(&mut self, wait: Duration) -> io::Result<bool> {
        let Some(first) = self.next_line(wait, no_hello_reason).await? else { return Ok(false) };
        match serde_json::from_str::<ClientMessage>(&first) {
            Ok(ClientMessage::Hello { protocol, .. }) if protocol == PROTOCOL_VERSION => {
                let welcome = ServerMessage::Welcome {
                    protocol: PROTOCOL_VERSION,
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    user: self.user.clone(),
                    role: self.role(),
                };
                self.send(&welcome).await?;
                Ok(true)
            }
            Ok(ClientMessage::Hello { protocol, .. }) => {
                self.refuse(protocol_refusal(Reason::new(
                    format!("协议版本不符：客户端 {protocol}，服务端 {PROTOCOL_VERSION}；请使用同一版本的 mzd/mzc"),
                    format!("protocol mismatch: client {protocol}, daemon {PROTOCOL_VERSION}; use mzd and mzc of the same version"),
                )))
                .await?;
                Ok(false)
            }
            _ => {
                self.refuse(protocol_refusal(Reason::new("连接须先发送 hello", "the first message must be a hello")))
                    .await?;
                Ok(false)
            }
        }
    }

    /// The next request. Lines that are not requests are answered with an error and skipped.
    async fn next_request(&mut self, wait: Duration, timed_out: fn(Duration) -> Refusal) -> io::Result<Incoming> {
        loop {
            let Some(line) = self.next_line(wait, timed_out).await? else { return Ok(Incoming::End) };
            let reason = match serde_json::from_str::<ClientMessage>(&line) {
                Ok(ClientMessage::Request(request)) => return Ok(Incoming::Request(request)),
                Ok(ClientMessage::Hello { .. }) => Reason::new("重复的 hello", "hello sent twice"),
                Err(e) => Reason::new(format!("无法解析的请求：{e}"), format!("request not understood: {e}")),
            };
            self.refuse(protocol_refusal(reason)).await?;
        }
    }

    /// The next line (without its end), read into at most [`MAX_LINE_BYTES`]. `None` when the
    /// client left, or when it was too slow (told `timed_out(wait)`) or its line too long.
    async fn next_line(&mut self, wait: Duration, timed_out: fn(Duration) -> Refusal) -> io::Result<Option<String>> {
        let mut buf = Vec::new();
        let mut limited = (&mut self.reader).take(MAX_LINE_BYTES as u64 + 1);
        let n = match tokio::time::timeout(wait, limited.read_until(b'\n', &mut buf)).await {
            Ok(n) => n?,
            Err(_) => return self.close_with(timed_out(wait)).await,
        };
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        } else if buf.len() > MAX_LINE_BYTES {
            tracing::warn!(user = %self.user, limit = MAX_LINE_BYTES, "request line too long: connection closed");
            return self.close_with(line_too_long()).await;
        } else if n == 0 {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    async fn close_with(&mut self, refusal: Refusal) -> io::Result<Option<String>> {
        tracing::debug!(user = %self.user, reason = %refusal.reason.en, "closing a connection");
        self.refuse(refusal).await?;
        let _ = self.writer.shutdown().await;
        Ok(None)
    }
}

/// Whether a connection goes on after a request.
enum Flow {
    Continue,
    Close,
}

/// The answer to a refused request.
fn refused(refusal: Refusal) -> ServerMessage {
    ServerMessage::Error(refusal)
}

/// The store could not be read: try again later.
fn unavailable(zh: impl Into<String>, en: impl Into<String>) -> ServerMessage {
    refused(Refusal::new(RefusalCode::Unavailable, Reason::new(zh, en)))
}

fn protocol_refusal(reason: Reason) -> Refusal {
    Refusal::new(RefusalCode::Protocol, reason)
}

fn limit_refusal(reason: Reason) -> Refusal {
    Refusal::new(RefusalCode::Limit, reason)
}

fn no_hello_reason(wait: Duration) -> Refusal {
    let (zh, en) = span(wait);
    protocol_refusal(Reason::new(
        format!("{zh}内未收到 hello，连接已关闭"),
        format!("no hello within {en}: connection closed"),
    ))
}

fn idle_reason(wait: Duration) -> Refusal {
    let (zh, en) = span(wait);
    limit_refusal(Reason::new(
        format!("连接空闲超过 {zh}，已关闭；需要时请重新连接"),
        format!("connection idle for {en}: closed; connect again when needed"),
    ))
}

fn line_too_long() -> Refusal {
    let mib = MAX_LINE_BYTES >> 20;
    limit_refusal(Reason::new(
        format!("请求过长（超过 {mib} MiB），连接已关闭"),
        format!("request line too long (over {mib} MiB): connection closed"),
    ))
}

fn too_many_connections() -> Refusal {
    limit_refusal(Reason::new(
        format!("mzd 连接数已达上限（{MAX_CONNECTIONS} 个），请稍后再试；此时只应答 mzd status"),
        format!(
            "too many connections to mzd (limit {MAX_CONNECTIONS}): try again later; only mzd status is answered now"
        ),
    ))
}

async fn send(w: &mut (impl AsyncWriteExt + Unpin), msg: &ServerMessage) -> io::Result<()> {
    let mut line = serde_json::to_vec(msg).expect("protocol messages serialize");
    line.push(b'\n');
    w.write_all(&line).await
}

/// The status report with live checks applied.
pub fn current_status(ctx: &ServerContext) -> StatusReport {
    let mut report = ctx.dashboard.borrow().status.clone();
    let live = (ctx.live)();
    report.files.in_progress = live.in_progress;
    report.publish = live.publish.unwrap_or_default();
    report.healthy = !live.problems.iter().any(|p| p.stops_ingest);
    report.problems.extend(live.problems.into_iter().map(|p| p.text));
    report
}

/// The checks the server makes itself before a request runs. Opening and acting on cases and
/// logging station events also depend on the case, street or station: the engine checks those
/// with the same role ([`mz_shared::case`], [`Registry::may_log_at`]).
fn authorize(role: Role, request: &Request) -> Result<(), Refusal> {
    let forbidden = |zh: &str, en: &str| Err(Refusal::new(RefusalCode::Forbidden, Reason::new(zh, en)));
    match request {
        Request::Backup { .. } if role != Role::Admin => {
            forbidden("只有管理员可以备份", "only an admin may make a backup")
        }
        Request::AckAlert { .. } if role == Role::Viewer => {
            forbidden("只读用户不能确认告警", "viewers cannot acknowledge alerts")
        }
        Request::TaskDone { .. } if role == Role::Viewer => forbidden(
            "查看员（只读）不能完成事项；须由该站工作人员或值班员完成",
            "viewers (read-only) cannot complete tasks; station staff of the task's station or an officer can",
        ),
        _ => Ok(()),
    }
}

/// One handler per request; each answers on the connection. The role is the one in force now.
impl Session {
    async fn handle(&mut self, request: Request) -> io::Result<Flow> {
        let role = self.role();
        if let Err(reason) = authorize(role, &request) {
            self.refuse(reason).await?;
            return Ok(Flow::Continue);
        }
        match request {
            Request::Status => self.status().await?,
            Request::Export { what, format } => export(&mut self.writer, &self.ctx, what, format, role).await?,
            Request::Subscribe => {
                self.subscribe().await?;
                return Ok(Flow::Close);
            }
            Request::SubscribeDashboard => {
                self.subscribe_dashboard().await?;
                return Ok(Flow::Close);
            }
            Request::CaseOpen(request) => self.case_open(role, request).await?,
            Request::CaseAct { id, action, expected_version } => {
                self.case_act(role, id, action, expected_version).await?
            }
            Request::LogStationEvent { values } => self.log_station_event(role, values).await?,
            Request::CaseShow { id } => self.case_show(role, &id).await?,
            Request::RejectsPreview { path, lines } => self.rejects_preview(role, path, lines).await?,
            Request::CaseList { state, limit } => self.case_list(role, state, limit).await?,
            Request::CasePage { view, offset, limit } => self.case_page(role, view, offset, limit).await?,
            Request::AuditVerify => self.audit_verify().await?,
            Request::AuditCheck { anchors } => self.audit_check(anchors).await?,
            Request::Backup { dest } => self.backup(dest).await?,
            Request::AckAlert { id } => self.ack_alert(id).await?,
            Request::FundList => self.fund_list().await?,
            Request::Report { kind, period } => self.statistics_report(kind, period).await?,
            Request::TaskList { station, state } => self.task_list(station, state).await?,
            Request::TaskDone { id, note } => self.task_done(role, id, note).await?,
            Request::CityAlerts => {
                let reason = Reason::new(
                    "这是区级 mzd：跨区告警请向市级汇总（mzd city）查询",
                    "this is a district mzd: ask the city roll-up (mzd city) for cross-district alerts",
                );
                self.refuse(Refusal::new(RefusalCode::NotFound, reason)).await?
            }
        }
        Ok(Flow::Continue)
    }

    async fn status(&mut self) -> io::Result<()> {
        let status = current_status(&self.ctx);
        self.send(&ServerMessage::Status(Box::new(status))).await
    }

    /// A fresh status after every commit, until the client leaves or the daemon stops.
    async fn subscribe(&mut self) -> io::Result<()> {
        let mut dash = self.ctx.dashboard.clone();
        loop {
            self.status().await?;
            tokio::select! {
                changed = dash.changed() => if changed.is_err() { return Ok(()) },
                _ = self.shutdown.recv() => return Ok(()),
            }
        }
    }

    /// A fresh dashboard after every commit, names masked while the user is a viewer.
    async fn subscribe_dashboard(&mut self) -> io::Result<()> {
        let mut dash = self.ctx.dashboard.clone();
        loop {
            let viewer = self.role() == Role::Viewer;
            let mut d = {
                let current = dash.borrow_and_update();
                if viewer {
                    report::masked_for_viewer(&current)
                } else {
                    (**current).clone()
                }
            };
            d.status = current_status(&self.ctx);
            self.send(&ServerMessage::Dashboard(Box::new(d))).await?;
            tokio::select! {
                changed = dash.changed() => if changed.is_err() { return Ok(()) },
                _ = self.shutdown.recv() => return Ok(()),
            }
        }
    }

    async fn case_open(&mut self, role: Role, request: CaseOpenRequest) -> io::Result<()> {
        let actor = Actor::new(self.user.clone(), role);
        let answer = self.ctx.engine.case_open(actor, request, self.limits.engine).await;
        let msg = answer.map_or_else(refused, |(case, warnings)| case_message(&self.ctx, &case, role, warnings));
        self.send(&msg).await
    }

    async fn case_act(&mut self, role: Role, id: String, action: Action, expected_version: u64) -> io::Result<()> {
        let actor = Actor::new(self.user.clone(), role);
        let answer = self.ctx.engine.case_act(actor, id, action, expected_version, self.limits.engine).await;
        let msg = answer.map_or_else(refused, |applied| {
            let warnings = applied.warnings.iter().map(|w| w.reason()).collect();
            case_message(&self.ctx, &applied.case, role, warnings)
        });
        self.send(&msg).await
    }

    async fn log_station_event(&mut self, role: Role, values: BTreeMap<String, String>) -> io::Result<()> {
        let actor = Actor::new(self.user.clone(), role);
        let answer = self.ctx.engine.log_station_event(actor, values, self.limits.engine).await;
        let msg = answer.map_or_else(refused, |record_id| ServerMessage::Logged { record_id });
        self.send(&msg).await
    }

    async fn rejects_preview(&mut self, role: Role, path: String, lines: u32) -> io::Result<()> {
        let listed = self.ctx.dashboard.borrow().ingest.iter().any(|e| e.note.as_deref() == Some(path.as_str()));
        if !listed || !path.ends_with(".rejects.csv") {
            return self
                .refuse(Refusal::new(
                    RefusalCode::NotFound,
                    Reason::new(
                        "只能预览最近处理文件的拒收记录文件",
                        "only the rejects file of a recently handled file can be previewed",
                    ),
                ))
                .await;
        }
        let n = lines.clamp(1, 200) as usize;
        let mask_names = role == Role::Viewer;
        let read = tokio::task::spawn_blocking(move || crate::export::rejects_preview(Path::new(&path), n, mask_names));
        match read.await.unwrap_or_else(|e| Err(io::Error::other(e.to_string()))) {
            Ok(preview) => {
                for line in &preview {
                    self.send(&ServerMessage::Line { line: line.clone() }).await?;
                }
                self.send(&ServerMessage::End { count: preview.len() as u64 }).await
            }
            Err(e) => {
                self.refuse(Refusal::new(
                    RefusalCode::Unavailable,
                    Reason::new(format!("无法读取拒收记录文件：{e}"), format!("cannot read the rejects file: {e}")),
                ))
                .await
            }
        }
    }

    async fn case_show(&mut self, role: Role, id: &str) -> io::Result<()> {
        let msg = match read_case(&self.ctx, id) {
            Ok(Some(case)) => case_message(&self.ctx, &case, role, Vec::new()),
            Ok(None) => refused(Refusal::new(
                RefusalCode::NotFound,
                Reason::new(format!("案件 {id} 不存在"), format!("case {id} does not exist")),
            )),
            Err(e) => unavailable(format!("读取失败：{e}"), format!("cannot read the case: {e}")),
        };
        self.send(&msg).await
    }

    /// Streams the cases from the store in chunks of [`LIST_CHUNK`]: a reader thread decodes
    /// them as the client takes them (a channel of two chunks), so memory stays bounded however
    /// many cases there are. A client that stops reading for the idle timeout is dropped, which
    /// stops the reader.
    async fn case_list(&mut self, role: Role, state: Option<CaseState>, limit: Option<u64>) -> io::Result<()> {
        let registry = self.ctx.registry.borrow().clone();
        let now = jiff::Timestamp::now().as_millisecond();
        let reader = self.ctx.reader.clone();
        let mask = role == Role::Viewer;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<mz_shared::protocol::CaseView>>(2);
        let producer = tokio::task::spawn_blocking(move || -> Result<u64, StoreError> {
            let mut count = 0;
            let mut chunk = Vec::with_capacity(LIST_CHUNK);
            for case in crate::state::scan_cases(&reader) {
                if limit.is_some_and(|l| count >= l) {
                    break;
                }
                let case = case?;
                if state.is_some_and(|s| case.state != s) {
                    continue;
                }
                chunk.push(cases::view(&case, &registry, now, false, mask));
                count += 1;
                if chunk.len() == LIST_CHUNK && tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
                    return Ok(count);
                }
            }
            if !chunk.is_empty() || count == 0 {
                let _ = tx.blocking_send(chunk);
            }
            Ok(count)
        });
        while let Some(cases) = rx.recv().await {
            let sent = tokio::time::timeout(self.limits.idle, self.send(&ServerMessage::Cases { cases })).await;
            match sent {
                Ok(r) => r?,
                Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "client stopped reading the case list")),
            }
        }
        let msg = match producer.await {
            Ok(Ok(count)) => ServerMessage::End { count },
            Ok(Err(e)) => unavailable(format!("读取失败：{e}"), format!("cannot read the cases: {e}")),
            Err(e) => unavailable(format!("读取失败：{e}"), format!("cannot read the cases: {e}")),
        };
        self.send(&msg).await
    }

    /// The old request: the whole check, answered with the first problem or the entry count.
    async fn audit_verify(&mut self) -> io::Result<()> {
        let msg = match audit_check(&self.ctx, Vec::new()).await {
            Ok(report) if report.ok => ServerMessage::AuditOk { entries: report.trail.entries },
            Ok(report) => report.problems.first().cloned().map_or_else(
                || refused(Refusal::rejected(Reason::new("审计校验失败", "the audit check failed"))),
                |reason| refused(Refusal::rejected(reason)),
            ),
            Err(refusal) => refused(refusal),
        };
        self.send(&msg).await
    }

    /// The chain, the store's anchor, the given anchors and every case against the trail.
    async fn audit_check(&mut self, anchors: Vec<AuditAnchor>) -> io::Result<()> {
        let msg =
            audit_check(&self.ctx, anchors).await.map_or_else(refused, |r| ServerMessage::AuditReport(Box::new(r)));
        self.send(&msg).await
    }

    async fn backup(&mut self, dest: PathBuf) -> io::Result<()> {
        let wait = BACKUP_TIMEOUT.max(self.limits.engine);
        let answer = self.ctx.engine.backup(dest, wait).await;
        let msg = answer.map_or_else(refused, |_| ServerMessage::Done);
        self.send(&msg).await
    }

    /// A page of the case queue from the engine's index (any role), names masked for viewers.
    async fn case_page(
        &mut self,
        role: Role,
        view: mz_shared::dashboard::CaseQueueView,
        offset: u64,
        limit: u32,
    ) -> io::Result<()> {
        let viewer = role == Role::Viewer;
        let answer = self.ctx.engine.case_page(view, offset, limit, !viewer, self.limits.engine).await;
        let msg = answer.map_or_else(refused, |mut page| {
            if viewer {
                report::mask_page_for_viewer(&mut page);
            }
            ServerMessage::CasePage(page)
        });
        self.send(&msg).await
    }

    /// The reserve funds, from the engine so that an action just answered is counted.
    async fn fund_list(&mut self) -> io::Result<()> {
        let answer = self.ctx.engine.fund_list(self.limits.engine).await;
        let msg = answer.map_or_else(refused, |funds| ServerMessage::Funds { funds });
        self.send(&msg).await
    }

    /// A statistics report (any role: figures only, no personal data), from the engine's day
    /// figures as of now.
    async fn statistics_report(
        &mut self,
        kind: mz_shared::statistics::PeriodKind,
        period: Option<mz_shared::statistics::Period>,
    ) -> io::Result<()> {
        let answer = self.ctx.engine.report(kind, period, self.limits.engine).await;
        let msg = answer.map_or_else(refused, ServerMessage::Report);
        self.send(&msg).await
    }

    /// Station tasks from the committed store, soonest due first.
    async fn task_list(&mut self, station: Option<String>, filter: Option<TaskFilter>) -> io::Result<()> {
        let registry = self.ctx.registry.borrow().clone();
        let now = jiff::Timestamp::now().as_millisecond();
        let read: Result<Vec<StationTask>, StoreError> = tasks::stored(&self.ctx.reader);
        let msg = match read {
            Ok(mut tasks) => {
                tasks.retain(|t| station.as_ref().is_none_or(|s| t.station == *s));
                tasks.retain(|t| filter.is_none_or(|f| f.matches(t, now)));
                tasks.sort_by(|a, b| (a.due_at_ms, &a.id).cmp(&(b.due_at_ms, &b.id)));
                ServerMessage::Tasks { tasks: tasks.iter().map(|t| tasks::view(t, &registry, now)).collect() }
            }
            Err(e) => unavailable(format!("读取失败：{e}"), format!("cannot read the tasks: {e}")),
        };
        self.send(&msg).await
    }

    async fn task_done(&mut self, role: Role, id: String, note: Option<String>) -> io::Result<()> {
        let actor = Actor::new(self.user.clone(), role);
        let answer = self.ctx.engine.task_done(actor, id, note, self.limits.engine).await;
        let registry = self.ctx.registry.borrow().clone();
        let now = jiff::Timestamp::now().as_millisecond();
        let msg =
            answer.map_or_else(refused, |t| ServerMessage::Task { task: Box::new(tasks::view(&t, &registry, now)) });
        self.send(&msg).await
    }

    async fn ack_alert(&mut self, id: String) -> io::Result<()> {
        let user = self.user.clone();
        let answer = self.ctx.engine.ack_alert(id, user, self.limits.engine).await;
        let msg = answer.map_or_else(refused, |()| ServerMessage::Done);
        self.send(&msg).await
    }
}

async fn export(
    w: &mut (impl AsyncWriteExt + Unpin),
    ctx: &ServerContext,
    what: ExportWhat,
    format: ExportFormat,
    role: Role,
) -> io::Result<()> {
    let feed = match what {
        ExportWhat::Feed(feed) => feed,
        ExportWhat::Cases | ExportWhat::Audit => return export_desk(w, ctx, what, format, role).await,
    };
    let view = export::View { tz: ctx.registry.borrow().time_zone(), mask_names: role == Role::Viewer };
    let reader = ctx.reader.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1024);
    if format == ExportFormat::Csv {
        let _ = tx.send(export::csv_header(feed)).await;
    }
    let producer = tokio::task::spawn_blocking(move || {
        export_latest(&reader, feed, |rec| {
            let line = match format {
                ExportFormat::Jsonl => export::jsonl_line(&rec, &view),
                ExportFormat::Csv => export::csv_record(&rec, &view),
            };
            // A closed channel means the client went away: stop quietly.
            tx.blocking_send(line).map_err(|_| crate::store::StoreError::Decode {
                key: String::new(),
                detail: "client disconnected".into(),
            })
        })
    });
    while let Some(line) = rx.recv().await {
        send(w, &ServerMessage::Line { line }).await?;
    }
    match producer.await {
        Ok(Ok(count)) => send(w, &ServerMessage::End { count }).await,
        Ok(Err(e)) => send(w, &unavailable(format!("导出失败：{e}"), format!("export failed: {e}"))).await,
        Err(e) => send(w, &unavailable(format!("导出失败：{e}"), format!("export failed: {e}"))).await,
    }
}

/// Cases per `Cases` message of a streamed case list.
const LIST_CHUNK: usize = 64;

fn read_cases(ctx: &ServerContext) -> Result<Vec<Case>, StoreError> {
    crate::state::scan_cases(&ctx.reader).collect()
}

fn read_case(ctx: &ServerContext, id: &str) -> Result<Option<Case>, StoreError> {
    crate::state::read_case(&ctx.reader, id)
}

fn case_message(ctx: &ServerContext, case: &Case, role: Role, warnings: Vec<Reason>) -> ServerMessage {
    let registry = ctx.registry.borrow().clone();
    let now = jiff::Timestamp::now().as_millisecond();
    ServerMessage::Case { case: Box::new(cases::view(case, &registry, now, true, role == Role::Viewer)), warnings }
}

/// `mzd audit verify`: every audit check over the store, off the async threads.
async fn audit_check(ctx: &ServerContext, anchors: Vec<AuditAnchor>) -> Result<AuditReport, Refusal> {
    let reader = ctx.reader.clone();
    let unavailable = |zh: String, en: String| Refusal::new(RefusalCode::Unavailable, Reason::new(zh, en));
    match tokio::task::spawn_blocking(move || cases::verify(&reader, &anchors)).await {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(unavailable(format!("读取审计记录失败：{e}"), format!("cannot read the audit trail: {e}"))),
        Err(e) => Err(unavailable(format!("校验失败：{e}"), format!("verification failed: {e}"))),
    }
}

/// A case as one row of `mzd export cases`: its view as JSON.
fn case_row(view: mz_shared::protocol::CaseView) -> serde_json::Value {
    serde_json::to_value(view).expect("case views serialize")
}

/// `mzd export cases|audit`: one JSON object per line (JSONL), or CSV of the main fields.
async fn export_desk(
    w: &mut (impl AsyncWriteExt + Unpin),
    ctx: &ServerContext,
    what: ExportWhat,
    format: ExportFormat,
    role: Role,
) -> io::Result<()> {
    let rows: Result<Vec<serde_json::Value>, StoreError> = match what {
        ExportWhat::Cases => {
            let registry = ctx.registry.borrow().clone();
            let now = jiff::Timestamp::now().as_millisecond();
            read_cases(ctx).map(|cs| {
                cs.iter().map(|c| case_row(cases::view(c, &registry, now, true, role == Role::Viewer))).collect()
            })
        }
        _ => crate::state::audit_entries(&ctx.reader)
            .map(|es| es.iter().map(|e| serde_json::to_value(e).expect("audit entries serialize")).collect()),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return send(w, &unavailable(format!("导出失败：{e}"), format!("export failed: {e}"))).await,
    };
    let columns: &[&str] = match what {
        ExportWhat::Cases => {
            &["id", "state", "street", "source", "urgency", "opened_at", "overdue", "paid_fen", "summary"]
        }
        _ => &["seq", "at_ms", "user", "case_id", "action", "detail", "prev_hash", "hash"],
    };
    if format == ExportFormat::Csv {
        send(w, &ServerMessage::Line { line: export::csv_cells(columns.iter().map(|c| c.to_string())) }).await?;
    }
    for row in &rows {
        let line = match format {
            ExportFormat::Jsonl => row.to_string(),
            ExportFormat::Csv => export::csv_cells(columns.iter().map(|c| match &row[*c] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })),
        };
        send(w, &ServerMessage::Line { line }).await?;
    }
    send(w, &ServerMessage::End { count: rows.len() as u64 }).await
}
