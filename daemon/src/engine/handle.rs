//! [`EngineHandle`]: how the server asks the engine thread (the only writer) for an action.
//!
//! Each method sends one [`EngineMsg`] and waits at most `wait` for its answer; the answer, or
//! why there is none (the daemon stopping, the engine busy past `wait`), is a [`Refusal`]: the
//! engine's own refusals carry the code the engine gave them (`not_found`, `conflict`, …), no
//! answer is `unavailable`. A request that timed out may still be applied later: the reason says
//! so.

use super::run::EngineMsg;
use mz_shared::case::{Action, Actor, Applied, Case};
use mz_shared::dashboard::FundRow;
use mz_shared::protocol::{CaseOpenRequest, Refusal, RefusalCode};
use mz_shared::reason::Reason;
use mz_shared::task::StationTask;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The sending side of the engine's channel, with one typed method per request.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<EngineMsg>,
}

impl EngineHandle {
    pub fn new(tx: mpsc::Sender<EngineMsg>) -> EngineHandle {
        EngineHandle { tx }
    }

    /// Acknowledges an alert for `user`.
    pub async fn ack_alert(&self, id: String, user: String, wait: Duration) -> Result<(), Refusal> {
        self.ask(wait, |reply| EngineMsg::AckAlert { id, user, reply }).await
    }

    /// Opens a case: the new case and the warnings recorded in its `open` entry.
    pub async fn case_open(
        &self,
        actor: Actor,
        request: CaseOpenRequest,
        wait: Duration,
    ) -> Result<(Case, Vec<Reason>), Refusal> {
        self.ask(wait, |reply| EngineMsg::CaseOpen { actor, request, reply }).await
    }

    /// Acts on a case at the version the actor saw.
    pub async fn case_act(
        &self,
        actor: Actor,
        id: String,
        action: Action,
        expected_version: u64,
        wait: Duration,
    ) -> Result<Applied, Refusal> {
        self.ask(wait, |reply| EngineMsg::CaseAct { actor, id, action, expected_version, reply }).await
    }

    /// The reserve funds as they stand, counting every action already answered.
    pub async fn fund_list(&self, wait: Duration) -> Result<Vec<FundRow>, Refusal> {
        self.ask(wait, |reply| EngineMsg::FundList { reply }).await
    }

    /// A page of the case queue as the engine's index stands now (`aid`: with the payments to
    /// the page's people).
    pub async fn case_page(
        &self,
        view: mz_shared::dashboard::CaseQueueView,
        offset: u64,
        limit: u32,
        aid: bool,
        wait: Duration,
    ) -> Result<Box<mz_shared::dashboard::CasePage>, Refusal> {
        self.ask(wait, |reply| EngineMsg::CasePage { view, offset, limit, aid, reply }).await
    }

    /// A statistics report as of now (`period` `None`: the default of `kind`).
    pub async fn report(
        &self,
        kind: mz_shared::statistics::PeriodKind,
        period: Option<mz_shared::statistics::Period>,
        wait: Duration,
    ) -> Result<Box<mz_shared::statistics::Report>, Refusal> {
        self.ask(wait, |reply| EngineMsg::Report { kind, period, reply }).await
    }

    /// Completes a station task.
    pub async fn task_done(
        &self,
        actor: Actor,
        id: String,
        note: Option<String>,
        wait: Duration,
    ) -> Result<StationTask, Refusal> {
        self.ask(wait, |reply| EngineMsg::TaskDone { actor, id, note, reply }).await
    }

    /// Logs a station event from the console: the record id it was given.
    pub async fn log_station_event(
        &self,
        actor: Actor,
        values: BTreeMap<String, String>,
        wait: Duration,
    ) -> Result<String, Refusal> {
        self.ask(wait, |reply| EngineMsg::LogStationEvent { actor, values, reply }).await
    }

    /// Backs the store up into `dest`: the bytes written.
    pub async fn backup(&self, dest: PathBuf, wait: Duration) -> Result<u64, Refusal> {
        self.ask(wait, |reply| EngineMsg::Backup { dest, reply }).await
    }

    /// Sends a command to the engine and waits at most `wait` for its answer.
    async fn ask<T>(
        &self,
        wait: Duration,
        message: impl FnOnce(oneshot::Sender<Result<T, Refusal>>) -> EngineMsg,
    ) -> Result<T, Refusal> {
        let (reply, answer) = oneshot::channel();
        let stopping =
            || Refusal::new(RefusalCode::Unavailable, Reason::new("守护进程正在停止", "mzd is shutting down"));
        self.tx.send(message(reply)).map_err(|_| stopping())?;
        match tokio::time::timeout(wait, answer).await {
            Ok(answer) => answer.map_err(|_| stopping())?,
            Err(_) => {
                tracing::warn!(waited_ms = wait.as_millis() as u64, "the engine did not answer a request in time");
                Err(engine_timeout(wait))
            }
        }
    }
}

fn engine_timeout(wait: Duration) -> Refusal {
    let (zh, en) = span(wait);
    let reason = Reason::new(
        format!(
            "处理引擎 {zh}内未应答（可能正忙于大文件或磁盘阻塞，mzd status 与日志可见原因）；\
             该请求稍后仍可能生效，请先查看再重试"
        ),
        format!(
            "the engine did not answer within {en} (busy with a large file or blocked on the disk: \
             mzd status and the log show why); the request may still be applied later, check before repeating it"
        ),
    );
    Refusal::new(RefusalCode::Unavailable, reason)
}

/// `30 s`, `1500 ms` in English; `30 秒`, `1500 毫秒` in Chinese.
pub(crate) fn span(d: Duration) -> (String, String) {
    if d.subsec_millis() == 0 {
        let s = d.as_secs();
        (format!("{s} 秒"), format!("{s} s"))
    } else {
        let ms = d.as_millis();
        (format!("{ms} 毫秒"), format!("{ms} ms"))
    }
}
