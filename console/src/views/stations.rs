//! View 2, 救助站 Stations: the bed board of every station and temporary point; drilling into
//! one (Enter) lists its residents (days in station, flags, long stays marked in text), beside
//! its open station tasks (在站事项: due time and countdown, overdue ones marked red; `t` moves
//! the keys there, `d` completes the selected one) and its recent events (incidents marked).

use super::{block, kv};
use crate::app::{App, ListId, View};
use crate::i18n::{self, Lang};
use crate::keymap::{self, Command};
use crate::stationform::{StationForm, StationOp, TaskForm};
use crate::widgets::bar::fill_bar;
use crate::widgets::form::{self, Popup};
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::text::{fit, short_time, time};
use crate::widgets::Mark;
use mz_shared::dashboard::{ResidentRow, StationBoard};
use mz_shared::records::{EventKind, Flag};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// `[#####.....] 23/50`, with `!` when over capacity.
pub fn beds_cell(b: &StationBoard) -> String {
    let over = if b.occupied > b.beds { "!" } else { "" };
    format!("{} {}/{}{over}", fill_bar(b.occupied, b.beds, 12), b.occupied, b.beds)
}

/// The bed board: one row per station (key: station id).
pub fn station_table(app: &App) -> TableData {
    let lang = app.lang;
    let Some(d) = &app.dashboard else { return TableData::default() };
    let columns = vec![
        Column::left(i18n::STATION.t(lang), 8, 20),
        Column::left(i18n::KIND.t(lang), 4, 8),
        Column::left(i18n::BEDS.t(lang), 18, 22),
        Column::right(i18n::ADMITS_TODAY.t(lang), 3, 8),
        Column::right(i18n::DISCHARGES_TODAY.t(lang), 3, 9),
        Column::right(i18n::LONG_STAYS.t(lang), 3, 10),
        Column::right(i18n::OPEN_INCIDENTS.t(lang), 3, 9),
    ];
    let rows = d
        .stations
        .iter()
        .map(|b| {
            let mark = if b.occupied > b.beds {
                Mark::Bad
            } else if b.long_stays > 0 || b.open_incidents > 0 {
                Mark::Warn
            } else {
                Mark::Normal
            };
            TableRow::new(
                b.id.clone(),
                vec![
                    b.name.clone(),
                    i18n::station_kind(b.kind, lang).to_string(),
                    beds_cell(b),
                    b.today.admits.to_string(),
                    b.today.discharges.to_string(),
                    b.long_stays.to_string(),
                    b.open_incidents.to_string(),
                ],
            )
            .mark(mark)
        })
        .collect();
    TableData { columns, rows }
}

/// The station whose residents are shown: the drilled-into one, else the selected one.
pub fn focused_station(app: &App) -> Option<&StationBoard> {
    let d = app.dashboard.as_ref()?;
    let id = app.residents_of.clone().or_else(|| super::selected_key(app, ListId::Stations))?;
    d.stations.iter().find(|s| s.id == id)
}

/// Textual marks of a resident: long stay first, then flags, incidents, unidentified.
pub fn marks(r: &ResidentRow, lang: Lang) -> String {
    let mut m = Vec::new();
    if r.long_stay {
        m.push(format!("[{}]", i18n::LONG_STAY_MARK.t(lang)));
    }
    m.extend(r.flags.iter().map(|f| i18n::flag(*f, lang)));
    if r.incidents > 0 {
        m.push(format!("{}x{}", i18n::INCIDENT_MARK.t(lang), r.incidents));
    }
    if r.unidentified {
        m.push(i18n::UNIDENTIFIED.t(lang).to_string());
    }
    m.join(" ")
}

/// Residents of the focused station (key: person_ref).
pub fn resident_table(app: &App) -> TableData {
    let lang = app.lang;
    let columns = vec![
        Column::left(i18n::PERSON.t(lang), 6, 14),
        Column::left(i18n::NAME.t(lang), 4, 10),
        Column::left(i18n::GENDER.t(lang), 3, 4),
        Column::right(i18n::AGE.t(lang), 3, 4),
        Column::left(i18n::BED.t(lang), 3, 6),
        Column::right(i18n::DAYS.t(lang), 4, 8),
        Column::left(i18n::MARKS.t(lang), 8, 60).shrink_first(),
    ];
    let Some(s) = focused_station(app) else { return TableData { columns, rows: vec![] } };
    let rows = s
        .residents
        .iter()
        .map(|r| {
            let mark = if r.long_stay || r.incidents > 0 {
                Mark::Bad
            } else if r.flags.iter().any(|f| matches!(f, Flag::Minor | Flag::Mental | Flag::Ill | Flag::Pregnant)) {
                Mark::Warn
            } else {
                Mark::Normal
            };
            TableRow::new(
                r.person_ref.clone(),
                vec![
                    r.person_ref.clone(),
                    r.name.clone().unwrap_or_else(|| "-".into()),
                    r.gender.map_or("-".into(), |g| i18n::gender(g, lang)),
                    r.age.map_or("-".into(), |a| a.to_string()),
                    r.bed.clone().unwrap_or_else(|| "-".into()),
                    r.days.to_string(),
                    marks(r, lang),
                ],
            )
            .mark(mark)
        })
        .collect();
    TableData { columns, rows }
}

