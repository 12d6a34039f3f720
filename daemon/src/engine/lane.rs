//! The commit lane: while a large file is ingested, its parts are committed by a thread of their
//! own, so that the engine applies the next part's rows while the last part is encoded,
//! compressed, appended to the value log and synced ([`crate::store::Deferred`]). The thread
//! starts with the first part sent: a file of one batch (the 10-row drop) never starts one.
//!
//! Invariants:
//! - at most one batch is in flight: the engine takes its result ([`CommitLane::settle`])
//!   before it stages the next, so what the engine reads of the store is either committed or
//!   still held in memory (the pages and case blocks of the batch in flight);
//! - the lane holds the store's writer while it runs; the engine keeps a [`Store::stand_in`]
//!   (readers work, commits are refused) and gets the writer back from [`CommitLane::finish`];
//! - nothing is reported done before its batch is durable: a part's ledger entry rides in its
//!   own batch, and the file's last batch is committed by the engine after the lane finished.

use crate::store::{Batch, Store, StoreError};
use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

/// A batch's result, with the tag it was sent with (the rows of the file it covers).
pub(super) type Settled = (u64, Result<(), StoreError>);

/// The thread committing a file's parts, and the batch in flight.
pub(super) struct CommitLane<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    mode: Mode<'scope>,
    /// The tag of the batch sent and not settled yet.
    in_flight: Option<u64>,
}

enum Mode<'scope> {
    /// Nothing sent yet, so no thread: a file of one part is committed by the engine.
    Idle(Store),
    Thread {
        batches: Option<mpsc::SyncSender<Batch>>,
        results: mpsc::Receiver<Result<(), StoreError>>,
        thread: ScopedJoinHandle<'scope, Option<Store>>,
    },
    /// No thread could be started: each batch is committed when it is sent.
    Inline { store: Store, result: Option<Result<(), StoreError>> },
    /// Only while the thread is being started.
    Starting,
}

impl<'scope, 'env> CommitLane<'scope, 'env> {
    /// A lane holding the store's writer; its thread starts in `scope` with the first batch.
    pub(super) fn new(scope: &'scope Scope<'scope, 'env>, store: Store) -> CommitLane<'scope, 'env> {
        CommitLane { scope, mode: Mode::Idle(store), in_flight: None }
    }

    /// Starts the lane's thread, handing it the store's writer (or commits inline without one).
    fn start(&mut self) {
        self.mode = match std::mem::replace(&mut self.mode, Mode::Starting) {
            Mode::Idle(store) => spawn(self.scope, store),
            other => other,
        };
    }

    /// Sends a staged batch to be committed; the last one must be settled.
    pub(super) fn send(&mut self, batch: Batch, tag: u64) {
        debug_assert!(self.in_flight.is_none(), "one batch in flight at a time");
        self.in_flight = Some(tag);
        self.start();
        match &mut self.mode {
            Mode::Thread { batches, .. } => {
                // A thread that stopped (after a failed commit) drops the batch: settling says so.
                if let Some(tx) = batches {
                    let _ = tx.send(batch);
                }
            }
            Mode::Inline { store, result } => *result = Some(store.commit(batch)),
            Mode::Idle(_) | Mode::Starting => {}
        }
    }

    /// Waits for the batch in flight, if any, and gives its result.
    pub(super) fn settle(&mut self) -> Option<Settled> {
        let tag = self.in_flight.take()?;
        let result = match &mut self.mode {
            Mode::Thread { results, .. } => results.recv().unwrap_or_else(|_| Err(stopped())),
            Mode::Inline { result, .. } => result.take().unwrap_or_else(|| Err(stopped())),
            Mode::Idle(_) | Mode::Starting => Err(stopped()),
        };
        Some((tag, result))
    }

    /// Stops the lane: the store's writer back (`None` if the thread lost it), and the result of
    /// a batch still in flight.
    pub(super) fn finish(mut self) -> (Option<Store>, Option<Settled>) {
        let last = self.settle();
        let store = match self.mode {
            Mode::Thread { batches, thread, .. } => {
                drop(batches);
                thread.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
            }
            Mode::Inline { store, .. } | Mode::Idle(store) => Some(store),
            Mode::Starting => None,
        };
        (store, last)
    }
}

