//! How the console's state changes (控制): keys (through the key map, the popup on top, the
//! filter or command line being typed), the daemon's events and the clock. Pure: input comes in
//! as key events and [`ClientEvent`]s, side effects go out as [`Action`]s that `main` carries
//! out; everything here is testable without a terminal.
//!
//! Invariants: the top popup takes every key but Ctrl-C; a selection moved by the user stays
//! on the same row (by key) when data changes; a new request is refused while one is pending.

use crate::app::{ingest_key, Action, App, ListId, Modal, Pending, Preview, View};
use crate::caseform::{CaseForm, Op, Outcome};
use crate::client::{CaseAnswer, ClientEvent};
use crate::i18n;
use crate::keymap::{self, Command};
use crate::palette::{self, Run};
use crate::stationform::{StationForm, StationOp, TaskForm};
use crate::views;
use crate::widgets::table::TableData;
use crate::widgets::Mark;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

impl App {
    /// The table of a list, built from the dashboard on screen.
    pub(crate) fn table(&self, id: ListId) -> TableData {
        views::table(self, id)
    }

    /// Key of the selected row of a list (after its filter), if any.
    pub(crate) fn selected_key(&self, id: ListId) -> Option<String> {
        views::selected_key(self, id)
    }

    /// Puts every list's selection back on the row it was on (by key), or clamps it.
    fn resync(&mut self) {
        for id in ListId::ALL {
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
        if id == ListId::Cases && self.list(id).filter.is_empty() && self.cases.total().is_some() {
            return self.move_in_queue(delta);
        }
        let t = self.table(id);
        let rows = t.filtered(&self.list(id).filter);
        if rows.is_empty() {
            return;
        }
        let next = (self.list(id).selected as i64 + delta).clamp(0, rows.len() as i64 - 1) as usize;
        let key = rows[next].key.clone();
        let s = self.list_mut(id);
        s.selected = next;
        s.key = Some(key);
    }

    /// Moves the case desk's selection by `delta` queue positions (clamped to the queue): at
    /// once within the held page; beyond it, once the page holding the position arrives.
    fn move_in_queue(&mut self, delta: i64) {
        let total = self.cases.total().unwrap_or(0);
        if total == 0 {
            return;
        }
        let last = i64::try_from(total - 1).unwrap_or(i64::MAX);
        let cursor = i64::try_from(self.case_cursor()).unwrap_or(i64::MAX);
        let to = cursor.saturating_add(delta).clamp(0, last) as u64;
        self.cases.target = Some(to);
        self.select_target();
    }

    /// Selects the position the selection moved to, once the held page holds it.
    fn select_target(&mut self) {
        let Some(to) = self.cases.target else { return };
        if !self.cases.holds(to) {
            return;
        }
        self.cases.target = None;
        let k = (to - self.cases.offset()) as usize;
        let key = self.cases.cases()[k].id.to_string();
        let s = self.list_mut(ListId::Cases);
        s.selected = k;
        s.key = Some(key);
    }

    /// A page of the case queue arrived: the selection stays on its case when the page holds
    /// it, else on its place in the queue; a move beyond the last page is completed.
    fn case_page_arrived(&mut self, result: Result<mz_shared::dashboard::CasePage, String>) {
        let cursor = self.case_cursor();
        self.cases.received(result);
        let Some(total) = self.cases.total() else { return };
        if let Some(to) = self.cases.target.filter(|t| *t >= total) {
            // The queue shrank below the position moved to: its last case.
            self.cases.target = (to > 0 && total > 0).then(|| total - 1);
        }
        self.select_target();
        let st = self.list(ListId::Cases);
        let held = st.key.as_ref().is_some_and(|k| self.cases.find(k).is_some());
        if !held && self.cases.target.is_none() {
            let len = self.cases.cases().len();
            let k = (cursor.saturating_sub(self.cases.offset()) as usize).min(len.saturating_sub(1));
            self.list_mut(ListId::Cases).selected = k;
        }
        self.resync();
    }

    fn set_view(&mut self, view: View) {
        self.view = view;
        self.close(|m| matches!(m, Modal::Help { .. } | Modal::Detail { .. } | Modal::Case { .. }));
        self.editing_filter = false;
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
            self.filter_key(key.code);
            return Action::None;
        }
        match self.modals.pop() {
            Some(top) => self.modal_key(top, key),
            None => match keymap::command(self.view, key.code) {
                Some(c) => self.run(c),
                None => Action::None,
            },
        }
    }

