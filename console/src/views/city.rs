//! The city console (市级总览, SPEC §9): what `mzc --socket <city socket>` shows.
//!
//! [`CityApp`] is the state (the last city status, the selected district, the drill-down) and
//! its keys; [`render`] draws it: a row per district (beds and occupancy, arrivals today, open
//! and overdue cases, overdue tasks, active alerts, last seq and last event time; a district
//! that stopped publishing is marked stale, its last event time saying since when),
//! and for one district its stations, sites, offices and cases by street; under the districts,
//! the city's own cross-district alerts (跨区告警), active first. Pure: no I/O; times are shown
//! in Asia/Shanghai; labels are in [`crate::i18n`].

use crate::i18n::{self, Lang, L};
use crate::widgets::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use mz_shared::city::{CityStatus, DistrictEntry};
use mz_shared::cross_district::CityAlert;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Widget};

/// The city console's state.
#[derive(Debug)]
pub struct CityApp {
    /// The language of the labels.
    pub lang: Lang,
    /// Styles, with or without colour.
    pub theme: Theme,
    /// The latest city status (SPEC §9); `None` until the first arrives.
    pub status: Option<CityStatus>,
    /// Why the last status could not be had, while it cannot.
    pub error: Option<String>,
    /// Index of the selected district row.
    pub selected: usize,
    /// The district drilled into.
    pub drill: Option<usize>,
    /// Set by `q`; the loop then exits.
    pub quit: bool,
    /// Wall clock, Unix milliseconds, set by the loop each turn.
    pub now_ms: i64,
    /// The city's own alerts (cross-district checks), active first.
    pub alerts: Vec<CityAlert>,
}

impl CityApp {
    /// A city console in `lang`, before the first status.
    pub fn new(lang: Lang, theme: Theme) -> CityApp {
        CityApp {
            lang,
            theme,
            status: None,
            error: None,
            selected: 0,
            drill: None,
            quit: false,
            now_ms: 0,
            alerts: Vec::new(),
        }
    }

    /// The city's alerts as last asked for.
    pub fn on_alerts(&mut self, alerts: Vec<CityAlert>) {
        self.alerts = alerts;
    }

    /// Shows a new status and clears the error, keeping the selection within the districts.
    pub fn on_status(&mut self, status: CityStatus) {
        self.selected = self.selected.min(status.districts.len().saturating_sub(1));
        self.status = Some(status);
        self.error = None;
    }

    /// `j`/`k` or arrows select a district, Enter drills in, Esc or Backspace back, `q` quits.
    pub fn on_key(&mut self, key: KeyEvent) {
        let n = self.status.as_ref().map_or(0, |s| s.districts.len());
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Down | KeyCode::Char('j') if n > 0 => self.selected = (self.selected + 1).min(n - 1),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Enter if n > 0 => self.drill = Some(self.selected),
            KeyCode::Esc | KeyCode::Backspace => self.drill = None,
            _ => {}
        }
    }
}

/// `2026-12-01T03:40:00Z` as `12-01 11:40` in Asia/Shanghai.
fn local(at: &str) -> String {
    let Ok(ts) = at.parse::<jiff::Timestamp>() else { return at.to_owned() };
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(tz).strftime("%m-%d %H:%M:%S").to_string()
}

fn district_row<'a>(d: &DistrictEntry, lang: Lang) -> Row<'a> {
    let f = &d.figures;
    let beds: u64 = f.stations.iter().map(|s| u64::from(s.beds)).sum();
    let occupied: u64 = f.stations.iter().map(|s| u64::from(s.occupied)).sum();
    let last = d.last_event_at.as_deref().map_or_else(|| i18n::CITY_NEVER.t(lang).to_owned(), local);
    let state = match (d.stale_for_s, &d.last_event_at) {
        (Some(_), Some(_)) => i18n::CITY_STALE.t(lang).to_owned(),
        (None, Some(_)) => i18n::CITY_OK.t(lang).to_owned(),
        (_, None) => i18n::CITY_NEVER.t(lang).to_owned(),
    };
    Row::new(vec![
        format!("{} {}", d.code, d.name),
        beds.to_string(),
        occupied.to_string(),
        d.detail.arrivals_today.to_string(),
        format!("{}/{}", f.cases.open, f.cases.overdue),
        f.tasks.overdue.to_string(),
        f.alerts.active.to_string(),
        d.last_seq.to_string(),
        last,
        state,
    ])
}

