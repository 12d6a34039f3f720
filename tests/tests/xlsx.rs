//! `.xlsx` drops (SPEC §2), written by a real workbook writer the way Excel lays them out: text,
//! numbers, booleans and date cells mapped to the feeds' formats; an ID number Excel stored as a
//! number refused for its row with a reason that says so (its worksheet row in the rejects
//! file); a worksheet that is not a feed, and a `.xlsx` that is not a workbook, quarantined with a
//! reason.

use mz_tests::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;
use std::path::Path;

const ADMISSIONS: [&str; 9] =
    ["record_id", "station_id", "event", "occurred_at", "person_ref", "name", "id_number", "age", "referral"];

/// A cell of a test worksheet.
enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    /// An Excel date-time cell (a number with a date format), local time.
    When(u16, u8, u8, u16, u8),
    Empty,
}

fn write_xlsx(path: &Path, header: &[&str], rows: &[Vec<Cell<'_>>]) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => {
                    sheet.write_string(r, c, *t).unwrap();
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n).unwrap();
                }
                Cell::When(y, mo, d, h, mi) => {
                    let t = ExcelDateTime::from_ymd(*y, *mo, *d).unwrap().and_hms(*h, *mi, 0).unwrap();
                    sheet.write_datetime_with_format(r, c, &t, &date).unwrap();
                }
                Cell::Empty => {}
            }
        }
    }
    book.save(path).unwrap();
}

#[test]
fn a_workbook_is_read_cell_by_cell_and_bad_rows_name_their_worksheet_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let id = id_number("110112", "19800101", 12, true);
    let rows = vec![
        // Row 2: a date cell, an age typed as a number, the ID number as text.
        vec![
            Cell::Text("X-1"),
            Cell::Text("TZ-JZZ"),
            Cell::Text("admit"),
            Cell::When(2026, 11, 20, 8, 30),
            Cell::Text("PX-1"),
            Cell::Text("张三"),
            Cell::Text(&id),
            Cell::Number(46.0),
            Cell::Text("police"),
        ],
        // Row 3: an ID number Excel keeps as a number (its last digits are already gone).
        vec![
            Cell::Text("X-2"),
            Cell::Text("TZ-JZZ"),
            Cell::Text("admit"),
            Cell::Text("2026-11-20 09:00"),
            Cell::Text("PX-2"),
            Cell::Text("李四"),
            Cell::Number(110112198001011230.0),
            Cell::Empty,
            Cell::Text("police"),
        ],
        // Row 4: blank, skipped. Row 5: a text time.
        vec![Cell::Empty],
        vec![
            Cell::Text("X-3"),
            Cell::Text("TZ-JZZ"),
            Cell::Text("admit"),
            Cell::Text("2026-11-20 10:00"),
            Cell::Text("PX-3"),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Text("self"),
        ],
    ];
    let path = dir.path().join("adm.xlsx");
    write_xlsx(&path, &ADMISSIONS, &rows);
    d.drop_file("admissions", "adm.xlsx", std::fs::read(&path).unwrap());
    let s = d.wait_files(1);
    assert_eq!(s["files"]["ingested"], 1, "{s:#}");
    let rejects = std::fs::read_to_string(d.rejects_path("admissions", "adm.xlsx")).unwrap_or_default();
    assert_eq!(s["records"]["admissions"], 2, "{rejects}");
    assert_eq!(s["rejected_rows"]["admissions"], 1, "{s:#}");

    let x1 = d.exported("admissions", "X-1");
    assert!(x1["occurred_at"].as_str().unwrap().starts_with("2026-11-20T08:30:00+08:00"), "{x1:#}");
    assert_eq!(x1["age"], Value::from(46), "{x1:#}");
    assert_eq!(x1["id_number"], masked(&id), "{x1:#}");

    let line = rejects.lines().find(|l| l.contains("X-2")).unwrap_or_else(|| panic!("{rejects}"));
    assert!(line.starts_with("3,"), "worksheet row 3: {line}");
    assert!(line.contains("Excel") && line.contains("数字") && line.contains("文本"), "{line}");
    assert!(rejects.starts_with('\u{feff}'), "rejects file with a BOM");
    assert!(d.archive_dir("admissions").exists());
}

#[test]
fn burial_counts_come_as_numbers_and_dates() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let header = ["记录编号", "墓园编码", "统计日期", "总穴位", "已用穴位"];
    let rows = vec![vec![
        Cell::Text("B-1"),
        Cell::Text("C-SZ"),
        Cell::When(2026, 11, 1, 0, 0),
        Cell::Number(1200.0),
        Cell::Number(300.0),
    ]];
    let path = dir.path().join("b.xlsx");
    write_xlsx(&path, &header, &rows);
    d.drop_file("burials", "b.xlsx", std::fs::read(&path).unwrap());
    let s = d.wait_files(1);
    assert_eq!(s["records"]["burials"], 1, "{s:#}");
    let b = d.exported("burials", "B-1");
    assert_eq!(b["reported_on"], "2026-11-01", "{b:#}");
    assert_eq!(b["capacity_total"], Value::from(1200), "{b:#}");
}

#[test]
fn a_sheet_that_is_not_a_feed_and_a_fake_workbook_are_quarantined_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let path = dir.path().join("menu.xlsx");
    write_xlsx(&path, &["菜名", "价格"], &[vec![Cell::Text("饺子"), Cell::Number(12.0)]]);
    d.drop_file("admissions", "menu.xlsx", std::fs::read(&path).unwrap());
    d.drop_file("admissions", "fake.xlsx", "record_id,station_id\n");
    let s = d.wait_files(2);
    assert_eq!(s["files"]["quarantined"], 2, "{s:#}");
    let q = d.quarantine_dir("admissions");
    let menu = std::fs::read_to_string(q.join("menu.xlsx.reason.txt")).unwrap();
    assert!(menu.contains("第一个工作表") && menu.contains("first worksheet"), "{menu}");
    let fake = std::fs::read_to_string(q.join("fake.xlsx.reason.txt")).unwrap();
    assert!(fake.contains("不是 Excel 工作簿") && fake.contains("not an Excel workbook"), "{fake}");
}

#[test]
fn mzd_check_reads_a_workbook_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adm.xlsx");
    let rows = vec![vec![
        Cell::Text("C-1"),
        Cell::Text("TZ-JZZ"),
        Cell::Text("admit"),
        Cell::When(2026, 11, 20, 8, 30),
        Cell::Text("PC-1"),
        Cell::Empty,
        Cell::Number(110112198001011230.0),
        Cell::Empty,
        Cell::Text("police"),
    ]];
    write_xlsx(&path, &ADMISSIONS, &rows);
    let out = run_mzd(dir.path(), &["check", "adm.xlsx", "--feed", "admissions", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("check --json output");
    assert_eq!(v["encoding"], "xlsx", "{v:#}");
    assert_eq!(v["problems"][0]["line"], 2, "{v:#}");
}
