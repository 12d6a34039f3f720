//! End-to-end test of the console's case desk (view 7): the real `mzd` (the current OS user is
//! a supervisor in its registry) and the real `mzc` (target/debug) in a detached tmux session,
//! read back with `tmux capture-pane`. A case is opened through the form, accepted, paid above
//! the cap (a request), approved, and `mzd case show ID --json` confirms the history. With 300
//! cases, more than the console holds at once, End pages to the daemon's last case and Home
//! back, the title counting them all. Needs tmux; without it the test says so and passes.
//!
//! Build first: `cargo build --workspace && cargo test -p mz-tests --test console_cases_tmux`.

use mz_tests::tmux::{tmux_available, Tmux};
use mz_tests::{current_user, registry_as, Daemon};
use serde_json::Value;

/// `mzd case ARGS --socket S`, which must exit 0; stdout.
fn case_ok(d: &Daemon, args: &[&str]) -> String {
    let out = d.mzd(&[&["case"][..], args].concat());
    assert!(
        out.status.success(),
        "`mzd case {}` failed: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr),
        d.log_tail(30)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Dismisses the daemon's answer (a popup whose footer is `Enter / Esc`) and waits for it to go.
fn dismiss(t: &Tmux) {
    t.keys(&["Escape"]);
    t.wait_gone("Enter / Esc");
}

#[test]
fn open_accept_pay_above_cap_and_approve_from_the_console() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("supervisor"));
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[已连接]", "(主管)"]);
    t.keys(&["7"]);
    t.wait_for(&["[7 救急难]", "无在办案件", "A 审批"]);

    // Open a case through the form: street (first choice, 北苑街道), summary, name, source.
    t.keys(&["o"]);
    t.wait_for(&["登记新案件", "情况摘要"]);
    t.keys(&["Tab"]);
    t.type_text("突发重病无力就医");
    t.keys(&["Tab"]);
    t.type_text("王建国");
    t.keys(&["Tab", "Tab", "Right"]);
    t.wait_for(&["12345热线"]);
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "登记新案件，由北苑街道办理"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", "登记新案件: JJN-"]);
    dismiss(&t);
    let list: Value = serde_json::from_str(&case_ok(&d, &["list", "--json"])).unwrap();
    let cases = list.as_array().expect("case list is an array");
    assert_eq!(cases.len(), 1, "{list}");
    let id = cases[0]["id"].as_str().unwrap().to_string();
    t.wait_for(&[&id, "待受理", "受理剩"]);

    // Accept.
    t.keys(&["a"]);
    t.wait_for(&["请确认", &format!("受理案件 {id}")]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", &format!("受理: {id} 已受理")]);
    dismiss(&t);
    t.wait_for(&[&id, "已受理", "办结剩"]);

    // Pay above the cap (¥5,000 for 北苑街道): the confirmation says it becomes a request.
    t.keys(&["p"]);
    t.wait_for(&["拨付救助金", "金额(元)"]);
    t.type_text("8000");
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "超过单案上限 ¥5,000", "¥8,000"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", &format!("拨付救助金: {id} 已受理"), "待主管审批"]);
    dismiss(&t);
    t.wait_for(&[&id, "已受理/待批"]);

    // Approve it (the current user is a supervisor): the state text changes in the queue.
    t.keys(&["A"]);
    t.wait_for(&["审批通过", "备注(可空)"]);
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "超额拨付申请 ¥8,000"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", &format!("审批通过: {id} 已先行救助")]);
    dismiss(&t);
    let screen = t.wait_for(&[&id, "已先行救助", "¥8,000"]);
    assert!(!screen.contains("/待批"), "the request is gone:\n{screen}");

    // The detail pane shows the history.
    t.keys(&["Enter"]);
    t.wait_for(&["案件详情", "历史 (4)", "申请超额拨付", "审批通过"]);
    t.keys(&["Escape"]);
    t.wait_gone("案件详情");

    // The daemon recorded every step, by this user.
    let shown: Value = serde_json::from_str(&case_ok(&d, &["show", &id, "--json"])).unwrap();
    let actions: Vec<&str> =
        shown["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["open", "accept", "pay_request", "approve"], "{shown}");
    let user = current_user();
    assert!(shown["history"].as_array().unwrap().iter().all(|h| h["user"] == user.as_str()), "{shown}");
    assert_eq!(shown["state"], "aided");
    assert_eq!(shown["paid_fen"], 800_000);
    assert_eq!(shown["source"], "hotline");

    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}

#[test]
fn department_reply_states_in_the_case_detail_and_a_reply_from_the_console() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let id = case_ok(&d, &["open", "--street", "ST-01", "--summary", "独居老人断炊", "--community", "SQ-0101"])
        .trim()
        .to_string();
    case_ok(&d, &["act", &id, "accept"]);
    case_ok(&d, &["act", &id, "dispatch", "police"]);
    case_ok(&d, &["act", &id, "dispatch", "health"]);
    case_ok(&d, &["act", &id, "reply", "police", "已上门核实"]);

    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[已连接]", "(值班员)"]);
    t.keys(&["7"]);
    t.wait_for(&["[7 救急难]", &id, "y 答复"]);
    t.keys(&["Enter"]);
    t.wait_for(&["案件详情", "北苑社区", "公安 (police)", "[已答复", "已上门核实", "卫健 (health)", "[待答复, 剩"]);
    t.keys(&["Escape"]);
    t.wait_gone("案件详情");

    // The health department's reply, recorded from the console: only health is offered.
    t.keys(&["y"]);
    t.wait_for(&["登记部门答复", "卫健 (health)", "答复内容"]);
    t.keys(&["Tab"]);
    t.type_text("已安排就医");
    t.keys(&["Enter"]);
    t.wait_for(&["请确认", "登记 卫健（health）对案件"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Enter / Esc", &format!("登记部门答复: {id}")]);
    dismiss(&t);
    t.keys(&["Enter"]);
    let screen = t.wait_for(&["案件详情", "已安排就医"]);
    assert!(!screen.contains("待答复"), "every department has replied:\n{screen}");
    t.keys(&["Escape"]);
    t.wait_gone("案件详情");

    let shown: Value = serde_json::from_str(&case_ok(&d, &["show", &id, "--json"])).unwrap();
    let health = &shown["departments"][1];
    assert_eq!(health["id"], "health", "{shown}");
    assert_eq!(health["reply"], "已安排就医", "{shown}");
    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}

/// The id of the case at queue position `pos` of the open view, as the daemon pages it.
fn case_at(d: &Daemon, pos: u64) -> String {
    use mz_shared::protocol::{ClientMessage, Request, ServerMessage, PROTOCOL_VERSION};
    use std::io::{BufRead, BufReader, Write};
    let s = std::os::unix::net::UnixStream::connect(&d.socket).expect("connect");
    s.set_read_timeout(Some(mz_tests::DEFAULT_TIMEOUT)).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let view = mz_shared::dashboard::CaseQueueView::Open;
    for msg in [
        ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: "console_cases_tmux".into() },
        ClientMessage::Request(Request::CasePage { view, offset: pos, limit: 1 }),
    ] {
        w.write_all(format!("{}\n", serde_json::to_string(&msg).unwrap()).as_bytes()).unwrap();
    }
    let mut line = String::new();
    for _ in 0..2 {
        line.clear();
        r.read_line(&mut line).unwrap();
    }
    match serde_json::from_str(&line) {
        Ok(ServerMessage::CasePage(p)) if p.cases.len() == 1 => p.cases[0].id.to_string(),
        other => d.fail(&format!("case page at {pos}: {other:?}")),
    }
}

#[test]
fn the_queue_pages_to_its_last_case_with_end_and_back_with_home() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    const CASES: usize = 300;
    let tmp = tempfile::tempdir().unwrap();
    let registry = registry_as("officer").replace("unidentified = false", "unidentified = true");
    let d = Daemon::start_with_registry(tmp.path(), &registry);
    let mut rows = String::from("record_id,station_id,event,occurred_at,person_ref,name,id_number,gender,age,origin,referral,flags,bed,discharge_reason,incident_type,note\n");
    for n in 1..=CASES {
        let at = mz_tests::local_time_ago(3 * 3600 - n as i64);
        rows.push_str(&format!("P{n},TZ-JZZ,admit,{at},Q{n},无名氏,,,,,police,,,,,\n"));
    }
    d.drop_file("admissions", "arrivals.csv", rows);
    d.wait_until("a case per arrival", |s| s["cases"]["open"].as_u64() == Some(CASES as u64));
    let (first, last) = (case_at(&d, 0), case_at(&d, CASES as u64 - 1));
    let log = tmp.path().join("mzc.log");
    let t = Tmux::start_mzc(tmp.path(), &["--socket", d.socket.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    t.wait_for(&["[已连接]"]);
    t.keys(&["7"]);
    // The title counts every open case and where the selection stands among them.
    t.wait_for(&["在办个案 300", "1/300", &first]);
    t.keys(&["End"]);
    let screen = t.wait_for(&["300/300", &last]);
    assert!(!screen.contains(&first), "the first page is gone:\n{screen}");
    t.keys(&["Home"]);
    t.wait_for(&["1/300", &first]);
    t.keys(&["q"]);
    t.wait_for(&["MZC-EXIT=0"]);
}
