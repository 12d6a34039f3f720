//! Cases at scale (the issue "cases as cheap as rows"): with every automatic case trigger on
//! (`[auto_cases]` all true, SPEC §4), a file whose rows open thousands of cases survives a
//! `kill -9` in the middle and ends exactly as a clean run (cases, audit trail, figures); and
//! `mzd case list` (SPEC §1) streams: `--limit`, `--state`, a valid JSON array, and a client that
//! stops reading neither stalls the daemon nor makes it grow.

use mz_shared::protocol::{ClientMessage, Request, PROTOCOL_VERSION};
use mz_tests::{local_time_ago, registry_as, Daemon, DEFAULT_TIMEOUT, POLL};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// The demo registry with every automatic case trigger on and the current user a supervisor.
fn registry() -> String {
    let r = registry_as("supervisor")
        .replace("vulnerable_adult = false", "vulnerable_adult = true")
        .replace("unidentified = false", "unidentified = true");
    assert!(r.contains("vulnerable_adult = true") && r.contains("unidentified = true"), "[auto_cases] not found");
    r
}

const HEADER: &str = "record_id,station_id,event,occurred_at,person_ref,name,id_number,gender,age,origin,referral,flags,bed,discharge_reason,incident_type,note";

/// An admissions file: `blocks` times, `cases` unidentified arrivals (each opens a case and gets
/// its station tasks), the discharge of every second one of them (their open tasks turn void
/// and go to the task archive), and then `rejects` rows of an unknown station (each rejected:
/// 2,000 rejected rows make the engine commit, so a large block ends in a commit in the middle
/// of the file).
fn file(blocks: usize, cases: usize, rejects: usize) -> String {
    let mut out = format!("{HEADER}\n");
    let mut n = 0;
    for b in 0..blocks {
        for i in 0..cases {
            n += 1;
            let at = local_time_ago(3 * 3600 - (b * cases + i) as i64 / 10);
            out.push_str(&format!("S{n},TZ-JZZ,admit,{at},Q{n},无名氏,,,,,police,,,,,\n"));
        }
        let first = n - cases + 1;
        for q in (first..=n).step_by(2) {
            let at = local_time_ago(3600);
            out.push_str(&format!("D{q},TZ-JZZ,discharge,{at},Q{q},,,,,,,,,home,,\n"));
        }
        for _ in 0..rejects {
            n += 1;
            let at = local_time_ago(3 * 3600);
            out.push_str(&format!("S{n},XX-NONE,admit,{at},Q{n},无名氏,,,,,police,,,,,\n"));
        }
    }
    out
}

/// `mzd ARGS --socket …`, which must exit 0; its stdout.
fn mzd_ok(d: &Daemon, args: &[&str]) -> String {
    d.mzd_ok(args)
}

/// `mzd case list --json ARGS`, parsed (it must be one JSON array).
fn list(d: &Daemon, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["case", "list", "--json"];
    all.extend_from_slice(args);
    let text = mzd_ok(d, &all);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(cases)) => cases,
        other => d.fail(&format!("`mzd case list --json {}` is not a JSON array: {other:?}", args.join(" "))),
    }
}

fn ids(cases: &[Value]) -> Vec<String> {
    cases.iter().map(|c| c["id"].as_str().unwrap_or_default().to_owned()).collect()
}

/// What a run ended with, without the wall-clock times (cases are opened at handling time).
#[derive(Debug, PartialEq)]
struct Outcome {
    cases: Vec<Value>,
    audit: Vec<Value>,
    tasks: Vec<Value>,
    figures: Value,
}

