//! The city roll-up over NATS JetStream (SPEC §9), with a real `nats-server`, real district
//! daemons and a real `mzd city`: exactly-once publication and application through `kill -9`
//! of a district and of the city and an outage of the server; the NATS permissions that keep a
//! district to its own subject; wrong credentials shown in `problems` with nothing lost; the
//! city's reports (each district's beside city totals); heartbeats that keep a quiet district
//! fresh; a message lost from the stream shown as a problem; the cross-district checks under
//! the city key.

use mz_tests::city::{
    district_entry, district_figures, prepare_district, start_district, write_publish_config, CityDaemon,
};
use mz_tests::nats::NatsServer;
use mz_tests::{lf, local_time_ago, Daemon};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Generous: two cores shared by several builds.
const CATCH_UP: Duration = Duration::from_secs(90);

/// `n` admissions (some discharged) at the demo stations, record ids prefixed by `tag`.
fn admissions(tag: &str, n: usize) -> String {
    let stations = ["TZ-JZZ", "TZ-P01", "TZ-P02", "TZ-P03"];
    let mut lines = vec!["record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason".to_owned()];
    for i in 0..n {
        let st = stations[i % stations.len()];
        let at = local_time_ago(3600 * 5 - i as i64)[..16].to_owned();
        lines.push(format!("{tag}-A{i},{st},admit,{at},{tag}-P{i},police,"));
        if i % 3 == 0 {
            let later = local_time_ago(3600 * 2 - i as i64)[..16].to_owned();
            lines.push(format!("{tag}-D{i},{st},discharge,{later},{tag}-P{i},,home"));
        }
    }
    lines.push(format!("{tag}-BAD,TZ-P01,discharge,{},{tag}-NOBODY,,home", local_time_ago(60)[..16].to_owned()));
    lf(&lines)
}

fn burials(tag: &str) -> String {
    lf(&[
        "record_id,site_id,reported_on,capacity_total,occupied".to_owned(),
        format!("{tag}-B1,C-MJQ,2026-10-31,100,61"),
    ])
}

/// The district's publish block.
fn publish(s: &Value) -> &Value {
    &s["publish"]
}

