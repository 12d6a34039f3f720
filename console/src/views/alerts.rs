//! View 5, 告警 Alerts: active alerts first, then acknowledged ones; `a` acknowledges the
//! selected alert (the daemon stores it, every console sees it).

use super::{block, kv};
use crate::app::{App, ListId};
use crate::i18n;
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::text::{short_time, time};
use crate::widgets::Mark;
use mz_shared::alert::{Alert, AlertState};
use mz_shared::dashboard::Dashboard;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

/// The name of the station, site or office an alert is about (its id when unknown).
pub fn subject_name(d: &Dashboard, id: &str) -> String {
    d.stations
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.name.clone())
        .or_else(|| d.sites.iter().find(|s| s.id == id).map(|s| s.name.clone()))
        .or_else(|| d.offices.iter().find(|s| s.id == id).map(|s| s.name.clone()))
        .unwrap_or_else(|| id.to_string())
}

fn state_text(a: &Alert, lang: i18n::Lang) -> String {
    match &a.state {
        AlertState::Active => format!("! {}", i18n::ALERT_ACTIVE.t(lang)),
        AlertState::Acknowledged { by, .. } => format!("{} {by}", i18n::ALERT_ACKED.t(lang)),
    }
}

/// One row per alert (key: alert id).
pub fn table(app: &App) -> TableData {
    let lang = app.lang;
    let Some(d) = &app.dashboard else { return TableData::default() };
    let tz = app.zone();
    let columns = vec![
        Column::left(i18n::STATE.t(lang), 8, 16).keep(),
        Column::left(i18n::ALERT_KIND.t(lang), 4, 16),
        Column::left(i18n::SUBJECT.t(lang), 6, 20),
        Column::left(i18n::RAISED_AT.t(lang), 11, 11),
        // The reason wraps: an officer reads it whole at 80 columns too.
        Column::left(i18n::MESSAGE.t(lang), 16, 200).wrap(),
    ];
    let rows = d
        .alerts
        .iter()
        .map(|a| {
            TableRow::new(
                a.id.clone(),
                vec![
                    state_text(a, lang),
                    i18n::alert_kind(a.kind, lang),
                    subject_name(d, &a.subject),
                    short_time(a.raised_at_ms, &tz),
                    a.message.text(lang).to_string(),
                ],
            )
            .mark(if a.is_active() { Mark::Bad } else { Mark::Dim })
        })
        .collect();
    TableData { columns, rows }
}

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let t = table(app);
    let active = app.dashboard.as_ref().map_or(0, |d| d.alerts.iter().filter(|a| a.is_active()).count());
    let title = format!("{} {active} / {}  (a: {})", i18n::ALERT_ACTIVE.t(lang), t.rows.len(), i18n::KEY_ACK.t(lang));
    let st = app.list(ListId::Alerts);
    table::render(
        buf,
        area,
        block(&title, app.theme, true),
        &t,
        &st.filter,
        Some(st.selected),
        app.theme,
        i18n::NO_ALERTS.t(lang),
    );
}

pub fn detail(app: &App, key: &str) -> Option<(String, Vec<Line<'static>>)> {
    let lang = app.lang;
    let theme = app.theme;
    let d = app.dashboard.as_ref()?;
    let a = d.alerts.iter().find(|a| a.id == key)?;
    let tz = app.zone();
    let mut lines = vec![
        kv(i18n::STATE.t(lang), state_text(a, lang), if a.is_active() { Mark::Bad } else { Mark::Normal }, theme),
        kv(i18n::ALERT_KIND.t(lang), i18n::alert_kind(a.kind, lang), Mark::Normal, theme),
        kv(i18n::SUBJECT.t(lang), format!("{} ({})", subject_name(d, &a.subject), a.subject), Mark::Normal, theme),
        kv(i18n::RAISED_AT.t(lang), time(a.raised_at_ms, &tz, "%Y-%m-%d %H:%M:%S"), Mark::Normal, theme),
        kv(i18n::RECORD.t(lang), a.record_id.clone().unwrap_or_else(|| "-".into()), Mark::Normal, theme),
    ];
    if let AlertState::Acknowledged { by, at_ms } = &a.state {
        lines.push(kv(
            i18n::ACKED_BY.t(lang),
            format!("{by}  {}", time(*at_ms, &tz, "%Y-%m-%d %H:%M:%S")),
            Mark::Normal,
            theme,
        ));
    }
    lines.push(kv(i18n::MESSAGE.t(lang), a.message.text(lang).to_string(), Mark::Normal, theme));
    lines.push(Line::styled(format!("id: {}", a.id), theme.dim()));
    Some((i18n::alert_kind(a.kind, lang), lines))
}
