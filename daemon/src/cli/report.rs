//! `mzd report day|month`: the statistics reports (统计报表, SPEC §8) as text, CSV or JSON;
//! against the city daemon, each district's report side by side with city totals.

use super::runtime;
use anyhow::Result;
use clap::Subcommand;
use mz_client::{AnyReport, Client};
use mz_shared::statistics::{city, render, Period, PeriodKind};
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(super) enum ReportCommand {
    /// One day (default: yesterday, in the registry's time zone).
    Day {
        /// YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
    },
    /// One month (default: last month).
    Month {
        /// YYYY-MM.
        #[arg(long)]
        month: Option<String>,
    },
}

/// `mzd report`: the report asked for, printed as text, CSV or JSON.
pub(super) fn report(
    socket: &std::path::Path,
    command: ReportCommand,
    format: &str,
    english: bool,
) -> Result<ExitCode> {
    let (kind, period) = match command {
        ReportCommand::Day { date } => (PeriodKind::Day, date.as_deref().map(Period::parse_day).transpose()?),
        ReportCommand::Month { month } => (PeriodKind::Month, month.as_deref().map(Period::parse_month).transpose()?),
    };
    let r =
        runtime()?.block_on(async { Client::connect(socket, "mzd report").await?.any_report(kind, period).await })?;
    let text = match (r, format) {
        (AnyReport::District(r), "json") => format!("{}\n", serde_json::to_string_pretty(&r)?),
        (AnyReport::District(r), "csv") => render::csv(&r, english),
        (AnyReport::District(r), _) => render::text(&r, english),
        (AnyReport::City(r), "json") => format!("{}\n", serde_json::to_string_pretty(&r)?),
        (AnyReport::City(r), "csv") => city::csv(&r, english),
        (AnyReport::City(r), _) => city::text(&r, english),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
