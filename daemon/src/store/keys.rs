//! Key layout of the store. Every key starts with a one-byte prefix naming what it holds.
//!
//! A key starting with an upper-case ASCII letter holds a large value written once: its bytes
//! live in the value log ([`super::values`]) and sled holds where ([`is_large`]). No other key
//! starts with one.

use mz_shared::feed::Feed;

/// Store-wide counters and sequence numbers ([`crate::state::Counters`]).
pub const COUNTERS: &[u8] = b"m/counters";
/// Layout version of the store.
pub const LAYOUT: &[u8] = b"m/layout";
/// The layout this build writes: 2 keeps large values in the value log (1 kept them in sled,
/// under the lower-case keys of [`old_large_prefixes`]).
pub const LAYOUT_VERSION: u32 = 2;
/// The value log's current generation and committed length ([`super::values::LogMeta`]).
pub const VALUES: &[u8] = b"m/values";

/// True for a key whose value lives in the value log.
pub fn is_large(key: &[u8]) -> bool {
    key.first().is_some_and(u8::is_ascii_uppercase)
}

/// The key prefixes under which a layout-1 store kept the values that are large now; each
/// moves to the same key with its first byte in upper case.
pub fn old_large_prefixes() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for feed in Feed::ALL {
        out.push(vec![b'p', feed_byte(feed)]);
        out.push(vec![b'i', feed_byte(feed)]);
    }
    out.push(b"u".to_vec());
    out.push(b"c".to_vec());
    out.push(b"stask_closed/".to_vec());
    out.push(b"stask_marks/".to_vec());
    out.push(b"salert/".to_vec());
    out
}

/// The layout-2 key of a layout-1 key under [`old_large_prefixes`].
pub fn moved_large_key(old: &[u8]) -> Vec<u8> {
    if let Some(rest) = old.strip_prefix(b"stask_closed/") {
        return [TASK_CHUNK_PREFIX, rest].concat();
    }
    if let Some(rest) = old.strip_prefix(b"stask_marks/") {
        return [TASK_MARKS_PREFIX, rest].concat();
    }
    let mut k = old.to_vec();
    k[0] = k[0].to_ascii_uppercase();
    k
}

/// The byte naming a feed inside page keys: `a`dmissions, `b`urials, `m`arriages.
pub fn feed_byte(feed: Feed) -> u8 {
    match feed {
        Feed::Admissions => b'a',
        Feed::Burials => b'b',
        Feed::Marriages => b'm',
    }
}

/// `P<feed><page BE>`: a compressed page of records.
pub fn page(feed: Feed, page: u32) -> Vec<u8> {
    let mut k = vec![b'P', feed_byte(feed)];
    k.extend_from_slice(&page.to_be_bytes());
    k
}

/// `I<feed><page BE>`: the (record-id hash, content hash) list of a page.
pub fn page_index(feed: Feed, page: u32) -> Vec<u8> {
    let mut k = vec![b'I', feed_byte(feed)];
    k.extend_from_slice(&page.to_be_bytes());
    k
}

/// Prefix of a feed's page-index keys ([`page_index`]).
pub fn page_index_prefix(feed: Feed) -> Vec<u8> {
    vec![b'I', feed_byte(feed)]
}

/// Page number from a page or page-index key.
pub fn page_of(key: &[u8]) -> u32 {
    u32::from_be_bytes(key[2..6].try_into().expect("page keys are 6 bytes"))
}

/// Prefix of the ledger entries.
pub const LEDGER_PREFIX: &[u8] = b"l";

/// `l<file hash>`: the ledger entry of a file.
pub fn ledger(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = vec![b'l'];
    k.extend_from_slice(hash);
    k
}

/// `r<file hash><chunk BE>`: rejected rows of a file, until its rejects file is written.
pub fn rejects(hash: &[u8; 32], chunk: u32) -> Vec<u8> {
    let mut k = rejects_prefix(hash);
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// Prefix of every rejected-rows chunk of a file ([`rejects`]).
pub fn rejects_prefix(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = vec![b'r'];
    k.extend_from_slice(hash);
    k
}

/// `f<seq BE>`: a finalize job (move a file out of the inbox, write its rejects or reason file).
pub fn job(seq: u64) -> Vec<u8> {
    let mut k = vec![b'f'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Prefix of the finalize jobs ([`job`]).
pub const JOB_PREFIX: &[u8] = b"f";

/// `h<seq BE>`: the history of handled files, newest last (for the ingest view).
pub fn handled(seq: u64) -> Vec<u8> {
    let mut k = vec![b'h'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Prefix of the handled-files history ([`handled`]).
pub const HANDLED_PREFIX: &[u8] = b"h";

/// `s<table>/<entity>`: a maintained figure ([`crate::state`]).
pub fn state(table: &str, entity: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + table.len() + entity.len());
    k.push(b's');
    k.extend_from_slice(table.as_bytes());
    k.push(b'/');
    k.extend_from_slice(entity.as_bytes());
    k
}

/// Prefix of every entity of one figures table ([`state`]).
pub fn state_prefix(table: &str) -> Vec<u8> {
    let mut k = vec![b's'];
    k.extend_from_slice(table.as_bytes());
    k.push(b'/');
    k
}

/// `U<seq BE>`: audit entries from number `seq` on (one commit's entries, chunked).
pub fn audit(seq: u64) -> Vec<u8> {
    let mut k = vec![b'U'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Prefix of the audit chunks ([`audit`]).
pub const AUDIT_PREFIX: &[u8] = b"U";

/// `Tc<first task id>`: a chunk of archived (closed) station tasks ([`crate::task_archive`]).
pub const TASK_CHUNK_PREFIX: &[u8] = b"Tc";
/// `Tm<first task id>`: the marks of the chunk with the same first id.
pub const TASK_MARKS_PREFIX: &[u8] = b"Tm";

/// Prefix of the case blocks.
pub const CASE_BLOCK_PREFIX: &[u8] = b"C";

/// `C<block BE>`: cases numbered `block * 64 ..` (see [`crate::state::CaseTable`]).
pub fn case_block(block: u32) -> Vec<u8> {
    let mut k = vec![b'C'];
    k.extend_from_slice(&block.to_be_bytes());
    k
}
