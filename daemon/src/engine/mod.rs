//! The engine: the single writer of the store, and everything that changes it.
//!
//! [`Engine`] holds the store, the record index and the maintained figures; its core (here) opens
//! them, commits, runs the clock-driven work and the pending finalize jobs. What it does is split
//! by subject, each an `impl Engine` block: [`ingest`] (inbox files, exactly once), [`desk`] (the
//! 救急难 case desk), [`station`] (events logged and tasks completed by station staff), [`admin`]
//! (backups, alert acknowledgements). [`run`] is the engine thread's loop and its message type;
//! [`handle`] the typed way to ask it for something from async code.
//!
//! Invariants: only the engine thread holds an `Engine`; everything an action or a file changes
//! is committed in one sled batch with the figures it changes ([`Engine::commit`]), and nothing
//! is answered before that batch is durable.

pub mod admin;
pub mod desk;
pub mod handle;
pub mod ingest;
mod lane;
pub mod run;
pub mod station;

pub use handle::EngineHandle;
pub use ingest::{apply_row, Folders, IngestError, RowOutcome};
pub use run::{engine_loop, wait_for_store, EngineMsg, EngineOpener};

use crate::files::log_name;
use crate::health::EngineHealth;
use crate::health::Problem;
use crate::rules::{self, RuleContext};
use crate::shutdown::Shutdown;
use crate::state::State;
use crate::store::keys;
use crate::store::ledger::{FinalizeJob, HandledFile, LedgerEntry};
use crate::store::pages::RecordIndex;
use crate::store::{Store, StoreError};
use jiff::Timestamp;
use mz_shared::id_number::IdHasher;
use mz_shared::protocol::{Refusal, RefusalCode};
use mz_shared::reason::Reason;
use mz_shared::registry::Registry;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// First delay before a failed finalize job is tried again; it doubles up to [`PARK_MAX_RETRY`].
const PARK_FIRST_RETRY: std::time::Duration = std::time::Duration::from_secs(5);
const PARK_MAX_RETRY: std::time::Duration = std::time::Duration::from_secs(300);

/// A finalize job whose file-system work failed (a file that cannot be moved, a folder without
/// write permission…): its commit stands, the file stays in the inbox until a retry succeeds.
struct ParkedJob {
    src: PathBuf,
    error: String,
    attempts: u32,
    next_try: Instant,
}

/// The single writer of the store.
pub struct Engine {
    pub store: Store,
    pub index: RecordIndex,
    pub state: State,
    pub registry: Arc<Registry>,
    hasher: IdHasher,
    folders: Folders,
    shutdown: Shutdown,
    /// Inbox paths with a pending finalize job: never taken as new files.
    pending_srcs: HashSet<PathBuf>,
    /// Finalize jobs that failed, by job key: retried with a growing delay, shown as problems.
    parked: BTreeMap<Vec<u8>, ParkedJob>,
    /// The latest handled files, newest first (for the ingest view).
    pub recent_files: VecDeque<HandledFile>,
    /// Bumped by every commit and registry change: the published figures are stale when it moved.
    pub generation: u64,
    /// Progress and problems, for status.
    pub health: Arc<EngineHealth>,
    /// Set after a failed commit: the store is closed until it can be reopened.
    store_down: Option<StoreDown>,
    /// Files interrupted mid-way before this start (by hash): the clock-driven rules wait until
    /// they are finished, as they would have in an uninterrupted run (or [`RESUME_GRACE`] passed).
    resuming: HashSet<[u8; 32]>,
    opened_at: Instant,
    /// Inbox files that cannot be read (permissions…), with why.
    unreadable: BTreeMap<PathBuf, String>,
    /// The last store error that was not a failed commit (a read, a decode), until the next
    /// successful commit.
    store_error: Option<String>,
    /// After a failed commit, replace the process ([`crate::restart`]) rather than reopen the
    /// store in it: `mzd run` does; a daemon embedded in another program (the demo) cannot.
    pub restart_in_place: bool,
    /// Publishing to the city (SPEC §9): every commit writes an outbox entry in its batch.
    pub outbox: Option<crate::publish::Outbox>,
    /// The thread writing the statistics report files, started at the first round.
    report_writer: Option<crate::statistics::files::ReportWriter>,
    /// Why the last report file could not be written, until the writer writes one again.
    report_failure: Option<String>,
    /// When the last commit was made: a round reported written waits this long for one.
    last_commit: Instant,
}

