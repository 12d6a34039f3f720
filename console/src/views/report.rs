//! View 9, 报表 Report: the statistics report (统计报表, SPEC §8) of a day or a month, the same
//! tables as the CSV `mzd report --format csv` writes, and for a month the trend of bed
//! occupancy and arrivals as a chart. ←/→ move between periods, `d`/`m` switch to the day or
//! the month, ↑/↓ scroll, `r` asks again, `e` exports the report as the CSV (BOM, mode 0640).
//!
//! The report is asked for over a short connection of its own ([`fetch`]) when the view opens
//! and whenever the period changes; the answer comes back as [`ClientEvent::Report`]. Invariant:
//! what is on screen is the report of [`crate::app::ReportView::period`] or says it is loading or failed.

use crate::app::{Action, App, ReportView, View};
use crate::client::ClientEvent;
use crate::i18n;
use crate::keymap::{self, Command, ReportKey};
use crate::widgets::text::{fit, width};
use mz_shared::statistics::render::{self, Cell, Table};
use mz_shared::statistics::{Period, PeriodKind, Report};
use mz_shared::text::pad;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};
use std::path::PathBuf;
use tokio::sync::mpsc::UnboundedSender;

/// Labels of the view (Chinese, English).
const TITLE_DAY: (&str, &str) = ("日报", "Daily report");
const TITLE_MONTH: (&str, &str) = ("月报", "Monthly report");
const LOADING: (&str, &str) = ("正在读取报表…", "loading the report…");
const FAILED: (&str, &str) = ("报表读取失败", "the report could not be read");
const OCCUPANCY: (&str, &str) = ("日末在站人数", "Occupancy at day end");
const ARRIVALS: (&str, &str) = ("入站人次", "Arrivals");
const RUNNING: (&str, &str) = ("期间未结束，数字仍会变化", "period still running: figures will change");
const GENERATED: (&str, &str) = ("生成时间", "generated at");

fn t(app: &App, l: (&'static str, &'static str)) -> &'static str {
    if app.lang == crate::i18n::Lang::En {
        l.1
    } else {
        l.0
    }
}

/// Asks for the report of the period in view (the daemon's default when none yet).
pub fn request(app: &mut App) -> Action {
    app.report.loading = true;
    app.report.scroll = 0;
    Action::Report(app.report.kind, app.report.period)
}

/// The period on screen, or the default one of the kind as of the console's clock.
/// The view's keys as its head line shows them: each key from the key map, with a short label.
fn key_line(app: &App) -> String {
    let keys = [
        (Command::Report(ReportKey::Previous), i18n::KEY_REPORT_PERIOD_SHORT),
        (Command::Report(ReportKey::Day), i18n::KEY_REPORT_DAY),
        (Command::Report(ReportKey::Month), i18n::KEY_REPORT_MONTH),
        (Command::Move(1), i18n::KEY_SCROLL_SHORT),
        (Command::Report(ReportKey::Refresh), i18n::KEY_REPORT_REFRESH_SHORT),
        (Command::Export, i18n::KEY_EXPORT_SHORT),
    ];
    let shown = keys.iter().map(|(c, label)| format!("{} {}", keymap::key_of(View::Report, *c), label.t(app.lang)));
    shown.collect::<Vec<_>>().join("  ")
}

fn current(app: &App) -> Period {
    if let Some(p) = app.report.period {
        return p;
    }
    let today = jiff::Timestamp::from_millisecond(app.now_ms.max(0)).unwrap_or_default().to_zoned(app.zone()).date();
    match app.report.kind {
        PeriodKind::Day => Period::yesterday(today),
        PeriodKind::Month => Period::last_month(today),
    }
}

