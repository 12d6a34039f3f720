//! The rules that need what is already stored: admission consistency per person and station,
//! corrections, and the alerts (SPEC §3). Each rule either refuses a row with a reason — leaving
//! the figures untouched — or applies it to the maintained figures in [`State`].

use crate::state::{alert_id, hash_key, key2, DivorceApplication, Resident, SiteHistory, SiteReport, Spouse, State};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::alert::{Alert, AlertKind, AlertState};
use mz_shared::case::{OpenCase, Source, Urgency};
use mz_shared::dashboard::EventRow;
use mz_shared::id_number::ProtectedId;
use mz_shared::reason::Reason;
use mz_shared::records::{BurialReport, EventKind, MarriageKind, MarriageRegistration, Record, StationEvent};
use mz_shared::records::{DischargeReason, IncidentType};
use mz_shared::registry::{Registry, SiteKind};
use mz_shared::trigger::{self, Trigger};
use std::cell::RefCell;

/// What the rules need besides the figures.
pub struct RuleContext<'a> {
    pub registry: &'a Registry,
    pub tz: TimeZone,
    /// The wall clock, for alerts' raise times and long stays.
    pub now: Timestamp,
    /// The last local day looked up: [start, end) in Unix ms, its date and its `YYYY-MM-DD`.
    day: RefCell<Option<(i64, i64, Date, String)>>,
}

impl<'a> RuleContext<'a> {
    pub fn new(registry: &'a Registry, now: Timestamp) -> Self {
        RuleContext { registry, tz: registry.time_zone(), now, day: RefCell::new(None) }
    }

    /// The local date of `t`, `YYYY-MM-DD` (rows of one file mostly share a few days).
    fn local_date(&self, t: Timestamp) -> String {
        self.look_up_day(t);
        self.day.borrow().as_ref().map_or_else(|| t.to_zoned(self.tz.clone()).date().to_string(), |d| d.3.clone())
    }

    /// The local day of `t`, as [`Self::local_date`].
    fn local_day(&self, t: Timestamp) -> Date {
        self.look_up_day(t);
        self.day.borrow().as_ref().map_or_else(|| t.to_zoned(self.tz.clone()).date(), |d| d.2)
    }

    /// Makes the local day of `t` the one remembered (unless it is already).
    fn look_up_day(&self, t: Timestamp) {
        let ms = t.as_millisecond();
        if self.day.borrow().as_ref().is_some_and(|(start, end, ..)| (*start..*end).contains(&ms)) {
            return;
        }
        let zoned = t.to_zoned(self.tz.clone());
        let start = zoned.start_of_day().map(|z| z.timestamp().as_millisecond());
        let end = zoned.tomorrow().and_then(|z| z.start_of_day()).map(|z| z.timestamp().as_millisecond());
        *self.day.borrow_mut() = match (start, end) {
            (Ok(start), Ok(end)) => Some((start, end, zoned.date(), zoned.date().to_string())),
            _ => None,
        };
    }

    /// The local date of `t` (as [`Self::local_date`]) and its local hour, 0–23. On a day of 24
    /// hours the hour comes from the day looked up; on a day with a DST change from the zone.
    fn local_date_hour(&self, t: Timestamp) -> (String, usize) {
        let date = self.local_date(t);
        let ms = t.as_millisecond();
        let from_day = self.day.borrow().as_ref().and_then(|(start, end, ..)| {
            ((*start..*end).contains(&ms) && end - start == 86_400_000).then(|| ((ms - start) / 3_600_000) as usize)
        });
        let hour = from_day.unwrap_or_else(|| mz_shared::dashboard::local_date_hour(ms, &self.tz).1);
        (date, hour)
    }

