//! Statistics reports (统计报表, SPEC §8) end to end: the real `mzd` over its real socket and
//! the report files it writes. Rows are generated here with a seeded RNG and every expected
//! figure is computed here from those rows, independently of the daemon: two adjacent days
//! across a month boundary (`report day`, `report month`, the midnight census), a late file for
//! a closed day rewriting that day's files, periods that ended while the daemon was stopped
//! written at start-up (a faked statistics clock, `MZD_STATISTICS_NOW`), and the CSV as Excel
//! opens it (BOM, UTF-8, the tables in order).

use mz_tests::{date_plus, id_number, lf, registry_as, today_local, Daemon, Rng, DEFAULT_TIMEOUT, POLL};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const STATIONS: [&str; 3] = ["TZ-JZZ", "TZ-P01", "TZ-P03"];
const REASONS: [&str; 7] = ["home", "family", "welfare", "hospital", "left", "died", "other"];
const REFERRALS: [&str; 5] = ["police", "patrol", "self", "agency", "hotline"];
const DISTRICT: &str = "110112";

/// One generated station event.
#[derive(Clone)]
struct Event {
    id: String,
    station: &'static str,
    kind: &'static str,
    date: String,
    time: String,
    person: String,
    id_number: Option<String>,
    referral: &'static str,
    reason: &'static str,
}

impl Event {
    fn csv(&self) -> String {
        let (referral, reason, incident) = match self.kind {
            "admit" => (self.referral, "", ""),
            "discharge" => ("", self.reason, ""),
            _ => ("", "", "injury"),
        };
        format!(
            "{},{},{},{} {},{},{},{referral},{reason},{incident}",
            self.id,
            self.station,
            self.kind,
            self.date,
            self.time,
            self.person,
            self.id_number.as_deref().unwrap_or("")
        )
    }
}

const ADMISSIONS_HEADER: &str =
    "record_id,station_id,event,occurred_at,person_ref,id_number,referral,discharge_reason,incident_type";

/// Events over `days` (in order): admits in the morning, incidents at noon, discharges in the
/// evening of people admitted before, so that every row is valid.
fn station_events(rng: &mut Rng, days: &[String], prefix: &str) -> Vec<Event> {
    let mut present: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut out = Vec::new();
    let mut n = 0;
    for date in days {
        for station in STATIONS {
            for i in 0..rng.range(2, 6) {
                n += 1;
                let person = format!("{prefix}{n}");
                let region = *rng.pick(&["110105", "310101", "440106", ""]);
                let idn = (!region.is_empty()).then(|| id_number(region, "19800101", (n % 100) as u32, true));
                out.push(Event {
                    id: format!("{prefix}A{n}"),
                    station,
                    kind: "admit",
                    date: date.clone(),
                    time: format!("08:{:02}", i),
                    person: person.clone(),
                    id_number: idn,
                    referral: REFERRALS[rng.range(0, REFERRALS.len() as u64 - 1) as usize],
                    reason: "",
                });
                present.entry(station).or_default().push(person);
            }
            let here = present.entry(station).or_default();
            if let Some(p) = here.first().filter(|_| rng.chance(60)) {
                n += 1;
                out.push(Event {
                    id: format!("{prefix}I{n}"),
                    station,
                    kind: "incident",
                    date: date.clone(),
                    time: "12:00".into(),
                    person: p.clone(),
                    id_number: None,
                    referral: "",
                    reason: "",
                });
            }
            for i in 0..rng.range(0, 3).min(here.len() as u64) {
                n += 1;
                let p = here.remove(rng.range(0, here.len() as u64 - 1) as usize);
                out.push(Event {
                    id: format!("{prefix}D{n}"),
                    station,
                    kind: "discharge",
                    date: date.clone(),
                    time: format!("18:{:02}", i),
                    person: p,
                    id_number: None,
                    referral: "",
                    reason: REASONS[rng.range(0, REASONS.len() as u64 - 1) as usize],
                });
            }
        }
    }
    out
}

fn admissions_file(events: &[Event]) -> String {
    let mut lines = vec![ADMISSIONS_HEADER.to_owned()];
    lines.extend(events.iter().map(Event::csv));
    lf(&lines)
}

