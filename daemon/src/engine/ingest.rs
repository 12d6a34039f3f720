//! File ingest, as the engine runs it: takes one complete inbox file at a time, validates and
//! applies its rows, and commits rows, rejects, figures, counters and the file's ledger entry
//! together.
//!
//! Exactly-once: see [`crate::store::ledger`]. A file's rows are committed in chunks of a few
//! megabytes; each chunk's batch records how many source rows are applied, so a restart after a
//! crash resumes after them. The last batch marks the file done and queues a finalize job that
//! writes the rejects file and moves the file out of the inbox; jobs are re-run at start-up until
//! they are deleted.

use super::lane::CommitLane;
use super::{now_ms, Engine, RECENT_FILES};
use crate::files::{display_name, log_name, move_file, reason_path, unique_path, write_atomic};
use crate::rules::{self, RuleContext};
use crate::source::{self, OpenError, RowReader, SourceFormat};
use crate::state::State;
use crate::store::keys;
use crate::store::ledger::{
    FinalizeJob, HandledFile, HandledKind, LedgerEntry, Outcome, ReasonFile, RejectedRow, RejectsFile, RowCounts,
};
use crate::store::pages::{Encoded, Novelty, RecordIndex};
use crate::store::{encode, StoreError};
use crate::watcher::Candidate;
use jiff::Timestamp;
use mz_shared::cross_district::{id_pairs, CityHasher, HashPair};
use mz_shared::feed::Feed;
use mz_shared::id_number::IdHasher;
use mz_shared::reason::Reason;
use mz_shared::records::Record;
use mz_shared::registry::Registry;
use mz_shared::validate::{validate_row, ValidationContext};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

/// Staged record bytes at which a large file's rows are committed as a chunk.
const CHUNK_BYTES: usize = 2 * 1024 * 1024;
/// Rejected rows at which they are committed as a chunk; compressed, a chunk stays well below a
/// quarter of sled's segment size (reasons repeat a lot).
const CHUNK_REJECTS: usize = 2_000;
/// Handled-file history entries kept for the ingest view.
const HANDLED_KEEP: u64 = 500;

/// Why handling a file failed (the file stays in the inbox and is tried again later).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot move or write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} changed while it was read; it will be taken again once complete")]
    Changed { path: PathBuf },
    #[error("stopped by shutdown; the file will be resumed at the next start")]
    Shutdown,
}

/// Folders under the data folder where handled files go, and the inbox.
#[derive(Debug, Clone)]
pub struct Folders {
    pub archive: PathBuf,
    pub quarantine: PathBuf,
    /// The inbox, whose feed folders' `.mzd-taken/` hold files being read.
    pub inbox: Option<PathBuf>,
}

impl Folders {
    pub fn new(data: &Path) -> Folders {
        Folders { archive: data.join("archive"), quarantine: data.join("quarantine"), inbox: None }
    }

    /// The same with the inbox known.
    pub fn with_inbox(data: &Path, inbox: &Path) -> Folders {
        Folders { inbox: Some(inbox.to_owned()), ..Folders::new(data) }
    }
}

/// The byte order mark that starts every rejects file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Hidden folder inside each feed folder where a file is moved while it is read.
pub const TAKEN_DIR: &str = ".mzd-taken";

/// What one row became.
pub enum RowOutcome {
    Stored,
    Corrected,
    Duplicate,
    /// Rejected; the column at fault when one is.
    Rejected(Option<&'static str>, Reason),
}

/// A row read and validated on the reader thread: the record, or why it is rejected.
struct PreparedRow {
    line: u64,
    result: Result<(Record, Encoded), (Option<&'static str>, Reason)>,
    /// The district and city hashes of the row's ID numbers (with a city key only).
    pairs: Vec<HashPair>,
}

/// A feed file opened for its rows.
struct OpenedFile {
    reader: RowReader,
    progress: FileProgress,
    /// The source's own column names, for its rejects file.
    columns: Vec<String>,
    encoding: source::TextEncoding,
}

/// One file's way through ingest: how many of its rows are read, what they became, and the
/// rejected rows not committed yet. Every part commits it as the file's in-progress ledger
/// entry (with its rejected rows as a chunk), so a restart resumes after the part's rows.
struct FileProgress {
    /// The file's content hash, its ledger key.
    hash: [u8; 32],
    feed: Feed,
    /// Source rows read so far, those applied before a restart (skipped when read again)
    /// included.
    rows_seen: u64,
    reject_chunks: u32,
    counts: RowCounts,
    rejects: Vec<RejectedRow>,
    /// Today's local date, the day rejected rows count on.
    today: String,
}

impl FileProgress {
    fn new(hash: [u8; 32], feed: Feed, registry: &Registry) -> FileProgress {
        let today = registry.time_zone().to_datetime(Timestamp::now()).date().to_string();
        FileProgress {
            hash,
            feed,
            rows_seen: 0,
            reject_chunks: 0,
            counts: RowCounts::default(),
            rejects: Vec::new(),
            today,
        }
    }

