//! Test and demo data for mz: the one place the demo (`mzc --demo`), the benches and the
//! end-to-end tests take their names, ID numbers, people, places and times from.
//!
//! Everything is seeded ([`Rng`] wraps `fastrand::Rng`), so a seed always gives the same rows.
//! Invariants every generator keeps: a person's name, sex and the sex digit of their ID number
//! agree; an ID number's birth date gives the stated age on the stated day; ID numbers carry a
//! valid GB 11643 check digit unless a function says otherwise. The check digit is computed here
//! independently of `mz-shared`, so tests built on it check the code under test.

pub mod id_number;
pub mod names;
pub mod people;
pub mod places;
pub mod time;

pub use people::{Person, Sex};

/// A small seeded random source (a thin layer over `fastrand::Rng` with the helpers the
/// generators use).
#[derive(Debug, Clone)]
pub struct Rng(fastrand::Rng);

impl Rng {
    /// A generator whose sequence depends only on `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(fastrand::Rng::with_seed(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            self.0.u64(lo..=hi)
        }
    }

    /// One of `items`, uniformly. Panics on an empty slice (a programming error in a table).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.0.usize(..items.len())]
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.0.u64(1..=100) <= percent
    }

    /// True with probability `p` (0.0..=1.0).
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.0.f64() < p
    }

    /// The underlying `fastrand::Rng`, for its other helpers.
    pub fn inner(&mut self) -> &mut fastrand::Rng {
        &mut self.0
    }
}
