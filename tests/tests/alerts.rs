//! The alerts of SPEC §3 as counted in `alerts.by_kind` (SPEC §6). Each test starts its own
//! daemon and expects exactly one kind to be raised, the others to stay at 0.

use mz_tests::{alerts_by_kind, id_number, lf, local_time_ago, Daemon};
use serde_json::{json, Value};

fn minutes_ago(m: i64) -> String {
    local_time_ago(m * 60)[..16].to_string()
}

fn expect_alerts(d: &Daemon, s: &Value, set: &[(&str, u64)]) {
    let active: u64 = set.iter().map(|(_, n)| n).sum();
    d.expect(s, &[("/alerts/by_kind", alerts_by_kind(set)), ("/alerts/active", json!(active))]);
}

#[test]
fn over_capacity_when_the_51st_person_is_admitted() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut lines = vec!["record_id,station_id,event,occurred_at,person_ref,referral".to_string()];
    for i in 1..=51 {
        lines.push(format!("OC-{i},TZ-JZZ,admit,{},P-OC-{i},patrol", minutes_ago(120 - i)));
    }
    d.drop_file("admissions", "crowd.csv", lf(&lines));
    let s = d.wait_files(1);
    d.expect(
        &s,
        &[("/files/ingested", json!(1)), ("/records/admissions", json!(51)), ("/rejected_rows/admissions", json!(0))],
    );
    d.expect_station(&s, "TZ-JZZ", 51);
    expect_alerts(&d, &s, &[("over_capacity", 1)]);
}

#[test]
fn incident_alert_and_incidents_do_not_change_occupancy() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let text = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral,incident_type,note".to_string(),
        format!("IN-1,TZ-P05,admit,{},P-IN1,police,,", minutes_ago(300)),
        format!("IN-2,TZ-P05,incident,{},P-IN1,,受伤,摔倒擦伤", minutes_ago(200)),
    ]);
    d.drop_file("admissions", "incident.csv", text);
    let s = d.wait_files(1);
    d.expect(&s, &[("/records/admissions", json!(2)), ("/rejected_rows/admissions", json!(0))]);
    d.expect_station(&s, "TZ-P05", 1);
    expect_alerts(&d, &s, &[("incident", 1)]);
    assert_eq!(d.exported("admissions", "IN-2")["incident_type"], json!("injury"));
}

#[test]
fn village_point_growing_breaks_zero_growth() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let text = lf(&[
        "record_id,site_id,reported_on,capacity_total,occupied",
        "VG-1,V-SZ-01,2026-09-30,100,10",
        "VG-2,V-SZ-01,2026-10-31,120,12", // village point grew: alert
        "VG-3,C-SZ,2026-09-30,100,10",
        "VG-4,C-SZ,2026-10-31,150,12", // a public cemetery may grow
        "VG-5,V-HX-01,2026-09-30,50,5",
        "VG-6,V-HX-01,2026-10-31,50,6", // same capacity: fine
        "VG-7,V-HX-01,2026-08-31,50,4", // an older report: history, not current
    ]);
    d.drop_file("burials", "village.csv", text);
    let s = d.wait_files(1);
    d.expect(&s, &[("/records/burials", json!(7)), ("/rejected_rows/burials", json!(0))]);
    for (id, cap, occ) in [("V-SZ-01", 120, 12), ("C-SZ", 150, 12), ("V-HX-01", 50, 6)] {
        let site = mz_tests::site(&s, id).cloned().unwrap_or(Value::Null);
        if site["capacity_total"] != json!(cap) || site["occupied"] != json!(occ) {
            d.fail(&format!("site {id}: expected current state {cap}/{occ} (the latest report), got {site}"));
        }
    }
    expect_alerts(&d, &s, &[("village_growth", 1)]);
}

