//! The report files: `<data>/reports/day/YYYY-MM-DD.{csv,json}` and
//! `<data>/reports/month/YYYY-MM.{csv,json}`, written after each period ends, at start-up for
//! periods missed back to the first counted event, and again when a later drop changed them.
//!
//! The engine builds the reports of the periods that are due ([`next_round`]: figures only, a
//! few milliseconds at most) and hands them as one round to the [`ReportWriter`], a thread of
//! its own that renders and writes them (temporary file, fsync, rename: the slow part) and
//! reports back which periods it wrote. The engine then records them ([`Statistics::written`])
//! and that record goes into its next commit. The writer waits, before each period, while the
//! engine is handling something (at most [`YIELD_AT_MOST`]), so that its fsyncs do not hold up
//! a commit.
//!
//! Invariants: files are written atomically with mode 0640 (official figures); a period is
//! recorded as done, or removed from the stale set, only after the writer reported both its
//! files written, and that record is committed with the engine's next commit, so a `kill -9` at
//! any moment rewrites at start-up every file that may be missing or stale. One round is in
//! flight at a time; a period that changed while its round was in flight stays stale.

use super::{Live, Statistics};
use jiff::civil::Date;
use jiff::Timestamp;
use mz_shared::registry::Registry;
use mz_shared::statistics::{render, Period, Report};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Periods handed over per round at most.
const PER_ROUND: usize = 48;

/// Time the engine may spend building the reports of one round (figures only; rendering and
/// writing are the writer's): past it, the round is handed over with what is built, at least
/// one period. A late file that makes months of days stale then costs each later file little.
const BUILD_BUDGET: std::time::Duration = std::time::Duration::from_millis(3);

/// How long the writer waits at most, before each period, for the engine to finish the work in
/// hand: the files' fsyncs then do not queue behind (or ahead of) a commit's, which a drop's
/// latency would feel. Under steady ingest the writer still writes a period per wait.
const YIELD_AT_MOST: std::time::Duration = std::time::Duration::from_millis(100);

/// Where a period's report files go, without the extension.
pub fn report_stem(reports: &Path, period: Period) -> PathBuf {
    reports.join(period.kind().as_str()).join(period.key())
}

/// Writes the CSV and JSON files of one built report.
fn write_report(reports: &Path, period: Period, report: &Report) -> std::io::Result<()> {
    let stem = report_stem(reports, period);
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    crate::files::write_atomic(&stem.with_extension("csv"), render::csv(report, false).as_bytes())?;
    crate::files::write_atomic(&stem.with_extension("json"), &json)
}

/// The next periods whose files are missing or stale, at most `limit`: stale ones first, then
/// the periods not yet written between the first counted event and the last ended period, each
/// next to the done range (before it backwards, after it forwards), so that it stays contiguous.
fn due(stats: &Statistics, today: Date, limit: usize) -> Vec<Period> {
    let meta = stats.meta();
    let Some(first) = meta.first_day else { return Vec::new() };
    let mut out: Vec<Period> = meta.dirty.iter().copied().take(limit).collect();
    let last_day = Period::Day(today).previous();
    let last_month = Period::month_of(today).previous();
    for (done, first, last) in
        [(meta.days_done, Period::Day(first), last_day), (meta.months_done, Period::month_of(first), last_month)]
    {
        if first > last {
            continue;
        }
        let (before, after) = match done {
            None => (None, Some(first)),
            Some((a, b)) => {
                let (a, b) = (same_kind(first, a), same_kind(first, b));
                ((a > first).then(|| a.previous()), Some(b.next()))
            }
        };
        let mut p = before;
        while let Some(x) = p.filter(|x| *x >= first && out.len() < limit) {
            out.push(x);
            p = Some(x.previous());
        }
        let mut p = after;
        while let Some(x) = p.filter(|x| *x <= last && out.len() < limit) {
            out.push(x);
            p = Some(x.next());
        }
    }
    out.dedup();
    out
}

/// The period of `like`'s kind starting at `from`.
fn same_kind(like: Period, from: Date) -> Period {
    match like {
        Period::Day(_) => Period::Day(from),
        Period::Month(_) => Period::month_of(from),
    }
}

