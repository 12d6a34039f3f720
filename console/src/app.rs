//! The console's state and key handling. Pure: no terminal, no socket, no files — input comes
//! in as key events and [`ClientEvent`]s, and side effects go out as [`Action`]s that `main`
//! carries out. Everything here is testable without a terminal.

use crate::caseform::{Form, Op, Outcome};
use crate::client::{CaseAnswer, ClientEvent};
use crate::i18n::{self, Lang};
use crate::stationform::{StationForm, StationOp, TaskForm};
use crate::views;
use crate::widgets::table::TableData;
use crate::widgets::{Mark, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use mz_shared::dashboard::Dashboard;
use mz_shared::registry::Role;

/// The nine views, in navigation order (number keys 1–9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Overview,
    Stations,
    Burials,
    Marriages,
    Alerts,
    Ingest,
    /// 救急难 case desk.
    Cases,
    /// 临时救助备用金: the streets' reserve funds.
    Funds,
    /// 统计报表: the day's and the month's statistics report.
    Report,
}

impl View {
    pub const ALL: [View; 9] = [
        View::Overview,
        View::Stations,
        View::Burials,
        View::Marriages,
        View::Alerts,
        View::Ingest,
        View::Cases,
        View::Funds,
        View::Report,
    ];

    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).expect("listed")
    }

    pub fn label(self) -> i18n::L {
        match self {
            View::Overview => i18n::VIEW_OVERVIEW,
            View::Stations => i18n::VIEW_STATIONS,
            View::Burials => i18n::VIEW_BURIALS,
            View::Marriages => i18n::VIEW_MARRIAGES,
            View::Alerts => i18n::VIEW_ALERTS,
            View::Ingest => i18n::VIEW_INGEST,
            View::Cases => i18n::VIEW_CASES,
            View::Funds => i18n::VIEW_FUNDS,
            View::Report => i18n::VIEW_REPORT,
        }
    }

    /// Short English name, used in export file names.
    pub fn slug(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Stations => "stations",
            View::Burials => "burials",
            View::Marriages => "marriages",
            View::Alerts => "alerts",
            View::Ingest => "ingest",
            View::Cases => "cases",
            View::Funds => "funds",
            View::Report => "report",
        }
    }
}

/// A selectable, filterable list; each has its own selection and filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListId {
    Overview,
    Stations,
    /// Residents of the station drilled into.
    Residents,
    Sites,
    Offices,
    Alerts,
    Ingest,
    Cases,
    Funds,
    /// Open tasks of the station in view (在站事项).
    Tasks,
}

impl ListId {
    const COUNT: usize = 10;

    fn slot(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListState {
    /// Index into the filtered rows.
    pub selected: usize,
    /// Key of the selected row once the user moved to it: the selection then stays on the same
    /// thing when data changes. Until then it stays on the first (newest) row.
    pub key: Option<String>,
    pub filter: String,
}

/// The connection to the daemon, as the user sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Conn {
    /// Before the first connection.
    Connecting,
    Connected,
    /// Lost (or never reached); reconnecting.
    Disconnected {
        error: String,
        attempt: u32,
    },
}

/// Who the daemon says we are (from its Welcome).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help,
    /// The detail of the row with this key in this list.
    Detail {
        list: ListId,
        key: String,
    },
}

/// A rejects file's first lines, read by `main` on request.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub path: String,
    /// `None` while loading; the lines or why they could not be read.
    pub lines: Option<Result<Vec<String>, String>>,
}

/// Side effects for `main` to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this case request (`CaseOpen` or `CaseAct`) over a short-lived connection.
    Case(mz_shared::protocol::Request),
    /// Send this `LogStationEvent` over a short-lived connection.
    Log(mz_shared::protocol::Request),
    /// Send this `TaskDone` over a short-lived connection.
    Task(mz_shared::protocol::Request),
    None,
    Quit,
    /// Send `AckAlert` for this alert id.
    Ack(String),
    /// Write the current table to a CSV file.
    Export,
    /// Ask for the statistics report of this kind and period (`None`: the daemon's default).
    Report(mz_shared::statistics::PeriodKind, Option<mz_shared::statistics::Period>),
    /// Read the first lines of this rejects file.
    Preview(String),
}

/// A status-bar message and how it stands out.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub mark: Mark,
}

