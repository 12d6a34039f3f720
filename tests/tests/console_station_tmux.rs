//! End-to-end test of the station staff's forms in the console's 救助站 view (view 2): the real
//! `mzd` (the current OS user is `station` staff of TZ-JZZ in its registry) and the real `mzc`
//! (target/debug) in a detached tmux session, read back with `tmux capture-pane`. An arrival is
//! logged through the form and the occupancy goes up on screen, then the discharge, and it goes
//! down; `mzd export admissions --format jsonl` holds both rows under `CON-` record ids. A
//! station task (在站事项) of an unidentified arrival is shown overdue, completed from the view
//! (`t`, `d`, a note, Enter) and leaves the open list. Needs tmux; without it the test says so
//! and passes.
//!
//! Build first: `cargo build --workspace && cargo test -p mz-tests --test console_station_tmux`.

use mz_tests::tmux::{tmux_available, Tmux};
use mz_tests::{current_user, lf, local_time_ago, registry_as, Daemon};

/// The demo registry with the current user as `station` staff of TZ-JZZ (added to its
/// `staff = ["clerk1"]`).
fn registry_with_station_staff() -> String {
    let out = registry_as("station");
    assert_eq!(out.matches("staff = [\"clerk1\"]").count(), 1, "TZ-JZZ's staff list in the demo registry");
    out.replace("staff = [\"clerk1\"]", &format!("staff = [\"clerk1\", \"{}\"]", current_user()))
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

#[test]
fn complete_a_station_task_from_the_station_view() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_with_station_staff());
    // An unidentified arrival 30 hours ago: its family notice is 6 hours overdue.
    let text = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,name,referral".to_string(),
        format!("T-1,TZ-JZZ,admit,{},P-TASK1,无名氏,police", &local_time_ago(30 * 3600)[..16]),
    ]);
    d.drop_file("admissions", "task.csv", text);
    d.wait_files(1);
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[已连接]"]);
    t.keys(&["2"]);
    t.wait_for(&["t 事项", "d 完成事项", "在站事项 (2) [超时] 1", "寻亲公告", "采血比对", "P-TASK1"]);

    t.keys(&["t"]);
    t.wait_for(&["> 在站事项"]);
    t.keys(&["d"]);
    t.wait_for(&["完成事项", "寻亲公告，受助人 P-TASK1", "TZ-JZZ/P-TASK1/family_notice", "Enter确认完成"]);
    t.type_text("已在报纸发布");
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", "事项已完成: TZ-JZZ/P-TASK1/family_notice"]);
    dismiss(&t);
    let screen = t.wait_for(&["在站事项 (1)", "采血比对"]);
    assert!(!screen.contains("寻亲公告") && !screen.contains("[超时] 1"), "{screen}");

    let out = mz_tests::mzd()
        .args(["task", "list", "--json", "--socket"])
        .arg(&d.socket)
        .output()
        .expect("running mzd task list");
    let tasks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("task list --json");
    let done = tasks.as_array().unwrap().iter().find(|t| t["kind"] == "family_notice").expect("family notice").clone();
    assert_eq!((&done["state"], &done["done_by"]), (&"done".into(), &current_user().into()), "{done:#}");
    assert_eq!(done["note"], "已在报纸发布");

    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}