/// How long the clock-driven rules wait at start-up for interrupted files to be resumed.
const RESUME_GRACE: std::time::Duration = std::time::Duration::from_secs(60);
/// How long report files reported written wait for a commit to record them before the tick
/// makes one: under steady ingest they ride along with the files' commits.
const REPORTS_WAIT_FOR_COMMIT: std::time::Duration = std::time::Duration::from_secs(1);
/// How often a closed store is tried again.
const REOPEN_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// Why the store is closed, and when to try again.
struct StoreDown {
    error: String,
    since: Instant,
    next_try: Instant,
}

/// Handled files kept in memory for the dashboard.
const RECENT_FILES: usize = 50;

impl Engine {
    pub fn open(
        mut store: Store,
        registry: Arc<Registry>,
        hasher: IdHasher,
        folders: Folders,
        shutdown: Shutdown,
    ) -> Result<Engine, StoreError> {
        store.upgrade_layout()?;
        let index = RecordIndex::load(&store)?;
        let state = State::load(&store, &registry)?;
        let recent_files = load_recent_files(&store)?;
        let resuming = interrupted_files(&store)?;
        if !resuming.is_empty() {
            tracing::info!(files = resuming.len(), "files interrupted before this start; clock rules wait for them");
        }
        Ok(Engine {
            store,
            index,
            state,
            registry,
            hasher,
            folders,
            shutdown,
            pending_srcs: HashSet::new(),
            parked: BTreeMap::new(),
            recent_files,
            generation: 0,
            health: Arc::default(),
            store_down: None,
            resuming,
            opened_at: Instant::now(),
            unreadable: BTreeMap::new(),
            store_error: None,
            restart_in_place: false,
            outbox: None,
            report_writer: None,
            report_failure: None,
            last_commit: Instant::now(),
        })
    }

    /// After a failed commit: closes the store (sled keeps a write error until it is reopened)
    /// and forgets nothing on disk; the figures in memory are re-read when it reopens.
    fn store_failed(&mut self, e: &StoreError) {
        if self.restart_in_place {
            // Returns only when the process cannot replace itself.
            crate::restart::in_place(&e.to_string());
        }
        tracing::error!(error = %e, "commit failed; the store is closed and reopened as soon as possible");
        self.store.close();
        let now = Instant::now();
        let since = self.store_down.as_ref().map_or(now, |d| d.since);
        self.store_down = Some(StoreDown { error: e.to_string(), since, next_try: now + REOPEN_EVERY });
        self.generation += 1;
    }

    /// Tries to reopen a closed store and re-read everything from it; true when it is back.
    fn try_reopen(&mut self) -> bool {
        let Some(down) = &self.store_down else { return true };
        if down.next_try > Instant::now() {
            return false;
        }
        let result = self.store.reopen().and_then(|()| self.reload());
        match result {
            Ok(()) => {
                let secs = self.store_down.take().map_or(0, |d| d.since.elapsed().as_secs());
                tracing::warn!(closed_for_s = secs, "store reopened; ingest resumes");
                self.generation += 1;
                true
            }
            Err(e) => {
                self.store.close();
                tracing::debug!(error = %e, "store still cannot be reopened");
                if let Some(d) = &mut self.store_down {
                    d.error = e.to_string();
                    d.next_try = Instant::now() + REOPEN_EVERY;
                }
                false
            }
        }
    }

    /// Re-reads figures, the record index, the file history and the finalize jobs from the
    /// store, dropping anything not committed.
    fn reload(&mut self) -> Result<(), StoreError> {
        self.index = RecordIndex::load(&self.store)?;
        self.state = State::load(&self.store, &self.registry)?;
        self.recent_files = load_recent_files(&self.store)?;
        if let Some(shared) = self.outbox.as_ref().map(|o| o.shared().clone()) {
            self.outbox = Some(crate::publish::Outbox::load(&self.store, shared)?);
        }
        self.parked.clear();
        self.run_pending_jobs()
    }

    /// Refuses work while the store is closed.
    fn ensure_open(&self) -> Result<(), StoreError> {
        match &self.store_down {
            Some(d) => Err(StoreError::Unavailable(d.error.clone())),
            None => Ok(()),
        }
    }

    /// True while the store is closed after a write failure.
    pub fn store_is_down(&self) -> bool {
        self.store_down.is_some()
    }