    /// Whether the rows staged so far make a part to commit.
    fn part_due(&self, staged_bytes: usize) -> bool {
        staged_bytes >= CHUNK_BYTES || self.rejects.len() >= CHUNK_REJECTS
    }

    /// The batch of a part: its rejected rows and the ledger's in-progress entry.
    fn part_batch(&mut self) -> crate::store::Batch {
        let mut batch = self.rejects_batch();
        let entry =
            LedgerEntry::InProgress { rows: self.rows_seen, reject_chunks: self.reject_chunks, counts: self.counts };
        batch.insert(keys::ledger(&self.hash), encode(&entry));
        batch
    }

    /// The batch of the last part: its rejected rows and the ledger's entry of a file done.
    fn last_batch(&mut self) -> crate::store::Batch {
        let mut batch = self.rejects_batch();
        let entry = LedgerEntry::Done { outcome: Outcome::Archived, counts: self.counts };
        batch.insert(keys::ledger(&self.hash), encode(&entry));
        batch
    }

    /// A batch with the rejected rows not committed yet, as the file's next chunk.
    fn rejects_batch(&mut self) -> crate::store::Batch {
        let mut batch = crate::store::Batch::default();
        if !self.rejects.is_empty() {
            batch.insert(
                keys::rejects(&self.hash, self.reject_chunks),
                encode_rejects(&std::mem::take(&mut self.rejects)),
            );
            self.reject_chunks += 1;
        }
        batch
    }
}

/// What validation needs on the reader thread.
struct Hashers<'a> {
    district: &'a IdHasher,
    /// The city key, for the cross-district checks (SPEC §9).
    city: Option<&'a CityHasher>,
}

/// Rows sent to the engine thread at a time.
const PREPARED_BATCH: usize = 512;

/// The reader thread: reads rows (skipping the first `skip` already applied before a restart),
/// validates them and sends them on in batches. Stops when the receiver is gone.
fn prepare_rows(
    mut reader: RowReader,
    skip: u64,
    missing: Option<Reason>,
    feed: Feed,
    registry: &Registry,
    hashers: Hashers<'_>,
    tx: mpsc::SyncSender<std::io::Result<Vec<PreparedRow>>>,
) {
    let vctx = ValidationContext { registry, hasher: hashers.district };
    let mut seen = 0u64;
    let mut batch = Vec::with_capacity(PREPARED_BATCH);
    loop {
        let (line, result, pairs) = match reader.next_row() {
            Ok(Some(row)) => {
                seen += 1;
                if seen <= skip {
                    continue;
                }
                let result = if let Some(p) = row.problem {
                    Err((None, p))
                } else if let Some(m) = &missing {
                    Err((None, m.clone()))
                } else {
                    validate_row(feed, &row.values, &vctx)
                        .map(|r| {
                            let enc = Encoded::new(&r);
                            (r, enc)
                        })
                        .map_err(|e| (e.column, e.reason))
                };
                let pairs = match (&result, hashers.city) {
                    (Ok(_), Some(city)) => id_pairs(feed, &row.values, hashers.district, city),
                    _ => Vec::new(),
                };
                (row.line, result, pairs)
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        batch.push(PreparedRow { line, result, pairs });
        let full = batch.len() == PREPARED_BATCH;
        if full && tx.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(PREPARED_BATCH)))).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
}

/// Validates one row and applies it to the figures and the staged record pages (`mzd check`,
/// which has no store: `reader` is `None`).
pub fn apply_row(
    index: &mut RecordIndex,
    state: &mut State,
    ctx: &RuleContext<'_>,
    hasher: &IdHasher,
    reader: Option<&crate::store::StoreReader>,
    feed: Feed,
    values: &[Option<&str>],
) -> Result<RowOutcome, StoreError> {
    let vctx = ValidationContext { registry: ctx.registry, hasher };
    match validate_row(feed, values, &vctx) {
        Ok(record) => {
            let enc = Encoded::new(&record);
            apply_record(index, state, ctx, reader, record, enc)
        }
        Err(e) => Ok(RowOutcome::Rejected(e.column, e.reason)),
    }
}

/// Applies a validated record to the figures and the staged record pages.
pub fn apply_record(
    index: &mut RecordIndex,
    state: &mut State,
    ctx: &RuleContext<'_>,
    reader: Option<&crate::store::StoreReader>,
    record: Record,
    enc: Encoded,
) -> Result<RowOutcome, StoreError> {
    let feed = record.feed();
    let previous = match index.novelty(feed, &enc) {
        Novelty::Duplicate => return Ok(RowOutcome::Duplicate),
        Novelty::New => None,
        Novelty::Correction(loc) => Some(index.fetch(reader, feed, loc)?),
    };
    if let Err(reason) = rules::apply(state, ctx, &record, previous.as_ref()) {
        return Ok(RowOutcome::Rejected(None, reason));
    }
    index.stage(feed, &enc);
    Ok(if previous.is_some() { RowOutcome::Corrected } else { RowOutcome::Stored })
}

impl Engine {
    /// Applies a row validated on the reader thread; with a city key, its people go along.
    fn apply_prepared(
        &mut self,
        ctx: &RuleContext<'_>,
        reader: &crate::store::StoreReader,
        record: Record,
        enc: Encoded,
        pairs: &[HashPair],
    ) -> Result<RowOutcome, StoreError> {
        if pairs.is_empty() {
            return apply_record(&mut self.index, &mut self.state, ctx, Some(reader), record, enc);
        }
        let marriage = matches!(record, Record::Marriage(_)).then(|| record.clone());
        if let Some(people) = self.people() {
            people.note(pairs);
        }
        let outcome = apply_record(&mut self.index, &mut self.state, ctx, Some(reader), record, enc)?;
        if let (RowOutcome::Stored, Some(record), Some(people)) = (&outcome, marriage, self.people()) {
            people.stored(&record, pairs);
        }
        Ok(outcome)
    }

