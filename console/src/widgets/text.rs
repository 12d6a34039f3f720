//! Text measured in terminal columns (Chinese characters take two): fitting, padding, times.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display width in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cuts `s` to at most `max` columns, ending in `..` when cut; never splits a wide character.
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max <= 2 {
        return ".".repeat(max);
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max - 2 {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push_str("..");
    out
}

/// `s` fitted into exactly `w` columns, left-aligned.
pub fn pad_right(s: &str, w: usize) -> String {
    let s = fit(s, w);
    let n = w - width(&s);
    format!("{s}{}", " ".repeat(n))
}

/// `s` fitted into exactly `w` columns, right-aligned.
pub fn pad_left(s: &str, w: usize) -> String {
    let s = fit(s, w);
    let n = w - width(&s);
    format!("{}{s}", " ".repeat(n))
}

/// A share `0.0..=1.0` as `12.5%`, `-` when unknown.
pub fn percent(share: Option<f64>) -> String {
    match share {
        Some(v) if v.is_finite() => format!("{:.1}%", v * 100.0),
        _ => "-".to_string(),
    }
}

/// The zone of the registry, falling back to Asia/Shanghai (the registry default), then UTC.
pub fn zone(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name)
        .or_else(|_| jiff::tz::TimeZone::get("Asia/Shanghai"))
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Unix milliseconds rendered with a strftime `format` in `tz`.
pub fn time(ms: i64, tz: &jiff::tz::TimeZone, format: &str) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_zoned(tz.clone()).strftime(format).to_string(),
        Err(_) => "-".to_string(),
    }
}

/// `MM-DD HH:MM`, the compact time of tables.
pub fn short_time(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    time(ms, tz, "%m-%d %H:%M")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_respects_wide_characters() {
        assert_eq!(fit("通州区救助管理站", 16), "通州区救助管理站");
        assert_eq!(fit("通州区救助管理站", 9), "通州区..");
        assert_eq!(width(&fit("通州区救助管理站", 9)), 8);
        assert_eq!(pad_right("通州", 6), "通州  ");
        assert_eq!(pad_left("12", 4), "  12");
        assert_eq!(width(&pad_right("马驹桥镇临时救助点", 7)), 7);
    }

    #[test]
    fn times_in_the_registry_zone() {
        let tz = zone("Asia/Shanghai");
        assert_eq!(time(0, &tz, "%Y-%m-%d %H:%M"), "1970-01-01 08:00");
        assert_eq!(short_time(0, &zone("Nowhere/Bogus")), "01-01 08:00");
        assert_eq!(percent(Some(0.125)), "12.5%");
        assert_eq!(percent(None), "-");
    }
}
