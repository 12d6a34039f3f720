//! The Unix-socket server: one task per connection, newline-delimited JSON
//! ([`mz_shared::protocol`]). It reads the figures the engine publishes after each commit and the
//! store's pages for exports; it never writes the store.
//!
//! Who is connected comes from the socket's peer credentials (`SO_PEERCRED`), mapped to a role
//! through the registry; unknown users are viewers.

use crate::cases;
use crate::export;
use crate::report;
use crate::service::EngineMsg;
use crate::store::pages::export_latest;
use crate::store::StoreReader;
use crate::store::{keys, StoreError};
use mz_shared::audit::{AuditAnchor, AuditReport};
use mz_shared::case::{Actor, Case};
use mz_shared::dashboard::Dashboard;
use mz_shared::protocol::{
    ClientMessage, ExportFormat, ExportWhat, Request, ServerMessage, StatusReport, PROTOCOL_VERSION,
};
use mz_shared::reason::Reason;
use mz_shared::registry::Registry;
use mz_shared::registry::Role;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

/// What the server reads.
#[derive(Clone)]
pub struct ServerContext {
    /// The figures as of the last commit.
    pub dashboard: watch::Receiver<Arc<Dashboard>>,
    /// Commands to the engine (the only writer).
    pub engine: std::sync::mpsc::Sender<EngineMsg>,
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
}

/// Something an operator should act on, in words they can act on (what, where, what to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub text: String,
    /// True while it stops ingest (or the store): status is then unhealthy.
    pub stops_ingest: bool,
}

impl Problem {
    /// A problem that stops ingest: status unhealthy while it lasts.
    pub fn blocking(text: impl Into<String>) -> Problem {
        Problem { text: text.into(), stops_ingest: true }
    }

    /// A problem that needs attention but does not stop ingest.
    pub fn attention(text: impl Into<String>) -> Problem {
        Problem { text: text.into(), stops_ingest: false }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("another mzd is already listening on {0}; stop it first or use another --socket")]
    InUse(PathBuf),
    #[error("cannot listen on {path}: {source}")]
    Bind { path: PathBuf, source: std::io::Error },
    #[error("socket group `{0}` does not exist; fix socket_group in the config")]
    NoGroup(String),
}

/// Binds the socket with mode 0660 (group `socket_group` if given), removing a stale socket file.
pub async fn bind(path: &Path, socket_group: Option<&str>) -> Result<UnixListener, ServerError> {
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ServerError::InUse(path.to_owned()));
        }
        let _ = std::fs::remove_file(path);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ServerError::Bind { path: path.to_owned(), source })?;
    }
    let listener = UnixListener::bind(path).map_err(|source| ServerError::Bind { path: path.to_owned(), source })?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|source| ServerError::Bind { path: path.to_owned(), source })?;
    if let Some(group) = socket_group {
        let gid = group_id(group).ok_or_else(|| ServerError::NoGroup(group.to_owned()))?;
        std::os::unix::fs::chown(path, None, Some(gid))
            .map_err(|source| ServerError::Bind { path: path.to_owned(), source })?;
    }
    Ok(listener)
}

