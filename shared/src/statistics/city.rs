//! The city's statistics reports (市级统计报表): what a district publishes so that the city can
//! build the district's §8 reports itself, and the city report — each district's report side by
//! side with city totals — with its CSV (BOM, CRLF) and text renderings.
//!
//! Invariants: a [`DistrictStats`] carries day figures (counts only), the registry's report
//! frame stripped of every user name, and overdue counts: nothing that names a person. The
//! city's [`ReportTotals`] are plain sums of the districts' own reports, so a total is always
//! the sum of the figures shown beside it.

use super::figures::DayFigures;
use super::render::{self, Cell, Table};
use super::report::{eco_share_pct, Counts, PeriodInfo, Report, TaskFigures};
use crate::registry::Registry;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one district commit tells the city about its statistics: the days it changed, the
/// open tasks past due by due day when that changed, and the registry's frame when it changed.
/// The city applies these in `seq` order, so together they rebuild the district's day figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistrictStats {
    /// Each day changed by the commit, as it now stands (an empty record: nothing counted).
    #[serde(default)]
    pub days: BTreeMap<Date, DayFigures>,
    /// Open station tasks past their due time, by local due day (the whole map, when it
    /// changed since the last message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_open: Option<BTreeMap<Date, u64>>,
    /// The registry as the reports use it (ids, names, beds, zone), without roles or staff;
    /// sent when it changed since the last message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<Registry>,
}

impl DistrictStats {
    /// True when the message has nothing to say about statistics.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty() && self.overdue_open.is_none() && self.frame.is_none()
    }
}

/// The registry without what names people (OS user names of roles and station staff): what a
/// district may publish as its report frame.
pub fn report_frame(registry: &Registry) -> Registry {
    let mut frame = registry.clone();
    frame.roles.clear();
    for station in &mut frame.stations {
        station.staff.clear();
    }
    frame
}

/// The city-wide sums of one or more district reports: the figures that add up across
/// districts (station and site rows do not: they belong to one district each).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportTotals {
    /// Beds of all stations (registry).
    pub beds: u64,
    /// Arrivals in the period.
    pub admissions: u64,
    /// Departures in the period.
    pub discharges: u64,
    /// Departures by `discharge_reason`.
    pub discharges_by_reason: Counts,
    /// Incidents reported.
    pub incidents: u64,
    /// People in the stations at the end of the period.
    pub occupied_at_end: u64,
    /// Occupied bed-days (midnight census summed over the days).
    pub bed_days: u64,
    /// Arrivals by `referral`.
    pub admissions_by_referral: Counts,
    /// Arrivals by origin (hukou province or ID prefix).
    pub admissions_by_origin: Counts,
    /// New interments reported by the burial sites.
    pub new_interments: u64,
    /// Of those, eco-burials (生态安葬).
    pub eco_interments: u64,
    /// Free basic funeral services.
    pub free_basic_services: u64,
    /// 节地生态安葬率 over the summed interments (percent, one decimal); `null` without any.
    pub eco_share_pct: Option<f64>,
    /// Marriage registrations of every kind.
    pub registrations: u64,
    /// Registrations by `kind`.
    pub registrations_by_kind: Counts,
    /// Registrations with a party from another district (SPEC §8).
    pub cross_district: u64,
    /// Marriages with counselling recorded.
    pub counselling: u64,
    /// 救急难 cases opened.
    pub cases_opened: u64,
    /// Cases closed.
    pub cases_closed: u64,
    /// Cases referred to another street.
    pub cases_referred: u64,
    /// Money paid on cases, in fen.
    pub paid_fen: i64,
    /// Station tasks due in the period and how many were done in time.
    pub tasks: TaskFigures,
}

/// Adds `other` into `into`, key by key; new keys go after the known ones.
fn add_counts(into: &mut Counts, other: &Counts) {
    for (k, v) in &other.0 {
        match into.0.iter_mut().find(|(key, _)| key == k) {
            Some((_, n)) => *n += v,
            None => into.0.push((k.clone(), *v)),
        }
    }
}

/// Sums the counts of several rows into one.
fn sum_counts<'a>(rows: impl Iterator<Item = &'a Counts>) -> Counts {
    let mut out = Counts::default();
    for c in rows {
        add_counts(&mut out, c);
    }
    out
}