pub struct App {
    pub lang: Lang,
    pub theme: Theme,
    pub view: View,
    /// The dashboard on screen.
    pub dashboard: Option<Box<Dashboard>>,
    /// The newest dashboard received while paused, and how many arrived.
    pub held: Option<Box<Dashboard>>,
    pub held_count: u32,
    pub paused: bool,
    pub conn: Conn,
    pub session: Option<Session>,
    /// Wall clock, Unix milliseconds (updated by ticks).
    pub now_ms: i64,
    lists: [ListState; ListId::COUNT],
    /// Station id whose residents are shown (drilled in from the stations list).
    pub residents_of: Option<String>,
    pub editing_filter: bool,
    pub popup: Option<Popup>,
    pub message: Option<Message>,
    pub preview: Option<Preview>,
    pub quit: bool,
    /// Running on the embedded demo daemon.
    pub demo: bool,
    /// The case form (or its confirmation) on screen.
    pub form: Option<Form>,
    /// The case request sent and not answered yet.
    pub sending: Option<Op>,
    /// The station form (arrival, discharge, incident) or its confirmation on screen.
    pub station_form: Option<StationForm>,
    /// The station event sent and not answered yet.
    pub logging: Option<StationOp>,
    /// The daemon's answer to a case request: title and lines, shown until dismissed.
    pub notice: Option<(String, Vec<(String, Mark)>)>,
    /// The case queue also lists closed and referred cases.
    pub show_ended_cases: bool,
    /// Lines scrolled in the case detail pane.
    pub detail_scroll: u16,
    /// In the stations view, the keys act on the station's open tasks (`t` toggles).
    pub tasks_focus: bool,
    /// The task completion (note and confirmation) on screen.
    pub task_form: Option<TaskForm>,
    /// A task completion sent and not answered yet.
    pub completing: bool,
    /// The report view's period and the report on screen.
    pub report: crate::views::report::ReportView,
}

impl App {
    pub fn new(lang: Lang, color: bool) -> App {
        App {
            lang,
            theme: Theme { color },
            view: View::Overview,
            dashboard: None,
            held: None,
            held_count: 0,
            paused: false,
            conn: Conn::Connecting,
            session: None,
            now_ms: 0,
            lists: Default::default(),
            residents_of: None,
            editing_filter: false,
            popup: None,
            message: None,
            preview: None,
            quit: false,
            demo: false,
            form: None,
            sending: None,
            station_form: None,
            logging: None,
            notice: None,
            show_ended_cases: false,
            detail_scroll: 0,
            tasks_focus: false,
            task_form: None,
            completing: false,
            report: Default::default(),
        }
    }

    /// The list the keys act on in the current view.
    pub fn current_list(&self) -> ListId {
        match self.view {
            View::Overview => ListId::Overview,
            View::Stations if self.tasks_focus => ListId::Tasks,
            View::Stations if self.residents_of.is_some() => ListId::Residents,
            View::Stations => ListId::Stations,
            View::Burials => ListId::Sites,
            View::Marriages => ListId::Offices,
            View::Alerts => ListId::Alerts,
            View::Ingest => ListId::Ingest,
            View::Cases => ListId::Cases,
            View::Funds => ListId::Funds,
            View::Report => ListId::Overview,
        }
    }

    pub fn list(&self, id: ListId) -> &ListState {
        &self.lists[id.slot()]
    }

    fn list_mut(&mut self, id: ListId) -> &mut ListState {
        &mut self.lists[id.slot()]
    }

    /// The table of a list, built from the dashboard on screen.
    pub fn table(&self, id: ListId) -> TableData {
        views::table(self, id)
    }

    /// Key of the selected row of a list (after its filter), if any.
    pub fn selected_key(&self, id: ListId) -> Option<String> {
        let t = self.table(id);
        let st = self.list(id);
        t.filtered(&st.filter).get(st.selected).map(|r| r.key.clone())
    }

    /// Puts every list's selection back on the row it was on (by key), or clamps it.
    fn resync(&mut self) {
        for id in [
            ListId::Overview,
            ListId::Stations,
            ListId::Residents,
            ListId::Sites,
            ListId::Offices,
            ListId::Alerts,
            ListId::Ingest,
            ListId::Cases,
            ListId::Funds,
            ListId::Tasks,
        ] {
            let t = self.table(id);
            let st = self.list(id).clone();
            let rows = t.filtered(&st.filter);
            let selected = st
                .key
                .as_ref()
                .and_then(|k| rows.iter().position(|r| &r.key == k))
                .unwrap_or_else(|| st.selected.min(rows.len().saturating_sub(1)));
            let key = st.key.as_ref().and(rows.get(selected)).map(|r| r.key.clone());
            let s = self.list_mut(id);
            s.selected = selected;
            s.key = key;
        }
    }

    fn move_selection(&mut self, delta: i64) {
        let id = self.current_list();
        let t = self.table(id);
        let n = t.filtered(&self.list(id).filter).len();
        if n == 0 {
            return;
        }
        let cur = self.list(id).selected as i64;
        let next = (cur + delta).clamp(0, n as i64 - 1) as usize;
        let key = t.filtered(&self.list(id).filter)[next].key.clone();
        let s = self.list_mut(id);
        s.selected = next;
        s.key = Some(key);
    }