/// Occupancy of `station` at the end of `date`: a forward count of every event up to it.
fn occupancy_at_end(events: &[Event], station: &str, date: &str) -> i64 {
    events
        .iter()
        .filter(|e| e.station == station && e.date.as_str() <= date)
        .map(|e| match e.kind {
            "admit" => 1,
            "discharge" => -1,
            _ => 0,
        })
        .sum()
}

fn count(events: &[Event], station: &str, kind: &str, days: &[&str]) -> u64 {
    events.iter().filter(|e| e.station == station && e.kind == kind && days.contains(&e.date.as_str())).count() as u64
}

/// The burial rows: (record_id, site, date, new, eco, free).
type Burial = (String, &'static str, String, u64, u64, u64);

fn burial_file(rows: &[Burial]) -> String {
    let mut lines =
        vec!["record_id,site_id,reported_on,capacity_total,occupied,new_interments,eco_interments,free_basic_services"
            .to_owned()];
    lines.extend(
        rows.iter().map(|(id, site, date, new, eco, free)| format!("{id},{site},{date},5000,1000,{new},{eco},{free}")),
    );
    lf(&lines)
}

/// The marriage rows: (record_id, office, date, kind, party a, party b, hukou a, counselling).
type Registration = (String, &'static str, String, &'static str, String, String, String, &'static str);

fn marriage_file(rows: &[Registration]) -> String {
    let mut lines =
        vec!["record_id,office_id,registered_at,kind,party_a_id,party_b_id,party_a_hukou,counselling".to_owned()];
    lines.extend(rows.iter().map(|(id, office, date, kind, a, b, hukou, c)| {
        format!("{id},{office},{date} 10:00,{kind},{a},{b},{hukou},{c}")
    }));
    lf(&lines)
}

fn registrations(rng: &mut Rng, days: &[String]) -> Vec<Registration> {
    let mut out = Vec::new();
    for (i, date) in days.iter().enumerate() {
        for j in 0..rng.range(3, 7) {
            let n = (i * 10 + j as usize) as u32;
            let region_a = *rng.pick(&[DISTRICT, DISTRICT, "130102"]);
            let region_b = *rng.pick(&[DISTRICT, DISTRICT, "320102"]);
            let hukou = if rng.chance(30) { (*rng.pick(&[DISTRICT, "510104"])).to_owned() } else { String::new() };
            out.push((
                format!("M{n}"),
                *rng.pick(&["M-TZ", "M-TZ-MJQ"]),
                date.clone(),
                *rng.pick(&["marriage", "marriage", "divorce_application", "reissue"]),
                id_number(region_a, "19900101", n % 100, true),
                id_number(region_b, "19920101", n % 100, false),
                hukou,
                *rng.pick(&["true", "false", ""]),
            ));
        }
    }
    out
}

/// SPEC §8: a party's hukou (given, else the ID number's first 6 digits) differs from the district.
fn cross(r: &Registration) -> bool {
    let a = if r.6.is_empty() { &r.4[..6] } else { r.6.as_str() };
    a != DISTRICT || &r.5[..6] != DISTRICT
}

fn report(d: &Daemon, args: &[&str]) -> Value {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let text = d.mzd_ok(&all);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| d.fail(&format!("`mzd {}` printed no JSON ({e}):\n{text}", all.join(" "))))
}

fn row<'a>(d: &Daemon, list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == id))
        .unwrap_or_else(|| d.fail(&format!("no row {id} in {list:#}")))
}

fn check(d: &Daemon, what: &str, got: &Value, want: u64) {
    if got.as_u64() != Some(want) {
        d.fail(&format!("{what}: the report says {got}, the rows say {want}"));
    }
}

