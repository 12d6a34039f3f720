//! The audit trail's anchors and cross-checks end to end (SPEC §1 `mzd audit verify`,
//! `mzd backup`, §5, §6 `audit` in status): the real `mzd` acts on cases, the test stops it and
//! tampers with the sled store directly through the `mzd` library (as someone with write access
//! to the data folder could), restarts it, and `mzd audit verify` must say what is wrong.

use mz_shared::audit::{AuditAnchor, AuditEntry};
use mz_shared::case::{Case, HistoryEntry};
use mz_shared::registry::Fen;
use mz_tests::{mzd, registry_as, Daemon};
use mzd::state::Counters;
use mzd::store::{encode, keys, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Helpers.

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn show(&self) -> String {
        format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr)
    }
}

fn run(d: &Daemon, args: &[&str]) -> Run {
    let out = d.mzd(args);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(d: &Daemon, args: &[&str]) -> String {
    let r = run(d, args);
    if r.code != Some(0) {
        d.fail(&format!("`mzd {}` failed: {}", args.join(" "), r.show()));
    }
    r.stdout
}

/// `mzd audit verify EXTRA…`.
fn verify(d: &Daemon, extra: &[&str]) -> Run {
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    run(d, &args)
}

/// `mzd audit verify EXTRA…` that must exit 1 with every one of `needles` on stderr.
fn verify_fails(d: &Daemon, extra: &[&str], needles: &[&str]) -> Run {
    let r = verify(d, extra);
    let missing: Vec<&&str> = needles.iter().filter(|n| !r.stderr.contains(**n)).collect();
    if r.code != Some(1) || !missing.is_empty() {
        d.fail(&format!("`mzd audit verify {}`: expected exit 1 naming {missing:?}; {}", extra.join(" "), r.show()));
    }
    r
}

/// `mzd audit verify EXTRA…` that must exit 0; returns stdout.
fn verify_ok(d: &Daemon, extra: &[&str]) -> String {
    let r = verify(d, extra);
    if r.code != Some(0) || !r.stdout.contains("audit trail intact") {
        d.fail(&format!("`mzd audit verify {}`: expected exit 0; {}", extra.join(" "), r.show()));
    }
    r.stdout
}

/// Opens a case in ST-01 and returns its id.
fn open(d: &Daemon, summary: &str) -> String {
    let out = ok(d, &["case", "open", "--street", "ST-01", "--summary", summary, "--name", "王五", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| d.fail(&format!("case open --json: {e}: {out}")));
    v["id"].as_str().expect("case id").to_owned()
}

fn act(d: &Daemon, id: &str, action: &[&str]) {
    let mut args = vec!["case", "act", id];
    args.extend_from_slice(action);
    ok(d, &args);
}

/// The status once its audit anchor counts `n` entries (the status is published just after the
/// commit that answers an action).
fn status_at(d: &Daemon, n: u64) -> Value {
    d.wait_until(&format!("status shows {n} audit entries"), |s| s["audit"]["entries"] == n)
}

fn head_of(status: &Value) -> String {
    let head = status["audit"]["head"].as_str().unwrap_or_default().to_owned();
    assert!(head.len() == 64 && head.bytes().all(|b| b.is_ascii_hexdigit()), "status audit.head: {status:#}");
    head
}

/// `mzd backup DEST` (admin); returns the anchor file it wrote.
fn backup(d: &Daemon, dest: &Path) -> Value {
    let r = mzd().arg("backup").arg(dest).arg("--socket").arg(&d.socket).output().unwrap();
    assert!(r.status.success(), "backup failed: {r:?}");
    let text = std::fs::read_to_string(dest.join("audit-anchor.json")).expect("backup has audit-anchor.json");
    serde_json::from_str(&text).expect("audit-anchor.json is JSON")
}

/// Lines of the daemon log containing `what`.
fn log_lines(d: &Daemon, what: &str) -> Vec<String> {
    let text = std::fs::read_to_string(&d.log).unwrap_or_default();
    text.lines().filter(|l| l.contains(what)).map(str::to_owned).collect()
}

/// Opens the stopped daemon's store with the `mzd` library, lets `f` change it, commits.
fn tamper(d: &Daemon, f: impl FnOnce(&Store, &mut mzd::store::Batch)) {
    let mut store = Store::open(&d.data.join("store")).expect("opening the store (daemon stopped)");
    let mut batch = mzd::store::Batch::default();
    f(&store, &mut batch);
    store.commit(batch).expect("committing the tampering");
}

/// Every audit entry in the store, with the key of its chunk.
fn chunks(store: &Store) -> Vec<(sled::IVec, Vec<AuditEntry>)> {
    mzd::state::audit_chunks(&store.reader()).expect("audit chunks")
}

/// Removes the audit entries after the first `keep`.
fn truncate_trail(store: &Store, batch: &mut mzd::store::Batch, keep: u64) {
    for (key, mut entries) in chunks(store) {
        let before = entries.len();
        entries.retain(|e| e.seq <= keep);
        match entries.len() {
            0 => batch.remove(key),
            n if n < before => batch.insert(key, mzd::state::encode_audit_chunk(&entries)),
            _ => {}
        }
    }
}

/// Rewrites what the store records about its trail to match its first `keep` entries, as someone
/// covering a truncation would.
fn rewrite_figures(store: &Store, batch: &mut mzd::store::Batch, keep: u64) {
    let last = chunks(store).into_iter().flat_map(|(_, es)| es).find(|e| e.seq == keep);
    batch.insert(keys::state("audit", "anchor"), encode(&AuditAnchor::of(last.as_ref())));
    let mut counters: Counters = store.get(keys::COUNTERS).expect("counters").expect("counters stored");
    counters.next_audit = keep;
    batch.insert(keys::COUNTERS, encode(&counters));
}

fn read_case(store: &Store, id: &str) -> Case {
    let case = mzd::state::read_case(&store.reader(), id).expect("reading the case");
    case.unwrap_or_else(|| panic!("case {id} not stored"))
}

fn tmp_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ---------------------------------------------------------------------------------------------
// Tests.

/// The store's own anchor: removing the last entry is found, and the case whose history entry
/// lost its audit entry is named.
#[test]
fn a_truncated_tail_is_found_by_the_store_anchor() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_registry(tmp.path(), &registry_as("admin"));
    let id = open(&d, "夜间求助，无钱购药");
    act(&d, &id, &["accept"]);
    act(&d, &id, &["pay", "500"]);
    act(&d, &id, &["note", "已回访"]);
    let head = head_of(&status_at(&d, 4));
    let out = verify_ok(&d, &[]);
    assert!(out.contains("4 entries verified"), "{out}");
    assert!(out.contains("1 case(s) with 4 history entries and 1 payment(s)"), "verify says what it checked: {out}");
    d.terminate();

    // The anchor is logged at start-up and at shutdown, without personal data.
    let shutdown = log_lines(&d, "audit trail anchor at shutdown");
    assert!(shutdown.iter().any(|l| l.contains("entries=4") && l.contains(&head)), "{shutdown:?}");
    assert_eq!(log_lines(&d, "audit trail anchor at start-up").len(), 1);
    assert!(log_lines(&d, "audit trail anchor").iter().all(|l| !l.contains("王五")));

    tamper(&d, |store, batch| truncate_trail(store, batch, 3));
    d.spawn();
    assert!(!log_lines(&d, "does not end where the store recorded it").is_empty(), "start-up warns");
    let r = verify_fails(
        &d,
        &[],
        &[
            "the audit trail has 3 entries but the anchor kept in the store recorded 4",
            "the last 1 entries were removed",
            &format!("case {id}: history entry 4 (note) has no audit entry"),
            "末尾 1 条记录已被删除",
        ],
    );
    assert!(r.stdout.contains("FAILED"), "{}", r.show());
}

/// Anchors kept outside the store (a backup's `audit-anchor.json`, a saved status, a logged
/// count and head) find a truncation whose traces were removed from the store too.
#[test]
fn a_backup_or_status_anchor_finds_a_covered_truncation() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_registry(tmp.path(), &registry_as("admin"));
    let a = open(&d, "临时救助申请");
    act(&d, &a, &["accept"]);
    let b = open(&d, "流浪人员求助");
    act(&d, &b, &["accept"]);
    let status = status_at(&d, 4);
    let head = head_of(&status);
    let status_file = tmp_file(tmp.path(), "status.json", &status.to_string());
    let anchor = backup(&d, &tmp.path().join("backup"));
    assert_eq!(anchor["entries"], 4, "{anchor:#}");
    assert_eq!(anchor["head"], head.as_str(), "backup and status agree: {anchor:#}");
    assert!(anchor["at"].as_str().is_some_and(|s| s.len() >= 19), "{anchor:#}");
    let backup_anchor = tmp.path().join("backup/audit-anchor.json");
    let backup_arg = backup_anchor.to_str().unwrap();
    let status_arg = status_file.to_str().unwrap();
    verify_ok(&d, &["--anchor", backup_arg, "--anchor", status_arg, "--entries", "4", "--head", &head]);
    d.terminate();

    // Remove case B with its two entries, and make the store's figures agree.
    tamper(&d, |store, batch| {
        truncate_trail(store, batch, 2);
        rewrite_figures(store, batch, 2);
        mzd::state::write_cases_raw(&store.reader(), batch, Vec::new(), &[&b]).expect("removing case B");
    });
    d.spawn();
    // Inside the store nothing shows any more: only anchors kept elsewhere can.
    verify_ok(&d, &[]);
    let needles = [
        "the audit trail has 2 entries but the given anchor recorded 4: the last 2 entries were removed",
        &format!("(anchor: 4 entries, head {}…)", &head[..16]),
        "所给的审计锚点记录了 4 条",
    ];
    verify_fails(&d, &["--anchor", backup_arg], &needles);
    verify_fails(&d, &["--anchor", status_arg], &needles);
    verify_fails(&d, &["--entries", "4", "--head", &head], &needles);
    // An anchor whose head the trail never had is named as a rewrite, not as a removal.
    let small = tmp_file(tmp.path(), "small.json", &format!(r#"{{"entries": 2, "head": "{}"}}"#, "0".repeat(64)));
    let r = verify_fails(
        &d,
        &["--anchor", small.to_str().unwrap()],
        &["entry 2 of the audit trail does not have the hash"],
    );
    assert!(!r.stderr.contains("removed"), "{}", r.show());
}

/// A payment edited in a case record, or a history entry added to one, is named with the case.
#[test]
fn a_payment_or_history_entry_changed_in_a_case_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_registry(tmp.path(), &registry_as("admin"));
    let a = open(&d, "火灾后临时救助");
    act(&d, &a, &["accept"]);
    act(&d, &a, &["pay", "500", "--note", "先行救助"]);
    let b = open(&d, "突发疾病求助");
    act(&d, &b, &["accept"]);
    status_at(&d, 5);
    verify_ok(&d, &[]);
    d.terminate();

    tamper(&d, |store, batch| {
        let mut case_a = read_case(store, &a);
        case_a.payments[0].amount = Fen(5_000_000);
        let mut case_b = read_case(store, &b);
        let forged = HistoryEntry {
            at_ms: case_b.opened_at_ms + 1,
            user: "chief".into(),
            action: "note".into(),
            detail: "x".into(),
        };
        case_b.history.push(forged);
        case_b.version += 1;
        mzd::state::write_cases_raw(&store.reader(), batch, vec![case_a, case_b], &[]).expect("writing the cases");
    });
    d.spawn();
    verify_fails(
        &d,
        &[],
        &[
            &format!("case {a}: payment 1 (¥50,000.00 by"),
            &format!("case {a}: the payment recorded by audit entry 3 (pay) is not in the case"),
            &format!("case {b}: history entry 3 (note) has no audit entry"),
            &format!("案件 {a} 的第 1 笔支付"),
        ],
    );
    let r = verify(&d, &["--json"]);
    assert_eq!(r.code, Some(1), "{}", r.show());
    let report: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("--json: {e}: {}", r.show()));
    assert_eq!(report["ok"], false);
    assert_eq!(report["chain_break"], Value::Null, "the chain itself is intact: {report:#}");
    let named: Vec<&str> =
        report["case_problems"].as_array().unwrap().iter().map(|p| p["case_id"].as_str().unwrap()).collect();
    assert_eq!(named, [a.as_str(), a.as_str(), b.as_str()], "{report:#}");
}

