//! The one form widget (表单) of the console: typed fields keyed by name, checked as they are
//! typed, a popup that draws them and keeps the focused field in view, and the confirmation
//! that says in plain words what will happen. The case desk's forms, the station forms and the
//! task completion are all built from it; each only says which fields it has, what its
//! confirmation says and which request it sends.
//!
//! Field kinds: text, amount (yuan), ID number, time (in the dashboard's zone), age, choice
//! (one of), multi (ticks).
//!
//! Invariants: a form reaches its confirmation (or sends, when it has none) only when no field
//! has a problem, and Enter then puts the focus on the first field at fault; the focus is a
//! valid index whenever there are fields; the typed ID number is never drawn back in the
//! confirmation (forms show [`IdNumber::masked`]).

use super::text::{fit, tail, width, wrap};
use super::{popup, Mark, Theme};
use crate::i18n::{self, Lang, L};
use crossterm::event::{KeyCode, KeyEvent};
use mz_shared::id_number::{IdNumber, IdNumberError};
use mz_shared::registry::Fen;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// One option of a choice or multi field: the value sent and the label shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// What a field holds and how keys edit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Text {
        required: bool,
    },
    /// Yuan, digits with at most two decimals, more than zero (required).
    Amount,
    /// Optional 18-character ID number, checked with [`IdNumber::parse`].
    IdNumber,
    /// `YYYY-MM-DD HH:MM` in the form's zone (any feed time form is accepted; required).
    Time,
    /// Optional whole number 0–130.
    Age,
    /// Left/Right (or Space) picks one. A required choice starts on "please pick" (an empty
    /// value), so that nothing is chosen by default.
    Choice {
        options: Vec<Choice>,
        selected: usize,
        required: bool,
    },
    /// Left/Right moves among the options, Space ticks or unticks the one shown.
    Multi {
        options: Vec<Choice>,
        checked: Vec<bool>,
        cursor: usize,
    },
}

/// One field: its name (what the request calls it), label, kind, what was typed and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub label: L,
    pub kind: Kind,
    /// What was typed (text, amount, ID number, time, age).
    pub value: String,
    /// Shown under the focused field while it is empty (always for times and ticks).
    pub hint: Option<String>,
}

impl Field {
    pub fn new(name: &'static str, label: L, kind: Kind) -> Field {
        Field { name, label, kind, value: String::new(), hint: None }
    }

    pub fn text(name: &'static str, label: L, required: bool) -> Field {
        Field::new(name, label, Kind::Text { required })
    }

    pub fn choice(name: &'static str, label: L, options: Vec<Choice>, selected: usize) -> Field {
        Field::new(name, label, Kind::Choice { options, selected, required: false })
    }

    /// A required choice: "please pick" first, so that nothing is chosen by default.
    pub fn pick_one(name: &'static str, label: L, mut options: Vec<Choice>, lang: Lang) -> Field {
        options.insert(0, Choice { value: String::new(), label: i18n::PICK_ONE.t(lang).to_string() });
        Field::new(name, label, Kind::Choice { options, selected: 0, required: true })
    }

