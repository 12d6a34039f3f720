//! The reserve funds (临时救助备用金) as `mzd fund list` and the console's funds view show them:
//! per street the registry's allotment, what was paid, what waits for a supervisor's approval
//! (一事一议), the balance, and the open cases.
//!
//! Paid amounts live in [`mz_shared::case::Funds`]; the pending requests and open-case counts of
//! each street are kept here, in [`CaseFundFigures`], which [`crate::state::State::put_case`]
//! updates with every changed case (remove the old version, add the new one). Invariant: the
//! figures always equal [`CaseFundFigures::tally`] of the current cases, so no request ever
//! walks the cases.

use mz_shared::case::{Case, Funds};
use mz_shared::dashboard::FundRow;
use mz_shared::registry::{Fen, Registry};
use mz_shared::text::{pad, width};
use std::collections::BTreeMap;

/// One street's figures that come from its cases rather than from its payments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreetCaseFigures {
    /// Requests above the case cap awaiting approval, summed.
    pub pending: Fen,
    /// Cases not closed or referred.
    pub open: u32,
}

/// Pending requests and open cases per street, maintained case by case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFundFigures {
    streets: BTreeMap<String, StreetCaseFigures>,
}

impl CaseFundFigures {
    /// Counts a case (new, or the new version of a changed one).
    pub fn add(&mut self, case: &Case) {
        self.apply(case, 1);
    }

    /// Uncounts a case (the old version of a changed one).
    pub fn remove(&mut self, case: &Case) {
        self.apply(case, -1);
    }

    fn apply(&mut self, case: &Case, sign: i64) {
        let open = !case.is_terminal();
        let pending = case.pending.as_ref().map_or(0, |p| p.amount.0);
        if !open && pending == 0 {
            return;
        }
        let s = self.streets.entry(case.street.clone()).or_default();
        if open {
            s.open = (i64::from(s.open) + sign).clamp(0, i64::from(u32::MAX)) as u32;
        }
        s.pending = Fen(s.pending.0.saturating_add(sign * pending).max(0));
    }

    /// The figures of a street (zero for a street without cases).
    pub fn street(&self, id: &str) -> StreetCaseFigures {
        self.streets.get(id).copied().unwrap_or_default()
    }

    /// The figures computed from scratch (start-up, and the tests' reference).
    pub fn tally<'a>(cases: impl IntoIterator<Item = &'a Case>) -> CaseFundFigures {
        let mut f = CaseFundFigures::default();
        for c in cases {
            f.add(c);
        }
        f.streets.retain(|_, s| *s != StreetCaseFigures::default());
        f
    }

    /// Equal figures, ignoring streets whose figures went back to zero.
    pub fn same_as(&self, other: &CaseFundFigures) -> bool {
        let nonzero = |f: &CaseFundFigures| {
            f.streets
                .iter()
                .filter(|(_, s)| **s != StreetCaseFigures::default())
                .map(|(k, s)| (k.clone(), *s))
                .collect()
        };
        let (a, b): (Vec<_>, Vec<_>) = (nonzero(self), nonzero(other));
        a == b
    }
}

/// One row per street of the registry, in registry order.
pub fn fund_rows(funds: &Funds, figures: &CaseFundFigures, registry: &Registry) -> Vec<FundRow> {
    registry
        .streets
        .iter()
        .map(|s| {
            let fund = funds.streets.get(&s.id).copied().unwrap_or_default();
            let f = figures.street(&s.id);
            FundRow {
                street: s.id.clone(),
                name: s.name.clone(),
                initial: s.reserve_fund,
                balance: funds.balance(&s.id),
                case_cap: s.case_cap,
                paid: fund.paid,
                pending: f.pending,
                cases_open: f.open,
            }
        })
        .collect()
}

/// A row as `mzd fund list --json` prints it (SPEC §1).
pub fn fund_json(r: &FundRow) -> serde_json::Value {
    serde_json::json!({
        "street": r.street,
        "name": r.name,
        "initial_fen": r.initial.0,
        "paid_fen": r.paid.0,
        "pending_fen": r.pending.0,
        "balance_fen": r.balance.0,
        "case_cap_fen": r.case_cap.0,
        "cases_open": r.cases_open,
    })
}

/// The human table of `mzd fund list`: yuan amounts, headers in Chinese unless `english`,
/// columns aligned by display width.
pub fn fund_table(rows: &[FundRow], english: bool) -> String {
    let headers: [&str; 7] = if english {
        ["street", "name", "initial", "paid", "pending", "balance", "open cases"]
    } else {
        ["街道", "名称", "核定额度", "已支付", "待审批", "余额", "在办案件"]
    };
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.street.clone(),
                r.name.clone(),
                r.initial.to_string(),
                r.paid.to_string(),
                r.pending.to_string(),
                r.balance.to_string(),
                r.cases_open.to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(width);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(c));
        }
    }
    let line = |row: [&str; 7]| {
        let parts: Vec<String> = row.iter().enumerate().map(|(i, c)| pad(c, widths[i], i >= 2)).collect();
        parts.join("  ").trim_end().to_owned()
    };
    let mut out = line(headers);
    out.push('\n');
    for row in &cells {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6]]));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::case::{CaseId, CaseState, PaymentRequest};

    fn case(id: u32, street: &str, state: CaseState, pending: Option<i64>) -> Case {
        let registry = Registry::demo();
        let actor = mz_shared::case::Actor::daemon();
        let input = mz_shared::case::OpenCase { street: street.into(), summary: "s".into(), ..Default::default() };
        let mut c = Case::open(CaseId::new(2026, id), input, &actor, 0, &registry).expect("opens");
        c.state = state;
        c.pending = pending.map(|f| PaymentRequest { amount: Fen(f), at_ms: 0, by: "u".into(), note: None });
        c
    }

    #[test]
    fn figures_follow_changes_and_equal_a_fresh_tally() {
        let mut f = CaseFundFigures::default();
        let a = case(1, "ST-01", CaseState::New, None);
        let b = case(2, "ST-01", CaseState::Accepted, Some(600_000));
        f.add(&a);
        f.add(&b);
        assert_eq!(f.street("ST-01"), StreetCaseFigures { pending: Fen(600_000), open: 2 });
        let b2 = case(2, "ST-01", CaseState::Aided, None);
        f.remove(&b);
        f.add(&b2);
        let a2 = case(1, "ST-01", CaseState::Closed, None);
        f.remove(&a);
        f.add(&a2);
        assert_eq!(f.street("ST-01"), StreetCaseFigures { pending: Fen(0), open: 1 });
        assert!(f.same_as(&CaseFundFigures::tally([&a2, &b2])));
    }

    #[test]
    fn table_aligns_wide_characters_and_shows_yuan() {
        let row = FundRow {
            street: "ST-01".into(),
            name: "北苑街道".into(),
            initial: Fen(20_000_000),
            balance: Fen(19_234_550),
            paid: Fen(765_450),
            pending: Fen(600_000),
            cases_open: 3,
            ..Default::default()
        };
        let zh = fund_table(std::slice::from_ref(&row), false);
        assert!(zh.starts_with("街道"), "{zh}");
        assert!(zh.contains("¥200,000.00") && zh.contains("¥7,654.50") && zh.contains("¥6,000.00"), "{zh}");
        let lines: Vec<&str> = zh.lines().collect();
        assert_eq!(width(lines[0]), width(lines[1]), "{zh}");
        let en = fund_table(&[row], true);
        assert!(en.starts_with("street") && en.contains("balance"), "{en}");
    }
}
