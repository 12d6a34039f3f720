//! The 救急难 case desk inside the engine: opening cases (by officers, and by the rules once per
//! trigger), applying actions, keeping the street reserve funds and appending to the audit
//! trail. The rules of a case are pure and live in [`mz_shared::case`]; this module applies their
//! results to the figures, which the engine commits in one batch.
//!
//! It also runs `mzd audit verify` over the store ([`verify`]): the chain, the store's own
//! anchor (the trail's length and head, committed with every audit entry), anchors given from
//! backups or saved status, and every case against the trail (the checks are pure, in
//! [`mz_shared::audit`]). Invariant: every change to a case appends exactly one audit entry in
//! the same commit, so a case and the trail can always be compared one-to-one.
//!
//! One person, one open case: [`crate::state::PersonIndex`] maps each open case's person links
//! (station and person number, ID-number hash) to its id, kept by `State::put_case`; a trigger about a person
//! found there is added to that case's history instead of opening a second case.

use crate::state::State;
use crate::store::{StoreError, StoreReader};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::audit::{append_case_entry, AuditAnchor, AuditEntry, AuditReport};
use mz_shared::case::{self, Action, Actor, AidRecord, Applied, Case, CaseId, Context, OpenCase, PersonLink};
use mz_shared::id_number::{IdHasher, IdNumber};
use mz_shared::protocol::{CaseOpenRequest, Refusal, RefusalCode};
use mz_shared::protocol::{CaseView, DepartmentView, HistoryView, PaymentView};
use mz_shared::reason::Reason;
use mz_shared::registry::Registry;
use serde_json::json;

fn audit(state: &mut State, entry: AuditEntry) {
    state.counters_mut().next_audit = entry.seq;
    state.audit_pending.push(entry);
}

fn open_case(
    state: &mut State,
    registry: &Registry,
    actor: &Actor,
    input: OpenCase,
    trigger: Option<String>,
    (now_ms, year): (i64, i16),
) -> Result<CaseId, Refusal> {
    let id = next_id(state, year);
    let mut case = Case::open(id, input, actor, now_ms, registry).map_err(|e| e.refusal())?;
    case.trigger = trigger;
    state.counters_mut().next_case += 1;
    let entry = append_case_entry(state.audit_last(), &case.id, &case.history[0]);
    audit(state, entry);
    let id = case.id.clone();
    state.put_case(None, case, &registry.limits);
    Ok(id)
}

/// The local year at `now_ms`, the year of the cases opened then.
fn case_year(registry: &Registry, now_ms: i64) -> i16 {
    Timestamp::from_millisecond(now_ms).unwrap_or_default().to_zoned(registry.time_zone()).year()
}

/// The next case id of `year` (the counter moves when the case is opened).
fn next_id(state: &State, year: i16) -> CaseId {
    CaseId::new(year, state.counters.next_case + 1)
}

/// The warning for an officer opening a case for a person who already has an open one.
fn duplicate_case_warning(other: &CaseId) -> Reason {
    Reason::new(
        format!("注意：此人已有未办结的案件 {other}，请核实是否重复立案"),
        format!("note: this person already has an open case {other}; check this is not a duplicate"),
    )
}

/// Opens a case for an officer (`mzd case open`, the console); with the warnings recorded in
/// its `open` entry (the person already has an open case).
pub fn open(
    state: &mut State,
    registry: &Registry,
    hasher: &IdHasher,
    actor: &Actor,
    req: CaseOpenRequest,
    now_ms: i64,
) -> Result<(Case, Vec<Reason>), Refusal> {
    let person = match req.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(IdNumber::parse(text).map(|id| id.protect(hasher)).map_err(|e| {
            Refusal::rejected(Reason::new(format!("身份证号无效：{e}"), format!("id_number is not valid: {e}")))
        })?),
        None => None,
    };
    let links = PersonLink::of(person.as_ref(), None, None);
    let warnings: Vec<Reason> = state.open_by_person.find(&links).map(duplicate_case_warning).into_iter().collect();
    let input = OpenCase {
        street: req.street,
        summary: req.summary,
        name: req.name,
        person,
        source: req.source,
        urgency: req.urgency,
        community: req.community,
        warnings: warnings.clone(),
        ..OpenCase::default()
    };
    let id = open_case(state, registry, actor, input, None, (now_ms, case_year(registry, now_ms)))?;
    let case = state.cases.get(id.as_str()).ok_or_else(|| {
        Refusal::new(
            RefusalCode::Unavailable,
            Reason::new(format!("案件 {id} 未能保存"), format!("case {id} was not kept")),
        )
    })?;
    Ok((case, warnings))
}

