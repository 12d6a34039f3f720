//! What the console shows: a snapshot of the maintained figures, pushed by the daemon after each
//! commit (and every minute, so that durations move). Built from figures, never from records.

use crate::alert::Alert;
use crate::protocol::StatusReport;
use crate::records::{EventKind, Flag, Gender, MarriageKind};
use crate::registry::{SiteKind, StationKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the duty-floor views need.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Dashboard {
    /// Unix milliseconds when the daemon built this snapshot.
    pub generated_at_ms: i64,
    /// IANA zone the registry uses; the console renders times in it.
    pub timezone: String,
    /// Today's date in that zone, `YYYY-MM-DD`.
    pub today: String,
    /// What `mzd status --json` would print now.
    pub status: StatusReport,
    /// Every station of the registry, in registry order.
    pub stations: Vec<StationBoard>,
    /// Every burial site of the registry.
    pub sites: Vec<SiteBoard>,
    /// Every marriage office of the registry.
    pub offices: Vec<OfficeBoard>,
    /// Registrations of all offices per day, oldest first, the last entry today (30 entries).
    pub registrations_daily: Vec<BTreeMap<MarriageKind, u32>>,
    /// Pending divorce applications: in their 30-day cooling-off window (1) or in the 30 days
    /// after it to register the divorce (2), the soonest to end first.
    pub cooling_off: Vec<CoolingOffEntry>,
    /// Active alerts first (newest first), then acknowledged ones; at most 300 (the status counts all).
    pub alerts: Vec<Alert>,
    /// Recently handled files, newest first.
    pub ingest: Vec<IngestEntry>,
    /// Rows rejected today (local date), all feeds.
    pub rejected_today: u64,
    /// Stays longer than this many days are long stays (from the registry).
    #[serde(default)]
    pub long_stay_days: u32,
    /// The most urgent open 救急难 cases, in the queue's order (high urgency first, then the
    /// nearest running deadline, then the number), at most [`Dashboard::URGENT_CASES`]: the
    /// overview's watch list. The whole queue is paged with `Request::CasePage`; the status
    /// counts all open and overdue cases.
    #[serde(default)]
    pub urgent_cases: Vec<crate::case::Case>,
    /// The daemon's count of case changes: when it moves, a page of cases held since is stale.
    #[serde(default)]
    pub cases_changes: u64,
    /// Reserve fund of each street.
    #[serde(default)]
    pub funds: Vec<FundRow>,
    /// Case time limits (from the registry), for deadlines and countdowns.
    #[serde(default)]
    pub limits: crate::registry::Limits,
    /// Departments cases can be dispatched to (from the registry).
    #[serde(default)]
    pub departments: Vec<crate::registry::Department>,
    /// Communities (社区/村) of the streets (from the registry), for the case form and detail.
    #[serde(default)]
    pub communities: Vec<crate::registry::Community>,
    /// Admissions per local hour today and yesterday, all stations (maintained by the daemon).
    #[serde(default)]
    pub arrivals_by_hour: ArrivalsByHour,
}

impl Dashboard {
    /// Open cases sent in [`Dashboard::urgent_cases`] at most.
    pub const URGENT_CASES: usize = 30;
}

/// Which cases a page of the case queue is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseQueueView {
    /// Open cases only, in the queue's order.
    #[default]
    Open,
    /// Open cases in the queue's order, then the closed and referred ones, latest ended first.
    All,
}

/// One page of the case queue (the answer to `Request::CasePage`): the cases at positions
/// `offset..offset + cases.len()` of the queue, in its order (open cases by high urgency first,
/// then the nearest running deadline, then the number; for [`CaseQueueView::All`], the ended
/// ones after them, latest ended first). Names are masked for viewers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CasePage {
    /// The view the page was taken from.
    pub view: CaseQueueView,
    /// The queue position of the first case of the page (0-based).
    pub offset: u64,
    /// Cases in the whole view.
    pub total: u64,
    /// The daemon's count of case changes when the page was read (as `Dashboard::cases_changes`).
    pub changes: u64,
    /// The page's cases, in queue order.
    pub cases: Vec<crate::case::Case>,
    /// Payments on any case to the people of the page's cases, for the duplicate-aid warning a
    /// payment form shows before money moves.
    #[serde(default)]
    pub aid: Vec<crate::case::AidRecord>,
}

