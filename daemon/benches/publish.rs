//! Publishing benchmark (SPEC §9): `cargo bench -p mzd --bench publish` (release `mzd`, a real
//! `nats-server -js` on a free loopback port, a real `mzd city`).
//!
//! Prints, for one admissions CSV of `MZ_BENCH_ROWS` rows (default 1,000,000; set it smaller
//! for a quick run), with the machine's load average beside each figure:
//! - drop-to-stored time of the file with publishing off and on, and the slowdown (target
//!   ≤ 10 %);
//! - the city's lag behind the district at steady state: 40 small files a few hundred ms
//!   apart, from the district's commit (its `at_ms`, the city's `last_event_at`) to the city
//!   showing that commit applied, p50/p99 (target p99 ≤ 1 s on loopback; the city is polled
//!   every 5 ms, so figures are upper bounds by that much);
//! - the catch-up after an outage: the server is stopped, the same number of rows is ingested
//!   while it is down, the outage lasts `MZ_BENCH_OUTAGE_SECS` in all (default 300), the server
//!   is started again on the same store: time until the city has every commit. A backlog built
//!   with the server down is exactly what an outage leaves.
//!
//! It prints figures; it asserts nothing.

use std::fs;
use std::io::{BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MZD: &str = env!("CARGO_BIN_EXE_mzd");
const STATIONS: [&str; 4] = ["TZ-JZZ", "TZ-P01", "TZ-P02", "TZ-P03"];

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Admits and discharges that keep each station's occupancy low; record ids from `first`.
fn generate(path: &Path, rows: usize, first: usize) {
    let mut out = BufWriter::new(fs::File::create(path).expect("creating the CSV"));
    writeln!(out, "record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason").expect("bench setup");
    let mut t = jiff::civil::date(2025, 1, 1).at(8, 0, 0, 0);
    let mut open: Vec<Option<usize>> = vec![None; STATIONS.len()];
    for i in 0..rows {
        t = t.checked_add(jiff::Span::new().seconds(7)).expect("bench setup");
        let ts = t.strftime("%Y-%m-%d %H:%M:%S");
        let s = i % STATIONS.len();
        let id = first + i;
        match open[s].take() {
            Some(p) => writeln!(out, "R{id},{},discharge,{ts},P{p},,home", STATIONS[s]).expect("bench setup"),
            None => {
                writeln!(out, "R{id},{},admit,{ts},P{id},police,", STATIONS[s]).expect("bench setup");
                open[s] = Some(id);
            }
        }
    }
    out.flush().expect("bench setup");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bench setup").local_addr().expect("bench setup").port()
}

fn nats_server(port: u16, store: &Path) -> Child {
    let bin = ["/usr/bin/nats-server", "/usr/sbin/nats-server"].into_iter().find(|p| Path::new(p).exists());
    let child = Command::new(bin.unwrap_or("nats-server"))
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store)
        .stderr(Stdio::null())
        .spawn()
        .expect("starting nats-server (Debian package nats-server)");
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop(mut c: Child) {
    // SAFETY: signalling our own child.
    terminate(c.id());
    let _ = c.wait();
}

fn status(socket: &Path) -> Option<serde_json::Value> {
    let out = Command::new(MZD).args(["status", "--json", "--socket"]).arg(socket).output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

fn wait(what: &str, every: Duration, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(3600), "gave up waiting for {what}");
        std::thread::sleep(every);
    }
}

/// A district on `dir`, publishing to `url` when given.
fn district(dir: &Path, url: Option<&str>) -> (Child, PathBuf) {
    let data = dir.join("data");
    fs::create_dir_all(&data).expect("bench setup");
    fs::write(data.join("registry.toml"), mz_shared::registry::DEMO_REGISTRY).expect("bench setup");
    let mut cmd = Command::new(MZD);
    cmd.args(["run", "--data"]).arg(&data).env("RUST_LOG", "warn");
    if let Some(url) = url {
        fs::write(dir.join("mzd.toml"), format!("[publish]\nurl = \"{url}\"\n")).expect("bench setup");
        cmd.arg("--config").arg(dir.join("mzd.toml"));
    }
    let child = cmd.spawn().expect("starting mzd");
    let socket = data.join("mzd.sock");
    // The socket answers before the inbox folders exist: wait for both.
    wait("mzd to answer", Duration::from_millis(20), || status(&socket).is_some());
    wait("the inbox", Duration::from_millis(20), || data.join("inbox/admissions").is_dir());
    (child, socket)
}

