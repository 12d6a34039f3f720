//! Faults a real office produces (issue: never stop silently). Each test injects one fault into
//! the real `mzd` and checks that ingest continues or resumes by itself, that nothing is lost or
//! doubled, and that `mzd status` says what is wrong while it lasts: file names that are not
//! UTF-8, names too long for the rejects and reason files, a finalize step that keeps failing, a
//! registry saved half-way, a full disk (a real tmpfs, as root), an engine that is stuck or dies,
//! a restart in the middle of a large file, the modes of what the daemon writes, and log lines
//! forged through file names.

use mz_tests::{files_handled, local_time_ago, mode, walk, with_roles, Daemon, DEFAULT_TIMEOUT, POLL};
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const HEADER: &str = "record_id,station_id,event,occurred_at,person_ref,name,id_number,referral,discharge_reason";

/// `n` admits at TZ-JZZ `days` ago, ids `<prefix>-<i>`, people `<prefix>-P<i>` (adults with a
/// valid ID number, so no rule treats them as unidentified or vulnerable).
fn admits(prefix: &str, n: usize, days: i64) -> Vec<String> {
    let at = &local_time_ago(days * 86_400)[..16];
    (0..n)
        .map(|i| {
            let birth = mz_tests::compact(&mz_tests::date_plus("1985-01-01", (i / 100) as i64));
            let id = mz_tests::id_number("110105", &birth, (i % 100) as u32, true);
            format!("{prefix}-{i},TZ-JZZ,admit,{at},{prefix}-P{i},张三,{id},police,")
        })
        .collect()
}

/// The discharges (home) of the people of [`admits`], `days` ago.
fn discharges(prefix: &str, n: usize, days: i64) -> Vec<String> {
    let at = &local_time_ago(days * 86_400)[..16];
    (0..n).map(|i| format!("{prefix}-D{i},TZ-JZZ,discharge,{at},{prefix}-P{i},张三,,,home")).collect()
}

fn csv(rows: &[String]) -> String {
    let mut out = format!("{HEADER}\n");
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out
}

/// Writes `bytes` under a byte name into `dir`: a hidden temporary name first, then a rename.
fn drop_bytes_name(dir: &Path, name: &[u8], bytes: &[u8]) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let tmp = dir.join(".dropping.tmp");
    fs::write(&tmp, bytes).unwrap();
    let dest = dir.join(OsStr::from_bytes(name));
    fs::rename(&tmp, &dest).unwrap();
    dest
}

fn gbk_bytes(text: &str) -> Vec<u8> {
    mz_tests::gbk(text)
}

/// Status JSON whatever the exit code (0 healthy, 1 unhealthy); `None` when unreachable.
fn any_status(d: &Daemon) -> Option<(i32, Value)> {
    let (code, out) = d.status_raw();
    let code = code?;
    (code == 0 || code == 1).then(|| serde_json::from_str(&out).ok().map(|v| (code, v))).flatten()
}

/// Polls status (healthy or not) until `cond` holds.
fn wait_any(d: &Daemon, timeout: Duration, what: &str, cond: impl Fn(i32, &Value) -> bool) -> Value {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < timeout {
        if let Some((code, v)) = any_status(d) {
            if cond(code, &v) {
                return v;
            }
            last = Some((code, v));
        }
        std::thread::sleep(POLL);
    }
    panic!("timed out waiting until {what}; last status {last:?}\n--- log ---\n{}", d.log_tail(40));
}

