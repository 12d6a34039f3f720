//! The publisher's heartbeat: while a publishing session is connected, every [`every`] a
//! plain NATS message on `mz.heartbeat.<code>` says the district is alive, how far it has
//! published and what its clock says (SPEC §9; [`mz_shared::heartbeat`]).
//!
//! Invariants: a heartbeat never goes into the stream and has no `seq`; it is sent between
//! publications, so a busy district beats as a quiet one does; it only reads [`PublishShared`].

use super::PublishShared;
use mz_shared::heartbeat::{heartbeat_subject, Heartbeat};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often a district beats: 10 s (`MZD_HEARTBEAT_SECS` changes it, for tests).
pub fn every() -> Duration {
    let secs = std::env::var("MZD_HEARTBEAT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    Duration::from_secs(secs)
}

/// When the session last beat.
pub struct Beat {
    every: Duration,
    last: Option<Instant>,
}

impl Beat {
    /// A beat that is due at once, then every configured interval.
    pub fn new() -> Beat {
        Beat { every: every(), last: None }
    }

    /// Sends a heartbeat when one is due. A failure ends nothing: the next publication or
    /// the connection's own state tells the session when the server is gone.
    pub async fn beat_if_due(&mut self, client: &async_nats::Client, shared: &PublishShared) {
        if self.last.is_some_and(|t| t.elapsed() < self.every) {
            return;
        }
        self.last = Some(Instant::now());
        let beat = Heartbeat {
            district: shared.district.clone(),
            published_seq: shared.acked.load(Ordering::Acquire),
            head: shared.head.load(Ordering::Acquire),
            at_ms: jiff::Timestamp::now().as_millisecond(),
        };
        let payload = serde_json::to_vec(&beat).expect("heartbeats serialize");
        if let Err(e) = client.publish(heartbeat_subject(&shared.district), payload.into()).await {
            tracing::debug!(error = %e, "heartbeat not sent");
        }
    }
}

impl Default for Beat {
    fn default() -> Self {
        Beat::new()
    }
}
