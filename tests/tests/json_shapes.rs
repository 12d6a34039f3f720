//! Machine output (issue 11): every `--json` output of every `mzd` command, run against a real
//! daemon on a real store, is plain data with the keys and types SPEC §1, §6 and §7 name: times
//! in RFC 3339 with the registry zone's offset, states in snake_case, numbers as numbers, and no
//! Rust debug formatting anywhere (`Some(…)`, `None`, `Acknowledged { … }`). And the text output
//! of `mzd case show` shows the clocks its `--json` has.

use mz_tests::{current_user, id_number, lf, local_time_ago, registry_as, Daemon};
use serde_json::Value;

/// The demo registry with the current user a supervisor on the staff of TZ-JZZ.
fn registry() -> String {
    let r = registry_as("supervisor");
    assert_eq!(r.matches("staff = [\"clerk1\"]").count(), 1);
    r.replacen("staff = [\"clerk1\"]", &format!("staff = [\"clerk1\", \"{}\"]", current_user()), 1)
}

/// Parses stdout as JSON, failing with both outputs and the daemon's log.
fn json_of(d: &Daemon, args: &[&str]) -> Value {
    let out = d.mzd_ok(args);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| d.fail(&format!("`mzd {}` printed no JSON ({e}):\n{out}", args.join(" "))))
}

fn array_of(d: &Daemon, args: &[&str]) -> Vec<Value> {
    match json_of(d, args) {
        Value::Array(a) => a,
        other => d.fail(&format!("`mzd {}` printed no array: {other:#}", args.join(" "))),
    }
}

/// Keys whose values are times (`null` when there is none).
fn is_time_key(key: &str) -> bool {
    key == "at" || key.ends_with("_at") || ["reply_due", "accept_by", "close_by", "paperwork_due"].contains(&key)
}

/// Keys whose values are enumerations: snake_case words.
fn is_word_key(key: &str) -> bool {
    ["state", "kind", "source", "urgency", "feed"].contains(&key)
}

/// `YYYY-MM-DDTHH:MM:SS+08:00` (Asia/Shanghai, the demo registry's zone).
fn is_rfc3339_shanghai(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 25
        && s.ends_with("+08:00")
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s[..19].bytes().enumerate().all(|(i, c)| [4, 7, 10, 13, 16].contains(&i) || c.is_ascii_digit())
}

/// Walks a JSON value: no debug formatting in any string, times and words well formed, no
/// millisecond fields where SPEC wants times. Returns the problems found, each with its path.
fn plain_data_problems(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{path}/{key}");
                if key.ends_with("_ms") {
                    out.push(format!("{here}: a millisecond field (SPEC wants an RFC 3339 time)"));
                }
                if is_time_key(key) && !(value.is_null() || value.as_str().is_some_and(is_rfc3339_shanghai)) {
                    out.push(format!("{here}: not an RFC 3339 time with +08:00: {value}"));
                }
                if is_word_key(key) {
                    let word = value.as_str().unwrap_or_default();
                    if word.is_empty() || !word.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') {
                        out.push(format!("{here}: not a snake_case word: {value}"));
                    }
                }
                plain_data_problems(value, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                plain_data_problems(item, &format!("{path}/{i}"), out);
            }
        }
        Value::String(s) => {
            let debug = ["Some(", "Ok(", "Err(", " { ", "\\u{"].iter().any(|m| s.contains(m)) || s == "None";
            if debug {
                out.push(format!("{path}: debug formatting: {s:?}"));
            }
        }
        _ => {}
    }
}

fn assert_plain(d: &Daemon, what: &str, v: &Value) {
    let mut problems = Vec::new();
    plain_data_problems(v, "", &mut problems);
    if !problems.is_empty() {
        d.fail(&format!("{what} is not plain data:\n{}\n{v:#}", problems.join("\n")));
    }
}

