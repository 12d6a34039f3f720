//! View 6, 导入 Ingest: recently handled files with outcome, rows stored / corrected /
//! duplicate / rejected and the reason or rejects file; Enter shows the detail and the first
//! lines of the rejects file when it is readable here.

use super::{block, kv};
use crate::app::{ingest_key, App, ListId};
use crate::i18n;
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::text::{fit, short_time, time};
use crate::widgets::Mark;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The last path component of a note that is a path, else the note.
fn short_note(note: &str) -> String {
    if note.starts_with('/') {
        note.rsplit('/').next().unwrap_or(note).to_string()
    } else {
        note.to_string()
    }
}

/// One row per handled file (key: name@time).
pub fn table(app: &App) -> TableData {
    let lang = app.lang;
    let Some(d) = &app.dashboard else { return TableData::default() };
    let tz = app.zone();
    let columns = vec![
        Column::left(i18n::TIME.t(lang), 11, 11),
        Column::left(i18n::FILE.t(lang), 8, 40),
        Column::left(i18n::FEED.t(lang), 4, 12).optional(),
        Column::left(i18n::OUTCOME.t(lang), 6, 12).keep(),
        Column::right(i18n::STORED.t(lang), 4, 7),
        Column::right(i18n::CORRECTED.t(lang), 4, 6).optional(),
        Column::right(i18n::DUPLICATE.t(lang), 4, 6),
        Column::right(i18n::REJECTED.t(lang), 4, 6),
        Column::left(i18n::NOTE.t(lang), 6, 200).shrink_first(),
    ];
    let rows = d
        .ingest
        .iter()
        .map(|e| {
            let mark = if e.outcome == "quarantined" {
                Mark::Bad
            } else if e.rejected > 0 {
                Mark::Warn
            } else if e.outcome == "duplicate" {
                Mark::Dim
            } else {
                Mark::Normal
            };
            let rejected = if e.rejected > 0 { format!("!{}", e.rejected) } else { "0".into() };
            TableRow::new(
                ingest_key(e),
                vec![
                    short_time(e.at_ms, &tz),
                    e.name.clone(),
                    e.feed.as_deref().map_or("-".into(), |f| i18n::feed(f, lang)),
                    i18n::outcome(&e.outcome, lang),
                    e.stored.to_string(),
                    e.corrected.to_string(),
                    e.duplicate.to_string(),
                    rejected,
                    e.note.as_deref().map_or(String::new(), short_note),
                ],
            )
            .mark(mark)
        })
        .collect();
    TableData { columns, rows }
}

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let Some(d) = &app.dashboard else { return };
    let lang = app.lang;
    let theme = app.theme;
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let s = &d.status;
    let health = if s.healthy && s.problems.is_empty() {
        Span::styled(i18n::HEALTHY.t(lang), theme.ok())
    } else if s.healthy {
        // A file that cannot be read or moved out, a registry refused: ingest goes on.
        Span::styled(format!("{}: {}", i18n::ATTENTION.t(lang), s.problems.join("; ")), theme.warn())
    } else {
        Span::styled(format!("{}: {}", i18n::UNHEALTHY.t(lang), s.problems.join("; ")), theme.bad())
    };
    let line = Line::from(vec![
        Span::raw(" "),
        health,
        Span::raw(format!("  {} ", i18n::REJECTED_TODAY.t(lang))),
        Span::styled(d.rejected_today.to_string(), if d.rejected_today > 0 { theme.warn() } else { theme.plain() }),
        Span::raw(format!(
            "  {} {}/{}/{}",
            i18n::FILES_TOTAL.t(lang),
            s.files.ingested,
            s.files.quarantined,
            s.files.duplicates
        )),
    ]);
    Paragraph::new(line).render(head, buf);
    let t = table(app);
    let st = app.list(ListId::Ingest);
    let title = format!("{} ({})", i18n::VIEW_INGEST.t(lang), t.rows.len());
    table::render(
        buf,
        body,
        block(&title, theme, true),
        &t,
        &st.filter,
        Some(st.selected),
        theme,
        i18n::NO_FILES.t(lang),
    );
}

pub fn detail(app: &App, key: &str) -> Option<(String, Vec<Line<'static>>)> {
    let lang = app.lang;
    let theme = app.theme;
    let d = app.dashboard.as_ref()?;
    let e = d.ingest.iter().find(|e| ingest_key(e) == key)?;
    let tz = app.zone();
    let mut lines = vec![
        kv(i18n::TIME.t(lang), time(e.at_ms, &tz, "%Y-%m-%d %H:%M:%S"), Mark::Normal, theme),
        kv(i18n::FEED.t(lang), e.feed.as_deref().map_or("-".into(), |f| i18n::feed(f, lang)), Mark::Normal, theme),
        kv(i18n::OUTCOME.t(lang), i18n::outcome(&e.outcome, lang), Mark::Normal, theme),
        kv(
            format!(
                "{}/{}/{}/{}",
                i18n::STORED.t(lang),
                i18n::CORRECTED.t(lang),
                i18n::DUPLICATE.t(lang),
                i18n::REJECTED.t(lang)
            )
            .as_str(),
            format!("{}/{}/{}/{}", e.stored, e.corrected, e.duplicate, e.rejected),
            if e.rejected > 0 { Mark::Warn } else { Mark::Normal },
            theme,
        ),
        kv(i18n::DEST.t(lang), e.dest.clone(), Mark::Normal, theme),
    ];
    if let Some(n) = &e.note {
        lines.push(kv(i18n::NOTE.t(lang), n.clone(), Mark::Normal, theme));
    }
    if let Some(p) = app.preview().filter(|p| Some(&p.path) == e.note.as_ref()) {
        lines.push(Line::styled(i18n::REJECTS_PREVIEW.t(lang), theme.title()));
        match &p.lines {
            None => lines.push(Line::styled(i18n::LOADING.t(lang), theme.dim())),
            Some(Err(err)) => {
                lines.push(Line::styled(format!("{}: {err}", i18n::PREVIEW_UNAVAILABLE.t(lang)), theme.warn()))
            }
            Some(Ok(ls)) => lines.extend(ls.iter().map(|l| Line::raw(fit(l, 150)))),
        }
    }
    Some((e.name.clone(), lines))
}
