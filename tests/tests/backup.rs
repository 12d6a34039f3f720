//! `mzd backup DEST_DIR` (admin only) and `mzd rebuild`: a backup restores to the same figures;
//! a rebuild from the archive gives the same records.

use mz_tests::{demo_registry, lf, local_time_ago, mzd, Daemon};
use serde_json::Value;
use std::process::Command;

fn figures(s: &Value) -> (Value, Value, Value) {
    (s["records"].clone(), s["stations"].clone(), s["alerts"].clone())
}

#[test]
fn a_backup_restores_the_same_figures_and_a_rebuild_the_same_records() {
    let tmp = tempfile::tempdir().unwrap();
    let viewer_registry = demo_registry().to_owned();
    let mut d = Daemon::start_with_registry(tmp.path(), &viewer_registry);
    let rows = lf(&[
        "record_id,station_id,event,occurred_at,person_ref,referral,discharge_reason".to_string(),
        format!("BK-1,TZ-P02,admit,{},P-BK1,police,", &local_time_ago(7200)[..16]),
        format!("BK-2,TZ-P02,admit,{},P-BK2,self,", &local_time_ago(3600)[..16]),
        format!("BK-3,TZ-P02,discharge,{},P-BK1,,home", &local_time_ago(1800)[..16]),
    ]);
    d.drop_file("admissions", "bk.csv", rows);
    let before = d.wait_files(1);
    let dest = tmp.path().join("backup");

    // Not an admin (unknown users are viewers): refused.
    let out = mzd().arg("backup").arg(&dest).arg("--socket").arg(&d.socket).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "viewer backup must be refused: {out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin"), "{out:?}");
    assert!(!dest.exists());

    // As admin: written, and refused a second time into the same folder.
    std::fs::write(d.data.join("registry.toml"), mz_tests::registry_as("admin")).unwrap();
    let _ = Command::new("kill").arg("-HUP").arg(d.pid().unwrap().to_string()).status();
    let mut ok = false;
    for _ in 0..100 {
        let out = mzd().arg("backup").arg(&dest).arg("--socket").arg(&d.socket).output().unwrap();
        if out.status.success() {
            ok = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ok, "admin backup failed; log:\n{}", d.log_tail(30));
    let again = mzd().arg("backup").arg(&dest).arg("--socket").arg(&d.socket).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "a non-empty backup folder must be refused");
    let export_before = d.export_raw("admissions", "jsonl");
    d.terminate();

    // Restore the backup into a fresh data folder: same figures, same records.
    let restored = tmp.path().join("restored");
    std::fs::create_dir_all(restored.join("data")).unwrap();
    for item in ["store", "id-hash.key", "registry.toml"] {
        let status = Command::new("cp").arg("-r").arg(dest.join(item)).arg(restored.join("data")).status().unwrap();
        assert!(status.success());
    }
    let r = Daemon::start(&restored);
    assert_eq!(figures(&r.status()), figures(&before));
    assert_eq!(r.export_raw("admissions", "jsonl"), export_before);
    drop(r);

    // Rebuild the original from its archive: same records.
    let out = mzd().arg("rebuild").arg("--data").arg(&d.data).output().unwrap();
    assert!(out.status.success(), "rebuild failed: {out:?}");
    d.spawn();
    assert_eq!(figures(&d.status()).0, figures(&before).0);
    assert_eq!(d.export_raw("admissions", "jsonl"), export_before);
}
