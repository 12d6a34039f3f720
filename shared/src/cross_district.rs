//! Cross-district checks (跨区核查, SPEC §9): matching people across districts under the city
//! key, and the two city alerts they raise — `cross_district_bigamy` (跨区重婚风险) and
//! `cross_district_duplicate_aid` (跨区重复救助).
//!
//! A district that holds the city key hashes each ID number it validates with [`CityHasher`]
//! (never with its own key) and publishes, with its commits, the [`PersonEvent`]s that matter to
//! the city: marriages and divorces (both parties), and payments that actually paid money
//! (先行救助, approved 一事一议 requests). The city keeps one [`PersonRecord`] per [`CityHash`]
//! and runs [`apply`] on every event, in the order it applies the districts' messages.
//!
//! Invariants: nothing here holds a name or an ID number, only hashes under the city key; who is
//! married follows the district's own bigamy rule (a marriage makes both parties each other's
//! spouse, replacing an earlier one; a divorce ends a party's marriage only when the other party
//! is that spouse); a marriage raises a finding only when a party's current marriage was
//! registered in another district (the district's own alert covers its own store); a payment
//! raises one when another district paid the same person less than
//! [`DUPLICATE_AID_WINDOW_MS`] before or after it. [`apply`] is deterministic, so a city that
//! applies each message once raises each finding once.

use crate::id_number::IdNumber;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::case::DUPLICATE_AID_WINDOW_MS;

/// Payments kept per person: the most recent ones by payment time.
pub const PAYMENTS_KEPT: usize = 16;

/// Context mixed into every city hash, so that a key file used by mistake as both a district's
/// own key and the city key still gives unrelated hashes.
const CONTEXT: &[u8] = b"mz city person v1\0";

/// A person as the city knows them: the keyed hash of the ID number under the city key
/// (BLAKE3 keyed mode, 128 bits). Written as 32 hex digits in messages.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CityHash(pub [u8; 16]);

impl CityHash {
    /// 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The hash written by [`CityHash::to_hex`].
    pub fn from_hex(text: &str) -> Option<CityHash> {
        let bytes = hex_bytes(text)?;
        Some(CityHash(bytes.try_into().ok()?))
    }
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

impl std::fmt::Debug for CityHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CityHash({})", self.to_hex())
    }
}

impl Serialize for CityHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for CityHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CityHash, D::Error> {
        let text = String::deserialize(d)?;
        CityHash::from_hex(&text).ok_or_else(|| serde::de::Error::custom("a city hash is 32 hex digits"))
    }
}

/// Why a city key file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CityKeyError {
    /// Neither 32 bytes nor 64 hex digits.
    #[error(
        "a city key is 32 bytes, or 64 hex digits (e.g. made with `openssl rand -hex 32`); this one has {0} bytes"
    )]
    Length(usize),
}

/// Computes [`CityHash`]es with the city's secret key (`city_key`, the same file in every
/// district and in the city).
#[derive(Clone)]
pub struct CityHasher {
    key: [u8; 32],
}

impl CityHasher {
    /// The key from a key file's bytes: 32 raw bytes, or 64 hex digits (blanks around ignored).
    pub fn from_key_file(bytes: &[u8]) -> Result<CityHasher, CityKeyError> {
        if let Ok(key) = <[u8; 32]>::try_from(bytes) {
            return Ok(CityHasher { key });
        }
        let text = std::str::from_utf8(bytes).map(str::trim).unwrap_or_default();
        let key = hex_bytes(text).and_then(|b| <[u8; 32]>::try_from(b).ok());
        key.map(|key| CityHasher { key }).ok_or(CityKeyError::Length(bytes.len()))
    }

    /// The city's hash of an ID number.
    pub fn hash(&self, id: &IdNumber) -> CityHash {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(CONTEXT);
        h.update(id.as_str().as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
        CityHash(out)
    }
}

impl std::fmt::Debug for CityHasher {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CityHasher(..)")
    }
}

/// A person's district hash beside their city hash.
pub type HashPair = (crate::id_number::IdHash, CityHash);

/// The district and city hashes of the valid ID numbers in a row's cells (`values` in the feed's
/// canonical column order, as validation takes them), for the moment the clear number exists.
pub fn id_pairs(
    feed: crate::feed::Feed,
    values: &[Option<&str>],
    district: &crate::id_number::IdHasher,
    city: &CityHasher,
) -> Vec<HashPair> {
    feed.columns()
        .iter()
        .zip(values)
        .filter(|(c, _)| c.kind == crate::feed::ColumnKind::IdNumber)
        .filter_map(|(_, v)| IdNumber::parse((*v)?).ok())
        .map(|id| (district.hash(&id), city.hash(&id)))
        .collect()
}

