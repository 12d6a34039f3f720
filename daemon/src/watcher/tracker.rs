//! The watcher's table of inbox files and the completeness rules; no threads, no channels.
//!
//! Each tracked path has its last observed identity (dev, inode, size, mtime), when that last
//! changed, the identity at the last "complete" signal (close-after-write, rename into place),
//! whether a write was seen since the last close (`dirty`), and its hand-over state.

use super::classify::{classify, Class};
use super::writers::{self, FileId};
use super::Candidate;
use mz_shared::reason::Reason;
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// A file with a write seen and no close-after-write since is not taken on quiet time alone,
/// unless it stayed unchanged this long (a lost close event must not block it forever).
pub const DIRTY_GRACE: Duration = Duration::from_secs(300);

/// Longest wait before a file the consumer gave back is offered again (the wait doubles from
/// the retry delay for each retry of the same version of the file).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

/// What identifies one version of a file at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ident {
    pub id: FileId,
    pub size: u64,
    pub mtime: (i64, i64),
}

impl Ident {
    fn of(meta: &fs::Metadata) -> Ident {
        Ident { id: FileId::of(meta), size: meta.size(), mtime: (meta.mtime(), meta.mtime_nsec()) }
    }
}

/// What an event says about a file, beyond "look at it again".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    None,
    /// Created (by `open(O_CREAT)`, a hard link, …): if empty, a writer is expected.
    Created,
    /// Written to: wait for the close.
    Data,
    /// Attributes changed (e.g. mtime set after the copy): not a content change.
    Metadata,
    /// Closed after writing: complete as it is now.
    Closed,
    /// Renamed into place: complete as it is now, unless the writer's dirty state came along.
    Renamed {
        dirty: Option<bool>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not yet handed over.
    Waiting,
    /// Ready, in the outbox.
    Queued,
    /// Handed to the consumer.
    Handed,
    /// The consumer asked to be offered it again at this time.
    RetryAt(Instant),
}

#[derive(Debug)]
struct Entry {
    class: Class,
    regular: bool,
    ident: Ident,
    changed_at: Instant,
    signal: Option<Ident>,
    dirty: bool,
    state: State,
    check_at: Option<Instant>,
    seen: u64,
    /// Consecutive `retry_later` calls for this version of the file.
    retries: u32,
}

/// Result of offering the outbox to the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// Everything queued was handed over.
    Done,
    /// The channel is full; try again soon.
    Full,
    /// The consumer is gone.
    Disconnected,
}

/// The table of inbox files.
pub struct Tracker {
    inbox: PathBuf,
    settle: Duration,
    retry_delay: Duration,
    entries: BTreeMap<PathBuf, Entry>,
    /// Paths observed since the last evaluation.
    touched: BTreeSet<PathBuf>,
    outbox: VecDeque<PathBuf>,
    /// Dirty state of files renamed away, by rename cookie, for the matching rename-to.
    moved_from: HashMap<usize, bool>,
    generation: u64,
    /// Why the inbox itself could not be read at the last scan.
    inbox_error: Option<io::ErrorKind>,
}

impl Tracker {
    pub fn new(inbox: PathBuf, settle: Duration, retry_delay: Duration) -> Tracker {
        Tracker {
            inbox,
            settle,
            retry_delay,
            entries: BTreeMap::new(),
            touched: BTreeSet::new(),
            outbox: VecDeque::new(),
            moved_from: HashMap::new(),
            generation: 0,
            inbox_error: None,
        }
    }

    pub fn inbox(&self) -> &Path {
        &self.inbox
    }

    /// Files in the inbox as last seen: being written, waiting, queued or with the consumer.
    pub fn in_progress(&self) -> u64 {
        self.entries.len() as u64
    }

    /// True when the last scan could read the inbox.
    pub fn inbox_readable(&self) -> bool {
        self.inbox_error.is_none()
    }

    /// The earliest time some file must be looked at again.
    pub fn next_check(&self) -> Option<Instant> {
        self.entries.values().filter_map(|e| e.check_at).min()
    }

