//! The per-day figure record: what happened on one local day, kept by the daemon with every
//! commit that changes it, so that a report merges at most 31 of them and never scans records.
//!
//! Invariants: every counter is the sum of the contributions of the records and actions whose
//! own time falls on that day; a contribution is added with sign +1 and taken back with sign −1
//! (a corrected record replaces its previous version's contribution), so counters never go
//! below zero when callers pair them. Station `admissions − discharges` is the day's change in
//! occupancy, from which the midnight census is derived.

use crate::case::{Case, CaseState};
use crate::records::EventKind;
use crate::records::{BurialReport, DischargeReason, MarriageKind, MarriageRegistration, Referral, StationEvent};
use crate::task::{StationTask, TaskState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Adds `sign` (±1, or an amount) to a counter, never below zero.
fn bump(v: &mut i64, sign: i64) {
    *v = (*v + sign).max(0);
}

/// One station's events on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationDayFigures {
    /// Admissions (`event = admit`).
    pub admissions: i64,
    /// Discharges, for any reason.
    pub discharges: i64,
    /// Discharges by reason; reasons with none may be absent.
    pub discharges_by_reason: BTreeMap<DischargeReason, i64>,
    /// Incidents reported.
    pub incidents: i64,
}

impl StationDayFigures {
    /// The day's change in occupancy.
    pub fn net(&self) -> i64 {
        self.admissions - self.discharges
    }
}

/// One burial site's reports dated on a day (latest version of each record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDayFigures {
    /// 本期安葬 reported.
    pub new_interments: i64,
    /// 节地生态安葬 reported.
    pub eco_interments: i64,
    /// 免费基本殡葬服务 reported.
    pub free_basic_services: i64,
}

/// One office's registrations on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeDayFigures {
    /// Registrations by kind; kinds with none may be absent.
    pub by_kind: BTreeMap<MarriageKind, i64>,
    /// Registrations where a party's hukou code differs from the office's division (SPEC §8).
    pub cross_district: i64,
    /// Registrations with counselling true.
    pub counselling: i64,
}

/// Cases of one street on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreetDayFigures {
    /// Cases opened.
    pub opened: i64,
    /// Cases closed.
    pub closed: i64,
    /// Cases referred to another street.
    pub referred: i64,
    /// Money paid from the street's fund, in fen (approved requests count when approved).
    pub paid_fen: i64,
}

/// Station tasks due on a day (void tasks count in none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDayFigures {
    /// Tasks whose due time falls on the day.
    pub due: i64,
    /// Of those, completed by their due time.
    pub done_on_time: i64,
    /// Of those, completed after their due time.
    pub done_late: i64,
    /// Still open now: overdue once their due time has passed.
    pub open: i64,
}

/// Everything that happened on one local day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// By station id.
    pub stations: BTreeMap<String, StationDayFigures>,
    /// Admissions by how the person came.
    pub referrals: BTreeMap<Referral, i64>,
    /// Admissions by the 2-digit province code of the ID number; `unknown` without one.
    pub origins: BTreeMap<String, i64>,
    /// By site id.
    pub sites: BTreeMap<String, SiteDayFigures>,
    /// By office id.
    pub offices: BTreeMap<String, OfficeDayFigures>,
    /// By street id.
    pub streets: BTreeMap<String, StreetDayFigures>,
    /// Station tasks due on the day.
    pub tasks: TaskDayFigures,
}

/// The key of admissions without a readable province code.
pub const UNKNOWN_ORIGIN: &str = "unknown";

/// The 2-digit province code of an admission's ID number (`unknown` without one).
pub fn origin_of(ev: &StationEvent) -> String {
    ev.id_number
        .as_ref()
        .map(|p| p.masked.get(..2).unwrap_or_default())
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()))
        .map_or_else(|| UNKNOWN_ORIGIN.to_owned(), str::to_owned)
}

