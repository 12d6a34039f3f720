//! Station tasks (在站事项, SPEC §7) end to end: the real `mzd` over its real socket. Identity
//! tasks due from the arrival's own time (a late file yields overdue tasks, counted in status
//! `tasks`), the working-day clock with the registry's holidays, completion by the right
//! station's staff only, voiding on discharge, a new stay getting new tasks, stay reviews past
//! `long_stay_days`, and tasks across a restart. The OS user running the tests gets its role
//! from the `[roles]` table of the registry each test writes.

use mz_tests::{current_user, id_number, lf, local_time, local_time_ago, registry_as, unix_now, Daemon};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `mzd task ARGS --socket …` as the current user.
fn task_cmd(d: &Daemon, args: &[&str]) -> Run {
    let out = mz_tests::mzd()
        .current_dir(&d.dir)
        .arg("task")
        .args(args)
        .arg("--socket")
        .arg(&d.socket)
        .stdin(Stdio::null())
        .output()
        .expect("running mzd task");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn task_ok(d: &Daemon, args: &[&str]) -> String {
    let r = task_cmd(d, args);
    if r.code != Some(0) {
        d.fail(&format!(
            "`mzd task {}` exited {:?}\nstdout: {}\nstderr: {}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        ));
    }
    r.stdout
}

fn refused(d: &Daemon, args: &[&str], needles: &[&str]) {
    let r = task_cmd(d, args);
    if r.code != Some(1) || !needles.iter().all(|n| r.stderr.contains(n)) {
        d.fail(&format!(
            "`mzd task {}`: expected exit 1 with {needles:?} on stderr, got {:?}\nstdout: {}\nstderr: {}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        ));
    }
}

/// `mzd task list --json EXTRA…`.
fn list(d: &Daemon, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    let out = task_ok(d, &args);
    match serde_json::from_str(&out) {
        Ok(Value::Array(a)) => a,
        _ => d.fail(&format!("task list --json printed no array:\n{out}")),
    }
}

fn find<'a>(tasks: &'a [Value], id: &str) -> &'a Value {
    tasks.iter().find(|t| t["id"] == id).unwrap_or_else(|| panic!("no task {id} in {tasks:#?}"))
}

/// `YYYY-MM-DDTHH:MM:SS+08:00` of a Unix time (the registry's zone, Asia/Shanghai).
fn rfc3339(unix: i64) -> String {
    format!("{}+08:00", local_time(unix).replace(' ', "T"))
}

/// The registry with `from` replaced by `to` (exactly once).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "expected one `{from}` in the registry");
    text.replacen(from, to, 1)
}

/// The demo registry with the current user in `role`, staff of TZ-JZZ, and `long_stay_days`.
fn registry(role: &str, long_stay_days: u32) -> String {
    let r = registry_as(role);
    let r = replace_once(&r, "staff = [\"clerk1\"]", &format!("staff = [\"clerk1\", \"{}\"]", current_user()));
    replace_once(&r, "long_stay_days = 10", &format!("long_stay_days = {long_stay_days}"))
}

const HEADER: &str = "record_id,station_id,event,occurred_at,person_ref,name,id_number,referral,discharge_reason";

#[test]
fn a_late_file_yields_overdue_identity_tasks_counted_in_status() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry("officer", 30));
    let arrived = unix_now() - 3 * 86_400;
    let known = id_number("110105", "19800101", 21, true);
    let text = lf(&[
        HEADER.to_string(),
        format!("L-1,TZ-JZZ,admit,{},P-NN,无名氏,,police,", &local_time(arrived)[..16]),
        format!("L-2,TZ-JZZ,admit,{},P-KN,张三,{known},self,", &local_time(arrived)[..16]),
        format!("L-3,TZ-P01,admit,{},P-AN,,,patrol,", local_time_ago(20 * 3600)),
        // Twenty days late: seven working days are over too, whatever the calendar.
        format!("L-4,TZ-P02,admit,{},P-OLD,无名氏,,police,", local_time_ago(20 * 86_400)),
    ]);
    d.drop_file("admissions", "late.csv", text);
    d.wait_files(1);
    let tasks = list(&d, &[]);
    let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(tasks.len(), 6, "two identity tasks for each unidentified arrival, none for 张三: {ids:?}");
    let notice = find(&tasks, "TZ-JZZ/P-NN/family_notice");
    let arrived_min = arrived - arrived.rem_euclid(60);
    assert_eq!(notice["due_at"], rfc3339(arrived_min + 86_400), "{notice:#}");
    assert_eq!(
        (&notice["state"], &notice["overdue"], &notice["kind"]),
        (&"open".into(), &true.into(), &"family_notice".into())
    );
    let dna = find(&tasks, "TZ-JZZ/P-NN/dna_request");
    assert!(dna["due_at"].as_str().unwrap().ends_with("T00:00:00+08:00"), "the end of a local day: {dna:#}");
    assert_eq!(dna["overdue"], false, "seven working days are not over after three days: {dna:#}");
    // The arrival 20 hours ago: nothing overdue yet; twenty days ago: both overdue at once.
    assert!(tasks.iter().filter(|t| t["station"] == "TZ-P01").all(|t| t["overdue"] == false));
    assert!(tasks.iter().filter(|t| t["station"] == "TZ-P02").all(|t| t["overdue"] == true), "{tasks:#?}");
    for t in &tasks {
        for key in ["id", "kind", "station", "person_ref", "due_at", "state", "overdue", "done_at", "done_by"] {
            assert!(t.get(key).is_some(), "task without `{key}`: {t:#}");
        }
    }
    let s = d.status();
    d.expect(&s, &[("/tasks/open", 6.into()), ("/tasks/overdue", 3.into())]);
    let overdue = list(&d, &["--state", "overdue"]);
    assert_eq!(overdue.len(), 3);
    assert_eq!(list(&d, &["--station", "TZ-P01"]).len(), 2);
    let human = task_ok(&d, &["list"]);
    assert!(
        human.contains("TZ-JZZ/P-NN/family_notice") && human.contains("寻亲公告") && human.contains("OVERDUE"),
        "{human}"
    );
}

