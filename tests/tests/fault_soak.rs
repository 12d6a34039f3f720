//! The randomised fault run (issue 7): the same drop files handled by an undisturbed reference
//! daemon and by a daemon that, for `MZ_SOAK_SECS` seconds (default 60), is SIGKILLed at random
//! moments (some aimed at a large file being read), stopped with SIGTERM, has the disk under its
//! data folder filled and freed (a small tmpfs, as root), and sees its registry saved invalid or
//! cut short and then restored — while files keep being dropped. At the end, with every fault
//! removed, both must agree:
//!
//! - status: `files` (without `in_progress`), `records`, `rejected_rows`, `duplicate_rows`,
//!   `stations`, `sites`, `marriages_by_kind`, `cases`, `tasks`, `alerts`;
//! - `mzd export admissions|burials|marriages --format jsonl`, as sets of lines, exactly: a stored
//!   record carries nothing about when it was handled;
//! - `mzd export cases --format jsonl`, as sets of lines, without the fields that hold the time a
//!   case was opened or acted on (`opened_at`, `accepted_at`, `closed_at`, the deadlines computed
//!   from it, and the `at` of history and payments): a case is opened when its file is handled;
//! - every rejects file, byte for byte (rows are in file order, which faults cannot change);
//! - the names of quarantined and archived files (the archive's date folder is ignored);
//! - the daemon never panics, exits 0 on SIGTERM, refuses every bad registry save with a problem
//!   in status (the previous registry stays in force: SPEC §4), and the reference run matches
//!   what the generator says the files hold (files, records, rejected and duplicate rows).
//!
//! Files are dropped in batches. Files of one batch never depend on each other (one small file
//! per feed; big admissions files use a station of their own; copies and corrections refer to
//! earlier batches only), and a batch is dropped only once the daemon has counted every earlier
//! file, in both runs: rows that depend on earlier rows (discharges, corrections, duplicates,
//! bigamy) then see the same store whatever the faults did to the order of handling.
//!
//! Clocks: every arrival is 1–22 h old when generated and the test registry gives cases 24 h to be
//! accepted, so no long stay, no overdue case and no overdue task can appear while a run of up to
//! an hour (`MAX_SECS`) lasts; marriages and burials use fixed past dates.
//!
//! Faults overlap except that a restart waits while a bad registry is in place (a daemon that
//! starts has no previous registry to keep: what it does with a bad file at start is another
//! contract) and the disk is not filled while the registry is bad (it could not be restored).
//! A daemon that will not start again, even with every fault removed, fails the test at once.
//! `MZ_SOAK_KILL_ON_FULL_DISK=0` keeps kills and SIGTERMs away from a full disk.
//!
//! The seed (`MZ_SOAK_SEED`, random by default, always printed) fixes the files and the fault
//! schedule; where faults land in the daemon's work depends on timing. `MZ_TESTS_KEEP=1` keeps
//! the folders (both logs, the reference data; the tmpfs stays mounted and is printed).
//!
//! `#[ignore]`d: `MZ_SOAK_SECS=600 cargo test -p mz-tests --test fault_soak -- --ignored --nocapture`

mod common;

