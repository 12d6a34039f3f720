//! Publishing a district's commits to the city (SPEC §9) over NATS JetStream.
//!
//! [`outbox`] is the engine's side: every commit writes one outbox entry, numbered `seq` = 1, 2,
//! 3… without gaps, into the same sled batch as the commit itself, and prunes the entries the
//! server has acknowledged. [`publisher`] is a tokio task that reads the outbox through a
//! store reader and publishes it in order to stream `MZ`, subject `mz.district.<code>`, with
//! `Nats-Msg-Id: <code>:<seq>` and `Nats-Expected-Last-Subject-Sequence`. [`stats`] adds to
//! each entry what the city needs to build this district's statistics reports. [`heartbeat`]
//! says, outside the stream, that the district is alive when it has nothing to publish.
//!
//! Invariants: only the engine thread writes the outbox; the publisher never writes the store,
//! it only advances [`PublishShared::acked`] on the server's acknowledgement. Where to resume is
//! asked of the server (the last message on the district's subject), so a `kill -9` at any
//! point neither skips nor repeats a `seq`.

pub mod heartbeat;
pub mod outbox;
pub mod people;
pub mod publisher;
pub mod stats;

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use outbox::Outbox;

/// The `[publish]` table of the `mzd run` config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// NATS server URL(s), comma-separated.
    pub url: String,
    /// A NATS credentials file (`.creds`).
    pub credentials: Option<PathBuf>,
    /// The city's 32-byte key for matching people across districts.
    pub city_key: Option<PathBuf>,
}

impl PublishConfig {
    /// Relative paths are taken relative to the config file's folder.
    pub fn rebase(&mut self, base: &Path) {
        for p in [&mut self.credentials, &mut self.city_key].into_iter().flatten() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

/// How long publishing may fail before status lists it as a problem (60 s;
/// `MZD_PUBLISH_PROBLEM_AFTER_SECS` shortens it for tests).
pub fn problem_after() -> std::time::Duration {
    let secs = std::env::var("MZD_PUBLISH_PROBLEM_AFTER_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    std::time::Duration::from_secs(secs)
}

/// Shared between the engine (which writes the outbox), the publisher (which publishes it) and
/// the status.
#[derive(Debug)]
pub struct PublishShared {
    /// The district's code (`mz.district.<code>`, `Nats-Msg-Id: <code>:<seq>`).
    pub district: String,
    /// The last `seq` written to the outbox by a durable commit.
    pub head: AtomicU64,
    /// The last `seq` the server acknowledged.
    pub acked: AtomicU64,
    /// Whether the publisher has a session with the server now.
    pub connected: AtomicBool,
    /// Wakes the publisher after a commit.
    pub wake: tokio::sync::Notify,
    failing: Mutex<Option<(String, Instant)>>,
    /// The city key, when `city_key` is configured: people are published as hashes under it.
    pub city: Option<mz_shared::cross_district::CityHasher>,
}

impl PublishShared {
    /// Nothing written, nothing acknowledged, not connected (the outbox's load sets `head`).
    pub fn new(district: &str) -> Arc<PublishShared> {
        PublishShared::with_city(district, None)
    }

    /// [`PublishShared::new`] with the city key (cross-district checks, SPEC §9).
    pub fn with_city(district: &str, city: Option<mz_shared::cross_district::CityHasher>) -> Arc<PublishShared> {
        Arc::new(PublishShared {
            district: district.to_owned(),
            head: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            failing: Mutex::new(None),
            city,
        })
    }

    /// Notes a failure; the first one of a run of failures dates it.
    pub fn failed(&self, error: String) {
        let mut f = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        let since = f.as_ref().map_or_else(Instant::now, |(_, since)| *since);
        *f = Some((error, since));
    }

    /// Publishing works again.
    pub fn succeeded(&self) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The `publish` block of the status.
    pub fn status(&self) -> mz_shared::protocol::PublishStatus {
        let (head, acked) = (self.head.load(Ordering::Acquire), self.acked.load(Ordering::Acquire));
        let failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        mz_shared::protocol::PublishStatus {
            enabled: true,
            connected: self.connected.load(Ordering::Relaxed),
            published_seq: acked,
            pending: head.saturating_sub(acked),
            last_error: failing.as_ref().map(|(e, _)| e.clone()),
        }
    }

    /// A problem when publishing has failed for more than [`problem_after`] (attention: ingest
    /// goes on, the outbox keeps everything until the server takes it).
    pub fn problem(&self) -> Option<String> {
        let failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        let (error, since) = failing.as_ref()?;
        let secs = since.elapsed().as_secs();
        (since.elapsed() >= problem_after()).then(|| {
            let pending = self.head.load(Ordering::Acquire).saturating_sub(self.acked.load(Ordering::Acquire));
            format!(
                "publishing to the city has failed for {secs} s ({error}); {pending} commit(s) wait in the outbox and \
                 nothing is lost. Check the NATS server, the [publish] url and the credentials file"
            )
        })
    }
}