#[test]
fn a_holiday_inside_the_dna_window_moves_its_due_date() {
    let tmp = tempfile::tempdir().unwrap();
    // The demo calendar: National Day 10-01, 10-02, 10-05…10-07 off; Saturday 10-10 worked.
    let d = Daemon::start_with_registry(tmp.path(), &registry("officer", 300));
    let text = lf(&[
        HEADER.to_string(),
        // Monday 09-28: Tue 29, Wed 30, Thu 10-08, Fri 10-09, Sat 10-10, Mon 10-12, Tue 10-13.
        "H-1,TZ-JZZ,admit,2026-09-28 10:00,P-H1,无名氏,,police,".to_string(),
        // Monday 11-02, no holiday: Tue 3 … Wed 11.
        "H-2,TZ-JZZ,admit,2026-11-02 10:00,P-H2,,,police,".to_string(),
    ]);
    d.drop_file("admissions", "holiday.csv", text);
    d.wait_files(1);
    let tasks = list(&d, &[]);
    // Without the holidays it would be the end of Wednesday 10-07.
    assert_eq!(find(&tasks, "TZ-JZZ/P-H1/dna_request")["due_at"], "2026-10-14T00:00:00+08:00");
    assert_eq!(find(&tasks, "TZ-JZZ/P-H2/dna_request")["due_at"], "2026-11-12T00:00:00+08:00");
    assert_eq!(find(&tasks, "TZ-JZZ/P-H1/family_notice")["due_at"], "2026-09-29T10:00:00+08:00");
}

#[test]
fn station_staff_complete_their_own_stations_tasks_only() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_registry(tmp.path(), &registry("station", 30));
    let text = lf(&[
        HEADER.to_string(),
        format!("S-1,TZ-JZZ,admit,{},P-S1,无名氏,,police,", local_time_ago(3600)),
        format!("S-2,TZ-P01,admit,{},P-S2,无名氏,,police,", local_time_ago(3600)),
    ]);
    d.drop_file("admissions", "staff.csv", text);
    d.wait_files(1);
    let id = "110105194912310021";
    let out = task_ok(&d, &["done", "TZ-JZZ/P-S1/family_notice", "--note", &format!("已发布寻亲公告 {id}")]);
    assert!(out.contains("TZ-JZZ/P-S1/family_notice"), "{out}");
    refused(&d, &["done", "TZ-P01/P-S2/family_notice"], &["不是救助站 TZ-P01", "not on the staff of station TZ-P01"]);
    refused(&d, &["done", "TZ-JZZ/P-S1/family_notice"], &["已完成", "already done"]);
    refused(&d, &["done", "TZ-JZZ/P-NOBODY/family_notice"], &["不存在", "does not exist"]);

    let tasks = list(&d, &[]);
    let done = find(&tasks, "TZ-JZZ/P-S1/family_notice");
    assert_eq!((&done["state"], &done["done_by"]), (&"done".into(), &current_user().into()), "{done:#}");
    assert!(done["done_at"].as_str().is_some_and(|t| t.ends_with("+08:00")), "{done:#}");
    let note = done["note"].as_str().unwrap();
    assert!(note.contains("已发布寻亲公告") && !note.contains(&id[6..14]), "the ID number is masked: {note}");
    assert_eq!(find(&tasks, "TZ-P01/P-S2/family_notice")["state"], "open");
    d.wait_until_for(Duration::from_secs(5), "status shows 3 open tasks", |s| s["tasks"]["open"] == 3);

    // Across a restart: the same tasks, the completion kept.
    let before: Vec<(Value, Value, Value)> =
        tasks.iter().map(|t| (t["id"].clone(), t["state"].clone(), t["done_by"].clone())).collect();
    d.terminate();
    d.spawn();
    let after: Vec<(Value, Value, Value)> =
        list(&d, &[]).iter().map(|t| (t["id"].clone(), t["state"].clone(), t["done_by"].clone())).collect();
    assert_eq!(before, after, "tasks changed across a restart");
    d.expect(&d.status(), &[("/tasks/open", 3.into())]);

    // A viewer may list but not complete (the registry is reread when it changes).
    std::fs::write(d.data.join("registry.toml"), registry("viewer", 30)).unwrap();
    let start = Instant::now();
    loop {
        // Acknowledging a missing alert tells the roles apart: viewers are refused before the lookup.
        let out = mz_tests::mzd()
            .args(["alert", "ack", "no-such-alert", "--socket"])
            .arg(&d.socket)
            .output()
            .expect("running mzd alert ack");
        if String::from_utf8_lossy(&out.stderr).contains("viewers cannot") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "registry not reloaded");
        std::thread::sleep(Duration::from_millis(300));
    }
    refused(&d, &["done", "TZ-JZZ/P-S1/dna_request"], &["查看员", "viewer"]);
    assert_eq!(find(&list(&d, &[]), "TZ-JZZ/P-S1/dna_request")["state"], "open");
}