/// Each key is present with a value of the given JSON type (`s` string, `n` integer, `b` bool,
/// `a` array, `o` object, `s?` string or null, `n?` integer or null).
fn assert_keys(d: &Daemon, what: &str, v: &Value, keys: &[(&str, &str)]) {
    for (key, ty) in keys {
        let value = v.get(*key);
        let ok = match (*ty, value) {
            (_, None) => false,
            ("s", Some(x)) => x.is_string(),
            ("n", Some(x)) => x.is_i64() || x.is_u64(),
            ("b", Some(x)) => x.is_boolean(),
            ("a", Some(x)) => x.is_array(),
            ("o", Some(x)) => x.is_object(),
            ("s?", Some(x)) => x.is_string() || x.is_null(),
            ("n?", Some(x)) => x.is_i64() || x.is_u64() || x.is_null(),
            (other, _) => panic!("unknown type {other}"),
        };
        if !ok {
            d.fail(&format!("{what}: `{key}` should be {ty}, is {value:?}:\n{v:#}"));
        }
    }
}

const ADMISSIONS: &str = "record_id,station_id,event,occurred_at,person_ref,name,id_number,referral,incident_type";

/// A daemon with a bit of everything: an unidentified arrival (tasks), an incident (an alert and
/// a case by the rules), an officer's case that was accepted, dispatched and paid.
fn busy_daemon(dir: &std::path::Path) -> (Daemon, String) {
    let d = Daemon::start_with_registry(dir, &registry());
    let known = id_number("110105", "19800101", 21, true);
    d.drop_file(
        "admissions",
        "day.csv",
        lf(&[
            ADMISSIONS.to_string(),
            format!("J-1,TZ-JZZ,admit,{},P-NN,无名氏,,police,", local_time_ago(3 * 3600)),
            format!("J-2,TZ-P01,admit,{},P-KN,张三,{known},self,", local_time_ago(2 * 3600)),
            format!("J-3,TZ-P01,incident,{},P-KN,,,,injury", local_time_ago(3600)),
        ]),
    );
    d.wait_until("tasks and the incident alert", |s| {
        s["tasks"]["open"].as_u64() >= Some(2) && s["alerts"]["by_kind"]["incident"] == 1
    });
    let opened =
        json_of(&d, &["case", "open", "--street", "ST-01", "--summary", "来访求助", "--name", "王五", "--json"]);
    let id = opened["id"].as_str().unwrap_or_else(|| d.fail(&format!("case open --json without id: {opened:#}")));
    let id = id.to_owned();
    d.mzd_ok(&["case", "act", &id, "accept"]);
    d.mzd_ok(&["case", "act", &id, "dispatch", "health", "--note", "请协助就医"]);
    d.mzd_ok(&["case", "act", &id, "pay", "300"]);
    (d, id)
}