/// Applies an action to a case for `actor`, who saw it at `expected_version`.
pub fn act(
    state: &mut State,
    registry: &Registry,
    actor: &Actor,
    id: &str,
    action: &Action,
    expected_version: u64,
    now_ms: i64,
) -> Result<Applied, Refusal> {
    let Some(case) = state.cases.get(id) else {
        let reason = Reason::new(format!("案件 {id} 不存在"), format!("case {id} does not exist"));
        return Err(Refusal::new(RefusalCode::NotFound, reason));
    };
    let other_aid: Vec<AidRecord> = state.aid.others_of(&case);
    let referral_id = matches!(action, Action::Refer { .. }).then(|| next_id(state, case_year(registry, now_ms)));
    let ctx = Context {
        registry,
        fund_balance: state.funds.balance(&case.street),
        other_aid: &other_aid,
        referral_id: referral_id.as_ref(),
    };
    let applied = case::apply(&case, action, actor, expected_version, now_ms, &ctx).map_err(|e| e.refusal())?;
    if let Some(amount) = applied.debit {
        state.funds.debit(&applied.case.street, amount).map_err(|e| e.refusal())?;
    }
    let entry = append_case_entry(state.audit_last(), &applied.case.id, applied.entry());
    audit(state, entry);
    state.put_case(Some(&case), applied.case.clone(), &registry.limits);
    if let Some(new) = referral_id.and_then(|id| case::referred_in(&applied.case, id, actor, now_ms, registry)) {
        state.counters_mut().next_case += 1;
        let entry = append_case_entry(state.audit_last(), &new.id, &new.history[0]);
        audit(state, entry);
        state.put_case(None, new, &registry.limits);
    }
    Ok(applied)
}

/// Opens the cases the rules asked for, once per trigger; a trigger about a person with an
/// open case is added to that case's history instead (raising its urgency if higher).
pub fn open_triggered(state: &mut State, registry: &Registry, now_ms: i64) {
    let year = case_year(registry, now_ms);
    for (trigger, input) in std::mem::take(&mut state.cases_to_open) {
        let hash = crate::state::trigger_hash(&trigger);
        if state.case_triggers.contains(&hash) {
            continue;
        }
        let links = PersonLink::of(input.person.as_ref(), input.station.as_deref(), input.person_ref.as_deref());
        let open = state.open_by_person.find(&links).and_then(|id| state.cases.get(id.as_str()));
        if let Some(old) = open {
            let case = case::add_event(&old, &trigger, &input, &Actor::daemon(), now_ms);
            let entry = append_case_entry(state.audit_last(), &case.id, &case.history[case.history.len() - 1]);
            audit(state, entry);
            tracing::debug!(case = %case.id, "trigger added to the person's open case");
            state.put_case(Some(&old), case, &registry.limits);
            state.case_triggers.insert(hash);
            continue;
        }
        match open_case(state, registry, &Actor::daemon(), input, Some(trigger.clone()), (now_ms, year)) {
            Ok(id) => {
                tracing::debug!(case = %id, "case opened by the rules");
                state.case_triggers.insert(hash);
            }
            Err(refusal) => tracing::warn!(trigger = %trigger, reason = %refusal.reason.en, "case not opened"),
        }
    }
}

/// Reads of the store that were not one consistent moment this many times running give up.
const VERIFY_ATTEMPTS: usize = 5;

