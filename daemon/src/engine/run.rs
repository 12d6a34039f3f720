//! The engine thread: the single-writer loop, the messages it takes and the dashboard it
//! publishes after every commit.
//!
//! Invariants: only this thread writes the store (every other part sends an [`EngineMsg`]);
//! it takes one message at a time and reports its health after each; before the store could be
//! opened ([`wait_for_store`]) it refuses every request with a reason instead of queueing it.

use super::{Engine, Folders, IngestError};
use crate::health::{EngineHealth, Problem};
use crate::report;
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError, StoreReader};
use crate::watcher::{Candidate, Watcher};
use mz_shared::case::{Action, Actor, Applied, Case};
use mz_shared::dashboard::Dashboard;
use mz_shared::id_number::IdHasher;
use mz_shared::protocol::CaseOpenRequest;
use mz_shared::protocol::{Refusal, RefusalCode};
use mz_shared::reason::Reason;
use mz_shared::registry::Registry;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Messages to the engine thread.
pub enum EngineMsg {
    Candidate(Candidate),
    Registry(Arc<Registry>),
    /// Acknowledge an alert for `user`.
    AckAlert {
        id: String,
        user: String,
        reply: oneshot::Sender<Result<(), Refusal>>,
    },
    /// Open a case.
    CaseOpen {
        actor: Actor,
        request: CaseOpenRequest,
        /// The new case and the warnings recorded in its `open` entry.
        reply: oneshot::Sender<Result<(Case, Vec<Reason>), Refusal>>,
    },
    /// Back the store up into a folder.
    Backup {
        dest: PathBuf,
        reply: oneshot::Sender<Result<u64, Refusal>>,
    },
    /// Log a station event from the console.
    LogStationEvent {
        actor: Actor,
        values: std::collections::BTreeMap<String, String>,
        reply: oneshot::Sender<Result<String, Refusal>>,
    },
    /// Act on a case.
    CaseAct {
        actor: Actor,
        id: String,
        action: Action,
        expected_version: u64,
        reply: oneshot::Sender<Result<Applied, Refusal>>,
    },
    /// The reserve funds as they stand (`mzd fund list`).
    FundList {
        reply: oneshot::Sender<Result<Vec<mz_shared::dashboard::FundRow>, Refusal>>,
    },
    /// A page of the case queue (the console's case desk); `aid` adds the payments to the
    /// page's people.
    CasePage {
        view: mz_shared::dashboard::CaseQueueView,
        offset: u64,
        limit: u32,
        aid: bool,
        reply: oneshot::Sender<Result<Box<mz_shared::dashboard::CasePage>, Refusal>>,
    },
    /// A statistics report (`mzd report`); `period` `None` is the default of `kind`.
    Report {
        kind: mz_shared::statistics::PeriodKind,
        period: Option<mz_shared::statistics::Period>,
        reply: oneshot::Sender<Result<Box<mz_shared::statistics::Report>, Refusal>>,
    },
    /// Complete a station task.
    TaskDone {
        actor: Actor,
        id: String,
        note: Option<String>,
        reply: oneshot::Sender<Result<mz_shared::task::StationTask, Refusal>>,
    },
    Shutdown,
}

/// How often the dashboard is republished without a commit, so that durations move.
const REPUBLISH_EVERY: Duration = Duration::from_secs(60);

/// How often files left in `.mzd-taken/` (by a crash, a shutdown, a failure) are taken up again.
const LEFTOVERS_EVERY: Duration = Duration::from_secs(10);

/// What it takes to open the engine, now or once the store can be opened.
pub struct EngineOpener {
    pub store_dir: PathBuf,
    pub reader: StoreReader,
    pub registry: Arc<Registry>,
    pub hasher: IdHasher,
    pub folders: Folders,
    pub shutdown: Shutdown,
    pub health: Arc<EngineHealth>,
    pub restart_in_place: bool,
    /// Set when the district publishes to the city (SPEC §9).
    pub publish: Option<Arc<crate::publish::PublishShared>>,
}

