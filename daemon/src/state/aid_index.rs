//! The payments made on every case, by the person paid (救助记录): what the duplicate-aid warning
//! (the same person aided again within 30 days, or by another street) compares a payment with.
//!
//! Invariant: holds exactly the [`Case::aid_records`] of every case, kept by `State::put_case`
//! with every case change and rebuilt from the cases at start-up. A change costs the payments
//! of the case's person, never a pass over every payment ever made.

use mz_shared::case::{AidRecord, Case, PersonKey};
use rustc_hash::FxHashMap as HashMap;

/// Every case's payments, grouped by the person paid.
#[derive(Debug, Default)]
pub struct AidIndex {
    by_person: HashMap<PersonKey, Vec<AidRecord>>,
}

impl AidIndex {
    /// Follows a case change: `old` as it was (`None` for a new case), `new` as it is now.
    pub fn update(&mut self, old: Option<&Case>, new: &Case) {
        let paid_before = old.is_some_and(|o| !o.payments.is_empty());
        if !paid_before && new.payments.is_empty() {
            return;
        }
        if let Some((old, person)) = old.and_then(|o| Some((o, o.person_key()?))) {
            if let Some(records) = self.by_person.get_mut(&person) {
                records.retain(|r| r.case_id != old.id);
                if records.is_empty() {
                    self.by_person.remove(&person);
                }
            }
        }
        for record in new.aid_records() {
            self.by_person.entry(record.person.clone()).or_default().push(record);
        }
    }

    /// The payments to `case`'s person on other cases.
    pub fn others_of(&self, case: &Case) -> Vec<AidRecord> {
        let Some(person) = case.person_key() else { return Vec::new() };
        let records = self.by_person.get(&person).map(Vec::as_slice).unwrap_or_default();
        records.iter().filter(|r| r.case_id != case.id).cloned().collect()
    }

    /// The payments to any of `people`, on any case.
    pub fn of_people<'a>(&self, people: impl IntoIterator<Item = &'a PersonKey>) -> Vec<AidRecord> {
        people.into_iter().filter_map(|p| self.by_person.get(p)).flatten().cloned().collect()
    }

    /// Every payment held (tests compare it with the cases).
    #[cfg(test)]
    pub fn all(&self) -> Vec<AidRecord> {
        self.by_person.values().flatten().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::case::{Actor, CaseId, OpenCase, Payment};
    use mz_shared::registry::{Fen, Registry, Role};
    use proptest::prelude::*;

    /// A case at station `TZ-JZZ` of the person named `name` (no ID number).
    fn case(seq: u32, name: &str) -> Case {
        let registry = Registry::demo();
        let input = OpenCase {
            street: "ST-01".into(),
            summary: "x".into(),
            name: Some(name.into()),
            station: Some("TZ-JZZ".into()),
            ..OpenCase::default()
        };
        Case::open(CaseId::new(2026, seq), input, &Actor::new("officer", Role::Officer), 0, &registry).unwrap()
    }

    fn pay(case: &mut Case, at_ms: i64) {
        case.payments.push(Payment {
            amount: Fen(100),
            at_ms,
            by: "officer".into(),
            approved_by: None,
            note: None,
            paperwork: None,
            paperwork_at_ms: None,
        });
    }

    fn sorted(mut records: Vec<AidRecord>) -> Vec<(String, i64, String)> {
        let mut out: Vec<_> =
            records.drain(..).map(|r| (r.case_id.as_str().to_owned(), r.at_ms, format!("{:?}", r.person))).collect();
        out.sort();
        out
    }

    proptest! {
        /// Whatever the changes (payments, a person renamed), the index holds exactly the cases'
        /// payments, and a case's "others" are its person's payments on the other cases.
        #[test]
        fn the_index_holds_exactly_the_payments_of_the_cases(
            steps in proptest::collection::vec((0u32..4, any::<bool>(), 0usize..3), 1..40)
        ) {
            const NAMES: [&str; 3] = ["张三", "李四", "王五"];
            let mut cases: Vec<Case> = (0..4).map(|i| case(i + 1, NAMES[0])).collect();
            let mut index = AidIndex::default();
            for c in &cases {
                index.update(None, c);
            }
            for (n, (i, pays, name)) in steps.into_iter().enumerate() {
                let old = cases[i as usize].clone();
                let new = &mut cases[i as usize];
                if pays {
                    pay(new, n as i64);
                } else {
                    new.name = Some(NAMES[name].into());
                }
                index.update(Some(&old), new);
            }
            let want: Vec<AidRecord> = cases.iter().flat_map(Case::aid_records).collect();
            prop_assert_eq!(sorted(index.all()), sorted(want.clone()));
            for c in &cases {
                let others: Vec<AidRecord> =
                    want.iter().filter(|r| Some(&r.person) == c.person_key().as_ref() && r.case_id != c.id).cloned().collect();
                prop_assert_eq!(sorted(index.others_of(c)), sorted(others));
            }
        }
    }
}
