//! Ingest of valid files: encodings and formats (SPEC §2, §3), completeness of files written in
//! place or renamed into place, duplicate files, duplicate and corrected rows.

mod common;

use common::assert_archived;
use mz_tests::{crlf, gbk, id_number, lf, local_time_ago, masked, registry_as, today_local, Daemon};
use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::time::Duration;

/// `YYYY-MM-DD HH:MM` local, `hours` ago.
fn hours_ago(hours: i64) -> String {
    local_time_ago(hours * 3600)[..16].to_string()
}

/// RFC 3339 in +08:00, `hours` ago.
fn rfc3339_hours_ago(hours: i64) -> String {
    format!("{}+08:00", local_time_ago(hours * 3600).replace(' ', "T"))
}

#[test]
fn gbk_csv_with_chinese_headers_and_crlf() {
    let tmp = tempfile::tempdir().unwrap();
    let day = today_local();
    // An officer: viewers see names masked.
    let d = Daemon::start_with_registry(tmp.path(), &registry_as("officer"));
    let text = crlf(&[
        "记录编号,救助站编码,事件类型,发生时间,受助人编号,姓名,性别,年龄,户籍地,来源,离站原因,备注",
        &format!("GB-1,TZ-JZZ,入站,{},P-GB1,张三,男,45,河北省保定市,公安护送,,夜间由派出所送站", hours_ago(5)),
        &format!("GB-2,TZ-JZZ,入站,{},P-GB2,李秀英,女,38,河南省,街面巡查,,", hours_ago(4).replace('-', "/")),
        &format!("GB-3,TZ-P01,入站,{},P-GB3,无名氏,未知,,,主动求助,,", hours_ago(3)),
        &format!("GB-4,TZ-JZZ,离站,{},P-GB1,张三,男,45,,,亲属接回,家属已接回", hours_ago(1)),
    ]);
    let bytes = gbk(&text);
    assert!(std::str::from_utf8(&bytes).is_err(), "the test file must not be valid UTF-8");
    d.drop_file("admissions", "gbk.csv", &bytes);

    let s = d.wait_files(1);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(1)),
            ("/files/quarantined", json!(0)),
            ("/files/duplicates", json!(0)),
            ("/records/admissions", json!(4)),
            ("/rejected_rows/admissions", json!(0)),
            ("/duplicate_rows/admissions", json!(0)),
        ],
    );
    d.expect_station(&s, "TZ-JZZ", 1);
    d.expect_station(&s, "TZ-P01", 1);
    d.expect_station(&s, "TZ-P02", 0);

    let gb1 = d.exported("admissions", "GB-1");
    assert_eq!(gb1["name"], json!("张三"), "GBK name decoded: {gb1}");
    assert_eq!(gb1["event"], json!("admit"), "{gb1}");
    assert_eq!(gb1["referral"], json!("police"), "{gb1}");
    assert_eq!(gb1["origin"], json!("河北省保定市"), "{gb1}");
    assert_eq!(gb1["note"], json!("夜间由派出所送站"), "{gb1}");
    let gb2 = d.exported("admissions", "GB-2");
    assert_eq!(gb2["gender"], json!("female"), "{gb2}");
    assert_eq!(gb2["referral"], json!("patrol"), "{gb2}");
    let gb4 = d.exported("admissions", "GB-4");
    assert_eq!(gb4["event"], json!("discharge"), "{gb4}");
    assert_eq!(gb4["discharge_reason"], json!("family"), "{gb4}");
    assert_archived(&d, "admissions", "gbk.csv", &day);
    assert!(!d.rejects_path("admissions", "gbk.csv").exists(), "no rejects file for a clean file");
}