/// The view's commands (its own keys of the key map, and moving as scrolling); `None` for
/// those it leaves to the app.
pub fn on_command(app: &mut App, command: Command) -> Option<Action> {
    let scroll = |app: &mut App, by: i64| {
        let v = &mut app.report.scroll;
        let by = by.clamp(-i64::from(u16::MAX), i64::from(u16::MAX));
        *v = if by < 0 { v.saturating_sub(by.unsigned_abs() as u16) } else { v.saturating_add(by as u16) };
        Some(Action::None)
    };
    match command {
        Command::Report(ReportKey::Previous) => {
            app.report.period = Some(current(app).previous());
            Some(request(app))
        }
        Command::Report(ReportKey::Next) => {
            app.report.period = Some(current(app).next());
            Some(request(app))
        }
        Command::Report(ReportKey::Day) => {
            app.report = ReportView { kind: PeriodKind::Day, ..ReportView::default() };
            Some(request(app))
        }
        Command::Report(ReportKey::Month) => {
            app.report = ReportView { kind: PeriodKind::Month, ..ReportView::default() };
            Some(request(app))
        }
        Command::Report(ReportKey::Refresh) => Some(request(app)),
        Command::Move(by) => scroll(app, by),
        Command::First => {
            app.report.scroll = 0;
            Some(Action::None)
        }
        _ => None,
    }
}

/// The daemon's answer.
pub fn loaded(app: &mut App, result: Result<Box<Report>, String>) {
    let v = &mut app.report;
    v.loading = false;
    if let Ok(r) = &result {
        let kind = if r.period.kind == "month" { PeriodKind::Month } else { PeriodKind::Day };
        let period = match kind {
            PeriodKind::Day => Period::parse_day(&r.period.from).ok(),
            PeriodKind::Month => Period::parse_month(&r.period.from[..r.period.from.len().min(7)]).ok(),
        };
        // An answer for a period left meanwhile is dropped; the newer request is on its way.
        if v.period.is_some_and(|p| Some(p) != period) || kind != v.kind {
            return;
        }
        v.period = period;
    }
    v.report = Some(result);
}

/// The report as the CSV file `e` writes: its name and bytes (BOM, CRLF, Chinese headers).
pub fn export(app: &App) -> Option<(String, Vec<u8>)> {
    let Some(Ok(r)) = &app.report.report else { return None };
    let english = app.lang == crate::i18n::Lang::En;
    let key = if r.period.kind == "month" { &r.period.from[..7] } else { r.period.from.as_str() };
    Some((format!("mzc-report-{}-{key}.csv", r.period.kind), render::csv(r, english).into_bytes()))
}

/// Asks the daemon for a report over a fresh connection; the answer goes to `tx`.
pub fn fetch(socket: PathBuf, kind: PeriodKind, period: Option<Period>, tx: UnboundedSender<ClientEvent>) {
    tokio::spawn(async move {
        let result = match mz_client::Client::connect(&socket, "mzc").await {
            Err(e) => Err(e.to_string()),
            Ok(mut c) => c.report(kind, period).await.map(Box::new).map_err(|e| e.to_string()),
        };
        tracing::info!(kind = kind.as_str(), ok = result.is_ok(), "statistics report");
        let _ = tx.send(ClientEvent::Report(result));
    });
}

/// Draws the report view: the period, then the report's tables, scrolled.
pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let theme = app.theme;
    let english = app.lang == crate::i18n::Lang::En;
    let period = current(app);
    let kind = if period.kind() == PeriodKind::Month { t(app, TITLE_MONTH) } else { t(app, TITLE_DAY) };
    let report = match &app.report.report {
        Some(Ok(r)) if !app.report.loading => Some(r),
        _ => None,
    };
    let chart_rows = match report {
        Some(r) if !r.daily.is_empty() => {
            if area.height >= 30 {
                10
            } else {
                6
            }
        }
        _ => 0,
    };
    let frame = super::block(&format!("{} {kind}", period.title(english)), theme, true);
    let inner = frame.inner(area);
    frame.render(area, buf);
    let [head, info, chart, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(chart_rows),
        Constraint::Fill(1),
    ])
    .areas(inner);
    Paragraph::new(Line::styled(fit(&format!(" {}", key_line(app)), head.width as usize), theme.dim()))
        .render(head, buf);
    let (text, style) = match (&app.report.report, app.report.loading) {
        (_, true) | (None, _) => (t(app, LOADING).to_owned(), theme.dim()),
        (Some(Err(e)), _) => (format!("{}: {e}", t(app, FAILED)), theme.bad()),
        (Some(Ok(r)), _) => {
            let mut s = format!("{} {}", t(app, GENERATED), r.generated_at);
            if !r.complete {
                s = format!("{s}  ({})", t(app, RUNNING));
            }
            (s, if r.complete { theme.dim() } else { theme.warn() })
        }
    };
    Paragraph::new(Line::styled(fit(&format!(" {text}"), info.width as usize), style)).render(info, buf);
    let Some(r) = report else { return };
    if chart_rows > 0 {
        render_chart(buf, chart, app, r);
    }
    let lines = table_lines(&render::tables(r, english), body.width as usize, app);
    let max = lines.len().saturating_sub(body.height as usize) as u16;
    Paragraph::new(lines).scroll((app.report.scroll.min(max), 0)).render(body, buf);
}