fn outcome(d: &Daemon) -> Outcome {
    let keep = |v: &Value, keys: &[&str]| -> Value { keys.iter().map(|k| (k.to_string(), v[*k].clone())).collect() };
    let cases = list(d, &[])
        .iter()
        .map(|c| keep(c, &["id", "version", "state", "street", "summary", "source", "urgency", "source_record"]))
        .collect();
    let audit = mzd_ok(d, &["export", "audit", "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("audit line is JSON"))
        .map(|e| keep(&e, &["seq", "user", "case_id", "action", "detail"]))
        .collect();
    let tasks = match serde_json::from_str::<Value>(&mzd_ok(d, &["task", "list", "--json"])) {
        Ok(Value::Array(tasks)) => {
            tasks.iter().map(|t| keep(t, &["id", "kind", "station", "person_ref", "state", "due_at"])).collect()
        }
        other => d.fail(&format!("`mzd task list --json` is not a JSON array: {other:?}")),
    };
    let s = d.status();
    let figures = serde_json::json!({
        "records": s["records"], "rejected_rows": s["rejected_rows"], "files": s["files"],
        "stations": s["stations"], "alerts": s["alerts"], "open_cases": s["cases"]["open"],
        "audit_entries": s["audit"]["entries"], "tasks": s["tasks"],
    });
    mzd_ok(d, &["audit", "verify"]);
    Outcome { cases, audit, tasks, figures }
}

/// The file's outcome in a clean run.
fn clean_run(dir: &std::path::Path, text: &str) -> Outcome {
    let clean = Daemon::start_with_registry(dir, &registry());
    clean.drop_file("admissions", "arrivals.csv", text);
    clean.wait_files_for(Duration::from_secs(180), 1);
    let reference = outcome(&clean);
    assert_eq!(reference.cases.len(), 4_500, "one case per unidentified arrival");
    assert_eq!(reference.audit.len(), 4_500, "one audit entry per case opened");
    let void = reference.tasks.iter().filter(|t| t["state"] == "void").count();
    let open = reference.tasks.iter().filter(|t| t["state"] == "open").count();
    assert_eq!((void, open), (4_500, 4_500), "two tasks per arrival, those of the discharged void");
    reference
}

/// Starts a daemon with `failpoint` (which makes the engine wait), drops the file, waits until
/// `stopped` says the engine waits there, kills it with `kill -9` and starts it again.
fn killed_run(dir: &std::path::Path, text: &str, failpoint: &str, stopped: impl Fn(&Daemon) -> bool) -> Daemon {
    let mut d = Daemon::prepare_with_registry(dir, &registry());
    d.env.push(("FAILPOINTS".into(), failpoint.into()));
    d.env.push(("RUST_LOG".into(), "info,mzd::store::values=debug".into()));
    d.spawn();
    d.drop_file("admissions", "arrivals.csv", text);
    let start = Instant::now();
    while !stopped(&d) {
        assert!(start.elapsed() < Duration::from_secs(180), "the engine did not stop:\n{}", d.log_tail(30));
        std::thread::sleep(POLL);
    }
    d.kill9();
    let archived = std::fs::read_dir(d.archive_dir("admissions")).map(|rd| rd.count()).unwrap_or(0);
    assert_eq!(archived, 0, "the kill must land in the middle of the file (is mzd built with failpoints?)");
    d.env.clear();
    d.spawn();
    d.wait_files_for(Duration::from_secs(180), 1);
    d
}

fn assert_same(after: &Outcome, reference: &Outcome) {
    assert_eq!(after.figures, reference.figures, "figures after the kill and restart");
    assert_eq!(after.cases.len(), reference.cases.len(), "cases after the kill and restart");
    assert!(after.cases == reference.cases, "the cases differ from the clean run's");
    assert!(after.audit == reference.audit, "the audit trail differs from the clean run's");
    assert!(after.tasks == reference.tasks, "the station tasks differ from the clean run's");
}

/// What the value log says (at debug level) each time a commit's values are synced.
const APPENDED: &str = "value log appended and synced";

fn log_has(d: &Daemon, what: &str) -> bool {
    std::fs::read_to_string(&d.log).unwrap_or_default().contains(what)
}

#[test]
fn a_kill_in_the_middle_of_a_case_heavy_file_ends_as_a_clean_run() {
    let text = file(3, 1_500, 2_000);
    let tmp = tempfile::tempdir().unwrap();
    let reference = clean_run(&tmp.path().join("clean"), &text);
    // The first part of the file committed, the engine waits; the kill lands there.
    let d = killed_run(&tmp.path().join("killed"), &text, "ingest-chunk-committed=1*sleep(600000)", |d| {
        log_has(d, "part of a large file committed")
    });
    assert_same(&outcome(&d), &reference);
}

/// The second commit's large values (record pages, case blocks, audit chunks) are in the value
/// log and synced, sled's batch that points at them is not applied: the kill lands between.
#[test]
fn a_kill_between_the_value_log_and_sleds_batch_ends_as_a_clean_run() {
    let text = file(3, 1_500, 2_000);
    let tmp = tempfile::tempdir().unwrap();
    let reference = clean_run(&tmp.path().join("clean"), &text);
    let dir = tmp.path().join("killed");
    let appended = |d: &Daemon| std::fs::read_to_string(&d.log).unwrap_or_default().matches(APPENDED).count();
    let d = killed_run(&dir, &text, "values-appended=1*off->sleep(600000)", |d| {
        // The first part committed; the engine then stops inside the second commit.
        log_has(d, "part of a large file committed") && appended(d) == 2
    });
    assert!(
        log_has(&d, "cutting off values of a commit that did not happen"),
        "the restart must find the uncommitted values of the killed commit:\n{}",
        d.log_tail(30)
    );
    assert_same(&outcome(&d), &reference);
}

/// A kill while the engine stands at `stop` inside the second of the value-log compactions
/// forced at every commit, once the log holds `said` twice; the restart removes the generation
/// that is not current and ends as a clean run.
fn killed_in_a_compaction(stop: &str, said: &str) {
    let text = file(3, 1_500, 2_000);
    let tmp = tempfile::tempdir().unwrap();
    let reference = clean_run(&tmp.path().join("clean"), &text);
    let failpoints = format!("values-compact-now=return;{stop}=1*off->sleep(600000)");
    let d = killed_run(&tmp.path().join("killed"), &text, &failpoints, |d| {
        std::fs::read_to_string(&d.log).unwrap_or_default().matches(said).count() == 2
    });
    assert!(
        log_has(&d, "removed a value-log generation no longer current"),
        "the restart must remove the generation that is not current:\n{}",
        d.log_tail(30)
    );
    assert_same(&outcome(&d), &reference);
}

/// Stopped after the new generation is synced, before sled points at it: the old one stays.
#[test]
fn a_kill_in_the_middle_of_a_value_log_compaction_ends_as_a_clean_run() {
    killed_in_a_compaction("values-compacted", "value log compacted");
}

/// Stopped after sled points at the new generation, before the old file goes.
#[test]
fn a_kill_after_a_compaction_is_applied_ends_as_a_clean_run() {
    killed_in_a_compaction("values-compaction-applied", "compaction applied");
}

/// A raw connection: hello, then requests as JSON lines.
fn connect(d: &Daemon) -> (BufReader<UnixStream>, UnixStream) {
    let s = UnixStream::connect(&d.socket).unwrap_or_else(|e| d.fail(&format!("connect: {e}")));
    s.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let hello = ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: "case_scale".into() };
    writeln!(w, "{}", serde_json::to_string(&hello).unwrap()).unwrap();
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("welcome"), "no welcome: {line}");
    (r, w)
}

