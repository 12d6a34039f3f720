//! The durable store: one sled database under `<data>/store`, written only by the ingest engine.
//!
//! Everything a dropped file changes — its records, its rejected rows, the maintained figures,
//! the counters and its ledger entry — is written as one sled batch per commit, and a commit is
//! only reported done after sled has flushed and the data file (plus any blob file sled wrote) has
//! been `fdatasync`ed: sled's own `flush` does not survive a power cut (see FACTS.md).
//!
//! Layout (one tree, key prefixes; see [`keys`]):
//! - records live in compressed pages, written once ([`pages`]);
//! - large values (pages, page indexes, audit chunks, archived tasks, case blocks) keep their
//!   bytes in the value log beside sled, appended and synced before the batch that refers to
//!   them ([`values`]); which keys are such values is told by the key ([`keys::is_large`]);
//! - the file ledger and the finalize jobs make ingest exactly-once ([`ledger`]);
//! - the maintained figures are small per-entity values ([`crate::state`]);
//! - 救急难 cases live in blocks of 64 by case number and audit entries in chunks of 256, both
//!   postcard compressed with zstd ([`compress`]), so a case costs about what a row costs.

pub mod keys;
pub(crate) mod ledger;
pub(crate) mod pages;
pub(crate) mod values;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use values::{Extent, LogWriter, ValueLog};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled found the database damaged.
    #[error(
        "the store at {path} is damaged ({detail}). Stop mzd, move the folder aside, and rebuild it from the \
         archive with `mzd rebuild`"
    )]
    Corrupt {
        /// The store folder.
        path: PathBuf,
        /// What sled reported.
        detail: String,
    },
    /// Another process holds the store's lock.
    #[error("the store at {path} is in use by another process (only one mzd may open it): {detail}")]
    Locked {
        /// The store folder.
        path: PathBuf,
        /// What the lock attempt reported.
        detail: String,
    },
    /// Any other failure inside sled (a full disk arrives here as `sled::Error::Io`).
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    /// A file or folder of the store could not be created, synced or read.
    #[error("store I/O error on {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A stored value does not decode as the type this build expects.
    #[error(
        "stored value under key {key} cannot be read ({detail}); the store was written by an incompatible version"
    )]
    Decode {
        /// The key, printable (control bytes escaped).
        key: String,
        /// What the decoder said.
        detail: String,
    },
    /// The store is closed (after a failed write, or not opened yet).
    #[error("the store is closed after a write failure and is being reopened: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// True for failures of the disk rather than of the data: a full disk, an I/O error. The
    /// store is closed and reopened once the cause is gone (sled keeps such an error until then).
    pub fn is_io(&self) -> bool {
        matches!(self, StoreError::Sled(sled::Error::Io(_)) | StoreError::Io { .. } | StoreError::Unavailable(_))
    }
}

/// The open database, shared by the writer and every reader; empty while it is being reopened.
/// The open database and its value log.
#[derive(Clone)]
struct Open {
    db: sled::Db,
    values: Arc<ValueLog>,
    /// The generation being replaced, while a compaction's batch is applied.
    previous: Option<Arc<ValueLog>>,
}

type Slot = Arc<RwLock<Option<Open>>>;

fn open_of(slot: &Slot) -> Result<Open, StoreError> {
    let guard = slot.read().unwrap_or_else(|p| p.into_inner());
    guard.clone().ok_or_else(|| StoreError::Unavailable("the store is not open".into()))
}

fn db_of(slot: &Slot) -> Result<sled::Db, StoreError> {
    open_of(slot).map(|o| o.db)
}

impl Open {
    /// The value as the writer gave it: a large value's bytes are read from the value log.
    /// A generation a compaction made after this handle was taken is found through `slot`.
    fn resolve(&self, slot: &Slot, key: &[u8], stored: sled::IVec) -> Result<sled::IVec, StoreError> {
        if !keys::is_large(key) {
            return Ok(stored);
        }
        let extent = Extent::decode(&stored).ok_or_else(|| StoreError::Decode {
            key: String::from_utf8_lossy(key).into_owned(),
            detail: "not a value-log extent".into(),
        })?;
        if let Some(log) = self.log_of(extent.gen) {
            return log.read(key, extent).map(sled::IVec::from);
        }
        match open_of(slot)?.log_of(extent.gen) {
            Some(log) => log.read(key, extent).map(sled::IVec::from),
            None => Err(StoreError::Unavailable("the value log was compacted during the read; read again".into())),
        }
    }

