//! The archive of closed station tasks (done or void): written once, in compressed chunks, and
//! read only when somebody asks for closed tasks (`mzd task list --state done|void`, a second
//! `mzd task done`).
//!
//! A task closes once and never reopens, so a closed task is moved out of the open-task table
//! (`task`, one key each) into a chunk of at most [`CHUNK`] tasks (`Tc<first id>`, postcard,
//! zstd, in the value log) in the batch of the commit that closed it. Beside each chunk, under
//! `Tm<first id>`, go its [`ClosedMark`]s: the fixed-size facts start-up needs of every
//! closed task (that it exists, its stay, its person's stay number) without decompressing
//! anything. Most tasks of a busy station open and close between two commits (an unidentified
//! arrival discharged the same day): those are written exactly once, in a chunk.
//!
//! Invariants: a task id is in at most one chunk (chunks are keyed by their first id, and a
//! closed task is never archived again); chunks and marks live in the value log, written once.

use crate::store::{compress, decode, decompress, encode, keys, StoreError, StoreReader};
use mz_shared::task::{StationTask, TaskKind};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

/// Closed tasks per stored chunk (a chunk of 256 compresses to a few KiB).
pub const CHUNK: usize = 256;
const TASKS: &[u8] = keys::TASK_CHUNK_PREFIX;
const MARKS: &[u8] = keys::TASK_MARKS_PREFIX;

fn key(prefix: &[u8], first: &str) -> Vec<u8> {
    [prefix, first.as_bytes()].concat()
}

/// What the task index needs of a closed task at start-up, as hashes of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedMark {
    /// [`id_hash`] of the task id.
    pub id: u64,
    /// [`stay_hash`] of its stay (admission record) and kind.
    pub stay: u64,
    /// [`person_kind_hash`] of its station, person and kind.
    pub person_kind: u64,
    /// The stay number in its id (`…/KIND` is 1, `…/KIND/N` is N).
    pub number: u32,
}

/// The hash of `parts`, each followed by a unit separator (the keys of the stay and person
/// indexes; stored in closed marks, so it must never change).
pub(crate) fn hash_parts(parts: &[&str]) -> u64 {
    // Joined on the stack when short (ids and person numbers are), so no allocation.
    let mut joined = smallvec::SmallVec::<[u8; 192]>::new();
    for p in parts {
        joined.extend_from_slice(p.as_bytes());
        joined.push(0x1f);
    }
    xxh3_64(&joined)
}

pub fn id_hash(id: &str) -> u64 {
    xxh3_64(id.as_bytes())
}

/// The stay (admission record) and kind of a task: a stay has at most one task of a kind.
pub fn stay_hash(record_id: &str, kind: TaskKind) -> u64 {
    hash_parts(&[record_id, kind.as_str()])
}

/// The person at a station and a kind: the key of the person's stay numbers.
pub fn person_kind_hash(station: &str, person_ref: &str, kind: TaskKind) -> u64 {
    hash_parts(&[station, person_ref, kind.as_str()])
}

impl ClosedMark {
    pub fn of(t: &StationTask, number: u32) -> ClosedMark {
        ClosedMark {
            id: id_hash(&t.id),
            stay: stay_hash(&t.record_id, t.kind),
            person_kind: person_kind_hash(&t.station, &t.person_ref, t.kind),
            number,
        }
    }
}

/// Adds the chunks of `closed` (tasks closed since the last commit) to `batch`.
pub fn write(batch: &mut crate::store::Batch, closed: Vec<StationTask>, number: impl Fn(&StationTask) -> u32) {
    let closed = std::sync::Arc::new(closed);
    for start in (0..closed.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(closed.len());
        let chunk = &closed[start..end];
        let marks: Vec<ClosedMark> = chunk.iter().map(|t| ClosedMark::of(t, number(t))).collect();
        batch.insert(key(MARKS, &chunk[0].id), encode(&marks));
        // The chunk itself is encoded and compressed by the thread that commits the batch.
        let tasks = closed.clone();
        batch.defer(move || {
            let chunk = &tasks[start..end];
            (key(TASKS, &chunk[0].id), compress(&encode(&chunk)))
        });
    }
}

/// Every closed task's mark (start-up).
pub fn marks(reader: &StoreReader) -> Result<Vec<ClosedMark>, StoreError> {
    let mut all = Vec::new();
    for item in reader.scan::<Vec<ClosedMark>>(MARKS) {
        all.extend(item?.1);
    }
    Ok(all)
}

fn decode_chunk(key: &[u8], bytes: &[u8]) -> Result<Vec<StationTask>, StoreError> {
    decode(key, &decompress(key, bytes)?)
}

/// Every closed task, chunk by chunk.
pub fn scan(reader: &StoreReader) -> impl Iterator<Item = Result<Vec<StationTask>, StoreError>> + '_ {
    reader.scan_raw(TASKS).map(|item| item.and_then(|(k, v)| decode_chunk(&k, &v)))
}

/// The closed task `id`: the marks say which chunk holds it, then that chunk alone is read.
pub fn find(reader: &StoreReader, id: &str) -> Result<Option<StationTask>, StoreError> {
    let wanted = id_hash(id);
    for item in reader.scan::<Vec<ClosedMark>>(MARKS) {
        let (key, marks) = item?;
        if !marks.iter().any(|m| m.id == wanted) {
            continue;
        }
        let chunk_key = [TASKS, &key[MARKS.len()..]].concat();
        if let Some(bytes) = reader.get_raw(&chunk_key)? {
            if let Some(t) = decode_chunk(&chunk_key, &bytes)?.into_iter().find(|t| t.id == id) {
                return Ok(Some(t));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_the_parts_is_hashing_them_joined_as_marks_stored_before_were() {
        let joined = "TZ-JZZ\u{1f}P-1\u{1f}family_notice\u{1f}";
        assert_eq!(hash_parts(&["TZ-JZZ", "P-1", "family_notice"]), xxh3_64(joined.as_bytes()));
        assert_ne!(hash_parts(&["TZ-JZZ", "P-1"]), hash_parts(&["TZ-JZZP-1"]));
    }
}
