//! The value log: the bytes of the store's large values (record pages, their indexes, audit
//! chunks, archived tasks, case blocks), kept out of sled's tree.
//!
//! sled 0.34 keeps values inline in its leaf nodes and rewrites a whole node every ten changes
//! and at every split, so a value reaches the disk about three times (measured: 2.5–2.9× the
//! values' size, whatever the batch size). Here a large value is appended once to
//! `<store>/values.<generation>`, and sled holds only a 24-byte [`Extent`] under its key.
//! Which keys are large is a property of the key alone ([`keys::is_large`]).
//!
//! Invariants:
//! - A commit appends its large values and `fdatasync`s the log *before* sled applies the batch
//!   holding their extents and the log's new length ([`keys::VALUES`]); an extent in sled
//!   therefore always points at bytes on disk.
//! - Bytes past the committed length belong to a commit that never happened (a crash between
//!   the two steps): opening the store cuts them off, so they are never read nor kept.
//! - Every extent carries the hash of its bytes and the log's generation; a read that finds
//!   other bytes is an error, never a wrong record.
//! - A value replaced or removed leaves its old bytes behind as garbage, counted. When garbage
//!   outgrows both the live bytes and [`COMPACT_MIN`], [`Compaction`] copies the live values to
//!   a new generation, synced, then sled's batch points every key there and names it current;
//!   the old file is deleted after. Opening a store deletes every generation but the current:
//!   a crash mid-compaction leaves the old generation current and whole.

use super::{keys, StoreError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use xxhash_rust::xxh3::xxh3_64;

/// Garbage below which the log is never compacted.
pub const COMPACT_MIN: u64 = 64 * 1024 * 1024;

/// The file of generation `gen` in the store folder `dir`.
fn file_of(dir: &Path, gen: u32) -> PathBuf {
    dir.join(format!("values.{gen:06}"))
}

/// The generation a value-log file name names.
fn gen_of(name: &str) -> Option<u32> {
    name.strip_prefix("values.").and_then(|g| g.parse().ok())
}

/// Where a large value's bytes are, and their hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub gen: u32,
    pub offset: u64,
    pub len: u32,
    pub hash: u64,
}

impl Extent {
    const ENCODED: usize = 24;

    pub fn encode(&self) -> [u8; Self::ENCODED] {
        let mut out = [0u8; Self::ENCODED];
        out[..4].copy_from_slice(&self.gen.to_be_bytes());
        out[4..12].copy_from_slice(&self.offset.to_be_bytes());
        out[12..16].copy_from_slice(&self.len.to_be_bytes());
        out[16..].copy_from_slice(&self.hash.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Extent> {
        let b: &[u8; Self::ENCODED] = bytes.try_into().ok()?;
        Some(Extent {
            gen: u32::from_be_bytes(b[..4].try_into().ok()?),
            offset: u64::from_be_bytes(b[4..12].try_into().ok()?),
            len: u32::from_be_bytes(b[12..16].try_into().ok()?),
            hash: u64::from_be_bytes(b[16..].try_into().ok()?),
        })
    }
}

/// The log's current generation and committed length, as sled keeps them under [`keys::VALUES`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogMeta {
    pub gen: u32,
    pub end: u64,
}

impl LogMeta {
    pub fn encode(&self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..4].copy_from_slice(&self.gen.to_be_bytes());
        out[4..].copy_from_slice(&self.end.to_be_bytes());
        out
    }

    fn read(db: &sled::Db) -> Result<LogMeta, StoreError> {
        let Some(v) = db.get(keys::VALUES)? else { return Ok(LogMeta::default()) };
        let bad = || StoreError::Decode { key: "m/values".into(), detail: "not 12 bytes".into() };
        let b: &[u8; 12] = v.as_ref().try_into().map_err(|_| bad())?;
        Ok(LogMeta {
            gen: u32::from_be_bytes(b[..4].try_into().map_err(|_| bad())?),
            end: u64::from_be_bytes(b[4..].try_into().map_err(|_| bad())?),
        })
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_owned(), source }
}

/// One generation of the log, open for reading from any thread.
#[derive(Debug)]
pub struct ValueLog {
    file: File,
    path: PathBuf,
    gen: u32,
}