fn problems(s: &Value) -> Vec<String> {
    s["problems"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn has_problem(s: &Value, needle: &str) -> bool {
    problems(s).iter().any(|p| p.contains(needle))
}

fn assert_no_panic(d: &Daemon) {
    let log = fs::read_to_string(&d.log).unwrap_or_default();
    assert!(!log.contains("panicked"), "the daemon panicked:\n{}", d.log_tail(60));
}

#[test]
fn file_and_folder_names_that_are_not_utf8_are_handled_and_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    let mut name = gbk_bytes("通州三月");
    name.extend_from_slice(b".csv");
    assert!(std::str::from_utf8(&name).is_err(), "the name must not be UTF-8");
    drop_bytes_name(&d.inbox.join("admissions"), &name, csv(&admits("GBK", 3, 1)).as_bytes());
    // A file in a GBK-named sub-folder of a feed folder, and in a GBK-named folder at the root.
    drop_bytes_name(&d.inbox.join("admissions").join(OsStr::from_bytes(&gbk_bytes("二月"))), b"a.csv", b"x");
    drop_bytes_name(&d.inbox.join(OsStr::from_bytes(&gbk_bytes("其他"))), b"b.csv", b"x");

    let s = d.wait_files(3);
    assert_eq!(s["files"]["ingested"], 1, "{s}");
    assert_eq!(s["files"]["quarantined"], 2, "{s}");
    assert_eq!(s["records"]["admissions"], 3, "{s}");
    let archived: Vec<PathBuf> = walk(&d.data.join("archive"));
    assert!(
        archived.iter().any(|p| p.file_name().is_some_and(|n| n.as_bytes() == name.as_slice())),
        "the archived file keeps its GBK name byte for byte: {archived:?}"
    );
    let unsorted = walk(&d.data.join("quarantine").join("unsorted"));
    for n in ["a.csv", "a.csv.reason.txt", "b.csv", "b.csv.reason.txt"] {
        assert!(unsorted.iter().any(|p| p.file_name().is_some_and(|f| f == n)), "{n} in {unsorted:?}");
    }

    // The engine is alive: a later drop goes in, and a restart is healthy with the same counts.
    d.drop_file("admissions", "later.csv", csv(&admits("LATER", 2, 1)));
    let s = d.wait_files(4);
    assert_eq!(s["records"]["admissions"], 5, "{s}");
    d.terminate();
    d.spawn();
    let s = d.status();
    assert_eq!(s["healthy"], true, "{s}");
    assert_eq!(files_handled(&s), 4, "{s}");
    assert_eq!(d.inbox_files(), Vec::<String>::new(), "nothing left in the inbox");
    assert_no_panic(&d);
}

#[test]
fn names_too_long_for_rejects_and_reason_files_are_shortened() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    let long = format!("{}.csv", "通州".repeat(40));
    assert_eq!(long.len(), 244);
    let mut rows = admits("LONG", 1, 1);
    rows.push(format!("LONG-BAD,NO-SUCH-STATION,admit,{},X1,李四,,police,", &local_time_ago(3600)[..16]));
    d.drop_file("admissions", &long, csv(&rows));
    let other = format!("{}三.docx", "通州".repeat(40));
    assert!(other.len() > 245);
    d.drop_file("admissions", &other, b"not a feed file");

    let s = d.wait_files(2);
    assert_eq!(s["records"]["admissions"], 1, "{s}");
    assert_eq!(s["rejected_rows"]["admissions"], 1, "{s}");
    let quarantined = walk(&d.data.join("quarantine"));
    let rejects: Vec<&PathBuf> = quarantined
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".csv.rejects.csv") && p.to_string_lossy().contains("通州通州"))
        .collect();
    assert_eq!(rejects.len(), 1, "one shortened rejects file: {quarantined:?}");
    let text = fs::read_to_string(rejects[0]).unwrap();
    assert!(text.contains("LONG-BAD"), "{text}");
    let reasons: Vec<&PathBuf> =
        quarantined.iter().filter(|p| p.to_string_lossy().ends_with(".docx.reason.txt")).collect();
    assert_eq!(reasons.len(), 1, "one shortened reason file: {quarantined:?}");
    for p in &quarantined {
        assert!(p.file_name().unwrap().len() <= 255, "{p:?}");
    }
    assert_eq!(d.inbox_files(), Vec::<String>::new(), "both files left the inbox");
    d.terminate();
    d.spawn();
    assert_eq!(d.status()["healthy"], true);
    assert_no_panic(&d);
}