fn events_table(app: &App, s: &StationBoard) -> TableData {
    let lang = app.lang;
    let tz = app.zone();
    let columns = vec![
        Column::left(i18n::TIME.t(lang), 11, 11),
        Column::left(i18n::EVENT.t(lang), 4, 10),
        Column::left(i18n::PERSON.t(lang), 6, 14),
        Column::left(i18n::DETAIL.t(lang), 4, 30).shrink_first(),
    ];
    let rows = s
        .recent
        .iter()
        .map(|e| {
            let mark = if e.event == EventKind::Incident { Mark::Bad } else { Mark::Normal };
            let ev = if e.event == EventKind::Incident {
                format!("!{}", i18n::event_kind(e.event, lang))
            } else {
                i18n::event_kind(e.event, lang)
            };
            TableRow::new(
                e.record_id.clone(),
                vec![
                    short_time(e.at_ms, &tz),
                    ev,
                    e.person_ref.clone(),
                    e.detail.as_deref().map_or(String::new(), |x| i18n::event_detail(e.event, x, lang)),
                ],
            )
            .mark(mark)
        })
        .collect();
    TableData { columns, rows }
}

/// Open tasks of the focused station, soonest due first (key: task id): kind, person, due time
/// and the time left, overdue ones marked bad.
pub fn task_table(app: &App) -> TableData {
    let lang = app.lang;
    let tz = app.zone();
    let columns = vec![
        Column::left(i18n::TASK.t(lang), 8, 14),
        Column::left(i18n::PERSON.t(lang), 4, 14).shrink_first(),
        Column::left(i18n::DUE.t(lang), 11, 11),
        Column::left(i18n::TIME_LEFT.t(lang), 12, 14),
    ];
    let Some(s) = focused_station(app) else { return TableData { columns, rows: vec![] } };
    let rows = s
        .tasks
        .iter()
        .map(|t| {
            let (left, mark) = countdown(app, t.due_at_ms);
            TableRow::new(
                t.id.clone(),
                vec![i18n::task_kind(t.kind, lang), t.person_ref.clone(), short_time(t.due_at_ms, &tz), left],
            )
            .mark(mark)
        })
        .collect();
    TableData { columns, rows }
}

/// `剩 5时` before the due time, `[超时] 3时` (bad) after it.
fn countdown(app: &App, due_ms: i64) -> (String, Mark) {
    let lang = app.lang;
    if app.now_ms > due_ms {
        (format!("{} {}", i18n::OVERDUE_MARK.t(lang), super::cases::span(app.now_ms - due_ms, lang)), Mark::Bad)
    } else {
        (format!("{} {}", i18n::LEFT.t(lang), super::cases::span(due_ms - app.now_ms, lang)), Mark::Normal)
    }
}

/// Detail of an open task of the focused station.
pub fn task_detail(app: &App, key: &str) -> Option<(String, Vec<Line<'static>>)> {
    let lang = app.lang;
    let theme = app.theme;
    let s = focused_station(app)?;
    let t = s.tasks.iter().find(|t| t.id == key)?;
    let tz = app.zone();
    let (left, mark) = countdown(app, t.due_at_ms);
    let lines = vec![
        kv(i18n::TASK.t(lang), i18n::task_kind(t.kind, lang), Mark::Normal, theme),
        kv("ID", t.id.clone(), Mark::Normal, theme),
        kv(i18n::STATION.t(lang), s.name.clone(), Mark::Normal, theme),
        kv(i18n::PERSON.t(lang), t.person_ref.clone(), Mark::Normal, theme),
        kv(i18n::DUE.t(lang), format!("{}  {left}", time(t.due_at_ms, &tz, "%Y-%m-%d %H:%M")), mark, theme),
    ];
    Some((format!("{} {}", i18n::TASK.t(lang), i18n::task_kind(t.kind, lang)), lines))
}