    fn set_view(&mut self, view: View) {
        self.view = view;
        self.popup = None;
        self.editing_filter = false;
    }

    fn say(&mut self, text: impl Into<String>, mark: Mark) {
        self.message = Some(Message { text: text.into(), mark });
    }

    /// Handles one key; returns what `main` must do.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c' | 'q')) {
            self.quit = true;
            return Action::Quit;
        }
        if self.editing_filter {
            let id = self.current_list();
            match key.code {
                KeyCode::Enter => self.editing_filter = false,
                KeyCode::Esc => {
                    self.editing_filter = false;
                    self.list_mut(id).filter.clear();
                }
                KeyCode::Backspace => {
                    self.list_mut(id).filter.pop();
                }
                KeyCode::Char(c) => self.list_mut(id).filter.push(c),
                _ => {}
            }
            self.resync();
            return Action::None;
        }
        if let Some(form) = self.form.as_mut() {
            match form.on_key(key, self.lang) {
                Outcome::Stay => {}
                Outcome::Cancel => self.form = None,
                Outcome::Send(request) => {
                    self.sending = Some(form.op);
                    self.form = None;
                    self.say(i18n::SENDING.t(self.lang), Mark::Normal);
                    return Action::Case(request);
                }
            }
            return Action::None;
        }
        if let Some(form) = self.station_form.as_mut() {
            match form.on_key(key, self.lang) {
                Outcome::Stay => {}
                Outcome::Cancel => self.station_form = None,
                Outcome::Send(request) => {
                    self.logging = Some(form.op);
                    self.station_form = None;
                    self.say(i18n::SENDING.t(self.lang), Mark::Normal);
                    return Action::Log(request);
                }
            }
            return Action::None;
        }
        if let Some(form) = self.task_form.as_mut() {
            match form.on_key(key) {
                Outcome::Stay => {}
                Outcome::Cancel => self.task_form = None,
                Outcome::Send(request) => {
                    self.completing = true;
                    self.task_form = None;
                    self.say(i18n::SENDING.t(self.lang), Mark::Normal);
                    return Action::Task(request);
                }
            }
            return Action::None;
        }
        if self.notice.is_some() {
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace | KeyCode::Char(' ')) {
                self.notice = None;
            }
            return Action::None;
        }
        if let Some(Popup::Detail { list: ListId::Cases, .. }) = &self.popup {
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => self.detail_scroll = self.detail_scroll.saturating_add(1),
                KeyCode::Up | KeyCode::Char('k') => self.detail_scroll = self.detail_scroll.saturating_sub(1),
                KeyCode::PageDown => self.detail_scroll = self.detail_scroll.saturating_add(10),
                KeyCode::PageUp => self.detail_scroll = self.detail_scroll.saturating_sub(10),
                KeyCode::Char(c) if Op::from_key(c).is_some() => {
                    self.start_op(Op::from_key(c).expect("checked"));
                }
                KeyCode::Char('q') => {
                    self.quit = true;
                    return Action::Quit;
                }
                KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace | KeyCode::Char('?') => self.popup = None,
                _ => {}
            }
            return Action::None;
        }
        if let Some(Popup::Detail { list: ListId::Residents, key: person }) = &self.popup {
            if let KeyCode::Char(c) = key.code {
                if let Some(op) = StationOp::from_key(c).filter(|_| self.may_log()) {
                    let person = person.clone();
                    self.popup = None;
                    self.start_station_op(op, Some(person));
                    return Action::None;
                }
            }
        }
        if self.popup.is_some() {
            match key.code {
                KeyCode::Char('q') => {
                    self.quit = true;
                    return Action::Quit;
                }
                KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace | KeyCode::Char('?') => {
                    self.popup = None;
                    self.preview = None;
                }
                _ => {}
            }
            return Action::None;
        }
        if self.view == View::Report {
            if let Some(action) = crate::views::report::on_key(self, key) {
                return action;
            }
        }
        let action = self.on_view_key(key);
        if self.view == View::Report && self.report.report.is_none() && !self.report.loading {
            return crate::views::report::request(self);
        }
        action
    }

    /// The keys of the views (no form, popup or notice on screen).
    fn on_view_key(&mut self, key: KeyEvent) -> Action {
        match key.code {
            KeyCode::Char('q') => {
                self.quit = true;
                return Action::Quit;
            }
            KeyCode::Char(c @ '1'..='9') => self.set_view(View::ALL[(c as u8 - b'1') as usize]),
            KeyCode::Tab => self.set_view(View::ALL[(self.view.index() + 1) % View::ALL.len()]),
            KeyCode::BackTab => self.set_view(View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()]),
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::PageDown => self.move_selection(10),
            KeyCode::PageUp => self.move_selection(-10),
            KeyCode::Home | KeyCode::Char('g') => self.move_selection(i64::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.move_selection(i64::MAX / 2),
            KeyCode::Char('/') if !matches!(self.view, View::Overview | View::Report) => {
                self.editing_filter = true;
            }
            KeyCode::Char('?') => self.popup = Some(Popup::Help),
            KeyCode::Char('f') => self.toggle_pause(),
            KeyCode::Char('e') => return Action::Export,
            KeyCode::Char('a') if self.view == View::Alerts => return self.ack_selected(),
            KeyCode::Char('t') if self.view == View::Cases => {
                self.show_ended_cases = !self.show_ended_cases;
                self.resync();
            }
            KeyCode::Char('t') if self.view == View::Stations => {
                self.tasks_focus = !self.tasks_focus;
                self.resync();
            }
            KeyCode::Char('d') if self.view == View::Stations => self.start_task_done(),
            KeyCode::Char(c) if self.view == View::Stations && StationOp::from_key(c).is_some() => {
                self.start_station_op(StationOp::from_key(c).expect("checked"), None);
            }
            KeyCode::Char(c) if self.view == View::Cases && Op::from_key(c).is_some() => {
                self.start_op(Op::from_key(c).expect("checked"));
            }
            KeyCode::Enter => return self.enter(),
            KeyCode::Esc => self.back(),
            _ => {}
        }
        Action::None
    }

    fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused {
            if let Some(d) = self.held.take() {
                self.dashboard = Some(d);
            }
            self.held_count = 0;
            self.resync();
        }
    }

    fn enter(&mut self) -> Action {
        let id = self.current_list();
        let Some(key) = self.selected_key(id) else { return Action::None };
        match id {
            ListId::Overview => Action::None,
            ListId::Cases => {
                self.detail_scroll = 0;
                self.popup = Some(Popup::Detail { list: id, key });
                Action::None
            }
            ListId::Stations => {
                self.residents_of = Some(key);
                self.list_mut(ListId::Residents).selected = 0;
                self.list_mut(ListId::Residents).key = None;
                self.resync();
                Action::None
            }
            ListId::Ingest => {
                self.popup = Some(Popup::Detail { list: id, key: key.clone() });
                let note = self
                    .dashboard
                    .as_ref()
                    .and_then(|d| d.ingest.iter().find(|e| e.name == key || ingest_key(e) == key))
                    .and_then(|e| e.note.clone())
                    .filter(|n| n.ends_with(".rejects.csv"));
                match note {
                    Some(path) => {
                        self.preview = Some(Preview { path: path.clone(), lines: None });
                        Action::Preview(path)
                    }
                    None => {
                        self.preview = None;
                        Action::None
                    }
                }
            }
            _ => {
                self.popup = Some(Popup::Detail { list: id, key });
                Action::None
            }
        }
    }

    fn back(&mut self) {
        let id = self.current_list();
        if !self.list(id).filter.is_empty() {
            self.list_mut(id).filter.clear();
            self.resync();
        } else if self.tasks_focus && self.view == View::Stations {
            self.tasks_focus = false;
        } else if self.residents_of.is_some() && self.view == View::Stations {
            self.residents_of = None;
        } else {
            self.message = None;
        }
    }

    /// Opens the form of `op` on the case in the detail pane or selected in the queue.
    fn start_op(&mut self, op: Op) {
        let lang = self.lang;
        let Some(role) = self.session.as_ref().map(|s| s.role) else { return };
        if !mz_shared::case::role_allows(role, op.kind()) {
            let text = format!("{} ({}: {})", i18n::ROLE_CANNOT.t(lang), i18n::role(role, lang), op.label().t(lang));
            self.say(text, Mark::Bad);
            return;
        }
        if self.sending.is_some() || self.logging.is_some() {
            self.say(i18n::SENDING.t(lang), Mark::Warn);
            return;
        }
        let Some(d) = self.dashboard.as_deref() else { return };
        if op == Op::Open {
            self.form = Some(Form::new(op, None, d, lang));
            return;
        }
        let key = match &self.popup {
            Some(Popup::Detail { list: ListId::Cases, key }) => Some(key.clone()),
            _ => self.selected_key(ListId::Cases),
        };
        let Some(case) = key.and_then(|k| d.cases.iter().find(|c| c.id.as_str() == k)) else {
            self.say(i18n::NO_CASE_SELECTED.t(lang), Mark::Warn);
            return;
        };
        if case.is_terminal() != (op == Op::Reopen) {
            let only_closed = i18n::L("只有已办结的案件可以重新办理", "only a closed case can be reopened");
            self.say((if op == Op::Reopen { only_closed } else { i18n::CASE_ENDED_NO_ACTION }).t(lang), Mark::Warn);
            return;
        }
        if matches!(op, Op::Approve | Op::Reject) && case.pending.is_none() {
            self.say(i18n::NO_PENDING.t(lang), Mark::Warn);
            return;
        }
        self.form = Some(Form::new(op, Some(case), d, lang));
    }

    /// Whether the connected user may complete station tasks (not a viewer; the daemon checks
    /// that station staff complete their own stations' tasks only).
    pub fn may_complete_tasks(&self) -> bool {
        self.session.as_ref().is_some_and(|s| crate::stationform::role_may_complete(s.role))
    }

    /// Whether the connected user gets the station forms (role `station` or `admin`; the
    /// daemon checks that the station is one of theirs).
    pub fn may_log(&self) -> bool {
        self.session.as_ref().is_some_and(|s| crate::stationform::role_may_log(s.role))
    }

    /// Opens the station form of `op` at the station in view; a discharge or an incident is for
    /// `person` (from the resident detail) or the selected resident.
    fn start_station_op(&mut self, op: StationOp, person: Option<String>) {
        let lang = self.lang;
        let Some(role) = self.session.as_ref().map(|s| s.role) else { return };
        if !crate::stationform::role_may_log(role) {
            let text = format!("{} ({}: {})", i18n::ROLE_CANNOT.t(lang), i18n::role(role, lang), op.label().t(lang));
            self.say(text, Mark::Bad);
            return;
        }
        if self.sending.is_some() || self.logging.is_some() {
            self.say(i18n::SENDING.t(lang), Mark::Warn);
            return;
        }
        let Some(station) = views::stations::focused_station(self).cloned() else {
            self.say(i18n::NO_STATION_SELECTED.t(lang), Mark::Warn);
            return;
        };
        let Some(d) = self.dashboard.as_deref() else { return };
        let resident = if op.needs_resident() {
            let key = person.or_else(|| self.residents_of.as_ref().and_then(|_| self.selected_key(ListId::Residents)));
            match key.and_then(|k| station.residents.iter().find(|r| r.person_ref == k)) {
                Some(r) => Some(r.clone()),
                None => {
                    self.say(i18n::NO_RESIDENT_SELECTED.t(lang), Mark::Warn);
                    return;
                }
            }
        } else {
            None
        };
        self.station_form = Some(StationForm::new(op, &station.id, resident.as_ref(), d, self.now_ms, lang));
    }

    /// Opens the completion of the selected task of the station in view; the first `d` moves
    /// to the task list when the keys act elsewhere.
    fn start_task_done(&mut self) {
        let lang = self.lang;
        let Some(role) = self.session.as_ref().map(|s| s.role) else { return };
        if !crate::stationform::role_may_complete(role) {
            let text = format!(
                "{} ({}: {})",
                i18n::ROLE_CANNOT.t(lang),
                i18n::role(role, lang),
                i18n::TASK_DONE_TITLE.t(lang)
            );
            self.say(text, Mark::Bad);
            return;
        }
        if self.sending.is_some() || self.logging.is_some() || self.completing {
            self.say(i18n::SENDING.t(lang), Mark::Warn);
            return;
        }
        let Some(station) = views::stations::focused_station(self).cloned() else {
            self.say(i18n::NO_STATION_SELECTED.t(lang), Mark::Warn);
            return;
        };
        if !self.tasks_focus {
            self.tasks_focus = true;
            self.resync();
            self.say(i18n::PICK_A_TASK.t(lang), Mark::Warn);
            return;
        }
        let task = self.selected_key(ListId::Tasks).and_then(|k| station.tasks.iter().find(|t| t.id == k).cloned());
        match task {
            Some(t) => self.task_form = Some(TaskForm::new(t, format!("{} ({})", station.name, station.id))),
            None => self.say(i18n::NO_TASK_SELECTED.t(lang), Mark::Warn),
        }
    }

    /// The daemon's answer to a task completion.
    fn task_done(&mut self, result: Result<String, mz_shared::reason::Reason>) {
        let lang = self.lang;
        self.completing = false;
        let (title, text, mark) = match result {
            Ok(id) => (i18n::DONE_OK, format!("{}: {id}", i18n::TASK_COMPLETED.t(lang)), Mark::Normal),
            Err(reason) => {
                (i18n::REFUSED, format!("{}: {}", i18n::TASK_DONE_TITLE.t(lang), reason.text(lang)), Mark::Bad)
            }
        };
        self.say(format!("{} {text}", title.t(lang)), mark);
        self.notice = Some((title.t(lang).to_string(), vec![(text, mark)]));
    }

    /// The daemon's answer to a station event.
    fn logged(&mut self, result: Result<String, mz_shared::reason::Reason>) {
        let lang = self.lang;
        let what = self.logging.take().map(|o| o.label().t(lang)).unwrap_or_default();
        match result {
            Ok(record_id) => {
                let text = format!("{what}: {} {record_id}", i18n::LOGGED.t(lang));
                self.say(format!("{} {text}", i18n::DONE_OK.t(lang)), Mark::Normal);
                self.notice = Some((i18n::DONE_OK.t(lang).to_string(), vec![(text, Mark::Normal)]));
            }
            Err(reason) => {
                let text = format!("{what}: {}", reason.text(lang));
                self.say(format!("{} {text}", i18n::REFUSED.t(lang)), Mark::Bad);
                self.notice = Some((i18n::REFUSED.t(lang).to_string(), vec![(text, Mark::Bad)]));
            }
        }
    }

    /// The daemon's answer to a case request.
    fn case_answered(&mut self, result: Result<CaseAnswer, mz_shared::reason::Reason>) {
        let lang = self.lang;
        let op = self.sending.take();
        let what = op.map(|o| o.label().t(lang)).unwrap_or_default();
        match result {
            Ok(answer) => {
                let state = answer.state.map(|s| i18n::case_state(s, lang)).unwrap_or_default();
                let head = format!("{what}: {} {state}", answer.id);
                let mut lines = vec![(head.clone(), Mark::Normal)];
                for w in &answer.warnings {
                    lines.push((format!("! {}: {}", i18n::WARNINGS.t(lang), w.text(lang)), Mark::Warn));
                }
                if answer.pending {
                    lines.push((i18n::NOW_PENDING.t(lang).to_string(), Mark::Warn));
                }
                let mark = if answer.warnings.is_empty() { Mark::Normal } else { Mark::Warn };
                self.say(format!("{} {head}", i18n::DONE_OK.t(lang)), mark);
                self.notice = Some((i18n::DONE_OK.t(lang).to_string(), lines));
                if op == Some(Op::Open) && !answer.id.is_empty() {
                    self.view = View::Cases;
                    // Select the new case; if the pushed dashboard does not hold it yet, the
                    // next one will (the selection follows the key).
                    self.list_mut(ListId::Cases).key = Some(answer.id.clone());
                    if self.table(ListId::Cases).rows.iter().any(|r| r.key == answer.id) {
                        self.resync();
                    }
                }
            }
            Err(reason) => {
                let text = format!("{what}: {}", reason.text(lang));
                self.say(format!("{} {text}", i18n::REFUSED.t(lang)), Mark::Bad);
                self.notice = Some((i18n::REFUSED.t(lang).to_string(), vec![(text, Mark::Bad)]));
            }
        }
    }

    fn ack_selected(&mut self) -> Action {
        let Some(id) = self.selected_key(ListId::Alerts) else {
            self.say(i18n::NOTHING_SELECTED.t(self.lang), Mark::Warn);
            return Action::None;
        };
        let active =
            self.dashboard.as_ref().and_then(|d| d.alerts.iter().find(|a| a.id == id)).is_some_and(|a| a.is_active());
        if !active {
            self.say(i18n::ACK_ALREADY.t(self.lang), Mark::Normal);
            return Action::None;
        }
        self.say(i18n::ACKING.t(self.lang), Mark::Normal);
        Action::Ack(id)
    }

    /// Handles an event of the connection task.
    pub fn on_client(&mut self, ev: ClientEvent) {
        match ev {
            ClientEvent::Connected { user, role } => {
                self.conn = Conn::Connected;
                self.session = Some(Session { user, role });
            }
            ClientEvent::Disconnected { error, attempt } => {
                self.conn = Conn::Disconnected { error, attempt };
            }
            ClientEvent::Dashboard(d) => {
                if self.paused {
                    self.held = Some(d);
                    self.held_count += 1;
                } else {
                    self.dashboard = Some(d);
                    self.resync();
                }
            }
            ClientEvent::CaseResult(result) => self.case_answered(result),
            ClientEvent::LogResult(result) => self.logged(result),
            ClientEvent::Preview { path, lines } => self.set_preview(&path, lines),
            ClientEvent::TaskResult(result) => self.task_done(result),
            ClientEvent::Report(result) => crate::views::report::loaded(self, result),
            ClientEvent::AckResult { id: _, result } => match result {
                Ok(()) => self.say(i18n::ACKED.t(self.lang), Mark::Normal),
                Err(reason) => {
                    let text = format!("{}: {}", i18n::ACK_FAILED.t(self.lang), reason.text(self.lang));
                    self.say(text, Mark::Bad)
                }
            },
        }
    }

    pub fn on_tick(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
    }

    /// Result of reading a rejects file for the preview.
    pub fn set_preview(&mut self, path: &str, lines: Result<Vec<String>, String>) {
        if let Some(p) = self.preview.as_mut().filter(|p| p.path == path) {
            p.lines = Some(lines);
        }
    }

    /// The CSV export of the table on screen: suggested file name and content.
    pub fn export_csv(&self) -> (String, Vec<u8>) {
        if let Some(report) = crate::views::report::export(self).filter(|_| self.view == View::Report) {
            return report;
        }
        let id = self.current_list();
        let t = self.table(id);
        let stamp = jiff::Timestamp::from_millisecond(self.now_ms)
            .map(|t| t.to_zoned(self.zone()).strftime("%Y%m%d-%H%M%S").to_string())
            .unwrap_or_else(|_| "now".into());
        let slug = match id {
            ListId::Residents => "residents",
            ListId::Tasks => "tasks",
            _ => self.view.slug(),
        };
        (format!("mzc-{slug}-{stamp}.csv"), t.to_csv(&self.list(id).filter))
    }

    pub fn export_done(&mut self, result: Result<String, String>) {
        match result {
            Ok(path) => self.say(format!("{} {path}", i18n::EXPORTED.t(self.lang)), Mark::Normal),
            Err(e) => self.say(format!("{}: {e}", i18n::EXPORT_FAILED.t(self.lang)), Mark::Bad),
        }
    }

    /// The registry's zone (from the dashboard), Asia/Shanghai before the first one.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        crate::widgets::text::zone(self.dashboard.as_ref().map_or("Asia/Shanghai", |d| d.timezone.as_str()))
    }
}