impl EngineOpener {
    pub fn open(&self) -> Result<Engine, StoreError> {
        let store = Store::open_for(&self.store_dir, &self.reader)?;
        let mut engine = Engine::open(
            store,
            self.registry.clone(),
            self.hasher.clone(),
            self.folders.clone(),
            self.shutdown.clone(),
        )?;
        engine.health = self.health.clone();
        engine.restart_in_place = self.restart_in_place;
        if let Some(shared) = &self.publish {
            engine.outbox = Some(crate::publish::Outbox::load(&engine.store, shared.clone())?);
        }
        // A finalize job that cannot be done is parked with a problem, never a start-up failure.
        engine.run_pending_jobs()?;
        crate::cases::log_anchor(&engine.state, "start-up");
        Ok(engine)
    }
}

/// The problem status shows while the store cannot be opened.
pub fn cannot_open(e: &StoreError) -> Problem {
    Problem::blocking(format!(
        "the store cannot be opened ({e}); nothing is ingested. Free disk space (or fix the disk): mzd retries \
         every few seconds and starts by itself"
    ))
}

/// Before the store could be opened: retries every few seconds, puts files back for later and
/// refuses actions, until it opens (the engine) or the daemon stops (`None`).
pub fn wait_for_store(mut opener: EngineOpener, rx: &mpsc::Receiver<EngineMsg>, watcher: &Watcher) -> Option<Engine> {
    loop {
        // Alive, only waiting: the service manager's watchdog keeps getting pings.
        opener.health.beat();
        match rx.recv_timeout(Duration::from_secs(3)) {
            Ok(EngineMsg::Candidate(c)) => watcher.retry_later(c.path()),
            Ok(EngineMsg::Registry(r)) => opener.registry = r,
            Ok(EngineMsg::Shutdown) | Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            Ok(other) => refuse(
                other,
                Refusal::new(
                    RefusalCode::Unavailable,
                    Reason::new(
                        "存储尚未打开（磁盘已满？），请稍后再试",
                        "the store is not open yet (disk full?); try again shortly",
                    ),
                ),
            ),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        match opener.open() {
            Ok(engine) => {
                tracing::warn!("store opened; ingest starts");
                return Some(engine);
            }
            Err(e) => opener.health.set_problems(vec![cannot_open(&e)]),
        }
    }
}

/// Answers a request the engine cannot take now.
fn refuse(msg: EngineMsg, reason: Refusal) {
    match msg {
        EngineMsg::AckAlert { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::CaseOpen { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::Backup { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::LogStationEvent { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::CaseAct { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::FundList { reply } => drop(reply.send(Err(reason))),
        EngineMsg::CasePage { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::Report { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::TaskDone { reply, .. } => drop(reply.send(Err(reason))),
        EngineMsg::Candidate(_) | EngineMsg::Registry(_) | EngineMsg::Shutdown => {}
    }
}

/// Publishes the dashboard after commits (and every minute, so durations move).
struct Publisher {
    cache: report::ReportCache,
    tx: watch::Sender<Arc<Dashboard>>,
    last: std::time::Instant,
    generation: Option<u64>,
}

impl Publisher {
    fn publish(&mut self, engine: &mut Engine) {
        let due = self.last.elapsed() >= REPUBLISH_EVERY;
        // Nothing committed since the last snapshot and no case deadline passed: only the
        // minute's refresh is due.
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let deadline_passed =
            self.cache.cases_stale(&engine.state, now_ms) || self.cache.tasks_stale(&engine.state, now_ms);
        if self.generation == Some(engine.generation) && !due && !deadline_passed {
            return;
        }
        self.generation = Some(engine.generation);
        let now = jiff::Timestamp::now();
        let started = std::time::Instant::now();
        let mut next = report::dashboard(
            &engine.state,
            &engine.index,
            &engine.registry,
            engine.recent_files.make_contiguous(),
            now,
            &mut self.cache,
        );
        tracing::debug!(build_us = started.elapsed().as_micros() as u64, "dashboard built");
        self.tx.send_if_modified(|cur| {
            next.generated_at_ms = cur.generated_at_ms;
            if **cur == next && !due {
                return false;
            }
            next.generated_at_ms = now.as_millisecond();
            *cur = Arc::new(next);
            true
        });
        if due {
            self.last = std::time::Instant::now();
        }
    }
}

/// The single writer: takes one message at a time, reports its health after each.
pub fn engine_loop(
    paths: (PathBuf, PathBuf),
    mut engine: Engine,
    cache: report::ReportCache,
    rx: mpsc::Receiver<EngineMsg>,
    dashboard: watch::Sender<Arc<Dashboard>>,
    watcher: Arc<Watcher>,
    health: Arc<EngineHealth>,
) {
    let mut publisher = Publisher { cache, tx: dashboard, last: std::time::Instant::now(), generation: None };
    // Figures first, then problems: status never shows "healthy" beside figures not yet loaded.
    let mut report = |engine: &mut Engine| {
        if !engine.store_is_down() {
            publisher.publish(engine);
        }
        health.set_problems(engine.problems());
    };
    let _ = engine.tick();
    report(&mut engine);
    health.set_running();
    let mut leftovers_at = std::time::Instant::now();
    loop {
        let msg = rx.recv_timeout(Duration::from_secs(1));
        health.set_busy(true);
        if std::time::Instant::now() >= leftovers_at && !engine.store_is_down() {
            leftovers_at = std::time::Instant::now() + LEFTOVERS_EVERY;
            for c in engine.taken_leftovers() {
                if let Err(e) = engine.handle(c) {
                    tracing::warn!(error = %e, "a file taken before could not be handled yet; retried later");
                }
            }
        }
        match msg {
            Ok(EngineMsg::Candidate(c)) => {
                let path = c.path().to_owned();
                match engine.handle(c) {
                    Ok(()) => engine.note_unreadable(&path, None),
                    Err(IngestError::Shutdown) => break,
                    Err(e) => file_failed(&mut engine, &watcher, &path, e),
                }
                tick(&mut engine);
            }
            Ok(EngineMsg::Registry(r)) => {
                engine.set_registry(r);
                tick(&mut engine);
            }
            Ok(EngineMsg::AckAlert { id, user, reply }) => drop(reply.send(engine.acknowledge_alert(&id, &user))),
            Ok(EngineMsg::CaseOpen { actor, request, reply }) => drop(reply.send(engine.open_case(&actor, request))),
            Ok(EngineMsg::Backup { dest, reply }) => drop(reply.send(engine.backup(&paths.0, &paths.1, &dest))),
            Ok(EngineMsg::LogStationEvent { actor, values, reply }) => {
                drop(reply.send(engine.log_station_event(&actor, &values)))
            }
            Ok(EngineMsg::CaseAct { actor, id, action, expected_version, reply }) => {
                drop(reply.send(engine.act_on_case(&actor, &id, &action, expected_version)))
            }
            Ok(EngineMsg::FundList { reply }) => {
                let state = &engine.state;
                drop(reply.send(Ok(crate::funds::fund_rows(&state.funds, &state.fund_figures, &engine.registry))))
            }
            Ok(EngineMsg::CasePage { view, offset, limit, aid, reply }) => {
                let page = crate::report::case_page(&engine.state, view, offset, limit, aid);
                drop(reply.send(Ok(Box::new(page))))
            }
            Ok(EngineMsg::Report { kind, period, reply }) => {
                drop(reply.send(Ok(Box::new(engine.statistics_report(kind, period)))))
            }
            Ok(EngineMsg::TaskDone { actor, id, note, reply }) => {
                drop(reply.send(engine.complete_task(&actor, &id, note.as_deref())))
            }
            Ok(EngineMsg::Shutdown) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => tick(&mut engine),
        }
        report(&mut engine);
        health.set_busy(false);
    }
    // No final flush: every commit was made durable before it was reported, and after a write
    // error inside sled (its background flusher on a full disk) a flush can hang for good.
    if !engine.store_is_down() {
        crate::cases::log_anchor(&engine.state, "shutdown");
    }
    engine.store.abandon();
}

/// Runs the clock-driven work (its errors show in status through the engine's problems).
fn tick(engine: &mut Engine) {
    if let Err(e) = engine.tick() {
        tracing::warn!(error = %e, "clock-driven work failed; tried again");
    }
}

/// A file that could not be handled stays in the inbox and is offered again later.
fn file_failed(engine: &mut Engine, watcher: &Watcher, path: &Path, e: IngestError) {
    if let IngestError::Read { source, .. } = &e {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            engine.note_unreadable(path, Some(source));
        }
    }
    watcher.retry_later(path);
}
