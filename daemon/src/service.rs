//! `mzd run`: wires watcher → engine → server together and shuts them down cleanly.
//!
//! Threads: the watcher's own threads; one engine thread, the only writer of the store, fed by
//! a channel; the tokio runtime for the socket server, signals and registry reloads. The engine
//! publishes the status after every commit on a watch channel that the server reads. One
//! [`ShutdownSignal`] stops them all: the server, its connections, metrics, registry reloads and
//! systemd supervision await their [`crate::shutdown::Shutdown`]; the engine polls its own
//! between the parts of a file and is woken on its channel; the watcher is stopped last.

use crate::engine::run::cannot_open;
use crate::engine::{engine_loop, wait_for_store, Engine, EngineHandle, EngineMsg, EngineOpener, Folders, IngestError};
use crate::health::EngineHealth;
use crate::health::Problem;
use crate::report;
use crate::server::{self, LiveStatus, ServerContext};
use crate::shutdown::{Shutdown, ShutdownSignal};
use crate::store::{Store, StoreError, StoreReader};
use crate::watcher::{Candidate, Watcher, WatcherConfig};
use mz_shared::dashboard::Dashboard;
use mz_shared::id_number::IdHasher;
use mz_shared::registry::{Registry, RegistryError};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// Where everything is, after flags, config file and defaults are merged.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data folder: store, ID-hash key, archive, quarantine, reports.
    pub data: PathBuf,
    /// The inbox watched for drop files (never the data folder itself or inside the store).
    pub inbox: PathBuf,
    /// The Unix socket served to clients (mode 0660).
    pub socket: PathBuf,
    /// The registry file, reloaded when it changes.
    pub registry: PathBuf,
    /// The socket's group; `None`: the daemon user's primary group.
    pub socket_group: Option<String>,
    /// `host:port` to serve Prometheus metrics on.
    pub metrics: Option<String>,
    /// After a failed write to the store, replace the process (see [`crate::restart`]); false
    /// when the daemon runs inside another program.
    pub restart_in_place: bool,
}

