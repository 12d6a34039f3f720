//! The station staff's forms of the 救助站 view (view 2): log an arrival (入站登记), a
//! discharge (离站登记) or an incident (异常报告), and their confirmations; complete a station
//! task (完成事项, [`TaskForm`]). Pure: a form takes keys and, once filled in and confirmed,
//! yields the `Request::LogStationEvent` or `Request::TaskDone` to send.
//!
//! Format-level checks run as the user types (required fields, the ID number's check digit,
//! the time in the dashboard's zone, the age 0–130); the daemon runs the feed's full validation
//! and the rules (own stations only, person admitted, …) and answers with a record id or a
//! reason.

use crate::caseform::Outcome;
use crate::i18n::{self, Lang, L};
use crate::widgets::form::{Choice, Field, Form, Kind, Step};
use crossterm::event::KeyEvent;
use mz_shared::dashboard::{Dashboard, ResidentRow};
use mz_shared::id_number::IdNumber;
use mz_shared::protocol::Request;
use mz_shared::records::{DischargeReason, EventKind, Flag, Gender, IncidentType, Referral};
use std::collections::BTreeMap;

/// What a station form logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StationOp {
    Arrival,
    Discharge,
    Incident,
}

impl StationOp {
    /// In the order of the key line and the help (their keys: [`crate::keymap`]).
    pub const ALL: [StationOp; 3] = [StationOp::Arrival, StationOp::Discharge, StationOp::Incident];

    pub fn event(self) -> EventKind {
        match self {
            StationOp::Arrival => EventKind::Admit,
            StationOp::Discharge => EventKind::Discharge,
            StationOp::Incident => EventKind::Incident,
        }
    }

    pub fn label(self) -> L {
        match self {
            StationOp::Arrival => L("入站登记", "log an arrival"),
            StationOp::Discharge => L("离站登记", "log a discharge"),
            StationOp::Incident => L("异常报告", "report an incident"),
        }
    }

    /// Whether the form acts on a selected resident.
    pub fn needs_resident(self) -> bool {
        self != StationOp::Arrival
    }
}

/// Whether a role gets the station forms (the daemon still checks "own stations").
pub fn role_may_log(role: mz_shared::registry::Role) -> bool {
    matches!(role, mz_shared::registry::Role::Station | mz_shared::registry::Role::Admin)
}

/// Whether a role may complete station tasks (station staff: the daemon checks "own stations").
pub fn role_may_complete(role: mz_shared::registry::Role) -> bool {
    role != mz_shared::registry::Role::Viewer
}

/// 完成事项: the confirmation of a station task's completion, with an optional note typed in
/// place (a form of one field and no separate confirmation: what will be recorded is shown
/// above the note). Enter sends, Esc cancels.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskForm {
    pub task: mz_shared::dashboard::TaskRow,
    /// `name (id)` of the task's station.
    pub station: String,
    pub form: Form,
}

impl TaskForm {
    pub fn new(task: mz_shared::dashboard::TaskRow, station: String) -> TaskForm {
        let note = Field::text("note", i18n::F_NOTE, false);
        let form = Form::new(vec![note], jiff::tz::TimeZone::UTC).without_confirmation();
        TaskForm { task, station, form }
    }

    /// Handles one key: text goes into the note.
    pub fn on_key(&mut self, key: KeyEvent, lang: Lang) -> Outcome {
        match self.form.on_key(key, lang, &|_, _| None) {
            Step::Stay => Outcome::Stay,
            Step::Cancel => Outcome::Cancel,
            Step::Send => Outcome::Send(self.request()),
        }
    }

    pub fn request(&self) -> Request {
        Request::TaskDone { id: self.task.id.clone(), note: self.form.value("note") }
    }

    /// What will be recorded, in plain words.
    pub fn confirmation(&self, lang: Lang) -> Vec<String> {
        let kind = i18n::task_kind(self.task.kind, lang);
        match lang {
            Lang::Zh => vec![
                format!("在{}完成事项：{kind}，受助人 {}。", self.station, self.task.person_ref),
                format!("事项编号：{}", self.task.id),
                "将记录完成人和完成时间。".to_string(),
            ],
            Lang::En => vec![
                format!("Complete the task {kind} of {} at {}.", self.task.person_ref, self.station),
                format!("Task id: {}", self.task.id),
                "Who completed it and when are recorded.".to_string(),
            ],
        }
    }
}

