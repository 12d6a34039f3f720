//! The file ledger and finalize jobs: what makes ingest exactly-once.
//!
//! A file is known by the BLAKE3 hash of its bytes. Its ledger entry is written in the same
//! batch as its rows: `InProgress` after each chunk of a large file (how many source rows are
//! already applied, so a restart resumes after them), `Done` with the last chunk. The same batch
//! also writes a [`FinalizeJob`]: the file-system work that follows a commit (write the rejects or
//! reason file, move the file out of the inbox). Jobs are idempotent and are run again at
//! start-up until they are deleted, so a crash between the commit and the move loses nothing and
//! counts nothing twice.

use crate::files::path_bytes;
use crate::source::TextEncoding;
use mz_shared::feed::Feed;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The ledger entry of one file content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerEntry {
    /// Some chunks committed: `rows` source rows applied, `reject_chunks` chunks of rejects stored.
    InProgress { rows: u64, reject_chunks: u32, counts: RowCounts },
    /// Fully handled.
    Done { outcome: Outcome, counts: RowCounts },
}

/// How a file was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Header readable: rows stored or rejected; file archived.
    Archived,
    /// File as a whole unreadable; quarantined with a reason file.
    Quarantined,
}

/// What happened to a file's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub stored: u64,
    pub corrected: u64,
    pub duplicate: u64,
    pub rejected: u64,
}

/// File-system work that follows a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalizeJob {
    /// Where the file is in the inbox.
    #[serde(with = "path_bytes")]
    pub src: PathBuf,
    /// Its inode, so that a new file dropped later under the same name is never moved by mistake.
    pub inode: u64,
    /// Where it goes.
    #[serde(with = "path_bytes")]
    pub dest: PathBuf,
    /// A reason file to write beside a quarantined file.
    pub reason_file: Option<ReasonFile>,
    /// A rejects file to write from the stored rejected rows of this file hash.
    pub rejects: Option<RejectsFile>,
}

/// A reason file: where, and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonFile {
    #[serde(with = "path_bytes")]
    pub path: PathBuf,
    pub text: String,
}

/// A rejects file to write. The store keeps only line numbers and reasons: the rows' cells
/// (which may hold ID numbers, never stored in clear) are read again from the source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectsFile {
    #[serde(with = "path_bytes")]
    pub path: PathBuf,
    pub file_hash: [u8; 32],
    /// The source's own columns, after `line` and `reason`.
    pub columns: Vec<String>,
    pub chunks: u32,
    /// How to read the source again.
    pub feed: Feed,
    pub encoding: TextEncoding,
}

/// A rejected row, stored (in chunks) until the rejects file is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: String,
}

/// One handled file, for the ingest view and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandledFile {
    pub name: String,
    pub feed: Option<Feed>,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub kind: HandledKind,
    pub counts: RowCounts,
    /// Where the file went.
    #[serde(with = "path_bytes")]
    pub dest: PathBuf,
    /// Reason for quarantine, or the rejects file.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandledKind {
    Ingested,
    Quarantined,
    Duplicate,
}