#[test]
fn utf8_bom_csv_with_english_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let day = today_local();
    let d = Daemon::start(tmp.path());
    let text = format!(
        "\u{feff}{}",
        lf(&[
            "record_id,site_id,reported_on,capacity_total,occupied,new_interments,eco_interments,free_basic_services,note",
            "BOM-1,C-SZ,2026-10-31,1000,400,12,5,3,十月",
            "BOM-2,C-ZJW,2026/10/31,800,100,4,4,2,\"note, with comma\"",
            "BOM-3,K-TZ,2026-10-31,5000,1200,,,,",
        ])
    );
    d.drop_file("burials", "bom.csv", text.as_bytes());
    let s = d.wait_files(1);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(1)),
            ("/files/quarantined", json!(0)),
            ("/records/burials", json!(3)),
            ("/rejected_rows/burials", json!(0)),
        ],
    );
    for (id, cap, occ) in [("C-SZ", 1000, 400), ("C-ZJW", 800, 100), ("K-TZ", 5000, 1200)] {
        let site = mz_tests::site(&s, id).cloned().unwrap_or(Value::Null);
        if site["capacity_total"] != json!(cap) || site["occupied"] != json!(occ) {
            d.fail(&format!("site {id}: expected {cap}/{occ}, got {site}"));
        }
    }
    let b1 = d.exported("burials", "BOM-1");
    assert_eq!(b1["reported_on"], json!("2026-10-31"), "{b1}");
    assert_eq!(b1["new_interments"], json!(12), "{b1}");
    assert_eq!(b1["eco_interments"], json!(5), "{b1}");
    assert_eq!(b1["note"], json!("十月"), "{b1}");
    let b2 = d.exported("burials", "BOM-2");
    assert_eq!(b2["reported_on"], json!("2026-10-31"), "{b2}");
    assert_eq!(b2["note"], json!("note, with comma"), "{b2}");
    assert_archived(&d, "burials", "bom.csv", &day);
}

#[test]
fn jsonl_with_numbers_and_booleans() {
    let tmp = tempfile::tempdir().unwrap();
    let day = today_local();
    let d = Daemon::start(tmp.path());
    let (a, b) = (id_number("110112", "19900307", 11, true), id_number("110105", "19920415", 12, false));
    let (c, e) = (id_number("130602", "19880101", 13, true), id_number("110112", "19950606", 14, false));
    let lines = [
        json!({"record_id": "JS-1", "office_id": "M-TZ", "registered_at": "2026-10-01T10:00:00+08:00", "kind": "marriage",
               "party_a_id": a, "party_b_id": b, "party_a_hukou": 110112, "party_b_hukou": "110105", "counselling": true})
        .to_string(),
        json!({"record_id": "JS-2", "office_id": "M-TZ-MJQ", "registered_at": "2026-10-02 11:00", "kind": "结婚",
               "party_a_id": c, "party_b_id": e, "counselling": false})
        .to_string(),
        json!({"record_id": 3001, "office_id": "M-TZ", "registered_at": "2026/10/03 09:30:00", "kind": "reissue",
               "party_a_hukou": null, "counselling": "是"})
        .to_string(),
    ];
    d.drop_file("marriages", "m.jsonl", lf(&lines));
    let adm =
        json!({"record_id": "JA-1", "station_id": "TZ-P02", "event": "admit", "occurred_at": rfc3339_hours_ago(2),
                     "person_ref": 77, "age": 40, "referral": "self", "name": "钱七"})
        .to_string();
    d.drop_file("admissions", "a.ndjson", lf(&[adm]));

    let s = d.wait_files(2);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(2)),
            ("/files/quarantined", json!(0)),
            ("/records/marriages", json!(3)),
            ("/records/admissions", json!(1)),
            ("/rejected_rows/marriages", json!(0)),
            ("/rejected_rows/admissions", json!(0)),
            (
                "/marriages_by_kind",
                json!({"marriage": 2, "divorce": 0, "divorce_application": 0, "divorce_withdrawal": 0, "reissue": 1}),
            ),
        ],
    );
    d.expect_station(&s, "TZ-P02", 1);

    let js1 = d.exported("marriages", "JS-1");
    assert_eq!(js1["counselling"], json!(true), "{js1}");
    assert_eq!(js1["party_a_hukou"], json!("110112"), "{js1}");
    assert_eq!(js1["party_a_id"], json!(masked(&a)), "{js1}");
    assert_eq!(js1["party_b_id"], json!(masked(&b)), "{js1}");
    assert_eq!(js1["kind"], json!("marriage"), "{js1}");
    let js2 = d.exported("marriages", "JS-2");
    assert_eq!(js2["counselling"], json!(false), "{js2}");
    assert_eq!(js2["kind"], json!("marriage"), "{js2}");
    let r = d.exported("marriages", "3001");
    assert_eq!(r["kind"], json!("reissue"), "{r}");
    assert_eq!(r["counselling"], json!(true), "{r}");
    let ja = d.exported("admissions", "JA-1");
    assert_eq!(ja["age"], json!(40), "{ja}");
    assert_eq!(ja["person_ref"], json!("77"), "{ja}");
    assert_archived(&d, "marriages", "m.jsonl", &day);
    assert_archived(&d, "admissions", "a.ndjson", &day);
}

