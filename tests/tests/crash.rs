//! Crash safety (SPEC §2: "a crash at any moment must not change that").
//!
//! About 60 files (three feeds, four encodings/formats, rejects, duplicate rows and files,
//! quarantined files, one file of 200k rows) are handled once by an undisturbed reference daemon,
//! then again in a fresh folder by a daemon that is SIGKILLed at random moments and restarted.
//! Status, exports and rejects files must come out exactly the same.
//!
//! Every file is self-contained (no row depends on a row of another file, no record is
//! corrected across files), so the order in which the daemon takes files cannot matter.
//! The kill moments come from a seeded RNG: set `MZ_CRASH_SEED` to replay a run.

mod common;

use common::read_rejects;
use mz_tests::feedfile::{render, Cols, Format};
use mz_tests::{alerts_by_kind, date_plus, files_handled, id_number, local_time_ago, walk, Daemon, Rng};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows of the big file: admit/discharge pairs.
const BIG_PAIRS: usize = 100_000;
/// Every this many pairs, the big file also has a rejected row.
const BIG_REJECT_EVERY: usize = 5_000;
/// Number of SIGKILLs; every third is blind (50–800 ms after start), the others land while
/// the daemon reads the big file.
const KILLS: u32 = 8;
/// Generous limit for handling everything (only to avoid hanging).
const ALL_FILES_TIMEOUT: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------------------------
// Rendering rows.

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

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// The file set and what it must produce.

