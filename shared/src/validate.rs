//! Turning one raw row of a feed into a typed [`Record`], or a reason a clerk understands.
//!
//! This module checks everything that can be decided from the row and the registry alone:
//! required columns, formats, enumerations, ID numbers, ages, legal marriage age, registry
//! references. Checks that depend on what is already stored (is this person admitted here?)
//! belong to the daemon's rules.

use crate::feed::Feed;
use crate::id_number::IdHasher;
use crate::reason::Reason;
use crate::records::Record;
use crate::registry::Registry;

/// What validation needs besides the row.
pub struct ValidationContext<'a> {
    pub registry: &'a Registry,
    pub hasher: &'a IdHasher,
}

/// Why a row was rejected: the column at fault (canonical name) if any, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub column: Option<&'static str>,
    pub reason: Reason,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.reason.fmt(f)
    }
}

/// Validates one row. `values` holds the feed's columns in canonical order
/// ([`Feed::columns`]), `None` for a missing or blank cell (see [`crate::feed::HeaderMap::values`]).
pub fn validate_row(feed: Feed, values: &[Option<&str>], ctx: &ValidationContext<'_>) -> Result<Record, RowError> {
    let _ = (feed, values, ctx);
    todo!("helper: implement")
}
