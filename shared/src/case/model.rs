//! The case and its parts: [`Case`], [`Actor`], payments, pending requests, notes, history
//! entries and dispatches, and how a case opens ([`OpenCase`]).
//!
//! Invariant: `version == history.len()`; every change goes through `Case::record`.

use super::{open_words, ActionKind, AidRecord, CaseError, CaseId, CaseState, PersonKey, Source, Urgency};
use crate::id_number::{redact_id_numbers, ProtectedId};
use crate::reason::Reason;
use crate::registry::{Fen, Registry, Role};
use serde::{Deserialize, Serialize};

/// Who is acting: the OS user and the role the registry gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The OS user name, from the socket's peer credentials.
    pub user: String,
    /// The role the registry gives that user (viewer when unknown).
    pub role: Role,
}

impl Actor {
    /// An actor with this user name and role.
    pub fn new(user: impl Into<String>, role: Role) -> Actor {
        Actor { user: user.into(), role }
    }

    /// The daemon itself, for cases its rules open (user `mzd`, role admin).
    pub fn daemon() -> Actor {
        Actor::new("mzd", Role::Admin)
    }
}

/// Emergency money paid on a case from its street's reserve fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The amount paid.
    pub amount: Fen,
    /// When it was paid (for an approved request: the approval). Unix milliseconds.
    pub at_ms: i64,
    /// Who asked for it.
    pub by: String,
    /// The supervisor who approved it, for amounts above the case cap.
    pub approved_by: Option<String>,
    /// What the money is for, as given with the payment.
    #[serde(default)]
    pub note: Option<String>,
    /// The after-the-fact explanation (事后补充说明), due within `limits.paperwork_within`.
    pub paperwork: Option<String>,
    /// When the paperwork was filed (Unix milliseconds).
    pub paperwork_at_ms: Option<i64>,
}

/// A payment above the case cap, waiting for a supervisor (一事一议).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// The amount asked for, above the case cap.
    pub amount: Fen,
    /// When it was asked for (Unix milliseconds).
    pub at_ms: i64,
    /// User name of whoever asked.
    pub by: String,
    /// What the money is for.
    pub note: Option<String>,
}

/// A note added to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNote {
    /// When it was added (Unix milliseconds).
    pub at_ms: i64,
    /// User name of whoever added it.
    pub by: String,
    /// The note.
    pub text: String,
}

/// One line of a case's history (`mzd case show --json` renders `at_ms` as `at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When it happened (Unix milliseconds).
    pub at_ms: i64,
    /// User name of whoever acted.
    pub user: String,
    /// An [`ActionKind`] name: `open`, `accept`, `pay`, `pay_request`, …
    pub action: String,
    /// Short facts (ids, amounts) and the user's own text, if any.
    pub detail: String,
}

/// A 救急难 case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The case number, e.g. `JJN-2026-000123`.
    pub id: CaseId,
    /// Equals `history.len()`; bumped by every applied action.
    pub version: u64,
    /// Where the case stands (see [`CaseState`]).
    pub state: CaseState,
    /// The street handling the case and paying from its reserve fund.
    pub street: String,
    /// What the person needs, in the opener's words (not empty).
    pub summary: String,
    /// The person's name, if known (masked for viewers).
    pub name: Option<String>,
    /// The person's ID number, masked and keyed-hashed.
    pub person: Option<ProtectedId>,
    /// The rescue station concerned, for daemon-opened cases (part of the duplicate-aid key
    /// when there is no ID number).
    #[serde(default)]
    pub station: Option<String>,
    /// How the case came in.
    pub source: Source,
    /// How urgent it is.
    pub urgency: Urgency,
    /// When it was opened (Unix milliseconds).
    pub opened_at_ms: i64,
    /// User name of whoever opened it (the daemon's own user for daemon-opened cases).
    pub opened_by: String,
    /// When it was accepted (Unix milliseconds); the accept limit runs until then.
    pub accepted_at_ms: Option<i64>,
    /// Department ids, in dispatch order.
    pub departments: Vec<String>,
    /// The street it was referred to.
    pub referred_to: Option<String>,
    /// The emergency money paid, oldest first.
    pub payments: Vec<Payment>,
    /// A payment above the cap waiting for a supervisor; at most one.
    pub pending: Option<PaymentRequest>,
    /// Notes added to the case, oldest first.
    pub notes: Vec<CaseNote>,
    /// When the case ended here: closed, or referred to another street.
    pub closed_at_ms: Option<i64>,
    /// The close outcome, once closed (cleared by a reopen).
    pub outcome: Option<String>,
    /// The feed record that made the daemon open it.
    pub source_record: Option<String>,
    /// What made the daemon open it (e.g. `incident:<record_id>`), so that no trigger opens two
    /// cases.
    #[serde(default)]
    pub trigger: Option<String>,
    /// Every action, starting with `open`; never rewritten, each entry also in the audit trail.
    pub history: Vec<HistoryEntry>,
    /// What the desk rules added later (replies, links, community, English texts). Always the
    /// last field: see [`CaseExt`].
    #[serde(default, deserialize_with = "lenient_ext")]
    pub ext: CaseExt,
}

