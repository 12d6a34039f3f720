//! Reserve funds (`mzd fund list`, SPEC §1/§4/§5), the divorce cooling-off windows (SPEC §3,
//! 民法典 1077), over-capacity after beds are lowered on a registry reload, and the counselling
//! rate (marriages only), all through the real `mzd` binaries.

use mz_tests::{demo_registry, id_number, lf, local_time_ago, registry_as, Daemon, DEFAULT_TIMEOUT, POLL};
use serde_json::Value;
use std::fs;
use std::time::Instant;

/// `mzd ARGS --socket …`; fails the test unless it exits 0. Returns stdout.
fn mzd_ok(d: &Daemon, args: &[&str]) -> String {
    d.mzd_ok(args)
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

// ---------------------------------------------------------------------------------------------
// The console's dashboard, read as the console reads it.

fn office<'a>(dash: &'a Value, id: &str) -> &'a Value {
    dash["offices"].as_array().and_then(|a| a.iter().find(|o| o["id"] == id)).expect("office in the dashboard")
}

/// Local `YYYY-MM-DD HH:MM` of `days` days and `hours` hours ago.
fn ago(days: i64, hours: i64) -> String {
    local_time_ago(days * 86_400 + hours * 3600)[..16].to_string()
}

const MARRIAGE_HEADER: &str = "record_id,office_id,registered_at,kind,party_a_id,party_b_id,counselling";

fn couple(n: u32) -> (String, String) {
    (id_number("110112", "19880101", n, true), id_number("110112", "19900202", n, false))
}

#[test]
fn divorce_applications_show_their_window_and_lapse_after_60_days() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(tmp.path());
    let (a, b, c, e) = (couple(11), couple(12), couple(13), couple(14));
    // Times are a little less than whole days ago, so that the days left are exact.
    let rows = [
        MARRIAGE_HEADER.to_string(),
        format!("W1,M-TZ,{},divorce_application,{},{},", ago(10, -1), a.0, a.1),
        format!("W2,M-TZ,{},divorce_application,{},{},", ago(45, -1), b.0, b.1),
        format!("W3,M-TZ-MJQ,{},divorce_application,{},{},", ago(65, 0), c.0, c.1),
        // Applied 20 days ago, divorced 5 days ago: inside window 1, today's cooling-off alert.
        format!("W4,M-TZ,{},divorce_application,{},{},", ago(20, 0), e.0, e.1),
        format!("W5,M-TZ,{},divorce,{},{},", ago(5, 0), e.1, e.0),
    ];
    d.drop_file("marriages", "applications.csv", lf(&rows));
    let s = d.wait_files(1);
    assert_eq!(s["rejected_rows"]["marriages"], 0, "{s:#}");
    assert_eq!(s["alerts"]["by_kind"]["cooling_off"], 1, "{s:#}");

    let check = |d: &Daemon| {
        let dash = d.wait_dashboard("the lapsed application counted", |v| office(v, "M-TZ-MJQ")["lapsed_total"] == 1);
        let queue = dash["cooling_off"].as_array().cloned().unwrap_or_default();
        let entry = |rid: &str| queue.iter().find(|x| x["record_id"] == rid).cloned();
        let w1 = entry("W1").unwrap_or_else(|| d.fail(&format!("W1 not in the queue: {queue:#?}")));
        assert_eq!((w1["window"].as_str(), w1["days_left"].as_i64()), (Some("cooling_off"), Some(20)), "{w1:#}");
        let w2 = entry("W2").unwrap_or_else(|| d.fail(&format!("W2 not in the queue: {queue:#?}")));
        assert_eq!((w2["window"].as_str(), w2["days_left"].as_i64()), (Some("registration"), Some(15)), "{w2:#}");
        assert!(entry("W3").is_none() && entry("W4").is_none(), "lapsed or divorced still queued: {queue:#?}");
        assert_eq!(queue.len(), 2, "{queue:#?}");
        let mjq = office(&dash, "M-TZ-MJQ");
        assert_eq!((mjq["lapsed_total"].as_u64(), mjq["lapsed_30_days"].as_u64()), (Some(1), Some(1)), "{mjq:#}");
        assert_eq!(office(&dash, "M-TZ")["lapsed_total"], 0);
    };
    check(&d);
    // The lapse is a stored figure: the same after a restart, not counted twice.
    d.terminate();
    d.spawn();
    check(&d);
}

