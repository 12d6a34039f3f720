//! `mzc --demo`: an embedded daemon on a fresh temporary data folder with the demo registry,
//! and a generator thread that drops realistic files into its inbox every few seconds.
//!
//! Demo time runs [`CLOCK_SPEED`] times faster than the wall clock (the tab bar says so), so a
//! district's pace — tens of arrivals a day, registrations in office hours, a burial report now
//! and then — still shows movement within a minute. People, names and ID numbers come from
//! `mz-testdata`.
//!
//! The generator ([`Generator`]) is pure (time and randomness passed in) so its rows can be
//! checked against the shared validation. It writes: admissions with valid ID numbers (GB 11643
//! check digit), discharges of earlier arrivals, an incident, a minor's arrival, a long stay (an
//! arrival 12 days ago), an over-full temporary point, a few bad rows; monthly burial reports
//! with one site near 90 % full and one village point whose capacity grows; marriages, divorce
//! applications and divorces, including a divorce within 30 days of its application and a
//! bigamy case.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use mz_shared::feed::Feed;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One generated row; `valid` says whether it is meant to pass validation.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRow {
    /// One value per header column, in the header's order.
    pub cells: Vec<String>,
    /// Meant to pass validation; a false row is a deliberate mistake that should be rejected.
    pub valid: bool,
}

/// One generated drop file.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFile {
    /// The feed whose inbox folder it goes to.
    pub feed: Feed,
    /// The file name in the inbox, unique per file.
    pub name: String,
    /// Header cells: canonical names, or the Chinese aliases.
    pub header: Vec<String>,
    /// The rows, in file order.
    pub rows: Vec<DemoRow>,
}

impl DemoFile {
    fn new(feed: Feed, name: String, chinese_header: bool) -> DemoFile {
        let header =
            feed.columns().iter().map(|c| if chinese_header { c.zh.to_string() } else { c.name.to_string() }).collect();
        DemoFile { feed, name, header, rows: Vec::new() }
    }

    /// The file's CSV text (UTF-8).
    pub fn to_csv(&self) -> String {
        let mut out = self.header.join(",");
        out.push('\n');
        for r in &self.rows {
            out.push_str(&r.cells.join(","));
            out.push('\n');
        }
        out
    }
}

use mz_testdata::people::{self, Person, Sex};
use mz_testdata::places::{self, REGIONS};
use mz_testdata::{names, Rng};

/// How much faster than the wall clock the demo's time runs (shown on screen as
/// `演示：时间加速 ×60`, see `i18n::DEMO`).
pub const CLOCK_SPEED: u32 = 60;

/// Arrivals per day across the district (the station and its temporary points).
const ARRIVALS_PER_DAY: f64 = 36.0;
/// Marriage-office registrations per office hour, all offices together.
const REGISTRATIONS_PER_HOUR: f64 = 1.5;
const DISCHARGES: &[&str] = &["home", "family", "welfare", "hospital", "left"];
const POINTS: &[&str] = &["TZ-P01", "TZ-P02", "TZ-P03", "TZ-P05"];

/// Someone the generator admitted and has not discharged yet.
#[derive(Debug, Clone)]
struct Resident {
    station: &'static str,
    person_ref: String,
    at: Timestamp,
    long_stay: bool,
    /// The bed they hold; `None` when the station was full (a mat, not a bed).
    bed: Option<u32>,
}

/// A burial site's running figures, so each report continues the last one.
#[derive(Debug, Clone)]
struct Site {
    id: String,
    village: bool,
    cap: u32,
    occ: u32,
    last_report: Option<Date>,
}

/// Produces the demo's drop files. Pure: `now` (demo time) is passed in. Invariants: a bed is
/// given only when no resident holds it; names, sex and ID numbers agree; marriage-office rows
/// fall in office hours; burial figures only grow, a few graves at a time.
pub struct Generator {
    rng: Rng,
    tz: TimeZone,
    seq: u32,
    files: u32,
    residents: Vec<Resident>,
    beds: std::collections::BTreeMap<&'static str, u32>,
    sites: Vec<Site>,
    last: Option<Timestamp>,
}

