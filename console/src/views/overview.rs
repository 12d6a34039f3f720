//! View 1, 总览 Overview: tiles for the station bed board, cemetery capacity, today's
//! registrations with a 7-day sparkline, active alerts, and ingest health.

use super::{block, stations};
use crate::app::App;
use crate::i18n;
use crate::widgets::bar::{fill_bar, share};
use crate::widgets::table;
use crate::widgets::text::{fit, pad_right, percent, short_time};
use crate::widgets::Mark;
use mz_shared::records::MarriageKind;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let Some(d) = &app.dashboard else { return };
    let lang = app.lang;
    let theme = app.theme;
    let st_table = stations::station_table(app);
    let top_h = (st_table.rows.len() as u16 + 3).min(area.height.saturating_sub(10)).max(4);
    let [top, bottom] = Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(area);
    table::render(buf, top, block(i18n::STATIONS_BEDS.t(lang), theme, false), &st_table, "", None, theme, "-");

    let [cem, reg, right] =
        Layout::horizontal([Constraint::Ratio(1, 3), Constraint::Ratio(1, 3), Constraint::Ratio(1, 3)]).areas(bottom);

    // Cemetery capacity.
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

    // Registrations today by kind, 7-day sparkline.
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

    // Alerts and ingest health.
    let [al, ing] = Layout::vertical([Constraint::Length(5), Constraint::Fill(1)]).areas(right);
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
    lines.push(Line::raw(fit(&kinds.join(", "), inner.width as usize * 2)));
    Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }).render(inner, buf);

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