    fn local_time(&self, t: Timestamp) -> String {
        t.to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// Applies one validated record. `previous` is the stored version when this is a correction.
pub fn apply(
    state: &mut State,
    ctx: &RuleContext<'_>,
    record: &Record,
    previous: Option<&Record>,
) -> Result<(), Reason> {
    match (record, previous) {
        (Record::Station(ev), None) => station_event(state, ctx, ev),
        (Record::Station(ev), Some(Record::Station(old))) => station_correction(state, ctx, ev, old),
        (Record::Burial(r), prev) => {
            count_burial(state, r, prev);
            burial_report(state, ctx, r, prev.is_some())
        }
        (Record::Marriage(m), None) => marriage(state, ctx, m),
        (Record::Marriage(m), Some(Record::Marriage(old))) => marriage_correction(state, ctx, m, old),
        _ => Err(Reason::new("更正的记录属于另一类数据", "the correction belongs to another feed")),
    }
}

fn raise(
    state: &mut State,
    ctx: &RuleContext<'_>,
    kind: AlertKind,
    id: String,
    subject: &str,
    message: Reason,
    record_id: Option<&str>,
) {
    if state.alerts.get(&id).is_some_and(Alert::is_active) {
        return;
    }
    state.alerts.insert(
        id.clone(),
        Alert {
            id,
            kind,
            subject: subject.to_owned(),
            raised_at_ms: ctx.now.as_millisecond(),
            message,
            record_id: record_id.map(str::to_owned),
            state: AlertState::Active,
        },
    );
}

/// What a rule wants a case opened about.
struct CaseWish<'e> {
    source: Source,
    urgency: Urgency,
    /// The summary in Chinese and English.
    summary: Reason,
    name: Option<&'e str>,
    person: Option<&'e ProtectedId>,
    person_ref: &'e str,
    record_id: &'e str,
}

/// Asks the engine to open a case for a station event, once per `trigger` (the engine adds it
/// to the person's open case instead, if there is one); the case goes to the station's street.
fn want_case(state: &mut State, ctx: &RuleContext<'_>, trigger: String, station_id: &str, wish: CaseWish<'_>) {
    let Some(station) = ctx.registry.station(station_id) else { return };
    state.cases_to_open.push((
        trigger,
        OpenCase {
            street: station.street.clone(),
            summary: wish.summary.zh,
            summary_en: Some(wish.summary.en),
            name: wish.name.map(str::to_owned),
            person: wish.person.cloned(),
            person_ref: Some(wish.person_ref.to_owned()),
            station: Some(station.id.clone()),
            source: Some(wish.source),
            urgency: wish.urgency,
            source_record: Some(wish.record_id.to_owned()),
            ..OpenCase::default()
        },
    ));
}

/// The cases an admission opens, as `[auto_cases]` says: a minor (mandatory report), a
/// vulnerable adult, an unidentified arrival.
fn admission_cases(state: &mut State, ctx: &RuleContext<'_>, ev: &StationEvent) {
    let station = station_name(ctx, &ev.station_id).to_owned();
    let pr = &ev.person_ref;
    for t in trigger::admission_triggers(ev.age, &ev.flags, ev.id_number.as_ref(), ev.name.as_deref()) {
        if !trigger::enabled(&ctx.registry.auto_cases, t) {
            continue;
        }
        let summary = match t {
            Trigger::Minor => Reason::new(
                format!("{station} 未成年人入站（受助人 {pr}）：强制报告，需协同救助保护"),
                format!("{station}: a minor admitted (person {pr}): mandatory report, child protection needed"),
            ),
            Trigger::VulnerableAdult => {
                let mut zh: Vec<&str> = ev.flags.iter().map(|f| f.zh()).collect();
                let mut en: Vec<&str> = ev.flags.iter().map(|f| f.as_str()).collect();
                if zh.is_empty() {
                    (zh, en) = (vec!["年满60岁"], vec!["aged 60 or over"]);
                }
                Reason::new(
                    format!("{station} 困境人员入站（{}）：受助人 {pr}，需协同救助", zh.join("、")),
                    format!(
                        "{station}: a vulnerable adult admitted ({}): person {pr}, needs joint help",
                        en.join(", ")
                    ),
                )
            }
            _ => Reason::new(
                format!("{station} 身份不明人员入站（受助人 {pr}）：寻亲及身份核查"),
                format!("{station}: an unidentified arrival (person {pr}): family search and identity check"),
            ),
        };
        let wish = CaseWish {
            source: t.source(),
            urgency: t.urgency(),
            summary,
            name: ev.name.as_deref(),
            person: ev.id_number.as_ref(),
            person_ref: pr,
            record_id: &ev.record_id,
        };
        want_case(state, ctx, alert_id(t.key(), &ev.record_id), &ev.station_id, wish);
    }
}

/// An incident type in plain English (`severe illness`, not `severe_illness`).
fn incident_words(kind: Option<IncidentType>) -> (&'static str, String) {
    kind.map_or(("异常", "incident".to_string()), |k| (k.zh(), k.as_str().replace('_', " ")))
}

/// Clears a condition alert whose condition no longer holds (acknowledged or not).
fn clear(state: &mut State, id: &str) {
    state.alerts.remove(id);
}

fn station_event(state: &mut State, ctx: &RuleContext<'_>, ev: &StationEvent) -> Result<(), Reason> {
    station_event_figures(state, ctx, ev)?;
    state.recent.entry(&ev.station_id).push(EventRow {
        at_ms: ev.occurred_at.as_millisecond(),
        event: ev.event,
        person_ref: ev.person_ref.clone(),
        record_id: ev.record_id.clone(),
        detail: ev.incident_type.map(|k| k.as_str().to_owned()).or(ev.discharge_reason.map(|r| r.as_str().to_owned())),
    });
    Ok(())
}

fn station_event_figures(state: &mut State, ctx: &RuleContext<'_>, ev: &StationEvent) -> Result<(), Reason> {
    let key = key2(&ev.station_id, &ev.person_ref);
    let day = key2(&ev.station_id, &ctx.local_date(ev.occurred_at));
    match ev.event {
        EventKind::Admit => {
            if let Some(r) = state.residents.get(&key) {
                let since = ctx.local_time(Timestamp::from_millisecond(r.admitted_at_ms).unwrap_or_default());
                return Err(Reason::new(
                    format!("受助人编号：{} 已在本站（{} 入站），不能重复入站；请先登记离站", ev.person_ref, since),
                    format!(
                        "person_ref: {} is already admitted at this station (since {}); log the discharge first",
                        ev.person_ref, since
                    ),
                ));
            }
            state.residents.insert(
                key,
                Resident {
                    station_id: ev.station_id.clone(),
                    person_ref: ev.person_ref.clone(),
                    record_id: ev.record_id.clone(),
                    admitted_at_ms: ev.occurred_at.as_millisecond(),
                    name: ev.name.clone(),
                    gender: ev.gender,
                    age: ev.age,
                    flags: ev.flags.clone(),
                    bed: ev.bed.clone(),
                    unidentified: ev.unidentified(),
                    incidents: 0,
                },
            );
            crate::tasks::on_admission(state, ctx.registry, ev);
            let occupied = {
                let occ = state.occupancy.entry(&ev.station_id);
                occ.occupied += 1;
                occ.occupied
            };
            state.station_days.entry(&day).admits += 1;
            let (date, hour) = ctx.local_date_hour(ev.occurred_at);
            state.arrival_hours.entry(&date).add(hour);
            count_event(state, ctx, ev);
            if let Some(st) = ctx.registry.station(&ev.station_id) {
                // Raised once per spell over capacity: an officer's acknowledgement stands until
                // occupancy is back within the beds (the discharge that gets there clears it).
                if occupied > st.beds && !state.alerts.contains(&alert_id("over_capacity", &st.id)) {
                    raise(
                        state,
                        ctx,
                        AlertKind::OverCapacity,
                        alert_id("over_capacity", &st.id),
                        &st.id,
                        over_capacity_message(st, occupied),
                        Some(&ev.record_id),
                    );
                }
            }
            admission_cases(state, ctx, ev);
            Ok(())
        }
        EventKind::Discharge | EventKind::Incident => {
            // Only what the rules below need, not a clone of the whole resident.
            let Some((admitted_at_ms, resident_name)) =
                state.residents.get(&key).map(|r| (r.admitted_at_ms, r.name.clone()))
            else {
                let what =
                    if ev.event == EventKind::Discharge { ("离站", "discharge") } else { ("异常", "incident") };
                return Err(Reason::new(
                    format!("受助人编号：{} 当前不在本站，不能登记{}；请核对救助站编码和受助人编号", ev.person_ref, what.0),
                    format!(
                        "person_ref: {} is not currently admitted at station {}, so the {} cannot be logged; check station_id and person_ref",
                        ev.person_ref, ev.station_id, what.1
                    ),
                ));
            };
            if ev.occurred_at.as_millisecond() < admitted_at_ms {
                let since = ctx.local_time(Timestamp::from_millisecond(admitted_at_ms).unwrap_or_default());
                return Err(Reason::new(
                    format!("发生时间：早于该受助人的入站时间 {since}"),
                    format!("occurred_at: before this person's admission at {since}"),
                ));
            }
            if ev.event == EventKind::Discharge {
                let at = ev.occurred_at.as_millisecond();
                crate::tasks::on_discharge(state, &ev.station_id, &ev.person_ref, at, &ev.record_id);
                state.residents.remove(&key);
                let occupied = {
                    let occ = state.occupancy.entry(&ev.station_id);
                    occ.occupied = occ.occupied.saturating_sub(1);
                    occ.occupied
                };
                state.station_days.entry(&day).discharges += 1;
                count_event(state, ctx, ev);
                clear(state, &alert_id("long_stay", &key));
                if ev.discharge_reason == Some(DischargeReason::Died) {
                    death_case(state, ctx, ev, resident_name.clone());
                }
                if ctx.registry.station(&ev.station_id).is_some_and(|st| occupied <= st.beds) {
                    clear(state, &alert_id("over_capacity", &ev.station_id));
                }
            } else {
                if let Some(r) = state.residents.get_mut(&key) {
                    r.incidents += 1;
                }
                state.station_days.entry(&day).incidents += 1;
                count_event(state, ctx, ev);
                let station = ctx.registry.station(&ev.station_id).map_or(ev.station_id.as_str(), |s| s.name.as_str());
                let kind = incident_words(ev.incident_type);
                if ev.incident_type == Some(IncidentType::Death) {
                    death_case(state, ctx, ev, resident_name.clone());
                } else if ctx.registry.auto_cases.incident {
                    want_case(
                        state,
                        ctx,
                        alert_id("incident", &ev.record_id),
                        &ev.station_id,
                        CaseWish {
                            source: Source::StationIncident,
                            urgency: Urgency::High,
                            summary: Reason::new(
                                format!("{station} 报告异常（{}）：受助人 {}", kind.0, ev.person_ref),
                                format!("{station} reports an incident ({}): person {}", kind.1, ev.person_ref),
                            ),
                            name: resident_name.as_deref(),
                            person: ev.id_number.as_ref(),
                            person_ref: &ev.person_ref,
                            record_id: &ev.record_id,
                        },
                    );
                }
                raise(
                    state,
                    ctx,
                    AlertKind::Incident,
                    alert_id("incident", &ev.record_id),
                    &ev.station_id,
                    Reason::new(
                        format!("{station} 报告异常（{}）：受助人 {}", kind.0, ev.person_ref),
                        format!("{station} reports an incident ({}): person {}", kind.1, ev.person_ref),
                    ),
                    Some(&ev.record_id),
                );
            }
            Ok(())
        }
    }
}

/// A station event in the statistics of its own day.
fn count_event(state: &mut State, ctx: &RuleContext<'_>, ev: &StationEvent) {
    let occupancy = ev.event != EventKind::Incident;
    state.stats.day_mut(ctx.local_day(ev.occurred_at), occupancy).station_event(ev, 1);
}

fn station_name<'r>(ctx: &'r RuleContext<'_>, id: &'r str) -> &'r str {
    ctx.registry.station(id).map_or(id, |s| s.name.as_str())
}

