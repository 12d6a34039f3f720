//! Station tasks (在站事项, SPEC §7) inside the engine: creating them from admissions and long
//! stays, voiding them on discharge, completing them for staff, and the figures the status and
//! the dashboard show. The rules of a task are pure and live in [`mz_shared::task`].
//!
//! Invariants: every change to a task goes through [`put`], which keeps [`TaskIndex`] (in
//! `state`, beside the table it orders) in step with the `tasks` table, so the open and overdue counts and each station's open list are read
//! from the index, never by walking the tasks. One task per stay (admission record) and kind:
//! [`TaskIndex::stay_has`] knows the tasks of every stay still going on and is checked before
//! creating one (an ended stay gets no new task). Memory and the `task` table hold open tasks
//! only: a task done or voided moves to the [`crate::task_archive`] in the commit that closed it
//! (`mzd task list` and a second `done` read it there), and memory keeps fixed-size hashes of it,
//! so memory grows with the people present, not with the years. Like everything the engine
//! changes, tasks are committed in the batch of the row, tick or action that changed them.

#[cfg(doc)]
use crate::state::TaskIndex;
use crate::state::{key2, Resident, State};
use crate::store::{keys, StoreError, StoreReader};
use crate::task_archive;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::case::Actor;
use mz_shared::dashboard::TaskRow;
use mz_shared::protocol::{Refusal, RefusalCode, TaskView};
use mz_shared::reason::Reason;
use mz_shared::records::StationEvent;
use mz_shared::registry::Registry;
use mz_shared::task::{self, StationTask, TaskKind, TaskState};

/// Stores a new or changed task and re-indexes it; `old` is the task as it was.
pub fn put(state: &mut State, old: Option<&StationTask>, task: StationTask) {
    state.task_index.update(old, &task);
    state.stats.task_change(old, &task);
    if task.is_open() {
        state.tasks.insert(task.id.clone(), task);
    } else {
        state.tasks.remove(&task.id);
        state.task_index.close(task);
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

/// A stay at a station: who, where, and the admission that began it.
struct Stay<'a> {
    station: &'a str,
    person_ref: &'a str,
    record_id: &'a str,
}

impl<'a> Stay<'a> {
    fn of(r: &'a Resident) -> Stay<'a> {
        Stay { station: &r.station_id, person_ref: &r.person_ref, record_id: &r.record_id }
    }
}

/// Creates the stay's task of `kind` unless it has one. The id takes the first free stay number
/// of the person at the station (a re-admission gets `…/KIND/2`).
fn create(state: &mut State, kind: TaskKind, s: &Stay<'_>, created_at_ms: i64, due_at_ms: i64) {
    if state.task_index.stay_has(s.record_id, kind) {
        return;
    }
    let stay = state.task_index.take_stay_number(s.station, s.person_ref, kind);
    let t = StationTask::open(kind, s.station, s.person_ref, s.record_id, created_at_ms, due_at_ms, stay);
    // No cell values in the log: the kind and the station only.
    tracing::debug!(kind = kind.as_str(), station = %t.station, "station task created");
    put(state, None, t);
}

/// An admission just applied (or corrected): the identity tasks when the arrival is
/// unidentified, due from the arrival's own time. Whatever `[auto_cases]` says.
pub fn on_admission(state: &mut State, registry: &Registry, ev: &StationEvent) {
    if !task::needs_identity_tasks(ev.id_number.is_some(), ev.name.as_deref()) {
        return;
    }
    let at = match state.residents.get(&key2(&ev.station_id, &ev.person_ref)) {
        Some(r) if r.record_id == ev.record_id => r.admitted_at_ms,
        _ => return,
    };
    let stay = Stay { station: &ev.station_id, person_ref: &ev.person_ref, record_id: &ev.record_id };
    create(state, TaskKind::FamilyNotice, &stay, at, task::family_notice_due(at));
    match task::dna_request_due(at, registry) {
        Some(due) => create(state, TaskKind::DnaRequest, &stay, at, due),
        None => tracing::warn!(station = %ev.station_id, "arrival time outside the calendar: no DNA request task"),
    }
}

/// A discharge (call it before the resident is removed): the person's open tasks at the
/// station are void, and the stay ends for the task index.
pub fn on_discharge(state: &mut State, station: &str, person_ref: &str, at_ms: i64, record_id: &str) {
    for id in state.task_index.open_of_person(station, person_ref) {
        // Out of the table now: a voided task is not kept there (`put`).
        let Some(old) = state.tasks.remove(&id) else { continue };
        let mut t = old.clone();
        t.void(at_ms, record_id);
        put(state, Some(&old), t);
    }
    if let Some(stay) = state.residents.get(&key2(station, person_ref)).map(|r| r.record_id.clone()) {
        state.task_index.end_stay(&stay);
    }
}

/// The clock: a stay review for every stay past `long_stay_days` that has none yet, created at
/// the moment the stay passed the limit (so a late admission's review may be overdue at once).
/// `now_ms` is the wall clock in Unix milliseconds.
pub fn stay_reviews(state: &mut State, registry: &Registry, now_ms: i64) {
    let limit_ms = i64::from(registry.long_stay_days) * 86_400_000;
    let now = now_ms;
    let due: Vec<Resident> = state
        .residents
        .values()
        .filter(|r| now - r.admitted_at_ms > limit_ms)
        .filter(|r| !state.task_index.stay_has(&r.record_id, TaskKind::StayReview))
        .cloned()
        .collect();
    for r in due {
        let created = task::stay_review_created(r.admitted_at_ms, registry.long_stay_days);
        create(state, TaskKind::StayReview, &Stay::of(&r), created, task::stay_review_due(created));
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
) -> Result<StationTask, Refusal> {
    let id = id.trim();
    let archived = || {
        let closed = state.task_index.is_closed(id);
        reader.filter(|_| closed).and_then(|r| task_archive::find(r, id).ok().flatten())
    };
    let Some(old) = state.tasks.get(id).cloned().or_else(archived) else {
        let reason = Reason::new(
            format!("事项 {id} 不存在；用 mzd task list 查看事项编号"),
            format!("task {id} does not exist; see `mzd task list` for the ids"),
        );
        return Err(Refusal::new(RefusalCode::NotFound, reason));
    };
    let mut t = old.clone();
    t.complete(registry, &actor.user, actor.role, note, now_ms).map_err(|e| e.refusal())?;
    put(state, Some(&old), t.clone());
    Ok(t)
}

/// A station's open tasks for the dashboard, soonest due first, at most `limit`.
pub fn station_rows(state: &State, station: &str, limit: usize) -> Vec<TaskRow> {
    state
        .task_index
        .open_at(station, limit)
        .into_iter()
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
        let mut batch = crate::store::Batch::default();
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
        let mut batch = crate::store::Batch::default();
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
        assert_eq!(second.map(|_| ()).map_err(|r| r.code), Err(RefusalCode::Conflict), "done twice");
        let missing =
            complete(&mut again, Some(&store.reader()), &registry, &actor, "TZ-JZZ/none/family_notice", None, 950);
        let missing = missing.unwrap_err();
        assert!(missing.reason.en.contains("does not exist") && missing.code == RefusalCode::NotFound);
        let used = again.task_index.stay_numbers_used("TZ-JZZ", "P1", TaskKind::FamilyNotice);
        assert_eq!(used, Some(1), "the stay number survives the archive");
    }
}
