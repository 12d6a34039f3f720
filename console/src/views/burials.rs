//! View 3, 殡葬 Burials: one row per burial site — kind, town, capacity, occupied, fill bar,
//! eco-burial share, months to full, and the state (nearly full, zero-growth breach) in text.

use super::{block, kv};
use crate::app::{App, ListId};
use crate::i18n;
use crate::widgets::bar::{fill_bar, share};
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::text::percent;
use crate::widgets::Mark;
use mz_shared::dashboard::SiteBoard;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

fn state(s: &SiteBoard, lang: i18n::Lang) -> (String, Mark) {
    let mut parts = Vec::new();
    let mut mark = Mark::Normal;
    if s.zero_growth_violation {
        parts.push(i18n::VIOLATION_MARK.t(lang));
        mark = Mark::Bad;
    }
    if share(s.occupied, s.capacity_total).is_some_and(|x| x >= 0.9) {
        parts.push(i18n::NEARLY_FULL_MARK.t(lang));
        if mark == Mark::Normal {
            mark = Mark::Warn;
        }
    }
    if s.reported_on.is_none() {
        parts.push(i18n::NOT_REPORTED.t(lang));
        if mark == Mark::Normal {
            mark = Mark::Dim;
        }
    }
    (parts.join(" "), mark)
}

fn months(m: Option<f64>) -> String {
    match m {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => "-".into(),
    }
}

/// One row per site (key: site id).
pub fn table(app: &App) -> TableData {
    let lang = app.lang;
    let Some(d) = &app.dashboard else { return TableData::default() };
    let columns = vec![
        Column::left(i18n::SITE.t(lang), 8, 28),
        Column::left(i18n::KIND.t(lang), 4, 10),
        Column::left(i18n::TOWN.t(lang), 4, 12).optional(),
        Column::right(i18n::CAP_SHORT.t(lang), 4, 8),
        Column::right(i18n::OCC_SHORT.t(lang), 4, 8),
        Column::left(i18n::FILL.t(lang), 15, 16),
        Column::right(i18n::ECO.t(lang), 4, 6),
        Column::right(i18n::TO_FULL.t(lang), 4, 8),
        Column::left(i18n::STATE.t(lang), 4, 24).keep(),
    ];
    let rows = d
        .sites
        .iter()
        .map(|s| {
            let (st, mark) = state(s, lang);
            let pct = share(s.occupied, s.capacity_total).map_or("-".to_string(), |x| format!("{:.0}%", x * 100.0));
            TableRow::new(
                s.id.clone(),
                vec![
                    s.name.clone(),
                    i18n::site_kind(s.kind, lang).to_string(),
                    s.town.clone(),
                    s.capacity_total.to_string(),
                    s.occupied.to_string(),
                    format!("{} {pct:>4}", fill_bar(s.occupied, s.capacity_total, 10)),
                    s.eco_share.map_or("-".into(), |x| format!("{:.0}%", x * 100.0)),
                    months(s.months_to_full),
                    st,
                ],
            )
            .mark(mark)
        })
        .collect();
    TableData { columns, rows }
}

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let t = table(app);
    let st = app.list(ListId::Sites);
    let sites = app.dashboard.as_ref().map(|d| d.sites.as_slice()).unwrap_or_default();
    let (new, eco) = sites.iter().fold((0, 0), |(n, e), s| (n + s.new_interments, e + s.eco_interments));
    let district = (new > 0).then(|| eco as f64 / new as f64);
    let title = format!(
        "{} ({})  {} {}",
        i18n::VIEW_BURIALS.t(app.lang),
        t.rows.len(),
        i18n::ECO_DISTRICT.t(app.lang),
        district.map_or("-".into(), |x| format!("{:.0}%", x * 100.0))
    );
    table::render(buf, area, block(&title, app.theme, true), &t, &st.filter, Some(st.selected), app.theme, "-");
}

pub fn detail(app: &App, key: &str) -> Option<(String, Vec<Line<'static>>)> {
    let lang = app.lang;
    let theme = app.theme;
    let s = app.dashboard.as_ref()?.sites.iter().find(|s| s.id == key)?;
    let (st, mark) = state(s, lang);
    let mut lines = vec![
        kv("ID", s.id.clone(), Mark::Normal, theme),
        kv(i18n::KIND.t(lang), i18n::site_kind(s.kind, lang), Mark::Normal, theme),
        kv(i18n::TOWN.t(lang), s.town.clone(), Mark::Normal, theme),
        kv(i18n::REPORTED_ON.t(lang), s.reported_on.clone().unwrap_or_else(|| "-".into()), Mark::Normal, theme),
        kv(
            i18n::CAPACITY.t(lang),
            format!(
                "{}  {} {} ({})",
                s.capacity_total,
                i18n::OCCUPIED.t(lang),
                s.occupied,
                percent(share(s.occupied, s.capacity_total))
            ),
            Mark::Normal,
            theme,
        ),
        kv(i18n::ECO.t(lang), percent(s.eco_share), Mark::Normal, theme),
        kv(i18n::TO_FULL.t(lang), months(s.months_to_full), Mark::Normal, theme),
        kv(i18n::STATE.t(lang), if st.is_empty() { "-".into() } else { st }, mark, theme),
    ];
    if !s.history.is_empty() {
        lines.push(Line::styled(
            format!("{} ({} / {})", i18n::HISTORY.t(lang), i18n::CAPACITY.t(lang), i18n::OCCUPIED.t(lang)),
            theme.dim(),
        ));
        for (date, cap, occ) in s.history.iter().rev().take(12) {
            lines.push(Line::raw(format!("  {date}  {cap:>6}  {occ:>6}")));
        }
    }
    Some((s.name.clone(), lines))
}
