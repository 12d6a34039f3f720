//! Ingest benchmark: `cargo bench -p mzd --bench ingest` (release build of the real `mzd`).
//!
//! Runs two workloads and prints, for each, in one run:
//! - (a) 200,000 admission rows at two stations, at least 35 % of arrivals elderly by age and at
//!   least 35 % without an ID number, every automatic case trigger on (`[auto_cases]` all true);
//! - (b) 1,000,000 admission rows at six stations with the default triggers.
//!
//! Figures: drop-to-stored time of the file (rename into the inbox → status shows every row);
//! the same CSV through `sqlite3 .import` into a table with a TEXT PRIMARY KEY in one
//! transaction, and through DuckDB (`read_csv(all_varchar)` into a table with a VARCHAR PRIMARY
//! KEY, then `CHECKPOINT`), with both ratios; cases opened; store size against the CSV; peak RSS
//! during ingest; start-up time and RSS at rest after a restart; peak RSS and time to the first
//! line of `mzd case list --json`; drop-to-stored latency of a 10-row file, p50/p99 over 50 drops.
//!
//! It prints figures and the targets beside them; it asserts nothing. `MZ_BENCH_ONLY=a|b` runs
//! one workload; `MZ_BENCH_ROWS_A` / `MZ_BENCH_ROWS_B` override the row counts;
//! `MZ_BENCH_GENERATE_ONLY=FILE` only writes workload (a)'s CSV (for profiling by hand; `MZ_BENCH_ONLY=b`
//! for (b)'s), and `MZ_BENCH_REGISTRY=FILE` writes the registry it uses.

use mz_client::Client;
use mz_shared::id_number::IdNumber;
use mz_shared::protocol::{Request, ServerMessage};
use mz_shared::registry::DEMO_REGISTRY;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mz_testdata::names::{FEMALE_GIVEN, MALE_GIVEN, SURNAMES};
use mz_testdata::places::{DISCHARGE_REASONS as REASONS, ORIGINS, REFERRALS, STATIONS};

/// One benchmark workload.
struct Workload {
    label: &'static str,
    rows: usize,
    /// How many of [`STATIONS`] receive arrivals.
    stations: usize,
    /// Percent of arrivals aged 60 or more (by the `age` column).
    elderly_pct: u32,
    /// Percent of arrivals without an ID number (recorded as 无名氏).
    no_id_pct: u32,
    /// Every `[auto_cases]` trigger on.
    all_triggers: bool,
}

impl Workload {
    fn a() -> Workload {
        let rows = env_usize("MZ_BENCH_ROWS_A").unwrap_or(200_000);
        Workload { label: "a", rows, stations: 2, elderly_pct: 38, no_id_pct: 40, all_triggers: true }
    }

    fn b() -> Workload {
        let rows = env_usize("MZ_BENCH_ROWS_B").or(env_usize("MZ_BENCH_ROWS")).unwrap_or(1_000_000);
        Workload { label: "b", rows, stations: STATIONS.len(), elderly_pct: 0, no_id_pct: 3, all_triggers: false }
    }

