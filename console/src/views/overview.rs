//! View 1, 总览 Overview: tiles for the station bed board, cemetery capacity, today's
//! registrations with a 7-day sparkline, active alerts, and ingest health; below them, when the
//! screen is tall enough (160x48), the shift's watch list: the most urgent open cases with
//! their countdowns, the latest alerts, and arrivals per hour today against yesterday.

use super::{block, cases, stations};
use crate::app::App;
use crate::i18n::{self, Lang};
use crate::widgets::bar::{fill_bar, share};
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::text::{cut, fit, pad_right, percent, short_time, wrap};
use crate::widgets::{memo, Mark};
use mz_shared::dashboard::Dashboard;
use mz_shared::records::MarriageKind;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget, Wrap};

/// Rows the tiles need to show all they hold.
const TILES_H: u16 = 13;
/// Rows the watch list needs to be worth showing.
const WATCH_MIN_H: u16 = 8;

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    if app.dashboard.is_none() {
        return;
    }
    // Only the urgent cases' countdowns move with the clock; the rest is drawn once per
    // dashboard (and language, theme and size) and kept.
    let key = memo::key((app.dashboard_seq, app.lang == Lang::En, app.theme.color));
    let urgent = app.overview_memo.draw(buf, area, key, |buf| render_all_but_urgent_cases(buf, area, app));
    if let Some(c) = urgent {
        urgent_cases(buf, c, app);
    }
}

/// Draws everything but the urgent cases; returns where they go (if the screen is tall enough).
fn render_all_but_urgent_cases(buf: &mut Buffer, area: Rect, app: &App) -> Option<Rect> {
    let d = app.dashboard.as_deref()?;
    let lang = app.lang;
    let theme = app.theme;
    let st_table = stations::station_table(app);
    let top_h = (st_table.rows.len() as u16 + 3).min(area.height.saturating_sub(10)).max(4);
    let [top, bottom] = Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
    table::render(buf, top, block(i18n::STATIONS_BEDS.t(lang), theme, false), &st_table, "", None, theme, "-");
    let (tiles, watch) = if bottom.height >= TILES_H + WATCH_MIN_H {
        let [t, w] = Layout::vertical([Constraint::Length(TILES_H), Constraint::Fill(1)]).areas(bottom);
        (t, Some(w))
    } else {
        (bottom, None)
    };
    let [cem, reg, right] =
        Layout::horizontal([Constraint::Ratio(1, 3), Constraint::Ratio(1, 3), Constraint::Ratio(1, 3)]).areas(tiles);
    cemetery_tile(buf, cem, app, d);
    registrations_tile(buf, reg, app, d);
    let [al, ing] = Layout::vertical([Constraint::Length(5), Constraint::Fill(1)]).areas(right);
    alerts_tile(buf, al, app, d);
    ingest_tile(buf, ing, app, d);
    let w = watch?;
    let [c, a, h] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1), Constraint::Length(44)]).areas(w);
    latest_alerts(buf, a, app, d);
    arrivals(buf, h, app, d);
    Some(c)
}

