//! The `mzd run` configuration: command-line flags over the TOML config file over defaults.
//! Relative paths in the config file are taken relative to the file's folder.

use crate::service::Settings;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// The config file (`--config FILE`): the same names as the flags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The data folder (store, archive, quarantine, reports); default `./mz-data`.
    pub data: Option<PathBuf>,
    /// The inbox watched for drop files; default `<data>/inbox`.
    pub inbox: Option<PathBuf>,
    /// The Unix socket clients connect to; default `<data>/mzd.sock`.
    pub socket: Option<PathBuf>,
    /// The registry of stations, sites, offices, streets and roles; default
    /// `<data>/registry.toml`.
    pub registry: Option<PathBuf>,
    /// How the log on stderr is written.
    pub log_format: Option<LogFormat>,
    /// `host:port` to serve OpenMetrics on; none serves nothing.
    pub metrics: Option<String>,
    /// The group the socket belongs to (mode 0660); default the daemon user's primary group.
    pub socket_group: Option<String>,
    /// Publishing to the city (SPEC §9).
    pub publish: Option<crate::publish::PublishConfig>,
}

/// Why the config file could not be used; the message names the file and, for a syntax error,
/// the line and column (1-based) to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, no permission).
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not valid TOML or names a key `mzd` does not know.
    #[error("config file {path}, line {line}, column {column}: {message}")]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What is wrong there.
        message: String,
    },
}

impl ConfigFile {
    /// Reads the config file at `path`; its relative paths are taken relative to its folder.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let mut cfg: ConfigFile = toml::from_str(&text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    (before.matches('\n').count() + 1, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
                })
                .unwrap_or((1, 1));
            ConfigError::Syntax { path: path.to_owned(), line, column, message: e.message().to_owned() }
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.data, &mut cfg.inbox, &mut cfg.socket, &mut cfg.registry].into_iter().flatten() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(publish) = &mut cfg.publish {
            publish.rebase(base);
        }
        Ok(cfg)
    }
}

/// Flags of `mzd run` that can override the config file.
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    /// `--data`: the data folder.
    pub data: Option<PathBuf>,
    /// `--inbox`: the inbox folder.
    pub inbox: Option<PathBuf>,
    /// `--socket`: the Unix socket.
    pub socket: Option<PathBuf>,
    /// `--log-format`.
    pub log_format: Option<LogFormat>,
    /// `--metrics`: `host:port` for OpenMetrics.
    pub metrics: Option<String>,
}

/// Merges flags, config file and defaults.
pub fn resolve(flags: RunFlags, file: ConfigFile) -> (Settings, LogFormat) {
    let data = flags.data.or(file.data).unwrap_or_else(|| PathBuf::from("./mz-data"));
    let settings = Settings {
        inbox: flags.inbox.or(file.inbox).unwrap_or_else(|| data.join("inbox")),
        socket: flags.socket.or(file.socket).unwrap_or_else(|| data.join("mzd.sock")),
        registry: file.registry.unwrap_or_else(|| data.join("registry.toml")),
        socket_group: file.socket_group,
        metrics: flags.metrics.or(file.metrics),
        restart_in_place: true,
        data,
    };
    (settings, flags.log_format.or(file.log_format).unwrap_or_default())
}

/// The socket the `mzd` commands talk to (see [`mz_client::socket_path`]).
pub fn client_socket(flag: Option<PathBuf>) -> PathBuf {
    mz_client::socket_path(flag)
}
