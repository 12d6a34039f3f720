//! Drop files written the ways offices write them: CSV (UTF-8, UTF-8 with a BOM and CRLF, GBK
//! with the Chinese header names) or JSON lines, from rows of cells. Shared by the tests that
//! generate many files (the crash test, the fault soak).

use serde_json::{json, Map, Value};

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 CSV with the canonical header names.
    Csv,
    /// UTF-8 CSV with a byte-order mark, as Excel writes it.
    CsvBom,
    /// GBK with the Chinese header names.
    CsvGbk,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The file name extension.
    pub fn ext(self) -> &'static str {
        if self == Format::Jsonl {
            "jsonl"
        } else {
            "csv"
        }
    }
}

/// Column names: (English, Chinese).
pub type Cols = &'static [(&'static str, &'static str)];

/// Columns whose JSONL values are written as numbers when they are numbers.
const NUMERIC: [&str; 6] =
    ["age", "capacity_total", "occupied", "new_interments", "eco_interments", "free_basic_services"];

/// A CSV cell, quoted when it must be.
pub fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The bytes of a file with the header `cols` and `rows` (one cell per column; empty cells are
/// left out of JSON lines).
pub fn render(cols: Cols, rows: &[Vec<String>], format: Format) -> Vec<u8> {
    let csv = |zh: bool, eol: &str| -> String {
        let mut out = cols.iter().map(|(en, c)| if zh { *c } else { *en }).collect::<Vec<_>>().join(",");
        out.push_str(eol);
        for r in rows {
            out.push_str(&r.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
            out.push_str(eol);
        }
        out
    };
    match format {
        Format::Csv => csv(false, "\n").into_bytes(),
        Format::CsvBom => format!("\u{feff}{}", csv(false, "\r\n")).into_bytes(),
        Format::CsvGbk => crate::gbk(&csv(true, "\r\n")),
        Format::Jsonl => {
            let mut out = String::new();
            for r in rows {
                let mut m = Map::new();
                for ((en, _), v) in cols.iter().zip(r).filter(|(_, v)| !v.is_empty()) {
                    let value = match v.parse::<u64>() {
                        Ok(n) if NUMERIC.contains(en) => json!(n),
                        _ => json!(v),
                    };
                    m.insert(en.to_string(), value);
                }
                out.push_str(&Value::Object(m).to_string());
                out.push('\n');
            }
            out.into_bytes()
        }
    }
}