/// The age typed must agree (within a year) with the one the ID number gives on the day of the
/// event, as the daemon checks.
fn age_against_id_number(form: &Form, lang: Lang) -> Option<(usize, String)> {
    let id = form.value("id_number").and_then(|v| IdNumber::parse(&v).ok())?;
    let age: i64 = form.value("age")?.parse().ok()?;
    let at = mz_shared::time::parse_time(&form.value("occurred_at")?, &form.tz).ok()?;
    let derived = id.age_on(at.to_zoned(form.tz.clone()).date());
    let i = form.index("age")?;
    ((age - derived).abs() > 1).then(|| {
        let text = match lang {
            Lang::Zh => format!("{}: 与身份证号推算的 {derived} 岁相差超过1岁", i18n::F_AGE.t(lang)),
            Lang::En => format!("{}: differs from the {derived} given by the ID number", i18n::F_AGE.t(lang)),
        };
        (i, text)
    })
}

fn choices<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> &'static str,
    zh: impl Fn(T) -> &'static str,
    lang: Lang,
) -> Vec<Choice> {
    all.iter()
        .map(|x| Choice {
            value: value(*x).to_string(),
            label: match lang {
                Lang::Zh => zh(*x).to_string(),
                Lang::En => value(*x).replace('_', " "),
            },
        })
        .collect()
}

/// A station form on screen: the op, the station and resident, and its form.
#[derive(Debug, Clone, PartialEq)]
pub struct StationForm {
    pub op: StationOp,
    /// The station in view (for a discharge or an incident: the resident's station).
    pub station_id: String,
    /// The resident acted on (discharge, incident).
    pub resident: Option<ResidentRow>,
    /// The fields (named after the admissions feed's columns), focus and confirmation.
    pub form: Form,
    /// Station id → (name, beds, occupied), for the confirmation.
    stations: Vec<(String, String, u32, u32)>,
}

impl StationForm {
    /// The form of `op` at `station_id` (on `resident` for a discharge or an incident), with the
    /// time defaulting to `now_ms` in the dashboard's zone.
    pub fn new(
        op: StationOp,
        station_id: &str,
        resident: Option<&ResidentRow>,
        dashboard: &Dashboard,
        now_ms: i64,
        lang: Lang,
    ) -> StationForm {
        let tz = crate::widgets::text::zone(&dashboard.timezone);
        let stations: Vec<(String, String, u32, u32)> =
            dashboard.stations.iter().map(|s| (s.id.clone(), s.name.clone(), s.beds, s.occupied)).collect();
        let now = crate::widgets::text::time(now_ms, &tz, "%Y-%m-%d %H:%M");
        let time = Field::new("occurred_at", i18n::F_TIME, Kind::Time).with_value(now).hint(i18n::HINT_TIME.t(lang));
        let note = Field::text("note", i18n::F_NOTE, false);
        let fields = match op {
            StationOp::Arrival => {
                let opts: Vec<Choice> = stations
                    .iter()
                    .map(|(id, name, _, _)| Choice { value: id.clone(), label: format!("{name} ({id})") })
                    .collect();
                let selected = stations.iter().position(|s| s.0 == station_id).unwrap_or(0);
                let person = Field::text("person_ref", i18n::F_PERSON_REF, true).hint(i18n::HINT_PERSON_REF.t(lang));
                let name = Field::text("name", i18n::F_NAME, false).hint(i18n::HINT_NAME.t(lang));
                let id = Field::new("id_number", i18n::F_ID_NUMBER, Kind::IdNumber).hint(i18n::HINT_ID.t(lang));
                // Unknown first: the usual answer for a person brought in at night.
                let genders =
                    choices(&[Gender::Unknown, Gender::Male, Gender::Female], Gender::as_str, Gender::zh, lang);
                let age = Field::new("age", i18n::F_AGE, Kind::Age).hint(i18n::HINT_AGE.t(lang));
                let flags = choices(Flag::ALL, Flag::as_str, Flag::zh, lang);
                let flags = Field::multi("flags", i18n::F_FLAGS, flags).hint(i18n::HINT_FLAGS.t(lang));
                vec![
                    Field::choice("station_id", i18n::F_STATION, opts, selected),
                    time,
                    person,
                    name,
                    id,
                    Field::choice("gender", i18n::F_GENDER, genders, 0),
                    age,
                    Field::text("origin", i18n::F_ORIGIN, false),
                    Field::pick_one(
                        "referral",
                        i18n::F_REFERRAL,
                        choices(Referral::ALL, Referral::as_str, Referral::zh, lang),
                        lang,
                    ),
                    flags,
                    Field::text("bed", i18n::F_BED, false),
                    note,
                ]
            }
            StationOp::Discharge => vec![
                time,
                Field::pick_one(
                    "discharge_reason",
                    i18n::F_DISCHARGE_REASON,
                    choices(DischargeReason::ALL, DischargeReason::as_str, DischargeReason::zh, lang),
                    lang,
                ),
                note,
            ],
            StationOp::Incident => vec![
                time,
                Field::pick_one(
                    "incident_type",
                    i18n::F_INCIDENT_TYPE,
                    choices(IncidentType::ALL, IncidentType::as_str, IncidentType::zh, lang),
                    lang,
                ),
                note,
            ],
        };
        StationForm {
            op,
            station_id: station_id.to_string(),
            resident: resident.cloned(),
            form: Form::new(fields, tz),
            stations,
        }
    }