#[test]
fn counselling_rate_is_a_share_of_marriages_only() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut rows = vec![MARRIAGE_HEADER.to_string()];
    for (i, counselled) in [(1, "是"), (2, "否")] {
        let (m, w) = couple(20 + i);
        rows.push(format!("CR-M{i},M-TZ,{},marriage,{m},{w},{counselled}", ago(0, 3)));
    }
    // Other kinds without counselling must not dilute the rate (old figure: 1 of 5 = 20 %).
    for i in 1..=3 {
        let (m, w) = couple(30 + i);
        rows.push(format!("CR-A{i},M-TZ,{},divorce_application,{m},{w},否", ago(0, 2)));
    }
    d.drop_file("marriages", "counselling.csv", lf(&rows));
    let s = d.wait_files(1);
    assert_eq!(s["rejected_rows"]["marriages"], 0, "{s:#}");
    let dash = d.dashboard();
    let rate = office(&dash, "M-TZ")["counselling_rate"].as_f64();
    assert_eq!(rate, Some(0.5), "{:#}", office(&dash, "M-TZ"));
    // Anyone may read the funds: here the user is not in [roles], so a viewer.
    let funds = json(&d, &["fund", "list", "--json"]);
    assert_eq!(fund(&d, &funds, "ST-01")["balance_fen"], 20_000_000, "{funds:#}");
}

/// `registry` with the `beds` of station `id` set to `beds`.
fn with_beds(registry: &str, id: &str, beds: u32) -> String {
    let start = registry.find(&format!("id = \"{id}\"")).expect("station in the registry");
    let at = start + registry[start..].find("beds = ").expect("beds line");
    let end = at + registry[at..].find('\n').expect("end of line");
    format!("{}beds = {beds}{}", &registry[..at], &registry[end..])
}

fn over_capacity(d: &Daemon, station: &str) -> Option<Value> {
    let list = json(d, &["alert", "list", "--json"]);
    list.as_array()?.iter().find(|a| a["kind"] == "over_capacity" && a["subject"] == station).cloned()
}

fn wait_over_capacity(d: &Daemon, station: &str, present: bool) -> Option<Value> {
    let start = Instant::now();
    loop {
        let a = over_capacity(d, station);
        if a.is_some() == present {
            return a;
        }
        if start.elapsed() > DEFAULT_TIMEOUT {
            d.fail(&format!("over_capacity for {station}: expected present={present}, got {a:?}"));
        }
        std::thread::sleep(POLL);
    }
}

#[test]
fn lowering_beds_below_occupancy_on_reload_raises_over_capacity() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut rows = vec!["record_id,station_id,event,occurred_at,person_ref,referral".to_string()];
    for i in 1..=4 {
        rows.push(format!("BD-{i},TZ-P04,admit,{},P-BD-{i},patrol", ago(0, 5)));
    }
    d.drop_file("admissions", "four.csv", lf(&rows));
    let s = d.wait_files(1);
    d.expect_station(&s, "TZ-P04", 4);
    assert!(over_capacity(&d, "TZ-P04").is_none(), "4 people for 6 beds is not over capacity");

    let registry = fs::read_to_string(d.data.join("registry.toml")).unwrap();
    d.change_registry(&with_beds(&registry, "TZ-P04", 3));
    let a = wait_over_capacity(&d, "TZ-P04", true).unwrap();
    assert_eq!(a["state"], "active", "{a:#}");
    assert!(a["message"].as_str().is_some_and(|m| m.contains("床位 3 张") && m.contains("4 人")), "{a:#}");

    d.change_registry(&with_beds(&registry, "TZ-P04", 5));
    wait_over_capacity(&d, "TZ-P04", false);
}