impl ReportTotals {
    /// One district's totals, from its report.
    pub fn of(r: &Report) -> ReportTotals {
        let s = &r.stations;
        ReportTotals {
            beds: s.iter().map(|s| u64::from(s.beds)).sum(),
            admissions: s.iter().map(|s| s.admissions).sum(),
            discharges: s.iter().map(|s| s.discharges).sum(),
            discharges_by_reason: sum_counts(s.iter().map(|s| &s.discharges_by_reason)),
            incidents: s.iter().map(|s| s.incidents).sum(),
            occupied_at_end: s.iter().map(|s| s.occupied_at_end).sum(),
            bed_days: s.iter().map(|s| s.bed_days).sum(),
            admissions_by_referral: r.admissions_by_referral.clone(),
            admissions_by_origin: r.admissions_by_origin.clone(),
            new_interments: r.burials.new_interments,
            eco_interments: r.burials.eco_interments,
            free_basic_services: r.burials.free_basic_services,
            eco_share_pct: eco_share_pct(r.burials.eco_interments, r.burials.new_interments),
            registrations: r.offices.iter().map(|o| o.registrations).sum(),
            registrations_by_kind: sum_counts(r.offices.iter().map(|o| &o.by_kind)),
            cross_district: r.offices.iter().map(|o| o.cross_district).sum(),
            counselling: r.offices.iter().map(|o| o.counselling).sum(),
            cases_opened: r.cases.opened,
            cases_closed: r.cases.closed,
            cases_referred: r.cases.referred,
            paid_fen: r.cases.paid_fen,
            tasks: r.tasks.clone(),
        }
    }

    /// Adds another district's totals.
    pub fn add(&mut self, o: &ReportTotals) {
        for (a, b) in [
            (&mut self.beds, o.beds),
            (&mut self.admissions, o.admissions),
            (&mut self.discharges, o.discharges),
            (&mut self.incidents, o.incidents),
            (&mut self.occupied_at_end, o.occupied_at_end),
            (&mut self.bed_days, o.bed_days),
            (&mut self.new_interments, o.new_interments),
            (&mut self.eco_interments, o.eco_interments),
            (&mut self.free_basic_services, o.free_basic_services),
            (&mut self.registrations, o.registrations),
            (&mut self.cross_district, o.cross_district),
            (&mut self.counselling, o.counselling),
            (&mut self.cases_opened, o.cases_opened),
            (&mut self.cases_closed, o.cases_closed),
            (&mut self.cases_referred, o.cases_referred),
            (&mut self.tasks.due, o.tasks.due),
            (&mut self.tasks.done_on_time, o.tasks.done_on_time),
            (&mut self.tasks.overdue, o.tasks.overdue),
        ] {
            *a += b;
        }
        self.paid_fen += o.paid_fen;
        add_counts(&mut self.discharges_by_reason, &o.discharges_by_reason);
        add_counts(&mut self.admissions_by_referral, &o.admissions_by_referral);
        add_counts(&mut self.admissions_by_origin, &o.admissions_by_origin);
        add_counts(&mut self.registrations_by_kind, &o.registrations_by_kind);
        self.eco_share_pct = eco_share_pct(self.eco_interments, self.new_interments);
    }
}

/// One district in the city's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistrictReport {
    /// The district code (`district_code` of its registry).
    pub code: String,
    /// The district's name from the city config.
    pub name: String,
    /// The district's last `seq` the city applied: the report is as of that commit.
    pub last_seq: u64,
    /// The district's own report (SPEC §8), as its `mzd report --format json` gives it; `null`
    /// until the district has published its statistics.
    pub report: Option<Report>,
    /// The district's row of the side-by-side table.
    pub totals: ReportTotals,
}

/// `mzd report day|month` against the city: each district's report and the city's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityReport {
    /// Always `"city"`.
    pub level: String,
    /// The city's name from its config.
    pub name: String,
    /// The day or month reported, as in a district report.
    pub period: PeriodInfo,
    /// When the report was made (RFC 3339, Asia/Shanghai).
    pub generated_at: String,
    /// False while the period is still running.
    pub complete: bool,
    /// One entry per district of the city config, in its order.
    pub districts: Vec<DistrictReport>,
    /// Sums over the districts.
    pub totals: ReportTotals,
}

impl CityReport {
    /// The city report of the given district reports; totals are their sums.
    pub fn of(
        name: &str,
        period: PeriodInfo,
        generated_at: String,
        complete: bool,
        districts: Vec<DistrictReport>,
    ) -> Self {
        let mut totals = ReportTotals::default();
        for d in &districts {
            totals.add(&d.totals);
        }
        CityReport {
            level: "city".to_owned(),
            name: name.to_owned(),
            period,
            generated_at,
            complete,
            districts,
            totals,
        }
    }
}

fn words(english: bool, zh: &str, en: &str) -> String {
    if english { en } else { zh }.to_owned()
}

/// One row of the side-by-side table.
fn totals_row(code: &str, name: &str, t: &ReportTotals) -> Vec<Cell> {
    vec![
        Cell::Text(code.to_owned()),
        Cell::Text(name.to_owned()),
        Cell::Count(t.beds),
        Cell::Count(t.admissions),
        Cell::Count(t.discharges),
        Cell::Count(t.incidents),
        Cell::Count(t.occupied_at_end),
        Cell::Count(t.bed_days),
        Cell::Count(t.new_interments),
        Cell::Count(t.eco_interments),
        Cell::Pct(t.eco_share_pct),
        Cell::Count(t.registrations),
        Cell::Count(t.cross_district),
        Cell::Count(t.cases_opened),
        Cell::Count(t.cases_closed),
        Cell::Yuan(t.paid_fen),
        Cell::Count(t.tasks.due),
        Cell::Count(t.tasks.overdue),
    ]
}