    fn log_of(&self, gen: u32) -> Option<Arc<ValueLog>> {
        [Some(&self.values), self.previous.as_ref()].into_iter().flatten().find(|l| l.gen() == gen).cloned()
    }
}

/// What one commit writes: sled's batch, and the large values whose bytes go to the value log
/// (each replaced in sled's batch by its extent when the commit runs).
#[derive(Default)]
pub struct Batch {
    sled: sled::Batch,
    /// Sets (`Some`) and removals (`None`) of large keys, in the order given.
    large: Vec<(sled::IVec, Option<sled::IVec>)>,
    /// Bytes of the values set in sled's batch (for the commit's debug line).
    inline_bytes: usize,
    /// Values whose bytes are made when the batch is committed.
    deferred: Vec<Deferred>,
}

/// A value of a batch whose bytes are made when the batch is committed, on the thread that
/// commits it: serialising and compressing a commit's bulk values (record pages, case blocks,
/// audit chunks, archived tasks) is left to it, so that the engine goes on with the next rows
/// meanwhile. It yields the key and the bytes; it only reads what it captured (shared,
/// immutable).
pub type Deferred = Box<dyn Fn() -> (Vec<u8>, Vec<u8>) + Send + Sync>;

impl Batch {
    /// Sets `key` to `value` (a large value when [`keys::is_large`] says so).
    pub fn insert(&mut self, key: impl Into<sled::IVec>, value: impl Into<sled::IVec>) {
        let key = key.into();
        if keys::is_large(&key) {
            self.large.push((key, Some(value.into())));
        } else {
            let value = value.into();
            self.inline_bytes += key.len() + value.len();
            self.sled.insert(key, value);
        }
    }

    /// Removes `key` (a large value's bytes stay in the log as garbage).
    pub fn remove(&mut self, key: impl Into<sled::IVec>) {
        let key = key.into();
        if keys::is_large(&key) {
            self.large.push((key.clone(), None));
        }
        self.sled.remove(key);
    }

    /// Sets a value whose key and bytes `make` yields when the batch is committed. Its key is not
    /// set otherwise in the same batch (the order between the two would not be kept).
    pub fn defer(&mut self, make: impl Fn() -> (Vec<u8>, Vec<u8>) + Send + Sync + 'static) {
        self.deferred.push(Box::new(make));
    }

    /// Makes the deferred values and sets them. With `helper`, a second thread shares the work
    /// (each thread takes the next value until none is left): for a commit made on the engine
    /// thread, which waits for it anyway.
    pub fn make_deferred(&mut self, helper: bool) {
        let jobs = std::mem::take(&mut self.deferred);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let run = || {
            let mut out = Vec::new();
            while let Some(job) = jobs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                out.push(job());
            }
            out
        };
        let made = if helper && jobs.len() > 1 {
            std::thread::scope(|s| {
                let other = std::thread::Builder::new().name("mzd-encode".into()).spawn_scoped(s, run);
                if let Err(e) = &other {
                    tracing::debug!(error = %e, "encoder thread not started; encoding on this thread alone");
                }
                let mut made = run();
                if let Ok(other) = other {
                    made.extend(other.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                }
                made
            })
        } else {
            run()
        };
        for (key, bytes) in made {
            self.insert(key, bytes);
        }
    }

    /// The last set of each large key, and the large keys whose last change is a removal.
    fn take_large(&mut self) -> (Vec<(sled::IVec, sled::IVec)>, Vec<sled::IVec>) {
        let mut seen = HashSet::new();
        let (mut set, mut removed) = (Vec::new(), Vec::new());
        for (key, value) in std::mem::take(&mut self.large).into_iter().rev() {
            if !seen.insert(key.clone()) {
                continue;
            }
            match value {
                Some(v) => set.push((key, v)),
                None => removed.push(key),
            }
        }
        set.reverse();
        (set, removed)
    }
}

