//! The console's state (应用状态): the views, the dashboard on screen, the connection, the
//! lists' selections, the popup stack and the request waiting for its answer. Pure: no
//! terminal, no socket, no files. How keys and the daemon's events change it is
//! [`crate::control`]; how it is drawn is [`crate::views`]. This module imports neither.
//!
//! Invariants: at most one request (case, station event, task) is waiting for its answer;
//! popups are a stack whose top takes the keys ([`crate::modal`]).

use crate::caseform::{CaseForm, Op};
use crate::i18n::{self, Lang};
pub(crate) use crate::lists::{ListId, ListState};
pub(crate) use crate::modal::{Modal, Preview};
use crate::stationform::{StationForm, StationOp, TaskForm};
use crate::widgets::{Mark, Theme};
use mz_shared::dashboard::Dashboard;
use mz_shared::registry::Role;

/// The nine views, in navigation order (number keys 1–9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
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

/// The connection to the daemon, as the user sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Conn {
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
pub(crate) struct Session {
    pub user: String,
    pub role: Role,
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
    /// Nothing to do but redraw.
    None,
    /// Leave the console (`q`, `:quit`).
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
pub(crate) struct Message {
    pub text: String,
    pub mark: Mark,
}

/// A request sent to the daemon and not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    Case(Op),
    Log(StationOp),
    Task,
}

/// The console's whole state: the dashboard on screen, the view, lists, popups and connection.
/// Keys and daemon events change it ([`App::on_key`], [`App::on_client`]); the views only read it.
pub struct App {
    pub(crate) lang: Lang,
    pub(crate) theme: Theme,
    pub(crate) view: View,
    /// The dashboard on screen; replaced or changed only through [`App::show_dashboard`] and
    /// [`App::dashboard_mut`], which count the changes in `dashboard_seq`.
    pub(crate) dashboard: Option<Box<Dashboard>>,
    /// Changes of the dashboard on screen: what the overview's kept region is keyed on.
    pub(crate) dashboard_seq: u64,
    /// The overview's parts that do not change with the clock, kept between frames; the value
    /// is where the urgent cases (drawn every frame for their countdowns) go.
    pub(crate) overview_memo: crate::widgets::memo::RegionMemo<Option<ratatui::layout::Rect>>,
    /// The overview's urgent cases, kept while their rows (countdowns to the minute) stay the same.
    pub(crate) urgent_memo: crate::widgets::memo::RegionMemo<()>,
    /// The newest dashboard received while paused, and how many arrived.
    pub(crate) held: Option<Box<Dashboard>>,
    pub(crate) held_count: u32,
    pub(crate) paused: bool,
    pub(crate) conn: Conn,
    pub(crate) session: Option<Session>,
    /// Wall clock, Unix milliseconds (updated by ticks).
    pub now_ms: i64,
    pub(crate) lists: [ListState; ListId::COUNT],
    /// Station id whose residents are shown (drilled in from the stations list).
    pub(crate) residents_of: Option<String>,
    pub(crate) editing_filter: bool,
    /// Popups, the top one last.
    pub(crate) modals: Vec<Modal>,
    pub(crate) message: Option<Message>,
    /// Set when the user quits; `main` then restores the terminal and exits.
    pub quit: bool,
    /// Running on the embedded demo daemon.
    pub demo: bool,
    /// The request sent and not answered yet.
    pub(crate) pending: Option<Pending>,
    /// The case queue also lists closed and referred cases.
    pub(crate) show_ended_cases: bool,
    /// The page of the case queue held, asked from the daemon around the selection.
    pub(crate) cases: crate::casepage::CaseQueue,
    /// In the stations view, the keys act on the station's open tasks (`t` toggles).
    pub(crate) tasks_focus: bool,
    /// The report view's period and the report on screen.
    pub(crate) report: ReportView,
}

/// The report view's own state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReportView {
    pub(crate) kind: mz_shared::statistics::PeriodKind,
    /// The period asked for; `None` until the daemon answered its default (yesterday, last month).
    pub(crate) period: Option<mz_shared::statistics::Period>,
    pub(crate) report: Option<Result<Box<mz_shared::statistics::Report>, String>>,
    pub(crate) loading: bool,
    /// Lines scrolled in the tables.
    pub(crate) scroll: u16,
}

impl Default for ReportView {
    fn default() -> Self {
        ReportView {
            kind: mz_shared::statistics::PeriodKind::Day,
            period: None,
            report: None,
            loading: false,
            scroll: 0,
        }
    }
}