    /// Handles one candidate from the watcher.
    pub fn handle(&mut self, candidate: Candidate) -> Result<(), IngestError> {
        self.ensure_open()?;
        fail::fail_point!("engine-handle");
        let started = Instant::now();
        let result = match &candidate {
            Candidate::Feed { path, feed } => {
                if self.is_pending(path) {
                    return Ok(self.run_pending_jobs()?);
                }
                let taken = self.take(path)?;
                self.health.set_reading(true);
                let result = self.ingest_file(&taken, *feed);
                self.health.set_reading(false);
                if result.is_ok() {
                    crate::measured::observe_file(*feed, started.elapsed());
                }
                result
            }
            Candidate::Unsorted { path, reason } => self.quarantine(path, None, None, reason),
            Candidate::Symlink { path, feed, reason } => self.quarantine(path, *feed, None, reason),
        };
        if let Err(IngestError::Store(e)) = &result {
            self.store_error = Some(e.to_string());
        }
        if let Err(e) = &result {
            let path = match &candidate {
                Candidate::Feed { path, .. } | Candidate::Unsorted { path, .. } | Candidate::Symlink { path, .. } => {
                    path
                }
            };
            tracing::warn!(file = %log_name(path), error = %e, elapsed_ms = started.elapsed().as_millis() as u64, "file not handled");
        }
        result
    }

