//! One person, one open case: the open case of every person link (station and person number,
//! ID-number hash), in memory.
//!
//! Invariant: it follows every change of a case ([`PersonIndex::update`], called by
//! `State::put_case`) and is rebuilt from the cases at start-up, so a trigger about a person
//! already in an open case is found here instead of opening a second case.

use mz_shared::case::{Case, CaseId, PersonLink};
use rustc_hash::FxHashMap as HashMap;

/// The open case of each person link (one person, one open case): small, in memory, rebuilt
/// from the cases at start-up and kept by `State::put_case` with every case change.
#[derive(Debug, Default)]
pub struct PersonIndex {
    open: HashMap<PersonLink, CaseId>,
}

impl PersonIndex {
    /// Follows a case change: `old` as it was (`None` for a new case), `new` as it is now.
    pub fn update(&mut self, old: Option<&Case>, new: &Case) {
        if let Some(old) = old {
            for link in old.person_links() {
                if self.open.get(&link) == Some(&old.id) {
                    self.open.remove(&link);
                }
            }
        }
        for link in new.person_links() {
            self.open.insert(link, new.id.clone());
        }
    }

    /// The open case of the first of `links` that has one.
    pub fn find(&self, links: &[PersonLink]) -> Option<&CaseId> {
        links.iter().find_map(|l| self.open.get(l))
    }

    /// Whether no open case has a person link.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mz_shared::case::{Actor, OpenCase};
    use mz_shared::registry::{Registry, Role};

    fn case() -> Case {
        let input = OpenCase { street: "ST-01".into(), summary: "来访求助".into(), ..OpenCase::default() };
        Case::open(CaseId::new(2026, 1), input, &Actor::new("duty1", Role::Officer), 0, &Registry::demo()).unwrap()
    }

    #[test]
    fn the_person_index_follows_open_cases_only() {
        let mut c = case();
        c.station = Some("TZ-JZZ".into());
        c.ext.person_ref = Some("P-1".into());
        let mut index = PersonIndex::default();
        index.update(None, &c);
        let links = PersonLink::of(None, Some("TZ-JZZ"), Some("P-1"));
        assert_eq!(index.find(&links), Some(&c.id));
        let mut closed = c.clone();
        closed.state = mz_shared::case::CaseState::Closed;
        index.update(Some(&c), &closed);
        assert_eq!(index.find(&links), None);
        assert!(index.is_empty());
    }
}