use common::read_rejects;
use mz_tests::feedfile::{render, Cols, Format};
use mz_tests::{
    date_plus, demo_registry, files_handled, id_number, id_number_bad_check, local_time, unix_now, walk, Daemon, Rng,
    FEEDS, POLL,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Length of the faulted phase unless `MZ_SOAK_SECS` says otherwise.
const DEFAULT_SECS: u64 = 60;
/// Longest faulted phase: generated times keep every clock at least 2 h away (see the doc).
const MAX_SECS: u64 = 3600;
/// One batch of files per this many seconds of the faulted phase.
const SECS_PER_BATCH: u64 = 4;
/// Every this many batches, one file of 50k+ rows (the feed rotates).
const BIG_EVERY: usize = 25;
/// Size of the tmpfs holding the faulted daemon's data folder; the daemon calls less than
/// 256 MiB free "disk low": the store must stay well below 1.25 GiB.
const TMPFS_MB: u64 = 1536;
/// Generous limits, only against hangs.
const BATCH_TIMEOUT: Duration = Duration::from_secs(300);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(900);
const RESTART_TIMEOUT: Duration = Duration::from_secs(60);
const TERM_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Rendering rows (as in crash.rs: four formats, English or Chinese headers).

const ADM_COLS: Cols = &[
    ("record_id", "记录编号"),
    ("station_id", "救助站编码"),
    ("event", "事件类型"),
    ("occurred_at", "发生时间"),
    ("person_ref", "受助人编号"),
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("age", "年龄"),
    ("referral", "来源"),
    ("flags", "特殊情况"),
    ("discharge_reason", "离站原因"),
    ("incident_type", "异常类型"),
    ("note", "备注"),
];

const BUR_COLS: Cols = &[
    ("record_id", "记录编号"),
    ("site_id", "墓园编码"),
    ("reported_on", "统计日期"),
    ("capacity_total", "总穴位"),
    ("occupied", "已用穴位"),
    ("new_interments", "本期安葬"),
    ("eco_interments", "节地生态安葬"),
    ("free_basic_services", "免费基本殡葬服务"),
    ("note", "备注"),
];

const MAR_COLS: Cols = &[
    ("record_id", "记录编号"),
    ("office_id", "登记机关编码"),
    ("registered_at", "登记时间"),
    ("kind", "登记类型"),
    ("party_a_id", "当事人甲身份证号"),
    ("party_b_id", "当事人乙身份证号"),
    ("party_a_hukou", "当事人甲户籍地"),
    ("party_b_hukou", "当事人乙户籍地"),
    ("counselling", "婚姻辅导"),
];

fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// The drop files and what they must produce.

struct DropFile {
    /// Path relative to the inbox.
    rel: String,
    bytes: Vec<u8>,
    rows: u64,
    big: bool,
}

/// What the files must produce; checked on the reference run.
#[derive(Default)]
struct Expected {
    ingested: u64,
    quarantined: u64,
    duplicates: u64,
    records: BTreeMap<&'static str, u64>,
    rejected: BTreeMap<&'static str, u64>,
    dup_rows: BTreeMap<&'static str, u64>,
}

fn add(map: &mut BTreeMap<&'static str, u64>, feed: &'static str, n: u64) {
    *map.entry(feed).or_default() += n;
}

struct Plan {
    batches: Vec<Vec<DropFile>>,
    expected: Expected,
}

impl Plan {
    fn files(&self) -> u64 {
        self.batches.iter().map(|b| b.len() as u64).sum()
    }

    fn rows(&self) -> u64 {
        self.batches.iter().flatten().map(|f| f.rows).sum()
    }
}

/// Stations of the small admissions files, with their beds (demo registry). `TZ-P02` is the big
/// files' own station.
const STATIONS: [(&str, usize); 5] = [("TZ-JZZ", 50), ("TZ-P01", 8), ("TZ-P03", 12), ("TZ-P04", 6), ("TZ-P05", 8)];
const BIG_STATION: &str = "TZ-P02";
const PUBLIC_SITES: [&str; 10] = ["C-SZ", "C-ZJW", "C-HX", "C-YLD", "C-LC", "C-XJ", "C-TH", "C-MJQ", "C-YJW", "K-TZ"];
const VILLAGE_SITES: [&str; 5] = ["V-SZ-01", "V-HX-01", "V-YLD-01", "V-XJ-01", "V-YJW-01"];
const OFFICES: [&str; 2] = ["M-TZ", "M-TZ-MJQ"];
/// Local midnight of 2021-01-01 and of 2019-01-01 in Asia/Shanghai (Unix seconds).
const MAR_EPOCH: i64 = 1_609_430_400;
const BIG_MAR_EPOCH: i64 = 1_546_272_000;

struct Couple {
    a: String,
    b: String,
    applied: bool,
    divorced: bool,
}

/// The generator: a model of what is stored, so that each row is known to be new, a duplicate,
/// a correction or rejected.
struct Gen {
    rng: Rng,
    /// Next small-file admissions event (Unix seconds), the step between events, the bound.
    clock: i64,
    step: i64,
    clock_end: i64,
    /// Start of the big admissions files' events.
    big_start: i64,
    serial: u64,
    present: BTreeMap<&'static str, Vec<String>>,
    /// Latest stored cells of every small-file record, by `feed/record_id`.
    stored: HashMap<String, Vec<String>>,
    /// Record ids of small-file records per feed, to repeat or correct.
    ids: BTreeMap<&'static str, Vec<String>>,
    couples: Vec<Couple>,
    village_cap: BTreeMap<&'static str, u64>,
    burial_day: i64,
    mar_minutes: i64,
    expected: Expected,
    /// Small files of earlier batches, to drop again.
    small: Vec<(String, Vec<u8>)>,
    empty_dropped: bool,
}

impl Gen {
    fn new(seed: u64, batches: usize) -> Gen {
        // Arrivals between 22 h and 1 h ago: at most 30 events per admissions file.
        let now = unix_now();
        let (start, end) = (now - 22 * 3600, now - 3600);
        let step = ((end - start) / (batches as i64 * 30).max(1)).clamp(1, 60);
        Gen {
            rng: Rng::new(seed),
            clock: start,
            step,
            clock_end: end,
            big_start: start,
            serial: 0,
            present: BTreeMap::new(),
            stored: HashMap::new(),
            ids: BTreeMap::new(),
            couples: Vec::new(),
            village_cap: VILLAGE_SITES.iter().map(|s| (*s, 100)).collect(),
            burial_day: 0,
            mar_minutes: 0,
            expected: Expected::default(),
            small: Vec::new(),
            empty_dropped: false,
        }
    }

    fn next(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.range(0, items.len() as u64 - 1) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.rng.range(0, 99) < percent
    }

    /// A valid ID number never used before (born 1960 onwards: an adult on every date used).
    fn id(&mut self, region: &str, male: bool) -> String {
        let n = self.next();
        assert!(n / 100 < 365 * 30, "generator: too many ID numbers (people born after 1990)");
        let birth = date_plus("1960-01-01", (n / 100) as i64).replace('-', "");
        id_number(region, &birth, (n % 100) as u32, male)
    }

    /// Accounts for a row that must be stored: new, duplicate (same content) or correction.
    fn valid(&mut self, feed: &'static str, row: Vec<String>) -> Vec<String> {
        let key = format!("{feed}/{}", row[0]);
        match self.stored.get(&key) {
            None => {
                add(&mut self.expected.records, feed, 1);
                self.ids.entry(feed).or_default().push(row[0].clone());
            }
            Some(old) if *old == row => add(&mut self.expected.dup_rows, feed, 1),
            Some(_) => {}
        }
        self.stored.insert(key, row.clone());
        row
    }

    fn rejected(&mut self, feed: &'static str, row: Vec<String>) -> Vec<String> {
        add(&mut self.expected.rejected, feed, 1);
        row
    }

    /// The stored cells of a random earlier small-file record of `feed`.
    fn earlier(&mut self, feed: &'static str) -> Option<Vec<String>> {
        let n = self.ids.get(feed).map_or(0, Vec::len);
        if n == 0 {
            return None;
        }
        let id = self.ids[feed][self.rng.range(0, n as u64 - 1) as usize].clone();
        self.stored.get(&format!("{feed}/{id}")).cloned()
    }

    /// The same row again (a duplicate row), or `alter`ed (a correction).
    fn again(&mut self, feed: &'static str, alter: Option<fn(&mut Gen, &mut Vec<String>)>) -> Option<Vec<String>> {
        let mut row = self.earlier(feed)?;
        if let Some(f) = alter {
            f(self, &mut row);
        }
        Some(self.valid(feed, row))
    }
}

// ---------------------------------------------------------------------------------------------
// Admissions: arrivals, discharges and incidents at one station per file.

const REFERRALS: [&str; 7] = ["police", "patrol", "self", "agency", "hotline", "公安护送", "主动求助"];
const DISCHARGE_REASONS: [&str; 7] = ["home", "family", "welfare", "hospital", "left", "other", "返乡"];
const INCIDENTS: [&str; 8] =
    ["injury", "conflict", "severe_illness", "missing", "infectious", "other", "death", "受伤"];

impl Gen {
    /// The next arrival time, `YYYY-MM-DD HH:MM:SS` local.
    fn tick(&mut self) -> String {
        self.clock += self.step;
        assert!(self.clock < self.clock_end, "generator: admissions clock ran past its window");
        local_time(self.clock)
    }

    fn note(&mut self) -> String {
        match self.rng.range(0, 19) {
            0 => "多行\n备注".into(),
            1 => "夜间送达, 已登记".into(),
            2..=5 => format!("第{}号", self.serial),
            _ => String::new(),
        }
    }

    fn admissions_file(&mut self, batch: usize) -> Vec<Vec<String>> {
        let (station, beds) = STATIONS[batch % STATIONS.len()];
        let mut rows = Vec::new();
        for _ in 0..self.rng.range(8, 30) {
            let t = self.tick();
            let present = self.present.get(station).map_or(0, Vec::len);
            let roll = self.rng.range(0, 99);
            let row = match roll {
                // Up to one over the beds: an admit to a full station is stored, with an alert.
                0..=39 if present <= beds => self.admit(station, &t),
                0..=75 if present == 0 => self.admit(station, &t),
                0..=61 => self.leave(station, &t),
                62..=75 => self.incident(station, &t),
                76..=83 => self.bad_admission(station, &t),
                84..=90 => match self.again("admissions", None) {
                    Some(r) => r,
                    None => continue,
                },
                _ => match self.again("admissions", Some(|g, r| r[12] = format!("更正{}", g.next()))) {
                    Some(r) => r,
                    None => continue,
                },
            };
            rows.push(row);
        }
        rows
    }

    fn admit(&mut self, station: &'static str, t: &str) -> Vec<String> {
        let n = self.next();
        let person = format!("P{n}");
        let referral = *self.pick(&REFERRALS);
        let note = self.note();
        let (name, id, age, flags) = match self.rng.range(0, 9) {
            0 => ("", String::new(), "", ""),            // unidentified: station tasks
            1 => ("无名氏", String::new(), "40", ""),    // unidentified by name
            2 => ("小明", String::new(), "15", "minor"), // a minor: a case by itself
            3 => ("赵六", String::new(), "78", "elderly;ill"),
            k => (["张三", "李四", "王五", "周八"][k as usize % 4], self.id("110105", k % 2 == 0), "", ""),
        };
        self.present.entry(station).or_default().push(person.clone());
        let row = [&format!("A{n}"), station, "admit", t, &person, name, &id, age, referral, flags, "", "", &note];
        self.valid("admissions", cells(&row))
    }

    /// A present person leaves.
    fn leave(&mut self, station: &'static str, t: &str) -> Vec<String> {
        let list = &self.present[station];
        let i = self.rng.range(0, list.len() as u64 - 1) as usize;
        let person = self.present.get_mut(station).unwrap().swap_remove(i);
        let n = self.next();
        let reason = *self.pick(&DISCHARGE_REASONS);
        let row = [&format!("D{n}"), station, "discharge", t, &person, "", "", "", "", "", reason, "", ""];
        self.valid("admissions", cells(&row))
    }

    /// An incident to a present person (a case and an alert).
    fn incident(&mut self, station: &'static str, t: &str) -> Vec<String> {
        let person = self.pick(&self.present[station].clone()).clone();
        let n = self.next();
        let kind = *self.pick(&INCIDENTS);
        let note = self.note();
        let row = [&format!("I{n}"), station, "incident", t, &person, "", "", "", "", "", "", kind, &note];
        self.valid("admissions", cells(&row))
    }

    fn bad_admission(&mut self, station: &'static str, t: &str) -> Vec<String> {
        let n = self.next();
        let (id, fresh) = (format!("X{n}"), format!("PX{n}"));
        let present = self.present.get(station).and_then(|p| p.first()).cloned();
        let bad_id = mz_tests::id_number_bad_check("110105", "19700101", (n % 100) as u32, true);
        let row = match (self.rng.range(0, 6), present) {
            (0, _) | (6, None) => {
                cells(&[&id, station, "discharge", t, &format!("P-GHOST-{n}"), "", "", "", "", "", "home", "", ""])
            }
            (1, _) => cells(&[&id, station, "arrive", t, &fresh, "", "", "", "self", "", "", "", ""]),
            (2, _) => cells(&[&id, "TZ-NOPE", "admit", t, &fresh, "", "", "", "police", "", "", "", ""]),
            (3, _) => cells(&[&id, station, "admit", t, &fresh, "钱七", &bad_id, "", "police", "", "", "", ""]),
            (4, _) => cells(&[&id, station, "admit", t, &fresh, "", "", "150", "self", "", "", "", ""]),
            (5, _) => cells(&[&id, station, "admit", t, &fresh, "", "", "", "", "", "", "", ""]),
            // Already admitted there.
            (_, Some(p)) => cells(&[&id, station, "admit", t, &p, "", "", "", "police", "", "", "", ""]),
            (_, None) => unreachable!(),
        };
        self.rejected("admissions", row)
    }

    /// Admit/discharge pairs at the big files' station, one second apart, with a rejected row
    /// every 5,000 pairs; self-contained (everyone has left by the end of the file).
    fn big_admissions(&mut self, batch: usize, rows: u64) -> (Vec<u8>, u64) {
        let mut text = String::with_capacity(rows as usize * 80);
        text.push_str("record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason\n");
        let mut n = 0;
        for p in 0..rows / 2 {
            let at = self.big_start + p as i64;
            text.push_str(&format!("G{batch}-A{p},{BIG_STATION},admit,{},G{batch}-{p},patrol,\n", local_time(at)));
            text.push_str(&format!(
                "G{batch}-D{p},{BIG_STATION},discharge,{},G{batch}-{p},,home\n",
                local_time(at + 1)
            ));
            n += 2;
            if p % 5000 == 2500 {
                text.push_str(&format!(
                    "G{batch}-X{p},{BIG_STATION},discharge,{},G{batch}-NOPE,,home\n",
                    local_time(at)
                ));
                add(&mut self.expected.rejected, "admissions", 1);
                n += 1;
            }
        }
        assert!(self.big_start + (rows / 2) as i64 + 1 < self.clock_end, "big admissions file too long");
        add(&mut self.expected.records, "admissions", rows / 2 * 2);
        (text.into_bytes(), n)
    }
}

// ---------------------------------------------------------------------------------------------
// Burials: site reports on dates from 2020 on; village sites sometimes grow (an alert).

impl Gen {
    fn burials_file(&mut self) -> Vec<Vec<String>> {
        self.burial_day += 3;
        let mut rows = Vec::new();
        for _ in 0..self.rng.range(6, 24) {
            let row = match self.rng.range(0, 99) {
                0..=71 => self.burial_report(),
                72..=83 => self.bad_burial(),
                84..=91 => match self.again("burials", None) {
                    Some(r) => r,
                    None => continue,
                },
                _ => match self.again(
                    "burials",
                    Some(|g, r| {
                        r[7] = g.rng.range(0, 9).to_string();
                        r[8] = format!("更正{}", g.next());
                    }),
                ) {
                    Some(r) => r,
                    None => continue,
                },
            };
            rows.push(row);
        }
        rows
    }

    fn burial_report(&mut self) -> Vec<String> {
        let n = self.next();
        let date = date_plus("2020-01-01", self.burial_day + self.rng.range(0, 2) as i64);
        let (site, cap, occ) = if self.chance(30) {
            let site = *self.pick(&VILLAGE_SITES);
            if self.chance(15) {
                *self.village_cap.get_mut(site).unwrap() += 5;
            }
            let cap = self.village_cap[site];
            (site, cap, self.rng.range(10, cap * 95 / 100))
        } else {
            (*self.pick(&PUBLIC_SITES), 2000, self.rng.range(1500, 1999))
        };
        let new = self.rng.range(0, 20);
        let (eco, free) = (self.rng.range(0, new), self.rng.range(0, new));
        let note = if n.is_multiple_of(7) { "含, 逗号" } else { "" };
        let row = [&format!("B{n}"), site, &date, &cap.to_string(), &occ.to_string()];
        let mut row = cells(&row);
        row.extend([new.to_string(), eco.to_string(), free.to_string(), note.to_string()]);
        self.valid("burials", row)
    }

    fn bad_burial(&mut self) -> Vec<String> {
        let id = format!("BX{}", self.next());
        let row = match self.rng.range(0, 5) {
            0 => [&id, "C-NOPE", "2024-06-01", "100", "10", "", "", "", ""],
            1 => [&id, "C-SZ", "2024-06-01", "100", "150", "", "", "", "已用多于总数"],
            2 => [&id, "C-HX", "2024-06-01", "100", "10", "1", "2", "", "生态多于本期"],
            3 => [&id, "C-LC", "2025-02-30", "100", "10", "", "", "", ""],
            4 => [&id, "V-SZ-01", "2024-06-01", "-5", "0", "", "", "", ""],
            _ => [&id, "C-TH", "2024-06-01", "100", "abc", "", "", "", ""],
        };
        self.rejected("burials", cells(&row))
    }

    /// Reports of the public sites, dated 2005–2011 (older than the small files' ones), with a
    /// rejected row every 5,000 rows.
    fn big_burials(&mut self, batch: usize, rows: u64) -> (Vec<u8>, u64) {
        let mut text = String::with_capacity(rows as usize * 60);
        text.push_str("record_id,site_id,reported_on,capacity_total,occupied,new_interments,eco_interments\n");
        let day0 = mz_tests::days_from_civil(2005, 1, 1);
        let mut n = 0;
        for p in 0..rows {
            let (y, m, d) = mz_tests::civil_from_days(day0 + (p / 40) as i64);
            let site = PUBLIC_SITES[(p % 10) as usize];
            let occ = 1000 + (p * 7919) % 1999;
            let new = p % 13;
            text.push_str(&format!("G{batch}-B{p},{site},{y:04}-{m:02}-{d:02},3000,{occ},{new},{}\n", new / 3));
            n += 1;
            if p % 5000 == 2500 {
                text.push_str(&format!("G{batch}-X{p},{site},{y:04}-{m:02}-{d:02},3000,3001,,\n"));
                add(&mut self.expected.rejected, "burials", 1);
                n += 1;
            }
        }
        add(&mut self.expected.records, "burials", rows);
        (text.into_bytes(), n)
    }
}

// ---------------------------------------------------------------------------------------------
// Marriages: marriages, a second marriage of a married party (bigamy risk), applications,
// divorces (some within 30 days: cooling off), withdrawals, reissues, on dates from 2021 on.

impl Gen {
    fn marriages_file(&mut self) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for _ in 0..self.rng.range(5, 20) {
            self.mar_minutes += self.rng.range(60, 600) as i64;
            let t = local_time(MAR_EPOCH + 60 * self.mar_minutes)[..16].to_string();
            let row = match self.rng.range(0, 99) {
                0..=29 => self.marriage(&t, None),
                30..=37 => self.bigamy(&t),
                38..=57 => self.divorce_step(&t),
                58..=63 => self.reissue(&t),
                64..=75 => self.bad_marriage(&t),
                76..=83 => self.again("marriages", None),
                84..=91 => self.again(
                    "marriages",
                    Some(|_, r| r[8] = if ["是", "true"].contains(&r[8].as_str()) { "否" } else { "是" }.into()),
                ),
                _ => self.forbidden_correction(),
            };
            rows.extend(row);
        }
        rows
    }

    fn marriage(&mut self, t: &str, husband: Option<String>) -> Option<Vec<String>> {
        let n = self.next();
        let a = husband.unwrap_or_else(|| self.id("110112", true));
        let b = self.id("110112", false);
        let office = *self.pick(&OFFICES);
        let kind = *self.pick(&["marriage", "结婚"]);
        let hukou_b = *self.pick(&["110112", "110105", ""]);
        let counselling = *self.pick(&["是", "否", "", "true"]);
        self.couples.push(Couple { a: a.clone(), b: b.clone(), applied: false, divorced: false });
        let row = [&format!("M{n}"), office, t, kind, &a, &b, "110112", hukou_b, counselling];
        Some(self.valid("marriages", cells(&row)))
    }

    /// A married man marries again.
    fn bigamy(&mut self, t: &str) -> Option<Vec<String>> {
        let married: Vec<String> = self.couples.iter().filter(|c| !c.divorced).map(|c| c.a.clone()).collect();
        if married.is_empty() {
            return self.marriage(t, None);
        }
        let a = self.pick(&married).clone();
        self.marriage(t, Some(a))
    }

    /// The next step of a random couple: an application, then a divorce or a withdrawal.
    fn divorce_step(&mut self, t: &str) -> Option<Vec<String>> {
        let open: Vec<usize> = (0..self.couples.len()).filter(|i| !self.couples[*i].divorced).collect();
        if open.is_empty() {
            return self.marriage(t, None);
        }
        let i = *self.pick(&open);
        let n = self.next();
        let office = *self.pick(&OFFICES);
        let (a, b) = (self.couples[i].a.clone(), self.couples[i].b.clone());
        let (a, b) = if self.chance(50) { (a, b) } else { (b, a) };
        let kind = if !self.couples[i].applied {
            self.couples[i].applied = true;
            *self.pick(&["divorce_application", "离婚申请"])
        } else if self.chance(75) {
            self.couples[i].divorced = true;
            *self.pick(&["divorce", "离婚"])
        } else {
            self.couples[i].applied = false;
            *self.pick(&["divorce_withdrawal", "撤回离婚申请"])
        };
        let row = [&format!("M{n}"), office, t, kind, &a, &b, "", "", ""];
        Some(self.valid("marriages", cells(&row)))
    }

    fn reissue(&mut self, t: &str) -> Option<Vec<String>> {
        let n = self.next();
        let office = *self.pick(&OFFICES);
        let a = if self.chance(30) { self.id("110112", true) } else { String::new() };
        let row = [&format!("M{n}"), office, t, "补领", &a, "", "", "", "是"];
        Some(self.valid("marriages", cells(&row)))
    }

    fn bad_marriage(&mut self, t: &str) -> Option<Vec<String>> {
        let n = self.next();
        let id = format!("MX{n}");
        let (a, b) = (self.id("110112", true), self.id("110112", false));
        let young = id_number("110112", "20100101", (n % 100) as u32, true);
        let bad = id_number_bad_check("110112", "19800101", (n % 100) as u32, false);
        let row = match self.rng.range(0, 5) {
            0 => [&id, "M-TZ", t, "marriage", &young, &b, "", "", ""],
            1 => [&id, "M-TZ", t, "marriage", &a, &bad, "", "", ""],
            2 => [&id, "M-NOPE", t, "marriage", &a, &b, "", "", ""],
            3 => [&id, "M-TZ", t, "reissue", "", "", "1101", "", ""],
            4 => [&id, "M-TZ", t, "wedding", &a, &b, "", "", ""],
            _ => [&id, "M-TZ", t, "marriage", &a, "", "", "", ""],
        };
        Some(self.rejected("marriages", cells(&row)))
    }

    /// A stored marriage record again with another office: a correction may not do that.
    fn forbidden_correction(&mut self) -> Option<Vec<String>> {
        let mut row = self.earlier("marriages")?;
        row[1] = if row[1] == OFFICES[0] { OFFICES[1] } else { OFFICES[0] }.to_string();
        Some(self.rejected("marriages", row))
    }

    /// Marriages of new couples on dates of 2019, with a rejected row every 5,000 rows.
    fn big_marriages(&mut self, batch: usize, rows: u64) -> (Vec<u8>, u64) {
        let mut text = String::with_capacity(rows as usize * 90);
        text.push_str("record_id,office_id,registered_at,kind,party_a_id,party_b_id,party_a_hukou\n");
        let mut n = 0;
        for p in 0..rows {
            let at = &local_time(BIG_MAR_EPOCH + 60 * p as i64)[..16];
            let (a, b) = (self.id("110112", true), self.id("110112", false));
            let office = OFFICES[(p % 2) as usize];
            text.push_str(&format!("G{batch}-M{p},{office},{at},marriage,{a},{b},110112\n"));
            n += 1;
            if p % 5000 == 2500 {
                let young = id_number("110112", "20100101", (p % 100) as u32, true);
                text.push_str(&format!("G{batch}-X{p},{office},{at},marriage,{young},{b},110112\n"));
                add(&mut self.expected.rejected, "marriages", 1);
                n += 1;
            }
        }
        add(&mut self.expected.records, "marriages", rows);
        (text.into_bytes(), n)
    }
}

