//! The mz domain, shared by the daemon (`mzd`) and the console (`mzc`).
//!
//! Everything here is pure: no files, no sockets, no clocks. The daemon feeds it bytes and
//! times; the console renders what it returns.
//!
//! - [`id_number`]: citizen ID numbers (GB 11643): check digit, birth date, sex, masking, keyed hash.
//! - [`time`]: the time and date formats the feeds accept.
//! - [`alert`]: alerts the rules raise for the duty floor.
//! - [`dashboard`]: the snapshot of figures the console shows.
//! - [`feed`]: the three feeds, their columns and header aliases.
//! - [`records`]: the typed records a valid row becomes, and their enumerations.
//! - [`validate`]: turning one raw row into a record or a clerk-readable reason.
//! - [`registry`]: the hand-written registry of stations, sites, offices, streets and roles.
//! - [`protocol`]: messages between the daemon and its clients over the Unix socket.
//! - [`reason`]: bilingual messages shown to clerks; [`refusal`]: a refusal's code and reason.
//! - [`case`]: 救急难 cases: the state machine, reserve funds, time limits, duplicate-aid warnings.
//! - [`trigger`]: which rescue-station events open a case by themselves (`[auto_cases]`).
//! - [`audit`]: the hash-chained, append-only audit trail and its verification.
//! - [`city`]: the city roll-up (SPEC §9): what districts publish, what the city answers.
//! - [`cross_district`]: the city's cross-district checks (bigamy, duplicate aid) under the city key.
//! - [`task`]: station tasks (在站事项): family notices, DNA requests, stay reviews and their clocks.
//! - [`statistics`]: statistics reports (统计报表): periods, day figures, the report and its CSV.

pub mod alert;
pub mod audit;
pub mod case;
pub mod city;
pub mod cross_district;
pub mod dashboard;
pub mod feed;
pub mod heartbeat;
pub mod id_number;
pub mod protocol;
pub mod reason;
pub mod records;
pub mod refusal;
pub mod registry;
pub mod statistics;
pub mod task;
pub mod text;
pub mod time;
pub mod trigger;
pub mod validate;
