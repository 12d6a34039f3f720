//! The durable store: one sled database under `<data>/store`, written only by the ingest engine.
//!
//! Everything a dropped file changes — its records, its rejected rows, the maintained figures,
//! the counters and its ledger entry — is written as one sled batch per commit, and a commit is
//! only reported done after sled has flushed and the data file (plus any blob file sled wrote) has
//! been `fdatasync`ed: sled's own `flush` does not survive a power cut (see FACTS.md).
//!
//! Layout (one tree, key prefixes; see [`keys`]):
//! - records live in compressed pages, written once ([`pages`]);
//! - the file ledger and the finalize jobs make ingest exactly-once ([`ledger`]);
//! - the maintained figures are small per-entity values ([`crate::state`]).

pub mod keys;
pub mod ledger;
pub mod pages;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store at {path} is damaged ({detail}). Stop mzd, move the folder aside, and rebuild it from the \
         archive with `mzd rebuild`"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("the store at {path} is in use by another process (only one mzd may open it): {detail}")]
    Locked { path: PathBuf, detail: String },
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    #[error("store I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "stored value under key {key} cannot be read ({detail}); the store was written by an incompatible version"
    )]
    Decode { key: String, detail: String },
}

/// The sled database plus what it takes to make a commit power-cut durable.
pub struct Store {
    db: sled::Db,
    dir: PathBuf,
    data_file: File,
    synced_blobs: HashSet<OsString>,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(32 * 1024 * 1024)
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
        let mut store = Store { db, dir: dir.to_owned(), data_file, synced_blobs: HashSet::new() };
        // Blobs present at open were recovered from disk already.
        store.synced_blobs = store.blob_names();
        Ok(store)
    }

    fn blob_names(&self) -> HashSet<OsString> {
        match std::fs::read_dir(self.dir.join("blobs")) {
            Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect(),
            Err(_) => HashSet::new(),
        }
    }

    /// Applies `batch` atomically and makes it durable against a crash or a power cut.
    pub fn commit(&mut self, batch: sled::Batch) -> Result<(), StoreError> {
        let t = std::time::Instant::now();
        self.db.apply_batch(batch)?;
        let applied = t.elapsed();
        self.sync()?;
        tracing::debug!(apply_us = applied.as_micros() as u64, total_us = t.elapsed().as_micros() as u64, "commit");
        Ok(())
    }

    /// Flushes sled and `fdatasync`s its data file and any blob file written since the last sync.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        let t = std::time::Instant::now();
        self.db.flush()?;
        let flushed = t.elapsed();
        self.data_file.sync_data().map_err(|source| StoreError::Io { path: self.dir.join("db"), source })?;
        tracing::trace!(
            flush_us = flushed.as_micros() as u64,
            sync_us = (t.elapsed() - flushed).as_micros() as u64,
            "sync"
        );
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

    /// A handle for concurrent readers (exports). Readers never write.
    pub fn reader(&self) -> StoreReader {
        StoreReader { db: self.db.clone() }
    }

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

    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

/// Read-only access to the store from other threads.
#[derive(Clone)]
pub struct StoreReader {
    db: sled::Db,
}

impl StoreReader {
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.db.get(key)? {
            Some(v) => decode(key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// The last key and value under a prefix.
    pub fn last(&self, prefix: &[u8]) -> Result<Option<(sled::IVec, sled::IVec)>, StoreError> {
        Ok(self.db.scan_prefix(prefix).next_back().transpose()?)
    }

    pub fn get_raw(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.db.get(key)?)
    }

    pub fn scan<T: DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(sled::IVec, T), StoreError>> + use<T> {
        self.db.scan_prefix(prefix).map(|r| {
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

/// Deserializes a stored value, naming the key on failure.
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes)
        .map_err(|e| StoreError::Decode { key: String::from_utf8_lossy(key).into_owned(), detail: e.to_string() })
}

/// `fsync`s a directory, so that renames and creations inside it survive a power cut.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
