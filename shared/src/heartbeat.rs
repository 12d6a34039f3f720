//! Heartbeats (心跳) of the district publishers (SPEC §9): a district with nothing to change
//! publishes no outbox entry, so it says every few seconds that it is alive, how far it has
//! published and what its clock says. The city tells "alive but quiet" from "stopped" by them.
//!
//! Invariants: a heartbeat is a plain NATS message on `mz.heartbeat.<district_code>`, outside
//! the stream `MZ` (whose subjects are `mz.district.*`): it has no `seq`, is never stored and
//! never counts in the city's `last_seq`. It carries counters and a time only.

use serde::{Deserialize, Serialize};

/// The subjects the city listens to: one per district, `mz.heartbeat.<district_code>`.
pub const HEARTBEAT_SUBJECTS: &str = "mz.heartbeat.*";

/// `mz.heartbeat.<code>`: the only heartbeat subject a district publishes to.
pub fn heartbeat_subject(district_code: &str) -> String {
    format!("mz.heartbeat.{district_code}")
}

/// The district code of a heartbeat subject.
pub fn district_of_subject(subject: &str) -> Option<&str> {
    subject.strip_prefix("mz.heartbeat.").filter(|c| !c.is_empty() && !c.contains('.'))
}

/// What a heartbeat says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The sending district's code.
    pub district: String,
    /// The last outbox `seq` the NATS server acknowledged.
    pub published_seq: u64,
    /// The last `seq` committed to the outbox (`head − published_seq` wait to be published).
    pub head: u64,
    /// The district's clock when it sent the heartbeat (Unix ms).
    pub at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_subjects_name_their_district_and_stay_outside_the_stream() {
        assert_eq!(heartbeat_subject("110112"), "mz.heartbeat.110112");
        assert_eq!(district_of_subject("mz.heartbeat.110112"), Some("110112"));
        assert_eq!(district_of_subject("mz.heartbeat.110112.x"), None);
        assert!(!heartbeat_subject("110112").starts_with("mz.district."));
    }
}