impl ValueLog {
    fn open_file(dir: &Path, gen: u32, create_new: bool) -> Result<ValueLog, StoreError> {
        let path = file_of(dir, gen);
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(create_new)
            .mode(0o640)
            .open(&path)
            .map_err(io(&path))?;
        if !existed {
            super::sync_dir(dir).map_err(io(dir))?;
        }
        Ok(ValueLog { file, path, gen })
    }

    pub fn gen(&self) -> u32 {
        self.gen
    }

    /// The bytes of `extent`, checked against its hash; `key` names the value in errors.
    pub fn read(&self, key: &[u8], extent: Extent) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0u8; extent.len as usize];
        self.file.read_exact_at(&mut buf, extent.offset).map_err(io(&self.path))?;
        if extent.gen != self.gen || xxh3_64(&buf) != extent.hash {
            return Err(StoreError::Decode {
                key: String::from_utf8_lossy(key).into_owned(),
                detail: format!("the value log's bytes at {} do not match their hash", extent.offset),
            });
        }
        Ok(buf)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), StoreError> {
        self.file.write_all_at(buf, offset).map_err(io(&self.path))
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.file.sync_data().map_err(io(&self.path))
    }
}

/// The writer's side of the log: its committed length and how much of it is live.
#[derive(Debug)]
pub struct LogWriter {
    dir: PathBuf,
    meta: LogMeta,
    live: u64,
}

/// The extent stored under `key` in sled, if it is a large key holding one.
fn stored_extent(db: &sled::Db, key: &[u8]) -> Result<Option<Extent>, StoreError> {
    Ok(db.get(key)?.and_then(|v| Extent::decode(&v)))
}

/// Every large key and its extent, in key order.
fn large_entries(db: &sled::Db) -> impl Iterator<Item = Result<(sled::IVec, Extent), StoreError>> {
    db.range(&b"A"[..]..&b"["[..]).filter_map(|item| match item {
        Ok((k, v)) => Extent::decode(&v).map(|e| Ok((k, e))),
        Err(e) => Some(Err(e.into())),
    })
}

impl LogWriter {
    /// Opens the current generation of the store in `dir`, cut to the length sled committed,
    /// and deletes every other generation. A log shorter than that lost committed values: the
    /// store is damaged.
    pub fn open(dir: &Path, db: &sled::Db) -> Result<(LogWriter, ValueLog), StoreError> {
        let meta = LogMeta::read(db)?;
        remove_other_generations(dir, meta.gen)?;
        let log = ValueLog::open_file(dir, meta.gen, false)?;
        let len = log.file.metadata().map_err(io(&log.path))?.len();
        if len < meta.end {
            return Err(StoreError::Corrupt {
                path: dir.to_owned(),
                detail: format!("the value log holds {len} bytes but the store refers to {}", meta.end),
            });
        }
        if len > meta.end {
            tracing::info!(uncommitted = len - meta.end, "cutting off values of a commit that did not happen");
            log.file.set_len(meta.end).map_err(io(&log.path))?;
            log.file.sync_all().map_err(io(&log.path))?;
        }
        let mut live = 0;
        for item in large_entries(db) {
            live += u64::from(item?.1.len);
        }
        Ok((LogWriter { dir: dir.to_owned(), meta, live }, log))
    }

    /// The log's committed length.
    pub fn end(&self) -> u64 {
        self.meta.end
    }

    /// Bytes no key refers to any more.
    pub fn garbage(&self) -> u64 {
        self.meta.end - self.live
    }

    /// Appends `large` to `log` and makes it durable, then puts each value's extent and the
    /// log's new length into `batch`. `removed` are large keys the batch removes.
    pub fn stage(
        &mut self,
        log: &ValueLog,
        db: &sled::Db,
        large: &[(sled::IVec, sled::IVec)],
        removed: &[sled::IVec],
        batch: &mut sled::Batch,
    ) -> Result<(), StoreError> {
        if large.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(large.iter().map(|(_, v)| v.len()).sum());
        for (key, value) in large {
            let len = u32::try_from(value.len()).expect("large values are far below 4 GiB");
            let extent = Extent { gen: log.gen, offset: self.meta.end + buf.len() as u64, len, hash: xxh3_64(value) };
            buf.extend_from_slice(value);
            batch.insert(key.clone(), &extent.encode()[..]);
            self.replace(db, key, u64::from(len))?;
        }
        for key in removed {
            self.replace(db, key, 0)?;
        }
        if !buf.is_empty() {
            log.write_at(&buf, self.meta.end)?;
            log.sync()?;
            tracing::debug!(bytes = buf.len(), "value log appended and synced");
            // Tests stop here to kill the daemon between the value log and sled's batch.
            fail::fail_point!("values-appended");
        }
        // Even if sled fails after this, these bytes are not written over before a reopen (which
        // cuts them off and counts the live bytes again): a failed batch may stay readable.
        self.meta.end += buf.len() as u64;
        batch.insert(keys::VALUES, &self.meta.encode()[..]);
        Ok(())
    }