    pub fn multi(name: &'static str, label: L, options: Vec<Choice>) -> Field {
        let checked = vec![false; options.len()];
        Field::new(name, label, Kind::Multi { options, checked, cursor: 0 })
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Field {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Field {
        self.value = value.into();
        self
    }

    /// The value to send: the choice's value, the ticked values joined by `;`, or the trimmed
    /// text.
    pub fn get(&self) -> String {
        match &self.kind {
            Kind::Choice { options, selected, .. } => {
                options.get(*selected).map(|c| c.value.clone()).unwrap_or_default()
            }
            Kind::Multi { options, checked, .. } => options
                .iter()
                .zip(checked)
                .filter(|(_, c)| **c)
                .map(|(o, _)| o.value.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            _ => self.value.trim().to_string(),
        }
    }

    /// The value, when there is one.
    pub fn optional(&self) -> Option<String> {
        Some(self.get()).filter(|s| !s.is_empty())
    }

    /// The choice's label, the ticked labels, or the text, as shown.
    pub fn shown(&self, lang: Lang) -> String {
        match &self.kind {
            Kind::Choice { options, selected, .. } => {
                options.get(*selected).map(|c| c.label.clone()).unwrap_or_default()
            }
            Kind::Multi { options, checked, .. } => {
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

    /// What is wrong with the value, checked as it is typed. Empty required fields only count
    /// once the form is submitted.
    pub fn problem(&self, lang: Lang, submitting: bool, tz: &jiff::tz::TimeZone) -> Option<String> {
        let v = self.value.trim();
        let required = || (submitting && v.is_empty()).then(|| i18n::REQUIRED.t(lang).to_string());
        match &self.kind {
            Kind::Text { required: false } => None,
            Kind::Text { required: true } => required(),
            Kind::Amount if v.is_empty() => required(),
            Kind::Amount => parse_amount(v).err().map(|e| e.t(lang).to_string()),
            Kind::Time if v.is_empty() => required(),
            Kind::Time => mz_shared::time::parse_time(v, tz).err().map(|_| i18n::BAD_TIME.t(lang).to_string()),
            Kind::IdNumber | Kind::Age if v.is_empty() => None,
            Kind::IdNumber => IdNumber::parse(v).err().map(|e| id_problem(&e, lang)),
            Kind::Age => match v.parse::<u32>() {
                Ok(n) if n <= 130 && v.bytes().all(|b| b.is_ascii_digit()) => None,
                _ => Some(i18n::BAD_AGE.t(lang).to_string()),
            },
            Kind::Choice { options, .. } | Kind::Multi { options, .. } if options.is_empty() => {
                Some(i18n::NO_CHOICES.t(lang).to_string())
            }
            // A required choice starts on "please pick" (an empty value).
            Kind::Choice { required, .. } => {
                (*required && submitting && self.get().is_empty()).then(|| i18n::REQUIRED.t(lang).to_string())
            }
            Kind::Multi { .. } => None,
        }
    }

    /// A key typed into the field (not Tab, Enter or Esc).
    fn on_key(&mut self, code: KeyCode) {
        match (&mut self.kind, code) {
            (Kind::Choice { options, selected, .. }, KeyCode::Right | KeyCode::Char(' ')) if !options.is_empty() => {
                *selected = (*selected + 1) % options.len();
            }
            (Kind::Choice { options, selected, .. }, KeyCode::Left) if !options.is_empty() => {
                *selected = (*selected + options.len() - 1) % options.len();
            }
            (Kind::Multi { options, cursor, .. }, KeyCode::Right) if !options.is_empty() => {
                *cursor = (*cursor + 1) % options.len();
            }
            (Kind::Multi { options, cursor, .. }, KeyCode::Left) if !options.is_empty() => {
                *cursor = (*cursor + options.len() - 1) % options.len();
            }
            (Kind::Multi { checked, cursor, .. }, KeyCode::Char(' ')) => {
                if let Some(c) = checked.get_mut(*cursor) {
                    *c = !*c;
                }
            }
            (Kind::Choice { .. } | Kind::Multi { .. }, _) => {}
            (_, KeyCode::Backspace) => {
                self.value.pop();
            }
            (_, KeyCode::Char(c)) if !c.is_control() => self.value.push(c),
            _ => {}
        }
    }

    /// The value as drawn in `room` columns: `< choice >`, `< [x] tick >  ticked`, or the text
    /// with a cursor when focused (its end kept in view).
    fn drawn(&self, focused: bool, room: usize, lang: Lang) -> String {
        match &self.kind {
            Kind::Choice { .. } => fit(&format!("< {} >", self.shown(lang)), room),
            Kind::Multi { options, checked, cursor } => {
                let at = options.get(*cursor).map_or(String::new(), |o| {
                    let tick = if checked.get(*cursor).copied().unwrap_or(false) { "[x]" } else { "[ ]" };
                    format!("< {tick} {} >", o.label)
                });
                fit(&format!("{at}  {}", self.shown(lang)), room)
            }
            _ => tail(&format!("{}{}", self.value, if focused { "_" } else { "" }), room),
        }
    }
}

/// An amount typed in yuan: digits, at most one `.` and two decimals, more than zero.
pub fn parse_amount(text: &str) -> Result<Fen, L> {
    let t = text.trim();
    let bad =
        L("金额只能是数字，最多两位小数，如 3000 或 12.50", "amount: digits, at most 2 decimals, e.g. 3000 or 12.50");
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    if t.ends_with('.') {
        return Err(bad);
    }
    if frac.len() > 2 {
        return Err(L("最多两位小数（分）", "at most two decimals (fen)"));
    }
    let fen = Fen::from_yuan_str(t).map_err(|_| L("金额过大", "amount too large"))?;
    if fen.0 <= 0 {
        return Err(L("金额必须大于0", "amount must be more than 0"));
    }
    Ok(fen)
}

/// Why an ID number is refused, in `lang` (the number itself never appears).
pub fn id_problem(e: &IdNumberError, lang: Lang) -> String {
    match (e, lang) {
        (IdNumberError::Length(n), Lang::Zh) => format!("身份证号应为18位，已输入{n}位"),
        (IdNumberError::BadCharacter { position, .. }, Lang::Zh) => {
            format!("第{position}位应为数字（末位可为X）")
        }
        (IdNumberError::BadBirthDate(d), Lang::Zh) => format!("出生日期 {d} 不存在"),
        (IdNumberError::CheckDigit { found, expected }, Lang::Zh) => {
            format!("校验位错误：末位为 {found}，应为 {expected}")
        }
        (e, Lang::En) => format!("ID number {e}"),
    }
}

/// What a key did to a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Stay,
    Cancel,
    /// Confirmed: the owner sends its request.
    Send,
}

/// A check across fields run on submitting, after every field's own: the field at fault and
/// `label: problem`.
pub type Check<'a> = &'a dyn Fn(&Form, Lang) -> Option<(usize, String)>;

/// A form's fields and where the user is in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The confirmation is shown; Enter sends, Esc goes back to the fields.
    pub confirming: bool,
    /// Whether a confirmation follows the fields; without one Enter on valid fields sends (the
    /// lines above the fields then say what will happen).
    pub confirm_step: bool,
    /// Set by a refused Enter: the first problem.
    pub error: Option<String>,
    /// The zone typed times are read in.
    pub tz: jiff::tz::TimeZone,
}

impl Form {
    /// A form with a confirmation step; one without fields starts on its confirmation.
    pub fn new(fields: Vec<Field>, tz: jiff::tz::TimeZone) -> Form {
        let confirming = fields.is_empty();
        Form { fields, focus: 0, confirming, confirm_step: true, error: None, tz }
    }

    /// A form whose Enter sends at once.
    pub fn without_confirmation(mut self) -> Form {
        self.confirm_step = false;
        self.confirming = false;
        self
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The value of field `name` to send ("" when there is no such field).
    pub fn get(&self, name: &str) -> String {
        self.field(name).map(Field::get).unwrap_or_default()
    }

    /// The value of field `name`, when it has one.
    pub fn value(&self, name: &str) -> Option<String> {
        self.field(name).and_then(Field::optional)
    }

    /// Puts the focus on field `name`.
    pub fn focus_on(&mut self, name: &str) {
        if let Some(i) = self.index(name) {
            self.focus = i;
        }
    }

    /// The first field at fault on submitting: index and `label: problem`.
    pub fn first_problem(&self, lang: Lang) -> Option<(usize, String)> {
        self.fields
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.problem(lang, true, &self.tz).map(|p| (i, format!("{}: {p}", f.label.t(lang)))))
    }

    /// Handles one key; `check` runs across fields once each field is valid.
    pub fn on_key(&mut self, key: KeyEvent, lang: Lang, check: Check<'_>) -> Step {
        if self.confirming {
            return match key.code {
                KeyCode::Enter | KeyCode::Char('y') => Step::Send,
                KeyCode::Esc | KeyCode::Char('n') | KeyCode::Backspace if self.fields.is_empty() => Step::Cancel,
                KeyCode::Esc | KeyCode::Char('n') | KeyCode::Backspace => {
                    self.confirming = false;
                    Step::Stay
                }
                _ => Step::Stay,
            };
        }
        let n = self.fields.len().max(1);
        match key.code {
            KeyCode::Esc => return Step::Cancel,
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            KeyCode::Enter => match self.first_problem(lang).or_else(|| check(self, lang)) {
                Some((i, p)) => {
                    self.focus = i;
                    self.error = Some(p);
                }
                None if self.confirm_step => {
                    self.error = None;
                    self.confirming = true;
                }
                None => return Step::Send,
            },
            code => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.on_key(code);
                    self.error = None;
                }
            }
        }
        Step::Stay
    }
}

/// The width of form popups: at most 70 columns, less on narrow screens.
pub fn form_width(area: Rect) -> usize {
    (area.width.saturating_sub(8) as usize).min(70)
}

/// What a form popup shows besides its fields.
pub struct Popup<'a> {
    pub title: &'a str,
    /// Lines above the fields or the confirmation (the case, the resident, what a task
    /// completion records), with how each stands out.
    pub context: Vec<(String, Mark)>,
    /// The key hint at the bottom border.
    pub footer: &'a str,
}

fn wrapped(lines: &mut Vec<Line<'static>>, s: &str, w: usize, style: Style) {
    lines.extend(wrap(s, w).into_iter().map(|part| Line::styled(part, style)));
}

/// Keeps the popup `w` wide whatever its content, so that it does not jump while typing.
fn keep_width(lines: &mut Vec<Line<'static>>, w: usize) {
    lines.push(Line::raw(" ".repeat(w)));
}

/// The lines of one field: `> label: value`, then its problem, its hint or `[ID number valid]`.
fn field_lines(
    f: &Field,
    focused: bool,
    w: usize,
    lang: Lang,
    theme: Theme,
    tz: &jiff::tz::TimeZone,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let label = format!("{}{}: ", if focused { "> " } else { "  " }, f.label.t(lang));
    let room = w.saturating_sub(width(&label) + 1).max(4);
    let (label_style, value_style) = if focused {
        (theme.title(), theme.plain().add_modifier(Modifier::UNDERLINED))
    } else {
        (theme.plain(), theme.plain())
    };
    lines.push(Line::from(vec![
        Span::styled(label, label_style),
        Span::styled(f.drawn(focused, room, lang), value_style),
    ]));
    if let Some(p) = f.problem(lang, false, tz) {
        wrapped(&mut lines, &format!("    ! {p}"), w, theme.bad());
    } else if focused && (f.value.is_empty() || matches!(f.kind, Kind::Multi { .. } | Kind::Time)) {
        if let Some(h) = &f.hint {
            wrapped(&mut lines, &format!("    {h}"), w, theme.dim());
        }
    } else if matches!(f.kind, Kind::IdNumber) && !f.value.trim().is_empty() {
        lines.push(Line::styled(format!("    [{}]", i18n::ID_OK.t(lang)), theme.ok()));
    }
    lines
}

/// Which fields fit in `room` lines: all of them, or a window around the focused one (filled
/// after it first, then before it), leaving two lines for the `...` marks.
fn window(groups: &[Vec<Line<'static>>], focus: usize, room: usize) -> (usize, usize) {
    let total: usize = groups.iter().map(Vec::len).sum();
    if total <= room || groups.is_empty() {
        return (0, groups.len());
    }
    let room = room.saturating_sub(2);
    let focus = focus.min(groups.len() - 1);
    let (mut start, mut end) = (focus, focus + 1);
    let mut used = groups[focus].len();
    while end < groups.len() && used + groups[end].len() <= room {
        used += groups[end].len();
        end += 1;
    }
    while start > 0 && used + groups[start - 1].len() <= room {
        start -= 1;
        used += groups[start].len();
    }
    (start, end)
}

/// Draws the form's fields as a popup in `area`. When they do not fit its height, a window of
/// them around the focused one is shown, with `...` where fields are hidden above or below.
pub fn render(buf: &mut Buffer, area: Rect, form: &Form, popup: Popup<'_>, lang: Lang, theme: Theme) {
    let w = form_width(area);
    let mut head: Vec<Line<'static>> = Vec::new();
    for (text, mark) in &popup.context {
        wrapped(&mut head, text, w, theme.mark(*mark));
    }
    let groups: Vec<Vec<Line<'static>>> = form
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_lines(f, i == form.focus, w, lang, theme, &form.tz))
        .collect();
    let mut tail_lines: Vec<Line<'static>> = Vec::new();
    if let Some(e) = &form.error {
        wrapped(&mut tail_lines, &format!("! {e}"), w, theme.bad());
    }
    // Room inside the popup's border, less the context, the error and the width-keeping line.
    let room = (area.height.saturating_sub(2) as usize).saturating_sub(head.len() + tail_lines.len() + 1);
    let (start, end) = window(&groups, form.focus, room);
    let mut lines = head;
    if start > 0 {
        lines.push(Line::styled("  ...", theme.dim()));
    }
    lines.extend(groups[start..end].iter().flatten().cloned());
    if end < groups.len() {
        lines.push(Line::styled("  ...", theme.dim()));
    }
    lines.extend(tail_lines);
    keep_width(&mut lines, w);
    popup::render(buf, area, popup.title, lines, theme, popup.footer);
}

/// Draws a confirmation (or any message) as a popup: the context, then `lines`, warnings
/// (`true`) marked `!` and red.
pub fn render_confirmation(buf: &mut Buffer, area: Rect, popup: Popup<'_>, lines: &[(String, bool)], theme: Theme) {
    let w = form_width(area);
    let mut out: Vec<Line<'static>> = Vec::new();
    for (text, mark) in &popup.context {
        wrapped(&mut out, text, w, theme.mark(*mark));
    }
    for (text, warn) in lines {
        match warn {
            true => wrapped(&mut out, &format!("! {text}"), w, theme.bad()),
            false => wrapped(&mut out, text, w, theme.plain()),
        }
    }
    keep_width(&mut out, w);
    popup::render(buf, area, popup.title, out, theme, popup.footer);
}

/// A notice popup (the daemon's answer): lines with their marks, as wide as a form.
pub fn render_notice(buf: &mut Buffer, area: Rect, theme: Theme, title: &str, body: &[(String, Mark)]) {
    let w = form_width(area);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (text, mark) in body {
        wrapped(&mut lines, text, w, theme.mark(*mark));
    }
    popup::render(buf, area, title, lines, theme, "Enter / Esc");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn tz() -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()
    }