// ---------------------------------------------------------------------------------------------
// Batches.

impl Gen {
    fn format(&mut self) -> Format {
        *self.pick(&[Format::Csv, Format::Csv, Format::CsvBom, Format::CsvGbk, Format::Jsonl])
    }

    /// One small file of `feed`.
    fn small_file(&mut self, batch: usize, feed: &'static str) -> DropFile {
        let (mut rows, cols) = match feed {
            "admissions" => (self.admissions_file(batch), ADM_COLS),
            "burials" => (self.burials_file(), BUR_COLS),
            _ => (self.marriages_file(), MAR_COLS),
        };
        if rows.is_empty() {
            // Two header-only files of one format would be the same file.
            let row = match feed {
                "admissions" => {
                    let t = self.tick();
                    self.bad_admission(STATIONS[0].0, &t)
                }
                "burials" => self.bad_burial(),
                _ => self.bad_marriage("2021-01-01 10:00").unwrap(),
            };
            rows.push(row);
        }
        let format = self.format();
        self.expected.ingested += 1;
        let rel = format!("{feed}/b{batch:03}-{}.{}", &feed[..3], format.ext());
        DropFile { rel, bytes: render(cols, &rows, format), rows: rows.len() as u64, big: false }
    }

    fn big_file(&mut self, batch: usize, feed: &'static str) -> DropFile {
        let rows = self.rng.range(50_000, 90_000);
        let (bytes, rows) = match feed {
            "admissions" => self.big_admissions(batch, rows),
            "burials" => self.big_burials(batch, rows),
            _ => self.big_marriages(batch, rows),
        };
        self.expected.ingested += 1;
        DropFile { rel: format!("{feed}/big-b{batch:03}.csv"), bytes, rows, big: true }
    }

