//! The 救急难 case desk end to end (SPEC §1 `mzd case`, §4 registry, §5 cases, §6 `cases` in
//! status): every test drives the real `mzd` over its real socket, as the OS user running the
//! tests, whose role comes from the `[roles]` table of the registry the test writes.

use mz_tests::{current_user, lf, local_time_ago, masked, mzd, mzd_path, registry_as, Daemon, DEFAULT_TIMEOUT};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers.

/// `text` with `from` replaced by `to`, which must occur exactly once.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "expected exactly one `{from}` in the registry");
    text.replacen(from, to, 1)
}

/// The `street` of a `[[station]]` of the demo registry, read from its text.
fn station_street(registry: &str, station: &str) -> String {
    let start = registry.find(&format!("id = \"{station}\"")).unwrap_or_else(|| panic!("no station {station}"));
    let block = &registry[start..];
    let block = &block[..block.find("\n[").unwrap_or(block.len())];
    let line = block.lines().find(|l| l.trim_start().starts_with("street")).expect("station has a street");
    line.split('"').nth(1).expect("street = \"…\"").to_owned()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_output(out: Output) -> Run {
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `mzd case ARGS --socket …` as the current user.
fn case_cmd(d: &Daemon, args: &[&str]) -> Run {
    let out = d.mzd(&[&["case"][..], args].concat());
    run_output(out)
}

/// `mzd case ARGS` that must exit 0; returns stdout.
fn case_ok(d: &Daemon, args: &[&str]) -> String {
    let r = case_cmd(d, args);
    if r.code != Some(0) {
        d.fail(&format!(
            "`mzd case {}` exited with {:?}, expected 0\nstdout: {}\nstderr: {}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        ));
    }
    r.stdout
}

/// Asserts a refused command: exit 1, nothing on stdout, and a reason on stderr containing every
/// one of `needles`. Returns stderr.
fn assert_refused(d: &Daemon, what: &str, r: &Run, needles: &[&str]) -> String {
    let missing: Vec<&&str> = needles.iter().filter(|n| !r.stderr.contains(**n)).collect();
    if r.code != Some(1) || !missing.is_empty() || r.stderr.trim().is_empty() {
        d.fail(&format!(
            "{what}: expected exit 1 with a reason containing {needles:?} on stderr; got exit {:?}\nstdout: {}\nstderr: {}",
            r.code, r.stdout, r.stderr
        ));
    }
    r.stderr.clone()
}

/// `mzd case ARGS` that must be refused (see [`assert_refused`]).
fn case_refused(d: &Daemon, args: &[&str], needles: &[&str]) -> String {
    let r = case_cmd(d, args);
    assert_refused(d, &format!("`mzd case {}`", args.join(" ")), &r, needles)
}

fn parse_json(d: &Daemon, what: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| d.fail(&format!("{what} printed no JSON ({e}):\n{text}")))
}

/// `mzd case open --street ST --summary S EXTRA… --json`; returns the printed case.
fn open_case(d: &Daemon, street: &str, summary: &str, extra: &[&str]) -> Value {
    let mut args = vec!["open", "--street", street, "--summary", summary];
    args.extend_from_slice(extra);
    args.push("--json");
    let out = case_ok(d, &args);
    let v = parse_json(d, "mzd case open --json", &out);
    assert!(v["id"].as_str().is_some_and(|s| !s.is_empty()), "case open --json has no id: {v:#}");
    v
}

fn show(d: &Daemon, id: &str) -> Value {
    let out = case_ok(d, &["show", id, "--json"]);
    parse_json(d, "mzd case show --json", &out)
}

fn list(d: &Daemon) -> Vec<Value> {
    let out = case_ok(d, &["list", "--json"]);
    match parse_json(d, "mzd case list --json", &out) {
        Value::Array(a) => a,
        other => d.fail(&format!("case list --json is not an array: {other:#}")),
    }
}

/// `mzd case act ID ACTION…` that must succeed; checks the `ID: state (version N)` line and
/// returns the state.
fn act(d: &Daemon, id: &str, action: &[&str]) -> String {
    let mut args = vec!["act", id];
    args.extend_from_slice(action);
    let out = case_ok(d, &args);
    let line = out.lines().next().unwrap_or_default();
    let prefix = format!("{id}: ");
    if !line.starts_with(&prefix) || !line.contains("(version ") {
        d.fail(&format!("`mzd case act {id} {}` printed `{out}`", action.join(" ")));
    }
    line[prefix.len()..].split_whitespace().next().unwrap_or_default().to_owned()
}

fn act_refused(d: &Daemon, id: &str, action: &[&str], needles: &[&str]) -> String {
    let mut args = vec!["act", id];
    args.extend_from_slice(action);
    case_refused(d, &args, needles)
}

fn history(case: &Value) -> &Vec<Value> {
    case["history"].as_array().unwrap_or_else(|| panic!("case has no history array: {case:#}"))
}

fn actions(case: &Value) -> Vec<String> {
    history(case).iter().map(|h| h["action"].as_str().unwrap_or("?").to_owned()).collect()
}

/// Checks the fields every `case list --json` object must have (SPEC §1).
fn check_list_shape(d: &Daemon, cases: &[Value]) {
    for c in cases {
        let ok = c["id"].is_string()
            && c["state"].is_string()
            && c["street"].is_string()
            && c["opened_at"].is_string()
            && c["overdue"].is_boolean()
            && c["paid_fen"].is_i64();
        if !ok {
            d.fail(&format!("case list object lacks id/state/street/opened_at/overdue(bool)/paid_fen(int): {c:#}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A case from walk-in to closed.

#[test]
fn full_case_life_from_walk_in_to_closed() {
    let me = current_user();
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let full_id = "11010519491231002X"; // citizen_id_examples.csv
    let opened = open_case(
        &d,
        "ST-01",
        "来访求助：钱包被盗，无法返乡",
        &["--name", "张三", "--id-number", full_id, "--source", "walk-in"],
    );
    let id = opened["id"].as_str().unwrap().to_owned();
    let open_text = serde_json::to_string(&opened).unwrap();
    assert!(!open_text.contains(full_id), "case open --json shows the full ID number: {opened:#}");
    assert_eq!(opened["id_number"], masked(full_id), "{opened:#}");
    assert_eq!(opened["id_number"], "110105********002X");
    assert_eq!(opened["state"], "new", "{opened:#}");
    assert_eq!(opened["street"], "ST-01");
    assert_eq!(opened["source"], "walk_in");
    assert_eq!(opened["name"], "张三", "an officer sees names in full");
    assert_eq!(opened["paid_fen"], 0);

    assert_eq!(act(&d, &id, &["accept"]), "accepted");
    assert_eq!(act(&d, &id, &["dispatch", "police", "--note", "协助查找被盗钱包"]), "dispatched");
    assert_eq!(act(&d, &id, &["pay", "3000"]), "aided");
    let k = show(&d, &id);
    assert_eq!(k["state"], "aided");
    assert_eq!(k["paid_fen"], 300000, "{k:#}");
    assert_eq!(k["pending_fen"], Value::Null, "3000 is within the cap of 5000: nothing pending\n{k:#}");
    // Paperwork is missing: closing is refused.
    act_refused(&d, &id, &["close", "已返乡"], &["paperwork"]);
    assert_eq!(act(&d, &id, &["paperwork", "已核实身份，车票及餐费"]), "aided");
    assert_eq!(act(&d, &id, &["close", "已购票返乡，公安已立案"]), "closed");

    let k = show(&d, &id);
    assert!(!serde_json::to_string(&k).unwrap().contains(full_id), "case show shows the full ID number");
    assert_eq!(k["state"], "closed", "{k:#}");
    assert_eq!(k["paid_fen"], 300000);
    let depts = k["departments"].as_array().unwrap_or_else(|| panic!("departments is an array: {k:#}"));
    assert_eq!(depts.len(), 1, "{k:#}");
    assert_eq!(depts[0]["id"], "police", "{k:#}");
    assert!(depts[0]["dispatched_at"].is_string() && depts[0]["reply_due"].is_string(), "{k:#}");
    assert!(depts[0]["replied_at"].is_null() && depts[0]["reply"].is_null(), "{k:#}");
    assert_eq!(k["outcome"], "已购票返乡，公安已立案");
    assert_eq!(k["id_number"], "110105********002X");
    assert_eq!(actions(&k), ["open", "accept", "dispatch", "pay", "paperwork", "close"], "{k:#}");
    for h in history(&k) {
        assert_eq!(h["user"], me.as_str(), "every entry is by the user who acted: {h}");
        assert!(h["at"].is_string() && h.get("detail").is_some(), "history entry lacks at/detail: {h}");
    }
    assert_eq!(k["version"], 6, "version == history length: {k:#}");

    let all = list(&d);
    check_list_shape(&d, &all);
    assert_eq!(all.len(), 1, "{all:#?}");
    let l = &all[0];
    assert_eq!(l["id"], id.as_str());
    assert_eq!(l["state"], "closed");
    assert_eq!(l["street"], "ST-01");
    assert_eq!(l["overdue"], false);
    assert_eq!(l["paid_fen"], 300000);
    // --state filters.
    let closed = parse_json(&d, "case list --state closed", &case_ok(&d, &["list", "--state", "closed", "--json"]));
    assert_eq!(closed.as_array().map(Vec::len), Some(1));
    let new = parse_json(&d, "case list --state new", &case_ok(&d, &["list", "--state", "new", "--json"]));
    assert_eq!(new.as_array().map(Vec::len), Some(0));

    // A closed case is frozen: every further action is refused and changes nothing.
    for action in [
        &["accept"][..],
        &["dispatch", "health"],
        &["pay", "10"],
        &["note", "补充"],
        &["paperwork", "再补充"],
        &["close", "again"],
        &["refer", "ST-02"],
    ] {
        act_refused(&d, &id, action, &["已办结", "closed"]);
    }
    let after = show(&d, &id);
    assert_eq!(after["history"], k["history"], "refused actions changed the history");
    assert_eq!(after["version"], 6);

    // The export carries no full ID either.
    let export = d.export_raw("cases", "jsonl");
    assert!(!export.contains(full_id), "export cases shows the full ID number");
    assert!(export.contains("110105********002X"));
}

// ---------------------------------------------------------------------------------------------
// 2. Above the cap: a request, a supervisor's approval, paperwork.

#[test]
fn above_the_cap_needs_a_supervisor_then_paperwork() {
    let me = current_user();
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("supervisor"));
    let id = open_case(&d, "ST-01", "火灾后无处居住", &["--name", "李四", "--source", "hotline"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not accepted yet: no payment.
    act_refused(&d, &id, &["pay", "100"], &["受理", "accept"]);
    assert_eq!(act(&d, &id, &["accept"]), "accepted");

    // 6000 > cap 5000: recorded as a request, not paid, not refused.
    assert_eq!(act(&d, &id, &["pay", "6000", "--note", "一事一议"]), "accepted");
    let k = show(&d, &id);
    assert_eq!(k["state"], "accepted", "{k:#}");
    assert_eq!(k["paid_fen"], 0, "{k:#}");
    assert_eq!(k["pending_fen"], 600000, "{k:#}");
    assert_eq!(actions(&k), ["open", "accept", "pay_request"]);

    // While the request is pending: no close, no second payment.
    act_refused(&d, &id, &["close", "done"], &["待审批", "pending"]);
    act_refused(&d, &id, &["pay", "100"], &["待审批", "pending"]);

    // As an officer, approving is refused for the role.
    let officer = registry_as("officer");
    d.change_registry(&officer);
    act_refused(&d, &id, &["approve"], &["主管", "supervisor", "officer"]);
    act_refused(&d, &id, &["reject"], &["主管", "supervisor", "officer"]);
    let k = show(&d, &id);
    assert_eq!(k["pending_fen"], 600000, "a refused approval changed the request: {k:#}");
    assert_eq!(k["paid_fen"], 0);

    // As a supervisor (the requester may approve: the audit trail shows who).
    d.change_registry(&registry_as("supervisor"));
    assert_eq!(act(&d, &id, &["approve", "--note", "同意"]), "aided");
    let k = show(&d, &id);
    assert_eq!(k["state"], "aided", "{k:#}");
    assert_eq!(k["paid_fen"], 600000);
    assert_eq!(k["pending_fen"], Value::Null);
    let payments = k["payments"].as_array().expect("payments");
    assert_eq!(payments.len(), 1, "{k:#}");
    assert_eq!(payments[0]["amount_fen"], 600000);
    assert_eq!(payments[0]["by"], me.as_str());
    assert_eq!(payments[0]["approved_by"], me.as_str());
    act_refused(&d, &id, &["approve"], &["没有待审批", "no payment request"]);

    // Paperwork first, then close.
    act_refused(&d, &id, &["close", "已安置"], &["补充说明", "paperwork"]);
    assert_eq!(act(&d, &id, &["paperwork", "过渡安置租房押金及生活费"]), "aided");
    act_refused(&d, &id, &["paperwork", "again"], &["paperwork"]);
    assert_eq!(act(&d, &id, &["close", "已过渡安置"]), "closed");
    let k = show(&d, &id);
    assert_eq!(actions(&k), ["open", "accept", "pay_request", "approve", "paperwork", "close"], "{k:#}");
    assert!(history(&k).iter().all(|h| h["user"] == me.as_str()));
}

// ---------------------------------------------------------------------------------------------
// 3. A street's reserve fund runs out.

#[test]
fn the_reserve_fund_never_goes_negative() {
    let tmp = tempfile::tempdir().unwrap();
    let registry = replace_once(
        &registry_as("officer"),
        "id = \"ST-01\"\nname = \"北苑街道\"\nreserve_fund = 200000.00\ncase_cap = 5000.00",
        "id = \"ST-01\"\nname = \"北苑街道\"\nreserve_fund = 1000.00\ncase_cap = 5000.00",
    );
    let d = Daemon::start_with_registry(tmp.path(), &registry);
    let id = open_case(&d, "ST-01", "突发重病", &[])["id"].as_str().unwrap().to_owned();
    act(&d, &id, &["accept"]);
    assert_eq!(act(&d, &id, &["pay", "800"]), "aided");
    assert_eq!(show(&d, &id)["paid_fen"], 80000);
    let why = act_refused(&d, &id, &["pay", "300"], &["备用金", "reserve fund"]);
    assert!(why.contains("200"), "the reason should say what is left (200.00): {why}");
    assert_eq!(show(&d, &id)["paid_fen"], 80000, "a refused payment was paid");
    assert_eq!(act(&d, &id, &["pay", "200"]), "aided");
    assert_eq!(show(&d, &id)["paid_fen"], 100000);
    // The fund is empty: not even a fen, not on another case, not as a request above the cap.
    act_refused(&d, &id, &["pay", "0.01"], &["备用金", "reserve fund"]);
    let other = open_case(&d, "ST-01", "另一户", &[])["id"].as_str().unwrap().to_owned();
    act(&d, &other, &["accept"]);
    act_refused(&d, &other, &["pay", "1"], &["备用金", "reserve fund"]);
    act_refused(&d, &other, &["pay", "6000"], &["备用金", "reserve fund"]);
    // Another street's fund is untouched.
    let elsewhere = open_case(&d, "ST-02", "中仓街道来访", &[])["id"].as_str().unwrap().to_owned();
    act(&d, &elsewhere, &["accept"]);
    assert_eq!(act(&d, &elsewhere, &["pay", "800"]), "aided");

    let all = list(&d);
    let st01: i64 = all.iter().filter(|c| c["street"] == "ST-01").map(|c| c["paid_fen"].as_i64().unwrap()).sum();
    assert_eq!(st01, 100000, "ST-01 paid more than its fund of 1000.00: {all:#?}");
    let k = show(&d, &id);
    assert_eq!(actions(&k), ["open", "accept", "pay", "pay"], "refused payments are not in the history");
    assert_eq!(show(&d, &other)["paid_fen"], 0);
    assert_eq!(show(&d, &other)["pending_fen"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// 4. Two officers pay on the same case at the same moment.

#[test]
fn concurrent_payments_never_lose_an_update() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let id = open_case(&d, "ST-02", "并发测试", &[])["id"].as_str().unwrap().to_owned();
    act(&d, &id, &["accept"]);
    let pay = || {
        mzd()
            .current_dir(&d.dir)
            .args(["case", "act", &id, "pay", "100", "--socket"])
            .arg(&d.socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning mzd case act")
    };
    let (mut successes, mut stale) = (0u64, 0u64);
    for round in 1..=10 {
        let (a, b) = (pay(), pay());
        let runs = [run_output(a.wait_with_output().unwrap()), run_output(b.wait_with_output().unwrap())];
        for r in &runs {
            match r.code {
                Some(0) => successes += 1,
                Some(1) if r.stderr.contains("案件已被他人修改") && r.stderr.contains("the case changed") => stale += 1,
                _ => d.fail(&format!(
                    "round {round}: a concurrent `pay 100` neither succeeded nor was refused as stale: exit {:?}\nstdout: {}\nstderr: {}",
                    r.code, r.stdout, r.stderr
                )),
            }
        }
        let ok_this_round = runs.iter().filter(|r| r.code == Some(0)).count();
        assert!(ok_this_round >= 1, "round {round}: both payments refused: {:?}", runs.map(|r| r.stderr));
    }
    eprintln!("concurrent payments: {successes} applied, {stale} refused as stale");
    let k = show(&d, &id);
    assert_eq!(k["paid_fen"].as_u64(), Some(10000 * successes), "paid_fen vs successful commands: {k:#}");
    let pays = actions(&k).iter().filter(|a| *a == "pay").count() as u64;
    assert_eq!(pays, successes, "one `pay` history entry per success: {k:#}");
    assert_eq!(k["payments"].as_array().map(|p| p.len() as u64), Some(successes));
    assert_eq!(k["version"].as_u64(), Some(history(&k).len() as u64));
    assert_eq!(history(&k).len() as u64, 2 + successes);
    // The audit trail agrees.
    let out = mzd().args(["audit", "verify", "--socket"]).arg(&d.socket).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(verified_entries(&String::from_utf8_lossy(&out.stdout)), 2 + successes);
}

// ---------------------------------------------------------------------------------------------
// 5 + 6. Cases the daemon opens from the admissions feed, once per trigger; the audit trail.

fn hours_ago(h: i64) -> String {
    local_time_ago(h * 3600)[..16].to_string()
}

/// The number in `audit trail intact: N entries verified`.
fn verified_entries(stdout: &str) -> u64 {
    stdout
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .next()
        .unwrap_or_else(|| panic!("no entry count in `mzd audit verify` output: {stdout}"))
}

fn audit_verify(d: &Daemon) -> u64 {
    let out = mzd().current_dir(&d.dir).args(["audit", "verify", "--socket"]).arg(&d.socket).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.code() != Some(0) {
        d.fail(&format!("`mzd audit verify` exited with {:?}: {stdout}{stderr}", out.status.code()));
    }
    verified_entries(&stdout)
}

fn is_hex64(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// Checks the chain of `mzd export audit --format jsonl` line by line; returns the entries.
fn audit_chain(d: &Daemon) -> Vec<Value> {
    let entries = d.export("audit");
    let mut prev = "0".repeat(64);
    for (i, e) in entries.iter().enumerate() {
        if !is_hex64(&e["hash"]) || !is_hex64(&e["prev_hash"]) {
            d.fail(&format!("audit line {} lacks 64-hex hash/prev_hash: {e}", i + 1));
        }
        if e["seq"].as_u64() != Some(i as u64 + 1) {
            d.fail(&format!("audit line {} has seq {}, expected {}", i + 1, e["seq"], i + 1));
        }
        if e["prev_hash"] != prev.as_str() {
            d.fail(&format!(
                "audit line {}: prev_hash {} is not the previous line's hash {prev}",
                i + 1,
                e["prev_hash"]
            ));
        }
        prev = e["hash"].as_str().unwrap().to_owned();
    }
    let distinct: std::collections::BTreeSet<&str> = entries.iter().map(|e| e["hash"].as_str().unwrap()).collect();
    assert_eq!(distinct.len(), entries.len(), "repeated hashes in the audit trail");
    entries
}

#[test]
fn cases_opened_by_the_daemon_once_per_trigger_and_the_audit_trail() {
    let me = current_user();
    let tmp = tempfile::tempdir().unwrap();
    let demo = mz_tests::demo_registry();
    let street = station_street(demo, "TZ-JZZ");
    let mut d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let header =
        "record_id,station_id,event,occurred_at,person_ref,name,age,referral,flags,discharge_reason,incident_type";
    let adm = lf(&[
        header.to_string(),
        format!("AC-1,TZ-JZZ,admit,{},P-AC1,李四,,police,,,", hours_ago(6)),
        format!("AC-2,TZ-JZZ,incident,{},P-AC1,,,,,,injury", hours_ago(5)),
        format!("AC-3,TZ-JZZ,admit,{},P-AC3,王小明,12,police,minor,,", hours_ago(6)),
        format!("AC-4,TZ-JZZ,admit,{},P-AC4,无名氏,,patrol,,,", hours_ago(6)),
        format!("AC-5,TZ-JZZ,admit,{},P-AC5,赵五,,self,ill,,", hours_ago(6)),
        format!("AC-6,TZ-JZZ,discharge,{},P-AC5,,,,,died,", hours_ago(4)),
    ]);
    d.drop_file("admissions", "adm.csv", &adm);
    let s = d.wait_files(1);
    d.expect(
        &s,
        &[
            ("/files/ingested", serde_json::json!(1)),
            ("/records/admissions", serde_json::json!(6)),
            ("/rejected_rows/admissions", serde_json::json!(0)),
            // Visible by the time the file is counted (SPEC §6). By default (no `[auto_cases]`)
            // unidentified arrivals (AC-1, AC-4) and vulnerable adults (AC-5) open no case.
            ("/cases/open", serde_json::json!(3)),
        ],
    );
    let cases = list(&d);
    check_list_shape(&d, &cases);
    let by_source: BTreeMap<String, Value> =
        cases.iter().map(|c| (c["source"].as_str().unwrap_or("?").to_owned(), c.clone())).collect();
    assert_eq!(cases.len(), 3, "expected exactly 3 daemon-opened cases: {cases:#?}");
    let expected = [("station_incident", "AC-2"), ("vulnerable_arrival", "AC-3"), ("station_death", "AC-6")];
    for (source, record) in expected {
        let c = by_source.get(source).unwrap_or_else(|| d.fail(&format!("no case with source {source}: {cases:#?}")));
        assert_eq!(c["source_record"], record, "{source}: {c:#}");
        assert_eq!(c["street"], street.as_str(), "{source}: the station's street: {c:#}");
        assert_eq!(c["state"], "new", "{source}: {c:#}");
        assert_eq!(c["station"], "TZ-JZZ", "{source}: {c:#}");
        assert_eq!(c["opened_by"], "mzd", "{source}: opened by the daemon: {c:#}");
        // The identity clocks of an unidentified arrival are station tasks (SPEC §7), not case fields.
        assert!(c.get("family_notice_by").is_none() && c.get("dna_request_by").is_none(), "{source}: {c:#}");
    }

    // The same content under another name, and a file re-sending the incident row.
    d.drop_file("admissions", "adm-copy.csv", &adm);
    d.drop_file("admissions", "adm-again.csv", lf(&[header.to_string(), adm.lines().nth(2).unwrap().to_string()]));
    let s = d.wait_files(3);
    d.expect(
        &s,
        &[
            ("/files/ingested", serde_json::json!(2)),
            ("/files/duplicates", serde_json::json!(1)),
            ("/records/admissions", serde_json::json!(6)),
            ("/duplicate_rows/admissions", serde_json::json!(1)),
            ("/rejected_rows/admissions", serde_json::json!(0)),
            ("/cases/open", serde_json::json!(3)),
        ],
    );
    let again = list(&d);
    assert_eq!(again.len(), 3, "duplicates opened cases again: {again:#?}");

    // An officer's case with a few actions, so the trail holds more than `open` entries.
    let walk_in = open_case(&d, "ST-03", "网格员上报：独居老人断炊", &["--source", "grid", "--urgency", "high"]);
    let wid = walk_in["id"].as_str().unwrap().to_owned();
    act(&d, &wid, &["accept"]);
    act(&d, &wid, &["note", "已联系社区"]);
    act(&d, &wid, &["pay", "500"]);
    act(&d, by_source["station_incident"]["id"].as_str().unwrap(), &["accept"]);

    // 6. The audit trail: one entry per history entry of every case, chained.
    let all = list(&d);
    let mut expected_entries: Vec<(String, String, String)> = Vec::new();
    for c in &all {
        let id = c["id"].as_str().unwrap();
        for h in history(&show(&d, id)) {
            expected_entries.push((
                id.to_owned(),
                h["action"].as_str().unwrap().to_owned(),
                h["user"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let n = expected_entries.len() as u64;
    assert_eq!(n, 3 + 4 + 1, "history entries of all cases");
    assert_eq!(audit_verify(&d), n, "`mzd audit verify` counts every history entry");
    let entries = audit_chain(&d);
    assert_eq!(entries.len() as u64, n, "`mzd export audit --format jsonl` prints one line per entry");
    let mut got: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["case_id"].as_str().unwrap_or("").to_owned(),
                e["action"].as_str().unwrap_or("").to_owned(),
                e["user"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    got.sort();
    expected_entries.sort();
    assert_eq!(got, expected_entries, "audit entries vs case histories");
    assert!(entries.iter().any(|e| e["user"] == me.as_str() && e["action"] == "pay"));
    let raw_before = d.export_raw("audit", "jsonl");

    // Across a clean stop and restart: the same trail, still intact, nothing reopened.
    d.terminate();
    d.spawn();
    assert_eq!(audit_verify(&d), n, "audit verify after a restart");
    assert_eq!(d.export_raw("audit", "jsonl"), raw_before, "the audit trail changed across a restart");
    assert_eq!(list(&d).len(), 4, "cases after a restart");
    audit_chain(&d);
}

// ---------------------------------------------------------------------------------------------
// 7. Unknown users are viewers.

const VIEWER: &str = "mztest_viewer";

/// Removes the throwaway user when dropped (also when the test fails).
struct UserGuard;

impl Drop for UserGuard {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(VIEWER).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

fn which(prog: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `mzd ARGS --socket …` as the throwaway user.
fn as_viewer(d: &Daemon, args: &[&str]) -> Run {
    let out = Command::new("runuser")
        .args(["-u", VIEWER, "--"])
        .arg(mzd_path())
        .args(args)
        .arg("--socket")
        .arg(&d.socket)
        .current_dir("/")
        .env_remove("MZ_SOCKET")
        .stdin(Stdio::null())
        .output()
        .expect("running runuser");
    run_output(out)
}

#[test]
fn unknown_users_are_viewers_with_masked_names() {
    if !mz_tests::sys::is_root() {
        eprintln!("SKIPPED unknown_users_are_viewers_with_masked_names: not running as root (cannot create a user)");
        return;
    }
    for prog in ["useradd", "userdel", "runuser"] {
        if !which(prog) {
            eprintln!("SKIPPED unknown_users_are_viewers_with_masked_names: `{prog}` is not installed");
            return;
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let id = open_case(&d, "ST-01", "来访求助", &["--name", "张三丰", "--id-number", "11010519491231002X"])["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let _ = Command::new("userdel").arg(VIEWER).stdout(Stdio::null()).stderr(Stdio::null()).status();
    let _guard = UserGuard;
    let st = Command::new("useradd").args(["-M", "-N", "-r", VIEWER]).status().expect("running useradd");
    assert!(st.success(), "useradd -M -N -r {VIEWER} failed");
    // Let the user reach the socket: traverse the folders, connect to the socket.
    for dir in [tmp.path(), d.dir.as_path(), d.data.as_path()] {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(&d.socket, fs::Permissions::from_mode(0o666)).unwrap();
    assert_reachable(&d);

    let r = as_viewer(&d, &["case", "act", &id, "accept"]);
    assert_refused(&d, "accept as an unknown user", &r, &["查看员", "viewer"]);
    let r = as_viewer(&d, &["case", "act", &id, "note", "看一眼"]);
    assert_refused(&d, "note as an unknown user", &r, &["viewer"]);
    let r = as_viewer(&d, &["case", "open", "--street", "ST-01", "--summary", "x"]);
    assert_refused(&d, "open as an unknown user", &r, &["viewer"]);
    assert_eq!(show(&d, &id)["state"], "new", "a viewer's refused accept changed the case");
    assert_eq!(actions(&show(&d, &id)), ["open"]);

    let r = as_viewer(&d, &["case", "list", "--json"]);
    assert_eq!(r.code, Some(0), "case list as a viewer: {}", r.stderr);
    let cases: Value = parse_json(&d, "case list --json as a viewer", &r.stdout);
    let cases = cases.as_array().expect("array");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["name"], "张**", "names are masked for viewers: {:#}", cases[0]);
    assert!(!r.stdout.contains("张三丰") && !r.stdout.contains("11010519491231002X"), "{}", r.stdout);
    let r = as_viewer(&d, &["case", "show", &id, "--json"]);
    assert_eq!(r.code, Some(0), "case show as a viewer: {}", r.stderr);
    assert!(!r.stdout.contains("张三丰"), "case show shows a viewer the full name: {}", r.stdout);
    assert_eq!(parse_json(&d, "case show as a viewer", &r.stdout)["name"], "张**");
    // The officer still sees the name.
    assert_eq!(show(&d, &id)["name"], "张三丰");
}

fn assert_reachable(d: &Daemon) {
    let r = as_viewer(d, &["status", "--json"]);
    if r.code != Some(0) {
        d.fail(&format!("{VIEWER} cannot reach the daemon: exit {:?}: {}{}", r.code, r.stdout, r.stderr));
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Status counts open and overdue cases like the list does.

#[test]
fn status_counts_open_and_overdue_cases_like_the_list() {
    let tmp = tempfile::tempdir().unwrap();
    let registry = replace_once(&registry_as("officer"), "accept_within = \"30m\"", "accept_within = \"1s\"");
    let d = Daemon::start_with_registry(tmp.path(), &registry);
    let waiting = open_case(&d, "ST-01", "无人受理", &[])["id"].as_str().unwrap().to_owned();
    let taken = open_case(&d, "ST-01", "已受理", &[])["id"].as_str().unwrap().to_owned();
    let done = open_case(&d, "ST-02", "已办结", &[])["id"].as_str().unwrap().to_owned();
    act(&d, &taken, &["accept"]);
    act(&d, &done, &["accept"]);
    act(&d, &done, &["close", "当场解决"]);
    std::thread::sleep(Duration::from_millis(2200));

    let cases = list(&d);
    check_list_shape(&d, &cases);
    let overdue: Vec<&str> = cases.iter().filter(|c| c["overdue"] == true).map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(overdue, [waiting.as_str()], "only the unaccepted case is overdue: {cases:#?}");
    let open = cases.iter().filter(|c| c["state"] != "closed" && c["state"] != "referred").count();
    assert_eq!(open, 2);
    let w = show(&d, &waiting);
    assert_eq!(w["overdue_items"], serde_json::json!(["accept"]), "{w:#}");
    // The daemon republishes its figures at least once a second.
    let s = d.wait_until_for(Duration::from_secs(5), "status shows 2 open cases, 1 overdue", |s| {
        s["cases"]["open"] == 2 && s["cases"]["overdue"] == 1
    });
    d.expect(&s, &[("/cases/open", serde_json::json!(2)), ("/cases/overdue", serde_json::json!(1))]);

    // Accepting it: no longer overdue, in the list and in status.
    act(&d, &waiting, &["accept"]);
    assert!(list(&d).iter().all(|c| c["overdue"] == false));
    d.wait_until_for(Duration::from_secs(5), "status shows 2 open cases, 0 overdue", |s| {
        s["cases"]["open"] == 2 && s["cases"]["overdue"] == 0
    });
}

// ---------------------------------------------------------------------------------------------
// Refusal codes on the socket.

/// Sends `request` on a fresh connection of the real socket (hello first) and returns the
/// daemon's one answer as JSON.
fn ask(d: &Daemon, request: mz_shared::protocol::Request) -> Value {
    use mz_shared::protocol::{ClientMessage, PROTOCOL_VERSION};
    use std::io::{BufRead as _, BufReader, Write as _};
    let s = std::os::unix::net::UnixStream::connect(&d.socket).unwrap_or_else(|e| d.fail(&format!("connect: {e}")));
    s.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    let mut writer = s.try_clone().unwrap();
    let mut reader = BufReader::new(s);
    let mut read = || {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap_or_else(|e| d.fail(&format!("reading an answer: {e}")));
        serde_json::from_str::<Value>(&line).unwrap_or_else(|e| d.fail(&format!("not JSON ({e}): {line:?}")))
    };
    for msg in
        [ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: "cases".into() }, ClientMessage::Request(request)]
    {
        let mut line = serde_json::to_vec(&msg).unwrap();
        line.push(b'\n');
        writer.write_all(&line).unwrap();
    }
    let welcome = read();
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    read()
}

/// Asserts `answer` is a refusal with `code` and a reason in both languages; returns the English.
fn refused_with(d: &Daemon, what: &str, answer: &Value, code: &str) -> String {
    let zh = answer["reason"]["zh"].as_str().unwrap_or_default();
    let en = answer["reason"]["en"].as_str().unwrap_or_default();
    if answer["type"] != "error" || answer["code"] != code || zh.is_empty() || en.is_empty() {
        d.fail(&format!("{what}: expected a refusal with code {code:?}, got {answer}"));
    }
    en.to_owned()
}

fn case_act(id: &str, action: mz_shared::case::Action, expected_version: u64) -> mz_shared::protocol::Request {
    mz_shared::protocol::Request::CaseAct { id: id.to_owned(), action, expected_version }
}

#[test]
fn the_engines_refusals_say_what_kind_they_are() {
    use mz_shared::case::Action;
    use mz_shared::protocol::Request;
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));

    // An unknown case: not_found on the socket; `mzd case act` exits 1 with the reason as before.
    let en = refused_with(
        &d,
        "act on an unknown case",
        &ask(&d, case_act("JJN-2020-999999", Action::Accept, 1)),
        "not_found",
    );
    assert!(en.contains("JJN-2020-999999"), "{en}");
    let unknown = ask(&d, Request::CaseShow { id: "JJN-2020-999999".into() });
    refused_with(&d, "show an unknown case", &unknown, "not_found");
    act_refused(&d, "JJN-2020-999999", &["accept"], &["JJN-2020-999999"]);

    // An action the case's state does not allow, and a stale version: conflict.
    let id = open_case(&d, "ST-01", "来访求助", &[])["id"].as_str().unwrap().to_owned();
    assert_eq!(act(&d, &id, &["accept"]), "accepted");
    let version = show(&d, &id)["version"].as_u64().expect("case show --json has a version");
    let again = ask(&d, case_act(&id, Action::Accept, version));
    refused_with(&d, "accept an accepted case", &again, "conflict");
    let stale = ask(&d, case_act(&id, Action::Note { text: "补充".into() }, version - 1));
    let en = refused_with(&d, "act at a stale version", &stale, "conflict");
    assert!(en.contains("changed"), "{en}");
    assert_eq!(show(&d, &id)["version"].as_u64(), Some(version), "a refused action changes nothing");
    // A rule that says no is still `rejected`: a note without text.
    let empty = ask(&d, case_act(&id, Action::Note { text: " ".into() }, version));
    refused_with(&d, "an empty note", &empty, "rejected");

    // A task done twice, and an unknown task.
    let header = "record_id,station_id,event,occurred_at,person_ref,name,id_number,referral,discharge_reason";
    d.drop_file(
        "admissions",
        "unknown.csv",
        lf(&[header.to_string(), format!("R-1,TZ-JZZ,admit,{},P-1,无名氏,,police,", local_time_ago(3600))]),
    );
    d.wait_files(1);
    let task = "TZ-JZZ/P-1/family_notice";
    let done = |note: &str| ask(&d, Request::TaskDone { id: task.into(), note: Some(note.into()) });
    let first = done("已发布寻亲公告");
    assert_eq!(first["type"], "task", "the first completion is applied: {first}");
    refused_with(&d, "a task done twice", &done("再次"), "conflict");
    let unknown = ask(&d, Request::TaskDone { id: "TZ-JZZ/none/family_notice".into(), note: None });
    refused_with(&d, "an unknown task", &unknown, "not_found");
}
