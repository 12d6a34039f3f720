//! Stop and restart (SPEC §1, §6: totals kept across restarts), and the headless commands
//! `mzd check` and `mzd status` without a daemon.

use mz_tests::{gbk, id_number, lf, local_time_ago, run_mzd, Daemon};
use serde_json::{json, Value};
use std::fs;

fn hours_ago(hours: i64) -> String {
    local_time_ago(hours * 3600)[..16].to_string()
}

fn sorted_export(d: &Daemon, feed: &str) -> Vec<String> {
    let mut v: Vec<String> = d.export_raw(feed, "jsonl").lines().map(str::to_owned).collect();
    v.sort();
    v
}

fn without_in_progress(mut s: Value) -> Value {
    if let Some(f) = s.get_mut("files").and_then(Value::as_object_mut) {
        f.remove("in_progress");
    }
    s
}

#[test]
fn sigterm_then_restart_keeps_every_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    let adm = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral,incident_type,discharge_reason".to_string(),
        format!("PS-1,TZ-P01,admit,{},P-PS1,police,,", hours_ago(9)),
        format!("PS-2,TZ-P01,admit,{},P-PS2,self,,", hours_ago(8)),
        format!("PS-3,TZ-P01,incident,{},P-PS2,,conflict,", hours_ago(7)),
        format!("PS-4,TZ-P01,discharge,{},P-PS1,,,home", hours_ago(6)),
        format!("PS-5,TZ-P01,discharge,{},P-NOBODY,,,home", hours_ago(5)), // rejected
    ]);
    let bur = lf(&["record_id,site_id,reported_on,capacity_total,occupied", "PS-B1,C-MJQ,2026-10-31,100,95"]);
    let (a, b) = (id_number("110112", "19880808", 71, true), id_number("110112", "19900909", 72, false));
    let mar = lf(&[
        "record_id,office_id,registered_at,kind,party_a_id,party_b_id".to_string(),
        format!("PS-M1,M-TZ,2026-10-01 10:00,marriage,{a},{b}"),
        "PS-M2,M-TZ,2026-10-05 10:00,reissue,,".to_string(),
    ]);
    d.drop_file("admissions", "adm.csv", &adm);
    d.drop_file("burials", "bur.csv", &bur);
    d.drop_file("marriages", "mar.csv", &mar);
    d.drop_file("marriages", "mar-copy.csv", &mar); // duplicate file
    d.drop_file("burials", "junk.csv", "nothing,known\n1,2\n"); // quarantined
    let before = d.wait_files(5);
    d.expect(
        &before,
        &[
            ("/files/ingested", json!(3)),
            ("/files/duplicates", json!(1)),
            ("/files/quarantined", json!(1)),
            ("/records/admissions", json!(4)),
            ("/rejected_rows/admissions", json!(1)),
            ("/records/burials", json!(1)),
            ("/records/marriages", json!(2)),
            ("/alerts/by_kind/incident", json!(1)),
            ("/alerts/by_kind/site_nearly_full", json!(1)),
        ],
    );
    d.expect_station(&before, "TZ-P01", 1);
    let exports_before: Vec<Vec<String>> =
        ["admissions", "burials", "marriages"].iter().map(|f| sorted_export(&d, f)).collect();

    d.terminate(); // asserts exit code 0
    d.spawn();
    let after = d.status();
    assert_eq!(
        without_in_progress(after.clone()),
        without_in_progress(before.clone()),
        "status changed across a SIGTERM + restart\n--- before ---\n{before:#}\n--- after ---\n{after:#}\n--- log ---\n{}",
        d.log_tail(40)
    );
    let exports_after: Vec<Vec<String>> =
        ["admissions", "burials", "marriages"].iter().map(|f| sorted_export(&d, f)).collect();
    assert_eq!(exports_after, exports_before, "exports changed across a restart");

    // The totals go on from where they were; the file ledger survived too.
    d.drop_file("marriages", "mar-again.csv", &mar);
    d.drop_file(
        "admissions",
        "adm2.csv",
        lf(&[
            "record_id,station_id,event,occurred_at,person_ref,referral".to_string(),
            format!("PS-6,TZ-P01,admit,{},P-PS6,self", hours_ago(1)),
        ]),
    );
    let s = d.wait_files(7);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(4)),
            ("/files/duplicates", json!(2)),
            ("/files/quarantined", json!(1)),
            ("/records/admissions", json!(5)),
            ("/rejected_rows/admissions", json!(1)),
            ("/records/marriages", json!(2)),
        ],
    );
    d.expect_station(&s, "TZ-P01", 2);
}