/// A death at a station: free basic funeral service (基本殡葬服务). One case per person and
/// station, whether the death comes as an incident, a discharge, or both.
fn death_case(state: &mut State, ctx: &RuleContext<'_>, ev: &StationEvent, name: Option<String>) {
    if !ctx.registry.auto_cases.death {
        return;
    }
    let station = station_name(ctx, &ev.station_id).to_owned();
    want_case(
        state,
        ctx,
        alert_id("death", &key2(&ev.station_id, &ev.person_ref)),
        &ev.station_id,
        CaseWish {
            source: Source::StationDeath,
            urgency: Urgency::High,
            summary: Reason::new(
                format!("{station} 受助人 {} 死亡：核实亲属，安排基本殡葬服务", ev.person_ref),
                format!(
                    "{station}: person {} died: trace relatives, arrange the free basic funeral service",
                    ev.person_ref
                ),
            ),
            name: name.as_deref(),
            person: ev.id_number.as_ref(),
            person_ref: &ev.person_ref,
            record_id: &ev.record_id,
        },
    );
}

fn station_correction(
    state: &mut State,
    ctx: &RuleContext<'_>,
    ev: &StationEvent,
    old: &StationEvent,
) -> Result<(), Reason> {
    if ev.event != old.event || ev.station_id != old.station_id || ev.person_ref != old.person_ref {
        return Err(Reason::new(
            format!(
                "记录编号：{} 已存在，更正不能改变事件类型、救助站编码或受助人编号；请用新的记录编号登记",
                ev.record_id
            ),
            format!(
                "record_id: {} is already stored; a correction may not change event, station_id or person_ref — log a new record instead",
                ev.record_id
            ),
        ));
    }
    let key = key2(&ev.station_id, &ev.person_ref);
    if ev.event == EventKind::Admit {
        if let Some(r) = state.residents.get_mut(&key).filter(|r| r.record_id == ev.record_id) {
            r.name = ev.name.clone();
            r.gender = ev.gender;
            r.age = ev.age;
            r.flags = ev.flags.clone();
            r.bed = ev.bed.clone();
            r.unidentified = ev.unidentified();
        }
        crate::tasks::on_admission(state, ctx.registry, ev);
    }
    Ok(())
}

/// A burial report in the statistics of its `reported_on`, replacing its previous version's.
fn count_burial(state: &mut State, r: &BurialReport, previous: Option<&Record>) {
    if let Some(Record::Burial(old)) = previous {
        state.stats.day_mut(old.reported_on, false).burial_report(old, -1);
    }
    state.stats.day_mut(r.reported_on, false).burial_report(r, 1);
}

