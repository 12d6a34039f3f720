//! Ingest benchmark: `cargo bench -p mzd --bench ingest` (release build of the real `mzd`).
//!
//! Generates 1,000,000 realistic admission rows and measures, in one run:
//! - drop-to-stored time of the 1 M-row file (rename into the inbox → status shows every row);
//! - the same CSV through `sqlite3 .import` into a table with a TEXT PRIMARY KEY, one transaction;
//! - peak daemon RSS (VmHWM), store size on disk;
//! - daemon start-up time with the 1 M rows stored (spawn → status answers);
//! - drop-to-stored latency of a 10-row file, p50/p99 over 50 drops (pushed status updates).
//!
//! It prints figures and the targets beside them; it asserts nothing. `MZ_BENCH_ROWS` overrides
//! the row count; `MZ_BENCH_GENERATE_ONLY=FILE` only writes the CSV (for profiling by hand).

use mz_client::Client;
use mz_shared::id_number::IdNumber;
use mz_shared::protocol::{Request, ServerMessage};
use mz_shared::registry::DEMO_REGISTRY;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STATIONS: &[&str] = &["TZ-JZZ", "TZ-P01", "TZ-P02", "TZ-P03", "TZ-P04", "TZ-P05"];
const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"];
const ORIGINS: &[&str] =
    &["河北省保定市", "河南省周口市", "山东省菏泽市", "安徽省阜阳市", "四川省南充市", "北京市通州区"];
const REFERRALS: &[&str] = &["police", "patrol", "self", "agency", "hotline"];
const REASONS: &[&str] = &["home", "family", "welfare", "hospital", "left", "other"];