    fn registry(&self) -> String {
        if self.all_triggers {
            DEMO_REGISTRY
                .replace("vulnerable_adult = false", "vulnerable_adult = true")
                .replace("unidentified = false", "unidentified = true")
        } else {
            DEMO_REGISTRY.to_string()
        }
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn id_number(rng: &mut fastrand::Rng, year: u32) -> String {
    let region = ["110112", "130602", "411602", "371702", "341202", "511302"][rng.usize(..6)];
    let body = format!("{region}{year:04}{:02}{:02}{:03}", rng.u32(1..13), rng.u32(1..29), rng.u32(0..1000));
    let check = IdNumber::check_digit_for(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Writes `rows` admission rows of workload `w`: admits and discharges that keep each station
/// near its size, a few incidents, names and ID numbers for most people.
fn generate(path: &Path, w: &Workload, rows: usize, first_id: usize) -> std::io::Result<()> {
    let mut rng = fastrand::Rng::with_seed(20261123 + first_id as u64);
    let mut out = BufWriter::new(fs::File::create(path)?);
    writeln!(
        out,
        "record_id,station_id,event,occurred_at,person_ref,name,id_number,gender,age,origin,referral,flags,bed,discharge_reason,incident_type,note"
    )?;
    let stations = &STATIONS[..w.stations];
    let mut present: Vec<Vec<usize>> = vec![Vec::new(); stations.len()];
    let mut t = jiff::civil::date(2025, 1, 1).at(8, 0, 0, 0);
    let mut person = first_id;
    for i in 0..rows {
        t = t.checked_add(jiff::Span::new().seconds(rng.i64(5..60))).expect("in range");
        let s = rng.usize(..stations.len());
        let ts = t.strftime("%Y-%m-%d %H:%M:%S").to_string();
        let rid = format!("R{}", first_id + i);
        let target = if s == 0 { 45 } else { 8 };
        let roll = rng.u32(..100);
        if present[s].len() < target && roll < 60 || present[s].is_empty() {
            person += 1;
            present[s].push(person);
            admit(&mut out, &mut rng, w, &rid, stations[s], &ts, person)?;
        } else if roll < 97 {
            let k = rng.usize(..present[s].len());
            let p = present[s].swap_remove(k);
            writeln!(
                out,
                "{rid},{},discharge,{ts},P{p},,,,,,,,,{},,",
                stations[s],
                REASONS[rng.usize(..REASONS.len())]
            )?;
        } else {
            let p = present[s][rng.usize(..present[s].len())];
            writeln!(out, "{rid},{},incident,{ts},P{p},,,,,,,,,,injury,夜间摔伤", stations[s])?;
        }
    }
    out.flush()
}

/// One admit row. Workload (b) (no elderly share given) leaves `age` empty and lets about one in
/// ten ID numbers be of someone 60 or older, as at most stations; (a) gives ages.
fn admit(
    out: &mut impl Write,
    rng: &mut fastrand::Rng,
    w: &Workload,
    rid: &str,
    station: &str,
    ts: &str,
    person: usize,
) -> std::io::Result<()> {
    let name = format!("{}{}", SURNAMES[rng.usize(..SURNAMES.len())], {
        let given = if rng.bool() { MALE_GIVEN } else { FEMALE_GIVEN };
        given[rng.usize(..given.len())]
    });
    let (age, year) = if w.elderly_pct == 0 {
        (String::new(), if rng.u32(..10) == 0 { rng.u32(1940..1966) } else { rng.u32(1966..2005) })
    } else {
        let age = if rng.u32(..100) < w.elderly_pct { rng.u32(61..90) } else { rng.u32(19..59) };
        (age.to_string(), 2024 - age)
    };
    let (name, id) = if rng.u32(..100) < w.no_id_pct {
        ("无名氏".to_string(), String::new())
    } else {
        (name, id_number(rng, year))
    };
    writeln!(
        out,
        "{rid},{station},admit,{ts},P{person},{name},{id},,{age},{},{},,{},,,",
        ORIGINS[rng.usize(..ORIGINS.len())],
        REFERRALS[rng.usize(..REFERRALS.len())],
        rng.u32(1..60)
    )
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

    /// A `/proc/<pid>/status` figure in KiB (`VmHWM`, `VmRSS`).
    fn proc_kib(&self, field: &str) -> u64 {
        let s = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        s.lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn peak_rss_kib(&self) -> u64 {
        self.proc_kib("VmHWM:")
    }

    /// Resets the peak RSS to the current RSS (`clear_refs` 5), so a later peak is one phase's.
    fn reset_peak(&self) {
        let _ = fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    fn stop(mut self) {
        // SAFETY: plain kill(2) on our own child.
        terminate(self.child.id());
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

/// `sqlite3 .import` into a table with a TEXT PRIMARY KEY, in one transaction.
fn sqlite_import(work: &Path, csv: &Path) -> Option<Duration> {
    let db = work.join("ref.sqlite");
    let _ = fs::remove_file(&db);
    let script = format!(
        "CREATE TABLE admissions(record_id TEXT PRIMARY KEY, station_id, event, occurred_at, person_ref, name, id_number, gender, age, origin, referral, flags, bed, discharge_reason, incident_type, note);\nBEGIN;\n.import --csv --skip 1 {} admissions\nCOMMIT;\n",
        csv.display()
    );
    let t = Instant::now();
    let out = Command::new("sqlite3").arg(&db).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().and_then(|mut c| {
        c.stdin.take().expect("stdin").write_all(script.as_bytes())?;
        c.wait()
    });
    let took = t.elapsed();
    let _ = fs::remove_file(&db);
    matches!(out, Ok(s) if s.success()).then_some(took)
}

/// DuckDB (Python module): a table with a VARCHAR PRIMARY KEY filled from `read_csv`, then
/// `CHECKPOINT`. Timed inside Python, so the interpreter's start is not counted.
fn duckdb_import(work: &Path, csv: &Path) -> Option<Duration> {
    let db = work.join("ref.duckdb");
    let _ = fs::remove_file(&db);
    let script = r#"
import sys, time, duckdb
db, csv = sys.argv[1], sys.argv[2]
t = time.monotonic()
c = duckdb.connect(db)
c.execute("SET enable_progress_bar = false")
c.execute("CREATE TABLE admissions(record_id VARCHAR PRIMARY KEY, station_id VARCHAR, event VARCHAR, occurred_at VARCHAR, person_ref VARCHAR, name VARCHAR, id_number VARCHAR, gender VARCHAR, age VARCHAR, origin VARCHAR, referral VARCHAR, flags VARCHAR, bed VARCHAR, discharge_reason VARCHAR, incident_type VARCHAR, note VARCHAR)")
c.execute("INSERT INTO admissions SELECT * FROM read_csv(?, header=true, all_varchar=true)", [csv])
c.execute("CHECKPOINT")
c.close()
sys.stdout.flush()
print(time.monotonic() - t)
"#;
    let out = Command::new("python3").args(["-c", script]).arg(&db).arg(csv).output().ok()?;
    let _ = fs::remove_file(&db);
    let _ = fs::remove_file(work.join("ref.duckdb.wal"));
    if !out.status.success() {
        eprintln!("duckdb: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default());
        return None;
    }
    // The last line: DuckDB may print a progress bar before it on a large file.
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    match text.lines().last().and_then(|l| l.trim().parse::<f64>().ok()) {
        Some(secs) => Some(Duration::from_secs_f64(secs)),
        None => {
            eprintln!("duckdb: unexpected output {:?}", text.chars().take(200).collect::<String>());
            None
        }
    }
}

/// `mzd case list --json` against the daemon: (time to the first line, lines, whole time).
fn case_list(daemon: &Daemon) -> (Duration, usize, Duration) {
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mzd"))
        .args(["case", "list", "--json", "--socket"])
        .arg(&daemon.socket)
        .stdout(Stdio::piped())
        .spawn()
        .expect("mzd case list");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let _ = lines.next();
    let first = t.elapsed();
    let count = 1 + lines.count();
    let _ = child.wait();
    (first, count, t.elapsed())
}

/// Drops of 10-row files, latency from rename to the pushed status update (ms, sorted).
fn small_files(w: &Workload, work: &Path, daemon: &Daemon, inbox: &Path) -> Vec<f64> {
    let small_dir = work.join("small");
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
            generate(&f, w, 10, 10_000_000 + i * 100).expect("small file");
            let t = drop_file(inbox, &format!("s{i}.csv"), &f);
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
    latencies.sort_by(f64::total_cmp);
    latencies
}

/// What one workload measured.
struct Figures {
    csv_size: u64,
    sqlite: Option<Duration>,
    duckdb: Option<Duration>,
    stored_after: Duration,
    stored: u64,
    cases: u64,
    ingest_peak_kib: u64,
    store_size: u64,
    startup: Duration,
    rest_kib: u64,
    list_first: Duration,
    list_lines: usize,
    list_all: Duration,
    list_peak_kib: u64,
    latencies: Vec<f64>,
}

fn run(w: &Workload) -> Figures {
    let work = tempfile::tempdir().expect("temp dir");
    let csv = work.path().join(format!("admissions-{}.csv", w.label));
    let t = Instant::now();
    generate(&csv, w, w.rows, 0).expect("generating");
    let csv_size = fs::metadata(&csv).expect("csv").len();
    println!(
        "({}) generated {} rows, {:.1} MB, in {:.1} s",
        w.label,
        w.rows,
        csv_size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let sqlite = sqlite_import(work.path(), &csv);
    let duckdb = duckdb_import(work.path(), &csv);

    let data = work.path().join("data");
    fs::create_dir_all(&data).expect("data dir");
    fs::write(data.join("registry.toml"), w.registry()).expect("registry");
    let (daemon, _) = Daemon::start(&data);
    let inbox = data.join("inbox").join("admissions");
    let dropped = drop_file(&inbox, &format!("admissions-{}.csv", w.label), &csv);
    let (stored_after, stored) = loop {
        if let Some(s) = status_json(&daemon.socket) {
            if s["files"]["ingested"].as_u64() == Some(1) {
                break (dropped.elapsed(), s["records"]["admissions"].as_u64().unwrap_or(0));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let ingest_peak_kib = daemon.peak_rss_kib();
    daemon.stop();
    let store_size = dir_size(&data.join("store"));

    let (daemon, startup) = Daemon::start(&data);
    std::thread::sleep(Duration::from_secs(2));
    let rest_kib = daemon.proc_kib("VmRSS:");
    let cases = status_json(&daemon.socket).and_then(|s| s["cases"]["open"].as_u64()).unwrap_or(0);
    daemon.reset_peak();
    let (list_first, list_lines, list_all) = case_list(&daemon);
    let list_peak_kib = daemon.peak_rss_kib();
    let latencies = small_files(w, work.path(), &daemon, &inbox);
    daemon.stop();
    Figures {
        csv_size,
        sqlite,
        duckdb,
        stored_after,
        stored,
        cases,
        ingest_peak_kib,
        store_size,
        startup,
        rest_kib,
        list_first,
        list_lines,
        list_all,
        list_peak_kib,
        latencies,
    }
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn print(w: &Workload, f: &Figures) {
    let triggers = if w.all_triggers { "every case trigger on" } else { "default case triggers" };
    println!();
    println!(
        "== ({}) {} admission rows, {} station(s), {triggers}, CSV {:.1} MB ==",
        w.label,
        w.rows,
        w.stations,
        f.csv_size as f64 / 1e6
    );
    let mzd_s = f.stored_after.as_secs_f64();
    println!("mzd drop-to-stored        {mzd_s:8.2} s   ({} records stored)", f.stored);
    for (name, t) in [("sqlite3 .import (1 txn)", f.sqlite), ("duckdb read_csv+CHECKPOINT", f.duckdb)] {
        match t {
            Some(t) => {
                let t = t.as_secs_f64();
                println!("{name:<26}{t:7.2} s   (mzd = {:.2}x; target <= 0.30x sqlite3)", mzd_s / t);
            }
            None => println!("{name:<26}    n/a (not installed)"),
        }
    }
    println!("cases opened (open now)   {:8}", f.cases);
    println!("peak daemon RSS, ingest   {:8.1} MB   (target <= 200 MB)", mb(f.ingest_peak_kib));
    println!(
        "store size on disk        {:8.1} MB   ({:.2}x the CSV; target <= 1.5x)",
        f.store_size as f64 / 1e6,
        f.store_size as f64 / f.csv_size as f64
    );
    println!("start-up after restart    {:8.3} s   (target <= 1 s)", f.startup.as_secs_f64());
    println!("RSS at rest after restart {:8.1} MB   (target <= 200 MB)", mb(f.rest_kib));
    println!(
        "case list --json          first line {:.0} ms, {} lines in {:.2} s, daemon peak RSS {:.1} MB   (targets <= 100 ms, <= 300 MB)",
        f.list_first.as_secs_f64() * 1000.0,
        f.list_lines,
        f.list_all.as_secs_f64(),
        mb(f.list_peak_kib)
    );
    println!(
        "10-row file latency       p50 {:.1} ms, p99 {:.1} ms   (targets <= 20 ms, <= 100 ms)",
        percentile(&f.latencies, 0.5),
        percentile(&f.latencies, 0.99)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not use.
    let only = std::env::var("MZ_BENCH_ONLY").unwrap_or_default();
    let workloads: Vec<Workload> = match only.as_str() {
        "a" => vec![Workload::a()],
        "b" => vec![Workload::b()],
        _ => vec![Workload::a(), Workload::b()],
    };
    if let Some(path) = std::env::var_os("MZ_BENCH_GENERATE_ONLY") {
        // For profiling by hand: write the CSV (and the registry) and stop.
        let w = &workloads[0];
        generate(Path::new(&path), w, w.rows, 0).expect("generating");
        if let Some(reg) = std::env::var_os("MZ_BENCH_REGISTRY") {
            fs::write(reg, w.registry()).expect("registry");
        }
        return;
    }
    let figures: Vec<Figures> = workloads.iter().map(run).collect();
    for (w, f) in workloads.iter().zip(&figures) {
        print(w, f);
    }
}

/// SIGTERM to a child of ours: the bench's only `unsafe` code.
#[allow(unsafe_code)]
fn terminate(pid: u32) {
    // SAFETY: kill has no memory preconditions; at worst it fails with ESRCH.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
}
