//! Station tasks (在站事项, SPEC §7) inside the engine: creating them from admissions and long
//! stays, voiding them on discharge, completing them for staff, and the figures the status and
//! the dashboard show. The rules of a task are pure and live in [`mz_shared::task`].
//!
//! Invariants: every change to a task goes through [`put`], which keeps [`TaskIndex`] in step
//! with the `tasks` table, so the open and overdue counts and each station's open list are read
//! from the index, never by walking the tasks. One task per stay (admission record) and kind:
//! [`TaskIndex::stay_has`] knows the tasks of every stay still going on and is checked before
//! creating one (an ended stay gets no new task). Memory and the `task` table hold open tasks
//! only: a task done or voided moves to the [`crate::task_archive`] in the commit that closed it
//! (`mzd task list` and a second `done` read it there), and memory keeps fixed-size hashes of it,
//! so memory grows with the people present, not with the years. Like everything the engine
//! changes, tasks are committed in the batch of the row, tick or action that changed them.

use crate::rules::RuleContext;
use crate::state::{key2, Resident, State, Table};
use crate::store::{keys, StoreError, StoreReader};
use crate::task_archive::{self, ClosedMark};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::case::Actor;
use mz_shared::dashboard::TaskRow;
use mz_shared::protocol::TaskCounts;
use mz_shared::protocol::TaskView;
use mz_shared::reason::Reason;
use mz_shared::records::StationEvent;
use mz_shared::registry::Registry;
use mz_shared::task::{self, StationTask, TaskKind, TaskState};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;

/// Orderings of the tasks, rebuilt at load and kept with every change through [`put`].
#[derive(Debug, Default)]
pub struct TaskIndex {
    /// (due, id) of every open task.
    open_by_due: BTreeSet<(i64, String)>,
    /// station → (due, id) of its open tasks.
    open_by_station: HashMap<String, BTreeSet<(i64, String)>>,
    /// station ␟ person_ref → ids of the person's open tasks there.
    open_by_person: HashMap<String, Vec<String>>,
    /// [`task_archive::stay_hash`] of the tasks of every stay still going on, whatever their
    /// state: a stay gets at most one task of a kind.
    by_stay: HashSet<u64>,
    /// [`task_archive::person_kind_hash`] → the highest stay number used in a task id.
    stays: HashMap<u64, u32>,
    /// [`task_archive::id_hash`] of every closed task (archived or about to be).
    closed_ids: HashSet<u64>,
    /// Tasks closed since the last write, for the archive: forgotten from memory once written.
    archive: Vec<StationTask>,
}

/// The stay number in a task id (`…/KIND` is 1, `…/KIND/N` is N).
fn stay_number(t: &StationTask) -> u32 {
    let first = task::task_id(&t.station, &t.person_ref, t.kind, 1);
    match t.id.strip_prefix(&first) {
        Some("") => 1,
        Some(rest) => rest.trim_start_matches('/').parse().unwrap_or(1),
        None => 1,
    }
}

impl TaskIndex {
    /// The index of the open tasks in `tasks` and of the closed ones (`marks`, from the
    /// archive); `residents` tells which stays are still going on. Closed tasks of a store
    /// written before the archive are moved out of `tasks` into the archive (written by the
    /// next commit).
    pub fn build(tasks: &mut Table<StationTask>, residents: &Table<Resident>, marks: &[ClosedMark]) -> TaskIndex {
        let mut index = TaskIndex::default();
        let present: HashSet<u64> = residents
            .values()
            .flat_map(|r| TaskKind::ALL.into_iter().map(|k| task_archive::stay_hash(&r.record_id, k)))
            .collect();
        let legacy: Vec<StationTask> = tasks.values().filter(|t| !t.is_open()).cloned().collect();
        for t in tasks.values().filter(|t| t.is_open()) {
            index.note_stay(&ClosedMark::of(t, stay_number(t)));
            index.add(t);
        }
        let legacy_marks: Vec<ClosedMark> = legacy.iter().map(|t| ClosedMark::of(t, stay_number(t))).collect();
        for m in marks.iter().chain(&legacy_marks) {
            index.note_stay(m);
            index.closed_ids.insert(m.id);
            if !present.contains(&m.stay) {
                index.by_stay.remove(&m.stay);
            }
        }
        for t in legacy {
            tasks.remove(&t.id);
            index.archive.push(t);
        }
        index
    }

