//! Text laid out in columns for terminals and plain-text reports: display width (CJK and other
//! wide characters take two columns, per `unicode-width`) and padding to a width.

/// Terminal columns of `s`.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` padded with spaces to `w` columns, on the left when `right` (numbers), else on the right.
pub fn pad(s: &str, w: usize, right: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(width("通州区 ab"), 9);
        assert_eq!(pad("区", 4, false), "区  ");
        assert_eq!(pad("12", 4, true), "  12");
    }
}
