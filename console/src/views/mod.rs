//! Drawing the whole screen from an [`App`] (界面): navigation tabs, the disconnected banner,
//! the current view, the filter or command line, the status bar, the popup stack (help from the
//! key map, details, forms, answers), and the too-small message. Each view lives in its own
//! module and provides its table (for the screen, the filter and the CSV export), its drawing
//! and its detail popup; [`render_view`] and [`table`] are where a view is registered, one line
//! each.
//!
//! Invariant: drawing reads the app and changes nothing.

pub(crate) mod alerts;
pub(crate) mod burials;
pub(crate) mod cases;
pub mod city;
pub(crate) mod funds;
pub(crate) mod ingest;
pub(crate) mod marriages;
pub(crate) mod overview;
pub mod report;
pub(crate) mod stations;

use crate::app::{App, Conn, ListId, Modal, View};
use crate::i18n::{self, Lang};
use crate::keymap::{self, Command};
use crate::widgets::form as form_widget;
use crate::widgets::table::TableData;
use crate::widgets::text::{fit, width};
use crate::widgets::{popup, Mark, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};
use ratatui::Frame;

/// Below this size the console shows the size it needs instead of its views.
pub(crate) const MIN_WIDTH: u16 = 80;
pub(crate) const MIN_HEIGHT: u16 = 24;

/// Draws the console into a frame.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    render(frame.buffer_mut(), area, app);
}

/// Draws the console into `area` of `buf`.
pub(crate) fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let theme = app.theme;
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(buf, area, lang, theme);
        return;
    }
    let disconnected = matches!(app.conn, Conn::Disconnected { .. });
    let list = app.current_list();
    let st = app.list(list);
    let palette = app.modals.iter().find_map(|m| match m {
        Modal::Palette { text, error } => Some((text.as_str(), error.as_deref())),
        _ => None,
    });
    let filter_line = app.editing_filter || !st.filter.is_empty() || palette.is_some();
    let [tabs, banner, body, filter, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(disconnected)),
        Constraint::Fill(1),
        Constraint::Length(u16::from(filter_line)),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(buf, tabs, app);
    if let Conn::Disconnected { error, attempt } = &app.conn {
        let text = format!(" {}  ({} {attempt}: {error})", i18n::DISCONNECTED_BANNER.t(lang), i18n::ATTEMPT.t(lang));
        Paragraph::new(Line::raw(fit(&text, banner.width as usize))).style(theme.banner()).render(banner, buf);
    }
    match &app.dashboard {
        None => {
            let text = match app.conn {
                Conn::Connected => i18n::NO_DATA.t(lang),
                _ => i18n::CONNECTING.t(lang),
            };
            let r = Rect { y: body.y + body.height / 2, height: 1, ..body };
            Paragraph::new(Line::styled(text, theme.dim())).alignment(Alignment::Center).render(r, buf);
        }
        Some(_) => {
            render_view(buf, body, app);
            if disconnected {
                // Last data kept, greyed out.
                let grey = if theme.color {
                    Style::new().fg(ratatui::style::Color::DarkGray).add_modifier(Modifier::DIM)
                } else {
                    Style::new().add_modifier(Modifier::DIM)
                };
                buf.set_style(body, grey);
            }
        }
    }
    match palette {
        Some((text, error)) => render_palette(buf, body, filter, app, text, error),
        None if filter_line => render_filter(buf, filter, app, list),
        None => {}
    }
    render_status(buf, status, app);
    for modal in &app.modals {
        render_modal(buf, body, app, modal);
    }
}

/// Draws the current view into `body`: one line per view.
fn render_view(buf: &mut Buffer, body: Rect, app: &App) {
    match app.view {
        View::Overview => overview::render(buf, body, app),
        View::Stations => stations::render(buf, body, app),
        View::Burials => burials::render(buf, body, app),
        View::Marriages => marriages::render(buf, body, app),
        View::Alerts => alerts::render(buf, body, app),
        View::Ingest => ingest::render(buf, body, app),
        View::Cases => cases::render(buf, body, app),
        View::Funds => funds::render(buf, body, app),
        View::Report => report::render(buf, body, app),
    }
}

