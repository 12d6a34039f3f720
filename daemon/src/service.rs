//! `mzd run`: wires watcher → engine → server together and shuts them down cleanly.
//!
//! Threads: the watcher's own threads; one engine thread, the only writer of the store, fed by
//! a channel; the tokio runtime for the socket server, signals and registry reloads. The engine
//! publishes the status after every commit on a watch channel that the server reads.

use crate::ingest::{Engine, Folders, IngestError};
use crate::report;
use crate::server::{self, LiveStatus, Problem, ServerContext};
use crate::store::{Store, StoreError};
use crate::watcher::{Candidate, Watcher, WatcherConfig};
use mz_shared::case::{Action, Actor, Applied, Case};
use mz_shared::dashboard::Dashboard;
use mz_shared::id_number::IdHasher;
use mz_shared::protocol::CaseOpenRequest;
use mz_shared::reason::Reason;
use mz_shared::registry::{Registry, RegistryError};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{oneshot, watch};

/// Where everything is, after flags, config file and defaults are merged.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data: PathBuf,
    pub inbox: PathBuf,
    pub socket: PathBuf,
    pub registry: PathBuf,
    pub socket_group: Option<String>,
    /// `host:port` to serve Prometheus metrics on.
    pub metrics: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(
        "no registry at {0}. Write one (see README, \"Registry\"), or start from the demo: `mzd demo-registry > {0}`"
    )]
    NoRegistry(PathBuf),
    #[error("registry {path} refused: {source}")]
    Registry { path: PathBuf, source: RegistryError },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the ID hash key {0} is damaged (expected 32 bytes). Restore it from backup: without it stored people cannot be matched")]
    BadKey(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Server(#[from] server::ServerError),
    #[error("cannot watch the inbox {path}: {detail}")]
    Watch { path: PathBuf, detail: String },
    #[error(
        "the inbox {inbox} contains the data folder {data} (or lies in its store): handled files would be taken \
         again. Use an inbox beside or under the data folder, e.g. <data>/inbox"
    )]
    Layout { data: PathBuf, inbox: PathBuf },
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics { addr: String, source: std::io::Error },
}

/// `mzd rebuild`: moves the store aside and ingests every archived file again, oldest first,
/// into a fresh store (for a store that sled reports damaged). Cases and the audit trail are not
/// in the archive: they are lost with the old store unless it can still be read. Returns the
/// number of files replayed.
pub fn rebuild(settings: &Settings) -> Result<usize, ServiceError> {
    let data = &settings.data;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ServiceError::Io { path, source }
    };
    let registry = Arc::new(load_registry(&settings.registry)?);
    let store_dir = data.join("store");
    if store_dir.exists() {
        // Fails with a clear message if a daemon still has the store open.
        drop(Store::open(&store_dir)?);
        let aside = data.join(format!("store.before-rebuild-{}", jiff::Timestamp::now().as_second()));
        std::fs::rename(&store_dir, &aside).map_err(io(&store_dir))?;
        tracing::info!(moved_to = %aside.display(), "old store moved aside");
    }
    // Archived files, oldest first: by date folder, then modification time, then name.
    let mut files: Vec<(String, SystemTime, PathBuf, mz_shared::feed::Feed)> = Vec::new();
    for feed in mz_shared::feed::Feed::ALL {
        let dir = data.join("archive").join(feed.as_str());
        let Ok(days) = std::fs::read_dir(&dir) else { continue };
        for day in days.filter_map(|d| d.ok()) {
            let Ok(entries) = std::fs::read_dir(day.path()) else { continue };
            for e in entries.filter_map(|e| e.ok()) {
                let m = e.metadata().map_err(io(&e.path()))?;
                if m.is_file() {
                    let when = m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    files.push((day.file_name().to_string_lossy().into_owned(), when, e.path(), feed));
                }
            }
        }
    }
    files.sort();
    let hasher = load_or_create_key(&data.join("id-hash.key"))?;
    let store = Store::open(&store_dir)?;
    let mut engine = Engine::open(store, registry, hasher, Folders::new(data), Arc::new(AtomicBool::new(false)))?;
    let staging = data.join("rebuild-staging");
    let count = files.len();
    for (_, _, path, feed) in files {
        // Take the file out of the archive into a staging feed folder; handling archives it again.
        let dir = staging.join(feed.as_str());
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let src = dir.join(path.file_name().expect("archived files have names"));
        std::fs::rename(&path, &src).map_err(io(&path))?;
        engine.handle(Candidate::Feed { path: src, feed })?;
    }
    engine.store.sync()?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(count)
}