/// Waits until the district has published everything and the city applied it, with the same
/// figures; returns (district status, city status).
fn caught_up(city: &CityDaemon, d: &Daemon, code: &str) -> (Value, Value) {
    let start = std::time::Instant::now();
    loop {
        let own = d.status();
        let p = publish(&own);
        let city_s = city.wait_until("the city answers", |_| true);
        let entry = district_entry(&city_s, code);
        if p["pending"] == 0
            && p["published_seq"].as_u64() > Some(0)
            && entry["last_seq"] == p["published_seq"]
            && district_figures(entry) == district_figures(&own)
        {
            return (own, city_s);
        }
        if start.elapsed() > CATCH_UP {
            panic!(
                "district {code} and the city did not agree within {CATCH_UP:?}\n--- district ---\n{:#}\n--- city entry \
                 ---\n{entry:#}\n--- district log ---\n{}\n--- city log ---\n{}",
                district_figures(&own),
                d.log_tail(40),
                city.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The outbox's last `seq` in a stopped district's store.
fn outbox_head(d: &Daemon) -> u64 {
    let store = mzd::store::Store::open(&d.data.join("store")).expect("opening the stopped district's store");
    let meta: mzd::publish::outbox::OutboxMeta =
        store.get(mzd::publish::outbox::META).expect("reading the outbox").expect("an outbox was written");
    meta.next_seq - 1
}

#[test]
fn two_districts_and_the_city_agree_through_kills_and_an_outage() {
    let tmp = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start(tmp.path());
    let url = nats.url();
    let mut city =
        CityDaemon::start(&tmp.path().join("city"), &url, None, &[("110112", "通州区"), ("110105", "朝阳区")]);
    let mut a = start_district(&tmp.path().join("a"), "110112", "通州区", &url, None);
    let b = start_district(&tmp.path().join("b"), "110105", "朝阳区", &url, None);

    for i in 0..3 {
        a.drop_file("admissions", &format!("a{i}.csv"), admissions(&format!("A{i}"), 12));
        b.drop_file("admissions", &format!("b{i}.csv"), admissions(&format!("B{i}"), 9));
    }
    b.drop_file("burials", "b-bur.csv", burials("B"));
    a.wait_files(3);
    b.wait_files(4);

    // kill -9 a district while it commits and publishes, then start it again.
    for i in 3..8 {
        a.drop_file("admissions", &format!("a{i}.csv"), admissions(&format!("A{i}"), 20));
    }
    a.wait_until("a district commits after the first files", |s| s["files"]["ingested"].as_u64() >= Some(4));
    a.kill9();
    a.spawn();
    a.wait_files(8);

    // The server goes away while a district keeps ingesting; it comes back on the same store.
    nats.stop();
    b.drop_file("admissions", "b-outage.csv", admissions("BO", 15));
    b.drop_file("burials", "b-outage-bur.csv", burials("BO"));
    let during = b.wait_files(6);
    assert!(publish(&during)["pending"].as_u64() > Some(0), "commits wait in the outbox: {during:#}");
    b.wait_until("the district sees the server gone", |s| publish(s)["connected"] == false);
    std::thread::sleep(Duration::from_secs(2));
    nats.spawn();

    // kill -9 the city and start it again.
    city.kill9();
    a.drop_file("admissions", "a-late.csv", admissions("AL", 5));
    city.spawn();
    a.wait_files(9);

    let (own_a, _) = caught_up(&city, &a, "110112");
    let (own_b, city_s) = caught_up(&city, &b, "110105");
    assert!(own_a["records"]["admissions"].as_u64() > Some(100), "district A stored its rows: {own_a:#}");
    assert!(own_b["rejected_rows"]["admissions"].as_u64() >= Some(4), "rejected rows count: {own_b:#}");

    // Totals are the sums of the districts.
    let t = &city_s["totals"];
    let sum = |f: &dyn Fn(&Value) -> u64| f(&own_a) + f(&own_b);
    assert_eq!(t["records"]["admissions"].as_u64(), Some(sum(&|s| s["records"]["admissions"].as_u64().unwrap())));
    assert_eq!(t["records"]["burials"].as_u64(), Some(sum(&|s| s["records"]["burials"].as_u64().unwrap())));
    let beds = |s: &Value| s["stations"].as_array().unwrap().iter().map(|x| x["beds"].as_u64().unwrap()).sum::<u64>();
    let occ =
        |s: &Value| s["stations"].as_array().unwrap().iter().map(|x| x["occupied"].as_u64().unwrap()).sum::<u64>();
    assert_eq!(t["beds"].as_u64(), Some(beds(&own_a) + beds(&own_b)));
    assert_eq!(t["occupied"].as_u64(), Some(occ(&own_a) + occ(&own_b)));
    assert_eq!(t["alerts"]["active"].as_u64(), Some(sum(&|s| s["alerts"]["active"].as_u64().unwrap())));
    assert_eq!(t["cases"]["open"].as_u64(), Some(sum(&|s| s["cases"]["open"].as_u64().unwrap())));

    // Every commit was published once and applied once: the city's sequence per district is
    // the district's outbox count, after everything settled.
    let seq_a = district_entry(&city_s, "110112")["last_seq"].as_u64().unwrap();
    let seq_b = district_entry(&city_s, "110105")["last_seq"].as_u64().unwrap();
    let mut a = a;
    let mut b = b;
    a.terminate();
    b.terminate();
    let city_after = city.wait_until("the city answers after the districts stopped", |_| true);
    assert_eq!(outbox_head(&a), district_entry(&city_after, "110112")["last_seq"].as_u64().unwrap());
    assert_eq!(outbox_head(&b), district_entry(&city_after, "110105")["last_seq"].as_u64().unwrap());
    assert!(outbox_head(&a) >= seq_a && outbox_head(&b) >= seq_b);
    assert!(outbox_head(&a) >= 9, "one commit per file at least: {}", outbox_head(&a));
}

/// The NATS server config of docs/nats/ for two districts and the city (user names and
/// passwords of the test).
fn secured_server_config() -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/nats/nats-server.conf"))
        .expect("docs/nats/nats-server.conf");
    // The documented file lists two districts with placeholder passwords; the test fills them in.
    doc.replace("$DISTRICT_110112_PASSWORD", "\"pw-110112\"")
        .replace("$DISTRICT_110105_PASSWORD", "\"pw-110105\"")
        .replace("$CITY_PASSWORD", "\"pw-city\"")
}

fn creds(dir: &Path, name: &str, user: &str, password: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, format!("user = \"{user}\"\npassword = \"{password}\"\n")).unwrap();
    p
}

#[test]
fn a_district_may_publish_only_to_its_own_subject_and_wrong_credentials_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start_with_config(tmp.path(), Some(&secured_server_config()));
    let url = nats.url();
    let city_creds = creds(&tmp.path().join("city"), "city.creds", "city", "pw-city");
    let city = CityDaemon::start(
        &tmp.path().join("city"),
        &url,
        Some(&city_creds),
        &[("110112", "通州区"), ("110105", "朝阳区")],
    );

    // District 110105 (Chaoyang) by mistake holds Tongzhou's credentials: the server refuses
    // its publications to mz.district.110105; nothing reaches the city.
    let wrong_dir = tmp.path().join("b");
    let tz_creds = creds(&wrong_dir, "district.creds", "d110112", "pw-110112");
    let mut b = prepare_district(&wrong_dir, "110105", "朝阳区", &url, Some(&tz_creds));
    b.env.push(("MZD_PUBLISH_PROBLEM_AFTER_SECS".into(), "2".into()));
    b.spawn();
    b.drop_file("admissions", "b.csv", admissions("B", 8));
    b.wait_files(1);
    let refused = b.wait_until_for(Duration::from_secs(60), "publishing is reported as failing", |s| {
        s["problems"].as_array().is_some_and(|p| p.iter().any(|x| x.as_str().unwrap_or("").contains("publishing")))
    });
    assert_eq!(publish(&refused)["published_seq"], 0, "{refused:#}");
    assert!(publish(&refused)["pending"].as_u64() > Some(0));
    assert!(publish(&refused)["last_error"].is_string(), "{refused:#}");
    // The server refused it: the subjects of district 110105 (its reply inbox, its stream
    // subject) are not Tongzhou's user's to use.
    let log = std::fs::read_to_string(&nats.log).unwrap_or_default();
    assert!(
        log.lines().any(|l| l.contains("Violation") && l.contains("User \"d110112\"") && l.contains("110105")),
        "the server refused district 110105's subjects to Tongzhou's user: {log}"
    );
    assert_eq!(district_entry(&city.wait_until("answers", |_| true), "110105")["last_seq"], 0);

    // With its own credentials it publishes everything it kept.
    let own = creds(&wrong_dir, "district.creds", "d110105", "pw-110105");
    write_publish_config(&b, &url, Some(&own));
    b.terminate();
    b.spawn();
    caught_up(&city, &b, "110105");
    // Its heartbeats (mz.heartbeat.110105, outside the stream) reach the city under the same
    // permissions.
    city.wait_until("the city hears district 110105's heartbeat", |s| {
        district_entry(s, "110105")["last_heartbeat_at"].is_string()
    });

    // Wrong password: the connection is refused, status says so, nothing is lost.
    let a_dir = tmp.path().join("a");
    let bad = creds(&a_dir, "district.creds", "d110112", "not-the-password");
    let mut a = prepare_district(&a_dir, "110112", "通州区", &url, Some(&bad));
    a.env.push(("MZD_PUBLISH_PROBLEM_AFTER_SECS".into(), "2".into()));
    a.spawn();
    a.drop_file("admissions", "a.csv", admissions("A", 6));
    a.wait_files(1);
    let failing = a.wait_until_for(Duration::from_secs(60), "wrong credentials are reported", |s| {
        s["problems"].as_array().is_some_and(|p| p.iter().any(|x| x.as_str().unwrap_or("").contains("publishing")))
    });
    assert_eq!(publish(&failing)["connected"], false);
    let good = creds(&a_dir, "district.creds", "d110112", "pw-110112");
    write_publish_config(&a, &url, Some(&good));
    a.terminate();
    a.spawn();
    caught_up(&city, &a, "110112");
}

/// `n` admissions on `day` (local), a third of them discharged the same day, and one
/// admission the day before (so the day's census starts above zero).
fn admissions_on(tag: &str, n: usize, day: &str, before: &str) -> String {
    let stations = ["TZ-JZZ", "TZ-P01", "TZ-P02", "TZ-P03"];
    let mut lines = vec!["record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason".to_owned()];
    lines.push(format!("{tag}-E,TZ-P01,admit,{before} 20:00,{tag}-PE,self,"));
    for i in 0..n {
        let st = stations[i % stations.len()];
        lines.push(format!("{tag}-A{i},{st},admit,{day} 08:{:02},{tag}-P{i},police,", i % 60));
        if i % 3 == 0 {
            lines.push(format!("{tag}-D{i},{st},discharge,{day} 18:{:02},{tag}-P{i},,home", i % 60));
        }
    }
    lf(&lines)
}

/// `mzd report ARGS --format FORMAT` against a socket.
fn report_at(socket: &Path, args: &[&str], format: &str) -> String {
    let out = mz_tests::mzd()
        .args(["report"])
        .args(args)
        .args(["--format", format, "--socket"])
        .arg(socket)
        .output()
        .expect("running mzd report");
    assert!(out.status.success(), "mzd report {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 report")
}

fn report_json(socket: &Path, args: &[&str]) -> Value {
    let text = report_at(socket, args, "json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("mzd report {args:?} printed no JSON ({e}): {text}"))
}

/// A report without `generated_at` (the one key that says when it was asked for).
fn without_time(mut r: Value) -> Value {
    r.as_object_mut().expect("a report object").remove("generated_at");
    r
}

fn sum_of(reports: &[&Value], f: &dyn Fn(&Value) -> u64) -> u64 {
    reports.iter().map(|r| f(r)).sum()
}

#[test]
fn the_city_reports_each_district_beside_city_totals() {
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(tmp.path());
    let url = nats.url();
    let city = CityDaemon::start(&tmp.path().join("city"), &url, None, &[("110112", "通州区"), ("110105", "朝阳区")]);
    let a = start_district(&tmp.path().join("a"), "110112", "通州区", &url, None);
    let b = start_district(&tmp.path().join("b"), "110105", "朝阳区", &url, None);
    a.drop_file("admissions", "a.csv", admissions_on("A", 14, "2026-10-31", "2026-10-30"));
    b.drop_file("admissions", "b.csv", admissions_on("B", 9, "2026-10-31", "2026-10-29"));
    b.drop_file("burials", "b-bur.csv", burials("B"));
    a.wait_files(1);
    b.wait_files(2);
    caught_up(&city, &a, "110112");
    caught_up(&city, &b, "110105");

    for args in [&["day", "--date", "2026-10-31"][..], &["month", "--month", "2026-10"][..]] {
        let c = report_json(&city.socket, args);
        assert_eq!(c["level"], "city", "{c:#}");
        let own_a = report_json(&a.socket, args);
        let own_b = report_json(&b.socket, args);
        let entry = |code: &str| {
            c["districts"].as_array().unwrap().iter().find(|d| d["code"] == code).cloned().expect("a district entry")
        };
        assert_eq!(without_time(entry("110112")["report"].clone()), without_time(own_a.clone()), "{args:?}");
        assert_eq!(without_time(entry("110105")["report"].clone()), without_time(own_b.clone()), "{args:?}");

        let owns = [&own_a, &own_b];
        let stations = |f: &'static str| {
            move |r: &Value| r["stations"].as_array().unwrap().iter().map(|s| s[f].as_u64().unwrap()).sum::<u64>()
        };
        let t = &c["totals"];
        assert!(sum_of(&owns, &stations("admissions")) >= 23, "{c:#}");
        for key in ["admissions", "discharges", "occupied_at_end", "bed_days"] {
            assert_eq!(t[key].as_u64(), Some(sum_of(&owns, &stations(key))), "totals.{key} {args:?}");
        }
        let burials = |r: &Value| r["burials"]["new_interments"].as_u64().unwrap();
        assert_eq!(t["new_interments"].as_u64(), Some(sum_of(&owns, &burials)));
        let police = |r: &Value| r["admissions_by_referral"]["police"].as_u64().unwrap();
        assert_eq!(t["admissions_by_referral"]["police"].as_u64(), Some(sum_of(&owns, &police)));
        let opened = |r: &Value| r["cases"]["opened"].as_u64().unwrap();
        assert_eq!(t["cases_opened"].as_u64(), Some(sum_of(&owns, &opened)));
    }

    // The same report as CSV for Excel and as text: each district beside the city total.
    let csv = report_at(&city.socket, &["day", "--date", "2026-10-31"], "csv");
    assert!(csv.starts_with('\u{feff}'), "BOM");
    assert!(csv.contains("\r\n") && !csv.replace("\r\n", "").contains('\n'), "CRLF line ends only");
    for word in ["各区对比", "通州区", "朝阳区", "全市合计"] {
        assert!(csv.contains(word), "{word} in the CSV:\n{csv}");
    }
    let text = report_at(&city.socket, &["day", "--date", "2026-10-31", "--lang", "en"], "text");
    assert!(text.contains("Districts side by side") && text.contains("City total"), "{text}");
}

#[test]
fn a_quiet_district_stays_fresh_by_its_heartbeats_and_turns_stale_once_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(tmp.path());
    let url = nats.url();
    let mut city = CityDaemon::start(&tmp.path().join("city"), &url, None, &[("110112", "通州区")]);
    city.kill9();
    city.env.push(("MZD_CITY_STALE_AFTER_SECS".into(), "4".into()));
    city.spawn();
    let mut a = prepare_district(&tmp.path().join("a"), "110112", "通州区", &url, None);
    a.env.push(("MZD_HEARTBEAT_SECS".into(), "1".into()));
    a.spawn();
    a.drop_file("admissions", "a.csv", admissions("A", 5));
    a.wait_files(1);
    caught_up(&city, &a, "110112");

    // Nothing changes for longer than the stale limit: the heartbeats keep it fresh, and they
    // do not count as commits. (Between local midnight and the rows' hour, the district's
    // report round writes yesterday's report and records it in a commit of its own: the city
    // has that one too, and no seq beyond it.)
    std::thread::sleep(Duration::from_secs(7));
    let (own, s) = caught_up(&city, &a, "110112");
    let entry = district_entry(&s, "110112");
    assert!(entry["stale_for_s"].is_null(), "a quiet district is alive: {entry:#}");
    assert!(entry["last_heartbeat_at"].is_string(), "{entry:#}");
    assert_eq!(entry["heartbeat_seq"], publish(&own)["published_seq"], "{entry:#}");
    assert_eq!(entry["last_seq"], publish(&own)["published_seq"], "heartbeats have no seq: {entry:#}");
    assert_eq!(s["healthy"], true, "{s:#}");

    // Stopped: the heartbeats stop, and the city marks it stale.
    a.terminate();
    let s = city.wait_until_for(Duration::from_secs(60), "the stopped district turns stale", |s| {
        district_entry(s, "110112")["stale_for_s"].is_u64()
    });
    assert!(district_entry(&s, "110112")["stale_for_s"].as_u64() >= Some(4), "{s:#}");
}