/// Accepts connections until `shutdown` fires.
pub async fn serve(listener: UnixListener, ctx: ServerContext, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let ctx = ctx.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(async move {
                        if let Err(e) = connection(stream, ctx, shutdown).await {
                            tracing::debug!(error = %e, "connection ended");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

async fn send(w: &mut (impl AsyncWriteExt + Unpin), msg: &ServerMessage) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(msg).expect("protocol messages serialize");
    line.push(b'\n');
    w.write_all(&line).await
}

fn error(zh: impl Into<String>, en: impl Into<String>) -> ServerMessage {
    ServerMessage::Error { reason: Reason::new(zh, en) }
}

/// Sends a command to the engine (the only writer) and waits for its answer.
async fn ask_engine<T>(
    ctx: &ServerContext,
    message: impl FnOnce(tokio::sync::oneshot::Sender<Result<T, Reason>>) -> EngineMsg,
) -> Result<T, Reason> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let stopping = || Reason::new("守护进程正在停止", "mzd is shutting down");
    ctx.engine.send(message(reply)).map_err(|_| stopping())?;
    answer.await.map_err(|_| stopping())?
}

/// The status report with live checks applied.
pub fn current_status(ctx: &ServerContext) -> StatusReport {
    let mut report = ctx.dashboard.borrow().status.clone();
    let live = (ctx.live)();
    report.files.in_progress = live.in_progress;
    report.healthy = !live.problems.iter().any(|p| p.stops_ingest);
    report.problems.extend(live.problems.into_iter().map(|p| p.text));
    report
}

async fn connection(
    stream: UnixStream,
    ctx: ServerContext,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let user = stream.peer_cred().ok().and_then(|c| user_name(c.uid())).unwrap_or_else(|| "unknown".to_owned());
    let role = ctx.registry.borrow().role_of(&user);
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    // Hello first.
    let Some(first) = lines.next_line().await? else { return Ok(()) };
    match serde_json::from_str::<ClientMessage>(&first) {
        Ok(ClientMessage::Hello { protocol, .. }) if protocol == PROTOCOL_VERSION => {
            let welcome = ServerMessage::Welcome {
                protocol: PROTOCOL_VERSION,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                user: user.clone(),
                role,
            };
            send(&mut w, &welcome).await?;
        }
        Ok(ClientMessage::Hello { protocol, .. }) => {
            let msg = error(
                format!("协议版本不符：客户端 {protocol}，服务端 {PROTOCOL_VERSION}；请使用同一版本的 mzd/mzc"),
                format!("protocol mismatch: client {protocol}, daemon {PROTOCOL_VERSION}; use mzd and mzc of the same version"),
            );
            return send(&mut w, &msg).await;
        }
        _ => {
            return send(&mut w, &error("连接须先发送 hello", "the first message must be a hello")).await;
        }
    }
    while let Some(line) = lines.next_line().await? {
        let request = match serde_json::from_str::<ClientMessage>(&line) {
            Ok(ClientMessage::Request(r)) => r,
            Ok(ClientMessage::Hello { .. }) => {
                send(&mut w, &error("重复的 hello", "hello sent twice")).await?;
                continue;
            }
            Err(e) => {
                send(&mut w, &error(format!("无法解析的请求：{e}"), format!("request not understood: {e}"))).await?;
                continue;
            }
        };
        match request {
            Request::Status => send(&mut w, &ServerMessage::Status(Box::new(current_status(&ctx)))).await?,
            Request::Export { what, format } => export(&mut w, &ctx, what, format, role).await?,
            Request::Subscribe => {
                let mut dash = ctx.dashboard.clone();
                loop {
                    send(&mut w, &ServerMessage::Status(Box::new(current_status(&ctx)))).await?;
                    tokio::select! {
                        changed = dash.changed() => if changed.is_err() { return Ok(()) },
                        _ = shutdown.changed() => return Ok(()),
                    }
                }
            }
            Request::SubscribeDashboard => {
                let mut dash = ctx.dashboard.clone();
                loop {
                    let mut d = {
                        let cur = dash.borrow_and_update();
                        if role == Role::Viewer {
                            report::masked_for_viewer(&cur)
                        } else {
                            (**cur).clone()
                        }
                    };
                    d.status = current_status(&ctx);
                    send(&mut w, &ServerMessage::Dashboard(Box::new(d))).await?;
                    tokio::select! {
                        changed = dash.changed() => if changed.is_err() { return Ok(()) },
                        _ = shutdown.changed() => return Ok(()),
                    }
                }
            }
            Request::CaseOpen(request) => {
                let actor = Actor::new(user.clone(), role);
                let answer = ask_engine(&ctx, |reply| EngineMsg::CaseOpen { actor, request, reply }).await;
                let msg = answer.map_or_else(
                    |reason| ServerMessage::Error { reason },
                    |case| case_message(&ctx, &case, role, Vec::new()),
                );
                send(&mut w, &msg).await?;
            }
            Request::CaseAct { id, action, expected_version } => {
                let actor = Actor::new(user.clone(), role);
                let answer =
                    ask_engine(&ctx, |reply| EngineMsg::CaseAct { actor, id, action, expected_version, reply }).await;
                let msg = answer.map_or_else(
                    |reason| ServerMessage::Error { reason },
                    |applied| {
                        let warnings = applied.warnings.iter().map(|w| w.reason()).collect();
                        case_message(&ctx, &applied.case, role, warnings)
                    },
                );
                send(&mut w, &msg).await?;
            }
            Request::LogStationEvent { values } => {
                let actor = Actor::new(user.clone(), role);
                let answer = ask_engine(&ctx, |reply| EngineMsg::LogStationEvent { actor, values, reply }).await;
                let msg = answer.map_or_else(
                    |reason| ServerMessage::Error { reason },
                    |record_id| ServerMessage::Logged { record_id },
                );
                send(&mut w, &msg).await?;
            }
            Request::CaseShow { id } => {
                let msg = match read_case(&ctx, &id) {
                    Ok(Some(case)) => case_message(&ctx, &case, role, Vec::new()),
                    Ok(None) => error(format!("案件 {id} 不存在"), format!("case {id} does not exist")),
                    Err(e) => error(format!("读取失败：{e}"), format!("cannot read the case: {e}")),
                };
                send(&mut w, &msg).await?;
            }
            Request::CaseList { state } => {
                let registry = ctx.registry.borrow().clone();
                let now = jiff::Timestamp::now().as_millisecond();
                let msg = match read_cases(&ctx) {
                    Ok(cases) => ServerMessage::Cases {
                        cases: cases
                            .iter()
                            .filter(|c| state.is_none_or(|s| c.state == s))
                            .map(|c| cases::view(c, &registry, now, false, role == Role::Viewer))
                            .collect(),
                    },
                    Err(e) => error(format!("读取失败：{e}"), format!("cannot read the cases: {e}")),
                };
                send(&mut w, &msg).await?;
            }
            Request::AuditVerify => {
                let msg = match audit_check(&ctx, Vec::new()).await {
                    Ok(report) if report.ok => ServerMessage::AuditOk { entries: report.trail.entries },
                    Ok(report) => ServerMessage::Error { reason: report.problems[0].clone() },
                    Err(reason) => ServerMessage::Error { reason },
                };
                send(&mut w, &msg).await?;
            }
            Request::AuditCheck { anchors } => {
                let msg = audit_check(&ctx, anchors)
                    .await
                    .map_or_else(|reason| ServerMessage::Error { reason }, |r| ServerMessage::AuditReport(Box::new(r)));
                send(&mut w, &msg).await?;
            }
            Request::Backup { dest } => {
                if role != Role::Admin {
                    send(&mut w, &error("只有管理员可以备份", "only an admin may make a backup")).await?;
                    continue;
                }
                let answer = ask_engine(&ctx, |reply| EngineMsg::Backup { dest, reply }).await;
                let msg = answer.map_or_else(|reason| ServerMessage::Error { reason }, |_| ServerMessage::Done);
                send(&mut w, &msg).await?;
            }
            Request::AckAlert { id } => {
                if role == Role::Viewer {
                    send(&mut w, &error("只读用户不能确认告警", "viewers cannot acknowledge alerts")).await?;
                    continue;
                }
                let user = user.clone();
                let answer = ask_engine(&ctx, |reply| EngineMsg::AckAlert { id, user, reply }).await;
                let msg = answer.map_or_else(|reason| ServerMessage::Error { reason }, |()| ServerMessage::Done);
                send(&mut w, &msg).await?;
            }
        }
    }
    Ok(())
}

async fn export(
    w: &mut (impl AsyncWriteExt + Unpin),
    ctx: &ServerContext,
    what: ExportWhat,
    format: ExportFormat,
    role: Role,
) -> std::io::Result<()> {
    let feed = match what {
        ExportWhat::Feed(feed) => feed,
        ExportWhat::Cases | ExportWhat::Audit => return export_desk(w, ctx, what, format, role).await,
    };
    let tz = ctx.registry.borrow().time_zone();
    let reader = ctx.reader.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1024);
    if format == ExportFormat::Csv {
        let _ = tx.send(export::csv_header(feed)).await;
    }
    let producer = tokio::task::spawn_blocking(move || {
        export_latest(&reader, feed, |rec| {
            let line = match format {
                ExportFormat::Jsonl => export::jsonl_line(&rec, &tz),
                ExportFormat::Csv => export::csv_record(&rec, &tz),
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
        Ok(Err(e)) => send(w, &error(format!("导出失败：{e}"), format!("export failed: {e}"))).await,
        Err(e) => send(w, &error(format!("导出失败：{e}"), format!("export failed: {e}"))).await,
    }
}

fn read_cases(ctx: &ServerContext) -> Result<Vec<Case>, StoreError> {
    ctx.reader.scan::<Case>(&keys::state_prefix("case")).map(|r| r.map(|(_, c)| c)).collect()
}

fn read_case(ctx: &ServerContext, id: &str) -> Result<Option<Case>, StoreError> {
    ctx.reader.get(&keys::state("case", id))
}

fn case_message(ctx: &ServerContext, case: &Case, role: Role, warnings: Vec<Reason>) -> ServerMessage {
    let registry = ctx.registry.borrow().clone();
    let now = jiff::Timestamp::now().as_millisecond();
    ServerMessage::Case { case: cases::view(case, &registry, now, true, role == Role::Viewer), warnings }
}

/// `mzd audit verify`: every audit check over the store, off the async threads.
async fn audit_check(ctx: &ServerContext, anchors: Vec<AuditAnchor>) -> Result<AuditReport, Reason> {
    let reader = ctx.reader.clone();
    match tokio::task::spawn_blocking(move || cases::verify(&reader, &anchors)).await {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(Reason::new(format!("读取审计记录失败：{e}"), format!("cannot read the audit trail: {e}"))),
        Err(e) => Err(Reason::new(format!("校验失败：{e}"), format!("verification failed: {e}"))),
    }
}

/// `mzd export cases|audit`: one JSON object per line (JSONL), or CSV of the main fields.
async fn export_desk(
    w: &mut (impl AsyncWriteExt + Unpin),
    ctx: &ServerContext,
    what: ExportWhat,
    format: ExportFormat,
    role: Role,
) -> std::io::Result<()> {
    let rows: Result<Vec<serde_json::Value>, StoreError> = match what {
        ExportWhat::Cases => {
            let registry = ctx.registry.borrow().clone();
            let now = jiff::Timestamp::now().as_millisecond();
            read_cases(ctx)
                .map(|cs| cs.iter().map(|c| cases::view(c, &registry, now, true, role == Role::Viewer)).collect())
        }
        _ => crate::state::audit_entries(&ctx.reader)
            .map(|es| es.iter().map(|e| serde_json::to_value(e).expect("audit entries serialize")).collect()),
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return send(w, &error(format!("导出失败：{e}"), format!("export failed: {e}"))).await,
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

/// The login name of a user id.
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers are valid for the call; `result` points into `pwd`/`buf` on success.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return Some(uid.to_string());
    }
    // SAFETY: on success pw_name is a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

fn group_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0u8; 4096];
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: buffers are valid for the call.
    let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return None;
    }
    Some(grp.gr_gid)
}
