//! The city's statistics reports (市级统计报表): its copy of every district's day figures, kept
//! from what the districts publish, and `mzd report day|month` against the city — each
//! district's §8 report, built by the same code the district uses, side by side with city
//! totals.
//!
//! Keys: `s<code>\x1f<YYYY-MM-DD>` holds a district's [`DayFigures`] (postcard);
//! `f<code>` holds its [`DistrictFrame`] (JSON): the registry frame its reports are laid out
//! by and its open tasks past due by day. Invariants: these change only in the batch that
//! applies the message carrying them ([`CityStatistics::stage`], called by the book), so they
//! are always as of the district's `last_seq`; a district's report here equals the district's
//! own once the city has caught up (the occupancy "now" is the one of that same commit).

use super::book::CityBook;
use super::CityConfig;
use crate::statistics::{Live, Statistics};
use crate::store::{decode, encode, Store, StoreError};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::registry::Registry;
use mz_shared::statistics::city::{CityReport, DistrictReport, DistrictStats, ReportTotals};
use mz_shared::statistics::report::PeriodInfo;
use mz_shared::statistics::{DayFigures, Period, PeriodKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Prefix of the districts' day figures.
const DAY_PREFIX: &[u8] = b"s";
/// Prefix of the districts' frames.
const FRAME_PREFIX: &[u8] = b"f";
/// Separates a district's code from the day in a key.
const SEP: u8 = 0x1f;

fn day_key(code: &str, day: Date) -> Vec<u8> {
    let mut k = DAY_PREFIX.to_vec();
    k.extend_from_slice(code.as_bytes());
    k.push(SEP);
    k.extend_from_slice(day.to_string().as_bytes());
    k
}

fn frame_key(code: &str) -> Vec<u8> {
    let mut k = FRAME_PREFIX.to_vec();
    k.extend_from_slice(code.as_bytes());
    k
}

/// What a district's reports are laid out by, besides its days.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DistrictFrame {
    /// The district's registry frame (ids, names, beds, zone); `None` before the first.
    pub registry: Option<Registry>,
    /// Open station tasks past due, by local due day, as of the last applied commit.
    #[serde(default)]
    pub overdue: BTreeMap<Date, u64>,
}

/// One district's statistics as the city holds them.
struct DistrictStatistics {
    stats: Statistics,
    frame: DistrictFrame,
}

impl DistrictStatistics {
    fn new() -> DistrictStatistics {
        DistrictStatistics { stats: Statistics::new(TimeZone::UTC), frame: DistrictFrame::default() }
    }

    fn set_frame(&mut self, frame: DistrictFrame) {
        if let Some(r) = &frame.registry {
            self.stats.tz = zone(r);
        }
        self.frame = frame;
    }
}

/// The zone a registry names (its parsed zone does not travel).
fn zone(registry: &Registry) -> TimeZone {
    TimeZone::get(&registry.timezone).unwrap_or(TimeZone::UTC)
}

/// Every district's statistics, in memory and in the city's store.
#[derive(Default)]
pub struct CityStatistics {
    districts: BTreeMap<String, DistrictStatistics>,
}

impl CityStatistics {
    /// Reads every district's days and frame.
    pub fn load(store: &Store) -> Result<CityStatistics, StoreError> {
        let mut out = CityStatistics::default();
        let reader = store.reader();
        for item in reader.scan_raw(FRAME_PREFIX) {
            let (k, v) = item?;
            let code = String::from_utf8_lossy(&k[1..]).into_owned();
            let frame: DistrictFrame = serde_json::from_slice(&v)
                .map_err(|e| StoreError::Unavailable(format!("statistics frame of district {code} unreadable: {e}")))?;
            out.district(&code).set_frame(frame);
        }
        for item in reader.scan_raw(DAY_PREFIX) {
            let (k, v) = item?;
            let rest = &k[1..];
            let Some(sep) = rest.iter().position(|b| *b == SEP) else { continue };
            let code = String::from_utf8_lossy(&rest[..sep]).into_owned();
            let Ok(day) = String::from_utf8_lossy(&rest[sep + 1..]).parse::<Date>() else { continue };
            let figures: DayFigures = decode(&k, &v)?;
            out.district(&code).stats.replace_day(day, figures);
        }
        Ok(out)
    }

