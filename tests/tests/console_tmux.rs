//! End-to-end tests of the console: the real `mzd` and the real `mzc` (target/debug) in a
//! detached tmux session of 100x30, read back with `tmux capture-pane`. Needs tmux (CI installs
//! it); without tmux the tests say so and pass.
//!
//! Build first: `cargo build --workspace && cargo test -p mz-tests --test console_tmux`.

use mz_tests::tmux::{tmux_available, Tmux};
use mz_tests::{lf, local_time_ago, Daemon};
use std::path::PathBuf;
use std::process::Command;

/// `n` arrivals at `station`, record ids and person refs starting with `tag`.
fn admits(station: &str, tag: &str, n: usize) -> String {
    let mut lines = vec!["record_id,station_id,event,occurred_at,person_ref,referral".to_string()];
    for i in 0..n {
        lines.push(format!("{tag}-{i},{station},admit,{},{tag}-P{i},patrol", &local_time_ago(600 + i as i64)[..16]));
    }
    lf(&lines)
}

#[test]
fn live_figures_views_help_resize_pause_and_quit() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[1 总览]", "[已连接]", "永顺镇临时救助点", "0/10"]);

    // A file dropped: the pushed dashboard shows it.
    d.drop_file("admissions", "tmux-1.csv", admits("TZ-P02", "TM1", 3));
    t.wait_for(&["3/10"]);

    // Views and help.
    t.keys(&["3"]);
    t.wait_for(&["[3 殡葬]", "宋庄镇公益性墓园"]);
    t.keys(&["Tab"]);
    t.wait_for(&["[4 婚姻]", "离婚冷静期"]);
    t.keys(&["5"]);
    t.wait_for(&["[5 告警]"]);
    t.keys(&["?"]);
    t.wait_for(&["按键说明", "确认选中的告警"]);
    t.keys(&["Escape"]);
    t.wait_gone("按键说明");
    t.keys(&["2"]);
    t.wait_for(&["[2 救助站]", "在站人员"]);

    // Resize: smaller still works, too small says what it needs, back again.
    t.resize(80, 24);
    t.wait_for(&["[2 救助站]", "永顺镇临时救助点"]);
    t.resize(70, 20);
    t.wait_for(&["终端窗口太小", "80x24", "70x20"]);
    t.resize(100, 30);
    t.wait_for(&["[2 救助站]", "3/10"]);

    // Pause: updates are held, not shown, until resumed.
    t.keys(&["1", "f"]);
    t.wait_for(&["[已暂停]"]);
    d.drop_file("admissions", "tmux-2.csv", admits("TZ-P02", "TM2", 2));
    d.wait_until("TZ-P02 holds 5", |s| mz_tests::station(s, "TZ-P02").is_some_and(|x| x["occupied"] == 5));
    let screen = t.wait_for(&["条更新待显示"]);
    assert!(screen.contains("3/10") && !screen.contains("5/10"), "paused screen changed:\n{screen}");
    t.keys(&["f"]);
    t.wait_for(&["5/10"]);
    t.wait_gone("已暂停");

    // Export the table on screen to CSV in the current directory.
    t.keys(&["e"]);
    t.wait_for(&["已导出", "mzc-overview-"]);
    let exported: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("mzc-overview-"))
        .collect();
    assert_eq!(exported.len(), 1, "{exported:?}");
    let csv = std::fs::read_to_string(&exported[0]).unwrap();
    assert_eq!(mz_tests::mode(&exported[0]) & 0o777, 0o640, "exports hold names: owner and group only");
    assert!(
        csv.starts_with("\u{feff}救助站,")
            && csv.contains("\r\n")
            && csv.contains("永顺镇临时救助点")
            && csv.contains("5/10"),
        "{csv}"
    );

    // Quit: exit code 0, alternate screen left, terminal back in cooked mode.
    t.keys(&["q"]);
    let screen = t.wait_for(&["MZC-EXIT=0", "TTY-COOKED"]);
    assert!(!screen.contains("[1 总览]"), "console still on screen after quit:\n{screen}");
    // `--log DIR/mzc.log` writes one file a day, `DIR/mzc.YYYY-MM-DD.log`, flushed at exit.
    let rolled: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("mzc.20")))
        .collect();
    assert_eq!(rolled.len(), 1, "one day's log file: {rolled:?}");
    let log_text = std::fs::read_to_string(&rolled[0]).unwrap_or_default();
    assert!(log_text.contains("connected to mzd"), "log file {}:\n{log_text}", rolled[0].display());
    assert!(!log.exists(), "no file under the plain name");
}