/// The month's trend: occupancy at each day's end and arrivals, one bar group per day.
fn render_chart(buf: &mut Buffer, area: Rect, app: &App, r: &Report) {
    let theme = app.theme;
    let days = r.daily.len().max(1);
    let label_w = 2;
    let per_day = ((area.width as usize).saturating_sub(label_w) / days).clamp(1, 4);
    let stretch = |v: Vec<u64>| -> Vec<u64> { v.into_iter().flat_map(|x| std::iter::repeat_n(x, per_day)).collect() };
    let occ: Vec<u64> = r.daily.iter().map(|p| p.occupied_at_end).collect();
    let arr: Vec<u64> = r.daily.iter().map(|p| p.admissions).collect();
    let spark = (area.height / 2).saturating_sub(1).max(1);
    let [l1, s1, l2, s2] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(spark),
        Constraint::Length(1),
        Constraint::Length(spark),
    ])
    .areas(area);
    let first = r.daily.first().map_or("", |p| p.date.as_str());
    let last = r.daily.last().map_or("", |p| p.date.as_str());
    let caption = |name: &str, v: &[u64]| {
        let max = v.iter().max().copied().unwrap_or(0);
        let now = v.last().copied().unwrap_or(0);
        format!(
            " {name}  {first} … {last}  max {max}  {} {now}",
            if app.lang == crate::i18n::Lang::En { "last" } else { "末日" }
        )
    };
    Paragraph::new(Line::styled(fit(&caption(t(app, OCCUPANCY), &occ), l1.width as usize), theme.header()))
        .render(l1, buf);
    let inner = |a: Rect| Rect { x: a.x + 1, width: a.width.saturating_sub(1), ..a };
    Sparkline::default().data(stretch(occ)).style(theme.ok()).render(inner(s1), buf);
    Paragraph::new(Line::styled(fit(&caption(t(app, ARRIVALS), &arr), l2.width as usize), theme.header()))
        .render(l2, buf);
    Sparkline::default().data(stretch(arr)).style(theme.warn()).render(inner(s2), buf);
}

/// Which columns of `table` fit in `max` columns: all, else without the per-reason breakdown,
/// else without names too; the rest is cut at the edge.
fn visible(table: &Table, widths: &[usize], max: usize) -> Vec<usize> {
    let total = |cols: &[usize]| cols.iter().map(|i| widths[*i] + 2).sum::<usize>();
    let all: Vec<usize> = (0..table.headers.len()).collect();
    if total(&all) <= max {
        return all;
    }
    let breakdown = |h: &str| h.starts_with("离站-") || h.starts_with("Discharged: ");
    let fewer: Vec<usize> = all.iter().copied().filter(|i| !breakdown(&table.headers[*i])).collect();
    if total(&fewer) <= max || table.headers.len() < 3 {
        return fewer;
    }
    let name = |h: &str| h == "名称" || h == "Name";
    fewer.into_iter().filter(|i| !name(&table.headers[*i])).collect()
}