fn rss_kib(d: &Daemon) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{}/status", d.pid().expect("running"))).unwrap_or_default();
    s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
}

#[test]
fn case_list_streams_with_limit_and_state() {
    const CASES: usize = 3_000;
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry());
    d.drop_file("admissions", "arrivals.csv", file(1, CASES, 0));
    d.wait_files_for(Duration::from_secs(120), 1);

    let all = list(&d, &[]);
    assert_eq!(all.len(), CASES);
    let all_ids = ids(&all);
    let mut sorted = all_ids.clone();
    sorted.sort();
    assert_eq!(all_ids, sorted, "cases are listed in id order");
    assert_eq!(ids(&list(&d, &["--limit", "7"])), all_ids[..7], "--limit 7: the first seven");
    assert_eq!(list(&d, &["--limit", "0"]), Vec::<Value>::new(), "--limit 0: an empty array");

    let first = &all_ids[0];
    mzd_ok(&d, &["case", "act", first, "accept"]);
    let accepted = list(&d, &["--state", "accepted"]);
    assert_eq!(ids(&accepted), std::slice::from_ref(first), "--state accepted");
    assert_eq!(accepted[0]["state"], "accepted");
    let new = list(&d, &["--state", "new", "--limit", "3"]);
    assert_eq!(ids(&new), all_ids[1..4], "--state new --limit 3");
    assert_eq!(list(&d, &["--state", "closed"]), Vec::<Value>::new());
    let text = mzd_ok(&d, &["case", "list", "--limit", "2"]);
    assert_eq!(text.lines().count(), 2, "two lines of text: {text}");

    // A client that asks for every case and reads only the first message.
    let before = rss_kib(&d);
    let (mut r, mut w) = connect(&d);
    let req = ClientMessage::Request(Request::CaseList { state: None, limit: None });
    writeln!(w, "{}", serde_json::to_string(&req).unwrap()).unwrap();
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let msg: Value = serde_json::from_str(&line).expect("a JSON message");
    assert_eq!(msg["type"], "cases", "the first answer: {}", &line[..line.len().min(200)]);
    let chunk = msg["cases"].as_array().map_or(0, Vec::len);
    assert!(chunk > 0 && chunk < CASES, "the answer comes in chunks, not all {CASES} cases at once ({chunk})");

    // Meanwhile the daemon answers others and does not build the rest of the list in memory.
    std::thread::sleep(Duration::from_secs(2));
    let t = Instant::now();
    assert_eq!(list(&d, &["--limit", "5"]).len(), 5);
    d.status();
    assert!(t.elapsed() < Duration::from_secs(5), "the daemon stalled behind a client that does not read");
    let grown = rss_kib(&d).saturating_sub(before);
    assert!(grown < 16 * 1024, "the daemon grew by {grown} KiB for a client that does not read");
    drop((r, w));
    std::thread::sleep(POLL);
    assert_eq!(list(&d, &[]).len(), CASES, "the whole list once the stalled client is gone");
}
