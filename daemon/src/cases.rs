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

use crate::state::State;
use crate::store::{StoreError, StoreReader};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::audit::{append_case_entry, AuditAnchor, AuditEntry, AuditReport};
use mz_shared::case::{self, Action, Actor, AidRecord, Applied, Case, CaseId, Context, OpenCase};
use mz_shared::id_number::{IdHasher, IdNumber};
use mz_shared::protocol::CaseOpenRequest;
use mz_shared::reason::Reason;
use mz_shared::registry::Registry;
use serde_json::{json, Value};

fn audit(state: &mut State, entry: AuditEntry) {
    state.counters_mut().next_audit = entry.seq;
    state.audit_tail = Some(entry.clone());
    state.audit_pending.push(entry);
}

fn open_case(
    state: &mut State,
    registry: &Registry,
    actor: &Actor,
    input: OpenCase,
    trigger: Option<String>,
    now_ms: i64,
) -> Result<Case, Reason> {
    let year = Timestamp::from_millisecond(now_ms).unwrap_or_default().to_zoned(registry.time_zone()).year();
    let id = CaseId::new(year, state.counters.next_case + 1);
    let mut case = Case::open(id, input, actor, now_ms, registry).map_err(|e| e.reason())?;
    case.trigger = trigger;
    state.counters_mut().next_case += 1;
    let entry = append_case_entry(state.audit_tail.as_ref(), &case.id, &case.history[0]);
    audit(state, entry);
    state.put_case(None, case.clone(), &registry.limits);
    Ok(case)
}

/// Opens a case for an officer (`mzd case open`, the console).
pub fn open(
    state: &mut State,
    registry: &Registry,
    hasher: &IdHasher,
    actor: &Actor,
    req: CaseOpenRequest,
    now_ms: i64,
) -> Result<Case, Reason> {
    let person = match req.id_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(
            IdNumber::parse(text)
                .map(|id| id.protect(hasher))
                .map_err(|e| Reason::new(format!("身份证号无效：{e}"), format!("id_number is not valid: {e}")))?,
        ),
        None => None,
    };
    let input = OpenCase {
        street: req.street,
        summary: req.summary,
        name: req.name,
        person,
        station: None,
        source: req.source,
        urgency: req.urgency,
        source_record: None,
    };
    open_case(state, registry, actor, input, None, now_ms)
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
) -> Result<Applied, Reason> {
    let Some(case) = state.cases.get(id) else {
        return Err(Reason::new(format!("案件 {id} 不存在"), format!("case {id} does not exist")));
    };
    let other_aid: Vec<AidRecord> = state.aid_records.iter().filter(|a| a.case_id != case.id).cloned().collect();
    let ctx = Context { registry, fund_balance: state.funds.balance(&case.street), other_aid: &other_aid };
    let applied = case::apply(&case, action, actor, expected_version, now_ms, &ctx).map_err(|e| e.reason())?;
    if let Some(amount) = applied.debit {
        state.funds.debit(&applied.case.street, amount).map_err(|e| e.reason())?;
    }
    let entry = append_case_entry(state.audit_tail.as_ref(), &applied.case.id, applied.entry());
    audit(state, entry);
    state.put_case(Some(&case), applied.case.clone(), &registry.limits);
    Ok(applied)
}

/// Opens the cases the rules asked for, once per trigger.
pub fn open_triggered(state: &mut State, registry: &Registry, now_ms: i64) {
    for (trigger, input) in std::mem::take(&mut state.cases_to_open) {
        let hash = crate::state::trigger_hash(&trigger);
        if state.case_triggers.contains(&hash) {
            continue;
        }
        match open_case(state, registry, &Actor::daemon(), input, Some(trigger.clone()), now_ms) {
            Ok(case) => {
                tracing::debug!(case = %case.id, source = case.source.as_str(), "case opened by the rules");
                state.case_triggers.insert(hash);
            }
            Err(reason) => tracing::warn!(trigger = %trigger, reason = %reason.en, "case not opened"),
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

fn local(ms: i64, tz: &TimeZone) -> Value {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => Value::String(t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()),
        Err(_) => Value::Null,
    }
}

/// A case as `mzd case list/show --json` and `mzd export cases` print it. Names are masked for
/// viewers; ID numbers are always masked.
pub fn view(case: &Case, registry: &Registry, now_ms: i64, with_history: bool, mask_names: bool) -> Value {
    let tz = registry.time_zone();
    let d = case::deadlines(case, &registry.limits);
    let overdue = case::overdue_items(case, &registry.limits, now_ms);
    let name = case.name.as_deref().map(|n| if mask_names { crate::report::mask_name(n) } else { n.to_owned() });
    let mut v = json!({
        "id": case.id.as_str(),
        "version": case.version,
        "state": case.state.as_str(),
        "street": case.street,
        "street_name": registry.street(&case.street).map(|s| s.name.clone()),
        "summary": case.summary,
        "name": name,
        "id_number": case.person.as_ref().map(|p| p.masked.clone()),
        "station": case.station,
        "source": case.source.as_str(),
        "urgency": case.urgency.as_str(),
        "opened_at": local(case.opened_at_ms, &tz),
        "opened_by": case.opened_by,
        "accepted_at": case.accepted_at_ms.map_or(Value::Null, |m| local(m, &tz)),
        "departments": case.departments,
        "referred_to": case.referred_to,
        "paid_fen": case.paid_total().0,
        "pending_fen": case.pending.as_ref().map(|p| p.amount.0),
        "overdue": !overdue.is_empty(),
        "overdue_items": overdue,
        "accept_by": local(d.accept_by_ms, &tz),
        "close_by": local(d.close_by_ms, &tz),
        "paperwork_due": d.paperwork_due_ms.map_or(Value::Null, |m| local(m, &tz)),
        "closed_at": case.closed_at_ms.map_or(Value::Null, |m| local(m, &tz)),
        "outcome": case.outcome,
        "source_record": case.source_record,
    });
    if let Some(clocks) = case::unidentified_clocks(case, &tz) {
        v["family_notice_by"] = local(clocks.family_notice_by_ms, &tz);
        v["dna_request_by"] = local(clocks.dna_request_by_ms, &tz);
    }
    if with_history {
        v["payments"] = json!(case
            .payments
            .iter()
            .map(|p| json!({
                "amount_fen": p.amount.0,
                "at": local(p.at_ms, &tz),
                "by": p.by,
                "approved_by": p.approved_by,
                "paperwork": p.paperwork,
            }))
            .collect::<Vec<_>>());
        v["history"] = json!(case
            .history
            .iter()
            .map(|h| json!({"at": local(h.at_ms, &tz), "user": h.user, "action": h.action, "detail": h.detail}))
            .collect::<Vec<_>>());
    }
    v
}
