//! The station staff's forms of the 救助站 view (view 2): log an arrival (入站登记), a
//! discharge (离站登记) or an incident (异常报告), and their confirmations; complete a station
//! task (完成事项, [`TaskForm`]). Pure: a form takes keys and, once filled in and confirmed,
//! yields the `Request::LogStationEvent` or `Request::TaskDone` to send.
//!
//! Format-level checks run as the user types (required fields, the ID number's check digit,
//! the time in the dashboard's zone, the age 0–130); the daemon runs the feed's full validation
//! and the rules (own stations only, person admitted, …) and answers with a record id or a
//! reason.

use crate::caseform::{id_problem, Choice, Outcome};
use crate::i18n::{self, Lang, L};
use crossterm::event::{KeyCode, KeyEvent};
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
    /// In the order of the key line and the help.
    pub const ALL: [StationOp; 3] = [StationOp::Arrival, StationOp::Discharge, StationOp::Incident];

    pub fn key(self) -> char {
        match self {
            StationOp::Arrival => 'i',
            StationOp::Discharge => 'o',
            StationOp::Incident => 'x',
        }
    }

    pub fn from_key(c: char) -> Option<StationOp> {
        StationOp::ALL.into_iter().find(|o| o.key() == c)
    }

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
/// place. Enter sends, Esc cancels.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskForm {
    pub task: mz_shared::dashboard::TaskRow,
    /// `name (id)` of the task's station.
    pub station: String,
    pub note: String,
}

impl TaskForm {
    pub fn new(task: mz_shared::dashboard::TaskRow, station: String) -> TaskForm {
        TaskForm { task, station, note: String::new() }
    }

