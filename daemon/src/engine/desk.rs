//! The case desk (救急难) as the engine runs it: opening a case and acting on one, each committed
//! with the funds, audit entry and figures it changes. The rules are in [`crate::cases`] and
//! `mz_shared::case`; officers' free text is stored with ID numbers masked.

use super::{mask_id_numbers, not_stored, now_ms, Engine};
use mz_shared::case::{Action, Actor, Applied, Case};
use mz_shared::protocol::{CaseOpenRequest, Refusal};
use mz_shared::reason::Reason;

impl Engine {
    /// Opens a case for an officer and commits it.
    pub fn open_case(&mut self, actor: &Actor, mut req: CaseOpenRequest) -> Result<(Case, Vec<Reason>), Refusal> {
        self.ensure_open().map_err(not_stored)?;
        // Free text typed by an officer: an ID number there is masked like everywhere else.
        req.summary = mask_id_numbers(&req.summary);
        req.name = req.name.as_deref().map(mask_id_numbers);
        self.note_officer_id_number(req.id_number.as_deref());
        let case = crate::cases::open(&mut self.state, &self.registry, &self.hasher, actor, req, now_ms())?;
        self.commit_action()?;
        Ok(case)
    }

    /// Applies an action to a case and commits it.
    pub fn act_on_case(
        &mut self,
        actor: &Actor,
        id: &str,
        action: &Action,
        expected_version: u64,
    ) -> Result<Applied, Refusal> {
        self.ensure_open().map_err(not_stored)?;
        let action = &action.clone().with_id_numbers_masked();
        let applied =
            crate::cases::act(&mut self.state, &self.registry, actor, id, action, expected_version, now_ms())?;
        if let Some(amount) = applied.debit {
            let reader = self.store.reader();
            if let Some(people) = self.people() {
                people.paid(&applied.case, amount.0, now_ms(), &reader);
            }
        }
        self.commit_action()?;
        Ok(applied)
    }

    /// The ID number an officer typed, hashed under the city key while it is at hand.
    fn note_officer_id_number(&mut self, text: Option<&str>) {
        let Some(id) = text.and_then(|t| mz_shared::id_number::IdNumber::parse(t).ok()) else { return };
        let district = self.hasher.hash(&id);
        if let Some(people) = self.people() {
            let city = people.hasher().hash(&id);
            people.note(&[(district, city)]);
        }
    }
}
