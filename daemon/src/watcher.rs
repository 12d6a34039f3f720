//! Watching the inbox: which files are there, and when each one is complete and may be taken.
//!
//! Owned by the intake. [`Watcher::start`] creates the inbox and `<inbox>/{admissions,burials,
//! marriages}` when no folder of that name exists (in any letter case; a feed folder deleted later
//! is recreated by the next scan, the inbox itself is not), starts a recursive notify watch on
//! the inbox and one thread that owns all the state; candidates go to a
//! [`std::sync::mpsc::SyncSender`] read by the consumer (a blocking thread), one [`Candidate`] per
//! file. [`Watcher::inbox_readable`] tells whether the last scan could read the inbox.
//!
//! # What is offered
//! - A regular file directly inside a feed folder (folder name matched case-insensitively) with
//!   extension `.csv`, `.jsonl` or `.ndjson` (any case): [`Candidate::Feed`].
//! - Any other file in the inbox (at its root, in an unknown folder, in a folder nested inside a
//!   feed folder, an unknown extension, a FIFO or device): [`Candidate::Unsorted`] with a
//!   bilingual reason.
//! - A symbolic link anywhere in the inbox (including a feed folder that is itself a link):
//!   [`Candidate::Symlink`]; links are never followed, neither by scans nor by the notify watch.
//! - Names starting with `.` or ending with `.tmp`, `.part`, `.partial`, `.filepart`,
//!   `.crdownload` (any case) are being written: never offered, but counted in
//!   [`Watcher::in_progress`]. Folders whose name starts with `.` are not entered at all.
//!
//! # When a file is complete
//! A regular file is offered when both hold:
//! 1. no inspectable process has it open for writing (`/proc/*/fd` matched by device and inode,
//!    flags from `/proc/*/fdinfo`; see [`writers`]; processes of other users are not visible to
//!    a non-root daemon), and
//! 2. either a close-after-write or a rename into place was seen for it and its identity (device,
//!    inode, size, mtime) has not changed since, or its identity has not changed for
//!    [`WatcherConfig::settle`]. A file that was written to (inotify `IN_MODIFY`, or created empty)
//!    and not closed since is not taken on quiet time alone, so a writer pausing longer than
//!    `settle` is waited for even when `/proc` cannot show it; after lost events (notify overflow
//!    or error) that knowledge is dropped, and a write with no close at all is trusted again
//!    after [`DIRTY_GRACE`] of quiet. An attribute change alone (e.g. `scp -p` setting
//!    the mtime after the close) keeps the close signal valid.
//!
//! Links and non-regular files are offered at once. Events are handled as they arrive (no sleeps
//! on that path); a full scan runs every [`WatcherConfig::rescan_every`] and after any sign of
//! lost events (a rescan event, an event without paths, a notify error). If notify cannot start
//! (e.g. the inotify watch limit: "No space left on device"), a warning is logged and the periodic
//! scan does the work alone (completeness then rests on `settle` and `/proc`); starting notify is
//! retried every minute, and the watch is renewed when the inbox folder itself is replaced.
//!
//! # Hand-over
//! Files that become ready together are offered oldest mtime first, then by name. The watcher
//! never blocks on the channel: when it is full, candidates wait in the watcher and are offered
//! again within about 10 ms; a candidate whose file changed meanwhile is withdrawn and offered
//! anew once complete. A file is offered at most once until [`Watcher::retry_later`] is called for
//! it (it is offered again after `rescan_every`, doubling for each further retry of the same
//! version of the file, at most 5 minutes), its identity changes, or it disappears and reappears.
//! The consumer must cope with a candidate whose file is gone or has changed. When the receiver
//! is dropped, the watcher thread ends (and so does its sender).
//!
//! Logs carry file names relative to the inbox, never contents.

mod classify;
mod tracker;
pub mod writers;

use mz_shared::feed::Feed;
use mz_shared::reason::Reason;
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracker::{Flush, Tracker};
#[cfg(doc)]
use tracker::{DIRTY_GRACE, MAX_RETRY_DELAY};
use writers::FileId;