/// Checks a report against the generated rows over `days`; `census_days` are the period's days
/// (for bed-days) and `last` its last day.
fn check_report(d: &Daemon, r: &Value, rows: &Rows, days: &[&str], period_days: &[String]) {
    let last = period_days.last().unwrap();
    for st in STATIONS {
        let s = row(d, &r["stations"], st);
        let what = |k: &str| format!("{} {st} {k}", r["period"]["from"]);
        check(d, &what("admissions"), &s["admissions"], count(&rows.events, st, "admit", days));
        check(d, &what("discharges"), &s["discharges"], count(&rows.events, st, "discharge", days));
        check(d, &what("incidents"), &s["incidents"], count(&rows.events, st, "incident", days));
        for reason in REASONS {
            let n = rows
                .events
                .iter()
                .filter(|e| e.station == st && e.reason == reason && days.contains(&e.date.as_str()))
                .count();
            check(d, &what(reason), &s["discharges_by_reason"][reason], n as u64);
        }
        check(d, &what("occupied_at_end"), &s["occupied_at_end"], occupancy_at_end(&rows.events, st, last) as u64);
        let bed_days: i64 = period_days.iter().map(|day| occupancy_at_end(&rows.events, st, day)).sum();
        check(d, &what("bed_days"), &s["bed_days"], bed_days as u64);
    }
    let admits: Vec<&Event> =
        rows.events.iter().filter(|e| e.kind == "admit" && days.contains(&e.date.as_str())).collect();
    for referral in REFERRALS {
        let n = admits.iter().filter(|e| e.referral == referral).count() as u64;
        check(d, &format!("referral {referral}"), &r["admissions_by_referral"][referral], n);
    }
    for (code, region) in [("11", "110105"), ("31", "310101"), ("44", "440106")] {
        let n = admits.iter().filter(|e| e.id_number.as_deref().is_some_and(|i| i.starts_with(region))).count() as u64;
        let got = r["admissions_by_origin"].get(code).cloned().unwrap_or(Value::from(0));
        check(d, &format!("origin {code}"), &got, n);
    }
    let unknown = admits.iter().filter(|e| e.id_number.is_none()).count() as u64;
    check(d, "origin unknown", &r["admissions_by_origin"]["unknown"], unknown);
    // Sites: the latest version of each record.
    let mut latest: BTreeMap<&str, &Burial> = BTreeMap::new();
    for b in &rows.burials {
        latest.insert(&b.0, b);
    }
    for site in ["C-SZ", "C-HX", "V-SZ-01", "C-TH"] {
        let mine: Vec<&&Burial> = latest.values().filter(|b| b.1 == site && days.contains(&b.2.as_str())).collect();
        let s = row(d, &r["sites"], site);
        check(d, &format!("{site} new"), &s["new_interments"], mine.iter().map(|b| b.3).sum());
        check(d, &format!("{site} eco"), &s["eco_interments"], mine.iter().map(|b| b.4).sum());
        check(d, &format!("{site} free"), &s["free_basic_services"], mine.iter().map(|b| b.5).sum());
    }
    for office in ["M-TZ", "M-TZ-MJQ"] {
        let mine: Vec<&Registration> =
            rows.marriages.iter().filter(|m| m.1 == office && days.contains(&m.2.as_str())).collect();
        let o = row(d, &r["offices"], office);
        for kind in ["marriage", "divorce", "divorce_application", "divorce_withdrawal", "reissue"] {
            check(
                d,
                &format!("{office} {kind}"),
                &o["by_kind"][kind],
                mine.iter().filter(|m| m.3 == kind).count() as u64,
            );
        }
        check(d, &format!("{office} cross"), &o["cross_district"], mine.iter().filter(|m| cross(m)).count() as u64);
        check(
            d,
            &format!("{office} counselling"),
            &o["counselling"],
            mine.iter().filter(|m| m.7 == "true").count() as u64,
        );
    }
}

struct Rows {
    events: Vec<Event>,
    burials: Vec<Burial>,
    marriages: Vec<Registration>,
}

fn generate(days: &[String], seed: u64) -> Rows {
    let mut rng = Rng::new(seed);
    let events = station_events(&mut rng, days, "P");
    let mut burials = Vec::new();
    for (i, date) in days.iter().enumerate() {
        for site in ["C-SZ", "C-HX", "V-SZ-01"] {
            let new = rng.range(0, 20);
            let eco = rng.range(0, new); // inclusive
            burials.push((format!("B{i}{site}"), site, date.clone(), new, eco, rng.range(0, 5)));
        }
    }
    let marriages = registrations(&mut rng, days);
    Rows { events, burials, marriages }
}