impl App {
    /// A console on the overview, not yet connected, in `lang`; `color` false honours `NO_COLOR`.
    pub fn new(lang: Lang, color: bool) -> App {
        App {
            lang,
            theme: Theme { color },
            view: View::Overview,
            dashboard: None,
            dashboard_seq: 0,
            overview_memo: Default::default(),
            urgent_memo: Default::default(),
            held: None,
            held_count: 0,
            paused: false,
            conn: Conn::Connecting,
            session: None,
            now_ms: 0,
            lists: Default::default(),
            residents_of: None,
            editing_filter: false,
            modals: Vec::new(),
            message: None,
            quit: false,
            demo: false,
            pending: None,
            show_ended_cases: false,
            cases: Default::default(),
            tasks_focus: false,
            report: Default::default(),
        }
    }

    /// Puts `d` on screen.
    pub(crate) fn show_dashboard(&mut self, d: Box<Dashboard>) {
        self.dashboard = Some(d);
        self.dashboard_seq += 1;
    }

    /// The dashboard on screen, to change in place (tests change figures this way).
    #[cfg(test)]
    pub(crate) fn dashboard_mut(&mut self) -> Option<&mut Dashboard> {
        self.dashboard_seq += 1;
        self.dashboard.as_deref_mut()
    }

    /// The list the keys act on in the current view.
    pub(crate) fn current_list(&self) -> ListId {
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

    pub(crate) fn list(&self, id: ListId) -> &ListState {
        &self.lists[id.slot()]
    }

    pub(crate) fn list_mut(&mut self, id: ListId) -> &mut ListState {
        &mut self.lists[id.slot()]
    }

    /// The popup on top, which takes the keys.
    pub fn top(&self) -> Option<&Modal> {
        self.modals.last()
    }

    /// The case form on screen (or under a notice).
    pub fn case_form(&self) -> Option<&CaseForm> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::CaseForm(f) => Some(f.as_ref()),
            _ => None,
        })
    }

    /// The station form on screen.
    pub fn station_form(&self) -> Option<&StationForm> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::StationForm(f) => Some(f.as_ref()),
            _ => None,
        })
    }

    /// The task completion on screen.
    pub fn task_form(&self) -> Option<&TaskForm> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::TaskForm(f) => Some(f.as_ref()),
            _ => None,
        })
    }

    /// The daemon's answer on screen: title and lines.
    pub fn notice(&self) -> Option<(&str, &[(String, Mark)])> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::Notice { title, lines } => Some((title.as_str(), lines.as_slice())),
            _ => None,
        })
    }

    /// The rejects preview of the ingest row in detail.
    pub(crate) fn preview(&self) -> Option<&Preview> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::Detail { preview, .. } => preview.as_ref(),
            _ => None,
        })
    }

    /// Removes the popups `drop` picks.
    pub(crate) fn close(&mut self, drop: impl Fn(&Modal) -> bool) {
        self.modals.retain(|m| !drop(m));
    }

    pub(crate) fn say(&mut self, text: impl Into<String>, mark: Mark) {
        self.message = Some(Message { text: text.into(), mark });
    }

    /// Whether the connected user may complete station tasks (not a viewer; the daemon checks
    /// that station staff complete their own stations' tasks only).
    pub(crate) fn may_complete_tasks(&self) -> bool {
        self.session.as_ref().is_some_and(|s| crate::stationform::role_may_complete(s.role))
    }

    /// Whether the connected user gets the station forms (role `station` or `admin`; the
    /// daemon checks that the station is one of theirs).
    pub(crate) fn may_log(&self) -> bool {
        self.session.as_ref().is_some_and(|s| crate::stationform::role_may_log(s.role))
    }

    /// The page of the case queue to ask the daemon for now, if any: while the case desk is on
    /// screen and the held page does not serve it (see [`crate::casepage`]). `main` sends it
    /// and hands the answer back as `ClientEvent::CasePage`.
    pub fn wanted_case_page(&mut self) -> Option<crate::casepage::Ask> {
        if self.view != View::Cases || self.conn != Conn::Connected {
            return None;
        }
        let changes = self.dashboard.as_ref().map(|d| d.cases_changes);
        let view = crate::casepage::view(self.show_ended_cases);
        let cursor = self.case_cursor();
        self.cases.want(view, cursor, changes)
    }

    /// The queue position of the case desk's selection: where it moved to beyond the held page,
    /// else the selected case's place in the page.
    pub(crate) fn case_cursor(&self) -> u64 {
        if let Some(target) = self.cases.target {
            return target;
        }
        let st = self.list(ListId::Cases);
        let at = st.key.as_ref().and_then(|k| self.cases.cases().iter().position(|c| c.id.as_str() == k));
        self.cases.offset() + at.unwrap_or(st.selected) as u64
    }

    /// A case the console holds (the page of the queue, the overview's urgent cases) by id.
    pub(crate) fn held_case(&self, id: &str) -> Option<&mz_shared::case::Case> {
        self.cases.find(id).or_else(|| self.dashboard.as_ref()?.urgent_cases.iter().find(|c| c.id.as_str() == id))
    }

    /// Every case the console holds, each once: the page of the queue, then the urgent cases
    /// of the overview that are not on it.
    pub(crate) fn held_cases(&self) -> Vec<&mz_shared::case::Case> {
        let mut all: Vec<&mz_shared::case::Case> = self.cases.cases().iter().collect();
        let urgent = self.dashboard.iter().flat_map(|d| d.urgent_cases.iter());
        all.extend(urgent.filter(|c| self.cases.find(c.id.as_str()).is_none()));
        all
    }

    /// The registry's zone (from the dashboard), Asia/Shanghai before the first one.
    pub(crate) fn zone(&self) -> jiff::tz::TimeZone {
        crate::widgets::text::zone(self.dashboard.as_ref().map_or("Asia/Shanghai", |d| d.timezone.as_str()))
    }
}