/// An untouched store passes every check, against every anchor, across a restart.
#[test]
fn an_untouched_store_verifies_against_every_anchor() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_registry(tmp.path(), &registry_as("admin"));
    let id = open(&d, "外地务工人员返乡求助");
    act(&d, &id, &["accept"]);
    act(&d, &id, &["pay", "500"]);
    act(&d, &id, &["pay", "6000", "--note", "一事一议"]);
    act(&d, &id, &["approve", "--note", "同意"]);
    act(&d, &id, &["note", "已发放"]);
    let status = status_at(&d, 6);
    let head = head_of(&status);
    let status_file = tmp_file(tmp.path(), "status.json", &status.to_string());
    backup(&d, &tmp.path().join("backup"));
    act(&d, &id, &["note", "回访完成"]);
    status_at(&d, 7);
    let backup_anchor = tmp.path().join("backup/audit-anchor.json");
    let anchors = ["--anchor", backup_anchor.to_str().unwrap(), "--anchor", status_file.to_str().unwrap()];
    let mut args = anchors.to_vec();
    args.extend(["--entries", "6", "--head", &head]);
    let out = verify_ok(&d, &args);
    assert!(out.contains("7 entries verified") && out.contains("3 given anchor(s)"), "{out}");
    assert!(out.contains("1 case(s) with 7 history entries and 2 payment(s)"), "{out}");

    args.push("--json");
    let r = verify(&d, &args);
    assert_eq!(r.code, Some(0), "{}", r.show());
    let report: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("--json: {e}: {}", r.show()));
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["trail"]["entries"], 7);
    assert_eq!(report["anchors_checked"], 3);
    assert_eq!(report["cases"], serde_json::json!({"cases": 1, "history_entries": 7, "payments": 2}));
    assert_eq!(report["problems"], serde_json::json!([]));

    d.terminate();
    d.spawn();
    verify_ok(&d, &anchors);
    let startup = log_lines(&d, "audit trail anchor at start-up");
    assert!(startup.last().is_some_and(|l| l.contains("entries=7")), "{startup:?}");
    assert!(log_lines(&d, "does not end where the store recorded it").is_empty());
}