    fn note_stay(&mut self, m: &ClosedMark) {
        let n = self.stays.entry(m.person_kind).or_default();
        *n = (*n).max(m.number);
        self.by_stay.insert(m.stay);
    }

    /// Tasks closed since the last call, to archive.
    pub fn take_archive(&mut self) -> Vec<StationTask> {
        std::mem::take(&mut self.archive)
    }

    fn add(&mut self, t: &StationTask) {
        self.by_stay.insert(task_archive::stay_hash(&t.record_id, t.kind));
        if t.is_open() {
            self.open_by_due.insert((t.due_at_ms, t.id.clone()));
            self.open_by_station.entry(t.station.clone()).or_default().insert((t.due_at_ms, t.id.clone()));
            self.open_by_person.entry(key2(&t.station, &t.person_ref)).or_default().push(t.id.clone());
        }
    }

    fn remove(&mut self, t: &StationTask) {
        if t.is_open() {
            self.open_by_due.remove(&(t.due_at_ms, t.id.clone()));
            if let Some(set) = self.open_by_station.get_mut(&t.station) {
                set.remove(&(t.due_at_ms, t.id.clone()));
            }
            let person = key2(&t.station, &t.person_ref);
            if let Some(ids) = self.open_by_person.get_mut(&person) {
                ids.retain(|id| *id != t.id);
                if ids.is_empty() {
                    self.open_by_person.remove(&person);
                }
            }
        }
    }

    /// Whether the stay already has its task of `kind`.
    pub fn stay_has(&self, record_id: &str, kind: TaskKind) -> bool {
        self.by_stay.contains(&task_archive::stay_hash(record_id, kind))
    }

    /// Whether task `id` existed and is closed (its body is in the archive).
    pub fn is_closed(&self, id: &str) -> bool {
        self.closed_ids.contains(&task_archive::id_hash(id))
    }

    /// Open tasks, and of those strictly past their due time at `now_ms`.
    pub fn counts(&self, now_ms: i64) -> TaskCounts {
        TaskCounts {
            open: self.open_by_due.len() as u64,
            overdue: self.open_by_due.range(..(now_ms, String::new())).count() as u64,
        }
    }

    /// The earliest due time at or after `now_ms` (when the overdue count next changes).
    pub fn next_due(&self, now_ms: i64) -> Option<i64> {
        self.open_by_due.range((now_ms, String::new())..).next().map(|(t, _)| *t)
    }

    /// Ids of a station's open tasks, soonest due first.
    pub fn open_at(&self, station: &str) -> impl Iterator<Item = &String> {
        self.open_by_station.get(station).into_iter().flat_map(|s| s.iter().map(|(_, id)| id))
    }
}

/// Stores a new or changed task and re-indexes it; `old` is the task as it was.
pub fn put(state: &mut State, old: Option<&StationTask>, task: StationTask) {
    if let Some(old) = old {
        state.task_index.remove(old);
    }
    state.task_index.add(&task);
    state.stats.task_change(old, &task);
    if task.is_open() {
        state.tasks.insert(task.id.clone(), task);
    } else {
        state.tasks.remove(&task.id);
        state.task_index.closed_ids.insert(task_archive::id_hash(&task.id));
        state.task_index.archive.push(task);
    }
}

/// Writes the tasks closed since the last commit into the archive (in `batch`).
pub fn archive_closed(index: &mut TaskIndex, batch: &mut sled::Batch) {
    let closed = index.take_archive();
    if !closed.is_empty() {
        task_archive::write(batch, &closed, stay_number);
    }
}

/// Every stored task, open and closed, as committed (`mzd task list`).
pub fn stored(reader: &StoreReader) -> Result<Vec<StationTask>, StoreError> {
    let mut all: Vec<StationTask> =
        reader.scan::<StationTask>(&keys::state_prefix("task")).map(|r| r.map(|(_, t)| t)).collect::<Result<_, _>>()?;
    for chunk in task_archive::scan(reader) {
        all.extend(chunk?);
    }
    Ok(all)
}