    /// Has something to send to the consumer.
    pub fn has_outbox(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// The path relative to the inbox, for logs: control characters escaped.
    fn name(&self, path: &Path) -> String {
        log_rel(&self.inbox, path)
    }

    /// Looks at one path again (lstat), with what an event said about it.
    pub fn observe(&mut self, path: &Path, hint: Hint, now: Instant) {
        let Ok(rel) = path.strip_prefix(&self.inbox) else { return };
        if rel.as_os_str().is_empty() {
            // The inbox itself: look at everything.
            self.scan_dir(path, now);
            return;
        }
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::debug!(file = %self.name(path), error = %e, "cannot look at inbox file");
                }
                self.forget(path);
                return;
            }
        };
        if meta.is_dir() {
            if rel.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')) {
                self.forget(path);
            } else {
                self.scan_dir(path, now);
            }
            return;
        }
        let class = classify(rel, meta.file_type());
        if class == Class::Hidden {
            self.forget(path);
            return;
        }
        let ident = Ident::of(&meta);
        let generation = self.generation;
        let entry = self.entries.entry(path.to_path_buf()).or_insert_with(|| Entry {
            class: class.clone(),
            regular: meta.is_file(),
            ident,
            changed_at: now,
            signal: None,
            dirty: false,
            state: State::Waiting,
            check_at: None,
            seen: generation,
            retries: 0,
        });
        let previous = entry.ident;
        if ident != previous {
            entry.ident = ident;
            entry.changed_at = now;
            // A new version of the file: it may be offered again.
            entry.state = State::Waiting;
            entry.retries = 0;
        }
        entry.class = class;
        entry.regular = meta.is_file();
        entry.seen = generation;
        match hint {
            Hint::None => {}
            Hint::Created => {
                if ident.size == 0 {
                    entry.dirty = true;
                }
            }
            Hint::Data => entry.dirty = true,
            Hint::Metadata => {
                if !entry.dirty && entry.signal == Some(previous) {
                    entry.signal = Some(ident);
                }
            }
            Hint::Closed => {
                entry.dirty = false;
                entry.signal = Some(ident);
            }
            Hint::Renamed { dirty } => {
                if let Some(d) = dirty {
                    entry.dirty = d;
                }
                entry.signal = Some(ident);
            }
        }
        self.touched.insert(path.to_path_buf());
    }

    /// Drops a path and everything under it.
    pub fn forget(&mut self, path: &Path) {
        let gone: Vec<PathBuf> = self
            .entries
            .range(path.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(path))
            .map(|(p, _)| p.clone())
            .collect();
        for p in gone {
            self.entries.remove(&p);
            self.touched.remove(&p);
        }
    }

    /// Looks at every file under `dir` (not following links, not entering hidden folders).
    fn scan_dir(&mut self, dir: &Path, now: Instant) {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let rd = match fs::read_dir(&d) {
                Ok(rd) => rd,
                Err(e) => {
                    if d == self.inbox {
                        if self.inbox_error != Some(e.kind()) {
                            tracing::warn!(error = %e, "cannot read the inbox");
                        }
                        self.inbox_error = Some(e.kind());
                    } else {
                        tracing::debug!(folder = %self.name(&d), error = %e, "cannot read inbox folder");
                    }
                    // Keep what was known under it rather than offering it again later.
                    self.mark_seen_under(&d);
                    continue;
                }
            };
            if d == self.inbox && self.inbox_error.take().is_some() {
                tracing::warn!("the inbox is readable again");
            }
            for entry in rd {
                let Ok(entry) = entry else { continue };
                let path = entry.path();
                match entry.file_type() {
                    Ok(ft) if ft.is_dir() => {
                        if !entry.file_name().to_string_lossy().starts_with('.') {
                            stack.push(path);
                        }
                    }
                    _ => self.observe(&path, Hint::None, now),
                }
            }
        }
    }

    fn mark_seen_under(&mut self, dir: &Path) {
        let generation = self.generation;
        for (_, e) in self.entries.range_mut(dir.to_path_buf()..).take_while(|(p, _)| p.starts_with(dir)) {
            e.seen = generation;
        }
    }

    /// Looks at the whole inbox; forgets what is gone. After lost events (`events_lost`), write
    /// states learned from events are dropped: completeness falls back to quiet time.
    pub fn full_scan(&mut self, now: Instant, events_lost: bool) {
        self.generation += 1;
        self.moved_from.clear();
        if events_lost {
            for e in self.entries.values_mut() {
                e.dirty = false;
            }
        }
        let inbox = self.inbox.clone();
        self.scan_dir(&inbox, now);
        let generation = self.generation;
        self.entries.retain(|_, e| e.seen == generation);
        let entries = &self.entries;
        self.touched.retain(|p| entries.contains_key(p));
        // Every remaining entry is re-evaluated (time may have made some ready).
        self.touched.extend(self.entries.keys().cloned());
    }

    /// Applies one notify event. Returns true when a full scan is needed (events were lost).
    pub fn on_event(&mut self, event: Event, now: Instant) -> bool {
        if event.need_rescan() {
            return true;
        }
        let tracker = event.tracker();
        match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                for p in &event.paths {
                    self.observe(p, Hint::Closed, now);
                }
            }
            EventKind::Access(_) => {}
            EventKind::Create(CreateKind::Folder) => {
                for p in &event.paths {
                    self.observe(p, Hint::None, now);
                }
            }
            EventKind::Create(_) => {
                for p in &event.paths {
                    self.observe(p, Hint::Created, now);
                }
            }
            EventKind::Modify(ModifyKind::Data(_)) => {
                for p in &event.paths {
                    self.observe(p, Hint::Data, now);
                }
            }
            EventKind::Modify(ModifyKind::Metadata(_)) => {
                for p in &event.paths {
                    self.observe(p, Hint::Metadata, now);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                for p in &event.paths {
                    if let (Some(t), Some(e)) = (tracker, self.entries.get(p)) {
                        self.moved_from.insert(t, e.dirty);
                    }
                    self.forget(p);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
                let dirty = tracker.and_then(|t| self.moved_from.remove(&t));
                for p in &event.paths {
                    self.observe(p, Hint::Renamed { dirty }, now);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let [from, to] = &event.paths[..] {
                    self.forget(from);
                    self.observe(to, Hint::Renamed { dirty: None }, now);
                }
            }
            EventKind::Modify(ModifyKind::Name(_)) => {
                for p in &event.paths {
                    self.observe(p, Hint::Renamed { dirty: None }, now);
                }
            }
            EventKind::Remove(_) => {
                for p in &event.paths {
                    self.forget(p);
                }
            }
            EventKind::Modify(_) | EventKind::Any | EventKind::Other => {
                if event.paths.is_empty() {
                    return true;
                }
                for p in &event.paths {
                    self.observe(p, Hint::None, now);
                }
            }
        }
        false
    }

    /// The consumer could not finish `path` and wants it offered again later: after the retry
    /// delay, doubled for each further retry of the same version, at most [`MAX_RETRY_DELAY`].
    pub fn retry_later(&mut self, path: &Path, now: Instant) {
        match self.entries.get_mut(path) {
            Some(e) => {
                let delay = self.retry_delay.saturating_mul(1 << e.retries.min(16)).min(MAX_RETRY_DELAY);
                e.retries = e.retries.saturating_add(1);
                let at = now + delay;
                e.state = State::RetryAt(at);
                e.check_at = Some(at);
            }
            None => self.observe(path, Hint::None, now),
        }
    }

    /// Looks again at the files whose time has come.
    pub fn run_due(&mut self, now: Instant) {
        let due: Vec<PathBuf> =
            self.entries.iter().filter(|(_, e)| e.check_at.is_some_and(|t| t <= now)).map(|(p, _)| p.clone()).collect();
        for p in due {
            if let Some(e) = self.entries.get_mut(&p) {
                e.check_at = None;
                if matches!(e.state, State::RetryAt(t) if t <= now) {
                    e.state = State::Waiting;
                }
            }
            self.observe(&p, Hint::None, now);
        }
    }

    /// Decides which of the files looked at are complete, and queues them in drop order.
    pub fn evaluate(&mut self, now: Instant) {
        let touched = std::mem::take(&mut self.touched);
        let mut ready: Vec<PathBuf> = Vec::new();
        let mut need_proc: Vec<PathBuf> = Vec::new();
        for path in touched {
            let Some(e) = self.entries.get_mut(&path) else { continue };
            e.check_at = match e.state {
                State::RetryAt(t) if t > now => Some(t),
                _ => None,
            };
            if let State::RetryAt(t) = e.state {
                if t > now {
                    continue;
                }
                e.state = State::Waiting;
            }
            if e.state != State::Waiting {
                continue;
            }
            match &e.class {
                Class::Hidden | Class::InProgress => continue,
                Class::Symlink(_) => {
                    ready.push(path);
                    continue;
                }
                Class::Unsorted(_) if !e.regular => {
                    ready.push(path);
                    continue;
                }
                Class::Feed(_) | Class::Unsorted(_) => {}
            }
            let quiet = now.saturating_duration_since(e.changed_at);
            if e.dirty && quiet < DIRTY_GRACE {
                // Written to and not closed yet: the close event will wake us.
                e.check_at = Some(e.changed_at + DIRTY_GRACE);
                continue;
            }
            if e.signal == Some(e.ident) || quiet >= self.settle {
                need_proc.push(path);
            } else {
                e.check_at = Some(e.changed_at + self.settle);
            }
        }
        if !need_proc.is_empty() {
            let wanted: HashSet<FileId> =
                need_proc.iter().filter_map(|p| self.entries.get(p)).map(|e| e.ident.id).collect();
            let writing = writers::open_for_writing(&wanted);
            for path in need_proc {
                let Some(e) = self.entries.get_mut(&path) else { continue };
                if writing.contains(&e.ident.id) {
                    tracing::debug!(file = %log_rel(&self.inbox, &path), "still open for writing");
                    e.check_at = Some(now + self.settle);
                } else {
                    ready.push(path);
                }
            }
        }
        // Drop order: oldest modification first, then by name.
        ready.sort_by_cached_key(|p| (self.entries.get(p).map(|e| e.ident.mtime), p.clone()));
        for path in ready {
            if let Some(e) = self.entries.get_mut(&path) {
                e.state = State::Queued;
                self.outbox.push_back(path);
            }
        }
    }

    /// Hands the queued files to the consumer, never blocking.
    pub fn flush(&mut self, tx: &SyncSender<Candidate>) -> Flush {
        while let Some(path) = self.outbox.front() {
            let Some(e) = self.entries.get(path).filter(|e| e.state == State::Queued) else {
                self.outbox.pop_front();
                continue;
            };
            let candidate = match &e.class {
                Class::Feed(feed) => Candidate::Feed { path: path.clone(), feed: *feed },
                Class::Unsorted(reason) => Candidate::Unsorted { path: path.clone(), reason: reason.clone() },
                Class::Symlink(feed) => {
                    Candidate::Symlink { path: path.clone(), feed: *feed, reason: symlink_reason() }
                }
                Class::Hidden | Class::InProgress => {
                    self.outbox.pop_front();
                    continue;
                }
            };
            match tx.try_send(candidate) {
                Ok(()) => {
                    tracing::debug!(file = %self.name(path), "file handed over");
                    let path = self.outbox.pop_front().expect("front");
                    if let Some(e) = self.entries.get_mut(&path) {
                        e.state = State::Handed;
                    }
                }
                Err(TrySendError::Full(_)) => return Flush::Full,
                Err(TrySendError::Disconnected(_)) => return Flush::Disconnected,
            }
        }
        Flush::Done
    }
}

