//! [`Refusal`]: why the daemon did not do what a client asked, as a machine-readable
//! [`RefusalCode`] and a bilingual [`Reason`] for the person.
//!
//! Invariant: the reason is always there and says what to do; the code only sorts refusals for
//! programs (retry later, reload, ask someone with another role) and never replaces the words.
//! The domain's errors say their own code (`CaseError::code`, `TaskError::code`); a code this
//! side does not know (a newer daemon's) reads as `rejected`.

use crate::reason::Reason;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The user's role may not make this request.
    Forbidden,
    /// What the request names does not exist (a case id, a task id, an alert).
    NotFound,
    /// It does not fit what it names as that stands now: an action the case's state does not
    /// allow, a case that changed since it was seen (stale version), a task already done, an
    /// alert already acknowledged. Look again (reload) before deciding to retry.
    Conflict,
    /// The message was not understood or out of order (no hello, protocol versions differ).
    Protocol,
    /// A limit of the server: too many connections, a line too long, idle too long.
    Limit,
    /// The daemon cannot answer now: the engine did not answer in time, it is stopping, or the
    /// store could not be read. Try again later (after checking whether it was applied).
    Unavailable,
    /// A rule refused it (fund exhausted, paperwork missing, an invalid value). Also what an
    /// older daemon's refusals without a code, and codes this side does not know, read as
    /// (last, as serde wants the catch-all).
    #[default]
    #[serde(other)]
    Rejected,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// What kind of refusal, for scripts (`forbidden`, `not_found`, …).
    #[serde(default)]
    pub code: RefusalCode,
    /// Why, in words for the user.
    pub reason: Reason,
}

impl Refusal {
    /// A refusal of this kind for this reason.
    pub fn new(code: RefusalCode, reason: Reason) -> Refusal {
        Refusal { code, reason }
    }

    /// A rule refused the request (the common case for the engine's answers).
    pub fn rejected(reason: Reason) -> Refusal {
        Refusal::new(RefusalCode::Rejected, reason)
    }
}

/// The reason, `中文 | English`, as `mzd` prints it on stderr.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reason.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_without_a_code_reads_as_rejected() {
        let r: Refusal = serde_json::from_str(r#"{"reason":{"zh":"不行","en":"no"}}"#).unwrap();
        assert_eq!(r.code, RefusalCode::Rejected);
        let text = serde_json::to_string(&Refusal::new(RefusalCode::NotFound, r.reason)).unwrap();
        assert_eq!(text, r#"{"code":"not_found","reason":{"zh":"不行","en":"no"}}"#);
    }

    #[test]
    fn a_code_this_side_does_not_know_reads_as_rejected() {
        let r: Refusal = serde_json::from_str(r#"{"code":"later","reason":{"zh":"不行","en":"no"}}"#).unwrap();
        assert_eq!(r.code, RefusalCode::Rejected);
        let conflict = serde_json::to_string(&RefusalCode::Conflict).unwrap();
        assert_eq!(conflict, r#""conflict""#);
    }
}