/// The key of an ingest row: file name and time, since a name can come back.
pub(crate) fn ingest_key(e: &mz_shared::dashboard::IngestEntry) -> String {
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

    /// Answers the console's asks for pages as the daemon would, from `queue`: the open cases
    /// in queue order, then the ended ones latest first (with every payment to their people).
    pub fn serve(a: &mut App, queue: &[mz_shared::case::Case]) {
        use mz_shared::dashboard::{CasePage, CaseQueueView};
        while let Some(ask) = a.wanted_case_page() {
            let view: Vec<_> = queue.iter().filter(|c| ask.view == CaseQueueView::All || !c.is_terminal()).collect();
            let start = usize::try_from(ask.offset).unwrap();
            let cases: Vec<_> = view.iter().skip(start).take(ask.limit as usize).map(|c| (*c).clone()).collect();
            let page = CasePage {
                view: ask.view,
                offset: ask.offset,
                total: view.len() as u64,
                changes: a.dashboard.as_ref().map_or(0, |d| d.cases_changes),
                aid: queue.iter().flat_map(|c| c.aid_records()).collect(),
                cases,
            };
            a.on_client(ClientEvent::CasePage(Ok(page)));
        }
    }

    #[test]
    fn the_case_desk_pages_through_a_queue_longer_than_a_page() {
        use mz_shared::case::{Case, CaseId};
        let base = crate::views::cases::tests::case(4);
        let queue: Vec<Case> = (1..=1_000).map(|n| Case { id: CaseId::new(2025, n), ..base.clone() }).collect();
        let id = |n: u32| Some(CaseId::new(2025, n).to_string());
        let mut d = crate::views::cases::tests::dashboard();
        d.status.cases.open = 1_000;
        let mut a = app_with(d.clone());
        assert_eq!(a.wanted_case_page(), None, "only the case desk asks");
        a.on_key(ch('7'));
        serve(&mut a, &queue);
        assert_eq!((a.selected_key(ListId::Cases), a.cases.offset()), (id(1), 0));
        // Down a row at a time: each case once, the next page asked near the edge of the last.
        for n in 2..=200 {
            a.on_key(ch('j'));
            serve(&mut a, &queue);
            assert_eq!(a.selected_key(ListId::Cases), id(n));
        }
        assert!(a.cases.offset() > 0 && a.cases.holds(199));
        // End: the last page, its last case; the title says where the selection stands.
        a.on_key(key(KeyCode::End));
        assert_eq!(a.cases.target, Some(999), "waiting for the page that holds it");
        serve(&mut a, &queue);
        assert_eq!(a.selected_key(ListId::Cases), id(1_000));
        let screen = crate::views::tests::screen(&a, 160, 48);
        assert!(screen.contains("1000/1000") && screen.contains('┃'), "the position and the scrollbar: {screen}");
        a.on_key(key(KeyCode::PageUp));
        assert_eq!((a.selected_key(ListId::Cases), a.wanted_case_page()), (id(990), None), "within the page");
        // A change elsewhere: the page is asked again and the selection stays on its case.
        d.cases_changes += 1;
        a.on_client(ClientEvent::Dashboard(Box::new(d)));
        assert!(a.wanted_case_page().is_some());
        a.cases.asked = None;
        let mut fewer = queue.clone();
        fewer.remove(0);
        serve(&mut a, &fewer);
        assert_eq!(a.selected_key(ListId::Cases), id(990));
        a.on_key(key(KeyCode::Home));
        serve(&mut a, &fewer);
        assert_eq!((a.selected_key(ListId::Cases), a.cases.offset()), (id(2), 0));
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
        assert!(matches!(a.top(), Some(Modal::Detail { list: ListId::Residents, .. })));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.top(), None);
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
        assert_eq!(a.top(), Some(&Modal::Help { scroll: 0 }));
        a.on_key(ch('?'));
        assert_eq!(a.top(), None);
        a.on_key(ch('?'));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.top(), None);
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
        assert!(a.preview().unwrap().lines.is_some());
        a.on_key(key(KeyCode::Esc));
        assert!(a.preview().is_none());
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

    fn line(a: &mut App, s: &str) -> Action {
        a.on_key(ch(':'));
        for c in s.chars() {
            a.on_key(ch(c));
        }
        a.on_key(key(KeyCode::Enter))
    }

    #[test]
    fn the_command_line_goes_to_views_stations_and_cases() {
        let mut a = app_with(crate::views::tests::sample());
        line(&mut a, "burials");
        assert_eq!((a.view, a.top()), (View::Burials, None));
        line(&mut a, "station tz-p04");
        assert_eq!((a.view, a.residents_of.as_deref()), (View::Stations, Some("TZ-P04")));
        assert_eq!(a.current_list(), ListId::Residents);
        line(&mut a, "station 马驹桥");
        assert_eq!(a.residents_of.as_deref(), Some("TZ-P05"));
        // Unknown: the line stays open with the reason; Esc closes it.
        line(&mut a, "nonsense");
        assert!(matches!(a.top(), Some(Modal::Palette { error: Some(e), .. }) if e.contains("未知命令")));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.top(), None);
        // Tab completes; q typed on the line is text, not quit.
        a.on_key(ch(':'));
        a.on_key(ch('q'));
        assert!(!a.quit);
        a.on_key(key(KeyCode::Tab));
        assert!(matches!(a.top(), Some(Modal::Palette { text, .. }) if text == "quit "));
        assert_eq!(a.on_key(key(KeyCode::Enter)), Action::Quit);
        let mut a = app_with(crate::views::cases::tests::dashboard());
        line(&mut a, "case 3");
        serve(&mut a, &crate::views::cases::tests::queue_cases());
        assert_eq!(a.view, View::Cases);
        assert!(matches!(a.top(), Some(Modal::Case { key, .. }) if key == "JJN-2025-000003"));
        a.on_key(key(KeyCode::Esc));
        line(&mut a, "filter 北苑");
        assert_eq!(a.list(ListId::Cases).filter, "北苑");
    }

    #[test]
    fn popups_stack_and_close_back_to_the_one_below() {
        let mut a = app_with(crate::views::cases::tests::dashboard());
        a.on_client(ClientEvent::Connected { user: "chief".into(), role: Role::Supervisor });
        a.on_key(ch('7'));
        serve(&mut a, &crate::views::cases::tests::queue_cases());
        a.on_key(key(KeyCode::Enter));
        assert!(matches!(a.top(), Some(Modal::Case { .. })));
        a.on_key(ch('n'));
        assert!(a.case_form().is_some());
        assert_eq!(a.modals.len(), 2);
        // Esc leaves the form, back to the case's detail; Esc again to the queue.
        a.on_key(key(KeyCode::Esc));
        assert!(matches!(a.top(), Some(Modal::Case { .. })));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.top(), None);
        // An answer arriving over the help shows on top, and closes first.
        a.on_key(ch('?'));
        a.on_client(ClientEvent::LogResult(Ok("R-1".into())));
        assert!(a.notice().is_some());
        a.on_key(key(KeyCode::Enter));
        assert_eq!(a.top(), Some(&Modal::Help { scroll: 0 }));
    }
}