/// The key of an ingest row: file name and time, since a name can come back.
pub fn ingest_key(e: &mz_shared::dashboard::IngestEntry) -> String {
    format!("{}@{}", e.name, e.at_ms)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::client::ClientEvent;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use mz_shared::reason::Reason;

    pub fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    pub fn ch(c: char) -> KeyEvent {
        key(KeyCode::Char(c))
    }

    pub fn app_with(d: Dashboard) -> App {
        let mut a = App::new(Lang::Zh, true);
        a.on_client(ClientEvent::Connected { user: "duty1".into(), role: Role::Officer });
        a.on_client(ClientEvent::Dashboard(Box::new(d)));
        a.now_ms = 1_760_000_000_000;
        a
    }

    #[test]
    fn number_keys_and_tab_switch_views() {
        let mut a = app_with(crate::views::tests::sample());
        assert_eq!(a.view, View::Overview);
        a.on_key(ch('3'));
        assert_eq!(a.view, View::Burials);
        a.on_key(key(KeyCode::Tab));
        assert_eq!(a.view, View::Marriages);
        a.on_key(key(KeyCode::BackTab));
        a.on_key(key(KeyCode::BackTab));
        assert_eq!(a.view, View::Stations);
        a.on_key(ch('1'));
        // Entering the report view asks the daemon for the report.
        let asked = a.on_key(key(KeyCode::BackTab));
        assert_eq!(a.view, View::Report);
        assert!(matches!(asked, Action::Report(mz_shared::statistics::PeriodKind::Day, None)));
        a.on_key(key(KeyCode::Tab));
        assert_eq!(a.view, View::Overview);
        a.on_key(ch('8'));
        assert_eq!(a.view, View::Funds);
        a.on_key(ch('9'));
        assert_eq!(a.view, View::Report);
        a.on_key(ch('1'));
        a.on_key(ch('0'));
        assert_eq!(a.view, View::Overview);
    }

    #[test]
    fn moving_and_drilling_into_a_station() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('2'));
        assert_eq!(a.selected_key(ListId::Stations).as_deref(), Some("TZ-JZZ"));
        a.on_key(ch('j'));
        assert_eq!(a.selected_key(ListId::Stations).as_deref(), Some("TZ-P01"));
        a.on_key(key(KeyCode::Up));
        a.on_key(key(KeyCode::Up));
        assert_eq!(a.selected_key(ListId::Stations).as_deref(), Some("TZ-JZZ"));
        a.on_key(key(KeyCode::Enter));
        assert_eq!(a.residents_of.as_deref(), Some("TZ-JZZ"));
        assert_eq!(a.current_list(), ListId::Residents);
        a.on_key(key(KeyCode::Enter));
        assert!(matches!(a.popup, Some(Popup::Detail { list: ListId::Residents, .. })));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.popup, None);
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.residents_of, None);
        assert_eq!(a.current_list(), ListId::Stations);
    }

    #[test]
    fn filter_typing_enter_and_esc() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('2'));
        a.on_key(ch('/'));
        assert!(a.editing_filter);
        for c in "宋庄".chars() {
            a.on_key(ch(c));
        }
        // q while typing is text, not quit.
        a.on_key(ch('q'));
        assert!(!a.quit);
        a.on_key(key(KeyCode::Backspace));
        assert_eq!(a.list(ListId::Stations).filter, "宋庄");
        a.on_key(key(KeyCode::Enter));
        assert!(!a.editing_filter);
        let t = a.table(ListId::Stations);
        assert_eq!(t.filtered(&a.list(ListId::Stations).filter).len(), 1);
        assert_eq!(a.selected_key(ListId::Stations).as_deref(), Some("TZ-P04"));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.list(ListId::Stations).filter, "");
        a.on_key(ch('/'));
        a.on_key(ch('x'));
        a.on_key(key(KeyCode::Esc));
        assert!(!a.editing_filter);
        assert_eq!(a.list(ListId::Stations).filter, "");
    }

    #[test]
    fn help_opens_and_closes() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('?'));
        assert_eq!(a.popup, Some(Popup::Help));
        a.on_key(ch('?'));
        assert_eq!(a.popup, None);
        a.on_key(ch('?'));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.popup, None);
    }

    #[test]
    fn pause_holds_updates_and_resume_shows_the_newest() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('f'));
        assert!(a.paused);
        let mut newer = crate::views::tests::sample();
        newer.rejected_today = 99;
        a.on_client(ClientEvent::Dashboard(Box::new(newer.clone())));
        a.on_client(ClientEvent::Dashboard(Box::new(newer)));
        assert_eq!(a.held_count, 2);
        assert_ne!(a.dashboard.as_ref().unwrap().rejected_today, 99);
        a.on_key(ch('f'));
        assert!(!a.paused);
        assert_eq!(a.dashboard.as_ref().unwrap().rejected_today, 99);
        assert_eq!(a.held_count, 0);
    }

    #[test]
    fn quit_with_q_and_ctrl_c() {
        let mut a = app_with(crate::views::tests::sample());
        assert_eq!(a.on_key(ch('q')), Action::Quit);
        assert!(a.quit);
        let mut a = app_with(crate::views::tests::sample());
        assert_eq!(a.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), Action::Quit);
    }

    #[test]
    fn an_untouched_list_stays_on_its_newest_row() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('5'));
        let mut d = crate::views::tests::sample();
        let mut fresh = d.alerts[0].clone();
        fresh.id = "new-one".into();
        d.alerts.insert(0, fresh);
        a.on_client(ClientEvent::Dashboard(Box::new(d)));
        assert_eq!(a.selected_key(ListId::Alerts).as_deref(), Some("new-one"));
    }

    #[test]
    fn ack_sends_the_selected_active_alert_and_keeps_selection_on_it() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('5'));
        a.on_key(ch('j'));
        let second = a.selected_key(ListId::Alerts).unwrap();
        // A new alert arrives first in the list: the selection stays on the same alert.
        let mut d = crate::views::tests::sample();
        let mut fresh = d.alerts[0].clone();
        fresh.id = "new-one".into();
        d.alerts.insert(0, fresh);
        a.on_client(ClientEvent::Dashboard(Box::new(d)));
        assert_eq!(a.selected_key(ListId::Alerts).unwrap(), second);
        a.on_key(ch('k'));
        a.on_key(ch('k'));
        assert_eq!(a.on_key(ch('a')), Action::Ack("new-one".into()));
        a.on_client(ClientEvent::AckResult {
            id: "new-one".into(),
            result: Err(Reason::new("只读用户不能确认", "viewers cannot acknowledge")),
        });
        assert!(a.message.as_ref().unwrap().text.contains("只读用户不能确认"));
        // An acknowledged alert is not sent again.
        a.on_key(ch('G'));
        assert_eq!(a.on_key(ch('a')), Action::None);
    }

    #[test]
    fn enter_on_an_ingest_row_with_rejects_asks_for_a_preview() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('6'));
        let act = a.on_key(key(KeyCode::Enter));
        assert_eq!(act, Action::Preview("/data/quarantine/admissions/adm-2.csv.rejects.csv".into()));
        a.set_preview("/data/quarantine/admissions/adm-2.csv.rejects.csv", Ok(vec!["line,reason".into()]));
        assert!(a.preview.as_ref().unwrap().lines.is_some());
        a.on_key(key(KeyCode::Esc));
        assert!(a.preview.is_none());
    }

    #[test]
    fn export_names_the_view_and_uses_the_filter() {
        let mut a = app_with(crate::views::tests::sample());
        a.on_key(ch('3'));
        a.on_key(ch('/'));
        for c in "宋庄".chars() {
            a.on_key(ch(c));
        }
        a.on_key(key(KeyCode::Enter));
        assert_eq!(a.on_key(ch('e')), Action::Export);
        let (name, csv) = a.export_csv();
        let csv = String::from_utf8(csv).unwrap();
        assert!(name.starts_with("mzc-burials-") && name.ends_with(".csv"), "{name}");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.contains("宋庄镇公益性墓园"));
    }
}
