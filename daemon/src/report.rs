//! Building the published views of the figures: the status report of SPEC §6.
//! Everything here reads maintained figures; nothing scans records.

use crate::state::State;
use crate::store::pages::RecordIndex;
use mz_shared::alert::AlertKind;
use mz_shared::feed::Feed;
use mz_shared::protocol::{AlertCounts, FeedCounts, SiteStatus, StationStatus, StatusReport};
use mz_shared::records::MarriageKind;
use mz_shared::registry::Registry;

/// The status report as of the last commit (health is filled in by the server).
pub fn status(state: &State, index: &RecordIndex, registry: &Registry) -> StatusReport {
    let c = &state.counters;
    let mut records = FeedCounts::default();
    for feed in Feed::ALL {
        *records.get_mut(feed) = index.count(feed);
    }
    let mut alerts = AlertCounts::default();
    for kind in AlertKind::ALL {
        alerts.by_kind.insert(kind.as_str().to_owned(), 0);
    }
    for a in state.alerts.values().filter(|a| a.is_active()) {
        alerts.active += 1;
        *alerts.by_kind.entry(a.kind.as_str().to_owned()).or_default() += 1;
    }
    StatusReport {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        healthy: true,
        problems: Vec::new(),
        files: c.files,
        records,
        rejected_rows: c.rejected_rows,
        duplicate_rows: c.duplicate_rows,
        stations: registry
            .stations
            .iter()
            .map(|s| StationStatus {
                id: s.id.clone(),
                beds: s.beds,
                occupied: state.occupancy.get(&s.id).map_or(0, |o| o.occupied),
            })
            .collect(),
        sites: registry
            .sites
            .iter()
            .map(|s| {
                let cur = state.sites.get(&s.id).and_then(|h| h.current());
                SiteStatus {
                    id: s.id.clone(),
                    capacity_total: cur.map_or(0, |r| r.capacity_total),
                    occupied: cur.map_or(0, |r| r.occupied),
                }
            })
            .collect(),
        marriages_by_kind: MarriageKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), c.marriages_by_kind.get(k).copied().unwrap_or(0)))
            .collect(),
        cases: Default::default(),
        alerts,
    }
}