/// Cemetery capacity.
fn cemetery_tile(buf: &mut Buffer, cem: Rect, app: &App, d: &Dashboard) {
    let lang = app.lang;
    let theme = app.theme;
    let cap: u64 = d.sites.iter().map(|s| u64::from(s.capacity_total)).sum();
    let occ: u64 = d.sites.iter().map(|s| u64::from(s.occupied)).sum();
    let nearly = d.sites.iter().filter(|s| share(s.occupied, s.capacity_total).is_some_and(|x| x >= 0.9)).count();
    let breaches = d.sites.iter().filter(|s| s.zero_growth_violation).count();
    let soonest = mz_shared::dashboard::soonest_full(&d.sites);
    let b = block(i18n::CEMETERIES.t(lang), theme, false);
    let inner = b.inner(cem);
    b.render(cem, buf);
    let w = inner.width as usize;
    let (cap32, occ32) = (cap.min(u64::from(u32::MAX)) as u32, occ.min(u64::from(u32::MAX)) as u32);
    let mut lines = vec![
        Line::raw(format!("{} {}", i18n::SITES.t(lang), d.sites.len())),
        Line::raw(format!("{} {}  {} {}", i18n::CAPACITY.t(lang), cap, i18n::OCCUPIED.t(lang), occ)),
        Line::raw(format!("{} {}", fill_bar(occ32, cap32, w.saturating_sub(7).min(22)), percent(share(occ32, cap32)))),
        Line::styled(
            format!("{} {}", i18n::NEARLY_FULL.t(lang), nearly),
            if nearly > 0 { theme.warn() } else { theme.plain() },
        ),
        Line::styled(
            format!("{} {}", i18n::GROWTH_VIOLATIONS.t(lang), breaches),
            if breaches > 0 { theme.bad() } else { theme.plain() },
        ),
    ];
    if let Some(s) = soonest {
        lines.push(Line::raw(format!("{}:", i18n::SOONEST_FULL.t(lang))));
        // A site with a single report has no growth rate: it is shown by how full it is.
        match s.months_to_full {
            Some(m) => {
                let name = fit(&s.name, w.saturating_sub(12));
                lines.push(Line::raw(format!(" {name} {m:.1}{}", i18n::MONTHS.t(lang))));
            }
            None => {
                lines.push(Line::styled(format!(" {}", fit(&s.name, w.saturating_sub(1))), theme.warn()));
                let fill = format!(" {} {}", percent(s.fill()), i18n::FULL_RATE_UNKNOWN.t(lang));
                lines.push(Line::styled(fit(&fill, w), theme.warn()));
            }
        }
    }
    Paragraph::new(lines).render(inner, buf);
}

/// Registrations today by kind, 7-day sparkline.
fn registrations_tile(buf: &mut Buffer, reg: Rect, app: &App, d: &Dashboard) {
    let lang = app.lang;
    let theme = app.theme;
    let b = block(i18n::REGISTRATIONS_TODAY.t(lang), theme, false);
    let inner = b.inner(reg);
    b.render(reg, buf);
    let today = d.registrations_daily.last();
    let mut lines: Vec<Line> = MarriageKind::ALL
        .iter()
        .map(|k| {
            let n = today.and_then(|t| t.get(k)).copied().unwrap_or(0);
            Line::raw(format!("{} {n:>4}", pad_right(&i18n::marriage_kind(*k, lang), 14)))
        })
        .collect();
    let totals: Vec<u64> =
        d.registrations_daily.iter().rev().take(7).rev().map(|m| m.values().map(|v| u64::from(*v)).sum()).collect();
    lines.push(Line::raw(format!(
        "{} {} {}",
        i18n::LAST_7_DAYS.t(lang),
        i18n::TOTAL.t(lang),
        totals.iter().sum::<u64>()
    )));
    let text_h = lines.len() as u16;
    Paragraph::new(lines).render(inner, buf);
    if inner.height > text_h {
        let spark =
            Rect { y: inner.y + text_h, height: (inner.height - text_h).min(3), width: 7.min(inner.width), ..inner };
        Sparkline::default().data(&totals).render(spark, buf);
    }
}

/// Active alerts: how many, and how many of each kind.
fn alerts_tile(buf: &mut Buffer, al: Rect, app: &App, d: &Dashboard) {
    let lang = app.lang;
    let theme = app.theme;
    let active: Vec<_> = d.alerts.iter().filter(|a| a.is_active()).collect();
    let b = block(i18n::ACTIVE_ALERTS.t(lang), theme, false);
    let inner = b.inner(al);
    b.render(al, buf);
    let mut lines = vec![Line::styled(
        format!("{} {}", i18n::ACTIVE_ALERTS.t(lang), active.len()),
        if active.is_empty() { theme.ok() } else { theme.bad() },
    )];
    let mut by_kind: Vec<(String, u64)> =
        d.status.alerts.by_kind.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect();
    by_kind.sort_by_key(|a| std::cmp::Reverse(a.1));
    let kinds: Vec<String> = by_kind
        .iter()
        .map(|(k, n)| {
            let name = mz_shared::alert::AlertKind::ALL
                .iter()
                .find(|x| x.as_str() == k)
                .map_or(k.clone(), |x| i18n::alert_kind(*x, lang));
            format!("{name} {n}")
        })
        .collect();
    // Wrapped here, in terminal columns, on the rows under the count; the last one says when
    // more kinds did not fit. (Paragraph's own wrapping let a line of Chinese run over the
    // tile's border.)
    let w = inner.width as usize;
    let rows = inner.height.saturating_sub(1) as usize;
    let mut parts = wrap(&kinds.join(", "), w);
    if parts.len() > rows {
        parts.truncate(rows);
        if let Some(last) = parts.last_mut() {
            *last = cut(last, w);
        }
    }
    lines.extend(parts.into_iter().map(Line::raw));
    Paragraph::new(lines).render(inner, buf);
}