fn burial_report(state: &mut State, ctx: &RuleContext<'_>, r: &BurialReport, correction: bool) -> Result<(), Reason> {
    let report = SiteReport {
        record_id: r.record_id.clone(),
        reported_on: r.reported_on.to_string(),
        capacity_total: r.capacity_total,
        occupied: r.occupied,
        new_interments: r.new_interments,
        eco_interments: r.eco_interments,
        free_basic_services: r.free_basic_services,
    };
    let site = ctx.registry.site(&r.site_id);
    let hist = state.sites.entry(&r.site_id);
    if correction {
        hist.reports.retain(|x| x.record_id != r.record_id);
    }
    // Keep date order; a report of the same date as an existing one goes after it.
    let pos = hist.reports.partition_point(|x| x.reported_on <= report.reported_on);
    let previous_capacity = pos.checked_sub(1).map(|i| hist.reports[i].capacity_total);
    hist.reports.insert(pos, report);
    if hist.reports.len() > SiteHistory::KEEP {
        hist.reports.remove(0);
    }
    let current = hist.current().cloned();
    let name = site.map_or(r.site_id.as_str(), |s| s.name.as_str()).to_owned();
    if site.is_some_and(|s| s.kind == SiteKind::Village) {
        if let Some(prev) = previous_capacity.filter(|p| r.capacity_total > *p) {
            raise(
                state,
                ctx,
                AlertKind::VillageGrowth,
                format!("village_growth:{}", r.record_id),
                &r.site_id,
                Reason::new(
                    format!("{name} 为村级埋葬点，总穴位由 {prev} 增至 {}，违反零增长要求", r.capacity_total),
                    format!(
                        "{name} is a village burial point and its capacity grew from {prev} to {}, against the zero-growth rule",
                        r.capacity_total
                    ),
                ),
                Some(&r.record_id),
            );
        }
    }
    let id = format!("site_nearly_full:{}", r.site_id);
    match current {
        Some(c) if c.capacity_total > 0 && u64::from(c.occupied) * 10 >= u64::from(c.capacity_total) * 9 => raise(
            state,
            ctx,
            AlertKind::SiteNearlyFull,
            id,
            &r.site_id,
            Reason::new(
                format!("{name} 已用 {}/{} 穴位（≥90%）", c.occupied, c.capacity_total),
                format!("{name} has {}/{} places used (90 % or more)", c.occupied, c.capacity_total),
            ),
            Some(&c.record_id),
        ),
        _ => clear(state, &id),
    }
    Ok(())
}

fn office_division<'a>(ctx: &'a RuleContext<'_>, office_id: &str) -> Option<&'a str> {
    ctx.registry.office(office_id).and_then(|o| o.division.as_deref()).or(ctx.registry.district_code.as_deref())
}

/// SPEC §8: a party's hukou code (`party_x_hukou`, else the first 6 digits of the ID number)
/// differs from the district's (the office's own division, where the registry gives one).
fn cross_district(ctx: &RuleContext<'_>, m: &MarriageRegistration) -> bool {
    mz_shared::statistics::is_cross_district(m, office_division(ctx, &m.office_id))
}

fn office_day_counts(state: &mut State, ctx: &RuleContext<'_>, m: &MarriageRegistration, sign: i64) {
    let date = ctx.local_date(m.registered_at);
    if let Some(day) = state.stats.day_str_mut(&date, false) {
        day.registration(m, office_division(ctx, &m.office_id), sign);
    }
    let key = key2(&m.office_id, &date);
    let cross = cross_district(ctx, m);
    let day = state.office_days.entry(&key);
    let add = |v: &mut u32| *v = (i64::from(*v) + sign).max(0) as u32;
    add(day.by_kind.entry(m.kind).or_default());
    if cross {
        add(&mut day.cross_district);
    }
    // The counselling rate (婚姻辅导率) is a share of marriages, not of every registration.
    if let Some(c) = m.counselling.filter(|_| m.kind == MarriageKind::Marriage) {
        add(&mut day.counselling_known);
        if c {
            add(&mut day.counselling_yes);
        }
    }
}

fn couple_key(m: &MarriageRegistration) -> Option<String> {
    let (a, b) = (m.party_a_id.as_ref()?, m.party_b_id.as_ref()?);
    let (x, y) = if a.hash <= b.hash { (&a.hash, &b.hash) } else { (&b.hash, &a.hash) };
    Some(format!("{}{}", hash_key(x), hash_key(y)))
}

fn marriage(state: &mut State, ctx: &RuleContext<'_>, m: &MarriageRegistration) -> Result<(), Reason> {
    office_day_counts(state, ctx, m, 1);
    *state.counters_mut().marriages_by_kind.entry(m.kind).or_default() += 1;
    let office = ctx.registry.office(&m.office_id).map_or(m.office_id.as_str(), |o| o.name.as_str()).to_owned();
    let parties = [("甲", "party_a", &m.party_a_id), ("乙", "party_b", &m.party_b_id)];
    match m.kind {
        MarriageKind::Marriage => {
            let married: Vec<_> = parties
                .iter()
                .filter_map(|(zh, en, p)| {
                    p.as_ref().filter(|p| state.spouses.contains(&hash_key(&p.hash))).map(|p| (*zh, *en, p))
                })
                .collect();
            if !married.is_empty() {
                let zh: Vec<String> = married.iter().map(|(zh, _, p)| format!("当事人{zh}（{}）", p.masked)).collect();
                let en: Vec<String> = married.iter().map(|(_, en, p)| format!("{en} ({})", p.masked)).collect();
                raise(
                    state,
                    ctx,
                    AlertKind::BigamyRisk,
                    format!("bigamy_risk:{}", m.record_id),
                    &m.office_id,
                    Reason::new(
                        format!("{office} 结婚登记 {}：{} 在库中已有婚姻记录", m.record_id, zh.join("、")),
                        format!("{office} marriage {}: {} already married in the store", m.record_id, en.join(", ")),
                    ),
                    Some(&m.record_id),
                );
            }
            if let (Some(a), Some(b)) = (&m.party_a_id, &m.party_b_id) {
                state.spouses.insert(hash_key(&a.hash), Spouse { spouse: b.hash, record_id: m.record_id.clone() });
                state.spouses.insert(hash_key(&b.hash), Spouse { spouse: a.hash, record_id: m.record_id.clone() });
            }
        }
        MarriageKind::Divorce => {
            if let (Some(a), Some(b)) = (&m.party_a_id, &m.party_b_id) {
                for (x, y) in [(a, b), (b, a)] {
                    let k = hash_key(&x.hash);
                    if state.spouses.get(&k).is_some_and(|s| s.spouse == y.hash) {
                        state.spouses.remove(&k);
                    }
                }
            }
            if let Some(ck) = couple_key(m) {
                divorce_after_application(state, ctx, m, &ck, &office);
            }
        }
        MarriageKind::DivorceApplication => {
            if let Some(ck) = couple_key(m) {
                state.divorce_applications.insert(
                    ck,
                    DivorceApplication {
                        office_id: m.office_id.clone(),
                        record_id: m.record_id.clone(),
                        applied_at_ms: m.registered_at.as_millisecond(),
                    },
                );
            }
        }
        MarriageKind::DivorceWithdrawal => {
            if let Some(ck) = couple_key(m) {
                let at = m.registered_at.as_millisecond();
                if state.divorce_applications.remove(&ck).is_none() {
                    undo_lapse(state, ctx, &ck, at);
                }
            }
        }
        MarriageKind::Reissue => {}
    }
    Ok(())
}

