//! The time and date formats the feeds accept, and compact serde forms for stored records.
//!
//! Times: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` / `YYYY/MM/DD HH:MM[:SS]` as local time in the
//! configured zone. Dates: `YYYY-MM-DD` or `YYYY/MM/DD`.

use crate::id_number::redact_id_numbers;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Why a time or date value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text given, not a time in any accepted format.
    #[error("`{0}` is not a time: use 2026-03-01 08:30, 2026/03/01 08:30:00 or RFC 3339")]
    BadTime(String),
    /// The text given, not a date in any accepted format.
    #[error("`{0}` is not a date: use 2026-03-01 or 2026/03/01")]
    BadDate(String),
}

/// Parses a feed time; local forms are taken in `tz`.
///
/// Accepted:
/// - RFC 3339 with an offset or `Z` (`2026-03-01T08:30:00+08:00`, `2026-03-01T00:30:00Z`);
/// - `YYYY-MM-DD HH:MM[:SS[.fff]]` and `YYYY/MM/DD HH:MM[:SS[.fff]]`, also with a `T` instead of
///   the blank, and with one-digit month, day or hour as Excel writes them (`2026/3/1 8:05`):
///   local time in `tz`. A local time that falls in a DST gap or fold is resolved the usual way
///   (the earlier offset for a fold, pushed forward for a gap).
///
/// Surrounding blanks are ignored.
pub fn parse_time(text: &str, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    let t = text.trim();
    let bad = || TimeError::BadTime(redact_id_numbers(t));
    if let Some(dt) = parse_local_datetime(t) {
        return tz.to_ambiguous_timestamp(dt).compatible().map_err(|_| bad());
    }
    // Anything else must carry its own offset.
    if !t.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    t.parse::<Timestamp>().map_err(|_| bad())
}

/// Parses a feed date: `YYYY-MM-DD` or `YYYY/MM/DD`, one-digit month and day accepted
/// (`2026/3/1`). A time of exactly midnight after the date (`2026/3/1 0:00`, as Excel writes date
/// cells of a date-time column) is tolerated. Surrounding blanks are ignored.
pub fn parse_date(text: &str) -> Result<Date, TimeError> {
    let t = text.trim();
    let bad = || TimeError::BadDate(redact_id_numbers(t));
    if let Some(d) = parse_civil_date(t) {
        return Ok(d);
    }
    match parse_local_datetime(t) {
        Some(dt) if dt.time() == Time::midnight() => Ok(dt.date()),
        _ => Err(bad()),
    }
}

/// `YYYY-M-D` or `YYYY/M/D` (one or two digits for month and day; one separator throughout).
fn parse_civil_date(t: &str) -> Option<Date> {
    let sep = if t.contains('-') { '-' } else { '/' };
    let mut parts = t.split(sep);
    let y = parts.next()?;
    let m = parts.next()?;
    let d = parts.next()?;
    if parts.next().is_some() || y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    Date::new(digits(y)?.try_into().ok()?, digits(m)?.try_into().ok()?, digits(d)?.try_into().ok()?).ok()
}

/// `<date>[ T]H:MM[:SS[.fraction]]`, no offset.
fn parse_local_datetime(t: &str) -> Option<DateTime> {
    let split = t.find([' ', 'T', 't'])?;
    let date = parse_civil_date(&t[..split])?;
    let rest = t[split + 1..].trim_start();
    let (hms, frac) = match rest.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (rest, None),
    };
    let mut parts = hms.split(':');
    let h = parts.next()?;
    let m = parts.next()?;
    let s = parts.next();
    if parts.next().is_some() || !(1..=2).contains(&h.len()) || m.len() != 2 || s.is_some_and(|s| s.len() != 2) {
        return None;
    }
    // A fraction only after seconds: 1 to 9 digits.
    let nanos = match (s, frac) {
        (_, None) => 0,
        (Some(_), Some(f)) if (1..=9).contains(&f.len()) => digits(f)? * 10i64.pow(9 - f.len() as u32),
        _ => return None,
    };
    let time = Time::new(
        digits(h)?.try_into().ok()?,
        digits(m)?.try_into().ok()?,
        s.map_or(Some(0), digits)?.try_into().ok()?,
        nanos.try_into().ok()?,
    )
    .ok()?;
    Some(date.to_datetime(time))
}