/// The parts of a case added after stores with cases existed.
///
/// The store encodes cases without field names (postcard), so a new field can only be
/// appended, and a case stored before it simply ends early: [`lenient_ext`] reads a missing
/// extension as the default (no dispatch details, no links, no community, no English texts).
/// Old cases therefore load unchanged; departments they dispatched to have no reply clock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseExt {
    /// Each department's dispatch and reply (分办及答复), in dispatch order; the same ids as
    /// [`Case::departments`] (a department dispatched before replies were kept has none).
    pub dispatches: Vec<Dispatch>,
    /// The linked case opened in the receiving street by a referral.
    pub referred_to_case: Option<CaseId>,
    /// The case this one was referred from (转办来源).
    pub referred_from: Option<CaseId>,
    /// The community (社区/村) under the case's street that reported it.
    pub community: Option<String>,
    /// The summary in English, for cases the daemon opened (its rules write both languages).
    pub summary_en: Option<String>,
    /// The English of each history entry's `detail`, by position (empty: none).
    pub history_en: Vec<String>,
    /// The station's number for the person (受助人编号), for daemon-opened cases.
    pub person_ref: Option<String>,
    /// Later triggers about the same person added to this case instead of a second case.
    pub triggers: Vec<String>,
}

/// Reads a [`CaseExt`], or its default where a stored case ends before it (see there).
fn lenient_ext<'de, D: serde::Deserializer<'de>>(d: D) -> Result<CaseExt, D::Error> {
    Ok(CaseExt::deserialize(d).unwrap_or_default())
}

/// A department a case was dispatched to, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    /// The registry's department id.
    pub id: String,
    /// When it was dispatched (Unix milliseconds).
    pub dispatched_at_ms: i64,
    /// `dispatched_at + limits.reply_within` when it was dispatched.
    pub reply_due_ms: i64,
    /// When the department replied (Unix milliseconds).
    pub replied_at_ms: Option<i64>,
    /// The department's answer.
    pub reply: Option<String>,
}

impl Dispatch {
    /// Dispatched, not answered, and past its due time at `now_ms`.
    pub fn overdue(&self, now_ms: i64) -> bool {
        self.replied_at_ms.is_none() && now_ms > self.reply_due_ms
    }
}

/// What `mzd case open` (or a daemon rule) gives to open a case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenCase {
    /// The registry id of the street that will handle it.
    pub street: String,
    /// What the person needs (not empty).
    pub summary: String,
    /// The person's name, if known.
    pub name: Option<String>,
    /// The person's ID number, masked and keyed-hashed.
    pub person: Option<ProtectedId>,
    /// The rescue station concerned, if any (must be in the registry).
    pub station: Option<String>,
    /// How it came in; `None` is a walk-in.
    pub source: Option<Source>,
    /// How urgent it is.
    pub urgency: Urgency,
    /// The feed record that made the daemon open it.
    pub source_record: Option<String>,
    /// A community (社区/村) of `street`.
    pub community: Option<String>,
    /// The summary in English (daemon-opened cases).
    pub summary_en: Option<String>,
    /// The station's number for the person (daemon-opened cases).
    pub person_ref: Option<String>,
    /// Warnings to record in the `open` entry (a possible duplicate case).
    pub warnings: Vec<Reason>,
}

