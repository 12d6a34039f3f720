//! Unit and property tests of the statistics model.

use super::figures::{DayFigures, StationDayFigures};
use super::period::Period;
use super::render;
use super::report::{build, census, ReportInput};
use crate::registry::Registry;
use jiff::civil::{date, Date};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[test]
fn periods_parse_and_step() {
    let d = Period::parse_day("2026-03-01").unwrap();
    assert_eq!(d.previous(), Period::Day(date(2026, 2, 28)));
    let m = Period::parse_month("2026-02").unwrap();
    assert_eq!((m.from(), m.to()), (date(2026, 2, 1), date(2026, 2, 28)));
    assert_eq!(m.days().count(), 28);
    assert_eq!(m.next().key(), "2026-03");
    assert_eq!(m.previous().key(), "2026-01");
    assert_eq!(Period::parse_month("2026-12").unwrap().next().key(), "2027-01");
    assert!(Period::parse_month("2026-13").is_err());
    assert!(Period::parse_month("26-01").is_err());
    assert!(Period::parse_day("2026-02-30").is_err());
    assert_eq!(Period::last_month(date(2026, 1, 15)).key(), "2025-12");
    assert_eq!(Period::yesterday(date(2026, 3, 1)).key(), "2026-02-28");
    assert!(m.has_ended(date(2026, 3, 1)) && !m.has_ended(date(2026, 2, 28)));
}

fn nets(pairs: &[(Date, i64)]) -> impl Fn(Date) -> BTreeMap<String, i64> + '_ {
    move |d| pairs.iter().filter(|(x, _)| *x == d).map(|(_, n)| ("S".to_owned(), *n)).collect()
}

#[test]
fn census_walks_back_from_now() {
    // 2 admitted on 11-01, 1 more on 11-03, 1 left on 11-04; now (11-05) 2 are in.
    let days = [(date(2026, 11, 1), 2), (date(2026, 11, 3), 1), (date(2026, 11, 4), -1)];
    let now = BTreeMap::from([("S".to_owned(), 2)]);
    let f = nets(&days);
    let p = Period::Day(date(2026, 11, 3));
    let later = BTreeMap::from([("S".to_owned(), -1)]);
    let c = census(p, date(2026, 11, 5), &now, &later, &f)["S"];
    assert_eq!((c.occupied_at_end, c.bed_days), (3, 3));
    // The month, still running on 11-05: ends of 11-01..11-04 are 2, 2, 3, 2; now 2.
    let m = Period::month_of(date(2026, 11, 1));
    let c = census(m, date(2026, 11, 5), &now, &BTreeMap::new(), &f)["S"];
    assert_eq!((c.occupied_at_end, c.bed_days), (2, 9));
}

proptest! {
    /// The census equals a forward count of every day's change from the start.
    #[test]
    fn census_matches_a_forward_count(
        moves in proptest::collection::vec((0i64..4, 0i64..4), 1..40),
        p_start in 0usize..45,
        today_at in 0usize..45,
    ) {
        let start = date(2026, 1, 1);
        let day = |i: usize| start.checked_add(jiff::Span::new().days(i as i64)).unwrap();
        let mut occ = 0i64;
        let mut per_day = Vec::new();
        for (i, (a, d)) in moves.iter().enumerate() {
            let d = (*d).min(occ + a);
            occ += a - d;
            per_day.push((day(i), a - d));
        }
        let cum = |until: Date| per_day.iter().filter(|(d, _)| *d <= until).map(|(_, n)| n).sum::<i64>();
        let today = day(today_at);
        // Everything stored is in the current occupancy, events dated after today included.
        let now = BTreeMap::from([("S".to_owned(), occ)]);
        let period = Period::Day(day(p_start));
        let last = period.to().min(today);
        let later: i64 = per_day.iter().filter(|(d, _)| *d > last).map(|(_, n)| n).sum();
        let f = nets(&per_day);
        let c = census(period, today, &now, &BTreeMap::from([("S".to_owned(), later)]), &f)["S"];
        prop_assert_eq!(c.occupied_at_end as i64, cum(last));
        let bed = if period.to() < today { cum(period.to()) } else { 0 };
        prop_assert_eq!(c.bed_days as i64, bed);
    }
}

#[test]
fn merged_days_list_every_registry_entity_and_render_csv_with_bom() {
    let registry = Registry::demo();
    let mut a = DayFigures::default();
    a.stations.insert("TZ-JZZ".into(), StationDayFigures { admissions: 3, discharges: 1, ..Default::default() });
    a.sites.entry("C-SZ".into()).or_default().new_interments = 7;
    a.sites.entry("C-SZ".into()).or_default().eco_interments = 3;
    let mut b = a.clone();
    b.streets.entry("ST-01".into()).or_default().paid_fen = 12_345;
    a.add(&b);
    let census = BTreeMap::new();
    let input = ReportInput {
        period: Period::month_of(date(2026, 11, 1)),
        registry: &registry,
        merged: &a,
        census: &census,
        open_overdue: 0,
        generated_at: "2026-12-01T00:00:05+08:00".into(),
        complete: true,
        daily: Vec::new(),
    };
    let r = build(&input);
    assert_eq!(r.stations.len(), registry.stations.len());
    assert_eq!(r.sites.len(), registry.sites.len());
    assert_eq!(r.offices.len(), registry.offices.len());
    let jzz = r.stations.iter().find(|s| s.id == "TZ-JZZ").unwrap();
    assert_eq!((jzz.admissions, jzz.discharges), (6, 2));
    let sz = r.sites.iter().find(|s| s.id == "C-SZ").unwrap();
    assert_eq!((sz.new_interments, sz.eco_interments, sz.eco_share_pct), (14, 6, Some(42.9)));
    assert_eq!(r.cases.paid_fen, 12_345);
    let json = serde_json::to_value(&r).unwrap();
    for key in
        ["period", "stations", "admissions_by_referral", "admissions_by_origin", "sites", "offices", "cases", "tasks"]
    {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["admissions_by_referral"].as_object().unwrap().keys().next().unwrap(), "police");
    let back: super::Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    let csv = render::csv(&r, false);
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains("\r\n救助站（流浪乞讨人员救助）\r\n"));
    assert!(csv.contains(",123.45\r\n"), "money in yuan with two decimals");
    assert!(!csv.replace("\r\n", "").contains('\n'), "CRLF only");
    let text = render::text(&r, true);
    assert!(text.contains("Rescue stations"));
}

#[test]
fn a_months_trend_walks_back_from_the_last_day() {
    let mut f1 = DayFigures::default();
    f1.stations.insert("S".into(), StationDayFigures { admissions: 4, discharges: 1, ..Default::default() });
    let mut f3 = DayFigures::default();
    f3.stations.insert("S".into(), StationDayFigures { admissions: 1, discharges: 2, ..Default::default() });
    let day = |d: Date| match d.day() {
        1 => Some(f1.clone()),
        3 => Some(f3.clone()),
        _ => None,
    };
    let points = super::report::daily(Period::month_of(date(2026, 11, 1)), date(2026, 11, 4), 2, &day);
    let got: Vec<(u64, u64)> = points.iter().map(|p| (p.admissions, p.occupied_at_end)).collect();
    assert_eq!(got, vec![(4, 3), (0, 3), (1, 2), (0, 2)]);
}
