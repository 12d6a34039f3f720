//! The statistics report (统计报表) of a period, with SPEC §8's stable JSON keys, built from
//! the day figures of the period and the occupancy census.
//!
//! Invariants: every station, site, office and street of the registry is listed, in registry
//! order, with zeros where nothing happened; ids the registry no longer knows are listed after
//! them. Counts are never negative. Keys may be added, the stable ones never change.

use super::figures::{DayFigures, UNKNOWN_ORIGIN};
use super::period::Period;
use crate::records::{DischargeReason, MarriageKind, Referral};
use crate::registry::Registry;
use jiff::civil::Date;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Named counts in a fixed order, serialized as a JSON object in that order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(pub Vec<(String, u64)>);

impl Counts {
    /// The count under `key`; 0 when absent.
    pub fn get(&self, key: &str) -> u64 {
        self.0.iter().find(|(k, _)| k == key).map_or(0, |(_, v)| *v)
    }

    /// The sum of all counts.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, v)| v).sum()
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Counts;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Counts, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, u64>()? {
                    out.push((k, v));
                }
                Ok(Counts(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `{"kind": "day", "from": "2026-11-29", "to": "2026-11-29"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodInfo {
    /// `day` or `month`.
    pub kind: String,
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, `YYYY-MM-DD`.
    pub to: String,
}

impl PeriodInfo {
    /// The report's kind in words (日报 / monthly report…) and its span of days, for headings.
    pub fn words(&self, english: bool) -> (&'static str, String) {
        let kind = match (self.kind.as_str(), english) {
            ("day", false) => "日报",
            ("day", true) => "daily report",
            (_, false) => "月报",
            (_, true) => "monthly report",
        };
        let span = if self.from == self.to { self.from.clone() } else { format!("{} – {}", self.from, self.to) };
        (kind, span)
    }
}

/// One station in a report (`stations[]`, SPEC §8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationRow {
    /// Station id as in the registry, e.g. `TZ-JZZ`.
    pub id: String,
    /// The station's name from the registry.
    #[serde(default)]
    pub name: String,
    /// Beds, from the registry.
    #[serde(default)]
    pub beds: u32,
    /// Admissions in the period.
    pub admissions: u64,
    /// Discharges in the period.
    pub discharges: u64,
    /// Discharges by reason, every reason present (`home`, `family`, …).
    pub discharges_by_reason: Counts,
    /// Incidents in the period.
    pub incidents: u64,
    /// Occupancy at the end of the period's last day (for a period still running: now).
    pub occupied_at_end: u64,
    /// Sum of the midnight census over the period's days that have ended.
    pub bed_days: u64,
}

/// One burial site in a report (`sites[]`, SPEC §8); also the district's sum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    /// Site id as in the registry, e.g. `C-SZ` (`total` for the district's sum).
    pub id: String,
    /// The site's name from the registry.
    #[serde(default)]
    pub name: String,
    /// 本期安葬 in the reports dated in the period.
    pub new_interments: u64,
    /// 节地生态安葬 in the reports dated in the period.
    pub eco_interments: u64,
    /// 免费基本殡葬服务 in the reports dated in the period.
    pub free_basic_services: u64,
    /// 节地生态安葬率: eco among new interments, percent with one decimal; `null` without any.
    #[serde(default)]
    pub eco_share_pct: Option<f64>,
}

/// One marriage office in a report (`offices[]`, SPEC §8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeRow {
    /// Office id as in the registry, e.g. `M-TZ`.
    pub id: String,
    /// The office's name from the registry.
    #[serde(default)]
    pub name: String,
    /// Registrations in the period by kind, every kind present.
    pub by_kind: Counts,
    /// Registrations in the period, all kinds.
    #[serde(default)]
    pub registrations: u64,
    /// Registrations where a party's hukou code differs from the district's.
    pub cross_district: u64,
    /// Registrations with counselling true.
    pub counselling: u64,
}

/// One street's cases in a report (`cases.by_street[]`, SPEC §8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreetRow {
    /// Street id as in the registry, e.g. `ST-01`.
    pub id: String,
    /// The street's name from the registry.
    #[serde(default)]
    pub name: String,
    /// Cases opened in the period.
    pub opened: u64,
    /// Cases closed in the period.
    #[serde(default)]
    pub closed: u64,
    /// Cases referred away in the period.
    #[serde(default)]
    pub referred: u64,
    /// Money paid from the street's fund in the period, in fen.
    pub paid_fen: i64,
}

/// The `cases` block of a report (SPEC §8): cases that reached a state in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFigures {
    /// Cases opened in the period.
    pub opened: u64,
    /// Cases closed in the period.
    pub closed: u64,
    /// Cases referred to another street in the period.
    pub referred: u64,
    /// Money actually paid in the period, in fen (approved requests count when approved).
    pub paid_fen: i64,
    /// The same per street, every street of the registry.
    pub by_street: Vec<StreetRow>,
}

/// The `tasks` block of a report (SPEC §8); void tasks count in none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFigures {
    /// Tasks whose due time falls in the period.
    pub due: u64,
    /// Of those, completed by their due time.
    pub done_on_time: u64,
    /// Of those, still open after it.
    pub overdue: u64,
}

/// One day of a month's trend: arrivals and the district's occupancy at the day's end (for the
/// day still running: now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyPoint {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Admissions that day, all stations.
    pub admissions: u64,
    /// People present at the day's end, all stations.
    pub occupied_at_end: u64,
}

/// A statistics report (SPEC §8). `generated_at` says when it was made (a file rewritten after a
/// late drop shows the later time); `complete` is false while the period is still running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The period's kind and first and last days.
    pub period: PeriodInfo,
    /// When the report was made (RFC 3339 in the registry's zone).
    #[serde(default)]
    pub generated_at: String,
    /// True once the period has ended.
    #[serde(default)]
    pub complete: bool,
    /// The district's name from the registry, e.g. `通州区`.
    #[serde(default)]
    pub district: Option<String>,
    /// Every station of the registry, zeros where nothing happened.
    pub stations: Vec<StationRow>,
    /// Admissions by how the person came (`police`, `patrol`, …).
    pub admissions_by_referral: Counts,
    /// Admissions by the ID number's 2-digit province code, `unknown` without one.
    pub admissions_by_origin: Counts,
    /// Every burial site of the registry.
    pub sites: Vec<SiteRow>,
    /// The whole district's burials: the sites' sums and the eco-burial share.
    #[serde(default)]
    pub burials: SiteRow,
    /// Every marriage office of the registry.
    pub offices: Vec<OfficeRow>,
    /// Cases and money paid.
    pub cases: CaseFigures,
    /// Station tasks due in the period.
    pub tasks: TaskFigures,
    /// A month's days up to today: the trend the console charts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub daily: Vec<DailyPoint>,
}

/// A station's midnight census over a period: occupancy at the end and bed-days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    /// People present at the end of the period's last day (or now).
    pub occupied_at_end: u64,
    /// Sum of the occupancy at each ended day's midnight.
    pub bed_days: u64,
}

/// The census of each station over `period`, from the occupancy `now` (by station), the local
/// date `today`, `day_net` (a day's change in occupancy by station) and `later_net`: the change
/// over every day after `min(period.to, today)` (events dated after that, future ones included).
///
/// Occupancy at the end of the last counted day is `now − later_net`, and each day before is
/// the day after minus that day's change. `bed_days` sums the ends of the days that are over.
pub fn census(
    period: Period,
    today: Date,
    now: &BTreeMap<String, i64>,
    later_net: &BTreeMap<String, i64>,
    day_net: &dyn Fn(Date) -> BTreeMap<String, i64>,
) -> BTreeMap<String, Census> {
    let last = period.to().min(today);
    let mut end: BTreeMap<String, i64> = now.clone();
    for (id, n) in later_net {
        *end.entry(id.clone()).or_default() -= n;
    }
    let mut out: BTreeMap<String, Census> =
        end.iter().map(|(id, v)| (id.clone(), Census { occupied_at_end: (*v).max(0) as u64, bed_days: 0 })).collect();
    if last < period.from() {
        return out;
    }
    let mut day = last;
    loop {
        if day < today {
            for (id, v) in &end {
                out.entry(id.clone()).or_default().bed_days += (*v).max(0) as u64;
            }
        }
        // The end of the day before: minus this day's change.
        for (id, n) in day_net(day) {
            *end.entry(id).or_default() -= n;
        }
        match day.yesterday() {
            Ok(d) if d >= period.from() => day = d,
            _ => break,
        }
    }
    out
}

/// A month's trend from its days (`day(d)`: the figures of day `d`, if any) and the district's
/// occupancy at the end of its last counted day (`min(to, today)`), walking back over the
/// days' changes.
pub fn daily(
    period: Period,
    today: Date,
    occupied_at_last: i64,
    day: &dyn Fn(Date) -> Option<DayFigures>,
) -> Vec<DailyPoint> {
    let Period::Month(_) = period else { return Vec::new() };
    let last = period.to().min(today);
    let mut out = Vec::new();
    let mut end = occupied_at_last;
    let mut d = last;
    while d >= period.from() {
        let f = day(d).unwrap_or_default();
        let admissions: i64 = f.stations.values().map(|s| s.admissions).sum();
        out.push(DailyPoint { date: d.to_string(), admissions: n(admissions), occupied_at_end: n(end) });
        end -= f.stations.values().map(|s| s.net()).sum::<i64>();
        match d.yesterday() {
            Ok(y) => d = y,
            Err(_) => break,
        }
    }
    out.reverse();
    out
}

/// What a report is built from besides the day figures.
pub struct ReportInput<'a> {
    /// The day or month reported on.
    pub period: Period,
    /// Lists every station, site, office and street, with names.
    pub registry: &'a Registry,
    /// The period's days merged ([`DayFigures::add`]).
    pub merged: &'a DayFigures,
    /// Each station's census over the period, by station id.
    pub census: &'a BTreeMap<String, Census>,
    /// Open tasks of the period past their due time now (the caller knows the clock).
    pub open_overdue: u64,
    /// RFC 3339 in the registry's zone.
    pub generated_at: String,
    /// Whether the period has ended.
    pub complete: bool,
    /// The trend of a month (empty for a day).
    pub daily: Vec<DailyPoint>,
}

fn n(v: i64) -> u64 {
    v.max(0) as u64
}

/// Registry ids first, in order, then other ids found in the figures, sorted.
fn ids<'a, V>(registry_ids: impl Iterator<Item = &'a str>, found: &'a BTreeMap<String, V>) -> Vec<String> {
    let mut out: Vec<String> = registry_ids.map(str::to_owned).collect();
    for id in found.keys() {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

/// Eco interments among new ones, in percent with one decimal.
pub fn eco_share_pct(eco: u64, new: u64) -> Option<f64> {
    (new > 0).then(|| (eco as f64 * 1000.0 / new as f64).round() / 10.0)
}

/// Builds the report of `input.period`.
pub fn build(input: &ReportInput<'_>) -> Report {
    let (reg, m) = (input.registry, input.merged);
    let period = input.period;
    Report {
        period: PeriodInfo {
            kind: period.kind().as_str().to_owned(),
            from: period.from().to_string(),
            to: period.to().to_string(),
        },
        generated_at: input.generated_at.clone(),
        complete: input.complete,
        district: reg.district_name.clone(),
        stations: station_rows(input),
        admissions_by_referral: Counts(
            Referral::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), n(m.referrals.get(r).copied().unwrap_or(0))))
                .collect(),
        ),
        admissions_by_origin: origins(m),
        sites: site_rows(reg, m),
        burials: burial_total(&site_rows(reg, m)),
        offices: office_rows(reg, m),
        cases: case_figures(reg, m),
        tasks: TaskFigures {
            due: n(m.tasks.due),
            done_on_time: n(m.tasks.done_on_time),
            overdue: n(m.tasks.done_late) + input.open_overdue,
        },
        daily: input.daily.clone(),
    }
}

fn station_rows(input: &ReportInput<'_>) -> Vec<StationRow> {
    let (reg, m) = (input.registry, input.merged);
    ids(reg.stations.iter().map(|s| s.id.as_str()), &m.stations)
        .into_iter()
        .map(|id| {
            let f = m.stations.get(&id).cloned().unwrap_or_default();
            let c = input.census.get(&id).copied().unwrap_or_default();
            let st = reg.station(&id);
            StationRow {
                name: st.map_or_else(String::new, |s| s.name.clone()),
                beds: st.map_or(0, |s| s.beds),
                admissions: n(f.admissions),
                discharges: n(f.discharges),
                discharges_by_reason: Counts(
                    DischargeReason::ALL
                        .iter()
                        .map(|r| (r.as_str().to_owned(), n(f.discharges_by_reason.get(r).copied().unwrap_or(0))))
                        .collect(),
                ),
                incidents: n(f.incidents),
                occupied_at_end: c.occupied_at_end,
                bed_days: c.bed_days,
                id,
            }
        })
        .collect()
}

fn origins(m: &DayFigures) -> Counts {
    let mut out: Vec<(String, u64)> =
        m.origins.iter().filter(|(k, v)| *k != UNKNOWN_ORIGIN && **v > 0).map(|(k, v)| (k.clone(), n(*v))).collect();
    out.push((UNKNOWN_ORIGIN.to_owned(), n(m.origins.get(UNKNOWN_ORIGIN).copied().unwrap_or(0))));
    Counts(out)
}

fn site_rows(reg: &Registry, m: &DayFigures) -> Vec<SiteRow> {
    ids(reg.sites.iter().map(|s| s.id.as_str()), &m.sites)
        .into_iter()
        .map(|id| {
            let f = m.sites.get(&id).cloned().unwrap_or_default();
            let (new, eco) = (n(f.new_interments), n(f.eco_interments));
            SiteRow {
                name: reg.site(&id).map_or_else(String::new, |s| s.name.clone()),
                new_interments: new,
                eco_interments: eco,
                free_basic_services: n(f.free_basic_services),
                eco_share_pct: eco_share_pct(eco, new),
                id,
            }
        })
        .collect()
}

fn burial_total(sites: &[SiteRow]) -> SiteRow {
    let new = sites.iter().map(|s| s.new_interments).sum();
    let eco = sites.iter().map(|s| s.eco_interments).sum();
    SiteRow {
        id: "total".into(),
        name: "合计".into(),
        new_interments: new,
        eco_interments: eco,
        free_basic_services: sites.iter().map(|s| s.free_basic_services).sum(),
        eco_share_pct: eco_share_pct(eco, new),
    }
}

fn office_rows(reg: &Registry, m: &DayFigures) -> Vec<OfficeRow> {
    ids(reg.offices.iter().map(|o| o.id.as_str()), &m.offices)
        .into_iter()
        .map(|id| {
            let f = m.offices.get(&id).cloned().unwrap_or_default();
            let by_kind = Counts(
                MarriageKind::ALL
                    .iter()
                    .map(|k| (k.as_str().to_owned(), n(f.by_kind.get(k).copied().unwrap_or(0))))
                    .collect(),
            );
            OfficeRow {
                name: reg.office(&id).map_or_else(String::new, |o| o.name.clone()),
                registrations: by_kind.total(),
                by_kind,
                cross_district: n(f.cross_district),
                counselling: n(f.counselling),
                id,
            }
        })
        .collect()
}

fn case_figures(reg: &Registry, m: &DayFigures) -> CaseFigures {
    let by_street: Vec<StreetRow> = ids(reg.streets.iter().map(|s| s.id.as_str()), &m.streets)
        .into_iter()
        .map(|id| {
            let f = m.streets.get(&id).cloned().unwrap_or_default();
            StreetRow {
                name: reg.street(&id).map_or_else(String::new, |s| s.name.clone()),
                opened: n(f.opened),
                closed: n(f.closed),
                referred: n(f.referred),
                paid_fen: f.paid_fen.max(0),
                id,
            }
        })
        .collect();
    CaseFigures {
        opened: by_street.iter().map(|s| s.opened).sum(),
        closed: by_street.iter().map(|s| s.closed).sum(),
        referred: by_street.iter().map(|s| s.referred).sum(),
        paid_fen: by_street.iter().map(|s| s.paid_fen).sum(),
        by_street,
    }
}
