//! A drawn region kept between frames. The console redraws every second for its clocks, but
//! most of a dashboard view depends only on the pushed dashboard: such a part is drawn once
//! per dashboard and its cells copied on the frames that follow.
//!
//! Invariants: a kept region is used only for the same key and the same area; the drawing
//! function writes only inside its area and onto a cleared buffer (ratatui clears the frame's
//! buffer before every draw), so copying the area's cells gives exactly what drawing would.
//! Whatever the key does not cover must be drawn after the memo, every frame.

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use std::cell::RefCell;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A key for [`RegionMemo::draw`]: a hash of everything the kept drawing reads.
pub fn key(inputs: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    inputs.hash(&mut h);
    h.finish()
}

/// One kept region and what its drawing returned (e.g. where the parts drawn every frame go).
#[derive(Debug, Default)]
pub struct RegionMemo<T> {
    kept: RefCell<Option<Kept<T>>>,
}

#[derive(Debug)]
struct Kept<T> {
    key: u64,
    area: Rect,
    cells: Vec<Cell>,
    value: T,
}

impl<T: Clone> RegionMemo<T> {
    /// Draws `area` of `buf` with `draw`, or copies the cells kept from the last time it was
    /// drawn with the same `key` and area. Returns what `draw` returned.
    pub fn draw(&self, buf: &mut Buffer, area: Rect, key: u64, draw: impl FnOnce(&mut Buffer) -> T) -> T {
        let area = area.intersection(buf.area);
        let mut kept = self.kept.borrow_mut();
        if let Some(k) = kept.as_ref().filter(|k| k.key == key && k.area == area) {
            for (row, y) in k.cells.chunks(usize::from(area.width).max(1)).zip(area.top()..area.bottom()) {
                let start = buf.index_of(area.x, y);
                buf.content[start..start + row.len()].clone_from_slice(row);
            }
            return k.value.clone();
        }
        let value = draw(buf);
        let mut cells = Vec::with_capacity(usize::from(area.width) * usize::from(area.height));
        for y in area.top()..area.bottom() {
            let start = buf.index_of(area.x, y);
            cells.extend_from_slice(&buf.content[start..start + usize::from(area.width)]);
        }
        *kept = Some(Kept { key, area, cells, value: value.clone() });
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::widgets::{Paragraph, Widget};

    #[test]
    fn the_same_key_copies_what_was_drawn_and_another_key_draws_again() {
        let memo = RegionMemo::default();
        let area = Rect::new(2, 1, 6, 2);
        let draw = |buf: &mut Buffer, key: u64, text: &str| {
            let mut calls = 0;
            let v = memo.draw(buf, area, key, |b| {
                calls += 1;
                Paragraph::new(text.to_string()).render(area, b);
                text.len()
            });
            (v, calls)
        };
        let mut first = Buffer::empty(Rect::new(0, 0, 10, 4));
        assert_eq!(draw(&mut first, 1, "通州 ok"), (9, 1));
        let mut again = Buffer::empty(Rect::new(0, 0, 10, 4));
        assert_eq!(draw(&mut again, 1, "ignored"), (9, 0));
        assert_eq!(again, first, "a kept region is copied cell for cell");
        let mut other = Buffer::empty(Rect::new(0, 0, 10, 4));
        assert_eq!(draw(&mut other, 2, "new"), (3, 1));
        assert_ne!(other, first);
        // Another area with the old key draws again too.
        let mut moved = Buffer::empty(Rect::new(0, 0, 10, 4));
        let calls = std::cell::Cell::new(0);
        memo.draw(&mut moved, Rect::new(0, 0, 6, 2), 2, |_| {
            calls.set(calls.get() + 1);
            0
        });
        assert_eq!(calls.get(), 1);
    }
}