#[test]
fn daemon_restart_shows_the_banner_and_recovers() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(
        tmp.path(),
        &["--socket", d.socket.to_str().unwrap(), "--lang", "en", "--log", log.to_str().unwrap()],
    );
    t.wait_for(&["[1 Overview]", "[connected]", "0/10"]);
    d.drop_file("admissions", "before.csv", admits("TZ-P02", "RB", 1));
    t.wait_for(&["1/10"]);

    d.kill9();
    let screen = t.wait_for(&["disconnected, reconnecting...", "[disconnected]"]);
    assert!(screen.contains("1/10"), "last data not kept:\n{screen}");

    d.spawn();
    t.wait_for(&["[connected]", "1/10"]);
    t.wait_gone("reconnecting");
    d.drop_file("admissions", "after.csv", admits("TZ-P02", "RA", 1));
    t.wait_for(&["2/10"]);

    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0", "TTY-COOKED"]);
}

#[test]
fn acknowledging_an_alert_reaches_the_daemon_and_comes_back() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let out = Command::new("id").arg("-un").output().expect("id -un");
    let user = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let registry = format!("{}\n{user} = \"officer\"\n", mz_tests::demo_registry());
    let d = Daemon::start_with_registry(tmp.path(), &registry);
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[已连接]", "值班员"]);
    let file = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral,incident_type".to_string(),
        format!("AK-1,TZ-P03,admit,{},AK-P1,police,", &local_time_ago(900)[..16]),
        format!("AK-2,TZ-P03,incident,{},AK-P1,,injury", &local_time_ago(600)[..16]),
    ]);
    d.drop_file("admissions", "incident.csv", file);
    t.keys(&["5"]);
    t.wait_for(&["! 待处理", "异常事件", "梨园镇临时救助点"]);
    t.keys(&["a"]);
    t.wait_for(&["告警已确认", &format!("已确认 {user}")]);
    d.wait_until("the alert is acknowledged", |s| s["alerts"]["active"] == 0);
    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}

#[test]
fn the_rejects_preview_comes_from_the_daemon_with_id_numbers_masked() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    // The console runs in a folder of its own: the daemon's paths mean nothing there.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let id = mz_tests::id_number("110112", "19800101", 12, true);
    let when = &local_time_ago(600)[..16];
    let text = lf(&[
        "record_id,id_number,name,station_id,event,occurred_at,person_ref,referral".to_string(),
        format!("PV-1,{id},张三丰,TZ-NOPE,admit,{when},PV-P1,patrol"),
    ]);
    d.drop_file("admissions", "preview.csv", text);
    d.wait_files(1);
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(&elsewhere, &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[1 总览]", "[已连接]"]);
    t.keys(&["6"]);
    t.wait_for(&["preview.csv"]);
    t.resize(250, 40);
    t.keys(&["Enter"]);
    let screen = t.wait_for(&["PV-1,"]);
    assert!(screen.contains(&mz_tests::masked(&id)), "the ID number shows masked:\n{screen}");
    assert!(!screen.contains(&id), "never the full ID number:\n{screen}");
    // Unknown users are viewers (SPEC §5): the name is masked for them too.
    assert!(!screen.contains("张三丰") && screen.contains("张**"), "the name masked for a viewer:\n{screen}");
}

#[test]
fn the_command_line_and_the_key_map_in_help() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    d.drop_file("admissions", "cmd.csv", admits("TZ-P03", "CL", 2));
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[1 总览]", "[已连接]", "2/12"]);
    // `?` lists the command line beside the other keys.
    t.keys(&["?"]);
    t.wait_for(&["按键说明", "命令行"]);
    t.keys(&["Escape"]);
    t.wait_gone("按键说明");
    // `:station` with part of a name drills into that station's residents.
    t.keys(&[":"]);
    t.type_text("station 梨园");
    t.wait_for(&[":station 梨园_"]);
    t.keys(&["Enter"]);
    t.wait_for(&["[2 救助站]", "CL-P0", "CL-P1"]);
    // An unknown command says so and stays open; Tab completes; `:quit` quits.
    t.keys(&[":"]);
    t.type_text("nonsense");
    t.keys(&["Enter"]);
    t.wait_for(&["未知命令"]);
    t.keys(&["Escape", ":"]);
    t.type_text("fu");
    t.keys(&["Tab"]);
    t.wait_for(&[":funds _"]);
    t.keys(&["Enter"]);
    t.wait_for(&["[8 备用金]"]);
    t.keys(&[":"]);
    t.type_text("quit");
    t.keys(&["Enter"]);
    t.wait_for(&["MZC-EXIT=0", "TTY-COOKED"]);
}