/// How the watcher looks at the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherConfig {
    pub inbox: PathBuf,
    /// Full scan period (default 2 s): catches what events missed.
    pub rescan_every: Duration,
    /// Quiet time after which an unchanged file counts as complete without a close or rename
    /// event (default 2 s).
    pub settle: Duration,
}

impl WatcherConfig {
    pub const DEFAULT_RESCAN_EVERY: Duration = Duration::from_secs(2);
    pub const DEFAULT_SETTLE: Duration = Duration::from_secs(2);

    /// The defaults for this inbox.
    pub fn new(inbox: impl Into<PathBuf>) -> WatcherConfig {
        WatcherConfig { inbox: inbox.into(), rescan_every: Self::DEFAULT_RESCAN_EVERY, settle: Self::DEFAULT_SETTLE }
    }
}

/// What the watcher hands to the ingest, one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// A complete file in a feed folder, ready to take.
    Feed { path: PathBuf, feed: Feed },
    /// A file that must go to quarantine/unsorted (outside the three feed folders, or an unknown
    /// extension), with the reason.
    Unsorted { path: PathBuf, reason: Reason },
    /// A symbolic link anywhere in the inbox: never followed; moved to quarantine with this reason.
    /// `feed` when the link sits directly inside a feed folder.
    Symlink { path: PathBuf, feed: Option<Feed>, reason: Reason },
}

impl Candidate {
    /// The file's path (absolute).
    pub fn path(&self) -> &Path {
        match self {
            Candidate::Feed { path, .. } | Candidate::Unsorted { path, .. } | Candidate::Symlink { path, .. } => path,
        }
    }
}

/// Why the watcher cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot create or read the inbox folder {path}: {source}")]
    Inbox { path: PathBuf, source: std::io::Error },
    #[error("cannot start the watcher thread: {0}")]
    Spawn(std::io::Error),
}

/// Messages to the watcher thread.
enum Msg {
    Event(notify::Result<notify::Event>),
    Retry(PathBuf),
    Stop,
}

/// Figures the watcher thread publishes.
#[derive(Default)]
struct Shared {
    in_progress: AtomicU64,
    inbox_unreadable: AtomicBool,
    /// Full scans of the inbox done so far.
    scans: AtomicU64,
}

/// The running watcher. Dropping it stops it too.
pub struct Watcher {
    msg_tx: Sender<Msg>,
    /// Taken by the first [`Watcher::stop`]: a watcher shared with connections still open can
    /// be stopped without waiting for them to let go of it.
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
    shared: Arc<Shared>,
}

/// How long a full channel is left alone before offering again.
const FULL_CHANNEL_RETRY: Duration = Duration::from_millis(10);
/// How often starting notify is retried after it failed.
const EVENTS_RETRY: Duration = Duration::from_secs(60);
/// Most messages handled before the state is evaluated (keeps latency bounded in bursts).
const BATCH: usize = 4096;

impl Watcher {
    /// Creates inbox/{admissions,burials,marriages} if missing, starts a notify watcher (recursive
    /// on the inbox) and a scan thread; candidates go to `tx`. Also does a full scan at start-up
    /// (files already waiting).
    pub fn start(cfg: WatcherConfig, tx: SyncSender<Candidate>) -> Result<Watcher, WatchError> {
        Self::start_inner(cfg, tx, true)
    }

    fn start_inner(cfg: WatcherConfig, tx: SyncSender<Candidate>, use_events: bool) -> Result<Watcher, WatchError> {
        let inbox_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WatchError::Inbox { path, source }
        };
        let inbox = std::path::absolute(&cfg.inbox).map_err(inbox_err(&cfg.inbox))?;
        std::fs::create_dir_all(&inbox).map_err(inbox_err(&inbox))?;
        ensure_feed_folders(&inbox).map_err(|(path, source)| WatchError::Inbox { path, source })?;