#[test]
fn every_json_output_is_plain_data_with_the_spec_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, id) = busy_daemon(tmp.path());

    // SPEC §6.
    let status = json_of(&d, &["status", "--json"]);
    assert_plain(&d, "status --json", &status);
    let counts = [("version", "s"), ("healthy", "b"), ("files", "o"), ("records", "o"), ("rejected_rows", "o")];
    assert_keys(&d, "status", &status, &counts);
    let more = [("duplicate_rows", "o"), ("stations", "a"), ("sites", "a"), ("marriages_by_kind", "o")];
    assert_keys(&d, "status", &status, &more);
    assert_keys(&d, "status", &status, &[("cases", "o"), ("tasks", "o"), ("alerts", "o"), ("problems", "a")]);
    let files = [("ingested", "n"), ("quarantined", "n"), ("duplicates", "n"), ("in_progress", "n")];
    assert_keys(&d, "status files", &status["files"], &files);
    for feed_counts in ["records", "rejected_rows", "duplicate_rows"] {
        let feeds = [("admissions", "n"), ("burials", "n"), ("marriages", "n")];
        assert_keys(&d, feed_counts, &status[feed_counts], &feeds);
    }
    assert_keys(&d, "status station", &status["stations"][0], &[("id", "s"), ("beds", "n"), ("occupied", "n")]);
    for pair in ["cases", "tasks"] {
        assert_keys(&d, pair, &status[pair], &[("open", "n"), ("overdue", "n")]);
    }
    assert_keys(&d, "status alerts", &status["alerts"], &[("active", "n"), ("by_kind", "o")]);

    // SPEC §1: case list, show, open.
    let cases = array_of(&d, &["case", "list", "--json"]);
    assert!(cases.len() >= 2, "the officer's case and the incident's: {cases:#?}");
    for k in &cases {
        assert_plain(&d, "case list --json", k);
        let keys =
            [("id", "s"), ("state", "s"), ("street", "s"), ("opened_at", "s"), ("overdue", "b"), ("paid_fen", "n")];
        assert_keys(&d, "case list item", k, &keys);
    }
    let shown = json_of(&d, &["case", "show", &id, "--json"]);
    assert_plain(&d, "case show --json", &shown);
    assert_keys(&d, "case show", &shown, &[("id", "s"), ("version", "n"), ("history", "a"), ("departments", "a")]);
    assert_eq!((shown["state"].as_str(), shown["paid_fen"].as_i64()), (Some("aided"), Some(30_000)), "{shown:#}");
    for h in shown["history"].as_array().unwrap() {
        assert_keys(&d, "history entry", h, &[("at", "s"), ("user", "s"), ("action", "s"), ("detail", "s")]);
    }
    let actions: Vec<&str> =
        shown["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["open", "accept", "dispatch", "pay"], "{shown:#}");
    let department = &shown["departments"][0];
    let keys = [("id", "s"), ("dispatched_at", "s"), ("reply_due", "s"), ("replied_at", "s?"), ("reply", "s?")];
    assert_keys(&d, "department", department, &keys);

    // SPEC §7.
    let tasks = array_of(&d, &["task", "list", "--json"]);
    assert!(tasks.len() >= 2, "two identity tasks for the unidentified arrival: {tasks:#?}");
    let notice = tasks.iter().find(|t| t["kind"] == "family_notice").expect("a family notice task");
    let notice_id = notice["id"].as_str().unwrap().to_owned();
    d.mzd_ok(&["task", "done", &notice_id, "--note", "已发布寻亲公告"]);
    let tasks = array_of(&d, &["task", "list", "--json"]);
    for t in &tasks {
        assert_plain(&d, "task list --json", t);
        let keys = [("id", "s"), ("kind", "s"), ("station", "s"), ("person_ref", "s"), ("due_at", "s")];
        assert_keys(&d, "task", t, &keys);
        assert_keys(&d, "task", t, &[("state", "s"), ("overdue", "b"), ("done_at", "s?"), ("done_by", "s?")]);
    }
    let done = tasks.iter().find(|t| t["id"] == notice_id.as_str()).expect("the done task is listed");
    assert_eq!((done["state"].as_str(), done["done_by"].as_str()), (Some("done"), Some(current_user().as_str())));
    assert!(done["done_at"].is_string(), "{done:#}");

    // SPEC §1: funds.
    let funds = array_of(&d, &["fund", "list", "--json"]);
    assert!(!funds.is_empty());
    for f in &funds {
        assert_plain(&d, "fund list --json", f);
        let keys = [("street", "s"), ("name", "s"), ("initial_fen", "n"), ("paid_fen", "n"), ("pending_fen", "n")];
        assert_keys(&d, "fund", f, &keys);
        assert_keys(&d, "fund", f, &[("balance_fen", "n"), ("cases_open", "n")]);
    }
    let st01 = funds.iter().find(|f| f["street"] == "ST-01").expect("ST-01 listed");
    assert_eq!(st01["paid_fen"], 30_000, "{st01:#}");

    // SPEC §1: alerts, one of each state.
    d.mzd_ok(&["alert", "ack", "incident:J-3"]);
    let alerts = array_of(&d, &["alert", "list", "--json"]);
    let states: Vec<&str> = alerts.iter().filter_map(|a| a["state"].as_str()).collect();
    assert!(states.contains(&"acknowledged"), "{alerts:#?}");
    for a in &alerts {
        assert_plain(&d, "alert list --json", a);
        let keys = [("id", "s"), ("kind", "s"), ("state", "s"), ("raised_at", "s"), ("message", "s")];
        assert_keys(&d, "alert", a, &keys);
        assert!(["active", "acknowledged"].contains(&a["state"].as_str().unwrap()), "{a:#}");
    }

    // The audit check.
    let audit = json_of(&d, &["audit", "verify", "--json"]);
    assert_plain(&d, "audit verify --json", &audit);
    assert_keys(&d, "audit verify", &audit, &[("ok", "b")]);
    assert_eq!(audit["ok"], true, "{audit:#}");

    // Exports as JSONL: one plain object per line.
    for what in ["admissions", "cases"] {
        let text = d.mzd_ok(&["export", what, "--format", "jsonl"]);
        assert!(text.lines().count() >= 2, "{what}: {text}");
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| d.fail(&format!("{what}: {e}: {line}")));
            assert!(v.is_object(), "{what}: {line}");
            assert_plain(&d, &format!("export {what}"), &v);
        }
    }
}

