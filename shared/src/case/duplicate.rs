//! Duplicate aid: who a payment went to ([`PersonKey`], [`AidRecord`]) and the warning when
//! the same person was paid within [`super::DUPLICATE_AID_WINDOW_MS`] ([`duplicate_aid`]).

use super::{CaseId, CaseWarning, DUPLICATE_AID_WINDOW_MS};
use crate::id_number::{IdHash, ProtectedId};
use crate::registry::Fen;
use serde::{Deserialize, Serialize};

/// How payments to one person are matched across cases: the keyed ID-number hash, or else the
/// name together with the rescue station (a name alone is too common to match on).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKey {
    /// The keyed hash of the person's ID number.
    Id(IdHash),
    /// No ID number: the name (blanks removed) at a rescue station.
    NameStation {
        /// The person's name, blanks removed; never a placeholder such as 无名氏.
        name: String,
        /// The rescue station's registry id.
        station: String,
    },
}

/// Names that stand for "unknown" and never identify anyone.
const PLACEHOLDER_NAMES: [&str; 6] = ["无名氏", "无", "未知", "不详", "unknown", "n/a"];

impl PersonKey {
    /// The ID hash when there is one; else name + station when both are known and the name is
    /// not a placeholder such as 无名氏.
    pub fn of(person: Option<&ProtectedId>, name: Option<&str>, station: Option<&str>) -> Option<PersonKey> {
        if let Some(p) = person {
            return Some(PersonKey::Id(p.hash));
        }
        let name: String = name?.split_whitespace().collect();
        let station = station?.trim();
        if name.is_empty() || station.is_empty() || PLACEHOLDER_NAMES.iter().any(|p| name.eq_ignore_ascii_case(p)) {
            return None;
        }
        Some(PersonKey::NameStation { name, station: station.to_string() })
    }
}

/// One payment on some case, for the duplicate-aid check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AidRecord {
    /// Who received the money.
    pub person: PersonKey,
    /// The case it was paid on.
    pub case_id: CaseId,
    /// The street whose reserve fund paid it.
    pub street: String,
    /// When it was paid (Unix milliseconds).
    pub at_ms: i64,
    /// How much was paid.
    pub amount: Fen,
}

/// Warnings for a payment to `person` on case `case_id` from `street`'s fund at `at_ms`, given
/// the payments of other cases: one per other payment to the same person that is less than
/// 30 days away (either side), or that came from a different street (at any time: pass only the
/// records you want considered). Records of `case_id` itself are ignored.
pub fn duplicate_aid(
    person: &PersonKey,
    case_id: &CaseId,
    street: &str,
    at_ms: i64,
    others: &[AidRecord],
) -> Vec<CaseWarning> {
    others
        .iter()
        .filter(|r| r.person == *person && r.case_id != *case_id)
        .filter_map(|r| {
            let within = r.at_ms.abs_diff(at_ms) < DUPLICATE_AID_WINDOW_MS.unsigned_abs();
            let differs = r.street != street;
            (within || differs).then(|| CaseWarning::DuplicateAid {
                other_case: r.case_id.clone(),
                other_street: r.street.clone(),
                other_at_ms: r.at_ms,
                amount: r.amount,
                within_30_days: within,
                other_street_differs: differs,
            })
        })
        .collect()
}