struct DropFile {
    /// Path relative to the inbox.
    rel: String,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct Expected {
    ingested: u64,
    quarantined: u64,
    duplicates: u64,
    records: BTreeMap<&'static str, u64>,
    rejected: BTreeMap<&'static str, u64>,
    dup_rows: BTreeMap<&'static str, u64>,
    alerts: BTreeMap<&'static str, u64>,
    marriages_by_kind: BTreeMap<&'static str, u64>,
    /// `<feed>/<name>.rejects.csv` -> number of rejected rows.
    rejects: BTreeMap<String, u64>,
    occupied_jzz: u64,
}

impl Expected {
    fn add(map: &mut BTreeMap<&'static str, u64>, k: &'static str, n: u64) {
        *map.entry(k).or_default() += n;
    }
}

fn generate() -> (Vec<DropFile>, Expected) {
    let mut files = Vec::new();
    let mut e = Expected::default();
    let mut clean: Vec<(String, Vec<u8>)> = Vec::new(); // files without rejects, to copy

    // --- admissions: 24 small files on TZ-JZZ (each holds at most 2 people at once, so the
    // 50 beds are never exceeded whatever the order) ----------------------------------------
    for i in 0..24u32 {
        let format = match i % 8 {
            3 => Format::CsvGbk,
            5 => Format::CsvBom,
            7 => Format::Jsonl,
            _ => Format::Csv,
        };
        let base = 3600 * (72 - 2 * i64::from(i));
        let t = |k: i64| local_time_ago(base - k * 600)[..16].to_string();
        let (pa, pb) = (format!("P{i}-A"), format!("P{i}-B"));
        let (name_a, name_b) = (format!("甲{i}"), format!("乙{i}"));
        let mut rows = Vec::new();
        let mut records = 0;
        let (id, age) = if i % 3 == 0 {
            (id_number("110105", &format!("196{}0{}1{}", i % 10, 1 + i % 9, i % 10), i, true), String::new())
        } else {
            (String::new(), "45".to_string())
        };
        let r1 = row(&[&format!("A{i}-1"), "TZ-JZZ", "admit", &t(0), &pa, &name_a, &id, &age, "police", "", "", ""]);
        rows.push(r1.clone());
        let note2 = if i % 4 == 0 { "多行\n备注" } else { "" };
        rows.push(row(&[&format!("A{i}-2"), "TZ-JZZ", "admit", &t(1), &pb, &name_b, "", "", "self", "", "", note2]));
        rows.push(row(&[&format!("A{i}-3"), "TZ-JZZ", "discharge", &t(2), &pa, "", "", "", "", "home", "", ""]));
        records += 3;
        if i % 2 == 0 {
            rows.push(row(&[
                &format!("A{i}-4"),
                "TZ-JZZ",
                "incident",
                &t(3),
                &pb,
                "",
                "",
                "",
                "",
                "",
                "injury",
                "轻伤",
            ]));
            records += 1;
            Expected::add(&mut e.alerts, "incident", 1);
        }
        if i % 3 == 1 {
            rows.push(row(&[&format!("A{i}-5"), "TZ-JZZ", "discharge", &t(4), &pb, "", "", "", "", "family", "", ""]));
            records += 1;
        } else {
            e.occupied_jzz += 1;
        }
        let mut rejected = 0;
        if i % 4 == 0 {
            let ghost = format!("P-GHOST-{i}");
            rows.push(row(&[
                &format!("A{i}-X1"),
                "TZ-JZZ",
                "discharge",
                &t(5),
                &ghost,
                "",
                "",
                "",
                "",
                "home",
                "",
                "",
            ]));
            rows.push(row(&[
                &format!("A{i}-X2"),
                "TZ-JZZ",
                "arrive",
                &t(5),
                &format!("P{i}-C"),
                "",
                "",
                "",
                "self",
                "",
                "",
                "",
            ]));
            rejected += 2;
        }
        if i % 5 == 0 {
            rows.push(r1.clone());
            Expected::add(&mut e.dup_rows, "admissions", 1);
        }
        if i % 6 == 0 {
            rows.push(row(&[
                &format!("A{i}-4"),
                "TZ-JZZ",
                "incident",
                &t(3),
                &pb,
                "",
                "",
                "",
                "",
                "",
                "injury",
                "轻伤（已更正）",
            ]));
        }
        let name = format!("adm-{i:02}.{}", format.ext());
        let bytes = render(ADM_COLS, &rows, format);
        Expected::add(&mut e.records, "admissions", records);
        if rejected > 0 {
            Expected::add(&mut e.rejected, "admissions", rejected);
            e.rejects.insert(format!("admissions/{name}.rejects.csv"), rejected);
        } else if i == 1 || i == 2 {
            clean.push((format!("admissions/{name}"), bytes.clone()));
        }
        e.ingested += 1;
        files.push(DropFile { rel: format!("admissions/{name}"), bytes });
    }

    // --- admissions: the big file, admit/discharge pairs on TZ-P02 --------------------------
    {
        let mut text = String::with_capacity(BIG_PAIRS * 130);
        text.push_str("record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason\n");
        let start = 1_785_513_600i64; // 2026-08-01 00:00 +08:00
        let mut rejected = 0;
        for p in 0..BIG_PAIRS {
            let a = start + 30 * p as i64;
            text.push_str(&format!("BIG-A{p},TZ-P02,admit,{},BIG-{p},patrol,\n", mz_tests::local_time(a)));
            text.push_str(&format!("BIG-D{p},TZ-P02,discharge,{},BIG-{p},,home\n", mz_tests::local_time(a + 15)));
            if p % BIG_REJECT_EVERY == BIG_REJECT_EVERY / 2 {
                text.push_str(&format!(
                    "BIG-X{p},TZ-P02,discharge,{},BIG-GHOST-{p},,home\n",
                    mz_tests::local_time(a + 20)
                ));
                rejected += 1;
            }
        }
        Expected::add(&mut e.records, "admissions", 2 * BIG_PAIRS as u64);
        Expected::add(&mut e.rejected, "admissions", rejected);
        e.rejects.insert("admissions/big.csv.rejects.csv".into(), rejected);
        e.ingested += 1;
        files.push(DropFile { rel: "admissions/big.csv".into(), bytes: text.into_bytes() });
    }

    // --- burials: 12 files ----------------------------------------------------------------
    const PUBLIC: [&str; 10] = ["C-SZ", "C-ZJW", "C-HX", "C-YLD", "C-LC", "C-XJ", "C-TH", "C-MJQ", "C-YJW", "K-TZ"];
    const VILLAGE: [&str; 5] = ["V-SZ-01", "V-HX-01", "V-YLD-01", "V-XJ-01", "V-YJW-01"];
    let mut latest: BTreeMap<&str, (String, u64, u64)> = BTreeMap::new(); // site -> (date, cap, occ)
    let mut bur_first_row: Option<Vec<String>> = None;
    for j in 0..12u32 {
        let format = match j {
            4 | 10 => Format::Jsonl,
            2 | 8 => Format::CsvGbk,
            7 => Format::CsvBom,
            _ => Format::Csv,
        };
        let mut rows = Vec::new();
        let mut records = 0;
        for k in 0..4u32 {
            let idx = j * 4 + k;
            let site = PUBLIC[(idx % 10) as usize];
            let date = date_plus("2025-01-01", i64::from(idx));
            let occ = 500 + u64::from(idx * 37 % 480);
            let new = idx % 7;
            rows.push(row(&[
                &format!("B{j}-{k}"),
                site,
                &date,
                "1000",
                &occ.to_string(),
                &new.to_string(),
                &(new / 2).to_string(),
                if k == 1 { "第二条, 带逗号" } else { "" },
            ]));
            records += 1;
            let entry = latest.entry(site).or_insert((String::new(), 0, 0));
            if date > entry.0 {
                *entry = (date, 1000, occ);
            }
        }
        if j < 5 {
            let v = VILLAGE[j as usize];
            let grown = if j % 2 == 0 { "110" } else { "100" };
            rows.push(row(&[&format!("VB{j}-1"), v, "2025-03-01", "100", "10", "", "", ""]));
            rows.push(row(&[&format!("VB{j}-2"), v, "2025-04-01", grown, "12", "", "", ""]));
            records += 2;
            if j % 2 == 0 {
                Expected::add(&mut e.alerts, "village_growth", 1);
            }
        }
        let mut rejected = 0;
        if j % 3 == 0 {
            rows.push(row(&[&format!("B{j}-X1"), "C-NOPE", "2025-06-01", "100", "10", "", "", ""]));
            rows.push(row(&[&format!("B{j}-X2"), "C-SZ", "2025-06-01", "100", "10", "1", "2", "生态多于本期"]));
            rejected += 2;
        }
        if j == 0 {
            bur_first_row = Some(rows[0].clone());
        }
        if j % 4 == 1 {
            rows.push(bur_first_row.clone().unwrap()); // same row as in file 0: a duplicate row
            Expected::add(&mut e.dup_rows, "burials", 1);
        }
        let name = format!("bur-{j:02}.{}", format.ext());
        let bytes = render(BUR_COLS, &rows, format);
        Expected::add(&mut e.records, "burials", records);
        if rejected > 0 {
            Expected::add(&mut e.rejected, "burials", rejected);
            e.rejects.insert(format!("burials/{name}.rejects.csv"), rejected);
        } else if j == 1 || j == 7 {
            clean.push((format!("burials/{name}"), bytes.clone()));
        }
        e.ingested += 1;
        files.push(DropFile { rel: format!("burials/{name}"), bytes });
    }
    let nearly_full = latest.values().filter(|(_, cap, occ)| occ * 10 >= cap * 9).count() as u64;
    Expected::add(&mut e.alerts, "site_nearly_full", nearly_full);

    // --- marriages: 12 files --------------------------------------------------------------
    let mut mar_reissue_0: Option<Vec<String>> = None;
    for m in 0..12u32 {
        let format = match m {
            1 | 5 => Format::Jsonl,
            4 | 10 => Format::CsvGbk,
            9 => Format::CsvBom,
            _ => Format::Csv,
        };
        let p = |role: u32, birth: &str, male: bool| id_number("110112", birth, m * 7 + role, male);
        let (a, b, c) = (p(0, "19850101", true), p(1, "19870101", false), p(2, "19880101", false));
        let (dd, ee) = (p(3, "19800505", true), p(4, "19820505", false));
        let mut rows = Vec::new();
        let mut records = 0;
        rows.push(row(&[&format!("M{m}-1"), "M-TZ", "2026-06-01 10:00", "marriage", &a, &b, "110112", "110105", "是"]));
        Expected::add(&mut e.marriages_by_kind, "marriage", 1);
        records += 1;
        if m % 3 == 0 {
            rows.push(row(&[&format!("M{m}-2"), "M-TZ-MJQ", "2026-07-01 10:00", "marriage", &a, &c, "", "", "否"]));
            Expected::add(&mut e.marriages_by_kind, "marriage", 1);
            records += 1;
            Expected::add(&mut e.alerts, "bigamy_risk", 1);
        }
        let divorce_at = if m % 2 == 0 { "2026-09-11 10:00" } else { "2026-10-11 10:00" };
        rows.push(row(&[&format!("M{m}-3"), "M-TZ", "2025-01-01 10:00", "结婚", &dd, &ee, "", "", ""]));
        rows.push(row(&[&format!("M{m}-4"), "M-TZ", "2026-09-01 10:00", "离婚申请", &dd, &ee, "", "", ""]));
        rows.push(row(&[&format!("M{m}-5"), "M-TZ", divorce_at, "divorce", &ee, &dd, "", "", ""]));
        Expected::add(&mut e.marriages_by_kind, "marriage", 1);
        Expected::add(&mut e.marriages_by_kind, "divorce_application", 1);
        Expected::add(&mut e.marriages_by_kind, "divorce", 1);
        records += 3;
        if m % 2 == 0 {
            Expected::add(&mut e.alerts, "cooling_off", 1);
        }
        let reissue =
            row(&[&format!("M{m}-6"), "M-TZ", &format!("2026-10-{:02} 09:00", m + 1), "reissue", "", "", "", "", "是"]);
        rows.push(reissue.clone());
        Expected::add(&mut e.marriages_by_kind, "reissue", 1);
        records += 1;
        if m == 0 {
            mar_reissue_0 = Some(reissue);
        }
        let mut rejected = 0;
        if m % 4 == 2 {
            let young = p(5, "20050602", true); // 20 on 2026-06-01
            rows.push(row(&[
                &format!("M{m}-X1"),
                "M-TZ",
                "2026-06-01 11:00",
                "marriage",
                &young,
                &p(6, "20000101", false),
                "",
                "",
                "",
            ]));
            rows.push(row(&[&format!("M{m}-X2"), "M-TZ", "2026-06-01 12:00", "reissue", "", "", "1101", "", ""]));
            rejected += 2;
        }
        if m % 4 == 3 {
            rows.push(mar_reissue_0.clone().unwrap()); // same row as in file 0: a duplicate row
            Expected::add(&mut e.dup_rows, "marriages", 1);
        }
        let name = format!("mar-{m:02}.{}", format.ext());
        let bytes = render(MAR_COLS, &rows, format);
        Expected::add(&mut e.records, "marriages", records);
        if rejected > 0 {
            Expected::add(&mut e.rejected, "marriages", rejected);
            e.rejects.insert(format!("marriages/{name}.rejects.csv"), rejected);
        } else if m == 0 || m == 3 {
            clean.push((format!("marriages/{name}"), bytes.clone()));
        }
        e.ingested += 1;
        files.push(DropFile { rel: format!("marriages/{name}"), bytes });
    }

    // --- duplicate files (copies of files without rejects, other names) -----------------------
    for (rel, bytes) in clean {
        let (stem, ext) = rel.rsplit_once('.').unwrap();
        files.push(DropFile { rel: format!("{stem}-copy.{ext}"), bytes });
        e.duplicates += 1;
    }

    // --- whole-file failures ---------------------------------------------------------------
    files.push(DropFile {
        rel: "admissions/binary.csv".into(),
        bytes: b"record_id,station_id\n\x00\x00\x01\x02binary\n".to_vec(),
    });
    files.push(DropFile { rel: "burials/unknown.csv".into(), bytes: b"alpha,beta\n1,2\n".to_vec() });
    files.push(DropFile { rel: "marriages/empty.csv".into(), bytes: Vec::new() });
    files.push(DropFile { rel: "admissions/notes.txt".into(), bytes: "值班记录\n".as_bytes().to_vec() });
    e.quarantined += 4;

    (files, e)
}

// ---------------------------------------------------------------------------------------------
// What a run leaves behind.

#[derive(Debug, PartialEq)]
struct Outcome {
    /// Status JSON without `files.in_progress`.
    status: Value,
    /// Sorted JSONL export lines per feed.
    exports: BTreeMap<&'static str, Vec<String>>,
    /// `quarantine/…` relative path -> contents, for rejects files.
    rejects: BTreeMap<String, String>,
    /// Every other quarantined path (relative), sorted.
    quarantined: Vec<String>,
    /// Names of archived files (without the date folder), sorted.
    archived: Vec<String>,
}

fn outcome(d: &Daemon) -> Outcome {
    let mut status = d.status();
    status["files"].as_object_mut().expect("files object").remove("in_progress");
    // The audit head hashes entries stamped with the time each case was opened, which differs
    // between two runs; the entry count does not.
    status["audit"].as_object_mut().expect("audit object").remove("head");
    let mut exports = BTreeMap::new();
    for feed in ["admissions", "burials", "marriages"] {
        let mut lines: Vec<String> = d.export_raw(feed, "jsonl").lines().map(str::to_owned).collect();
        lines.sort();
        exports.insert(feed, lines);
    }
    let qroot = d.data.join("quarantine");
    let mut rejects = BTreeMap::new();
    let mut quarantined = Vec::new();
    for p in walk(&qroot) {
        let rel = p.strip_prefix(&qroot).unwrap().display().to_string();
        if rel.ends_with(".rejects.csv") {
            rejects
                .insert(rel, std::fs::read_to_string(&p).unwrap_or_else(|e| d.fail(&format!("{}: {e}", p.display()))));
        } else {
            quarantined.push(rel);
        }
    }
    let aroot = d.data.join("archive");
    let mut archived: Vec<String> = walk(&aroot)
        .iter()
        .map(|p| {
            let feed =
                p.strip_prefix(&aroot).unwrap().components().next().unwrap().as_os_str().to_string_lossy().into_owned();
            format!("{feed}/{}", p.file_name().unwrap().to_string_lossy())
        })
        .collect();
    archived.sort();
    Outcome { status, exports, rejects, quarantined, archived }
}

fn drop_all(d: &Daemon, files: &[DropFile]) {
    for f in files {
        d.drop_at(&f.rel, &f.bytes);
    }
}

/// The first difference between two outcomes, readably.
fn diff(reference: &Outcome, crashed: &Outcome) -> String {
    let mut out = String::new();
    if reference.status != crashed.status {
        out.push_str(&format!(
            "status differs:\n--- reference ---\n{:#}\n--- after crashes ---\n{:#}\n",
            reference.status, crashed.status
        ));
    }
    for (feed, lines) in &reference.exports {
        let other = &crashed.exports[feed];
        if lines != other {
            let missing: Vec<&String> = lines.iter().filter(|l| other.binary_search(l).is_err()).take(5).collect();
            let extra: Vec<&String> = other.iter().filter(|l| lines.binary_search(l).is_err()).take(5).collect();
            out.push_str(&format!(
                "export {feed} differs: {} lines in the reference, {} after crashes\n  missing (first 5): {missing:#?}\n  extra (first 5): {extra:#?}\n",
                lines.len(),
                other.len()
            ));
        }
    }
    let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
    if names(&reference.rejects) != names(&crashed.rejects) {
        out.push_str(&format!(
            "rejects files differ:\n  reference: {:?}\n  after crashes: {:?}\n",
            names(&reference.rejects),
            names(&crashed.rejects)
        ));
    } else {
        for (name, text) in &reference.rejects {
            if &crashed.rejects[name] != text {
                out.push_str(&format!(
                    "rejects file {name} differs:\n--- reference ---\n{text}\n--- after crashes ---\n{}\n",
                    crashed.rejects[name]
                ));
            }
        }
    }
    if reference.quarantined != crashed.quarantined {
        out.push_str(&format!(
            "quarantine differs:\n  reference: {:?}\n  after crashes: {:?}\n",
            reference.quarantined, crashed.quarantined
        ));
    }
    if reference.archived != crashed.archived {
        out.push_str(&format!(
            "archive differs:\n  reference: {:?}\n  after crashes: {:?}\n",
            reference.archived, crashed.archived
        ));
    }
    out
}

/// Checks the reference run against what the files must produce.
fn check_reference(d: &Daemon, r: &Outcome, e: &Expected, files: &[DropFile]) {
    let feed_counts = |m: &BTreeMap<&str, u64>| {
        json!({"admissions": m.get("admissions").copied().unwrap_or(0),
               "burials": m.get("burials").copied().unwrap_or(0),
               "marriages": m.get("marriages").copied().unwrap_or(0)})
    };
    let kinds = ["marriage", "divorce", "divorce_application", "divorce_withdrawal", "reissue"];
    let by_kind: Map<String, Value> =
        kinds.iter().map(|k| (k.to_string(), json!(e.marriages_by_kind.get(k).copied().unwrap_or(0)))).collect();
    let alerts: Vec<(&str, u64)> = e.alerts.iter().map(|(k, v)| (*k, *v)).collect();
    d.expect(
        &r.status,
        &[
            ("/files/ingested", json!(e.ingested)),
            ("/files/quarantined", json!(e.quarantined)),
            ("/files/duplicates", json!(e.duplicates)),
            ("/records", feed_counts(&e.records)),
            ("/rejected_rows", feed_counts(&e.rejected)),
            ("/duplicate_rows", feed_counts(&e.dup_rows)),
            ("/marriages_by_kind", Value::Object(by_kind)),
            ("/alerts/by_kind", alerts_by_kind(&alerts)),
        ],
    );
    d.expect_station(&r.status, "TZ-JZZ", e.occupied_jzz);
    d.expect_station(&r.status, "TZ-P02", 0);
    for (feed, n) in [("admissions", "admissions"), ("burials", "burials"), ("marriages", "marriages")] {
        assert_eq!(r.exports[feed].len() as u64, e.records[n], "exported {feed} records");
    }
    let names: Vec<&String> = r.rejects.keys().collect();
    let want: Vec<&String> = e.rejects.keys().collect();
    assert_eq!(names, want, "rejects files of the reference run");
    for (name, n) in &e.rejects {
        let (_, rows) = read_rejects(d, &d.data.join("quarantine").join(name));
        assert_eq!(rows.len() as u64, *n, "rows in {name}");
    }
    let handled_names: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
    assert_eq!(r.archived.len() as u64, e.ingested + e.duplicates, "archived files: {:?}", r.archived);
    for a in &r.archived {
        assert!(handled_names.contains(&a.as_str()), "archived {a} is not a dropped file");
    }
}

/// No rejects file holds the same source line twice.
fn check_no_repeated_lines(d: &Daemon, o: &Outcome, which: &str) {
    for name in o.rejects.keys() {
        let (_, rows) = read_rejects(d, &d.data.join("quarantine").join(name));
        let mut lines: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        let n = lines.len();
        lines.sort_unstable();
        lines.dedup();
        assert_eq!(lines.len(), n, "{which}: {name} repeats source lines");
    }
}

#[test]
fn crash_at_any_moment_changes_nothing() {
    let seed: u64 = std::env::var("MZ_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x6d7a_6372_6173_6821);
    println!("crash test seed: {seed} (set MZ_CRASH_SEED to replay)");
    let (files, expected) = generate();
    let total = files.len() as u64;
    assert_eq!(total, expected.ingested + expected.quarantined + expected.duplicates);
    let tmp = tempfile::tempdir().unwrap();
    // MZ_TESTS_KEEP=1 keeps the folders (both runs, with their logs) for a post-mortem.
    let (_guard, root) = if std::env::var_os("MZ_TESTS_KEEP").is_some() {
        let root = tmp.keep();
        println!("keeping {}", root.display());
        (None, root)
    } else {
        let root = tmp.path().to_path_buf();
        (Some(tmp), root)
    };

    // Reference: one undisturbed run.
    let started = Instant::now();
    let mut reference_daemon = Daemon::prepare(&root.join("reference"));
    drop_all(&reference_daemon, &files);
    reference_daemon.spawn();
    let s = reference_daemon.wait_files_for(ALL_FILES_TIMEOUT, total);
    if files_handled(&s) != total {
        reference_daemon.fail(&format!("reference: {} files handled, {total} dropped", files_handled(&s)));
    }
    let reference = outcome(&reference_daemon);
    println!("reference run: {} files in {:?}", total, started.elapsed());
    check_reference(&reference_daemon, &reference, &expected, &files);
    check_no_repeated_lines(&reference_daemon, &reference, "reference");
    assert_eq!(reference_daemon.inbox_files(), Vec::<String>::new(), "reference: inbox not empty");
    reference_daemon.terminate();

    // The same files, with SIGKILLs at random moments.
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let mut d = Daemon::prepare(&root.join("crashed"));
    drop_all(&d, &files);
    let big = d.inbox.join("admissions").join("big.csv");
    // Where the daemon moves a file while it reads it.
    let taken = d.inbox.join("admissions").join(".mzd-taken").join("big.csv");
    let reading_big = |d: &Daemon| {
        let open = d.open_files();
        open.contains(&big) || open.contains(&taken)
    };
    let mut kills_inside_big = 0;
    for k in 0..KILLS {
        d.spawn_no_wait();
        let delay = if k % 3 == 0 {
            // Blind: anywhere from start-up (and recovery) on.
            rng.range(50, 800)
        } else {
            // Targeted: once the daemon has the big file open, somewhere in its reading.
            let t = Instant::now();
            while (big.exists() || taken.exists()) && !reading_big(&d) {
                if t.elapsed() > Duration::from_secs(20) {
                    d.fail("the daemon did not open big.csv within 20 s");
                }
                if !d.is_running() {
                    d.fail(&format!("mzd exited by itself before kill #{k}"));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            rng.range(0, 2000)
        };
        std::thread::sleep(Duration::from_millis(delay));
        if !d.is_running() {
            d.fail(&format!("mzd exited by itself before kill #{k}"));
        }
        let inside = reading_big(&d);
        d.kill9();
        kills_inside_big += u32::from(inside);
        println!(
            "kill #{k}: {delay} ms; big.csv open at the kill: {inside}; still in the inbox: {}",
            big.exists() || taken.exists()
        );
    }
    // Otherwise this test proves nothing about crashes in the middle of a file.
    assert!(kills_inside_big >= 1, "no kill landed while the daemon was reading big.csv (seed {seed})");
    d.spawn();
    let s = d.wait_files_for(ALL_FILES_TIMEOUT, total);
    if files_handled(&s) != total {
        d.fail(&format!("after crashes: {} files handled, {total} dropped", files_handled(&s)));
    }
    let crashed = outcome(&d);
    println!("crashed run finished in {:?}", started.elapsed());
    check_no_repeated_lines(&d, &crashed, "after crashes");
    let differences = diff(&reference, &crashed);
    if !differences.is_empty() {
        d.fail(&format!("the crashed run differs from the reference (seed {seed}):\n{differences}"));
    }
    assert_eq!(d.inbox_files(), Vec::<String>::new(), "after crashes: inbox not empty");
    assert!(!Path::new(&big).exists());
    assert!(!taken.exists(), "nothing left in .mzd-taken");
}