/// True when a party's hukou code (`party_x_hukou`, else the first 6 digits of the ID number)
/// differs from `division`, the district's code (SPEC §8). Without a code nothing is told.
pub fn is_cross_district(m: &MarriageRegistration, division: Option<&str>) -> bool {
    let Some(division) = division else { return false };
    let parties = [(&m.party_a_hukou, &m.party_a_id), (&m.party_b_hukou, &m.party_b_id)];
    parties.into_iter().any(|(hukou, id)| {
        let code = hukou.as_deref().or_else(|| id.as_ref().and_then(|p| p.masked.get(..6)));
        code.is_some_and(|c| c != division)
    })
}

impl DayFigures {
    /// True when nothing is counted (the record may be dropped).
    pub fn is_empty(&self) -> bool {
        *self == DayFigures::default()
    }

    /// A station event counted (+1) or taken back (−1) on this day.
    pub fn station_event(&mut self, ev: &StationEvent, sign: i64) {
        let st = self.stations.entry(ev.station_id.clone()).or_default();
        match ev.event {
            EventKind::Admit => {
                bump(&mut st.admissions, sign);
                if let Some(r) = ev.referral {
                    bump(self.referrals.entry(r).or_default(), sign);
                }
                bump(self.origins.entry(origin_of(ev)).or_default(), sign);
            }
            EventKind::Discharge => {
                bump(&mut st.discharges, sign);
                let reason = ev.discharge_reason.unwrap_or(DischargeReason::Other);
                bump(st.discharges_by_reason.entry(reason).or_default(), sign);
            }
            EventKind::Incident => bump(&mut st.incidents, sign),
        }
    }

    /// A burial report counted (+1) or replaced by a correction (−1) on its `reported_on`.
    pub fn burial_report(&mut self, r: &BurialReport, sign: i64) {
        let site = self.sites.entry(r.site_id.clone()).or_default();
        let n = |v: Option<u32>| i64::from(v.unwrap_or(0)) * sign;
        site.new_interments = (site.new_interments + n(r.new_interments)).max(0);
        site.eco_interments = (site.eco_interments + n(r.eco_interments)).max(0);
        site.free_basic_services = (site.free_basic_services + n(r.free_basic_services)).max(0);
    }

    /// A registration counted (+1) or replaced by a correction (−1); `division` is the code
    /// cross-district registrations are told against.
    pub fn registration(&mut self, m: &MarriageRegistration, division: Option<&str>, sign: i64) {
        let office = self.offices.entry(m.office_id.clone()).or_default();
        bump(office.by_kind.entry(m.kind).or_default(), sign);
        if is_cross_district(m, division) {
            bump(&mut office.cross_district, sign);
        }
        if m.counselling == Some(true) {
            bump(&mut office.counselling, sign);
        }
    }

    fn street(&mut self, id: &str) -> &mut StreetDayFigures {
        self.streets.entry(id.to_owned()).or_default()
    }

    /// A task's contribution to its due day: +1 to add it, −1 to take its old version back.
    pub fn task(&mut self, t: &StationTask, sign: i64) {
        let f = &mut self.tasks;
        match t.state {
            TaskState::Void => {}
            TaskState::Open => {
                bump(&mut f.due, sign);
                bump(&mut f.open, sign);
            }
            TaskState::Done => {
                bump(&mut f.due, sign);
                if t.done_at_ms.is_some_and(|at| at <= t.due_at_ms) {
                    bump(&mut f.done_on_time, sign);
                } else {
                    bump(&mut f.done_late, sign);
                }
            }
        }
    }
}

/// What a case change adds to the day figures, each at the time it happened (Unix ms): the
/// day is looked up by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEvent {
    /// A case was opened in `street`.
    Opened {
        /// The street handling the case.
        street: String,
        /// When (Unix milliseconds).
        at_ms: i64,
    },
    /// A case of `street` was closed.
    Closed {
        /// The street handling the case.
        street: String,
        /// When (Unix milliseconds).
        at_ms: i64,
    },
    /// A case of `street` was referred to another street.
    Referred {
        /// The street that referred it.
        street: String,
        /// When (Unix milliseconds).
        at_ms: i64,
    },
    /// Money was paid from `street`'s fund (a payment, or an approved request).
    Paid {
        /// The street whose fund paid.
        street: String,
        /// When (Unix milliseconds; the approval for a request).
        at_ms: i64,
        /// The amount, in fen.
        fen: i64,
    },
}