/// A city for district 110112 that reports a gap after 2 s, stopped before anything is
/// published.
fn stopped_city_with_a_short_gap(dir: &Path, url: &str) -> CityDaemon {
    let mut city = CityDaemon::start(&dir.join("city"), url, None, &[("110112", "通州区")]);
    city.kill9();
    city.env.push(("MZD_CITY_GAP_AFTER_SECS".into(), "2".into()));
    city
}

/// Drops three admission files at district `a` and waits until all are published; returns the
/// district's published seq.
fn publish_three_files(a: &Daemon) -> u64 {
    for i in 0..3 {
        a.drop_file("admissions", &format!("a{i}.csv"), admissions(&format!("A{i}"), 4));
        a.wait_files(i + 1);
    }
    let s = a.wait_until("everything is published", |s| {
        publish(s)["pending"] == 0 && publish(s)["published_seq"].as_u64() >= Some(3)
    });
    publish(&s)["published_seq"].as_u64().unwrap()
}

/// Waits until the city's problems name district 110112 and contain `want`; the city status.
fn wait_gap_problem(city: &CityDaemon, what: &str, want: &str) -> Value {
    city.wait_until_for(Duration::from_secs(60), what, |s| {
        s["problems"].as_array().is_some_and(|p| {
            p.iter().any(|x| x.as_str().is_some_and(|t| t.contains("district 110112") && t.contains(want)))
        })
    })
}

