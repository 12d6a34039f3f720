//! Missing messages (缺号): the city waits for a district's next `seq`, but the stream may have
//! lost it (a purge, a `max_age` limit) while it still holds later ones. The consumer notes
//! every message that comes before its turn; a wait that lasts [`gap_after`] becomes a
//! `problems` entry naming the district and the missing `seq` range, and the city is unhealthy.
//!
//! Invariants: the city never skips a `seq` by itself (what a lost message changed in the
//! district's statistics would be lost with it); a wait ends as soon as the district's
//! `last_seq` reaches past it. Kept in memory: a restarted city finds the gap again.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the city waits for a missing `seq` before it says so: 60 s
/// (`MZD_CITY_GAP_AFTER_SECS` changes it, for tests).
pub fn gap_after() -> Duration {
    let secs = std::env::var("MZD_CITY_GAP_AFTER_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    Duration::from_secs(secs)
}

/// A district's wait for a `seq`.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    /// The `seq` the city needs next.
    expected: u64,
    /// The lowest later `seq` the stream delivered meanwhile.
    first_later: u64,
    since: Instant,
}

/// The districts the city waits on.
#[derive(Debug, Default)]
pub struct Gaps {
    waiting: Mutex<BTreeMap<String, Waiting>>,
}

impl Gaps {
    /// Message `seq` of `code` arrived while the city needs `expected`.
    pub fn early(&self, code: &str, expected: u64, seq: u64) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let w = waiting.entry(code.to_owned()).or_insert(Waiting { expected, first_later: seq, since: Instant::now() });
        if w.expected != expected {
            *w = Waiting { expected, first_later: seq, since: Instant::now() };
        }
        w.first_later = w.first_later.min(seq);
    }

    /// `code`'s last applied `seq` is now `last_seq`: a wait for it or before it is over.
    pub fn applied(&self, code: &str, last_seq: u64) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if waiting.get(code).is_some_and(|w| w.expected <= last_seq) {
            waiting.remove(code);
        }
    }

    /// A problem for every wait longer than [`gap_after`].
    pub fn problems(&self) -> Vec<String> {
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting
            .iter()
            .filter(|(_, w)| w.since.elapsed() >= gap_after())
            .map(|(code, w)| {
                let missing = match w.first_later - 1 {
                    last if last > w.expected => format!("seq {}–{last}", w.expected),
                    _ => format!("seq {}", w.expected),
                };
                format!(
                    "district {code}: the stream MZ holds its messages from seq {} on but not {missing}: they were \
                     lost from the stream (a purge or its max_age), so the city applies nothing later from this \
                     district and waits ({} s so far). Check the stream's limits and see docs/nats/README.md",
                    w.first_later,
                    w.since.elapsed().as_secs()
                )
            })
            .collect()
    }
}