    fn filter_key(&mut self, code: KeyCode) {
        let id = self.current_list();
        match code {
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
    }

    /// Carries out a command of the key map (or of the command line).
    pub(crate) fn run(&mut self, command: Command) -> Action {
        if matches!(command, Command::Report(_)) && self.view != View::Report {
            self.set_view(View::Report);
        }
        if self.view == View::Report {
            if let Some(action) = crate::views::report::on_command(self, command) {
                return action;
            }
        }
        let action = self.run_command(command);
        // Entering the report view asks the daemon for the report.
        if self.view == View::Report && self.report.report.is_none() && !self.report.loading {
            return crate::views::report::request(self);
        }
        action
    }

    fn run_command(&mut self, command: Command) -> Action {
        match command {
            Command::Quit => {
                self.quit = true;
                return Action::Quit;
            }
            Command::GoView(i) => self.set_view(View::ALL[i]),
            Command::NextView => self.set_view(View::ALL[(self.view.index() + 1) % View::ALL.len()]),
            Command::PrevView => self.set_view(View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()]),
            Command::Move(d) => self.move_selection(d),
            Command::First => self.move_selection(i64::MIN / 2),
            Command::Last => self.move_selection(i64::MAX / 2),
            Command::Open => return self.enter(),
            Command::Back => self.back(),
            Command::Filter => self.editing_filter = true,
            Command::Palette => self.modals.push(Modal::Palette { text: String::new(), error: None }),
            Command::Help => self.modals.push(Modal::Help { scroll: 0 }),
            Command::Pause => self.toggle_pause(),
            Command::Export => return Action::Export,
            Command::Ack => return self.ack_selected(),
            Command::ToggleEnded => {
                self.show_ended_cases = !self.show_ended_cases;
                self.resync();
            }
            Command::ToggleTasks => {
                self.tasks_focus = !self.tasks_focus;
                self.resync();
            }
            Command::TaskDone => self.start_task_done(),
            Command::CaseOp(op) => self.start_op(op, None),
            Command::StationOp(op) => self.start_station_op(op, None),
            Command::Report(_) => {}
        }
        Action::None
    }

