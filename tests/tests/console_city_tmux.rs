//! End-to-end test of the city console (SPEC §9): a real `nats-server`, two real districts
//! publishing, the real `mzd city`, and the real `mzc --socket <city socket>` in a detached tmux
//! session read back with `tmux capture-pane`. The overview has a row per district with its
//! figures; Enter drills into a district's stations, sites, offices and cases by street; a
//! district that has never published says so; with a city key, the pane of cross-district
//! alerts shows the alert a marriage in two districts raised, in Chinese and in English. Needs
//! tmux; without it the test says so and passes.

use mz_tests::city::{district_entry, start_district_keyed, write_city_key, CityDaemon};
use mz_tests::nats::NatsServer;
use mz_tests::tmux::{tmux_available, Tmux};
use mz_tests::{id_number, lf, local_time_ago};

fn admissions(tag: &str, n: usize) -> String {
    let mut lines = vec!["record_id,station_id,event,occurred_at,person_ref,referral".to_owned()];
    for i in 0..n {
        lines.push(format!("{tag}-{i},TZ-P01,admit,{},{tag}-P{i},police", &local_time_ago(600 + i as i64)[..16]));
    }
    lf(&lines)
}

#[test]
fn the_city_console_shows_every_district_and_drills_into_one() {
    if !tmux_available() {
        eprintln!("tmux not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(tmp.path());
    let districts = [("110112", "通州区"), ("110105", "朝阳区"), ("110108", "海淀区")];
    let key = tmp.path().join("city-id.key");
    write_city_key(&key, 3);
    let city = CityDaemon::start_keyed(&tmp.path().join("city"), &nats.url(), None, &districts, Some(&key));
    let a = start_district_keyed(&tmp.path().join("a"), "110112", "通州区", &nats.url(), Some(&key));
    let b = start_district_keyed(&tmp.path().join("b"), "110105", "朝阳区", &nats.url(), Some(&key));
    a.drop_file("admissions", "a.csv", admissions("A", 7));
    b.drop_file("admissions", "b.csv", admissions("B", 3));
    // The same man marries in Tongzhou, then in Chaoyang: a cross-district alert.
    let (man, w1, w2) = (
        id_number("110105", "19880101", 1, true),
        id_number("110112", "19900202", 2, false),
        id_number("110108", "19910303", 3, false),
    );
    a.drop_file("marriages", "a-m.csv", marriages("TZ-M1", &man, &w1));
    a.wait_files(2);
    city.wait_until("Tongzhou's marriage arrived", |s| district_entry(s, "110112")["records"]["marriages"] == 1);
    b.drop_file("marriages", "b-m.csv", marriages("CY-M1", &w2, &man));
    b.wait_files(2);
    city.wait_until("both districts' rows arrived and the alert was raised", |s| {
        district_entry(s, "110112")["records"]["admissions"] == 7
            && district_entry(s, "110105")["records"]["admissions"] == 3
            && s["alerts"]["by_kind"]["cross_district_bigamy"] == 1
    });

    let t = Tmux::start_mzc(tmp.path(), &["--socket", city.socket.to_str().unwrap()]);
    let screen = t.wait_for(&["北京市", "市级总览", "通州区", "朝阳区", "海淀区", "跨区告警", "跨区重婚风险", "CY-M1"]);
    let row = |name: &str| screen.lines().find(|l| l.contains(name)).unwrap_or_default().to_owned();
    // 7 of TZ-P01's beds taken in Tongzhou, 3 in Chaoyang; Haidian has published nothing.
    assert!(row("通州区").contains(" 7 "), "Tongzhou's row: {}", row("通州区"));
    assert!(row("朝阳区").contains(" 3 "), "Chaoyang's row: {}", row("朝阳区"));
    assert!(row("海淀区").contains("未收到"), "Haidian's row: {}", row("海淀区"));

    // Drill into the first district: its stations and streets.
    t.keys(&["Enter"]);
    let detail = t.wait_for(&["110112 通州区 · 救助站", "TZ-P01", "救急难案件（按街道）"]);
    assert!(detail.lines().any(|l| l.contains("TZ-P01") && l.contains('7')), "{detail}");
    t.keys(&["Escape"]);
    t.wait_for(&["海淀区"]);
    t.keys(&["q"]);

    // In English.
    let t = Tmux::start_mzc(tmp.path(), &["--socket", city.socket.to_str().unwrap(), "--lang", "en"]);
    t.wait_for(&["City overview", "Cross-district alerts (1 active)", "bigamy risk", "marriage CY-M1"]);
    t.keys(&["q"]);
}

fn marriages(record: &str, a: &str, b: &str) -> String {
    lf(&[
        "record_id,office_id,registered_at,kind,party_a_id,party_b_id".to_owned(),
        format!("{record},M-TZ,{},marriage,{a},{b}", &local_time_ago(3 * 86_400)[..16]),
    ])
}