/// Draws one popup of the stack over the view's body.
fn render_modal(buf: &mut Buffer, body: Rect, app: &App, modal: &Modal) {
    let lang = app.lang;
    let theme = app.theme;
    match modal {
        Modal::Help { scroll } => {
            let scroll = popup::Scroll { offset: *scroll, hint: i18n::HELP_SCROLL.t(lang) };
            popup::render_scrolled(buf, body, i18n::HELP_TITLE.t(lang), help_lines(app), theme, "Esc", scroll);
        }
        Modal::Case { key, scroll } => cases::render_detail(buf, body, app, key, *scroll),
        Modal::Detail { list, key, .. } => {
            if let Some((title, lines)) = detail(app, *list, key) {
                popup::render(buf, body, &title, lines, theme, "Esc");
            }
        }
        Modal::CaseForm(form) => cases::render_form(buf, body, app, form),
        Modal::StationForm(form) => stations::render_form(buf, body, app, form),
        Modal::TaskForm(form) => stations::render_task_form(buf, body, app, form),
        Modal::Notice { title, lines } => form_widget::render_notice(buf, body, theme, title, lines),
        // Drawn on the filter line.
        Modal::Palette { .. } => {}
    }
}

/// The `:` command line on the filter line, and the commands that match what is typed in a
/// box above it.
fn render_palette(buf: &mut Buffer, body: Rect, line: Rect, app: &App, text: &str, error: Option<&str>) {
    let theme = app.theme;
    let lang = app.lang;
    let mut spans = vec![Span::styled(format!(":{text}_"), theme.title())];
    match error {
        Some(e) => spans.push(Span::styled(format!("   {e}"), theme.bad())),
        None => spans.push(Span::styled(format!("   {}", i18n::PALETTE_HINT.t(lang)), theme.dim())),
    }
    let fitted = fit_spans(spans, line.width as usize);
    Paragraph::new(Line::from(fitted)).render(line, buf);
    let found = crate::palette::suggestions(text, lang);
    let shown = found.len().min(body.height.saturating_sub(2) as usize / 2).min(10);
    if shown == 0 {
        return;
    }
    let nw = found.iter().map(|(n, _)| width(n)).max().unwrap_or(0);
    let lines: Vec<Line> = found
        .iter()
        .take(shown)
        .map(|(n, h)| {
            Line::from(vec![
                Span::styled(crate::widgets::text::pad_right(n, nw + 2), theme.warn()),
                Span::raw(h.clone()),
            ])
        })
        .collect();
    let w = (lines.iter().map(Line::width).max().unwrap_or(0) + 4).min(body.width as usize - 2) as u16;
    let h = shown as u16 + 2;
    let area = Rect { x: body.x + 1, y: body.bottom() - h, width: w, height: h };
    ratatui::widgets::Clear.render(Rect { x: body.x, width: (w + 2).min(body.width), ..area }, buf);
    let b = Block::bordered().border_style(theme.dim());
    let inner = b.inner(area);
    b.render(area, buf);
    let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
    Paragraph::new(lines).render(inner, buf);
}