impl Generator {
    /// A generator for the demo registry; the same `seed` gives the same files.
    pub fn new(seed: u64) -> Generator {
        let registry = mz_shared::registry::Registry::demo();
        let beds = places::STATIONS.iter().map(|s| (*s, registry.station(s).map_or(0, |st| st.beds))).collect();
        Generator {
            rng: Rng::new(seed),
            tz: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC),
            seq: 0,
            files: 0,
            residents: Vec::new(),
            beds,
            sites: Vec::new(),
            last: None,
        }
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("DEMO-{prefix}-{:05}", self.seq)
    }

    fn file_name(&mut self, stem: &str) -> String {
        self.files += 1;
        format!("{stem}-{:03}.csv", self.files)
    }

    fn civil(&self, t: Timestamp) -> jiff::civil::DateTime {
        t.to_zoned(self.tz.clone()).datetime()
    }

    fn local(&self, t: Timestamp) -> String {
        mz_testdata::time::row_time(self.civil(t))
    }

    fn today(&self, now: Timestamp) -> Date {
        now.to_zoned(self.tz.clone()).date()
    }

    fn at_local(&self, dt: jiff::civil::DateTime) -> Option<Timestamp> {
        dt.to_zoned(self.tz.clone()).ok().map(|z| z.timestamp())
    }

    /// Someone `age` years old on `on`, sex, name and ID number agreeing.
    fn person(&mut self, on: Date, age: i16, sex: Sex) -> Person {
        people::person(&mut self.rng, on, age, sex)
    }

    /// The lowest-numbered bed of `station` nobody holds.
    fn free_bed(&self, station: &str) -> Option<u32> {
        let total = self.beds.get(station).copied().unwrap_or(0);
        (1..=total).find(|b| !self.residents.iter().any(|r| r.station == station && r.bed == Some(*b)))
    }

    fn admit(&mut self, f: &mut DemoFile, station: &'static str, at: Timestamp, age: Option<i16>, long_stay: bool) {
        let record = self.next_id("A");
        let person_ref = format!("{station}-{:05}", self.seq);
        let on = at.to_zoned(self.tz.clone()).date();
        let (name, id, gender, origin) = if age.is_none() && self.rng.chance(15) {
            (names::UNKNOWN.to_string(), String::new(), "unknown".to_string(), String::new())
        } else {
            let sex = Sex::random(&mut self.rng, 70);
            let age = age.unwrap_or_else(|| self.rng.range(19, 78) as i16);
            let p = self.person(on, age, sex);
            (p.name, p.id, sex.code().to_string(), p.origin.to_string())
        };
        let mut flags = Vec::new();
        if self.rng.chance(12) {
            flags.push("mental");
        }
        if self.rng.chance(10) {
            flags.push("ill");
        }
        if self.rng.chance(5) {
            flags.push("disabled");
        }
        let referral = if age.is_some_and(|a| a < 18) { "police" } else { *self.rng.pick(places::REFERRALS) };
        let bed = self.free_bed(station);
        let bed_cell = bed.map_or(String::new(), |b| format!("{}-{b:02}", if station == "TZ-JZZ" { "A" } else { "L" }));
        let mut cells = vec![record, station.into(), "admit".into(), self.local(at), person_ref.clone(), name, id];
        cells.extend([gender, String::new(), origin, referral.into(), flags.join(";"), bed_cell]);
        cells.extend([String::new(), String::new(), String::new()]);
        f.rows.push(DemoRow { cells, valid: true });
        self.residents.push(Resident { station, person_ref, at, long_stay, bed });
    }

    fn station_event(&mut self, f: &mut DemoFile, r: &Resident, at: Timestamp, event: &str, detail: &str) {
        let record = self.next_id("A");
        let (dr, it) = if event == "discharge" { (detail, "") } else { ("", detail) };
        let mut cells = vec![String::new(); 16];
        cells[0] = record;
        cells[1] = r.station.into();
        cells[2] = event.into();
        cells[3] = self.local(at);
        cells[4] = r.person_ref.clone();
        cells[13] = dr.into();
        cells[14] = it.into();
        f.rows.push(DemoRow { cells, valid: true });
    }

    /// Discharges the earliest resident of `station` that is not the long stay (freeing the bed).
    fn discharge_one(&mut self, f: &mut DemoFile, station: &str, at: Timestamp) {
        if let Some(i) = self.residents.iter().position(|r| r.station == station && !r.long_stay && r.at < at) {
            let r = self.residents.remove(i);
            let reason = *self.rng.pick(DISCHARGES);
            self.station_event(f, &r, at, "discharge", reason);
        }
    }

    fn incident(&mut self, f: &mut DemoFile, at: Timestamp) {
        let candidates: Vec<Resident> =
            self.residents.iter().filter(|r| r.at < Self::ago(at, 600) && !r.long_stay).cloned().collect();
        if !candidates.is_empty() {
            let r = self.rng.pick(&candidates).clone();
            let kind = *self.rng.pick(&["severe_illness", "injury", "conflict"]);
            self.station_event(f, &r, at, "incident", kind);
        }
    }

    fn occupancy(&self, station: &str) -> usize {
        self.residents.iter().filter(|r| r.station == station).count()
    }

    fn bad_rows(&mut self, f: &mut DemoFile, at: Timestamp) {
        let on = at.to_zoned(self.tz.clone()).date();
        // A wrong check digit.
        let p = self.person(on, 40, Sex::Male);
        let mut cells = vec![String::new(); 16];
        cells[0] = self.next_id("A");
        cells[1] = "TZ-JZZ".into();
        cells[2] = "admit".into();
        cells[3] = self.local(at);
        cells[4] = format!("TZ-JZZ-X{}", self.seq);
        cells[5] = p.name;
        cells[6] = mz_testdata::id_number::with_wrong_check(&p.id);
        cells[10] = "patrol".into();
        f.rows.push(DemoRow { cells, valid: false });
        // A station that is not in the registry.
        let mut cells = vec![String::new(); 16];
        cells[0] = self.next_id("A");
        cells[1] = "TZ-P99".into();
        cells[2] = "admit".into();
        cells[3] = self.local(at);
        cells[4] = format!("TZ-P99-{}", self.seq);
        cells[10] = "self".into();
        f.rows.push(DemoRow { cells, valid: false });
    }

    fn ago(now: Timestamp, secs: i64) -> Timestamp {
        now.checked_sub(SignedDuration::from_secs(secs)).unwrap_or(now)
    }

    /// The first batch: history (burial reports of six months, 30 days of registrations with a
    /// bigamous marriage and a divorce inside its cooling-off period), the residents present,
    /// the long stay, a minor, an over-full point, an incident, a few bad rows.
    pub fn initial(&mut self, now: Timestamp) -> Vec<DemoFile> {
        self.last = Some(now);
        let today = self.today(now);
        let mut files = vec![self.burial_history(today), self.marriage_history(now)];

        let mut f = DemoFile::new(Feed::Admissions, "通州区救助管理站-入站登记.csv".into(), true);
        self.admit(&mut f, "TZ-JZZ", Self::ago(now, 12 * 86400 + 3600), Some(67), true);
        let mut arrivals: Vec<(&'static str, i64)> = Vec::new();
        for _ in 0..26 {
            arrivals.push(("TZ-JZZ", self.rng.range(1800, 6 * 86400) as i64));
        }
        for _ in 0..7 {
            arrivals.push(("TZ-P04", self.rng.range(1800, 2 * 86400) as i64));
        }
        for _ in 0..8 {
            let p = *self.rng.pick(POINTS);
            arrivals.push((p, self.rng.range(1800, 3 * 86400) as i64));
        }
        arrivals.sort_by_key(|a| std::cmp::Reverse(a.1));
        for (station, secs) in arrivals {
            self.admit(&mut f, station, Self::ago(now, secs), None, false);
        }
        // A minor brought in by the police this morning.
        self.admit(&mut f, "TZ-JZZ", Self::ago(now, 1200), Some(15), false);
        files.push(f);

        let mut f = DemoFile::new(Feed::Admissions, self.file_name("adm"), false);
        for _ in 0..4 {
            self.discharge_one(&mut f, "TZ-JZZ", Self::ago(now, 600));
        }
        self.incident(&mut f, Self::ago(now, 300));
        self.bad_rows(&mut f, Self::ago(now, 120));
        files.push(f);
        files
    }

    /// Six month-end reports per site. Figures only grow: one cemetery reaches 91 % in the last
    /// month (from about 88 %), one village point's capacity grows once.
    fn burial_history(&mut self, today: Date) -> DemoFile {
        let mut f = DemoFile::new(Feed::Burials, "殡葬月报.csv".into(), true);
        let registry = mz_shared::registry::Registry::demo();
        let month_ends: Vec<Date> = (1..=6)
            .rev()
            .filter_map(|m| today.first_of_month().checked_sub(jiff::Span::new().months(m - 1)).ok())
            .filter_map(|d| d.checked_sub(jiff::Span::new().days(1)).ok())
            .collect();
        for site in &registry.sites {
            let village = site.kind == mz_shared::registry::SiteKind::Village;
            let mut cap = match site.kind {
                mz_shared::registry::SiteKind::Village => self.rng.range(120, 300) as u32,
                mz_shared::registry::SiteKind::Columbarium => 12000,
                _ => self.rng.range(2000, 6000) as u32,
            };
            let news: Vec<u32> = month_ends
                .iter()
                .map(|_| if village { self.rng.range(0, 3) as u32 } else { self.rng.range(8, 40) as u32 })
                .collect();
            let total: u32 = news.iter().sum();
            let mut occ = if site.id == "C-MJQ" {
                (cap * 91 / 100).saturating_sub(total)
            } else {
                cap * self.rng.range(35, 75) as u32 / 100
            };
            for (i, (d, new)) in month_ends.iter().zip(news).enumerate() {
                if site.id == "V-SZ-01" && i == month_ends.len() - 1 {
                    cap += 40;
                }
                occ = (occ + new).min(cap);
                let row = self.burial_row(&site.id, *d, cap, occ, new);
                f.rows.push(row);
            }
            self.sites.push(Site { id: site.id.clone(), village, cap, occ, last_report: None });
        }
        f
    }

    fn burial_row(&mut self, site: &str, on: Date, cap: u32, occ: u32, new: u32) -> DemoRow {
        let eco = new * self.rng.range(30, 70) as u32 / 100;
        let free = self.rng.range(0, new.into());
        let cells = vec![
            self.next_id("B"),
            site.to_string(),
            on.strftime("%Y-%m-%d").to_string(),
            cap.to_string(),
            occ.to_string(),
            new.to_string(),
            eco.to_string(),
            free.to_string(),
            String::new(),
        ];
        DemoRow { cells, valid: true }
    }

    /// A report for one site not reported today: a few more graves than its last report.
    fn burial_update(&mut self, f: &mut DemoFile, today: Date) {
        let due: Vec<usize> = (0..self.sites.len()).filter(|i| self.sites[*i].last_report != Some(today)).collect();
        let Some(&i) = (!due.is_empty()).then(|| self.rng.pick(&due)) else { return };
        let new = if self.sites[i].village { self.rng.range(0, 1) } else { self.rng.range(0, 3) } as u32;
        let s = &mut self.sites[i];
        s.occ = (s.occ + new).min(s.cap);
        s.last_report = Some(today);
        let (id, cap, occ) = (s.id.clone(), s.cap, s.occ);
        let row = self.burial_row(&id, today, cap, occ, new);
        f.rows.push(row);
    }

    fn marriage_row(
        &mut self,
        office: &str,
        at: Timestamp,
        kind: &str,
        a: Option<&Person>,
        b: Option<&Person>,
    ) -> DemoRow {
        let hukou = |rng: &mut Rng| if rng.chance(80) { "110112".to_string() } else { rng.pick(REGIONS).0.to_string() };
        let ha = hukou(&mut self.rng);
        let hb = hukou(&mut self.rng);
        let counselling = match self.rng.range(0, 2) {
            0 => "是",
            1 => "否",
            _ => "",
        };
        DemoRow {
            cells: vec![
                self.next_id("M"),
                office.into(),
                self.local(at),
                kind.into(),
                a.map_or(String::new(), |p| p.id.clone()),
                b.map_or(String::new(), |p| p.id.clone()),
                ha,
                hb,
                counselling.into(),
            ],
            valid: true,
        }
    }

    fn couple(&mut self, on: Date) -> (Person, Person) {
        let a = self.rng.range(24, 45) as i16;
        let b = self.rng.range(22, 42) as i16;
        (self.person(on, a, Sex::Male), self.person(on, b, Sex::Female))
    }

    /// A time in office hours on `date` (`None` on a weekend).
    fn office_at(&mut self, date: Date) -> Option<Timestamp> {
        let dt = mz_testdata::time::office_time(&mut self.rng, date)?;
        self.at_local(dt)
    }

    /// Registrations of the last 29 days, on weekdays in office hours. A man married about 20
    /// days ago marries again in the last three days (bigamy); a couple applies for divorce about
    /// ten days ago and divorces in the last three days (inside the 30-day cooling-off period).
    fn marriage_history(&mut self, now: Timestamp) -> DemoFile {
        let mut f = DemoFile::new(Feed::Marriages, self.file_name("mar"), false);
        let today = self.today(now);
        let (mut bigamist, mut cooling): (Option<Person>, Option<(Person, Person)>) = (None, None);
        let (mut bigamy_done, mut cooling_done) = (false, false);
        for day in (1..30).rev() {
            let Some(date) = today.checked_sub(jiff::Span::new().days(day)).ok() else { continue };
            if !mz_testdata::time::is_weekday(date) {
                continue;
            }
            for (office, lo, hi) in [("M-TZ", 2, 8), ("M-TZ-MJQ", 0, 3)] {
                let n = self.rng.range(lo, hi);
                for _ in 0..n {
                    self.history_registration(&mut f, office, date, "marriage");
                }
                if self.rng.chance(40) {
                    self.history_divorce_application(&mut f, office, date);
                }
                if self.rng.chance(25) {
                    self.history_registration(&mut f, office, date, "divorce");
                }
                if self.rng.chance(20) {
                    if let Some(at) = self.office_at(date) {
                        let row = self.marriage_row(office, at, "reissue", None, None);
                        f.rows.push(row);
                    }
                }
            }
            let at = self.office_at(date).unwrap_or(now);
            if day <= 20 && !bigamy_done && bigamist.is_none() {
                let (a, b) = self.couple(today);
                f.rows.push(self.marriage_row("M-TZ", at, "marriage", Some(&a), Some(&b)));
                bigamist = Some(a);
            }
            if day <= 10 && !cooling_done && cooling.is_none() {
                let (a, b) = self.couple(today);
                f.rows.push(self.marriage_row("M-TZ", at, "divorce_application", Some(&a), Some(&b)));
                cooling = Some((a, b));
            }
            if day <= 3 {
                if let Some(a) = bigamist.take() {
                    let b = self.person(today, 30, Sex::Female);
                    f.rows.push(self.marriage_row("M-TZ-MJQ", at, "marriage", Some(&a), Some(&b)));
                    bigamy_done = true;
                }
                if let Some((a, b)) = cooling.take() {
                    f.rows.push(self.marriage_row("M-TZ", at, "divorce", Some(&a), Some(&b)));
                    cooling_done = true;
                }
            }
        }
        f
    }

    fn history_registration(&mut self, f: &mut DemoFile, office: &str, date: Date, kind: &str) {
        let Some(at) = self.office_at(date) else { return };
        let (a, b) = self.couple(date);
        let row = self.marriage_row(office, at, kind, Some(&a), Some(&b));
        f.rows.push(row);
    }

    /// A divorce application, withdrawn later the same day three times in ten.
    fn history_divorce_application(&mut self, f: &mut DemoFile, office: &str, date: Date) {
        let (Some(t1), Some(t2)) = (self.office_at(date), self.office_at(date)) else { return };
        let (a, b) = self.couple(date);
        let row = self.marriage_row(office, t1.min(t2), "divorce_application", Some(&a), Some(&b));
        f.rows.push(row);
        if t1 != t2 && self.rng.chance(30) {
            let row = self.marriage_row(office, t1.max(t2), "divorce_withdrawal", Some(&a), Some(&b));
            f.rows.push(row);
        }
    }

    /// The rows of the demo time since the last call, up to `now`: arrivals at about
    /// [`ARRIVALS_PER_DAY`], as many departures, now and then an incident or a bad row,
    /// marriage-office registrations in office hours only, and burial reports a few graves on.
    /// Only files with rows are returned (often none: a district is quiet minute to minute).
    pub fn next(&mut self, now: Timestamp) -> Vec<DemoFile> {
        let prev = self.last.replace(now).unwrap_or(now);
        let minutes = (now.duration_since(prev).as_secs() / 60).clamp(0, 24 * 60);
        let per_min = ARRIVALS_PER_DAY / 1440.0;
        let mut f = DemoFile::new(Feed::Admissions, String::new(), false);
        let mut m = DemoFile::new(Feed::Marriages, String::new(), false);
        let mut b = DemoFile::new(Feed::Burials, String::new(), false);
        for i in 0..minutes {
            let at = Self::ago(now, (minutes - 1 - i) * 60 + self.rng.range(0, 59) as i64);
            if self.rng.bernoulli(per_min) {
                let station = if self.rng.chance(65) { "TZ-JZZ" } else { *self.rng.pick(POINTS) };
                self.admit(&mut f, station, at, None, false);
            }
            if self.rng.bernoulli(per_min) {
                let station = if self.occupancy("TZ-JZZ") > 30 || self.rng.chance(65) {
                    "TZ-JZZ"
                } else {
                    *self.rng.pick(POINTS)
                };
                self.discharge_one(&mut f, station, at);
            }
            if self.rng.bernoulli(2.0 / 1440.0) {
                self.incident(&mut f, at);
            }
            if self.rng.bernoulli(3.0 / 1440.0) {
                self.bad_rows(&mut f, at);
            }
            if self.rng.bernoulli(self.sites.len() as f64 / 1440.0) {
                self.burial_update(&mut b, self.today(at));
            }
            if mz_testdata::time::in_office_hours(self.civil(at)) && self.rng.bernoulli(REGISTRATIONS_PER_HOUR / 60.0) {
                let office = if self.rng.chance(70) { "M-TZ" } else { "M-TZ-MJQ" };
                let kind = if self.rng.chance(75) { "marriage" } else { "divorce_application" };
                let (pa, pb) = self.couple(self.today(at));
                let row = self.marriage_row(office, at, kind, Some(&pa), Some(&pb));
                m.rows.push(row);
            }
        }
        let mut out = Vec::new();
        for (mut file, stem) in [(f, "adm"), (m, "mar"), (b, "bur")] {
            if !file.rows.is_empty() {
                file.name = self.file_name(stem);
                out.push(file);
            }
        }
        out
    }
}