/// Draws the city console into `area`.
pub fn render(buf: &mut Buffer, area: Rect, app: &CityApp) {
    let lang = app.lang;
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(2), Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let Some(status) = &app.status else {
        let text = app.error.clone().unwrap_or_else(|| i18n::CONNECTING.t(lang).to_owned());
        Paragraph::new(text).render(body, buf);
        return;
    };
    let t = &status.totals;
    let title = format!(
        "{} {} — {} {}/{}  {} {}/{}  {} {}",
        status.name,
        i18n::CITY_TITLE.t(lang),
        i18n::CITY_BEDS.t(lang),
        t.occupied,
        t.beds,
        i18n::CITY_CASES.t(lang),
        t.cases.open,
        t.cases.overdue,
        i18n::CITY_ALERTS.t(lang),
        t.alerts.active + status.alerts.active
    );
    let mut lines = vec![Line::styled(title, app.theme.title())];
    if let Some(p) = status.problems.first() {
        lines.push(Line::styled(p.clone(), app.theme.bad()));
    }
    Paragraph::new(lines).render(head, buf);
    match app.drill.and_then(|i| status.districts.get(i)) {
        Some(d) => render_district(buf, body, d, app),
        None => render_overview(buf, body, status, app),
    }
    Paragraph::new(Line::styled(i18n::CITY_KEYS.t(lang), app.theme.dim())).render(foot, buf);
}

/// Rows of the alerts pane at most.
const ALERT_ROWS: usize = 8;

/// The city's alerts under the districts: active ones first, kind, time and message.
fn render_alerts(buf: &mut Buffer, area: Rect, app: &CityApp) {
    let lang = app.lang;
    let active = app.alerts.iter().filter(|a| a.is_active()).count();
    let title = format!("{} ({} {})", i18n::CITY_CROSS_ALERTS.t(lang), active, i18n::CITY_ALERT_ACTIVE.t(lang));
    let block = Block::default().borders(Borders::TOP).title(title);
    if app.alerts.is_empty() {
        Paragraph::new(i18n::CITY_NO_ALERTS.t(lang)).block(block).render(area, buf);
        return;
    }
    let rows = app.alerts.iter().take(ALERT_ROWS).map(|a| {
        let state = if a.is_active() { i18n::CITY_ALERT_ACTIVE } else { i18n::CITY_ALERT_ACKED };
        let raised =
            jiff::Timestamp::from_millisecond(a.raised_at_ms).map(|t| local(&t.to_string())).unwrap_or_default();
        let row = Row::new(vec![
            state.t(lang).to_owned(),
            i18n::city_alert_kind(a.kind, lang).to_owned(),
            raised,
            a.message.text(lang).to_owned(),
        ]);
        if a.is_active() {
            row.style(app.theme.bad())
        } else {
            row
        }
    });
    let widths = [Constraint::Length(8), Constraint::Length(14), Constraint::Length(15), Constraint::Fill(1)];
    Table::new(rows, widths).block(block).render(area, buf);
}