/// Spans cut to `w` columns: those that do not fit are cut (then dropped) at the end.
fn fit_spans(spans: Vec<Span<'static>>, w: usize) -> Vec<Span<'static>> {
    let mut used = 0usize;
    let mut fitted = Vec::new();
    for s in spans {
        let sw = width(&s.content);
        if used + sw <= w {
            used += sw;
            fitted.push(s);
        } else {
            fitted.push(Span::styled(fit(&s.content, w.saturating_sub(used)), s.style));
            break;
        }
    }
    fitted
}

fn too_small(buf: &mut Buffer, area: Rect, lang: Lang, theme: Theme) {
    let lines = vec![
        Line::styled(i18n::TOO_SMALL.t(lang), theme.warn()),
        Line::raw(format!("{} {MIN_WIDTH}x{MIN_HEIGHT}", i18n::NEED.t(lang))),
        Line::raw(format!("{} {}x{}", i18n::NOW.t(lang), area.width, area.height)),
    ];
    let y = area.y + area.height.saturating_sub(3) / 2;
    let r = Rect { y, height: area.height.min(3), ..area };
    Paragraph::new(lines).alignment(Alignment::Center).wrap(Wrap { trim: true }).render(r, buf);
}

fn render_tabs(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let theme = app.theme;
    let active_alerts = app.dashboard.as_ref().map_or(0, |d| d.alerts.iter().filter(|a| a.is_active()).count());
    let build = |brand: bool, pad: bool, short: bool| {
        let mut spans = Vec::new();
        if brand {
            spans.push(Span::styled(" mz ", theme.title()));
        }
        for (i, v) in View::ALL.iter().enumerate() {
            let name = v.label().t(lang);
            // Last resort (English at 80 columns): other views' names cut, so the current one shows.
            let name = if short && *v != app.view { name.chars().take(4).collect() } else { name.to_string() };
            let mut label = format!("{} {name}", i + 1);
            if *v == View::Alerts && active_alerts > 0 {
                label.push_str(&format!("({active_alerts})"));
            }
            let (text, style) = if *v == app.view {
                (format!("[{label}]"), theme.tab_active())
            } else if pad {
                (format!(" {label} "), theme.plain())
            } else {
                (format!("{label} "), theme.plain())
            };
            spans.push(Span::styled(text, style));
        }
        if app.demo {
            spans.push(Span::styled(format!(" {}", i18n::DEMO.t(lang)), theme.warn()));
        }
        Line::from(spans)
    };
    let line = [build(true, true, false), build(false, true, false), build(false, false, false)]
        .into_iter()
        .find(|l| l.width() <= area.width as usize)
        .unwrap_or_else(|| {
            // Cut at the end unless that hides the current view.
            let cut = build(false, false, false);
            let upto: usize = cut.spans.iter().take(app.view.index() + 1).map(|s| s.width()).sum();
            if upto <= area.width as usize {
                cut
            } else {
                build(false, false, true)
            }
        });
    Paragraph::new(line).render(area, buf);
}

fn render_filter(buf: &mut Buffer, area: Rect, app: &App, list: ListId) {
    let lang = app.lang;
    let st = app.list(list);
    let table = table(app, list);
    let shown = table.filtered(&st.filter).len();
    let cursor = if app.editing_filter { "_" } else { "" };
    let mut spans = vec![
        Span::styled(format!(" /{} ", i18n::FILTER.t(lang)), app.theme.title()),
        Span::raw(format!("{}{cursor}", st.filter)),
        Span::styled(format!("   {shown}/{} {}", table.rows.len(), i18n::ROWS.t(lang)), app.theme.dim()),
    ];
    if app.editing_filter {
        spans.push(Span::styled(format!("   {}", i18n::FILTER_HINT.t(lang)), app.theme.dim()));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

fn render_status(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let theme = app.theme;
    let wide = area.width >= 120;
    let format = if wide { "%Y-%m-%d %H:%M:%S %Z" } else { "%H:%M:%S %Z" };
    let clock = crate::widgets::text::time(app.now_ms, &app.zone(), format);
    let right = format!("{}  {clock} ", i18n::HELP_HINT.t(lang));
    let mut left: Vec<Span> = Vec::new();
    if let Some(s) = &app.session {
        let user = if wide { format!("{} ", i18n::USER.t(lang)) } else { String::new() };
        left.push(Span::raw(format!(" {user}{}({}) ", s.user, i18n::role(s.role, lang))));
    } else {
        left.push(Span::raw(" "));
    }
    let (conn, style) = match app.conn {
        Conn::Connected => (format!("[{}]", i18n::CONNECTED.t(lang)), theme.ok()),
        Conn::Connecting => (format!("[{}]", i18n::CONNECTING.t(lang)), theme.warn()),
        Conn::Disconnected { .. } => (format!("[{}]", i18n::DISCONNECTED.t(lang)), theme.bad()),
    };
    left.push(Span::styled(conn, style));
    if app.paused {
        let held = if app.held_count > 0 {
            format!(" ({} {})", app.held_count, i18n::UPDATES_HELD.t(lang))
        } else {
            String::new()
        };
        left.push(Span::styled(format!(" [{}{held}]", i18n::PAUSED.t(lang)), theme.warn()));
    }
    if let Some(m) = &app.message {
        left.push(Span::styled(format!(" {}", m.text), theme.mark(m.mark)));
    }
    let right_w = width(&right) as u16;
    let bar_style = if theme.color { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() };
    buf.set_style(area, bar_style);
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_w.min(area.width))]).areas(area);
    // Fit the left part: drop what does not fit at the end (the message first).
    Paragraph::new(Line::from(fit_spans(left, l.width as usize))).render(l, buf);
    Paragraph::new(Line::raw(right)).alignment(Alignment::Right).render(r, buf);
}

/// The table of a list (empty before the first dashboard).
pub(crate) fn table(app: &App, list: ListId) -> TableData {
    if app.dashboard.is_none() {
        return TableData::default();
    }
    match list {
        ListId::Overview => stations::station_table(app),
        ListId::Stations => stations::station_table(app),
        ListId::Residents => stations::resident_table(app),
        ListId::Sites => burials::table(app),
        ListId::Offices => marriages::table(app),
        ListId::Alerts => alerts::table(app),
        ListId::Ingest => ingest::table(app),
        ListId::Cases => cases::table(app),
        ListId::Funds => funds::table(app),
        ListId::Tasks => stations::task_table(app),
    }
}