impl CasePage {
    /// Cases the daemon sends in one page at most (a larger `limit` is cut to it).
    pub const MAX: u32 = 500;
}

/// Admissions of all stations per local hour (the registry's zone) of today and of yesterday,
/// by their `occurred_at`: the daemon keeps them as admissions are applied, so people who came
/// and have already left count too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArrivalsByHour {
    /// Today (the dashboard's `today`), hours 0–23.
    pub today: HourCounts,
    /// The day before.
    pub yesterday: HourCounts,
}

/// Counts per local hour of one day: entry `h` counts what happened from `h:00` to `h:59`.
/// Serialised as an array of 24 numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HourCounts(pub [u32; 24]);

impl HourCounts {
    /// Adds one to `hour` (0–23; a larger hour counts in the last).
    pub fn add(&mut self, hour: usize) {
        let slot = &mut self.0[hour.min(23)];
        *slot = slot.saturating_add(1);
    }

    /// The day's total.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|n| u64::from(*n)).sum()
    }

    /// The largest hourly count.
    pub fn max(&self) -> u32 {
        self.0.iter().copied().max().unwrap_or(0)
    }
}

/// The local date and hour (0–23) of a Unix-ms instant in `tz`.
pub fn local_date_hour(at_ms: i64, tz: &jiff::tz::TimeZone) -> (jiff::civil::Date, usize) {
    let local = jiff::Timestamp::from_millisecond(at_ms).unwrap_or_default().to_zoned(tz.clone());
    (local.date(), usize::from(local.hour().unsigned_abs()))
}

/// A street's reserve fund (临时救助备用金).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FundRow {
    /// The street's registry id.
    pub street: String,
    /// The street's name.
    pub name: String,
    /// The fund's allotment: the registry's `reserve_fund`.
    pub initial: crate::registry::Fen,
    /// What is left: `initial` minus what was paid, never below zero.
    pub balance: crate::registry::Fen,
    /// Most that may be paid on one case without a supervisor's approval.
    pub case_cap: crate::registry::Fen,
    /// Paid from the fund so far.
    #[serde(default)]
    pub paid: crate::registry::Fen,
    /// Requests above the case cap awaiting a supervisor's approval (一事一议).
    #[serde(default)]
    pub pending: crate::registry::Fen,
    /// The street's cases not closed or referred.
    #[serde(default)]
    pub cases_open: u32,
}

/// 床位板: one rescue station or temporary point.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StationBoard {
    /// Station id as in the registry, e.g. `TZ-JZZ`.
    pub id: String,
    /// The station's name.
    pub name: String,
    /// Rescue station or temporary point.
    pub kind: Option<StationKind>,
    /// The street it lies in.
    pub street: String,
    /// Beds, from the registry.
    pub beds: u32,
    /// People present now.
    pub occupied: u32,
    /// Today's events (local date).
    pub today: DayFigures,
    /// Long stays among the residents.
    pub long_stays: u32,
    /// Residents with at least one incident in this stay.
    pub open_incidents: u32,
    /// Current residents, longest stay first (at most 500).
    pub residents: Vec<ResidentRow>,
    /// Latest events, newest first (at most 20).
    pub recent: Vec<EventRow>,
    /// Open station tasks, soonest due first (at most [`StationBoard::TASKS_SHOWN`]).
    #[serde(default)]
    pub tasks: Vec<TaskRow>,
}

impl StationBoard {
    /// Open tasks sent per station at most.
    pub const TASKS_SHOWN: usize = 100;
}