fn id_number(rng: &mut fastrand::Rng) -> String {
    let region = ["110112", "130602", "411602", "371702", "341202", "511302"][rng.usize(..6)];
    // Most people at a rescue station are of working age; about one in ten is 60 or older.
    let year = if rng.u32(..10) == 0 { rng.u32(1940..1966) } else { rng.u32(1966..2005) };
    let body = format!("{region}{year:04}{:02}{:02}{:03}", rng.u32(1..13), rng.u32(1..29), rng.u32(0..1000));
    let check = IdNumber::check_digit_for(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Writes `rows` admission rows: admits and discharges that keep each station near its size,
/// a few incidents, names and ID numbers for most people.
fn generate(path: &Path, rows: usize, first_id: usize) -> std::io::Result<()> {
    let mut rng = fastrand::Rng::with_seed(20261123 + first_id as u64);
    let mut out = BufWriter::new(fs::File::create(path)?);
    writeln!(
        out,
        "record_id,station_id,event,occurred_at,person_ref,name,id_number,gender,age,origin,referral,flags,bed,discharge_reason,incident_type,note"
    )?;
    let mut present: Vec<Vec<usize>> = vec![Vec::new(); STATIONS.len()];
    let mut t = jiff::civil::date(2025, 1, 1).at(8, 0, 0, 0);
    let mut person = first_id;
    for i in 0..rows {
        t = t.checked_add(jiff::Span::new().seconds(rng.i64(5..60))).expect("in range");
        let s = rng.usize(..STATIONS.len());
        let ts = t.strftime("%Y-%m-%d %H:%M:%S");
        let rid = format!("R{}", first_id + i);
        let target = if s == 0 { 45 } else { 8 };
        let roll = rng.u32(..100);
        if present[s].len() < target && roll < 60 || present[s].is_empty() {
            person += 1;
            present[s].push(person);
            let name = format!("{}{}", SURNAMES[rng.usize(..SURNAMES.len())], GIVEN[rng.usize(..GIVEN.len())]);
            // About 3 % arrive unidentified (each opens a family-search case).
            let (name, id) =
                if rng.u32(..100) < 3 { ("无名氏".to_string(), String::new()) } else { (name, id_number(&mut rng)) };
            writeln!(
                out,
                "{rid},{},admit,{ts},P{person},{name},{id},,,{},{},,{},,,",
                STATIONS[s],
                ORIGINS[rng.usize(..ORIGINS.len())],
                REFERRALS[rng.usize(..REFERRALS.len())],
                rng.u32(1..60)
            )?;
        } else if roll < 97 {
            let k = rng.usize(..present[s].len());
            let p = present[s].swap_remove(k);
            writeln!(
                out,
                "{rid},{},discharge,{ts},P{p},,,,,,,,,{},,",
                STATIONS[s],
                REASONS[rng.usize(..REASONS.len())]
            )?;
        } else {
            let p = present[s][rng.usize(..present[s].len())];
            writeln!(out, "{rid},{},incident,{ts},P{p},,,,,,,,,,injury,夜间摔伤", STATIONS[s])?;
        }
    }
    out.flush()
}

struct Daemon {
    child: Child,
    socket: PathBuf,
}

impl Daemon {
    fn start(data: &Path) -> (Daemon, Duration) {
        let socket = data.join("mzd.sock");
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_mzd"))
            .args(["run", "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting mzd");
        let d = Daemon { child, socket };
        while status_json(&d.socket).is_none() {
            assert!(started.elapsed() < Duration::from_secs(60), "mzd did not start");
            std::thread::sleep(Duration::from_millis(2));
        }
        let took = started.elapsed();
        (d, took)
    }

    fn peak_rss_kib(&self) -> u64 {
        let s = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        s.lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn stop(mut self) {
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn status_json(socket: &Path) -> Option<serde_json::Value> {
    let out =
        Command::new(env!("CARGO_BIN_EXE_mzd")).args(["status", "--json", "--socket"]).arg(socket).output().ok()?;
    out.status.success().then(|| serde_json::from_slice(&out.stdout).ok()).flatten()
}

fn dir_size(p: &Path) -> u64 {
    fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| {
                    let m = e.metadata().expect("metadata");
                    if m.is_dir() {
                        dir_size(&e.path())
                    } else {
                        m.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Drops a file atomically (temporary name, then rename) and returns the instant of the rename.
fn drop_file(inbox: &Path, name: &str, src: &Path) -> Instant {
    let tmp = inbox.join(format!(".{name}.tmp"));
    fs::copy(src, &tmp).expect("copy into inbox");
    let t = Instant::now();
    fs::rename(&tmp, inbox.join(name)).expect("rename into inbox");
    t
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not use.
    let rows: usize = std::env::var("MZ_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    if let Some(path) = std::env::var_os("MZ_BENCH_GENERATE_ONLY") {
        // For profiling by hand: write the CSV and stop.
        generate(Path::new(&path), rows, 0).expect("generating");
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let csv = work.path().join("admissions-1m.csv");
    let t = Instant::now();
    generate(&csv, rows, 0).expect("generating");
    let csv_size = fs::metadata(&csv).expect("csv").len();
    println!("generated {rows} rows, {:.1} MB, in {:.1} s", csv_size as f64 / 1e6, t.elapsed().as_secs_f64());

    // sqlite3 .import, one transaction, TEXT PRIMARY KEY.
    let sqlite = {
        let db = work.path().join("ref.sqlite");
        let script = format!(
            "CREATE TABLE admissions(record_id TEXT PRIMARY KEY, station_id, event, occurred_at, person_ref, name, id_number, gender, age, origin, referral, flags, bed, discharge_reason, incident_type, note);\nBEGIN;\n.import --csv --skip 1 {} admissions\nCOMMIT;\n",
            csv.display()
        );
        let t = Instant::now();
        let out =
            Command::new("sqlite3").arg(&db).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().and_then(|mut c| {
                c.stdin.take().expect("stdin").write_all(script.as_bytes())?;
                c.wait()
            });
        match out {
            Ok(s) if s.success() => Some(t.elapsed()),
            _ => None,
        }
    };

    let data = work.path().join("data");
    fs::create_dir_all(&data).expect("data dir");
    fs::write(data.join("registry.toml"), DEMO_REGISTRY).expect("registry");
    let (daemon, _) = Daemon::start(&data);
    let inbox = data.join("inbox").join("admissions");
    let dropped = drop_file(&inbox, "admissions-1m.csv", &csv);
    let stored_after = loop {
        if let Some(s) = status_json(&daemon.socket) {
            if s["files"]["ingested"].as_u64() == Some(1) {
                let stored = s["records"]["admissions"].as_u64().unwrap_or(0);
                let rejected = s["rejected_rows"]["admissions"].as_u64().unwrap_or(0);
                println!("stored {stored} records, {rejected} rejected rows");
                break dropped.elapsed();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let rss_kib = daemon.peak_rss_kib();
    daemon.stop();
    let store_size = dir_size(&data.join("store"));

    let (daemon, startup) = Daemon::start(&data);

    // Small files: 50 drops of 10 rows, latency from rename to the pushed status update.
    let small_dir = work.path().join("small");
    fs::create_dir_all(&small_dir).expect("small dir");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut latencies: Vec<f64> = rt.block_on(async {
        let mut c = Client::connect(&daemon.socket, "bench").await.expect("connect");
        c.request(Request::Subscribe).await.expect("subscribe");
        let mut ingested = match c.recv().await.expect("first status") {
            ServerMessage::Status(s) => s.files.ingested,
            other => panic!("unexpected {other:?}"),
        };
        let mut out = Vec::new();
        for i in 0..50 {
            let f = small_dir.join(format!("s{i}.csv"));
            generate(&f, 10, 10_000_000 + i * 100).expect("small file");
            let t = drop_file(&inbox, &format!("s{i}.csv"), &f);
            loop {
                if let ServerMessage::Status(s) = c.recv().await.expect("status") {
                    if s.files.ingested > ingested {
                        ingested = s.files.ingested;
                        break;
                    }
                }
            }
            out.push(t.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        out
    });
    daemon.stop();
    latencies.sort_by(f64::total_cmp);

    let mzd_s = stored_after.as_secs_f64();
    println!();
    println!("== mz ingest benchmark ({rows} admission rows, CSV {:.1} MB) ==", csv_size as f64 / 1e6);
    match sqlite {
        Some(sq) => {
            let sq = sq.as_secs_f64();
            println!("mzd drop-to-stored        {mzd_s:8.2} s   ({:.2}x sqlite3; target <= 0.30x)", mzd_s / sq);
            println!("sqlite3 .import (1 txn)   {sq:8.2} s");
        }
        None => {
            println!("mzd drop-to-stored        {mzd_s:8.2} s");
            println!("sqlite3 .import           n/a (sqlite3 not installed)");
        }
    }
    println!("peak daemon RSS           {:8.1} MB   (target <= 200 MB)", rss_kib as f64 / 1024.0);
    println!(
        "store size on disk        {:8.1} MB   ({:.2}x the CSV; target <= 1.5x)",
        store_size as f64 / 1e6,
        store_size as f64 / csv_size as f64
    );
    println!("start-up with rows stored {:8.3} s   (target <= 1 s)", startup.as_secs_f64());
    println!(
        "10-row file latency       p50 {:.1} ms, p99 {:.1} ms   (targets <= 20 ms, <= 100 ms)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
}