/// What a district publishes about a person, with the commit that recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PersonEvent {
    /// A marriage registration (结婚登记) of parties `a` and `b`.
    Marriage {
        /// The district's record id of the registration row.
        record_id: String,
        /// Party A (当事人甲) under the city key.
        a: CityHash,
        /// Party B (当事人乙) under the city key.
        b: CityHash,
        /// `registered_at`, Unix ms.
        at_ms: i64,
    },
    /// A divorce registration (离婚登记) of parties `a` and `b`.
    Divorce {
        /// The district's record id of the registration row.
        record_id: String,
        /// Party A under the city key.
        a: CityHash,
        /// Party B under the city key.
        b: CityHash,
        /// `registered_at`, Unix ms.
        at_ms: i64,
    },
    /// Money actually paid on a 救急难 case to `person`: an immediate payment or an approved
    /// request.
    Payment {
        /// The district's case id (e.g. `JJN-2026-000123`).
        case_id: String,
        /// The person paid, under the city key.
        person: CityHash,
        /// The amount paid, in fen.
        amount_fen: i64,
        /// When the money was paid, Unix ms.
        at_ms: i64,
    },
}

impl PersonEvent {
    /// The people the event is about (the records [`apply`] needs).
    pub fn persons(&self) -> Vec<CityHash> {
        match self {
            PersonEvent::Marriage { a, b, .. } | PersonEvent::Divorce { a, b, .. } => vec![*a, *b],
            PersonEvent::Payment { person, .. } => vec![*person],
        }
    }
}

/// A person's current marriage as the city knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marriage {
    /// The other party, under the city key.
    pub spouse: CityHash,
    /// The district that registered it.
    pub district: String,
    /// The district's record id of the marriage registration.
    pub record_id: String,
    /// `registered_at`, Unix ms.
    pub at_ms: i64,
}

/// One payment to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paid {
    /// The paying district's code.
    pub district: String,
    /// The district's case id.
    pub case_id: String,
    /// When the money was paid, Unix ms.
    pub at_ms: i64,
    /// The amount paid, in fen.
    pub amount_fen: i64,
}

/// What the city keeps of one person (under their [`CityHash`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    /// The current marriage, if any (none after a divorce).
    #[serde(default)]
    pub married: Option<Marriage>,
    /// The most recent payments, oldest first, at most [`PAYMENTS_KEPT`].
    #[serde(default)]
    pub payments: Vec<Paid>,
}

/// Which party of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// 当事人甲.
    A,
    /// 当事人乙.
    B,
}

/// A city alert to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A marriage registered in `district` by parties whose current marriage is elsewhere.
    Bigamy {
        /// The district of the new registration.
        district: String,
        /// Its record id.
        record_id: String,
        /// Its `registered_at`, Unix ms.
        at_ms: i64,
        /// Each party already married elsewhere, with that marriage.
        parties: Vec<(Party, Marriage)>,
    },
    /// A payment in `district` to a person another district paid within the window.
    DuplicateAid {
        /// The district of the new payment.
        district: String,
        /// The new payment.
        paid: Paid,
        /// The other district's payment within the window.
        earlier: Paid,
    },
}

impl Finding {
    /// The kind, as in `alerts.by_kind`.
    pub fn kind(&self) -> CityAlertKind {
        match self {
            Finding::Bigamy { .. } => CityAlertKind::CrossDistrictBigamy,
            Finding::DuplicateAid { .. } => CityAlertKind::CrossDistrictDuplicateAid,
        }
    }

    /// The alert's id, made from what raised it (the same event never raises two).
    pub fn alert_id(&self) -> String {
        match self {
            Finding::Bigamy { district, record_id, .. } => format!("cross_district_bigamy:{district}:{record_id}"),
            Finding::DuplicateAid { district, paid, .. } => {
                format!("cross_district_duplicate_aid:{district}:{}:{}", paid.case_id, paid.at_ms)
            }
        }
    }
}

/// Applies one event published by `district` to the people it is about, returning the finding
/// it raises, if any. Records missing from `people` are taken as empty (a person not seen yet).
pub fn apply(people: &mut BTreeMap<CityHash, PersonRecord>, district: &str, event: &PersonEvent) -> Option<Finding> {
    match event {
        PersonEvent::Marriage { record_id, a, b, at_ms } => marriage(people, district, record_id, (*a, *b), *at_ms),
        PersonEvent::Divorce { a, b, .. } => {
            divorce(people, *a, *b);
            None
        }
        PersonEvent::Payment { case_id, person, amount_fen, at_ms } => {
            let paid = Paid {
                district: district.to_owned(),
                case_id: case_id.clone(),
                at_ms: *at_ms,
                amount_fen: *amount_fen,
            };
            payment(people.entry(*person).or_default(), paid)
        }
    }
}

