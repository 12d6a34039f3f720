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

/// `s` ending in `..` within `max` columns: it says that more followed.
pub fn cut(s: &str, max: usize) -> String {
    let kept = fit(s, max.saturating_sub(2));
    format!("{}..", kept.strip_suffix("..").unwrap_or(&kept))
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

/// The last `w` columns of `s`, starting with `..` when cut (what is being typed stays visible).
pub fn tail(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 2 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.reverse();
    format!("..{}", out.into_iter().collect::<String>())
}

/// Cuts `s` into lines of at most `w` columns: between words (runs of ASCII letters, digits and
/// punctuation such as `¥117,999.50` stay whole when they fit) or between wide characters, never
/// inside a wide character.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(2);
    // Tokens: a run of narrow non-blank characters, or one other character.
    let mut tokens: Vec<String> = Vec::new();
    for ch in s.chars() {
        let narrow_word = !ch.is_whitespace() && ch.width().unwrap_or(0) == 1;
        match tokens.last_mut() {
            Some(t) if narrow_word && t.chars().last().is_some_and(|c| !c.is_whitespace() && c.width() == Some(1)) => {
                t.push(ch)
            }
            _ => tokens.push(ch.to_string()),
        }
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for t in tokens {
        let tw = width(&t);
        if width(&cur) + tw > w {
            if tw > w {
                // A word longer than a line: cut it by characters.
                for ch in t.chars() {
                    if width(&cur) + ch.width().unwrap_or(0) > w {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur.push(ch);
                }
                continue;
            }
            out.push(std::mem::take(&mut cur).trim_end().to_string());
            if t.trim().is_empty() {
                continue;
            }
        }
        cur.push_str(&t);
    }
    out.push(cur);
    out
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
        assert_eq!(tail("abcdef", 4), "..ef");
        assert_eq!(cut("通州区", 8), "通州区..");
        assert_eq!(cut("通州区救助管理站", 8), "通州..");
        assert_eq!(tail("通州区救助", 7), "..救助");
    }

    #[test]
    fn wrapping_keeps_amounts_whole_and_wide_characters_intact() {
        let lines = wrap("从宋庄镇备用金拨付 ¥2,000.50 给案件，拨付后余额 ¥117,999.50。", 30);
        assert!(lines.iter().all(|l| width(l) <= 30), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("¥117,999.50")), "{lines:?}");
        assert_eq!(wrap("abc", 10), ["abc"]);
        assert_eq!(wrap("通州区救助管理站", 5), ["通州", "区救", "助管", "理站"]);
        assert_eq!(wrap(&"x".repeat(12), 5), ["xxxxx", "xxxxx", "xx"]);
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
