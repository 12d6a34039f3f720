//! Invalid rows (SPEC §3) go to `<name>.rejects.csv` with their physical line; files that cannot
//! be read as a whole go to quarantine with a reason (SPEC §2).

mod common;

use common::{assert_archived, assert_rejects};
use mz_tests::{id_number, id_number_bad_check, lf, local_time_ago, today_local, walk, Daemon};
use serde_json::json;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

fn hours_ago(hours: i64) -> String {
    local_time_ago(hours * 3600)[..16].to_string()
}

#[test]
fn every_kind_of_invalid_row_is_rejected_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let day = today_local();
    let d = Daemon::start(tmp.path());

    // --- admissions ------------------------------------------------------------------------
    let adm_cols = [
        "record_id",
        "station_id",
        "event",
        "occurred_at",
        "person_ref",
        "name",
        "id_number",
        "gender",
        "age",
        "referral",
        "discharge_reason",
        "incident_type",
        "note",
    ];
    let t = hours_ago(3);
    let bad_check = id_number_bad_check("110105", "19800101", 31, true);
    let woman_1980 = id_number("110105", "19800101", 32, false); // 46 years old in 2026
    let adm = lf(&[
        adm_cols.join(","), // 1
        format!("AD-OK1,TZ-JZZ,admit,{},P-1,刘一,,male,50,police,,,\"第一行\nsecond line\"", hours_ago(10)), // 2-3
        format!("AD-MISS,,admit,{t},P-2,,,,,police,,,"), // 4 missing station_id
        format!("AD-STN,TZ-NOPE,admit,{t},P-3,,,,,police,,,"), // 5 unknown station
        format!("AD-ENUM,TZ-JZZ,arrive,{t},P-4,,,,,police,,,"), // 6 bad event
        "AD-TIME,TZ-JZZ,admit,2026-13-45 25:00,P-5,,,,,police,,,".to_string(), // 7 bad time
        format!("AD-CHK,TZ-JZZ,admit,{t},P-6,,{bad_check},male,,police,,,"), // 8 bad check digit
        format!("AD-AGE,TZ-JZZ,admit,{t},P-7,,{woman_1980},female,30,self,,,"), // 9 age vs ID
        format!("AD-REF,TZ-JZZ,admit,{t},P-8,,,,40,,,,"), // 10 no referral
        format!("AD-GHOST,TZ-JZZ,discharge,{t},P-GHOST,,,,,,home,,"), // 11 not admitted
        format!("AD-AGAIN,TZ-JZZ,admit,{t},P-1,,,,,self,,,"), // 12 already admitted
        format!("AD-OK2,TZ-JZZ,admit,{t},P-9,,11010519491231002X,female,,agency,,,"), // 13
    ]);
    d.drop_file("admissions", "adm-bad.csv", adm);

    // --- burials ---------------------------------------------------------------------------
    let bur_cols = [
        "record_id",
        "site_id",
        "reported_on",
        "capacity_total",
        "occupied",
        "new_interments",
        "eco_interments",
        "note",
    ];
    let bur_header = bur_cols.join(",");
    let bur = lf(&[
        bur_header.as_str(),                                 // 1
        "BU-OK1,C-TH,2026-10-31,500,100,3,1,\"多行\n备注\"", // 2-3
        "BU-SITE,C-NOPE,2026-10-31,500,100,,,",              // 4 unknown site
        "BU-OCC,C-LC,2026-10-31,100,101,,,",                 // 5 occupied > capacity
        "BU-ECO,C-XJ,2026-10-31,500,100,2,3,",               // 6 eco > new
        "BU-DATE,C-MJQ,2026-02-30,500,100,,,",               // 7 bad date
        "BU-MISS,C-YJW,2026-10-31,,100,,,\"缺\n总穴位\"",    // 8-9 missing capacity_total
        "BU-OK2,C-HX,2026-10-31,600,200,5,5,",               // 10
    ]);
    d.drop_file("burials", "bur-bad.csv", bur);

    // --- marriages -------------------------------------------------------------------------
    let mar_cols = [
        "record_id",
        "office_id",
        "registered_at",
        "kind",
        "party_a_id",
        "party_b_id",
        "party_a_hukou",
        "party_b_hukou",
        "counselling",
        "memo",
    ];
    let p = |seq: u32, birth: &str, male: bool| id_number("110112", birth, seq, male);
    let when = "2026-10-10 10:00";
    let man_21 = p(41, "20050101", true); // 21 on 2026-10-10: under the legal age of 22
    let mar = lf(&[
        mar_cols.join(","), // 1
        format!(
            "MA-OK1,M-TZ,{when},marriage,{},{},110112,110105,是,\"附言\n第二行\"",
            p(42, "19900101", true),
            p(43, "19920101", false)
        ), // 2-3
        format!("MA-OFF,M-NOPE,{when},marriage,{},{},,,,", p(44, "19900101", true), p(45, "19920101", false)), // 4 unknown office
        format!("MA-AGE,M-TZ,{when},marriage,{man_21},{},,,,", p(46, "20000101", false)), // 5 man of 21
        format!("MA-PARTY,M-TZ,{when},marriage,{},,,,,", p(47, "19900101", true)),        // 6 party_b_id missing
        format!("MA-HUKOU,M-TZ,{when},marriage,{},{},11011,,,", p(48, "19900101", true), p(49, "19920101", false)), // 7 bad hukou
        format!("MA-KIND,M-TZ,{when},engaged,{},{},,,,", p(50, "19900101", true), p(51, "19920101", false)), // 8 bad kind
        "MA-OK2,M-TZ-MJQ,2026-10-11 09:00,reissue,,,,,,".to_string(),                                        // 9
    ]);
    d.drop_file("marriages", "mar-bad.csv", mar);

    let s = d.wait_files(3);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(3)),
            ("/files/quarantined", json!(0)),
            ("/files/duplicates", json!(0)),
            ("/records/admissions", json!(2)),
            ("/records/burials", json!(2)),
            ("/records/marriages", json!(2)),
            ("/rejected_rows/admissions", json!(9)),
            ("/rejected_rows/burials", json!(5)),
            ("/rejected_rows/marriages", json!(5)),
            ("/duplicate_rows/admissions", json!(0)),
        ],
    );
    d.expect_station(&s, "TZ-JZZ", 2);

    let rows = assert_rejects(
        &d,
        "admissions",
        "adm-bad.csv",
        &adm_cols,
        "record_id",
        &[
            (4, "AD-MISS"),
            (5, "AD-STN"),
            (6, "AD-ENUM"),
            (7, "AD-TIME"),
            (8, "AD-CHK"),
            (9, "AD-AGE"),
            (10, "AD-REF"),
            (11, "AD-GHOST"),
            (12, "AD-AGAIN"),
        ],
    );
    // The source cells are kept as they were.
    assert_eq!(rows[3][2 + 3], "2026-13-45 25:00", "occurred_at of AD-TIME: {:?}", rows[3]);
    assert_eq!(rows[1][2 + 1], "TZ-NOPE", "station_id of AD-STN: {:?}", rows[1]);
    let rows = assert_rejects(
        &d,
        "burials",
        "bur-bad.csv",
        &bur_cols,
        "record_id",
        &[(4, "BU-SITE"), (5, "BU-OCC"), (6, "BU-ECO"), (7, "BU-DATE"), (8, "BU-MISS")],
    );
    assert_eq!(rows[4][2 + 7], "缺\n总穴位", "a note with a line break is kept: {:?}", rows[4]);
    assert_rejects(
        &d,
        "marriages",
        "mar-bad.csv",
        &mar_cols,
        "record_id",
        &[(4, "MA-OFF"), (5, "MA-AGE"), (6, "MA-PARTY"), (7, "MA-HUKOU"), (8, "MA-KIND")],
    );

    // The valid rows of the same files are stored.
    let ids = |feed: &str| -> Vec<String> {
        let mut v: Vec<String> =
            d.export(feed).iter().map(|r| r["record_id"].as_str().unwrap_or("?").to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(ids("admissions"), ["AD-OK1", "AD-OK2"]);
    assert_eq!(ids("burials"), ["BU-OK1", "BU-OK2"]);
    assert_eq!(ids("marriages"), ["MA-OK1", "MA-OK2"]);
    assert_eq!(d.exported("admissions", "AD-OK1")["note"], json!("第一行\nsecond line"));

    // The files themselves are archived.
    assert_archived(&d, "admissions", "adm-bad.csv", &day);
    assert_archived(&d, "burials", "bur-bad.csv", &day);
    assert_archived(&d, "marriages", "mar-bad.csv", &day);
    assert_eq!(d.inbox_files(), Vec::<String>::new());
}

/// The one quarantined entry called `name` (anywhere under quarantine/), and its reason text.
fn quarantined(d: &Daemon, folder_choices: &[&str], name: &str) -> (PathBuf, String) {
    let all = walk(&d.data.join("quarantine"));
    let found: Vec<&PathBuf> = all.iter().filter(|p| p.file_name().is_some_and(|n| n == name)).collect();
    if found.len() != 1 {
        d.fail(&format!("expected {name} once in quarantine, found {found:?}; quarantine holds {all:?}"));
    }
    let p = found[0].clone();
    let folder = p.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    if !folder_choices.contains(&folder.as_str()) || p.parent().unwrap().parent().unwrap() != d.data.join("quarantine")
    {
        d.fail(&format!("{name} quarantined at {}, expected quarantine/{folder_choices:?}/", p.display()));
    }
    let reason_path = p.with_file_name(format!("{name}.reason.txt"));
    let reason = fs::read_to_string(&reason_path)
        .unwrap_or_else(|e| d.fail(&format!("no readable reason file {}: {e}", reason_path.display())));
    if reason.trim().is_empty() {
        d.fail(&format!("{} is empty", reason_path.display()));
    }
    (p, reason)
}

#[test]
fn unreadable_files_are_quarantined_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());

    // A valid admissions file outside the inbox, reachable only through a symlink.
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    let target = outside.join("target.csv");
    let target_text = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral".to_string(),
        format!("LNK-1,TZ-JZZ,admit,{},P-LNK,self", hours_ago(2)),
    ]);
    fs::write(&target, &target_text).unwrap();

    d.drop_file("admissions", "empty.csv", b"");
    d.drop_file("admissions", "binary.csv", b"record_id,station_id\n\x00\x01\x02\x00\xfe garbage\n");
    d.drop_file("burials", "unknown_header.csv", b"foo,bar,baz\n1,2,3\n");
    d.drop_file(
        "marriages",
        "bad_encoding.csv",
        b"record_id,office_id,registered_at,kind\nM1,M-TZ,\xff\xff\xff,marriage\n",
    );
    d.drop_file("admissions", "sheet.xlsx", b"PK\x03\x04 not really a spreadsheet");
    d.drop_at("stray.csv", target_text.as_bytes());
    symlink(&target, d.inbox.join("admissions").join("link.csv")).unwrap();

    let s = d.wait_files(7);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(0)),
            ("/files/quarantined", json!(7)),
            ("/files/duplicates", json!(0)),
            ("/records/admissions", json!(0)),
            ("/records/burials", json!(0)),
            ("/records/marriages", json!(0)),
            ("/rejected_rows/admissions", json!(0)),
        ],
    );
    d.expect_station(&s, "TZ-JZZ", 0);

    quarantined(&d, &["admissions"], "empty.csv");
    quarantined(&d, &["admissions"], "binary.csv");
    quarantined(&d, &["burials"], "unknown_header.csv");
    quarantined(&d, &["marriages"], "bad_encoding.csv");
    // An .xlsx is a feed file now (SPEC §2): one that is no workbook is quarantined in its feed.
    quarantined(&d, &["admissions"], "sheet.xlsx");
    let (stray, _) = quarantined(&d, &["unsorted"], "stray.csv");
    assert_eq!(fs::read(&stray).unwrap(), target_text.as_bytes(), "the quarantined file keeps its bytes");
    let (link, _) = quarantined(&d, &["admissions", "unsorted"], "link.csv");
    let meta = fs::symlink_metadata(&link).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "{} should be the moved link itself, not a copy of its target",
        link.display()
    );
    assert_eq!(fs::read_link(&link).unwrap(), target, "the link still points at its target");
    assert_eq!(fs::read(&target).unwrap(), target_text.as_bytes(), "the link's target is untouched");
    assert!(d.export("admissions").is_empty(), "nothing may be read through a symlink");
    assert!(walk(&d.data.join("archive")).is_empty(), "nothing archived: {:?}", walk(&d.data.join("archive")));
    assert_eq!(d.inbox_files(), Vec::<String>::new());
}