/// Every audit check over the store (`mzd audit verify`), against the `given` anchors too.
///
/// The trail, the cases and the store's anchor are read one after the other while the engine
/// may commit; the result counts only when the anchor is the same before and after (every commit
/// that changes a case or the trail also moves the anchor), else they are read again. Cases are
/// streamed from the store, never all held at once.
pub fn verify(reader: &StoreReader, given: &[AuditAnchor]) -> Result<AuditReport, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let before = crate::state::audit_figure(reader)?;
        let chain = crate::state::audit_entries(reader)?;
        let mut failed = None;
        let cases = crate::state::scan_cases(reader).map_while(|r| match r {
            Ok(case) => Some(case),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        let report = mz_shared::audit::check_all(&chain, before, given, cases);
        if let Some(e) = failed {
            return Err(e);
        }
        let after = crate::state::audit_figure(reader)?;
        if before == after || attempt == VERIFY_ATTEMPTS {
            return Ok(report);
        }
    }
}

/// Logs the trail's anchor (entry count and head hash only: no personal data), so that the log
/// keeps a record a later `mzd audit verify --entries N --head HEX` can compare with.
pub fn log_anchor(state: &State, when: &str) {
    let a = state.audit_anchor();
    tracing::info!(entries = a.entries, head = %a.head_hex(), "audit trail anchor at {when}");
}

/// The file of a backup folder that holds the trail's anchor at the time of the backup.
pub const ANCHOR_FILE: &str = "audit-anchor.json";

/// Writes `dir/audit-anchor.json`: `{"entries", "head", "at"}` (the anchor of the committed
/// trail, and when it was taken); returns its size. Give it to `mzd audit verify --anchor` later.
pub fn write_anchor_file(state: &State, registry: &Registry, dir: &std::path::Path) -> std::io::Result<u64> {
    let a = state.audit_anchor();
    let at = local(Timestamp::now().as_millisecond(), &registry.time_zone());
    let text = serde_json::to_string_pretty(&json!({"entries": a.entries, "head": a.head_hex(), "at": at}))?;
    let path = dir.join(ANCHOR_FILE);
    std::fs::write(&path, format!("{text}\n"))?;
    std::fs::File::open(&path)?.sync_all()?;
    Ok(text.len() as u64 + 1)
}

