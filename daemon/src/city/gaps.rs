//! Missing messages (缺号): the city waits for a district's next `seq`, but the stream may have
//! lost it (a purge, a `max_age` limit) while it still holds later ones. The consumer notes
//! every message that comes before its turn; a wait that lasts [`gap_after`] becomes a
//! `problems` entry naming the district and the missing `seq` range, and the city is unhealthy.
//! The last messages of a district can be lost too, with nothing later to show it: then the
//! district's heartbeats say it published past what the city applied, and when the city has
//! applied nothing more for [`gap_after`] that is the same problem ([`Gaps::behind`]).
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

/// A district whose heartbeats say it published past what the city applied: the `seq` applied
/// when that was first seen, and since when it has not moved.
#[derive(Debug, Clone, Copy)]
struct Behind {
    applied: u64,
    since: Instant,
}

/// The districts the city waits on.
#[derive(Debug, Default)]
pub struct Gaps {
    waiting: Mutex<BTreeMap<String, Waiting>>,
    behind: Mutex<BTreeMap<String, Behind>>,
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

    /// `code` has applied up to `applied`, and its last heartbeat said it published up to
    /// `published`: a problem when the city is behind and has applied nothing for [`gap_after`]
    /// (its messages were lost from the end of the stream, or the city cannot read them). A
    /// district with a wait for a `seq` (see [`Gaps::early`]) is reported there instead.
    pub fn behind(&self, code: &str, applied: u64, published: Option<u64>) -> Option<String> {
        self.behind_after(code, applied, published, gap_after())
    }

    fn behind_after(&self, code: &str, applied: u64, published: Option<u64>, after: Duration) -> Option<String> {
        let mut behind = self.behind.lock().unwrap_or_else(|p| p.into_inner());
        let published = published.filter(|p| *p > applied);
        let Some(published) = published else {
            behind.remove(code);
            return None;
        };
        let b = behind.entry(code.to_owned()).or_insert(Behind { applied, since: Instant::now() });
        if b.applied != applied {
            *b = Behind { applied, since: Instant::now() };
        }
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner()).contains_key(code);
        (b.since.elapsed() >= after && !waiting).then(|| {
            format!(
                "district {code}: it has published up to seq {published} (its heartbeat says) but the city has applied \
                 only up to seq {applied} and nothing more for {} s: {} missing from the stream MZ (a purge or its \
                 max_age), or the city cannot read it. Check the stream and see docs/nats/README.md",
                b.since.elapsed().as_secs(),
                seq_range(applied + 1, published)
            )
        })
    }

    /// A problem for every wait longer than [`gap_after`].
    pub fn problems(&self) -> Vec<String> {
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting
            .iter()
            .filter(|(_, w)| w.since.elapsed() >= gap_after())
            .map(|(code, w)| {
                let missing = seq_range(w.expected, w.first_later - 1);
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

/// `seq 4` or `seq 4–7`.
fn seq_range(first: u64, last: u64) -> String {
    if last > first {
        format!("seq {first}–{last}")
    } else {
        format!("seq {first}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_district_behind_its_heartbeat_without_progress_is_a_problem() {
        let gaps = Gaps::default();
        let now = Duration::ZERO;
        assert_eq!(gaps.behind_after("110112", 3, Some(3), now), None, "caught up");
        assert_eq!(gaps.behind_after("110112", 3, None, now), None, "no heartbeat heard");
        assert_eq!(gaps.behind_after("110112", 5, Some(3), now), None, "a heartbeat older than the messages");
        let p = gaps.behind_after("110112", 2, Some(3), now).expect("behind");
        assert!(p.contains("district 110112") && p.contains("seq 3 missing"), "{p}");
        let p = gaps.behind_after("110112", 2, Some(7), now).expect("behind");
        assert!(p.contains("seq 3–7"), "{p}");
        // Progress restarts the wait; a long wait is not over yet.
        assert_eq!(gaps.behind_after("110112", 4, Some(7), Duration::from_secs(60)), None);
        // A wait for a seq that later messages show lost is reported by `problems` alone.
        gaps.early("110112", 5, 6);
        assert_eq!(gaps.behind_after("110112", 4, Some(7), now), None);
    }
}