/// Polls until `cond` holds on the JSON in `path` (or fails with what it last saw).
fn wait_json(d: &Daemon, path: &Path, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    let timeout = DEFAULT_TIMEOUT * 3;
    loop {
        let v = fs::read(path).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        if let Some(v) = v.filter(|v| cond(v)) {
            return v;
        }
        if start.elapsed() > timeout {
            d.fail(&format!("{what}: {} not as expected within {timeout:?}", path.display()));
        }
        std::thread::sleep(POLL * 4);
    }
}

/// Waits until `path` exists.
fn wait_file(d: &Daemon, path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        if start.elapsed() > DEFAULT_TIMEOUT * 3 {
            d.fail(&format!("{} not written within {:?}", path.display(), DEFAULT_TIMEOUT * 3));
        }
        std::thread::sleep(POLL * 4);
    }
}

fn day_file(d: &Daemon, date: &str, ext: &str) -> PathBuf {
    d.data.join("reports").join("day").join(format!("{date}.{ext}"))
}

fn month_file(d: &Daemon, month: &str, ext: &str) -> PathBuf {
    d.data.join("reports").join("month").join(format!("{month}.{ext}"))
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

/// Last day of the month before last, and the first two days of last month.
fn boundary_days() -> Vec<String> {
    let first_of_this = format!("{}01", &today_local()[..8]);
    let first_of_last = format!("{}01", &date_plus(&first_of_this, -1)[..8]);
    vec![date_plus(&first_of_last, -1), first_of_last.clone(), date_plus(&first_of_last, 1)]
}

fn drop_all(d: &Daemon, rows: &Rows, tag: &str) {
    d.drop_file("admissions", &format!("{tag}-events.csv"), admissions_file(&rows.events));
    d.drop_file("burials", &format!("{tag}-sites.csv"), burial_file(&rows.burials));
    d.drop_file("marriages", &format!("{tag}-registrations.csv"), marriage_file(&rows.marriages));
}

fn month_days(first: &str) -> Vec<String> {
    let mut out = vec![first.to_owned()];
    loop {
        let next = date_plus(out.last().unwrap(), 1);
        if next[..7] != first[..7] {
            return out;
        }
        out.push(next);
    }
}

#[test]
fn day_and_month_reports_match_the_rows_across_a_month_boundary() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_registry(tmp.path(), &registry_as("supervisor"));
    let days = boundary_days();
    let mut rows = generate(&days, 13);
    // A corrected burial report: the second version replaces the first.
    let fix = (rows.burials[0].0.clone(), rows.burials[0].1, rows.burials[0].2.clone(), 3, 2, 1);
    drop_all(&d, &rows, "first");
    d.wait_files(3);
    d.drop_file("burials", "fix.csv", burial_file(std::slice::from_ref(&fix)));
    d.wait_files(4);
    rows.burials.push(fix);
    let (a, b, c) = (days[0].as_str(), days[1].as_str(), days[2].as_str());
    for day in [a, b, c] {
        let r = report(&d, &["day", "--date", day]);
        if r["period"]["kind"] != "day" || r["period"]["from"] != day || r["period"]["to"] != day {
            d.fail(&format!("period of day {day}: {}", r["period"]));
        }
        check_report(&d, &r, &rows, &[day], &[day.to_owned()]);
        assert_eq!(r["stations"].as_array().unwrap().len(), 6, "every station of the registry");
        assert_eq!(r["sites"].as_array().unwrap().len(), 15, "every site of the registry");
    }
    let month = &b[..7];
    let r = report(&d, &["month", "--month", month]);
    let all = month_days(b);
    assert_eq!(r["period"]["to"], all.last().unwrap().as_str());
    check_report(&d, &r, &rows, &[b, c], &all);
    // The default month is last month: the same report.
    let default = report(&d, &["month"]);
    assert_eq!(default["stations"], r["stations"]);
    // The district-wide eco-burial share.
    let total_new: u64 = r["sites"].as_array().unwrap().iter().map(|s| s["new_interments"].as_u64().unwrap()).sum();
    assert_eq!(r["burials"]["new_interments"].as_u64(), Some(total_new));

    // Cases count by when they happened: today. (The rules may open cases of their own today,
    // long stays among them, so opened cases are compared with the case list.)
    let today = today_local();
    let before = report(&d, &["day", "--date", &today]);
    let opened = d.mzd_ok(&["case", "open", "--street", "ST-01", "--summary", "火灾后无处居住", "--json"]);
    let id = serde_json::from_str::<Value>(&opened).unwrap()["id"].as_str().unwrap().to_owned();
    d.mzd_ok(&["case", "act", &id, "accept"]);
    d.mzd_ok(&["case", "act", &id, "pay", "300.50"]);
    let after = report(&d, &["day", "--date", &today]);
    let paid = after["cases"]["paid_fen"].as_i64().unwrap() - before["cases"]["paid_fen"].as_i64().unwrap();
    assert_eq!(paid, 30_050, "{:#}", after["cases"]);
    let start = Instant::now();
    loop {
        let list: Value = serde_json::from_str(&d.mzd_ok(&["case", "list", "--json"])).unwrap();
        let today_opened =
            list.as_array().unwrap().iter().filter(|c| c["opened_at"].as_str().unwrap().starts_with(&today)).count();
        let r = report(&d, &["day", "--date", &today]);
        if r["cases"]["opened"].as_u64() == Some(today_opened as u64) {
            break;
        }
        if start.elapsed() > DEFAULT_TIMEOUT {
            d.fail(&format!("cases opened today: the list has {today_opened}, the report {}", r["cases"]));
        }
        std::thread::sleep(POLL * 4);
    }
    let text = d.mzd_ok(&["report", "day", "--date", &today, "--format", "csv"]);
    assert!(text.contains(",300.50"), "money in yuan with two decimals:\n{text}");
    d.terminate();
}