/// An open station task (在站事项), as the station view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    /// Accepted as is by `Request::TaskDone`.
    pub id: String,
    /// Family notice, DNA request or stay review.
    pub kind: crate::task::TaskKind,
    /// The station's number for the person (受助人编号).
    pub person_ref: String,
    /// When the task was created (Unix milliseconds).
    pub created_at_ms: i64,
    /// When it is due (Unix milliseconds); overdue after that.
    pub due_at_ms: i64,
}

/// A station's events of one local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DayFigures {
    /// Admissions.
    pub admits: u32,
    /// Discharges, for any reason.
    pub discharges: u32,
    /// Incidents reported.
    pub incidents: u32,
}

/// 在站人员 as shown to duty officers (names masked for viewers by the daemon).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResidentRow {
    /// The station's number for the person (受助人编号).
    pub person_ref: String,
    /// The person's name, if given (masked for viewers).
    pub name: Option<String>,
    /// Sex as recorded, if given.
    pub gender: Option<Gender>,
    /// Age in years as recorded at admission (or from the ID number), if known.
    pub age: Option<u8>,
    /// Vulnerability flags from the admission (minor, elderly, …).
    pub flags: Vec<Flag>,
    /// The bed assigned, if any.
    pub bed: Option<String>,
    /// When this stay began (Unix milliseconds).
    pub admitted_at_ms: i64,
    /// Whole days in the station so far.
    pub days: u32,
    /// The stay is longer than the registry's `long_stay_days`.
    pub long_stay: bool,
    /// No valid ID number, or an empty name, or 无名氏.
    pub unidentified: bool,
    /// Incidents reported about the person in this stay.
    pub incidents: u32,
}

/// One station event, for the recent-events list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// When the event occurred (`occurred_at`, Unix milliseconds).
    pub at_ms: i64,
    /// Admission, discharge or incident.
    pub event: EventKind,
    /// The station's number for the person (受助人编号).
    pub person_ref: String,
    /// The feed record it came from.
    pub record_id: String,
    /// Incident type or discharge reason, canonical English word.
    pub detail: Option<String>,
}

/// One burial site.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SiteBoard {
    /// Site id as in the registry, e.g. `C-SZ`.
    pub id: String,
    /// The site's name.
    pub name: String,
    /// The town (乡镇) it lies in.
    pub town: String,
    /// Public, commercial, village point or columbarium.
    pub kind: Option<SiteKind>,
    /// Graves in all, as last reported.
    pub capacity_total: u32,
    /// Graves taken, as last reported.
    pub occupied: u32,
    /// Date of the current report, `YYYY-MM-DD`.
    pub reported_on: Option<String>,
    /// Eco burials / new interments over the kept history.
    pub eco_share: Option<f64>,
    /// New interments and eco burials (节地生态安葬) over the kept history, the sums behind
    /// `eco_share` (for the district-wide share).
    #[serde(default)]
    pub new_interments: u64,
    /// The eco burials among `new_interments`.
    #[serde(default)]
    pub eco_interments: u64,
    /// Months until full at the recent rate of new interments; `None` when not filling.
    pub months_to_full: Option<f64>,
    /// A village burial point whose capacity grew.
    pub zero_growth_violation: bool,
    /// (date, capacity, occupied), oldest first.
    pub history: Vec<(String, u32, u32)>,
}

impl SiteBoard {
    /// Share of the places used, `None` without a capacity.
    pub fn fill(&self) -> Option<f64> {
        (self.capacity_total > 0).then(|| f64::from(self.occupied) / f64::from(self.capacity_total))
    }
}

/// Sites at least this full come first in [`soonest_full`] (the nearly-full alert's level).
pub const NEARLY_FULL: f64 = 0.9;

