//! View 4, 婚姻 Marriages: per office and kind, registrations today / 7 days / 30 days; each
//! office's cross-district share and counselling rate (of marriages); the 30-day chart of all
//! offices; pending divorce applications with their window (1: 冷静期 cooling-off, 2: 申领期 to
//! register) and the days left in it, and the applications deemed withdrawn (视为撤回申请).

use super::{block, kv};
use crate::app::{App, ListId};
use crate::i18n;
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::text::{fit, pad_left, pad_right, percent, short_time};
use crate::widgets::Mark;
use mz_shared::dashboard::DivorceWindow;
use mz_shared::records::MarriageKind;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline, Widget};

/// One row per office and kind (key: `office_id/kind`).
pub fn table(app: &App) -> TableData {
    let lang = app.lang;
    let Some(d) = &app.dashboard else { return TableData::default() };
    let columns = vec![
        Column::left(i18n::OFFICE.t(lang), 8, 30),
        Column::left(i18n::REG_KIND.t(lang), 4, 19).keep(),
        Column::right(i18n::TODAY.t(lang), 4, 6),
        Column::right(i18n::DAYS_7.t(lang), 5, 7),
        Column::right(i18n::DAYS_30.t(lang), 5, 7),
    ];
    let mut rows = Vec::new();
    for o in &d.offices {
        for k in MarriageKind::ALL {
            let get = |m: &std::collections::BTreeMap<MarriageKind, u32>| m.get(k).copied().unwrap_or(0);
            rows.push(TableRow::new(
                format!("{}/{}", o.id, k.as_str()),
                vec![
                    o.name.clone(),
                    i18n::marriage_kind(*k, lang),
                    get(&o.today).to_string(),
                    get(&o.last_7_days).to_string(),
                    get(&o.last_30_days).to_string(),
                ],
            ));
        }
    }
    TableData { columns, rows }
}

fn cooling_table(app: &App) -> TableData {
    let lang = app.lang;
    let tz = app.zone();
    let columns = vec![
        Column::left(i18n::RECORD.t(lang), 6, 16),
        Column::left(i18n::WINDOW.t(lang), 8, 13).keep(),
        Column::right(i18n::DAYS_LEFT_SHORT.t(lang), 4, 9).keep(),
        Column::left(i18n::OFFICE.t(lang), 4, 12).optional(),
        Column::left(i18n::APPLIED_AT.t(lang), 11, 11).optional(),
    ];
    let Some(d) = &app.dashboard else { return TableData { columns, rows: vec![] } };
    let rows = d
        .cooling_off
        .iter()
        .map(|c| {
            TableRow::new(
                c.record_id.clone(),
                vec![
                    c.record_id.clone(),
                    window_label(c.window, lang),
                    c.days_left.to_string(),
                    c.office_id.clone(),
                    short_time(c.applied_at_ms, &tz),
                ],
            )
            .mark(if c.days_left <= 3 { Mark::Warn } else { Mark::Normal })
        })
        .collect();
    TableData { columns, rows }
}

