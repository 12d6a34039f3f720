//! Console benchmark: `cargo bench -p mzc --bench console` (release builds of the real `mzd` and
//! `mzc`; the bench runs `cargo build --release -p mzd` itself, a no-op when it is up to date).
//!
//! With 1,000,000 admission rows stored (the generator of `daemon/benches/ingest.rs`, plus the
//! `mzc --demo` generator's first batch so that every feed and view has data) it measures:
//! - **frame render time**, p50/p99 per view and overall, at 160×48 and 80×24: the console's
//!   own drawing code (`views::draw`), drawn through a ratatui `Terminal<TestBackend>` with the
//!   real `Dashboard` the daemon pushed, a clock tick before each frame (the console's modules
//!   come from the `mzc` library). Wall time and the thread's CPU time are both reported (on a
//!   busy machine, wall p99 shows preemption). These are the 1-second clock redraws: the
//!   overview copies the parts that only a new dashboard changes from the previous frame
//!   (`widgets::memo`) and redraws what moved.
//!   Also: a pushed dashboard applied (`App::on_client`) plus the frame that follows, which
//!   draws everything.
//! - **`mzc` end to end** in a detached tmux session (its own tmux server), 160×48 and 80×24: CPU
//!   time of all of `mzc`'s threads per redraw while bursts of view keys are replayed (includes
//!   terminal output; an upper bound, as 1-second clock redraws are counted as frames too).
//!   `mzc` logs no frame times, so this is the end-to-end figure.
//! - **console RSS**: that `mzc` after ~10 s of pushed updates while small files are dropped and
//!   the key bursts: VmHWM and VmRSS from `/proc`.
//! - **ingest throughput with 0 and with 50 consoles**: drop-to-stored time of 200,000-row
//!   files (rename into the inbox → the daemon's pushed status shows the file stored), and the
//!   daemon's CPU time, which contention on a shared machine moves much less. Four phases of two
//!   drops each: no console; 50 `SubscribeDashboard` connections that read and discard every
//!   byte (the daemon's own cost of serving consoles; they also time when every one has the new
//!   figures); 50 real `mzc` in tmux at 160×48 (the full cost on one host, as the socket is
//!   local: their decoding and drawing share the cores); no console again. The baseline is the
//!   mean of the four drops without consoles. When N consoles would need more than 40 % of the
//!   available memory (from the dashboard's size and the measured console RSS), fewer are
//!   connected and the summary says so.
//!
//! It prints figures with the targets beside them and asserts nothing; timestamped progress
//! lines come first. Needs `tmux` for the end-to-end parts (skipped, and said so, without it).
//! The run itself takes about 2 minutes on 2 shared cores (generation ~2 s, the 1 M-row ingest
//! ~12 s, frames ~7 s, console ~15 s, eight drops with console start-up ~65 s), plus building
//! `mzd` when it is stale (~40 s–2 min); longer when the pushed dashboard is large, since every
//! console then decodes it on each push. `MZ_BENCH_ROWS` (default 1,000,000),
//! `MZ_BENCH_DROP_ROWS` (200,000), `MZ_BENCH_CONSOLES` (50), `MZ_BENCH_DROPS_PER_PHASE` (2) and
//! `MZ_BENCH_FRAMES` (500 per view and size) change the run.

// The console's modules are compiled here for their rendering code; much of them (key handling
// for `main`, the demo daemon, test helpers under `--cfg test`) is not used by the bench.
#![allow(dead_code, unused_imports)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mz_client::Client;
use mz_shared::dashboard::{CasePage, CaseQueueView, Dashboard};
use mz_shared::id_number::IdNumber;
use mz_shared::protocol::{ClientMessage, Request, ServerMessage, StatusReport, PROTOCOL_VERSION};
use mz_shared::registry::{Role, DEMO_REGISTRY};
use mzc::app::App;
use mzc::client::ClientEvent;
use mzc::{app, client, demo, i18n, views};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// Frames are drawn with the allocator `mzc` uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// ---------------------------------------------------------------------------------------------
// Realistic admission rows (the generator of daemon/benches/ingest.rs, with its state kept so
// that later files continue the same stations, people and timeline).

use mz_testdata::names::{FEMALE_GIVEN, MALE_GIVEN, SURNAMES};
use mz_testdata::places::{DISCHARGE_REASONS as REASONS, ORIGINS, REFERRALS, STATIONS};

/// Mean seconds between two generated rows (`5..60`).
const MEAN_STEP_S: f64 = 32.0;

