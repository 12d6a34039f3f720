//! The socket server under abuse and change (issue 7): what `--socket` may replace, request lines
//! without an end, idle and excess connections, names in exports for viewers, roles changed while
//! a connection is open, and an engine that does not answer. Every test drives the real `mzd`
//! over its real socket; raw connections speak the protocol (newline-delimited JSON, a hello
//! first) directly.

use mz_shared::case::Action;
use mz_shared::protocol::{ClientMessage, Request, PROTOCOL_VERSION};
use mz_tests::{demo_registry, lf, local_time_ago, mzd, mzd_path, registry_as, Daemon, DEFAULT_TIMEOUT, POLL};
use serde_json::Value;
use std::fs;
use std::io::{BufRead, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers.

/// A raw connection to the daemon's socket. Reads give up after [`DEFAULT_TIMEOUT`], so a daemon
/// that never answers fails the test instead of hanging it.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

/// What reading one line gave.
#[derive(Debug)]
enum Got {
    Message(Value),
    /// The daemon closed the connection.
    Closed,
    /// Nothing within the read timeout.
    Silence,
}

impl Conn {
    fn open(d: &Daemon) -> Conn {
        let s = UnixStream::connect(&d.socket).unwrap_or_else(|e| d.fail(&format!("connect: {e}")));
        s.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
        Conn { writer: s.try_clone().unwrap(), reader: BufReader::new(s) }
    }

    /// Writes one message; `false` when the daemon has already closed the connection.
    fn send(&mut self, msg: &ClientMessage) -> bool {
        let mut line = serde_json::to_vec(msg).unwrap();
        line.push(b'\n');
        self.writer.write_all(&line).is_ok()
    }

    fn hello(&mut self) -> bool {
        self.send(&ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: "server_faults".into() })
    }

    fn request(&mut self, r: Request) -> bool {
        self.send(&ClientMessage::Request(r))
    }

    fn recv(&mut self) -> Got {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => Got::Closed,
            Ok(_) => Got::Message(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Got::Silence,
            // Reset by the daemon: closed.
            Err(_) => Got::Closed,
        }
    }

    /// The next message, which must be there.
    fn message(&mut self, d: &Daemon, what: &str) -> Value {
        match self.recv() {
            Got::Message(v) => v,
            other => d.fail(&format!("{what}: expected a message, got {other:?}")),
        }
    }

    /// Connects and greets; returns the welcome.
    fn greeted(d: &Daemon) -> (Conn, Value) {
        let mut c = Conn::open(d);
        assert!(c.hello(), "writing the hello failed");
        let welcome = c.message(d, "answer to the hello");
        assert_eq!(welcome["type"], "welcome", "answer to the hello: {welcome}");
        (c, welcome)
    }
}

/// `zh | en` of an error message, or `None` for any other message.
fn error_text(msg: &Value) -> Option<String> {
    (msg["type"] == "error").then(|| format!("{} | {}", msg["reason"]["zh"], msg["reason"]["en"]))
}

/// `mzd run` started by the test with extra environment (the daemon's documented test
/// overrides), on a folder prepared by [`Daemon::prepare`]. Killed when dropped.
struct EnvDaemon {
    d: Daemon,
    child: Child,
}

