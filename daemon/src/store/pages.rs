//! Records in pages: few, larger values instead of one key per row (see FACTS.md), kept in the
//! value log ([`super::values`]; the keys `P…` and `I…`).
//!
//! A page holds the records of one commit and one feed, in order, serialized one after another
//! (varint length + postcard) and compressed with zstd; it is written once and never changed.
//! Beside each page, its index lists `(record-id hash, content hash)` per slot, 16 bytes each
//! ([`encode_index`]). At start-up the in-memory [`RecordIndex`] — record-id hash → where its
//! latest version is — is rebuilt from those lists alone. A correction is a new version in a later page; older versions stay where they were
//! (the history).

use super::{keys, Store, StoreError, StoreReader};
use mz_shared::feed::Feed;
use mz_shared::records::Record;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use xxhash_rust::xxh3::xxh3_64;

/// Raw (uncompressed) size at which a page is sealed. Compressed pages stay far below a quarter
/// of sled's segment size, so sled keeps them inline in its log.
pub const PAGE_RAW_BYTES: usize = 32 * 1024;

/// Where the latest version of a record is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub page: u32,
    pub slot: u32,
    pub content: u64,
}

/// One slot of a page index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub id: u64,
    pub content: u64,
}

/// A page index as stored: each entry's two hashes, 8 bytes each, big-endian (hashes do not
/// compress, and a varint of a hash takes 9 or 10 bytes).
pub fn encode_index(entries: &[IndexEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 16);
    for e in entries {
        out.extend_from_slice(&e.id.to_be_bytes());
        out.extend_from_slice(&e.content.to_be_bytes());
    }
    out
}

/// The entries of a stored page index ([`encode_index`]).
pub fn decode_index(key: &[u8], bytes: &[u8]) -> Result<Vec<IndexEntry>, StoreError> {
    if !bytes.len().is_multiple_of(16) {
        let detail = format!("a page index of {} bytes is not a whole number of entries", bytes.len());
        return Err(StoreError::Decode { key: String::from_utf8_lossy(key).into_owned(), detail });
    }
    let word = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("8 bytes"));
    Ok(bytes.chunks_exact(16).map(|c| IndexEntry { id: word(&c[..8]), content: word(&c[8..]) }).collect())
}

/// A page index as a layout-1 store kept it (postcard), in today's form.
pub fn index_from_layout_1(key: &[u8], bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    let entries: Vec<IndexEntry> = super::decode(key, bytes)?;
    Ok(encode_index(&entries))
}

/// Every stored page index of `feed` with its page number, in page order.
fn page_indexes(reader: &StoreReader, feed: Feed) -> impl Iterator<Item = Result<(u32, Vec<IndexEntry>), StoreError>> {
    reader.scan_raw(&keys::page_index_prefix(feed)).map(|item| {
        let (key, bytes) = item?;
        Ok((keys::page_of(&key), decode_index(&key, &bytes)?))
    })
}

/// What a record is, compared with what is stored under its `record_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Novelty {
    New,
    /// Same id, same content: counted, not stored.
    Duplicate,
    /// Same id, other content: stored as the newer version.
    Correction(Loc),
}

/// A record serialized for a page, with its record-id hash and content hash. Built off the
/// engine thread (by the reader thread) so the engine only copies bytes.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub id: u64,
    pub content: u64,
    bytes: Vec<u8>,
}

impl Encoded {
    pub fn new(record: &Record) -> Encoded {
        // A row's record is a few hundred bytes at most: one allocation, no growing.
        let bytes = crate::store::encode_sized(record, 512);
        Encoded { id: record_id_hash(record.record_id()), content: xxh3_64(&bytes), bytes }
    }
}

pub fn record_id_hash(record_id: &str) -> u64 {
    xxh3_64(record_id.as_bytes())
}

#[derive(Default)]
struct OpenPage {
    number: u32,
    raw: Vec<u8>,
    index: Vec<IndexEntry>,
}

#[derive(Default)]
struct FeedPages {
    latest: HashMap<u64, Loc>,
    next_page: u32,
    open: Option<OpenPage>,
    /// Full pages of the next commit, raw (compressed by the committing thread).
    sealed: Vec<(u32, Vec<u8>, Vec<IndexEntry>)>,
    /// Raw pages of the batch being committed, until it is durable.
    in_flight: Vec<(u32, Arc<Vec<u8>>)>,
}

/// The record-id index of the three feeds, and the pages being built for the next commit.
#[derive(Default)]
pub struct RecordIndex {
    feeds: [FeedPages; 3],
}

fn slot(feed: Feed) -> usize {
    match feed {
        Feed::Admissions => 0,
        Feed::Burials => 1,
        Feed::Marriages => 2,
    }
}

impl RecordIndex {
    /// Rebuilds the index from the stored page indexes.
    pub fn load(store: &Store) -> Result<RecordIndex, StoreError> {
        let mut idx = RecordIndex::default();
        for feed in Feed::ALL {
            let fp = &mut idx.feeds[slot(feed)];
            for item in page_indexes(&store.reader(), feed) {
                let (page, entries) = item?;
                for (i, e) in entries.iter().enumerate() {
                    fp.latest.insert(e.id, Loc { page, slot: i as u32, content: e.content });
                }
                fp.next_page = page + 1;
            }
        }
        Ok(idx)
    }