/// `1 冷静期` / `2 申领期`.
fn window_label(w: DivorceWindow, lang: i18n::Lang) -> String {
    match w {
        DivorceWindow::CoolingOff => format!("1 {}", i18n::WINDOW_COOLING.t(lang)),
        DivorceWindow::Registration => format!("2 {}", i18n::WINDOW_REGISTER.t(lang)),
    }
}

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let Some(d) = &app.dashboard else { return };
    let lang = app.lang;
    let theme = app.theme;
    let t = table(app);
    let st = app.list(ListId::Offices);
    let wide = area.width >= 120;
    let (left, shares, chart, cool) = if wide {
        let left_w = (area.width * 62 / 100).min(90);
        let [left, right] = Layout::horizontal([Constraint::Length(left_w), Constraint::Fill(1)]).areas(area);
        let shares_h = d.offices.len() as u16 * 3 + 3;
        let [shares, chart, cool] =
            Layout::vertical([Constraint::Length(shares_h), Constraint::Length(8), Constraint::Fill(1)]).areas(right);
        (left, shares, chart, cool)
    } else {
        let top_h = (t.rows.len() as u16 + 3).min(area.height.saturating_sub(8));
        let [left, bottom] = Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
        let [shares, chart, cool] =
            Layout::horizontal([Constraint::Length(24), Constraint::Length(26), Constraint::Fill(1)]).areas(bottom);
        (left, shares, chart, cool)
    };
    table::render(
        buf,
        left,
        block(i18n::VIEW_MARRIAGES.t(lang), theme, true),
        &t,
        &st.filter,
        Some(st.selected),
        theme,
        "-",
    );

    let b = block(&format!("{} / {}", i18n::CROSS_DISTRICT.t(lang), i18n::COUNSELLING.t(lang)), theme, false);
    let inner = b.inner(shares);
    b.render(shares, buf);
    let w = inner.width as usize;
    let mut lines = Vec::new();
    for o in &d.offices {
        lines.push(Line::styled(fit(&o.name, w), theme.plain()));
        lines
            .push(Line::raw(fit(&format!(" {} {}", i18n::CROSS_DISTRICT.t(lang), percent(o.cross_district_share)), w)));
        lines.push(Line::raw(fit(&format!(" {} {}", i18n::COUNSELLING.t(lang), percent(o.counselling_rate)), w)));
    }
    lines.push(Line::styled(fit(&lapsed_line(d, lang), w), theme.plain()));
    Paragraph::new(lines).render(inner, buf);

    let totals: Vec<u64> = d.registrations_daily.iter().map(|m| m.values().map(|v| u64::from(*v)).sum()).collect();
    let peak = totals.iter().max().copied().unwrap_or(0);
    let title = format!("{} {} {peak}", i18n::CHART_30.t(lang), i18n::PEAK.t(lang));
    let b = block(&fit(&title, chart.width.saturating_sub(4) as usize), theme, false);
    let inner = b.inner(chart);
    b.render(chart, buf);
    if inner.height > 0 {
        let [spark, axis] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let n = totals.len().min(spark.width as usize);
        let data = &totals[totals.len() - n..];
        Sparkline::default().data(data).render(Rect { width: n as u16, ..spark }, buf);
        let first = d.registrations_daily.len().saturating_sub(n);
        let start = jiff::civil::Date::strptime("%Y-%m-%d", &d.today)
            .ok()
            .and_then(|t| {
                t.checked_sub(jiff::Span::new().days((d.registrations_daily.len() - first).saturating_sub(1) as i64))
                    .ok()
            })
            .map_or(String::new(), |x| x.strftime("%m-%d").to_string());
        let end = d.today.get(5..).unwrap_or("").to_string();
        let pad = (n).saturating_sub(start.len() + end.len()).max(1);
        Paragraph::new(Line::styled(format!("{start}{}{end}", " ".repeat(pad)), theme.dim())).render(axis, buf);
    }

    let ct = cooling_table(app);
    let title = format!("{} ({})", i18n::DIVORCE_QUEUE.t(lang), ct.rows.len());
    table::render(buf, cool, block(&title, theme, false), &ct, "", None, theme, i18n::NO_COOLING.t(lang));
}

/// `视为撤回申请 2 (近30日 1)`: applications deemed withdrawn, all offices.
fn lapsed_line(d: &mz_shared::dashboard::Dashboard, lang: i18n::Lang) -> String {
    let total: u64 = d.offices.iter().map(|o| o.lapsed_total).sum();
    let recent: u32 = d.offices.iter().map(|o| o.lapsed_30_days).sum();
    format!("{} {total} ({} {recent})", i18n::LAPSED.t(lang), i18n::DAYS_30.t(lang))
}

pub fn detail(app: &App, key: &str) -> Option<(String, Vec<Line<'static>>)> {
    let lang = app.lang;
    let theme = app.theme;
    let d = app.dashboard.as_ref()?;
    let (office, _) = key.split_once('/')?;
    let o = d.offices.iter().find(|o| o.id == office)?;
    let mut lines = vec![
        kv("ID", o.id.clone(), Mark::Normal, theme),
        kv(i18n::CROSS_DISTRICT.t(lang), percent(o.cross_district_share), Mark::Normal, theme),
        kv(i18n::COUNSELLING.t(lang), percent(o.counselling_rate), Mark::Normal, theme),
        kv(
            i18n::LAPSED.t(lang),
            format!("{} ({} {})", o.lapsed_total, i18n::DAYS_30.t(lang), o.lapsed_30_days),
            Mark::Normal,
            theme,
        ),
        Line::styled(
            format!(
                "{} {} {} {}",
                pad_right(i18n::REG_KIND.t(lang), 14),
                pad_left(i18n::TODAY.t(lang), 6),
                pad_left(i18n::DAYS_7.t(lang), 7),
                pad_left(i18n::DAYS_30.t(lang), 7)
            ),
            theme.dim(),
        ),
    ];
    for k in MarriageKind::ALL {
        let get = |m: &std::collections::BTreeMap<MarriageKind, u32>| m.get(k).copied().unwrap_or(0);
        lines.push(Line::raw(format!(
            "{} {:>6} {:>7} {:>7}",
            pad_right(&i18n::marriage_kind(*k, lang), 14),
            get(&o.today),
            get(&o.last_7_days),
            get(&o.last_30_days)
        )));
    }
    let daily: Vec<String> = o.daily_30.iter().map(u32::to_string).collect();
    lines.push(kv(i18n::DAYS_30.t(lang), daily.join(" "), Mark::Normal, theme));
    let cooling: Vec<String> = d
        .cooling_off
        .iter()
        .filter(|c| c.office_id == o.id)
        .map(|c| format!("{} ({} {})", c.record_id, window_label(c.window, lang), c.days_left))
        .collect();
    if !cooling.is_empty() {
        lines.push(kv(i18n::COOLING_OFF.t(lang), cooling.join(", "), Mark::Normal, theme));
    }
    Some((o.name.clone(), lines))
}
