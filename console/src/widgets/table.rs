//! Tables whose columns are sized in terminal columns, so Chinese text stays aligned: every
//! cell is fitted to its column's width (cut with `..`, never inside a wide character) before
//! ratatui draws it, and number columns are drawn right-aligned. Cells are not padded with
//! blanks: ratatui fills the rest of a cell, and drawing blanks would cost as much as text.
//! The same [`TableData`] feeds the screen, the `/` filter and the CSV export.

use super::text::{fit, width, wrap};
use super::{Mark, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Paragraph, Row, StatefulWidget, Table, TableState, Widget};

/// A column: title and size limits in terminal columns.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Column {
    pub title: String,
    pub min: usize,
    pub max: usize,
    /// Right-aligned (numbers).
    pub right: bool,
    /// Shrunk before the others when space is short (free text such as notes).
    pub shrink_first: bool,
    /// Hidden on screen when space is short (still exported).
    pub optional: bool,
    /// Never cut: its minimum is its natural width (short state words).
    pub keep: bool,
    /// Long text (a reason) shown whole: wrapped over as many lines as the row needs instead of
    /// cut. Shrinks first, like [`Column::shrink_first`].
    pub wrap: bool,
}

impl Column {
    pub fn left(title: &str, min: usize, max: usize) -> Column {
        Column {
            title: title.to_string(),
            min,
            max,
            right: false,
            shrink_first: false,
            optional: false,
            keep: false,
            wrap: false,
        }
    }

    pub fn right(title: &str, min: usize, max: usize) -> Column {
        Column { right: true, ..Column::left(title, min, max) }
    }

    pub fn shrink_first(mut self) -> Column {
        self.shrink_first = true;
        self
    }

    pub fn keep(mut self) -> Column {
        self.keep = true;
        self
    }

    pub fn wrap(mut self) -> Column {
        self.wrap = true;
        self.shrink_first = true;
        self
    }

    pub fn optional(mut self) -> Column {
        self.optional = true;
        self
    }
}

/// One row: its cells, how it stands out, and a key identifying what it shows.
#[derive(Debug, Clone, PartialEq, Hash, Default)]
pub struct TableRow {
    pub cells: Vec<String>,
    pub mark: Mark,
    pub key: String,
}

impl TableRow {
    pub fn new(key: impl Into<String>, cells: Vec<String>) -> TableRow {
        TableRow { cells, mark: Mark::Normal, key: key.into() }
    }

    pub fn mark(mut self, mark: Mark) -> TableRow {
        self.mark = mark;
        self
    }

    /// True when any cell contains `filter` (case-insensitive); an empty filter matches all.
    pub fn matches(&self, filter: &str) -> bool {
        if filter.is_empty() {
            return true;
        }
        let f = filter.to_lowercase();
        self.cells.iter().any(|c| c.to_lowercase().contains(&f)) || self.key.to_lowercase().contains(&f)
    }
}

#[derive(Debug, Clone, PartialEq, Hash, Default)]
pub struct TableData {
    pub columns: Vec<Column>,
    pub rows: Vec<TableRow>,
}

impl TableData {
    /// The rows the filter lets through.
    pub fn filtered(&self, filter: &str) -> Vec<&TableRow> {
        self.rows.iter().filter(|r| r.matches(filter)).collect()
    }

    /// UTF-8 CSV of the header and the filtered rows.
    /// The rows that pass `filter` as a CSV file for Excel on Chinese Windows: UTF-8 with a BOM,
    /// CRLF line ends, quoted where needed.
    pub fn to_csv(&self, filter: &str) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(UTF8_BOM.to_vec());
        // Writing into memory cannot fail.
        let _ = w.write_record(self.columns.iter().map(|c| c.title.as_str()));
        for r in self.filtered(filter) {
            let _ = w.write_record(r.cells.iter().map(|c| c.trim()));
        }
        w.into_inner().unwrap_or_default()
    }
}