/// The sled database plus what it takes to make a commit power-cut durable.
pub struct Store {
    slot: Slot,
    dir: PathBuf,
    data_file: Option<File>,
    synced_blobs: HashSet<OsString>,
    /// The value log's writer (`None` while the store is closed).
    values: Option<LogWriter>,
    /// Garbage in the value log that starts a compaction ([`values::COMPACT_MIN`]).
    compact_min: u64,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_for(dir, &StoreReader::closed())
    }

    /// Opens the store in `dir` behind the readers of `reader` (made with
    /// [`StoreReader::closed`] before the store could be opened).
    pub fn open_for(dir: &Path, reader: &StoreReader) -> Result<Store, StoreError> {
        let mut store = Store {
            slot: reader.slot.clone(),
            dir: dir.to_owned(),
            data_file: None,
            synced_blobs: HashSet::new(),
            values: None,
            compact_min: values::COMPACT_MIN,
        };
        store.open_parts()?;
        Ok(store)
    }

    /// Opens sled and the value log (cut to the length sled committed) behind the slot.
    fn open_parts(&mut self) -> Result<(), StoreError> {
        let (db, data_file) = open_db(&self.dir)?;
        let (writer, log) = LogWriter::open(&self.dir, &db)?;
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) =
            Some(Open { db, values: Arc::new(log), previous: None });
        self.data_file = Some(data_file);
        self.values = Some(writer);
        // Blobs present at open were recovered from disk already.
        self.synced_blobs = self.blob_names();
        Ok(())
    }

    /// Opens the store in `dir` once its last handle is gone: sled's flusher thread lets go of
    /// the file lock a moment after the last `Db` is dropped (tests reopen right away).
    #[cfg(test)]
    pub(crate) fn open_released(dir: &Path) -> Result<Store, StoreError> {
        let started = std::time::Instant::now();
        loop {
            match Store::open(dir) {
                Err(StoreError::Locked { .. }) if started.elapsed() < std::time::Duration::from_secs(10) => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    /// Closes the database and opens it again: after a write failure sled refuses every later
    /// write until then. Readers see [`StoreError::Unavailable`] meanwhile. Fails (and stays
    /// closed) while the disk is still full or a reader still holds the old database.
    pub fn reopen(&mut self) -> Result<(), StoreError> {
        self.close();
        self.open_parts()
    }

    /// At shutdown: lets go of the database without dropping it. Every commit is already
    /// durable; dropping sled's last handle flushes once more, which can hang for good after a
    /// write error on a failing disk (seen in the randomised fault run). The process ends next.
    pub fn abandon(&mut self) {
        if let Some(open) = self.slot.write().unwrap_or_else(|p| p.into_inner()).take() {
            std::mem::forget(open.db);
        }
        self.data_file = None;
    }

    /// A handle on the same database without the writer: what the engine keeps while a
    /// committing thread holds the store ([`crate::engine`]'s commit lane). Readers work
    /// through it; a commit through it is refused as the store being closed.
    pub fn stand_in(&self) -> Store {
        Store {
            slot: self.slot.clone(),
            dir: self.dir.clone(),
            data_file: None,
            synced_blobs: HashSet::new(),
            values: None,
            compact_min: self.compact_min,
        }
    }

    /// Closes the database (readers see it unavailable until [`Store::reopen`]).
    pub fn close(&mut self) {
        self.slot.write().unwrap_or_else(|p| p.into_inner()).take();
        self.data_file = None;
        self.values = None;
    }

    fn db(&self) -> Result<sled::Db, StoreError> {
        db_of(&self.slot)
    }

    fn blob_names(&self) -> HashSet<OsString> {
        match std::fs::read_dir(self.dir.join("blobs")) {
            Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect(),
            Err(_) => HashSet::new(),
        }
    }

    /// Applies `batch` atomically and makes it durable against a crash or a power cut.
    /// Large values go first: appended to the value log and synced, then sled's batch holds
    /// their extents and the log's new length ([`values`]).
    pub fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        let t = std::time::Instant::now();
        fail::fail_point!("store-commit", |_| Err(StoreError::Unavailable("injected commit failure".into())));
        let open = open_of(&self.slot)?;
        let mut batch = batch;
        batch.make_deferred(true);
        let (large, removed) = batch.take_large();
        let Batch { sled: mut batch, inline_bytes, .. } = batch;
        let large_bytes: usize = large.iter().map(|(_, v)| v.len()).sum();
        let writer = self.writer()?;
        writer.stage(&open.values, &open.db, &large, &removed, &mut batch)?;
        open.db.apply_batch(batch)?;
        let applied = t.elapsed();
        self.sync()?;
        tracing::debug!(
            inline_bytes,
            large_bytes,
            apply_us = applied.as_micros() as u64,
            total_us = t.elapsed().as_micros() as u64,
            "commit"
        );
        if self.compaction_due() {
            self.compact_values()?;
        }
        Ok(())
    }

    /// True when the value log's garbage calls for a compaction (tests force one at every
    /// commit with the failpoint `values-compact-now=return`).
    fn compaction_due(&self) -> bool {
        fail::fail_point!("values-compact-now", |_| self.values.is_some());
        self.values.as_ref().is_some_and(|w| w.wants_compaction(self.compact_min))
    }

    fn writer(&mut self) -> Result<&mut LogWriter, StoreError> {
        self.values.as_mut().ok_or_else(|| StoreError::Unavailable("the store is not open".into()))
    }

    /// Copies the value log's live values into a new generation and points every key there.
    /// Readers resolve both generations while the batch is applied; the old file goes after.
    fn compact_values(&mut self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let open = open_of(&self.slot)?;
        let writer = self.writer()?;
        let mut compaction = writer.compact(&open.db, &open.values)?;
        fail::fail_point!("values-compacted");
        let both = Open { db: open.db.clone(), values: compaction.log.clone(), previous: Some(open.values.clone()) };
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(both);
        open.db.apply_batch(std::mem::take(&mut compaction.batch))?;
        self.sync()?;
        tracing::info!(
            gen = compaction.log.gen(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "value-log compaction applied; the old generation goes next"
        );
        fail::fail_point!("values-compaction-applied");
        let writer = self.writer()?;
        let log = compaction.finish(writer, &open.values)?;
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Open { db: open.db, values: log, previous: None });
        Ok(())
    }

    /// Flushes sled, then `fdatasync`s every blob file written since the last sync and the data
    /// file that refers to them (blobs first: a synced log record never points at a lost blob).
    pub fn sync(&mut self) -> Result<(), StoreError> {
        let t = std::time::Instant::now();
        self.db()?.flush()?;
        let flushed = t.elapsed();
        self.sync_new_blobs()?;
        let data_file =
            self.data_file.as_ref().ok_or_else(|| StoreError::Unavailable("the store is not open".into()))?;
        data_file.sync_data().map_err(|source| StoreError::Io { path: self.dir.join("db"), source })?;
        tracing::trace!(
            flush_us = flushed.as_micros() as u64,
            sync_us = (t.elapsed() - flushed).as_micros() as u64,
            "sync"
        );
        Ok(())
    }

    fn sync_new_blobs(&mut self) -> Result<(), StoreError> {
        let blobs = self.dir.join("blobs");
        let mut new_blob = false;
        for name in self.blob_names() {
            if self.synced_blobs.contains(&name) {
                continue;
            }
            let path = blobs.join(&name);
            // A blob may be removed by sled's GC between listing and opening: that is fine.
            if let Ok(f) = File::open(&path) {
                f.sync_data().map_err(|source| StoreError::Io { path: path.clone(), source })?;
            }
            self.synced_blobs.insert(name);
            new_blob = true;
        }
        if new_blob {
            sync_dir(&blobs).map_err(|source| StoreError::Io { path: blobs, source })?;
        }
        Ok(())
    }

    /// A handle for concurrent readers (exports). Readers never write; while the store is being
    /// reopened they get [`StoreError::Unavailable`].
    pub fn reader(&self) -> StoreReader {
        StoreReader { slot: self.slot.clone() }
    }

    /// The committed value under `key`, decoded; `None` when there is none.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.reader().get(key)
    }

    /// All values under a key prefix, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(sled::IVec, T), StoreError>> + use<T> {
        self.reader().scan(prefix)
    }

    /// The folder of the database.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes the database and its value log take on disk (0 while it is closed), for status.
    pub fn size_on_disk(&self) -> u64 {
        let sled = self.db().ok().and_then(|db| db.size_on_disk().ok()).unwrap_or(0);
        sled + self.values.as_ref().map_or(0, LogWriter::end)
    }

    /// Brings a store written by an older build to [`keys::LAYOUT_VERSION`]: the large values a
    /// layout-1 store kept in sled move to the value log, under their new keys (page indexes in
    /// their fixed-size form), in one commit (so a crash leaves the store wholly old or wholly
    /// new). A new store just records its layout. Returns how many values moved.
    pub fn upgrade_layout(&mut self) -> Result<usize, StoreError> {
        let layout: Option<u32> = self.get(keys::LAYOUT)?;
        if layout.is_some_and(|l| l >= keys::LAYOUT_VERSION) {
            return Ok(0);
        }
        let db = self.db()?;
        let mut batch = Batch::default();
        let mut moved = 0;
        for prefix in keys::old_large_prefixes() {
            for item in db.scan_prefix(&prefix) {
                let (key, value) = item?;
                let value = match key.first() {
                    Some(b'i') => pages::index_from_layout_1(&key, &value)?.into(),
                    _ => value,
                };
                batch.insert(keys::moved_large_key(&key), value);
                batch.remove(key);
                moved += 1;
            }
        }
        batch.insert(keys::LAYOUT, encode(&keys::LAYOUT_VERSION));
        self.commit(batch)?;
        if moved > 0 {
            tracing::info!(moved, "large values moved to the value log (store layout 2)");
        }
        Ok(moved)
    }
}

