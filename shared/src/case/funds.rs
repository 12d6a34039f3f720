//! Reserve funds (备用金): one [`ReserveFund`] per street, kept together in [`Funds`].
//!
//! Invariant: a balance is the registry's allotment minus what was paid; it never goes below
//! zero because [`super::apply`] refuses a payment above it.

use super::{Case, CaseError};
use crate::registry::{Fen, Registry};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One street's reserve fund (临时救助备用金).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReserveFund {
    /// The registry's `reserve_fund` for the street.
    pub initial: Fen,
    /// Everything paid from it so far.
    pub paid: Fen,
}

impl ReserveFund {
    /// `initial − paid`, never below zero (the registry's amount may be lowered after payments).
    pub fn balance(&self) -> Fen {
        Fen(self.initial.0.saturating_sub(self.paid.0).max(0))
    }
}

/// The reserve funds of all streets: a pure value the daemon persists (or rebuilds with
/// [`Funds::tally`]) and debits with every [`Applied::debit`](super::Applied::debit).
///
/// The registry's `reserve_fund` is read as the fund's allotment: the balance is that amount
/// minus what was paid, so editing the registry (a top-up) keeps the record of payments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Funds {
    /// Each street's fund, by street id.
    pub streets: BTreeMap<String, ReserveFund>,
}

impl Funds {
    /// Every street of the registry, nothing paid yet.
    pub fn from_registry(registry: &Registry) -> Funds {
        let mut funds = Funds::default();
        funds.sync(registry);
        funds
    }

    /// Rebuilds the funds from the registry and the payments of all cases.
    pub fn tally<'a>(registry: &Registry, cases: impl IntoIterator<Item = &'a Case>) -> Funds {
        let mut funds = Funds::from_registry(registry);
        for case in cases {
            funds.count_paid(case);
        }
        funds
    }

    /// Adds what `case` has paid to its street's fund (building the funds case by case).
    pub fn count_paid(&mut self, case: &Case) {
        let fund = self.streets.entry(case.street.clone()).or_default();
        fund.paid = Fen(fund.paid.0.saturating_add(case.paid_total().0));
    }

    /// After a registry reload: every street's `initial` becomes the registry's `reserve_fund`,
    /// new streets are added; streets gone from the registry keep their record of payments.
    pub fn sync(&mut self, registry: &Registry) {
        for street in &registry.streets {
            self.streets.entry(street.id.clone()).or_default().initial = street.reserve_fund;
        }
    }

    /// The street's balance; zero for a street without a fund.
    pub fn balance(&self, street: &str) -> Fen {
        self.streets.get(street).map_or(Fen(0), ReserveFund::balance)
    }

    /// Takes `amount` from the street's fund and returns the new balance; refused when the
    /// balance does not cover it (the fund never goes below zero) or the amount is not positive.
    pub fn debit(&mut self, street: &str, amount: Fen) -> Result<Fen, CaseError> {
        if amount.0 <= 0 {
            return Err(CaseError::InvalidAmount(amount));
        }
        let balance = self.balance(street);
        if amount > balance {
            return Err(CaseError::FundExhausted { street: street.to_string(), balance, amount });
        }
        let fund = self.streets.entry(street.to_string()).or_default();
        fund.paid = Fen(fund.paid.0 + amount.0);
        Ok(fund.balance())
    }
}
