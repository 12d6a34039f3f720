//! Statistics report benchmark: `cargo bench -p mzd --bench report` (release build of the real
//! `mzd`).
//!
//! Stores 1,000,000 admission rows (`MZ_BENCH_ROWS` overrides) spread over one past month at six
//! stations, then asks the running daemon for that month's report (`Request::Report`, the same
//! request `mzd report month` sends) 50 times over its socket and prints the median and the
//! slowest answer beside the target (≤ 50 ms), and the same for a day. It prints figures; it
//! asserts nothing.

use mz_client::Client;
use mz_shared::statistics::{Period, PeriodKind};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STATIONS: [&str; 6] = ["TZ-JZZ", "TZ-P01", "TZ-P02", "TZ-P03", "TZ-P04", "TZ-P05"];
const REASONS: [&str; 4] = ["home", "family", "welfare", "left"];
const REFERRALS: [&str; 5] = ["police", "patrol", "self", "agency", "hotline"];

/// Admits and discharges over March 2026: each station keeps a few people in, each arrival
/// leaves again within rows, so occupancy stays small and every row is valid.
fn generate(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(fs::File::create(path)?);
    writeln!(out, "record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason")?;
    let mut rng = fastrand::Rng::with_seed(8);
    let per_second = rows as f64 / (31.0 * 86_400.0);
    let mut n = 0usize;
    let mut pending: Vec<(usize, String, String)> = Vec::new();
    while n < rows {
        let t = (n as f64 / per_second) as i64;
        let (day, sec) = (1 + t / 86_400, t % 86_400);
        let at = format!("2026-03-{day:02} {:02}:{:02}:{:02}", sec / 3600, sec / 60 % 60, sec % 60);
        if pending.len() > 40 || (!pending.is_empty() && rng.bool()) {
            let (_, st, person) = pending.swap_remove(rng.usize(..pending.len()));
            writeln!(out, "R{n},{st},discharge,{at},{person},,{}", REASONS[rng.usize(..REASONS.len())])?;
        } else {
            let st = STATIONS[rng.usize(..STATIONS.len())];
            let person = format!("P{n}");
            writeln!(out, "R{n},{st},admit,{at},{person},{},", REFERRALS[rng.usize(..REFERRALS.len())])?;
            pending.push((n, st.to_owned(), person));
        }
        n += 1;
    }
    out.flush()
}

fn status_records(socket: &Path) -> Option<u64> {
    let out =
        Command::new(env!("CARGO_BIN_EXE_mzd")).args(["status", "--json", "--socket"]).arg(socket).output().ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["records"]["admissions"].as_u64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `n` report requests of `kind` for `period`: (median, max) in ms.
fn time_reports(socket: &Path, kind: PeriodKind, period: Period, n: usize) -> (f64, f64) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mut c = Client::connect(socket, "bench").await.expect("connect");
        let mut ms = Vec::new();
        for _ in 0..n {
            let start = Instant::now();
            let r = c.report(kind, Some(period)).await.expect("report");
            ms.push(start.elapsed().as_secs_f64() * 1000.0);
            assert!(!r.stations.is_empty());
        }
        ms.sort_by(|a, b| a.total_cmp(b));
        (percentile(&ms, 0.5), *ms.last().unwrap_or(&0.0))
    })
}

fn main() {
    let rows: usize = std::env::var("MZ_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let work = tempfile::tempdir().expect("temp dir");
    let data = work.path().join("data");
    let inbox = data.join("inbox").join("admissions");
    fs::create_dir_all(&inbox).expect("inbox");
    fs::write(data.join("registry.toml"), mz_shared::registry::DEMO_REGISTRY).expect("registry");
    let csv = work.path().join("march.csv");
    generate(&csv, rows).expect("generating rows");
    let socket = data.join("mzd.sock");
    let log = fs::File::create(work.path().join("mzd.log")).expect("log");
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_mzd"))
        .args(["run", "--data"])
        .arg(&data)
        .arg("--socket")
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting mzd");
    let start = Instant::now();
    fs::rename(&csv, inbox.join("march.csv")).expect("dropping the file");
    while status_records(&socket) != Some(rows as u64) {
        assert!(start.elapsed() < Duration::from_secs(1800), "not stored within 30 min");
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("stored {rows} admission rows over March 2026 in {:.1} s", start.elapsed().as_secs_f64());
    let month = Period::parse_month("2026-03").expect("month");
    let day = Period::parse_day("2026-03-15").expect("day");
    let (m50, mmax) = time_reports(&socket, PeriodKind::Month, month, 50);
    let (d50, dmax) = time_reports(&socket, PeriodKind::Day, day, 50);
    println!("report month 2026-03 over {rows} rows: median {m50:.2} ms, slowest {mmax:.2} ms (target ≤ 50 ms)");
    println!("report day 2026-03-15: median {d50:.2} ms, slowest {dmax:.2} ms (target ≤ 50 ms)");
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
}
