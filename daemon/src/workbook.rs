//! `.xlsx` drops (SPEC §2): the first worksheet of an Excel workbook, read with `calamine`.
//!
//! The worksheet's first non-empty row is the header; each later row is one row of the feed, its
//! `line` the worksheet's own row number (what the clerk sees in Excel). Cells become the text the
//! feed's validation expects:
//! - text as it is; integers and whole numbers without decimals (`50`, not `50.0`); other numbers
//!   in their shortest form;
//! - Excel dates and times as `YYYY-MM-DD` (midnight) or `YYYY-MM-DD HH:MM[:SS]`, read as local
//!   times of the registry's zone like every other feed time;
//! - booleans as `是` / `否`;
//! - an ID number that Excel stored as a **number** is refused for its row: Excel keeps 15
//!   significant digits, so the last digits of an 18-digit number are already lost (the clerk must
//!   format the column as text and export again); so is a cell holding an Excel error (`#N/A`).
//!
//! Rows whose cells are all empty are skipped, as Excel's trailing blank rows are in CSV. A
//! workbook larger than [`MAX_XLSX_BYTES`] is refused as a whole (calamine holds the sheet in
//! memory): export such files as CSV.

use calamine::{Data, Reader, Xlsx};
use mz_shared::feed::{ColumnKind, Feed, HeaderMap};
use mz_shared::reason::Reason;
use std::path::Path;

/// Largest `.xlsx` file read (the worksheet is decoded in memory).
pub const MAX_XLSX_BYTES: u64 = 64 * 1024 * 1024;

/// The rows of a workbook's first worksheet, converted one at a time.
pub struct XlsxRows {
    range: calamine::Range<Data>,
    /// Index (in the range) of the next row to read.
    next: usize,
    /// Worksheet row number of the range's first row, minus one.
    first_row: u32,
    /// The header cells as in the worksheet.
    pub columns: Vec<String>,
    /// Whether each worksheet column holds ID numbers (by the header).
    id_columns: Vec<bool>,
    /// The current row's cells as text (reused).
    pub cells: Vec<String>,
    /// Why the current row cannot be used, if so.
    pub problem: Option<Reason>,
    /// Worksheet row number of the current row.
    pub line: u64,
}

fn unreadable(zh: impl Into<String>, en: impl Into<String>) -> Reason {
    Reason::new(zh, en)
}

/// Opens the workbook and reads the header. `Err` is a reason to quarantine the whole file.
pub fn open(path: &Path, feed: Feed) -> Result<(HeaderMap, XlsxRows), Reason> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_XLSX_BYTES {
        return Err(unreadable(
            format!("Excel 文件超过 {} MB，请另存为 CSV（UTF-8）后重新放入", MAX_XLSX_BYTES >> 20),
            format!(
                "the Excel file is larger than {} MB: save it as CSV (UTF-8) and drop it again",
                MAX_XLSX_BYTES >> 20
            ),
        ));
    }
    let mut book: Xlsx<_> = calamine::open_workbook(path).map_err(|e| {
        unreadable(
            format!("无法作为 Excel 工作簿（.xlsx）打开：{e}；请用 Excel 重新保存后放入"),
            format!("cannot be opened as an Excel workbook (.xlsx): {e}; save it again from Excel"),
        )
    })?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return Err(unreadable(
                format!("无法读取第一个工作表：{e}"),
                format!("cannot read the first worksheet: {e}"),
            ))
        }
        None => return Err(unreadable("工作簿中没有工作表", "the workbook has no worksheet")),
    };
    let first_row = range.start().map_or(0, |(r, _)| r);
    let mut rows = XlsxRows {
        range,
        next: 0,
        first_row,
        columns: Vec::new(),
        id_columns: Vec::new(),
        cells: Vec::new(),
        problem: None,
        line: 0,
    };
    if !rows.advance() {
        return Err(unreadable(
            "第一个工作表是空的（没有表头行），请确认数据在第一个工作表中",
            "the first worksheet is empty (no header row); put the data on the first worksheet",
        ));
    }
    rows.columns = std::mem::take(&mut rows.cells);
    let header = HeaderMap::resolve(feed, &rows.columns).map_err(|e| {
        let r = e.reason();
        unreadable(format!("第一个工作表：{}", r.zh), format!("first worksheet: {}", r.en))
    })?;
    let cols = feed.columns();
    rows.id_columns = (0..rows.columns.len())
        .map(|i| {
            let canonical = header.positions.iter().position(|p| *p == Some(i));
            canonical.is_some_and(|c| cols[c].kind == ColumnKind::IdNumber)
        })
        .collect();
    Ok((header, rows))
}

impl XlsxRows {
    /// Moves to the next row with a non-empty cell; false at the end.
    pub fn advance(&mut self) -> bool {
        let width = self.range.width();
        while self.next < self.range.height() {
            let i = self.next;
            self.next += 1;
            let row: Vec<&Data> = (0..width).filter_map(|c| self.range.get((i, c))).collect();
            if row.iter().all(|d| blank(d)) {
                continue;
            }
            self.line = u64::from(self.first_row) + i as u64 + 1;
            self.problem = None;
            self.cells.clear();
            for (c, d) in row.into_iter().enumerate() {
                let is_id = self.id_columns.get(c).copied().unwrap_or(false);
                match text(d, is_id) {
                    Ok(t) => self.cells.push(t),
                    Err(reason) => {
                        self.problem.get_or_insert_with(|| in_column(self.columns.get(c), reason));
                        self.cells.push(shown(d));
                    }
                }
            }
            return true;
        }
        false
    }
}

fn blank(d: &Data) -> bool {
    match d {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn in_column(column: Option<&String>, r: Reason) -> Reason {
    match column {
        Some(c) => Reason::new(format!("{c}：{}", r.zh), format!("{c}: {}", r.en)),
        None => r,
    }
}

/// A cell as the text validation reads, or why it cannot be used.
fn text(d: &Data, id_number: bool) -> Result<String, Reason> {
    if id_number && matches!(d, Data::Int(_) | Data::Float(_)) {
        return Err(Reason::new(
            "Excel 把身份证号存成了数字（只保留 15 位有效数字，末几位已丢失）；请把该列设置为“文本”格式、重新录入后再导出",
            "Excel stored the ID number as a number (it keeps 15 significant digits, so the last digits are lost); \
             format the column as Text, enter the numbers again and export again",
        ));
    }
    Ok(match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() => date_time(t),
            _ => number(dt.as_f64()),
        },
        Data::Error(e) => {
            return Err(Reason::new(
                format!("单元格是 Excel 错误值 {e}，请修正公式或填入数值"),
                format!("the cell holds the Excel error {e}; fix the formula or enter the value"),
            ))
        }
    })
}

/// A number as a clerk typed it: whole numbers without decimals.
fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

fn date_time(t: chrono::NaiveDateTime) -> String {
    use chrono::Timelike;
    if t.num_seconds_from_midnight() == 0 {
        t.format("%Y-%m-%d").to_string()
    } else if t.second() == 0 {
        t.format("%Y-%m-%d %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// A cell as shown in a rejects file when it cannot be converted.
fn shown(d: &Data) -> String {
    match d {
        Data::Float(f) => f.to_string(),
        Data::Error(e) => e.to_string(),
        other => other.to_string(),
    }
}
