//! The time and date formats the feeds accept, and compact serde forms for stored records.
//!
//! Times: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` / `YYYY/MM/DD HH:MM[:SS]` as local time in the
//! configured zone. Dates: `YYYY-MM-DD` or `YYYY/MM/DD`.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Why a time or date value was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not a time: use 2026-03-01 08:30, 2026/03/01 08:30:00 or RFC 3339")]
    BadTime(String),
    #[error("`{0}` is not a date: use 2026-03-01 or 2026/03/01")]
    BadDate(String),
}

/// Parses a feed time; local forms are taken in `tz`.
pub fn parse_time(text: &str, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    let _ = (text, tz);
    todo!("helper: implement")
}

/// Parses a feed date.
pub fn parse_date(text: &str) -> Result<Date, TimeError> {
    let _ = text;
    todo!("helper: implement")
}

/// Serde adapter storing a [`Timestamp`] as integer milliseconds since the Unix epoch.
pub mod millis {
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