/// Opens sled in `dir` (created with mode 0750 if missing) and its data file for `fdatasync`.
fn open_db(dir: &Path) -> Result<(sled::Db, File), StoreError> {
    crate::files::create_dirs(dir).map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
    remove_unfinished_snapshots(dir);
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(32 * 1024 * 1024)
        .segment_size(segment_size(dir))
        .mode(sled::Mode::HighThroughput)
        .open()
        .map_err(|e| match e {
            sled::Error::Corruption { .. } => StoreError::Corrupt { path: dir.to_owned(), detail: e.to_string() },
            sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked { path: dir.to_owned(), detail: e.to_string() }
            }
            other => StoreError::Sled(other),
        })?;
    let data_path = dir.join("db");
    let data_file = File::open(&data_path).map_err(|source| StoreError::Io { path: data_path, source })?;
    // sled writes `conf` (the segment size it must be opened with) but never syncs it: a power
    // cut soon after a store is created could leave it empty (found by the power-cut test).
    let conf = dir.join("conf");
    File::open(&conf).and_then(|f| f.sync_all()).map_err(|source| StoreError::Io { path: conf, source })?;
    // The folder's entries (db, conf, blobs/) must survive a power cut too.
    sync_dir(dir).map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
    Ok((db, data_file))
}

