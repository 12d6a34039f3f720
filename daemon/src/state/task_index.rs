//! The orderings of the open station tasks (by due time, station and person) and what is known
//! of every stay's tasks, kept in memory beside the `task` table.
//!
//! Invariants: the index follows every change of a task ([`TaskIndex::update`], called by
//! `tasks::put`), so the open and overdue counts and a station's open list are read from it,
//! never by walking the tasks. A stay gets at most one task of a kind ([`TaskIndex::stay_has`]),
//! also after its tasks were archived. Tasks closed since the last commit are held here until
//! [`archive_closed`] writes them into the archive in that commit's batch.

use super::{Resident, Table};
use crate::task_archive::{self, ClosedMark};
use mz_shared::protocol::TaskCounts;
use mz_shared::task::{StationTask, TaskKind};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;

/// Orderings of the tasks, rebuilt at load and kept with every change through `tasks::put`.
///
/// The orderings hold a task by its [`task_archive::id_hash`] (a fixed-size number, so keeping
/// them costs no string copies); `open_ids` turns it back into the id.
#[derive(Debug, Default)]
pub struct TaskIndex {
    /// The id of every open task, by its id hash.
    open_ids: HashMap<u64, String>,
    /// (due, id hash) of every open task.
    open_by_due: BTreeSet<(i64, u64)>,
    /// station → (due, id hash) of its open tasks.
    open_by_station: HashMap<String, BTreeSet<(i64, u64)>>,
    /// [`person_hash`] of station and person_ref → id hashes of the person's open tasks there.
    open_by_person: HashMap<u64, Vec<u64>>,
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

/// A person at a station, as the key of their open tasks.
fn person_hash(station: &str, person_ref: &str) -> u64 {
    task_archive::hash_parts(&[station, person_ref])
}

/// The stay number in a task id (`…/KIND` is 1, `…/KIND/N` is N).
fn stay_number(t: &StationTask) -> u32 {
    // `task::task_id(station, person_ref, kind, 1)` taken off the front, without making it.
    let rest = t.id.strip_prefix(t.station.as_str()).and_then(|r| r.strip_prefix('/'));
    let rest = rest.and_then(|r| r.strip_prefix(t.person_ref.as_str())).and_then(|r| r.strip_prefix('/'));
    match rest.and_then(|r| r.strip_prefix(t.kind.as_str())) {
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
    fn take_archive(&mut self) -> Vec<StationTask> {
        std::mem::take(&mut self.archive)
    }

    fn add(&mut self, t: &StationTask) {
        self.by_stay.insert(task_archive::stay_hash(&t.record_id, t.kind));
        if t.is_open() {
            let id = task_archive::id_hash(&t.id);
            self.open_ids.insert(id, t.id.clone());
            self.open_by_due.insert((t.due_at_ms, id));
            match self.open_by_station.get_mut(t.station.as_str()) {
                Some(set) => set.insert((t.due_at_ms, id)),
                None => self.open_by_station.entry(t.station.clone()).or_default().insert((t.due_at_ms, id)),
            };
            self.open_by_person.entry(person_hash(&t.station, &t.person_ref)).or_default().push(id);
        }
    }

    fn remove(&mut self, t: &StationTask) {
        if t.is_open() {
            let id = task_archive::id_hash(&t.id);
            self.open_ids.remove(&id);
            self.open_by_due.remove(&(t.due_at_ms, id));
            if let Some(set) = self.open_by_station.get_mut(t.station.as_str()) {
                set.remove(&(t.due_at_ms, id));
            }
            let person = person_hash(&t.station, &t.person_ref);
            if let Some(ids) = self.open_by_person.get_mut(&person) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.open_by_person.remove(&person);
                }
            }
        }
    }

    /// Follows a change of a task: `old` as it was (`None` for a new task), `new` as it is now.
    pub fn update(&mut self, old: Option<&StationTask>, new: &StationTask) {
        if let Some(old) = old {
            self.remove(old);
        }
        self.add(new);
    }

    /// A task just closed (done or void): known as closed from now on, and held for the archive
    /// until the next commit.
    pub fn close(&mut self, task: StationTask) {
        self.closed_ids.insert(task_archive::id_hash(&task.id));
        self.archive.push(task);
    }

