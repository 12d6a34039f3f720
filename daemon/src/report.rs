//! Building the published views of the figures: the status report of SPEC §6 and the console's
//! dashboard.
//! Everything here reads maintained figures; nothing scans records.

use crate::masking::mask_name;
use crate::state::{key2, SiteReport, State};
use crate::store::ledger::{HandledFile, HandledKind};
use crate::store::pages::RecordIndex;
use jiff::Timestamp;
use mz_shared::alert::{Alert, AlertKind};
use mz_shared::case::Case;
use mz_shared::dashboard::{
    ArrivalsByHour, CasePage, CaseQueueView, CoolingOffEntry, Dashboard, DayFigures, DivorceWindow, IngestEntry,
    OfficeBoard, ResidentRow, SiteBoard, StationBoard,
};
use mz_shared::feed::Feed;
use mz_shared::protocol::{AlertCounts, CaseCounts, FeedCounts, SiteStatus, StationStatus, StatusReport, TaskCounts};
use mz_shared::records::MarriageKind;
use mz_shared::registry::Registry;
use mz_shared::registry::SiteKind;
use std::collections::BTreeMap;

/// Views of the alerts and cases, recomputed only when those tables changed (or, for the cases'
/// overdue count, when a minute has passed): with tens of thousands of alerts or cases a
/// snapshot must not walk them after every small file.
#[derive(Default)]
pub struct ReportCache {
    alerts: Option<(u64, AlertCounts, Vec<Alert>)>,
    /// (queue changes, valid until: the next case deadline or a minute), counts, urgent cases.
    cases: Option<((u64, i64), CaseCounts, Vec<Case>)>,
    /// When the task counts last built stop being right: the next due time passing.
    tasks_valid_until: Option<i64>,
}

impl ReportCache {
    fn alerts(&mut self, state: &State) -> (AlertCounts, Vec<Alert>) {
        let version = state.alerts.changes();
        match &self.alerts {
            Some((v, counts, top)) if *v == version => (counts.clone(), top.clone()),
            _ => {
                let (counts, top) = (alert_counts(state), top_alerts(state));
                self.alerts = Some((version, counts.clone(), top.clone()));
                (counts, top)
            }
        }
    }

    fn cases(&mut self, state: &State, registry: &Registry, now_ms: i64) -> (CaseCounts, Vec<Case>) {
        if !self.cases_stale(state, now_ms) {
            let (_, counts, top) = self.cases.as_ref().expect("not stale, so present");
            return (*counts, top.clone());
        }
        let (counts, next_deadline) = case_counts(state, registry, now_ms);
        let top = urgent_cases(state);
        let valid_until = next_deadline.map_or(now_ms + 60_000, |d| d.min(now_ms + 60_000));
        self.cases = Some(((cases_changes(state), valid_until), counts, top.clone()));
        (counts, top)
    }

    /// Open and overdue tasks from the task index, and until when the overdue count holds.
    fn tasks(&mut self, state: &State, now_ms: i64) -> TaskCounts {
        let next = state.task_index.next_due(now_ms).map_or(i64::MAX, |d| d + 1);
        self.tasks_valid_until = Some(next);
        state.task_index.counts(now_ms)
    }

    /// True when a task's due time has passed since the counts were built (commits that change
    /// tasks republish anyway).
    pub fn tasks_stale(&self, _state: &State, now_ms: i64) -> bool {
        self.tasks_valid_until.is_none_or(|until| now_ms >= until)
    }

    /// True when the case views must be rebuilt: a case changed, or a deadline (or a minute)
    /// has passed since they were built.
    pub fn cases_stale(&self, state: &State, now_ms: i64) -> bool {
        match &self.cases {
            Some(((changes, valid_until), _, _)) => *changes != cases_changes(state) || now_ms >= *valid_until,
            None => true,
        }
    }
}

fn alert_counts(state: &State) -> AlertCounts {
    let mut alerts = AlertCounts::default();
    for kind in AlertKind::ALL {
        alerts.by_kind.insert(kind.as_str().to_owned(), 0);
    }
    for a in state.alerts.values().filter(|a| a.is_active()) {
        alerts.active += 1;
        *alerts.by_kind.entry(a.kind.as_str().to_owned()).or_default() += 1;
    }
    alerts
}

/// Active alerts first, newest first, at most [`DASHBOARD_ALERTS`]; the counts of all are in the
/// status.
fn top_alerts(state: &State) -> Vec<Alert> {
    let mut alerts: Vec<&Alert> = state.alerts.values().collect();
    let shown = DASHBOARD_ALERTS.min(alerts.len());
    if shown > 0 {
        alerts.select_nth_unstable_by_key(shown - 1, |a| (!a.is_active(), std::cmp::Reverse(a.raised_at_ms)));
    }
    alerts.truncate(shown);
    alerts.sort_by_key(|a| (!a.is_active(), std::cmp::Reverse(a.raised_at_ms)));
    alerts.into_iter().cloned().collect()
}