/// Ingest health: problems, the last file, rows rejected today, files handled.
fn ingest_tile(buf: &mut Buffer, ing: Rect, app: &App, d: &Dashboard) {
    let lang = app.lang;
    let theme = app.theme;
    let b = block(i18n::INGEST_HEALTH.t(lang), theme, false);
    let inner = b.inner(ing);
    b.render(ing, buf);
    let tz = app.zone();
    let w = inner.width as usize;
    let s = &d.status;
    let mut lines = vec![if s.healthy && s.problems.is_empty() {
        Line::styled(i18n::HEALTHY.t(lang), theme.ok())
    } else if s.healthy {
        Line::styled(format!("{}: {}", i18n::ATTENTION.t(lang), s.problems.join("; ")), theme.warn())
    } else {
        Line::styled(format!("{}: {}", i18n::UNHEALTHY.t(lang), s.problems.join("; ")), theme.bad())
    }];
    match d.ingest.first() {
        Some(e) => {
            let mark = if e.outcome == "quarantined" || e.rejected > 0 { Mark::Warn } else { Mark::Normal };
            lines.push(Line::raw(format!("{}: {}", i18n::LAST_FILE.t(lang), short_time(e.at_ms, &tz))));
            lines.push(Line::styled(
                fit(&format!(" {} {}", e.name, i18n::outcome(&e.outcome, lang)), w),
                theme.mark(mark),
            ));
        }
        None => lines.push(Line::styled(i18n::NO_FILES.t(lang), theme.dim())),
    }
    lines.push(Line::from(vec![
        Span::raw(format!("{} ", i18n::REJECTED_TODAY.t(lang))),
        Span::styled(d.rejected_today.to_string(), if d.rejected_today > 0 { theme.warn() } else { theme.plain() }),
    ]));
    lines.push(Line::raw(format!(
        "{} {}/{}/{}",
        i18n::FILES_TOTAL.t(lang),
        s.files.ingested,
        s.files.quarantined,
        s.files.duplicates
    )));
    Paragraph::new(lines).render(inner, buf);
}

/// Cases and alerts shown in the watch list at most (and never more than its height).
const WATCH_ROWS: usize = 30;

/// The most urgent open cases, in the queue's order (urgent first, then the nearest
/// deadline) as the daemon sends them in the dashboard, with their countdowns; overdue ones
/// marked in text and red. The title counts every open case (the status's count).
fn urgent_cases(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let limits = cases::limits(app);
    let columns = vec![
        Column::left(i18n::CASE_ID.t(lang), 8, 16).keep(),
        Column::left(i18n::URGENCY.t(lang), 4, 6).keep(),
        Column::left(i18n::DEADLINE.t(lang), 6, 20).keep(),
        Column::left(i18n::SUMMARY.t(lang), 4, 60).shrink_first(),
    ];
    let Some(d) = app.dashboard.as_deref() else { return };
    let rows = d
        .urgent_cases
        .iter()
        .take(WATCH_ROWS.min(usize::from(area.height)))
        .map(|c| {
            let (countdown, overdue) = cases::countdown(c, &limits, app.now_ms, lang);
            let urgent = c.urgency == mz_shared::case::Urgency::High;
            let mark = if overdue {
                Mark::Bad
            } else if urgent {
                Mark::Warn
            } else {
                Mark::Normal
            };
            let cells = vec![
                c.id.as_str().to_string(),
                i18n::urgency(c.urgency, lang).to_string(),
                countdown,
                c.summary_in(lang == Lang::En).to_string(),
            ];
            TableRow::new(c.id.as_str(), cells).mark(mark)
        })
        .collect();
    let title = format!("{} ({})", i18n::URGENT_CASES.t(lang), d.status.cases.open);
    let data = TableData { columns, rows };
    // The countdowns change by the minute: the drawn table is kept while the rows stay the same.
    let key = memo::key((&data, &title, lang == Lang::En, app.theme.color));
    app.urgent_memo.draw(buf, area, key, |buf| {
        table::render(buf, area, block(&title, app.theme, false), &data, "", None, app.theme, i18n::NO_CASES.t(lang));
    });
}