/// Records `p` as written: out of the stale set, inside its kind's done range (which grows by
/// one at either end, the order [`due`] hands periods out in).
pub(super) fn mark_done(stats: &mut Statistics, p: Period) {
    let meta = stats.meta_mut();
    if meta.dirty.remove(&p) {
        return;
    }
    let range = match p {
        Period::Day(_) => &mut meta.days_done,
        Period::Month(_) => &mut meta.months_done,
    };
    let d = p.from();
    *range = Some(match *range {
        None => (d, d),
        Some((a, b)) => (a.min(d), b.max(d)),
    });
}

/// The reports of the periods that are due (ended and not written, or stale), in the order
/// they must be written, as many as [`BUILD_BUDGET`] allows; empty while a round is in flight.
/// `live` is asked for only when something is due.
pub fn next_round(
    stats: &Statistics,
    live: impl FnOnce() -> Live,
    registry: &Registry,
    now: Timestamp,
) -> Vec<(Period, Report)> {
    if stats.in_flight() {
        return Vec::new();
    }
    let periods = due(stats, stats.today(now), PER_ROUND);
    if periods.is_empty() {
        return Vec::new();
    }
    let live = live();
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    for p in periods {
        if !out.is_empty() && started.elapsed() >= BUILD_BUDGET {
            break;
        }
        out.push((p, stats.report(&live, registry, p, now)));
    }
    out
}

/// What the writer did with one round: the periods written, in order, and the first failure
/// (the rest of the round is then left for a later round).
#[derive(Debug)]
pub struct RoundDone {
    /// The round, as [`ReportWriter::hand_over`] numbered it.
    pub round: u64,
    /// Periods whose two files are written and synced.
    pub written: Vec<Period>,
    /// The period that could not be written, and why.
    pub failed: Option<(Period, String)>,
}

/// A round as the writer thread receives it: its number and the built reports, in order.
type Round = (u64, Vec<(Period, Report)>);

/// The thread that renders and writes report files, one round at a time, off the engine thread.
pub struct ReportWriter {
    rounds: Option<mpsc::Sender<Round>>,
    done: mpsc::Receiver<RoundDone>,
    next_round: u64,
}

impl ReportWriter {
    /// Starts the writer thread for the report folder `reports`; it writes while `engine_busy`
    /// says the engine is idle (or has waited [`YIELD_AT_MOST`]).
    pub fn start(reports: PathBuf, engine_busy: impl Fn() -> bool + Send + 'static) -> std::io::Result<ReportWriter> {
        let (rounds, rx) = mpsc::channel::<Round>();
        let (done_tx, done) = mpsc::channel();
        std::thread::Builder::new().name("mzd-reports".into()).spawn(move || {
            for (round, reports_of_round) in rx {
                let result = write_round(&reports, round, &reports_of_round, &engine_busy);
                if done_tx.send(result).is_err() {
                    return;
                }
            }
        })?;
        Ok(ReportWriter { rounds: Some(rounds), done, next_round: 1 })
    }

    /// Hands a round over to the thread; returns its number.
    pub fn hand_over(&mut self, round: Vec<(Period, Report)>) -> u64 {
        let n = self.next_round;
        self.next_round += 1;
        if let Some(tx) = &self.rounds {
            // A writer that is gone never reports back: the periods stay due, and the next
            // start-up writes them.
            let _ = tx.send((n, round));
        }
        n
    }

    /// The rounds the thread finished since the last call, and whether the thread is still
    /// there (one that died finishes nothing more; its round must be handed to another).
    pub fn finished(&self) -> (Vec<RoundDone>, bool) {
        let mut done = Vec::new();
        loop {
            match self.done.try_recv() {
                Ok(d) => done.push(d),
                Err(mpsc::TryRecvError::Empty) => return (done, true),
                Err(mpsc::TryRecvError::Disconnected) => return (done, false),
            }
        }
    }
}

