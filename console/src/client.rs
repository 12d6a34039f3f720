//! The connection to `mzd`: one task that connects, subscribes to dashboards once and forwards
//! every pushed [`Dashboard`] over a channel; when the connection drops it says so and
//! reconnects with backoff (250 ms doubling, at most 2 s). Acknowledgements, case actions,
//! station events, task completions, previews and pages of the case queue each go over their own short connection
//! ([`one_shot`]) so that their answers never mix with the pushed stream. Every request goes
//! through the typed methods of [`mz_client::Client`].

use mz_client::{Client, ClientError};
use mz_shared::case::CaseState;
use mz_shared::dashboard::Dashboard;
use mz_shared::protocol::{CaseView, Request};
use mz_shared::reason::Reason;
use mz_shared::registry::Role;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// What the connection task reports to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// Greeted by the daemon: who we are.
    Connected {
        /// The OS user the daemon sees.
        user: String,
        /// The role its registry gives that user.
        role: Role,
    },
    /// The connection failed or dropped; `attempt` counts failures since the last success.
    Disconnected {
        /// Why, in words.
        error: String,
        /// Failures since the last success, 1 for the first.
        attempt: u32,
    },
    /// A pushed dashboard.
    Dashboard(Box<Dashboard>),
    /// The answer to an `AckAlert`.
    AckResult {
        /// The alert acknowledged.
        id: String,
        /// Done, or the daemon's refusal.
        result: Result<(), Reason>,
    },
    /// The answer to a case request (`CaseOpen`, `CaseAct`).
    CaseResult(Result<CaseAnswer, Reason>),
    /// The answer to a `LogStationEvent`: the record id the daemon assigned, or its refusal.
    LogResult(Result<String, Reason>),
    /// The first lines of a rejects file (masked by the daemon), or why not.
    Preview {
        /// The rejects file asked for.
        path: String,
        /// Its first lines, or why they could not be read.
        lines: Result<Vec<String>, String>,
    },
    /// The answer to a `TaskDone`: the task's id, or the refusal.
    TaskResult(Result<String, Reason>),
    /// A statistics report, or why there is none (see `views::report`).
    Report(Result<Box<mz_shared::statistics::Report>, String>),
    /// A page of the case queue, or why there is none.
    CasePage(Result<mz_shared::dashboard::CasePage, String>),
}

/// What the daemon answered to an accepted case request.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseAnswer {
    /// The case number, e.g. `JJN-2026-000123`.
    pub id: String,
    /// The case's state after the action.
    pub state: Option<CaseState>,
    /// A payment request is now pending (a payment above the cap).
    pub pending: bool,
    /// E.g. the same person aided twice within 30 days.
    pub warnings: Vec<Reason>,
}

impl CaseAnswer {
    /// From the daemon's case view (`mzd case show --json`).
    pub fn from_view(case: &CaseView, warnings: Vec<Reason>) -> CaseAnswer {
        CaseAnswer { id: case.id.clone(), state: Some(case.state), pending: case.pending_fen.is_some(), warnings }
    }
}

/// The longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Without any message for this long (the daemon pushes at least every minute), the connection
/// is taken as dead and reopened.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(90);

/// Wait before reconnection attempt number `attempt` (1-based).
pub fn backoff(attempt: u32) -> Duration {
    let ms = 250u64.saturating_mul(1 << attempt.saturating_sub(1).min(8));
    Duration::from_millis(ms).min(MAX_BACKOFF)
}

/// Starts the connection task. It ends when the receiver of `tx` is dropped.
pub fn spawn(socket: PathBuf, tx: UnboundedSender<ClientEvent>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut attempt = 0u32;
        loop {
            let error = session(&socket, &tx, &mut attempt).await;
            if tx.is_closed() {
                return;
            }
            attempt += 1;
            tracing::info!(attempt, %error, "connection to mzd lost or refused; reconnecting");
            if tx.send(ClientEvent::Disconnected { error, attempt }).is_err() {
                return;
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    })
}

/// One connection, until it fails: returns why.
async fn session(socket: &Path, tx: &UnboundedSender<ClientEvent>, attempt: &mut u32) -> String {
    let mut client = match Client::connect(socket, "mzc").await {
        Ok(c) => c,
        Err(e) => return e.to_string(),
    };
    let (user, role, version) = (client.user.clone(), client.role, client.daemon_version.clone());
    let mut updates = match client.subscribe_dashboard().await {
        Ok(updates) => updates,
        Err(e) => return e.to_string(),
    };
    tracing::info!(%user, ?role, %version, "connected to mzd");
    *attempt = 0;
    if tx.send(ClientEvent::Connected { user, role }).is_err() {
        return "console closing".into();
    }
    loop {
        let dashboard = match tokio::time::timeout(SILENCE_LIMIT, updates.next()).await {
            Err(_) => return format!("no update from mzd for {} s", SILENCE_LIMIT.as_secs()),
            Ok(Err(ClientError::Refused(refusal))) => {
                tracing::warn!(reason = %refusal, "mzd refused the dashboard subscription");
                return refusal.to_string();
            }
            Ok(Err(e)) => return e.to_string(),
            Ok(Ok(None)) => return "mzd ended the dashboard stream".into(),
            Ok(Ok(Some(d))) => d,
        };
        if tx.send(ClientEvent::Dashboard(dashboard)).is_err() {
            return "console closing".into();
        }
    }
}