fn marriage(
    people: &mut BTreeMap<CityHash, PersonRecord>,
    district: &str,
    record_id: &str,
    (a, b): (CityHash, CityHash),
    at_ms: i64,
) -> Option<Finding> {
    let elsewhere = |p: CityHash| people.get(&p).and_then(|r| r.married.clone()).filter(|m| m.district != district);
    let parties: Vec<(Party, Marriage)> =
        [(Party::A, a), (Party::B, b)].into_iter().filter_map(|(party, p)| Some((party, elsewhere(p)?))).collect();
    let now = |spouse| Marriage { spouse, district: district.to_owned(), record_id: record_id.to_owned(), at_ms };
    people.entry(a).or_default().married = Some(now(b));
    people.entry(b).or_default().married = Some(now(a));
    (!parties.is_empty()).then(|| Finding::Bigamy {
        district: district.to_owned(),
        record_id: record_id.to_owned(),
        at_ms,
        parties,
    })
}

fn divorce(people: &mut BTreeMap<CityHash, PersonRecord>, a: CityHash, b: CityHash) {
    for (x, y) in [(a, b), (b, a)] {
        if let Some(r) = people.get_mut(&x).filter(|r| r.married.as_ref().is_some_and(|m| m.spouse == y)) {
            r.married = None;
        }
    }
}

/// Records `paid`; the nearest payment by another district within the window makes a finding.
fn payment(record: &mut PersonRecord, paid: Paid) -> Option<Finding> {
    let earlier = record
        .payments
        .iter()
        .filter(|p| p.district != paid.district && (p.at_ms - paid.at_ms).abs() < DUPLICATE_AID_WINDOW_MS)
        .min_by_key(|p| (p.at_ms - paid.at_ms).abs())
        .cloned();
    let at = record.payments.partition_point(|p| p.at_ms <= paid.at_ms);
    record.payments.insert(at, paid.clone());
    let excess = record.payments.len().saturating_sub(PAYMENTS_KEPT);
    record.payments.drain(..excess);
    earlier.map(|earlier| Finding::DuplicateAid { district: paid.district.clone(), paid, earlier })
}

/// The kinds of city alerts; the snake_case names are the keys of the city's `alerts.by_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CityAlertKind {
    /// 跨区重婚风险.
    CrossDistrictBigamy,
    /// 跨区重复救助.
    CrossDistrictDuplicateAid,
}

impl CityAlertKind {
    /// Every kind, in the order status lists them.
    pub const ALL: [CityAlertKind; 2] = [CityAlertKind::CrossDistrictBigamy, CityAlertKind::CrossDistrictDuplicateAid];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CityAlertKind::CrossDistrictBigamy => "cross_district_bigamy",
            CityAlertKind::CrossDistrictDuplicateAid => "cross_district_duplicate_aid",
        }
    }

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            CityAlertKind::CrossDistrictBigamy => "跨区重婚风险",
            CityAlertKind::CrossDistrictDuplicateAid => "跨区重复救助",
        }
    }
}

/// An alert the city raised: the same fields and list shape as a district's
/// [`crate::alert::Alert`]; its subject is the district where the event was registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CityAlert {
    /// Stable, printable id derived from the kind and the record, so a replay raises no second alert.
    pub id: String,
    /// Bigamy risk or duplicate aid.
    pub kind: CityAlertKind,
    /// The district code of the registration or payment that raised it.
    pub subject: String,
    /// Unix milliseconds.
    pub raised_at_ms: i64,
    /// What happened, in Chinese and English, naming districts and record ids only.
    pub message: crate::reason::Reason,
    /// The marriage record or case that raised it.
    pub record_id: Option<String>,
    /// Active or acknowledged (by whom, when).
    pub state: crate::alert::AlertState,
}

impl CityAlert {
    /// True until acknowledged.
    pub fn is_active(&self) -> bool {
        self.state == crate::alert::AlertState::Active
    }

    /// The alert as `mzd alert list --json` prints it, in the shape of a district's alert.
    pub fn to_json(&self, tz: &jiff::tz::TimeZone) -> serde_json::Value {
        let as_district = crate::alert::Alert {
            id: self.id.clone(),
            kind: crate::alert::AlertKind::BigamyRisk,
            subject: self.subject.clone(),
            raised_at_ms: self.raised_at_ms,
            message: self.message.clone(),
            record_id: self.record_id.clone(),
            state: self.state.clone(),
        };
        let mut json = as_district.to_json(tz);
        json["kind"] = serde_json::Value::from(self.kind.as_str());
        json
    }
}

#[cfg(test)]
mod tests;