/// sled's segment size for new stores. sled writes a log record larger than a quarter of a
/// segment to a separate blob file; a tree node of 17 entries of a few tens of KB each is that
/// large with the default 512 KiB segments. At recovery sled drops blobs newer than its stable
/// log, and the randomised fault run lost a large file's records that way after a full disk
/// while the file's ledger entry survived. With 8 MiB segments only a record above 2 MiB
/// becomes a blob, and no stored value comes near that.
const SEGMENT_SIZE: usize = 8 * 1024 * 1024;

/// The segment size to open `dir` with: the one it was created with (sled refuses any other),
/// else [`SEGMENT_SIZE`].
fn segment_size(dir: &Path) -> usize {
    let Ok(conf) = std::fs::read_to_string(dir.join("conf")) else { return SEGMENT_SIZE };
    let stored = conf.lines().find_map(|l| l.strip_prefix("segment_size:").and_then(|v| v.trim().parse().ok()));
    match stored {
        Some(size) if size != SEGMENT_SIZE => {
            tracing::warn!(
                segment_size = size,
                "store created with smaller segments: large tree nodes go to blob files"
            );
            size
        }
        Some(size) => size,
        None => SEGMENT_SIZE,
    }
}

/// Removes `snap.*.generating` files: a snapshot sled was writing when the process died (or the
/// disk filled). sled reads such a file at the next open, finds it empty or cut short and
/// reports the whole store as corrupt (seen in the randomised fault run after a kill on a full
/// disk); the finished snapshots and the log are untouched, and sled rebuilds from them.
fn remove_unfinished_snapshots(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            match std::fs::remove_file(e.path()) {
                Ok(()) => tracing::warn!(file = %name, "removed an unfinished snapshot of the store"),
                Err(err) => tracing::warn!(file = %name, error = %err, "cannot remove an unfinished snapshot"),
            }
        }
    }
}