#[test]
fn check_reports_problems_with_line_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("files").join("admissions");
    fs::create_dir_all(&dir).unwrap();
    let header = "record_id,station_id,event,occurred_at,person_ref,referral,note";
    let good = lf(&[header, "CK-1,TZ-JZZ,admit,2026-11-01 08:00,P-CK1,police,"]);
    let bad = lf(&[
        header,                                                           // 1
        "CK-1,TZ-JZZ,admit,2026-11-01 08:00,P-CK1,police,\"two\nlines\"", // 2-3
        "CK-2,TZ-NOPE,admit,2026-11-01 08:30,P-CK2,police,",              // 4 unknown station
        "CK-3,TZ-JZZ,admit,2026-11-01 08:40,P-CK3,police,",               // 5
        "CK-4,TZ-JZZ,admit,yesterday,P-CK4,police,",                      // 6 bad time
        "CK-5,TZ-JZZ,admit,2026-11-01 08:50,P-CK5,police,",               // 7
    ]);
    fs::write(dir.join("good.csv"), &good).unwrap();
    fs::write(dir.join("bad.csv"), &bad).unwrap();
    fs::write(tmp.path().join("loose.csv"), &bad).unwrap();

    let out = run_mzd(tmp.path(), &["check", "files/admissions/good.csv"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "check of a valid file: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run_mzd(tmp.path(), &["check", "files/admissions/bad.csv"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "check of an invalid file: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each bad line number appears as a number of its own on some output line.
    let per_line: Vec<Vec<u64>> = stdout
        .lines()
        .map(|l| l.split(|c: char| !c.is_ascii_digit()).filter_map(|t| t.parse().ok()).collect())
        .collect();
    for bad_line in [4u64, 6] {
        assert!(per_line.iter().any(|ns| ns.contains(&bad_line)), "line {bad_line} not reported:\n{stdout}");
    }

    let out = run_mzd(tmp.path(), &["check", "files/admissions/bad.csv", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check --json is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let mut lines = Vec::new();
    collect_lines(&v, &mut lines);
    lines.sort();
    assert_eq!(lines, [4, 6], "the `line` values in check --json: {v:#}");
    assert_eq!(v["encoding"], "utf-8", "plain data, no debug text: {v:#}");

    // A GBK file says so.
    std::fs::write(tmp.path().join("gbk.csv"), gbk(&bad.replace("two", "两行"))).unwrap();
    let out = run_mzd(tmp.path(), &["check", "gbk.csv", "--feed", "admissions", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("check --json output");
    assert_eq!(v["encoding"], "gb18030", "{v:#}");

    // Outside a feed folder, --feed names the feed.
    let out = run_mzd(tmp.path(), &["check", "loose.csv", "--feed", "admissions", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("check --json output");
    let mut lines = Vec::new();
    collect_lines(&v, &mut lines);
    lines.sort();
    assert_eq!(lines, [4, 6]);
}

/// Every number under a key `line`, anywhere in the value.
fn collect_lines(v: &Value, out: &mut Vec<u64>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "line" {
                    if let Some(n) = x.as_u64() {
                        out.push(n);
                    }
                }
                collect_lines(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_lines(x, out)),
        _ => {}
    }
}

#[test]
fn status_without_a_daemon_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here.sock");
    let out = run_mzd(tmp.path(), &["status", "--socket", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "no socket at all: {}", String::from_utf8_lossy(&out.stderr));
    let out = run_mzd(tmp.path(), &["status", "--json", "--socket", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    // A socket file left behind by a killed daemon.
    let mut d = Daemon::start(&tmp.path().join("d"));
    d.kill9();
    assert!(d.socket.exists(), "a SIGKILLed daemon leaves its socket file behind");
    let out = run_mzd(tmp.path(), &["status", "--socket", d.socket.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "stale socket: {}", String::from_utf8_lossy(&out.stderr));
}

/// The hour (0–23) of a local `YYYY-MM-DD HH:MM:SS` time.
fn hour_of(local: &str) -> usize {
    local[11..13].parse().expect("an hour")
}

/// Arrivals per local hour, today and yesterday, as the dashboard the console draws carries them.
fn arrivals_by_hour(dash: &Value) -> (Vec<u64>, Vec<u64>) {
    let day = |k: &str| -> Vec<u64> {
        dash["arrivals_by_hour"][k].as_array().expect("24 hours").iter().map(|v| v.as_u64().unwrap()).collect()
    };
    (day("today"), day("yesterday"))
}

#[test]
fn arrivals_per_hour_survive_a_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    // Yesterday: a different count in every hour; today: every hour up to now. Discharges are
    // no arrivals; neither are rows of two days ago.
    let now = mz_tests::unix_now();
    let today = mz_tests::today_local();
    let yesterday = mz_tests::date_plus(&today, -1);
    let mut arrivals = Vec::new();
    for h in 0..24 {
        arrivals.extend((0..h % 3 + 1).map(|m| format!("{yesterday} {h:02}:{:02}:00", 10 + m)));
    }
    let this_hour = hour_of(&mz_tests::local_time(now));
    for h in 0..=this_hour {
        let at = if h == this_hour { mz_tests::local_time(now) } else { format!("{today} {h:02}:30:00") };
        arrivals.extend(std::iter::repeat_n(at, (this_hour - h) % 2 + 1));
    }
    let (mut want_today, mut want_yesterday) = (vec![0u64; 24], vec![0u64; 24]);
    for at in &arrivals {
        let day = if at.starts_with(&today) { &mut want_today } else { &mut want_yesterday };
        day[hour_of(at)] += 1;
    }
    arrivals.push(format!("{} 10:00:00", mz_tests::date_plus(&today, -2)));
    let stations = ["TZ-JZZ", "TZ-P02", "TZ-P03", "TZ-P05"];
    let mut rows = vec!["record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason".to_string()];
    for (n, at) in arrivals.iter().enumerate() {
        let station = stations[n % stations.len()];
        rows.push(format!("AH-{n},{station},admit,{at},P-AH{n},patrol,"));
        if n % 3 == 0 {
            rows.push(format!("AH-D{n},{station},discharge,{at},P-AH{n},,home"));
        }
    }
    d.drop_file("admissions", "hours.csv", lf(&rows));
    d.wait_files(1);
    let want = (want_today, want_yesterday);
    let dash = d.wait_dashboard("the arrivals counted", |v| arrivals_by_hour(v) == want);
    assert_eq!(arrivals_by_hour(&dash), want);
    assert!(d.export("admissions").len() == rows.len() - 1, "every row stored");
    d.kill9();
    d.spawn();
    assert_eq!(arrivals_by_hour(&d.dashboard()), want, "after kill -9 and a restart");
}