/// A day in milliseconds (the cooling-off windows count whole 24-hour days from the application).
const DAY_MS: i64 = 86_400_000;
/// End of window 1, 冷静期: either party may withdraw.
pub const COOLING_OFF_MS: i64 = 30 * DAY_MS;
/// End of window 2, 申领期: both must come to register the divorce by then, or the application
/// is deemed withdrawn (视为撤回申请).
pub const REGISTER_BY_MS: i64 = 60 * DAY_MS;

/// A divorce of a couple: ends their pending application. Inside window 1 it raises the
/// cooling-off alert (the divorce is still recorded); after window 2 the application had already
/// lapsed and is counted so. An application taken as lapsed before this divorce (inside its
/// window) arrived is no longer counted as lapsed.
fn divorce_after_application(
    state: &mut State,
    ctx: &RuleContext<'_>,
    m: &MarriageRegistration,
    ck: &str,
    office: &str,
) {
    let at = m.registered_at.as_millisecond();
    let app = match state.divorce_applications.remove(ck) {
        Some(app) => app,
        None => match undo_lapse(state, ctx, ck, at) {
            Some(app) => app,
            None => return,
        },
    };
    let elapsed = at - app.applied_at_ms;
    if elapsed >= REGISTER_BY_MS {
        count_lapse(state, ctx, &app, 1);
        state.lapsed_applications.insert(ck.to_owned(), app);
        return;
    }
    if elapsed < COOLING_OFF_MS {
        let days = elapsed / DAY_MS;
        raise(
            state,
            ctx,
            AlertKind::CoolingOff,
            format!("cooling_off:{}", m.record_id),
            &m.office_id,
            Reason::new(
                format!(
                    "{office} 离婚登记 {}：距离婚申请（{}）仅 {days} 天，未满 30 天冷静期",
                    m.record_id, app.record_id
                ),
                format!(
                    "{office} divorce {}: only {days} days after the application ({}), inside the 30-day cooling-off period",
                    m.record_id, app.record_id
                ),
            ),
            Some(&m.record_id),
        );
    }
}

/// Pending applications whose 60 days are over (by their own time) are deemed withdrawn: they
/// leave the queue and are counted per office and day of the lapse.
fn lapse_divorce_applications(state: &mut State, ctx: &RuleContext<'_>) {
    let now = ctx.now.as_millisecond();
    let due: Vec<(String, DivorceApplication)> = state
        .divorce_applications
        .iter()
        .filter(|(_, a)| now - a.applied_at_ms >= REGISTER_BY_MS)
        .map(|(k, a)| (k.clone(), a.clone()))
        .collect();
    for (ck, app) in due {
        state.divorce_applications.remove(&ck);
        count_lapse(state, ctx, &app, 1);
        state.lapsed_applications.insert(ck, app);
    }
}

/// A divorce or withdrawal at `at_ms` for a couple whose application was taken as lapsed: when
/// it falls inside the application's 60 days the lapse is undone and the application returned.
fn undo_lapse(state: &mut State, ctx: &RuleContext<'_>, ck: &str, at_ms: i64) -> Option<DivorceApplication> {
    let app = state.lapsed_applications.get(ck)?;
    if at_ms < app.applied_at_ms || at_ms - app.applied_at_ms >= REGISTER_BY_MS {
        return None;
    }
    let app = state.lapsed_applications.remove(ck)?;
    count_lapse(state, ctx, &app, -1);
    Some(app)
}

fn count_lapse(state: &mut State, ctx: &RuleContext<'_>, app: &DivorceApplication, sign: i64) {
    let day = ctx.local_date(Timestamp::from_millisecond(app.applied_at_ms + REGISTER_BY_MS).unwrap_or_default());
    let lapses = state.divorce_lapses.entry(&app.office_id);
    lapses.total = (lapses.total as i64 + sign).max(0) as u64;
    let n = lapses.by_day.entry(day.clone()).or_default();
    *n = (i64::from(*n) + sign).max(0) as u32;
    if *n == 0 {
        lapses.by_day.remove(&day);
    }
}

fn marriage_correction(
    state: &mut State,
    ctx: &RuleContext<'_>,
    m: &MarriageRegistration,
    old: &MarriageRegistration,
) -> Result<(), Reason> {
    if m.kind != old.kind
        || m.office_id != old.office_id
        || m.registered_at != old.registered_at
        || m.party_a_id != old.party_a_id
        || m.party_b_id != old.party_b_id
    {
        return Err(Reason::new(
            format!(
                "记录编号：{} 已存在，更正只能修改户籍地和婚姻辅导；登记类型、机关、时间或当事人不同请用新的记录编号",
                m.record_id
            ),
            format!(
                "record_id: {} is already stored; a correction may only change hukou or counselling — use a new record_id for another kind, office, time or party",
                m.record_id
            ),
        ));
    }
    office_day_counts(state, ctx, old, -1);
    office_day_counts(state, ctx, m, 1);
    Ok(())
}

/// Time-driven rules, run periodically and after each file: long stays, and over-capacity after
/// a registry change of beds.
pub fn tick(state: &mut State, ctx: &RuleContext<'_>) {
    let limit_ms = i64::from(ctx.registry.long_stay_days) * 86_400_000;
    let now = ctx.now.as_millisecond();
    let due: Vec<Resident> = state
        .residents
        .values()
        .filter(|r| now - r.admitted_at_ms > limit_ms)
        .filter(|r| !state.alerts.contains(&alert_id("long_stay", &key2(&r.station_id, &r.person_ref))))
        .cloned()
        .collect();
    for r in due {
        let days = (now - r.admitted_at_ms) / 86_400_000;
        let station = station_name(ctx, &r.station_id).to_owned();
        if ctx.registry.auto_cases.long_stay {
            want_case(
                state,
                ctx,
                alert_id("long_stay", &key2(&r.station_id, &r.person_ref)),
                &r.station_id,
                CaseWish {
                    source: Source::LongStay,
                    urgency: Urgency::Normal,
                    summary: Reason::new(
                        format!("{station} 受助人 {} 已在站 {days} 天，需研究安置", r.person_ref),
                        format!("{station}: person {} has stayed {days} days: placement needed", r.person_ref),
                    ),
                    name: r.name.as_deref(),
                    person: None,
                    person_ref: &r.person_ref,
                    record_id: &r.record_id,
                },
            );
        }
        let station = ctx.registry.station(&r.station_id).map_or(r.station_id.as_str(), |s| s.name.as_str()).to_owned();
        raise(
            state,
            ctx,
            AlertKind::LongStay,
            alert_id("long_stay", &key2(&r.station_id, &r.person_ref)),
            &r.station_id,
            Reason::new(
                format!(
                    "{station} 受助人 {} 已在站 {days} 天（超过 {} 天）",
                    r.person_ref, ctx.registry.long_stay_days
                ),
                format!(
                    "{station}: person {} has stayed {days} days (more than {})",
                    r.person_ref, ctx.registry.long_stay_days
                ),
            ),
            Some(&r.record_id),
        );
    }
    crate::tasks::stay_reviews(state, ctx.registry, ctx.now.as_millisecond());
    capacity_after_registry_change(state, ctx);
    lapse_divorce_applications(state, ctx);
}