/// Read-only access to the store from other threads.
#[derive(Clone)]
pub struct StoreReader {
    slot: Slot,
}

impl StoreReader {
    /// A reader of a store not open yet: every read is [`StoreError::Unavailable`] until a
    /// store is opened for it ([`Store::open_for`]).
    pub fn closed() -> StoreReader {
        StoreReader { slot: Arc::default() }
    }

    /// The committed value under `key`, decoded; `None` when there is none.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.get_raw(key)? {
            Some(v) => decode(key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// The last key and value under a prefix.
    pub fn last(&self, prefix: &[u8]) -> Result<Option<(sled::IVec, sled::IVec)>, StoreError> {
        let open = open_of(&self.slot)?;
        match open.db.scan_prefix(prefix).next_back().transpose()? {
            Some((k, v)) => Ok(Some((k.clone(), open.resolve(&self.slot, &k, v)?))),
            None => Ok(None),
        }
    }

    /// The committed bytes under `key`, as stored (compressed values stay compressed).
    pub fn get_raw(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        let open = open_of(&self.slot)?;
        open.db.get(key)?.map(|v| open.resolve(&self.slot, key, v)).transpose()
    }

    /// Keys and raw values under a prefix, in key order.
    pub fn scan_raw(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> + use<> {
        let (closed, iter) = match open_of(&self.slot) {
            Ok(open) => (None, Some((open.db.scan_prefix(prefix), open))),
            Err(e) => (Some(Err(e)), None),
        };
        let slot = self.slot.clone();
        let items = iter.into_iter().flat_map(move |(iter, open)| {
            let slot = slot.clone();
            iter.map(move |r| {
                let (k, v) = r?;
                let v = open.resolve(&slot, &k, v)?;
                Ok((k, v))
            })
        });
        closed.into_iter().chain(items)
    }

    /// Keys and decoded values under a prefix, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(sled::IVec, T), StoreError>> + use<T> {
        self.scan_raw(prefix).map(|r| {
            let (k, v) = r?;
            let t = decode(&k, &v)?;
            Ok((k, t))
        })
    }
}

/// Serializes a stored value.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("serializing to memory cannot fail")
}

/// [`encode`] into a buffer of `capacity` bytes to start with (values of a known typical size
/// are then made without growing the buffer).
pub fn encode_sized<T: Serialize>(value: &T, capacity: usize) -> Vec<u8> {
    postcard::to_extend(value, Vec::with_capacity(capacity)).expect("serializing to memory cannot fail")
}

/// First byte of a compressed value ([`compress`]). Plain postcard values of the kinds that
/// may be compressed (audit chunks: a sequence of at most 64 entries) never start with it.
const COMPRESSED: u8 = 0xC1;

/// zstd (level 1) behind a tag byte, for values read whole: case blocks, audit chunks. Each
/// thread keeps its compression context (making one per value showed in the ingest profile).
pub fn compress(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 3 + 16);
    out.push(COMPRESSED);
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> = const { std::cell::RefCell::new(None) };
    }
    let compressed = CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(1).ok();
        }
        match slot.as_mut() {
            Some(c) => c.compress(raw),
            None => zstd::bulk::compress(raw, 1),
        }
    });
    out.extend(compressed.expect("compressing in memory cannot fail"));
    out
}