/// Writes one round in order, stopping at the first failure.
fn write_round(reports: &Path, round: u64, periods: &[(Period, Report)], engine_busy: &dyn Fn() -> bool) -> RoundDone {
    let mut written = Vec::new();
    for (p, report) in periods {
        let asked = std::time::Instant::now();
        while engine_busy() && asked.elapsed() < YIELD_AT_MOST {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if let Err(e) = write_report(reports, *p, report) {
            return RoundDone { round, written, failed: Some((*p, e.to_string())) };
        }
        written.push(*p);
    }
    RoundDone { round, written, failed: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;
    use std::collections::BTreeSet;

    fn day(s: &str) -> Period {
        Period::Day(s.parse().unwrap())
    }

    /// Figures with one counted day (2026-01-05), committed, and the reports due on 2026-01-08.
    fn setup() -> (Statistics, Registry, Timestamp) {
        let mut stats = Statistics::new(TimeZone::UTC);
        stats.day_mut("2026-01-05".parse().unwrap(), true);
        stats.write_into(&mut crate::store::Batch::default());
        (stats, Registry::demo(), "2026-01-08T00:00:00Z".parse().unwrap())
    }

    /// Hands the next round over as the engine does; returns its periods.
    fn hand_over(stats: &mut Statistics, registry: &Registry, now: Timestamp, round: u64) -> Vec<Period> {
        let built = next_round(stats, Live::default, registry, now);
        let periods: Vec<Period> = built.iter().map(|(p, _)| *p).collect();
        stats.handed_over(round, periods.iter().copied().collect());
        periods
    }

    #[test]
    fn a_period_that_changed_while_its_round_was_written_stays_stale() {
        let (mut stats, registry, now) = setup();
        let periods = hand_over(&mut stats, &registry, now, 1);
        assert_eq!(periods, [day("2026-01-05"), day("2026-01-06"), day("2026-01-07")]);
        assert!(next_round(&stats, Live::default, &registry, now).is_empty(), "one round in flight at a time");
        // A late admission on the 6th: its census moves the 6th and the 7th.
        stats.day_mut("2026-01-06".parse().unwrap(), true);
        stats.write_into(&mut crate::store::Batch::default());
        stats.written(&RoundDone { round: 1, written: periods, failed: None });
        let meta = stats.meta();
        assert_eq!(meta.days_done, Some(("2026-01-05".parse().unwrap(), "2026-01-07".parse().unwrap())));
        assert_eq!(meta.dirty, BTreeSet::from([day("2026-01-06"), day("2026-01-07")]));
        assert!(!stats.in_flight());
        let again: Vec<Period> =
            next_round(&stats, Live::default, &registry, now).into_iter().map(|(p, _)| p).collect();
        assert_eq!(again, [day("2026-01-06"), day("2026-01-07")]);
    }

    #[test]
    fn only_what_the_writer_reported_is_recorded() {
        let (mut stats, registry, now) = setup();
        let periods = hand_over(&mut stats, &registry, now, 7);
        // A report of a round not in flight (from before a reload) changes nothing.
        stats.written(&RoundDone { round: 6, written: periods.clone(), failed: None });
        assert_eq!(stats.meta().days_done, None);
        assert!(stats.in_flight());
        // The writer stopped at the second period: the first is done, the rest due again.
        let failed = Some((periods[1], "disk full".to_string()));
        stats.written(&RoundDone { round: 7, written: periods[..1].to_vec(), failed });
        let d = "2026-01-05".parse().unwrap();
        assert_eq!(stats.meta().days_done, Some((d, d)));
        let again: Vec<Period> =
            next_round(&stats, Live::default, &registry, now).into_iter().map(|(p, _)| p).collect();
        assert_eq!(again, [day("2026-01-06"), day("2026-01-07")]);
    }

    #[test]
    fn the_writer_writes_both_files_of_each_period_with_mode_0640() {
        use std::os::unix::fs::PermissionsExt;
        let (stats, registry, now) = setup();
        let dir = tempfile::tempdir().unwrap();
        let mut writer = ReportWriter::start(dir.path().to_owned(), || false).unwrap();
        let round = writer.hand_over(next_round(&stats, Live::default, &registry, now));
        let started = std::time::Instant::now();
        let done = loop {
            if let Some(d) = writer.finished().0.pop() {
                break d;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "the writer never reported");
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert_eq!((done.round, done.written.len(), done.failed), (round, 3, None));
        for ext in ["csv", "json"] {
            let path = report_stem(dir.path(), day("2026-01-06")).with_extension(ext);
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        }
    }
}