/// Creates the stay's task of `kind` unless it has one. The id takes the first free stay number
/// of the person at the station (a re-admission gets `…/KIND/2`).
fn create(state: &mut State, kind: TaskKind, r: &Resident, created_at_ms: i64, due_at_ms: i64) {
    if state.task_index.stay_has(&r.record_id, kind) {
        return;
    }
    let stay = {
        let key = task_archive::person_kind_hash(&r.station_id, &r.person_ref, kind);
        let n = state.task_index.stays.entry(key).or_default();
        *n += 1;
        *n
    };
    let t = StationTask::open(kind, &r.station_id, &r.person_ref, &r.record_id, created_at_ms, due_at_ms, stay);
    // No cell values in the log: the kind and the station only.
    tracing::debug!(kind = kind.as_str(), station = %t.station, "station task created");
    put(state, None, t);
}

/// An admission just applied (or corrected): the identity tasks when the arrival is
/// unidentified, due from the arrival's own time. Whatever `[auto_cases]` says.
pub fn on_admission(state: &mut State, ctx: &RuleContext<'_>, ev: &StationEvent) {
    if !task::needs_identity_tasks(ev.id_number.is_some(), ev.name.as_deref()) {
        return;
    }
    let Some(r) = state.residents.get(&key2(&ev.station_id, &ev.person_ref)).cloned() else { return };
    if r.record_id != ev.record_id {
        return;
    }
    let at = r.admitted_at_ms;
    create(state, TaskKind::FamilyNotice, &r, at, task::family_notice_due(at));
    match task::dna_request_due(at, ctx.registry) {
        Some(due) => create(state, TaskKind::DnaRequest, &r, at, due),
        None => tracing::warn!(station = %r.station_id, "arrival time outside the calendar: no DNA request task"),
    }
}

/// A discharge (call it before the resident is removed): the person's open tasks at the
/// station are void, and the stay ends for the task index.
pub fn on_discharge(state: &mut State, station: &str, person_ref: &str, at_ms: i64, record_id: &str) {
    let ids = state.task_index.open_by_person.get(&key2(station, person_ref)).cloned().unwrap_or_default();
    for id in ids {
        let Some(old) = state.tasks.get(&id).cloned() else { continue };
        let mut t = old.clone();
        t.void(at_ms, record_id);
        put(state, Some(&old), t);
    }
    if let Some(stay) = state.residents.get(&key2(station, person_ref)).map(|r| r.record_id.clone()) {
        for kind in TaskKind::ALL {
            state.task_index.by_stay.remove(&task_archive::stay_hash(&stay, kind));
        }
    }
}

/// The clock: a stay review for every stay past `long_stay_days` that has none yet, created at
/// the moment the stay passed the limit (so a late admission's review may be overdue at once).
pub fn stay_reviews(state: &mut State, ctx: &RuleContext<'_>) {
    let limit_ms = i64::from(ctx.registry.long_stay_days) * 86_400_000;
    let now = ctx.now.as_millisecond();
    let due: Vec<Resident> = state
        .residents
        .values()
        .filter(|r| now - r.admitted_at_ms > limit_ms)
        .filter(|r| !state.task_index.stay_has(&r.record_id, TaskKind::StayReview))
        .cloned()
        .collect();
    for r in due {
        let created = task::stay_review_created(r.admitted_at_ms, ctx.registry.long_stay_days);
        create(state, TaskKind::StayReview, &r, created, task::stay_review_due(created));
    }
}

/// Completes task `id` for `actor` (`mzd task done`, the console); returns the task as stored.
/// A closed task is no longer in memory: `reader` finds it in the store, to say so.
pub fn complete(
    state: &mut State,
    reader: Option<&StoreReader>,
    registry: &Registry,
    actor: &Actor,
    id: &str,
    note: Option<&str>,
    now_ms: i64,
) -> Result<StationTask, Reason> {
    let id = id.trim();
    let archived = || {
        let closed = state.task_index.is_closed(id);
        reader.filter(|_| closed).and_then(|r| task_archive::find(r, id).ok().flatten())
    };
    let Some(old) = state.tasks.get(id).cloned().or_else(archived) else {
        return Err(Reason::new(
            format!("事项 {id} 不存在；用 mzd task list 查看事项编号"),
            format!("task {id} does not exist; see `mzd task list` for the ids"),
        ));
    };
    let mut t = old.clone();
    t.complete(registry, &actor.user, actor.role, note, now_ms).map_err(|e| e.reason())?;
    put(state, Some(&old), t.clone());
    Ok(t)
}

/// A station's open tasks for the dashboard, soonest due first, at most `limit`.
pub fn station_rows(state: &State, station: &str, limit: usize) -> Vec<TaskRow> {
    state
        .task_index
        .open_at(station)
        .take(limit)
        .filter_map(|id| state.tasks.get(id))
        .map(|t| TaskRow {
            id: t.id.clone(),
            kind: t.kind,
            person_ref: t.person_ref.clone(),
            created_at_ms: t.created_at_ms,
            due_at_ms: t.due_at_ms,
        })
        .collect()
}

