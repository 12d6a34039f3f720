//! The value log: the bytes of large values written once (record pages, their indexes, audit
//! chunks, archived tasks), kept out of sled's tree.
//!
//! sled 0.34 keeps values inline in its leaf nodes and rewrites a whole node every ten changes
//! and at every split, so a value written once into a growing key range reaches the disk about
//! three times (measured: 2.5–2.9× the values' size, whatever the batch size). Here such a value
//! is appended once to `<store>/values`, and sled holds only a 20-byte [`Extent`] under its key.
//! Which keys are such values is a property of the key alone ([`super::keys::is_large`]).
//!
//! Invariants:
//! - A commit appends its large values and `fdatasync`s the log *before* sled applies the batch
//!   holding their extents and the log's new length ([`super::keys::VALUES_END`]); an extent in sled
//!   therefore always points at bytes on disk.
//! - Bytes past the committed length belong to a commit that never happened (a crash between
//!   the two steps): opening the store cuts them off, so they are never read nor kept.
//! - Every extent carries the hash of its bytes; a read that finds other bytes is an error,
//!   never a wrong record.
//! - The log only grows: a value removed or replaced in sled leaves its old bytes behind. The
//!   values kept here are written once, so that waste stays small.

use super::StoreError;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

/// The log's file name inside the store folder.
pub const FILE_NAME: &str = "values";

/// Where a large value's bytes are in the log, and their hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub offset: u64,
    pub len: u32,
    pub hash: u64,
}

impl Extent {
    const ENCODED: usize = 20;

    pub fn encode(&self) -> [u8; Self::ENCODED] {
        let mut out = [0u8; Self::ENCODED];
        out[..8].copy_from_slice(&self.offset.to_be_bytes());
        out[8..12].copy_from_slice(&self.len.to_be_bytes());
        out[12..].copy_from_slice(&self.hash.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Extent> {
        let b: &[u8; Self::ENCODED] = bytes.try_into().ok()?;
        Some(Extent {
            offset: u64::from_be_bytes(b[..8].try_into().ok()?),
            len: u32::from_be_bytes(b[8..12].try_into().ok()?),
            hash: u64::from_be_bytes(b[12..].try_into().ok()?),
        })
    }
}

/// The open log: reads from any thread, appends from the store's single writer.
#[derive(Debug)]
pub struct ValueLog {
    file: File,
    path: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_owned(), source }
}

impl ValueLog {
    /// Opens (or creates) the log of the store in `dir`, cut to `committed` bytes: the length
    /// sled last committed. A log shorter than that lost committed values: the store is damaged.
    pub fn open(dir: &Path, committed: u64) -> Result<ValueLog, StoreError> {
        let path = dir.join(FILE_NAME);
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o640)
            .open(&path)
            .map_err(io(&path))?;
        if !existed {
            super::sync_dir(dir).map_err(io(dir))?;
        }
        let len = file.metadata().map_err(io(&path))?.len();
        if len < committed {
            return Err(StoreError::Corrupt {
                path: dir.to_owned(),
                detail: format!("the value log holds {len} bytes but the store refers to {committed}"),
            });
        }
        if len > committed {
            tracing::info!(uncommitted = len - committed, "cutting off values of a commit that did not happen");
            file.set_len(committed).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
        }
        Ok(ValueLog { file, path })
    }

    /// Appends `values` at `end` (the committed length) and makes them durable; returns each
    /// value's extent, in order.
    pub fn append(&self, end: u64, values: &[&[u8]]) -> Result<Vec<Extent>, StoreError> {
        let total: usize = values.iter().map(|v| v.len()).sum();
        let mut buf = Vec::with_capacity(total);
        let mut extents = Vec::with_capacity(values.len());
        for v in values {
            let len = u32::try_from(v.len()).expect("large values are far below 4 GiB");
            extents.push(Extent { offset: end + buf.len() as u64, len, hash: xxh3_64(v) });
            buf.extend_from_slice(v);
        }
        fail::fail_point!("values-append", |_| Err(StoreError::Unavailable("injected value log failure".into())));
        self.file.write_all_at(&buf, end).map_err(io(&self.path))?;
        self.file.sync_data().map_err(io(&self.path))?;
        Ok(extents)
    }

    /// The bytes of `extent`, checked against its hash; `key` names the value in errors.
    pub fn read(&self, key: &[u8], extent: Extent) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0u8; extent.len as usize];
        self.file.read_exact_at(&mut buf, extent.offset).map_err(io(&self.path))?;
        if xxh3_64(&buf) != extent.hash {
            return Err(StoreError::Decode {
                key: String::from_utf8_lossy(key).into_owned(),
                detail: format!("the value log's bytes at {} do not match their hash", extent.offset),
            });
        }
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_and_uncommitted_bytes_are_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let log = ValueLog::open(dir.path(), 0).unwrap();
        let ext = log.append(0, &[b"first", b"second value"]).unwrap();
        assert_eq!(ext[1].offset, 5);
        assert_eq!(log.read(b"Pa", ext[1]).unwrap(), b"second value");
        // A commit that appended but never reached sled: its bytes go at the next open.
        log.append(17, &[b"lost"]).unwrap();
        drop(log);
        let log = ValueLog::open(dir.path(), 17).unwrap();
        assert_eq!(std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().len(), 17);
        assert_eq!(log.read(b"Pa", ext[0]).unwrap(), b"first");
        // Other bytes than the extent's hash say are an error, not a value.
        let wrong = Extent { hash: ext[0].hash ^ 1, ..ext[0] };
        assert!(matches!(log.read(b"Pa", wrong), Err(StoreError::Decode { .. })));
        // A log shorter than the store says is damage.
        drop(log);
        assert!(matches!(ValueLog::open(dir.path(), 100), Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn extents_round_trip() {
        let e = Extent { offset: u64::MAX - 3, len: 77, hash: 0x0123_4567_89ab_cdef };
        assert_eq!(Extent::decode(&e.encode()), Some(e));
        assert_eq!(Extent::decode(&[0u8; 19]), None);
    }
}
