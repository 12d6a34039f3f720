//! Helpers shared by the test files that need the csv crate (a dev-dependency).
#![allow(dead_code)]

use mz_tests::{today_local, walk, Daemon};
use std::fs;
use std::path::{Path, PathBuf};

/// A rejects file: its header and rows, parsed as CSV. Fails unless it is UTF-8 (a BOM is
/// tolerated) and every row has as many cells as the header.
pub fn read_rejects(d: &Daemon, path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = fs::read(path).unwrap_or_else(|e| d.fail(&format!("cannot read rejects file {}: {e}", path.display())));
    let text = std::str::from_utf8(&bytes).unwrap_or_else(|e| d.fail(&format!("{} is not UTF-8: {e}", path.display())));
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .unwrap_or_else(|e| d.fail(&format!("{}: bad CSV header: {e}", path.display())))
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            rec.unwrap_or_else(|e| d.fail(&format!("{}: bad CSV row: {e}\n{text}", path.display())))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, rows)
}

/// Asserts the rejects file of `feed/name`: header `line,reason,<source columns>`, and exactly
/// the rows `expected` = (line, value of `key_column`) in that order, each with a non-empty
/// reason. Returns the rows.
pub fn assert_rejects(
    d: &Daemon,
    feed: &str,
    name: &str,
    source_columns: &[&str],
    key_column: &str,
    expected: &[(u64, &str)],
) -> Vec<Vec<String>> {
    let path = d.rejects_path(feed, name);
    if !path.is_file() {
        d.fail(&format!(
            "rejects file {} does not exist; quarantine holds: {:?}",
            path.display(),
            walk(&d.data.join("quarantine"))
        ));
    }
    let (header, rows) = read_rejects(d, &path);
    let mut want_header = vec!["line".to_string(), "reason".to_string()];
    want_header.extend(source_columns.iter().map(|c| c.to_string()));
    if header != want_header {
        d.fail(&format!("{}: header {header:?}, expected {want_header:?}", path.display()));
    }
    let key = header.iter().position(|h| h == key_column).expect("key column in header");
    let got: Vec<(u64, String)> = rows
        .iter()
        .map(|r| {
            (
                r[0].parse::<u64>().unwrap_or_else(|_| d.fail(&format!("line {:?} is not a number", r[0]))),
                r[key].clone(),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = expected.iter().map(|(l, k)| (*l, k.to_string())).collect();
    if got != want {
        d.fail(&format!(
            "{}: (line, {key_column}) of the rejected rows are\n  {got:?}\nexpected\n  {want:?}\nfull rows: {rows:#?}",
            path.display()
        ));
    }
    for r in &rows {
        if r[1].trim().is_empty() {
            d.fail(&format!("{}: empty reason in row {r:?}", path.display()));
        }
    }
    rows
}

/// Asserts that `name` was archived exactly once, under `archive/<feed>/<date>/` with `date`
/// today in the registry's zone (Asia/Shanghai; `day_before` is accepted too, for runs across
/// midnight), and that it left the inbox. Returns its archived path.
pub fn assert_archived(d: &Daemon, feed: &str, name: &str, day_before: &str) -> PathBuf {
    let today = today_local();
    let found: Vec<PathBuf> =
        walk(&d.archive_dir(feed)).into_iter().filter(|p| p.file_name().is_some_and(|n| n == name)).collect();
    if found.len() != 1 {
        d.fail(&format!(
            "expected {name} archived once under {}, found {found:?}; archive holds {:?}",
            d.archive_dir(feed).display(),
            walk(&d.data.join("archive"))
        ));
    }
    let date_dir = found[0].parent().unwrap();
    let date = date_dir.file_name().unwrap().to_string_lossy().into_owned();
    if date_dir.parent().unwrap() != d.archive_dir(feed) || (date != today && date != day_before) {
        d.fail(&format!("{} is not in archive/{feed}/{today}/", found[0].display()));
    }
    if d.inbox.join(feed).join(name).exists() {
        d.fail(&format!("{feed}/{name} is still in the inbox"));
    }
    found[0].clone()
}
