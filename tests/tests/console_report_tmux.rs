//! End-to-end test of the console's report view (view 9, 报表): the real `mzd` with rows on
//! yesterday and in last month, the real `mzc` in a detached tmux session at 80×24 and 160×48,
//! read back with `tmux capture-pane`. The day's tables show the figures of the rows dropped,
//! `m` switches to the month with its occupancy and arrivals chart, ←/→ move between months,
//! and `e` writes the report as the CSV (BOM, mode 0640). Needs tmux; without it the test says so
//! and passes.
//!
//! Build first: `cargo build --workspace && cargo test -p mz-tests --test console_report_tmux`.

use mz_tests::tmux::{tmux_available, Tmux};
use mz_tests::{date_plus, lf, today_local, Daemon, DEFAULT_TIMEOUT};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

/// `2026年11月30日` / `2026年11月` as the view titles periods.
fn zh_day(date: &str) -> String {
    format!("{}年{}月{}日", &date[..4], date[5..7].trim_start_matches('0'), date[8..10].trim_start_matches('0'))
}

fn zh_month(date: &str) -> String {
    format!("{}年{}月", &date[..4], date[5..7].trim_start_matches('0'))
}

/// Waits until a screen line holding `first` also holds every one of `cells`.
fn wait_line(t: &Tmux, first: &str, cells: &[&str]) -> String {
    let start = Instant::now();
    loop {
        let screen = t.capture();
        if screen.lines().any(|l| l.contains(first) && cells.iter().all(|c| l.contains(c))) {
            return screen;
        }
        if start.elapsed() > DEFAULT_TIMEOUT {
            panic!("timed out waiting for {cells:?} beside {first}:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_report_view_shows_the_day_and_the_month_at_80x24_and_160x48() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let yesterday = date_plus(&today_local(), -1);
    let last_month = format!("{}15", &date_plus(&format!("{}01", &today_local()[..8]), -1)[..8]);
    let mut lines = vec!["record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason".to_owned()];
    for i in 0..7 {
        lines.push(format!("Y{i},TZ-JZZ,admit,{yesterday} 09:0{i},PY{i},police,"));
    }
    lines.push(format!("Y9,TZ-JZZ,discharge,{yesterday} 18:00,PY0,,home"));
    for i in 0..4 {
        lines.push(format!("M{i},TZ-P01,admit,{last_month} 10:0{i},PM{i},patrol,"));
    }
    d.drop_file("admissions", "days.csv", lf(&lines));
    d.wait_files(1);

    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap()]);
    t.resize(80, 24);
    t.wait_for(&["[已连接]"]);
    t.keys(&["9"]);
    t.wait_for(&[&zh_day(&yesterday), "日报", "救助站（流浪乞讨人员救助）", "入站人次"]);
    // TZ-JZZ: 7 admissions, 1 discharge, 6 present at the day's end (at 80 columns the names
    // and the breakdown by reason make way for the figures).
    wait_line(&t, "TZ-JZZ", &[" 50 ", " 7 ", " 1 ", " 6 "]);

    t.keys(&["m"]);
    t.wait_for(&[&zh_month(&last_month), "月报", "日末在站人数", "入站人次"]);
    wait_line(&t, "TZ-P01", &[" 4 "]);
    t.keys(&["Left"]);
    let before = date_plus(&format!("{}01", &last_month[..8]), -1);
    t.wait_for(&[&zh_month(&before), "月报"]);
    t.keys(&["Right"]);
    t.wait_for(&[&zh_month(&last_month)]);
    wait_line(&t, "TZ-P01", &[" 4 "]);

    // Export: the month's CSV, for Excel, readable by owner and group only.
    t.keys(&["e"]);
    t.wait_for(&["已导出"]);
    let name = format!("mzc-report-month-{}.csv", &last_month[..7]);
    let path = tmp.path().join(&name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}\n{}", t.capture()));
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    assert!(text.contains("救助站（流浪乞讨人员救助）\r\n"), "{text}");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);

    // Larger: the breakdown by discharge reason and the later tables fit.
    t.resize(160, 48);
    t.keys(&["d"]);
    t.wait_for(&[&zh_day(&yesterday), "日报", "入站来源", "受助人户籍地"]);
    wait_line(&t, "police", &["公安护送", " 7"]);
    wait_line(&t, "TZ-JZZ", &["通州区救助管理站", " 7 ", " 1 ", " 6 "]);
    t.keys(&["PageDown", "PageDown"]);
    t.wait_for(&["婚姻登记", "在站事项"]);
    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);

    // In English on request.
    let en = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--lang", "en"]);
    en.resize(80, 24);
    en.wait_for(&["[connected]"]);
    en.keys(&["9"]);
    en.wait_for(&[&yesterday, "Daily report", "Rescue stations", "Admissions"]);
    en.keys(&["q"]);
    en.wait_for(&["MZC-EXIT=0"]);
}