/// What Excel looks for to read a CSV file as UTF-8.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Column widths for `avail` columns of space (one blank between shown columns): natural
/// widths clamped to each column's limits; when too wide, `shrink_first` columns shrink to their
/// minimum, then optional columns are hidden (width 0, from the right), then the widest shrinks
/// first. Spare space goes to the first column.
pub fn widths(columns: &[Column], rows: &[&TableRow], avail: usize) -> Vec<usize> {
    let mut w: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let natural =
                rows.iter().map(|r| r.cells.get(i).map_or(0, |s| width(s))).max().unwrap_or(0).max(width(&c.title));
            natural.clamp(c.min, c.max.max(c.min))
        })
        .collect();
    let mins: Vec<usize> = columns.iter().zip(&w).map(|(c, w)| if c.keep { *w } else { c.min }).collect();
    let total = |w: &[usize]| {
        let shown = w.iter().filter(|x| **x > 0).count();
        w.iter().sum::<usize>() + shown.saturating_sub(1)
    };
    for (i, c) in columns.iter().enumerate() {
        if c.shrink_first && total(&w) > avail {
            let excess = total(&w) - avail;
            w[i] -= excess.min(w[i] - mins[i]);
        }
    }
    for i in (0..columns.len()).rev() {
        if columns[i].optional && total(&w) > avail {
            w[i] = 0;
        }
    }
    while total(&w) > avail {
        let Some((i, _)) =
            w.iter().enumerate().filter(|(i, x)| **x > mins[*i] && **x > 0).max_by_key(|(i, x)| (**x, usize::MAX - *i))
        else {
            break;
        };
        w[i] -= 1;
    }
    if total(&w) < avail && !w.is_empty() {
        let spare = avail - total(&w);
        w[0] += spare.min(columns[0].max.saturating_sub(w[0]));
    }
    w
}

