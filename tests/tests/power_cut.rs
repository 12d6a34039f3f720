//! A power cut, simulated: `mzd run` runs with an LD_PRELOAD recorder (`tests/powercut/shim.c`)
//! that keeps, at every fsync/fdatasync, the synced file's content and the namespace of the
//! data folder — what a journaling file system in ordered mode still has after losing power
//! (content only as last synced; names as of the last journal commit, which any fsync makes).
//! The daemon is SIGKILLed in the middle of a large file, the data folder is rebuilt from the
//! record alone (nothing written but not synced survives), and a plain `mzd run` on the rebuilt
//! folder must show the file acknowledged before the cut whole, and the one in hand ingested
//! again from its start or its last durable part, with nothing counted twice.

use mz_tests::{local_time_ago, Daemon, POLL};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const HEADER: &str = "record_id,station_id,event,occurred_at,person_ref,referral";

/// `n` admits at TZ-JZZ, each followed by a row for an unknown station (rejected): the file
/// commits in parts, one every 2,000 rejected rows.
fn admissions(prefix: &str, n: usize) -> String {
    let at = &local_time_ago(3_600)[..16];
    let mut out = format!("{HEADER}\n");
    for i in 0..n {
        out.push_str(&format!("{prefix}-{i},TZ-JZZ,admit,{at},{prefix}-P{i},police\n"));
        out.push_str(&format!("{prefix}-X{i},TZ-NOPE,admit,{at},{prefix}-Q{i},police\n"));
    }
    out
}

/// Builds the recorder with the C compiler of the machine.
fn build_shim(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("powercut/shim.c");
    let out = dir.join("shim.so");
    let st = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .args(["-ldl", "-lpthread"])
        .status()
        .expect("running cc (the C compiler) to build the power-cut recorder");
    assert!(st.success(), "cc failed on {}", src.display());
    out
}

/// What a file that the test itself wrote and synced leaves after a power cut: its content,
/// recorded by inode as the recorder does.
fn record_synced(shadow: &Path, path: &Path) {
    let m = fs::metadata(path).unwrap();
    fs::copy(path, shadow.join("files").join(format!("{}-{}", m.dev(), m.ino()))).unwrap();
}

/// Drops a feed file as a careful uploader does (synced before it appears under its name).
fn drop_synced(d: &Daemon, shadow: &Path, name: &str, text: &str) {
    let dir = d.inbox.join("admissions");
    let tmp = dir.join(format!(".{name}.part"));
    let mut f = fs::File::create(&tmp).unwrap();
    std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
    f.sync_all().unwrap();
    let dest = dir.join(name);
    fs::rename(&tmp, &dest).unwrap();
    fs::File::open(&dir).unwrap().sync_all().unwrap();
    record_synced(shadow, &dest);
}

/// The data folder as the recorder last saw it durable: directories and names from the last
/// namespace, each file with its last synced content (empty when it never was synced).
fn rebuild(shadow: &Path, into: &Path) -> (usize, Vec<String>) {
    let ns = fs::read_to_string(shadow.join("namespace")).expect("the recorder saw at least one fsync");
    let (mut whole, mut emptied) = (0, Vec::new());
    for line in ns.lines() {
        let mut parts = line.splitn(3, '\t');
        let (kind, inode, rel) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap_or(""));
        let path = into.join(rel.trim_start_matches('/'));
        match kind {
            "d" => fs::create_dir_all(&path).unwrap(),
            _ => {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                match fs::read(shadow.join("files").join(inode)) {
                    Ok(bytes) => {
                        fs::write(&path, bytes).unwrap();
                        whole += 1;
                    }
                    Err(_) => {
                        fs::write(&path, b"").unwrap();
                        emptied.push(rel.to_owned());
                    }
                }
            }
        }
    }
    (whole, emptied)
}

fn wait_log(d: &Daemon, needle: &str) {
    let start = Instant::now();
    while !fs::read_to_string(&d.log).unwrap_or_default().contains(needle) {
        assert!(start.elapsed() < Duration::from_secs(180), "never logged {needle:?}:\n{}", d.log_tail(30));
        std::thread::sleep(POLL);
    }
}

fn figures(s: &Value) -> Value {
    serde_json::json!({
        "files": s["files"]["ingested"], "records": s["records"]["admissions"],
        "rejected": s["rejected_rows"]["admissions"], "duplicates": s["duplicate_rows"]["admissions"],
        "occupied": mz_tests::station(s, "TZ-JZZ").map(|st| st["occupied"].clone()),
    })
}

#[test]
fn a_power_cut_mid_file_keeps_what_was_acknowledged_and_takes_the_rest_again() {
    let tmp = tempfile::tempdir().unwrap();
    let shim = build_shim(tmp.path());
    let shadow = tmp.path().join("shadow");
    fs::create_dir_all(shadow.join("files")).unwrap();

    let mut d = Daemon::prepare(&tmp.path().join("before"));
    let root = fs::canonicalize(&d.data).unwrap();
    record_synced(&shadow, &root.join("registry.toml"));
    d.env = vec![
        ("LD_PRELOAD".into(), shim.display().to_string()),
        ("MZ_PC_ROOT".into(), root.display().to_string()),
        ("MZ_PC_SHADOW".into(), shadow.display().to_string()),
        // The engine waits after the first committed part of the big file: the cut comes there.
        ("FAILPOINTS".into(), "ingest-chunk-committed=1*sleep(600000)".into()),
    ];
    d.spawn();
    drop_synced(&d, &shadow, "small.csv", &admissions("S", 50));
    d.wait_files(1);
    drop_synced(&d, &shadow, "big.csv", &admissions("B", 6_000));
    wait_log(&d, "part of a large file committed");
    d.kill9(); // the power cut: everything not synced is gone

    let after = tmp.path().join("after");
    let (whole, emptied) = rebuild(&shadow, &after.join("data"));
    assert!(whole >= 4, "the store, the key, the registry and the acknowledged file survive ({whole} files)");
    // sled never syncs its `conf`; the daemon does, so every file it needs survives whole.
    assert!(emptied.is_empty(), "files whose content was never synced: {emptied:?}");
    eprintln!("rebuilt: {whole} files with their synced content; left empty (never synced): {emptied:?}");
    let mut r = Daemon::prepare(&after);
    r.spawn();
    let got = r.wait_files_for(Duration::from_secs(180), 2);
    let log = fs::read_to_string(&r.log).unwrap();
    assert!(log.contains("resuming a file interrupted before"), "the big file resumes after its durable part:\n{log}");
    let rejects = fs::read_to_string(r.rejects_path("admissions", "big.csv")).unwrap_or_default();

    // The reference: both files through an undisturbed daemon.
    let mut clean = Daemon::prepare(&tmp.path().join("clean"));
    clean.spawn();
    clean.drop_file("admissions", "small.csv", admissions("S", 50));
    clean.wait_files(1);
    clean.drop_file("admissions", "big.csv", admissions("B", 6_000));
    let want = clean.wait_files_for(Duration::from_secs(180), 2);
    assert_eq!(figures(&got), figures(&want), "after the cut (emptied: {emptied:?})");
    assert_eq!(rejects.lines().count(), 6_001, "every rejected row once in the rejects file, with its header");
    assert_eq!(r.exported("admissions", "S-49")["station_id"], "TZ-JZZ", "the acknowledged file is whole");
}
