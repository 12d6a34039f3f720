//! Harness for the workspace-level end-to-end tests.
//!
//! Everything here drives the real `target/debug/mzd` binary: a real data folder in a temporary
//! directory, real files dropped into its inbox, and `mzd status --json` / `mzd export` over the
//! real Unix socket. Nothing is mocked.
//!
//! Build the binaries first: `cargo build --workspace && cargo test -p mz-tests`.

pub mod city;
pub mod feedfile;
pub mod nats;
pub mod sys;
pub mod tmux;

use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The three feeds, as inbox sub-folder names.
pub const FEEDS: [&str; 3] = ["admissions", "burials", "marriages"];

/// How long `wait_until` polls before failing (only to avoid hangs; nothing asserts on speed).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Poll interval of `wait_until`.
pub const POLL: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------------
// Binaries.

/// The directory holding the workspace binaries: the parent of `target/debug/deps`, where the
/// test executables live.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().expect("test executable has a parent directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("deps has a parent").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// `target/debug/mzd`; panics when it has not been built.
pub fn mzd_path() -> PathBuf {
    let p = bin_dir().join("mzd");
    if !p.is_file() {
        panic!("{} does not exist: run `cargo build --workspace` first", p.display());
    }
    p
}

/// A `Command` for `mzd`, with a clean environment for the things that matter
/// (no inherited `MZ_SOCKET`, `RUST_LOG=info`).
pub fn mzd() -> Command {
    let mut c = Command::new(mzd_path());
    c.env_remove("MZ_SOCKET").env("RUST_LOG", "info");
    c
}

/// Runs `mzd ARGS` in `cwd` and returns its output.
pub fn run_mzd(cwd: &Path, args: &[&str]) -> Output {
    mzd().current_dir(cwd).args(args).stdin(Stdio::null()).output().expect("running mzd")
}

/// The output of `mzd demo-registry` (computed once).
pub fn demo_registry() -> &'static str {
    static DEMO: OnceLock<String> = OnceLock::new();
    DEMO.get_or_init(|| {
        let out = mzd().arg("demo-registry").output().expect("running mzd demo-registry");
        assert!(out.status.success(), "mzd demo-registry failed: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("demo registry is UTF-8");
        assert!(text.contains("TZ-JZZ"), "demo registry lacks station TZ-JZZ:\n{text}");
        text
    })
}

// ---------------------------------------------------------------------------------------------
// The daemon.

/// One `mzd run` on a data folder inside `dir`. The child is killed (SIGKILL) on drop.
pub struct Daemon {
    /// The test's own folder: the daemon's working directory, holding `data/` and the log.
    pub dir: PathBuf,
    /// The data folder, `<dir>/data`: registry, store, archive, quarantine.
    pub data: PathBuf,
    /// The inbox, `<data>/inbox`, with a folder per feed.
    pub inbox: PathBuf,
    /// The daemon's socket, `<data>/mzd.sock`.
    pub socket: PathBuf,
    /// The daemon's stderr, `<dir>/mzd.log`, appended across restarts.
    pub log: PathBuf,
    child: Option<Child>,
    /// Number of `mzd run` processes started on this folder.
    pub starts: u32,
    /// Extra environment for `mzd run` (e.g. `FAILPOINTS`), applied at the next start.
    pub env: Vec<(String, String)>,
    /// Extra arguments for `mzd run` (e.g. `--inbox DIR`), applied at the next start.
    pub args: Vec<std::ffi::OsString>,
    /// Run `mzd run` as this user and group id (tests as root of what a non-root daemon meets).
    pub run_as: Option<(u32, u32)>,
}

impl Daemon {
    /// Prepares `dir/data` (registry, inbox folders) without starting anything. The registry is
    /// the demo registry unless `dir/data/registry.toml` already exists.
    pub fn prepare(dir: &Path) -> Daemon {
        let data = dir.join("data");
        fs::create_dir_all(&data).expect("creating data folder");
        let registry = data.join("registry.toml");
        if !registry.exists() {
            fs::write(&registry, demo_registry()).expect("writing registry");
        }
        let inbox = data.join("inbox");
        for feed in FEEDS {
            fs::create_dir_all(inbox.join(feed)).expect("creating inbox folders");
        }
        Daemon {
            dir: dir.to_path_buf(),
            socket: data.join("mzd.sock"),
            log: dir.join("mzd.log"),
            inbox,
            data,
            child: None,
            starts: 0,
            env: Vec::new(),
            args: Vec::new(),
            run_as: None,
        }
    }

