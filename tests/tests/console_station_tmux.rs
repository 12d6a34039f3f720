//! End-to-end test of the station staff's forms in the console's 救助站 view (view 2): the real
//! `mzd` (the current OS user is `station` staff of TZ-JZZ in its registry) and the real `mzc`
//! (target/debug) in a detached tmux session, read back with `tmux capture-pane`. An arrival is
//! logged through the form and the occupancy goes up on screen, then the discharge, and it goes
//! down; `mzd export admissions --format jsonl` holds both rows under `CON-` record ids. Needs
//! tmux; without it the test says so and passes.
//!
//! Build first: `cargo build --workspace && cargo test -p mz-tests --test console_station_tmux`.

use mz_tests::{bin_dir, Daemon, DEFAULT_TIMEOUT};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn mzc_path() -> PathBuf {
    let p = bin_dir().join("mzc");
    assert!(p.is_file(), "{} does not exist: run `cargo build --workspace` first", p.display());
    p
}

/// The OS user running the tests: the user the daemon sees on its socket.
fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("running id -un");
    assert!(out.status.success(), "id -un failed");
    String::from_utf8(out.stdout).expect("user name is UTF-8").trim().to_owned()
}

/// The demo registry (whose last table is `[roles]`) with the current user as `station` staff of
/// TZ-JZZ (added to its `staff = ["clerk1"]`).
fn registry_with_station_staff() -> String {
    let base = mz_tests::demo_registry();
    assert!(
        base.rfind("[roles]").is_some_and(|i| !base[i..].contains("\n[")),
        "the demo registry's last table must be [roles]"
    );
    let user = current_user();
    let mut out: String = base
        .lines()
        .filter(|l| l.split('=').next().unwrap_or("").trim().trim_matches('"') != user)
        .map(|l| format!("{l}\n"))
        .collect();
    out.push_str(&format!("\"{user}\" = \"station\"\n"));
    assert_eq!(out.matches("staff = [\"clerk1\"]").count(), 1, "TZ-JZZ's staff list in the demo registry");
    out.replace("staff = [\"clerk1\"]", &format!("staff = [\"clerk1\", \"{user}\"]"))
}

/// A detached tmux session running mzc; killed on drop.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start_mzc(dir: &Path, args: &[&str]) -> Tmux {
        let name = format!("mzc-station-e2e-{}", std::process::id());
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let script = format!(
            "unset NO_COLOR MZ_SOCKET MZ_EXPORT_DIR; cd '{}' && '{}' {} ; echo MZC-EXIT=$? ; sleep 600",
            dir.display(),
            mzc_path().display(),
            quoted.join(" ")
        );
        let st = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", "100", "-y", "30", "sh", "-c", &script])
            .env_remove("NO_COLOR")
            .env_remove("MZ_SOCKET")
            .status()
            .expect("running tmux");
        assert!(st.success(), "tmux new-session failed");
        Tmux { name }
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.name]).output().expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows every one of `needles`; returns the screen.
    fn wait_for(&self, needles: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if start.elapsed() > DEFAULT_TIMEOUT {
                panic!("timed out waiting for {needles:?} on screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_gone(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if !screen.contains(needle) {
                return screen;
            }
            if start.elapsed() > DEFAULT_TIMEOUT {
                panic!("timed out waiting for {needle:?} to go away:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends tmux key names (`Enter`, `Tab`, `Escape`, single characters).
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let st = Command::new("tmux").args(["send-keys", "-t", &self.name, k]).status().expect("send-keys");
            assert!(st.success());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` literally (Chinese included).
    fn type_text(&self, text: &str) {
        let st = Command::new("tmux").args(["send-keys", "-t", &self.name, "-l", text]).status().expect("send-keys");
        assert!(st.success());
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).status();
    }
}

/// Dismisses the daemon's answer (a popup whose footer is `Enter / Esc`) and waits for it to go.
fn dismiss(t: &Tmux) {
    t.keys(&["Escape"]);
    t.wait_gone("Enter / Esc");
}

#[test]
fn log_an_arrival_and_its_discharge_from_the_console() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_with_station_staff());
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[已连接]", "(站点)"]);
    t.keys(&["2"]);
    t.wait_for(&["[2 救助站]", "i 入站登记", "o 离站登记", "x 异常报告", "通州区救助管理站"]);
    t.wait_for(&[" 0/50"]);

    // The arrival: station (pre-selected TZ-JZZ), time (now), person ref, name, …, referral.
    t.keys(&["i"]);
    t.wait_for(&["入站登记", "受助人编号", "(TZ-JZZ)"]);
    t.keys(&["Tab", "Tab"]);
    t.type_text("TZ-JZZ-E2E01");
    t.keys(&["Tab"]);
    t.type_text("张三");
    for _ in 0..5 {
        t.keys(&["Tab"]);
    }
    t.keys(&["Right"]);
    t.wait_for(&["公安护送"]);
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "登记入站", "TZ-JZZ-E2E01", "0/50 -> 1/50"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", "入站登记: 已登记 CON-"]);
    dismiss(&t);
    t.wait_for(&[" 1/50"]);

    // The discharge of that resident, from the residents list.
    t.keys(&["Enter"]);
    t.wait_for(&["TZ-JZZ-E2E01", "张三"]);
    t.keys(&["o"]);
    t.wait_for(&["离站登记", "离站原因"]);
    t.keys(&["Tab", "Right"]);
    t.wait_for(&["返乡"]);
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "登记离站", "1/50 -> 0/50"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", "离站登记: 已登记 CON-"]);
    dismiss(&t);
    t.wait_for(&[" 0/50", "无在站人员"]);

    // Both rows are in the admissions feed under the daemon's CON- record ids.
    let rows = d.export("admissions");
    let con: Vec<_> =
        rows.iter().filter(|r| r["record_id"].as_str().is_some_and(|id| id.starts_with("CON-"))).collect();
    assert_eq!(con.len(), 2, "{rows:?}");
    let events: Vec<&str> = con.iter().map(|r| r["event"].as_str().unwrap_or_default()).collect();
    assert!(events.contains(&"admit") && events.contains(&"discharge"), "{con:?}");
    assert!(con.iter().all(|r| r["person_ref"] == "TZ-JZZ-E2E01" && r["station_id"] == "TZ-JZZ"), "{con:?}");

    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}