    /// A byte copy of a small file of an earlier batch, under a new name or its own.
    fn copy(&mut self, batch: usize) -> Option<DropFile> {
        if self.small.is_empty() {
            return None;
        }
        let (rel, bytes) = self.pick(&self.small.clone()).clone();
        let rel = if self.chance(50) {
            let (stem, ext) = rel.rsplit_once('.').unwrap();
            format!("{stem}-copy{batch:03}.{ext}")
        } else {
            rel
        };
        self.expected.duplicates += 1;
        Some(DropFile { rel, bytes, rows: 0, big: false })
    }

    /// A file quarantined as a whole. Contents differ from batch to batch (the same content
    /// twice is a duplicate file); the empty file comes once at most.
    fn junk(&mut self, batch: usize) -> DropFile {
        let feed = *self.pick(&FEEDS);
        let name = format!("{feed}/junk-b{batch:03}.csv");
        let (rel, bytes) = match self.rng.range(0, 4) {
            0 => (name, format!("record_id,station_id\n\x00\x00\x01\x02binary {batch}\n")),
            1 => (name, format!("alpha,beta\n{batch},2\n")),
            2 if !self.empty_dropped => {
                self.empty_dropped = true;
                (name, String::new())
            }
            2 | 3 => (format!("{feed}/notes-b{batch:03}.txt"), format!("值班记录 {batch}\n")),
            _ => (format!("stray-b{batch:03}.csv"), format!("record_id\n{batch}\n")),
        };
        self.expected.quarantined += 1;
        DropFile { rel, bytes: bytes.into_bytes(), rows: 0, big: false }
    }