fn slow_rows() -> Vec<String> {
    (1..=6)
        .map(|i| format!("SLOW-{i},TZ-P03,admit,{},P-SLOW-{i},受助人{i},patrol,第{i}行", hours_ago(10 - i)))
        .collect()
}

/// A file written in place, in chunks, held open between them (like a slow `scp`): not taken
/// until closed, then taken whole.
#[test]
fn file_written_in_place_in_chunks_is_taken_only_when_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let day = today_local();
    let d = Daemon::start(tmp.path());
    let rows = slow_rows();
    let header = "record_id,station_id,event,occurred_at,person_ref,name,referral,note\n";
    let row4 = format!("{}\n", rows[3]);
    let (row4a, row4b) = row4.split_at(20);
    let path = d.inbox.join("admissions").join("slow.csv");
    let mut f = fs::File::create(&path).unwrap();

    f.write_all(format!("{header}{}\n{}\n", rows[0], rows[1]).as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let s = d.status();
    d.expect(&s, &[("/files/ingested", json!(0)), ("/files/quarantined", json!(0)), ("/records/admissions", json!(0))]);
    assert!(path.exists(), "slow.csv was taken out of the inbox while still open for writing");

    // Stop in the middle of a row.
    f.write_all(format!("{}\n{row4a}", rows[2]).as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let s = d.status();
    d.expect(&s, &[("/files/ingested", json!(0)), ("/files/quarantined", json!(0)), ("/records/admissions", json!(0))]);
    assert!(path.exists(), "slow.csv was taken out of the inbox while still open for writing");

    f.write_all(format!("{row4b}{}\n{}\n", rows[4], rows[5]).as_bytes()).unwrap();
    f.flush().unwrap();
    drop(f);

    let s = d.wait_files(1);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(1)),
            ("/files/quarantined", json!(0)),
            ("/files/duplicates", json!(0)),
            ("/records/admissions", json!(6)),
            ("/rejected_rows/admissions", json!(0)),
        ],
    );
    d.expect_station(&s, "TZ-P03", 6);
    assert!(!d.rejects_path("admissions", "slow.csv").exists(), "rows of slow.csv were rejected");
    assert_archived(&d, "admissions", "slow.csv", &day);
    assert_eq!(d.exported("admissions", "SLOW-4")["note"], json!("第4行"));
}

/// A file written under `x.csv.part` and renamed to `x.csv` is taken once, after the rename.
#[test]
fn file_renamed_from_part_name_is_taken_once() {
    let tmp = tempfile::tempdir().unwrap();
    let day = today_local();
    let d = Daemon::start(tmp.path());
    let dir = d.inbox.join("burials");
    let text = lf(&[
        "record_id,site_id,reported_on,capacity_total,occupied",
        "PT-1,C-YLD,2026-09-30,300,30",
        "PT-2,C-YLD,2026-10-31,300,33",
    ]);
    fs::write(dir.join("x.csv.part"), &text).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let s = d.status();
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(0)),
            ("/files/quarantined", json!(0)),
            ("/files/in_progress", json!(1)),
            ("/records/burials", json!(0)),
        ],
    );
    assert!(dir.join("x.csv.part").exists(), "x.csv.part must be left alone");

    fs::rename(dir.join("x.csv.part"), dir.join("x.csv")).unwrap();
    d.wait_files(1);
    // Give a second take (which would be a bug) the time to happen.
    std::thread::sleep(Duration::from_millis(1500));
    let s = d.status();
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(1)),
            ("/files/quarantined", json!(0)),
            ("/files/duplicates", json!(0)),
            ("/files/in_progress", json!(0)),
            ("/records/burials", json!(2)),
            ("/rejected_rows/burials", json!(0)),
            ("/duplicate_rows/burials", json!(0)),
        ],
    );
    let site = mz_tests::site(&s, "C-YLD").cloned().unwrap_or(Value::Null);
    assert_eq!((site["capacity_total"].clone(), site["occupied"].clone()), (json!(300), json!(33)), "{site}");
    assert_archived(&d, "burials", "x.csv", &day);
    assert_eq!(d.inbox_files(), Vec::<String>::new());
}