/// Messages to the engine thread.
pub enum EngineMsg {
    Candidate(Candidate),
    Registry(Arc<Registry>),
    /// Acknowledge an alert for `user`.
    AckAlert {
        id: String,
        user: String,
        reply: oneshot::Sender<Result<(), Reason>>,
    },
    /// Open a case.
    CaseOpen {
        actor: Actor,
        request: CaseOpenRequest,
        reply: oneshot::Sender<Result<Case, Reason>>,
    },
    /// Back the store up into a folder.
    Backup {
        dest: PathBuf,
        reply: oneshot::Sender<Result<u64, Reason>>,
    },
    /// Log a station event from the console.
    LogStationEvent {
        actor: Actor,
        values: std::collections::BTreeMap<String, String>,
        reply: oneshot::Sender<Result<String, Reason>>,
    },
    /// Act on a case.
    CaseAct {
        actor: Actor,
        id: String,
        action: Action,
        expected_version: u64,
        reply: oneshot::Sender<Result<Applied, Reason>>,
    },
    Shutdown,
}

/// How often the dashboard is republished without a commit, so that durations move.
const REPUBLISH_EVERY: Duration = Duration::from_secs(60);

/// Refuses an inbox that contains the data folder (archive and quarantine would be taken as new
/// drops) or lies inside the store.
fn check_layout(data: &Path, inbox: &Path) -> Result<(), ServiceError> {
    let canon = |p: &Path| std::fs::canonicalize(p).map_err(|source| ServiceError::Io { path: p.to_owned(), source });
    let (data, inbox) = (canon(data)?, canon(inbox)?);
    if data.starts_with(&inbox) || inbox.starts_with(data.join("store")) {
        return Err(ServiceError::Layout { data, inbox });
    }
    Ok(())
}

/// Reads and validates the registry file.
pub fn load_registry(path: &Path) -> Result<Registry, ServiceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ServiceError::NoRegistry(path.to_owned())),
        Err(source) => return Err(ServiceError::Io { path: path.to_owned(), source }),
    };
    Registry::parse(&text).map_err(|source| ServiceError::Registry { path: path.to_owned(), source })
}

/// Loads the ID-hash key, creating it (mode 0600) on first run.
pub fn load_or_create_key(path: &Path) -> Result<IdHasher, ServiceError> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| ServiceError::Io { path: path.to_owned(), source };
    match std::fs::read(path) {
        Ok(bytes) => {
            let key: [u8; 32] = bytes.try_into().map_err(|_| ServiceError::BadKey(path.to_owned()))?;
            return Ok(IdHasher::new(key));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key)).map_err(io)?;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    f.write_all(&key).and_then(|_| f.sync_all()).map_err(io)?;
    if let Some(dir) = path.parent() {
        crate::store::sync_dir(dir).map_err(io)?;
    }
    Ok(IdHasher::new(key))
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Free space below which the daemon reports itself unhealthy.
const DISK_LOW_BYTES: u64 = 256 * 1024 * 1024;

fn disk_free(path: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `s` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some(s.f_bavail as u64 * s.f_frsize as u64)
}

