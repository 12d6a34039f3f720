//! ID numbers are never shown or kept in full (SPEC §3): exports show the masked form, the log
//! and the store never hold the number, the hash key is private to the daemon's user.

use mz_tests::{id_number, lf, local_time_ago, masked, mode, walk, Daemon};
use serde_json::json;
use std::fs;
use std::io::Read;

/// Every zstd frame found in `bytes` (by its magic number), decompressed as far as it goes.
fn zstd_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
    let mut out = Vec::new();
    for i in 0..bytes.len().saturating_sub(3) {
        if bytes[i..i + 4] != MAGIC {
            continue;
        }
        let Ok(dec) = zstd::stream::read::Decoder::with_buffer(&bytes[i..]) else { continue };
        let mut dec = dec.single_frame();
        let mut got = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            match dec.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if got.len() > 256 << 20 {
                break;
            }
        }
        if !got.is_empty() {
            out.push(got);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[test]
fn id_numbers_are_masked_in_exports_and_absent_from_log_and_store() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let beijing = "11010519491231002X"; // citizen_id_examples.csv, born 1949-12-31, female
    let worked = "34052419800101001X"; // citizen_id_examples.csv, born 1980-01-01, male
    let t = |h: i64| local_time_ago(h * 3600)[..16].to_string();
    // A valid ID number on a row rejected for another reason (age contradicts it).
    let rejected_id = id_number("110101", "19700505", 61, true);
    let adm = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,name,id_number,age,referral".to_string(),
        format!("PV-1,TZ-JZZ,admit,{},P-PV1,周大,{beijing},,police", t(5)),
        format!("PV-2,TZ-JZZ,admit,{},P-PV2,吴二,{},,self", t(4), worked.to_lowercase()),
        format!("PV-3,TZ-JZZ,admit,{},P-PV3,郑三,{rejected_id},20,self", t(3)),
    ]);
    let (ma, mb) = (id_number("110112", "19900101", 62, true), id_number("120101", "19930303", 63, false));
    let mc = id_number("110112", "19940404", 64, false);
    let mar = lf(&[
        "record_id,office_id,registered_at,kind,party_a_id,party_b_id".to_string(),
        format!("PV-M1,M-TZ,2026-10-20 10:00,marriage,{ma},{mb}"),
        format!("PV-M2,M-TZ,2026-10-21 10:00,marriage,{ma},{mc}"), // bigamy alert message names the parties
    ]);
    d.drop_file("admissions", "ids.csv", adm);
    d.drop_file("marriages", "ids.csv", mar);
    let s = d.wait_files(2);
    d.expect(
        &s,
        &[
            ("/records/admissions", json!(2)),
            ("/rejected_rows/admissions", json!(1)),
            ("/records/marriages", json!(2)),
            ("/alerts/by_kind/bigamy_risk", json!(1)),
        ],
    );
    let stored = [beijing, worked, ma.as_str(), mb.as_str(), mc.as_str()];
    let all = [beijing, worked, ma.as_str(), mb.as_str(), mc.as_str(), rejected_id.as_str()];

    // Exports: masked only.
    let mut exports = String::new();
    for feed in ["admissions", "marriages"] {
        for format in ["jsonl", "csv"] {
            exports.push_str(&d.export_raw(feed, format));
        }
    }
    for id in all {
        assert!(!contains(exports.as_bytes(), id), "the full ID number {id} appears in an export:\n{exports}");
    }
    for id in stored {
        assert!(
            exports.contains(&masked(id)),
            "the masked form {} is missing from the exports:\n{exports}",
            masked(id)
        );
    }
    assert_eq!(d.exported("admissions", "PV-1")["id_number"], json!("110105********002X"));
    assert_eq!(d.exported("admissions", "PV-2")["id_number"], json!("340524********001X"));

    // The log.
    let log = fs::read(&d.log).unwrap();
    for id in all {
        assert!(!contains(&log, id), "the full ID number {id} appears in the daemon log {}", d.log.display());
    }

    // The store, byte for byte, and inside any zstd frame in it.
    let store = d.data.join("store");
    let files = walk(&store);
    assert!(!files.is_empty(), "no files under {}", store.display());
    let mut found = Vec::new();
    for f in &files {
        let Ok(bytes) = fs::read(f) else { continue };
        let frames = zstd_frames(&bytes);
        for id in all {
            let what = if stored.contains(&id) { "stored record" } else { "rejected row" };
            if contains(&bytes, id) {
                found.push(format!("{id} ({what}) in the raw bytes of {}", f.display()));
            }
            if frames.iter().any(|fr| contains(fr, id)) {
                found.push(format!("{id} ({what}) in a zstd frame of {}", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "full ID numbers found in the store:\n{}", found.join("\n"));

    // The hash key.
    let key = d.data.join("id-hash.key");
    assert!(key.is_file(), "{} does not exist", key.display());
    assert_eq!(mode(&key), 0o600, "mode of {}", key.display());
}

#[test]
fn id_numbers_typed_into_case_text_are_masked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_registry(tmp.path(), &mz_tests::registry_as("officer"));
    let id = id_number("110105", "19800101", 12, true);
    let mzd = |args: &[&str]| {
        let out = mz_tests::mzd().args(args).arg("--socket").arg(&d.socket).output().unwrap();
        assert!(out.status.success(), "mzd {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let summary = format!("来访求助，身份证 {id}");
    let opened: serde_json::Value =
        serde_json::from_str(&mzd(&["case", "open", "--street", "ST-01", "--summary", &summary, "--json"])).unwrap();
    let case = opened["id"].as_str().unwrap().to_owned();
    mzd(&["case", "act", &case, "note", &format!("核实证件 {id}")]);
    let shown = mzd(&["case", "show", &case, "--json"]);
    let exported = mzd(&["export", "cases", "--format", "jsonl"]);
    for text in [&shown, &exported] {
        assert!(!text.contains(&id), "an ID number typed into case text is stored in clear:\n{text}");
        assert!(text.contains(&masked(&id)), "it shows masked:\n{text}");
    }
}