#[test]
fn a_discharge_voids_open_tasks_and_a_new_stay_gets_new_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry("officer", 30));
    let text = lf(&[
        HEADER.to_string(),
        format!("V-1,TZ-JZZ,admit,{},P-V,无名氏,,police,", local_time_ago(5 * 3600)),
        format!("V-2,TZ-JZZ,discharge,{},P-V,,,,family", local_time_ago(4 * 3600)),
        format!("V-3,TZ-JZZ,admit,{},P-V,无名氏,,patrol,", local_time_ago(3600)),
    ]);
    d.drop_file("admissions", "void.csv", text);
    d.wait_files(1);
    let tasks = list(&d, &[]);
    assert_eq!(tasks.len(), 4, "{tasks:#?}");
    for kind in ["family_notice", "dna_request"] {
        let first = find(&tasks, &format!("TZ-JZZ/P-V/{kind}"));
        assert_eq!((&first["state"], &first["record_id"]), (&"void".into(), &"V-1".into()), "{first:#}");
        assert_eq!(first["overdue"], false);
        let second = find(&tasks, &format!("TZ-JZZ/P-V/{kind}/2"));
        assert_eq!((&second["state"], &second["record_id"]), (&"open".into(), &"V-3".into()), "{second:#}");
    }
    refused(&d, &["done", "TZ-JZZ/P-V/dna_request"], &["已作废", "already void"]);
    d.expect(&d.status(), &[("/tasks/open", 2.into()), ("/tasks/overdue", 0.into())]);
    d.drop_file(
        "admissions",
        "void2.csv",
        lf(&[HEADER.to_string(), format!("V-4,TZ-JZZ,discharge,{},P-V,,,,home", local_time_ago(60))]),
    );
    d.wait_files(2);
    assert!(list(&d, &[]).iter().all(|t| t["state"] == "void"));
    d.expect(&d.status(), &[("/tasks/open", 0.into())]);
}

#[test]
fn a_stay_review_appears_when_a_stay_passes_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry("officer", 1));
    let known = id_number("110105", "19800101", 21, true);
    let admitted = unix_now() - 36 * 3600;
    let admitted = admitted - admitted.rem_euclid(60);
    let text = lf(&[
        HEADER.to_string(),
        format!("R-1,TZ-P02,admit,{},P-R1,李四,{known},self,", &local_time(admitted)[..16]),
        format!(
            "R-2,TZ-P02,admit,{},P-R2,王五,{},self,",
            local_time_ago(3600),
            id_number("110105", "19810101", 31, true)
        ),
    ]);
    d.drop_file("admissions", "stay.csv", text);
    d.wait_files(1);
    let s = d.wait_until_for(Duration::from_secs(10), "a stay review", |s| s["tasks"]["open"] == 1);
    d.expect(&s, &[("/tasks/overdue", 0.into())]);
    let tasks = list(&d, &[]);
    assert_eq!(tasks.len(), 1, "only the stay past one day: {tasks:#?}");
    let t = find(&tasks, "TZ-P02/P-R1/stay_review");
    // Created when the stay passed one day, due a day after that.
    assert_eq!(t["created_at"], rfc3339(admitted + 86_400), "{t:#}");
    assert_eq!(t["due_at"], rfc3339(admitted + 2 * 86_400), "{t:#}");
    assert_eq!((&t["state"], &t["overdue"]), (&"open".into(), &false.into()));
}