/// Why `mzd run` (or `rebuild`) could not start or stopped; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The registry file does not exist.
    #[error(
        "no registry at {0}. Write one (see README, \"Registry\"), or start from the demo: `mzd demo-registry > {0}`"
    )]
    NoRegistry(PathBuf),
    /// The registry file is not valid.
    #[error("registry {path} refused: {source}")]
    Registry {
        /// The registry file.
        path: PathBuf,
        /// What is wrong in it, with line and column.
        source: RegistryError,
    },
    /// A file the daemon needs could not be read or written.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The ID-hash key file is not 32 bytes.
    #[error("the ID hash key {0} is damaged (expected 32 bytes). Restore it from backup: without it stored people cannot be matched")]
    BadKey(PathBuf),
    /// The store could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Ingesting a file failed for good (at start-up or in `rebuild`).
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The socket could not be served.
    #[error(transparent)]
    Server(#[from] server::ServerError),
    /// The inbox cannot be watched (missing, no permission, too many watches).
    #[error("cannot watch the inbox {path}: {detail}")]
    Watch {
        /// The inbox folder.
        path: PathBuf,
        /// What the watcher said.
        detail: String,
    },
    /// The inbox and the data folder overlap.
    #[error(
        "the inbox {inbox} contains the data folder {data} (or lies in its store): handled files would be taken \
         again. Use an inbox beside or under the data folder, e.g. <data>/inbox"
    )]
    Layout {
        /// The data folder.
        data: PathBuf,
        /// The inbox folder.
        inbox: PathBuf,
    },
    /// The metrics address could not be bound.
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics {
        /// The `host:port` asked for.
        addr: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The engine thread ended while the daemon was running.
    #[error("the engine thread stopped unexpectedly; see the log above, then start mzd again")]
    EngineStopped,
    /// `[publish]` is set but the registry has no `district_code`.
    #[error("publishing to the city needs district_code in the registry {0} (SPEC §4, §9)")]
    NoDistrictCode(PathBuf),
    /// The city key file (`[publish] city_key`) cannot be read or is malformed.
    #[error(transparent)]
    CityKey(#[from] crate::publish::people::CityKeyFileError),
    /// The engine made no progress for this many seconds.
    #[error("the engine made no progress for {0} s (stuck in the storage engine or on the disk); start mzd again")]
    EngineStuck(u64),
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
    let never = ShutdownSignal::new();
    let mut engine = Engine::open(store, registry, hasher, Folders::new(data), never.subscribe())?;
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

/// How long a clean shutdown waits for the engine to finish the file in hand (a large file stops
/// at its next committed part, a few seconds at most); then `mzd run` exits 1.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Creates the data folder (0750) and takes away any access others had to an existing one: it
/// holds raw drop files with full ID numbers.
fn prepare_data_dir(data: &Path) -> Result<(), ServiceError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| ServiceError::Io { path: data.to_owned(), source };
    crate::files::create_dirs(data).map_err(io)?;
    let mode = std::fs::metadata(data).map_err(io)?.permissions().mode();
    if mode & 0o007 != 0 {
        std::fs::set_permissions(data, std::fs::Permissions::from_mode(mode & 0o7770)).map_err(io)?;
        tracing::warn!(folder = %data.display(), "the data folder was open to all users; now owner and group only");
    }
    Ok(())
}

/// Runs the daemon until `stop` completes, then shuts down cleanly. Returns an error (exit 1)
/// when the engine stopped or got stuck, so that a supervisor restarts the daemon.
pub async fn run(settings: Settings, stop: impl Future<Output = ()>) -> Result<(), ServiceError> {
    run_publishing(settings, None, stop).await
}

/// [`run`], publishing every commit to the city when `publish` is given (SPEC §9).
pub async fn run_publishing(
    settings: Settings,
    publish: Option<crate::publish::PublishConfig>,
    stop: impl Future<Output = ()>,
) -> Result<(), ServiceError> {
    let signal = ShutdownSignal::new();
    let (registry, mut opener) = prepare(&settings, signal.subscribe())?;
    let publishing = match &publish {
        Some(config) => {
            let code =
                registry.district_code.as_deref().ok_or(ServiceError::NoDistrictCode(settings.registry.clone()))?;
            let city = config.city_key.as_deref().map(crate::publish::people::load_city_key).transpose()?;
            Some(crate::publish::PublishShared::with_city(code, city))
        }
        None => None,
    };
    opener.publish = publishing.clone();
    let health = opener.health.clone();
    let reader = opener.reader.clone();
    let mut report_cache = report::ReportCache::default();
    let engine = first_engine(&opener, &settings.data)?;
    let first = match &engine {
        Some(e) => {
            let recent: Vec<_> = e.recent_files.iter().cloned().collect();
            report::dashboard(&e.state, &e.index, &registry, &recent, jiff::Timestamp::now(), &mut report_cache)
        }
        None => Dashboard::default(),
    };
    let (status_tx, status_rx) = watch::channel(Arc::new(first));
    let (msg_tx, msg_rx) = mpsc::channel::<EngineMsg>();
    let wake = msg_tx.clone();
    signal.on_fire(move || {
        let _ = wake.send(EngineMsg::Shutdown);
    });
    let (watcher, intake) = start_watcher(&settings, msg_tx.clone())?;
    let engine_thread = {
        let (watcher, health) = (watcher.clone(), health.clone());
        let paths = (settings.data.clone(), settings.registry.clone());
        std::thread::Builder::new()
            .name("mzd-engine".into())
            .spawn(move || {
                let _stopped = StoppedOnDrop(health.clone());
                let Some(engine) = engine.or_else(|| wait_for_store(opener, &msg_rx, &watcher)) else { return };
                engine_loop(paths, engine, report_cache, msg_rx, status_tx, watcher, health)
            })
            .map_err(|source| ServiceError::Io { path: "mzd-engine thread".into(), source })?
    };
    if let (Some(config), Some(shared)) = (publish, &publishing) {
        tokio::spawn(crate::publish::publisher::run(config, shared.clone(), reader.clone()));
    }
    let served =
        serve(&settings, registry, status_rx, reader, &watcher, &health, &msg_tx, signal.subscribe(), publishing)
            .await?;
    let outcome = tokio::select! {
        _ = stop => Ok(()),
        failure = watch_engine(health.clone()) => Err(failure),
    };
    if let Err(ServiceError::EngineStuck(secs)) = outcome {
        // A thread stuck inside the storage engine cannot be interrupted or joined: leave, and
        // let the supervisor start a fresh process (the store recovers what was committed).
        tracing::error!(stuck_s = secs, "the engine is stuck; exiting so that the supervisor restarts mzd");
        let _ = std::fs::remove_file(&settings.socket);
        return Err(ServiceError::EngineStuck(secs));
    }
    tracing::info!("shutting down: finishing the file in hand");
    crate::systemd::stopping();
    signal.fire();
    let joined = tokio::time::timeout(SHUTDOWN_GRACE, tokio::task::spawn_blocking(move || engine_thread.join())).await;
    let outcome = match joined {
        Ok(Ok(Ok(()))) => outcome,
        Ok(_) => Err(ServiceError::EngineStopped),
        Err(_) => Err(ServiceError::EngineStuck(SHUTDOWN_GRACE.as_secs())),
    };
    served.stop(watcher).await;
    // The intake thread ends when the watcher drops its sender; never wait for it.
    drop((intake, msg_tx));
    let _ = std::fs::remove_file(&settings.socket);
    match &outcome {
        Ok(()) => tracing::info!("mzd stopped"),
        Err(e) => tracing::error!(error = %e, "mzd stopped after a failure"),
    }
    outcome
}

/// The folders, the registry and what it takes to open the engine.
fn prepare(settings: &Settings, shutdown: Shutdown) -> Result<(Arc<Registry>, EngineOpener), ServiceError> {
    crate::sys::restrict_umask();
    let data = &settings.data;
    prepare_data_dir(data)?;
    crate::files::create_dirs(&settings.inbox)
        .map_err(|source| ServiceError::Io { path: settings.inbox.clone(), source })?;
    check_layout(data, &settings.inbox)?;
    let registry = Arc::new(load_registry(&settings.registry)?);
    let opener = EngineOpener {
        store_dir: data.join("store"),
        reader: StoreReader::closed(),
        registry: registry.clone(),
        hasher: load_or_create_key(&data.join("id-hash.key"))?,
        folders: Folders::with_inbox(data, &settings.inbox),
        shutdown,
        health: Arc::new(EngineHealth::default()),
        restart_in_place: settings.restart_in_place,
        publish: None,
    };
    Ok((registry, opener))
}

/// The engine, when the store opens now; `None` (status then says why) when it must wait: just
/// restarted after a failed write, or the disk cannot give what opening needs.
fn first_engine(opener: &EngineOpener, data: &Path) -> Result<Option<Engine>, ServiceError> {
    if let Some(reason) = crate::restart::after_failure() {
        tracing::warn!(error = %reason, "restarted after a failed write to the store; opening it again shortly");
        opener.health.set_problems(vec![Problem::blocking(format!(
            "the store cannot be written ({reason}): mzd restarted itself so that nothing half-written reaches the \
             disk, and opens the store again as soon as it can; free disk space under {} (or fix the disk)",
            data.display()
        ))]);
        return Ok(None);
    }
    match opener.open() {
        Ok(engine) => Ok(Some(engine)),
        Err(e) if e.is_io() => {
            tracing::error!(error = %e, "cannot open the store; serving status and retrying");
            opener.health.set_problems(vec![cannot_open(&e)]);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The watcher and the thread that forwards its candidates to the engine.
fn start_watcher(
    settings: &Settings,
    engine: mpsc::Sender<EngineMsg>,
) -> Result<(Arc<Watcher>, std::thread::JoinHandle<()>), ServiceError> {
    let (cand_tx, cand_rx) = mpsc::sync_channel::<Candidate>(1);
    let watcher = Arc::new(
        Watcher::start(WatcherConfig::new(settings.inbox.clone()), cand_tx)
            .map_err(|e| ServiceError::Watch { path: settings.inbox.clone(), detail: e.to_string() })?,
    );
    let intake = std::thread::Builder::new()
        .name("mzd-intake".into())
        .spawn(move || {
            for c in cand_rx {
                if engine.send(EngineMsg::Candidate(c)).is_err() {
                    break;
                }
            }
        })
        .map_err(|source| ServiceError::Io { path: "mzd-intake thread".into(), source })?;
    Ok((watcher, intake))
}

/// What serves clients: the socket server (and metrics), the registry reloads.
struct Served {
    ctx: ServerContext,
    server: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Stops serving (the server ends on the stop signal already sent), then the watcher.
    async fn stop(self, watcher: Arc<Watcher>) {
        drop(self.ctx);
        let _ = self.server.await;
        stop_watcher(watcher).await;
    }
}

/// Binds the socket and starts the server, metrics and registry reloads.
#[allow(clippy::too_many_arguments)]
async fn serve(
    settings: &Settings,
    registry: Arc<Registry>,
    dashboard: watch::Receiver<Arc<Dashboard>>,
    reader: StoreReader,
    watcher: &Arc<Watcher>,
    health: &Arc<EngineHealth>,
    engine: &mpsc::Sender<EngineMsg>,
    stop: Shutdown,
    publishing: Option<Arc<crate::publish::PublishShared>>,
) -> Result<Served, ServiceError> {
    let (registry_tx, registry_rx) = watch::channel(registry);
    let registry_problem: Arc<Mutex<Option<String>>> = Arc::default();
    let live = live_status(settings, watcher.clone(), health.clone(), registry_problem.clone(), publishing);
    let ctx =
        ServerContext { dashboard, registry: registry_rx, reader, live, engine: EngineHandle::new(engine.clone()) };
    let listener = server::bind(&settings.socket, settings.socket_group.as_deref()).await?;
    let server = tokio::spawn(server::serve(listener, ctx.clone(), stop.clone()));
    if let Some(addr) = &settings.metrics {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServiceError::Metrics { addr: addr.clone(), source })?;
        tokio::spawn(crate::metrics::serve(l, ctx.clone(), stop.clone()));
    }
    tokio::spawn(crate::systemd::supervise(ctx.clone(), health.clone(), watcher.clone(), stop.clone()));
    let reload = reload_registry(settings.registry.clone(), engine.clone(), registry_tx, registry_problem, stop);
    tokio::spawn(reload);
    tracing::info!(
        data = %settings.data.display(), inbox = %settings.inbox.display(), socket = %settings.socket.display(),
        "mzd running"
    );
    Ok(Served { ctx, server })
}

/// Sets the engine's `stopped` flag when its thread ends, by return or by panic.
struct StoppedOnDrop(Arc<EngineHealth>);

impl Drop for StoppedOnDrop {
    fn drop(&mut self) {
        self.0.set_stopped();
    }
}

/// Resolves when the engine thread has ended or has been stuck for too long.
async fn watch_engine(health: Arc<EngineHealth>) -> ServiceError {
    let exit_after = crate::health::stuck_exit_after();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if health.is_stopped() {
            return ServiceError::EngineStopped;
        }
        if let Some(d) = health.stalled_for().filter(|d| *d >= exit_after) {
            return ServiceError::EngineStuck(d.as_secs());
        }
    }
}

/// Stops the watcher's threads (connections still open may hold it: they only read figures).
async fn stop_watcher(watcher: Arc<Watcher>) {
    let _ = tokio::task::spawn_blocking(move || watcher.stop()).await;
}

/// The checks made on every status request: inbox, engine, registry, disk.
fn live_status(
    settings: &Settings,
    watcher: Arc<Watcher>,
    health: Arc<EngineHealth>,
    registry_problem: Arc<Mutex<Option<String>>>,
    publishing: Option<Arc<crate::publish::PublishShared>>,
) -> Arc<dyn Fn() -> LiveStatus + Send + Sync> {
    let inbox = settings.inbox.clone();
    let data = settings.data.clone();
    Arc::new(move || {
        let mut problems = Vec::new();
        if !watcher.inbox_readable() {
            problems.push(Problem::blocking(format!(
                "inbox {} unreadable: give the mzd user read and write access to it",
                inbox.display()
            )));
        }
        problems.extend(health.problems());
        if let Some(p) = registry_problem.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            problems.push(Problem::attention(p));
        }
        if let Some(free) = crate::sys::disk_free(&data).filter(|f| *f < DISK_LOW_BYTES) {
            problems.push(Problem::blocking(format!(
                "disk low: {} MiB free under {}; free space before it fills (at 0 nothing can be stored)",
                free / (1024 * 1024),
                data.display()
            )));
        }
        problems.extend(publishing.as_ref().and_then(|p| p.problem()).map(Problem::attention));
        // A file being read has left the inbox for `.mzd-taken/` but is not handled yet.
        LiveStatus {
            in_progress: watcher.in_progress() + u64::from(health.is_reading()),
            problems,
            publish: publishing.as_ref().map(|p| p.status()),
        }
    })
}

/// Rereads the registry on SIGHUP and when the file changes; an invalid one (or one that
/// empties a whole section, see [`Registry::check_replacement`]) is refused, the previous one
/// stays in force, and status says so until a good one is loaded.
async fn reload_registry(
    path: PathBuf,
    engine: mpsc::Sender<EngineMsg>,
    publish: watch::Sender<Arc<Registry>>,
    problem: Arc<Mutex<Option<String>>>,
    mut stop: Shutdown,
) {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut last = mtime(&path);
    let mut poll = tokio::time::interval(Duration::from_secs(2));
    loop {
        let by_signal = tokio::select! {
            _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => true,
            _ = poll.tick() => false,
            _ = stop.recv() => return,
        };
        let now = mtime(&path);
        if !by_signal && now == last {
            continue;
        }
        last = now;
        let current = publish.borrow().clone();
        let loaded = load_registry(&path).and_then(|r| {
            current.check_replacement(&r).map_err(|source| ServiceError::Registry { path: path.clone(), source })?;
            Ok(r)
        });
        let set_problem = |p: Option<String>| *problem.lock().unwrap_or_else(|p| p.into_inner()) = p;
        match loaded {
            Ok(r) => {
                set_problem(None);
                let r = Arc::new(r);
                if *current == *r && !by_signal {
                    continue;
                }
                tracing::info!(registry = %path.display(), "registry reloaded");
                crate::systemd::reloading();
                publish.send_replace(r.clone());
                let _ = engine.send(EngineMsg::Registry(r));
                crate::systemd::reloaded();
            }
            Err(e) => {
                tracing::error!(error = %e, "registry refused; the previous one stays in force");
                set_problem(Some(format!("{e}. The previous registry stays in force: fix the file and save it again")));
            }
        }
    }
}