fn city(dir: &Path, url: &str) -> (Child, PathBuf) {
    fs::create_dir_all(dir).expect("bench setup");
    let cfg = format!(
        "url = \"{url}\"\ndata = \"data\"\nname = \"bench\"\n[[district]]\ncode = \"110112\"\nname = \"通州区\"\n"
    );
    fs::write(dir.join("city.toml"), cfg).expect("bench setup");
    let child = Command::new(MZD)
        .args(["city", "--config"])
        .arg(dir.join("city.toml"))
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("starting mzd city");
    let socket = dir.join("data/mzd.sock");
    wait("the city to answer", Duration::from_millis(20), || status(&socket).is_some());
    (child, socket)
}

fn stored(socket: &Path) -> u64 {
    status(socket).map_or(0, |s| {
        s["records"]["admissions"].as_u64().unwrap_or(0) + s["rejected_rows"]["admissions"].as_u64().unwrap_or(0)
    })
}

fn published(socket: &Path) -> (u64, u64) {
    status(socket).map_or((0, u64::MAX), |s| {
        (s["publish"]["published_seq"].as_u64().unwrap_or(0), s["publish"]["pending"].as_u64().unwrap_or(u64::MAX))
    })
}

fn city_seq(socket: &Path) -> u64 {
    status(socket).and_then(|s| s["districts"][0]["last_seq"].as_u64()).unwrap_or(0)
}

/// The city's entry for the district: rows it counts, and when the district made the commit
/// the city applied last (Unix ms).
fn city_rows(socket: &Path) -> Option<(u64, i64)> {
    let s = status(socket)?;
    let d = &s["districts"][0];
    let rows = d["records"]["admissions"].as_u64()? + d["rejected_rows"]["admissions"].as_u64()?;
    let at: jiff::Timestamp = d["last_event_at"].as_str()?.parse().ok()?;
    Some((rows, at.as_millisecond()))
}

/// The machine's load average (1, 5, 15 min): the machine may be shared.
fn load() -> String {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let parts: Vec<&str> = text.split_whitespace().take(3).collect();
    format!("load {}", parts.join(" "))
}

/// Drops `csv` and returns the time until every row is stored.
fn ingest(socket: &Path, inbox: &Path, csv: &Path, name: &str, before: u64, rows: u64) -> Duration {
    let t = drop_file(inbox, csv, name);
    wait("the file to be stored", Duration::from_millis(20), || stored(socket) >= before + rows);
    t.elapsed()
}

/// Renames a copy of `csv` into the admissions inbox; returns when it was dropped.
fn drop_file(inbox: &Path, csv: &Path, name: &str) -> Instant {
    let tmp = inbox.join(format!(".{name}.tmp"));
    fs::copy(csv, &tmp).expect("bench setup: copying into the inbox");
    let t = Instant::now();
    fs::rename(&tmp, inbox.join("admissions").join(name)).expect("bench setup: renaming into the inbox");
    t
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Children stopped (SIGTERM) when the bench ends, also by a panic.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in self.0.drain(..) {
            stop(c);
        }
    }
}

