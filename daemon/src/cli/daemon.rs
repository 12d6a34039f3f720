//! `mzd run` (the daemon in the foreground) and `mzd rebuild` (the store again from the archive):
//! the commands that open the store themselves rather than talk to a daemon.

use super::runtime;
use anyhow::Result;
use mzd::config::{self, ConfigFile, LogFormat, RunFlags};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The config file, if one is given.
fn config_file(path: Option<&Path>) -> Result<ConfigFile> {
    Ok(match path {
        Some(p) => ConfigFile::load(p)?,
        None => ConfigFile::default(),
    })
}

/// `mzd run`: until SIGTERM or SIGINT.
pub(super) fn run(config: Option<PathBuf>, flags: RunFlags) -> Result<ExitCode> {
    let file = config_file(config.as_deref())?;
    let publish = file.publish.clone();
    let (settings, log_format) = config::resolve(flags, file);
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

/// `mzd city`: the city roll-up daemon (SPEC §9), until SIGTERM or SIGINT.
pub(super) fn city(
    config: PathBuf,
    data: Option<PathBuf>,
    socket: Option<PathBuf>,
    log_format: Option<LogFormat>,
) -> Result<ExitCode> {
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

/// `mzd rebuild`: the store again from the archive (the daemon stopped).
pub(super) fn rebuild(config: Option<PathBuf>, data: Option<PathBuf>) -> Result<ExitCode> {
    let (settings, log_format) =
        config::resolve(RunFlags { data, ..RunFlags::default() }, config_file(config.as_deref())?);
    init_logging(log_format);
    let n = mzd::service::rebuild(&settings)?;
    writeln!(std::io::stdout(), "rebuilt the store from {n} archived files")?;
    Ok(ExitCode::SUCCESS)
}

/// Logs to stderr as text or JSON lines, the level from `RUST_LOG` (default info).
pub(super) fn init_logging(format: LogFormat) {
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