    const NO_CHECK: Check<'static> = &|_, _| None;

    fn opts(v: &[&str]) -> Vec<Choice> {
        v.iter().map(|s| Choice { value: s.to_string(), label: s.to_uppercase() }).collect()
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("3000"), Ok(Fen(300_000)));
        assert_eq!(parse_amount("12.5"), Ok(Fen(1250)));
        assert_eq!(parse_amount("12.50"), Ok(Fen(1250)));
        for bad in ["12.505", "0", "0.00", "-5", "3,000", "12.", ".5", "abc"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_kind_checks_what_is_typed() {
        let tz = tz();
        let typed =
            |kind: Kind, v: &str| Field::new("x", L("x", "x"), kind).with_value(v).problem(Lang::En, false, &tz);
        assert_eq!(typed(Kind::Amount, "12.5"), None);
        assert!(typed(Kind::Amount, "12.345").unwrap().contains("two decimals"));
        assert!(typed(Kind::IdNumber, "11010519491231002").unwrap().contains("ID number"));
        assert_eq!(typed(Kind::IdNumber, "11010519491231002X"), None);
        assert_eq!(typed(Kind::Time, "2025-10-09 16:53"), None);
        assert!(typed(Kind::Time, "2025-10-09 xx").unwrap().contains("YYYY-MM-DD"));
        assert_eq!(typed(Kind::Age, "130"), None);
        assert!(typed(Kind::Age, "131").is_some() && typed(Kind::Age, "-1").is_some());
        // Required fields only complain on submitting.
        let empty = Field::text("t", L("t", "t"), true);
        assert_eq!(empty.problem(Lang::En, false, &tz), None);
        assert_eq!(empty.problem(Lang::En, true, &tz).as_deref(), Some("required"));
        let pick = Field::pick_one("c", L("c", "c"), opts(&["a", "b"]), Lang::En);
        assert_eq!(pick.problem(Lang::En, true, &tz).as_deref(), Some("required"));
        let mut none_first = opts(&["a"]);
        none_first.insert(0, Choice { value: String::new(), label: "(none)".into() });
        assert_eq!(Field::choice("c", L("c", "c"), none_first, 0).problem(Lang::En, true, &tz), None);
    }

    #[test]
    fn keys_move_pick_tick_and_type() {
        let fields = vec![
            Field::choice("c", L("c", "c"), opts(&["a", "b", "c"]), 0),
            Field::multi("m", L("m", "m"), opts(&["x", "y", "z"])),
            Field::text("t", L("t", "t"), true),
        ];
        let mut f = Form::new(fields, tz());
        f.on_key(k(KeyCode::Left), Lang::En, NO_CHECK);
        assert_eq!(f.get("c"), "c");
        f.on_key(k(KeyCode::Tab), Lang::En, NO_CHECK);
        f.on_key(k(KeyCode::Char(' ')), Lang::En, NO_CHECK);
        f.on_key(k(KeyCode::Right), Lang::En, NO_CHECK);
        f.on_key(k(KeyCode::Right), Lang::En, NO_CHECK);
        f.on_key(k(KeyCode::Char(' ')), Lang::En, NO_CHECK);
        assert_eq!(f.get("m"), "x;z");
        assert_eq!(f.field("m").unwrap().shown(Lang::Zh), "X、Z");
        // Enter with the required text empty: the focus goes there.
        f.on_key(k(KeyCode::BackTab), Lang::En, NO_CHECK);
        assert_eq!(f.on_key(k(KeyCode::Enter), Lang::En, NO_CHECK), Step::Stay);
        assert_eq!((f.focus, f.error.as_deref()), (2, Some("t: required")));
        f.on_key(k(KeyCode::Char('q')), Lang::En, NO_CHECK);
        assert_eq!(f.error, None);
        // A check across fields can still refuse.
        let refuse: Check<'_> = &|_, _| Some((0, "no".into()));
        f.on_key(k(KeyCode::Enter), Lang::En, refuse);
        assert_eq!((f.focus, f.confirming), (0, false));
        f.on_key(k(KeyCode::Enter), Lang::En, NO_CHECK);
        assert!(f.confirming);
        f.on_key(k(KeyCode::Esc), Lang::En, NO_CHECK);
        assert!(!f.confirming);
        f.on_key(k(KeyCode::Enter), Lang::En, NO_CHECK);
        assert_eq!(f.on_key(k(KeyCode::Char('y')), Lang::En, NO_CHECK), Step::Send);
        // Without fields: the confirmation at once, Esc cancels.
        let mut f = Form::new(Vec::new(), tz());
        assert!(f.confirming);
        assert_eq!(f.on_key(k(KeyCode::Esc), Lang::En, NO_CHECK), Step::Cancel);
        // Without a confirmation step: Enter sends.
        let mut f = Form::new(vec![Field::text("n", L("n", "n"), false)], tz()).without_confirmation();
        assert_eq!(f.on_key(k(KeyCode::Enter), Lang::En, NO_CHECK), Step::Send);
    }

    #[test]
    fn the_window_keeps_the_focused_field_in_view() {
        let groups: Vec<Vec<Line<'static>>> = (0..12).map(|i| vec![Line::raw(format!("f{i}")); 1 + i % 2]).collect();
        assert_eq!(window(&groups, 0, 100), (0, 12));
        for focus in 0..12 {
            let (s, e) = window(&groups, focus, 8);
            assert!(s <= focus && focus < e, "{focus}: {s}..{e}");
            let used: usize = groups[s..e].iter().map(Vec::len).sum();
            assert!(used <= 6, "{focus}: {used} lines in 8 with the marks");
        }
    }
}
