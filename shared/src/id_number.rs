//! Citizen ID numbers (居民身份证号码, GB 11643-1999): validation, birth date, sex, masking and
//! the keyed hash under which the store matches people without keeping the number.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A valid 18-character ID number, upper-case `X` check digit. Lives only in memory while a row
/// is validated; never stored, logged or sent.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

/// What is stored instead of an ID number: the masked form and a keyed hash for matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProtectedId {
    /// `110105********123X`: first 6 and last 4 characters.
    pub masked: String,
    pub hash: IdHash,
}

/// Keyed hash of an ID number (BLAKE3 keyed mode, truncated to 128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IdHash(pub [u8; 16]);

/// Sex as encoded by the 17th digit (odd: male, even: female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

/// Why a string is not a valid ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("has {0} characters, expected 18")]
    Length(usize),
    #[error("character {position} is `{found}`, expected a digit (or X as the last character)")]
    BadCharacter { position: usize, found: char },
    #[error("birth date {0} does not exist")]
    BadBirthDate(String),
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit { found: char, expected: char },
}

impl IdNumber {
    /// Parses and validates: 18 characters, 17 digits then a digit or `X` (`x` accepted),
    /// an existing birth date, and the ISO 7064 MOD 11-2 check digit.
    pub fn parse(text: &str) -> Result<IdNumber, IdNumberError> {
        let _ = text;
        todo!("helper: implement")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> Date {
        todo!("helper: implement")
    }

    pub fn sex(&self) -> Sex {
        todo!("helper: implement")
    }

    /// Full years of age on `on`.
    pub fn age_on(&self, on: Date) -> i64 {
        let _ = on;
        todo!("helper: implement")
    }

    /// `110105********123X`.
    pub fn masked(&self) -> String {
        todo!("helper: implement")
    }

    pub fn protect(&self, hasher: &IdHasher) -> ProtectedId {
        ProtectedId { masked: self.masked(), hash: hasher.hash(self) }
    }
}

impl std::fmt::Debug for IdNumber {
    /// Never prints the number itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Computes [`IdHash`]es with the store's secret key (`<data>/id-hash.key`).
#[derive(Clone)]
pub struct IdHasher {
    key: [u8; 32],
}

impl IdHasher {
    pub fn new(key: [u8; 32]) -> Self {
        IdHasher { key }
    }

    pub fn hash(&self, id: &IdNumber) -> IdHash {
        let h = blake3::keyed_hash(&self.key, id.as_str().as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.as_bytes()[..16]);
        IdHash(out)
    }
}