fn id_number(rng: &mut fastrand::Rng) -> String {
    let region = ["110112", "130602", "411602", "371702", "341202", "511302"][rng.usize(..6)];
    let body =
        format!("{region}{:04}{:02}{:02}{:03}", rng.u32(1950..2005), rng.u32(1..13), rng.u32(1..29), rng.u32(0..1000));
    let check = IdNumber::check_digit_for(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Admits and discharges that keep each station near its size, a few incidents, names and ID
/// numbers for most people. Record ids and people never repeat across files.
struct AdmissionSim {
    rng: fastrand::Rng,
    present: Vec<Vec<usize>>,
    t: jiff::civil::DateTime,
    person: usize,
    record: usize,
}

impl AdmissionSim {
    fn new(start: jiff::civil::DateTime) -> AdmissionSim {
        AdmissionSim {
            rng: fastrand::Rng::with_seed(20261123),
            present: vec![Vec::new(); STATIONS.len()],
            t: start,
            person: 0,
            record: 0,
        }
    }

    fn write(&mut self, path: &Path, rows: usize) -> std::io::Result<()> {
        let rng = &mut self.rng;
        let mut out = BufWriter::new(fs::File::create(path)?);
        writeln!(
            out,
            "record_id,station_id,event,occurred_at,person_ref,name,id_number,gender,age,origin,referral,flags,bed,discharge_reason,incident_type,note"
        )?;
        for _ in 0..rows {
            self.t = self.t.checked_add(jiff::Span::new().seconds(rng.i64(5..60))).expect("in range");
            let s = rng.usize(..STATIONS.len());
            let ts = self.t.strftime("%Y-%m-%d %H:%M:%S");
            let rid = format!("R{}", self.record);
            self.record += 1;
            let target = if s == 0 { 45 } else { 8 };
            let roll = rng.u32(..100);
            let present = &mut self.present[s];
            if present.len() < target && roll < 60 || present.is_empty() {
                self.person += 1;
                present.push(self.person);
                let name = format!("{}{}", SURNAMES[rng.usize(..SURNAMES.len())], {
                    let given = if rng.bool() { MALE_GIVEN } else { FEMALE_GIVEN };
                    given[rng.usize(..given.len())]
                });
                let (name, id) =
                    if rng.u32(..10) == 0 { ("无名氏".to_string(), String::new()) } else { (name, id_number(rng)) };
                writeln!(
                    out,
                    "{rid},{},admit,{ts},P{},{name},{id},,,{},{},,{},,,",
                    STATIONS[s],
                    self.person,
                    ORIGINS[rng.usize(..ORIGINS.len())],
                    REFERRALS[rng.usize(..REFERRALS.len())],
                    rng.u32(1..60)
                )?;
            } else if roll < 97 {
                let k = rng.usize(..present.len());
                let p = present.swap_remove(k);
                writeln!(
                    out,
                    "{rid},{},discharge,{ts},P{p},,,,,,,,,{},,",
                    STATIONS[s],
                    REASONS[rng.usize(..REASONS.len())]
                )?;
            } else {
                let p = present[rng.usize(..present.len())];
                writeln!(out, "{rid},{},incident,{ts},P{p},,,,,,,,,,injury,夜间摔伤", STATIONS[s])?;
            }
        }
        out.flush()
    }
}

// ---------------------------------------------------------------------------------------------
// Processes.

/// `target/release`: where `cargo bench` put `mzc` (and where `mzd` is built).
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mzc")).parent().expect("bin dir").to_path_buf()
}

/// Builds the release `mzd` (a no-op when up to date) and returns its path.
fn mzd_path() -> PathBuf {
    let path = bin_dir().join("mzd");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let built = Command::new(cargo)
        .args(["build", "--release", "-p", "mzd", "--bin", "mzd"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status();
    match built {
        Ok(s) if s.success() => {}
        other => {
            assert!(path.is_file(), "cannot build mzd ({other:?}) and {} does not exist", path.display());
            eprintln!(
                "warning: `cargo build --release -p mzd` failed ({other:?}); using the existing {}",
                path.display()
            );
        }
    }
    path
}

/// CPU time of every thread of a process, in seconds (`/proc/<pid>/task/*/schedstat`).
fn cpu_s(pid: u32) -> f64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else { return 0.0 };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()))
        .sum();
    ns as f64 / 1e9
}

/// `VmHWM` (peak) and `VmRSS` of a process, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let get = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (get("VmHWM:"), get("VmRSS:"))
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// `MemAvailable` from `/proc/meminfo`, in MiB.
fn mem_available_mib() -> f64 {
    let s = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("MemAvailable:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time of the calling thread, in milliseconds.
fn thread_cpu_ms() -> f64 {
    sys::thread_cpu_ms()
}

/// The bench's libc calls, its only `unsafe` code.
#[allow(unsafe_code)]
mod sys {
    pub fn thread_cpu_ms() -> f64 {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes into the timespec we own.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
    }

    /// SIGTERM to a child of ours.
    pub fn terminate(pid: u32) {
        // SAFETY: kill has no memory preconditions; at worst it fails with ESRCH.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
}

/// What a discarding subscriber has seen: pushed messages, and the largest count of handled
/// files in them.
#[derive(Default)]
struct Seen {
    pushes: AtomicU64,
    handled: AtomicU64,
}

/// The handled files of a pushed dashboard, read from the start of its JSON line (the status
/// comes before the big lists).
fn handled_in_prefix(prefix: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(prefix);
    let files = &text[text.find("\"files\":{")?..];
    let files = &files[..files.find('}')?];
    let num = |key: &str| -> Option<u64> {
        let rest = &files[files.find(&format!("\"{key}\":"))? + key.len() + 3..];
        rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
    };
    Some(num("ingested")? + num("quarantined").unwrap_or(0) + num("duplicates").unwrap_or(0))
}

/// A `SubscribeDashboard` connection that reads and discards every byte; it keeps only the
/// first 64 KiB of each line, to see which commit the dashboard is from.
async fn discarding_subscriber(socket: PathBuf, k: usize, seen: Arc<Seen>) -> std::io::Result<()> {
    const PREFIX: usize = 64 * 1024;
    let stream = tokio::net::UnixStream::connect(&socket).await?;
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::with_capacity(1 << 20, r);
    let hello = ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: format!("bench-sub-{k}") };
    let sub = ClientMessage::Request(Request::SubscribeDashboard);
    for m in [hello, sub] {
        let mut line = serde_json::to_vec(&m).expect("json");
        line.push(b'\n');
        w.write_all(&line).await?;
    }
    let mut welcome = String::new();
    r.read_line(&mut welcome).await?;
    let mut buf = vec![0u8; 1 << 20];
    let mut prefix: Vec<u8> = Vec::with_capacity(PREFIX);
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            let (part, ended) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (&chunk[..i], true),
                None => (chunk, false),
            };
            let room = PREFIX.saturating_sub(prefix.len());
            prefix.extend_from_slice(&part[..part.len().min(room)]);
            chunk = &chunk[(part.len() + usize::from(ended)).min(chunk.len())..];
            if ended {
                if let Some(h) = handled_in_prefix(&prefix) {
                    seen.handled.fetch_max(h, Ordering::SeqCst);
                }
                seen.pushes.fetch_add(1, Ordering::SeqCst);
                prefix.clear();
            }
        }
    }
}