    /// Distinct records stored (or staged) in a feed.
    pub fn count(&self, feed: Feed) -> u64 {
        self.feeds[slot(feed)].latest.len() as u64
    }

    pub fn novelty(&self, feed: Feed, enc: &Encoded) -> Novelty {
        match self.feeds[slot(feed)].latest.get(&enc.id) {
            None => Novelty::New,
            Some(loc) if loc.content == enc.content => Novelty::Duplicate,
            Some(loc) => Novelty::Correction(*loc),
        }
    }

    /// Adds a record to the feed's open page; it becomes the latest version of its id.
    pub fn stage(&mut self, feed: Feed, enc: &Encoded) -> Loc {
        let bytes = &enc.bytes;
        let fp = &mut self.feeds[slot(feed)];
        if fp.open.is_none() {
            fp.open = Some(OpenPage { number: fp.next_page, ..OpenPage::default() });
            fp.next_page += 1;
        }
        let page = fp.open.as_mut().expect("just opened");
        write_varint(&mut page.raw, bytes.len() as u64);
        page.raw.extend_from_slice(bytes);
        page.index.push(IndexEntry { id: enc.id, content: enc.content });
        let loc = Loc { page: page.number, slot: page.index.len() as u32 - 1, content: enc.content };
        fp.latest.insert(enc.id, loc);
        if page.raw.len() >= PAGE_RAW_BYTES {
            Self::seal(fp);
        }
        loc
    }

    fn seal(fp: &mut FeedPages) {
        if let Some(p) = fp.open.take() {
            fp.sealed.push((p.number, p.raw, p.index));
        }
    }

    /// Raw bytes staged and not yet committed, over all feeds.
    pub fn staged_bytes(&self) -> usize {
        self.feeds
            .iter()
            .map(|f| f.open.as_ref().map_or(0, |p| p.raw.len()) + f.sealed.iter().map(|s| s.1.len()).sum::<usize>())
            .sum()
    }

    /// Moves every staged page into `batch`, compressed by the thread that commits it; the pages
    /// are read from here until [`Self::committed`].
    pub fn write_into(&mut self, batch: &mut crate::store::Batch) {
        for feed in Feed::ALL {
            let fp = &mut self.feeds[slot(feed)];
            Self::seal(fp);
            for (number, raw, index) in fp.sealed.drain(..) {
                let raw = Arc::new(raw);
                let shared = raw.clone();
                batch.defer(move || (keys::page(feed, number), compress_page(&shared)));
                batch.insert(keys::page_index(feed, number), encode_index(&index));
                fp.in_flight.push((number, raw));
            }
        }
    }

    /// The batch of the last [`Self::write_into`] is durable: its pages are read from the store
    /// from now on.
    pub fn committed(&mut self) {
        for fp in &mut self.feeds {
            fp.in_flight.clear();
        }
    }

    /// Reads the record at `loc`, from the staged pages or from the store.
    /// Without a reader (`mzd check`), only staged records can be read.
    pub fn fetch(&self, reader: Option<&StoreReader>, feed: Feed, loc: Loc) -> Result<Record, StoreError> {
        let fp = &self.feeds[slot(feed)];
        if let Some(open) = fp.open.as_ref().filter(|p| p.number == loc.page) {
            return nth_record(&open.raw, loc.slot, &keys::page(feed, loc.page));
        }
        let mut raw = fp.sealed.iter().map(|s| (s.0, &s.1)).chain(fp.in_flight.iter().map(|s| (s.0, &*s.1)));
        if let Some((_, raw)) = raw.find(|s| s.0 == loc.page) {
            return nth_record(raw, loc.slot, &keys::page(feed, loc.page));
        }
        let key = keys::page(feed, loc.page);
        let stored = match reader {
            Some(r) => r.get_raw(&key)?,
            None => None,
        };
        let bytes = stored.ok_or_else(|| StoreError::Decode {
            key: String::from_utf8_lossy(&key).into_owned(),
            detail: "page missing".into(),
        })?;
        read_page_slot(&bytes, loc.slot, &key)
    }
}

/// A page as stored: zstd at level 1.
fn compress_page(raw: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(raw, 1).expect("compressing in memory cannot fail")
}

fn read_page_slot(compressed: &[u8], slot: u32, key: &[u8]) -> Result<Record, StoreError> {
    let raw = decompress(compressed, key)?;
    nth_record(&raw, slot, key)
}

fn decompress(compressed: &[u8], key: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::stream::decode_all(compressed)
        .map_err(|e| StoreError::Decode { key: String::from_utf8_lossy(key).into_owned(), detail: e.to_string() })
}

fn nth_record(raw: &[u8], slot: u32, key: &[u8]) -> Result<Record, StoreError> {
    PageRecords::new(raw, key).nth(slot as usize).unwrap_or_else(|| {
        Err(StoreError::Decode { key: String::from_utf8_lossy(key).into_owned(), detail: "slot missing".into() })
    })
}

