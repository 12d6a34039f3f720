//! `mzd city`: the city-level roll-up daemon (市级汇总, SPEC §9).
//!
//! It consumes what the district daemons publish to NATS JetStream ([`consumer`]), keeps per
//! district the last applied `seq` and that commit's figures in its own sled store ([`book`]),
//! and serves the same Unix-socket protocol as `mzd run` ([`server`]): `mzd status --json`
//! against it gives the §9 city status, `mzd report` each district's report beside city
//! totals ([`report`]). [`liveness`] hears the districts' heartbeats (stale only when they
//! stop); [`gaps`] reports a `seq` the stream lost.
//!
//! Invariants: the consumer task is the only writer of the city store; each message is applied
//! once, by (district, `seq`), and acknowledged only after the commit holding it is durable.

pub mod alerts;
pub mod book;
pub mod consumer;
pub mod gaps;
pub mod liveness;
pub mod people;
pub mod report;
pub mod server;

use crate::store::{Store, StoreError};
use book::CityBook;
use mz_shared::city::{CityStatus, CityTotals, DistrictEntry};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A district of the city.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictConfig {
    /// The district's code, as its registry's `district_code` (subject `mz.district.<code>`).
    pub code: String,
    /// The district's name as the city status shows it.
    pub name: String,
}

/// `city.toml` (SPEC §9).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityConfig {
    /// The NATS server (`nats://host:4222`).
    pub url: String,
    /// The city user's NATS credentials file; none connects without.
    pub credentials: Option<PathBuf>,
    /// The city's data folder (its own sled store); default `./mz-city`.
    pub data: Option<PathBuf>,
    /// The Unix socket served to clients; default `<data>/mzd.sock`.
    pub socket: Option<PathBuf>,
    /// The city's 32-byte key, shared with the districts, for matching people across districts
    /// (cross-district bigamy and duplicate aid); none: no such matching.
    pub city_key: Option<PathBuf>,
    /// The city's name as the status shows it.
    pub name: String,
    /// The socket's group (mode 0660); default the daemon user's primary group.
    #[serde(default)]
    pub socket_group: Option<String>,
    /// The districts the city expects (`[[district]]`); others are not applied.
    #[serde(default, rename = "district")]
    pub districts: Vec<DistrictConfig>,
}