/// Runs one request over a fresh connection (never the pushed stream): the answer, or why there
/// is none in words for the user.
async fn one_shot<T, F, Fut>(socket: &Path, ask: F) -> Result<T, Reason>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let client = Client::connect(socket, "mzc").await.map_err(|e| match e {
        ClientError::Refused(refusal) => refusal.reason,
        e => Reason::new(format!("无法连接 mzd：{e}"), format!("cannot reach mzd: {e}")),
    })?;
    ask(client).await.map_err(|e| match e {
        ClientError::Refused(refusal) => refusal.reason,
        ClientError::Protocol(what) => Reason::new(format!("意外的应答：{what}"), format!("unexpected answer: {what}")),
        e => Reason::new(format!("连接中断：{e}"), format!("connection lost: {e}")),
    })
}

/// Acknowledges an alert over a fresh connection; the answer goes to `tx`.
pub fn ack(socket: PathBuf, id: String, tx: UnboundedSender<ClientEvent>) {
    tokio::spawn(async move {
        let asked = id.clone();
        let result = one_shot(&socket, |mut c| async move { c.ack_alert(&asked).await }).await;
        tracing::info!(%id, ?result, "acknowledge alert");
        let _ = tx.send(ClientEvent::AckResult { id, result });
    });
}

/// Asks the daemon for the first lines of a rejects file (masked as the user's role asks); the
/// answer goes to `tx` as [`ClientEvent::Preview`].
pub fn preview(socket: PathBuf, path: String, tx: UnboundedSender<ClientEvent>) {
    tokio::spawn(async move {
        let lines = match Client::connect(&socket, "mzc").await {
            Err(e) => Err(e.to_string()),
            Ok(mut c) => c.rejects_preview(&path, 20).await.map_err(|e| e.to_string()),
        };
        let _ = tx.send(ClientEvent::Preview { path, lines });
    });
}

/// Sends a case request (`CaseOpen`, `CaseAct`) over a fresh connection; the answer goes to
/// `tx` as [`ClientEvent::CaseResult`].
pub fn case_request(socket: PathBuf, request: Request, tx: UnboundedSender<ClientEvent>) {
    // Never log the request itself: an opened case's ID number travels in it.
    let what = match &request {
        Request::CaseOpen(r) => format!("open on {}", r.street),
        Request::CaseAct { id, action, expected_version } => format!("{} on {id} v{expected_version}", action.kind()),
        _ => "other".into(),
    };
    tokio::spawn(async move {
        let result = one_shot(&socket, |mut c| async move {
            match request {
                Request::CaseOpen(open) => c.case_open(open).await,
                Request::CaseAct { id, action, expected_version } => c.case_act(&id, action, expected_version).await,
                _ => Err(ClientError::Protocol("not a case request".into())),
            }
        })
        .await
        .map(|reply| CaseAnswer::from_view(&reply.case, reply.warnings));
        tracing::info!(%what, ok = result.is_ok(), "case request");
        let _ = tx.send(ClientEvent::CaseResult(result));
    });
}

/// Asks the daemon for a page of the case queue over a fresh connection; the answer goes to
/// `tx` as [`ClientEvent::CasePage`].
pub fn case_page(
    socket: PathBuf,
    view: mz_shared::dashboard::CaseQueueView,
    offset: u64,
    limit: u32,
    tx: UnboundedSender<ClientEvent>,
) {
    tokio::spawn(async move {
        let page = match Client::connect(&socket, "mzc").await {
            Err(e) => Err(e.to_string()),
            Ok(mut c) => c.case_page(view, offset, limit).await.map_err(|e| e.to_string()),
        };
        tracing::debug!(?view, offset, limit, ok = page.is_ok(), "case page");
        let _ = tx.send(ClientEvent::CasePage(page));
    });
}

/// Sends a `LogStationEvent` over a fresh connection; the answer goes to `tx` as
/// [`ClientEvent::LogResult`].
pub fn log_request(socket: PathBuf, request: Request, tx: UnboundedSender<ClientEvent>) {
    let Request::LogStationEvent { values } = request else {
        let refused = Reason::new("不是站内事件登记请求", "not a station event");
        let _ = tx.send(ClientEvent::LogResult(Err(refused)));
        return;
    };
    // Never log the values themselves: an ID number may travel in them.
    let station = values.get("station_id").cloned().unwrap_or_default();
    let event = values.get("event").cloned().unwrap_or_default();
    tokio::spawn(async move {
        let result = one_shot(&socket, |mut c| async move { c.log_station_event(values).await }).await;
        tracing::info!(%station, %event, result = ?result.as_ref().map_err(|r| r.to_string()), "station event");
        let _ = tx.send(ClientEvent::LogResult(result));
    });
}

/// Sends a `TaskDone` over a fresh connection; the answer goes to `tx` as
/// [`ClientEvent::TaskResult`].
pub fn task_request(socket: PathBuf, request: Request, tx: UnboundedSender<ClientEvent>) {
    let Request::TaskDone { id, note } = request else {
        let _ = tx.send(ClientEvent::TaskResult(Err(Reason::new("不是完成事项请求", "not a task completion"))));
        return;
    };
    tokio::spawn(async move {
        let result = one_shot(&socket, |mut c| async move { c.task_done(&id, note).await.map(|t| t.id) }).await;
        // The note may hold personal details: only the outcome is logged.
        tracing::info!(ok = result.is_ok(), "task completion");
        let _ = tx.send(ClientEvent::TaskResult(result));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_two_seconds() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_millis(1000));
        assert_eq!(backoff(4), Duration::from_secs(2));
        assert_eq!(backoff(40), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_missing_socket_reports_disconnected_and_retries() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = spawn(dir.path().join("nope.sock"), tx);
        for want in 1..=2 {
            match rx.recv().await.unwrap() {
                ClientEvent::Disconnected { attempt, .. } => assert_eq!(attempt, want),
                other => panic!("unexpected {other:?}"),
            }
        }
        drop(rx);
        task.abort();
    }
}