    /// Moves a complete inbox file into the hidden `.mzd-taken/` folder of its feed folder
    /// before reading it, so that nothing that writes to the inbox path later (a `truncate`, a
    /// second upload under the same name) can change the file while it is read: a later write
    /// is a new drop. Same folder tree, so a rename; a file that cannot be read is left where
    /// it is (status names it). Files left there by a crash or a shutdown are taken up again
    /// by [`Engine::taken_leftovers`].
    fn take(&self, path: &Path) -> Result<PathBuf, IngestError> {
        fs::File::open(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
        let Some(dir) = path.parent() else { return Ok(path.to_owned()) };
        if dir.file_name() == Some(std::ffi::OsStr::new(TAKEN_DIR)) {
            return Ok(path.to_owned());
        }
        let taken_dir = dir.join(TAKEN_DIR);
        let werr = |source| IngestError::Write { path: taken_dir.clone(), source };
        crate::files::create_dirs(&taken_dir).map_err(werr)?;
        let dest = unique_path(&taken_dir, path.file_name().unwrap_or_default(), "");
        fs::rename(path, &dest).map_err(werr)?;
        Ok(dest)
    }

    /// Files in the feed folders' `.mzd-taken/` that are not waiting for a finalize job: taken
    /// before a crash, a shutdown or a failure, to be handled again.
    pub fn taken_leftovers(&self) -> Vec<Candidate> {
        let Some(inbox) = &self.folders.inbox else { return Vec::new() };
        let mut out = Vec::new();
        for feed in Feed::ALL {
            let dir = inbox.join(feed.as_str()).join(TAKEN_DIR);
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                let is_file = e.file_type().is_ok_and(|t| t.is_file());
                let name = e.file_name();
                let temporary =
                    name.as_encoded_bytes().ends_with(b".writing") || name.as_encoded_bytes().starts_with(b".");
                if is_file && !temporary && !self.is_pending(&path) {
                    out.push(Candidate::Feed { path, feed });
                }
            }
        }
        out
    }