    fn district(&mut self, code: &str) -> &mut DistrictStatistics {
        self.districts.entry(code.to_owned()).or_insert_with(DistrictStatistics::new)
    }

    /// Applies what a district's message says about its statistics, in memory and into the
    /// batch that applies the message.
    pub fn stage(&mut self, code: &str, s: &DistrictStats, batch: &mut crate::store::Batch) {
        let d = self.district(code);
        for (day, figures) in &s.days {
            d.stats.replace_day(*day, figures.clone());
            match figures.is_empty() {
                true => batch.remove(day_key(code, *day)),
                false => batch.insert(day_key(code, *day), encode(figures)),
            }
        }
        if s.frame.is_none() && s.overdue_open.is_none() {
            return;
        }
        let mut frame = d.frame.clone();
        if let Some(registry) = &s.frame {
            frame.registry = Some(registry.clone());
        }
        if let Some(overdue) = &s.overdue_open {
            frame.overdue = overdue.clone();
        }
        batch.insert(frame_key(code), serde_json::to_vec(&frame).expect("frames serialize"));
        d.set_frame(frame);
    }

    /// One district's report of `period` as of `now`, when it has published its frame.
    fn district_report(
        &self,
        code: &str,
        book: &CityBook,
        period: Period,
        now: Timestamp,
    ) -> Option<DistrictReportParts> {
        let d = self.districts.get(code)?;
        let registry = d.frame.registry.as_ref()?;
        let record = book.districts.get(code)?;
        let live = Live {
            occupancy: record.figures.stations.iter().map(|s| (s.id.clone(), i64::from(s.occupied))).collect(),
            open_task_due_ms: Vec::new(),
            overdue_by_day: Some(d.frame.overdue.clone()),
        };
        Some(DistrictReportParts { report: d.stats.report(&live, registry, period, now), last_seq: record.last_seq })
    }

    /// The zone the city reckons its default periods in: the first district's that has
    /// published a frame, else China's.
    fn city_zone(&self, config: &CityConfig) -> TimeZone {
        config
            .districts
            .iter()
            .find_map(|c| self.districts.get(&c.code).and_then(|d| d.frame.registry.as_ref()))
            .map_or_else(|| TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC), zone)
    }
}

/// A district's report and the `seq` it is as of.
struct DistrictReportParts {
    report: mz_shared::statistics::Report,
    last_seq: u64,
}

/// `mzd report day|month` against the city: every configured district's report of the period
/// (`None`: yesterday or last month) and the city's totals, as of `now`.
pub fn city_report(
    config: &CityConfig,
    book: &CityBook,
    kind: PeriodKind,
    period: Option<Period>,
    now: Timestamp,
) -> CityReport {
    let zoned = now.to_zoned(book.statistics.city_zone(config));
    let today = zoned.date();
    let period = period.unwrap_or(match kind {
        PeriodKind::Day => Period::yesterday(today),
        PeriodKind::Month => Period::last_month(today),
    });
    let districts = config
        .districts
        .iter()
        .map(|c| {
            let parts = book.statistics.district_report(&c.code, book, period, now);
            DistrictReport {
                code: c.code.clone(),
                name: c.name.clone(),
                last_seq: parts.as_ref().map_or_else(|| book.last_seq(&c.code), |p| p.last_seq),
                totals: parts.as_ref().map(|p| ReportTotals::of(&p.report)).unwrap_or_default(),
                report: parts.map(|p| p.report),
            }
        })
        .collect();
    let info = PeriodInfo {
        kind: period.kind().as_str().to_owned(),
        from: period.from().to_string(),
        to: period.to().to_string(),
    };
    let generated_at = zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    CityReport::of(&config.name, info, generated_at, period.has_ended(today), districts)
}