fn local(ms: i64, tz: &TimeZone) -> Option<String> {
    let t = Timestamp::from_millisecond(ms).ok()?;
    Some(t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// A case as `mzd case list/show --json` and `mzd export cases` print it. Names are masked for
/// viewers; ID numbers are always masked.
pub fn view(case: &Case, registry: &Registry, now_ms: i64, with_history: bool, mask_names: bool) -> CaseView {
    let tz = registry.time_zone();
    let d = case::deadlines(case, &registry.limits);
    let overdue = case::overdue_items(case, &registry.limits, now_ms);
    let name = case.name.as_deref().map(|n| if mask_names { crate::masking::mask_name(n) } else { n.to_owned() });
    let history = with_history.then(|| {
        let entry = |(i, h): (usize, &case::HistoryEntry)| HistoryView {
            at: local(h.at_ms, &tz),
            user: h.user.clone(),
            action: h.action.clone(),
            detail: h.detail.clone(),
            detail_en: case.detail(i, true).to_owned(),
        };
        case.history.iter().enumerate().map(entry).collect()
    });
    CaseView {
        id: case.id.as_str().to_owned(),
        version: case.version,
        state: case.state,
        street: case.street.clone(),
        street_name: registry.street(&case.street).map(|s| s.name.clone()),
        summary: case.summary.clone(),
        name,
        id_number: case.person.as_ref().map(|p| p.masked.clone()),
        station: case.station.clone(),
        source: case.source,
        urgency: case.urgency,
        opened_at: local(case.opened_at_ms, &tz),
        opened_by: case.opened_by.clone(),
        accepted_at: case.accepted_at_ms.and_then(|m| local(m, &tz)),
        departments: departments(case, registry, now_ms),
        referred_to: case.ext.referred_to_case.as_ref().map(|c| c.as_str().to_owned()),
        referred_to_street: case.referred_to.clone(),
        referred_from: case.ext.referred_from.as_ref().map(|c| c.as_str().to_owned()),
        community: case.ext.community.clone(),
        community_name: case.ext.community.as_deref().and_then(|c| registry.community(c)).map(|c| c.name.clone()),
        summary_en: case.ext.summary_en.clone(),
        person_ref: case.ext.person_ref.clone(),
        paid_fen: case.paid_total().0,
        case_cap_fen: registry.street(&case.street).map(|s| s.case_cap.0),
        pending_fen: case.pending.as_ref().map(|p| p.amount.0),
        overdue: !overdue.is_empty(),
        overdue_items: overdue_items(case, &overdue, now_ms),
        overdue_reasons: case::overdue_words(case, registry, now_ms),
        accept_by: local(d.accept_by_ms, &tz),
        close_by: local(d.close_by_ms, &tz),
        paperwork_due: d.paperwork_due_ms.and_then(|m| local(m, &tz)),
        closed_at: case.closed_at_ms.and_then(|m| local(m, &tz)),
        outcome: case.outcome.clone(),
        source_record: case.source_record.clone(),
        payments: with_history.then(|| case.payments.iter().map(|p| payment(p, &tz)).collect()),
        history,
    }
}

fn payment(p: &case::Payment, tz: &TimeZone) -> PaymentView {
    PaymentView {
        amount_fen: p.amount.0,
        at: local(p.at_ms, tz),
        by: p.by.clone(),
        approved_by: p.approved_by.clone(),
        paperwork: p.paperwork.clone(),
    }
}

/// `accept`, `close`, `paperwork`, and one `reply:DEPARTMENT` per department overdue.
fn overdue_items(case: &Case, items: &[case::Overdue], now_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        match item {
            case::Overdue::Accept => out.push("accept".to_string()),
            case::Overdue::Close => out.push("close".to_string()),
            case::Overdue::Paperwork => out.push("paperwork".to_string()),
            case::Overdue::Reply => {
                out.extend(case::overdue_departments(case, now_ms).into_iter().map(|d| format!("reply:{d}")))
            }
        }
    }
    out
}

/// Each department dispatched to: `{id, name, dispatched_at, reply_due, replied_at, reply, overdue}`
/// (departments dispatched before replies were kept have no times).
fn departments(case: &Case, registry: &Registry, now_ms: i64) -> Vec<DepartmentView> {
    let tz = registry.time_zone();
    let time = |ms: Option<i64>| ms.and_then(|m| local(m, &tz));
    let department = |id: &String| {
        let d = case.dispatch(id);
        DepartmentView {
            id: id.clone(),
            name: registry.department(id).map(|d| d.name.clone()),
            dispatched_at: time(d.map(|d| d.dispatched_at_ms)),
            reply_due: time(d.map(|d| d.reply_due_ms)),
            replied_at: time(d.and_then(|d| d.replied_at_ms)),
            reply: d.and_then(|d| d.reply.clone()),
            overdue: !case.is_terminal() && d.is_some_and(|d| d.overdue(now_ms)),
        }
    };
    case.departments.iter().map(department).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::case::CaseExt;

    fn case() -> Case {
        let registry = Registry::demo();
        let input = OpenCase { street: "ST-01".into(), summary: "来访求助".into(), ..OpenCase::default() };
        Case::open(CaseId::new(2026, 1), input, &Actor::new("duty1", mz_shared::registry::Role::Officer), 0, &registry)
            .unwrap()
    }

    #[test]
    fn cases_stored_before_the_extension_still_load() {
        let mut c = case();
        c.departments.push("police".into());
        c.ext = CaseExt::default();
        let bytes = crate::store::encode(&c);
        let ext_len = crate::store::encode(&CaseExt::default()).len();
        // A case stored by the previous version: the same fields, ending before `ext`.
        let old = &bytes[..bytes.len() - ext_len];
        let read: Case = crate::store::decode(b"case", old).unwrap();
        assert_eq!(read, c);
        // And a current one round-trips with its extension.
        let mut now = case();
        now.ext.community = Some("SQ-0101".into());
        let read: Case = crate::store::decode(b"case", &crate::store::encode(&now)).unwrap();
        assert_eq!(read, now);
    }
}
