//! 救急难 cases (SPEC §5): the case state machine, the streets' reserve funds, time limits and
//! the duplicate-aid check.
//!
//! Everything here is pure. The daemon keeps the cases and the [`Funds`], passes the time in,
//! and persists what [`apply`] returns; the console and `mzd case` show [`CaseError::reason`]
//! when an action is refused.
//!
//! # States
//!
//! ```text
//! new 待受理 ─accept─▶ accepted 已受理 ─dispatch─▶ dispatched 已分办
//!                          │                         │
//!                          └───────pay──▶ aided 已先行救助 ◀──pay──┘
//!
//! accepted, dispatched, aided ─close─▶ closed 已办结     (terminal)
//! new, accepted, dispatched, aided ─refer─▶ referred 已转办 (terminal)
//! ```
//!
//! | action | roles | from states | effect |
//! |---|---|---|---|
//! | `accept` | officer, supervisor, admin | new | → accepted |
//! | `dispatch DEPT` | officer+ | accepted, dispatched, aided | adds the department; accepted → dispatched |
//! | `reply DEPT TEXT` | officer+ | a dispatched department without a reply | records its answer |
//! | `refer STREET` | officer+ | new, accepted, dispatched, aided | → referred (terminal); opens a linked case there |
//! | `pay AMOUNT` | officer+ | accepted, dispatched, aided | paid (→ aided), or a pending request above the cap |
//! | `approve` | supervisor, admin | a pending request | pays it (→ aided) |
//! | `reject` | supervisor, admin | a pending request | drops it |
//! | `paperwork TEXT` | officer+ | any non-terminal | files the oldest payment's missing paperwork |
//! | `note TEXT` | officer+ | any non-terminal | adds a note |
//! | `close OUTCOME` | officer+ | accepted, dispatched, aided | → closed (terminal) |
//! | `reopen REASON` | supervisor, admin | closed | → accepted |
//!
//! `refer` and `close` also need no pending request and every payment's paperwork filed.
//! `viewer` and `station` users never act on cases. Closed and referred cases take no further
//! action at all, notes included: a terminal case is frozen as it was when it ended here.
//!
//! # Versions
//!
//! A case opens at version 1 with one history entry (`open`); every applied action adds exactly
//! one history entry and one to the version, so `version == history.len()`. Each action carries
//! the version it was based on; a different one is refused with [`CaseError::StaleVersion`].
//!
//! # Free text
//!
//! Summaries, notes, paperwork and outcomes are trimmed and anything in them that looks like an
//! ID number is masked ([`redact_id_numbers`](crate::id_number::redact_id_numbers)) before it is kept: ID numbers are never stored in
//! full (SPEC §3).

mod actions;
mod deadlines;
mod duplicate;
mod errors;
mod funds;
mod ids;
mod links;
mod model;
#[cfg(test)]
mod tests;

pub use actions::*;
pub use deadlines::*;
pub use duplicate::*;
pub use errors::*;
pub use funds::*;
pub use ids::*;
pub use links::*;
pub use model::*;

const DAY_MS: i64 = 86_400_000;

/// Two payments to the same person closer than this raise a duplicate-aid warning.
pub const DUPLICATE_AID_WINDOW_MS: i64 = 30 * DAY_MS;