/// Key of the selected row of a list (after its filter), if any.
pub(crate) fn selected_key(app: &App, list: ListId) -> Option<String> {
    let t = table(app, list);
    let st = app.list(list);
    t.filtered(&st.filter).get(st.selected).map(|r| r.key.clone())
}

/// The detail popup of a row: title and lines.
pub(crate) fn detail(app: &App, list: ListId, key: &str) -> Option<(String, Vec<Line<'static>>)> {
    match list {
        ListId::Residents => stations::detail(app, key),
        ListId::Tasks => stations::task_detail(app, key),
        ListId::Sites => burials::detail(app, key),
        ListId::Offices => marriages::detail(app, key),
        ListId::Alerts => alerts::detail(app, key),
        ListId::Ingest => ingest::detail(app, key),
        _ => None,
    }
}

/// Whether `?` offers a command to the user (actions their role may take only).
fn offered(app: &App, command: Command) -> bool {
    match command {
        Command::TaskDone => app.may_complete_tasks(),
        Command::StationOp(_) => app.may_log(),
        Command::CaseOp(op) => cases::allowed_ops(app).contains(&op),
        _ => true,
    }
}

/// Every key of the current view, from the key map: the view's own keys (the case actions the
/// role allows two to a line, so that the help fits 80x24), then those of every view (a key the
/// view gives its own meaning listed once).
pub(crate) fn help_lines(app: &App) -> Vec<Line<'static>> {
    let lang = app.lang;
    let theme = app.theme;
    let listed: Vec<&keymap::Binding> = keymap::listed(app.view).filter(|b| offered(app, b.command)).collect();
    let own = |b: &keymap::Binding| b.scope == keymap::Scope::In(app.view);
    let overridden = |b: &keymap::Binding| !own(b) && listed.iter().any(|o| own(o) && o.keys == b.keys);
    let kw = listed.iter().filter(|b| !keymap::is_action(b.command)).map(|b| width(&keymap::shown(b))).max();
    let kw = kw.unwrap_or(0);
    let key_line = |key: String, text: &str| {
        Line::from(vec![Span::styled(format!("{key:<kw$}  "), theme.warn()), Span::raw(text.to_string())])
    };
    let mut lines = vec![Line::styled(format!("{} {}", app.view.index() + 1, app.view.label().t(lang)), theme.title())];
    let mut ops: Vec<crate::caseform::Op> = Vec::new();
    for b in listed.iter().filter(|b| own(b)) {
        match b.command {
            Command::CaseOp(op) => ops.push(op),
            Command::StationOp(op) => lines.push(key_line(keymap::shown(b), op.label().t(lang))),
            _ => lines.push(key_line(keymap::shown(b), b.help.t(lang))),
        }
    }
    if app.view == View::Cases && ops.is_empty() {
        lines.push(Line::styled(i18n::NO_ACTIONS.t(lang), theme.dim()));
    }
    for pair in ops.chunks(2) {
        let mut spans = Vec::new();
        for (i, o) in pair.iter().enumerate() {
            let label = o.label().t(lang);
            let label = if i == 0 { crate::widgets::text::pad_right(label, 16) } else { label.to_string() };
            spans.push(Span::styled(format!("{}  ", keymap::case_key(*o)), theme.warn()));
            spans.push(Span::raw(label));
        }
        lines.push(Line::from(spans));
    }
    for b in listed.iter().filter(|b| !own(b) && !overridden(b)) {
        lines.push(key_line(keymap::shown(b), b.help.t(lang)));
    }
    lines
}

/// A bordered block with a title; focused blocks get a bold title and a `>` marker.
pub(crate) fn block(title: &str, theme: Theme, focused: bool) -> Block<'static> {
    let t = if focused { format!(" > {title} ") } else { format!(" {title} ") };
    let style = if focused { theme.title() } else { theme.plain().add_modifier(Modifier::BOLD) };
    Block::bordered().title(Span::styled(t, style))
}

/// `label: value` line for details.
pub(crate) fn kv(label: &str, value: impl Into<String>, mark: Mark, theme: Theme) -> Line<'static> {
    Line::from(vec![Span::styled(format!("{label}: "), theme.dim()), Span::styled(value.into(), theme.mark(mark))])
}

#[cfg(test)]
pub(crate) mod tests;
