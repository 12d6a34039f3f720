//! `mzc --demo`: an embedded daemon on a fresh temporary data folder with the demo registry,
//! and a generator thread that drops realistic files into its inbox every few seconds.
//!
//! The generator ([`Generator`]) is pure (time and randomness passed in) so its rows can be
//! checked against the shared validation. It writes: admissions with valid ID numbers (GB 11643
//! check digit), discharges of earlier arrivals, an incident, a minor's arrival, a long stay (an
//! arrival 12 days ago), an over-full temporary point, a few bad rows; monthly burial reports
//! with one site near 90 % full and one village point whose capacity grows; marriages, divorce
//! applications and divorces, including a divorce within 30 days of its application and a
//! bigamy case.
// Without the `demo` feature only the generator's data types are used (by tests and benches).
#![cfg_attr(not(feature = "demo"), allow(dead_code, unused_imports))]

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use mz_shared::feed::Feed;
use mz_shared::id_number::IdNumber;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One generated row; `valid` says whether it is meant to pass validation.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRow {
    pub cells: Vec<String>,
    pub valid: bool,
}

/// One generated drop file.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFile {
    pub feed: Feed,
    pub name: String,
    pub header: Vec<String>,
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

/// splitmix64: small, seeded, reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.range(1, 100) <= percent
    }
}

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "胡", "郭"];
const GIVEN: &[&str] =
    &["建国", "秀英", "志强", "桂兰", "海燕", "伟", "芳", "磊", "丽娟", "德福", "春梅", "军", "小龙", "玉珍"];
const REGIONS: &[(&str, &str)] = &[
    ("110112", "北京市通州区"),
    ("110105", "北京市朝阳区"),
    ("130281", "河北省遵化市"),
    ("130682", "河北省定州市"),
    ("410523", "河南省汤阴县"),
    ("341221", "安徽省临泉县"),
    ("510722", "四川省三台县"),
    ("230204", "黑龙江省齐齐哈尔市"),
];
const REFERRALS: &[&str] = &["police", "patrol", "self", "agency", "hotline"];
const DISCHARGES: &[&str] = &["home", "family", "welfare", "hospital", "left"];
const POINTS: &[&str] = &["TZ-P01", "TZ-P02", "TZ-P03", "TZ-P05"];

/// A generated citizen.
#[derive(Debug, Clone)]
struct Person {
    id: String,
}

/// Someone the generator admitted and has not discharged yet.
#[derive(Debug, Clone)]
struct Resident {
    station: &'static str,
    person_ref: String,
    at: Timestamp,
    long_stay: bool,
}