/// The status report as of the last commit (health is filled in by the server).
pub fn status(state: &State, index: &RecordIndex, registry: &Registry, cache: &mut ReportCache) -> StatusReport {
    let now_ms = Timestamp::now().as_millisecond();
    let (alerts, _) = cache.alerts(state);
    let (cases, _) = cache.cases(state, registry, now_ms);
    let tasks = cache.tasks(state, now_ms);
    let c = &state.counters;
    let mut records = FeedCounts::default();
    for feed in Feed::ALL {
        *records.get_mut(feed) = index.count(feed);
    }
    StatusReport {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        healthy: true,
        problems: Vec::new(),
        files: c.files,
        records,
        rejected_rows: c.rejected_rows,
        duplicate_rows: c.duplicate_rows,
        stations: registry
            .stations
            .iter()
            .map(|s| StationStatus {
                id: s.id.clone(),
                beds: s.beds,
                occupied: state.occupancy.get(&s.id).map_or(0, |o| o.occupied),
            })
            .collect(),
        sites: registry
            .sites
            .iter()
            .map(|s| {
                let cur = state.sites.get(&s.id).and_then(|h| h.current());
                SiteStatus {
                    id: s.id.clone(),
                    capacity_total: cur.map_or(0, |r| r.capacity_total),
                    occupied: cur.map_or(0, |r| r.occupied),
                }
            })
            .collect(),
        marriages_by_kind: MarriageKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), c.marriages_by_kind.get(k).copied().unwrap_or(0)))
            .collect(),
        cases,
        tasks,
        alerts,
        audit: state.audit_anchor(),
        publish: Default::default(),
    }
}

/// Open and overdue cases, and the next deadline still ahead (when the counts next change).
fn case_counts(state: &State, _registry: &Registry, now: i64) -> (CaseCounts, Option<i64>) {
    let index = &state.case_index;
    // Overdue means strictly after the deadline.
    let counts = CaseCounts { open: index.open_by_urgency.len() as u64, overdue: index.overdue(now) as u64 };
    (counts, index.next_deadline(now).map(|t| t + 1))
}

/// Alerts sent to consoles at most (active first); the status counts all of them.
const DASHBOARD_ALERTS: usize = 300;

/// Local date `days` before `today`.
fn day_before(today: jiff::civil::Date, days: i64) -> String {
    today.checked_sub(jiff::Span::new().days(days)).unwrap_or(today).to_string()
}