    /// A key for the popup `top` (taken off the stack; put back unless the key closes it).
    fn modal_key(&mut self, top: Modal, key: KeyEvent) -> Action {
        let closes = matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace | KeyCode::Char('?'));
        match top {
            Modal::CaseForm(form) => return self.case_form_key(form, key),
            Modal::StationForm(form) => return self.station_form_key(form, key),
            Modal::TaskForm(form) => return self.task_form_key(form, key),
            Modal::Palette { text, error } => return self.palette_key(text, error, key.code),
            Modal::Notice { .. }
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace | KeyCode::Char(' ')) => {}
            Modal::Case { key: case, scroll } => return self.case_detail_key(case, scroll, key.code),
            Modal::Help { scroll } if !closes => return self.help_key(scroll, key.code),
            Modal::Detail { list: ListId::Residents, key: person, .. }
                if matches!(key.code, KeyCode::Char(c) if keymap::station_op(c).is_some()) && self.may_log() =>
            {
                let KeyCode::Char(c) = key.code else { unreachable!("matched a character") };
                self.start_station_op(keymap::station_op(c).expect("checked"), Some(person));
            }
            Modal::Detail { .. } if key.code == KeyCode::Char('q') => return self.run(Command::Quit),
            Modal::Help { .. } | Modal::Detail { .. } if closes => {}
            other => self.modals.push(other),
        }
        Action::None
    }

    /// A key in the help: arrows, pages, Home and End scroll it (up to its last line), `q`
    /// quits; other keys leave it as it is.
    fn help_key(&mut self, scroll: u16, code: KeyCode) -> Action {
        let last = views::help_lines(self).len().saturating_sub(1) as u16;
        let scroll = match code {
            KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
            KeyCode::PageDown => scroll.saturating_add(10),
            KeyCode::PageUp => scroll.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => last,
            KeyCode::Char('q') => return self.run(Command::Quit),
            _ => scroll,
        };
        self.modals.push(Modal::Help { scroll: scroll.min(last) });
        Action::None
    }

    fn case_detail_key(&mut self, case: String, scroll: u16, code: KeyCode) -> Action {
        let scroll = match code {
            KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
            KeyCode::PageDown => scroll.saturating_add(10),
            KeyCode::PageUp => scroll.saturating_sub(10),
            KeyCode::Char('q') => return self.run(Command::Quit),
            KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace | KeyCode::Char('?') => return Action::None,
            _ => scroll,
        };
        self.modals.push(Modal::Case { key: case.clone(), scroll });
        if let Some(op) = if let KeyCode::Char(c) = code { keymap::case_op(c) } else { None } {
            self.start_op(op, Some(case));
        }
        Action::None
    }

    fn case_form_key(&mut self, mut form: Box<CaseForm>, key: KeyEvent) -> Action {
        match form.on_key(key, self.lang) {
            Outcome::Stay => self.modals.push(Modal::CaseForm(form)),
            Outcome::Cancel => {}
            Outcome::Send(request) => {
                self.pending = Some(Pending::Case(form.op));
                self.say(i18n::SENDING.t(self.lang), Mark::Normal);
                return Action::Case(request);
            }
        }
        Action::None
    }

    fn station_form_key(&mut self, mut form: Box<StationForm>, key: KeyEvent) -> Action {
        match form.on_key(key, self.lang) {
            Outcome::Stay => self.modals.push(Modal::StationForm(form)),
            Outcome::Cancel => {}
            Outcome::Send(request) => {
                self.pending = Some(Pending::Log(form.op));
                self.say(i18n::SENDING.t(self.lang), Mark::Normal);
                return Action::Log(request);
            }
        }
        Action::None
    }

    fn task_form_key(&mut self, mut form: Box<TaskForm>, key: KeyEvent) -> Action {
        match form.on_key(key, self.lang) {
            Outcome::Stay => self.modals.push(Modal::TaskForm(form)),
            Outcome::Cancel => {}
            Outcome::Send(request) => {
                self.pending = Some(Pending::Task);
                self.say(i18n::SENDING.t(self.lang), Mark::Normal);
                return Action::Task(request);
            }
        }
        Action::None
    }

    /// A key typed on the `:` line: text, Tab completes, Enter runs, Esc (or Backspace on an
    /// empty line) closes.
    fn palette_key(&mut self, mut text: String, error: Option<String>, code: KeyCode) -> Action {
        match code {
            KeyCode::Esc => return Action::None,
            KeyCode::Backspace if text.is_empty() => return Action::None,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Tab => text = palette::complete(&text).unwrap_or(text),
            KeyCode::Enter => {
                return match palette::parse(&text, self.lang) {
                    Ok(run) => self.run_line(run),
                    Err(e) => {
                        self.modals.push(Modal::Palette { text, error: Some(e) });
                        Action::None
                    }
                }
            }
            KeyCode::Char(c) => text.push(c),
            _ => return self.palette_stays(text, error),
        }
        self.modals.push(Modal::Palette { text, error: None });
        Action::None
    }

    fn palette_stays(&mut self, text: String, error: Option<String>) -> Action {
        self.modals.push(Modal::Palette { text, error });
        Action::None
    }

    /// Carries out a command line.
    fn run_line(&mut self, run: Run) -> Action {
        match run {
            Run::Key(c) => return self.run(c),
            Run::Show(v) => return self.run(Command::GoView(v.index())),
            Run::Filter(text) => {
                let id = self.current_list();
                self.list_mut(id).filter = text;
                self.resync();
            }
            Run::Station(s) => self.show_station(&s),
            Run::Case(c) => self.show_case(&c),
        }
        Action::None
    }

    /// `:station X`: the stations view drilled into the station whose id is `X` (any case) or
    /// whose name contains it.
    fn show_station(&mut self, wanted: &str) {
        let w = wanted.to_lowercase();
        let found = self.dashboard.as_ref().and_then(|d| {
            let by_id = d.stations.iter().find(|s| s.id.to_lowercase() == w);
            by_id.or_else(|| d.stations.iter().find(|s| s.name.contains(wanted))).map(|s| s.id.clone())
        });
        let Some(id) = found else {
            self.say(format!("{}: {wanted}", i18n::NO_SUCH_STATION.t(self.lang)), Mark::Warn);
            return;
        };
        self.set_view(View::Stations);
        self.tasks_focus = false;
        let list = self.list_mut(ListId::Stations);
        list.filter.clear();
        list.key = Some(id.clone());
        self.residents_of = Some(id);
        self.list_mut(ListId::Residents).key = None;
        self.list_mut(ListId::Residents).selected = 0;
        self.resync();
    }

    /// `:case X`: the case desk with the detail of the case whose id is `X` or ends with it.
    fn show_case(&mut self, wanted: &str) {
        let w = wanted.to_uppercase();
        let found = {
            let held = self.held_cases();
            let exact = held.iter().find(|c| c.id.as_str() == w);
            let found = exact.or_else(|| held.iter().find(|c| c.id.as_str().ends_with(&w)));
            found.map(|c| (c.id.to_string(), c.is_terminal()))
        };
        let Some((id, ended)) = found else {
            self.say(format!("{}: {wanted}", i18n::NO_SUCH_CASE.t(self.lang)), Mark::Warn);
            return;
        };
        self.set_view(View::Cases);
        self.show_ended_cases |= ended;
        let list = self.list_mut(ListId::Cases);
        list.filter.clear();
        list.key = Some(id.clone());
        self.resync();
        self.modals.push(Modal::Case { key: id, scroll: 0 });
    }

    fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused {
            if let Some(d) = self.held.take() {
                self.show_dashboard(d);
            }
            self.held_count = 0;
            self.resync();
        }
    }

    fn enter(&mut self) -> Action {
        let id = self.current_list();
        let Some(key) = self.selected_key(id) else { return Action::None };
        match id {
            ListId::Overview => {}
            ListId::Cases => self.modals.push(Modal::Case { key, scroll: 0 }),
            ListId::Stations => {
                self.residents_of = Some(key);
                self.list_mut(ListId::Residents).selected = 0;
                self.list_mut(ListId::Residents).key = None;
                self.resync();
            }
            ListId::Ingest => {
                let note = self
                    .dashboard
                    .as_ref()
                    .and_then(|d| d.ingest.iter().find(|e| e.name == key || ingest_key(e) == key))
                    .and_then(|e| e.note.clone())
                    .filter(|n| n.ends_with(".rejects.csv"));
                let preview = note.clone().map(|path| Preview { path, lines: None });
                self.modals.push(Modal::Detail { list: id, key, preview });
                return note.map_or(Action::None, Action::Preview);
            }
            _ => self.modals.push(Modal::Detail { list: id, key, preview: None }),
        }
        Action::None
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

    /// Whether a request is waiting for its answer (then says so).
    fn busy(&mut self) -> bool {
        if self.pending.is_some() {
            self.say(i18n::SENDING.t(self.lang), Mark::Warn);
        }
        self.pending.is_some()
    }

    /// Says that the user's role cannot do `what`.
    fn refuse_role(&mut self, what: i18n::L) {
        let Some(role) = self.session.as_ref().map(|s| s.role) else { return };
        let lang = self.lang;
        let text = format!("{} ({}: {})", i18n::ROLE_CANNOT.t(lang), i18n::role(role, lang), what.t(lang));
        self.say(text, Mark::Bad);
    }

    /// Opens the form of `op` on `case` (from its detail), else the case selected in the queue.
    fn start_op(&mut self, op: Op, case: Option<String>) {
        let lang = self.lang;
        let Some(role) = self.session.as_ref().map(|s| s.role) else { return };
        if !mz_shared::case::role_allows(role, op.kind()) {
            return self.refuse_role(op.label());
        }
        if self.busy() {
            return;
        }
        let Some(d) = self.dashboard.as_deref() else { return };
        let held = self.held_cases();
        if op == Op::Open {
            let form = CaseForm::new(op, None, d, &held, &[], lang);
            return self.modals.push(Modal::CaseForm(Box::new(form)));
        }
        let key = case.or_else(|| self.selected_key(ListId::Cases));
        let Some(case) = key.and_then(|k| self.held_case(&k)) else {
            return self.say(i18n::NO_CASE_SELECTED.t(lang), Mark::Warn);
        };
        if case.is_terminal() != (op == Op::Reopen) {
            let only_closed = i18n::L("只有已办结的案件可以重新办理", "only a closed case can be reopened");
            let why = if op == Op::Reopen { only_closed } else { i18n::CASE_ENDED_NO_ACTION };
            return self.say(why.t(lang), Mark::Warn);
        }
        if matches!(op, Op::Approve | Op::Reject) && case.pending.is_none() {
            return self.say(i18n::NO_PENDING.t(lang), Mark::Warn);
        }
        let form = CaseForm::new(op, Some(case), d, &held, self.cases.aid(), lang);
        self.modals.push(Modal::CaseForm(Box::new(form)));
    }

    /// Opens the station form of `op` at the station in view; a discharge or an incident is for
    /// `person` (from the resident detail) or the selected resident.
    fn start_station_op(&mut self, op: StationOp, person: Option<String>) {
        let lang = self.lang;
        if !self.may_log() {
            return self.refuse_role(op.label());
        }
        if self.busy() {
            return;
        }
        let Some(station) = views::stations::focused_station(self).cloned() else {
            return self.say(i18n::NO_STATION_SELECTED.t(lang), Mark::Warn);
        };
        let Some(d) = self.dashboard.as_deref() else { return };
        let resident = if op.needs_resident() {
            let key = person.or_else(|| self.residents_of.as_ref().and_then(|_| self.selected_key(ListId::Residents)));
            match key.and_then(|k| station.residents.iter().find(|r| r.person_ref == k)) {
                Some(r) => Some(r.clone()),
                None => return self.say(i18n::NO_RESIDENT_SELECTED.t(lang), Mark::Warn),
            }
        } else {
            None
        };
        let form = StationForm::new(op, &station.id, resident.as_ref(), d, self.now_ms, lang);
        self.modals.push(Modal::StationForm(Box::new(form)));
    }

    /// Opens the completion of the selected task of the station in view; the first `d` moves
    /// to the task list when the keys act elsewhere.
    fn start_task_done(&mut self) {
        let lang = self.lang;
        if self.session.is_none() {
            return;
        }
        if !self.may_complete_tasks() {
            return self.refuse_role(i18n::TASK_DONE_TITLE);
        }
        if self.busy() {
            return;
        }
        let Some(station) = views::stations::focused_station(self).cloned() else {
            return self.say(i18n::NO_STATION_SELECTED.t(lang), Mark::Warn);
        };
        if !self.tasks_focus {
            self.tasks_focus = true;
            self.resync();
            return self.say(i18n::PICK_A_TASK.t(lang), Mark::Warn);
        }
        let task = self.selected_key(ListId::Tasks).and_then(|k| station.tasks.iter().find(|t| t.id == k).cloned());
        match task {
            Some(t) => {
                let form = TaskForm::new(t, format!("{} ({})", station.name, station.id));
                self.modals.push(Modal::TaskForm(Box::new(form)));
            }
            None => self.say(i18n::NO_TASK_SELECTED.t(lang), Mark::Warn),
        }
    }

    /// Shows the daemon's answer on top, and in the status bar.
    fn answer(&mut self, ok: bool, lines: Vec<(String, Mark)>, status: (String, Mark)) {
        let title = if ok { i18n::DONE_OK } else { i18n::REFUSED };
        self.say(format!("{} {}", title.t(self.lang), status.0), status.1);
        self.modals.push(Modal::Notice { title: title.t(self.lang).to_string(), lines });
    }

    /// The daemon's answer to a task completion.
    fn task_done(&mut self, result: Result<String, mz_shared::reason::Reason>) {
        let lang = self.lang;
        self.pending = None;
        let (ok, text, mark) = match result {
            Ok(id) => (true, format!("{}: {id}", i18n::TASK_COMPLETED.t(lang)), Mark::Normal),
            Err(reason) => (false, format!("{}: {}", i18n::TASK_DONE_TITLE.t(lang), reason.text(lang)), Mark::Bad),
        };
        self.answer(ok, vec![(text.clone(), mark)], (text, mark));
    }

    /// The daemon's answer to a station event.
    fn logged(&mut self, result: Result<String, mz_shared::reason::Reason>) {
        let lang = self.lang;
        let what = match self.pending.take() {
            Some(Pending::Log(op)) => op.label().t(lang),
            _ => "",
        };
        let (ok, text, mark) = match result {
            Ok(record_id) => (true, format!("{what}: {} {record_id}", i18n::LOGGED.t(lang)), Mark::Normal),
            Err(reason) => (false, format!("{what}: {}", reason.text(lang)), Mark::Bad),
        };
        self.answer(ok, vec![(text.clone(), mark)], (text, mark));
    }

    /// The daemon's answer to a case request.
    fn case_answered(&mut self, result: Result<CaseAnswer, mz_shared::reason::Reason>) {
        let lang = self.lang;
        let op = match self.pending.take() {
            Some(Pending::Case(op)) => Some(op),
            _ => None,
        };
        let what = op.map(|o| o.label().t(lang)).unwrap_or_default();
        let answer = match result {
            Ok(a) => a,
            Err(reason) => {
                let text = format!("{what}: {}", reason.text(lang));
                return self.answer(false, vec![(text.clone(), Mark::Bad)], (text, Mark::Bad));
            }
        };
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
        if op == Some(Op::Open) && !answer.id.is_empty() {
            self.view = View::Cases;
            // Select the new case; if the pushed dashboard does not hold it yet, the next one
            // will (the selection follows the key).
            self.list_mut(ListId::Cases).key = Some(answer.id.clone());
            if self.table(ListId::Cases).rows.iter().any(|r| r.key == answer.id) {
                self.resync();
            }
        }
        self.answer(true, lines, (head, mark));
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
                self.conn = crate::app::Conn::Connected;
                self.cases.stale = true;
                self.session = Some(crate::app::Session { user, role });
            }
            ClientEvent::Disconnected { error, attempt } => {
                self.conn = crate::app::Conn::Disconnected { error, attempt };
            }
            ClientEvent::Dashboard(d) => {
                if self.paused {
                    self.held = Some(d);
                    self.held_count += 1;
                } else {
                    self.show_dashboard(d);
                    self.resync();
                }
            }
            ClientEvent::CaseResult(result) => self.case_answered(result),
            ClientEvent::LogResult(result) => self.logged(result),
            ClientEvent::Preview { path, lines } => self.set_preview(&path, lines),
            ClientEvent::TaskResult(result) => self.task_done(result),
            ClientEvent::Report(result) => crate::views::report::loaded(self, result),
            ClientEvent::CasePage(result) => self.case_page_arrived(result),
            ClientEvent::AckResult { id: _, result } => match result {
                Ok(()) => self.say(i18n::ACKED.t(self.lang), Mark::Normal),
                Err(reason) => {
                    let text = format!("{}: {}", i18n::ACK_FAILED.t(self.lang), reason.text(self.lang));
                    self.say(text, Mark::Bad)
                }
            },
        }
    }

    /// Moves the console's clock to `now_ms` (Unix milliseconds): countdowns and ages follow it.
    pub fn on_tick(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
    }

    /// Result of reading a rejects file for the preview.
    pub(crate) fn set_preview(&mut self, path: &str, lines: Result<Vec<String>, String>) {
        let waiting = self.modals.iter_mut().rev().find_map(|m| match m {
            Modal::Detail { preview: Some(p), .. } if p.path == path => Some(p),
            _ => None,
        });
        if let Some(p) = waiting {
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

    /// Says in the status bar where the export was written, or why it failed.
    pub fn export_done(&mut self, result: Result<String, String>) {
        match result {
            Ok(path) => self.say(format!("{} {path}", i18n::EXPORTED.t(self.lang)), Mark::Normal),
            Err(e) => self.say(format!("{}: {e}", i18n::EXPORT_FAILED.t(self.lang)), Mark::Bad),
        }
    }
}
