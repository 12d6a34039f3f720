//! `mzd`, the mz daemon: watcher → ingest → store → rules → server, data flowing one way.
//!
//! - [`watcher`]: which inbox files exist and when each is complete.
//! - [`source`]: reading one drop file (encoding, CSV/JSONL rows).
//! - [`ingest`]: the engine that validates, applies and commits a file exactly once.
//! - [`store`]: the sled database: pages of records, ledger, figures.
//! - [`state`]: the maintained figures behind every dashboard.
//! - [`rules`]: admission consistency, corrections and alerts.
//! - [`cases`]: the 救急难 case desk: cases, reserve funds, audit trail.

pub mod cases;
pub mod check;
pub mod client;
pub mod config;
pub mod export;
pub mod ingest;
pub mod metrics;
pub mod report;
pub mod rules;
pub mod server;
pub mod service;
pub mod source;
pub mod state;
pub mod store;
pub mod watcher;
