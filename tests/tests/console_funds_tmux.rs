//! End-to-end test of the console's funds view (view 8, 备用金): the real `mzd` (the current OS
//! user is a supervisor in its registry) and the real `mzc` in a detached tmux session, read back
//! with `tmux capture-pane`. A payment and a request above the cap, made with `mzd case act`,
//! show up in the street's row without any key press (the dashboard push). Needs tmux; without it
//! the test says so and passes.
//!
//! Build first: `cargo build --workspace && cargo test -p mz-tests --test console_funds_tmux`.

use mz_tests::tmux::{tmux_available, Tmux};
use mz_tests::{registry_as, Daemon, DEFAULT_TIMEOUT};
use std::time::{Duration, Instant};

fn case(d: &Daemon, args: &[&str]) -> String {
    let out = d.mzd(&[&["case"][..], args].concat());
    assert!(out.status.success(), "mzd case {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the screen line of `street` holds every one of `cells`; returns that line.
fn wait_row(t: &Tmux, street: &str, cells: &[&str]) -> String {
    let start = Instant::now();
    loop {
        let screen = t.capture();
        if let Some(line) = screen.lines().find(|l| l.contains(street)) {
            if cells.iter().all(|c| line.contains(c)) {
                return line.to_owned();
            }
        }
        if start.elapsed() > DEFAULT_TIMEOUT {
            panic!("timed out waiting for {cells:?} in the row of {street}:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_funds_view_follows_payments_made_from_the_command_line() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("supervisor"));
    let opened = case(&d, &["open", "--street", "ST-01", "--summary", "火灾后无处居住", "--json"]);
    let id = serde_json::from_str::<serde_json::Value>(&opened).unwrap()["id"].as_str().unwrap().to_owned();
    case(&d, &["act", &id, "accept"]);

    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap()]);
    t.wait_for(&["[已连接]"]);
    t.keys(&["8"]);
    t.wait_for(&["[8 备用金]", "临时救助备用金", "核定额度", "待审批", "余额", "在办案件"]);
    wait_row(&t, "北苑街道", &["¥200,000", "¥0", "1"]);

    case(&d, &["act", &id, "pay", "3000"]);
    let row = wait_row(&t, "北苑街道", &["¥200,000", "¥3,000", "¥197,000"]);
    assert!(!row.contains("¥6,000"), "{row}");

    // Above the 5000 cap: pending, the balance unchanged.
    case(&d, &["act", &id, "pay", "6000", "--note", "一事一议"]);
    wait_row(&t, "北苑街道", &["¥3,000", "¥6,000", "¥197,000"]);
    case(&d, &["act", &id, "approve"]);
    wait_row(&t, "北苑街道", &["¥9,000", "¥191,000"]);

    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);

    // In English on request.
    let en = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--lang", "en"]);
    en.wait_for(&["[connected]"]);
    en.keys(&["8"]);
    en.wait_for(&["[8 Funds]", "Reserve funds by street", "Allotted", "Pending", "Balance"]);
    wait_row(&en, "北苑街道", &["¥9,000", "¥191,000"]);
    en.keys(&["q"]);
    en.wait_for(&["MZC-EXIT=0"]);
}

#[test]
fn the_overview_names_a_nearly_full_site_with_a_single_report_as_soonest_full() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    // One report each: no growth rate anywhere; 宋庄镇公益性墓园 is 95 % full.
    let text = mz_tests::lf(&[
        "record_id,site_id,reported_on,capacity_total,occupied",
        "SF-1,C-SZ,2026-10-31,1000,950",
        "SF-2,C-MJQ,2026-10-31,1000,300",
    ]);
    d.drop_file("burials", "one-report.csv", text);
    d.wait_files(1);
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap()]);
    t.wait_for(&["[已连接]", "最早用满", "宋庄镇公益性墓园", "95.0% 已用，增速未知"]);
    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}
