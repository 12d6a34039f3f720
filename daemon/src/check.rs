//! `mzd check FILE`: validates a drop file with the same code as the ingest, storing nothing.
//! Rules that depend on stored data start from an empty store (so a discharge of someone admitted
//! earlier, in another file, is reported). Only regular files are checked: a FIFO, a device, a
//! socket or a directory is refused at once (reading them could block or never end).

use crate::engine::{apply_row, RowOutcome};
use crate::source::{self, OpenError, RowReader, SourceFormat};
use crate::state::State;
use crate::store::pages::RecordIndex;
use mz_shared::feed::Feed;
use mz_shared::id_number::IdHasher;
use mz_shared::reason::Reason;
use mz_shared::registry::Registry;
use serde::Serialize;
use std::path::Path;

/// One problem found in a file.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// 1-based physical line where the row starts; 0 for the file as a whole.
    pub line: u64,
    /// Canonical column name, when one column is at fault.
    pub column: Option<&'static str>,
    /// 1-based position of that column in the file's header.
    pub column_number: Option<usize>,
    /// What is wrong and what to do, in Chinese (ID numbers masked).
    pub reason_zh: String,
    /// The same in English.
    pub reason_en: String,
}

/// The result of checking one file.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The file as given on the command line.
    pub file: String,
    /// The feed it was checked as (`--feed`, or from its folder's name).
    pub feed: Feed,
    /// The text encoding detected (`UTF-8`, `GB18030`, …); none for an `.xlsx` workbook.
    pub encoding: Option<String>,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Rows that would be stored.
    pub valid: u64,
    /// Rows repeating an earlier row of the same file, which the ingest would skip.
    pub duplicates: u64,
    /// Header columns the feed does not know (ignored by the ingest).
    pub unknown_columns: Vec<String>,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// Whether the whole file is valid (`mzd check` exits 0).
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Why a file could not be checked at all (as opposed to a [`Problem`] inside it).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file as given.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// No `--feed` and the file is not in a feed's folder.
    #[error("cannot tell the feed of {0}: it is not in an admissions/, burials/ or marriages/ folder; pass --feed")]
    UnknownFeed(String),
    /// A FIFO, device, socket or folder: refused without opening it.
    #[error("{path} is {what}, not a regular file: only drop files (.csv, .jsonl, .ndjson) can be checked")]
    NotRegular {
        /// The file as given.
        path: String,
        /// What it is instead (`a FIFO`, `a directory`, …).
        what: &'static str,
    },
}

/// Refuses anything but a regular file (a symbolic link to one is followed), without opening it.
fn ensure_regular(path: &Path, shown: &str) -> Result<(), CheckError> {
    let meta = std::fs::metadata(path).map_err(|source| CheckError::Io { path: shown.to_string(), source })?;
    if meta.is_file() {
        return Ok(());
    }
    Err(CheckError::NotRegular { path: shown.to_string(), what: crate::source::file_kind(meta.file_type()) })
}

/// The feed of a file from its folder name, if it is in one of the feed folders.
pub fn feed_of(path: &Path) -> Option<Feed> {
    path.parent().and_then(|p| p.file_name()).and_then(|n| Feed::from_folder(&n.to_string_lossy()))
}

/// Validates the file at `path` as `feed` (default: from its folder) against `registry`, with
/// the ingest's own code and an empty store; nothing is written anywhere.
pub fn check(path: &Path, feed: Option<Feed>, registry: &Registry) -> Result<CheckReport, CheckError> {
    let shown = path.display().to_string();
    ensure_regular(path, &shown)?;
    let feed = feed.or_else(|| feed_of(path)).ok_or_else(|| CheckError::UnknownFeed(shown.clone()))?;
    let io = |source| CheckError::Io { path: shown.clone(), source };
    let mut report = CheckReport {
        file: shown.clone(),
        feed,
        encoding: None,
        rows: 0,
        valid: 0,
        duplicates: 0,
        unknown_columns: Vec::new(),
        problems: Vec::new(),
    };
    let whole = |reason: Reason| Problem {
        line: 0,
        column: None,
        column_number: None,
        reason_zh: reason.zh,
        reason_en: reason.en,
    };
    let Some(format) = SourceFormat::of(path) else {
        report.problems.push(whole(Reason::new(
            format!("不支持的文件类型，请使用 {}", SourceFormat::ACCEPTED),
            format!("unsupported file type: use {}", SourceFormat::ACCEPTED),
        )));
        return Ok(report);
    };
    let inspection = source::inspect(path).map_err(io)?;
    let encoding = match source::encoding_for(&inspection, format) {
        Ok(e) => e,
        Err(reason) => {
            report.problems.push(whole(reason));
            return Ok(report);
        }
    };
    report.encoding = Some(encoding.name().to_owned());
    let mut reader = match RowReader::open(path, feed, format, encoding) {
        Ok(r) => r,
        Err(OpenError::Unreadable(reason)) => {
            report.problems.push(whole(reason));
            return Ok(report);
        }
        Err(OpenError::Io(e)) => return Err(io(e)),
    };
    let missing = reader.header().missing_reason();
    let positions = reader.header().positions.clone();
    let hasher = IdHasher::new([0; 32]);
    let mut index = RecordIndex::default();
    let mut state = State::empty();
    let ctx = crate::rules::RuleContext::new(registry, jiff::Timestamp::now());
    while let Some(row) = reader.next_row().map_err(io)? {
        report.rows += 1;
        let outcome = if let Some(p) = row.problem {
            RowOutcome::Rejected(None, p)
        } else if let Some(m) = &missing {
            RowOutcome::Rejected(None, m.clone())
        } else {
            apply_row(&mut index, &mut state, &ctx, &hasher, None, feed, &row.values).unwrap_or_else(|e| {
                RowOutcome::Rejected(None, Reason::new(format!("内部错误：{e}"), format!("internal error: {e}")))
            })
        };
        match outcome {
            RowOutcome::Stored | RowOutcome::Corrected => report.valid += 1,
            RowOutcome::Duplicate => report.duplicates += 1,
            RowOutcome::Rejected(column, reason) => report.problems.push(Problem {
                line: row.line,
                column,
                column_number: column.and_then(|c| feed.column_index(c)).and_then(|i| positions[i]).map(|p| p + 1),
                reason_zh: reason.zh,
                reason_en: reason.en,
            }),
        }
    }
    report.unknown_columns = reader.header().unknown.clone();
    Ok(report)
}