/// Draws `data` (filtered) in `area` inside `block`. `selected` indexes the filtered rows.
#[allow(clippy::too_many_arguments)] // the parts of one table view; a struct would only rename them
pub fn render(
    buf: &mut Buffer,
    area: Rect,
    block: Block<'_>,
    data: &TableData,
    filter: &str,
    selected: Option<usize>,
    theme: Theme,
    empty: &str,
) {
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let rows = data.filtered(filter);
    let w = widths(&data.columns, &rows, inner.width as usize);
    let cell = |i: usize, s: &str| {
        let line = Line::raw(fit(s, w[i]));
        if data.columns[i].right {
            line.right_aligned()
        } else {
            line
        }
    };
    let shown: Vec<usize> = (0..data.columns.len()).filter(|i| w[*i] > 0).collect();
    let header =
        Row::new(shown.iter().map(|i| cell(*i, &data.columns[*i].title)).collect::<Vec<_>>()).style(theme.header());
    // Only rows that can be on screen are built: the table scrolls just far enough to show the
    // selection, so no row more than a screenful before it is shown, nor one after it once the
    // rows from the selection on fill the screen. A long list costs no more than a short one.
    let sel = selected.filter(|s| *s < rows.len()).unwrap_or(0);
    let first = sel.saturating_sub(usize::from(inner.height));
    let mut body: Vec<Row> = Vec::new();
    let mut lines_from_sel = 0usize;
    for (k, r) in rows.iter().enumerate().skip(first) {
        if lines_from_sel > usize::from(inner.height) {
            break;
        }
        // Every cell as lines: a wrapped column's text over several, the others on one.
        let cells: Vec<Vec<Line>> = shown
            .iter()
            .map(|i| {
                let text = r.cells.get(*i).map_or("", String::as_str);
                if data.columns[*i].wrap && width(text) > w[*i] {
                    wrap(text, w[*i]).iter().map(|l| cell(*i, l)).collect()
                } else {
                    vec![cell(*i, text)]
                }
            })
            .collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        if k >= sel {
            lines_from_sel += height;
        }
        let cells = cells.into_iter().map(Text::from);
        body.push(Row::new(cells).height(height as u16).style(theme.mark(r.mark)));
    }
    let constraints: Vec<Constraint> = shown.iter().map(|i| Constraint::Length(w[*i] as u16)).collect();
    let table = Table::new(body, constraints).header(header).column_spacing(1).row_highlight_style(theme.selected());
    let mut state = TableState::default().with_selected(selected.filter(|s| *s < rows.len()).map(|s| s - first));
    StatefulWidget::render(table, inner, buf, &mut state);
    if rows.is_empty() && inner.height > 1 {
        let msg = Rect { y: inner.y + 1, height: 1, ..inner };
        Paragraph::new(Line::styled(format!(" {empty}"), theme.dim())).render(msg, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> TableData {
        TableData {
            columns: vec![Column::left("名称", 4, 30), Column::right("数", 2, 6)],
            rows: vec![
                TableRow::new("a", vec!["通州区救助管理站".into(), "5".into()]),
                TableRow::new("b", vec!["Point, \"B\"".into(), "12".into()]),
            ],
        }
    }

    #[test]
    fn widths_shrink_the_widest_and_give_spare_to_the_first() {
        let d = data();
        let rows = d.filtered("");
        assert_eq!(widths(&d.columns, &rows, 40), vec![30, 2]);
        assert_eq!(widths(&d.columns, &rows, 12), vec![9, 2]);
        let mut cols = d.columns.clone();
        cols[1] = cols[1].clone().optional();
        assert_eq!(widths(&cols, &rows, 12), vec![12, 0]);
        let mut cols = d.columns.clone();
        cols.push(Column::left("note", 4, 40).shrink_first());
        let rows: Vec<TableRow> = d
            .rows
            .iter()
            .cloned()
            .map(|mut r| {
                r.cells.push("x".repeat(30));
                r
            })
            .collect();
        let refs: Vec<&TableRow> = rows.iter().collect();
        assert_eq!(widths(&cols, &refs, 30), vec![16, 2, 10]);
    }

    #[test]
    fn a_wrapped_column_shows_its_text_whole() {
        let reason = "宋庄镇临时救助点床位已满：7/6，请协调转移到通州区救助管理站";
        let d = TableData {
            columns: vec![Column::left("名称", 4, 10), Column::left("原因", 8, 200).wrap()],
            rows: vec![
                TableRow::new("a", vec!["超员".into(), reason.into()]),
                TableRow::new("b", vec!["x".into(), "y".into()]),
            ],
        };
        let area = Rect::new(0, 0, 30, 8);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, Block::bordered(), &d, "", Some(0), Theme { color: false }, "");
        let text: String = (0..8)
            .map(|y| (0..30).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n");
        let flat: String = text.split('│').map(str::trim).collect::<Vec<_>>().join("").replace([' ', '\n'], "");
        assert!(flat.contains(&reason.replace(' ', "")), "{text}");
        // The next row starts below the wrapped one.
        assert!(text.lines().nth(5).is_some_and(|l| l.contains('x')), "{text}");
    }

    fn screen(buf: &Buffer) -> Vec<String> {
        let a = buf.area;
        (a.y..a.bottom()).map(|y| (a.x..a.right()).map(|x| buf[(x, y)].symbol().to_string()).collect()).collect()
    }

    /// The row labels (`r<n>`) on a screen, top to bottom.
    fn labels(screen: &[String]) -> Vec<usize> {
        let label = |l: &String| l.trim_matches(['│', ' ']).strip_prefix('r')?.split(' ').next()?.parse().ok();
        screen.iter().filter_map(label).collect()
    }

    #[test]
    fn a_long_list_shows_the_rows_ratatui_would_show() {
        // Every third row wraps over three lines. Only a screenful around the selection is built;
        // the rows on screen are the ones ratatui's table shows when given every row.
        let note = |i: usize| if i.is_multiple_of(3) { "很长的原因".repeat(3) } else { "短".into() };
        let rows = (0..1000).map(|i| TableRow::new(i.to_string(), vec![format!("r{i}"), note(i)])).collect();
        let d = TableData { columns: vec![Column::left("行", 5, 5), Column::left("原因", 4, 10).wrap()], rows };
        let area = Rect::new(0, 0, 20, 12);
        for sel in [0usize, 1, 9, 10, 11, 500, 998, 999] {
            let mut buf = Buffer::empty(area);
            render(&mut buf, area, Block::bordered(), &d, "", Some(sel), Theme { color: false }, "");
            let every = (0..1000).map(|i| {
                let lines = wrap(&note(i), 10).len().max(1);
                Row::new(vec![Text::from(format!("r{i} ")), Text::from("")]).height(lines as u16)
            });
            let table = Table::new(every, [Constraint::Length(5), Constraint::Length(10)])
                .header(Row::new(vec!["行", "原因"]))
                .column_spacing(1);
            let mut want = Buffer::empty(area);
            let inner = Block::bordered().inner(area);
            StatefulWidget::render(table, inner, &mut want, &mut TableState::default().with_selected(Some(sel)));
            let shown = labels(&screen(&buf));
            assert_eq!(shown, labels(&screen(&want)), "selection {sel}");
            assert!(shown.contains(&sel), "selection {sel} shown: {shown:?}");
        }
    }

    #[test]
    fn filter_and_csv() {
        let d = data();
        assert_eq!(d.filtered("救助").len(), 1);
        assert_eq!(d.filtered("point").len(), 1);
        let csv = String::from_utf8(d.to_csv("")).unwrap();
        assert_eq!(csv, "\u{feff}名称,数\r\n通州区救助管理站,5\r\n\"Point, \"\"B\"\"\",12\r\n");
    }
}