    /// Prepares with the given registry text (overwriting any registry there).
    pub fn prepare_with_registry(dir: &Path, registry: &str) -> Daemon {
        let data = dir.join("data");
        fs::create_dir_all(&data).expect("creating data folder");
        fs::write(data.join("registry.toml"), registry).expect("writing registry");
        Daemon::prepare(dir)
    }

    /// Prepares `dir` with the demo registry and starts the daemon (waits until it answers).
    pub fn start(dir: &Path) -> Daemon {
        let mut d = Daemon::prepare(dir);
        d.spawn();
        d
    }

    /// Same with a custom registry.
    pub fn start_with_registry(dir: &Path, registry: &str) -> Daemon {
        let mut d = Daemon::prepare_with_registry(dir, registry);
        d.spawn();
        d
    }

    /// Starts `mzd run` and waits until `mzd status` exits 0 (20 s).
    pub fn spawn(&mut self) {
        self.spawn_no_wait();
        self.wait_ready(DEFAULT_TIMEOUT);
    }

    /// Starts `mzd run` without waiting for it. stderr is appended to `dir/mzd.log`.
    pub fn spawn_no_wait(&mut self) {
        assert!(self.child.is_none(), "daemon already running");
        self.starts += 1;
        let mut log = fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("opening log");
        writeln!(log, "===== mz-tests: start #{} of mzd run =====", self.starts).ok();
        let mut cmd = mzd();
        if let Some((uid, gid)) = self.run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        let child = cmd
            .current_dir(&self.dir)
            .arg("run")
            .arg("--data")
            .arg(&self.data)
            .arg("--socket")
            .arg(&self.socket)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawning mzd run");
        self.child = Some(child);
    }