/// The keys of the view: the station staff's (`i` arrival, `o` discharge, `x` incident) for
/// roles that log, then the tasks' (`t` to the task list, `d` complete) for roles that may.
pub fn key_line(app: &App) -> Option<Line<'static>> {
    if !app.may_log() && !app.may_complete_tasks() {
        return None;
    }
    let lang = app.lang;
    let theme = app.theme;
    let mut spans = vec![Span::styled(format!(" {}:", i18n::ACTIONS.t(lang)), theme.dim())];
    let mut keys: Vec<(String, &str)> = Vec::new();
    if app.may_log() {
        keys.extend(StationOp::ALL.iter().map(|o| (keymap::station_key(*o).to_string(), o.label().t(lang))));
    }
    keys.push((keymap::key_of(View::Stations, Command::ToggleTasks), i18n::KEY_TASKS_SHORT.t(lang)));
    keys.push((keymap::key_of(View::Stations, Command::TaskDone), i18n::KEY_TASK_DONE_SHORT.t(lang)));
    for (k, label) in keys {
        spans.push(Span::styled(format!(" {k}"), theme.warn()));
        spans.push(Span::raw(format!(" {label}")));
    }
    Some(Line::from(spans))
}

/// The completion of a task, as a popup: what will be recorded and the note being typed.
pub fn render_task_form(buf: &mut Buffer, area: Rect, app: &App, f: &TaskForm) {
    let lang = app.lang;
    let context = f.confirmation(lang).into_iter().map(|l| (l, Mark::Normal)).collect();
    let popup = Popup { title: i18n::TASK_DONE_TITLE.t(lang), context, footer: i18n::TASK_DONE_KEYS.t(lang) };
    form::render(buf, area, &f.form, popup, lang, app.theme);
}

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let area = match key_line(app) {
        Some(line) => {
            let [main, keys] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
            Paragraph::new(line).render(keys, buf);
            main
        }
        None => area,
    };
    let lang = app.lang;
    let theme = app.theme;
    let drilled = app.residents_of.is_some();
    let stations = station_table(app);
    let top_h = if drilled { 3 } else { (stations.rows.len() as u16 + 3).min(area.height / 2).max(5) };
    let [top, bottom] = Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
    if drilled {
        let b = block(i18n::STATION.t(lang), theme, false);
        let inner = b.inner(top);
        b.render(top, buf);
        if let Some(s) = focused_station(app) {
            let line = Line::from(vec![
                Span::styled(format!("{} ", s.name), theme.title()),
                Span::raw(format!(
                    " {} {}  {} {}  {} {}  {} {}  {} {}  {} {}",
                    i18n::BEDS.t(lang),
                    beds_cell(s),
                    i18n::ADMITS_TODAY.t(lang),
                    s.today.admits,
                    i18n::DISCHARGES_TODAY.t(lang),
                    s.today.discharges,
                    i18n::INCIDENTS_TODAY.t(lang),
                    s.today.incidents,
                    i18n::LONG_STAYS.t(lang),
                    s.long_stays,
                    i18n::OPEN_INCIDENTS.t(lang),
                    s.open_incidents
                )),
            ]);
            Paragraph::new(line).render(inner, buf);
        }
    } else {
        let st = app.list(ListId::Stations);
        let title = format!("{}  ({})", i18n::STATIONS_BEDS.t(lang), i18n::ENTER_RESIDENTS.t(lang));
        table::render(
            buf,
            top,
            block(&title, theme, true),
            &stations,
            &st.filter,
            Some(st.selected),
            theme,
            i18n::NONE.t(lang),
        );
    }
    let wide = area.width >= 120;
    let [res_area, task_area, ev_area] = if wide {
        let [left, right] = Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
        let [tasks, events] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);
        [left, tasks, events]
    } else {
        let [top, lower] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
        let [tasks, events] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lower);
        [top, tasks, events]
    };
    render_tasks(buf, task_area, app);
    let station = focused_station(app);
    let name = station.map_or(String::new(), |s| s.name.clone());
    let residents = resident_table(app);
    let rs = app.list(ListId::Residents);
    let title = format!("{} - {} ({})", i18n::RESIDENTS.t(lang), fit(&name, 24), residents.rows.len());
    let residents_focus = drilled && !app.tasks_focus;
    let (filter, sel) = if residents_focus { (rs.filter.as_str(), Some(rs.selected)) } else { ("", None) };
    table::render(
        buf,
        res_area,
        block(&title, theme, residents_focus),
        &residents,
        filter,
        sel,
        theme,
        i18n::NO_RESIDENTS.t(lang),
    );
    let events = station.map(|s| events_table(app, s)).unwrap_or_default();
    let title = format!("{} - {}", i18n::RECENT_EVENTS.t(lang), fit(&name, 24));
    table::render(buf, ev_area, block(&title, theme, false), &events, "", None, theme, i18n::NO_EVENTS.t(lang));
}

