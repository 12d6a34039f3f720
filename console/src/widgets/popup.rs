//! Centred popups (help, details). The area cleared is one column wider on each side than the
//! popup, so its border never lands on the right half of a wide character behind it.

use super::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2));
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Draws a bordered popup with `title` and `lines` centred in `area`, sized to fit them.
pub fn render(buf: &mut Buffer, area: Rect, title: &str, lines: Vec<Line<'_>>, theme: Theme, footer: &str) {
    render_scrolled(buf, area, title, lines, theme, footer, Scroll::default());
}

/// How far a popup's lines are scrolled, and the words that say so when they do not all fit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scroll<'a> {
    /// Lines scrolled off the top (at most up to the last line).
    pub offset: u16,
    /// Put before the footer while some lines are out of sight (`↑↓ 滚动`).
    pub hint: &'a str,
}

/// Draws a popup like [`render`], its lines scrolled by `scroll.offset`; while they do not all
/// fit, the footer starts with the hint and where the top line is (`3/30`).
pub fn render_scrolled(
    buf: &mut Buffer,
    area: Rect,
    title: &str,
    lines: Vec<Line<'_>>,
    theme: Theme,
    footer: &str,
    scroll: Scroll<'_>,
) {
    let content_w = lines.iter().map(Line::width).max().unwrap_or(0).max(super::text::width(title) + 2) as u16;
    let rect = centered(area, content_w + 4, lines.len() as u16 + 2);
    let clear = Rect {
        x: rect.x.saturating_sub(1).max(area.x),
        width: (rect.width + 2).min(area.right() - rect.x.saturating_sub(1).max(area.x)),
        ..rect
    };
    Clear.render(clear, buf);
    let text_w = rect.width.saturating_sub(4).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(text_w).max(1)).sum();
    let offset = scroll.offset.min(lines.len().saturating_sub(1) as u16);
    let footer = if rows > rect.height.saturating_sub(2) as usize {
        format!("{}  {}/{}  {footer}", scroll.hint, offset + 1, lines.len()).trim().to_string()
    } else {
        footer.to_string()
    };
    let mut block = Block::bordered().title(Span::styled(format!(" {title} "), theme.title()));
    if !footer.is_empty() {
        block = block.title_bottom(Span::styled(format!(" {footer} "), theme.dim()));
    }
    let inner = block.inner(rect);
    block.render(rect, buf);
    let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
    Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((offset, 0)).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;

    #[test]
    fn popup_over_wide_characters_keeps_its_border() {
        let area = Rect::new(0, 0, 30, 7);
        let mut buf = Buffer::empty(area);
        for y in 0..7 {
            buf.set_string(0, y, "通州区救助管理站通州区救助管理站", ratatui::style::Style::new());
        }
        render(&mut buf, area, "T", vec![Line::raw("abcdefghi")], Theme { color: false }, "");
        // Find the left border on the middle line: the cell must be a border symbol and the
        // cell to its left blank (cleared), not half of a wide character.
        let y = 3;
        let x = (0..30).find(|x| buf[(*x, y)].symbol() == "│").expect("left border drawn");
        assert_eq!(buf[(x - 1, y)].symbol(), " ");
    }
}