    /// Batch `b`: a small file per feed (or, every `BIG_EVERY` batches, a big one instead for one
    /// feed), sometimes a copy of an earlier file and a file to quarantine.
    fn batch(&mut self, b: usize, batches: usize) -> Vec<DropFile> {
        let big = b % BIG_EVERY == BIG_EVERY / 2 || (batches <= BIG_EVERY / 2 && b == batches / 2);
        let big_feed = big.then_some(FEEDS[(b / BIG_EVERY) % 3]);
        let mut files = Vec::new();
        for feed in FEEDS {
            if Some(feed) == big_feed {
                files.push(self.big_file(b, feed));
            } else if feed == "admissions" || self.chance(70) {
                files.push(self.small_file(b, feed));
            }
        }
        if b >= 2 && self.chance(30) {
            files.extend(self.copy(b));
        }
        if self.chance(15) {
            files.push(self.junk(b));
        }
        self.small.extend(files.iter().filter(|f| !f.big && f.rows > 0).map(|f| (f.rel.clone(), f.bytes.clone())));
        files
    }
}

fn generate(seed: u64, batches: usize) -> Plan {
    let mut g = Gen::new(seed, batches);
    let batches: Vec<Vec<DropFile>> = (0..batches).map(|b| g.batch(b, batches)).collect();
    Plan { batches, expected: g.expected }
}

// ---------------------------------------------------------------------------------------------
// What a run leaves behind, and how two runs compare.

/// The status keys compared between the runs.
const STATUS_KEYS: [&str; 10] = [
    "files",
    "records",
    "rejected_rows",
    "duplicate_rows",
    "stations",
    "sites",
    "marriages_by_kind",
    "cases",
    "tasks",
    "alerts",
];

/// Fields of an exported case that hold the time it was opened or acted on (or are computed from
/// it): a case is opened when its file is handled, which differs between runs.
const CASE_TIMES: [&str; 7] = ["opened_at", "accepted_at", "closed_at", "accept_by", "close_by", "paperwork_due", "at"];

#[derive(Debug, PartialEq)]
struct Outcome {
    status: Value,
    /// Sorted JSONL export lines per feed, and `cases` (normalised).
    exports: BTreeMap<&'static str, Vec<String>>,
    /// `quarantine/…` relative path -> contents, for rejects files.
    rejects: BTreeMap<String, String>,
    /// Every other quarantined path (relative), sorted.
    quarantined: Vec<String>,
    /// `<feed>/<name>` of archived files, sorted.
    archived: Vec<String>,
}

/// Status JSON whatever the exit code (0 healthy, 1 unhealthy: "disk low" on the small tmpfs);
/// `None` when the daemon does not answer.
fn any_status(d: &Daemon) -> Option<Value> {
    let (code, out) = d.status_raw();
    if !matches!(code, Some(0 | 1)) {
        return None;
    }
    serde_json::from_str::<Value>(&out).ok().filter(Value::is_object)
}

fn has_problem(s: &Value, needle: &str) -> bool {
    s["problems"].as_array().is_some_and(|a| a.iter().any(|p| p.as_str().is_some_and(|p| p.contains(needle))))
}

/// Removes the time fields of a case (and of its history and payments).
fn strip_case_times(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in CASE_TIMES {
                m.remove(k);
            }
            m.values_mut().for_each(strip_case_times);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_case_times),
        _ => {}
    }
}

fn outcome(d: &Daemon) -> Outcome {
    let full = any_status(d).unwrap_or_else(|| d.fail("status does not answer"));
    let mut status = Map::new();
    for k in STATUS_KEYS {
        status.insert(k.into(), full[k].clone());
    }
    status["files"].as_object_mut().expect("files object").remove("in_progress");
    let mut exports = BTreeMap::new();
    for what in ["admissions", "burials", "marriages", "cases"] {
        let mut lines: Vec<String> = d.export_raw(what, "jsonl").lines().map(str::to_owned).collect();
        if what == "cases" {
            for l in &mut lines {
                let mut v: Value = serde_json::from_str(l).unwrap_or_else(|e| d.fail(&format!("case line {l}: {e}")));
                strip_case_times(&mut v);
                *l = v.to_string();
            }
        }
        lines.sort();
        exports.insert(what, lines);
    }
    let qroot = d.data.join("quarantine");
    let (mut rejects, mut quarantined) = (BTreeMap::new(), Vec::new());
    for p in walk(&qroot) {
        let rel = p.strip_prefix(&qroot).unwrap().display().to_string();
        if rel.ends_with(".rejects.csv") {
            let text = fs::read_to_string(&p).unwrap_or_else(|e| d.fail(&format!("{}: {e}", p.display())));
            rejects.insert(rel, text);
        } else {
            quarantined.push(rel);
        }
    }
    quarantined.sort();
    let aroot = d.data.join("archive");
    let mut archived: Vec<String> = walk(&aroot)
        .iter()
        .map(|p| {
            let feed = p.strip_prefix(&aroot).unwrap().components().next().unwrap().as_os_str().to_string_lossy();
            format!("{feed}/{}", p.file_name().unwrap().to_string_lossy())
        })
        .collect();
    archived.sort();
    Outcome { status: Value::Object(status), exports, rejects, quarantined, archived }
}