    fn field(&self, column: &str) -> Option<&Field> {
        self.form.field(column)
    }

    fn value(&self, column: &str) -> Option<String> {
        self.form.value(column)
    }

    /// The station the event is logged at: the chosen one (arrival) or the resident's.
    pub fn station(&self) -> String {
        self.value("station_id").unwrap_or_else(|| self.station_id.clone())
    }

    fn station_name(&self, id: &str) -> String {
        self.stations.iter().find(|s| s.0 == id).map_or_else(|| id.to_string(), |s| format!("{} ({id})", s.1))
    }

    /// Handles one key.
    pub fn on_key(&mut self, key: KeyEvent, lang: Lang) -> Outcome {
        match self.form.on_key(key, lang, &age_against_id_number) {
            Step::Stay => Outcome::Stay,
            Step::Cancel => Outcome::Cancel,
            Step::Send => Outcome::Send(self.request()),
        }
    }

    /// The feed row this form logs (admissions column names; `record_id` is the daemon's).
    pub fn values(&self) -> BTreeMap<String, String> {
        let mut v = BTreeMap::new();
        v.insert("station_id".to_string(), self.station());
        v.insert("event".to_string(), self.op.event().as_str().to_string());
        if let Some(r) = &self.resident {
            v.insert("person_ref".to_string(), r.person_ref.clone());
        }
        for f in self.form.fields.iter().filter(|f| f.name != "station_id") {
            if let Some(x) = f.optional() {
                v.insert(f.name.to_string(), x);
            }
        }
        v
    }

    /// The request this form sends (call once every field is valid).
    pub fn request(&self) -> Request {
        Request::LogStationEvent { values: self.values() }
    }