impl EnvDaemon {
    fn start(dir: &Path, registry: &str, env: &[(&str, &str)]) -> EnvDaemon {
        let d = Daemon::prepare_with_registry(dir, registry);
        let log = fs::File::create(&d.log).unwrap();
        let child = mzd()
            .current_dir(&d.dir)
            .envs(env.iter().copied())
            .args(["run", "--data"])
            .arg(&d.data)
            .arg("--socket")
            .arg(&d.socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawning mzd run");
        let e = EnvDaemon { d, child };
        e.d.wait_until("the daemon answers status", |_| true);
        e
    }
}

impl Drop for EnvDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` at most `limit`; kills it and returns `None` if it is still running.
fn wait_or_kill(mut child: Child, limit: Duration) -> Option<Output> {
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(POLL);
    }
    Some(child.wait_with_output().expect("collecting output"))
}

/// A `key:   value kB` line of `/proc/<pid>/status`, in kB.
fn proc_kb(pid: u32, key: &str) -> u64 {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc/<pid>/status");
    let line = text.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key} in status"));
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB")
}

fn admissions_with_names() -> String {
    let t = |h: i64| local_time_ago(h * 3600)[..16].to_string();
    lf(&[
        "record_id,station_id,event,occurred_at,person_ref,name,referral".to_string(),
        format!("SF-1,TZ-JZZ,admit,{},P-SF1,张三丰,police", t(5)),
        format!("SF-2,TZ-JZZ,admit,{},P-SF2,李四,self", t(4)),
    ])
}

// ---------------------------------------------------------------------------------------------
// 1. `--socket` never deletes anything but a stale socket.

#[test]
fn socket_path_on_an_existing_file_is_refused_and_the_file_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    d.terminate();
    let key = d.data.join("id-hash.key");
    let key_bytes = fs::read(&key).expect("the daemon created id-hash.key");

    let child = mzd()
        .current_dir(&d.dir)
        .args(["run", "--data"])
        .arg(&d.data)
        .arg("--socket")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning mzd run");
    let out = wait_or_kill(child, DEFAULT_TIMEOUT);
    assert_eq!(fs::read(&key).ok(), Some(key_bytes), "`mzd run --socket <data>/id-hash.key` replaced the key");
    let out = out.expect("`mzd run --socket <data>/id-hash.key` started instead of refusing");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "mzd run on a regular file exited 0: {stderr}");
    assert!(stderr.contains(&key.display().to_string()), "the error does not name the path: {stderr}");

    // A stale socket (left by a killed daemon) is still replaced.
    d.spawn();
    d.kill9();
    assert!(fs::symlink_metadata(&d.socket).is_ok(), "a killed daemon left no socket file to test with");
    d.spawn();
    d.status();
}

// ---------------------------------------------------------------------------------------------
// 2. Request lines, idle and excess connections.

#[test]
fn a_request_line_without_an_end_is_cut_off_and_memory_stays_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let pid = d.pid().expect("running");
    let (hwm_before, rss_before) = (proc_kb(pid, "VmHWM:"), proc_kb(pid, "VmRSS:"));

    let (mut c, _) = Conn::greeted(&d);
    // A request of exactly 1 MiB (mzd::server::MAX_LINE_BYTES, JSON padded with spaces) is served.
    let mut line = serde_json::to_vec(&ClientMessage::Request(Request::Status)).unwrap();
    let end = line.pop().expect("a JSON object ends with }");
    line.resize((1 << 20) - 1, b' ');
    line.extend([end, b'\n']);
    c.writer.write_all(&line).unwrap();
    assert_eq!(c.message(&d, "answer to a 1 MiB request")["type"], "status");

    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0usize;
    while sent < 50 << 20 && c.writer.write_all(&chunk).is_ok() {
        sent += chunk.len();
    }
    let answer = c.recv();
    let (hwm_after, rss_after) = (proc_kb(pid, "VmHWM:"), proc_kb(pid, "VmRSS:"));
    eprintln!(
        "sent {} MiB without a newline; daemon RSS {rss_before} → {rss_after} kB, peak {hwm_before} → {hwm_after} kB",
        sent >> 20
    );
    let Got::Message(msg) = &answer else { d.fail(&format!("no answer to an endless line: {answer:?}")) };
    let reason = error_text(msg).unwrap_or_else(|| d.fail(&format!("expected an error, got {msg}")));
    assert!(reason.contains("too long") && reason.contains("过长"), "reason: {reason}");
    assert!(matches!(c.recv(), Got::Closed), "the connection stays open after an over-long line");
    assert!(sent < 50 << 20, "the daemon read all 50 MiB of one line");
    assert!(hwm_after < hwm_before + 20 * 1024, "peak RSS grew from {hwm_before} to {hwm_after} kB");
    d.status();
}

/// Opens a connection, says hello and sorts it by the answer: `Some(conn)` when welcomed, `None`
/// when refused for too many connections.
fn hello_or_refused(d: &Daemon) -> Option<Conn> {
    let mut c = Conn::open(d);
    c.hello(); // may fail when the daemon refused at once: its reason is still there to read
    match c.message(d, "answer to a hello") {
        m if m["type"] == "welcome" => Some(c),
        m if error_text(&m).is_some_and(|r| r.contains("too many connections")) => None,
        m => d.fail(&format!("unexpected answer to a hello: {m}")),
    }
}

#[test]
fn connections_beyond_the_limit_are_refused_and_status_still_answers() {
    const LIMIT: usize = 256; // mzd::server::MAX_CONNECTIONS
    const TOTAL: usize = 340; // over the served and the status-only connections together
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut refused = 0;
    let mut open: Vec<Conn> = (0..300).filter_map(|_| hello_or_refused(&d)).collect();
    // 300 idle connections: the daemon still answers status.
    d.status();
    for _ in 300..TOTAL {
        match hello_or_refused(&d) {
            Some(c) => open.push(c),
            None => refused += 1,
        }
    }
    eprintln!("{refused} of {TOTAL} connections refused at their hello");
    let mut served = 0;
    for c in &mut open {
        c.request(Request::CaseList { state: None, limit: None });
        match c.recv() {
            Got::Message(m) if m["type"] == "cases" => served += 1,
            Got::Message(m) if error_text(&m).is_some_and(|r| r.contains("too many connections")) => refused += 1,
            other => d.fail(&format!("unexpected answer to case list: {other:?}")),
        }
    }
    assert_eq!((served, refused), (LIMIT, TOTAL - LIMIT), "(served, refused) of {TOTAL} connections");
    drop(open);
    d.wait_until("status answers once the connections are closed", |_| true);
}

#[test]
fn idle_connections_time_out_but_subscriptions_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    let env = [("MZD_HELLO_TIMEOUT_MS", "1000"), ("MZD_IDLE_TIMEOUT_MS", "1500")];
    let e = EnvDaemon::start(tmp.path(), demo_registry(), &env);
    let d = &e.d;

    let mut subscribed = Conn::greeted(d).0;
    subscribed.request(Request::Subscribe);
    assert_eq!(subscribed.message(d, "first pushed status")["type"], "status");

    let mut silent = Conn::open(d);
    match silent.recv() {
        Got::Message(m) if error_text(&m).is_some_and(|r| r.contains("hello")) => {}
        other => d.fail(&format!("a connection without hello: expected an error about the hello, got {other:?}")),
    }
    assert!(matches!(silent.recv(), Got::Closed), "the connection without hello stays open");

    let mut idle = Conn::greeted(d).0;
    idle.request(Request::Status);
    assert_eq!(idle.message(d, "status")["type"], "status");
    match idle.recv() {
        Got::Message(m) if error_text(&m).is_some_and(|r| r.contains("idle")) => {}
        other => d.fail(&format!("an idle connection: expected an error about idleness, got {other:?}")),
    }
    assert!(matches!(idle.recv(), Got::Closed), "the idle connection stays open");

    // The subscription has outlived both timeouts: a new file still reaches it.
    d.drop_file("admissions", "later.csv", admissions_with_names());
    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    loop {
        let m = subscribed.message(d, "a status pushed after the idle timeout");
        assert_eq!(m["type"], "status", "{m}");
        if m["files"]["ingested"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no pushed status shows the new file");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Viewers get masked names in every export.

const VIEWER: &str = "mztest_srvview";

/// Removes the throwaway user when dropped (also when the test fails).
struct UserGuard;

impl Drop for UserGuard {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(VIEWER).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

fn can_create_users() -> bool {
    let have = |prog: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {prog}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    (mz_tests::sys::is_root()) && ["useradd", "userdel", "runuser"].into_iter().all(have)
}

/// `mzd ARGS --socket …` as the throwaway user; stdout, which must come with exit 0.
fn as_viewer(d: &Daemon, args: &[&str]) -> String {
    let out = Command::new("runuser")
        .args(["-u", VIEWER, "--"])
        .arg(mzd_path())
        .args(args)
        .arg("--socket")
        .arg(&d.socket)
        .current_dir("/")
        .env_remove("MZ_SOCKET")
        .stdin(Stdio::null())
        .output()
        .expect("running runuser");
    if !out.status.success() {
        d.fail(&format!("`mzd {}` as {VIEWER}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn viewers_get_masked_names_in_every_export() {
    if !can_create_users() {
        eprintln!("SKIPPED viewers_get_masked_names_in_every_export: needs root, useradd, userdel and runuser");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    d.drop_file("admissions", "named.csv", admissions_with_names());
    d.wait_files(1);
    let opened = mzd()
        .args(["case", "open", "--street", "ST-01", "--summary", "来访求助", "--name", "王五", "--socket"])
        .arg(&d.socket)
        .output()
        .unwrap();
    assert!(opened.status.success(), "case open: {}", String::from_utf8_lossy(&opened.stderr));

    let _ = Command::new("userdel").arg(VIEWER).stdout(Stdio::null()).stderr(Stdio::null()).status();
    let _guard = UserGuard;
    assert!(Command::new("useradd").args(["-M", "-N", "-r", VIEWER]).status().unwrap().success(), "useradd");
    for dir in [tmp.path(), d.dir.as_path(), d.data.as_path()] {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(&d.socket, fs::Permissions::from_mode(0o666)).unwrap();

    // The officer sees the names.
    assert!(d.export_raw("admissions", "jsonl").contains("张三丰"), "the officer's export lacks the name");
    for what in ["admissions", "burials", "marriages", "cases", "audit"] {
        for format in ["jsonl", "csv"] {
            let out = as_viewer(&d, &["export", what, "--format", format]);
            for name in ["张三丰", "李四", "王五"] {
                assert!(!out.contains(name), "`mzd export {what} --format {format}` shows a viewer {name}:\n{out}");
            }
            if what == "admissions" {
                assert!(out.contains("张**") && out.contains("李*"), "masked names missing in {format}:\n{out}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Roles are decided per request.

#[test]
fn a_role_removed_from_the_registry_ends_on_open_connections() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let (mut c, welcome) = Conn::greeted(&d);
    assert_eq!(welcome["role"], "officer", "{welcome}");
    let open = mz_shared::protocol::CaseOpenRequest {
        street: "ST-01".into(),
        summary: "来访求助".into(),
        ..Default::default()
    };
    c.request(Request::CaseOpen(open));
    let case = c.message(&d, "answer to case open");
    let id = case["case"]["id"].as_str().unwrap_or_else(|| d.fail(&format!("case open: {case}"))).to_owned();

    // The registry without the current user: a viewer from now on.
    d.change_registry(demo_registry());

    c.request(Request::CaseAct { id: id.clone(), action: Action::Accept, expected_version: 1 });
    let answer = c.message(&d, "answer to accept after the role was removed");
    let reason = error_text(&answer).unwrap_or_else(|| d.fail(&format!("a removed officer still acted: {answer}")));
    assert!(reason.contains("viewer"), "reason: {reason}");
    c.request(Request::CaseShow { id });
    assert_eq!(c.message(&d, "case show")["case"]["state"], "new");
}

// ---------------------------------------------------------------------------------------------
// 5. A stuck engine does not hang clients.

#[test]
fn a_stuck_engine_answers_a_timeout_instead_of_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let e = EnvDaemon::start(tmp.path(), &registry_as("officer"), &[("MZD_ENGINE_TIMEOUT_MS", "1000")]);
    let d = &e.d;
    // The engine writes rejects through `<name>.rejects.csv.writing`: a FIFO there blocks it in
    // open(2) until someone reads, like a hung disk would.
    let q = d.quarantine_dir("admissions");
    fs::create_dir_all(&q).unwrap();
    let fifo = q.join("stuck.csv.rejects.csv.writing");
    mz_tests::sys::mkfifo(&fifo).expect("mkfifo");
    let t = local_time_ago(3600)[..16].to_string();
    let rows = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral".to_string(),
        format!("ST-1,NO-SUCH-STATION,admit,{t},P-1,police"),
    ]);
    d.drop_file("admissions", "stuck.csv", rows);

    // Until the engine reaches the file, case open works; once it is stuck, it must time out.
    let start = Instant::now();
    let reason = loop {
        let child = mzd()
            .args(["case", "open", "--street", "ST-01", "--summary", "x", "--socket"])
            .arg(&d.socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_or_kill(child, DEFAULT_TIMEOUT)
            .unwrap_or_else(|| d.fail("`mzd case open` hung on a stuck engine for 20 s"));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            break stderr;
        }
        assert!(start.elapsed() < DEFAULT_TIMEOUT, "the engine never got stuck on the FIFO");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(reason.contains("did not answer") && reason.contains("mzd status"), "reason: {reason}");
    d.status();
}