/// The site closest to being full. A site 90 % full or more whose growth rate is unknown (a
/// single report gives none) comes first, the fullest of them: it may fill any day. Otherwise
/// the site with the fewest months left at its recent rate.
pub fn soonest_full(sites: &[SiteBoard]) -> Option<&SiteBoard> {
    let unknown_rate = sites
        .iter()
        .filter(|s| s.months_to_full.is_none() && s.fill().is_some_and(|f| f >= NEARLY_FULL))
        .max_by(|a, b| a.fill().partial_cmp(&b.fill()).unwrap_or(std::cmp::Ordering::Equal));
    unknown_rate.or_else(|| {
        sites
            .iter()
            .filter(|s| s.months_to_full.is_some())
            .min_by(|a, b| a.months_to_full.partial_cmp(&b.months_to_full).unwrap_or(std::cmp::Ordering::Equal))
    })
}

/// One marriage registration office.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OfficeBoard {
    /// Office id as in the registry, e.g. `M-TZ`.
    pub id: String,
    /// The office's name.
    pub name: String,
    /// Registrations today (local date), by kind.
    pub today: BTreeMap<MarriageKind, u32>,
    /// Registrations over the last 7 days, today included, by kind.
    pub last_7_days: BTreeMap<MarriageKind, u32>,
    /// Registrations over the last 30 days, today included, by kind.
    pub last_30_days: BTreeMap<MarriageKind, u32>,
    /// Registrations per day over 30 days, oldest first.
    pub daily_30: Vec<u32>,
    /// Share of the last 30 days' registrations with a party from outside the district.
    pub cross_district_share: Option<f64>,
    /// Share of the last 30 days' marriages (with the field filled) that had counselling.
    pub counselling_rate: Option<f64>,
    /// Divorce applications deemed withdrawn (视为撤回申请) in the last 30 days, and ever.
    #[serde(default)]
    pub lapsed_30_days: u32,
    /// Divorce applications deemed withdrawn, ever.
    #[serde(default)]
    pub lapsed_total: u64,
}

/// A pending divorce application (民法典 1077) and the window it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoolingOffEntry {
    /// The office where the application was made.
    pub office_id: String,
    /// The application's record id.
    pub record_id: String,
    /// When it was registered (Unix milliseconds); the windows count from here.
    pub applied_at_ms: i64,
    /// Whole days left until the current window ends (0 on its last day).
    pub days_left: i64,
    /// Which of the two windows it is in.
    #[serde(default)]
    pub window: DivorceWindow,
}

/// The two windows after a divorce application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivorceWindow {
    /// Window 1, 冷静期: the first 30 days; either party may withdraw.
    #[default]
    CoolingOff,
    /// Window 2, 申领期: the next 30 days; both must come to register the divorce, or the
    /// application is deemed withdrawn.
    Registration,
}

impl DivorceWindow {
    /// The window an application made `elapsed_ms` ago is in; `None` once both are over.
    pub fn at(elapsed_ms: i64) -> Option<(DivorceWindow, i64)> {
        const DAY: i64 = 86_400_000;
        let elapsed = elapsed_ms.max(0);
        if elapsed < 30 * DAY {
            Some((DivorceWindow::CoolingOff, (30 * DAY - elapsed) / DAY))
        } else if elapsed < 60 * DAY {
            Some((DivorceWindow::Registration, (60 * DAY - elapsed) / DAY))
        } else {
            None
        }
    }
}