    /// `mzd ARGS --socket <this daemon's socket>`, run in the test folder; its output.
    pub fn mzd(&self, args: &[&str]) -> Output {
        mzd()
            .current_dir(&self.dir)
            .args(args)
            .arg("--socket")
            .arg(&self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("running mzd")
    }

    /// The same, which must exit 0 (else the test fails with both outputs and the daemon's
    /// log); its stdout.
    pub fn mzd_ok(&self, args: &[&str]) -> String {
        let out = self.mzd(args);
        if !out.status.success() {
            self.fail(&format!(
                "`mzd {}` exited with {:?}\nstdout: {}\nstderr: {}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `mzd status --json` exits 0; fails if the daemon exits first.
    pub fn wait_ready(&mut self, timeout: Duration) {
        let start = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(st)) = child.try_wait() {
                    self.child = None;
                    self.fail(&format!("mzd run exited before answering status: {st}"));
                }
            }
            let (code, _) = self.status_raw();
            if code == Some(0) {
                return;
            }
            if start.elapsed() > timeout {
                self.fail(&format!(
                    "mzd did not answer `mzd status` with exit 0 within {timeout:?} (last exit code {code:?})"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// True while the child process runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The daemon's process id, if running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The files the daemon process holds open (targets of `/proc/<pid>/fd/*`); empty when it
    /// is not running.
    pub fn open_files(&self) -> Vec<PathBuf> {
        let Some(pid) = self.pid() else { return Vec::new() };
        let Ok(rd) = fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
        rd.flatten().filter_map(|e| fs::read_link(e.path()).ok()).collect()
    }

    /// Waits until the daemon exits by itself (`timeout` at most); its exit status, or `None`
    /// if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    self.child = None;
                    return Some(st);
                }
            } else {
                return None;
            }
            std::thread::sleep(POLL);
        }
        None
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            sys::signal(c.id(), libc::SIGKILL);
            c.wait().expect("waiting for killed mzd");
        }
    }

    /// SIGTERM, wait (20 s), and assert exit code 0.
    pub fn terminate(&mut self) {
        let Some(mut c) = self.child.take() else { panic!("terminate: daemon not running") };
        sys::signal(c.id(), libc::SIGTERM);
        let start = Instant::now();
        let status = loop {
            if let Some(st) = c.try_wait().expect("try_wait") {
                break st;
            }
            if start.elapsed() > DEFAULT_TIMEOUT {
                sys::signal(c.id(), libc::SIGKILL);
                let _ = c.wait();
                self.fail("mzd did not exit within 20 s of SIGTERM");
            }
            std::thread::sleep(POLL);
        };
        if status.code() != Some(0) {
            self.fail(&format!("mzd exited with {status} after SIGTERM, expected exit code 0"));
        }
    }

    /// `mzd status --json --socket …`: exit code and stdout.
    pub fn status_raw(&self) -> (Option<i32>, String) {
        let out = mzd()
            .current_dir(&self.dir)
            .args(["status", "--json", "--socket"])
            .arg(&self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("running mzd status");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The status JSON; fails unless `mzd status` exits 0 with a JSON object.
    pub fn status(&self) -> Value {
        let (code, out) = self.status_raw();
        if code != Some(0) {
            self.fail(&format!("`mzd status --json` exited with {code:?}; stdout: {out}"));
        }
        match serde_json::from_str::<Value>(&out) {
            Ok(v) if v.is_object() => v,
            _ => self.fail(&format!("`mzd status --json` printed no JSON object: {out}")),
        }
    }

    /// Polls status every 50 ms until `cond` holds (20 s); returns that status.
    pub fn wait_until(&self, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        self.wait_until_for(DEFAULT_TIMEOUT, what, cond)
    }

    /// [`Daemon::wait_until`] with another timeout.
    pub fn wait_until_for(&self, timeout: Duration, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        let last = loop {
            let (code, out) = self.status_raw();
            if code == Some(0) {
                if let Ok(v) = serde_json::from_str::<Value>(&out) {
                    if cond(&v) {
                        return v;
                    }
                }
            }
            if start.elapsed() > timeout {
                break format!("exit {code:?}: {out}");
            }
            std::thread::sleep(POLL);
        };
        panic!(
            "timed out after {timeout:?} waiting until {what}\n--- last status ---\n{last}\n--- log tail ({}) ---\n{}",
            self.log.display(),
            self.log_tail(60)
        );
    }
    /// The first dashboard pushed on a fresh subscription (the figures as of the last commit),
    /// read as the console reads it.
    pub fn dashboard(&self) -> Value {
        use std::io::{BufRead, BufReader};
        let mut s = std::os::unix::net::UnixStream::connect(&self.socket).expect("connecting to the socket");
        s.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
        writeln!(s, r#"{{"type":"hello","protocol":1,"client":"mz-tests"}}"#).unwrap();
        writeln!(s, r#"{{"type":"request","request":"subscribe_dashboard"}}"#).unwrap();
        let mut r = BufReader::new(s);
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).expect("reading from the socket") == 0 {
                self.fail("the daemon closed the connection before sending a dashboard");
            }
            let v: Value = serde_json::from_str(&line).expect("a JSON line");
            match v["type"].as_str() {
                Some("dashboard") => return v,
                Some("welcome") => {}
                _ => self.fail(&format!("unexpected message: {v}")),
            }
        }
    }

    /// Polls the dashboard until `cond` holds (20 s).
    pub fn wait_dashboard(&self, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let v = self.dashboard();
            if cond(&v) {
                return v;
            }
            if start.elapsed() > DEFAULT_TIMEOUT {
                self.fail(&format!("timed out waiting for {what}"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `files.ingested + files.quarantined + files.duplicates >= n`.
    pub fn wait_files(&self, n: u64) -> Value {
        self.wait_files_for(DEFAULT_TIMEOUT, n)
    }

    /// [`Daemon::wait_files`] with another timeout.
    pub fn wait_files_for(&self, timeout: Duration, n: u64) -> Value {
        self.wait_until_for(timeout, &format!("{n} files are handled (ingested + quarantined + duplicates)"), |s| {
            files_handled(s) >= n
        })
    }

    /// Writes `bytes` to `inbox/<feed>/.<name>.tmp`, then renames it to `inbox/<feed>/<name>`.
    pub fn drop_file(&self, feed: &str, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        self.drop_at(&format!("{feed}/{name}"), bytes)
    }

    /// Same for any path relative to the inbox (e.g. `stray.csv` at the root).
    pub fn drop_at(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let dest = self.inbox.join(rel);
        let dir = dest.parent().expect("parent").to_path_buf();
        fs::create_dir_all(&dir).expect("creating inbox folder");
        let name = dest.file_name().expect("file name").to_string_lossy().into_owned();
        let tmp = dir.join(format!(".{name}.tmp"));
        fs::write(&tmp, bytes).expect("writing temporary file");
        fs::rename(&tmp, &dest).expect("renaming into place");
        dest
    }

    /// `mzd export FEED --format FORMAT`: stdout (fails unless exit 0).
    pub fn export_raw(&self, feed: &str, format: &str) -> String {
        let out = mzd()
            .current_dir(&self.dir)
            .args(["export", feed, "--format", format, "--socket"])
            .arg(&self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("running mzd export");
        if !out.status.success() {
            self.fail(&format!(
                "`mzd export {feed} --format {format}` exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        String::from_utf8(out.stdout).unwrap_or_else(|_| self.fail("export output is not UTF-8"))
    }

    /// `mzd export FEED --format jsonl`, one JSON value per non-empty line.
    pub fn export(&self, feed: &str) -> Vec<Value> {
        self.export_raw(feed, "jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| self.fail(&format!("export line is not JSON ({e}): {l}")))
            })
            .collect()
    }

    /// The exported record of `feed` whose `record_id` is `id` (fails when absent or repeated).
    pub fn exported(&self, feed: &str, id: &str) -> Value {
        let all = self.export(feed);
        let found: Vec<&Value> = all.iter().filter(|r| r["record_id"] == Value::String(id.into())).collect();
        if found.len() != 1 {
            self.fail(&format!("expected exactly one exported {feed} record {id}, found {}: {found:?}", found.len()));
        }
        found[0].clone()
    }

    /// Where handled files of `feed` are moved: `<data>/archive/<feed>`.
    pub fn archive_dir(&self, feed: &str) -> PathBuf {
        self.data.join("archive").join(feed)
    }

    /// Where unusable files of `feed` are moved: `<data>/quarantine/<feed>`.
    pub fn quarantine_dir(&self, feed: &str) -> PathBuf {
        self.data.join("quarantine").join(feed)
    }

    /// `data/quarantine/<feed>/<name>.rejects.csv`.
    pub fn rejects_path(&self, feed: &str, name: &str) -> PathBuf {
        self.quarantine_dir(feed).join(format!("{name}.rejects.csv"))
    }

    /// Regular files and symlinks left in the inbox (recursively), relative to it.
    pub fn inbox_files(&self) -> Vec<String> {
        let mut out: Vec<String> =
            walk(&self.inbox).into_iter().map(|p| p.strip_prefix(&self.inbox).unwrap().display().to_string()).collect();
        out.sort();
        out
    }

    /// The last `n` lines of the daemon log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = fs::read(&self.log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Lines of the log saying the registry was reloaded.
    pub fn registry_reloads(&self) -> usize {
        fs::read(&self.log).map(|b| String::from_utf8_lossy(&b).matches("registry reloaded").count()).unwrap_or(0)
    }

    /// Replaces the registry (written aside, then renamed into place), sends SIGHUP and waits
    /// until the daemon logs that it reloaded it, and a moment more: the line is logged just
    /// before the new registry is published to connections.
    pub fn change_registry(&self, text: &str) {
        let before = self.registry_reloads();
        let tmp = self.data.join("registry.toml.new");
        fs::write(&tmp, text).expect("writing the new registry");
        fs::rename(&tmp, self.data.join("registry.toml")).expect("renaming the new registry into place");
        sys::signal(self.pid().expect("daemon running"), libc::SIGHUP);
        let start = Instant::now();
        while self.registry_reloads() <= before {
            if start.elapsed() > DEFAULT_TIMEOUT {
                self.fail("the daemon did not log `registry reloaded` after the registry changed and SIGHUP");
            }
            std::thread::sleep(POLL);
        }
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Panics with `msg`, the current status (if reachable) and the tail of the log.
    pub fn fail(&self, msg: &str) -> ! {
        let (code, status) = self.status_raw();
        panic!(
            "{msg}\n--- mzd status --json (exit {code:?}) ---\n{status}\n--- log tail ({}) ---\n{}",
            self.log.display(),
            self.log_tail(60)
        );
    }

    /// Checks every `(json pointer, expected)` pair against `status` and fails listing all
    /// mismatches at once.
    pub fn expect(&self, status: &Value, expected: &[(&str, Value)]) {
        let mut bad = String::new();
        for (ptr, want) in expected {
            let got = status.pointer(ptr).cloned().unwrap_or(Value::Null);
            if &got != want {
                let _ = writeln!(bad, "  {ptr}: expected {want}, got {got}");
            }
        }
        if !bad.is_empty() {
            panic!(
                "status differs from what was expected:\n{bad}--- status ---\n{}\n--- log tail ({}) ---\n{}",
                serde_json::to_string_pretty(status).unwrap(),
                self.log.display(),
                self.log_tail(60)
            );
        }
    }

    /// Like [`Daemon::expect`] for a station's occupied beds (by id in `stations`).
    pub fn expect_station(&self, status: &Value, id: &str, occupied: u64) {
        let got = station(status, id).map(|s| s["occupied"].clone());
        if got != Some(Value::from(occupied)) {
            self.fail(&format!("station {id}: expected occupied {occupied}, got {got:?}"));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            sys::signal(c.id(), libc::SIGKILL);
            let _ = c.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Status helpers.

/// `files.ingested + files.quarantined + files.duplicates`.
pub fn files_handled(s: &Value) -> u64 {
    ["ingested", "quarantined", "duplicates"].iter().map(|k| s["files"][k].as_u64().unwrap_or(0)).sum()
}

/// The entry of `stations` with this id.
pub fn station<'a>(s: &'a Value, id: &str) -> Option<&'a Value> {
    s["stations"].as_array()?.iter().find(|x| x["id"] == Value::String(id.into()))
}

/// The entry of `sites` with this id.
pub fn site<'a>(s: &'a Value, id: &str) -> Option<&'a Value> {
    s["sites"].as_array()?.iter().find(|x| x["id"] == Value::String(id.into()))
}

/// `{"over_capacity": 0, …}` with the given kinds set: every alert kind of SPEC §6.
pub fn alerts_by_kind(set: &[(&str, u64)]) -> Value {
    let mut m = serde_json::Map::new();
    for k in
        ["over_capacity", "long_stay", "site_nearly_full", "village_growth", "bigamy_risk", "cooling_off", "incident"]
    {
        m.insert(k.into(), Value::from(set.iter().find(|(n, _)| *n == k).map_or(0, |(_, v)| *v)));
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// Files.

/// All regular files and symlinks under `dir` (not following links), sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(_) => out.push(p),
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}

/// Unix permission bits of a file.
pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).permissions().mode() & 0o7777
}

/// Fills the file system under `dir` with a file named `filler` (blocks of 1 MiB, then 4 KiB,
/// until it is full); returns its path. Remove it to free the space.
pub fn fill_disk(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let mut f = fs::File::create(&filler).expect("creating the filler");
    let block = vec![0x55u8; 1 << 20];
    while f.write_all(&block).is_ok() {}
    let small = vec![0x55u8; 4096];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
    filler
}

/// Lines joined with CRLF, with a trailing CRLF.
pub fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

/// Lines joined with LF, with a trailing LF.
pub fn lf<S: AsRef<str>>(lines: &[S]) -> String {
    lines.iter().map(|l| format!("{}\n", l.as_ref())).collect()
}

/// Text encoded as GBK (panics if a character has no GBK encoding).
pub fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
    assert!(!had_errors, "text not representable in GBK: {text}");
    bytes.into_owned()
}

// ---------------------------------------------------------------------------------------------
// ID numbers (GB 11643-1999), computed here independently of the code under test.

pub use mz_testdata::id_number::{check_digit, id_number, id_number_bad_check};

/// `110105********002X`: first 6 and last 4 characters.
pub fn masked(id: &str) -> String {
    format!("{}********{}", &id[..6], &id[14..])
}

// ---------------------------------------------------------------------------------------------
// Times in Asia/Shanghai (UTC+08:00, no DST since 1991), computed from the system clock.

/// Seconds since the epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u64;
    let mp = if m > 2 { m - 3 } else { m + 9 } as u64;
    let doy = (153 * mp + 2) / 5 + u64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe as i64 - 719468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = (z - era * 146097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const SHANGHAI_OFFSET: i64 = 8 * 3600;

/// `YYYY-MM-DD HH:MM:SS` in Asia/Shanghai for a Unix time.
pub fn local_time(unix: i64) -> String {
    let t = unix + SHANGHAI_OFFSET;
    let (y, m, d) = civil_from_days(t.div_euclid(86400));
    let s = t.rem_euclid(86400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Local time `secs` seconds ago.
pub fn local_time_ago(secs: i64) -> String {
    local_time(unix_now() - secs)
}

/// `YYYY-MM-DD` of today in Asia/Shanghai.
pub fn today_local() -> String {
    local_time(unix_now())[..10].to_string()
}

/// `YYYY-MM-DD` `days` after the date `date` (`YYYY-MM-DD`), negative for before.
pub fn date_plus(date: &str, days: i64) -> String {
    let y: i64 = date[..4].parse().unwrap();
    let m: u32 = date[5..7].parse().unwrap();
    let d: u32 = date[8..10].parse().unwrap();
    let (y, m, d) = civil_from_days(days_from_civil(y, m, d) + days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYYMMDD` form of a `YYYY-MM-DD` date (for ID numbers).
pub fn compact(date: &str) -> String {
    date.replace('-', "")
}

// ---------------------------------------------------------------------------------------------
// A small seeded RNG (over `fastrand`), shared with the demo and the benches.

pub use mz_testdata::Rng;

/// The OS user running the tests (`id -un`): the user the daemon sees on its socket.
pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("running id -un");
    assert!(out.status.success(), "id -un failed");
    String::from_utf8(out.stdout).expect("user name is UTF-8").trim().to_owned()
}

/// `base` (a registry whose last table is `[roles]`) with `roles` set: any existing line for
/// those users is dropped, then `user = "role"` lines are appended.
pub fn with_roles(base: &str, roles: &[(&str, &str)]) -> String {
    assert!(
        base.rfind("[roles]").is_some_and(|i| !base[i..].contains("\n[")),
        "the registry's last table must be [roles]"
    );
    let mut out: String = base
        .lines()
        .filter(|l| {
            let key = l.split('=').next().unwrap_or("").trim().trim_matches('"');
            !(l.contains('=') && roles.iter().any(|(u, _)| *u == key))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    for (user, role) in roles {
        out.push_str(&format!("\"{user}\" = \"{role}\"\n"));
    }
    out
}

/// The demo registry with the current user in `role`.
pub fn registry_as(role: &str) -> String {
    with_roles(demo_registry(), &[(&current_user(), role)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_the_reference_examples() {
        // shared/data/citizen_id_examples.csv (the two others are checked in mz-testdata)
        assert_eq!(check_digit("34052419800101001"), 'X');
        assert_ne!(check_digit("11010519491231002"), '1'); // 110105194912310021 is invalid
        assert_eq!(masked("11010519491231002X"), "110105********002X");
        let id = id_number("110105", "19900307", 12, true);
        assert_eq!(&id[..16], "1101051990030712");
        assert_eq!((id.as_bytes()[16] - b'0') % 2, 1);
        assert_ne!(id_number_bad_check("110105", "19900307", 12, true), id);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(date_plus("2024-02-28", 1), "2024-02-29");
        assert_eq!(date_plus("2024-03-01", -1), "2024-02-29");
        assert_eq!(date_plus("2025-12-31", 1), "2026-01-01");
        assert_eq!(local_time(0), "1970-01-01 08:00:00");
        assert_eq!(local_time(1_700_000_000), "2023-11-15 06:13:20");
    }
}