/// The same bytes under another name: one duplicate file, nothing stored twice.
#[test]
fn same_file_twice_is_a_duplicate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let (a, b) = (id_number("110112", "19890101", 21, true), id_number("110112", "19910202", 22, false));
    let text = lf(&[
        "record_id,office_id,registered_at,kind,party_a_id,party_b_id".to_string(),
        format!("DUP-1,M-TZ,2026-10-08 09:00,marriage,{a},{b}"),
        "DUP-2,M-TZ,2026-10-08 10:00,reissue,,".to_string(),
    ]);
    d.drop_file("marriages", "first.csv", &text);
    let s = d.wait_files(1);
    d.expect(&s, &[("/files/ingested", json!(1)), ("/records/marriages", json!(2))]);

    d.drop_file("marriages", "second.csv", &text);
    let s = d.wait_files(2);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(1)),
            ("/files/duplicates", json!(1)),
            ("/files/quarantined", json!(0)),
            ("/records/marriages", json!(2)),
            ("/rejected_rows/marriages", json!(0)),
            ("/duplicate_rows/marriages", json!(0)),
            ("/marriages_by_kind/marriage", json!(1)),
            ("/alerts/by_kind/bigamy_risk", json!(0)),
        ],
    );
    assert_eq!(d.export("marriages").len(), 2);
    assert_eq!(d.inbox_files(), Vec::<String>::new(), "the duplicate file must leave the inbox");
}

/// A row repeated with the same content is a duplicate row; with other content under the same
/// record_id it is a correction (the newer version is exported, the count does not grow).
#[test]
fn duplicate_and_corrected_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let (t1, t2, t3) = (hours_ago(6), hours_ago(5), hours_ago(4));
    let header = "record_id,station_id,event,occurred_at,person_ref,name,referral,note";
    let rc1 = format!("RC-1,TZ-P03,admit,{t1},P-RC1,王五,police,first note");
    d.drop_file(
        "admissions",
        "r1.csv",
        lf(&[header.to_string(), rc1.clone(), format!("RC-2,TZ-P03,admit,{t2},P-RC2,赵六,patrol,original")]),
    );
    let s = d.wait_files(1);
    d.expect(&s, &[("/records/admissions", json!(2)), ("/duplicate_rows/admissions", json!(0))]);

    let rc3 = format!("RC-3,TZ-P03,admit,{t3},P-RC3,,self,");
    d.drop_file(
        "admissions",
        "r2.csv",
        lf(&[
            header.to_string(),
            rc1,                                                                // same as before: duplicate
            format!("RC-2,TZ-P03,admit,{t2},P-RC2,赵六,patrol,corrected note"), // correction
            rc3.clone(),                                                        // new
            rc3,                                                                // repeated in the same file: duplicate
        ]),
    );
    let s = d.wait_files(2);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(2)),
            ("/files/duplicates", json!(0)),
            ("/records/admissions", json!(3)),
            ("/duplicate_rows/admissions", json!(2)),
            ("/rejected_rows/admissions", json!(0)),
        ],
    );
    d.expect_station(&s, "TZ-P03", 3);
    assert_eq!(d.export("admissions").len(), 3);
    assert_eq!(d.exported("admissions", "RC-2")["note"], json!("corrected note"));
    assert_eq!(d.exported("admissions", "RC-1")["note"], json!("first note"));
    assert!(!d.rejects_path("admissions", "r2.csv").exists(), "duplicates and corrections are not rejects");
}