/// Runs the daemon until `stop` completes, then shuts down cleanly.
pub async fn run(settings: Settings, stop: impl Future<Output = ()>) -> Result<(), ServiceError> {
    let data = &settings.data;
    std::fs::create_dir_all(data).map_err(|source| ServiceError::Io { path: data.clone(), source })?;
    std::fs::create_dir_all(&settings.inbox)
        .map_err(|source| ServiceError::Io { path: settings.inbox.clone(), source })?;
    check_layout(data, &settings.inbox)?;
    let registry = Arc::new(load_registry(&settings.registry)?);
    let hasher = load_or_create_key(&data.join("id-hash.key"))?;
    let store = Store::open(&data.join("store"))?;
    let shutdown = Arc::new(AtomicBool::new(false));
    let mut engine = Engine::open(store, registry.clone(), hasher, Folders::new(data), shutdown.clone())?;
    engine.run_pending_jobs()?;
    crate::cases::log_anchor(&engine.state, "start-up");
    let reader = engine.store.reader();

    let mut report_cache = report::ReportCache::default();
    let first = report::dashboard(
        &engine.state,
        &engine.index,
        &registry,
        engine.recent_files.make_contiguous(),
        jiff::Timestamp::now(),
        &mut report_cache,
    );
    let (status_tx, status_rx) = watch::channel(Arc::new(first));
    let (registry_tx, registry_rx) = watch::channel(registry.clone());
    let (msg_tx, msg_rx) = mpsc::channel::<EngineMsg>();
    let store_problem: Arc<Mutex<Option<String>>> = Arc::default();

    // Watcher → engine.
    let (cand_tx, cand_rx) = mpsc::sync_channel::<Candidate>(1);
    let watcher = Arc::new(
        Watcher::start(WatcherConfig::new(settings.inbox.clone()), cand_tx)
            .map_err(|e| ServiceError::Watch { path: settings.inbox.clone(), detail: e.to_string() })?,
    );
    let forward = {
        let msg_tx = msg_tx.clone();
        std::thread::Builder::new()
            .name("mzd-intake".into())
            .spawn(move || {
                for c in cand_rx {
                    if msg_tx.send(EngineMsg::Candidate(c)).is_err() {
                        break;
                    }
                }
            })
            .expect("spawning a thread")
    };

    let engine_thread = {
        let watcher = watcher.clone();
        let store_problem = store_problem.clone();
        std::thread::Builder::new()
            .name("mzd-engine".into())
            .spawn({
                let paths = (settings.data.clone(), settings.registry.clone());
                move || engine_loop(paths, engine, report_cache, msg_rx, status_tx, watcher, store_problem)
            })
            .expect("spawning a thread")
    };

    let live = {
        let watcher = watcher.clone();
        let inbox = settings.inbox.clone();
        let data = settings.data.clone();
        let store_problem = store_problem.clone();
        Arc::new(move || {
            let mut problems = Vec::new();
            if !watcher.inbox_readable() {
                problems.push(Problem::blocking(format!("inbox {} unreadable", inbox.display())));
            }
            if let Some(p) = store_problem.lock().expect("not poisoned").clone() {
                problems.push(Problem::blocking(p));
            }
            if let Some(free) = disk_free(&data).filter(|f| *f < DISK_LOW_BYTES) {
                problems.push(Problem::blocking(format!(
                    "disk low: {} MiB free under {}",
                    free / (1024 * 1024),
                    data.display()
                )));
            }
            LiveStatus { in_progress: watcher.in_progress(), problems }
        })
    };
    let ctx =
        ServerContext { dashboard: status_rx.clone(), registry: registry_rx, reader, live, engine: msg_tx.clone() };
    let (stop_tx, stop_rx) = watch::channel(false);
    let listener = server::bind(&settings.socket, settings.socket_group.as_deref()).await?;
    let server_task = tokio::spawn(server::serve(listener, ctx.clone(), stop_rx.clone()));
    if let Some(addr) = &settings.metrics {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServiceError::Metrics { addr: addr.clone(), source })?;
        tokio::spawn(crate::metrics::serve(l, ctx.clone(), stop_rx.clone()));
    }
    tokio::spawn(reload_registry(settings.registry.clone(), msg_tx.clone(), registry_tx, stop_rx.clone()));
    tracing::info!(
        data = %settings.data.display(), inbox = %settings.inbox.display(), socket = %settings.socket.display(),
        "mzd running"
    );

    stop.await;
    tracing::info!("shutting down: finishing the file in hand");
    shutdown.store(true, Ordering::Relaxed);
    let _ = msg_tx.send(EngineMsg::Shutdown);
    let _ = stop_tx.send(true);
    let joined = tokio::task::spawn_blocking(move || engine_thread.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        tracing::error!("engine thread ended abnormally");
    }
    drop(ctx);
    let _ = server_task.await;
    // Connections still open hold the watcher through the status closure for a moment.
    let mut watcher = watcher;
    for _ in 0..50 {
        match Arc::try_unwrap(watcher) {
            Ok(w) => {
                let _ = tokio::task::spawn_blocking(move || w.stop()).await;
                break;
            }
            Err(w) => {
                watcher = w;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    // The intake thread ends when the watcher drops its sender; never wait for it.
    drop(forward);
    drop(msg_tx);
    let _ = std::fs::remove_file(&settings.socket);
    tracing::info!("mzd stopped");
    Ok(())
}

fn engine_loop(
    paths: (PathBuf, PathBuf),
    mut engine: Engine,
    mut report_cache: report::ReportCache,
    rx: mpsc::Receiver<EngineMsg>,
    dashboard: watch::Sender<Arc<Dashboard>>,
    watcher: Arc<Watcher>,
    store_problem: Arc<Mutex<Option<String>>>,
) {
    let mut last_publish = std::time::Instant::now();
    let mut published_generation = None;
    let mut publish = |engine: &mut Engine| {
        let due = last_publish.elapsed() >= REPUBLISH_EVERY;
        // Nothing committed since the last snapshot and no case deadline passed: only the
        // minute's refresh is due.
        let deadline_passed = report_cache.cases_stale(&engine.state, jiff::Timestamp::now().as_millisecond());
        if published_generation == Some(engine.generation) && !due && !deadline_passed {
            return;
        }
        published_generation = Some(engine.generation);
        let now = jiff::Timestamp::now();
        let started = std::time::Instant::now();
        let mut next = report::dashboard(
            &engine.state,
            &engine.index,
            &engine.registry,
            engine.recent_files.make_contiguous(),
            now,
            &mut report_cache,
        );
        tracing::debug!(build_us = started.elapsed().as_micros() as u64, "dashboard built");
        dashboard.send_if_modified(|cur| {
            next.generated_at_ms = cur.generated_at_ms;
            if **cur == next && !due {
                return false;
            }
            next.generated_at_ms = now.as_millisecond();
            *cur = Arc::new(next);
            true
        });
        if due {
            last_publish = std::time::Instant::now();
        }
    };
    let note = |r: Result<(), StoreError>| {
        let mut p = store_problem.lock().expect("not poisoned");
        match r {
            Ok(()) => *p = None,
            Err(e) => *p = Some(format!("store: {e}")),
        }
    };
    note(engine.tick());
    publish(&mut engine);
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(EngineMsg::Candidate(c)) => {
                let path = c.path().to_owned();
                match engine.handle(c) {
                    Ok(()) => note(Ok(())),
                    Err(IngestError::Shutdown) => break,
                    Err(IngestError::Store(e)) => {
                        note(Err(e));
                        watcher.retry_later(&path);
                    }
                    Err(_) => watcher.retry_later(&path),
                }
                note(engine.tick());
            }
            Ok(EngineMsg::Registry(r)) => {
                engine.set_registry(r);
                note(engine.tick());
            }
            Ok(EngineMsg::AckAlert { id, user, reply }) => {
                let _ = reply.send(engine.acknowledge_alert(&id, &user));
            }
            Ok(EngineMsg::CaseOpen { actor, request, reply }) => {
                let _ = reply.send(engine.open_case(&actor, request));
            }
            Ok(EngineMsg::Backup { dest, reply }) => {
                let _ = reply.send(engine.backup(&paths.0, &paths.1, &dest));
            }
            Ok(EngineMsg::LogStationEvent { actor, values, reply }) => {
                let _ = reply.send(engine.log_station_event(&actor, &values));
            }
            Ok(EngineMsg::CaseAct { actor, id, action, expected_version, reply }) => {
                let _ = reply.send(engine.act_on_case(&actor, &id, &action, expected_version));
            }
            Ok(EngineMsg::Shutdown) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => note(engine.tick()),
        }
        publish(&mut engine);
    }
    if let Err(e) = engine.store.sync() {
        tracing::error!(error = %e, "final flush failed");
    }
    crate::cases::log_anchor(&engine.state, "shutdown");
}

/// Rereads the registry on SIGHUP and when the file changes; an invalid one is refused and the
/// previous one stays in force.
async fn reload_registry(
    path: PathBuf,
    engine: mpsc::Sender<EngineMsg>,
    publish: watch::Sender<Arc<Registry>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut last = mtime(&path);
    let mut poll = tokio::time::interval(Duration::from_secs(2));
    loop {
        let by_signal = tokio::select! {
            _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => true,
            _ = poll.tick() => false,
            _ = stop.changed() => return,
        };
        let now = mtime(&path);
        if !by_signal && now == last {
            continue;
        }
        last = now;
        match load_registry(&path) {
            Ok(r) => {
                let r = Arc::new(r);
                if **publish.borrow() == *r && !by_signal {
                    continue;
                }
                tracing::info!(registry = %path.display(), "registry reloaded");
                publish.send_replace(r.clone());
                let _ = engine.send(EngineMsg::Registry(r));
            }
            Err(e) => tracing::error!(error = %e, "registry refused; the previous one stays in force"),
        }
    }
}
