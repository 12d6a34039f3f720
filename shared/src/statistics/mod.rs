//! Statistics reports (统计报表, SPEC §8): periods, the per-day figure record the daemon keeps
//! with every commit, merging days into a period with the midnight census, the report with its
//! stable JSON keys, and its CSV and text renderings.
//!
//! Pure: dates and "now" are passed in; the daemon keeps and stores the day figures, writes the
//! files, and answers `mzd report`.
//!
//! - [`period`]: a day or a month, parsing, neighbours, file keys.
//! - [`figures`]: [`DayFigures`], what one local day counted, and how records and actions change it.
//! - [`report`]: [`Report`] (the JSON), the census, building a report from merged days.
//! - [`render`]: the tables, CSV for Excel (BOM, CRLF) and aligned text.
//! - [`city`]: what a district publishes for the city's reports, and the city report (each
//!   district side by side with city totals).

pub mod city;
pub mod figures;
pub mod period;
pub mod render;
pub mod report;
#[cfg(test)]
mod tests;

pub use figures::{case_events, is_cross_district, CaseEvent, DayFigures};
pub use period::{Period, PeriodError, PeriodKind};
pub use report::{build, census, Census, Report, ReportInput};
