//! Reserve funds (`mzd fund list`, SPEC §1/§4/§5), the divorce cooling-off windows (SPEC §3,
//! 民法典 1077), over-capacity after beds are lowered on a registry reload, and the counselling
//! rate (marriages only), all through the real `mzd` binaries.

use mz_tests::{demo_registry, mzd, registry_as, Daemon};
use serde_json::Value;
use std::process::Stdio;

/// `mzd ARGS --socket …`; fails the test unless it exits 0. Returns stdout.
fn mzd_ok(d: &Daemon, args: &[&str]) -> String {
    let out = mzd()
        .current_dir(&d.dir)
        .args(args)
        .arg("--socket")
        .arg(&d.socket)
        .stdin(Stdio::null())
        .output()
        .expect("running mzd");
    if !out.status.success() {
        d.fail(&format!(
            "`mzd {}` exited with {:?}\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(d: &Daemon, args: &[&str]) -> Value {
    let text = mzd_ok(d, args);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| d.fail(&format!("`mzd {}` printed no JSON ({e}):\n{text}", args.join(" "))))
}

fn open_case(d: &Daemon, street: &str) -> String {
    let v = json(d, &["case", "open", "--street", street, "--summary", "火灾后无处居住", "--json"]);
    v["id"].as_str().unwrap_or_else(|| d.fail(&format!("no id: {v}"))).to_owned()
}

fn act(d: &Daemon, id: &str, action: &[&str]) {
    let mut args = vec!["case", "act", id];
    args.extend_from_slice(action);
    mzd_ok(d, &args);
}

fn fund<'a>(d: &Daemon, list: &'a Value, street: &str) -> &'a Value {
    list.as_array()
        .and_then(|a| a.iter().find(|f| f["street"] == street))
        .unwrap_or_else(|| d.fail(&format!("no fund for {street} in {list:#}")))
}

fn expect_fund(d: &Daemon, street: &str, expected: [(&str, i64); 5]) -> Value {
    let list = json(d, &["fund", "list", "--json"]);
    let f = fund(d, &list, street);
    for (key, want) in expected {
        if f[key].as_i64() != Some(want) {
            d.fail(&format!("fund {street}: `{key}` is {}, expected {want}: {f:#}", f[key]));
        }
    }
    list
}

#[test]
fn fund_list_counts_payments_pending_requests_and_open_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_registry(tmp.path(), &registry_as("supervisor"));
    // Nothing yet: every street of the registry, the allotment untouched.
    let list = expect_fund(
        &d,
        "ST-01",
        [
            ("initial_fen", 20_000_000),
            ("paid_fen", 0),
            ("pending_fen", 0),
            ("balance_fen", 20_000_000),
            ("cases_open", 0),
        ],
    );
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(demo_registry().lines().filter(|l| l.trim() == "[[street]]").count()),
        "{list:#}"
    );
    assert_eq!(fund(&d, &list, "ST-01")["name"], "北苑街道");

    let (a, b, c) = (open_case(&d, "ST-01"), open_case(&d, "ST-01"), open_case(&d, "ST-01"));
    let other = open_case(&d, "ST-02");
    for id in [&a, &b, &c] {
        act(&d, id, &["accept"]);
    }
    act(&d, &a, &["pay", "3000"]);
    act(&d, &b, &["pay", "1500.50"]);
    act(&d, &c, &["pay", "6000", "--note", "一事一议"]); // above the 5000 cap: a request
    let paid = 300_000 + 150_050;
    let after = [
        ("initial_fen", 20_000_000),
        ("paid_fen", paid),
        ("pending_fen", 600_000),
        ("balance_fen", 20_000_000 - paid),
        ("cases_open", 3),
    ];
    expect_fund(&d, "ST-01", after);
    expect_fund(
        &d,
        "ST-02",
        [
            ("initial_fen", 20_000_000),
            ("paid_fen", 0),
            ("pending_fen", 0),
            ("balance_fen", 20_000_000),
            ("cases_open", 1),
        ],
    );

    // The human table: Chinese headers, yuan amounts.
    let table = mzd_ok(&d, &["fund", "list"]);
    for needle in ["街道", "待审批", "余额", "北苑街道", "¥200,000.00", "¥4,500.50", "¥6,000.00", "¥195,499.50"]
    {
        assert!(table.contains(needle), "`{needle}` missing from:\n{table}");
    }
    let en = mzd_ok(&d, &["fund", "list", "--lang", "en"]);
    assert!(en.contains("pending") && en.contains("balance"), "{en}");

    // The figures are rebuilt the same at start-up.
    d.terminate();
    d.spawn();
    expect_fund(&d, "ST-01", after);

    // Approval moves the request into paid; closing a case leaves the open count.
    act(&d, &c, &["approve"]);
    act(&d, &other, &["accept"]);
    act(&d, &other, &["close", "已解决"]);
    expect_fund(
        &d,
        "ST-01",
        [
            ("paid_fen", paid + 600_000),
            ("pending_fen", 0),
            ("balance_fen", 20_000_000 - paid - 600_000),
            ("cases_open", 3),
            ("initial_fen", 20_000_000),
        ],
    );
    expect_fund(
        &d,
        "ST-02",
        [
            ("cases_open", 0),
            ("paid_fen", 0),
            ("pending_fen", 0),
            ("balance_fen", 20_000_000),
            ("initial_fen", 20_000_000),
        ],
    );
}