/// The open tasks of the focused station, with the selection while the keys act on them.
fn render_tasks(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let tasks = task_table(app);
    let overdue = tasks.rows.iter().filter(|r| r.mark == Mark::Bad).count();
    let mut title = format!("{} ({})", i18n::TASKS.t(lang), tasks.rows.len());
    if overdue > 0 {
        title.push_str(&format!(" {} {overdue}", i18n::OVERDUE_MARK.t(lang)));
    }
    let st = app.list(ListId::Tasks);
    let (filter, sel) = if app.tasks_focus { (st.filter.as_str(), Some(st.selected)) } else { ("", None) };
    let b = block(&title, app.theme, app.tasks_focus);
    table::render(buf, area, b, &tasks, filter, sel, app.theme, i18n::NO_TASKS.t(lang));
}

/// Detail of a resident of the focused station.
pub fn detail(app: &App, key: &str) -> Option<(String, Vec<Line<'static>>)> {
    let lang = app.lang;
    let theme = app.theme;
    let s = focused_station(app)?;
    let r = s.residents.iter().find(|r| r.person_ref == key)?;
    let tz = app.zone();
    let mark = if r.long_stay { Mark::Bad } else { Mark::Normal };
    let mut lines = vec![
        kv(i18n::STATION.t(lang), s.name.clone(), Mark::Normal, theme),
        kv(i18n::PERSON.t(lang), r.person_ref.clone(), Mark::Normal, theme),
        kv(i18n::NAME.t(lang), r.name.clone().unwrap_or_else(|| "-".into()), Mark::Normal, theme),
        kv(i18n::GENDER.t(lang), r.gender.map_or("-".into(), |g| i18n::gender(g, lang)), Mark::Normal, theme),
        kv(i18n::AGE.t(lang), r.age.map_or("-".into(), |a| a.to_string()), Mark::Normal, theme),
        kv(i18n::BED.t(lang), r.bed.clone().unwrap_or_else(|| "-".into()), Mark::Normal, theme),
        kv(i18n::ADMITTED_AT.t(lang), time(r.admitted_at_ms, &tz, "%Y-%m-%d %H:%M"), Mark::Normal, theme),
        kv(i18n::DAYS.t(lang), r.days.to_string(), mark, theme),
        kv(i18n::MARKS.t(lang), marks(r, lang), mark, theme),
    ];
    let events: Vec<Line<'static>> = s
        .recent
        .iter()
        .filter(|e| e.person_ref == r.person_ref)
        .map(|e| {
            Line::raw(format!(
                "  {} {} {}",
                short_time(e.at_ms, &tz),
                i18n::event_kind(e.event, lang),
                e.detail.as_deref().map_or(String::new(), |x| i18n::event_detail(e.event, x, lang))
            ))
        })
        .collect();
    if !events.is_empty() {
        lines.push(Line::styled(i18n::RECENT_EVENTS.t(lang), theme.dim()));
        lines.extend(events);
    }
    Some((format!("{} {}", i18n::RESIDENTS.t(lang), r.person_ref), lines))
}

/// The station form, or its confirmation, as a popup (the one form widget): the resident
/// acted on above the fields.
pub fn render_form(buf: &mut Buffer, area: Rect, app: &App, f: &StationForm) {
    let lang = app.lang;
    let context: Vec<(String, Mark)> = f
        .resident
        .iter()
        .map(|r| {
            let name = r.name.clone().unwrap_or_else(|| i18n::NAMELESS.t(lang).to_string());
            (format!("{} {name}  {}", r.person_ref, f.station()), Mark::Dim)
        })
        .collect();
    if f.form.confirming {
        let title = format!("{}: {}", i18n::CONFIRM_TITLE.t(lang), f.op.label().t(lang));
        let popup = Popup { title: &title, context, footer: i18n::CONFIRM_KEYS.t(lang) };
        form::render_confirmation(buf, area, popup, &f.confirmation(lang), app.theme);
    } else {
        let popup = Popup { title: f.op.label().t(lang), context, footer: i18n::FORM_KEYS.t(lang) };
        form::render(buf, area, &f.form, popup, lang, app.theme);
    }
}