#[test]
fn a_finalize_step_that_keeps_failing_is_parked_with_a_problem_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    // Rejects files go to quarantine/admissions/: make that a regular file, so writing fails.
    let blocker = d.data.join("quarantine").join("admissions");
    fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    fs::write(&blocker, b"in the way").unwrap();
    d.spawn();
    let mut rows = admits("PARK", 2, 1);
    rows.push(format!("PARK-BAD,NO-SUCH-STATION,admit,{},X1,李四,,police,", &local_time_ago(3600)[..16]));
    d.drop_file("admissions", "parked.csv", csv(&rows));
    let s = d.wait_until("the failing finalize step shows as a problem", |s| has_problem(s, "parked.csv"));
    assert_eq!(s["healthy"], true, "other files still go in: {s}");
    assert_eq!(s["records"]["admissions"], 2, "{s}");
    assert_eq!(s["files"]["ingested"], 1, "{s}");
    d.drop_file("admissions", "next.csv", csv(&admits("NEXT", 1, 1)));
    d.wait_until("the next file is ingested", |s| s["records"]["admissions"] == 3);

    // A restart does not fail on the parked job.
    d.terminate();
    d.spawn();
    let s = d.wait_until("the parked job is still reported", |s| has_problem(s, "parked.csv"));
    assert_eq!(s["files"]["ingested"], 2, "{s}");

    // The cause goes away: the job completes by itself and nothing is counted twice.
    fs::remove_file(&blocker).unwrap();
    let s = d.wait_until_for(Duration::from_secs(90), "the parked job completes", |s| problems(s).is_empty());
    assert_eq!(s["files"]["ingested"], 2, "{s}");
    assert_eq!(s["rejected_rows"]["admissions"], 1, "{s}");
    assert!(d.rejects_path("admissions", "parked.csv").is_file(), "rejects file written at last");
    assert_eq!(d.inbox_files(), Vec::<String>::new());
    assert_no_panic(&d);
}

#[test]
fn a_registry_saved_half_way_is_refused_and_the_old_one_stays() {
    let tmp = tempfile::tempdir().unwrap();
    let registry = with_roles(mz_tests::demo_registry(), &[("duty9", "officer")]);
    let d = Daemon::start_with_registry(tmp.path(), &registry);
    let path = d.data.join("registry.toml");
    for (what, text) in [
        ("an empty file", String::new()),
        ("a file cut before [roles]", registry[..registry.find("[roles]").unwrap()].to_string()),
        ("a file cut before [[department]]", registry[..registry.find("[[department]]").unwrap()].to_string()),
    ] {
        fs::write(&path, &text).unwrap();
        let s = d.wait_until(&format!("{what} is refused with a problem"), |s| has_problem(s, "registry"));
        assert_eq!(s["healthy"], true, "{what}: ingest goes on with the old registry: {s}");
        fs::write(&path, &registry).unwrap();
        d.wait_until("a good save clears the problem", |s| problems(s).is_empty());
    }
    fs::write(&path, "").unwrap();
    d.wait_until("refused again", |s| has_problem(s, "registry"));
    d.drop_file("admissions", "still.csv", csv(&admits("STILL", 2, 1)));
    let s = d.wait_files(1);
    assert_eq!(s["records"]["admissions"], 2, "stations are still known: {s}");
    assert_eq!(s["rejected_rows"]["admissions"], 0, "{s}");
}