#[test]
fn a_message_lost_from_the_stream_shows_as_a_problem_naming_the_district_and_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(tmp.path());
    let url = nats.url();
    let mut city = stopped_city_with_a_short_gap(tmp.path(), &url);

    // The district publishes while the city is stopped, then stops too.
    let mut a = start_district(&tmp.path().join("a"), "110112", "通州区", &url, None);
    let head = publish_three_files(&a);
    a.terminate();

    // The stream loses message 2 (this district is its only publisher: stream sequence = seq).
    let answer = nats.delete_message("MZ", 2);
    assert!(answer.contains("\"success\":true"), "{answer}");

    city.spawn();
    let s = wait_gap_problem(&city, "the lost message is reported", "seq 2");
    assert_eq!(s["healthy"], false, "{s:#}");
    assert_eq!(district_entry(&s, "110112")["last_seq"], 1, "nothing after the gap is applied: {s:#}");
    assert!(head >= 3);
}

#[test]
fn the_last_message_lost_from_the_stream_shows_by_the_districts_heartbeat() {
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(tmp.path());
    let url = nats.url();
    let mut city = stopped_city_with_a_short_gap(tmp.path(), &url);

    // The district publishes while the city is stopped, and keeps running: its heartbeats say
    // how far it published. Nothing later than its last message is in the stream.
    let mut a = prepare_district(&tmp.path().join("a"), "110112", "通州区", &url, None);
    a.env.push(("MZD_HEARTBEAT_SECS".into(), "1".into()));
    a.spawn();
    let head = publish_three_files(&a);
    let answer = nats.delete_message("MZ", head);
    assert!(answer.contains("\"success\":true"), "{answer}");

    city.spawn();
    let s = wait_gap_problem(&city, "the lost last message is reported", &format!("seq {head} missing"));
    assert_eq!(s["healthy"], false, "{s:#}");
    let entry = district_entry(&s, "110112");
    assert_eq!(entry["last_seq"], head - 1, "{s:#}");
    assert_eq!(entry["heartbeat_seq"], head, "{s:#}");
    a.terminate();
}