/// Produces the demo's drop files. Pure: `now` is passed in.
pub struct Generator {
    rng: Rng,
    tz: TimeZone,
    seq: u32,
    files: u32,
    tick: u32,
    residents: Vec<Resident>,
    /// Couples for later events: (a, b) of the cooling-off divorce, bigamy spouse.
    cooling: Option<(Person, Person)>,
    bigamist: Option<Person>,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            tz: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC),
            seq: 0,
            files: 0,
            tick: 0,
            residents: Vec::new(),
            cooling: None,
            bigamist: None,
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

    fn local(&self, t: Timestamp) -> String {
        t.to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string()
    }

    fn today(&self, now: Timestamp) -> Date {
        now.to_zoned(self.tz.clone()).date()
    }

    /// A valid ID number for someone `age` years old on `on`.
    fn person(&mut self, on: Date, age: i16, male: bool) -> Person {
        let (region, _) = *self.rng.pick(REGIONS);
        let birth =
            Date::new(on.year() - age, self.rng.range(1, 12) as i8, self.rng.range(1, 28) as i8).expect("valid date");
        // Keep the age exact: a birthday later this year would make the person a year younger.
        let birth = if (birth.month(), birth.day()) > (on.month(), on.day()) {
            Date::new(birth.year(), 1, 1).expect("valid date")
        } else {
            birth
        };
        let seq = self.rng.range(0, 99);
        let sex = if male { 1 + 2 * self.rng.range(0, 4) } else { 2 * self.rng.range(0, 4) };
        let body = format!("{region}{}{seq:02}{sex}", birth.strftime("%Y%m%d"));
        let check = IdNumber::check_digit_for(&body).expect("17 digits");
        Person { id: format!("{body}{check}") }
    }

    fn name(&mut self) -> String {
        format!("{}{}", self.rng.pick(SURNAMES), self.rng.pick(GIVEN))
    }

    fn admit(&mut self, f: &mut DemoFile, station: &'static str, at: Timestamp, age: Option<i16>, long_stay: bool) {
        let record = self.next_id("A");
        let person_ref = format!("{station}-{:05}", self.seq);
        let on = at.to_zoned(self.tz.clone()).date();
        let (name, id, gender, origin) = if age.is_none() && self.rng.chance(15) {
            ("无名氏".to_string(), String::new(), "unknown".to_string(), String::new())
        } else {
            let male = self.rng.chance(70);
            let age = age.unwrap_or_else(|| self.rng.range(19, 78) as i16);
            let p = self.person(on, age, male);
            let origin = REGIONS.iter().find(|(r, _)| p.id.starts_with(r)).map_or("", |(_, n)| n).to_string();
            (self.name(), p.id, if male { "male".into() } else { "female".into() }, origin)
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
        let referral = if age.is_some_and(|a| a < 18) { "police" } else { *self.rng.pick(REFERRALS) };
        let bed = format!("{}-{:02}", if station == "TZ-JZZ" { "A" } else { "L" }, self.rng.range(1, 50));
        f.rows.push(DemoRow {
            cells: vec![
                record,
                station.to_string(),
                "admit".into(),
                self.local(at),
                person_ref.clone(),
                name,
                id,
                gender,
                String::new(),
                origin,
                referral.into(),
                flags.join(";"),
                bed,
                String::new(),
                String::new(),
                String::new(),
            ],
            valid: true,
        });
        self.residents.push(Resident { station, person_ref, at, long_stay });
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

    /// Discharges the earliest resident of `station` that is not the long stay.
    fn discharge_one(&mut self, f: &mut DemoFile, station: &str, at: Timestamp) {
        if let Some(i) = self.residents.iter().position(|r| r.station == station && !r.long_stay && r.at < at) {
            let r = self.residents.remove(i);
            let reason = *self.rng.pick(DISCHARGES);
            self.station_event(f, &r, at, "discharge", reason);
        }
    }

    fn occupancy(&self, station: &str) -> usize {
        self.residents.iter().filter(|r| r.station == station).count()
    }

    fn bad_rows(&mut self, f: &mut DemoFile, at: Timestamp) {
        let on = at.to_zoned(self.tz.clone()).date();
        // A wrong check digit.
        let p = self.person(on, 40, true);
        let last = p.id.chars().last().expect("18 chars");
        let wrong = if last == '1' { '2' } else { '1' };
        let bad_id = format!("{}{wrong}", &p.id[..17]);
        let mut cells = vec![String::new(); 16];
        cells[0] = self.next_id("A");
        cells[1] = "TZ-JZZ".into();
        cells[2] = "admit".into();
        cells[3] = self.local(at);
        cells[4] = format!("TZ-JZZ-X{}", self.seq);
        cells[5] = self.name();
        cells[6] = bad_id;
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

    /// The first batch: history (burial reports of six months, 30 days of registrations), the
    /// residents present, the long stay, a minor, an over-full point.
    pub fn initial(&mut self, now: Timestamp) -> Vec<DemoFile> {
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
        files.push(f);
        files
    }

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
            let near_full = site.id == "C-MJQ";
            let grows = site.id == "V-SZ-01";
            let mut occ = if near_full { cap * 86 / 100 } else { cap * self.rng.range(35, 75) as u32 / 100 };
            for (i, d) in month_ends.iter().enumerate() {
                let new = if village { self.rng.range(0, 3) as u32 } else { self.rng.range(8, 40) as u32 };
                let eco = new * self.rng.range(30, 70) as u32 / 100;
                if grows && i == month_ends.len() - 1 {
                    cap += 40;
                }
                occ = (occ + new).min(cap);
                let cells = vec![
                    self.next_id("B"),
                    site.id.clone(),
                    d.strftime("%Y-%m-%d").to_string(),
                    cap.to_string(),
                    occ.to_string(),
                    new.to_string(),
                    eco.to_string(),
                    self.rng.range(0, new.into()).to_string(),
                    String::new(),
                ];
                f.rows.push(DemoRow { cells, valid: true });
            }
            if near_full {
                // Bring it past 90 %.
                let last = f.rows.last_mut().expect("a row");
                last.cells[4] = (cap * 91 / 100).to_string();
            }
        }
        f
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
        (self.person(on, a, true), self.person(on, b, false))
    }

    fn marriage_history(&mut self, now: Timestamp) -> DemoFile {
        let mut f = DemoFile::new(Feed::Marriages, self.file_name("mar"), false);
        let today = self.today(now);
        for day in (1..30).rev() {
            let base = Self::ago(now, day * 86400);
            for (office, lo, hi) in [("M-TZ", 2, 8), ("M-TZ-MJQ", 0, 3)] {
                let n = self.rng.range(lo, hi);
                for i in 0..n {
                    let at = Self::ago(base, (i * 900) as i64);
                    let (a, b) = self.couple(today);
                    let row = self.marriage_row(office, at, "marriage", Some(&a), Some(&b));
                    f.rows.push(row);
                    if day == 20 && office == "M-TZ" && i == 0 {
                        self.bigamist = Some(a.clone());
                    }
                }
                if self.rng.chance(40) {
                    let (a, b) = self.couple(today);
                    let row =
                        self.marriage_row(office, Self::ago(base, 7200), "divorce_application", Some(&a), Some(&b));
                    f.rows.push(row);
                    if self.rng.chance(30) {
                        let row =
                            self.marriage_row(office, Self::ago(base, 3600), "divorce_withdrawal", Some(&a), Some(&b));
                        f.rows.push(row);
                    }
                }
                if self.rng.chance(25) {
                    let (a, b) = self.couple(today);
                    let row = self.marriage_row(office, Self::ago(base, 5400), "divorce", Some(&a), Some(&b));
                    f.rows.push(row);
                }
                if self.rng.chance(20) {
                    let row = self.marriage_row(office, Self::ago(base, 4000), "reissue", None, None);
                    f.rows.push(row);
                }
            }
            if day == 10 {
                let (a, b) = self.couple(today);
                let row = self.marriage_row("M-TZ", base, "divorce_application", Some(&a), Some(&b));
                f.rows.push(row);
                self.cooling = Some((a, b));
            }
        }
        f
    }

    /// The next batch, a few seconds later.
    pub fn next(&mut self, now: Timestamp) -> Vec<DemoFile> {
        self.tick += 1;
        let today = self.today(now);
        let mut files = Vec::new();
        let mut f = DemoFile::new(Feed::Admissions, self.file_name("adm"), false);
        let arrivals = self.rng.range(1, 2);
        for _ in 0..arrivals {
            let station = if self.rng.chance(65) { "TZ-JZZ" } else { *self.rng.pick(POINTS) };
            self.admit(&mut f, station, Self::ago(now, 60), None, false);
        }
        if self.tick.is_multiple_of(2) || self.occupancy("TZ-JZZ") > 40 {
            self.discharge_one(&mut f, "TZ-JZZ", Self::ago(now, 30));
        }
        if self.tick.is_multiple_of(3) {
            let p = *self.rng.pick(POINTS);
            self.discharge_one(&mut f, p, Self::ago(now, 30));
        }
        if self.tick % 7 == 2 {
            let candidates: Vec<Resident> =
                self.residents.iter().filter(|r| r.at < Self::ago(now, 60) && !r.long_stay).cloned().collect();
            if !candidates.is_empty() {
                let r = self.rng.pick(&candidates).clone();
                let kind = *self.rng.pick(&["severe_illness", "injury", "conflict"]);
                self.station_event(&mut f, &r, Self::ago(now, 20), "incident", kind);
            }
        }
        if self.tick % 5 == 3 {
            self.bad_rows(&mut f, Self::ago(now, 15));
        }
        files.push(f);

        if self.tick % 2 == 1 {
            let mut m = DemoFile::new(Feed::Marriages, self.file_name("mar"), false);
            let office = if self.rng.chance(70) { "M-TZ" } else { "M-TZ-MJQ" };
            let (a, b) = self.couple(today);
            let row = self.marriage_row(office, Self::ago(now, 40), "marriage", Some(&a), Some(&b));
            m.rows.push(row);
            if self.rng.chance(30) {
                let (a, b) = self.couple(today);
                let row = self.marriage_row(office, Self::ago(now, 35), "divorce_application", Some(&a), Some(&b));
                m.rows.push(row);
            }
            if self.tick == 3 {
                if let Some(a) = self.bigamist.take() {
                    let b = self.person(today, 30, false);
                    let row = self.marriage_row("M-TZ-MJQ", Self::ago(now, 30), "marriage", Some(&a), Some(&b));
                    m.rows.push(row);
                }
            }
            if self.tick == 5 {
                if let Some((a, b)) = self.cooling.take() {
                    let row = self.marriage_row("M-TZ", Self::ago(now, 25), "divorce", Some(&a), Some(&b));
                    m.rows.push(row);
                }
            }
            files.push(m);
        }

        if self.tick == 6 {
            let mut b = DemoFile::new(Feed::Burials, self.file_name("bur"), false);
            b.rows.push(DemoRow {
                cells: vec![
                    self.next_id("B"),
                    "K-TZ".into(),
                    today.strftime("%Y-%m-%d").to_string(),
                    "12000".into(),
                    "7400".into(),
                    "6".into(),
                    "6".into(),
                    "6".into(),
                    "本月中期统计".into(),
                ],
                valid: true,
            });
            files.push(b);
        }
        files
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

fn generate(inbox: &Path, stop: &AtomicBool) {
    let seed = Timestamp::now().as_nanosecond() as u64;
    let mut g = Generator::new(seed);
    let mut batch = g.initial(Timestamp::now());
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
        batch = g.next(Timestamp::now());
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
            files.extend(g.next(now.checked_add(SignedDuration::from_secs(4 * i)).unwrap()));
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
    // SAFETY: getuid has no preconditions and cannot fail.
    mz_client::user_name(unsafe { libc::getuid() })
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
