//! What station staff do from the console through the engine: logging an arrival, discharge or
//! incident (validated and applied like a feed row) and completing a station task (在站事项).

use super::{apply_row, not_stored, now_ms, Engine, RowOutcome};
use crate::rules::RuleContext;
use jiff::Timestamp;
use mz_shared::case::Actor;
use mz_shared::feed::Feed;
use mz_shared::protocol::{Refusal, RefusalCode};
use mz_shared::reason::Reason;
use std::collections::BTreeMap;

impl Engine {
    /// Stores an arrival, discharge or incident logged from the console by station staff, with
    /// the same validation and rules as a feed row. Returns the record id it was given.
    pub fn log_station_event(&mut self, actor: &Actor, values: &BTreeMap<String, String>) -> Result<String, Refusal> {
        self.ensure_open().map_err(not_stored)?;
        let station = values.get("station_id").map(|s| s.trim()).unwrap_or_default();
        if !self.registry.may_log_at(&actor.user, actor.role, station) {
            let reason = Reason::new(
                format!("{} 不是救助站 {station} 的登记人员，不能登记", actor.user),
                format!("{} is not on the staff of station {station} and cannot log events there", actor.user),
            );
            return Err(Refusal::new(RefusalCode::Forbidden, reason));
        }
        let year = Timestamp::now().to_zoned(self.registry.time_zone()).year();
        let record_id = format!("CON-{year}-{:06}", self.state.counters.next_console_record + 1);
        let feed = Feed::Admissions;
        let cells: Vec<Option<&str>> = feed
            .columns()
            .iter()
            .map(|c| {
                if c.name == "record_id" {
                    Some(record_id.as_str())
                } else {
                    values.get(c.name).map(|v| v.trim()).filter(|v| !v.is_empty())
                }
            })
            .collect();
        let registry = self.registry.clone();
        let ctx = RuleContext::new(&registry, Timestamp::now());
        let reader = self.store.reader();
        let hasher = self.hasher.clone();
        if let Some(people) = self.people() {
            let pairs = mz_shared::cross_district::id_pairs(feed, &cells, &hasher, people.hasher());
            people.note(&pairs);
        }
        let outcome = apply_row(&mut self.index, &mut self.state, &ctx, &self.hasher, Some(&reader), feed, &cells)
            .map_err(|e| {
                Refusal::new(
                    RefusalCode::Unavailable,
                    Reason::new(format!("读取失败：{e}"), format!("store error: {e}")),
                )
            })?;
        match outcome {
            RowOutcome::Stored | RowOutcome::Corrected => {
                self.state.counters_mut().next_console_record += 1;
                self.commit_action()?;
                tracing::info!(record = %record_id, "station event logged from the console");
                Ok(record_id)
            }
            RowOutcome::Duplicate => {
                Err(Refusal::new(RefusalCode::Conflict, Reason::new("重复登记", "already stored")))
            }
            // Validation and the rules change nothing when they refuse a row.
            RowOutcome::Rejected(_, reason) => Err(Refusal::rejected(reason)),
        }
    }

    /// Completes a station task for `actor` and commits it (`mzd task done`, the console).
    pub fn complete_task(
        &mut self,
        actor: &Actor,
        id: &str,
        note: Option<&str>,
    ) -> Result<mz_shared::task::StationTask, Refusal> {
        self.ensure_open().map_err(not_stored)?;
        let reader = self.store.reader();
        let task = crate::tasks::complete(&mut self.state, Some(&reader), &self.registry, actor, id, note, now_ms())?;
        self.commit_action()?;
        tracing::info!(kind = task.kind.as_str(), station = %task.station, "station task completed");
        Ok(task)
    }
}