/// The value [`compress`] was given; a value without the tag is returned as it is.
pub fn decompress<'a>(key: &[u8], bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, StoreError> {
    match bytes.split_first() {
        Some((&COMPRESSED, rest)) => unzstd(rest)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| StoreError::Decode { key: String::from_utf8_lossy(key).into_owned(), detail: e.to_string() }),
        _ => Ok(std::borrow::Cow::Borrowed(bytes)),
    }
}

/// Decompresses one zstd frame with this thread's decompression context (making a context
/// per value cost more than decompressing a block of cases).
fn unzstd(frame: &[u8]) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
    }
    let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(frame) else {
        return zstd::stream::decode_all(frame);
    };
    let size = usize::try_from(size).map_err(|_| std::io::Error::other("frame too large"))?;
    CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new()?);
        }
        slot.as_mut().expect("just set").decompress(frame, size)
    })
}

/// Deserializes a stored value, naming the key on failure.
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes)
        .map_err(|e| StoreError::Decode { key: String::from_utf8_lossy(key).into_owned(), detail: e.to_string() })
}

/// `fsync`s a directory, so that renames and creations inside it survive a power cut.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(store: &Store) -> u64 {
        store.values.as_ref().expect("open").end()
    }

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.retain(|n| n.starts_with("values"));
        names.sort();
        names
    }

    #[test]
    fn a_layout_1_store_moves_its_large_values_to_the_value_log_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let old_index = vec![pages::IndexEntry { id: u64::MAX, content: 3 }, pages::IndexEntry { id: 5, content: 6 }];
        // As an older build wrote them: inline in sled, under lower-case keys.
        let old: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b"pa\0\0\0\x01".to_vec(), b"page one".to_vec()),
            (b"ia\0\0\0\x01".to_vec(), encode(&old_index)),
            (b"u\0\0\0\0\0\0\0\x07".to_vec(), b"audit".to_vec()),
            (b"c\0\0\0\x02".to_vec(), b"cases".to_vec()),
            (b"stask_closed/T1".to_vec(), b"tasks".to_vec()),
            (b"stask_marks/T1".to_vec(), b"marks".to_vec()),
            (b"salert/incident:R1".to_vec(), b"alert".to_vec()),
        ];
        let mut batch = Batch::default();
        for (k, v) in &old {
            batch.insert(k.clone(), v.clone());
        }
        batch.insert(&b"sresident/x"[..], &b"stays in sled"[..]);
        store.commit(batch).unwrap();
        assert_eq!(end(&store), 0, "lower-case keys stay in sled");

        assert_eq!(store.upgrade_layout().unwrap(), 7);
        assert_eq!(store.upgrade_layout().unwrap(), 0, "an upgraded store is left alone");
        drop(store);
        let store = Store::open_released(dir.path()).unwrap();
        let r = store.reader();
        for (k, v) in &old {
            assert_eq!(r.get_raw(k).unwrap(), None, "{k:?} moved");
            let new = keys::moved_large_key(k);
            assert!(keys::is_large(&new));
            let now = r.get_raw(&new).unwrap().expect("moved");
            if new[0] == b'I' {
                assert_eq!(pages::decode_index(&new, &now).unwrap(), old_index, "a page index in its new form");
            } else {
                assert_eq!(&now[..], &v[..], "{new:?} reads as before");
            }
        }
        assert_eq!(r.get_raw(b"TcT1").unwrap().as_deref(), Some(&b"tasks"[..]));
        assert_eq!(r.get_raw(b"sresident/x").unwrap().as_deref(), Some(&b"stays in sled"[..]));
        let scanned: Vec<_> = r.scan_raw(b"Pa").map(|i| i.unwrap().1).collect();
        assert_eq!(scanned, vec![sled::IVec::from(&b"page one"[..])]);
        assert_eq!(r.last(b"U").unwrap().unwrap().1, sled::IVec::from(&b"audit"[..]));
        assert_eq!(r.get_raw(b"Salert/incident:R1").unwrap().as_deref(), Some(&b"alert"[..]));
        assert_eq!(end(&store), 8 + 2 * 16 + 5 + 5 + 5 + 5 + 5, "each value's bytes once");
    }

    #[test]
    fn the_last_change_of_a_large_key_in_a_batch_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::default();
        batch.insert(&b"Pa1"[..], &b"one"[..]);
        batch.insert(&b"Pa2"[..], &b"two"[..]);
        store.commit(batch).unwrap();
        let mut batch = Batch::default();
        batch.remove(&b"Pa1"[..]);
        batch.insert(&b"Pa1"[..], &b"again"[..]);
        batch.insert(&b"Pa2"[..], &b"x"[..]);
        batch.remove(&b"Pa2"[..]);
        batch.insert(&b"Pa3"[..], &b"a"[..]);
        batch.insert(&b"Pa3"[..], &b"b"[..]);
        store.commit(batch).unwrap();
        let r = store.reader();
        assert_eq!(r.get_raw(b"Pa1").unwrap().as_deref(), Some(&b"again"[..]));
        assert_eq!(r.get_raw(b"Pa2").unwrap(), None);
        assert_eq!(r.get_raw(b"Pa3").unwrap().as_deref(), Some(&b"b"[..]));
        assert_eq!(end(&store), 3 + 3 + 5 + 1, "only the last value of a key is written");
        assert_eq!(store.values.as_ref().unwrap().garbage(), 3 + 3, "both replaced values");
    }

    #[test]
    fn bytes_of_a_commit_that_never_reached_sled_are_cut_off_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::default();
        batch.insert(&b"Pa\0\0\0\0"[..], &b"committed"[..]);
        store.commit(batch).unwrap();
        drop(store);
        // A crash after the append, before sled's batch: bytes past the committed length.
        let log = dir.path().join("values.000000");
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        std::io::Write::write_all(&mut f, b"never committed").unwrap();
        let store = Store::open_released(dir.path()).unwrap();
        assert_eq!(std::fs::metadata(&log).unwrap().len(), 9);
        assert_eq!(store.reader().get_raw(b"Pa\0\0\0\0").unwrap().as_deref(), Some(&b"committed"[..]));
        // A log shorter than sled says is damage, reported as such.
        drop(store);
        std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(4).unwrap();
        assert!(matches!(Store::open_released(dir.path()), Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn replaced_values_are_compacted_into_a_new_generation() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.compact_min = 10_000;
        let reader = store.reader();
        let mut batch = Batch::default();
        batch.insert(&b"Pa\0\0\0\0"[..], vec![7u8; 3_000]);
        store.commit(batch).unwrap();
        // A case block changed again and again: each version's bytes become garbage.
        let mut last = Vec::new();
        for i in 0..12u8 {
            last = vec![i; 1_000 + usize::from(i)];
            let mut batch = Batch::default();
            batch.insert(&b"C\0\0\0\0"[..], last.clone());
            store.commit(batch).unwrap();
            assert_eq!(reader.get_raw(b"C\0\0\0\0").unwrap().as_deref(), Some(&last[..]));
        }
        assert_eq!(file_names(dir.path()), ["values.000001"], "compacted once, the old generation deleted");
        assert!(end(&store) < 3_000 + 3 * 1_100, "live bytes and the few versions since: {}", end(&store));
        // A removed key's bytes count as garbage too.
        let mut batch = Batch::default();
        batch.remove(&b"Pa\0\0\0\0"[..]);
        store.commit(batch).unwrap();
        assert_eq!(reader.get_raw(b"Pa\0\0\0\0").unwrap(), None);
        drop((store, reader));
        // A compaction cut short leaves a generation sled does not name: it goes at open.
        std::fs::write(dir.path().join("values.000002"), b"half written").unwrap();
        let store = Store::open_released(dir.path()).unwrap();
        assert_eq!(file_names(dir.path()), ["values.000001"]);
        assert_eq!(store.reader().get_raw(b"C\0\0\0\0").unwrap().as_deref(), Some(&last[..]));
    }
}
