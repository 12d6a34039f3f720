//! View 7, 救急难 case desk: a reserved slot. The desk comes later; until then it says so and
//! shows the daemon's real case counts (no invented cases).

use super::block;
use crate::app::App;
use crate::i18n;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget, Wrap};

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let theme = app.theme;
    let b = block(&format!("{} ({})", i18n::VIEW_CASES.t(lang), i18n::LATER.t(lang)), theme, false);
    let inner = b.inner(area);
    b.render(area, buf);
    let mut lines = vec![Line::raw(""), Line::styled(i18n::CASES_LATER.t(lang), theme.dim()), Line::raw("")];
    if let Some(d) = &app.dashboard {
        let c = &d.status.cases;
        lines.push(Line::raw(format!(
            "{} {}   {} {}",
            i18n::CASES_OPEN.t(lang),
            c.open,
            i18n::CASES_OVERDUE.t(lang),
            c.overdue
        )));
    }
    Paragraph::new(lines).wrap(Wrap { trim: false }).render(inner, buf);
}
