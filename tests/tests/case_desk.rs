//! The 救急难 case desk rules end to end (SPEC §1 `mzd case`, §4 `[auto_cases]`, `[[community]]`,
//! `limits.reply_within`, §5): which events open a case, one person one open case, department
//! replies and their deadlines, referral hand-off, reopening, communities, warnings before money
//! moves and what a payment says it did. Every test drives the real `mzd` over its socket as the
//! OS user running the tests, whose role the registry the test writes gives.

use mz_tests::{id_number, lf, local_time_ago, mzd, registry_as, Daemon};
use serde_json::Value;
use std::time::Duration;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn case_cmd(d: &Daemon, args: &[&str]) -> Run {
    let args: Vec<&str> = std::iter::once("case").chain(args.iter().copied()).collect();
    let out = d.mzd(&args);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn case_ok(d: &Daemon, args: &[&str]) -> Run {
    let r = case_cmd(d, args);
    if r.code != Some(0) {
        d.fail(&format!(
            "`mzd case {}` exited {:?}\nstdout: {}\nstderr: {}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        ));
    }
    r
}

fn refused(d: &Daemon, args: &[&str], needles: &[&str]) -> String {
    let r = case_cmd(d, args);
    let missing: Vec<&&str> = needles.iter().filter(|n| !r.stderr.contains(**n)).collect();
    if r.code != Some(1) || !missing.is_empty() {
        d.fail(&format!(
            "`mzd case {}`: expected exit 1 with {needles:?} on stderr, got {:?}\nstdout: {}\nstderr: {}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        ));
    }
    r.stderr
}

fn json(d: &Daemon, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| d.fail(&format!("no JSON ({e}):\n{text}")))
}

/// Opens a case and returns (its JSON, stderr).
fn open(d: &Daemon, street: &str, summary: &str, extra: &[&str]) -> (Value, String) {
    let mut args = vec!["open", "--street", street, "--summary", summary];
    args.extend_from_slice(extra);
    args.push("--json");
    let r = case_ok(d, &args);
    (json(d, &r.stdout), r.stderr)
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("case id").to_owned()
}

fn show(d: &Daemon, id: &str) -> Value {
    json(d, &case_ok(d, &["show", id, "--json"]).stdout)
}

fn list(d: &Daemon) -> Vec<Value> {
    match json(d, &case_ok(d, &["list", "--json"]).stdout) {
        Value::Array(a) => a,
        other => d.fail(&format!("case list --json is not an array: {other:#}")),
    }
}

fn act(d: &Daemon, id: &str, action: &[&str]) -> Run {
    let mut args = vec!["act", id];
    args.extend_from_slice(action);
    case_ok(d, &args)
}

fn act_refused(d: &Daemon, id: &str, action: &[&str], needles: &[&str]) -> String {
    let mut args = vec!["act", id];
    args.extend_from_slice(action);
    refused(d, &args, needles)
}

fn history(case: &Value) -> Vec<Value> {
    case["history"].as_array().cloned().unwrap_or_default()
}

fn actions(case: &Value) -> Vec<String> {
    history(case).iter().map(|h| h["action"].as_str().unwrap_or("?").to_owned()).collect()
}

fn with(base: &str, from: &str, to: &str) -> String {
    assert_eq!(base.matches(from).count(), 1, "expected one `{from}` in the registry");
    base.replacen(from, to, 1)
}

fn ago(mins: i64) -> String {
    local_time_ago(mins * 60)[..16].to_string()
}

const HEADER: &str =
    "record_id,station_id,event,occurred_at,person_ref,name,id_number,referral,flags,discharge_reason,incident_type";

/// Drops an admissions file and waits until `files` files are handled.
fn drop_rows(d: &Daemon, name: &str, rows: &[String], files: u64) -> Value {
    let mut lines = vec![HEADER.to_string()];
    lines.extend_from_slice(rows);
    d.drop_file("admissions", name, lf(&lines));
    let s = d.wait_files(files);
    d.expect(&s, &[("/rejected_rows/admissions", serde_json::json!(0))]);
    s
}

/// No raw codes or English fragments in a Chinese history detail.
fn assert_plain(d: &Daemon, case: &Value) {
    for h in history(case) {
        let zh = h["detail"].as_str().unwrap_or_default();
        for raw in ["_arrival", "severe_illness", "(cap", "requested by", "station_", "walk_in"] {
            if zh.contains(raw) {
                d.fail(&format!("history detail shows the raw `{raw}`: {h}"));
            }
        }
        if h["detail_en"].as_str().is_none_or(str::is_empty) {
            d.fail(&format!("history entry has no English detail: {h}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn auto_cases_follow_the_registry_defaults_and_overrides() {
    let tmp = tempfile::tempdir().unwrap();
    let base = registry_as("officer");
    let d = Daemon::start_with_registry(tmp.path(), &base);
    let adult = id_number("110105", "19800101", 11, true);
    let elderly = id_number("110105", "19500101", 12, false);
    let child = id_number("110105", "20150301", 13, true);
    drop_rows(
        &d,
        "a.csv",
        &[
            // Identified adult: nothing.
            format!("V-1,TZ-JZZ,admit,{},P-V1,张三,{adult},police,,,", ago(60)),
            // Elderly (aged 60+ by the ID number): a vulnerable adult, off by default.
            format!("V-2,TZ-JZZ,admit,{},P-V2,李奶奶,{elderly},police,,,", ago(60)),
            // Ill adult: a vulnerable adult.
            format!("V-3,TZ-JZZ,admit,{},P-V3,王五,{adult},self,ill,,", ago(60)),
            // Unidentified: off by default (station tasks instead).
            format!("V-4,TZ-JZZ,admit,{},P-V4,无名氏,,patrol,,,", ago(60)),
            // A minor by the ID number: mandatory report, high urgency.
            format!("V-5,TZ-JZZ,admit,{},P-V5,小明,{child},police,,,", ago(60)),
        ],
        1,
    );
    let cases = list(&d);
    assert_eq!(cases.len(), 1, "only the minor opens a case by default: {cases:#?}");
    let minor = show(&d, &id_of(&cases[0]));
    assert_eq!(minor["source_record"], "V-5", "{minor:#}");
    assert_eq!(minor["urgency"], "high", "{minor:#}");
    assert!(minor["summary"].as_str().unwrap().contains("强制报告"), "{minor:#}");
    assert!(minor["summary_en"].as_str().unwrap().contains("mandatory report"), "{minor:#}");
    assert_plain(&d, &minor);

    // The registry turns vulnerable adults on: later arrivals only.
    d.change_registry(&with(&base, "vulnerable_adult = false", "vulnerable_adult = true"));
    drop_rows(&d, "b.csv", &[format!("V-6,TZ-JZZ,admit,{},P-V6,赵六,{adult},self,disabled,,", ago(30))], 2);
    let cases = list(&d);
    assert_eq!(cases.len(), 2, "a vulnerable adult opens a case once turned on, earlier ones don't: {cases:#?}");
    let v = cases.iter().find(|c| c["source_record"] == "V-6").unwrap_or_else(|| d.fail("no case for V-6"));
    assert_eq!(v["source"], "vulnerable_arrival");
    assert_eq!(v["urgency"], "normal");

    // And incidents off: an incident opens nothing (the alert still comes).
    d.change_registry(&with(&base, "incident = true", "incident = false"));
    drop_rows(&d, "c.csv", &[format!("V-7,TZ-JZZ,incident,{},P-V1,,,,,,injury", ago(20))], 3);
    assert_eq!(list(&d).len(), 2, "incident = false still opened a case");
}

#[test]
fn one_person_one_open_case() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let adult = id_number("110105", "19800101", 21, true);
    let child = id_number("110105", "20140501", 22, false);
    drop_rows(
        &d,
        "a.csv",
        &[
            format!("O-1,TZ-JZZ,admit,{},P-O1,刘一,{adult},police,,,", ago(120)),
            format!("O-2,TZ-JZZ,incident,{},P-O1,,,,,,severe_illness", ago(110)),
            format!("O-3,TZ-JZZ,incident,{},P-O1,,,,,,death", ago(100)),
            format!("O-4,TZ-JZZ,discharge,{},P-O1,,,,,died,", ago(90)),
            // A minor admitted, discharged and admitted again while the case is open.
            format!("O-5,TZ-JZZ,admit,{},P-O5,陈二,{child},police,,,", ago(80)),
            format!("O-6,TZ-JZZ,discharge,{},P-O5,,,,,family,", ago(70)),
            format!("O-7,TZ-JZZ,admit,{},P-O5,陈二,{child},police,,,", ago(60)),
        ],
        1,
    );
    let cases = list(&d);
    assert_eq!(cases.len(), 2, "one case per person: {cases:#?}");
    let first = show(&d, &id_of(cases.iter().find(|c| c["source_record"] == "O-2").expect("incident case")));
    assert_eq!(actions(&first), ["open", "event"], "the death is added to the incident's case: {first:#}");
    let event = &history(&first)[1];
    assert!(event["detail"].as_str().unwrap().contains("死亡"), "{event}");
    assert!(event["detail_en"].as_str().unwrap().contains("died"), "{event}");
    assert_eq!(first["version"], 2);
    assert_plain(&d, &first);
    let minor = show(&d, &id_of(cases.iter().find(|c| c["source_record"] == "O-5").expect("minor case")));
    assert_eq!(actions(&minor), ["open", "event"], "the re-admission is added to the open case: {minor:#}");
    assert!(history(&minor)[1]["detail"].as_str().unwrap().contains("O-7"), "{minor:#}");

    // An officer opening a case for the same ID number: warned, recorded, opened anyway.
    let (new, stderr) = open(&d, "ST-01", "来访求助", &["--id-number", &child]);
    let minor_id = id_of(&minor);
    assert!(stderr.contains(&minor_id) && stderr.contains("warning"), "no warning naming {minor_id}: {stderr}");
    let new = show(&d, &id_of(&new));
    assert!(history(&new)[0]["detail"].as_str().unwrap().contains(&minor_id), "{new:#}");
    assert_eq!(list(&d).len(), 3);
    // A different person: no warning.
    let (_, stderr) = open(&d, "ST-01", "来访求助", &["--id-number", &id_number("110105", "19900101", 23, true)]);
    assert!(!stderr.contains("warning"), "{stderr}");

    // Across a restart the index is rebuilt: another incident is still added, not opened.
    let mut d = d;
    d.terminate();
    d.spawn();
    drop_rows(&d, "b.csv", &[format!("O-8,TZ-JZZ,incident,{},P-O5,,,,,,injury", ago(10))], 2);
    assert_eq!(list(&d).len(), 4, "after a restart a second case opened for the same person");
    assert_eq!(actions(&show(&d, &minor_id)), ["open", "event", "event"]);
}

#[test]
fn dispatched_departments_reply_or_go_overdue() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = with(&registry_as("officer"), "reply_within = \"48h\"", "reply_within = \"2s\"");
    let d = Daemon::start_with_registry(tmp.path(), &reg);
    let (c, _) = open(&d, "ST-01", "独居老人断炊", &[]);
    let id = id_of(&c);
    act_refused(&d, &id, &["reply", "police", "已处理"], &["尚未受理", "not accepted"]);
    act(&d, &id, &["accept"]);
    act(&d, &id, &["dispatch", "police"]);
    act(&d, &id, &["dispatch", "health", "--note", "请卫健协助就医"]);
    act(&d, &id, &["reply", "police", "已上门核实"]);
    act_refused(&d, &id, &["reply", "police", "再次答复"], &["已答复", "already replied"]);
    act_refused(&d, &id, &["reply", "housing", "无"], &["未分办", "not dispatched"]);
    std::thread::sleep(Duration::from_millis(2500));

    let k = show(&d, &id);
    let depts = k["departments"].as_array().expect("departments array");
    assert_eq!(depts.len(), 2, "{k:#}");
    let (police, health) = (&depts[0], &depts[1]);
    assert_eq!(police["id"], "police");
    assert_eq!(police["reply"], "已上门核实");
    assert!(police["replied_at"].is_string() && police["dispatched_at"].is_string(), "{police}");
    assert_eq!(health["id"], "health");
    assert!(health["replied_at"].is_null() && health["reply"].is_null() && health["reply_due"].is_string(), "{health}");
    assert_eq!(k["overdue"], true, "an unanswered department past its due makes the case overdue: {k:#}");
    assert_eq!(k["overdue_items"], serde_json::json!(["reply:health"]), "{k:#}");
    let reasons = serde_json::to_string(&k["overdue_reasons"]).unwrap();
    assert!(reasons.contains("卫健") && reasons.contains("逾期未答复"), "{reasons}");
    let s = d.wait_until("status counts the overdue case", |s| s["cases"]["overdue"] == 1);
    assert_eq!(s["cases"]["open"], 1);
    assert_eq!(actions(&k), ["open", "accept", "dispatch", "dispatch", "reply"]);
    assert_plain(&d, &k);
    let text = case_ok(&d, &["show", &id]).stdout;
    assert!(text.contains("department health") && text.contains("OVERDUE"), "{text}");
    assert!(text.contains("replied"), "{text}");

    // Once health replies the case is no longer overdue.
    act(&d, &id, &["reply", "health", "已安排就医"]);
    assert_eq!(show(&d, &id)["overdue"], false);
}

#[test]
fn referral_opens_a_linked_case_in_the_receiving_street() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let (c, _) = open(&d, "ST-01", "外地来京人员求助返乡", &["--urgency", "high"]);
    let id = id_of(&c);
    act(&d, &id, &["accept"]);
    let out = act(&d, &id, &["refer", "ST-02", "--note", "户籍在中仓街道"]).stdout;
    let old = show(&d, &id);
    assert_eq!(old["state"], "referred", "{old:#}");
    let new_id = old["referred_to"].as_str().unwrap_or_else(|| d.fail(&format!("no referred_to: {old:#}"))).to_owned();
    assert_ne!(new_id, id);
    assert!(out.contains(&new_id), "the CLI names the new case: {out}");
    assert!(history(&old).last().unwrap()["detail"].as_str().unwrap().contains(&new_id), "{old:#}");
    let new = show(&d, &new_id);
    assert_eq!(new["state"], "new", "{new:#}");
    assert_eq!(new["street"], "ST-02");
    assert_eq!(new["referred_from"], id.as_str());
    assert_eq!(new["urgency"], "high");
    assert_eq!(actions(&new), ["open"]);
    assert!(history(&new)[0]["detail"].as_str().unwrap().contains(&id), "{new:#}");
    assert_plain(&d, &old);
    // One audit entry per case change: open, accept, refer + the new case's open.
    let r = mzd().current_dir(&d.dir).args(["audit", "verify", "--socket"]).arg(&d.socket).output().unwrap();
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success() && text.contains("intact: 4 entries"), "audit verify: {text}");
    // The receiving street takes it on.
    act(&d, &new_id, &["accept"]);
}

#[test]
fn a_supervisor_reopens_a_closed_case_an_officer_may_not() {
    let tmp = tempfile::tempdir().unwrap();
    let base = registry_as("officer");
    let d = Daemon::start_with_registry(tmp.path(), &base);
    let (c, _) = open(&d, "ST-01", "临时困难", &[]);
    let id = id_of(&c);
    act_refused(&d, &id, &["reopen", "未办结"], &["已办结", "closed"]);
    act(&d, &id, &["accept"]);
    act(&d, &id, &["close", "已解决"]);
    act_refused(&d, &id, &["reopen", "当事人再次求助"], &["主管", "supervisor", "officer"]);
    assert_eq!(show(&d, &id)["state"], "closed");
    d.change_registry(&registry_as("supervisor"));
    act(&d, &id, &["reopen", "当事人再次求助"]);
    let k = show(&d, &id);
    assert_eq!(k["state"], "accepted", "{k:#}");
    let last = history(&k).last().cloned().unwrap();
    assert_eq!(last["action"], "reopen");
    assert!(last["detail"].as_str().unwrap().contains("当事人再次求助"), "{last}");
    act(&d, &id, &["close", "再次办结"]);
}

#[test]
fn communities_belong_to_the_case_street() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let (c, _) = open(&d, "ST-01", "网格员上报：独居老人", &["--source", "grid", "--community", "SQ-0101"]);
    assert_eq!(c["community"], "SQ-0101", "{c:#}");
    assert_eq!(c["community_name"], "北苑社区");
    assert!(history(&c)[0]["detail"].as_str().unwrap().contains("北苑社区"), "{c:#}");
    let listed = list(&d);
    assert_eq!(listed[0]["community"], "SQ-0101");
    refused(
        &d,
        &["open", "--street", "ST-02", "--summary", "x", "--source", "grid", "--community", "SQ-0101"],
        &["SQ-0101", "ST-01", "belongs to street"],
    );
    refused(
        &d,
        &["open", "--street", "ST-01", "--summary", "x", "--community", "SQ-9999"],
        &["SQ-9999", "[[community]]"],
    );
    assert_eq!(list(&d).len(), 1);
}

#[test]
fn warnings_before_money_and_plain_payment_words() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let person = id_number("110105", "19850101", 31, true);
    let (a, stderr) = open(&d, "ST-01", "钱包被盗", &["--id-number", &person]);
    assert!(!stderr.contains("warning"), "{stderr}");
    let a = id_of(&a);
    act(&d, &a, &["accept"]);
    let r = act(&d, &a, &["pay", "500"]);
    assert!(r.stdout.contains("paid ¥500.00") && r.stdout.contains("已支付"), "{}", r.stdout);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);

    // The same person on another street's case: a warning on stderr and in the history.
    let (b, stderr) = open(&d, "ST-02", "再次求助", &["--id-number", &person]);
    assert!(stderr.contains(&a), "duplicate-case warning names {a}: {stderr}");
    let b = id_of(&b);
    act(&d, &b, &["accept"]);
    let r = act(&d, &b, &["pay", "300"]);
    assert!(r.stderr.contains("warning") && r.stderr.contains(&a) && r.stderr.contains("30"), "{}", r.stderr);
    assert!(r.stdout.contains("paid ¥300.00"), "{}", r.stdout);
    let k = show(&d, &b);
    assert_eq!(k["paid_fen"], 30000, "the payment proceeds");
    let pay = history(&k).into_iter().find(|h| h["action"] == "pay").unwrap();
    assert!(pay["detail"].as_str().unwrap().contains(&a) && pay["detail"].as_str().unwrap().contains("重复"), "{pay}");

    // Above the cap: a request, never "paid".
    let r = act(&d, &b, &["pay", "8000"]);
    assert!(r.stdout.contains("request pending approval ¥8,000.00") && r.stdout.contains("¥5,000.00"), "{}", r.stdout);
    assert!(r.stdout.contains("已提交一事一议审批"), "{}", r.stdout);
    assert!(!r.stdout.contains("paid ¥") && !r.stdout.contains("已支付"), "{}", r.stdout);
    let k = show(&d, &b);
    assert_eq!(k["paid_fen"], 30000);
    assert_eq!(k["pending_fen"], 800000);
    assert_plain(&d, &k);
}
