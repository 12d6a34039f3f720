//! `mzd fund list`: the reserve funds (临时救助备用金) per street.

use super::runtime;
use anyhow::Result;
use clap::Subcommand;
use mz_client::Client;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(super) enum FundCommand {
    /// One line per street: allotment, paid, pending approval, balance, open cases.
    List {
        /// One JSON array of objects (street, name, initial_fen, paid_fen, pending_fen,
        /// balance_fen, cases_open).
        #[arg(long)]
        json: bool,
        /// Language of the table's headers.
        #[arg(long, value_parser = ["zh", "en"], default_value = "zh")]
        lang: String,
    },
}

/// `mzd fund list`: the reserve funds as JSON or as a table.
pub(super) fn fund_list(socket: &std::path::Path, json: bool, english: bool) -> Result<ExitCode> {
    let funds = runtime()?.block_on(async { Client::connect(socket, "mzd fund").await?.fund_list().await })?;
    let mut out = std::io::stdout().lock();
    if json {
        let list: Vec<_> = funds.iter().map(mzd::funds::fund_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
    } else {
        write!(out, "{}", mzd::funds::fund_table(&funds, english))?;
    }
    Ok(ExitCode::SUCCESS)
}
