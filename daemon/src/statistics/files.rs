//! The report files: `<data>/reports/day/YYYY-MM-DD.{csv,json}` and
//! `<data>/reports/month/YYYY-MM.{csv,json}`, written after each period ends, at start-up for
//! periods missed back to the first counted event, and again when a later drop changed them.
//!
//! Invariants: files are written atomically with mode 0640 (official figures); a period is
//! recorded as done, or removed from the stale set, only after both its files are written, and
//! that record is committed with the engine's next commit. At most [`PER_ROUND`] periods are
//! written per round, so a long catch-up never holds the engine up for long.

use super::{Live, Statistics};
use jiff::civil::Date;
use jiff::Timestamp;
use mz_shared::registry::Registry;
use mz_shared::statistics::{render, Period};
use std::path::{Path, PathBuf};

/// Periods written per round of [`write_due`] at most.
const PER_ROUND: usize = 48;

/// Time a round of [`write_due`] may take (it runs on the engine thread, between files): past
/// it, the round stops after the period in hand and the next tick goes on. A late file that
/// makes months of days stale then costs each later file a few milliseconds, not a rewrite of
/// every stale day (measured: 10-row files went from p50 17 ms to 116 ms without it).
const ROUND_BUDGET: std::time::Duration = std::time::Duration::from_millis(10);

/// Where a period's report files go, without the extension.
pub fn report_stem(reports: &Path, period: Period) -> PathBuf {
    reports.join(period.kind().as_str()).join(period.key())
}

/// Writes the CSV and JSON files of `period`.
pub fn write_period(
    reports: &Path,
    stats: &Statistics,
    live: &Live,
    registry: &Registry,
    period: Period,
    now: Timestamp,
) -> std::io::Result<()> {
    let report = stats.report(live, registry, period, now);
    let stem = report_stem(reports, period);
    let json = serde_json::to_vec_pretty(&report).map_err(std::io::Error::other)?;
    crate::files::write_atomic(&stem.with_extension("csv"), render::csv(&report, false).as_bytes())?;
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
fn mark_done(stats: &mut Statistics, p: Period) {
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

/// Writes the files of the periods that are due (ended and not written, or stale), as many as
/// one round allows; `live` is asked for only when something is due. Returns how many were
/// written; the caller commits the figures.
pub fn write_due(
    reports: &Path,
    stats: &mut Statistics,
    live: impl FnOnce() -> Live,
    registry: &Registry,
    now: Timestamp,
) -> usize {
    let today = stats.today(now);
    let periods = due(stats, today, PER_ROUND);
    if periods.is_empty() {
        return 0;
    }
    let live = live();
    let mut written = 0;
    let started = std::time::Instant::now();
    for p in periods {
        if written > 0 && started.elapsed() >= ROUND_BUDGET {
            break;
        }
        if let Err(e) = write_period(reports, stats, &live, registry, p, now) {
            tracing::warn!(period = %p, error = %e, "report file could not be written; tried again later");
            break;
        }
        mark_done(stats, p);
        written += 1;
    }
    if written > 0 {
        tracing::info!(periods = written, "report files written");
    }
    written
}