/// The districts side by side, one row each, and the city's totals last.
pub fn summary_table(r: &CityReport, en: bool) -> Table {
    let headers = [
        ("区划代码", "District"),
        ("名称", "Name"),
        ("床位", "Beds"),
        ("入站人次", "Admissions"),
        ("离站人次", "Discharges"),
        ("异常", "Incidents"),
        ("期末在站", "Occupied at end"),
        ("床日数", "Bed-days"),
        ("本期安葬", "New interments"),
        ("节地生态安葬", "Eco interments"),
        ("节地生态安葬占比(%)", "Eco share (%)"),
        ("婚姻登记", "Registrations"),
        ("跨区", "Cross-district"),
        ("救急难新开", "Cases opened"),
        ("救急难办结", "Cases closed"),
        ("支出（元）", "Paid (yuan)"),
        ("在站事项到期", "Tasks due"),
        ("在站事项逾期", "Tasks overdue"),
    ];
    let mut rows: Vec<Vec<Cell>> = r.districts.iter().map(|d| totals_row(&d.code, &d.name, &d.totals)).collect();
    rows.push(totals_row("", &words(en, "全市合计", "City total"), &r.totals));
    Table {
        title: words(en, "各区对比", "Districts side by side"),
        headers: headers.iter().map(|(zh, e)| words(en, zh, e)).collect(),
        rows,
    }
}

/// The heading lines: the city, the period, when generated.
pub fn heading(r: &CityReport, en: bool) -> Vec<String> {
    let (kind, span) = r.period.words(en);
    let first = if en {
        format!("{} city roll-up statistics, {kind}: {span}", r.name)
    } else {
        format!("{}民政统计汇总{kind}：{span}", r.name)
    };
    let running = match (r.complete, en) {
        (true, _) => "",
        (false, false) => "（期间未结束，数字仍会变化）",
        (false, true) => " (period still running: figures will change)",
    };
    vec![first, format!("{}{}{running}", words(en, "生成时间：", "Generated at: "), r.generated_at)]
}

/// Every table of the city report: the side-by-side summary, then each district's own tables
/// under its name (a district without statistics yet gets a one-line note).
pub fn tables(r: &CityReport, en: bool) -> Vec<Table> {
    let mut out = vec![summary_table(r, en)];
    for d in &r.districts {
        match &d.report {
            Some(report) => out.extend(render::tables(report, en).into_iter().map(|mut t| {
                t.title = format!("{} {} — {}", d.code, d.name, t.title);
                t
            })),
            None => out.push(Table {
                title: format!("{} {}", d.code, d.name),
                headers: vec![words(en, "尚未收到该区的统计", "no statistics received from this district yet")],
                rows: Vec::new(),
            }),
        }
    }
    out
}

/// The city report as CSV for Excel: BOM, CRLF, the heading, then every table.
pub fn csv(r: &CityReport, english: bool) -> String {
    render::csv_of(&heading(r, english), &tables(r, english))
}

/// The city report as aligned text for a terminal.
pub fn text(r: &CityReport, english: bool) -> String {
    render::text_of(&heading(r, english), &tables(r, english))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_figures_travel_as_json_keyed_by_date() {
        let mut s = DistrictStats::default();
        let day: Date = "2026-11-29".parse().unwrap();
        s.days.insert(day, DayFigures::default());
        s.overdue_open = Some(BTreeMap::from([(day, 3)]));
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"2026-11-29\""), "{json}");
        assert_eq!(serde_json::from_str::<DistrictStats>(&json).unwrap(), s);
    }

    #[test]
    fn the_frame_names_nobody() {
        let frame = report_frame(&Registry::demo());
        assert!(frame.roles.is_empty());
        assert!(frame.stations.iter().all(|s| s.staff.is_empty()));
        assert_eq!(frame.stations.len(), Registry::demo().stations.len());
    }

    #[test]
    fn city_totals_are_the_sums_of_the_districts() {
        let a =
            ReportTotals { admissions: 2, paid_fen: 100, new_interments: 4, eco_interments: 1, ..Default::default() };
        let b = ReportTotals { admissions: 3, paid_fen: 50, new_interments: 0, ..Default::default() };
        let d = |t: &ReportTotals| DistrictReport { totals: t.clone(), ..Default::default() };
        let info = PeriodInfo { kind: "day".into(), from: "2026-11-29".into(), to: "2026-11-29".into() };
        let r = CityReport::of("北京市", info, String::new(), true, vec![d(&a), d(&b)]);
        assert_eq!((r.totals.admissions, r.totals.paid_fen, r.totals.eco_share_pct), (5, 150, Some(25.0)));
        let csv = csv(&r, false);
        assert!(csv.starts_with('\u{feff}') && csv.contains("\r\n") && csv.contains("全市合计"));
        assert!(!csv.replace("\r\n", "").contains('\n'));
    }
}
