//! Which districts are alive (在线): the districts' heartbeats, heard on `mz.heartbeat.*`
//! outside the stream, and what the city status makes of them (SPEC §9).
//!
//! A district is stale when the city has heard neither a heartbeat nor a message from it for
//! [`stale_after`] (since the city started, for one not heard yet). Invariants: heartbeats are
//! kept in memory only and never touch the book or `last_seq`; a heartbeat on one district's
//! subject that names another district is ignored (the server's permissions keep a district
//! to its own subject, docs/nats/).

use super::CityConfig;
use crate::publish::publisher::connect;
use futures::StreamExt;
use mz_shared::heartbeat::{district_of_subject, Heartbeat, HEARTBEAT_SUBJECTS};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Silence after which a district is stale: 60 s, six missed heartbeats
/// (`MZD_CITY_STALE_AFTER_SECS` changes it, for tests).
pub fn stale_after() -> Duration {
    let secs = std::env::var("MZD_CITY_STALE_AFTER_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    Duration::from_secs(secs)
}

/// The last heartbeat heard from a district.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    /// The city's clock when it arrived (Unix ms).
    pub at_ms: i64,
    /// The district's published `seq` it reported.
    pub published_seq: u64,
}

/// The heartbeats heard, by district code.
#[derive(Debug)]
pub struct Liveness {
    /// When this city process started (Unix ms): nobody is stale before `stale_after` of it.
    started_ms: i64,
    heard: Mutex<BTreeMap<String, Heard>>,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness { started_ms: jiff::Timestamp::now().as_millisecond(), heard: Mutex::new(BTreeMap::new()) }
    }
}

impl Liveness {
    fn hear(&self, code: &str, beat: &Heartbeat, now_ms: i64) {
        let heard = Heard { at_ms: now_ms, published_seq: beat.published_seq };
        self.heard.lock().unwrap_or_else(|p| p.into_inner()).insert(code.to_owned(), heard);
    }

    /// The last heartbeat of `code`, if any since the city started.
    pub fn heard(&self, code: &str) -> Option<Heard> {
        self.heard.lock().unwrap_or_else(|p| p.into_inner()).get(code).copied()
    }

    /// Seconds of silence when `code` is stale at `now_ms`: nothing heard (heartbeat, or a
    /// commit made at `last_event_ms`) for [`stale_after`].
    pub fn stale_for_s(&self, code: &str, last_event_ms: Option<i64>, now_ms: i64) -> Option<u64> {
        let last_sign = self.heard(code).map(|h| h.at_ms).into_iter().chain(last_event_ms).max();
        let since = last_sign.unwrap_or(self.started_ms);
        let stale = now_ms - since.max(self.started_ms) >= stale_after().as_millis() as i64;
        stale.then(|| ((now_ms - since).max(0) / 1000) as u64)
    }
}

/// Listens to the heartbeats until the process ends, reconnecting after a failure.
pub async fn run(config: CityConfig, shared: Arc<super::CityShared>) {
    loop {
        if let Err(e) = listen(&config, &shared.liveness).await {
            tracing::debug!(error = %e, "not hearing the districts' heartbeats; retrying");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn listen(config: &CityConfig, liveness: &Liveness) -> Result<(), String> {
    let client = connect(&config.url, config.credentials.as_deref(), "mzd city heartbeats", "_INBOX_mz_city")
        .await
        .map_err(|e| e.to_string())?;
    let mut beats = client.subscribe(HEARTBEAT_SUBJECTS).await.map_err(|e| e.to_string())?;
    while let Some(m) = beats.next().await {
        let Some(code) = district_of_subject(m.subject.as_str()) else { continue };
        match serde_json::from_slice::<Heartbeat>(&m.payload) {
            Ok(beat) if beat.district == code => liveness.hear(code, &beat, jiff::Timestamp::now().as_millisecond()),
            _ => tracing::debug!(subject = %m.subject, "a heartbeat that is not its district's; ignored"),
        }
    }
    Err("the heartbeat subscription ended".to_owned())
}