/// Writes `file` into `<inbox>/<feed>/` the safe way: a hidden temporary name, then a rename.
pub fn drop_file(inbox: &Path, file: &DemoFile) -> std::io::Result<()> {
    let dir = inbox.join(file.feed.as_str());
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".{}.tmp", file.name));
    std::fs::write(&tmp, file.to_csv())?;
    std::fs::rename(&tmp, dir.join(&file.name))
}

/// The running demo: temporary folder, embedded daemon, generator thread.
#[cfg(feature = "demo")]
pub struct Demo {
    dir: tempfile::TempDir,
    /// The embedded daemon's socket, inside the demo's temporary folder.
    pub socket: PathBuf,
    stop_daemon: Option<tokio::sync::oneshot::Sender<()>>,
    daemon: Option<tokio::task::JoinHandle<Result<(), mzd::service::ServiceError>>>,
    stop_generator: Arc<AtomicBool>,
    generator: Option<std::thread::JoinHandle<()>>,
}

/// Seconds between generated batches.
pub const INTERVAL: Duration = Duration::from_secs(4);

#[cfg(feature = "demo")]
impl Demo {
    /// Starts the daemon (as a task of the current runtime) and the generator.
    pub fn start() -> anyhow::Result<Demo> {
        let dir = tempfile::Builder::new().prefix("mzc-demo-").tempdir()?;
        let data = dir.path().join("data");
        let inbox = data.join("inbox");
        for feed in Feed::ALL {
            std::fs::create_dir_all(inbox.join(feed.as_str()))?;
        }
        std::fs::write(data.join("registry.toml"), demo_registry_for(&current_user()))?;
        let socket = data.join("mzd.sock");
        let settings = mzd::service::Settings {
            data: data.clone(),
            inbox: inbox.clone(),
            socket: socket.clone(),
            registry: data.join("registry.toml"),
            socket_group: None,
            metrics: None,
            restart_in_place: false,
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let daemon = tokio::spawn(async move {
            let r = mzd::service::run(settings, async {
                let _ = stop_rx.await;
            })
            .await;
            if let Err(e) = &r {
                tracing::error!(error = %e, "demo daemon stopped with an error");
            }
            r
        });
        let stop = Arc::new(AtomicBool::new(false));
        let generator = {
            let stop = stop.clone();
            std::thread::Builder::new().name("mzc-demo-generator".into()).spawn(move || generate(&inbox, &stop))?
        };
        tracing::info!(dir = %dir.path().display(), "demo started");
        Ok(Demo {
            dir,
            socket,
            stop_daemon: Some(stop_tx),
            daemon: Some(daemon),
            stop_generator: stop,
            generator: Some(generator),
        })
    }

    /// Stops the generator and the daemon, then removes the temporary folder.
    pub async fn stop(mut self) {
        self.stop_generator.store(true, Ordering::SeqCst);
        if let Some(g) = self.generator.take() {
            let _ = tokio::task::spawn_blocking(move || g.join()).await;
        }
        if let Some(tx) = self.stop_daemon.take() {
            let _ = tx.send(());
        }
        if let Some(d) = self.daemon.take() {
            match tokio::time::timeout(Duration::from_secs(20), d).await {
                Ok(Ok(Ok(()))) => tracing::info!("demo daemon stopped"),
                other => tracing::warn!(?other, "demo daemon did not stop cleanly"),
            }
        }
        tracing::info!(dir = %self.dir.path().display(), "removing demo folder");
    }
}

/// Demo time: the wall clock at the start, then [`CLOCK_SPEED`] times faster.
#[cfg(feature = "demo")]
fn demo_now(start: Timestamp, since: std::time::Instant) -> Timestamp {
    let elapsed = since.elapsed().saturating_mul(CLOCK_SPEED);
    SignedDuration::try_from(elapsed).ok().and_then(|d| start.checked_add(d).ok()).unwrap_or(start)
}

#[cfg(feature = "demo")]
fn generate(inbox: &Path, stop: &AtomicBool) {
    let (start, since) = (Timestamp::now(), std::time::Instant::now());
    let mut g = Generator::new(start.as_nanosecond() as u64);
    let mut batch = g.initial(start);
    loop {
        for f in &batch {
            if let Err(e) = drop_file(inbox, f) {
                tracing::warn!(file = %f.name, error = %e, "demo generator could not drop a file");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let until = std::time::Instant::now() + INTERVAL;
        while std::time::Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        batch = g.next(demo_now(start, since));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::feed::HeaderMap;
    use mz_shared::id_number::IdHasher;
    use mz_shared::records::Record;
    use mz_shared::registry::Registry;
    use mz_shared::validate::{validate_row, ValidationContext};
    use std::collections::{BTreeMap, BTreeSet};

    fn batches() -> (Vec<DemoFile>, Timestamp) {
        let now: Timestamp = "2026-03-15T06:30:00Z".parse().unwrap();
        let mut g = Generator::new(7);
        let mut files = g.initial(now);
        for i in 1..=30 {
            files.extend(g.next(now.checked_add(SignedDuration::from_secs(4 * 60 * i)).unwrap()));
        }
        (files, now)
    }

    fn validated(files: &[DemoFile]) -> Vec<(String, Record)> {
        let registry = Registry::demo();
        let hasher = IdHasher::new([7; 32]);
        let ctx = ValidationContext { registry: &registry, hasher: &hasher };
        let mut out = Vec::new();
        for f in files {
            let map = HeaderMap::resolve(f.feed, &f.header).unwrap();
            assert!(map.missing.is_empty(), "{}: missing {:?}", f.name, map.missing);
            for r in &f.rows {
                let cells: Vec<&str> = r.cells.iter().map(String::as_str).collect();
                assert_eq!(cells.len(), f.header.len(), "{}: row width", f.name);
                let res = validate_row(f.feed, &map.values(&cells), &ctx);
                match (&res, r.valid) {
                    (Ok(rec), true) => out.push((f.name.clone(), rec.clone())),
                    (Err(_), false) => {}
                    (Ok(_), false) => panic!("{}: bad row passed validation: {:?}", f.name, r.cells),
                    (Err(e), true) => panic!("{}: row rejected: {e}\n{:?}", f.name, r.cells),
                }
            }
        }
        out
    }

    #[test]
    fn generated_rows_pass_validation_and_bad_ones_fail() {
        let (files, _) = batches();
        let records = validated(&files);
        assert!(records.len() > 300, "{}", records.len());
        assert!(files.iter().flat_map(|f| &f.rows).any(|r| !r.valid), "some bad rows");
        // CSV cells never need quoting.
        for f in &files {
            for r in &f.rows {
                assert!(r.cells.iter().all(|c| !c.contains([',', '"', '\n'])), "{:?}", r.cells);
            }
        }
    }

    #[test]
    fn the_demo_covers_every_alert_condition() {
        let (files, now) = batches();
        let records = validated(&files);
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let mut admitted: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut occupancy: BTreeMap<String, i64> = BTreeMap::new();
        let (mut minor, mut long_stay, mut incident, mut max_over) = (false, false, false, i64::MIN);
        let mut village_growth = false;
        let mut caps: BTreeMap<String, u32> = BTreeMap::new();
        let mut nearly_full = false;
        let mut married: BTreeSet<[u8; 16]> = BTreeSet::new();
        let mut bigamy = false;
        let mut applications: BTreeMap<([u8; 16], [u8; 16]), Timestamp> = BTreeMap::new();
        let mut cooling = false;
        let registry = Registry::demo();
        for (_, rec) in &records {
            match rec {
                Record::Station(e) => {
                    let key = (e.station_id.clone(), e.person_ref.clone());
                    match e.event {
                        mz_shared::records::EventKind::Admit => {
                            assert!(admitted.insert(key, 0).is_none(), "admitted twice: {}", e.person_ref);
                            *occupancy.entry(e.station_id.clone()).or_default() += 1;
                            minor |= e.flags.contains(&mz_shared::records::Flag::Minor);
                            long_stay |= e.occurred_at < now.checked_sub(SignedDuration::from_hours(11 * 24)).unwrap();
                        }
                        mz_shared::records::EventKind::Discharge => {
                            assert!(
                                admitted.remove(&key).is_some(),
                                "discharge of someone not admitted: {}",
                                e.person_ref
                            );
                            *occupancy.entry(e.station_id.clone()).or_default() -= 1;
                        }
                        mz_shared::records::EventKind::Incident => {
                            assert!(admitted.contains_key(&key), "incident of someone not admitted");
                            incident = true;
                        }
                    }
                    let beds = i64::from(registry.station(&e.station_id).unwrap().beds);
                    max_over = max_over.max(occupancy[&e.station_id] - beds);
                }
                Record::Burial(b) => {
                    let site = registry.site(&b.site_id).unwrap();
                    if let Some(prev) = caps.insert(b.site_id.clone(), b.capacity_total) {
                        village_growth |=
                            site.kind == mz_shared::registry::SiteKind::Village && b.capacity_total > prev;
                    }
                    nearly_full |= b.occupied * 10 >= b.capacity_total * 9;
                }
                Record::Marriage(m) => {
                    let (Some(a), Some(b)) = (&m.party_a_id, &m.party_b_id) else { continue };
                    match m.kind {
                        mz_shared::records::MarriageKind::Marriage => {
                            bigamy |= married.contains(&a.hash.0) || married.contains(&b.hash.0);
                            married.insert(a.hash.0);
                            married.insert(b.hash.0);
                        }
                        mz_shared::records::MarriageKind::DivorceApplication => {
                            applications.insert((a.hash.0, b.hash.0), m.registered_at);
                        }
                        mz_shared::records::MarriageKind::Divorce => {
                            if let Some(at) = applications.get(&(a.hash.0, b.hash.0)) {
                                cooling |= m.registered_at.duration_since(*at) < SignedDuration::from_hours(30 * 24);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let _ = tz;
        assert!(minor, "a minor's arrival");
        assert!(long_stay, "a long stay");
        assert!(incident, "an incident");
        assert!(max_over > 0, "an over-full station");
        assert!(village_growth, "a village point whose capacity grows");
        assert!(nearly_full, "a site near 90 % full");
        assert!(bigamy, "a bigamy case");
        assert!(cooling, "a divorce within 30 days of its application");
    }

    /// A demo day, batch by batch as `mzc --demo` makes them (4 s of wall time = 4 demo minutes).
    fn a_demo_day(start: Timestamp) -> Vec<DemoFile> {
        let mut g = Generator::new(11);
        let mut files = g.initial(start);
        for i in 1..=360 {
            let t = start.checked_add(SignedDuration::from_secs(i * 4 * i64::from(CLOCK_SPEED))).unwrap();
            files.extend(g.next(t));
        }
        files
    }

    #[test]
    fn the_demo_keeps_a_districts_pace() {
        let start: Timestamp = "2026-03-16T00:00:00Z".parse().unwrap();
        let mut g = Generator::new(3);
        let first = g.initial(start);
        let admitted_at_start = first.iter().filter(|f| f.feed == Feed::Admissions).flat_map(|f| &f.rows).count();
        let day: Vec<DemoFile> = a_demo_day(start).into_iter().skip(first.len()).collect();
        let admits = day
            .iter()
            .flat_map(|f| &f.rows)
            .filter(|r| r.valid && r.cells.get(2).is_some_and(|c| c == "admit"))
            .count();
        assert!((10..=80).contains(&admits), "{admits} arrivals in a demo day");
        assert!(admitted_at_start > 0);
        for f in day.iter().filter(|f| f.feed == Feed::Marriages) {
            for r in &f.rows {
                let at: jiff::civil::DateTime = r.cells[2].parse().unwrap();
                assert!(mz_testdata::time::in_office_hours(at), "registration out of hours: {:?}", r.cells);
            }
        }
    }

    #[test]
    fn beds_are_given_only_when_free_and_people_are_consistent() {
        let start: Timestamp = "2026-03-16T00:00:00Z".parse().unwrap();
        let mut held: BTreeMap<(String, String), String> = BTreeMap::new();
        for f in a_demo_day(start).iter().filter(|f| f.feed == Feed::Admissions) {
            for r in f.rows.iter().filter(|r| r.valid) {
                let c = &r.cells;
                let key = (c[1].clone(), c[4].clone());
                match c[2].as_str() {
                    "admit" => {
                        if !c[12].is_empty() {
                            assert!(
                                !held.values().any(|b| *b == format!("{}/{}", c[1], c[12])),
                                "bed {} of {} given twice",
                                c[12],
                                c[1]
                            );
                            held.insert(key, format!("{}/{}", c[1], c[12]));
                        }
                        if !c[6].is_empty() {
                            let male = (c[6].as_bytes()[16] - b'0') % 2 == 1;
                            assert_eq!(c[7], if male { "male" } else { "female" }, "{c:?}");
                            let given =
                                if male { mz_testdata::names::MALE_GIVEN } else { mz_testdata::names::FEMALE_GIVEN };
                            assert!(given.iter().any(|g| c[5].ends_with(g)), "{c:?}");
                        }
                    }
                    "discharge" => {
                        held.remove(&key);
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn burial_figures_only_grow() {
        let start: Timestamp = "2026-03-16T00:00:00Z".parse().unwrap();
        let mut last: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        let mut reports = 0;
        for f in a_demo_day(start).iter().filter(|f| f.feed == Feed::Burials) {
            for r in &f.rows {
                let (cap, occ): (u32, u32) = (r.cells[3].parse().unwrap(), r.cells[4].parse().unwrap());
                let new: u32 = r.cells[5].parse().unwrap();
                if let Some((pcap, pocc)) = last.insert(r.cells[1].clone(), (cap, occ)) {
                    assert!(cap >= pcap && occ >= pocc, "{:?} after {pcap}/{pocc}", r.cells);
                    assert!(occ - pocc <= new.max(3) + 40, "a jump: {:?} after {pocc}", r.cells);
                    reports += 1;
                }
            }
        }
        assert!(reports > 80, "{reports}");
    }

    #[test]
    fn the_screen_states_the_clock_speed() {
        use crate::i18n::{Lang, DEMO};
        assert!(DEMO.t(Lang::Zh).contains(&format!("×{CLOCK_SPEED}")), "{}", DEMO.t(Lang::Zh));
        assert!(DEMO.t(Lang::En).contains(&format!("×{CLOCK_SPEED}")), "{}", DEMO.t(Lang::En));
    }

    #[test]
    fn files_are_dropped_by_rename() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = Generator::new(1);
        let files = g.initial(Timestamp::now());
        for f in &files {
            drop_file(dir.path(), f).unwrap();
        }
        let adm: Vec<_> = std::fs::read_dir(dir.path().join("admissions")).unwrap().flatten().collect();
        assert_eq!(adm.len(), 2);
        assert!(adm.iter().all(|e| !e.file_name().to_string_lossy().starts_with('.')));
    }
}

/// The demo registry, with the user running the demo as an admin so every action (case desk,
/// approvals, station forms) can be tried. `[roles]` is the last table of the demo registry, so
/// a line appended lands in it.
fn demo_registry_for(user: &str) -> String {
    let mut text = mz_shared::registry::DEMO_REGISTRY.to_owned();
    if !user.is_empty() && !text.contains(&format!("\n{user} = ")) {
        text.push_str(&format!("\n# The user running `mzc --demo`.\n{user:?} = \"admin\"\n"));
    }
    text
}

/// The login name of the user running the console.
#[cfg(feature = "demo")]
fn current_user() -> String {
    mz_client::user_name(mz_client::current_uid())
}

#[cfg(test)]
mod registry_tests {
    #[test]
    fn the_demo_user_becomes_an_admin() {
        let text = super::demo_registry_for("alice");
        let reg = mz_shared::registry::Registry::parse(&text).expect("valid registry");
        assert_eq!(reg.role_of("alice"), mz_shared::registry::Role::Admin);
        assert_eq!(reg.role_of("duty1"), mz_shared::registry::Role::Officer);
    }
}