/// The console's snapshot. `handled` is the recent file history, newest first.
pub fn dashboard(
    state: &State,
    index: &RecordIndex,
    registry: &Registry,
    handled: &[HandledFile],
    now: Timestamp,
    cache: &mut ReportCache,
) -> Dashboard {
    let tz = registry.time_zone();
    let today = now.to_zoned(tz.clone()).date();
    let today_s = today.to_string();
    let now_ms = now.as_millisecond();
    let long_ms = i64::from(registry.long_stay_days) * 86_400_000;

    let stations = registry
        .stations
        .iter()
        .map(|st| {
            let prefix = key2(&st.id, "");
            let mut residents: Vec<ResidentRow> = state
                .residents
                .with_prefix(&prefix)
                .map(|(_, r)| ResidentRow {
                    person_ref: r.person_ref.clone(),
                    name: r.name.clone(),
                    gender: r.gender,
                    age: r.age,
                    flags: r.flags.clone(),
                    bed: r.bed.clone(),
                    admitted_at_ms: r.admitted_at_ms,
                    days: ((now_ms - r.admitted_at_ms).max(0) / 86_400_000) as u32,
                    long_stay: now_ms - r.admitted_at_ms > long_ms,
                    unidentified: r.unidentified,
                    incidents: r.incidents,
                })
                .collect();
            residents.sort_by_key(|r| r.admitted_at_ms);
            let long_stays = residents.iter().filter(|r| r.long_stay).count() as u32;
            let open_incidents = residents.iter().filter(|r| r.incidents > 0).count() as u32;
            residents.truncate(500);
            let day = state.station_days.get(&key2(&st.id, &today_s)).cloned().unwrap_or_default();
            StationBoard {
                id: st.id.clone(),
                name: st.name.clone(),
                kind: Some(st.kind),
                street: st.street.clone(),
                beds: st.beds,
                occupied: state.occupancy.get(&st.id).map_or(0, |o| o.occupied),
                today: DayFigures { admits: day.admits, discharges: day.discharges, incidents: day.incidents },
                long_stays,
                open_incidents,
                residents,
                recent: state.recent.get(&st.id).map(|r| r.events.iter().rev().cloned().collect()).unwrap_or_default(),
                tasks: crate::tasks::station_rows(state, &st.id, StationBoard::TASKS_SHOWN),
            }
        })
        .collect();

    let sites = registry
        .sites
        .iter()
        .map(|s| {
            let hist = state.sites.get(&s.id);
            let reports = hist.map(|h| h.reports.as_slice()).unwrap_or_default();
            let cur = reports.last();
            let (new, eco) = reports.iter().fold((0u64, 0u64), |(n, e), r| {
                (n + u64::from(r.new_interments.unwrap_or(0)), e + u64::from(r.eco_interments.unwrap_or(0)))
            });
            SiteBoard {
                id: s.id.clone(),
                name: s.name.clone(),
                town: s.town.clone(),
                kind: Some(s.kind),
                capacity_total: cur.map_or(0, |r| r.capacity_total),
                occupied: cur.map_or(0, |r| r.occupied),
                reported_on: cur.map(|r| r.reported_on.clone()),
                eco_share: (new > 0).then(|| eco as f64 / new as f64),
                new_interments: new,
                eco_interments: eco,
                months_to_full: months_to_full(reports),
                zero_growth_violation: s.kind == SiteKind::Village
                    && reports.windows(2).any(|w| w[1].capacity_total > w[0].capacity_total),
                history: reports.iter().map(|r| (r.reported_on.clone(), r.capacity_total, r.occupied)).collect(),
            }
        })
        .collect();

    let days30: Vec<String> = (0..30).rev().map(|d| day_before(today, d)).collect();
    let mut registrations_daily: Vec<BTreeMap<MarriageKind, u32>> = vec![BTreeMap::new(); 30];
    let offices = registry
        .offices
        .iter()
        .map(|o| {
            let mut board = OfficeBoard { id: o.id.clone(), name: o.name.clone(), ..Default::default() };
            let (mut total, mut cross, mut known, mut yes) = (0u32, 0u32, 0u32, 0u32);
            for (i, d) in days30.iter().enumerate() {
                let Some(day) = state.office_days.get(&key2(&o.id, d)) else {
                    board.daily_30.push(0);
                    continue;
                };
                let n: u32 = day.by_kind.values().sum();
                board.daily_30.push(n);
                total += n;
                cross += day.cross_district;
                known += day.counselling_known;
                yes += day.counselling_yes;
                for (k, v) in &day.by_kind {
                    *registrations_daily[i].entry(*k).or_default() += v;
                    *board.last_30_days.entry(*k).or_default() += v;
                    if i >= 23 {
                        *board.last_7_days.entry(*k).or_default() += v;
                    }
                    if i == 29 {
                        *board.today.entry(*k).or_default() += v;
                    }
                }
            }
            board.cross_district_share = (total > 0).then(|| f64::from(cross) / f64::from(total));
            board.counselling_rate = (known > 0).then(|| f64::from(yes) / f64::from(known));
            if let Some(l) = state.divorce_lapses.get(&o.id) {
                board.lapsed_total = l.total;
                board.lapsed_30_days = l.by_day.range(days30[0].clone()..).map(|(_, n)| n).sum();
            }
            board
        })
        .collect();

    let mut cooling_off: Vec<CoolingOffEntry> = state
        .divorce_applications
        .values()
        .filter_map(|a| {
            let (window, days_left) = DivorceWindow::at(now_ms - a.applied_at_ms)?;
            Some(CoolingOffEntry {
                office_id: a.office_id.clone(),
                record_id: a.record_id.clone(),
                applied_at_ms: a.applied_at_ms,
                days_left,
                window,
            })
        })
        .collect();
    // The soonest to end first: window 1 ends 30 days after the application, window 2 60.
    cooling_off.sort_by_key(|c| {
        let days = if c.window == DivorceWindow::Registration { 60 } else { 30 };
        (c.applied_at_ms + days * 86_400_000, c.record_id.clone())
    });

    let (_, alerts) = cache.alerts(state);
    let (_, cases) = cache.cases(state, registry, now_ms);

    Dashboard {
        generated_at_ms: now_ms,
        timezone: registry.timezone.clone(),
        today: today_s.clone(),
        status: status(state, index, registry, cache),
        stations,
        sites,
        offices,
        registrations_daily,
        cooling_off,
        alerts,
        ingest: handled.iter().take(50).map(ingest_entry).collect(),
        rejected_today: state.counters.rejected_by_day.get(&today_s).copied().unwrap_or(0),
        long_stay_days: registry.long_stay_days,
        limits: registry.limits.clone(),
        departments: registry.departments.clone(),
        communities: registry.communities.clone(),
        urgent_cases: cases,
        cases_changes: cases_changes(state),
        funds: crate::funds::fund_rows(&state.funds, &state.fund_figures, registry),
        arrivals_by_hour: arrivals_by_hour(state, today),
    }
}

