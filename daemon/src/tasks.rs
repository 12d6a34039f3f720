//! Station tasks (在站事项, SPEC §7) inside the engine: creating them from admissions and long
//! stays, voiding them on discharge, completing them for staff, and the figures the status and
//! the dashboard show. The rules of a task are pure and live in [`mz_shared::task`].
//!
//! Invariants: every change to a task goes through [`put`], which keeps [`TaskIndex`] in step
//! with the `tasks` table, so the open and overdue counts and each station's open list are read
//! from the index, never by walking the tasks. One task per stay (admission record) and kind:
//! [`TaskIndex::of_stay`] is checked before creating one. Like everything the engine changes,
//! tasks are committed in the batch of the row, tick or action that changed them.

use crate::rules::RuleContext;
use crate::state::{key2, Resident, State};
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
    /// admission record ␟ kind → id: the task of a stay, whatever its state.
    by_stay: HashMap<String, String>,
}

fn stay_key(record_id: &str, kind: TaskKind) -> String {
    key2(record_id, kind.as_str())
}

impl TaskIndex {
    /// The index of every task in `tasks`.
    pub fn build<'a>(tasks: impl Iterator<Item = &'a StationTask>) -> TaskIndex {
        let mut index = TaskIndex::default();
        for t in tasks {
            index.add(t);
        }
        index
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
        self.by_stay.remove(&stay_key(&t.record_id, t.kind));
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
    state.tasks.insert(task.id.clone(), task);
}

/// Creates the stay's task of `kind` unless it has one. The id takes the first free stay number
/// of the person at the station (a re-admission gets `…/KIND/2`).
fn create(state: &mut State, kind: TaskKind, r: &Resident, created_at_ms: i64, due_at_ms: i64) {
    if state.task_index.of_stay(&r.record_id, kind).is_some() {
        return;
    }
    let mut stay = 1;
    while state.tasks.contains(&task::task_id(&r.station_id, &r.person_ref, kind, stay)) {
        stay += 1;
    }
    let t = StationTask::open(kind, &r.station_id, &r.person_ref, &r.record_id, created_at_ms, due_at_ms, stay);
    tracing::debug!(task = %t.id, "station task created");
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
        None => tracing::warn!(record = %r.record_id, "arrival time outside the calendar: no DNA request task"),
    }
}

/// A discharge: the person's open tasks at the station are void.
pub fn on_discharge(state: &mut State, station: &str, person_ref: &str, at_ms: i64, record_id: &str) {
    let ids = state.task_index.open_by_person.get(&key2(station, person_ref)).cloned().unwrap_or_default();
    for id in ids {
        let Some(old) = state.tasks.get(&id).cloned() else { continue };
        let mut t = old.clone();
        t.void(at_ms, record_id);
        put(state, Some(&old), t);
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
pub fn complete(
    state: &mut State,
    registry: &Registry,
    actor: &Actor,
    id: &str,
    note: Option<&str>,
    now_ms: i64,
) -> Result<StationTask, Reason> {
    let Some(old) = state.tasks.get(id.trim()).cloned() else {
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