    /// The engine's own problems for status: the store closed (blocking), files that cannot be
    /// moved out or read (attention: other files still go in).
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if let Some(d) = &self.store_down {
            out.push(Problem::blocking(format!(
                "the store cannot be written since {} s ({}); nothing is ingested meanwhile. Free disk space under \
                 {} (or fix the disk): mzd reopens the store and resumes by itself, nothing is lost",
                d.since.elapsed().as_secs(),
                d.error,
                self.store.dir().display()
            )));
        }
        if let Some(e) = self.store_error.as_ref().filter(|_| self.store_down.is_none()) {
            out.push(Problem::blocking(format!("store: {e}")));
        }
        out.extend(self.parked_problems().into_iter().map(Problem::attention));
        if let Some(e) = &self.report_failure {
            out.push(Problem::attention(format!(
                "statistics report files cannot be written under {} ({e}); give the mzd user write access to it \
                 or free disk space: mzd keeps trying, and the figures are kept meanwhile",
                self.reports_dir().display()
            )));
        }
        for (path, error) in &self.unreadable {
            out.push(Problem::attention(format!(
                "file {} in the inbox cannot be read ({error}); give the mzd user read access (e.g. chmod g+r) \
                 or remove it. Other files are not held up",
                log_name(path)
            )));
        }
        out
    }

    /// Notes an inbox file that could not be read, until it is handled or gone.
    pub fn note_unreadable(&mut self, path: &Path, error: Option<&std::io::Error>) {
        match error {
            Some(e) => {
                self.unreadable.insert(path.to_owned(), e.to_string());
            }
            None => {
                self.unreadable.remove(path);
            }
        }
    }

    /// Clock rules wait while interrupted files may still be resumed. An interrupted file waits
    /// in its feed folder's `.mzd-taken/` until it is handled; a file whose content changed while
    /// it was read left its ledger entry in progress but nothing there (it was taken again as a
    /// new content), so it holds nothing up.
    fn resuming_files(&self) -> bool {
        !self.resuming.is_empty() && self.opened_at.elapsed() < RESUME_GRACE && !self.taken_leftovers().is_empty()
    }

    /// Commits everything staged plus the writes of `batch`; on failure, drops the uncommitted
    /// state.
    fn commit(&mut self, batch: crate::store::Batch) -> Result<(), StoreError> {
        let batch = self.stage_commit(batch);
        let result = self.store.commit(batch);
        self.commit_done(result)
    }

    /// Writes everything staged (rows, figures, cases opened by the rules, the outbox entry)
    /// into `batch`, for [`Store::commit`] here or on a commit lane ([`lane`]); then
    /// [`Self::commit_done`] with its result, before the next batch is staged.
    fn stage_commit(&mut self, mut batch: crate::store::Batch) -> crate::store::Batch {
        self.collect_reports();
        self.last_commit = Instant::now();
        let started = Instant::now();
        if !self.state.cases_to_open.is_empty() {
            crate::cases::open_triggered(&mut self.state, &self.registry, now_ms());
        }
        let opened = started.elapsed();
        self.index.write_into(&mut batch);
        // Before the state writes its changed cases out: the outbox links the cases changed
        // since the last commit, which `State::write_into` takes away.
        if let Some(outbox) = &mut self.outbox {
            outbox.link_cases(&self.state, &mut batch);
            outbox.stage(&self.state, &self.index, &self.registry, &mut batch);
        }
        self.state.write_into(&mut batch);
        self.generation += 1;
        tracing::debug!(
            open_cases_us = opened.as_micros() as u64,
            stage_us = (started.elapsed() - opened).as_micros() as u64,
            "commit staged"
        );
        batch
    }

    /// Takes the result of committing the last staged batch: on success the staged pages and
    /// blocks are read from the store from now on and the outbox entry may go; on failure the
    /// store is closed and everything uncommitted is dropped.
    fn commit_done(&mut self, result: Result<(), StoreError>) -> Result<(), StoreError> {
        match result {
            Ok(()) => {
                self.index.committed();
                self.state.committed();
                if let Some(outbox) = &mut self.outbox {
                    outbox.committed();
                }
                self.store_error = None;
                Ok(())
            }
            Err(e) => {
                if let Some(outbox) = &mut self.outbox {
                    outbox.aborted();
                }
                self.store_failed(&e);
                Err(e)
            }
        }
    }

    /// Time-driven work: reopening a closed store, retrying parked finalize jobs, the clock
    /// rules (long stays); commits if anything changed.
    pub fn tick(&mut self) -> Result<(), StoreError> {
        if !self.try_reopen() {
            return Ok(());
        }
        self.unreadable.retain(|p, _| fs::symlink_metadata(p).is_ok());
        if self.parked_due() {
            self.run_pending_jobs()?;
        }
        self.write_reports();
        if self.resuming_files() {
            return Ok(());
        }
        let ctx = RuleContext::new(&self.registry, Timestamp::now());
        rules::tick(&mut self.state, &ctx);
        let (state, index, registry) = (&self.state, &self.index, &self.registry);
        let moved = self.outbox.as_mut().is_some_and(|o| o.changed(state, index, registry, ctx.now.as_millisecond()));
        if self.state.is_dirty() || moved {
            self.commit(crate::store::Batch::default())?;
        } else if let Some(batch) = self.outbox.as_mut().and_then(crate::publish::Outbox::prune_batch) {
            self.store.commit(batch)?;
        }
        Ok(())
    }

    /// Hands the statistics report files that are due (ended or stale) to the writer thread,
    /// once the previous round is reported written. A round reported written is recorded with
    /// the next commit; if none came for a second, this tick commits it.
    fn write_reports(&mut self) {
        if self.last_commit.elapsed() >= REPORTS_WAIT_FOR_COMMIT {
            self.collect_reports();
        }
        let (occupancy, tasks) = (&self.state.occupancy, &self.state.tasks);
        let live = || live_figures(occupancy, tasks);
        let now = crate::statistics::clock();
        let round = crate::statistics::files::next_round(&self.state.stats, live, &self.registry, now);
        if round.is_empty() {
            return;
        }
        let Some(writer) = self.report_writer() else { return };
        let periods = round.iter().map(|(p, _)| *p).collect();
        let n = writer.hand_over(round);
        self.state.stats.handed_over(n, periods);
    }

    /// The report writer thread, started on first use (`None`, logged, if it cannot start).
    fn report_writer(&mut self) -> Option<&mut crate::statistics::files::ReportWriter> {
        if self.report_writer.is_none() {
            let health = self.health.clone();
            match crate::statistics::files::ReportWriter::start(self.reports_dir(), move || health.is_busy()) {
                Ok(w) => self.report_writer = Some(w),
                Err(e) => tracing::warn!(error = %e, "report file writer could not start; tried again later"),
            }
        }
        self.report_writer.as_mut()
    }

    /// The folder of the statistics report files: `<data>/reports`.
    fn reports_dir(&self) -> PathBuf {
        self.folders.archive.parent().unwrap_or(Path::new(".")).join("reports")
    }

    /// Records the rounds of report files the writer finished (committed with the next commit).
    fn collect_reports(&mut self) {
        let Some(writer) = &self.report_writer else { return };
        let (finished, alive) = writer.finished();
        for done in finished {
            match &done.failed {
                Some((p, e)) => {
                    if self.report_failure.as_ref() != Some(e) {
                        tracing::warn!(period = %p, error = %e, "report file could not be written; tried again later");
                    }
                    self.report_failure = Some(e.clone());
                }
                None if !done.written.is_empty() => self.report_failure = None,
                None => {}
            }
            if !done.written.is_empty() {
                tracing::info!(periods = done.written.len(), "report files written");
            }
            self.state.stats.written(&done);
        }
        if !alive {
            // Without this the round would stay in flight and no report file would be written
            // again until a restart.
            tracing::error!("the report file writer stopped; a new one takes over its round");
            self.report_writer = None;
            self.state.stats.abandon_in_flight();
        }
    }

    /// The statistics report of `period` (`None`: the default one of `kind`) as of now.
    pub fn statistics_report(
        &self,
        kind: mz_shared::statistics::PeriodKind,
        period: Option<mz_shared::statistics::Period>,
    ) -> mz_shared::statistics::Report {
        use mz_shared::statistics::{Period, PeriodKind};
        let now = crate::statistics::clock();
        let today = self.state.stats.today(now);
        let period = period.unwrap_or(match kind {
            PeriodKind::Day => Period::yesterday(today),
            PeriodKind::Month => Period::last_month(today),
        });
        let live = live_figures(&self.state.occupancy, &self.state.tasks);
        self.state.stats.report(&live, &self.registry, period, now)
    }

    pub fn set_registry(&mut self, registry: Arc<Registry>) {
        self.generation += 1;
        self.state.stats.tz = registry.time_zone();
        self.state.funds.sync(&registry);
        self.state.case_index.reindex(&self.state.cases, &registry.limits);
        self.registry = registry;
    }

    /// The cross-district side of publishing, when a city key is configured.
    fn people(&mut self) -> Option<&mut crate::publish::people::People> {
        self.outbox.as_mut().and_then(crate::publish::Outbox::people_mut)
    }

    fn commit_action(&mut self) -> Result<(), Refusal> {
        self.commit(crate::store::Batch::default()).map_err(not_stored)
    }

    /// offered again). A job that fails is parked, not fatal: only a store error is returned.
    pub fn run_pending_jobs(&mut self) -> Result<(), StoreError> {
        let jobs: Vec<(sled::IVec, FinalizeJob)> =
            self.store.scan::<FinalizeJob>(keys::JOB_PREFIX).collect::<Result<_, _>>()?;
        self.pending_srcs = jobs.iter().map(|(_, j)| j.src.clone()).collect();
        let now = Instant::now();
        self.parked.retain(|k, _| jobs.iter().any(|(key, _)| key.as_ref() == k.as_slice()));
        for (key, job) in jobs {
            if self.parked.get(key.as_ref()).is_some_and(|p| p.next_try > now) {
                continue;
            }
            self.try_job(&key, &job)?;
        }
        Ok(())
    }

    /// Runs one finalize job; on a file-system failure parks it for a later retry.
    fn try_job(&mut self, key: &[u8], job: &FinalizeJob) -> Result<(), StoreError> {
        match self.run_job(key, job) {
            Ok(()) => {
                if self.parked.remove(key).is_some() {
                    tracing::info!(file = %log_name(&job.src), "a parked file was handled on retry");
                }
                self.pending_srcs.remove(&job.src);
                Ok(())
            }
            Err(IngestError::Store(e)) => Err(e),
            Err(e) => {
                let attempts = self.parked.get(key).map_or(0, |p| p.attempts) + 1;
                let delay = PARK_FIRST_RETRY.saturating_mul(1 << attempts.min(6)).min(PARK_MAX_RETRY);
                tracing::warn!(file = %log_name(&job.src), error = %e, attempts, retry_in_s = delay.as_secs(), "finalize step failed; parked");
                let parked = ParkedJob {
                    src: job.src.clone(),
                    error: e.to_string(),
                    attempts,
                    next_try: Instant::now() + delay,
                };
                self.parked.insert(key.to_vec(), parked);
                Ok(())
            }
        }
    }

    /// Parked finalize jobs, as problems an operator can act on.
    pub fn parked_problems(&self) -> Vec<String> {
        self.parked
            .values()
            .map(|p| {
                format!(
                    "file {} in the inbox: its rows are stored, but moving it out failed {} time(s) ({}); \
                     fix the cause (permissions, disk space) and mzd retries by itself",
                    log_name(&p.src),
                    p.attempts,
                    p.error
                )
            })
            .collect()
    }

    /// True when a parked job's retry time has come.
    pub fn parked_due(&self) -> bool {
        let now = Instant::now();
        self.parked.values().any(|p| p.next_try <= now)
    }

    /// True when `path` is waiting for its finalize job (not a new drop).
    pub fn is_pending(&self, path: &Path) -> bool {
        self.pending_srcs.contains(path)
    }
}

