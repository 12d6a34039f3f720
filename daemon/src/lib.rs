//! `mzd`, the mz daemon: watcher → ingest → store → rules → server, data flowing one way.
//!
//! - [`watcher`]: which inbox files exist and when each is complete.
//! - [`source`]: reading one drop file (encoding, CSV/JSONL rows); [`workbook`]: `.xlsx` drops.
//! - [`engine`]: the single writer: its thread and messages, file ingest (exactly once), the
//!   case desk, station events, backups; [`engine::EngineHandle`] is how the server asks it.
//! - [`store`]: the sled database: pages of records, ledger, figures.
//! - [`state`]: the maintained figures behind every dashboard.
//! - [`rules`]: admission consistency, corrections and alerts.
//! - [`cases`]: the 救急难 case desk: cases, reserve funds, audit trail.
//! - [`funds`]: the reserve funds per street as `mzd fund list` and the console show them.
//! - [`tasks`]: station tasks (在站事项): created, voided, completed; their counts.
//! - [`report`]: the status report and the console's dashboard, built from the figures.
//! - [`statistics`]: period statistics (统计报表): per-day figures, reports, report files.
//! - [`server`]: the Unix-socket server (its client is the `mz-client` crate).
//! - [`restart`]: `mzd run` replacing itself after a failed write to the store.
//! - [`health`]: whether the engine makes progress, and its problems, for status.
//! - [`masking`]: what a viewer may see of a name.
//! - [`files`]: names, moves and modes of the files the daemon writes beside handled files.
//! - [`export`]: records in canonical CSV/JSONL; [`metrics`]: Prometheus metrics over HTTP.
//! - [`systemd`]: readiness, reload, status and watchdog notifications to the service manager.
//! - [`check`]: `mzd check`, the same validation without a store.
//! - [`config`] and [`service`]: `mzd run`: settings, wiring, clean shutdown, `rebuild`;
//!   [`shutdown`]: the one signal every part of `mzd run` stops on.

pub mod cases;
pub mod check;
pub mod city;
pub mod config;
pub mod engine;
pub mod export;
pub mod files;
pub mod funds;
pub mod health;
#[cfg(test)]
mod layering;
pub mod masking;
pub mod measured;
pub mod metrics;
pub mod publish;
pub mod report;
pub mod restart;
pub mod rules;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod source;
pub mod state;
pub mod statistics;
pub mod store;
pub mod sys;
pub mod systemd;
pub mod task_archive;
pub mod tasks;
pub mod watcher;
pub mod workbook;

/// File ingest, at its former path.
pub use engine::ingest;