        let (msg_tx, msg_rx) = mpsc::channel();
        let mut events = Events::new(inbox.clone(), msg_tx.clone(), use_events);
        // Watch before the first scan, so that nothing dropped from now on is missed.
        events.ensure(Instant::now());
        let shared = Arc::new(Shared::default());
        let tracker = Tracker::new(inbox, cfg.settle, cfg.rescan_every);
        let thread = std::thread::Builder::new()
            .name("mzd-watcher".into())
            .spawn({
                let shared = shared.clone();
                move || run(tracker, events, msg_rx, tx, cfg.rescan_every, &shared)
            })
            .map_err(WatchError::Spawn)?;
        Ok(Watcher { msg_tx, thread: std::sync::Mutex::new(Some(thread)), shared })
    }

    /// The consumer calls this after handling a candidate whose file is still at `path` (it failed
    /// transiently and should be retried later), so the watcher may offer it again: after
    /// `rescan_every`, doubled for each further retry of the same version of the file (at most
    /// [`MAX_RETRY_DELAY`]). A path that is gone is simply forgotten.
    pub fn retry_later(&self, path: &Path) {
        let _ = self.msg_tx.send(Msg::Retry(path.to_path_buf()));
    }

    /// Number of files seen in the inbox and not yet handed over or finished (for status
    /// `files.in_progress`): every file or link in the inbox at the watcher's last look, including
    /// those still being written, waiting to be taken, and the one the consumer holds. A file stops
    /// counting when it leaves the inbox.
    pub fn in_progress(&self) -> u64 {
        self.shared.in_progress.load(Ordering::Relaxed)
    }

    /// Full scans of the inbox done so far (the first one runs at start-up).
    pub fn scans(&self) -> u64 {
        self.shared.scans.load(Ordering::Relaxed)
    }

    /// False when the last scan could not read the inbox folder (for status `healthy`).
    pub fn inbox_readable(&self) -> bool {
        !self.shared.inbox_unreadable.load(Ordering::Relaxed)
    }

    /// Stops the threads and the notify watcher; returns when they have exited. Stopping again
    /// does nothing.
    pub fn stop(&self) {
        self.shutdown();
    }

    fn shutdown(&self) {
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = self.msg_tx.send(Msg::Stop);
            if thread.join().is_err() {
                tracing::warn!("the watcher thread panicked");
            }
        }
    }
}