fn main() {
    let rows = env_usize("MZ_BENCH_ROWS").unwrap_or(1_000_000);
    let work = tempfile::tempdir().expect("bench setup");
    let csv = work.path().join("adm.csv");
    generate(&csv, rows, 0);
    println!("publish bench: {rows} admission rows ({})", load());

    let (off, socket) = district(&work.path().join("off"), None);
    let off = Children(vec![off]);
    let t_off = ingest(&socket, &work.path().join("off/data/inbox"), &csv, "adm.csv", 0, rows as u64);
    drop(off);

    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let nats = Children(vec![nats_server(port, &work.path().join("nats"))]);
    let (city, city_socket) = city(&work.path().join("city"), &url);
    let (on, socket) = district(&work.path().join("on"), Some(&url));
    let _children = Children(vec![city, on]);
    let inbox = work.path().join("on/data/inbox");
    let t_on = ingest(&socket, &inbox, &csv, "adm.csv", 0, rows as u64);
    let t = Instant::now();
    wait("the city to catch up", Duration::from_millis(5), || caught_up(&socket, &city_socket));
    println!(
        "ingest drop-to-stored: publishing off {:.2} s, on {:.2} s: slowdown {:+.1} % (target <= 10 %); \
         city caught up {:.2} s after ({})",
        t_off.as_secs_f64(),
        t_on.as_secs_f64(),
        (t_on.as_secs_f64() / t_off.as_secs_f64() - 1.0) * 100.0,
        t.elapsed().as_secs_f64(),
        load()
    );

    let total = lag(&socket, &city_socket, &inbox, work.path(), rows as u64);

    let outage = Instant::now();
    drop(nats);
    generate(&csv, rows, 20_000_000);
    let t_outage = ingest(&socket, &inbox, &csv, "backlog.csv", total, rows as u64);
    let outage_secs = env_usize("MZ_BENCH_OUTAGE_SECS").unwrap_or(300) as u64;
    std::thread::sleep(Duration::from_secs(outage_secs).saturating_sub(outage.elapsed()));
    let (_, backlog) = published(&socket);
    let down = outage.elapsed();
    let _nats = Children(vec![nats_server(port, &work.path().join("nats"))]);
    let t = Instant::now();
    wait("the city to catch up after the outage", Duration::from_millis(5), || caught_up(&socket, &city_socket));
    println!(
        "outage of {:.0} s (nats-server stopped, then started again on the same store): {rows} rows ingested in \
         {:.2} s meanwhile ({backlog} commits waiting); the city caught up {:.2} s after the server came back ({})",
        down.as_secs_f64(),
        t_outage.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        load()
    );
}

/// Everything the district committed is published and applied by the city.
fn caught_up(district: &Path, city: &Path) -> bool {
    let (p, pending) = published(district);
    pending == 0 && city_seq(city) == p
}

/// The city's lag at steady state over 40 small files; returns the rows stored in all.
fn lag(socket: &Path, city_socket: &Path, inbox: &Path, work: &Path, before: u64) -> u64 {
    let small = work.join("small.csv");
    let mut lags = Vec::new();
    let mut total = before;
    for i in 0..40 {
        generate(&small, 10, 10_000_000 + i * 10);
        drop_file(inbox, &small, &format!("s{i}.csv"));
        total += 10;
        let seen = std::cell::Cell::new(None);
        wait("the city to apply the file", Duration::from_millis(5), || {
            seen.set(city_rows(city_socket).filter(|(n, _)| *n >= total));
            seen.get().is_some()
        });
        let at = seen.get().map_or(0, |(_, at)| at);
        lags.push((jiff::Timestamp::now().as_millisecond() - at) as f64 / 1000.0);
        wait("the district to settle", Duration::from_millis(20), || stored(socket) >= total);
        std::thread::sleep(Duration::from_millis(300));
    }
    lags.sort_by(f64::total_cmp);
    println!(
        "city lag from a district commit to the city's commit (40 small files): p50 {:.0} ms, p99 {:.0} ms, \
         max {:.0} ms (target p99 <= 1000 ms) ({})",
        percentile(&lags, 0.5) * 1000.0,
        percentile(&lags, 0.99) * 1000.0,
        lags.last().copied().unwrap_or(0.0) * 1000.0,
        load()
    );
    total
}

/// SIGTERM to a child of ours: the bench's only `unsafe` code.
#[allow(unsafe_code)]
fn terminate(pid: u32) {
    // SAFETY: kill has no memory preconditions; at worst it fails with ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
}
