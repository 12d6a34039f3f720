//! The district's side of the cross-district checks (跨区核查, SPEC §9): with a `city_key`, the
//! people of this district's marriages, divorces and payments are published as hashes under the
//! city key ([`mz_shared::cross_district`]).
//!
//! The clear ID number exists only while a row is validated or an officer opens a case, so the
//! city hash is computed then ([`People::note`]) and kept for the commit being made. A person
//! with a case gets a link, district hash → city hash, in its own key range (`n<district hash>`,
//! 16 bytes of city hash), written in the same batch as the case; a payment on the case later
//! finds the person's city hash there. Cases are never changed for it (their stored encoding
//! has no room for a new field).
//!
//! Invariants: nothing here is ever hashed under the district's key for publication, nor logged;
//! the events and hashes noted since the last commit belong to that commit and are dropped when
//! it fails; a link is written only in a commit's batch.

use crate::store::StoreReader;
use mz_shared::case::Case;
use mz_shared::cross_district::{CityHash, CityHasher, HashPair, PersonEvent};
use mz_shared::id_number::IdHash;
use mz_shared::records::{MarriageKind, MarriageRegistration, Record};
use std::collections::HashMap;
use std::path::Path;

/// Prefix of the person links (district hash → city hash).
pub const LINK_PREFIX: &[u8] = b"n";

/// `n<district hash>`.
pub fn link_key(hash: &IdHash) -> Vec<u8> {
    let mut k = LINK_PREFIX.to_vec();
    k.extend_from_slice(&hash.0);
    k
}

/// Why the city key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CityKeyFileError {
    /// The key file cannot be read.
    #[error("cannot read the city key {path}: {source}")]
    Read {
        /// The key file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file holds neither 32 raw bytes nor 64 hex digits.
    #[error("the city key {path} is not usable: {source}")]
    Format {
        /// The key file.
        path: std::path::PathBuf,
        /// What is wrong with its content.
        source: mz_shared::cross_district::CityKeyError,
    },
}

/// Reads the city key file named by `city_key` (the same file in every district and the city).
pub fn load_city_key(path: &Path) -> Result<CityHasher, CityKeyFileError> {
    let bytes = std::fs::read(path).map_err(|source| CityKeyFileError::Read { path: path.to_owned(), source })?;
    CityHasher::from_key_file(&bytes).map_err(|source| CityKeyFileError::Format { path: path.to_owned(), source })
}

/// The people of the commit being made.
pub struct People {
    city: CityHasher,
    /// District hash → city hash of the people whose ID number was at hand since the last commit.
    seen: HashMap<IdHash, CityHash>,
    /// Events of the commit being made, in the order they happened.
    events: Vec<PersonEvent>,
}

impl People {
    /// Nothing seen yet, hashing under `city`.
    pub fn new(city: CityHasher) -> People {
        People { city, seen: HashMap::new(), events: Vec::new() }
    }

    /// The city key's hasher (validation computes [`HashPair`]s with it).
    pub fn hasher(&self) -> &CityHasher {
        &self.city
    }

    /// People whose ID number was validated just now.
    pub fn note(&mut self, pairs: &[HashPair]) {
        self.seen.extend(pairs.iter().copied());
    }

    /// A stored record: a marriage or divorce becomes an event when both parties are known.
    pub fn stored(&mut self, record: &Record, pairs: &[HashPair]) {
        let Record::Marriage(m) = record else { return };
        if let Some(event) = registration(m, pairs) {
            self.events.push(event);
        }
    }

    /// Writes the link of every changed case whose person was seen in this commit.
    pub fn link_cases<'a>(&self, cases: impl Iterator<Item = &'a Case>, batch: &mut crate::store::Batch) {
        if self.seen.is_empty() {
            return;
        }
        for p in cases.filter_map(|c| c.person.as_ref()) {
            if let Some(city) = self.seen.get(&p.hash) {
                batch.insert(link_key(&p.hash), &city.0[..]);
            }
        }
    }

    /// Money paid on `case` at `at_ms`: an event when the case's person has a city hash.
    pub fn paid(&mut self, case: &Case, amount_fen: i64, at_ms: i64, reader: &StoreReader) {
        let Some(person) = case.person.as_ref() else { return };
        let city = match self.seen.get(&person.hash) {
            Some(c) => Some(*c),
            None => stored_link(reader, &person.hash),
        };
        let Some(person) = city else {
            tracing::debug!(case = %case.id, "payment on a case without a city link: not matched across districts");
            return;
        };
        self.events.push(PersonEvent::Payment { case_id: case.id.as_str().to_owned(), person, amount_fen, at_ms });
    }

    /// The events of the commit being staged; what was seen is done with.
    pub fn take_events(&mut self) -> Vec<PersonEvent> {
        self.seen.clear();
        std::mem::take(&mut self.events)
    }

    /// The commit failed: its people are forgotten with it.
    pub fn aborted(&mut self) {
        self.seen.clear();
        self.events.clear();
    }
}

fn stored_link(reader: &StoreReader, hash: &IdHash) -> Option<CityHash> {
    match reader.get_raw(&link_key(hash)) {
        Ok(v) => v.and_then(|b| <[u8; 16]>::try_from(&b[..]).ok()).map(CityHash),
        Err(e) => {
            tracing::warn!(error = %e, "a person link cannot be read; the payment is not matched across districts");
            None
        }
    }
}

/// The event of a marriage or divorce whose two parties have city hashes.
fn registration(m: &MarriageRegistration, pairs: &[HashPair]) -> Option<PersonEvent> {
    let city = |p: &Option<mz_shared::id_number::ProtectedId>| {
        let hash = p.as_ref()?.hash;
        pairs.iter().find(|(d, _)| *d == hash).map(|(_, c)| *c)
    };
    let (a, b) = (city(&m.party_a_id)?, city(&m.party_b_id)?);
    let (record_id, at_ms) = (m.record_id.clone(), m.registered_at.as_millisecond());
    match m.kind {
        MarriageKind::Marriage => Some(PersonEvent::Marriage { record_id, a, b, at_ms }),
        MarriageKind::Divorce => Some(PersonEvent::Divorce { record_id, a, b, at_ms }),
        _ => None,
    }
}