/// Lines of `a` that are not in `b` (both sorted), at most `n`.
fn missing<'a>(a: &'a [String], b: &[String], n: usize) -> Vec<&'a String> {
    a.iter().filter(|l| b.binary_search(l).is_err()).take(n).collect()
}

/// The names only in one of two sorted lists, readably; empty if the lists are equal.
fn name_diff(what: &str, reference: &[String], faulted: &[String]) -> String {
    if reference == faulted {
        return String::new();
    }
    format!(
        "{what}: {} in the reference, {} after faults\n  only in the reference: {:?}\n  only after faults: {:?}\n",
        reference.len(),
        faulted.len(),
        missing(reference, faulted, 20),
        missing(faulted, reference, 20)
    )
}

/// Every difference between the reference and the faulted outcome, readably; empty if equal.
fn diff(reference: &Outcome, faulted: &Outcome) -> String {
    let mut out = String::new();
    for k in STATUS_KEYS {
        if reference.status[k] != faulted.status[k] {
            out += &format!("status {k}: reference {} / faulted {}\n", reference.status[k], faulted.status[k]);
        }
    }
    for (what, lines) in &reference.exports {
        let other = &faulted.exports[what];
        if lines != other {
            out += &format!(
                "export {what}: {} lines in the reference, {} after faults\n  only in the reference (first 5): {:#?}\n  \
                 only after faults (first 5): {:#?}\n",
                lines.len(),
                other.len(),
                missing(lines, other, 5),
                missing(other, lines, 5)
            );
        }
    }
    let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
    out += &name_diff("rejects files", &names(&reference.rejects), &names(&faulted.rejects));
    for (name, text) in &reference.rejects {
        if faulted.rejects.get(name).is_some_and(|t| t != text) {
            out += &format!(
                "rejects file {name} differs:\n--- reference ---\n{text}\n--- after faults ---\n{}\n",
                faulted.rejects[name]
            );
        }
    }
    out += &name_diff("quarantined files", &reference.quarantined, &faulted.quarantined);
    out += &name_diff("archived files", &reference.archived, &faulted.archived);
    out
}

/// The reference run against what the generator says the files hold.
fn check_reference(d: &Daemon, r: &Outcome, e: &Expected) {
    let per_feed = |m: &BTreeMap<&str, u64>| {
        json!({"admissions": m.get("admissions").copied().unwrap_or(0),
               "burials": m.get("burials").copied().unwrap_or(0),
               "marriages": m.get("marriages").copied().unwrap_or(0)})
    };
    let want = json!({
        "files": {"ingested": e.ingested, "quarantined": e.quarantined, "duplicates": e.duplicates},
        "records": per_feed(&e.records),
        "rejected_rows": per_feed(&e.rejected),
        "duplicate_rows": per_feed(&e.dup_rows),
    });
    for (k, v) in want.as_object().unwrap() {
        if &r.status[k] != v {
            d.fail(&format!("reference run: status {k} is {}, the files hold {v}", r.status[k]));
        }
    }
    for feed in FEEDS {
        assert_eq!(r.exports[feed].len() as u64, e.records[feed], "reference run: exported {feed} records");
    }
    assert!(r.exports["cases"].len() as u64 >= 1, "reference run: the files open no case");
    assert!(r.status["alerts"]["active"].as_u64() >= Some(1), "reference run: no alert: {}", r.status["alerts"]);
    for name in r.rejects.keys() {
        let (_, rows) = read_rejects(d, &d.data.join("quarantine").join(name));
        let mut lines: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        let n = lines.len();
        lines.dedup();
        assert_eq!(lines.len(), n, "reference run: {name} repeats source lines");
    }
}

fn assert_no_panic(d: &Daemon, which: &str) {
    let log = fs::read_to_string(&d.log).unwrap_or_default();
    if let Some(i) = log.find("panicked") {
        let mut from = log[..i].rfind("=====").unwrap_or(0).max(i.saturating_sub(4000));
        while !log.is_char_boundary(from) {
            from += 1;
        }
        let mut to = (i + 2000).min(log.len());
        while !log.is_char_boundary(to) {
            to -= 1;
        }
        panic!("{which}: the daemon panicked ({}):\n{}", d.log.display(), &log[from..to]);
    }
}

// ---------------------------------------------------------------------------------------------
// Waiting.

