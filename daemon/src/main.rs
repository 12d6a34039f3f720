//! `mzd`: the mz daemon and its ops command line.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mz_shared::feed::Feed;
use mz_shared::protocol::{ExportFormat, ExportWhat, Request, ServerMessage, StatusReport};
use mz_shared::registry::{Registry, DEMO_REGISTRY};
use mzd::check;
use mzd::client::Client;
use mzd::config::{self, ConfigFile, LogFormat, RunFlags};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mzd",
    version,
    about = "mz daemon: watches the inbox, validates and stores feed files, serves the console"
)]
struct Cli {
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
    /// Print the demo registry (a district modelled on Tongzhou) to start a registry.toml from.
    DemoRegistry,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // `mzd export … | head`: the reader went away, which is not an error.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mzd: {}", error_chain(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes, leaving out causes the message already quotes.
fn error_chain(e: &anyhow::Error) -> String {
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

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("starting the runtime")
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run { config, data, inbox, socket, log_format, metrics } => {
            let file = match &config {
                Some(p) => ConfigFile::load(p)?,
                None => ConfigFile::default(),
            };
            let (settings, log_format) = config::resolve(RunFlags { data, inbox, socket, log_format, metrics }, file);
            init_logging(log_format);
            let rt = runtime()?;
            rt.block_on(async {
                let stop = async {
                    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("installing a SIGTERM handler");
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = tokio::signal::ctrl_c() => {},
                    }
                };
                mzd::service::run(settings, stop).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { socket, json } => {
            let socket = config::client_socket(socket);
            let rt = runtime()?;
            let status = rt.block_on(async {
                let mut c = Client::connect(&socket, "mzd status").await?;
                match c.call(Request::Status).await? {
                    ServerMessage::Status(s) => Ok(*s),
                    other => anyhow::bail!("unexpected answer: {other:?}"),
                }
            });
            let status: StatusReport = match status {
                Ok(s) => s,
                Err(e) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({"healthy": false, "reachable": false, "error": e.to_string()})
                        );
                    }
                    eprintln!("mzd: {}", error_chain(&e));
                    return Ok(ExitCode::from(2));
                }
            };
            if json {
                writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&status)?)?;
            } else {
                print_status(&status)?;
            }
            Ok(if status.healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Check { file, feed, json, registry } => {
            let registry = match registry {
                Some(p) => mzd::service::load_registry(&p)?,
                None => {
                    let default = PathBuf::from("./mz-data/registry.toml");
                    if default.exists() {
                        mzd::service::load_registry(&default)?
                    } else {
                        eprintln!("mzd: no registry given and none at ./mz-data/registry.toml: codes are checked against the demo registry (use --registry)");
                        Registry::demo()
                    }
                }
            };
            let report = check::check(&file, feed, &registry)?;
            if json {
                writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                let mut out = std::io::stdout().lock();
                for p in &report.problems {
                    let col = match (p.column, p.column_number) {
                        (Some(c), Some(n)) => format!(" column {n} ({c})"),
                        (Some(c), None) => format!(" column {c}"),
                        _ => String::new(),
                    };
                    writeln!(out, "{}:{}:{col}: {} | {}", report.file, p.line, p.reason_zh, p.reason_en)?;
                }
                if !report.unknown_columns.is_empty() {
                    writeln!(out, "note: unknown columns ignored: {}", report.unknown_columns.join(", "))?;
                }
                writeln!(
                    out,
                    "{}: {} rows, {} valid, {} duplicate, {} with problems",
                    report.file,
                    report.rows,
                    report.valid,
                    report.duplicates,
                    report.problems.iter().filter(|p| p.line > 0).count()
                )?;
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Export { what, format, socket } => {
            let socket = config::client_socket(socket);
            let format = match format {
                Format::Csv => ExportFormat::Csv,
                Format::Jsonl => ExportFormat::Jsonl,
            };
            let rt = runtime()?;
            rt.block_on(async {
                let mut c = Client::connect(&socket, "mzd export").await?;
                c.request(Request::Export { what, format }).await?;
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                loop {
                    match c.recv().await? {
                        ServerMessage::Line { line } => writeln!(out, "{line}")?,
                        ServerMessage::End { .. } => break,
                        ServerMessage::Error { reason } => anyhow::bail!("{}", reason.en),
                        other => anyhow::bail!("unexpected answer: {other:?}"),
                    }
                }
                out.flush()?;
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::DemoRegistry => {
            write!(std::io::stdout(), "{DEMO_REGISTRY}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn print_status(s: &StatusReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "mzd {} — {}", s.version, if s.healthy { "healthy" } else { "UNHEALTHY" })?;
    for p in &s.problems {
        writeln!(out, "  problem: {p}")?;
    }
    writeln!(
        out,
        "files: {} ingested, {} quarantined, {} duplicate, {} waiting",
        s.files.ingested, s.files.quarantined, s.files.duplicates, s.files.in_progress
    )?;
    for feed in Feed::ALL {
        writeln!(
            out,
            "{:<11} {:>9} records, {:>7} rejected rows, {:>7} duplicate rows",
            feed.as_str(),
            s.records.get(feed),
            s.rejected_rows.get(feed),
            s.duplicate_rows.get(feed)
        )?;
    }
    for st in &s.stations {
        writeln!(out, "station {:<12} {:>4}/{:<4} beds", st.id, st.occupied, st.beds)?;
    }
    writeln!(out, "alerts: {} active", s.alerts.active)
}