/// Creates the feed folders that do not exist in any letter case (the inbox itself must exist).
fn ensure_feed_folders(inbox: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let existing: Vec<String> = std::fs::read_dir(inbox)
        .map_err(|e| (inbox.to_path_buf(), e))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for feed in Feed::ALL {
        if !existing.iter().any(|n| n.eq_ignore_ascii_case(feed.as_str())) {
            let dir = inbox.join(feed.as_str());
            match std::fs::create_dir(&dir) {
                Ok(()) => tracing::debug!(folder = feed.as_str(), "created the feed folder"),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err((dir, e)),
            }
        }
    }
    Ok(())
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The notify watch, owned by the watcher thread.
struct Events {
    inbox: PathBuf,
    tx: Sender<Msg>,
    enabled: bool,
    watcher: Option<RecommendedWatcher>,
    /// The inbox folder that is watched (a replaced inbox is watched again).
    root: Option<FileId>,
    next_attempt: Instant,
    warned: bool,
}

impl Events {
    fn new(inbox: PathBuf, tx: Sender<Msg>, enabled: bool) -> Events {
        Events { inbox, tx, enabled, watcher: None, root: None, next_attempt: Instant::now(), warned: false }
    }

    /// Makes sure the inbox is watched (if it can be).
    fn ensure(&mut self, now: Instant) {
        if !self.enabled {
            return;
        }
        let root = std::fs::metadata(&self.inbox).ok().map(|m| FileId::of(&m));
        if self.watcher.is_some() {
            if root == self.root {
                return;
            }
            tracing::debug!("the inbox folder was replaced; watching it again");
            self.watcher = None;
            self.next_attempt = now;
        }
        if now < self.next_attempt || root.is_none() {
            return;
        }
        match self.start() {
            Ok(w) => {
                self.watcher = Some(w);
                self.root = root;
                if self.warned {
                    tracing::warn!("file-system events available again");
                    self.warned = false;
                }
            }
            Err(e) => {
                if !self.warned {
                    tracing::warn!(
                        error = %e,
                        "file-system events unavailable (e.g. the inotify watch limit); falling back to periodic scans of the inbox"
                    );
                    self.warned = true;
                }
                self.next_attempt = now + EVENTS_RETRY;
            }
        }
    }

    fn start(&self) -> notify::Result<RecommendedWatcher> {
        let tx = self.tx.clone();
        let mut w = RecommendedWatcher::new(
            move |res| {
                let _ = tx.send(Msg::Event(res));
            },
            notify::Config::default().with_follow_symlinks(false),
        )?;
        w.watch(&self.inbox, RecursiveMode::Recursive)?;
        Ok(w)
    }
}

/// The watcher thread: events, retries and timers in; candidates out.
fn run(
    mut tracker: Tracker,
    mut events: Events,
    rx: Receiver<Msg>,
    tx: SyncSender<Candidate>,
    rescan_every: Duration,
    shared: &Shared,
) {
    let mut next_scan = Instant::now();
    let mut outbox_retry: Option<Instant> = None;
    let mut events_lost = false;
    let mut event_errors = 0u64;
    loop {
        let now = Instant::now();
        let deadline =
            [Some(next_scan), tracker.next_check(), outbox_retry].into_iter().flatten().min().unwrap_or(next_scan);
        let first = if deadline <= now {
            rx.try_recv().ok()
        } else {
            match rx.recv_timeout(deadline - now) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        let mut handled = 0usize;
        let mut msg = first;
        while let Some(m) = msg.take() {
            let now = Instant::now();
            match m {
                Msg::Stop => return,
                Msg::Retry(p) => tracker.retry_later(&p, now),
                Msg::Event(Ok(ev)) => events_lost |= tracker.on_event(ev, now),
                Msg::Event(Err(e)) => {
                    // Typically the watch limit reached for a new folder: say it once, then quietly
                    // rely on the scans.
                    if event_errors == 0 {
                        tracing::warn!(error = %e, "file-system event error; scanning the inbox (further errors at debug level)");
                    } else {
                        tracing::debug!(error = %e, "file-system event error");
                    }
                    event_errors += 1;
                    events_lost = true;
                }
            }
            handled += 1;
            if handled < BATCH {
                msg = rx.try_recv().ok();
            }
        }

        let now = Instant::now();
        if events_lost || now >= next_scan {
            events.ensure(now);
            tracker.full_scan(now, events_lost);
            if tracker.inbox_readable() {
                // A feed folder deleted while running comes back (the inbox itself is not
                // recreated: it may be a mount point that is gone).
                if let Err((dir, e)) = ensure_feed_folders(tracker.inbox()) {
                    tracing::debug!(folder = %dir.display(), error = %e, "cannot create the feed folder");
                }
            }
            events_lost = false;
            next_scan = now + rescan_every;
            shared.inbox_unreadable.store(!tracker.inbox_readable(), Ordering::Relaxed);
            shared.scans.fetch_add(1, Ordering::Relaxed);
        }
        tracker.run_due(now);
        tracker.evaluate(now);
        // Published before the hand-over, so a consumer never sees its file uncounted.
        shared.in_progress.store(tracker.in_progress(), Ordering::Relaxed);
        if !tracker.has_outbox() {
            outbox_retry = None;
        } else if outbox_retry.is_none_or(|t| t <= now) {
            outbox_retry = match tracker.flush(&tx) {
                Flush::Done => None,
                Flush::Full => Some(now + FULL_CHANNEL_RETRY),
                Flush::Disconnected => {
                    tracing::debug!("the consumer is gone; the watcher stops");
                    return;
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::Flag;
    use notify::{Event, EventKind};
    use std::collections::BTreeSet;
    use std::fs;
    use std::io::Write;
    use std::sync::mpsc::{sync_channel, Receiver};

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn start_with(inbox: &Path, settle: Duration, rescan: Duration, events: bool) -> (Watcher, Receiver<Candidate>) {
        let (tx, rx) = sync_channel(16);
        let cfg = WatcherConfig { inbox: inbox.to_path_buf(), rescan_every: rescan, settle };
        (Watcher::start_inner(cfg, tx, events).unwrap(), rx)
    }

    fn start(inbox: &Path, settle: Duration, rescan: Duration) -> (Watcher, Receiver<Candidate>) {
        start_with(inbox, settle, rescan, true)
    }

    fn next(rx: &Receiver<Candidate>, within: Duration) -> Candidate {
        rx.recv_timeout(within).unwrap_or_else(|e| panic!("no candidate within {within:?}: {e}"))
    }

    fn none(rx: &Receiver<Candidate>, for_: Duration) {
        if let Ok(c) = rx.recv_timeout(for_) {
            panic!("unexpected candidate {c:?}");
        }
    }

    fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < within, "timed out waiting for {what}");
            std::thread::sleep(MS(10));
        }
    }

    #[test]
    fn creates_feed_folders_and_offers_a_copied_file_quickly() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().join("inbox");
        // Long settle and rescan: only the close-after-write event can make it quick.
        let (w, rx) = start(&inbox, Duration::from_secs(30), Duration::from_secs(30));
        for f in ["admissions", "burials", "marriages"] {
            assert!(inbox.join(f).is_dir(), "{f}");
        }
        let p = inbox.join("burials").join("a.csv");
        let t = Instant::now();
        fs::write(&p, b"record_id\nr1\n").unwrap();
        assert_eq!(next(&rx, Duration::from_secs(2)), Candidate::Feed { path: p.clone(), feed: Feed::Burials });
        let took = t.elapsed();
        assert!(took < MS(1000), "took {took:?}");
        none(&rx, MS(300));
        assert_eq!(w.in_progress(), 1, "the handed file is still in the inbox");
        fs::remove_file(&p).unwrap();
        wait_until("in_progress 0", Duration::from_secs(2), || w.in_progress() == 0);
        assert!(w.inbox_readable());
        w.stop();
    }

    #[test]
    fn a_file_held_open_with_pauses_is_offered_only_once_closed() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        // Settle shorter than the pauses: quiet time alone must not be enough.
        let (w, rx) = start(&inbox, MS(500), MS(200));
        let p = inbox.join("admissions").join("slow.csv");
        let mut f = fs::File::create(&p).unwrap();
        f.write_all(b"record_id,station_id\n").unwrap();
        none(&rx, Duration::from_secs(3));
        f.write_all(b"r1,S1\n").unwrap();
        none(&rx, Duration::from_secs(3));
        f.write_all(b"r2,S1\n").unwrap();
        assert_eq!(w.in_progress(), 1);
        drop(f);
        assert_eq!(next(&rx, Duration::from_secs(1)), Candidate::Feed { path: p.clone(), feed: Feed::Admissions });
        assert_eq!(fs::read(&p).unwrap(), b"record_id,station_id\nr1,S1\nr2,S1\n");
        w.stop();
    }

    #[test]
    fn part_file_renamed_into_place_is_offered_once_after_the_rename() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        let (w, rx) = start(&inbox, Duration::from_secs(30), MS(200));
        let part = inbox.join("marriages").join("x.csv.part");
        let done = inbox.join("marriages").join("x.csv");
        fs::write(&part, b"record_id\nr1\n").unwrap();
        none(&rx, MS(600));
        assert_eq!(w.in_progress(), 1);
        let t = Instant::now();
        fs::rename(&part, &done).unwrap();
        assert_eq!(next(&rx, Duration::from_secs(2)), Candidate::Feed { path: done, feed: Feed::Marriages });
        assert!(t.elapsed() < MS(1000), "took {:?}", t.elapsed());
        none(&rx, MS(600));
        assert_eq!(w.in_progress(), 1);
        w.stop();
    }

    #[test]
    fn in_progress_names_are_ignored_but_counted() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        let (w, rx) = start(&inbox, MS(100), MS(100));
        let names = [".hidden.csv", "a.tmp", "b.CSV.PART", "c.crdownload", "d.filepart", "e.partial"];
        for n in names {
            fs::write(inbox.join("admissions").join(n), b"record_id\n").unwrap();
        }
        fs::create_dir(inbox.join("admissions").join(".sync")).unwrap();
        fs::write(inbox.join("admissions").join(".sync").join("f.csv"), b"record_id\n").unwrap();
        none(&rx, MS(800));
        assert_eq!(w.in_progress(), names.len() as u64, "hidden folders are not counted");
        w.stop();
    }

    #[test]
    fn unsorted_files_and_symlinks() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().join("inbox");
        let (w, rx) = start(&inbox, MS(100), MS(200));
        let target = d.path().join("target.csv");
        fs::write(&target, b"record_id\n").unwrap();
        fs::write(inbox.join("root.csv"), b"x").unwrap();
        fs::create_dir_all(inbox.join("other")).unwrap();
        fs::write(inbox.join("other").join("b.csv"), b"x").unwrap();
        fs::create_dir_all(inbox.join("admissions").join("sub")).unwrap();
        fs::write(inbox.join("admissions").join("sub").join("c.csv"), b"x").unwrap();
        fs::write(inbox.join("admissions").join("d.docx"), b"x").unwrap();
        std::os::unix::fs::symlink(&target, inbox.join("burials").join("l.csv")).unwrap();
        std::os::unix::fs::symlink(&target, inbox.join("root-link.csv")).unwrap();

        let mut got = BTreeSet::new();
        for _ in 0..6 {
            let c = next(&rx, Duration::from_secs(3));
            let rel = c.path().strip_prefix(&inbox).unwrap().to_string_lossy().into_owned();
            let kind = match &c {
                Candidate::Feed { .. } => "feed".to_string(),
                Candidate::Unsorted { reason, .. } => {
                    assert!(!reason.zh.is_empty() && !reason.en.is_empty());
                    "unsorted".to_string()
                }
                Candidate::Symlink { feed, reason, .. } => {
                    assert!(reason.en.contains("symbolic link"));
                    format!("symlink {feed:?}")
                }
            };
            got.insert((rel, kind));
        }
        let want: BTreeSet<(String, String)> = [
            ("root.csv", "unsorted"),
            ("other/b.csv", "unsorted"),
            ("admissions/sub/c.csv", "unsorted"),
            ("admissions/d.docx", "unsorted"),
            ("burials/l.csv", "symlink Some(Burials)"),
            ("root-link.csv", "symlink None"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
        none(&rx, MS(400));
        assert_eq!(fs::read(&target).unwrap(), b"record_id\n", "the link's target is untouched");
        w.stop();
    }

    #[test]
    fn a_deleted_feed_folder_comes_back() {
        let d = tempfile::tempdir().unwrap();
        let (w, _rx) = start(d.path(), MS(100), MS(100));
        fs::remove_dir(d.path().join("marriages")).unwrap();
        wait_until("marriages recreated", Duration::from_secs(2), || d.path().join("marriages").is_dir());
        w.stop();
    }

    #[test]
    fn feed_folders_match_case_insensitively() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        fs::create_dir(inbox.join("Admissions")).unwrap();
        let (w, rx) = start(&inbox, Duration::from_secs(30), MS(500));
        assert!(!inbox.join("admissions").exists(), "no second admissions folder is created");
        let p = inbox.join("Admissions").join("A.CSV");
        fs::write(&p, b"record_id\n").unwrap();
        assert_eq!(next(&rx, Duration::from_secs(2)), Candidate::Feed { path: p, feed: Feed::Admissions });
        w.stop();
    }

    #[test]
    fn files_waiting_at_start_up_are_offered_after_settling() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        fs::create_dir(inbox.join("burials")).unwrap();
        let p = inbox.join("burials").join("old.jsonl");
        fs::write(&p, b"{}\n").unwrap();
        let t = Instant::now();
        let (w, rx) = start(&inbox, MS(300), Duration::from_secs(30));
        assert_eq!(next(&rx, Duration::from_secs(3)), Candidate::Feed { path: p, feed: Feed::Burials });
        assert!(t.elapsed() >= MS(300));
        w.stop();
    }

    #[test]
    fn retry_later_and_changed_files_are_offered_again() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        let (w, rx) = start(&inbox, Duration::from_secs(30), MS(300));
        let p = inbox.join("admissions").join("a.ndjson");
        fs::write(&p, b"{}\n").unwrap();
        let c = next(&rx, Duration::from_secs(2));
        none(&rx, MS(700));
        w.retry_later(c.path());
        let t = Instant::now();
        assert_eq!(next(&rx, Duration::from_secs(3)), c);
        assert!(t.elapsed() >= MS(250), "not before the retry delay: {:?}", t.elapsed());
        none(&rx, MS(700));
        // The next retry of the same version waits twice as long.
        w.retry_later(c.path());
        let t = Instant::now();
        assert_eq!(next(&rx, Duration::from_secs(3)), c);
        assert!(t.elapsed() >= MS(550), "backing off: {:?}", t.elapsed());
        // A new version of the file (identity changed) is a new candidate.
        fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b"{}\n").unwrap();
        assert_eq!(next(&rx, Duration::from_secs(2)), c);
        // Gone and back: offered again.
        fs::remove_file(&p).unwrap();
        fs::write(&p, b"{}\n").unwrap();
        assert_eq!(next(&rx, Duration::from_secs(2)), c);
        none(&rx, MS(500));
        w.stop();
    }

    #[test]
    fn without_events_a_rescan_request_or_the_periodic_scan_finds_files() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        let (w, rx) = start_with(&inbox, MS(100), Duration::from_secs(60), false);
        std::thread::sleep(MS(200));
        let p = inbox.join("marriages").join("m.csv");
        fs::write(&p, b"record_id\n").unwrap();
        none(&rx, MS(500));
        // What notify sends after a queue overflow: no paths, the rescan flag.
        w.msg_tx.send(Msg::Event(Ok(Event::new(EventKind::Other).set_flag(Flag::Rescan)))).unwrap();
        assert_eq!(next(&rx, Duration::from_secs(2)), Candidate::Feed { path: p, feed: Feed::Marriages });
        w.stop();

        let (w, rx) = start_with(&inbox, MS(100), MS(300), false);
        let p = inbox.join("burials").join("n.csv");
        std::thread::sleep(MS(100));
        fs::write(&p, b"record_id\n").unwrap();
        let c = next(&rx, Duration::from_secs(3));
        let c = if c.path().ends_with("m.csv") { next(&rx, Duration::from_secs(3)) } else { c };
        assert_eq!(c, Candidate::Feed { path: p, feed: Feed::Burials });
        w.stop();
    }

    #[test]
    fn a_full_channel_delays_but_loses_nothing() {
        let d = tempfile::tempdir().unwrap();
        let inbox = d.path().to_path_buf();
        let (tx, rx) = sync_channel(0);
        let cfg = WatcherConfig { inbox: inbox.clone(), rescan_every: MS(500), settle: Duration::from_secs(30) };
        let w = Watcher::start(cfg, tx).unwrap();
        for i in 0..5 {
            fs::write(inbox.join("burials").join(format!("{i}.csv")), b"record_id\n").unwrap();
        }
        std::thread::sleep(MS(500));
        let mut got = BTreeSet::new();
        for _ in 0..5 {
            got.insert(next(&rx, Duration::from_secs(2)).path().to_path_buf());
        }
        assert_eq!(got.len(), 5);
        none(&rx, MS(300));
        w.stop();
    }

    /// Drop-to-offer latency of small files; run with
    /// `cargo test -p mzd --lib watcher::tests::latency -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn latency() {
        let d = tempfile::tempdir().unwrap();
        let (w, rx) = start(d.path(), Duration::from_secs(2), Duration::from_secs(2));
        let mut took = Vec::new();
        for i in 0..100 {
            let t = Instant::now();
            fs::write(d.path().join("admissions").join(format!("{i}.csv")), b"record_id\nr1\n").unwrap();
            let c = next(&rx, Duration::from_secs(5));
            took.push(t.elapsed());
            fs::remove_file(c.path()).unwrap();
        }
        took.sort();
        eprintln!("p50 {:?} p90 {:?} max {:?}", took[50], took[90], took[99]);
        w.stop();
    }

    #[test]
    fn stop_returns_and_a_dropped_consumer_ends_the_thread() {
        let d = tempfile::tempdir().unwrap();
        let (w, rx) = start(d.path(), MS(100), MS(100));
        let t = Instant::now();
        w.stop();
        assert!(t.elapsed() < Duration::from_secs(1));
        drop(rx);

        let (w, rx) = start(d.path(), MS(100), MS(100));
        drop(rx);
        fs::write(d.path().join("burials").join("x.csv"), b"record_id\n").unwrap();
        std::thread::sleep(MS(300));
        drop(w);
    }
}