/// An unsigned decimal made of ASCII digits only (no sign, no blanks).
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Serde adapter storing a [`Timestamp`] as integer milliseconds since the Unix epoch.
pub(crate) mod millis {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.as_millisecond())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let ms = i64::deserialize(d)?;
        Timestamp::from_millisecond(ms).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn sh() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn local_times_in_a_gap_move_forward_and_in_a_fold_take_the_earlier_offset() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let at = |t: &str| parse_time(t, &ny).unwrap().to_string();
        assert_eq!(at("2026-03-08 02:30"), "2026-03-08T07:30:00Z");
        assert_eq!(at("2026-11-01 01:30"), "2026-11-01T05:30:00Z");
        assert_eq!(at("2026-11-01 02:30"), "2026-11-01T07:30:00Z");
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn rfc3339_with_offset_or_z() {
        assert_eq!(parse_time("2026-03-01T08:30:00+08:00", &sh()).unwrap(), ts("2026-03-01T00:30:00Z"));
        assert_eq!(parse_time("2026-03-01T00:30:00Z", &sh()).unwrap(), ts("2026-03-01T00:30:00Z"));
        assert_eq!(parse_time("2026-03-01T00:30:00.250z", &sh()).unwrap(), ts("2026-03-01T00:30:00.25Z"));
        assert_eq!(parse_time("2026-03-01 02:30:00+02:00", &sh()).unwrap(), ts("2026-03-01T00:30:00Z"));
        // The offset wins over the configured zone.
        let utc = TimeZone::UTC;
        assert_eq!(parse_time("2026-03-01T08:30:00+08:00", &utc).unwrap(), ts("2026-03-01T00:30:00Z"));
    }

    #[test]
    fn local_forms_in_the_zone() {
        let want = ts("2026-03-01T00:30:00Z");
        for text in [
            "2026-03-01 08:30",
            "2026-03-01 08:30:00",
            "2026/03/01 08:30",
            "2026/03/01 08:30:00",
            "2026-03-01T08:30:00",
            "2026-03-01T08:30",
            "2026/3/1 8:30",
            "2026-3-1 8:30:00",
            "  2026-03-01 08:30  ",
            "2026-03-01 08:30:00.000",
        ] {
            assert_eq!(parse_time(text, &sh()).unwrap(), want, "{text}");
        }
        assert_eq!(parse_time("2026/3/1 8:05", &sh()).unwrap(), ts("2026-03-01T00:05:00Z"));
        assert_eq!(parse_time("2026-03-01 08:30", &TimeZone::UTC).unwrap(), ts("2026-03-01T08:30:00Z"));
    }

    #[test]
    fn shanghai_is_plus_eight_all_year() {
        for (local, utc) in [
            ("2026-01-15 12:00", "2026-01-15T04:00:00Z"),
            ("2026-07-15 12:00", "2026-07-15T04:00:00Z"),
            ("2026-12-31 23:59:59", "2026-12-31T15:59:59Z"),
        ] {
            assert_eq!(parse_time(local, &sh()).unwrap(), ts(utc), "{local}");
        }
    }

    #[test]
    fn time_rejects() {
        for text in [
            "",
            "yesterday",
            "2026-13-01 08:00",
            "2026-02-30 08:00",
            "2026-03-01",
            "2026-03-01 24:00",
            "2026-03-01 08:60",
            "2026-03-01 8",
            "2026-03/01 08:00",
            "26-03-01 08:00",
            "2026-03-01 08:30.5",
            "2026-03-01T08:30:00+08:00x",
            "2026-03-01T08:30:00 Asia/Shanghai",
            "-2026-03-01 08:00",
        ] {
            assert!(parse_time(text, &sh()).is_err(), "{text}");
        }
        assert_eq!(parse_time(" yesterday ", &sh()), Err(TimeError::BadTime("yesterday".into())));
    }

    #[test]
    fn dates() {
        for text in [
            "2026-03-01",
            "2026/03/01",
            "2026/3/1",
            "2026-3-01",
            " 2026-03-01 ",
            "2026/3/1 0:00",
            "2026-03-01 00:00:00",
        ] {
            assert_eq!(parse_date(text).unwrap(), date(2026, 3, 1), "{text}");
        }
        assert_eq!(parse_date("2024-02-29").unwrap(), date(2024, 2, 29));
    }

    #[test]
    fn date_rejects() {
        for text in [
            "2026-13-01",
            "yesterday",
            "2026-02-30",
            "2025-02-29",
            "",
            "2026-03",
            "20260301",
            "2026.03.01",
            "2026-03-01 08:00",
            "2026-003-01",
            "2026-03-01-01",
        ] {
            assert!(parse_date(text).is_err(), "{text}");
        }
        assert_eq!(parse_date("2026-02-30"), Err(TimeError::BadDate("2026-02-30".into())));
    }

    #[test]
    fn errors_mask_id_numbers() {
        let e = parse_time("11010519491231002X", &sh()).unwrap_err().to_string();
        assert!(e.contains("110105********002X"), "{e}");
        let e = parse_date("11010519491231002X").unwrap_err().to_string();
        assert!(!e.contains("11010519491231002X"), "{e}");
    }
}