#[test]
fn site_nearly_full_at_ninety_percent() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let text = lf(&[
        "record_id,site_id,reported_on,capacity_total,occupied",
        "NF-1,C-HX,2026-10-31,1000,900", // exactly 90 %: alert
        "NF-2,C-XJ,2026-10-31,1000,899", // 89.9 %: none
        "NF-3,K-TZ,2026-09-30,100,95",   // was nearly full...
        "NF-4,K-TZ,2026-10-31,200,100",  // ...but the current report is at 50 %
    ]);
    d.drop_file("burials", "full.csv", text);
    let s = d.wait_files(1);
    d.expect(&s, &[("/records/burials", json!(4)), ("/rejected_rows/burials", json!(0))]);
    expect_alerts(&d, &s, &[("site_nearly_full", 1)]);
}

#[test]
fn bigamy_risk_is_raised_and_the_row_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let p = |seq: u32, birth: &str, male: bool| id_number("110112", birth, seq, male);
    let (a, b, c) = (p(1, "19850101", true), p(2, "19870101", false), p(3, "19880101", false));
    let (x, y, z) = (p(4, "19850202", true), p(5, "19870202", false), p(6, "19880202", false));
    let header = "record_id,office_id,registered_at,kind,party_a_id,party_b_id";
    d.drop_file(
        "marriages",
        "first.csv",
        lf(&[
            header.to_string(),
            format!("BG-1,M-TZ,2026-05-01 10:00,marriage,{a},{b}"),
            format!("BG-3,M-TZ,2026-01-05 10:00,marriage,{x},{y}"),
            format!("BG-4,M-TZ,2026-03-01 10:00,divorce_application,{x},{y}"),
            format!("BG-5,M-TZ,2026-04-15 10:00,divorce,{x},{y}"),
        ]),
    );
    d.wait_files(1);
    d.drop_file(
        "marriages",
        "second.csv",
        lf(&[
            header.to_string(),
            format!("BG-2,M-TZ-MJQ,2026-10-01 10:00,marriage,{a},{c}"), // a is married to b
            format!("BG-6,M-TZ,2026-10-02 10:00,marriage,{x},{z}"),     // x divorced: no risk
        ]),
    );
    let s = d.wait_files(2);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(2)),
            ("/records/marriages", json!(6)),
            ("/rejected_rows/marriages", json!(0)),
            (
                "/marriages_by_kind",
                json!({"marriage": 4, "divorce": 1, "divorce_application": 1, "divorce_withdrawal": 0, "reissue": 0}),
            ),
        ],
    );
    expect_alerts(&d, &s, &[("bigamy_risk", 1)]);
    assert_eq!(d.exported("marriages", "BG-2")["kind"], json!("marriage"));
}

#[test]
fn divorce_inside_the_cooling_off_period() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let p = |seq: u32, birth: &str, male: bool| id_number("110112", birth, seq, male);
    let (g, h) = (p(7, "19800303", true), p(8, "19820303", false));
    let (j, k) = (p(9, "19800404", true), p(10, "19820404", false));
    let text = lf(&[
        "record_id,office_id,registered_at,kind,party_a_id,party_b_id".to_string(),
        format!("CO-1,M-TZ,2025-01-01 10:00,marriage,{g},{h}"),
        format!("CO-2,M-TZ,2025-01-02 10:00,marriage,{j},{k}"),
        format!("CO-3,M-TZ,2026-09-01 10:00,divorce_application,{g},{h}"),
        format!("CO-4,M-TZ,2026-09-11 10:00,divorce,{h},{g}"), // 10 days later: alert
        format!("CO-5,M-TZ,2026-08-01 10:00,divorce_application,{j},{k}"),
        format!("CO-6,M-TZ,2026-09-15 10:00,divorce,{j},{k}"), // 45 days later: fine
    ]);
    d.drop_file("marriages", "divorces.csv", text);
    let s = d.wait_files(1);
    d.expect(
        &s,
        &[
            ("/records/marriages", json!(6)),
            ("/rejected_rows/marriages", json!(0)),
            (
                "/marriages_by_kind",
                json!({"marriage": 2, "divorce": 2, "divorce_application": 2, "divorce_withdrawal": 0, "reissue": 0}),
            ),
        ],
    );
    expect_alerts(&d, &s, &[("cooling_off", 1)]);
}