/// Why `mzd city` could not start or stopped; each message names the file or folder at fault.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    /// `city.toml` could not be read.
    #[error("cannot read the city config {path}: {source}")]
    Read {
        /// The file or folder at fault.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `city.toml` is not valid TOML or names an unknown key.
    #[error("city config {path}: {message}")]
    Syntax {
        /// The file or folder at fault.
        path: PathBuf,
        /// What the TOML parser said.
        message: String,
    },
    /// The data folder could not be created.
    #[error("cannot create the city data folder {path}: {source}")]
    Data {
        /// The file or folder at fault.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The city store could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The socket could not be served.
    #[error(transparent)]
    Server(#[from] crate::server::ServerError),
    /// The city key file (`city_key`) cannot be read or is malformed.
    #[error(transparent)]
    CityKey(#[from] crate::publish::people::CityKeyFileError),
}

impl CityConfig {
    /// Reads `city.toml`; relative paths are taken relative to its folder; flags override.
    pub fn load(path: &Path, data: Option<PathBuf>, socket: Option<PathBuf>) -> Result<CityConfig, CityError> {
        let text = std::fs::read_to_string(path).map_err(|source| CityError::Read { path: path.to_owned(), source })?;
        let mut cfg: CityConfig =
            toml::from_str(&text).map_err(|e| CityError::Syntax { path: path.to_owned(), message: e.to_string() })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.credentials, &mut cfg.data, &mut cfg.socket, &mut cfg.city_key].into_iter().flatten() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        cfg.data = data.or(cfg.data);
        cfg.socket = socket.or(cfg.socket);
        Ok(cfg)
    }

    /// The data folder: `data`, or `./mz-city`.
    pub fn data_dir(&self) -> PathBuf {
        self.data.clone().unwrap_or_else(|| PathBuf::from("./mz-city"))
    }

    /// The socket: `socket`, or `mzd.sock` in the data folder.
    pub fn socket_path(&self) -> PathBuf {
        self.socket.clone().unwrap_or_else(|| self.data_dir().join("mzd.sock"))
    }
}

/// How long consuming may fail before status says so.
const PROBLEM_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// What the consumer tells the status.
#[derive(Debug, Default)]
pub struct CityShared {
    connected: AtomicBool,
    failing: Mutex<Option<(String, Instant)>>,
    notes: Mutex<Vec<String>>,
    /// Bumped after every applied batch.
    pub changes: tokio::sync::watch::Sender<u64>,
    /// The districts' heartbeats: who is alive.
    pub liveness: liveness::Liveness,
    /// Districts whose next message the stream does not hold.
    pub gaps: gaps::Gaps,
}

impl CityShared {
    /// Whether the consumer is connected to the NATS server now.
    pub fn set_connected(&self, c: bool) {
        self.connected.store(c, Ordering::Relaxed);
    }

    /// Consuming failed with `error`; a failure lasting a minute becomes a problem in status.
    pub fn failed(&self, error: String) {
        let mut f = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        let since = f.as_ref().map_or_else(Instant::now, |(_, s)| *s);
        *f = Some((error, since));
    }

    /// Consuming works again: the failure is forgotten.
    pub fn succeeded(&self) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// A message that could not be applied (kept as a problem, at most the last 10).
    pub fn note(&self, text: String) {
        tracing::warn!(problem = %text, "district message skipped");
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        if !notes.contains(&text) {
            notes.push(text);
            let excess = notes.len().saturating_sub(10);
            notes.drain(..excess);
        }
    }

    /// A batch was applied: subscribers get the new city status.
    pub fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Problems, and whether one of them stops the roll-up.
    fn problems(&self) -> (Vec<String>, bool) {
        let mut out = self.notes.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        let stopped = match failing.as_ref() {
            Some((e, since)) if since.elapsed() >= PROBLEM_AFTER => {
                out.push(format!(
                    "the city has not received the districts' messages for {} s ({e}); nothing is lost, the \
                     districts keep them until the city reads them. Check the NATS server, the url and the credentials",
                    since.elapsed().as_secs()
                ));
                true
            }
            _ => false,
        };
        let gaps = self.gaps.problems();
        let gap = !gaps.is_empty();
        out.extend(gaps);
        (out, stopped || gap)
    }
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_string()
}

/// The §9 status from the book, with districts in config order.
pub fn status(config: &CityConfig, book: &CityBook, shared: &CityShared, now_ms: i64) -> CityStatus {
    let districts: Vec<DistrictEntry> = config
        .districts
        .iter()
        .map(|d| {
            let r = book.districts.get(&d.code).cloned().unwrap_or_default();
            let heard = shared.liveness.heard(&d.code);
            DistrictEntry {
                code: d.code.clone(),
                name: d.name.clone(),
                last_seq: r.last_seq,
                last_event_at: r.at_ms.map(rfc3339),
                stale_for_s: shared.liveness.stale_for_s(&d.code, r.at_ms, now_ms),
                last_heartbeat_at: heard.map(|h| rfc3339(h.at_ms)),
                heartbeat_seq: heard.map(|h| h.published_seq),
                figures: r.figures,
                detail: r.detail,
            }
        })
        .collect();
    let (mut problems, mut stopped) = shared.problems();
    for d in &districts {
        if let Some(p) = shared.gaps.behind(&d.code, d.last_seq, d.heartbeat_seq) {
            problems.push(p);
            stopped = true;
        }
    }
    for code in book.districts.keys().filter(|c| !config.districts.iter().any(|d| &d.code == *c)) {
        problems.push(format!(
            "district {code} publishes but is not in the city config: add a [[district]] for it and restart mzd city"
        ));
    }
    let alerts = book.alerts.counts();
    CityStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        healthy: !stopped,
        level: "city".to_owned(),
        name: config.name.clone(),
        problems,
        totals: CityTotals::of(&districts),
        districts,
        alerts,
    }
}

/// Runs the city daemon until `stop` completes.
pub async fn run(config: CityConfig, stop: impl std::future::Future<Output = ()>) -> Result<(), CityError> {
    crate::sys::restrict_umask();
    let data = config.data_dir();
    crate::files::create_dirs(&data).map_err(|source| CityError::Data { path: data.clone(), source })?;
    let mut book = CityBook::open(Store::open(&data.join("store"))?)?;
    book.alerts.set_names(config.districts.iter().map(|d| (d.code.clone(), d.name.clone())));
    // The key itself is the districts' business; the city checks that it has a usable one.
    if let Some(path) = &config.city_key {
        crate::publish::people::load_city_key(path)?;
        book.matching = true;
    }
    let book = Arc::new(Mutex::new(book));
    let shared = Arc::new(CityShared::default());
    let socket = config.socket_path();
    let listener = crate::server::bind(&socket, config.socket_group.as_deref()).await?;
    let consumer = tokio::spawn(consumer::run(config.clone(), book.clone(), shared.clone()));
    let heartbeats = tokio::spawn(liveness::run(config.clone(), shared.clone()));
    let server = tokio::spawn(server::serve(listener, Arc::new(config.clone()), book, shared));
    tracing::info!(data = %data.display(), socket = %socket.display(), districts = config.districts.len(), "mzd city running");
    stop.await;
    consumer.abort();
    heartbeats.abort();
    server.abort();
    let _ = std::fs::remove_file(&socket);
    tracing::info!("mzd city stopped");
    Ok(())
}
