//! The engine's health as status sees it: its own problems, and whether it is making progress.
//!
//! Invariants: status never says healthy while the engine is not making progress. The engine
//! thread beats (a timestamp) every time it takes a message or finishes a step of a file; a
//! beat older than [`stuck_after`] while it is busy, or an engine thread that ended, is a
//! blocking problem — and `mzd run` exits non-zero after [`stuck_exit_after`] so that a
//! supervisor restarts it (a thread stuck inside the storage engine cannot be interrupted).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A busy engine without a beat for this long is reported as not making progress.
/// `MZD_STUCK_AFTER_SECS` overrides it (tests; slow disks).
pub fn stuck_after() -> Duration {
    let secs = std::env::var("MZD_STUCK_AFTER_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    Duration::from_secs(secs)
}

/// A busy engine without a beat for this long makes `mzd run` exit (status 1) so a supervisor
/// restarts it. `MZD_STUCK_EXIT_SECS` overrides it (tests; slow disks).
pub fn stuck_exit_after() -> Duration {
    let secs = std::env::var("MZD_STUCK_EXIT_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    Duration::from_secs(secs)
}

/// Shared between the engine thread (writer) and the server (reader).
#[derive(Debug, Default)]
pub struct EngineHealth {
    problems: Mutex<Vec<Problem>>,
    /// Unix milliseconds of the last beat.
    beat_ms: AtomicI64,
    /// Inside a unit of work (a file, an action, a tick).
    busy: AtomicBool,
    /// The engine thread has ended.
    stopped: AtomicBool,
    /// A feed file is being read (it has left the inbox but is not handled yet).
    reading: AtomicBool,
    /// The engine has opened the store and entered its loop.
    running: AtomicBool,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl EngineHealth {
    /// A sign of progress.
    pub fn beat(&self) {
        self.beat_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Marks the start (`true`) or end of a unit of work; both count as a beat.
    pub fn set_busy(&self, busy: bool) {
        self.beat();
        self.busy.store(busy, Ordering::Relaxed);
    }

    /// True while the engine is handling a message (a file, an action, a tick).
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed)
    }

    /// The engine has opened the store and entered its loop (set once).
    pub fn set_running(&self) {
        self.beat();
        self.running.store(true, Ordering::Relaxed);
    }

    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// Time since the last beat (busy or not).
    pub fn since_beat(&self) -> Duration {
        let since = now_ms() - self.beat_ms.load(Ordering::Relaxed);
        Duration::from_millis(since.max(0) as u64)
    }

    /// A feed file is being read (`true`) or done.
    pub fn set_reading(&self, reading: bool) {
        self.reading.store(reading, Ordering::Relaxed);
    }

    pub fn is_reading(&self) -> bool {
        self.reading.load(Ordering::Relaxed)
    }

    /// The engine thread has ended (normally or not).
    pub fn set_stopped(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Replaces the engine's own problems (store closed, files that cannot be moved or read).
    pub fn set_problems(&self, problems: Vec<Problem>) {
        *self.problems.lock().unwrap_or_else(|p| p.into_inner()) = problems;
    }

    /// How long the engine has been busy without a beat, when it is busy.
    pub fn stalled_for(&self) -> Option<Duration> {
        if !self.busy.load(Ordering::Relaxed) {
            return None;
        }
        let since = now_ms() - self.beat_ms.load(Ordering::Relaxed);
        Some(Duration::from_millis(since.max(0) as u64))
    }

    /// Everything status should say about the engine.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = self.problems.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if self.is_stopped() {
            out.push(Problem::blocking(
                "the engine thread has stopped: nothing is ingested or stored; restart mzd (see its log for why)",
            ));
        } else if let Some(d) = self.stalled_for().filter(|d| *d >= stuck_after()) {
            out.push(Problem::blocking(format!(
                "the engine has made no progress for {} s (stuck in the storage engine or on the disk?); \
                 mzd exits after {} s so that its supervisor restarts it",
                d.as_secs(),
                stuck_exit_after().as_secs()
            )));
        }
        out
    }
}

/// Something an operator should act on, in words they can act on (what, where, what to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub text: String,
    /// True while it stops ingest (or the store): status is then unhealthy.
    pub stops_ingest: bool,
}

impl Problem {
    /// A problem that stops ingest: status unhealthy while it lasts.
    pub fn blocking(text: impl Into<String>) -> Problem {
        Problem { text: text.into(), stops_ingest: true }
    }

    /// A problem that needs attention but does not stop ingest.
    pub fn attention(text: impl Into<String>) -> Problem {
        Problem { text: text.into(), stops_ingest: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_is_never_stuck_and_a_stopped_engine_is_a_problem() {
        let h = EngineHealth::default();
        assert!(h.problems().is_empty());
        h.set_busy(true);
        assert!(h.stalled_for().is_some_and(|d| d < stuck_after()));
        assert!(h.problems().is_empty());
        h.set_busy(false);
        assert_eq!(h.stalled_for(), None);
        h.set_stopped();
        assert!(h.problems().iter().any(|p| p.stops_ingest && p.text.contains("stopped")));
    }
}