#[test]
fn long_stay_after_more_than_ten_days() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let day = 24 * 60;
    let text = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason".to_string(),
        format!("LS-1,TZ-P03,admit,{},P-LS1,patrol,", minutes_ago(12 * day)), // still there after 12 days
        format!("LS-2,TZ-P03,admit,{},P-LS2,patrol,", minutes_ago(12 * day)),
        format!("LS-3,TZ-P03,discharge,{},P-LS2,,home", minutes_ago(10 * day)), // left after 2 days
        format!("LS-4,TZ-P03,admit,{},P-LS3,self,", minutes_ago(3 * day)),      // 3 days: fine
    ]);
    d.drop_file("admissions", "stays.csv", text);
    d.wait_files(1);
    // Long stays are time-driven: poll until the alert shows, then check everything exactly.
    let s = d.wait_until("alerts.by_kind.long_stay >= 1", |s| {
        s["alerts"]["by_kind"]["long_stay"].as_u64().unwrap_or(0) >= 1
    });
    d.expect(&s, &[("/records/admissions", json!(4)), ("/rejected_rows/admissions", json!(0))]);
    d.expect_station(&s, "TZ-P03", 2);
    expect_alerts(&d, &s, &[("long_stay", 1)]);
}

/// `mzd alert ack` does what the console's `a` key does: the alert stops counting as active,
/// for every client; a viewer may not do it, and a second acknowledgement is refused.
#[test]
fn acknowledging_an_alert_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let user = mz_tests::current_user();
    let d = Daemon::start(tmp.path());
    d.drop_file(
        "admissions",
        "ack.csv",
        lf(&[
            "record_id,station_id,event,occurred_at,person_ref,name,referral,incident_type".to_string(),
            format!("AK-1,TZ-P01,admit,{},P-AK1,李四,police,", minutes_ago(30)),
            format!("AK-2,TZ-P01,incident,{},P-AK1,,,injury", minutes_ago(20)),
        ]),
    );
    let s = d.wait_until("incident alert", |s| s["alerts"]["by_kind"]["incident"] == json!(1));
    let ack = || mz_tests::mzd().args(["alert", "ack", "incident:AK-2", "--socket"]).arg(&d.socket).output().unwrap();
    // The test user is not in the demo registry's roles: a viewer.
    let out = ack();
    assert_eq!(out.status.code(), Some(1), "a viewer must not acknowledge: {out:?}");
    assert_eq!(d.status()["alerts"], s["alerts"]);
    // As an officer (the daemon rereads the registry when the file changes).
    std::fs::write(d.data.join("registry.toml"), mz_tests::registry_as("officer")).unwrap();
    let mut acked = false;
    for _ in 0..100 {
        let out = ack();
        if out.status.success() {
            acked = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(acked, "officer acknowledgement failed; log:\n{}", d.log_tail(20));
    d.wait_until("incident alert acknowledged", |s| s["alerts"]["by_kind"]["incident"] == json!(0));
    let again = ack();
    assert_eq!(again.status.code(), Some(1), "a second acknowledgement must be refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already acknowledged"), "{again:?}");
    let list = mz_tests::mzd().args(["alert", "list", "--json", "--socket"]).arg(&d.socket).output().unwrap();
    let alerts: Value = serde_json::from_slice(&list.stdout).unwrap();
    let it = alerts.as_array().unwrap().iter().find(|a| a["id"] == "incident:AK-2").expect("listed");
    // SPEC §1: state `active` / `acknowledged`, `raised_at` in RFC 3339 with the zone's offset.
    assert_eq!(it["state"], json!("acknowledged"), "{it}");
    assert_eq!(it["acknowledged_by"], json!(user), "{it}");
    assert_eq!(it["kind"], json!("incident"), "{it}");
    let raised = it["raised_at"].as_str().unwrap_or_default();
    assert!(raised.len() == 25 && raised.ends_with("+08:00"), "raised_at {raised:?}");
    assert!(it["message"].as_str().is_some_and(|m| !m.is_empty()), "{it}");
}