fn local(ms: Option<i64>, tz: &TimeZone) -> Option<String> {
    let t = Timestamp::from_millisecond(ms?).ok()?;
    Some(t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// A task as `mzd task list --json` prints it (SPEC §7), times in the registry's zone.
pub fn view(t: &StationTask, registry: &Registry, now_ms: i64) -> TaskView {
    let tz = registry.time_zone();
    TaskView {
        id: t.id.clone(),
        kind: t.kind,
        kind_zh: t.kind.zh().to_owned(),
        station: t.station.clone(),
        station_name: registry.station(&t.station).map(|s| s.name.clone()),
        person_ref: t.person_ref.clone(),
        record_id: t.record_id.clone(),
        created_at: local(Some(t.created_at_ms), &tz),
        due_at: local(Some(t.due_at_ms), &tz),
        state: t.state,
        overdue: t.is_overdue(now_ms),
        done_at: local(t.done_at_ms.filter(|_| t.state == TaskState::Done), &tz),
        done_by: t.done_by.clone(),
        voided_at: local(t.done_at_ms.filter(|_| t.state == TaskState::Void), &tz),
        note: t.note.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{encode, Store};

    fn task(person: &str, kind: TaskKind, stay: u32) -> StationTask {
        StationTask::open(kind, "TZ-JZZ", person, &format!("R-{person}-{stay}"), 0, 1_000, stay)
    }

    fn commit(state: &mut State, store: &mut Store) {
        let mut batch = sled::Batch::default();
        state.write_into(&mut batch);
        store.commit(batch).unwrap();
    }

    #[test]
    fn closed_tasks_move_to_the_archive_and_old_stores_are_moved_there_too() {
        let registry = Registry::demo();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // A store from before the archive: a void task kept one per key, beside an open one.
        let mut void = task("P1", TaskKind::FamilyNotice, 1);
        void.void(500, "D1");
        let open = task("P2", TaskKind::FamilyNotice, 1);
        let mut batch = sled::Batch::default();
        for t in [&void, &open] {
            batch.insert(keys::state("task", &t.id), encode(t));
        }
        store.commit(batch).unwrap();

        let mut state = State::load(&store, &registry).unwrap();
        assert!(state.task_index.is_closed(&void.id), "a closed task of the old layout is known as closed");
        assert!(state.tasks.get(&void.id).is_none() && state.tasks.get(&open.id).is_some(), "memory: open tasks only");
        assert_eq!(state.task_index.counts(0).open, 1);
        // The open task is done: it goes to the archive in this commit, with the old one.
        let actor = Actor::new("admin", mz_shared::registry::Role::Admin);
        complete(&mut state, Some(&store.reader()), &registry, &actor, &open.id, Some("已发布"), 900).unwrap();
        commit(&mut state, &mut store);

        let reader = store.reader();
        assert_eq!(reader.scan_raw(&keys::state_prefix("task")).count(), 0, "no task kept one per key");
        let stored = stored(&reader).unwrap();
        assert_eq!(stored.len(), 2, "both tasks readable: {stored:?}");
        assert!(stored.iter().any(|t| t.id == open.id && t.state == TaskState::Done));
        assert_eq!(task_archive::find(&reader, &void.id).unwrap().map(|t| t.state), Some(TaskState::Void));

        // After a restart: a second `done` finds the archived task and is refused; a new stay
        // of the same person gets the next stay number.
        let mut again = State::load(&store, &registry).unwrap();
        assert!(again.task_index.is_closed(&open.id) && again.task_index.is_closed(&void.id));
        let second = complete(&mut again, Some(&store.reader()), &registry, &actor, &open.id, None, 950);
        assert!(second.is_err(), "a closed task cannot be done twice");
        let missing =
            complete(&mut again, Some(&store.reader()), &registry, &actor, "TZ-JZZ/none/family_notice", None, 950);
        assert!(missing.unwrap_err().en.contains("does not exist"));
        let key = task_archive::person_kind_hash("TZ-JZZ", "P1", TaskKind::FamilyNotice);
        assert_eq!(again.task_index.stays.get(&key), Some(&1), "the stay number survives the archive");
    }
}