/// The tables as lines: title, header, rows, a blank line after each.
fn table_lines(tables: &[Table], max: usize, app: &App) -> Vec<Line<'static>> {
    let theme = app.theme;
    let mut out = Vec::new();
    for table in tables {
        let mut widths: Vec<usize> = table.headers.iter().map(|h| width(h)).collect();
        for row in &table.rows {
            for (i, c) in row.iter().enumerate().take(widths.len()) {
                widths[i] = widths[i].max(width(&c.text()));
            }
        }
        let cols = visible(table, &widths, max);
        out.push(Line::styled(format!(" {}", table.title), theme.title().add_modifier(Modifier::BOLD)));
        let header: Vec<String> = cols.iter().map(|i| pad(&table.headers[*i], widths[*i], false)).collect();
        out.push(Line::styled(format!(" {}", header.join("  ")), theme.header()));
        for row in &table.rows {
            let cells: Vec<Span<'static>> = cols
                .iter()
                .map(|i| {
                    let c = row.get(*i).cloned().unwrap_or(Cell::Text(String::new()));
                    Span::raw(format!("{}  ", pad(&c.text(), widths[*i], c.is_number())))
                })
                .collect();
            let mut spans = vec![Span::raw(" ")];
            spans.extend(cells);
            out.push(Line::from(spans));
        }
        out.push(Line::raw(""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::registry::Registry;
    use mz_shared::statistics::{build, DayFigures, ReportInput};
    use std::collections::BTreeMap;

    fn month_report(registry: &Registry) -> Report {
        let merged = DayFigures::default();
        let census = BTreeMap::new();
        let daily = (1..=30)
            .map(|d| mz_shared::statistics::report::DailyPoint {
                date: format!("2026-11-{d:02}"),
                admissions: d % 7,
                occupied_at_end: 20 + d % 5,
            })
            .collect();
        build(&ReportInput {
            period: Period::parse_month("2026-11").unwrap(),
            registry,
            merged: &merged,
            census: &census,
            open_overdue: 0,
            generated_at: "2026-12-01T00:00:01+08:00".into(),
            complete: true,
            daily,
        })
    }

    fn screen(app: &App, w: u16, h: u16) -> (Buffer, String) {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, app);
        let text = (0..h)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_owned()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n");
        (buf, text)
    }

    #[test]
    fn a_month_shows_its_chart_and_tables_inside_the_frame_at_80x24_and_160x48() {
        let registry = Registry::demo();
        for lang in [crate::i18n::Lang::Zh, crate::i18n::Lang::En] {
            let mut app = App::new(lang, false);
            app.report = ReportView {
                kind: PeriodKind::Month,
                period: Period::parse_month("2026-11").ok(),
                report: Some(Ok(Box::new(month_report(&registry)))),
                loading: false,
                scroll: 0,
            };
            for (w, h) in [(80, 22), (160, 46)] {
                let (buf, text) = screen(&app, w, h);
                let (chart, table) = match lang {
                    crate::i18n::Lang::Zh => ("日末在站人数", "救助站（流浪乞讨人员救助）"),
                    crate::i18n::Lang::En => ("Occupancy at day end", "Rescue stations"),
                };
                // Wide characters leave a blank continuation cell in the dump: compare without blanks.
                let packed = text.replace(' ', "");
                assert!(
                    packed.contains(&chart.replace(' ', "")) && packed.contains(&table.replace(' ', "")),
                    "{w}x{h}:\n{text}"
                );
                assert!(text.contains("TZ-JZZ"), "{text}");
                for y in 1..h - 1 {
                    assert_eq!(buf[(w - 1, y)].symbol(), "│", "right edge at row {y}:\n{text}");
                }
            }
        }
        let mut app = App::new(crate::i18n::Lang::Zh, false);
        app.report.report = Some(Ok(Box::new(month_report(&registry))));
        let (name, bytes) = export(&app).expect("a report to export");
        assert_eq!(name, "mzc-report-month-2026-11.csv");
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
    }
}