#[test]
fn a_long_stay_alert_is_acknowledged_by_the_id_it_is_listed_with() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &mz_tests::registry_as("officer"));
    let at = &mz_tests::local_time_ago(20 * 86_400)[..16];
    d.drop_file(
        "admissions",
        "long.csv",
        format!("record_id,station_id,event,occurred_at,person_ref,name,referral\nLS-1,TZ-JZZ,admit,{at},P-LS1,张三,police\n"),
    );
    d.wait_until("the long stay is raised", |s| s["alerts"]["by_kind"]["long_stay"] == json!(1));
    let list = mz_tests::mzd().args(["alert", "list", "--json", "--socket"]).arg(&d.socket).output().unwrap();
    let alerts: Value = serde_json::from_slice(&list.stdout).unwrap();
    let it = alerts.as_array().unwrap().iter().find(|a| a["kind"] == "long_stay").expect("listed");
    let id = it["id"].as_str().unwrap().to_owned();
    assert!(id.chars().all(|c| !c.is_control()), "printable id: {id:?}");
    let out = mz_tests::mzd().args(["alert", "ack", &id, "--socket"]).arg(&d.socket).output().unwrap();
    assert!(out.status.success(), "ack by the printed id: {out:?}");
    d.wait_until("acknowledged", |s| s["alerts"]["by_kind"]["long_stay"] == json!(0));
}

/// An acknowledged over-capacity alert stays acknowledged while the station stays over its beds
/// (each further admission used to raise it again); once occupancy is back within the beds it
/// clears, and the next spell over capacity raises a new one.
#[test]
fn an_acknowledged_over_capacity_alert_is_not_raised_again_by_the_next_admission() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &mz_tests::registry_as("officer"));
    let admit = |from: usize, to: usize| {
        let mut lines = vec!["record_id,station_id,event,occurred_at,person_ref,referral".to_string()];
        for i in from..=to {
            lines.push(format!("OA-{i},TZ-P04,admit,{},P-OA-{i},patrol", minutes_ago(200 - i as i64)));
        }
        lf(&lines)
    };
    d.drop_file("admissions", "first.csv", admit(1, 7)); // 7 people, 6 beds
    d.wait_until("over capacity", |s| s["alerts"]["by_kind"]["over_capacity"] == json!(1));
    d.mzd_ok(&["alert", "ack", "over_capacity:TZ-P04"]);
    d.wait_until("acknowledged", |s| s["alerts"]["by_kind"]["over_capacity"] == json!(0));
    d.drop_file("admissions", "second.csv", admit(8, 8));
    let s = d.wait_files(2);
    d.expect_station(&s, "TZ-P04", 8);
    assert_eq!(s["alerts"]["by_kind"]["over_capacity"], json!(0), "still acknowledged: {s:#}");
    // Back within the beds, then over again: a new alert.
    let leave = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,discharge_reason".to_string(),
        format!("OL-1,TZ-P04,discharge,{},P-OA-1,home", minutes_ago(30)),
        format!("OL-2,TZ-P04,discharge,{},P-OA-2,home", minutes_ago(29)),
    ]);
    d.drop_file("admissions", "leave.csv", leave);
    d.wait_files(3);
    d.drop_file("admissions", "third.csv", admit(9, 9));
    let s = d.wait_files(4);
    d.expect_station(&s, "TZ-P04", 7);
    assert_eq!(s["alerts"]["by_kind"]["over_capacity"], json!(1), "a new spell raises a new alert: {s:#}");
}
