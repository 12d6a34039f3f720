//! The city daemon's Unix socket: the same framing and hello as `mzd run`'s (newline-delimited
//! JSON, [`PROTOCOL_VERSION`]), answering what a city has.
//!
//! `Status` is answered with the §9 city status, `Report` with the city report (each
//! district's §8 report and city totals); `Subscribe` and `SubscribeDashboard` push it
//! after every applied batch (and every few seconds, so staleness moves). `CityAlerts` lists
//! the city's own alerts and `AckAlert` acknowledges one (officers and above; here the daemon's
//! own user and root). Everything a district
//! does (cases, tasks, exports) is refused with a reason naming the district daemon. Roles: the
//! daemon's own user and root are admins, every other user who may open the socket (mode 0660,
//! `socket_group`) is a viewer. Invariant: the server only reads the book, except an
//! acknowledgement, which writes under the book's lock like the consumer.

use super::book::CityBook;
use super::{status, CityConfig, CityShared};
use mz_shared::protocol::{ClientMessage, Refusal, RefusalCode, Request, ServerMessage, PROTOCOL_VERSION};
use mz_shared::reason::Reason;
use mz_shared::registry::Role;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// How long a connection may stay silent before it is closed.
const IDLE: Duration = Duration::from_secs(300);
/// Subscribers get a fresh status at least this often.
const PUSH_EVERY: Duration = Duration::from_secs(5);

/// Serves connections until the task is aborted.
pub async fn serve(
    listener: UnixListener,
    config: Arc<CityConfig>,
    book: Arc<Mutex<CityBook>>,
    shared: Arc<CityShared>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (config, book, shared) = (config.clone(), book.clone(), shared.clone());
        tokio::spawn(async move {
            if let Err(e) = session(stream, &config, &book, &shared).await {
                tracing::debug!(error = %e, "city connection ended");
            }
        });
    }
}

fn current(config: &CityConfig, book: &Mutex<CityBook>, shared: &CityShared) -> ServerMessage {
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let book = book.lock().unwrap_or_else(|p| p.into_inner());
    ServerMessage::CityStatus(Box::new(status(config, &book, shared, now_ms)))
}

/// The city report (SPEC §8 against the city), as of now.
fn report(
    config: &CityConfig,
    book: &Mutex<CityBook>,
    kind: mz_shared::statistics::PeriodKind,
    period: Option<mz_shared::statistics::Period>,
) -> ServerMessage {
    let now = crate::statistics::clock();
    let book = book.lock().unwrap_or_else(|p| p.into_inner());
    ServerMessage::CityReport(Box::new(super::report::city_report(config, &book, kind, period, now)))
}

async fn send(w: &mut (impl AsyncWriteExt + Unpin), msg: &ServerMessage) -> io::Result<()> {
    let mut line = serde_json::to_vec(msg).expect("protocol messages serialize");
    line.push(b'\n');
    w.write_all(&line).await
}

fn role_of(uid: Option<u32>) -> Role {
    let own = crate::sys::effective_uid();
    match uid {
        Some(u) if u == 0 || u == own => Role::Admin,
        _ => Role::Viewer,
    }
}

async fn session(
    stream: UnixStream,
    config: &CityConfig,
    book: &Mutex<CityBook>,
    shared: &CityShared,
) -> io::Result<()> {
    let uid = stream.peer_cred().ok().map(|c| c.uid());
    let user = uid.map_or_else(|| "unknown".to_owned(), mz_client::user_name);
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let Ok(Ok(Some(first))) = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await else {
        return Ok(());
    };
    match serde_json::from_str::<ClientMessage>(&first) {
        Ok(ClientMessage::Hello { protocol, .. }) if protocol == PROTOCOL_VERSION => {
            let welcome = ServerMessage::Welcome {
                protocol: PROTOCOL_VERSION,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                user: user.clone(),
                role: role_of(uid),
            };
            send(&mut w, &welcome).await?;
        }
        _ => {
            let reason = Reason::new(
                format!("连接须先发送协议版本 {PROTOCOL_VERSION} 的 hello"),
                format!("the first message must be a hello for protocol {PROTOCOL_VERSION}"),
            );
            return send(&mut w, &ServerMessage::Error(Refusal::new(RefusalCode::Protocol, reason))).await;
        }
    }
    loop {
        let Ok(Ok(Some(line))) = tokio::time::timeout(IDLE, lines.next_line()).await else { return Ok(()) };
        match serde_json::from_str::<ClientMessage>(&line) {
            Ok(ClientMessage::Request(Request::Status)) => send(&mut w, &current(config, book, shared)).await?,
            Ok(ClientMessage::Request(Request::Report { kind, period })) => {
                send(&mut w, &report(config, book, kind, period)).await?
            }
            Ok(ClientMessage::Request(Request::Subscribe | Request::SubscribeDashboard)) => {
                return subscribe(&mut w, config, book, shared).await;
            }
            Ok(ClientMessage::Request(Request::CityAlerts)) => {
                let alerts = book.lock().unwrap_or_else(|p| p.into_inner()).alerts.list();
                send(&mut w, &ServerMessage::CityAlerts { alerts }).await?
            }
            Ok(ClientMessage::Request(Request::AckAlert { id })) => {
                let answer = ack(book, role_of(uid), &id, &user);
                send(&mut w, &answer).await?;
                if answer == ServerMessage::Done {
                    shared.changed();
                }
            }
            Ok(_) | Err(_) => {
                let reason = Reason::new(
                    "市级汇总只提供状态、总览与统计报表；案件、事项、导出等请连接该区的 mzd",
                    "the city roll-up answers status, the overview and reports only; for cases, tasks and exports ask the district's mzd",
                );
                send(&mut w, &ServerMessage::Error(Refusal::new(RefusalCode::NotFound, reason))).await?;
            }
        }
    }
}

/// Acknowledges a city alert (any role but viewer), committed under the book's lock.
fn ack(book: &Mutex<CityBook>, role: Role, id: &str, user: &str) -> ServerMessage {
    let refuse = |code, zh: String, en: String| ServerMessage::Error(Refusal::new(code, Reason::new(zh, en)));
    if role == Role::Viewer {
        return refuse(
            RefusalCode::Forbidden,
            "只读用户不能确认告警".into(),
            "viewers cannot acknowledge alerts".into(),
        );
    }
    let at_ms = jiff::Timestamp::now().as_millisecond();
    match book.lock().unwrap_or_else(|p| p.into_inner()).ack_alert(id, user, at_ms) {
        Ok(true) => ServerMessage::Done,
        Ok(false) => refuse(RefusalCode::NotFound, format!("没有告警 {id}"), format!("no alert {id}")),
        Err(e) => refuse(
            RefusalCode::Unavailable,
            format!("市级库无法写入，未确认：{e}"),
            format!("the city store cannot be written, not acknowledged: {e}"),
        ),
    }
}

/// Pushes the status after every change, and every [`PUSH_EVERY`], until the client leaves.
async fn subscribe(
    w: &mut (impl AsyncWriteExt + Unpin),
    config: &CityConfig,
    book: &Mutex<CityBook>,
    shared: &CityShared,
) -> io::Result<()> {
    let mut changes = shared.changes.subscribe();
    loop {
        send(w, &current(config, book, shared)).await?;
        let _ = tokio::time::timeout(PUSH_EVERY, changes.changed()).await;
    }
}