/// A handled file, for the ingest view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestEntry {
    /// The file's name in the inbox.
    pub name: String,
    /// The feed of its inbox folder, when known.
    pub feed: Option<String>,
    /// When it was handled (Unix milliseconds).
    pub at_ms: i64,
    /// `ingested`, `quarantined` or `duplicate`.
    pub outcome: String,
    /// Rows stored as new records.
    pub stored: u64,
    /// Rows that corrected a stored record.
    pub corrected: u64,
    /// Rows identical to a stored record, skipped.
    pub duplicate: u64,
    /// Rows rejected, with their reasons in the rejects file.
    pub rejected: u64,
    /// Where the file went.
    pub dest: String,
    /// Quarantine reason, or the rejects file's path.
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(id: &str, cap: u32, occ: u32, months: Option<f64>) -> SiteBoard {
        SiteBoard { id: id.into(), capacity_total: cap, occupied: occ, months_to_full: months, ..Default::default() }
    }

    #[test]
    fn divorce_windows_and_days_left() {
        const D: i64 = 86_400_000;
        assert_eq!(DivorceWindow::at(0), Some((DivorceWindow::CoolingOff, 30)));
        assert_eq!(DivorceWindow::at(10 * D - 3_600_000), Some((DivorceWindow::CoolingOff, 20)));
        assert_eq!(DivorceWindow::at(30 * D - 1), Some((DivorceWindow::CoolingOff, 0)));
        assert_eq!(DivorceWindow::at(30 * D), Some((DivorceWindow::Registration, 30)));
        assert_eq!(DivorceWindow::at(45 * D - 3_600_000), Some((DivorceWindow::Registration, 15)));
        assert_eq!(DivorceWindow::at(60 * D - 1), Some((DivorceWindow::Registration, 0)));
        assert_eq!(DivorceWindow::at(60 * D), None);
        assert_eq!(DivorceWindow::at(-D), Some((DivorceWindow::CoolingOff, 30)));
    }

    #[test]
    fn a_nearly_full_site_with_one_report_comes_before_a_slow_filler() {
        let sites = [site("slow", 1000, 500, Some(12.0)), site("one-report", 100, 95, None)];
        assert_eq!(soonest_full(&sites).map(|s| s.id.as_str()), Some("one-report"));
        let sites = [site("slow", 1000, 500, Some(12.0)), site("fast", 100, 80, Some(2.5)), site("empty", 0, 0, None)];
        assert_eq!(soonest_full(&sites).map(|s| s.id.as_str()), Some("fast"));
        let sites = [site("a", 100, 91, Some(1.0)), site("b", 100, 97, None), site("c", 100, 99, None)];
        assert_eq!(soonest_full(&sites).map(|s| s.id.as_str()), Some("c"));
        // With its rate known, a nearly full site ranks by its months like any other.
        let sites = [site("slow", 100, 92, Some(20.0)), site("fast", 100, 60, Some(3.0))];
        assert_eq!(soonest_full(&sites).map(|s| s.id.as_str()), Some("fast"));
        assert!(soonest_full(&[site("new", 100, 10, None)]).is_none());
    }

    #[test]
    fn an_arrival_counts_in_its_local_hour_and_the_figure_is_24_numbers() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        // 2026-11-30T23:30Z is 07:30 on 12-01 in Shanghai; 15:59:59Z is 23:59:59 on 11-30.
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let date = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        assert_eq!(local_date_hour(at("2026-11-30T23:30:00Z"), &tz), (date("2026-12-01"), 7));
        assert_eq!(local_date_hour(at("2026-11-30T15:59:59Z"), &tz), (date("2026-11-30"), 23));
        assert_eq!(local_date_hour(at("2026-11-30T16:00:00Z"), &tz), (date("2026-12-01"), 0));
        let mut h = HourCounts::default();
        for hour in [7, 7, 0, 23, 99] {
            h.add(hour);
        }
        assert_eq!((h.0[0], h.0[7], h.0[23], h.total(), h.max()), (1, 2, 2, 5, 2));
        let json = serde_json::to_value(ArrivalsByHour { today: h, yesterday: HourCounts::default() }).unwrap();
        assert_eq!(json["today"].as_array().map(Vec::len), Some(24));
        assert_eq!(json["today"][7], 2);
        // A dashboard from a daemon that sends no hourly figures still reads, with zeros.
        let mut v = serde_json::to_value(Dashboard::default()).unwrap();
        v.as_object_mut().unwrap().remove("arrivals_by_hour").unwrap();
        let old: Dashboard = serde_json::from_value(v).unwrap();
        assert_eq!(old.arrivals_by_hour, ArrivalsByHour::default());
    }
}
