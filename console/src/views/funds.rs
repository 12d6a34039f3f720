//! View 8, 备用金 Funds: each street's reserve fund (临时救助备用金) — the registry's allotment,
//! what was paid, what waits for a supervisor's approval (一事一议), the balance and the open
//! cases — with the district's totals. Live: every dashboard the daemon pushes carries the
//! figures as of its last commit.

use super::block;
use crate::app::{App, ListId};
use crate::caseform::yuan;
use crate::i18n;
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::Mark;
use mz_shared::dashboard::FundRow;
use mz_shared::registry::Fen;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

/// Balances below this share of the allotment are shown as a warning.
const LOW_SHARE: f64 = 0.2;

fn mark(f: &FundRow) -> Mark {
    let low = f.initial.0 > 0 && (f.balance.0 as f64) < f.initial.0 as f64 * LOW_SHARE;
    if f.initial.0 > 0 && f.balance.0 == 0 {
        Mark::Bad
    } else if low || f.pending.0 > 0 {
        Mark::Warn
    } else {
        Mark::Normal
    }
}

/// One row per street (key: street id).
pub fn table(app: &App) -> TableData {
    let lang = app.lang;
    let Some(d) = &app.dashboard else { return TableData::default() };
    let columns = vec![
        Column::left(i18n::STREET.t(lang), 6, 10).optional(),
        Column::left(i18n::FUND_NAME.t(lang), 6, 16).keep(),
        Column::right(i18n::FUND_INITIAL.t(lang), 8, 14),
        Column::right(i18n::FUND_PAID.t(lang), 8, 14),
        Column::right(i18n::FUND_PENDING.t(lang), 8, 14),
        Column::right(i18n::FUND_BALANCE.t(lang), 8, 14).keep(),
        Column::right(i18n::FUND_OPEN_CASES.t(lang), 4, 10),
    ];
    let rows = d
        .funds
        .iter()
        .map(|f| {
            TableRow::new(
                f.street.clone(),
                vec![
                    f.street.clone(),
                    f.name.clone(),
                    yuan(f.initial),
                    yuan(f.paid),
                    yuan(f.pending),
                    yuan(f.balance),
                    f.cases_open.to_string(),
                ],
            )
            .mark(mark(f))
        })
        .collect();
    TableData { columns, rows }
}

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let Some(d) = &app.dashboard else { return };
    let lang = app.lang;
    let theme = app.theme;
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let sum = |f: fn(&FundRow) -> i64| Fen(d.funds.iter().map(f).sum());
    let open: u32 = d.funds.iter().map(|f| f.cases_open).sum();
    let totals = format!(
        " {} {}  {} {}  {} {}  {} {}  {} {open}",
        i18n::FUND_INITIAL.t(lang),
        yuan(sum(|f| f.initial.0)),
        i18n::FUND_PAID.t(lang),
        yuan(sum(|f| f.paid.0)),
        i18n::FUND_PENDING.t(lang),
        yuan(sum(|f| f.pending.0)),
        i18n::FUND_BALANCE.t(lang),
        yuan(sum(|f| f.balance.0)),
        i18n::FUND_OPEN_CASES.t(lang),
    );
    let style = if d.funds.iter().any(|f| f.pending.0 > 0) { theme.warn() } else { theme.plain() };
    Paragraph::new(Line::styled(crate::widgets::text::fit(&totals, head.width as usize), style)).render(head, buf);
    let t = table(app);
    let st = app.list(ListId::Funds);
    table::render(
        buf,
        body,
        block(i18n::VIEW_FUNDS_TITLE.t(lang), theme, true),
        &t,
        &st.filter,
        Some(st.selected),
        theme,
        i18n::NO_FUNDS.t(lang),
    );
}
