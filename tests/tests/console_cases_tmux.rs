//! End-to-end test of the console's case desk (view 7): the real `mzd` (the current OS user is
//! a supervisor in its registry) and the real `mzc` (target/debug) in a detached tmux session,
//! read back with `tmux capture-pane`. A case is opened through the form, accepted, paid above
//! the cap (a request), approved, and `mzd case show ID --json` confirms the history. Needs
//! tmux; without it the test says so and passes.
//!
//! Build first: `cargo build --workspace && cargo test -p mz-tests --test console_cases_tmux`.

use mz_tests::{bin_dir, mzd, Daemon, DEFAULT_TIMEOUT};
use serde_json::Value;
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

/// The demo registry (whose last table is `[roles]`) with the current user as supervisor.
fn registry_with_supervisor() -> String {
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
    out.push_str(&format!("\"{user}\" = \"supervisor\"\n"));
    out
}

/// A detached tmux session running mzc; killed on drop.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start_mzc(dir: &Path, args: &[&str]) -> Tmux {
        let name = format!("mzc-cases-e2e-{}", std::process::id());
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

/// `mzd case ARGS --socket S`, which must exit 0; stdout.
fn case_ok(d: &Daemon, args: &[&str]) -> String {
    let out = mzd()
        .current_dir(&d.dir)
        .arg("case")
        .args(args)
        .arg("--socket")
        .arg(&d.socket)
        .stdin(Stdio::null())
        .output()
        .expect("running mzd case");
    assert!(
        out.status.success(),
        "`mzd case {}` failed: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr),
        d.log_tail(30)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Dismisses the daemon's answer (a popup whose footer is `Enter / Esc`) and waits for it to go.
fn dismiss(t: &Tmux) {
    t.keys(&["Escape"]);
    t.wait_gone("Enter / Esc");
}

#[test]
fn open_accept_pay_above_cap_and_approve_from_the_console() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_with_supervisor());
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[已连接]", "(主管)"]);
    t.keys(&["7"]);
    t.wait_for(&["[7 救急难]", "无在办案件", "A 审批"]);

    // Open a case through the form: street (first choice, 北苑街道), summary, name, source.
    t.keys(&["o"]);
    t.wait_for(&["登记新案件", "情况摘要"]);
    t.keys(&["Tab"]);
    t.type_text("突发重病无力就医");
    t.keys(&["Tab"]);
    t.type_text("王建国");
    t.keys(&["Tab", "Tab", "Right"]);
    t.wait_for(&["12345热线"]);
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "登记新案件，由北苑街道办理"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", "登记新案件: JJN-"]);
    dismiss(&t);
    let list: Value = serde_json::from_str(&case_ok(&d, &["list", "--json"])).unwrap();
    let cases = list.as_array().expect("case list is an array");
    assert_eq!(cases.len(), 1, "{list}");
    let id = cases[0]["id"].as_str().unwrap().to_string();
    t.wait_for(&[&id, "待受理", "受理剩"]);

    // Accept.
    t.keys(&["a"]);
    t.wait_for(&["请确认", &format!("受理案件 {id}")]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", &format!("受理: {id} 已受理")]);
    dismiss(&t);
    t.wait_for(&[&id, "已受理", "办结剩"]);

    // Pay above the cap (¥5,000 for 北苑街道): the confirmation says it becomes a request.
    t.keys(&["p"]);
    t.wait_for(&["拨付救助金", "金额(元)"]);
    t.type_text("8000");
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "超过单案上限 ¥5,000", "¥8,000"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", &format!("拨付救助金: {id} 已受理"), "待主管审批"]);
    dismiss(&t);
    t.wait_for(&[&id, "已受理/待批"]);

    // Approve it (the current user is a supervisor): the state text changes in the queue.
    t.keys(&["A"]);
    t.wait_for(&["审批通过", "备注(可空)"]);
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "超额拨付申请 ¥8,000"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", &format!("审批通过: {id} 已先行救助")]);
    dismiss(&t);
    let screen = t.wait_for(&[&id, "已先行救助", "¥8,000"]);
    assert!(!screen.contains("/待批"), "the request is gone:\n{screen}");

    // The detail pane shows the history.
    t.keys(&["Enter"]);
    t.wait_for(&["案件详情", "历史 (4)", "申请超额拨付", "审批通过"]);
    t.keys(&["Escape"]);
    t.wait_gone("案件详情");

    // The daemon recorded every step, by this user.
    let shown: Value = serde_json::from_str(&case_ok(&d, &["show", &id, "--json"])).unwrap();
    let actions: Vec<&str> =
        shown["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["open", "accept", "pay_request", "approve"], "{shown}");
    let user = current_user();
    assert!(shown["history"].as_array().unwrap().iter().all(|h| h["user"] == user.as_str()), "{shown}");
    assert_eq!(shown["state"], "aided");
    assert_eq!(shown["paid_fen"], 800_000);
    assert_eq!(shown["source"], "hotline");

    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}