/// Polls status (healthy or not) until `n` files are counted; fails after `timeout`.
fn wait_handled(d: &Daemon, n: u64, timeout: Duration, which: &str) -> Value {
    let start = Instant::now();
    loop {
        if let Some(s) = any_status(d).filter(|s| files_handled(s) >= n) {
            return s;
        }
        if start.elapsed() > timeout {
            d.fail(&format!("{which}: {n} files not handled within {timeout:?}"));
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until exactly `n` files are counted and the inbox is empty.
fn wait_drained(d: &Daemon, n: u64, timeout: Duration, which: &str) {
    let start = Instant::now();
    let s = wait_handled(d, n, timeout, which);
    if files_handled(&s) != n {
        d.fail(&format!("{which}: {} files counted, {n} dropped", files_handled(&s)));
    }
    while !d.inbox_files().is_empty() {
        if start.elapsed() > timeout {
            d.fail(&format!("{which}: files left in the inbox: {:?}", d.inbox_files()));
        }
        std::thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------------------------------------
// The reference run.

/// Drops batch after batch into an undisturbed daemon, each once every earlier file is counted.
fn reference_run(root: &Path, registry: &str, plan: &Plan) -> Outcome {
    let started = Instant::now();
    let mut d = Daemon::prepare_with_registry(&root.join("reference"), registry);
    d.spawn();
    let mut dropped = 0;
    for batch in &plan.batches {
        for f in batch {
            d.drop_at(&f.rel, &f.bytes);
        }
        dropped += batch.len() as u64;
        wait_handled(&d, dropped, BATCH_TIMEOUT, "reference");
    }
    wait_drained(&d, dropped, BATCH_TIMEOUT, "reference");
    let o = outcome(&d);
    check_reference(&d, &o, &plan.expected);
    assert_no_panic(&d, "reference");
    d.terminate();
    println!("reference run: {dropped} files in {:.0?}; data folder {} MiB", started.elapsed(), du_mib(&d.data));
    o
}

fn du_mib(dir: &Path) -> u64 {
    walk(dir).iter().filter_map(|p| fs::symlink_metadata(p).ok()).map(|m| m.len()).sum::<u64>() >> 20
}

// ---------------------------------------------------------------------------------------------
// Faults.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    /// SIGKILL at a random moment, restart.
    Kill,
    /// SIGKILL while a big file is being read when there is one, restart.
    KillInBigFile,
    /// SIGTERM (must exit 0 within 30 s), restart.
    Term,
    /// The data folder's disk filled for a few seconds.
    DiskFull,
    /// The registry saved invalid or cut short for a few seconds.
    BadRegistry,
}

/// A tmpfs mounted for the faulted run; unmounted when dropped (after the daemon) unless kept.
struct Mount {
    dir: PathBuf,
    keep: bool,
}

impl Drop for Mount {
    fn drop(&mut self) {
        if self.keep {
            println!("the tmpfs stays mounted at {}: `umount {0}` when done", self.dir.display());
        } else {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Mounts a small tmpfs at `dir`; `None` (with the reason) when not root or mounting fails.
fn mount_tmpfs(dir: &Path, keep: bool) -> Result<Mount, String> {
    if !mz_tests::sys::is_root() {
        return Err("not root: cannot mount a small file system".into());
    }
    fs::create_dir_all(dir).unwrap();
    let size = format!("size={TMPFS_MB}m");
    let st = Command::new("mount").args(["-t", "tmpfs", "-o", &size, "tmpfs"]).arg(dir).status();
    match st {
        Ok(st) if st.success() => Ok(Mount { dir: dir.to_path_buf(), keep }),
        other => Err(format!("mount -t tmpfs failed: {other:?}")),
    }
}

/// A registry save that must be refused: invalid, or cut short (every cut before `[roles]`
/// leaves `[roles]` empty, refused on a reload).
fn bad_registry(good: &str, rng: &mut Rng) -> (&'static str, String) {
    let roles = good.find("[roles]").expect("[roles] in the registry");
    let changed = |what: &'static str, new: String| {
        assert_ne!(new, good, "{what}: the registry did not change");
        (what, new)
    };
    match rng.range(0, 5) {
        0 => ("empty", String::new()),
        1 => ("cut before [roles]", good[..roles].to_string()),
        2 => ("cut before [[department]]", good[..good.find("[[department]]").unwrap()].to_string()),
        3 => {
            let mut cut = rng.range(1, roles as u64 - 1) as usize;
            while !good.is_char_boundary(cut) {
                cut -= 1;
            }
            ("cut at a random byte", good[..cut].to_string())
        }
        4 => changed("a wrong type", good.replacen("long_stay_days = 10", "long_stay_days = \"ten\"", 1)),
        _ => changed("an unknown key", good.replacen("beds = 50", "beds = 50\nbedz = 50", 1)),
    }
}

/// The faulted daemon and the faults in force.
struct Faulted {
    d: Daemon,
    rng: Rng,
    /// Mount point of the data folder's tmpfs, when disk faults are possible.
    tmpfs: Option<PathBuf>,
    registry: String,
    /// The filler file and when it goes.
    filler: Option<(PathBuf, Instant)>,
    /// The bad registry in place: what it is, when it goes, whether status has shown its refusal.
    bad: Option<(&'static str, Instant, bool)>,
    /// Inbox paths of the big files.
    big: Vec<PathBuf>,
    /// Faults injected, by kind and detail.
    counts: BTreeMap<String, u32>,
    /// What went wrong on the way (each one fails the test at the end).
    anomalies: Vec<String>,
    t0: Instant,
    seed: u64,
    /// Whether the daemon may be killed or stopped while the disk is full (`MZ_SOAK_KILL_ON_FULL_DISK=0`
    /// turns that off, to look past a known failure of that combination).
    restart_on_full_disk: bool,
}

impl Faulted {
    fn note(&mut self, what: String) {
        println!("{:>6.1?} {} UTC  {what}", self.t0.elapsed(), utc_time());
        *self.counts.entry(what).or_default() += 1;
    }

    fn anomaly(&mut self, what: String) {
        println!("{:>6.1?} {} UTC  ANOMALY: {what}", self.t0.elapsed(), utc_time());
        self.anomalies.push(what);
    }

    /// Starts the daemon and waits until status answers (healthy or not). A daemon that exits
    /// or stays silent is an anomaly; it is tried again with every fault removed, twice.
    fn restart(&mut self) {
        for attempt in 1..=3 {
            self.d.spawn_no_wait();
            let start = Instant::now();
            while start.elapsed() < RESTART_TIMEOUT && self.d.is_running() {
                if any_status(&self.d).is_some() {
                    return;
                }
                std::thread::sleep(POLL);
            }
            let why = if self.d.is_running() { "no status within 60 s" } else { "exited before answering status" };
            let faults = format!("disk full: {}, bad registry: {}", self.filler.is_some(), self.bad.is_some());
            self.anomaly(format!("start #{} of mzd: {why} ({faults})", self.d.starts));
            self.d.kill9();
            if attempt == 3 {
                self.print_counts();
                let seed = self.seed;
                self.d.fail(&format!("MZ_SOAK_SEED={seed}: mzd cannot be restarted, even with every fault removed"));
            }
            self.undo(true);
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    fn print_counts(&self) {
        println!("---- faults injected ----");
        for (what, n) in &self.counts {
            println!("  {n:>4} × {what}");
        }
        println!("  {} starts of mzd run; anomalies: {:#?}", self.d.starts, self.anomalies);
    }

    fn big_file_open(&self) -> bool {
        let open = self.d.open_files();
        self.big.iter().any(|b| open.contains(b))
    }

    fn kill(&mut self, aimed: bool) {
        if aimed && self.big.iter().any(|b| b.exists()) {
            let start = Instant::now();
            while !self.big_file_open() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(self.rng.range(0, 1500)));
        }
        if !self.d.is_running() {
            self.anomaly(format!("mzd (start #{}) had exited by itself", self.d.starts));
        }
        let inside = self.big_file_open();
        self.d.kill9();
        let kind = if aimed { "SIGKILL aimed at a big file" } else { "SIGKILL" };
        self.note(format!("{kind}{}", if inside { ", landed in a big file" } else { "" }));
        self.restart();
    }

    fn term(&mut self) {
        let pid = self.d.pid().expect("daemon running") as libc::pid_t;
        mz_tests::sys::signal(pid, libc::SIGTERM);
        match self.d.wait_exit(TERM_TIMEOUT) {
            Some(st) if st.code() == Some(0) => {}
            Some(st) => self.anomaly(format!("SIGTERM: mzd exited with {st}, expected 0")),
            None => {
                self.anomaly(format!("SIGTERM: mzd still running after {TERM_TIMEOUT:?}"));
                self.d.kill9();
            }
        }
        self.note("SIGTERM".into());
        self.restart();
    }

    fn fill_disk(&mut self) {
        let dir = self.tmpfs.clone().expect("a tmpfs");
        let secs = self.rng.range(2, 8);
        self.filler = Some((mz_tests::fill_disk(&dir), Instant::now() + Duration::from_secs(secs)));
        self.note("disk filled".into());
    }

    fn swap_registry(&mut self) {
        let (what, text) = bad_registry(&self.registry, &mut self.rng);
        fs::write(self.d.data.join("registry.toml"), text).unwrap();
        let secs = self.rng.range(2, 6);
        self.bad = Some((what, Instant::now() + Duration::from_secs(secs), false));
        self.note(format!("registry saved {what}"));
    }

    /// Injects `fault`; `false` when it must wait: a restart while the registry is bad would
    /// start on the bad file (there is no previous registry at start), and disk and registry
    /// faults do not overlap (the registry could not be restored on a full disk).
    fn inject(&mut self, fault: Fault) -> bool {
        let disk_or_registry = self.filler.is_some() || self.bad.is_some();
        match fault {
            Fault::Kill | Fault::KillInBigFile | Fault::Term if self.bad.is_some() => return false,
            Fault::Kill | Fault::KillInBigFile | Fault::Term if self.filler.is_some() && !self.restart_on_full_disk => {
                return false
            }
            Fault::DiskFull | Fault::BadRegistry if disk_or_registry => return false,
            Fault::Kill => self.kill(false),
            Fault::KillInBigFile => self.kill(true),
            Fault::Term => self.term(),
            Fault::DiskFull if self.tmpfs.is_none() => self.kill(false),
            Fault::DiskFull => self.fill_disk(),
            Fault::BadRegistry => self.swap_registry(),
        }
        true
    }

    /// Ends the faults whose time is up (all of them with `all`); notes a refused registry.
    fn undo(&mut self, all: bool) {
        let now = Instant::now();
        if let Some((filler, until)) = self.filler.clone() {
            if all || now >= until {
                fs::remove_file(&filler).unwrap();
                self.filler = None;
                println!("{:>6.1?} {} UTC  disk freed", self.t0.elapsed(), utc_time());
            }
        }
        if let Some((what, until, seen)) = self.bad {
            let seen = seen || any_status(&self.d).is_some_and(|s| has_problem(&s, "registry"));
            self.bad = Some((what, until, seen));
            if all || now >= until {
                if !seen {
                    self.anomaly(format!("a registry saved {what} was not reported refused in status"));
                }
                fs::write(self.d.data.join("registry.toml"), &self.registry).unwrap();
                self.bad = None;
                println!("{:>6.1?} {} UTC  registry restored (refusal seen: {seen})", self.t0.elapsed(), utc_time());
            }
        }
    }

    fn pick_fault(&mut self) -> Fault {
        match self.rng.range(0, 99) {
            0..=29 => Fault::Kill,
            30..=44 => Fault::KillInBigFile,
            45..=59 => Fault::Term,
            60..=79 => Fault::DiskFull,
            _ => Fault::BadRegistry,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The faulted run.

/// The data folder on a tmpfs (when possible), inbox and log on the normal disk.
fn faulted_daemon(root: &Path, registry: &str, mount: &Option<Mount>) -> Daemon {
    let data_root = mount.as_ref().map_or_else(|| root.join("faulted"), |m| m.dir.clone());
    let mut d = Daemon::prepare_with_registry(&data_root, registry);
    d.inbox = root.join("faulted-inbox");
    d.log = root.join("faulted-mzd.log");
    for feed in FEEDS {
        fs::create_dir_all(d.inbox.join(feed)).unwrap();
    }
    d.args = vec!["--inbox".into(), d.inbox.clone().into()];
    d
}

/// Drops the batches, paced over `secs` and each once every earlier file is counted, while
/// faults come every 2–8 s until `secs` are over; then removes every fault and waits for all.
fn faulted_run(f: &mut Faulted, plan: &Plan, secs: u64) -> Outcome {
    let deadline = Duration::from_secs(secs);
    let n = plan.batches.len();
    let pace = |b: usize| deadline.mul_f64(0.9 * b as f64 / n as f64);
    let mut next_fault = Duration::from_millis(f.rng.range(1000, 4000));
    let (mut next_batch, mut dropped) = (0, 0);
    f.restart();
    while f.t0.elapsed() < deadline || next_batch < n {
        f.undo(f.t0.elapsed() >= deadline);
        if f.t0.elapsed() < deadline && f.t0.elapsed() >= next_fault {
            let fault = f.pick_fault();
            while !f.inject(fault) {
                std::thread::sleep(Duration::from_millis(100));
                f.undo(false);
            }
            next_fault = f.t0.elapsed() + Duration::from_millis(f.rng.range(2000, 8000));
        }
        let due = next_batch < n && f.t0.elapsed() >= pace(next_batch);
        if due && any_status(&f.d).is_some_and(|s| files_handled(&s) >= dropped) {
            for file in &plan.batches[next_batch] {
                f.d.drop_at(&file.rel, &file.bytes);
            }
            dropped += plan.batches[next_batch].len() as u64;
            next_batch += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f.undo(true);
    println!("{:>6.1?} faults over; {dropped} files dropped; waiting for all to be handled", f.t0.elapsed());
    if !f.d.is_running() {
        f.anomaly("mzd had exited by itself at the end".into());
        f.d.kill9();
        f.restart();
    }
    wait_drained(&f.d, dropped, DRAIN_TIMEOUT, "after faults");
    let start = Instant::now();
    while any_status(&f.d).is_none_or(|s| has_problem(&s, "registry")) {
        if start.elapsed() > Duration::from_secs(20) {
            f.anomaly("a registry problem stays in status after the good registry is back".into());
            break;
        }
        std::thread::sleep(POLL);
    }
    println!("{:>6.1?} everything handled", f.t0.elapsed());
    outcome(&f.d)
}

/// `HH:MM:SS` UTC, to find a moment in the daemon's log.
fn utc_time() -> String {
    let t = unix_now().rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|s| s.trim().parse().unwrap_or_else(|_| panic!("{name}={s:?} is not a number")))
}

/// The demo registry with 24 h to accept a case (no case turns overdue during a run) and a
/// role, so that a registry cut before `[roles]` empties a section.
fn test_registry() -> String {
    let r = demo_registry().replacen("accept_within = \"30m\"", "accept_within = \"24h\"", 1);
    assert!(r.contains("accept_within = \"24h\""), "the demo registry's accept_within changed");
    mz_tests::with_roles(&r, &[("duty9", "officer")])
}

#[test]
#[ignore = "a long run: MZ_SOAK_SECS=600 cargo test -p mz-tests --test fault_soak -- --ignored --nocapture"]
fn randomised_faults_change_nothing() {
    let secs = env_u64("MZ_SOAK_SECS").unwrap_or(DEFAULT_SECS);
    assert!((1..=MAX_SECS).contains(&secs), "MZ_SOAK_SECS must be 1..={MAX_SECS}");
    let seed = env_u64("MZ_SOAK_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
    });
    println!("fault soak: MZ_SOAK_SEED={seed} MZ_SOAK_SECS={secs} (set both to replay)");
    let batches = (secs / SECS_PER_BATCH).max(3) as usize;
    let plan = generate(seed, batches);
    let big = plan.batches.iter().flatten().filter(|f| f.big).count();
    println!("{} files in {batches} batches ({big} of 50k+ rows), {} rows", plan.files(), plan.rows());

    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("MZ_TESTS_KEEP").is_some();
    let root = if keep { tmp.keep() } else { tmp.path().to_path_buf() };
    println!("folders under {}{}", root.display(), if keep { " (kept)" } else { "" });
    let registry = test_registry();
    let reference = reference_run(&root, &registry, &plan);

    let mount = mount_tmpfs(&root.join("small"), keep);
    if let Err(why) = &mount {
        println!("SKIPPING the disk-full faults: {why}");
    }
    let mount = mount.ok();
    let mut f = Faulted {
        d: faulted_daemon(&root, &registry, &mount),
        rng: Rng::new(seed ^ 0xfa01_7500),
        tmpfs: mount.as_ref().map(|m| m.dir.clone()),
        registry,
        filler: None,
        bad: None,
        big: plan.batches.iter().flatten().filter(|f| f.big).map(|f| root.join("faulted-inbox").join(&f.rel)).collect(),
        counts: BTreeMap::new(),
        anomalies: Vec::new(),
        t0: Instant::now(),
        seed,
        restart_on_full_disk: env_u64("MZ_SOAK_KILL_ON_FULL_DISK") != Some(0),
    };
    let faulted = faulted_run(&mut f, &plan, secs);
    let differences = diff(&reference, &faulted);
    assert_no_panic(&f.d, "after faults");
    summary(&f, &plan, &reference, &differences);
    if !differences.is_empty() {
        f.d.fail(&format!("the faulted run differs from the reference (MZ_SOAK_SEED={seed}):\n{differences}"));
    }
    assert!(f.anomalies.is_empty(), "MZ_SOAK_SEED={seed}: {:#?}", f.anomalies);
    f.d.terminate();
}

fn summary(f: &Faulted, plan: &Plan, reference: &Outcome, differences: &str) {
    f.print_counts();
    println!("  {} files, {} rows; reference status: {}", plan.files(), plan.rows(), reference.status);
    println!(
        "  outcome: {}; {} anomalies",
        if differences.is_empty() { "equal to the reference" } else { "DIFFERENT from the reference" },
        f.anomalies.len()
    );
}