/// The lane's thread, started in `scope` and given `store` (committing inline when no thread can
/// be started).
fn spawn<'scope>(scope: &'scope Scope<'scope, '_>, store: Store) -> Mode<'scope> {
    let (store_tx, store_rx) = mpsc::sync_channel::<Store>(1);
    let (batches, batch_rx) = mpsc::sync_channel::<Batch>(1);
    let (result_tx, results) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("mzd-commit".into())
        .spawn_scoped(scope, move || commit_batches(store_rx.recv().ok()?, batch_rx, result_tx));
    match spawned {
        Ok(thread) => match store_tx.send(store) {
            Ok(()) => Mode::Thread { batches: Some(batches), results, thread },
            Err(mpsc::SendError(store)) => Mode::Inline { store, result: None },
        },
        Err(e) => {
            tracing::debug!(error = %e, "commit thread not started; parts are committed on the engine thread");
            Mode::Inline { store, result: None }
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the thread committing the file's parts stopped".into())
}

/// The lane's thread: commits each batch (making its deferred values here) until the engine
/// stops sending or a commit fails; gives the writer back.
fn commit_batches(
    mut store: Store,
    batches: mpsc::Receiver<Batch>,
    results: mpsc::SyncSender<Result<(), StoreError>>,
) -> Option<Store> {
    for mut batch in batches {
        batch.make_deferred(false);
        let result = store.commit(batch);
        let failed = result.is_err();
        if results.send(result).is_err() || failed {
            break;
        }
    }
    Some(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys;

    fn batch(key: &[u8], value: &[u8]) -> Batch {
        let mut b = Batch::default();
        b.insert(key.to_vec(), value.to_vec());
        b
    }

    #[test]
    fn parts_are_committed_one_at_a_time_and_the_writer_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let reader = store.reader();
        let (store, last) = std::thread::scope(|scope| {
            let mut lane = CommitLane::new(scope, store);
            assert!(lane.settle().is_none(), "nothing in flight yet");
            lane.send(batch(keys::COUNTERS, b"one"), 7);
            let (tag, result) = lane.settle().expect("the part sent");
            assert_eq!(tag, 7);
            result.unwrap();
            assert_eq!(reader.get_raw(keys::COUNTERS).unwrap().as_deref(), Some(&b"one"[..]));
            // A deferred value is made on the lane's thread.
            let mut b = batch(keys::COUNTERS, b"two");
            b.defer(|| (keys::page(mz_shared::feed::Feed::Burials, 0), b"page".to_vec()));
            lane.send(b, 8);
            lane.finish()
        });
        let (tag, result) = last.expect("the part still in flight is settled by finish");
        assert_eq!(tag, 8);
        result.unwrap();
        let mut store = store.expect("the writer comes back");
        assert_eq!(reader.get_raw(keys::COUNTERS).unwrap().as_deref(), Some(&b"two"[..]));
        let page = keys::page(mz_shared::feed::Feed::Burials, 0);
        assert_eq!(reader.get_raw(&page).unwrap().as_deref(), Some(&b"page"[..]));
        store.commit(batch(keys::COUNTERS, b"three")).expect("the writer commits again");
    }

    #[test]
    fn a_lane_with_nothing_sent_gives_the_writer_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (store, last) = std::thread::scope(|scope| CommitLane::new(scope, store).finish());
        assert!(last.is_none());
        store.expect("the writer").commit(batch(keys::COUNTERS, b"one")).expect("it commits");
    }

    #[test]
    fn a_failed_part_is_reported_and_later_parts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // A stand-in has no writer: every commit through it fails.
        let stand_in = store.stand_in();
        let (back, last) = std::thread::scope(|scope| {
            let mut lane = CommitLane::new(scope, stand_in);
            lane.send(batch(keys::COUNTERS, b"one"), 1);
            let (_, result) = lane.settle().unwrap();
            assert!(matches!(result, Err(StoreError::Unavailable(_))), "{result:?}");
            lane.send(batch(keys::COUNTERS, b"two"), 2);
            lane.finish()
        });
        assert!(back.is_some());
        let (tag, result) = last.unwrap();
        assert_eq!(tag, 2);
        assert!(result.is_err(), "the lane stopped after the failure: {result:?}");
        assert!(store.reader().get_raw(keys::COUNTERS).unwrap().is_none(), "nothing was written");
    }
}