// ---------------------------------------------------------------------------------------------
// Cross-district checks (SPEC §9): bigamy risk and duplicate aid across districts, under the
// city key.

/// A marriage registration row at office M-TZ (every district here uses the demo offices).
fn registration(record: &str, kind: &str, a: &str, b: &str, days_ago: i64) -> String {
    format!("{record},M-TZ,{},{kind},{a},{b}", &local_time_ago(days_ago * 86_400 + 3600)[..16])
}

fn registrations(rows: &[String]) -> String {
    let mut lines = vec!["record_id,office_id,registered_at,kind,party_a_id,party_b_id".to_owned()];
    lines.extend(rows.iter().cloned());
    lf(&lines)
}

/// `mzd case open` for the ID number, accepted, then `pay` (and `approve` when above the cap);
/// returns the case id.
fn pay_case(d: &Daemon, id_number: &str, yuan: &str, approve: bool) -> String {
    let out =
        d.mzd_ok(&["case", "open", "--street", "ST-01", "--summary", "临时救助", "--id-number", id_number, "--json"]);
    let case: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("case open --json: {e}: {out}"));
    let id = case["id"].as_str().expect("a case id").to_owned();
    d.mzd_ok(&["case", "act", &id, "accept"]);
    d.mzd_ok(&["case", "act", &id, "pay", yuan]);
    if approve {
        d.mzd_ok(&["case", "act", &id, "approve"]);
    }
    id
}