fn render_overview(buf: &mut Buffer, area: Rect, status: &CityStatus, app: &CityApp) {
    let lang = app.lang;
    let pane = app.alerts.len().clamp(1, ALERT_ROWS) as u16 + 1;
    let [area, alerts] = Layout::vertical([Constraint::Fill(1), Constraint::Length(pane)]).areas(area);
    render_alerts(buf, alerts, app);
    let header = [
        i18n::CITY_DISTRICT,
        i18n::CITY_BEDS,
        i18n::CITY_IN_STATION,
        i18n::CITY_ARRIVALS_TODAY,
        i18n::CITY_CASES,
        i18n::CITY_TASKS_OVERDUE,
        i18n::CITY_ALERTS,
        i18n::CITY_SEQ,
        i18n::CITY_LAST_EVENT,
        i18n::CITY_STATE,
    ];
    let rows: Vec<Row> = status
        .districts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let row = district_row(d, lang);
            match (i == app.selected, d.stale_for_s.is_some()) {
                (true, _) => row.style(app.theme.selected()),
                (false, true) => row.style(app.theme.warn()),
                _ => row,
            }
        })
        .collect();
    let t = &status.totals;
    let total = Row::new(vec![
        i18n::CITY_TOTAL.t(lang).to_owned(),
        t.beds.to_string(),
        t.occupied.to_string(),
        status.districts.iter().map(|d| d.detail.arrivals_today).sum::<u64>().to_string(),
        format!("{}/{}", t.cases.open, t.cases.overdue),
        status.districts.iter().map(|d| d.figures.tasks.overdue).sum::<u64>().to_string(),
        t.alerts.active.to_string(),
        String::new(),
        String::new(),
        String::new(),
    ])
    .style(app.theme.header());
    let widths = [
        Constraint::Min(14),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(14),
        Constraint::Min(8),
    ];
    Table::new(rows.into_iter().chain([total]), widths)
        .header(Row::new(header.iter().map(|l| l.t(lang))).style(app.theme.header()))
        .render(area, buf);
}

fn render_district(buf: &mut Buffer, area: Rect, d: &DistrictEntry, app: &CityApp) {
    let lang = app.lang;
    let [top, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    let [stations, sites] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(top);
    let [offices, streets] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
    let block = |l: L| Block::default().borders(Borders::TOP).title(format!("{} {} · {}", d.code, d.name, l.t(lang)));
    let header = |cols: &[L]| Row::new(cols.iter().map(|l| l.t(lang)).collect::<Vec<_>>()).style(app.theme.header());
    let f = &d.figures;
    let w3 = [Constraint::Min(12), Constraint::Length(8), Constraint::Length(8)];
    Table::new(f.stations.iter().map(|s| Row::new(vec![s.id.clone(), s.beds.to_string(), s.occupied.to_string()])), w3)
        .header(header(&[i18n::CITY_STATIONS, i18n::CITY_BEDS, i18n::CITY_IN_STATION]))
        .block(block(i18n::CITY_STATIONS))
        .render(stations, buf);
    Table::new(
        f.sites.iter().map(|s| Row::new(vec![s.id.clone(), s.capacity_total.to_string(), s.occupied.to_string()])),
        w3,
    )
    .header(header(&[i18n::CITY_SITES, i18n::CITY_CAPACITY, i18n::CITY_OCCUPIED]))
    .block(block(i18n::CITY_SITES))
    .render(sites, buf);
    let w2 = [Constraint::Min(12), Constraint::Length(8)];
    Table::new(d.detail.offices.iter().map(|o| Row::new(vec![o.id.clone(), o.registrations_today.to_string()])), w2)
        .header(header(&[i18n::CITY_OFFICES, i18n::CITY_REGISTRATIONS_TODAY]))
        .block(block(i18n::CITY_OFFICES))
        .render(offices, buf);
    Table::new(
        d.detail
            .cases_by_street
            .iter()
            .map(|s| Row::new(vec![s.name.clone(), s.open.to_string(), format!("{:.2}", s.paid_fen as f64 / 100.0)])),
        [Constraint::Min(12), Constraint::Length(6), Constraint::Length(12)],
    )
    .header(header(&[i18n::CITY_STREETS, i18n::CITY_OPEN, i18n::CITY_PAID]))
    .block(block(i18n::CITY_STREETS))
    .render(streets, buf);
}