    /// Stores one feed file: opens it (or finds it handled before), reads and applies its rows
    /// part by part, then commits its last part with its finalize job.
    fn ingest_file(&mut self, path: &Path, feed: Feed) -> Result<(), IngestError> {
        let started = Instant::now();
        let meta = fs::symlink_metadata(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
        let Some(OpenedFile { reader, mut progress, columns, encoding }) = self.open_file(path, feed, &meta)? else {
            return Ok(());
        };
        let result = self.read_rows(path, &meta, reader, &mut progress);
        if let Err(e) = &result {
            self.drop_uncommitted(e);
        }
        result?;
        self.check_unchanged(path, &meta)?;
        let (counts, rows) = (progress.counts, progress.rows_seen);
        self.file_ingested(path, &meta, progress, columns, encoding)?;
        tracing::info!(
            file = %log_name(path), feed = %feed, stored = counts.stored, corrected = counts.corrected,
            duplicate = counts.duplicate, rejected = counts.rejected, rows,
            elapsed_ms = started.elapsed().as_millis() as u64, "file ingested"
        );
        Ok(())
    }

    /// Opens a taken file for its rows, resuming after the rows a crash or a shutdown left
    /// applied. `None` when it needs no reading: the same content was handled before, or the
    /// file cannot be read as a feed file (both are handled here).
    fn open_file(&mut self, path: &Path, feed: Feed, meta: &fs::Metadata) -> Result<Option<OpenedFile>, IngestError> {
        let read_err = |source| IngestError::Read { path: path.to_owned(), source };
        let inspection = source::inspect(path).map_err(read_err)?;
        let hash = inspection.hash;
        let progress = match self.store.get::<LedgerEntry>(&keys::ledger(&hash))? {
            Some(LedgerEntry::Done { outcome, .. }) => {
                return self.duplicate_file(path, feed, meta, outcome).map(|()| None)
            }
            Some(LedgerEntry::InProgress { rows, reject_chunks, counts }) => {
                tracing::info!(file = %log_name(path), rows, "resuming a file interrupted before");
                FileProgress { rows_seen: rows, reject_chunks, counts, ..FileProgress::new(hash, feed, &self.registry) }
            }
            None => FileProgress::new(hash, feed, &self.registry),
        };
        let Some(format) = SourceFormat::of(path) else {
            let reason = Reason::new(
                format!("不支持的文件类型，请使用 {}", SourceFormat::ACCEPTED),
                format!("unsupported file type: use {}", SourceFormat::ACCEPTED),
            );
            return self.quarantine(path, Some(feed), Some(hash), &reason).map(|()| None);
        };
        let encoding = match source::encoding_for(&inspection, format) {
            Ok(e) => e,
            Err(reason) => return self.quarantine(path, Some(feed), Some(hash), &reason).map(|()| None),
        };
        let reader = match RowReader::open(path, feed, format, encoding) {
            Ok(r) => r,
            Err(OpenError::Unreadable(reason)) => {
                return self.quarantine(path, Some(feed), Some(hash), &reason).map(|()| None)
            }
            Err(OpenError::Io(e)) => return Err(read_err(e)),
        };
        if !reader.header().unknown.is_empty() && progress.rows_seen == 0 {
            tracing::info!(file = %log_name(path), columns = %reader.header().unknown.join(", "), "unknown columns ignored");
        }
        Ok(Some(OpenedFile { columns: reader.source_columns(), reader, progress, encoding }))
    }

    /// Reads, validates and applies a file's rows, committing them part by part. Reading and
    /// validation run on a second thread, committing the parts on a third (the lane holds the
    /// store's writer meanwhile); applying rows stays here. The last part stays staged.
    fn read_rows(
        &mut self,
        path: &Path,
        meta: &fs::Metadata,
        reader: RowReader,
        progress: &mut FileProgress,
    ) -> Result<(), IngestError> {
        let read_err = |source| IngestError::Read { path: path.to_owned(), source };
        let registry = self.registry.clone();
        let rule_ctx = RuleContext::new(&registry, Timestamp::now());
        let store_reader = self.store.reader();
        let hasher = self.hasher.clone();
        let city = self.people().map(|p| p.hasher().clone());
        let missing = reader.header().missing_reason();
        // Nothing of this reading is counted yet: the rows seen so far are those applied before.
        let (skip, feed) = (progress.rows_seen, progress.feed);
        let stand_in = self.store.stand_in();
        let writer = std::mem::replace(&mut self.store, stand_in);
        let (result, writer, last) = std::thread::scope(|scope| {
            let mut lane = CommitLane::new(scope, writer);
            let result = (|| -> Result<(), IngestError> {
                let (tx, rx) = mpsc::sync_channel::<std::io::Result<Vec<PreparedRow>>>(8);
                let hashers = Hashers { district: &hasher, city: city.as_ref() };
                let vregistry = &*registry;
                std::thread::Builder::new()
                    .name("mzd-reader".into())
                    .spawn_scoped(scope, move || prepare_rows(reader, skip, missing, feed, vregistry, hashers, tx))
                    .map_err(read_err)?;
                for prepared in rx {
                    self.health.beat();
                    for p in prepared.map_err(read_err)? {
                        let outcome = match p.result {
                            Err((column, reason)) => RowOutcome::Rejected(column, reason),
                            Ok((record, enc)) => {
                                self.apply_prepared(&rule_ctx, &store_reader, record, enc, &p.pairs)?
                            }
                        };
                        self.count_outcome(outcome, p.line, progress);
                        if progress.part_due(self.index.staged_bytes()) {
                            self.check_unchanged(path, meta)?;
                            self.settle_part(&mut lane, path)?;
                            let batch = self.stage_commit(progress.part_batch());
                            lane.send(batch, progress.rows_seen);
                        }
                    }
                }
                self.settle_part(&mut lane, path)
            })();
            let (writer, last) = lane.finish();
            (result, writer, last)
        });
        self.take_back_writer(writer, last, path)?;
        result
    }

    /// Commits a file's last part with its finalize job (the file goes to the archive, its
    /// rejects file is written) and its history entry.
    fn file_ingested(
        &mut self,
        path: &Path,
        meta: &fs::Metadata,
        mut progress: FileProgress,
        columns: Vec<String>,
        encoding: source::TextEncoding,
    ) -> Result<(), IngestError> {
        let batch = progress.last_batch();
        let (feed, counts) = (progress.feed, progress.counts);
        self.resuming.remove(&progress.hash);
        let file_name = path.file_name().unwrap_or_default();
        let dest = unique_path(&self.archive_dir(feed), file_name, "");
        let rejects_file = (counts.rejected > 0).then(|| RejectsFile {
            path: unique_path(&self.folders.quarantine.join(feed.as_str()), file_name, ".rejects.csv"),
            file_hash: progress.hash,
            columns,
            chunks: progress.reject_chunks,
            feed,
            encoding,
        });
        let note = rejects_file.as_ref().map(|r| r.path.display().to_string());
        let job = FinalizeJob {
            src: path.to_owned(),
            inode: meta.ino(),
            dest: dest.clone(),
            reason_file: None,
            rejects: rejects_file,
        };
        self.state.counters_mut().files.ingested += 1;
        let kind = HandledKind::Ingested;
        let handled =
            HandledFile { name: display_name(path), feed: Some(feed), at_ms: now_ms(), kind, counts, dest, note };
        self.finish(batch, job, handled)
    }

    /// Counts what a row became; a rejected row goes to the file's rejects.
    fn count_outcome(&mut self, outcome: RowOutcome, line: u64, progress: &mut FileProgress) {
        let feed = progress.feed;
        progress.rows_seen += 1;
        match outcome {
            RowOutcome::Stored => progress.counts.stored += 1,
            RowOutcome::Corrected => progress.counts.corrected += 1,
            RowOutcome::Duplicate => {
                progress.counts.duplicate += 1;
                self.state.counters_mut().duplicate(feed);
            }
            RowOutcome::Rejected(_, reason) => {
                progress.counts.rejected += 1;
                self.state.counters_mut().reject(feed, &progress.today);
                progress.rejects.push(RejectedRow { line, reason: reason.to_string() });
            }
        }
    }

    /// Takes the result of the part of a large file in flight on `lane`, if any.
    fn settle_part(&mut self, lane: &mut CommitLane<'_, '_>, path: &Path) -> Result<(), IngestError> {
        let waited = Instant::now();
        let Some((rows, result)) = lane.settle() else { return Ok(()) };
        tracing::debug!(waited_us = waited.elapsed().as_micros() as u64, "part settled");
        self.commit_done(result)?;
        tracing::info!(file = %log_name(path), rows, "part of a large file committed");
        fail::fail_point!("ingest-chunk-committed");
        if self.shutdown.is_shutdown() {
            return Err(IngestError::Shutdown);
        }
        Ok(())
    }

    /// Puts the store's writer back from a finished lane, with the result of a part still in
    /// flight when the file stopped early (a read error, a shutdown).
    fn take_back_writer(
        &mut self,
        writer: Option<crate::store::Store>,
        last: Option<super::lane::Settled>,
        path: &Path,
    ) -> Result<(), IngestError> {
        match writer {
            Some(writer) => self.store = writer,
            // The stand-in stays: the store is reopened as after any failed commit.
            None => self.store_failed(&StoreError::Unavailable("the commit thread lost the store".into())),
        }
        if let Some((rows, result)) = last {
            self.commit_done(result)?;
            tracing::info!(file = %log_name(path), rows, "part of a large file committed");
        }
        Ok(())
    }

    /// After a file stopped mid-way (it changed while read, a read failed): what its rows changed
    /// since its last committed part is dropped and the figures are read back from the store, so
    /// that none of it counts when the file is taken again. A shutdown ends the process instead;
    /// a failed commit has closed the store, which reads everything back when it reopens.
    fn drop_uncommitted(&mut self, e: &IngestError) {
        if matches!(e, IngestError::Shutdown) || self.store_is_down() {
            return;
        }
        if let Err(e) = self.reload() {
            self.store_failed(&e);
        }
    }

    fn check_unchanged(&self, path: &Path, meta: &fs::Metadata) -> Result<(), IngestError> {
        let now = fs::symlink_metadata(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
        if now.len() != meta.len() || now.mtime() != meta.mtime() || now.mtime_nsec() != meta.mtime_nsec() {
            return Err(IngestError::Changed { path: path.to_owned() });
        }
        Ok(())
    }

    fn archive_dir(&self, feed: Feed) -> PathBuf {
        let today = Timestamp::now().to_zoned(self.registry.time_zone()).date();
        self.folders.archive.join(feed.as_str()).join(today.to_string())
    }

    /// A file whose content was handled before: counted as a duplicate, moved out of the inbox.
    fn duplicate_file(
        &mut self,
        path: &Path,
        feed: Feed,
        meta: &fs::Metadata,
        original: Outcome,
    ) -> Result<(), IngestError> {
        let name = display_name(path);
        let (dest, reason_file) = match original {
            Outcome::Archived => (unique_path(&self.archive_dir(feed), path.file_name().unwrap_or_default(), ""), None),
            Outcome::Quarantined => {
                let dest =
                    unique_path(&self.folders.quarantine.join(feed.as_str()), path.file_name().unwrap_or_default(), "");
                let reason = Reason::new(
                    "与之前已隔离的文件内容完全相同，未再次处理",
                    "same content as a file quarantined before; not handled again",
                );
                (dest.clone(), Some(ReasonFile { path: reason_path(&dest), text: reason_text(&name, &reason) }))
            }
        };
        self.state.counters_mut().files.duplicates += 1;
        let job =
            FinalizeJob { src: path.to_owned(), inode: meta.ino(), dest: dest.clone(), reason_file, rejects: None };
        self.finish(
            crate::store::Batch::default(),
            job,
            HandledFile {
                name: name.clone(),
                feed: Some(feed),
                at_ms: now_ms(),
                kind: HandledKind::Duplicate,
                counts: RowCounts::default(),
                dest,
                note: None,
            },
        )?;
        tracing::info!(file = %log_name(path), feed = %feed, "duplicate file: same content handled before");
        Ok(())
    }

    /// Moves a file that cannot be read as a whole (or is not a feed file) to quarantine.
    fn quarantine(
        &mut self,
        path: &Path,
        feed: Option<Feed>,
        hash: Option<[u8; 32]>,
        reason: &Reason,
    ) -> Result<(), IngestError> {
        let meta = fs::symlink_metadata(path).map_err(|source| IngestError::Read { path: path.to_owned(), source })?;
        let name = display_name(path);
        let folder = feed.map_or("unsorted", Feed::as_str);
        let dest = unique_path(&self.folders.quarantine.join(folder), path.file_name().unwrap_or_default(), "");
        let mut batch = crate::store::Batch::default();
        if let Some(hash) = hash {
            batch.insert(
                keys::ledger(&hash),
                encode(&LedgerEntry::Done { outcome: Outcome::Quarantined, counts: RowCounts::default() }),
            );
        }
        self.state.counters_mut().files.quarantined += 1;
        let job = FinalizeJob {
            src: path.to_owned(),
            inode: meta.ino(),
            dest: dest.clone(),
            reason_file: Some(ReasonFile { path: reason_path(&dest), text: reason_text(&name, reason) }),
            rejects: None,
        };
        self.finish(
            batch,
            job,
            HandledFile {
                name: name.clone(),
                feed,
                at_ms: now_ms(),
                kind: HandledKind::Quarantined,
                counts: RowCounts::default(),
                dest,
                note: Some(reason.to_string()),
            },
        )?;
        tracing::info!(file = %log_name(path), folder, reason = %reason.en, "file quarantined");
        Ok(())
    }

    /// Commits a file's last batch with its finalize job and history entry, then runs the job.
    fn finish(
        &mut self,
        mut batch: crate::store::Batch,
        job: FinalizeJob,
        handled: HandledFile,
    ) -> Result<(), IngestError> {
        let (job_seq, handled_seq) = {
            let c = self.state.counters_mut();
            c.next_job += 1;
            c.next_handled += 1;
            (c.next_job - 1, c.next_handled - 1)
        };
        let job_key = keys::job(job_seq);
        batch.insert(job_key.clone(), encode(&job));
        batch.insert(keys::handled(handled_seq), encode(&handled));
        if handled_seq >= HANDLED_KEEP {
            batch.remove(keys::handled(handled_seq - HANDLED_KEEP));
        }
        self.commit(batch)?;
        self.recent_files.push_front(handled);
        self.recent_files.truncate(RECENT_FILES);
        self.pending_srcs.insert(job.src.clone());
        Ok(self.try_job(&job_key, &job)?)
    }

    /// Does a finalize job's file-system work (idempotent), then deletes the job.
    pub(super) fn run_job(&mut self, key: &[u8], job: &FinalizeJob) -> Result<(), IngestError> {
        let werr = |path: &Path| {
            let path = path.to_owned();
            move |source| IngestError::Write { path, source }
        };
        if let Some(rj) = &job.rejects {
            self.write_rejects(rj, job).map_err(werr(&rj.path))?;
        }
        if let Some(rf) = &job.reason_file {
            write_atomic(&rf.path, rf.text.as_bytes()).map_err(werr(&rf.path))?;
        }
        move_file(&job.src, job.inode, &job.dest).map_err(werr(&job.dest))?;
        let mut batch = crate::store::Batch::default();
        batch.remove(key);
        if let Some(rj) = &job.rejects {
            for chunk in 0..rj.chunks {
                batch.remove(keys::rejects(&rj.file_hash, chunk));
            }
        }
        self.store.commit(batch)?;
        Ok(())
    }

    /// Writes a rejects file: line and reason from the store, the cells read again from the
    /// source (still in the inbox, or already in the archive after an interrupted job).
    fn write_rejects(&self, rj: &RejectsFile, job: &FinalizeJob) -> std::io::Result<()> {
        let mut rows: Vec<RejectedRow> = Vec::new();
        for chunk in 0..rj.chunks {
            let key = keys::rejects(&rj.file_hash, chunk);
            match self.store.reader().get_raw(&key).map(|v| v.map(|v| decode_rejects(&key, &v))) {
                Ok(Some(r)) => rows.extend(r.map_err(|e| std::io::Error::other(e.to_string()))?),
                // Already written and cleaned up by an earlier run of this job.
                Ok(None) if rj.path.exists() => return Ok(()),
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            }
        }
        let source = match fs::symlink_metadata(&job.src) {
            Ok(m) if m.ino() == job.inode => Some(job.src.clone()),
            _ => job.dest.exists().then(|| job.dest.clone()),
        };
        let cells = match &source {
            Some(path) => source_cells_at(path, rj, &rows)?,
            None => {
                tracing::warn!(file = %log_name(&job.src), "source gone: rejects file written without the rows' cells");
                HashMap::new()
            }
        };
        // Rows may have fewer or more cells than the header: write them as they were.
        // UTF-8 with a BOM (SPEC §2): Excel on Chinese Windows opens it without mojibake.
        let mut out = csv::WriterBuilder::new().flexible(true).from_writer(UTF8_BOM.to_vec());
        let mut header = vec!["line".to_string(), "reason".to_string()];
        header.extend(rj.columns.iter().cloned());
        out.write_record(&header)?;
        for r in rows {
            let mut rec = vec![r.line.to_string(), r.reason];
            rec.extend(cells.get(&r.line).cloned().unwrap_or_default());
            out.write_record(&rec)?;
        }
        let bytes = out.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
        write_atomic(&rj.path, &bytes)
    }
}

/// The source cells of the rows starting at the given lines.
fn source_cells_at(path: &Path, rj: &RejectsFile, rows: &[RejectedRow]) -> std::io::Result<HashMap<u64, Vec<String>>> {
    let wanted: HashSet<u64> = rows.iter().map(|r| r.line).collect();
    let Some(format) = SourceFormat::of(path) else { return Ok(HashMap::new()) };
    let mut reader = match RowReader::open(path, rj.feed, format, rj.encoding) {
        Ok(r) => r,
        Err(OpenError::Io(e)) => return Err(e),
        Err(OpenError::Unreadable(_)) => return Ok(HashMap::new()),
    };
    let mut cells = HashMap::with_capacity(wanted.len());
    while let Some(line) = reader.next_row()?.map(|row| row.line) {
        if wanted.contains(&line) {
            cells.insert(line, reader.source_cells());
            if cells.len() == wanted.len() {
                break;
            }
        }
    }
    Ok(cells)
}

/// A chunk of rejected rows as stored: postcard, then zstd.
fn encode_rejects(rows: &[RejectedRow]) -> Vec<u8> {
    zstd::bulk::compress(&encode(&rows), 3).expect("compressing in memory cannot fail")
}

fn decode_rejects(key: &[u8], bytes: &[u8]) -> Result<Vec<RejectedRow>, StoreError> {
    let raw = zstd::stream::decode_all(bytes)
        .map_err(|e| StoreError::Decode { key: String::from_utf8_lossy(key).into_owned(), detail: e.to_string() })?;
    crate::store::decode(key, &raw)
}

fn reason_text(name: &str, reason: &Reason) -> String {
    format!(
        "文件：{name}\n原因：{}\n\nFile: {name}\nReason: {}\n\n处理时间 / handled at: {}\n",
        reason.zh,
        reason.en,
        Timestamp::now()
    )
}
