//! `mzd`, the mz daemon: watcher → ingest → store → rules → server, data flowing one way.
//!
//! - `watcher`: which inbox files exist and when each is complete.
//! - [`source`]: reading one drop file (encoding, CSV/JSONL rows); `workbook`: `.xlsx` drops.
//! - `engine`: the single writer: its thread and messages, file ingest (exactly once), the
//!   case desk, station events, backups; `engine::EngineHandle` is how the server asks it.
//! - [`store`]: the sled database: pages of records, ledger, figures.
//! - [`state`]: the maintained figures behind every dashboard.
//! - `rules`: admission consistency, corrections and alerts.
//! - `cases`: the 救急难 case desk: cases, reserve funds, audit trail.
//! - [`funds`]: the reserve funds per street as `mzd fund list` and the console show them.
//! - `tasks`: station tasks (在站事项): created, voided, completed; their counts.
//! - `report`: the status report and the console's dashboard, built from the figures.
//! - `statistics`: period statistics (统计报表): per-day figures, reports, report files.
//! - `server`: the Unix-socket server (its client is the `mz-client` crate).
//! - `restart`: `mzd run` replacing itself after a failed write to the store.
//! - `health`: whether the engine makes progress, and its problems, for status.
//! - `masking`: what a viewer may see of a name.
//! - `files`: names, moves and modes of the files the daemon writes beside handled files.
//! - `export`: records in canonical CSV/JSONL; `metrics`: Prometheus metrics over HTTP.
//! - [`city`] and [`publish`]: the city roll-up (SPEC §9): `mzd city`, and a district
//!   publishing its commits to NATS JetStream.
//! - `systemd`: readiness, reload, status and watchdog notifications to the service manager.
//! - [`check`]: `mzd check`, the same validation without a store.
//! - [`config`] and [`service`]: `mzd run`: settings, wiring, clean shutdown, `rebuild`;
//!   `shutdown`: the one signal every part of `mzd run` stops on.
//!
//! Modules named in code spans are the daemon's own (private); the linked ones are its public
//! surface.

// The public surface: what `mzd`'s own commands (`main`, `cli/`), `mzc --demo` (`service`), the
// daemon's fuzz test (`source`) and the end-to-end tests (which read and tamper with a stopped
// daemon's store: `state`, `store`, `publish::outbox`) use. Everything else is the daemon's own.
pub mod check;
pub mod city;
pub mod config;
pub mod funds;
pub mod publish;
pub mod service;
pub mod source;
pub mod state;
pub mod store;

mod cases;
mod engine;
mod export;
mod files;
mod health;
#[cfg(test)]
mod layering;
mod masking;
mod measured;
mod metrics;
mod report;
mod restart;
mod rules;
mod server;
mod shutdown;
mod statistics;
mod sys;
mod systemd;
mod task_archive;
mod tasks;
mod watcher;
mod workbook;

/// Called first in `mzd`'s `main`: see [`sys::release_freed_memory_promptly`].
pub use sys::release_freed_memory_promptly;