impl Case {
    /// Opens a case: version 1, state `new`, history `[open]`.
    ///
    /// Officers, supervisors and admins may open walk-in, hotline and grid cases (the default
    /// source is walk-in); the daemon-opened sources need admin ([`Actor::daemon`]). The street
    /// and the station, if given, must be in the registry; the summary must not be empty.
    pub fn open(
        id: CaseId,
        input: OpenCase,
        actor: &Actor,
        now_ms: i64,
        registry: &Registry,
    ) -> Result<Case, CaseError> {
        let source = input.source.unwrap_or(Source::WalkIn);
        let allowed = match actor.role {
            Role::Officer | Role::Supervisor => !source.daemon_opened(),
            Role::Admin => true,
            Role::Viewer | Role::Station => false,
        };
        if !allowed {
            return Err(CaseError::WrongRole { role: actor.role, action: ActionKind::Open });
        }
        if registry.street(&input.street).is_none() {
            return Err(CaseError::UnknownStreet(input.street));
        }
        if let Some(station) = &input.station {
            if registry.station(station).is_none() {
                return Err(CaseError::UnknownStation(station.clone()));
            }
        }
        let community = match input.community.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => match registry.community(c) {
                None => return Err(CaseError::UnknownCommunity(c.to_string())),
                Some(k) if k.street != input.street => {
                    return Err(CaseError::CommunityElsewhere { community: c.to_string(), street: k.street.clone() })
                }
                Some(k) => Some(k.id.clone()),
            },
            None => None,
        };
        let summary = clean_text(&input.summary).ok_or(CaseError::EmptyText(ActionKind::Open))?;
        let name = input.name.as_deref().and_then(clean_text);
        let (zh, en) = open_words(&input, source, community.as_deref(), registry);
        let mut case = Case {
            id,
            version: 1,
            state: CaseState::New,
            street: input.street,
            summary,
            name,
            person: input.person,
            station: input.station,
            source,
            urgency: input.urgency,
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
            source_record: input.source_record,
            trigger: None,
            history: Vec::new(),
            ext: CaseExt {
                community,
                summary_en: input.summary_en.as_deref().and_then(clean_text),
                person_ref: input.person_ref,
                ..CaseExt::default()
            },
        };
        case.record(now_ms, &actor.user, ActionKind::Open, zh, en);
        Ok(case)
    }

    /// Appends one history entry with its detail in Chinese (`detail`) and English.
    pub(super) fn record(&mut self, at_ms: i64, user: &str, action: ActionKind, zh: String, en: String) {
        self.ext.history_en.resize(self.history.len(), String::new());
        self.history.push(HistoryEntry {
            at_ms,
            user: user.to_string(),
            action: action.as_str().to_string(),
            detail: zh,
        });
        self.ext.history_en.push(en);
    }

    /// The detail of history entry `index` in `english` or Chinese (the Chinese one where no
    /// English was kept).
    pub fn detail(&self, index: usize, english: bool) -> &str {
        let zh = self.history.get(index).map_or("", |h| h.detail.as_str());
        if english {
            match self.ext.history_en.get(index) {
                Some(en) if !en.is_empty() => en,
                _ => zh,
            }
        } else {
            zh
        }
    }

    /// The summary in `english` where the daemon wrote one, else as typed.
    pub fn summary_in(&self, english: bool) -> &str {
        match (&self.ext.summary_en, english) {
            (Some(en), true) => en,
            _ => &self.summary,
        }
    }

    /// Every trigger that went into this case: the one that opened it and those added later.
    pub fn all_triggers(&self) -> impl Iterator<Item = &String> {
        self.trigger.iter().chain(self.ext.triggers.iter())
    }

    /// The department's dispatch, if it was dispatched with a reply clock.
    pub fn dispatch(&self, department: &str) -> Option<&Dispatch> {
        self.ext.dispatches.iter().find(|d| d.id == department)
    }

    /// Sum of the payments made (pending requests not included).
    pub fn paid_total(&self) -> Fen {
        Fen(self.payments.iter().map(|p| p.amount.0).sum())
    }

    /// Whether the case has ended here (`closed` or `referred`): no action but reopen applies.
    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }

    /// Payments whose paperwork has not been filed yet.
    pub fn payments_missing_paperwork(&self) -> impl Iterator<Item = &Payment> {
        self.payments.iter().filter(|p| p.paperwork.is_none())
    }

    /// The key under which payments to this person are matched across cases, if there is one.
    pub fn person_key(&self) -> Option<PersonKey> {
        PersonKey::of(self.person.as_ref(), self.name.as_deref(), self.station.as_deref())
    }

    /// This case's payments, as the duplicate-aid check of other cases wants them. Empty when
    /// the person cannot be keyed.
    pub fn aid_records(&self) -> Vec<AidRecord> {
        let Some(person) = self.person_key() else { return Vec::new() };
        self.payments
            .iter()
            .map(|p| AidRecord {
                person: person.clone(),
                case_id: self.id.clone(),
                street: self.street.clone(),
                at_ms: p.at_ms,
                amount: p.amount,
            })
            .collect()
    }
}

/// Trims, masks ID numbers; `None` when nothing is left.
pub(super) fn clean_text(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| redact_id_numbers(t))
}
