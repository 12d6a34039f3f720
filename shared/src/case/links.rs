//! One person, one open case ([`PersonLink`], [`add_event`]) and referrals between streets
//! ([`referred_in`]).

use super::{street_words, ActionKind, Actor, Case, CaseExt, CaseId, CaseState, OpenCase};
use crate::id_number::{redact_id_numbers, IdHash, ProtectedId};
use crate::registry::Registry;

/// How a trigger finds the open case of the same person: the station and its number for the
/// person (受助人编号), or the keyed ID-number hash. Small and cheap to hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersonLink {
    /// The keyed hash of the person's ID number.
    Id(IdHash),
    /// No ID number: the station and its number for the person.
    Station {
        /// The rescue station's registry id.
        station: String,
        /// The station's number for the person (受助人编号).
        person_ref: String,
    },
}

impl PersonLink {
    /// The links of an event or a case: its ID hash and its station's person number, when known.
    pub fn of(person: Option<&ProtectedId>, station: Option<&str>, person_ref: Option<&str>) -> Vec<PersonLink> {
        let mut out = Vec::new();
        if let Some(p) = person {
            out.push(PersonLink::Id(p.hash));
        }
        if let (Some(station), Some(person_ref)) = (station, person_ref) {
            out.push(PersonLink::Station { station: station.to_string(), person_ref: person_ref.to_string() });
        }
        out
    }
}

impl Case {
    /// How later triggers about this person find the case (empty once it ended here).
    pub fn person_links(&self) -> Vec<PersonLink> {
        if self.is_terminal() {
            return Vec::new();
        }
        PersonLink::of(self.person.as_ref(), self.station.as_deref(), self.ext.person_ref.as_deref())
    }
}

/// Adds a later trigger about the same person to an open case (`event` entry, one version
/// more), raising its urgency if the trigger's is higher. The words are the trigger's summary
/// in Chinese and English; `trigger` is remembered so that it never applies twice.
pub fn add_event(case: &Case, trigger: &str, input: &OpenCase, actor: &Actor, now_ms: i64) -> Case {
    let mut next = case.clone();
    let mut zh = format!("新情况：{}", input.summary.trim());
    let mut en = format!("new event: {}", input.summary_en.as_deref().unwrap_or(&input.summary).trim());
    if input.urgency > next.urgency {
        next.urgency = input.urgency;
        zh.push_str(&format!("；紧急程度升为{}", input.urgency.zh()));
        en.push_str(&format!("; urgency raised to {}", input.urgency));
    }
    if let Some(record) = &input.source_record {
        zh.push_str(&format!("（记录 {record}）"));
        en.push_str(&format!(" (record {record})"));
    }
    if next.person.is_none() {
        next.person = input.person.clone();
    }
    next.ext.triggers.push(trigger.to_string());
    next.version += 1;
    next.record(now_ms, &actor.user, ActionKind::Event, redact_id_numbers(&zh), redact_id_numbers(&en));
    next
}

/// The linked case a referral opens in the receiving street (`new`, `referred_from` the old
/// case): the same person, summary, source and urgency, its own history starting with `open`.
pub fn referred_in(old: &Case, id: CaseId, actor: &Actor, now_ms: i64, registry: &Registry) -> Option<Case> {
    let street = old.referred_to.clone()?;
    let (fzh, fen) = street_words(registry, &old.street);
    let (tzh, ten) = street_words(registry, &street);
    let mut case = Case {
        id,
        version: 1,
        state: CaseState::New,
        street,
        summary: old.summary.clone(),
        name: old.name.clone(),
        person: old.person.clone(),
        station: old.station.clone(),
        source: old.source,
        urgency: old.urgency,
        opened_at_ms: now_ms,
        opened_by: actor.user.clone(),
        accepted_at_ms: None,
        departments: Vec::new(),
        referred_to: None,
        payments: Vec::new(),
        pending: None,
        notes: Vec::new(),
        closed_at_ms: None,
        outcome: None,
        source_record: old.source_record.clone(),
        trigger: None,
        history: Vec::new(),
        ext: CaseExt {
            referred_from: Some(old.id.clone()),
            summary_en: old.ext.summary_en.clone(),
            person_ref: old.ext.person_ref.clone(),
            ..CaseExt::default()
        },
    };
    case.record(
        now_ms,
        &actor.user,
        ActionKind::Open,
        format!("登记：{tzh}，由{fzh}案件 {} 转办而来，{}", old.id, old.urgency.zh()),
        format!("opened: {ten}, referred from case {} of {fen}, {} urgency", old.id, old.urgency),
    );
    Some(case)
}