#[test]
fn check_json_is_plain_data_and_names_each_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("admissions");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.csv");
    let text = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral,colour".to_string(),
        format!("C-1,TZ-P01,admit,{},P-1,police,red", local_time_ago(3600)),
        format!("C-2,NO-SUCH,admit,{},P-2,police,", local_time_ago(3600)),
        "C-3,TZ-P01,admit,not a time,P-3,police,".to_string(),
    ]);
    std::fs::write(&file, text).unwrap();
    let out = mz_tests::mzd().current_dir(tmp.path()).arg("check").arg(&file).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let mut problems = Vec::new();
    plain_data_problems(&report, "", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}\n{report:#}");
    for (key, check) in [
        ("file", Value::is_string as fn(&Value) -> bool),
        ("feed", Value::is_string),
        ("rows", Value::is_u64),
        ("valid", Value::is_u64),
        ("duplicates", Value::is_u64),
        ("unknown_columns", Value::is_array),
        ("problems", Value::is_array),
    ] {
        assert!(report.get(key).is_some_and(check), "`{key}`: {report:#}");
    }
    assert_eq!(
        (report["feed"].as_str(), report["rows"].as_u64(), report["valid"].as_u64()),
        (Some("admissions"), Some(3), Some(1))
    );
    assert_eq!(report["unknown_columns"], serde_json::json!(["colour"]), "{report:#}");
    let lines: Vec<u64> =
        report["problems"].as_array().unwrap().iter().filter_map(|p| p["line"].as_u64()).filter(|l| *l > 0).collect();
    assert_eq!(lines, [3, 4], "{report:#}");
    for p in report["problems"].as_array().unwrap() {
        assert!(p["reason_zh"].is_string() && p["reason_en"].is_string(), "{p:#}");
        assert!(p["column"].is_string() || p["column"].is_null(), "{p:#}");
        assert!(p["column_number"].is_u64() || p["column_number"].is_null(), "{p:#}");
    }
}

#[test]
fn status_json_without_a_daemon_says_unreachable_as_plain_data() {
    let tmp = tempfile::tempdir().unwrap();
    let socket = tmp.path().join("nobody.sock");
    let out = mz_tests::mzd().args(["status", "--json", "--socket"]).arg(&socket).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!((v["healthy"].as_bool(), v["reachable"].as_bool()), (Some(false), Some(false)), "{v:#}");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("nobody.sock")), "{v:#}");
}

#[test]
fn case_show_text_shows_the_clocks_and_money_its_json_has() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, id) = busy_daemon(tmp.path());
    let shown = json_of(&d, &["case", "show", &id, "--json"]);
    let text = d.mzd_ok(&["case", "show", &id]);
    let mut missing = Vec::new();
    let mut expect = |what: String, value: &Value| {
        if let Some(s) = value.as_str() {
            if !text.contains(s) {
                missing.push(format!("{what} = {s}"));
            }
        }
    };
    for key in ["opened_at", "accepted_at", "accept_by", "close_by", "paperwork_due", "closed_at", "opened_by"] {
        expect(key.to_owned(), &shown[key]);
    }
    for (i, dep) in shown["departments"].as_array().unwrap().iter().enumerate() {
        for key in ["id", "dispatched_at", "reply_due"] {
            expect(format!("departments/{i}/{key}"), &dep[key]);
        }
    }
    for (i, p) in shown["payments"].as_array().unwrap().iter().enumerate() {
        expect(format!("payments/{i}/at"), &p["at"]);
        expect(format!("payments/{i}/by"), &p["by"]);
    }
    for (i, h) in shown["history"].as_array().unwrap().iter().enumerate() {
        expect(format!("history/{i}/at"), &h["at"]);
    }
    assert!(missing.is_empty(), "`mzd case show` leaves out {missing:#?}\ntext:\n{text}\njson:\n{shown:#}");
    assert!(shown["paperwork_due"].is_string(), "a payment makes paperwork due: {shown:#}");
    assert!(text.contains("300.00"), "the payment in yuan: {text}");
}