/// A tmpfs mounted for one test, unmounted when dropped (after the daemon, declared later).
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_stops_ingest_visibly_and_ingest_resumes_by_itself_when_space_returns() {
    if !mz_tests::sys::is_root() {
        eprintln!("SKIPPED a_full_disk…: mounting a small file system needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    fs::create_dir_all(&small).unwrap();
    let st = Command::new("mount").args(["-t", "tmpfs", "-o", "size=300m", "tmpfs"]).arg(&small).status().unwrap();
    if !st.success() {
        eprintln!("SKIPPED a_full_disk…: cannot mount a tmpfs here");
        return;
    }
    let _mount = Mount(small.clone());
    let mut d = Daemon::prepare(&small);
    // Inbox and log on the big disk: files can still be dropped while the store's disk is full.
    d.inbox = tmp.path().join("inbox");
    d.log = tmp.path().join("mzd.log");
    for feed in mz_tests::FEEDS {
        fs::create_dir_all(d.inbox.join(feed)).unwrap();
    }
    d.args = vec!["--inbox".into(), d.inbox.clone().into()];
    d.spawn();
    d.drop_file("admissions", "a.csv", csv(&admits("A", 10, 1)));
    d.wait_files(1);

    let filler = mz_tests::fill_disk(&small);
    d.drop_file("admissions", "b.csv", csv(&admits("B", 5000, 1)));
    // The daemon restarts itself in place (same pid) and waits for the store to open.
    let s = wait_any(&d, Duration::from_secs(60), "the store failure shows", |code, s| {
        code == 1 && has_problem(s, "the store cannot be")
    });
    assert_eq!(s["healthy"], false, "{s}");
    std::thread::sleep(Duration::from_secs(4));
    let (_, s) = any_status(&d).expect("reachable while the disk is full");
    assert!(d.is_running(), "the same process keeps serving: {s}");
    let log = fs::read_to_string(&d.log).unwrap();
    assert!(log.contains("restarts itself in place"), "a failed write replaces the process:\n{}", d.log_tail(20));
    assert!(s["files"]["ingested"].as_u64().unwrap_or(0) <= 1, "retries while full count nothing: {s}");

    fs::remove_file(&filler).unwrap();
    let s = d.wait_until_for(Duration::from_secs(60), "ingest resumes by itself", |s| s["files"]["ingested"] == 2);
    assert_eq!(s["records"]["admissions"], 5010, "{s}");
    assert_eq!(s["healthy"], true, "{s}");
    std::thread::sleep(Duration::from_secs(3));
    let s = d.status();
    assert_eq!(s["files"]["ingested"], 2, "the file is counted once: {s}");
    assert_eq!(s["duplicate_rows"]["admissions"], 0, "{s}");
    d.drop_file("admissions", "c.csv", csv(&admits("C", 3, 1)));
    d.wait_until("the next file goes in", |s| s["records"]["admissions"] == 5013);

    // Started on a full disk: it waits (reachable, unhealthy) instead of exiting.
    d.terminate();
    let filler = mz_tests::fill_disk(&small);
    d.spawn_no_wait();
    let s = wait_any(&d, Duration::from_secs(30), "status answers on a full disk", |_, _| true);
    assert!(d.is_running(), "mzd started on a full disk keeps running: {s}");
    assert_eq!(s["healthy"], false, "{s}");
    fs::remove_file(&filler).unwrap();
    let s = d.wait_until_for(Duration::from_secs(60), "healthy once space returns", |s| s["healthy"] == true);
    assert_eq!(s["records"]["admissions"], 5013, "{s}");
    d.drop_file("admissions", "d.csv", csv(&admits("D", 1, 1)));
    d.wait_until("ingest works after the full start", |s| s["records"]["admissions"] == 5014);
    assert_no_panic(&d);
}

#[test]
fn a_stuck_engine_makes_status_unhealthy_and_mzd_exit_non_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    d.env = vec![
        ("FAILPOINTS".into(), "engine-handle=sleep(600000)".into()),
        ("MZD_STUCK_AFTER_SECS".into(), "2".into()),
        ("MZD_STUCK_EXIT_SECS".into(), "8".into()),
    ];
    d.spawn();
    d.drop_file("admissions", "stuck.csv", csv(&admits("S", 1, 1)));
    let s = wait_any(&d, DEFAULT_TIMEOUT, "status says the engine makes no progress", |code, s| {
        code == 1 && has_problem(s, "no progress")
    });
    assert_eq!(s["healthy"], false, "{s}");
    let st = d.wait_exit(Duration::from_secs(30)).expect("mzd exits by itself when the engine is stuck");
    assert_eq!(st.code(), Some(1), "a supervisor must see a failure: {st}");
}

#[test]
fn sigterm_with_a_stuck_engine_ends_mzd_within_its_grace() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    d.env = vec![
        ("FAILPOINTS".into(), "engine-handle=sleep(600000)".into()),
        ("MZD_STUCK_AFTER_SECS".into(), "1".into()),
        ("MZD_STUCK_EXIT_SECS".into(), "600".into()),
    ];
    d.spawn();
    d.drop_file("admissions", "stuck.csv", csv(&admits("T", 1, 1)));
    wait_any(&d, DEFAULT_TIMEOUT, "the engine hangs in the file", |_, s| has_problem(s, "no progress"));
    mz_tests::sys::signal(d.pid().expect("running"), libc::SIGTERM);
    let st = d.wait_exit(Duration::from_secs(40)).expect("mzd exits within its 20 s shutdown grace");
    assert_eq!(st.code(), Some(1), "the file in hand could not be finished: a failure: {st}");
}

