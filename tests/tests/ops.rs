//! What a service manager and a metrics scraper see of `mzd run`: the `sd_notify` sequence on a
//! real datagram socket (READY only once the socket answers, RELOADING/READY around a registry
//! reload, STATUS lines, watchdog pings that stop while the engine is stuck, STOPPING), and the
//! Prometheus endpoint over real HTTP (counter types, escaped labels, histograms, 404s).

use mz_tests::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// The service manager's end: a datagram socket `mzd` is pointed at with `NOTIFY_SOCKET`.
struct Manager {
    socket: UnixDatagram,
    /// Every message so far, with when it arrived.
    seen: Vec<(Instant, String)>,
}

impl Manager {
    fn bind(dir: &std::path::Path) -> (Manager, String) {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("binding the notify socket");
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        (Manager { socket, seen: Vec::new() }, path.to_string_lossy().into_owned())
    }

    /// Reads messages until one has a line `line` (e.g. `READY=1`), at most `within`.
    fn wait_for(&mut self, line: &str, within: Duration) -> Option<String> {
        let end = Instant::now() + within;
        let mut buf = [0u8; 4096];
        while Instant::now() < end {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.seen.push((Instant::now(), msg.clone()));
                if msg.lines().any(|l| l == line) {
                    return Some(msg);
                }
            }
        }
        None
    }

    /// Messages with line `line` that arrived during `window` from now.
    fn count_during(&mut self, line: &str, window: Duration) -> usize {
        let start = self.seen.len();
        let _ = self.wait_for("never-sent", window);
        self.seen[start..].iter().filter(|(_, m)| m.lines().any(|l| l == line)).count()
    }
}

#[test]
fn the_service_manager_hears_ready_reload_status_watchdog_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let (mut manager, path) = Manager::bind(dir.path());
    let mut d = Daemon::prepare(dir.path());
    // Watchdog every 0.5 s; every file handled keeps the engine stuck for 5 s.
    d.env = vec![
        ("NOTIFY_SOCKET".into(), path),
        ("WATCHDOG_USEC".into(), "1000000".into()),
        ("MZD_STUCK_AFTER_SECS".into(), "2".into()),
        ("FAILPOINTS".into(), "engine-handle=sleep(5000)".into()),
    ];
    d.spawn_no_wait();

    let ready = manager.wait_for("READY=1", Duration::from_secs(20)).expect("READY=1 within 20 s");
    // Ready means usable: the socket answers at once, and the status line is there.
    assert_eq!(d.status_raw().0, Some(0), "status must answer when READY is sent");
    assert!(ready.lines().any(|l| l.starts_with("STATUS=")), "READY comes with a STATUS line: {ready:?}");
    assert!(
        manager.seen.iter().all(|(_, m)| !m.contains("WATCHDOG=1") || m.contains("READY=1")),
        "no watchdog ping before READY"
    );
    assert!(manager.count_during("WATCHDOG=1", Duration::from_secs(2)) >= 2, "pings every half WATCHDOG_USEC");

    // A registry change: RELOADING=1 (with MONOTONIC_USEC), then READY=1 again.
    let registry = d.data.join("registry.toml");
    let text = std::fs::read_to_string(&registry).unwrap();
    std::fs::write(&registry, text.replace("beds = 50", "beds = 49")).unwrap();
    let reloading = manager.wait_for("RELOADING=1", Duration::from_secs(10)).expect("RELOADING=1 on reload");
    assert!(reloading.lines().any(|l| l.starts_with("MONOTONIC_USEC=")), "{reloading:?}");
    manager.wait_for("READY=1", Duration::from_secs(5)).expect("READY=1 after the reload");

    // The engine sticks in a file: the pings stop, then resume once it moves again.
    d.drop_file("burials", "b1.csv", burial_csv("R1"));
    let _ = manager.count_during("WATCHDOG=1", Duration::from_millis(3000)); // read what came before
    assert_eq!(manager.count_during("WATCHDOG=1", Duration::from_millis(1500)), 0, "a stuck engine is not pinged for");
    d.wait_files(1);
    assert!(manager.count_during("WATCHDOG=1", Duration::from_secs(2)) >= 2, "pings resume");

    d.terminate();
    manager.wait_for("STOPPING=1", Duration::from_secs(5)).expect("STOPPING=1 on SIGTERM");
}

#[test]
fn without_a_service_manager_nothing_is_sent_and_mzd_runs_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    d.drop_file("burials", "b1.csv", burial_csv("R1"));
    d.wait_files(1);
    assert!(!d.log_tail(50).contains("cannot notify"), "{}", d.log_tail(50));
}

fn burial_csv(record: &str) -> String {
    let today = today_local();
    lf(&["record_id,site_id,reported_on,capacity_total,occupied".to_string(), format!("{record},C-SZ,{today},1000,10")])
}

/// One HTTP/1.1 request; the status code and the body.
fn http(addr: &str, method: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connecting to the metrics port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, head.to_owned(), body.to_owned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn metrics_are_typed_escaped_and_only_at_their_path() {
    let dir = tempfile::tempdir().unwrap();
    // A station id with the three characters the text format must escape.
    let registry = demo_registry().replace("id = \"TZ-P05\"", "id = \"P\\\\0\\n5\\\"x\"");
    let mut d = Daemon::prepare_with_registry(dir.path(), &registry);
    let addr = format!("127.0.0.1:{}", free_port());
    d.args = vec!["--metrics".into(), addr.clone().into()];
    d.spawn();
    d.drop_file("burials", "b1.csv", burial_csv("R1"));
    d.drop_file("burials", "notes.docx", "not a feed file");
    d.wait_files(2);

    let (code, head, body) = http(&addr, "GET", "/metrics");
    assert_eq!(code, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/openmetrics-text"), "{head}");
    for line in [
        "# TYPE mz_files counter",
        "mz_files_total{outcome=\"ingested\"} 1",
        "mz_files_total{outcome=\"quarantined\"} 1",
        "# TYPE mz_records gauge",
        "mz_healthy 1",
        "mz_records{feed=\"burials\"} 1",
        "# TYPE mz_ingest_file_seconds histogram",
        "mz_station_occupied{station=\"P\\\\0\\n5\\\"x\"} 0",
        "# EOF",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in\n{head}\n{body}");
    }
    let count = body.lines().find(|l| l.starts_with("mz_ingest_file_seconds_count{feed=\"burials\"}"));
    assert!(count.is_some_and(|l| l.ends_with(" 1") || l.ends_with(" 2")), "{body}");

    assert_eq!(http(&addr, "GET", "/").0, 404);
    assert_eq!(http(&addr, "GET", "/metricsx").0, 404);
    assert_eq!(http(&addr, "POST", "/metrics").0, 405);
}
