//! Report periods: a calendar day or a calendar month in the registry's time zone.
//!
//! Invariant: a period is a closed range of civil dates (`from..=to`); a month runs from its
//! first to its last day. Which period has ended is decided by the caller's "today".

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A day (日报) or a month (月报).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// One calendar day in the registry's zone.
    Day(Date),
    /// Any date of the month stands for it; kept as its first day.
    Month(Date),
}

/// The kind of a period, as `mzd report day|month` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// A calendar day (日报).
    Day,
    /// A calendar month (月报).
    Month,
}

impl PeriodKind {
    /// `day` or `month`, as in `period.kind` of a report.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Month => "month",
        }
    }
}

/// Why a period could not be read from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The text given for a day.
    #[error("`{0}` is not a date: write YYYY-MM-DD (日期格式应为 YYYY-MM-DD)")]
    Day(String),
    /// The text given for a month.
    #[error("`{0}` is not a month: write YYYY-MM (月份格式应为 YYYY-MM)")]
    Month(String),
}

impl Period {
    /// The month holding `date`.
    pub fn month_of(date: Date) -> Period {
        Period::Month(date.first_of_month())
    }

    /// `YYYY-MM-DD` (or `YYYY/MM/DD`).
    pub fn parse_day(text: &str) -> Result<Period, PeriodError> {
        crate::time::parse_date(text.trim()).map(Period::Day).map_err(|_| PeriodError::Day(text.to_owned()))
    }

    /// `YYYY-MM` (or `YYYY/MM`).
    pub fn parse_month(text: &str) -> Result<Period, PeriodError> {
        let t = text.trim().replace('/', "-");
        let err = || PeriodError::Month(text.to_owned());
        let (y, m) = t.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return Err(err());
        }
        let (y, m) = (y.parse::<i16>().map_err(|_| err())?, m.parse::<i8>().map_err(|_| err())?);
        Date::new(y, m, 1).map(Period::Month).map_err(|_| err())
    }

    /// The day before `today` (the default of `mzd report day`).
    pub fn yesterday(today: Date) -> Period {
        Period::Day(today.yesterday().unwrap_or(today))
    }

    /// The month before `today`'s (the default of `mzd report month`).
    pub fn last_month(today: Date) -> Period {
        Period::month_of(today.first_of_month().yesterday().unwrap_or(today))
    }

    /// Day or month.
    pub fn kind(self) -> PeriodKind {
        match self {
            Period::Day(_) => PeriodKind::Day,
            Period::Month(_) => PeriodKind::Month,
        }
    }

    /// The first day.
    pub fn from(self) -> Date {
        match self {
            Period::Day(d) => d,
            Period::Month(d) => d.first_of_month(),
        }
    }

    /// The last day.
    pub fn to(self) -> Date {
        match self {
            Period::Day(d) => d,
            Period::Month(d) => d.last_of_month(),
        }
    }

    /// Every day, in order.
    pub fn days(self) -> impl Iterator<Item = Date> {
        let to = self.to();
        std::iter::successors(Some(self.from()), move |d| d.tomorrow().ok().filter(|n| *n <= to))
    }

    /// Whether `date` is one of the period's days.
    pub fn contains(self, date: Date) -> bool {
        (self.from()..=self.to()).contains(&date)
    }

    /// True once its last day is over, given the local date `today`.
    pub fn has_ended(self, today: Date) -> bool {
        self.to() < today
    }

    /// The period before (←).
    pub fn previous(self) -> Period {
        match self {
            Period::Day(d) => Period::Day(d.yesterday().unwrap_or(d)),
            Period::Month(d) => Period::month_of(d.first_of_month().yesterday().unwrap_or(d)),
        }
    }

    /// The period after (→).
    pub fn next(self) -> Period {
        match self {
            Period::Day(d) => Period::Day(d.tomorrow().unwrap_or(d)),
            Period::Month(d) => Period::month_of(d.last_of_month().tomorrow().unwrap_or(d)),
        }
    }

    /// `2026-11-29` or `2026-11`: the file name of its report, without the extension.
    pub fn key(self) -> String {
        match self {
            Period::Day(d) => d.to_string(),
            Period::Month(d) => format!("{:04}-{:02}", d.year(), d.month()),
        }
    }

    /// A title for people: `2026年11月29日` / `2026年11月`, or `2026-11-29` / `November 2026`.
    pub fn title(self, english: bool) -> String {
        match (self, english) {
            (Period::Day(d), false) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
            (Period::Month(d), false) => format!("{}年{}月", d.year(), d.month()),
            (Period::Day(d), true) => d.to_string(),
            (Period::Month(d), true) => format!("{} {}", MONTHS[(d.month() - 1) as usize], d.year()),
        }
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}