#[test]
fn an_engine_that_dies_makes_mzd_exit_non_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    d.env = vec![("FAILPOINTS".into(), "engine-handle=panic(injected)".into())];
    d.spawn();
    d.drop_file("admissions", "dies.csv", csv(&admits("X", 1, 1)));
    let st = d.wait_exit(DEFAULT_TIMEOUT).expect("mzd exits when its engine thread dies");
    assert_eq!(st.code(), Some(1), "{st}");
    // Restarted without the fault, it takes the file.
    d.env.clear();
    d.spawn();
    d.wait_until("the file goes in after the restart", |s| s["records"]["admissions"] == 1);
}

/// `n` admits (`days` ago) each followed by a rejected row: the rejected rows make a file
/// commit in parts (every 2,000 of them), so a fault can land between two parts.
fn admits_with_rejects(prefix: &str, n: usize, days: i64) -> Vec<String> {
    let at = &local_time_ago(3600)[..16];
    admits(prefix, n, days)
        .into_iter()
        .enumerate()
        .flat_map(|(i, admit)| [admit, format!("{prefix}-BAD{i},NO-SUCH-STATION,admit,{at},X{i},李四,,police,")])
        .collect()
}

/// The status after a clean daemon handled `text` as `admissions/big.csv` alone.
fn clean_run(text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let clean = Daemon::start(dir.path());
    clean.drop_file("admissions", "big.csv", text);
    clean.wait_files_for(Duration::from_secs(180), 1)
}

/// Starts `d` with a failpoint that stops the engine after the first committed part of a file,
/// drops `text` as `admissions/big.csv` and waits until that part is committed.
fn stop_after_first_part(d: &mut Daemon, text: &str, sleep_ms: u64) -> PathBuf {
    d.env = vec![("FAILPOINTS".into(), format!("ingest-chunk-committed=1*sleep({sleep_ms})"))];
    d.spawn();
    let path = d.drop_file("admissions", "big.csv", text);
    let start = Instant::now();
    while !fs::read_to_string(&d.log).unwrap_or_default().contains("part of a large file committed") {
        assert!(start.elapsed() < Duration::from_secs(180), "no part committed:\n{}", d.log_tail(30));
        std::thread::sleep(POLL);
    }
    path
}

/// The status figures that a restart mid-file must not change.
fn figures(s: &Value) -> Value {
    serde_json::json!({
        "files": s["files"]["ingested"], "records": s["records"], "rejected": s["rejected_rows"],
        "duplicates": s["duplicate_rows"], "cases": s["cases"], "alerts": s["alerts"], "stations": s["stations"],
    })
}

#[test]
fn a_restart_in_the_middle_of_a_large_file_changes_nothing_and_opens_no_extra_cases() {
    // People who arrived 20 days ago (long stays, were they still present) and left yesterday:
    // their discharges come after their admits in the same large file. A rejected row after
    // each admit makes the file commit in parts (every 2,000 rejected rows).
    const PEOPLE: usize = 10_000;
    let mut rows = admits_with_rejects("MID", PEOPLE, 20);
    rows.extend(discharges("MID", PEOPLE, 1));
    let text = csv(&rows);
    let want = clean_run(&text);

    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    stop_after_first_part(&mut d, &text, 600_000);
    d.kill9();
    d.env.clear();
    d.spawn();
    let got = d.wait_files_for(Duration::from_secs(180), 1);
    assert!(fs::read_to_string(&d.log).unwrap().contains("resuming a file interrupted before"), "it resumed");
    assert_eq!(figures(&got), figures(&want), "a restart mid-file changes nothing");
    assert_eq!(got["alerts"]["by_kind"]["long_stay"], 0, "{got}");
}