/// Today's and yesterday's admissions per local hour, as maintained by the rules.
fn arrivals_by_hour(state: &State, today: jiff::civil::Date) -> ArrivalsByHour {
    let day = |d: Option<jiff::civil::Date>| {
        d.and_then(|d| state.arrival_hours.get(&d.to_string()).copied()).unwrap_or_default()
    };
    ArrivalsByHour { today: day(Some(today)), yesterday: day(today.yesterday().ok()) }
}

/// The count a console compares to know its page of cases is stale (`Dashboard::cases_changes`,
/// `CasePage::changes`).
fn cases_changes(state: &State) -> u64 {
    state.case_index.queue_changes(state.cases.changes())
}

/// The most urgent open cases, in the queue's order: the first [`Dashboard::URGENT_CASES`].
fn urgent_cases(state: &State) -> Vec<Case> {
    case_page(state, CaseQueueView::Open, 0, Dashboard::URGENT_CASES as u32, false).cases
}

/// The cases at queue positions `offset..offset + limit` of `view` (`limit` cut to
/// [`CasePage::MAX`]), read from the queue index: `offset + limit` steps and `limit` cases
/// read, never a scan. With `aid`, the payments on any case to the page's people (looked up by
/// person), for the payment form's duplicate-aid warning.
pub fn case_page(state: &State, view: CaseQueueView, offset: u64, limit: u32, aid: bool) -> CasePage {
    let limit = limit.min(CasePage::MAX) as usize;
    let (nos, total) = state.case_index.queue_page(view, offset, limit);
    let cases: Vec<Case> = nos.into_iter().filter_map(|no| state.cases.get(no.id().as_str())).collect();
    let aid = if aid {
        let people: std::collections::BTreeSet<_> = cases.iter().filter_map(Case::person_key).collect();
        state.aid.of_people(&people)
    } else {
        Vec::new()
    };
    CasePage { view, offset, total, changes: cases_changes(state), cases, aid }
}

/// Months until a site is full, from the growth of `occupied` over its recent reports.
fn months_to_full(reports: &[SiteReport]) -> Option<f64> {
    let cur = reports.last()?;
    let first = reports.get(reports.len().saturating_sub(7))?;
    let d0 = first.reported_on.parse::<jiff::civil::Date>().ok()?;
    let d1 = cur.reported_on.parse::<jiff::civil::Date>().ok()?;
    let days = (d1 - d0).get_days();
    let grown = i64::from(cur.occupied) - i64::from(first.occupied);
    if days <= 0 || grown <= 0 {
        return None;
    }
    let per_month = grown as f64 / (f64::from(days) / 30.44);
    Some(f64::from(cur.capacity_total.saturating_sub(cur.occupied)) / per_month)
}

fn ingest_entry(h: &HandledFile) -> IngestEntry {
    IngestEntry {
        name: h.name.clone(),
        feed: h.feed.map(|f| f.as_str().to_owned()),
        at_ms: h.at_ms,
        outcome: match h.kind {
            HandledKind::Ingested => "ingested",
            HandledKind::Quarantined => "quarantined",
            HandledKind::Duplicate => "duplicate",
        }
        .to_owned(),
        stored: h.counts.stored,
        corrected: h.counts.corrected,
        duplicate: h.counts.duplicate,
        rejected: h.counts.rejected,
        dest: h.dest.display().to_string(),
        note: h.note.clone(),
    }
}

/// The dashboard as a viewer may see it: names reduced to their first character.
pub fn masked_for_viewer(d: &Dashboard) -> Dashboard {
    let mut d = d.clone();
    for st in &mut d.stations {
        for r in &mut st.residents {
            r.name = r.name.as_deref().map(mask_name);
        }
    }
    mask_case_names(&mut d.urgent_cases);
    d
}

/// A page of cases as a viewer may see it: names reduced to their first character, and no
/// payment records (they may name the person; a viewer cannot pay).
pub fn mask_page_for_viewer(page: &mut CasePage) {
    mask_case_names(&mut page.cases);
    page.aid.clear();
}

fn mask_case_names(cases: &mut [Case]) {
    for c in cases {
        c.name = c.name.as_deref().map(mask_name);
    }
}
