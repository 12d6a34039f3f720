//! Station tasks (在站事项, SPEC §7) inside the engine: creating them from admissions and long
//! stays, voiding them on discharge, completing them for staff, and the figures the status and
//! the dashboard show. The rules of a task are pure and live in [`mz_shared::task`].
//!
//! Invariants: every change to a task goes through [`put`], which keeps [`TaskIndex`] in step
//! with the `tasks` table, so the open and overdue counts and each station's open list are read
//! from the index, never by walking the tasks. One task per stay (admission record) and kind:
//! [`TaskIndex::of_stay`] knows the tasks of every stay still going on and is checked before
//! creating one (an ended stay gets no new task). Memory holds open tasks only: a task done or
//! voided is forgotten once written (the store keeps it; `mzd task list` and a second `done`
//! read it there), so memory grows with the people present, not with the years. Like everything
//! the engine changes, tasks are committed in the batch of the row, tick or action that changed
//! them.

use crate::rules::RuleContext;
use crate::state::{key2, Resident, State, Table};
use crate::store::{keys, StoreReader};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::case::Actor;
use mz_shared::dashboard::TaskRow;
use mz_shared::protocol::TaskCounts;
use mz_shared::reason::Reason;
use mz_shared::records::StationEvent;
use mz_shared::registry::Registry;
use mz_shared::task::{self, StationTask, TaskKind, TaskState};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{json, Value};
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
    /// admission record ␟ kind → id: the task of a stay still going on, whatever its state.
    by_stay: HashMap<String, String>,
    /// station ␟ person_ref ␟ kind → the highest stay number used in a task id.
    stays: HashMap<String, u32>,
    /// Tasks closed since the last write: forgotten from memory once written.
    closed: Vec<String>,
}

fn person_kind(station: &str, person_ref: &str, kind: TaskKind) -> String {
    key2(&key2(station, person_ref), kind.as_str())
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

fn stay_key(record_id: &str, kind: TaskKind) -> String {
    key2(record_id, kind.as_str())
}

impl TaskIndex {
    /// The index of every task in `tasks` (all of the store's, at load), whose closed tasks it
    /// then forgets from memory; `residents` tells which stays are still going on.
    pub fn build(tasks: &mut Table<StationTask>, residents: &Table<Resident>) -> TaskIndex {
        let mut index = TaskIndex::default();
        let mut closed = Vec::new();
        for t in tasks.values() {
            let n = index.stays.entry(person_kind(&t.station, &t.person_ref, t.kind)).or_default();
            *n = (*n).max(stay_number(t));
            let present = residents.get(&key2(&t.station, &t.person_ref)).is_some_and(|r| r.record_id == t.record_id);
            if present || t.is_open() {
                index.add(t);
            }
            if !t.is_open() {
                closed.push(t.id.clone());
            }
        }
        for id in closed {
            tasks.evict(&id);
        }
        index
    }

    /// Ids of the tasks closed since the last call (to forget once written).
    pub fn take_closed(&mut self) -> Vec<String> {
        std::mem::take(&mut self.closed)
    }

    fn add(&mut self, t: &StationTask) {
        self.by_stay.insert(stay_key(&t.record_id, t.kind), t.id.clone());
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

    /// The id of the stay's task of `kind`, if it has one.
    pub fn of_stay(&self, record_id: &str, kind: TaskKind) -> Option<&String> {
        self.by_stay.get(&stay_key(record_id, kind))
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
    if !task.is_open() {
        state.task_index.closed.push(task.id.clone());
    }
    state.tasks.insert(task.id.clone(), task);
}

/// Creates the stay's task of `kind` unless it has one. The id takes the first free stay number
/// of the person at the station (a re-admission gets `…/KIND/2`).
fn create(state: &mut State, kind: TaskKind, r: &Resident, created_at_ms: i64, due_at_ms: i64) {
    if state.task_index.of_stay(&r.record_id, kind).is_some() {
        return;
    }
    let stay = {
        let n = state.task_index.stays.entry(person_kind(&r.station_id, &r.person_ref, kind)).or_default();
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
            state.task_index.by_stay.remove(&stay_key(&stay, kind));
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
        .filter(|r| state.task_index.of_stay(&r.record_id, TaskKind::StayReview).is_none())
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
    let stored = || reader.and_then(|r| r.get::<StationTask>(&keys::state("task", id)).ok().flatten());
    let Some(old) = state.tasks.get(id).cloned().or_else(stored) else {
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

fn local(ms: Option<i64>, tz: &TimeZone) -> Value {
    match ms.map(Timestamp::from_millisecond) {
        Some(Ok(t)) => Value::String(t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()),
        _ => Value::Null,
    }
}

/// A task as `mzd task list --json` prints it (SPEC §7), times in the registry's zone.
pub fn view(t: &StationTask, registry: &Registry, now_ms: i64) -> Value {
    let tz = registry.time_zone();
    json!({
        "id": t.id,
        "kind": t.kind.as_str(),
        "kind_zh": t.kind.zh(),
        "station": t.station,
        "station_name": registry.station(&t.station).map(|s| s.name.clone()),
        "person_ref": t.person_ref,
        "record_id": t.record_id,
        "created_at": local(Some(t.created_at_ms), &tz),
        "due_at": local(Some(t.due_at_ms), &tz),
        "state": t.state.as_str(),
        "overdue": t.is_overdue(now_ms),
        "done_at": local(t.done_at_ms.filter(|_| t.state == TaskState::Done), &tz),
        "done_by": t.done_by,
        "voided_at": local(t.done_at_ms.filter(|_| t.state == TaskState::Void), &tz),
        "note": t.note,
    })
}