fn symlink_reason() -> Reason {
    Reason::new(
        "这是一个符号链接（快捷方式）：系统不会读取链接指向的文件，链接已移入隔离区，其目标未被改动；请放入文件本身",
        "this is a symbolic link: links are never followed; the link was quarantined and its target left untouched; \
         drop the file itself",
    )
}

/// `path` relative to `inbox`, for logs: control characters escaped.
fn log_rel(inbox: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(inbox).unwrap_or(path).to_string_lossy();
    rel.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{DataChange, MetadataKind};
    use std::sync::mpsc::{sync_channel, Receiver};

    /// A tracker on a temp inbox; files written and closed, so `/proc` never sees a writer and
    /// only the event and time rules decide.
    fn setup(settle: Duration) -> (tempfile::TempDir, Tracker, PathBuf, SyncSender<Candidate>, Receiver<Candidate>) {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("burials")).unwrap();
        let p = d.path().join("burials").join("f.csv");
        fs::write(&p, b"record_id\n").unwrap();
        let t = Tracker::new(d.path().to_path_buf(), settle, Duration::from_secs(1));
        let (tx, rx) = sync_channel(8);
        (d, t, p, tx, rx)
    }

    fn ev(kind: EventKind, p: &Path) -> Event {
        Event::new(kind).add_path(p.to_path_buf())
    }

    fn offered(t: &mut Tracker, tx: &SyncSender<Candidate>, rx: &Receiver<Candidate>, now: Instant) -> bool {
        t.evaluate(now);
        assert_eq!(t.flush(tx), Flush::Done);
        rx.try_recv().is_ok()
    }

    #[test]
    fn a_write_without_close_waits_beyond_settle() {
        let (_d, mut t, p, tx, rx) = setup(Duration::from_millis(1));
        let now = Instant::now();
        t.on_event(ev(EventKind::Create(CreateKind::File), &p), now);
        t.on_event(ev(EventKind::Modify(ModifyKind::Data(DataChange::Any)), &p), now);
        let later = now + Duration::from_secs(10);
        t.run_due(later);
        t.observe(&p, Hint::None, later);
        assert!(!offered(&mut t, &tx, &rx, later), "dirty: quiet time is not enough");
        t.on_event(ev(EventKind::Access(AccessKind::Close(AccessMode::Write)), &p), later);
        assert!(offered(&mut t, &tx, &rx, later), "closed after writing");
        // Dirty files are trusted again after the grace period, and after lost events.
        t.on_event(ev(EventKind::Modify(ModifyKind::Data(DataChange::Any)), &p), later);
        fs::write(&p, b"record_id\nr1\n").unwrap();
        t.observe(&p, Hint::Data, later);
        assert!(!offered(&mut t, &tx, &rx, later + Duration::from_secs(1)));
        t.observe(&p, Hint::None, later + DIRTY_GRACE);
        assert!(offered(&mut t, &tx, &rx, later + DIRTY_GRACE));
        fs::write(&p, b"record_id\nr2\n").unwrap();
        t.observe(&p, Hint::Data, later);
        t.full_scan(later + Duration::from_secs(1), true);
        assert!(offered(&mut t, &tx, &rx, later + Duration::from_secs(1)));
    }

    #[test]
    fn without_events_the_file_must_stay_unchanged_for_settle() {
        let (_d, mut t, p, tx, rx) = setup(Duration::from_secs(2));
        let now = Instant::now();
        t.full_scan(now, false);
        assert!(!offered(&mut t, &tx, &rx, now));
        assert_eq!(t.next_check(), Some(now + Duration::from_secs(2)));
        // Changed meanwhile: the clock starts again.
        fs::write(&p, b"record_id\nr1\n").unwrap();
        let t1 = now + Duration::from_secs(2);
        t.run_due(t1);
        assert!(!offered(&mut t, &tx, &rx, t1));
        let t2 = t1 + Duration::from_secs(2);
        t.run_due(t2);
        assert!(offered(&mut t, &tx, &rx, t2));
        // Handed over once only.
        t.full_scan(t2 + Duration::from_secs(5), false);
        assert!(!offered(&mut t, &tx, &rx, t2 + Duration::from_secs(5)));
    }

    #[test]
    fn an_attribute_change_after_the_close_keeps_it_complete() {
        let (_d, mut t, p, tx, rx) = setup(Duration::from_secs(30));
        let now = Instant::now();
        t.on_event(ev(EventKind::Access(AccessKind::Close(AccessMode::Write)), &p), now);
        // Like `scp -p`: the mtime is set after the close.
        let f = fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)).unwrap();
        drop(f);
        t.on_event(ev(EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)), &p), now);
        assert!(offered(&mut t, &tx, &rx, now));
    }

    #[test]
    fn a_rename_keeps_the_writers_dirty_state() {
        let (d, mut t, p, tx, rx) = setup(Duration::from_secs(30));
        let part = d.path().join("burials").join("f.csv.part");
        fs::rename(&p, &part).unwrap();
        let now = Instant::now();
        t.on_event(ev(EventKind::Modify(ModifyKind::Data(DataChange::Any)), &part), now);
        assert_eq!(t.in_progress(), 1);
        assert!(!offered(&mut t, &tx, &rx, now), "in-progress name");
        fs::rename(&part, &p).unwrap();
        t.on_event(ev(EventKind::Modify(ModifyKind::Name(RenameMode::From)), &part).set_tracker(7), now);
        t.on_event(ev(EventKind::Modify(ModifyKind::Name(RenameMode::To)), &p).set_tracker(7), now);
        t.on_event(
            Event::new(EventKind::Modify(ModifyKind::Name(RenameMode::Both)))
                .add_path(part.clone())
                .add_path(p.clone())
                .set_tracker(7),
            now,
        );
        assert_eq!(t.in_progress(), 1);
        assert!(!offered(&mut t, &tx, &rx, now), "renamed while still being written");
        t.on_event(ev(EventKind::Access(AccessKind::Close(AccessMode::Write)), &p), now);
        assert!(offered(&mut t, &tx, &rx, now));
        // A clean rename into place is complete at once.
        let q = d.path().join("burials").join("g.csv");
        fs::write(&part, b"x\n").unwrap();
        t.on_event(ev(EventKind::Access(AccessKind::Close(AccessMode::Write)), &part), now);
        fs::rename(&part, &q).unwrap();
        t.on_event(ev(EventKind::Modify(ModifyKind::Name(RenameMode::From)), &part).set_tracker(8), now);
        t.on_event(ev(EventKind::Modify(ModifyKind::Name(RenameMode::To)), &q).set_tracker(8), now);
        assert!(offered(&mut t, &tx, &rx, now));
        assert_eq!(t.in_progress(), 2);
        t.on_event(ev(EventKind::Remove(notify::event::RemoveKind::File), &q), now);
        assert_eq!(t.in_progress(), 1);
    }
}