/// Iterates the records of a decompressed page.
pub struct PageRecords<'a> {
    raw: &'a [u8],
    key: &'a [u8],
}

impl<'a> PageRecords<'a> {
    pub fn new(raw: &'a [u8], key: &'a [u8]) -> Self {
        PageRecords { raw, key }
    }
}

impl Iterator for PageRecords<'_> {
    type Item = Result<Record, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.raw.is_empty() {
            return None;
        }
        let bad =
            |d: &str| StoreError::Decode { key: String::from_utf8_lossy(self.key).into_owned(), detail: d.into() };
        let Some((len, used)) = read_varint(self.raw) else {
            self.raw = &[];
            return Some(Err(bad("truncated length")));
        };
        let end = used + len as usize;
        if end > self.raw.len() {
            self.raw = &[];
            return Some(Err(bad("truncated record")));
        }
        let item = super::decode(self.key, &self.raw[used..end]);
        self.raw = &self.raw[end..];
        Some(item)
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, b) in buf.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Streams the latest version of every record of a feed, in storage order, as committed when
/// the export started (later commits are not seen).
pub fn export_latest(
    reader: &StoreReader,
    feed: Feed,
    mut emit: impl FnMut(Record) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    // Pass 1: where is the latest version of each id, among the pages committed so far?
    let mut latest: HashMap<u64, (u32, u32)> = HashMap::default();
    let mut last_page = None;
    for item in page_indexes(reader, feed) {
        let (page, entries) = item?;
        for (i, e) in entries.iter().enumerate() {
            latest.insert(e.id, (page, i as u32));
        }
        last_page = Some(page);
    }
    let Some(last_page) = last_page else { return Ok(0) };
    // Pass 2: the pages, keeping only latest versions.
    let mut count = 0;
    for page in 0..=last_page {
        let key = keys::page(feed, page);
        let Some(bytes) = reader.get_raw(&key)? else { continue };
        let raw = decompress(&bytes, &key)?;
        for (slot, rec) in PageRecords::new(&raw, &key).enumerate() {
            let rec = rec?;
            if latest.get(&record_id_hash(rec.record_id())) == Some(&(page, slot as u32)) {
                emit(rec)?;
                count += 1;
            }
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::records::{BurialReport, Record};

    fn report(id: &str, occupied: u32) -> Record {
        Record::Burial(BurialReport {
            record_id: id.into(),
            site_id: "C-SZ".into(),
            reported_on: jiff::civil::date(2026, 11, 1),
            capacity_total: 1000,
            occupied,
            new_interments: None,
            eco_interments: None,
            free_basic_services: None,
            note: Some("x".repeat(200)),
        })
    }

    #[test]
    fn pages_survive_reopen_and_export_keeps_only_latest_versions() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut idx = RecordIndex::load(&store).unwrap();
        // Enough records for several pages.
        for i in 0..500 {
            let enc = Encoded::new(&report(&format!("R{i}"), i));
            assert_eq!(idx.novelty(Feed::Burials, &enc), Novelty::New);
            idx.stage(Feed::Burials, &enc);
        }
        let same = Encoded::new(&report("R7", 7));
        assert_eq!(idx.novelty(Feed::Burials, &same), Novelty::Duplicate);
        let changed = Encoded::new(&report("R7", 70));
        let Novelty::Correction(old) = idx.novelty(Feed::Burials, &changed) else { panic!("a correction") };
        // The old version is readable from the staged pages before any commit.
        assert_eq!(idx.fetch(None, Feed::Burials, old).unwrap(), report("R7", 7));
        let new = idx.stage(Feed::Burials, &changed);
        let mut batch = crate::store::Batch::default();
        idx.write_into(&mut batch);
        // While its batch is being committed, a page is read from memory.
        assert_eq!(idx.fetch(None, Feed::Burials, new).unwrap(), report("R7", 70));
        assert_eq!(idx.fetch(None, Feed::Burials, old).unwrap(), report("R7", 7));
        store.commit(batch).unwrap();
        idx.committed();
        assert!(idx.fetch(None, Feed::Burials, new).is_err(), "committed pages are read from the store");
        assert_eq!(idx.fetch(Some(&store.reader()), Feed::Burials, new).unwrap(), report("R7", 70));
        drop(idx);
        drop(store);

        let store = Store::open_released(dir.path()).unwrap();
        let idx = RecordIndex::load(&store).unwrap();
        assert_eq!(idx.count(Feed::Burials), 500);
        let probe = Encoded::new(&report("R7", 70));
        assert_eq!(idx.novelty(Feed::Burials, &probe), Novelty::Duplicate);
        let mut seen = Vec::new();
        let n = export_latest(&store.reader(), Feed::Burials, |r| {
            seen.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 500);
        assert!(seen.contains(&report("R7", 70)));
        assert!(!seen.contains(&report("R7", 7)));
        // Both versions stay stored: the old one is history.
        assert_eq!(idx.fetch(Some(&store.reader()), Feed::Burials, old).unwrap(), report("R7", 7));
    }
}
