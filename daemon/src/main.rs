//! `mzd`: the mz daemon and its ops command line.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mz_client::Client;
use mz_shared::audit::{AuditAnchor, AuditReport, StoreFigure};
use mz_shared::feed::Feed;
use mz_shared::protocol::{ExportFormat, ExportWhat, Request, ServerMessage, StatusReport};
use mz_shared::registry::{Registry, DEMO_REGISTRY};
use mzd::check;
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
    /// 救急难 cases: open, list, show, act.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Station tasks (在站事项): list them, complete one (as the console's station view does).
    Task {
        #[command(subcommand)]
        command: TaskCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Alerts: list them, acknowledge one (as the console's alerts view does).
    Alert {
        #[command(subcommand)]
        command: AlertCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// Reserve funds (临时救助备用金) per street.
    Fund {
        #[command(subcommand)]
        command: FundCommand,
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
    },
    /// The audit trail of case actions.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
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

#[derive(Subcommand)]
enum CaseCommand {
    /// Open a case; prints its id.
    Open {
        /// The street (registry id) whose window takes the case.
        #[arg(long)]
        street: String,
        #[arg(long)]
        summary: String,
        #[arg(long)]
        name: Option<String>,
        /// Citizen ID number; only its masked form and a keyed hash are stored.
        #[arg(long)]
        id_number: Option<String>,
        /// walk-in | hotline | grid
        #[arg(long)]
        source: Option<String>,
        /// normal | high
        #[arg(long, default_value = "normal")]
        urgency: String,
        /// The community (社区/村, registry id) of the street the report came from.
        #[arg(long)]
        community: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List cases.
    List {
        /// new | accepted | dispatched | referred | aided | closed
        #[arg(long)]
        state: Option<String>,
        /// At most this many cases (the first in id order).
        #[arg(long)]
        limit: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Show one case with its history.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Act on a case.
    Act {
        id: String,
        #[command(subcommand)]
        action: ActCommand,
    },
}

#[derive(Subcommand)]
enum ActCommand {
    /// 受理.
    Accept,
    /// 分办 to a department (registry id).
    Dispatch {
        department: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// 转办 to the person's home street (registry id); ends the case here.
    Refer {
        street: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// 先行救助: pay from the street's reserve fund (yuan); above the case cap it becomes a request.
    Pay {
        amount_yuan: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Approve the pending payment request (supervisor).
    Approve {
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject the pending payment request (supervisor).
    Reject {
        #[arg(long)]
        note: Option<String>,
    },
    /// The after-the-fact explanation of a payment (事后补充说明).
    Paperwork {
        text: String,
    },
    Note {
        text: String,
    },
    /// 办结.
    Close {
        outcome: String,
    },
    /// A dispatched department's reply (部门答复), recorded by an officer.
    Reply {
        department: String,
        text: String,
    },
    /// Reopen a closed case (supervisor), with the reason.
    Reopen {
        reason: String,
    },
}

#[derive(Subcommand)]
enum TaskCommand {
    /// Station tasks, soonest due first.
    List {
        /// Only this station's tasks (registry id).
        #[arg(long)]
        station: Option<String>,
        /// open | done | void | overdue
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Complete an open task by its id (station staff of its station, officer or above).
    Done {
        id: String,
        /// What was done (ID numbers in it are masked).
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Subcommand)]
enum AlertCommand {
    /// Active alerts first, then acknowledged ones.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an alert by its id (officer or above); every console sees it.
    Ack { id: String },
}

#[derive(Subcommand)]
enum FundCommand {
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

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-compute the hash chain, compare it with the store's own anchor and with any anchor
    /// given, and cross-check every case's history and payments against it. Exit 0 when all
    /// pass, 1 naming each problem.
    Verify {
        /// An anchor to compare with: a backup's audit-anchor.json or a saved `mzd status
        /// --json`. The trail must still contain it. May be given more than once.
        #[arg(long)]
        anchor: Vec<PathBuf>,
        /// An anchor's entry count (with --head), e.g. from the daemon's log.
        #[arg(long, requires = "head")]
        entries: Option<u64>,
        /// An anchor's head hash, 64 hex digits (with --entries).
        #[arg(long, requires = "entries")]
        head: Option<String>,
        /// Print what was checked and found as one JSON object.
        #[arg(long)]
        json: bool,
    },
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
            let publish = file.publish.clone();
            let (settings, log_format) = config::resolve(RunFlags { data, inbox, socket, log_format, metrics }, file);
            init_logging(log_format);
            // Fault injection for the end-to-end tests; inert unless built with `failpoints`
            // and `FAILPOINTS` is set.
            let _failpoints = fail::FailScenario::setup();
            let rt = runtime()?;
            let outcome = rt.block_on(async {
                let stop = async {
                    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("installing a SIGTERM handler");
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = tokio::signal::ctrl_c() => {},
                    }
                };
                mzd::service::run_publishing(settings, publish, stop).await
            });
            // A thread stuck in the storage engine (waited for by a blocking task) must not keep
            // the process from exiting: give the runtime a moment, then leave.
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
            outcome?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { socket, json } => {
            let socket = config::client_socket(socket);
            let rt = runtime()?;
            let status = rt.block_on(async {
                let mut c = Client::connect(&socket, "mzd status").await?;
                anyhow::Ok(c.call(Request::Status).await?)
            });
            let status: Result<StatusReport> = match status {
                Ok(ServerMessage::Status(s)) => Ok(*s),
                Ok(ServerMessage::CityStatus(city)) => return print_city_status(&city, json),
                Ok(other) => Err(anyhow::anyhow!("unexpected answer from the daemon: {other:?}")),
                Err(e) => Err(e),
            };
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
        Command::Case { command, socket } => case_command(command, &config::client_socket(socket)),
        Command::Task { command, socket } => task_command(command, &config::client_socket(socket)),
        Command::Alert { command, socket } => {
            let socket = config::client_socket(socket);
            let rt = runtime()?;
            rt.block_on(async {
                let mut c = Client::connect(&socket, "mzd alert").await?;
                let mut out = std::io::stdout().lock();
                match command {
                    AlertCommand::List { json } => {
                        c.request(Request::SubscribeDashboard).await?;
                        let d = match c.recv().await? {
                            ServerMessage::Dashboard(d) => d,
                            ServerMessage::CityStatus(s) => {
                                anyhow::bail!(
                                    "{} is the city daemon: it has {} active alert(s) of its own and lists no alerts yet; \
                                     run `mzd alert list` against a district's socket for its alerts",
                                    socket.display(),
                                    s.alerts.active
                                )
                            }
                            _ => anyhow::bail!("unexpected answer to a dashboard subscription"),
                        };
                        let tz = jiff::tz::TimeZone::get(&d.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
                        if json {
                            let list: Vec<_> = d.alerts.iter().map(|a| a.to_json(&tz)).collect();
                            writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                        } else {
                            for a in &d.alerts {
                                let state = if a.is_active() { "ACTIVE" } else { "acked" };
                                writeln!(out, "{:<6} {:<40} {}", state, a.printable_id(), a.message)?;
                            }
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    AlertCommand::Ack { id } => match c.call(Request::AckAlert { id: id.clone() }).await? {
                        ServerMessage::Done => {
                            writeln!(out, "{id}: acknowledged")?;
                            Ok(ExitCode::SUCCESS)
                        }
                        ServerMessage::Error { reason } => {
                            eprintln!("mzd: {reason}");
                            Ok(ExitCode::from(1))
                        }
                        other => anyhow::bail!("unexpected answer: {other:?}"),
                    },
                }
            })
        }
        Command::Fund { command: FundCommand::List { json, lang }, socket } => {
            fund_list(&config::client_socket(socket), json, lang == "en")
        }
        Command::Audit { command: AuditCommand::Verify { anchor, entries, head, json }, socket } => {
            let anchors = audit_anchors(&anchor, entries, head.as_deref())?;
            audit_verify(&config::client_socket(socket), anchors, json)
        }
        Command::Backup { dest_dir, socket } => {
            let socket = config::client_socket(socket);
            let dest = std::path::absolute(&dest_dir)?;
            let rt = runtime()?;
            rt.block_on(async {
                let mut c = Client::connect(&socket, "mzd backup").await?;
                match c.call(Request::Backup { dest: dest.clone() }).await? {
                    ServerMessage::Done => {
                        writeln!(std::io::stdout(), "backup written to {}", dest.display())?;
                        Ok(ExitCode::SUCCESS)
                    }
                    ServerMessage::Error { reason } => {
                        eprintln!("mzd: {reason}");
                        Ok(ExitCode::from(1))
                    }
                    other => anyhow::bail!("unexpected answer: {other:?}"),
                }
            })
        }
        Command::Rebuild { config, data } => {
            let file = match &config {
                Some(p) => ConfigFile::load(p)?,
                None => ConfigFile::default(),
            };
            let (settings, log_format) = config::resolve(RunFlags { data, ..RunFlags::default() }, file);
            init_logging(log_format);
            let n = mzd::service::rebuild(&settings)?;
            writeln!(std::io::stdout(), "rebuilt the store from {n} archived files")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::City { config, data, socket, log_format } => {
            let config = mzd::city::CityConfig::load(&config, data, socket)?;
            init_logging(log_format.unwrap_or_default());
            let rt = runtime()?;
            let outcome = rt.block_on(mzd::city::run(config, async {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing a SIGTERM handler");
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }));
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
            outcome?;
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoRegistry => {
            write!(std::io::stdout(), "{DEMO_REGISTRY}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The anchors given to `mzd audit verify`: from files, then from --entries/--head.
fn fund_list(socket: &std::path::Path, json: bool, english: bool) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let mut c = Client::connect(socket, "mzd fund").await?;
        match c.call(Request::FundList).await? {
            ServerMessage::Funds { funds } => {
                let mut out = std::io::stdout().lock();
                if json {
                    let list: Vec<_> = funds.iter().map(mzd::funds::fund_json).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                } else {
                    write!(out, "{}", mzd::funds::fund_table(&funds, english))?;
                }
                Ok(ExitCode::SUCCESS)
            }
            ServerMessage::Error { reason } => {
                eprintln!("mzd: {reason}");
                Ok(ExitCode::from(1))
            }
            other => anyhow::bail!("unexpected answer: {other:?}"),
        }
    })
}

fn audit_anchors(files: &[PathBuf], entries: Option<u64>, head: Option<&str>) -> Result<Vec<AuditAnchor>> {
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read the anchor file {}", f.display()))?;
        let a = AuditAnchor::from_json_text(&text)
            .with_context(|| format!("{} is not an audit anchor (audit-anchor.json or status JSON)", f.display()))?;
        out.push(a);
    }
    if let (Some(entries), Some(head)) = (entries, head) {
        let head = AuditAnchor::parse_head(head).context("--head must be 64 hex digits")?;
        out.push(AuditAnchor { entries, head });
    }
    Ok(out)
}

/// `mzd audit verify`: asks the daemon for every audit check and prints what it found.
fn audit_verify(socket: &std::path::Path, anchors: Vec<AuditAnchor>, json: bool) -> Result<ExitCode> {
    let rt = runtime()?;
    let report = rt.block_on(async {
        let mut c = Client::connect(socket, "mzd audit").await?;
        match c.call(Request::AuditCheck { anchors }).await? {
            ServerMessage::AuditReport(r) => Ok(Ok(r)),
            ServerMessage::Error { reason } => Ok(Err(reason)),
            other => anyhow::bail!("unexpected answer: {other:?}"),
        }
    })?;
    let report = match report {
        Ok(r) => r,
        Err(reason) => {
            eprintln!("mzd: {reason}");
            return Ok(ExitCode::from(1));
        }
    };
    if json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_audit(&report)?;
    }
    for p in &report.problems {
        eprintln!("mzd: {p}");
    }
    Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// What was checked, and the verdict, for a person.
fn print_audit(r: &AuditReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if r.ok {
        writeln!(out, "audit trail intact: {} entries verified", r.trail.entries)?;
    } else {
        writeln!(out, "audit check FAILED: {} problem(s), listed on stderr", r.problems.len())?;
    }
    writeln!(out, "head: entry {} has hash {}", r.trail.entries, r.trail.head_hex())?;
    let figure = match r.store_figure {
        Some(StoreFigure::Anchor(_)) => "the length and head recorded in the store",
        Some(StoreFigure::CountOnly { .. }) => "the length recorded in the store (no head recorded yet)",
        None => "nothing recorded in the store",
    };
    writeln!(out, "checked: the hash chain of {} entries; {figure}", r.trail.entries)?;
    writeln!(out, "checked: {} given anchor(s) as earlier states of the trail", r.anchors_checked)?;
    writeln!(
        out,
        "checked: {} case(s) with {} history entries and {} payment(s) against the trail",
        r.cases.cases, r.cases.history_entries, r.cases.payments
    )
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

/// `mzd status` against the city daemon (SPEC §9): exit 0 healthy, 1 not.
fn print_city_status(s: &mz_shared::city::CityStatus, json: bool) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(s)?)?;
    } else {
        writeln!(out, "mzd city {} ({}) — {}", s.name, s.version, if s.healthy { "healthy" } else { "UNHEALTHY" })?;
        for p in &s.problems {
            writeln!(out, "  problem: {p}")?;
        }
        for d in &s.districts {
            let f = &d.figures;
            writeln!(
                out,
                "  {} {}: seq {}, last event {}, records {}/{}/{}, cases open {}, alerts {}",
                d.code,
                d.name,
                d.last_seq,
                d.last_event_at.as_deref().unwrap_or("-"),
                f.records.admissions,
                f.records.burials,
                f.records.marriages,
                f.cases.open,
                f.alerts.active
            )?;
        }
    }
    Ok(if s.healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
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
    writeln!(out, "tasks: {} open, {} overdue", s.tasks.open, s.tasks.overdue)?;
    writeln!(out, "alerts: {} active", s.alerts.active)
}

/// Runs one `mzd case …` command. A refused action exits 1 with the reason on stderr.
fn case_command(command: CaseCommand, socket: &std::path::Path) -> Result<ExitCode> {
    use mz_shared::case::{Action, CaseState, Source, Urgency};
    use mz_shared::protocol::CaseOpenRequest;
    use mz_shared::registry::Fen;
    let rt = runtime()?;
    rt.block_on(async {
        let mut c = Client::connect(socket, "mzd case").await?;
        let refused = |reason: &mz_shared::reason::Reason| {
            eprintln!("mzd: {reason}");
            Ok(ExitCode::from(1))
        };
        let mut out = std::io::stdout().lock();
        match command {
            CaseCommand::Open { street, summary, name, id_number, source, urgency, community, json } => {
                let source = match source {
                    Some(s) => Some(
                        Source::parse(&s)
                            .ok_or_else(|| anyhow::anyhow!("unknown --source `{s}`: use walk-in, hotline or grid"))?,
                    ),
                    None => None,
                };
                let urgency = Urgency::parse(&urgency)
                    .ok_or_else(|| anyhow::anyhow!("unknown --urgency `{urgency}`: use normal or high"))?;
                let req = CaseOpenRequest { street, summary, name, id_number, source, urgency, community };
                match c.call(Request::CaseOpen(req)).await? {
                    ServerMessage::Case { case, warnings } => {
                        for w in &warnings {
                            eprintln!("mzd: warning: {w}");
                        }
                        if json {
                            writeln!(out, "{}", serde_json::to_string_pretty(&case)?)?;
                        } else {
                            writeln!(out, "{}", case["id"].as_str().unwrap_or_default())?;
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    ServerMessage::Error { reason } => refused(&reason),
                    other => anyhow::bail!("unexpected answer: {other:?}"),
                }
            }
            CaseCommand::List { state, limit, json } => {
                let state = match state {
                    Some(s) => Some(CaseState::parse(&s).ok_or_else(|| {
                        anyhow::anyhow!(
                            "unknown --state `{s}`: use new, accepted, dispatched, referred, aided or closed"
                        )
                    })?),
                    None => None,
                };
                c.request(Request::CaseList { state, limit }).await?;
                list_cases(&mut c, &mut out, json).await
            }
            CaseCommand::Show { id, json } => match c.call(Request::CaseShow { id }).await? {
                ServerMessage::Case { case, .. } => {
                    if json {
                        writeln!(out, "{}", serde_json::to_string_pretty(&case)?)?;
                    } else {
                        print_case(&mut out, &case)?;
                    }
                    Ok(ExitCode::SUCCESS)
                }
                ServerMessage::Error { reason } => refused(&reason),
                other => anyhow::bail!("unexpected answer: {other:?}"),
            },
            CaseCommand::Act { id, action } => {
                let action = match action {
                    ActCommand::Accept => Action::Accept,
                    ActCommand::Dispatch { department, note } => Action::Dispatch { department, note },
                    ActCommand::Refer { street, note } => Action::Refer { street, note },
                    ActCommand::Pay { amount_yuan, note } => {
                        let amount = Fen::from_yuan_str(&amount_yuan).map_err(|e| {
                            anyhow::anyhow!(
                                "amount `{amount_yuan}` is not a sum of yuan with at most two decimals: {e}"
                            )
                        })?;
                        Action::Pay { amount, note }
                    }
                    ActCommand::Approve { note } => Action::Approve { note },
                    ActCommand::Reject { note } => Action::Reject { note },
                    ActCommand::Paperwork { text } => Action::Paperwork { text },
                    ActCommand::Note { text } => Action::Note { text },
                    ActCommand::Close { outcome } => Action::Close { outcome },
                    ActCommand::Reply { department, text } => Action::Reply { department, text },
                    ActCommand::Reopen { reason } => Action::Reopen { reason },
                };
                let paying = matches!(action, Action::Pay { .. } | Action::Approve { .. });
                // Act on the version seen now: if someone else acts in between, this is refused.
                let version = match c.call(Request::CaseShow { id: id.clone() }).await? {
                    ServerMessage::Case { case, .. } => case["version"].as_u64().unwrap_or(0),
                    ServerMessage::Error { reason } => return refused(&reason),
                    other => anyhow::bail!("unexpected answer: {other:?}"),
                };
                match c.call(Request::CaseAct { id, action, expected_version: version }).await? {
                    ServerMessage::Case { case, warnings } => {
                        for w in &warnings {
                            eprintln!("mzd: warning: {w}");
                        }
                        writeln!(
                            out,
                            "{}: {} (version {})",
                            case["id"].as_str().unwrap_or_default(),
                            case["state"].as_str().unwrap_or_default(),
                            case["version"]
                        )?;
                        if paying {
                            writeln!(out, "{}", payment_words(&case))?;
                        }
                        if let Some(new) = case["referred_to"].as_str() {
                            writeln!(out, "referred: new case {new} / 已转办，新案件 {new}")?;
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    ServerMessage::Error { reason } => refused(&reason),
                    other => anyhow::bail!("unexpected answer: {other:?}"),
                }
            }
        }
    })
}

/// What a payment action did, from the case after it: paid, or a request pending approval.
fn payment_words(case: &serde_json::Value) -> String {
    use mz_shared::registry::Fen;
    let last = case["history"].as_array().and_then(|h| h.last());
    let action = last.and_then(|h| h["action"].as_str()).unwrap_or_default();
    if let Some(pending) = case["pending_fen"].as_i64().filter(|_| action == "pay_request") {
        let cap = case["case_cap_fen"].as_i64().map(Fen).unwrap_or_default();
        return format!(
            "request pending approval {} (above the cap {cap}), nothing paid yet / 已提交一事一议审批，尚未支付",
            Fen(pending)
        );
    }
    let paid = case["payments"].as_array().and_then(|p| p.last()).and_then(|p| p["amount_fen"].as_i64());
    format!("paid {} / 已支付", Fen(paid.unwrap_or(0)))
}

/// Runs one `mzd task …` command. A refused completion exits 1 with the reason on stderr.
fn task_command(command: TaskCommand, socket: &std::path::Path) -> Result<ExitCode> {
    use mz_shared::task::TaskFilter;
    let rt = runtime()?;
    rt.block_on(async {
        let mut c = Client::connect(socket, "mzd task").await?;
        let mut out = std::io::stdout().lock();
        let answer = match command {
            TaskCommand::List { station, state, json } => {
                let state = match state {
                    Some(s) => Some(
                        TaskFilter::parse(&s)
                            .ok_or_else(|| anyhow::anyhow!("unknown --state `{s}`: use open, done, void or overdue"))?,
                    ),
                    None => None,
                };
                match c.call(Request::TaskList { station, state }).await? {
                    ServerMessage::Tasks { tasks } if json => {
                        writeln!(out, "{}", serde_json::to_string_pretty(&tasks)?)?;
                        return Ok(ExitCode::SUCCESS);
                    }
                    ServerMessage::Tasks { tasks } => {
                        print_tasks(&mut out, &tasks)?;
                        return Ok(ExitCode::SUCCESS);
                    }
                    other => other,
                }
            }
            TaskCommand::Done { id, note } => match c.call(Request::TaskDone { id, note }).await? {
                ServerMessage::Task { task } => {
                    let s = |k: &str| task[k].as_str().unwrap_or_default().to_owned();
                    writeln!(out, "{}: 已完成 done ({} {})", s("id"), s("done_at"), s("done_by"))?;
                    return Ok(ExitCode::SUCCESS);
                }
                other => other,
            },
        };
        match answer {
            ServerMessage::Error { reason } => {
                eprintln!("mzd: {reason}");
                Ok(ExitCode::from(1))
            }
            other => anyhow::bail!("unexpected answer: {other:?}"),
        }
    })
}

/// The task list as a table, headings in Chinese and English.
fn print_tasks(out: &mut impl Write, tasks: &[serde_json::Value]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<36} {:<24} {:<10} {:<16} {:<25} 状态 state",
        "编号 id", "事项 kind", "救助站", "受助人 person", "到期 due"
    )?;
    for t in tasks {
        let s = |k: &str| t[k].as_str().unwrap_or("-").to_owned();
        let kind = format!("{} {}", s("kind_zh"), s("kind"));
        let overdue = if t["overdue"] == true { "  逾期 OVERDUE" } else { "" };
        writeln!(
            out,
            "{:<36} {:<24} {:<10} {:<16} {:<25} {}{overdue}",
            s("id"),
            kind,
            s("station"),
            s("person_ref"),
            s("due_at"),
            s("state")
        )?;
    }
    if tasks.is_empty() {
        writeln!(out, "（无事项）no tasks")?;
    }
    Ok(())
}

/// Prints a streamed case list as it arrives: a JSON array (one pretty object per element) or
/// one line per case. Nothing is printed before the daemon's first answer, so a refusal prints
/// only the reason.
async fn list_cases(c: &mut Client, out: &mut impl Write, json: bool) -> Result<ExitCode> {
    let mut printed = 0u64;
    loop {
        match c.recv().await? {
            ServerMessage::Cases { cases } => {
                if json && printed == 0 {
                    writeln!(out, "[")?;
                }
                for k in &cases {
                    if json {
                        let text = serde_json::to_string_pretty(k)?.replace('\n', "\n  ");
                        write!(out, "{}  {text}", if printed == 0 { "" } else { ",\n" })?;
                    } else {
                        print_case_line(out, k)?;
                    }
                    printed += 1;
                }
                out.flush()?;
            }
            ServerMessage::End { .. } => {
                if json {
                    writeln!(out, "{}]", if printed == 0 { "" } else { "\n" })?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            ServerMessage::Error { reason } => {
                eprintln!("mzd: {reason}");
                return Ok(ExitCode::from(1));
            }
            other => anyhow::bail!("unexpected answer: {other:?}"),
        }
    }
}

fn print_case_line(out: &mut impl Write, k: &serde_json::Value) -> std::io::Result<()> {
    use mz_shared::registry::Fen;
    writeln!(
        out,
        "{:<17} {:<10} {:<6} {:<8} {:>10} {}{}",
        k["id"].as_str().unwrap_or_default(),
        k["state"].as_str().unwrap_or_default(),
        k["street"].as_str().unwrap_or_default(),
        k["urgency"].as_str().unwrap_or_default(),
        Fen(k["paid_fen"].as_i64().unwrap_or(0)).to_string(),
        if k["overdue"].as_bool() == Some(true) { "OVERDUE " } else { "" },
        k["summary"].as_str().unwrap_or_default(),
    )
}

fn print_case(out: &mut impl Write, k: &serde_json::Value) -> std::io::Result<()> {
    let s = |key: &str| k[key].as_str().unwrap_or("-").to_owned();
    writeln!(
        out,
        "{}  {}  {}{}",
        s("id"),
        s("state"),
        s("urgency"),
        if k["overdue"] == true { "  OVERDUE" } else { "" }
    )?;
    writeln!(out, "street:   {} {}", s("street"), s("street_name"))?;
    if k["community"].is_string() {
        writeln!(out, "community: {} {}", s("community"), s("community_name"))?;
    }
    if k["referred_from"].is_string() {
        writeln!(out, "referred from: {}", s("referred_from"))?;
    }
    if k["referred_to"].is_string() {
        writeln!(out, "referred to:   {} ({})", s("referred_to"), s("referred_to_street"))?;
    }
    for d in k["departments"].as_array().into_iter().flatten() {
        let t = |key: &str| d[key].as_str().unwrap_or("-").to_owned();
        let state = if d["replied_at"].is_string() {
            format!("replied {}: {}", t("replied_at"), t("reply"))
        } else if d["overdue"] == true {
            format!("OVERDUE, reply was due {}", t("reply_due"))
        } else {
            format!("waiting, reply due {}", t("reply_due"))
        };
        writeln!(out, "department {} {}: {state}", t("id"), t("name"))?;
    }
    writeln!(out, "summary:  {}", s("summary"))?;
    writeln!(out, "opened:   {} by {}", s("opened_at"), s("opened_by"))?;
    writeln!(
        out,
        "limits:   accept by {}, close by {}, paperwork due {}",
        s("accept_by"),
        s("close_by"),
        s("paperwork_due")
    )?;
    for r in k["overdue_reasons"].as_array().into_iter().flatten() {
        writeln!(out, "overdue:  {} | {}", r["zh"].as_str().unwrap_or_default(), r["en"].as_str().unwrap_or_default())?;
    }
    writeln!(out, "paid:     {}", mz_shared::registry::Fen(k["paid_fen"].as_i64().unwrap_or(0)))?;
    if let Some(p) = k["pending_fen"].as_i64() {
        writeln!(out, "pending:  {} awaiting a supervisor", mz_shared::registry::Fen(p))?;
    }
    writeln!(out, "history:")?;
    for h in k["history"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {}  {:<10} {:<12} {}",
            h["at"].as_str().unwrap_or_default(),
            h["user"].as_str().unwrap_or_default(),
            h["action"].as_str().unwrap_or_default(),
            h["detail"].as_str().unwrap_or_default()
        )?;
    }
    Ok(())
}