    /// The confirmation: what will be stored, in plain words, and whether each line is a
    /// warning. The ID number appears masked only.
    pub fn confirmation(&self, lang: Lang) -> Vec<(String, bool)> {
        let zh = lang == Lang::Zh;
        let mut out: Vec<(String, bool)> = Vec::new();
        let station = self.station();
        let sname = self.station_name(&station);
        let label = |f: &Field| f.label.t(lang).trim_end_matches("(可空)").trim_end_matches(" (optional)").to_string();
        let line = |column: &str| -> Option<String> {
            let f = self.field(column)?;
            f.optional()?;
            Some(format!("{}: {}", label(f), f.shown(lang)))
        };
        let time = self.value("occurred_at").unwrap_or_default();
        match self.op {
            StationOp::Arrival => {
                let person = self.value("person_ref").unwrap_or_default();
                out.push((
                    if zh {
                        format!("在{sname}登记入站：受助人 {person}，时间 {time}。")
                    } else {
                        format!("Log the arrival of {person} at {sname}, at {time}.")
                    },
                    false,
                ));
                let name = self.value("name").unwrap_or_else(|| i18n::NAMELESS.t(lang).to_string());
                out.push((format!("{}: {name}", i18n::NAME.t(lang)), false));
                if let Some(Ok(idn)) = self.value("id_number").map(|v| IdNumber::parse(&v)) {
                    out.push((
                        format!("{}: {} ({})", i18n::ID_NUMBER.t(lang), idn.masked(), i18n::ID_MASKED.t(lang)),
                        false,
                    ));
                }
                let mut who = vec![format!(
                    "{}: {}",
                    i18n::GENDER.t(lang),
                    self.field("gender").map(|f| f.shown(lang)).unwrap_or_default()
                )];
                who.extend(line("age"));
                out.push((who.join("   "), false));
                for c in ["origin", "referral"] {
                    out.extend(line(c).map(|l| (l, false)));
                }
                let flags = self.field("flags").map(|f| f.shown(lang)).unwrap_or_default();
                out.push((format!("{}: {flags}", label(self.field("flags").expect("arrival has flags"))), false));
                for c in ["bed", "note"] {
                    out.extend(line(c).map(|l| (l, false)));
                }
                if let Some((_, _, beds, occupied)) = self.stations.iter().find(|s| s.0 == station) {
                    let text = if zh {
                        format!("床位 {occupied}/{beds} -> {}/{beds}", occupied + 1)
                    } else {
                        format!("Beds {occupied}/{beds} -> {}/{beds}", occupied + 1)
                    };
                    out.push((text, false));
                    if occupied >= beds {
                        out.push((i18n::WILL_BE_OVER_CAPACITY.t(lang).to_string(), true));
                    }
                }
            }
            StationOp::Discharge | StationOp::Incident => {
                let r = self.resident.as_ref();
                let person = r.map(|r| r.person_ref.clone()).unwrap_or_default();
                let name = r.and_then(|r| r.name.clone()).unwrap_or_else(|| i18n::NAMELESS.t(lang).to_string());
                let (what_zh, what_en) =
                    if self.op == StationOp::Discharge { ("离站", "discharge") } else { ("异常", "incident") };
                out.push((
                    if zh {
                        format!("在{sname}登记{what_zh}：受助人 {person}（{name}），时间 {time}。")
                    } else {
                        format!("Log the {what_en} of {person} ({name}) at {sname}, at {time}.")
                    },
                    false,
                ));
                let column = if self.op == StationOp::Discharge { "discharge_reason" } else { "incident_type" };
                out.extend(line(column).map(|l| (l, false)));
                out.extend(line("note").map(|l| (l, false)));
                if self.op == StationOp::Discharge {
                    if let Some((_, _, beds, occupied)) = self.stations.iter().find(|s| s.0 == station) {
                        let after = occupied.saturating_sub(1);
                        out.push((
                            if zh {
                                format!("床位 {occupied}/{beds} -> {after}/{beds}")
                            } else {
                                format!("Beds {occupied}/{beds} -> {after}/{beds}")
                            },
                            false,
                        ));
                    }
                } else {
                    out.push((i18n::INCIDENT_NO_OCCUPANCY.t(lang).to_string(), false));
                }
            }
        }
        out.push((i18n::STORED_AS_FEED_ROW.t(lang).to_string(), false));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typed(form: &mut StationForm, s: &str) {
        for c in s.chars() {
            form.on_key(k(KeyCode::Char(c)), Lang::Zh);
        }
    }

    fn arrival() -> StationForm {
        let d = crate::views::tests::sample();
        StationForm::new(StationOp::Arrival, "TZ-JZZ", None, &d, crate::views::tests::NOW, Lang::Zh)
    }

    fn focus(f: &mut StationForm, column: &str) {
        f.form.focus_on(column);
    }

    fn problem(f: &StationForm, i: usize, tz: &jiff::tz::TimeZone) -> Option<String> {
        f.form.fields[i].problem(Lang::Zh, false, tz)
    }

    #[test]
    fn arrival_defaults_and_values() {
        let mut f = arrival();
        assert_eq!(f.form.fields[0].get(), "TZ-JZZ");
        // 2025-10-09 08:53:20 UTC is 16:53 in Shanghai.
        assert_eq!(f.form.fields[1].value, "2025-10-09 16:53");
        // Missing person_ref blocks Enter and focuses it.
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.form.confirming);
        assert_eq!(f.form.fields[f.form.focus].name, "person_ref");
        assert!(f.form.error.as_deref().unwrap().contains("必填"), "{:?}", f.form.error);
        typed(&mut f, "TZ-JZZ-00100");
        focus(&mut f, "flags");
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        f.on_key(k(KeyCode::Right), Lang::Zh);
        f.on_key(k(KeyCode::Right), Lang::Zh);
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        focus(&mut f, "referral");
        f.on_key(k(KeyCode::Left), Lang::Zh);
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(f.form.confirming, "{:?}", f.form.error);
        let Outcome::Send(Request::LogStationEvent { values }) = f.on_key(k(KeyCode::Enter), Lang::Zh) else {
            panic!("no request")
        };
        let want: BTreeMap<String, String> = [
            ("station_id", "TZ-JZZ"),
            ("event", "admit"),
            ("occurred_at", "2025-10-09 16:53"),
            ("person_ref", "TZ-JZZ-00100"),
            ("gender", "unknown"),
            ("referral", "hotline"),
            ("flags", "minor;disabled"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(values, want);
    }

    #[test]
    fn bad_id_age_and_time_are_shown_as_typed_and_block() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let mut f = arrival();
        focus(&mut f, "person_ref");
        typed(&mut f, "P1");
        focus(&mut f, "referral");
        f.on_key(k(KeyCode::Right), Lang::Zh);
        focus(&mut f, "id_number");
        typed(&mut f, "110105194912310021");
        let i = f.form.focus;
        assert!(problem(&f, i, &tz).unwrap().contains("校验位"));
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.form.confirming);
        assert_eq!(f.form.focus, i);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        typed(&mut f, "x");
        assert_eq!(problem(&f, i, &tz), None);

        focus(&mut f, "age");
        typed(&mut f, "131");
        let a = f.form.focus;
        assert!(problem(&f, a, &tz).unwrap().contains("0"));
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.form.confirming && f.form.focus == a);
        for _ in 0..3 {
            f.on_key(k(KeyCode::Backspace), Lang::Zh);
        }
        typed(&mut f, "-1");
        assert!(problem(&f, a, &tz).is_some());
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        // Born 1949-12-31: 75 on 2025-10-09; 40 differs by more than one year.
        typed(&mut f, "40");
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.form.confirming);
        assert!(f.form.error.as_deref().unwrap().contains("75"), "{:?}", f.form.error);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        typed(&mut f, "75");

        focus(&mut f, "occurred_at");
        typed(&mut f, "x");
        let t = f.form.focus;
        assert!(problem(&f, t, &tz).unwrap().contains("YYYY-MM-DD HH:MM"));
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.form.confirming && f.form.focus == t);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(f.form.confirming, "{:?}", f.form.error);
        let text: String = f.confirmation(Lang::Zh).into_iter().map(|(s, _)| s).collect::<Vec<_>>().join("\n");
        assert!(text.contains("110105********002X") && !text.contains("11010519491231002"), "{text}");
        assert!(text.contains("床位 23/50 -> 24/50"), "{text}");
    }

    #[test]
    fn discharge_and_incident_name_the_resident() {
        let d = crate::views::tests::sample();
        let r = d.stations[0].residents[1].clone();
        let mut f = StationForm::new(StationOp::Discharge, "TZ-JZZ", Some(&r), &d, crate::views::tests::NOW, Lang::En);
        f.on_key(k(KeyCode::Enter), Lang::En);
        assert!(!f.form.confirming, "the reason is required");
        assert_eq!(f.form.focus, 1);
        f.on_key(k(KeyCode::Right), Lang::En);
        f.on_key(k(KeyCode::Right), Lang::En);
        f.on_key(k(KeyCode::Enter), Lang::En);
        assert!(f.form.confirming);
        let text: String = f.confirmation(Lang::En).into_iter().map(|(s, _)| s).collect::<Vec<_>>().join("\n");
        assert!(text.contains("discharge of TZ-JZZ-00007 (王建国)") && text.contains("family"), "{text}");
        let v = f.values();
        assert_eq!(v["event"], "discharge");
        assert_eq!(v["discharge_reason"], "family");
        assert_eq!(v["person_ref"], "TZ-JZZ-00007");
        let mut f = StationForm::new(StationOp::Incident, "TZ-JZZ", Some(&r), &d, crate::views::tests::NOW, Lang::Zh);
        assert!(!f.values().contains_key("incident_type"), "nothing chosen by default");
        f.form.focus = 1;
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        assert_eq!(f.form.fields[1].shown(Lang::Zh), "重病");
        let v = f.values();
        assert_eq!(v["event"], "incident");
        assert_eq!(v["incident_type"], "severe_illness");
    }
}