/// The latest alerts: active ones first (newest first), then acknowledged ones; the reason
/// wraps rather than being cut.
fn latest_alerts(buf: &mut Buffer, area: Rect, app: &App, d: &Dashboard) {
    let lang = app.lang;
    let tz = app.zone();
    let columns = vec![
        Column::left(i18n::RAISED_AT.t(lang), 11, 11),
        Column::left(i18n::ALERT_KIND.t(lang), 4, 12),
        Column::left(i18n::SUBJECT.t(lang), 6, 16).shrink_first(),
        Column::left(i18n::MESSAGE.t(lang), 12, 200).wrap(),
    ];
    let rows = d
        .alerts
        .iter()
        .take(WATCH_ROWS.min(usize::from(area.height)))
        .map(|a| {
            let cells = vec![
                short_time(a.raised_at_ms, &tz),
                i18n::alert_kind(a.kind, lang),
                super::alerts::subject_name(d, &a.subject),
                a.message.text(lang).to_string(),
            ];
            TableRow::new(a.id.clone(), cells).mark(if a.is_active() { Mark::Bad } else { Mark::Dim })
        })
        .collect();
    let data = TableData { columns, rows };
    let b = block(i18n::LATEST_ALERTS.t(lang), app.theme, false);
    table::render(buf, area, b, &data, "", None, app.theme, i18n::NO_ALERTS.t(lang));
}

/// Arrivals per hour (local time) of today and of yesterday, all stations, as the daemon
/// counts them (every admission by its `occurred_at`, also of people who have left since).
pub fn arrivals_by_hour(d: &Dashboard) -> ([u64; 24], [u64; 24]) {
    let wide = |h: &mz_shared::dashboard::HourCounts| h.0.map(u64::from);
    (wide(&d.arrivals_by_hour.today), wide(&d.arrivals_by_hour.yesterday))
}

/// Today's and yesterday's arrivals per hour as two sparklines on one scale, with an hour
/// axis; today's total over all stations (the daemon's count) below.
fn arrivals(buf: &mut Buffer, area: Rect, app: &App, d: &Dashboard) {
    let lang = app.lang;
    let theme = app.theme;
    let b = block(i18n::ARRIVALS_BY_HOUR.t(lang), theme, false);
    let inner = b.inner(area);
    b.render(area, buf);
    let (today, yesterday) = arrivals_by_hour(d);
    let max = today.iter().chain(&yesterday).copied().max().unwrap_or(0).max(1);
    let label_w = 6u16;
    let h = (inner.height.saturating_sub(4) / 2).clamp(1, 4);
    let mut y = inner.y;
    for (label, data, style) in
        [(i18n::HOURS_TODAY, &today, theme.title()), (i18n::HOURS_YESTERDAY, &yesterday, theme.dim())]
    {
        if y + h > inner.bottom() {
            return;
        }
        let total: u64 = data.iter().sum();
        let row = Rect { y, height: h, ..inner };
        Paragraph::new(Line::styled(pad_right(label.t(lang), label_w as usize), style)).render(row, buf);
        let spark = Rect { x: row.x + label_w, width: 24.min(row.width.saturating_sub(label_w)), ..row };
        Sparkline::default().data(data.as_slice()).max(max).style(style).render(spark, buf);
        let n = Rect { x: spark.right() + 1, width: row.right().saturating_sub(spark.right() + 1), height: 1, ..row };
        Paragraph::new(Line::raw(total.to_string())).render(n, buf);
        y += h;
    }
    let axis = Rect { x: inner.x + label_w, y, width: inner.width.saturating_sub(label_w), height: 1 };
    if axis.y < inner.bottom() {
        Paragraph::new(Line::styled("0     6     12    18   23", theme.dim())).render(axis, buf);
    }
    let admits: u32 = d.stations.iter().map(|s| s.today.admits).sum();
    let notes = vec![Line::from(vec![
        Span::raw(format!("{} ", i18n::ADMITS_TODAY_ALL.t(lang))),
        Span::styled(admits.to_string(), theme.title()),
    ])];
    let rest = Rect { y: y + 1, height: inner.bottom().saturating_sub(y + 1), ..inner };
    Paragraph::new(notes).wrap(Wrap { trim: true }).render(rest, buf);
}