#[test]
fn a_file_truncated_while_it_is_read_is_stored_as_it_was_taken() {
    let text = csv(&admits_with_rejects("TR", 6_000, 1));
    let want = clean_run(&text);

    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    let path = stop_after_first_part(&mut d, &text, 3_000);
    // What `truncate -s 8K big.csv` does mid-read: cut the file at its inbox path (creating
    // one if it is gone).
    let st = Command::new("truncate").args(["-s", "8K"]).arg(&path).status().unwrap();
    assert!(st.success());
    let got = d.wait_files_for(Duration::from_secs(120), 2);
    assert_eq!(got["files"]["ingested"], 1, "{got}");
    assert_eq!(got["files"]["quarantined"], 1, "what truncate left at the path is a new drop: {got}");
    for key in ["records", "rejected_rows", "duplicate_rows", "cases", "stations"] {
        assert_eq!(got[key], want[key], "{key}: the file is stored as it was when taken");
    }
    let (header, rejects) = read_rejects_rows(&d.rejects_path("admissions", "big.csv"));
    assert!(header.starts_with('\u{feff}'), "rejects files start with a BOM for Excel: {header:?}");
    assert_eq!(rejects as u64, got["rejected_rows"]["admissions"].as_u64().unwrap(), "rejects file and counter agree");
    assert_no_panic(&d);
}

#[test]
fn a_file_still_written_after_it_was_taken_counts_nothing_twice_and_holds_nothing_up() {
    // An upload that paused long enough to look complete goes on writing to the same file
    // after the daemon took it: the daemon sees the change mid-file and takes the file again
    // as it ended, a new content. Parts 1 and 2 (4,000 rows each) are committed before it sees
    // the change; the rows applied after them must leave no trace.
    let text = csv(&admits_with_rejects("SL", 6_000, 1));
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    let path = stop_after_first_part(&mut d, &text, 3_000);
    let taken = path.parent().unwrap().join(".mzd-taken").join("big.csv");
    let more: String = admits("SL2", 100, 1).into_iter().map(|r| r + "\n").collect();
    let mut f = fs::OpenOptions::new().append(true).open(&taken).unwrap();
    std::io::Write::write_all(&mut f, more.as_bytes()).unwrap();
    drop(f);
    let got = d.wait_files_for(Duration::from_secs(120), 1);
    assert!(fs::read_to_string(&d.log).unwrap().contains("changed while it was read"), "{}", d.log_tail(30));
    assert_eq!(got["records"]["admissions"], 6_100, "{got}");
    // Taken again, the file's first 8,000 rows are seen a second time: their 4,000 admissions as
    // duplicates, their 4,000 bad rows rejected again. Nothing of the part in progress counts.
    assert_eq!(got["duplicate_rows"]["admissions"], 4_000, "{got}");
    assert_eq!(got["rejected_rows"]["admissions"], 10_000, "{got}");
    assert_no_panic(&d);

    // The first content's ledger entry stays in progress, but no file of it is left to resume:
    // after a restart the clock rules do not wait for it. A stay past the limit is raised as
    // soon as its file is in, not after the minute the rules give interrupted files.
    d.kill9();
    d.env.clear();
    d.spawn();
    d.drop_file("admissions", "old.csv", csv(&admits("OLD", 1, 40)));
    d.wait_files_for(Duration::from_secs(30), 2);
    let start = Instant::now();
    while d.status()["alerts"]["by_kind"]["long_stay"] != 1 {
        assert!(start.elapsed() < Duration::from_secs(20), "no long stay raised:\n{}", d.log_tail(30));
        std::thread::sleep(POLL);
    }
}

/// Header and number of data rows of a rejects file.
fn read_rejects_rows(path: &Path) -> (String, usize) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_owned();
    (header, lines.filter(|l| !l.is_empty()).count())
}

