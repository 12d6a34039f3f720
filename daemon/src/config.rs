//! The `mzd run` configuration: command-line flags over the TOML config file over defaults.
//! Relative paths in the config file are taken relative to the file's folder.

use crate::service::Settings;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The config file (`--config FILE`): the same names as the flags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub data: Option<PathBuf>,
    pub inbox: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub registry: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub metrics: Option<String>,
    pub socket_group: Option<String>,
    /// Publishing to the city (SPEC §9).
    pub publish: Option<crate::publish::PublishConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}, line {line}, column {column}: {message}")]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
}

impl ConfigFile {
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
    pub data: Option<PathBuf>,
    pub inbox: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
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