impl CaseEvent {
    /// When it happened (Unix milliseconds), to find its day.
    pub fn at_ms(&self) -> i64 {
        match self {
            CaseEvent::Opened { at_ms, .. }
            | CaseEvent::Closed { at_ms, .. }
            | CaseEvent::Referred { at_ms, .. }
            | CaseEvent::Paid { at_ms, .. } => *at_ms,
        }
    }
}

/// The events of a case change from `old` (`None`: a new case) to `new`: opened, reaching
/// closed or referred, and payments added (an approved request counts when approved).
pub fn case_events(old: Option<&Case>, new: &Case) -> Vec<CaseEvent> {
    let mut out = Vec::new();
    let street = || new.street.clone();
    if old.is_none() {
        out.push(CaseEvent::Opened { street: street(), at_ms: new.opened_at_ms });
    }
    let before = old.map(|c| c.state);
    if before != Some(new.state) {
        let at_ms = new.history.last().map(|h| h.at_ms).or(new.closed_at_ms).unwrap_or(new.opened_at_ms);
        match new.state {
            CaseState::Closed => out.push(CaseEvent::Closed { street: street(), at_ms }),
            CaseState::Referred => out.push(CaseEvent::Referred { street: street(), at_ms }),
            _ => {}
        }
    }
    let paid_before = old.map_or(0, |c| c.payments.len());
    for p in new.payments.iter().skip(paid_before) {
        out.push(CaseEvent::Paid { street: street(), at_ms: p.at_ms, fen: p.amount.0 });
    }
    out
}

impl DayFigures {
    /// A case event on this day.
    pub fn case_event(&mut self, e: &CaseEvent) {
        match e {
            CaseEvent::Opened { street, .. } => self.street(street).opened += 1,
            CaseEvent::Closed { street, .. } => self.street(street).closed += 1,
            CaseEvent::Referred { street, .. } => self.street(street).referred += 1,
            CaseEvent::Paid { street, fen, .. } => self.street(street).paid_fen += fen,
        }
    }

    /// Adds another day's figures (merging days into a period).
    pub fn add(&mut self, other: &DayFigures) {
        for (id, s) in &other.stations {
            let mine = self.stations.entry(id.clone()).or_default();
            mine.admissions += s.admissions;
            mine.discharges += s.discharges;
            mine.incidents += s.incidents;
            add_map(&mut mine.discharges_by_reason, &s.discharges_by_reason);
        }
        add_map(&mut self.referrals, &other.referrals);
        add_map(&mut self.origins, &other.origins);
        for (id, s) in &other.sites {
            let mine = self.sites.entry(id.clone()).or_default();
            mine.new_interments += s.new_interments;
            mine.eco_interments += s.eco_interments;
            mine.free_basic_services += s.free_basic_services;
        }
        for (id, o) in &other.offices {
            let mine = self.offices.entry(id.clone()).or_default();
            add_map(&mut mine.by_kind, &o.by_kind);
            mine.cross_district += o.cross_district;
            mine.counselling += o.counselling;
        }
        for (id, s) in &other.streets {
            let mine = self.streets.entry(id.clone()).or_default();
            mine.opened += s.opened;
            mine.closed += s.closed;
            mine.referred += s.referred;
            mine.paid_fen += s.paid_fen;
        }
        let (t, o) = (&mut self.tasks, &other.tasks);
        t.due += o.due;
        t.done_on_time += o.done_on_time;
        t.done_late += o.done_late;
        t.open += o.open;
    }
}

fn add_map<K: Ord + Clone>(into: &mut BTreeMap<K, i64>, from: &BTreeMap<K, i64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}
