//! The `mzd` command line: [`Cli`] and its commands, one module per command group. Each module
//! owns its clap subcommands and the function that runs them; commands that talk to the daemon
//! use the typed `mz_client::Client` and print its typed answers (`--json` prints them as they
//! are). To add a command group: a module with its `Subcommand` enum and a `pub(super) fn`, one
//! variant in [`Command`] and one arm in [`run`].
//!
//! Errors: a refusal by the daemon (`ClientError::Refused`) and every other failure end the
//! command with exit 1 and `mzd: reason` on stderr (see `main`); `status` exits 2 when the daemon
//! cannot be reached.

mod alert;
mod audit;
mod case;
mod check;
mod daemon;
mod export;
mod fund;
mod report;
mod status;
mod task;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mz_shared::feed::Feed;
use mz_shared::protocol::{ExportFormat, ExportWhat};
use mz_shared::registry::DEMO_REGISTRY;
use mzd::config::{self, LogFormat, RunFlags};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mzd",
    version,
    about = "mz daemon: watches the inbox, validates and stores feed files, serves the console"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground (logs to stderr; SIGTERM/SIGINT stop it cleanly).
    Run {
        /// TOML config file (keys: data, inbox, socket, registry, log_format, metrics, socket_group).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data folder (store, archive, quarantine). Default ./mz-data.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Inbox folder. Default <data>/inbox.
        #[arg(long)]
        inbox: Option<PathBuf>,
        /// Unix socket. Default <data>/mzd.sock.
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Log format on stderr; the level comes from RUST_LOG (default info).
        #[arg(long, value_enum)]
        log_format: Option<LogFormat>,
        /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9464).
        #[arg(long)]
        metrics: Option<String>,
    },
    /// Show the daemon's status. Exit 0 healthy, 1 unhealthy, 2 unreachable.
    Status {
        #[arg(long)]
        socket: Option<PathBuf>,
        /// One JSON object (SPEC §6).
        #[arg(long)]
        json: bool,
    },
    /// Validate a drop file without storing anything. Exit 0 when every row is valid.
    Check {
        file: PathBuf,
        /// The feed; default: from the file's folder name.
        #[arg(long)]
        feed: Option<Feed>,
        #[arg(long)]
        json: bool,
        /// Registry to check codes against. Default ./mz-data/registry.toml, else the demo registry.
        #[arg(long)]
        registry: Option<PathBuf>,
    },
    /// Print every stored record of a feed (ID numbers masked).
    Export {
        /// admissions | burials | marriages | cases | audit
        what: ExportWhat,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        #[arg(long)]
        socket: Option<PathBuf>,
    },
    /// 救急难 cases: open, list, show, act.
    Case {
        #[command(subcommand)]
        command: case::CaseCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Station tasks (在站事项): list them, complete one (as the console's station view does).
    Task {
        #[command(subcommand)]
        command: task::TaskCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Alerts: list them, acknowledge one (as the console's alerts view does).
    Alert {
        #[command(subcommand)]
        command: alert::AlertCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Reserve funds (临时救助备用金) per street.
    Fund {
        #[command(subcommand)]
        command: fund::FundCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Statistics reports (统计报表, SPEC §8): the day or the month, as text, CSV or JSON.
    Report {
        #[command(subcommand)]
        command: report::ReportCommand,
        /// text (default), csv (UTF-8 with a BOM, for Excel) or json.
        #[arg(long, global = true, value_parser = ["text", "csv", "json"], default_value = "text")]
        format: String,
        /// Language of the text and CSV (JSON keys are English).
        #[arg(long, global = true, value_parser = ["zh", "en"], default_value = "zh")]
        lang: String,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// The audit trail of case actions.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Copy a consistent snapshot of the store, the ID-hash key and the registry into a new
    /// folder (on the daemon's machine; admin role).
    Backup {
        dest_dir: PathBuf,
        #[arg(long)]
        socket: Option<PathBuf>,
    },
    /// Rebuild a damaged store: move it aside and ingest every archived file again, oldest
    /// first. Run with the daemon stopped. Cases and the audit trail are not in the archive.
    Rebuild {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Print the demo registry (a district modelled on Tongzhou) to start a registry.toml from.
    DemoRegistry,
    /// Run the city-level roll-up daemon (SPEC §9): consumes what the districts publish to NATS.
    City {
        /// TOML config (keys: url, credentials, data, socket, city_key, name, [[district]]).
        #[arg(long, default_value = "city.toml")]
        config: PathBuf,
        /// Data folder (its own store). Default from the config, else ./mz-city.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Unix socket. Default <data>/mzd.sock.
        #[arg(long)]
        socket: Option<PathBuf>,
        #[arg(long, value_enum)]
        log_format: Option<LogFormat>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

/// Runs one command: its exit code, or the error `main` reports.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run { config, data, inbox, socket, log_format, metrics } => {
            daemon::run(config, RunFlags { data, inbox, socket, log_format, metrics })
        }
        Command::Status { socket, json } => status::status(&config::client_socket(socket), json),
        Command::Check { file, feed, json, registry } => check::check(file, feed, json, registry),
        Command::Export { what, format, socket } => {
            let format = match format {
                Format::Csv => ExportFormat::Csv,
                Format::Jsonl => ExportFormat::Jsonl,
            };
            export::export(&config::client_socket(socket), what, format)
        }
        Command::Case { command, socket } => case::case_command(command, &config::client_socket(socket)),
        Command::Task { command, socket } => task::task_command(command, &config::client_socket(socket)),
        Command::Alert { command, socket } => alert::alert_command(command, &config::client_socket(socket)),
        Command::Fund { command: fund::FundCommand::List { json, lang }, socket } => {
            fund::fund_list(&config::client_socket(socket), json, lang == "en")
        }
        Command::Report { command, format, lang, socket } => {
            report::report(&config::client_socket(socket), command, &format, lang == "en")
        }
        Command::Audit { command: audit::AuditCommand::Verify { anchor, entries, head, json }, socket } => {
            let anchors = audit::audit_anchors(&anchor, entries, head.as_deref())?;
            audit::audit_verify(&config::client_socket(socket), anchors, json)
        }
        Command::Backup { dest_dir, socket } => export::backup(&config::client_socket(socket), dest_dir),
        Command::Rebuild { config, data } => daemon::rebuild(config, data),
        Command::City { config, data, socket, log_format } => daemon::city(config, data, socket, log_format),
        Command::DemoRegistry => {
            write!(std::io::stdout(), "{DEMO_REGISTRY}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The error and its causes, leaving out causes the message already quotes.
pub(crate) fn error_chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the runtime")
}