#[test]
fn a_late_file_for_a_closed_day_rewrites_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    let days = boundary_days();
    let rows = generate(&days, 7);
    drop_all(&d, &rows, "first");
    d.wait_files(3);
    let (a, b) = (days[0].as_str(), days[1].as_str());
    let path = day_file(&d, a, "json");
    let first = wait_json(&d, &path, "the day's report written", |v| v["period"]["from"] == a);
    // The files of one round come one tick after another (rounds are short: they run between files).
    for p in [path.clone(), day_file(&d, a, "csv"), month_file(&d, &b[..7], "json"), month_file(&d, &a[..7], "csv")] {
        wait_file(&d, &p);
        assert_eq!(mode(&p), 0o640, "{} mode", p.display());
    }
    let p04 = |v: &Value, k: &str| {
        v["stations"].as_array().unwrap().iter().find(|s| s["id"] == "TZ-P04").unwrap()[k].as_u64()
    };
    assert_eq!(p04(&first, "admissions"), Some(0));
    // Two arrivals at TZ-P04 on day a, dropped now: a's files, a's month, and b's census change.
    let late: Vec<Event> = (0..2)
        .map(|i| Event {
            id: format!("LATE{i}"),
            station: "TZ-P04",
            kind: "admit",
            date: a.to_owned(),
            time: format!("23:0{i}"),
            person: format!("L{i}"),
            id_number: None,
            referral: "hotline",
            reason: "",
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1100)); // generated_at has whole seconds
    d.drop_file("admissions", "late.csv", admissions_file(&late));
    let rewritten = wait_json(&d, &path, "the late file counted", |v| p04(v, "admissions") == Some(2));
    assert_eq!(p04(&rewritten, "occupied_at_end"), Some(2));
    assert_ne!(rewritten["generated_at"], first["generated_at"], "the JSON says when it was generated");
    let csv = fs::read_to_string(day_file(&d, a, "csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("TZ-P04,") && l.split(',').nth(3) == Some("2")), "{csv}");
    wait_json(&d, &day_file(&d, b, "json"), "the next day's census", |v| p04(v, "occupied_at_end") == Some(2));
    wait_json(&d, &month_file(&d, &a[..7], "json"), "the month of the late day", |v| p04(v, "admissions") == Some(2));
    d.terminate();
}

/// `mzd run` with the statistics clock at `now`.
fn start_at(d: &mut Daemon, now: &str) {
    d.env = vec![("MZD_STATISTICS_NOW".into(), now.into())];
    d.spawn();
}

#[test]
fn periods_that_ended_while_stopped_are_written_at_start_and_the_csv_opens_in_excel() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    start_at(&mut d, "2026-03-11T01:00:00+08:00");
    let days = vec!["2026-03-10".to_owned(), "2026-03-11".to_owned()];
    let rows = generate(&days, 21);
    drop_all(&d, &rows, "march");
    d.wait_files(3);
    wait_json(&d, &day_file(&d, "2026-03-10", "json"), "the ended day written", |v| v["complete"] == true);
    assert!(!day_file(&d, "2026-03-11", "json").exists(), "today has no file yet");
    assert!(!month_file(&d, "2026-03", "json").exists(), "the month has not ended");
    // A day still running: bed-days count only ended days; occupancy is now's.
    let running = report(&d, &["day", "--date", "2026-03-11"]);
    assert_eq!(running["complete"], false);
    assert!(running["stations"].as_array().unwrap().iter().all(|s| s["bed_days"] == 0));
    d.terminate();

    // Stopped across the end of March: at start the days and the month it missed are written.
    start_at(&mut d, "2026-04-02T09:00:00+08:00");
    let march = wait_json(&d, &month_file(&d, "2026-03", "json"), "March written at start", |_| true);
    check_report(&d, &march, &rows, &["2026-03-10", "2026-03-11"], &month_days("2026-03-01"));
    let day11 = wait_json(&d, &day_file(&d, "2026-03-11", "json"), "the missed day", |_| true);
    check_report(&d, &day11, &rows, &["2026-03-11"], &["2026-03-11".to_owned()]);
    let quiet = wait_json(&d, &day_file(&d, "2026-04-01", "json"), "a day without events", |_| true);
    assert!(quiet["stations"].as_array().unwrap().iter().all(|s| s["admissions"] == 0));
    assert!(!day_file(&d, "2026-04-02", "json").exists(), "today is still running");
    assert!(!day_file(&d, "2026-03-09", "json").exists(), "nothing before the first event");
    for p in [month_file(&d, "2026-03", "csv"), day_file(&d, "2026-03-31", "csv")] {
        assert_eq!(mode(&p), 0o640, "{} mode", p.display());
    }

    // The CSV as Excel on Chinese Windows reads it: a BOM, UTF-8, the tables one after another.
    let bytes = fs::read(month_file(&d, "2026-03", "csv")).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).expect("valid UTF-8");
    assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'), "CRLF line ends");
    let titles = ["救助站（流浪乞讨人员救助）", "入站来源", "受助人户籍地", "殡葬", "婚姻登记", "救急难", "在站事项"];
    let mut at = 0;
    for t in titles {
        at += text[at..].find(t).unwrap_or_else(|| panic!("table {t} after byte {at}:\n{text}"));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let header = records.iter().position(|r| &r[0] == "救助站编码").expect("station header row");
    assert_eq!(&records[header][3], "入站人次");
    let jzz = records.iter().find(|r| &r[0] == "TZ-JZZ").expect("TZ-JZZ row");
    let admits = count(&rows.events, "TZ-JZZ", "admit", &["2026-03-10", "2026-03-11"]);
    assert_eq!(jzz[3].parse::<u64>().ok(), Some(admits), "a number, not text");
    assert_eq!(&jzz[1], "通州区救助管理站");
    // The same CSV from the command line.
    let printed = d.mzd(&["report", "month", "--month", "2026-03", "--format", "csv"]);
    assert!(printed.stdout.starts_with(&[0xEF, 0xBB, 0xBF]));
    d.terminate();
}

#[test]
fn a_report_folder_that_cannot_be_written_is_a_problem_until_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    // A file where the day reports' folder should be: no write goes through, not even as root.
    let blocker = d.data.join("reports").join("day");
    fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    fs::write(&blocker, "not a folder").unwrap();
    d.spawn();
    let days = boundary_days();
    drop_all(&d, &generate(&days, 11), "first");
    d.wait_files(3);
    let has_problem = |s: &Value| {
        s["problems"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().contains("report files cannot be written"))
    };
    let s = d.wait_until("a problem about the report files", has_problem);
    assert_eq!(s["healthy"], true, "ingest goes on: {s:#}");
    assert_eq!(files_written(&d), 3, "rows still stored");
    fs::remove_file(&blocker).unwrap();
    wait_file(&d, &day_file(&d, &days[0], "csv"));
    d.wait_until("the problem gone once the folder can be written", |s| !has_problem(s));
}

fn files_written(d: &Daemon) -> u64 {
    mz_tests::files_handled(&d.status())
}