struct Daemon {
    child: Child,
    socket: PathBuf,
    mzd: PathBuf,
}

impl Daemon {
    fn start(mzd: &Path, data: &Path) -> Daemon {
        let socket = data.join("mzd.sock");
        let started = Instant::now();
        let child = Command::new(mzd)
            .args(["run", "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .env_remove("MZ_SOCKET")
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting mzd");
        let d = Daemon { child, socket, mzd: mzd.to_path_buf() };
        while d.status_json().is_none() {
            assert!(started.elapsed() < Duration::from_secs(60), "mzd did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        d
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `mzd status --json`.
    fn status_json(&self) -> Option<serde_json::Value> {
        let out = Command::new(&self.mzd).args(["status", "--json", "--socket"]).arg(&self.socket).output().ok()?;
        out.status.success().then(|| serde_json::from_slice(&out.stdout).ok()).flatten()
    }

    fn stop(self) {
        drop(self);
    }
}

impl Drop for Daemon {
    /// Stops the daemon cleanly, also when the bench panics.
    fn drop(&mut self) {
        // SAFETY: plain kill(2) on our own child.
        sys::terminate(self.child.id());
        let _ = self.child.wait();
    }
}

/// Files the daemon is done with (stored, quarantined or recognised as duplicates).
fn handled(s: &StatusReport) -> u64 {
    s.files.ingested + s.files.quarantined + s.files.duplicates
}

fn handled_json(v: &serde_json::Value) -> u64 {
    ["ingested", "quarantined", "duplicates"].iter().map(|k| v["files"][k].as_u64().unwrap_or(0)).sum()
}

/// Copies `src` into the inbox under a temporary name, then renames it into place; returns the
/// instant of the rename.
fn drop_file(inbox: &Path, name: &str, src: &Path) -> Instant {
    let tmp = inbox.join(format!(".{name}.tmp"));
    fs::copy(src, &tmp).expect("copy into inbox");
    let t = Instant::now();
    fs::rename(&tmp, inbox.join(name)).expect("rename into inbox");
    t
}

/// A `Subscribe` (status) connection: pushed after every commit, used to time drops.
struct StatusWatch {
    client: Client,
    last: StatusReport,
}

impl StatusWatch {
    async fn open(socket: &Path) -> StatusWatch {
        let mut client = Client::connect(socket, "bench-status").await.expect("connect");
        client.request(Request::Subscribe).await.expect("subscribe");
        let mut w = StatusWatch { client, last: StatusReport::default() };
        w.next().await;
        w
    }

    async fn next(&mut self) {
        loop {
            if let ServerMessage::Status(s) = self.client.recv().await.expect("status stream") {
                self.last = *s;
                return;
            }
        }
    }

    /// Waits until at least `n` files are handled.
    async fn until_handled(&mut self, n: u64) {
        while handled(&self.last) < n {
            self.next().await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tmux, on a server of our own (`tmux -L`), so that other sessions are never touched.

struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    }

    fn new() -> Tmux {
        Tmux { socket: format!("mzc-bench-{}", std::process::id()) }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]).stdin(Stdio::null()).stderr(Stdio::null());
        c
    }

    /// Starts `mzc` in a detached session of `w`×`h`; returns mzc's pid.
    fn start_mzc(&self, session: &str, w: u16, h: u16, socket: &Path, log: &Path) -> u32 {
        let script = format!(
            "unset NO_COLOR MZ_SOCKET; exec '{}' --socket '{}' --log '{}'",
            env!("CARGO_BIN_EXE_mzc"),
            socket.display(),
            log.display()
        );
        let st = self
            .cmd()
            .args(["new-session", "-d", "-s", session, "-x", &w.to_string(), "-y", &h.to_string(), "sh", "-c", &script])
            .status()
            .expect("running tmux");
        assert!(st.success(), "tmux new-session failed");
        let out = self.cmd().args(["list-panes", "-t", session, "-F", "#{pane_pid}"]).output().expect("list-panes");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("pane pid")
    }

    fn capture(&self, session: &str) -> String {
        let out = self.cmd().args(["capture-pane", "-p", "-t", session]).output().expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, session: &str, needles: &[&str], timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let screen = self.capture(session);
            if needles.iter().all(|n| screen.contains(n)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn keys(&self, session: &str, keys: &[&str]) {
        let st = self.cmd().args(["send-keys", "-t", session]).args(keys).status().expect("send-keys");
        assert!(st.success(), "send-keys failed");
    }

    fn resize(&self, session: &str, w: u16, h: u16) {
        let st = self
            .cmd()
            .args(["resize-window", "-t", session, "-x", &w.to_string(), "-y", &h.to_string()])
            .status()
            .expect("resize-window");
        assert!(st.success(), "resize-window failed");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Our own server only (its own socket): ends the mzc processes it runs; tmux leaves the
        // socket file behind.
        let _ = self.cmd().arg("kill-server").status();
        let dir = std::env::var_os("TMUX_TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
        // SAFETY: getuid has no preconditions.
        let _ = fs::remove_file(dir.join(format!("tmux-{}", mz_client::current_uid())).join(&self.socket));
    }
}

// ---------------------------------------------------------------------------------------------
// Figures.

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn p50_p99(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (percentile(v, 0.5), percentile(v, 0.99))
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// What is on screen for each timed series: a name and the keys that lead there.
const CASES: &[(&str, &[KeyCode])] = &[
    ("1 overview", &[KeyCode::Char('1')]),
    ("2 stations", &[KeyCode::Char('2'), KeyCode::Esc]),
    ("2 stations > residents", &[KeyCode::Char('2'), KeyCode::Esc, KeyCode::Enter]),
    ("3 burials", &[KeyCode::Char('3')]),
    ("4 marriages", &[KeyCode::Char('4')]),
    ("5 alerts", &[KeyCode::Char('5')]),
    ("6 ingest", &[KeyCode::Char('6')]),
    ("7 cases", &[KeyCode::Char('7')]),
];

/// Wall and CPU milliseconds of a series of frames.
#[derive(Default)]
struct Series {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

impl Series {
    fn push(&mut self, wall: f64, cpu: f64) {
        self.wall.push(wall);
        self.cpu.push(cpu);
    }

    fn extend(&mut self, other: &Series) {
        self.wall.extend_from_slice(&other.wall);
        self.cpu.extend_from_slice(&other.cpu);
    }

    /// `p50 … p99 … ms (CPU p50 … p99 …)`.
    fn text(&mut self) -> String {
        let (w50, w99) = p50_p99(&mut self.wall);
        let (c50, c99) = p50_p99(&mut self.cpu);
        format!("p50 {w50:7.3} p99 {w99:7.3} ms (CPU {c50:.3} / {c99:.3})")
    }

    fn p99(&mut self) -> f64 {
        p50_p99(&mut self.wall).1
    }
}

/// Times `f`: wall and thread CPU milliseconds.
fn timed(series: &mut Series, f: impl FnOnce()) {
    let c = thread_cpu_ms();
    let t = Instant::now();
    f();
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    series.push(wall, thread_cpu_ms() - c);
}

fn console_app(dash: &Dashboard, user: &str, page: Option<&CasePage>) -> App {
    let mut app = App::new(i18n::Lang::Zh, true);
    app.on_client(ClientEvent::Connected { user: user.to_string(), role: Role::Officer });
    app.on_client(ClientEvent::Dashboard(Box::new(dash.clone())));
    if let Some(p) = page {
        // The case desk's page, as the daemon answered it.
        app.on_client(ClientEvent::CasePage(Ok(p.clone())));
    }
    app.on_tick(dash.generated_at_ms);
    app
}

struct RenderFigures {
    size: (u16, u16),
    per_view: Vec<(&'static str, Series)>,
}

/// Draws each view up to `frames` times (at most `budget` per view) through a
/// `Terminal<TestBackend>`, a one-second clock tick before each frame; the case desk draws
/// `page`, the first page of its queue as the daemon answered it.
fn render_frames(
    dash: &Dashboard,
    page: &CasePage,
    user: &str,
    size: (u16, u16),
    frames: usize,
    budget: Duration,
) -> RenderFigures {
    let (w, h) = size;
    let mut app = console_app(dash, user, Some(page));
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let mut now = dash.generated_at_ms;
    let mut per_view = Vec::new();
    for (name, keys) in CASES {
        for k in *keys {
            app.on_key(key(*k));
        }
        // The first frame after the switch (a full repaint) is timed too; one untimed warm-up.
        term.draw(|f| views::draw(f, &app)).expect("draw");
        let mut s = Series::default();
        let start = Instant::now();
        for _ in 0..frames {
            now += 1000;
            app.on_tick(now);
            timed(&mut s, || {
                term.draw(|f| views::draw(f, &app)).expect("draw");
            });
            if start.elapsed() > budget && s.wall.len() >= 20 {
                break;
            }
        }
        per_view.push((*name, s));
    }
    RenderFigures { size: (w, h), per_view }
}

/// A pushed dashboard applied (`App::on_client`: lists re-selected, the previous one dropped)
/// and the frame that follows, alternating between two real dashboards, on the overview.
fn update_frames(a: &Dashboard, b: &Dashboard, user: &str, n: usize, budget: Duration) -> Series {
    let mut app = console_app(a, user, None);
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    term.draw(|f| views::draw(f, &app)).expect("draw");
    let mut s = Series::default();
    let start = Instant::now();
    for i in 0..n {
        let d = Box::new(if i % 2 == 0 { b.clone() } else { a.clone() });
        timed(&mut s, || {
            app.on_client(ClientEvent::Dashboard(d));
            term.draw(|f| views::draw(f, &app)).expect("draw");
        });
        if start.elapsed() > budget && s.wall.len() >= 10 {
            break;
        }
    }
    s
}

struct E2eFrames {
    size: (u16, u16),
    frames: u64,
    cpu_per_frame_ms: f64,
}

/// Replays `rounds` bursts of the keys 1–7 into `mzc` and divides its CPU time by the redraws
/// (one per key, plus one per clock tick while it runs).
fn e2e_frames(tmux: &Tmux, session: &str, pid: u32, rounds: usize) -> Option<E2eFrames> {
    let keys: Vec<&str> = (0..rounds).flat_map(|_| ["1", "2", "3", "4", "5", "6", "7"]).collect();
    // Settle on a view other than the last so that the end is visible.
    tmux.keys(session, &["2"]);
    if !tmux.wait_for(session, &["[2 救助站]"], Duration::from_secs(30)) {
        return None;
    }
    wait_idle(&[pid], Duration::from_secs(30));
    let cpu0 = cpu_s(pid);
    let t0 = Instant::now();
    tmux.keys(session, &keys);
    tmux.keys(session, &["1"]);
    if !tmux.wait_for(session, &["[1 总览]"], Duration::from_secs(120)) {
        return None;
    }
    wait_idle(&[pid], Duration::from_secs(60));
    let cpu = cpu_s(pid) - cpu0;
    let frames = keys.len() as u64 + 1 + t0.elapsed().as_secs_f64().ceil() as u64;
    let out = tmux.cmd().args(["display", "-p", "-t", session, "#{window_width}x#{window_height}"]).output().ok()?;
    let dims = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (w, h) = dims.split_once('x').and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))?;
    Some(E2eFrames { size: (w, h), frames, cpu_per_frame_ms: cpu * 1000.0 / frames as f64 })
}

/// Waits until the processes are idle: together under 2 % of a core over 250 ms, plus 0.6 ms
/// each (an idle `mzc` redraws its clock once a second, ~1–2 ms). Returns the time waited.
fn wait_idle(pids: &[u32], limit: Duration) -> Duration {
    let start = Instant::now();
    let allowed = 0.005 + 0.0006 * pids.len() as f64;
    let total = || pids.iter().map(|p| cpu_s(*p)).sum::<f64>();
    let mut last = total();
    while start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(250));
        let c = total();
        if c - last < allowed {
            break;
        }
        last = c;
    }
    start.elapsed()
}

/// Seconds since the start, for the progress lines.
fn since(t: Instant) -> String {
    format!("[{:5.1} s]", t.elapsed().as_secs_f64())
}

#[derive(Clone, Copy, PartialEq)]
enum Consoles {
    None,
    Connections,
    RealMzc,
}

struct DropFigure {
    consoles: Consoles,
    /// How many consoles were connected.
    n: usize,
    secs: f64,
    mzd_cpu: f64,
    consoles_cpu: Option<f64>,
    /// Dashboards each connection received from the rename until all had the new figures.
    pushes: Option<f64>,
    /// Rename → every connection had received a dashboard sent after the drop was stored.
    all_updated: Option<f64>,
    mzd_peak_rss: f64,
    load: String,
}

impl DropFigure {
    fn label(&self) -> String {
        match self.consoles {
            Consoles::None => "0 consoles".into(),
            Consoles::Connections => format!("{} subscriber connections", self.n),
            Consoles::RealMzc => format!("{} real mzc in tmux", self.n),
        }
    }
}

/// The demo generator's next non-empty batch, its clock an hour further on each try (the demo
/// keeps a district's pace, so a few seconds often bring nothing).
fn next_batch(gen: &mut demo::Generator, t: &mut jiff::Timestamp) -> Vec<demo::DemoFile> {
    loop {
        *t = t.checked_add(jiff::SignedDuration::from_hours(1)).expect("in range");
        let batch = gen.next(*t);
        if !batch.is_empty() {
            return batch;
        }
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let started = Instant::now();
    let rows = env_usize("MZ_BENCH_ROWS", 1_000_000);
    let drop_rows = env_usize("MZ_BENCH_DROP_ROWS", 200_000);
    let n_consoles = env_usize("MZ_BENCH_CONSOLES", 50);
    let frames = env_usize("MZ_BENCH_FRAMES", 500);
    let tmux_ok = Tmux::available();
    if !tmux_ok {
        println!("tmux is not installed: the end-to-end mzc figures (RSS, CPU per frame, real consoles) are skipped");
    }
    // Phases of two drops each; the baseline brackets the console phases.
    let phases: Vec<Consoles> = if tmux_ok {
        vec![Consoles::None, Consoles::Connections, Consoles::RealMzc, Consoles::None]
    } else {
        vec![Consoles::None, Consoles::Connections, Consoles::None]
    };
    let per_phase = env_usize("MZ_BENCH_DROPS_PER_PHASE", 2).max(1);
    let order: Vec<Consoles> = phases.iter().flat_map(|c| std::iter::repeat_n(*c, per_phase)).collect();

    let mzd = mzd_path();
    // SAFETY: getuid has no preconditions.
    let user = mz_client::user_name(mz_client::current_uid());

    // Data: the big file, then the timed drops, continuing the same timeline, all in the past.
    let work = tempfile::tempdir().expect("temp dir");
    let total_rows = rows + drop_rows * order.len();
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("zone");
    let days_back = (total_rows as f64 * MEAN_STEP_S / 86_400.0).ceil() as i64 + 3;
    let start = jiff::Timestamp::now()
        .to_zoned(tz)
        .date()
        .checked_sub(jiff::Span::new().days(days_back))
        .expect("date")
        .at(8, 0, 0, 0);
    let mut sim = AdmissionSim::new(start);
    let t = Instant::now();
    let big = work.path().join("admissions-big.csv");
    sim.write(&big, rows).expect("generating");
    let drops: Vec<PathBuf> = (0..order.len())
        .map(|i| {
            let p = work.path().join(format!("admissions-drop-{i}.csv"));
            sim.write(&p, drop_rows).expect("generating");
            p
        })
        .collect();
    let big_mb = fs::metadata(&big).expect("csv").len() as f64 / 1e6;
    let drop_mb = fs::metadata(&drops[0]).expect("csv").len() as f64 / 1e6;
    println!(
        "{} generated {rows} rows ({big_mb:.1} MB) and {} files of {drop_rows} rows ({drop_mb:.1} MB each) in {:.1} s",
        since(started),
        drops.len(),
        t.elapsed().as_secs_f64()
    );

    // The daemon, with the demo registry; the user running the bench is a duty officer.
    let data = work.path().join("data");
    fs::create_dir_all(&data).expect("data dir");
    fs::write(data.join("registry.toml"), format!("{DEMO_REGISTRY}\n{user:?} = \"officer\"\n")).expect("registry");
    let daemon = Daemon::start(&mzd, &data);
    let inbox_root = data.join("inbox");
    let inbox = inbox_root.join("admissions");
    let t = drop_file(&inbox, "admissions-big.csv", &big);
    let stored = loop {
        if let Some(s) = daemon.status_json() {
            if handled_json(&s) >= 1 {
                break s;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let big_ingest_s = t.elapsed().as_secs_f64();
    println!(
        "{} mzd stored {} admission records ({} rejected rows) in {big_ingest_s:.1} s (`mzd status --json`)",
        since(started),
        stored["records"]["admissions"],
        stored["rejected_rows"]["admissions"],
    );

    // Every feed: the `--demo` generator's first batch (burial history, registrations, alerts).
    let mut gen = demo::Generator::new(7);
    let mut dropped_files = 1u64;
    let mut demo_t = jiff::Timestamp::now();
    let batch = gen.initial(demo_t);
    for f in &batch {
        demo::drop_file(&inbox_root, f).expect("demo drop");
    }
    dropped_files += batch.len() as u64;

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut watch = rt.block_on(async {
        let mut w = StatusWatch::open(&daemon.socket).await;
        w.until_handled(dropped_files).await;
        w
    });
    println!(
        "{} with the demo batch: {} admissions, {} burial reports, {} marriages stored; {} active alerts, {} open cases",
        since(started),
        watch.last.records.admissions,
        watch.last.records.burials,
        watch.last.records.marriages,
        watch.last.alerts.active,
        watch.last.cases.open
    );

    // ---- Frame render time, with real pushed dashboards.
    let (dash_a, dash_b) = rt.block_on(async {
        let mut c = Client::connect(&daemon.socket, "bench-frames").await.expect("connect");
        c.request(Request::SubscribeDashboard).await.expect("subscribe");
        let a = loop {
            if let ServerMessage::Dashboard(d) = c.recv().await.expect("dashboard") {
                break d;
            }
        };
        let batch = next_batch(&mut gen, &mut demo_t);
        for f in &batch {
            demo::drop_file(&inbox_root, f).expect("demo drop");
        }
        dropped_files += batch.len() as u64;
        let b = loop {
            if let ServerMessage::Dashboard(d) = c.recv().await.expect("dashboard") {
                if handled(&d.status) >= dropped_files {
                    break d;
                }
            }
        };
        watch.until_handled(dropped_files).await;
        (a, b)
    });
    let dash_json = serde_json::to_vec(&ServerMessage::Dashboard(dash_b.clone())).expect("json").len();
    let mut parts: Vec<(&str, usize)> = vec![
        ("status", serde_json::to_vec(&dash_b.status).map_or(0, |v| v.len())),
        ("stations", serde_json::to_vec(&dash_b.stations).map_or(0, |v| v.len())),
        ("sites", serde_json::to_vec(&dash_b.sites).map_or(0, |v| v.len())),
        ("offices", serde_json::to_vec(&dash_b.offices).map_or(0, |v| v.len())),
        ("alerts", serde_json::to_vec(&dash_b.alerts).map_or(0, |v| v.len())),
        ("ingest", serde_json::to_vec(&dash_b.ingest).map_or(0, |v| v.len())),
        ("urgent cases", serde_json::to_vec(&dash_b.urgent_cases).map_or(0, |v| v.len())),
        ("funds", serde_json::to_vec(&dash_b.funds).map_or(0, |v| v.len())),
    ];
    parts.sort_by_key(|p| std::cmp::Reverse(p.1));
    let dash_text = format!(
        "{:.2} MB as JSON ({} stations with {} residents, {} sites, {} offices, {} alerts, {} urgent cases, {} ingest entries; largest: {})",
        mib(dash_json),
        dash_b.stations.len(),
        dash_b.stations.iter().map(|s| s.residents.len()).sum::<usize>(),
        dash_b.sites.len(),
        dash_b.offices.len(),
        dash_b.alerts.len(),
        dash_b.urgent_cases.len(),
        dash_b.ingest.len(),
        parts.iter().take(3).map(|(n, b)| format!("{n} {:.2} MB", mib(*b))).collect::<Vec<_>>().join(", ")
    );
    println!("pushed dashboard: {dash_text}");
    let page = rt.block_on(async {
        let mut c = Client::connect(&daemon.socket, "bench-page").await.expect("connect");
        c.case_page(CaseQueueView::Open, 0, mzc::casepage::PAGE).await.expect("case page")
    });
    let page_json = serde_json::to_vec(&ServerMessage::CasePage(Box::new(page.clone()))).expect("json").len();
    println!(
        "case desk page: {} of {} open cases, {:.2} MB as JSON (asked when view 7 needs it)",
        page.cases.len(),
        page.total,
        mib(page_json)
    );
    let t = Instant::now();
    let mut renders: Vec<RenderFigures> = [(160, 48), (80, 24)]
        .iter()
        .map(|&size| render_frames(&dash_b, &page, &user, size, frames, Duration::from_secs(3)))
        .collect();
    let mut updates = update_frames(&dash_a, &dash_b, &user, 200, Duration::from_secs(10));
    println!("{} frames drawn in {:.1} s", since(started), t.elapsed().as_secs_f64());

    // ---- mzc end to end: RSS over ~10 s of pushed updates, CPU per redraw.
    let tmux = Tmux::new();
    let mut console_rss: Option<(f64, f64)> = None; // (VmHWM, VmRSS at the end)
    let mut e2e: Vec<E2eFrames> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if tmux_ok {
        let log = work.path().join("mzc-rss.log");
        let pid = tmux.start_mzc("rss", 160, 48, &daemon.socket, &log);
        if tmux.wait_for("rss", &["[已连接]", "[1 总览]"], Duration::from_secs(60)) {
            let t = Instant::now();
            let mut next_drop = Instant::now();
            let mut small = 0;
            while t.elapsed() < Duration::from_secs(10) {
                if Instant::now() >= next_drop {
                    let batch = next_batch(&mut gen, &mut demo_t);
                    for f in &batch {
                        demo::drop_file(&inbox_root, f).expect("demo drop");
                    }
                    small += batch.len();
                    dropped_files += batch.len() as u64;
                    next_drop += Duration::from_secs(1);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            rt.block_on(watch.until_handled(dropped_files));
            println!("{} mzc received pushed updates for 10 s while {small} small files were dropped", since(started));
            for (w, h) in [(160, 48), (80, 24)] {
                tmux.resize("rss", w, h);
                std::thread::sleep(Duration::from_millis(300));
                match e2e_frames(&tmux, "rss", pid, 40) {
                    Some(f) => e2e.push(f),
                    None => {
                        notes.push(format!("mzc at {w}x{h} did not show the expected views; no CPU-per-frame figure"))
                    }
                }
            }
            console_rss = Some(rss_mib(pid));
        } else {
            notes.push(format!("mzc did not connect; screen:\n{}", tmux.capture("rss")));
        }
        let _ = tmux.cmd().args(["kill-session", "-t", "rss"]).status();
    }

    // ---- Ingest throughput with 0 and with N consoles.
    // Memory guard: serving a console holds a copy of the dashboard and its JSON in the daemon
    // while it is sent; a real mzc holds its own copies (measured above).
    let avail = mem_available_mib();
    let budget = 0.4 * avail;
    let json_mib = mib(dash_json);
    let per_connection = 3.0 * json_mib + 1.0;
    let per_mzc = console_rss.map_or(60.0, |r| r.0) + per_connection;
    let n_connections = n_consoles.min((budget / per_connection) as usize).max(1);
    let n_mzc = n_consoles.min((budget / per_mzc) as usize).max(1);
    for (n, what) in [(n_connections, "subscriber connections"), (n_mzc, "real mzc")] {
        if n < n_consoles {
            notes.push(format!(
                "only {n} {what} instead of {n_consoles}: {n_consoles} would need ~{:.0} MB (dashboard {json_mib:.1} MB), over 40 % of the {avail:.0} MB available",
                n_consoles as f64 * if what == "real mzc" { per_mzc } else { per_connection }
            ));
        }
    }
    let mut figures: Vec<DropFigure> = Vec::new();
    let mut mzc_peak_rss: f64 = 0.0;
    let mut idle_consoles: Option<(usize, f64)> = None; // (how many, share of a core)
    let mut drops_iter = drops.iter().enumerate();
    for &consoles in &phases {
        let n = match consoles {
            Consoles::None => 0,
            Consoles::Connections => n_connections,
            Consoles::RealMzc => n_mzc,
        };
        let mut subs_rt = None;
        let mut counters: Vec<Arc<Seen>> = Vec::new();
        let mut mzc_pids: Vec<u32> = Vec::new();
        match consoles {
            Consoles::None => {}
            Consoles::Connections => {
                // Their own runtime (one thread), as consoles are other processes.
                let r = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
                for k in 0..n {
                    let c = Arc::new(Seen::default());
                    counters.push(c.clone());
                    r.spawn(discarding_subscriber(daemon.socket.clone(), k, c));
                }
                let t = Instant::now();
                while counters.iter().any(|c| c.pushes.load(Ordering::SeqCst) == 0)
                    && t.elapsed() < Duration::from_secs(300)
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                subs_rt = Some(r);
            }
            Consoles::RealMzc => {
                for k in 0..n {
                    let log = work.path().join(format!("mzc-{k}.log"));
                    mzc_pids.push(tmux.start_mzc(&format!("c{k}"), 160, 48, &daemon.socket, &log));
                }
                let connected =
                    (0..n).filter(|k| tmux.wait_for(&format!("c{k}"), &["[已连接]"], Duration::from_secs(60))).count();
                if connected < n {
                    notes.push(format!("only {connected} of {n} mzc showed [已连接]"));
                }
                // Until they have decoded and drawn their first dashboard; then their idle cost.
                wait_idle(&mzc_pids, Duration::from_secs(120));
                let c0: f64 = mzc_pids.iter().map(|p| cpu_s(*p)).sum();
                std::thread::sleep(Duration::from_secs(3));
                let c1: f64 = mzc_pids.iter().map(|p| cpu_s(*p)).sum();
                idle_consoles = Some((n, (c1 - c0) / 3.0));
            }
        }
        println!(
            "{} {} connected",
            since(started),
            if n == 0 { "no console".to_string() } else { format!("{n} consoles") }
        );
        for _ in 0..per_phase {
            let Some((i, file)) = drops_iter.next() else { break };
            let base: Vec<u64> = counters.iter().map(|c| c.pushes.load(Ordering::SeqCst)).collect();
            let load = loadavg();
            let consoles_cpu0: f64 = mzc_pids.iter().map(|p| cpu_s(*p)).sum();
            let cpu0 = cpu_s(daemon.pid());
            let dropped = drop_file(&inbox, &format!("admissions-drop-{i}.csv"), file);
            dropped_files += 1;
            rt.block_on(watch.until_handled(dropped_files));
            let secs = dropped.elapsed().as_secs_f64();
            let mzd_cpu = cpu_s(daemon.pid()) - cpu0;
            let (pushes, all_updated) = if counters.is_empty() {
                (None, None)
            } else {
                // Until every connection has received a dashboard that shows the drop stored.
                let t = Instant::now();
                while counters.iter().any(|c| c.handled.load(Ordering::SeqCst) < dropped_files)
                    && t.elapsed() < Duration::from_secs(300)
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let all = counters.iter().all(|c| c.handled.load(Ordering::SeqCst) >= dropped_files);
                let at = dropped.elapsed().as_secs_f64();
                let got = counters.iter().zip(&base).map(|(c, b)| (c.pushes.load(Ordering::SeqCst) - b) as f64);
                (Some(got.sum::<f64>() / n as f64), all.then_some(at))
            };
            // The consoles' CPU: from the rename until they are idle again (they redraw after it).
            let consoles_cpu = (!mzc_pids.is_empty()).then(|| {
                wait_idle(&mzc_pids, Duration::from_secs(60));
                mzc_pids.iter().map(|p| cpu_s(*p)).sum::<f64>() - consoles_cpu0
            });
            for p in &mzc_pids {
                mzc_peak_rss = mzc_peak_rss.max(rss_mib(*p).0);
            }
            let mzd_peak_rss = rss_mib(daemon.pid()).0;
            let fig = DropFigure { consoles, n, secs, mzd_cpu, consoles_cpu, pushes, all_updated, mzd_peak_rss, load };
            println!(
                "{} drop {} ({drop_rows} rows, {}): stored after {secs:.2} s, mzd CPU {mzd_cpu:.2} s{}{}, mzd peak RSS {mzd_peak_rss:.0} MB (load {})",
                since(started),
                i + 1,
                fig.label(),
                fig.consoles_cpu.map(|c| format!(", consoles' CPU until idle {c:.2} s")).unwrap_or_default(),
                match (fig.pushes, fig.all_updated) {
                    (Some(p), Some(a)) => format!(", all connections had the new figures after {a:.2} s ({p:.1} pushes each)"),
                    (Some(_), None) => ", some connections never got the new figures".to_string(),
                    _ => String::new(),
                },
                fig.load,
            );
            figures.push(fig);
            // Let the daemon settle (files moved, buffers freed) before the next drop.
            wait_idle(&[daemon.pid()], Duration::from_secs(30));
        }
        if let Some(r) = subs_rt {
            r.shutdown_timeout(Duration::from_secs(2));
        }
        for k in 0..mzc_pids.len() {
            let _ = tmux.cmd().args(["kill-session", "-t", &format!("c{k}")]).status();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let final_status = watch.last.clone();
    drop(watch);
    daemon.stop();
    drop(tmux);

    // ---- Summary.
    let mean = |c: Consoles, f: fn(&DropFigure) -> f64| {
        let v: Vec<f64> = figures.iter().filter(|d| d.consoles == c).map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let base_s = mean(Consoles::None, |d| d.secs).expect("baseline");
    let base_cpu = mean(Consoles::None, |d| d.mzd_cpu).expect("baseline");
    println!();
    println!(
        "== mz console benchmark: {} admission records stored (+ demo data of every feed); {:.0} s in all ==",
        final_status.records.admissions,
        started.elapsed().as_secs_f64()
    );
    println!("pushed dashboard: {dash_text}");
    println!("{:<46} {:<58} target", "figure", "measured (wall; thread CPU in brackets)");
    for r in &mut renders {
        let (w, h) = r.size;
        let mut all = Series::default();
        for (_, s) in &r.per_view {
            all.extend(s);
        }
        let n = all.wall.len();
        println!("{:<46} {:<58} <= 5 ms", format!("frame {w}x{h}, all views ({n} frames)"), all.text());
        for (name, s) in &mut r.per_view {
            println!("{:<46} {}", format!("  {name} ({})", s.wall.len()), s.text());
        }
    }
    println!("{:<46} {:<58} <= 5 ms", format!("dashboard update + frame ({})", updates.wall.len()), updates.text());
    for f in &e2e {
        println!(
            "{:<46} {:<58} <= 5 ms",
            format!("mzc CPU per redraw, tmux {}x{}", f.size.0, f.size.1),
            format!("{:.3} ms over {} redraws (upper bound)", f.cpu_per_frame_ms, f.frames)
        );
    }
    match console_rss {
        Some((hwm, rss)) => println!(
            "{:<46} {:<58} <= 50 MB",
            "console RSS (1 mzc, ~15 s of updates)",
            format!("peak {hwm:.1} MB, at the end {rss:.1} MB")
        ),
        None => println!("{:<46} {:<58} <= 50 MB", "console RSS (mzc)", "not measured (no tmux, or mzc failed)"),
    }
    if mzc_peak_rss > 0.0 {
        println!(
            "{:<46} {:<58} <= 50 MB",
            format!("console RSS ({n_mzc} mzc during a drop)"),
            format!("peak {mzc_peak_rss:.1} MB (the largest)")
        );
    }
    let each = |c: Consoles| {
        figures.iter().filter(|d| d.consoles == c).map(|d| format!("{:.2}", d.secs)).collect::<Vec<_>>().join(", ")
    };
    println!(
        "{:<46} {:<58}",
        format!("ingest {drop_rows} rows, 0 consoles"),
        format!("{base_s:.2} s = {:.0} rows/s; mzd CPU {base_cpu:.2} s", drop_rows as f64 / base_s)
    );
    for cond in [Consoles::Connections, Consoles::RealMzc] {
        let (Some(s), Some(cpu)) = (mean(cond, |d| d.secs), mean(cond, |d| d.mzd_cpu)) else { continue };
        let label = figures.iter().find(|d| d.consoles == cond).map(DropFigure::label).unwrap_or_default();
        println!(
            "{:<46} {:<58} <= +10 %",
            format!("ingest {drop_rows} rows, {label}"),
            format!(
                "{s:.2} s = {:.0} rows/s ({:+.1} %); mzd CPU {cpu:.2} s ({:+.1} %)",
                drop_rows as f64 / s,
                (s / base_s - 1.0) * 100.0,
                (cpu / base_cpu - 1.0) * 100.0
            )
        );
    }
    println!(
        "(ingest: rename into the inbox → the daemon's pushed status shows the file stored; mean of {per_phase} drops per phase, the 0-console baseline of the first and last phases together; drop times: 0 consoles {} | connections {} | real mzc {}; loads: {})",
        each(Consoles::None),
        each(Consoles::Connections),
        each(Consoles::RealMzc),
        figures.iter().map(|d| d.load.split(' ').next().unwrap_or("")).collect::<Vec<_>>().join(" ")
    );
    println!(
        "({rows}-row file stored in {big_ingest_s:.1} s; mzd peak RSS after each drop: {})",
        figures.iter().map(|d| format!("{:.0} MB", d.mzd_peak_rss)).collect::<Vec<_>>().join(", ")
    );
    let updated: Vec<String> = figures.iter().filter_map(|d| d.all_updated.map(|a| format!("{a:.2} s"))).collect();
    if !updated.is_empty() {
        println!(
            "(subscriber connections: one dashboard pushed per stored file ({:.2} MB); every connection had it after {} from the rename)",
            mib(dash_json),
            updated.join(", ")
        );
    }
    if let Some((n, share)) = idle_consoles {
        let busy: Vec<String> = figures.iter().filter_map(|d| d.consoles_cpu.map(|c| format!("{c:.2} s"))).collect();
        println!(
            "({n} real mzc: idle, they use {:.1} % of one core in all (clock redraws); from a drop's rename until idle again: {} of CPU, on the same cores as mzd)",
            share * 100.0,
            busy.join(", ")
        );
    }
    for n in &notes {
        println!("note: {n}");
    }
}