/// What the statistics need of the live figures: occupancy now, the open tasks' due times.
fn live_figures(
    occupancy: &crate::state::Table<crate::state::StationOccupancy>,
    tasks: &crate::state::Table<mz_shared::task::StationTask>,
) -> crate::statistics::Live {
    crate::statistics::Live {
        occupancy: occupancy.iter().map(|(id, o)| (id.clone(), i64::from(o.occupied))).collect(),
        open_task_due_ms: tasks.values().filter(|t| t.is_open()).map(|t| t.due_at_ms).collect(),
        overdue_by_day: None,
    }
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// The refusal of an action that could not be stored (`unavailable`: the store is down).
fn not_stored(e: StoreError) -> Refusal {
    let reason = Reason::new(format!("保存失败，未生效：{e}"), format!("could not be stored, not applied: {e}"));
    Refusal::new(RefusalCode::Unavailable, reason)
}

/// The latest handled files, newest first.
fn load_recent_files(store: &Store) -> Result<VecDeque<HandledFile>, StoreError> {
    let mut recent_files = VecDeque::new();
    for item in store.scan::<HandledFile>(keys::HANDLED_PREFIX) {
        recent_files.push_front(item?.1);
        recent_files.truncate(RECENT_FILES);
    }
    Ok(recent_files)
}

/// Hashes of the files whose ledger says some chunks are committed and the rest is not.
fn interrupted_files(store: &Store) -> Result<HashSet<[u8; 32]>, StoreError> {
    let mut out = HashSet::new();
    for item in store.scan::<LedgerEntry>(keys::LEDGER_PREFIX) {
        let (key, entry) = item?;
        if let (LedgerEntry::InProgress { .. }, Ok(hash)) = (entry, <[u8; 32]>::try_from(&key[1..])) {
            out.insert(hash);
        }
    }
    Ok(out)
}

/// `text` with every valid ID number in it masked.
fn mask_id_numbers(text: &str) -> String {
    mz_shared::id_number::protect_id_numbers_in(text, None).into_owned()
}