/// Waits until the city has applied everything the district published.
fn applied(city: &CityDaemon, d: &Daemon, code: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        let own = d.status();
        let s = city.wait_until("the city answers", |_| true);
        let p = publish(&own);
        if p["pending"] == 0 && district_entry(&s, code)["last_seq"] == p["published_seq"] {
            return s;
        }
        assert!(start.elapsed() < CATCH_UP, "district {code} not applied by the city: {p:#}\n{}", city.log_tail());
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn city_alerts_of(s: &Value, kind: &str) -> u64 {
    s["alerts"]["by_kind"][kind].as_u64().unwrap_or_else(|| panic!("no alerts.by_kind.{kind}: {s:#}"))
}

/// Every file of the NATS server's store (the stream's messages as the server keeps them).
fn stream_bytes(nats: &NatsServer) -> Vec<u8> {
    let mut all = Vec::new();
    for f in mz_tests::walk(&nats.store) {
        all.extend(std::fs::read(&f).unwrap_or_default());
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn cross_district_bigamy_and_duplicate_aid_are_raised_once_under_the_city_key() {
    use mz_tests::city::{start_district_keyed, write_city_key};
    use mz_tests::id_number;
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(tmp.path());
    let url = nats.url();
    let key_path = tmp.path().join("city-id.key");
    let key = write_city_key(&key_path, 11);
    let districts = [("110112", "通州区"), ("110105", "朝阳区")];
    let mut city = CityDaemon::start_keyed(&tmp.path().join("city"), &url, None, &districts, Some(&key_path));
    let a = start_district_keyed(&tmp.path().join("a"), "110112", "通州区", &url, Some(&key_path));
    let b = start_district_keyed(&tmp.path().join("b"), "110105", "朝阳区", &url, Some(&key_path));

    let (man, wife, other) = (
        id_number("110105", "19880101", 1, true),
        id_number("110112", "19900202", 2, false),
        id_number("110108", "19910303", 3, false),
    );
    let (x, y, z) = (
        id_number("110105", "19850505", 4, true),
        id_number("110105", "19870707", 5, false),
        id_number("110105", "19890909", 6, false),
    );
    // A: man marries wife; x marries y and they divorce, all in Tongzhou.
    a.drop_file(
        "marriages",
        "a-m.csv",
        registrations(&[
            registration("TZ-M1", "marriage", &man, &wife, 40),
            registration("TZ-M2", "marriage", &x, &y, 30),
            registration("TZ-D2", "divorce", &x, &y, 20),
        ]),
    );
    a.wait_files(1);
    applied(&city, &a, "110112");
    // B: the man marries again in Chaoyang (bigamy across districts); x, divorced, too (none).
    b.drop_file(
        "marriages",
        "b-m.csv",
        registrations(&[
            registration("CY-M1", "marriage", &other, &man, 2),
            registration("CY-M2", "marriage", &x, &z, 1),
        ]),
    );
    b.wait_files(1);
    let s = applied(&city, &b, "110105");
    assert_eq!(city_alerts_of(&s, "cross_district_bigamy"), 1, "{s:#}");
    assert_eq!(city_alerts_of(&s, "cross_district_duplicate_aid"), 0);

    // kill -9 the city; payments go on meanwhile.
    city.kill9();
    let (p, q) = (id_number("110112", "19700101", 7, true), id_number("110112", "19600101", 8, false));
    let a_p = pay_case(&a, &p, "500", false);
    let a_q = pay_case(&a, &q, "800", false);
    let b_p = pay_case(&b, &p, "300", false);
    // Above Chaoyang's cap: a request, not a payment, until it is approved.
    let b_q = {
        let out =
            b.mzd_ok(&["case", "open", "--street", "ST-01", "--summary", "临时救助", "--id-number", &q, "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        b.mzd_ok(&["case", "act", &id, "accept"]);
        b.mzd_ok(&["case", "act", &id, "pay", "6000"]);
        id
    };
    city.spawn();
    applied(&city, &a, "110112");
    let s = applied(&city, &b, "110105");
    assert_eq!(city_alerts_of(&s, "cross_district_duplicate_aid"), 1, "the pending request paid nothing: {s:#}");
    b.mzd_ok(&["case", "act", &b_q, "approve"]);
    let s = applied(&city, &b, "110105");
    assert_eq!(city_alerts_of(&s, "cross_district_duplicate_aid"), 2, "{s:#}");
    // Kill the city once more after everything is applied: nothing is raised twice.
    city.kill9();
    city.spawn();
    let s = city.wait_until("the city answers again", |_| true);
    assert_eq!(s["alerts"]["active"], 3, "{s:#}");
    assert_eq!(city_alerts_of(&s, "cross_district_bigamy"), 1);

    // `mzd alert list` against the city lists each alert once, in the district's shape.
    let list = city.alerts();
    assert_eq!(list.len(), 3, "{list:#?}");
    let ids: std::collections::BTreeSet<&str> = list.iter().filter_map(|x| x["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "ids are unique: {list:#?}");
    let bigamy = list.iter().find(|x| x["kind"] == "cross_district_bigamy").expect("the bigamy alert");
    assert_eq!(bigamy["id"], "cross_district_bigamy:110105:CY-M1");
    assert_eq!(bigamy["state"], "active");
    assert_eq!(bigamy["subject"], "110105");
    let message = bigamy["message"].as_str().unwrap();
    assert!(message.contains("通州区") && message.contains("TZ-M1") && message.contains("当事人乙"), "{message}");
    for case in [&b_p, &b_q] {
        assert!(
            list.iter().any(|x| x["kind"] == "cross_district_duplicate_aid" && x["record_id"] == case.as_str()),
            "an alert for Chaoyang's payment on {case}: {list:#?}"
        );
    }
    let aid = list.iter().find(|x| x["record_id"] == b_p.as_str()).unwrap();
    assert!(aid["message"].as_str().unwrap().contains(&a_p), "names Tongzhou's case: {aid:#}");
    assert!(list.iter().all(|x| x["raised_at"].as_str().is_some_and(|t| t.ends_with("+08:00"))), "{list:#?}");
    let _ = a_q;

    // `mzd alert ack` against the city.
    let out = mzd_tests_run(&city, &["alert", "ack", "cross_district_bigamy:110105:CY-M1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = city.wait_until("the acknowledgement counts", |s| s["alerts"]["active"] == 2);
    assert_eq!(city_alerts_of(&s, "cross_district_bigamy"), 0);
    let acked = city.alerts().into_iter().find(|x| x["kind"] == "cross_district_bigamy").unwrap();
    assert_eq!(acked["state"], "acknowledged", "{acked:#}");

    // Nothing published holds an ID number, clear or masked; people appear as city hashes.
    let stream = stream_bytes(&nats);
    let hasher = mz_shared::cross_district::CityHasher::from_key_file(&key).unwrap();
    let city_hash = |n: &str| hasher.hash(&mz_shared::id_number::IdNumber::parse(n).unwrap()).to_hex();
    assert!(contains(&stream, &city_hash(&man)), "the stream holds the published people (read it whole)");
    let district_key: [u8; 32] = std::fs::read(a.data.join("id-hash.key")).unwrap().try_into().unwrap();
    let district = mz_shared::id_number::IdHasher::new(district_key);
    for n in [&man, &wife, &other, &x, &y, &z, &p, &q] {
        assert!(!contains(&stream, n), "a clear ID number was published");
        assert!(!contains(&stream, &mz_tests::masked(n)), "a masked ID number was published");
        let id = mz_shared::id_number::IdNumber::parse(n).unwrap();
        let own: String = district.hash(&id).0.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!contains(&stream, &own), "a hash under the district's own key was published");
    }
}

fn mzd_tests_run(city: &CityDaemon, args: &[&str]) -> std::process::Output {
    mz_tests::mzd().args(args).arg("--socket").arg(&city.socket).stdin(std::process::Stdio::null()).output().unwrap()
}

#[test]
fn without_a_city_key_nothing_is_matched_across_districts() {
    use mz_tests::city::start_district_keyed;
    use mz_tests::id_number;
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(tmp.path());
    let url = nats.url();
    let city = CityDaemon::start(&tmp.path().join("city"), &url, None, &[("110112", "通州区"), ("110105", "朝阳区")]);
    let a = start_district_keyed(&tmp.path().join("a"), "110112", "通州区", &url, None);
    let b = start_district_keyed(&tmp.path().join("b"), "110105", "朝阳区", &url, None);
    let (man, wife, other) = (
        id_number("110105", "19880101", 1, true),
        id_number("110112", "19900202", 2, false),
        id_number("110108", "19910303", 3, false),
    );
    a.drop_file("marriages", "a.csv", registrations(&[registration("TZ-M1", "marriage", &man, &wife, 40)]));
    a.wait_files(1);
    applied(&city, &a, "110112");
    b.drop_file("marriages", "b.csv", registrations(&[registration("CY-M1", "marriage", &other, &man, 2)]));
    b.wait_files(1);
    pay_case(&a, &wife, "500", false);
    pay_case(&b, &wife, "300", false);
    applied(&city, &a, "110112");
    let s = applied(&city, &b, "110105");
    assert_eq!(s["alerts"]["active"], 0, "{s:#}");
    assert_eq!(city_alerts_of(&s, "cross_district_bigamy"), 0);
    assert_eq!(city_alerts_of(&s, "cross_district_duplicate_aid"), 0);
    assert!(city.alerts().is_empty());
    // The districts published their figures, and no people at all.
    let stream = stream_bytes(&nats);
    assert!(contains(&stream, "\"district\":\"110105\""), "the stream was read");
    assert!(!contains(&stream, "\"people\""), "no people without a city key");
}