    /// Counts `key`'s stored value as garbage and `new_len` bytes as live.
    fn replace(&mut self, db: &sled::Db, key: &[u8], new_len: u64) -> Result<(), StoreError> {
        let old = stored_extent(db, key)?.map_or(0, |e| u64::from(e.len));
        self.live = self.live + new_len - old.min(self.live);
        Ok(())
    }

    /// True when compacting would at least halve the log and free [`COMPACT_MIN`] or more.
    pub fn wants_compaction(&self, min: u64) -> bool {
        self.garbage() >= min && self.garbage() >= self.live
    }

    /// Copies every live value of `from` into a new generation and syncs it. The caller applies
    /// the returned batch (every large key pointed at the new generation, which it names
    /// current), then calls [`Compaction::finish`].
    pub fn compact(&mut self, db: &sled::Db, from: &ValueLog) -> Result<Compaction, StoreError> {
        let log = ValueLog::open_file(&self.dir, from.gen + 1, true)?;
        let mut batch = sled::Batch::default();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, FileWriter { log: &log, at: 0 });
        let mut end = 0u64;
        for item in large_entries(db) {
            let (key, extent) = item?;
            let bytes = from.read(&key, extent)?;
            out.write_all(&bytes).map_err(io(&log.path))?;
            let moved = Extent { gen: log.gen, offset: end, ..extent };
            batch.insert(key, &moved.encode()[..]);
            end += bytes.len() as u64;
        }
        out.flush().map_err(io(&log.path))?;
        drop(out);
        log.sync()?;
        let meta = LogMeta { gen: log.gen, end };
        batch.insert(keys::VALUES, &meta.encode()[..]);
        tracing::info!(before = self.meta.end, after = end, "value log compacted");
        Ok(Compaction { log: Arc::new(log), meta, batch })
    }
}

/// A compaction written and synced, waiting for its batch to be applied.
pub struct Compaction {
    pub log: Arc<ValueLog>,
    meta: LogMeta,
    pub batch: sled::Batch,
}

impl Compaction {
    /// After the batch is durable: the new generation is the writer's, the old file goes (or, if
    /// it cannot be removed now, at the next open).
    pub fn finish(self, writer: &mut LogWriter, old: &ValueLog) -> Result<Arc<ValueLog>, StoreError> {
        writer.meta = self.meta;
        writer.live = self.meta.end;
        // The new generation is durable and current: a file left behind goes at the next open.
        match std::fs::remove_file(&old.path).and_then(|()| super::sync_dir(&writer.dir)) {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "old value-log generation not removed yet; it goes at the next start"),
        }
        Ok(self.log)
    }
}

/// Sequential writes into a log file at increasing offsets.
struct FileWriter<'a> {
    log: &'a ValueLog,
    at: u64,
}

impl Write for FileWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.log.file.write_all_at(buf, self.at)?;
        self.at += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Deletes the value-log files of generations other than `current` (left by a compaction that
/// was cut short, or finished but not yet cleaned up).
fn remove_other_generations(dir: &Path, current: u32) -> Result<(), StoreError> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    let mut removed = false;
    for e in entries.flatten() {
        let name = e.file_name();
        if gen_of(&name.to_string_lossy()).is_some_and(|g| g != current) {
            std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
            tracing::info!(file = %name.to_string_lossy(), "removed a value-log generation no longer current");
            removed = true;
        }
    }
    if removed {
        super::sync_dir(dir).map_err(io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_and_meta_round_trip() {
        let e = Extent { gen: 7, offset: u64::MAX - 3, len: 77, hash: 0x0123_4567_89ab_cdef };
        assert_eq!(Extent::decode(&e.encode()), Some(e));
        assert_eq!(Extent::decode(&[0u8; 23]), None);
        assert_eq!(gen_of("values.000012"), Some(12));
        assert_eq!(gen_of("values.tmp"), None);
    }
}