/// The uid and gid of a system user made for the test (created if missing), or `None` when
/// users cannot be created here.
fn system_user(name: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, name]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    if id("-u").is_none() {
        let st = Command::new("useradd").args(["-M", "-N", "-r", name]).status().ok()?;
        if !st.success() {
            return None;
        }
    }
    Some((id("-u")?, id("-g")?))
}

#[test]
fn a_file_the_daemon_may_not_read_is_named_in_status_until_it_can() {
    if !mz_tests::sys::is_root() {
        eprintln!("SKIPPED a_file_the_daemon_may_not_read…: needs root to run the daemon as another user");
        return;
    }
    let Some((uid, gid)) = system_user("mzfaultd") else {
        eprintln!("SKIPPED a_file_the_daemon_may_not_read…: cannot create a system user");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::prepare(tmp.path());
    let st = Command::new("chown").arg("-R").arg(format!("{uid}:{gid}")).arg(tmp.path()).status().unwrap();
    assert!(st.success());
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    d.run_as = Some((uid, gid));
    d.spawn_no_wait();
    wait_any(&d, DEFAULT_TIMEOUT, "the daemon answers", |_, _| true);
    // Dropped by root, readable by root only: the daemon's user may not read it.
    let path = d.drop_file("admissions", "secret.csv", csv(&admits("RO", 2, 1)));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let s = wait_any(&d, DEFAULT_TIMEOUT, "the unreadable file is named", |_, s| has_problem(s, "secret.csv"));
    assert_eq!(s["healthy"], true, "other files still go in: {s}");
    d.drop_file("admissions", "open.csv", csv(&admits("OK", 1, 1)));
    wait_any(&d, DEFAULT_TIMEOUT, "the next file goes in", |_, s| s["records"]["admissions"] == 1);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let s = wait_any(&d, Duration::from_secs(120), "the file goes in once readable", |_, s| {
        s["records"]["admissions"] == 3 && problems(s).is_empty()
    });
    assert_eq!(s["files"]["ingested"], 2, "{s}");
}

#[test]
fn what_the_daemon_writes_is_closed_to_other_users() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut rows = admits("MODE", 1, 1);
    rows.push(format!("MODE-BAD,NO-SUCH-STATION,admit,{},X1,李四,,police,", &local_time_ago(3600)[..16]));
    let dropped = d.drop_file("admissions", "mode.csv", csv(&rows));
    d.drop_file("admissions", "junk.bin.csv", [0u8, 159, 146, 150, 0, 0, 1, 2]);
    let _ = dropped;
    d.wait_files(2);
    assert_eq!(mode(&d.data) & 0o007, 0, "data folder mode {:o}", mode(&d.data));
    // The inbox and the registry belong to whoever drops files and writes the registry.
    let theirs = |p: &Path| p.starts_with(&d.inbox) || p.ends_with("registry.toml");
    for p in walk(&d.data).into_iter().filter(|p| !theirs(p)) {
        let meta = fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_socket() {
            continue;
        }
        assert_eq!(mode(&p) & 0o007, 0, "{} has mode {:o}", p.display(), mode(&p));
    }
}

#[test]
fn a_newline_in_a_file_name_cannot_forge_a_log_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    d.drop_file("admissions", "x\nERROR forged line.csv", csv(&admits("LOG", 1, 1)));
    d.wait_files(1);
    let log = fs::read_to_string(&d.log).unwrap();
    assert!(!log.lines().any(|l| l.starts_with("ERROR forged")), "forged line in the log:\n{log}");
    assert!(log.contains("x\\nERROR forged line.csv"), "the name is logged escaped:\n{log}");
}

use std::os::unix::fs::FileTypeExt;

#[test]
fn an_unfinished_store_snapshot_left_by_a_kill_does_not_make_the_store_unreadable() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    d.drop_file("admissions", "a.csv", csv(&admits("SNAP", 3, 1)));
    d.wait_files(1);
    d.kill9();
    // What a kill while sled writes a snapshot (on a full disk) leaves behind.
    fs::write(d.data.join("store").join("snap.000000000F7EA958.generating"), b"").unwrap();
    d.spawn();
    let s = d.status();
    assert_eq!(s["records"]["admissions"], 3, "{s}");
    assert_no_panic(&d);
}
