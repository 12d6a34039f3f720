//! Administrative actions through the engine: a consistent backup of the store (nothing is
//! written while it runs) and acknowledging an alert.

use super::{not_stored, now_ms, Engine};
use crate::files::{copy_tree, sync_dir};
use mz_shared::alert::AlertState;
use mz_shared::protocol::{Refusal, RefusalCode};
use mz_shared::reason::Reason;
use std::fs;
use std::path::Path;

impl Engine {
    /// Copies a consistent snapshot of the store, the ID-hash key and the registry into `dest`
    /// (which must not exist yet or be empty). While it runs nothing else is written: the
    /// engine is the only writer and it is busy here.
    pub fn backup(&mut self, data: &Path, registry_path: &Path, dest: &Path) -> Result<u64, Refusal> {
        let fail = |e: std::io::Error| {
            Refusal::rejected(Reason::new(
                format!("备份失败：{} ({e})", dest.display()),
                format!("backup to {} failed: {e}", dest.display()),
            ))
        };
        if fs::read_dir(dest).map(|mut d| d.next().is_some()).unwrap_or(false) {
            return Err(Refusal::rejected(Reason::new(
                format!("备份目录 {} 不是空的，请换一个新目录", dest.display()),
                format!("backup folder {} is not empty: give a new folder", dest.display()),
            )));
        }
        self.store.sync().map_err(|e| {
            Refusal::new(RefusalCode::Unavailable, Reason::new(format!("备份失败：{e}"), format!("backup failed: {e}")))
        })?;
        let mut bytes = copy_tree(self.store.dir(), &dest.join("store")).map_err(fail)?;
        for (from, name) in [(data.join("id-hash.key"), "id-hash.key"), (registry_path.to_owned(), "registry.toml")] {
            bytes += fs::copy(&from, dest.join(name)).map_err(fail)?;
        }
        bytes += crate::cases::write_anchor_file(&self.state, &self.registry, dest).map_err(fail)?;
        sync_dir(dest).map_err(fail)?;
        tracing::info!(dest = %dest.display(), bytes, "backup written");
        Ok(bytes)
    }

    /// Acknowledges an active alert on behalf of `user`.
    pub fn acknowledge_alert(&mut self, id: &str, user: &str) -> Result<(), Refusal> {
        self.ensure_open().map_err(not_stored)?;
        // The id as stored, or as printed (`mzd alert list`).
        let stored = match self.state.alerts.get(id) {
            Some(_) => id.to_owned(),
            None => self
                .state
                .alerts
                .iter()
                .find(|(k, _)| mz_shared::alert::printable_id(k) == id)
                .map_or_else(|| id.to_owned(), |(k, _)| k.clone()),
        };
        let id = stored.as_str();
        let Some(alert) = self.state.alerts.get(id) else {
            let reason =
                Reason::new(format!("告警 {id} 不存在或已解除"), format!("alert {id} does not exist or has cleared"));
            return Err(Refusal::new(RefusalCode::NotFound, reason));
        };
        if let AlertState::Acknowledged { by, .. } = &alert.state {
            let reason = Reason::new(format!("告警已由 {by} 确认"), format!("alert already acknowledged by {by}"));
            return Err(Refusal::new(RefusalCode::Conflict, reason));
        }
        if let Some(a) = self.state.alerts.get_mut(id) {
            a.state = AlertState::Acknowledged { by: user.to_owned(), at_ms: now_ms() };
        }
        self.commit(crate::store::Batch::default()).map_err(|e| {
            let reason = Reason::new(format!("保存失败：{e}"), format!("could not store the acknowledgement: {e}"));
            Refusal::new(RefusalCode::Unavailable, reason)
        })
    }
}