    /// The next stay number of a person's tasks of `kind` at a station, taken (1 for the first
    /// stay; numbers survive the archive, so a re-admission gets `…/KIND/2`).
    pub fn take_stay_number(&mut self, station: &str, person_ref: &str, kind: TaskKind) -> u32 {
        let n = self.stays.entry(task_archive::person_kind_hash(station, person_ref, kind)).or_default();
        *n += 1;
        *n
    }

    /// The highest stay number a person's tasks of `kind` at a station used so far.
    #[cfg(test)]
    pub fn stay_numbers_used(&self, station: &str, person_ref: &str, kind: TaskKind) -> Option<u32> {
        self.stays.get(&task_archive::person_kind_hash(station, person_ref, kind)).copied()
    }

    /// Ids of a person's open tasks at a station.
    pub fn open_of_person(&self, station: &str, person_ref: &str) -> Vec<String> {
        let ids = self.open_by_person.get(&person_hash(station, person_ref));
        ids.into_iter().flatten().filter_map(|id| self.open_ids.get(id).cloned()).collect()
    }

    /// The stay with admission record `record_id` ended: it gets no new task.
    pub fn end_stay(&mut self, record_id: &str) {
        for kind in TaskKind::ALL {
            self.by_stay.remove(&task_archive::stay_hash(record_id, kind));
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
            overdue: self.open_by_due.range(..(now_ms, 0)).count() as u64,
        }
    }

    /// The earliest due time at or after `now_ms` (when the overdue count next changes).
    pub fn next_due(&self, now_ms: i64) -> Option<i64> {
        self.open_by_due.range((now_ms, 0)..).next().map(|(t, _)| *t)
    }

    /// Ids of a station's first `limit` open tasks, soonest due first, by id among tasks due at
    /// the same time (as a person's tasks sort together; the hashes the orderings hold do not).
    pub fn open_at(&self, station: &str, limit: usize) -> Vec<&String> {
        let mut first: Vec<(i64, &String)> = Vec::new();
        for (due, id) in self.open_by_station.get(station).into_iter().flatten() {
            if first.len() >= limit && first.last().is_some_and(|(d, _)| d != due) {
                break;
            }
            first.extend(self.open_ids.get(id).map(|id| (*due, id)));
        }
        first.sort_unstable();
        first.into_iter().take(limit).map(|(_, id)| id).collect()
    }
}

/// Writes the tasks closed since the last commit into the archive (in `batch`).
pub fn archive_closed(index: &mut TaskIndex, batch: &mut crate::store::Batch) {
    let closed = index.take_archive();
    if !closed.is_empty() {
        task_archive::write(batch, closed, stay_number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stay_number_is_read_from_the_task_id() {
        let task = |stay| StationTask::open(TaskKind::DnaRequest, "TZ-JZZ", "P/1", "r1", 0, 1, stay);
        assert_eq!(task(1).id, "TZ-JZZ/P/1/dna_request");
        assert_eq!([1, 2, 17].map(|n| stay_number(&task(n))), [1, 2, 17]);
        let mut other = task(3);
        other.person_ref = "P/2".into();
        assert_eq!(stay_number(&other), 1, "an id of another person's task counts as a first stay");
    }

    #[test]
    fn a_stations_open_tasks_come_soonest_due_first_then_by_id() {
        let mut index = TaskIndex::default();
        let people = ["P-09", "P-03", "P-27", "P-01", "P-15"];
        for (i, p) in people.iter().enumerate() {
            let due = if i == 4 { 50 } else { 100 };
            index.update(None, &StationTask::open(TaskKind::FamilyNotice, "TZ-JZZ", p, p, 0, due, 1));
        }
        let ids = |limit| index.open_at("TZ-JZZ", limit).into_iter().cloned().collect::<Vec<_>>();
        let id = |p: &str| format!("TZ-JZZ/{p}/family_notice");
        assert_eq!(ids(10), ["P-15", "P-01", "P-03", "P-09", "P-27"].map(id));
        assert_eq!(ids(3), ["P-15", "P-01", "P-03"].map(id));
        assert!(index.open_at("OTHER", 3).is_empty());
    }
}