/// Over-capacity as the registry's beds now say: a station whose beds were lowered below its
/// occupancy raises the alert, one whose beds now cover its occupancy clears it.
fn capacity_after_registry_change(state: &mut State, ctx: &RuleContext<'_>) {
    for st in &ctx.registry.stations {
        let occupied = state.occupancy.get(&st.id).map_or(0, |o| o.occupied);
        let id = alert_id("over_capacity", &st.id);
        if occupied <= st.beds {
            if state.alerts.contains(&id) {
                clear(state, &id);
            }
        } else if !state.alerts.contains(&id) {
            raise(state, ctx, AlertKind::OverCapacity, id, &st.id, over_capacity_message(st, occupied), None);
        }
    }
}

fn over_capacity_message(st: &mz_shared::registry::Station, occupied: u32) -> Reason {
    Reason::new(
        format!("{} 超员：在站 {} 人，床位 {} 张", st.name, occupied, st.beds),
        format!("{} is over capacity: {} people for {} beds", st.name, occupied, st.beds),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::feed::Feed;
    use mz_shared::id_number::{IdHasher, IdNumber};
    use mz_shared::validate::{validate_row, ValidationContext};

    /// Validates a row given as `column=value` pairs with the demo registry.
    fn record(feed: Feed, fields: &[(&str, &str)]) -> Record {
        let registry = Registry::demo();
        let hasher = IdHasher::new([7; 32]);
        let mut values = vec![None; feed.columns().len()];
        for (k, v) in fields {
            values[feed.column_index(k).expect("known column")] = Some(*v);
        }
        validate_row(feed, &values, &ValidationContext { registry: &registry, hasher: &hasher }).expect("valid row")
    }

    fn id(birth: &str, seq: &str) -> String {
        let body = format!("110112{birth}{seq}");
        format!("{body}{}", IdNumber::check_digit_for(&body).unwrap())
    }

    fn admit(rid: &str, station: &str, person: &str, at: &str) -> Record {
        record(
            Feed::Admissions,
            &[
                ("record_id", rid),
                ("station_id", station),
                ("event", "admit"),
                ("occurred_at", at),
                ("person_ref", person),
                ("referral", "police"),
            ],
        )
    }

    fn event(rid: &str, person: &str, kind: &str, extra: (&str, &str)) -> Record {
        record(
            Feed::Admissions,
            &[
                ("record_id", rid),
                ("station_id", "TZ-P04"),
                ("event", kind),
                ("occurred_at", "2026-11-20 12:00"),
                ("person_ref", person),
                extra,
            ],
        )
    }

    fn active(state: &State, kind: AlertKind) -> usize {
        state.alerts.values().filter(|a| a.kind == kind && a.is_active()).count()
    }

    #[test]
    fn admissions_track_occupancy_and_refuse_inconsistent_events() {
        let registry = Registry::demo();
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        apply(&mut st, &ctx, &admit("A1", "TZ-P04", "P1", "2026-11-20 08:00"), None).unwrap();
        let again = apply(&mut st, &ctx, &admit("A2", "TZ-P04", "P1", "2026-11-20 09:00"), None).unwrap_err();
        assert!(again.en.contains("already admitted"), "{}", again.en);
        let nobody = apply(&mut st, &ctx, &event("A3", "P9", "discharge", ("discharge_reason", "home")), None);
        assert!(nobody.unwrap_err().en.contains("not currently admitted"));
        apply(&mut st, &ctx, &event("A4", "P1", "incident", ("incident_type", "injury")), None).unwrap();
        assert_eq!(active(&st, AlertKind::Incident), 1);
        assert_eq!(st.occupancy.get("TZ-P04").unwrap().occupied, 1);
        apply(&mut st, &ctx, &event("A5", "P1", "discharge", ("discharge_reason", "family")), None).unwrap();
        assert_eq!(st.occupancy.get("TZ-P04").unwrap().occupied, 0);
        assert!(st.residents.is_empty());
        // The incident alert stays until acknowledged; the day counts all three events.
        assert_eq!(active(&st, AlertKind::Incident), 1);
        let day = st.station_days.get(&key2("TZ-P04", "2026-11-20")).unwrap();
        assert_eq!((day.admits, day.discharges, day.incidents), (1, 1, 1));
    }

    #[test]
    fn arrivals_count_in_their_local_hour_and_a_refused_one_not_at_all() {
        let registry = Registry::demo();
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        let rows = [
            ("A1", "TZ-P04", "P1", "2026-11-20 00:00"),
            ("A2", "TZ-JZZ", "P2", "2026-11-20 09:05"),
            ("A3", "TZ-P04", "P3", "2026-11-20 09:59"),
            ("A4", "TZ-P04", "P4", "2026-11-20 23:59"),
            ("A5", "TZ-P04", "P5", "2026-11-21 00:10"),
            // 2026-11-20T01:30Z is 09:30 in Shanghai.
            ("A6", "TZ-P04", "P6", "2026-11-20T01:30:00Z"),
        ];
        for (rid, station, person, at) in rows {
            apply(&mut st, &ctx, &admit(rid, station, person, at), None).unwrap();
        }
        // P1 is still in: a second admission is refused and counts nowhere.
        assert!(apply(&mut st, &ctx, &admit("A7", "TZ-P04", "P1", "2026-11-20 10:00"), None).is_err());
        let day = st.arrival_hours.get("2026-11-20").unwrap();
        assert_eq!((day.0[0], day.0[9], day.0[10], day.0[23], day.total()), (1, 3, 0, 1, 5));
        assert_eq!(st.arrival_hours.get("2026-11-21").unwrap().0[0], 1);
        // A discharge or an incident is no arrival.
        apply(&mut st, &ctx, &event("D1", "P1", "discharge", ("discharge_reason", "home")), None).unwrap();
        assert_eq!(st.arrival_hours.get("2026-11-20").unwrap().total(), 5);
    }

    #[test]
    fn an_arrival_on_a_day_of_23_hours_counts_in_its_wall_clock_hour() {
        let registry = Registry::demo();
        let mut ctx = RuleContext::new(&registry, "2026-03-30T00:00:00Z".parse().unwrap());
        // Berlin moves from 02:00 to 03:00 on 2026-03-29: 01:30Z is 03:30 there.
        ctx.tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(ctx.local_date_hour("2026-03-29T01:30:00Z".parse().unwrap()), ("2026-03-29".to_string(), 3));
        assert_eq!(ctx.local_date_hour("2026-03-29T00:30:00Z".parse().unwrap()), ("2026-03-29".to_string(), 1));
        assert_eq!(ctx.local_date_hour("2026-03-30T09:15:00Z".parse().unwrap()), ("2026-03-30".to_string(), 11));
    }

    #[test]
    fn over_capacity_is_raised_past_the_beds_and_cleared_below() {
        let registry = Registry::demo();
        let beds = registry.station("TZ-P04").unwrap().beds;
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        for i in 0..=beds {
            apply(&mut st, &ctx, &admit(&format!("A{i}"), "TZ-P04", &format!("P{i}"), "2026-11-20 08:00"), None)
                .unwrap();
        }
        assert_eq!(active(&st, AlertKind::OverCapacity), 1);
        apply(&mut st, &ctx, &event("D0", "P0", "discharge", ("discharge_reason", "home")), None).unwrap();
        assert_eq!(active(&st, AlertKind::OverCapacity), 0);
    }

    #[test]
    fn long_stays_are_raised_by_the_clock_once() {
        let registry = Registry::demo();
        let mut st = State::empty();
        let early = RuleContext::new(&registry, "2026-11-05T00:00:00Z".parse().unwrap());
        apply(&mut st, &early, &admit("A1", "TZ-JZZ", "P1", "2026-11-01 08:00"), None).unwrap();
        tick(&mut st, &early);
        assert_eq!(active(&st, AlertKind::LongStay), 0);
        let late = RuleContext::new(&registry, "2026-11-13T00:00:00Z".parse().unwrap());
        tick(&mut st, &late);
        tick(&mut st, &late);
        assert_eq!(active(&st, AlertKind::LongStay), 1);
    }

    fn burial(rid: &str, site: &str, on: &str, capacity: &str, occupied: &str) -> Record {
        record(
            Feed::Burials,
            &[
                ("record_id", rid),
                ("site_id", site),
                ("reported_on", on),
                ("capacity_total", capacity),
                ("occupied", occupied),
            ],
        )
    }

    #[test]
    fn sites_keep_the_latest_report_and_raise_growth_and_fill_alerts() {
        let registry = Registry::demo();
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        apply(&mut st, &ctx, &burial("B2", "V-SZ-01", "2026-10-01", "100", "50"), None).unwrap();
        // An older report arriving later goes to history; the current state stays October's.
        apply(&mut st, &ctx, &burial("B1", "V-SZ-01", "2026-09-01", "100", "40"), None).unwrap();
        assert_eq!(st.sites.get("V-SZ-01").unwrap().current().unwrap().record_id, "B2");
        assert_eq!(active(&st, AlertKind::VillageGrowth), 0);
        apply(&mut st, &ctx, &burial("B3", "V-SZ-01", "2026-11-01", "120", "55"), None).unwrap();
        assert_eq!(active(&st, AlertKind::VillageGrowth), 1);
        // A public cemetery may grow; at 90 % it is nearly full.
        apply(&mut st, &ctx, &burial("C1", "C-SZ", "2026-11-01", "1000", "899"), None).unwrap();
        assert_eq!(active(&st, AlertKind::SiteNearlyFull), 0);
        apply(&mut st, &ctx, &burial("C2", "C-SZ", "2026-11-02", "1000", "900"), None).unwrap();
        assert_eq!(active(&st, AlertKind::SiteNearlyFull), 1);
        assert_eq!(active(&st, AlertKind::VillageGrowth), 1);
    }

    fn marriage(rid: &str, kind: &str, a: &str, b: &str, at: &str) -> Record {
        record(
            Feed::Marriages,
            &[
                ("record_id", rid),
                ("office_id", "M-TZ"),
                ("registered_at", at),
                ("kind", kind),
                ("party_a_id", a),
                ("party_b_id", b),
            ],
        )
    }

    #[test]
    fn bigamy_and_cooling_off_are_detected_by_keyed_hash() {
        let registry = Registry::demo();
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        let (man, woman, other) = (id("19900101", "011"), id("19920202", "022"), id("19930303", "042"));
        apply(&mut st, &ctx, &marriage("M1", "marriage", &man, &woman, "2026-01-10 10:00"), None).unwrap();
        apply(&mut st, &ctx, &marriage("M2", "marriage", &man, &other, "2026-02-10 10:00"), None).unwrap();
        assert_eq!(active(&st, AlertKind::BigamyRisk), 1);
        apply(&mut st, &ctx, &marriage("M3", "divorce_application", &man, &woman, "2026-03-01 10:00"), None).unwrap();
        apply(&mut st, &ctx, &marriage("M4", "divorce", &woman, &man, "2026-03-11 10:00"), None).unwrap();
        assert_eq!(active(&st, AlertKind::CoolingOff), 1);
        // After 30 days, no alert.
        apply(&mut st, &ctx, &marriage("M5", "divorce_application", &man, &other, "2026-04-01 10:00"), None).unwrap();
        apply(&mut st, &ctx, &marriage("M6", "divorce", &man, &other, "2026-05-02 10:00"), None).unwrap();
        assert_eq!(active(&st, AlertKind::CoolingOff), 1);
        assert_eq!(st.counters.marriages_by_kind[&MarriageKind::Divorce], 2);
    }

    /// The task index agrees with a walk over the tasks.
    fn task_counts_match(st: &State, now_ms: i64) -> (u64, u64) {
        let open = st.tasks.values().filter(|t| t.is_open()).count() as u64;
        let overdue = st.tasks.values().filter(|t| t.is_overdue(now_ms)).count() as u64;
        let c = st.task_index.counts(now_ms);
        assert_eq!((c.open, c.overdue), (open, overdue));
        (open, overdue)
    }

    #[test]
    fn station_tasks_follow_admissions_discharges_and_the_clock() {
        let registry = Registry::demo();
        let now: Timestamp = "2026-11-21T00:00:00Z".parse().unwrap();
        let ctx = RuleContext::new(&registry, now);
        let mut st = State::empty();
        // Unidentified (no ID number): a family notice and a DNA request, from the arrival.
        apply(&mut st, &ctx, &admit("A1", "TZ-P04", "P1", "2026-11-19 08:00"), None).unwrap();
        assert_eq!(task_counts_match(&st, now.as_millisecond()), (2, 1));
        // Discharged: both void; admitted again: two new tasks of the new stay.
        apply(&mut st, &ctx, &event("D1", "P1", "discharge", ("discharge_reason", "home")), None).unwrap();
        assert_eq!(task_counts_match(&st, now.as_millisecond()), (0, 0));
        apply(&mut st, &ctx, &admit("A2", "TZ-P04", "P1", "2026-11-20 13:00"), None).unwrap();
        assert!(st.tasks.contains("TZ-P04/P1/family_notice/2") && st.tasks.contains("TZ-P04/P1/dna_request/2"));
        assert_eq!(task_counts_match(&st, now.as_millisecond()), (2, 0));
        // Past ten days (12-01 10:00 local), the clock adds the stay review: created when the stay
        // passed ten days (11-30 13:00), due a day later; the DNA request is due at 12-02 00:00.
        let late = RuleContext::new(&registry, "2026-12-01T02:00:00Z".parse().unwrap());
        tick(&mut st, &late);
        tick(&mut st, &late);
        let review = st.tasks.get("TZ-P04/P1/stay_review").expect("a stay review");
        assert_eq!(review.record_id, "A2");
        assert_eq!(task_counts_match(&st, late.now.as_millisecond()), (3, 1));
        assert_eq!(task_counts_match(&st, late.now.as_millisecond() + 4 * 3_600_000), (3, 2));
    }

    #[test]
    fn divorce_applications_lapse_after_60_days_unless_a_divorce_or_withdrawal_comes_in_time() {
        let registry = Registry::demo();
        let (a, b, c, e) = (id("19900101", "011"), id("19920202", "022"), id("19930303", "031"), id("19940404", "042"));
        let mut st = State::empty();
        let early = RuleContext::new(&registry, "2026-03-05T00:00:00Z".parse().unwrap());
        apply(&mut st, &early, &marriage("L1", "divorce_application", &a, &b, "2026-01-01 10:00"), None).unwrap();
        apply(&mut st, &early, &marriage("L2", "divorce_application", &c, &e, "2026-02-20 10:00"), None).unwrap();
        tick(&mut st, &early);
        // L1 is 63 days old: deemed withdrawn on its 60th day; L2 still pending.
        assert_eq!(st.divorce_applications.len(), 1);
        let lapses = st.divorce_lapses.get("M-TZ").unwrap();
        assert_eq!((lapses.total, lapses.by_day.get("2026-03-02").copied()), (1, Some(1)));
        // A divorce of L1's couple inside its 60 days, arriving late, undoes the lapse.
        apply(&mut st, &early, &marriage("L3", "divorce", &b, &a, "2026-02-15 10:00"), None).unwrap();
        assert_eq!(st.divorce_lapses.get("M-TZ").unwrap().total, 0);
        assert_eq!(active(&st, AlertKind::CoolingOff), 0);
        // A divorce 61 days after the application: the application had lapsed.
        apply(&mut st, &early, &marriage("L4", "divorce", &c, &e, "2026-04-22 10:00"), None).unwrap();
        assert_eq!(st.divorce_lapses.get("M-TZ").unwrap().total, 1);
        assert!(st.divorce_applications.is_empty());
    }

    #[test]
    fn lowering_beds_on_reload_raises_over_capacity_and_raising_them_clears_it() {
        let mut registry = Registry::demo();
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        for i in 0..3 {
            apply(&mut st, &ctx, &admit(&format!("A{i}"), "TZ-P04", &format!("P{i}"), "2026-11-20 08:00"), None)
                .unwrap();
        }
        tick(&mut st, &ctx);
        assert_eq!(active(&st, AlertKind::OverCapacity), 0);
        registry.stations.iter_mut().find(|s| s.id == "TZ-P04").unwrap().beds = 2;
        let lowered = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        tick(&mut st, &lowered);
        assert_eq!(active(&st, AlertKind::OverCapacity), 1);
        // Acknowledged, it is not raised again by the next tick.
        let id = alert_id("over_capacity", "TZ-P04");
        st.alerts.get_mut(&id).unwrap().state = AlertState::Acknowledged { by: "duty1".into(), at_ms: 0 };
        tick(&mut st, &lowered);
        assert_eq!(active(&st, AlertKind::OverCapacity), 0);
        registry.stations.iter_mut().find(|s| s.id == "TZ-P04").unwrap().beds = 3;
        tick(&mut st, &RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap()));
        assert!(!st.alerts.contains(&id));
    }

    #[test]
    fn counselling_rate_counts_marriages_only() {
        let registry = Registry::demo();
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        let (a, b) = (id("19900101", "011"), id("19920202", "022"));
        let with = |rid: &str, kind: &str, c: &str| {
            record(
                Feed::Marriages,
                &[
                    ("record_id", rid),
                    ("office_id", "M-TZ"),
                    ("registered_at", "2026-11-20 10:00"),
                    ("kind", kind),
                    ("party_a_id", &a),
                    ("party_b_id", &b),
                    ("counselling", c),
                ],
            )
        };
        apply(&mut st, &ctx, &with("C1", "marriage", "true"), None).unwrap();
        apply(&mut st, &ctx, &with("C2", "divorce_application", "false"), None).unwrap();
        apply(&mut st, &ctx, &with("C3", "divorce_withdrawal", "false"), None).unwrap();
        let day = st.office_days.get(&key2("M-TZ", "2026-11-20")).unwrap();
        assert_eq!((day.counselling_known, day.counselling_yes), (1, 1));
    }

    #[test]
    fn corrections_may_not_change_identity_fields() {
        let registry = Registry::demo();
        let ctx = RuleContext::new(&registry, "2026-11-21T00:00:00Z".parse().unwrap());
        let mut st = State::empty();
        let old = admit("A1", "TZ-P04", "P1", "2026-11-20 08:00");
        apply(&mut st, &ctx, &old, None).unwrap();
        let moved = admit("A1", "TZ-P05", "P1", "2026-11-20 08:00");
        assert!(apply(&mut st, &ctx, &moved, Some(&old)).is_err());
        let Record::Station(mut fixed) = old.clone() else { unreachable!() };
        fixed.bed = Some("12".into());
        apply(&mut st, &ctx, &Record::Station(fixed), Some(&old)).unwrap();
        assert_eq!(st.residents.get(&key2("TZ-P04", "P1")).unwrap().bed.as_deref(), Some("12"));
    }
}