    /// Handles one key: text goes into the note.
    pub fn on_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Esc => Outcome::Cancel,
            KeyCode::Enter => Outcome::Send(self.request()),
            KeyCode::Backspace => {
                self.note.pop();
                Outcome::Stay
            }
            KeyCode::Char(c) if !c.is_control() => {
                self.note.push(c);
                Outcome::Stay
            }
            _ => Outcome::Stay,
        }
    }

    pub fn request(&self) -> Request {
        let note = Some(self.note.trim().to_string()).filter(|n| !n.is_empty());
        Request::TaskDone { id: self.task.id.clone(), note }
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text {
        required: bool,
    },
    /// `YYYY-MM-DD HH:MM` in the dashboard's zone (any feed time form is accepted).
    Time,
    /// Optional 18-character ID number, checked with [`IdNumber::parse`].
    IdNumber,
    /// Optional whole number 0–130.
    Age,
    /// Left/Right (or Space) picks one.
    Choice {
        options: Vec<Choice>,
        selected: usize,
    },
    /// Left/Right moves among the options, Space ticks or unticks the one shown.
    Multi {
        options: Vec<Choice>,
        checked: Vec<bool>,
        cursor: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The admissions feed's column this field fills.
    pub column: &'static str,
    pub label: L,
    pub input: Input,
    /// What was typed (text, time, ID number, age fields).
    pub value: String,
    /// A hint shown under the field while it is empty (or, for choices, while focused).
    pub hint: Option<String>,
}

impl Field {
    fn text(column: &'static str, label: L, required: bool) -> Field {
        Field { column, label, input: Input::Text { required }, value: String::new(), hint: None }
    }

    fn choice(column: &'static str, label: L, options: Vec<Choice>, selected: usize) -> Field {
        Field { column, label, input: Input::Choice { options, selected }, value: String::new(), hint: None }
    }

    /// The value to send: the choice's value, the ticked values joined by `;`, or the trimmed
    /// text.
    pub fn get(&self) -> String {
        match &self.input {
            Input::Choice { options, selected } => options.get(*selected).map(|c| c.value.clone()).unwrap_or_default(),
            Input::Multi { options, checked, .. } => options
                .iter()
                .zip(checked)
                .filter(|(_, c)| **c)
                .map(|(o, _)| o.value.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            _ => self.value.trim().to_string(),
        }
    }

    /// The choice's label, the ticked labels, or the text, as shown.
    pub fn shown(&self, lang: Lang) -> String {
        match &self.input {
            Input::Choice { options, selected } => options.get(*selected).map(|c| c.label.clone()).unwrap_or_default(),
            Input::Multi { options, checked, .. } => {
                let v: Vec<&str> =
                    options.iter().zip(checked).filter(|(_, c)| **c).map(|(o, _)| o.label.as_str()).collect();
                if v.is_empty() {
                    i18n::NONE.t(lang).to_string()
                } else {
                    v.join(if lang == Lang::Zh { "、" } else { ", " })
                }
            }
            _ => self.value.clone(),
        }
    }

    fn optional(&self) -> Option<String> {
        Some(self.get()).filter(|s| !s.is_empty())
    }

    /// What is wrong with the value, checked as it is typed. Empty required fields only count
    /// once the form is submitted.
    pub fn problem(&self, lang: Lang, submitting: bool, tz: &jiff::tz::TimeZone) -> Option<String> {
        let v = self.value.trim();
        match &self.input {
            Input::Text { required } => {
                (*required && submitting && v.is_empty()).then(|| i18n::REQUIRED.t(lang).to_string())
            }
            Input::Time => {
                if v.is_empty() {
                    return submitting.then(|| i18n::REQUIRED.t(lang).to_string());
                }
                mz_shared::time::parse_time(v, tz).err().map(|_| i18n::BAD_TIME.t(lang).to_string())
            }
            Input::IdNumber => {
                if v.is_empty() {
                    return None;
                }
                IdNumber::parse(v).err().map(|e| id_problem(&e, lang))
            }
            Input::Age => {
                if v.is_empty() {
                    return None;
                }
                match v.parse::<u32>() {
                    Ok(n) if n <= 130 && v.bytes().all(|b| b.is_ascii_digit()) => None,
                    _ => Some(i18n::BAD_AGE.t(lang).to_string()),
                }
            }
            Input::Choice { options, .. } | Input::Multi { options, .. } if options.is_empty() => {
                Some(i18n::NO_CHOICES.t(lang).to_string())
            }
            // A required choice starts on "please pick" (an empty value).
            Input::Choice { .. } => (submitting && self.get().is_empty()).then(|| i18n::REQUIRED.t(lang).to_string()),
            Input::Multi { .. } => None,
        }
    }
}

/// The options of a required choice: "please pick" first, so nothing is chosen by default.
fn required(mut options: Vec<Choice>, lang: Lang) -> Vec<Choice> {
    options.insert(0, Choice { value: String::new(), label: i18n::PICK_ONE.t(lang).to_string() });
    options
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

/// A station form on screen: fields, focus, and whether the confirmation is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct StationForm {
    pub op: StationOp,
    /// The station in view (for a discharge or an incident: the resident's station).
    pub station_id: String,
    /// The resident acted on (discharge, incident).
    pub resident: Option<ResidentRow>,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The confirmation is shown; Enter sends, Esc goes back to the fields.
    pub confirming: bool,
    /// Set by a refused Enter: the first problem.
    pub error: Option<String>,
    /// Station id → (name, beds, occupied), for the confirmation.
    stations: Vec<(String, String, u32, u32)>,
    tz: jiff::tz::TimeZone,
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
        let mut time = Field::text("occurred_at", i18n::F_TIME, true);
        time.input = Input::Time;
        time.value = crate::widgets::text::time(now_ms, &tz, "%Y-%m-%d %H:%M");
        time.hint = Some(i18n::HINT_TIME.t(lang).to_string());
        let note = Field::text("note", i18n::F_NOTE, false);
        let fields = match op {
            StationOp::Arrival => {
                let opts: Vec<Choice> = stations
                    .iter()
                    .map(|(id, name, _, _)| Choice { value: id.clone(), label: format!("{name} ({id})") })
                    .collect();
                let selected = stations.iter().position(|s| s.0 == station_id).unwrap_or(0);
                let mut person = Field::text("person_ref", i18n::F_PERSON_REF, true);
                person.hint = Some(i18n::HINT_PERSON_REF.t(lang).to_string());
                let mut name = Field::text("name", i18n::F_NAME, false);
                name.hint = Some(i18n::HINT_NAME.t(lang).to_string());
                let id = Field {
                    column: "id_number",
                    label: i18n::F_ID_NUMBER,
                    input: Input::IdNumber,
                    value: String::new(),
                    hint: Some(i18n::HINT_ID.t(lang).to_string()),
                };
                // Unknown first: the usual answer for a person brought in at night.
                let genders =
                    choices(&[Gender::Unknown, Gender::Male, Gender::Female], Gender::as_str, Gender::zh, lang);
                let age = Field {
                    column: "age",
                    label: i18n::F_AGE,
                    input: Input::Age,
                    value: String::new(),
                    hint: Some(i18n::HINT_AGE.t(lang).to_string()),
                };
                let flags = choices(Flag::ALL, Flag::as_str, Flag::zh, lang);
                let n = flags.len();
                let mut flags = Field {
                    column: "flags",
                    label: i18n::F_FLAGS,
                    input: Input::Multi { options: flags, checked: vec![false; n], cursor: 0 },
                    value: String::new(),
                    hint: Some(i18n::HINT_FLAGS.t(lang).to_string()),
                };
                flags.value.clear();
                vec![
                    Field::choice("station_id", i18n::F_STATION, opts, selected),
                    time,
                    person,
                    name,
                    id,
                    Field::choice("gender", i18n::F_GENDER, genders, 0),
                    age,
                    Field::text("origin", i18n::F_ORIGIN, false),
                    Field::choice(
                        "referral",
                        i18n::F_REFERRAL,
                        required(choices(Referral::ALL, Referral::as_str, Referral::zh, lang), lang),
                        0,
                    ),
                    flags,
                    Field::text("bed", i18n::F_BED, false),
                    note,
                ]
            }
            StationOp::Discharge => vec![
                time,
                Field::choice(
                    "discharge_reason",
                    i18n::F_DISCHARGE_REASON,
                    required(choices(DischargeReason::ALL, DischargeReason::as_str, DischargeReason::zh, lang), lang),
                    0,
                ),
                note,
            ],
            StationOp::Incident => vec![
                time,
                Field::choice(
                    "incident_type",
                    i18n::F_INCIDENT_TYPE,
                    required(choices(IncidentType::ALL, IncidentType::as_str, IncidentType::zh, lang), lang),
                    0,
                ),
                note,
            ],
        };
        StationForm {
            op,
            station_id: station_id.to_string(),
            resident: resident.cloned(),
            fields,
            focus: 0,
            confirming: false,
            error: None,
            stations,
            tz,
        }
    }

    /// The dashboard's zone, in which typed times are read.
    pub fn zone(&self) -> &jiff::tz::TimeZone {
        &self.tz
    }

    fn field(&self, column: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.column == column)
    }

    fn value(&self, column: &str) -> Option<String> {
        self.field(column).and_then(Field::optional)
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
        if self.confirming {
            return match key.code {
                KeyCode::Enter | KeyCode::Char('y') => Outcome::Send(self.request()),
                KeyCode::Esc | KeyCode::Char('n') | KeyCode::Backspace => {
                    self.confirming = false;
                    Outcome::Stay
                }
                _ => Outcome::Stay,
            };
        }
        let n = self.fields.len().max(1);
        match key.code {
            KeyCode::Esc => return Outcome::Cancel,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            KeyCode::Enter => match self.first_problem(lang) {
                Some((i, p)) => {
                    self.focus = i;
                    self.error = Some(p);
                }
                None => {
                    self.error = None;
                    self.confirming = true;
                }
            },
            code => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    match (&mut f.input, code) {
                        (Input::Choice { options, selected }, KeyCode::Right | KeyCode::Char(' '))
                            if !options.is_empty() =>
                        {
                            *selected = (*selected + 1) % options.len();
                        }
                        (Input::Choice { options, selected }, KeyCode::Left) if !options.is_empty() => {
                            *selected = (*selected + options.len() - 1) % options.len();
                        }
                        (Input::Multi { options, cursor, .. }, KeyCode::Right) if !options.is_empty() => {
                            *cursor = (*cursor + 1) % options.len();
                        }
                        (Input::Multi { options, cursor, .. }, KeyCode::Left) if !options.is_empty() => {
                            *cursor = (*cursor + options.len() - 1) % options.len();
                        }
                        (Input::Multi { checked, cursor, .. }, KeyCode::Char(' ')) => {
                            if let Some(c) = checked.get_mut(*cursor) {
                                *c = !*c;
                            }
                        }
                        (Input::Choice { .. } | Input::Multi { .. }, _) => {}
                        (_, KeyCode::Backspace) => {
                            f.value.pop();
                        }
                        (_, KeyCode::Char(c)) if !c.is_control() => f.value.push(c),
                        _ => {}
                    }
                    self.error = None;
                }
            }
        }
        Outcome::Stay
    }

    /// The first field at fault on submitting (index, `label: problem`), also checking the age
    /// against the one the ID number gives, as the daemon does.
    pub fn first_problem(&self, lang: Lang) -> Option<(usize, String)> {
        let found = self
            .fields
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.problem(lang, true, &self.tz).map(|p| (i, format!("{}: {p}", f.label.t(lang)))));
        if found.is_some() {
            return found;
        }
        let id = self.value("id_number").and_then(|v| IdNumber::parse(&v).ok())?;
        let age: i64 = self.value("age")?.parse().ok()?;
        let at = mz_shared::time::parse_time(&self.value("occurred_at")?, &self.tz).ok()?;
        let derived = id.age_on(at.to_zoned(self.tz.clone()).date());
        let i = self.fields.iter().position(|f| f.column == "age")?;
        ((age - derived).abs() > 1).then(|| {
            let text = match lang {
                Lang::Zh => format!("{}: 与身份证号推算的 {derived} 岁相差超过1岁", i18n::F_AGE.t(lang)),
                Lang::En => format!("{}: differs from the {derived} given by the ID number", i18n::F_AGE.t(lang)),
            };
            (i, text)
        })
    }

    /// The feed row this form logs (admissions column names; `record_id` is the daemon's).
    pub fn values(&self) -> BTreeMap<String, String> {
        let mut v = BTreeMap::new();
        v.insert("station_id".to_string(), self.station());
        v.insert("event".to_string(), self.op.event().as_str().to_string());
        if let Some(r) = &self.resident {
            v.insert("person_ref".to_string(), r.person_ref.clone());
        }
        for f in &self.fields {
            if f.column == "station_id" {
                continue;
            }
            if let Some(x) = f.optional() {
                v.insert(f.column.to_string(), x);
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
    use crossterm::event::KeyModifiers;

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
        f.focus = f.fields.iter().position(|x| x.column == column).unwrap();
    }

    #[test]
    fn arrival_defaults_and_values() {
        let mut f = arrival();
        assert_eq!(f.fields[0].get(), "TZ-JZZ");
        // 2025-10-09 08:53:20 UTC is 16:53 in Shanghai.
        assert_eq!(f.fields[1].value, "2025-10-09 16:53");
        // Missing person_ref blocks Enter and focuses it.
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.confirming);
        assert_eq!(f.fields[f.focus].column, "person_ref");
        assert!(f.error.as_deref().unwrap().contains("必填"), "{:?}", f.error);
        typed(&mut f, "TZ-JZZ-00100");
        focus(&mut f, "flags");
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        f.on_key(k(KeyCode::Right), Lang::Zh);
        f.on_key(k(KeyCode::Right), Lang::Zh);
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        focus(&mut f, "referral");
        f.on_key(k(KeyCode::Left), Lang::Zh);
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(f.confirming, "{:?}", f.error);
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
        let i = f.focus;
        assert!(f.fields[i].problem(Lang::Zh, false, &tz).unwrap().contains("校验位"));
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.confirming);
        assert_eq!(f.focus, i);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        typed(&mut f, "x");
        assert_eq!(f.fields[i].problem(Lang::Zh, false, &tz), None);

        focus(&mut f, "age");
        typed(&mut f, "131");
        let a = f.focus;
        assert!(f.fields[a].problem(Lang::Zh, false, &tz).unwrap().contains("0"));
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.confirming && f.focus == a);
        for _ in 0..3 {
            f.on_key(k(KeyCode::Backspace), Lang::Zh);
        }
        typed(&mut f, "-1");
        assert!(f.fields[a].problem(Lang::Zh, false, &tz).is_some());
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        // Born 1949-12-31: 75 on 2025-10-09; 40 differs by more than one year.
        typed(&mut f, "40");
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.confirming);
        assert!(f.error.as_deref().unwrap().contains("75"), "{:?}", f.error);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        typed(&mut f, "75");

        focus(&mut f, "occurred_at");
        typed(&mut f, "x");
        let t = f.focus;
        assert!(f.fields[t].problem(Lang::Zh, false, &tz).unwrap().contains("YYYY-MM-DD HH:MM"));
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.confirming && f.focus == t);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(f.confirming, "{:?}", f.error);
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
        assert!(!f.confirming, "the reason is required");
        assert_eq!(f.focus, 1);
        f.on_key(k(KeyCode::Right), Lang::En);
        f.on_key(k(KeyCode::Right), Lang::En);
        f.on_key(k(KeyCode::Enter), Lang::En);
        assert!(f.confirming);
        let text: String = f.confirmation(Lang::En).into_iter().map(|(s, _)| s).collect::<Vec<_>>().join("\n");
        assert!(text.contains("discharge of TZ-JZZ-00007 (王建国)") && text.contains("family"), "{text}");
        let v = f.values();
        assert_eq!(v["event"], "discharge");
        assert_eq!(v["discharge_reason"], "family");
        assert_eq!(v["person_ref"], "TZ-JZZ-00007");
        let mut f = StationForm::new(StationOp::Incident, "TZ-JZZ", Some(&r), &d, crate::views::tests::NOW, Lang::Zh);
        assert!(!f.values().contains_key("incident_type"), "nothing chosen by default");
        f.focus = 1;
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        f.on_key(k(KeyCode::Char(' ')), Lang::Zh);
        assert_eq!(f.fields[1].shown(Lang::Zh), "重病");
        let v = f.values();
        assert_eq!(v["event"], "incident");
        assert_eq!(v["incident_type"], "severe_illness");
    }
}
