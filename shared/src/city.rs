//! The city roll-up (市级汇总, SPEC §9): what a district daemon publishes to NATS JetStream and
//! what the city daemon answers for `mzd status --json`.
//!
//! Invariants: a [`DistrictMessage`] carries figures and summaries only — no names, no ID
//! numbers (not even masked ones), no hash under the district's own key. Its `figures` are the
//! district's §9 entry exactly as the district's own status says it after the commit numbered
//! `seq`, so a city that applied every `seq` in order shows the district figure for figure.
//! Messages are JSON with a version field [`MESSAGE_VERSION`]; a newer version is refused by an
//! older city, never half-read.

use crate::protocol::{AlertCounts, CaseCounts, FeedCounts, SiteStatus, StationStatus, StatusReport, TaskCounts};
use serde::{Deserialize, Serialize};

/// The JetStream stream every district publishes into.
pub const STREAM: &str = "MZ";
/// The subjects of the stream: one per district, `mz.district.<district_code>`.
pub const STREAM_SUBJECTS: &str = "mz.district.*";
/// The newest version of [`DistrictMessage`] this build reads. A message says the lowest
/// version that reads it whole: 2 when it carries `people` (cross-district events), else 1, so
/// a city not yet upgraded keeps reading districts that publish no people.
pub const MESSAGE_VERSION: u32 = 2;
/// Alert kinds the city raises itself.
pub const CITY_ALERT_KINDS: [&str; 2] = ["cross_district_bigamy", "cross_district_duplicate_aid"];

/// `mz.district.<code>`: the only subject a district publishes to.
pub fn subject(district_code: &str) -> String {
    format!("mz.district.{district_code}")
}

/// `<code>:<seq>`: the `Nats-Msg-Id` of the district's commit number `seq`.
pub fn message_id(district_code: &str, seq: u64) -> String {
    format!("{district_code}:{seq}")
}

/// The sequence number in a message id written by [`message_id`] for `district_code`.
pub fn seq_of_message_id(district_code: &str, id: &str) -> Option<u64> {
    id.strip_prefix(district_code)?.strip_prefix(':')?.parse().ok()
}

/// File counts of a district entry (no `in_progress`: that is a live figure, not a commit's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DistrictFiles {
    /// Files ingested since the store was created (status `files.ingested`).
    pub ingested: u64,
    /// Files quarantined since the store was created.
    pub quarantined: u64,
    /// Files whose content was handled before, since the store was created.
    pub duplicates: u64,
}

/// Active alerts of a district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActiveAlerts {
    /// Alerts not yet acknowledged (status `alerts.active`).
    pub active: u64,
}

/// The figures of a district entry (SPEC §9), as the district's status gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DistrictFigures {
    /// The district's `files` counts.
    pub files: DistrictFiles,
    /// Distinct stored records per feed (status `records`).
    pub records: FeedCounts,
    /// Rejected rows per feed since the store was created (status `rejected_rows`).
    pub rejected_rows: FeedCounts,
    /// Beds and occupancy of each station (status `stations`).
    pub stations: Vec<StationStatus>,
    /// Capacity and occupancy of each burial site (status `sites`).
    pub sites: Vec<SiteStatus>,
    /// Open and overdue 救急难 cases.
    pub cases: CaseCounts,
    /// Open and overdue station tasks.
    pub tasks: TaskCounts,
    /// Active alerts of the district.
    pub alerts: ActiveAlerts,
}

impl DistrictFigures {
    /// The §9 figures of a district's own status.
    pub fn from_status(s: &StatusReport) -> DistrictFigures {
        DistrictFigures {
            files: DistrictFiles {
                ingested: s.files.ingested,
                quarantined: s.files.quarantined,
                duplicates: s.files.duplicates,
            },
            records: s.records,
            rejected_rows: s.rejected_rows,
            stations: s.stations.clone(),
            sites: s.sites.clone(),
            cases: s.cases,
            tasks: s.tasks,
            alerts: ActiveAlerts { active: s.alerts.active },
        }
    }
}

/// The 救急难 cases of one street (街道), for the city's drill-down.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreetCases {
    /// The street's registry id, e.g. `ST-01`.
    pub street: String,
    /// The street's name (街道/乡镇).
    pub name: String,
    /// Cases not closed or referred.
    pub open: u64,
    /// Paid from the street's reserve fund so far, in fen.
    pub paid_fen: i64,
}

/// Registrations of one marriage office on the district's local day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OfficeFigures {
    /// The office's registry id, e.g. `M-TZ`.
    pub id: String,
    /// Registrations of every kind on the district's local day.
    pub registrations_today: u64,
}

/// What the city's views need beyond the status figures.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DistrictDetail {
    /// Admissions on the district's local day, all stations.
    pub arrivals_today: u64,
    /// The local day the `today` figures are for.
    pub today: String,
    /// Cases by street, for the city's drill-down.
    #[serde(default)]
    pub cases_by_street: Vec<StreetCases>,
    /// Each marriage office's registrations today.
    #[serde(default)]
    pub offices: Vec<OfficeFigures>,
    /// Active alerts by kind.
    #[serde(default)]
    pub alerts_by_kind: std::collections::BTreeMap<String, u64>,
}

/// One outbox entry: what the district's commit number `seq` left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistrictMessage {
    /// [`MESSAGE_VERSION`].
    pub v: u32,
    /// The district's `district_code`, e.g. `110112`.
    pub district: String,
    /// The district's commit number: 1, 2, 3… without gaps; the message id is `<district>:<seq>`.
    pub seq: u64,
    /// When the commit was made (Unix ms).
    pub at_ms: i64,
    /// The district's figures after the commit.
    pub figures: DistrictFigures,
    /// What the city's drill-down shows beyond the status figures.
    pub detail: DistrictDetail,
    /// What the commit changed in the district's statistics, for the city's reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<crate::statistics::city::DistrictStats>,
    /// Marriages, divorces and payments of this commit, people only as city hashes (empty
    /// without a city key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<crate::cross_district::PersonEvent>,
}

/// Why a published message cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The bytes are not a district message's JSON.
    #[error("not a district message: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by a newer daemon: the message's `v`.
    #[error(
        "district message version {0} is newer than this mzd understands ({MESSAGE_VERSION}); upgrade the city daemon"
    )]
    Version(u32),
}

impl DistrictMessage {
    /// The lowest message version that reads this message whole.
    pub fn version_needed(people: &[crate::cross_district::PersonEvent]) -> u32 {
        if people.is_empty() {
            1
        } else {
            2
        }
    }

    /// The message as published on `mz.district.<code>` (JSON).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("district messages serialize")
    }

    /// Reads a published message, refusing a version newer than [`MESSAGE_VERSION`].
    pub fn from_json(bytes: &[u8]) -> Result<DistrictMessage, MessageError> {
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let Version { v } = serde_json::from_slice(bytes)?;
        if v > MESSAGE_VERSION {
            return Err(MessageError::Version(v));
        }
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// One district in the city's status.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DistrictEntry {
    /// The district's `district_code`, as in the city config's `[[district]]`.
    pub code: String,
    /// The district's name from the city config, e.g. `通州区`.
    pub name: String,
    /// The last `seq` the city applied: the district's `publish.published_seq` once caught up.
    pub last_seq: u64,
    /// When the district made the commit `last_seq` (RFC 3339), null before the first.
    pub last_event_at: Option<String>,
    /// The district's figures as of `last_seq`, flattened into the entry as in SPEC §9.
    #[serde(flatten)]
    pub figures: DistrictFigures,
    /// The drill-down figures as of `last_seq`.
    #[serde(default)]
    pub detail: DistrictDetail,
    /// Seconds since the district was last heard (a heartbeat or a commit), when it has been
    /// silent for a while: it stopped, or cannot reach the server.
    #[serde(default)]
    pub stale_for_s: Option<u64>,
    /// When the city last heard the district's heartbeat (RFC 3339), null before the first.
    #[serde(default)]
    pub last_heartbeat_at: Option<String>,
    /// The district's `publish.published_seq` as its last heartbeat said.
    #[serde(default)]
    pub heartbeat_seq: Option<u64>,
}

/// The city's sums over its districts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CityTotals {
    /// Distinct stored records per feed, all districts.
    pub records: FeedCounts,
    /// Beds of all stations of all districts.
    pub beds: u64,
    /// People occupying those beds.
    pub occupied: u64,
    /// Open and overdue cases, all districts.
    pub cases: CaseCounts,
    /// Active alerts, all districts (not the city's own).
    pub alerts: ActiveAlerts,
}

impl CityTotals {
    /// Sums the districts' figures.
    pub fn of(districts: &[DistrictEntry]) -> CityTotals {
        let mut t = CityTotals::default();
        for d in districts {
            let f = &d.figures;
            t.records.admissions += f.records.admissions;
            t.records.burials += f.records.burials;
            t.records.marriages += f.records.marriages;
            t.beds += f.stations.iter().map(|s| u64::from(s.beds)).sum::<u64>();
            t.occupied += f.stations.iter().map(|s| u64::from(s.occupied)).sum::<u64>();
            t.cases.open += f.cases.open;
            t.cases.overdue += f.cases.overdue;
            t.alerts.active += f.alerts.active;
        }
        t
    }
}

/// `mzd status --json` against the city daemon (SPEC §9).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CityStatus {
    /// The city daemon's version, e.g. `0.1.0`.
    pub version: String,
    /// False while a problem stops the city from applying messages.
    pub healthy: bool,
    /// Always `"city"`.
    pub level: String,
    /// The city's name from its config, e.g. `北京市`.
    pub name: String,
    /// What needs an operator's attention, in words.
    #[serde(default)]
    pub problems: Vec<String>,
    /// One entry per `[[district]]` of the config, in its order.
    pub districts: Vec<DistrictEntry>,
    /// Sums over the districts.
    pub totals: CityTotals,
    /// The city's own alerts (cross-district checks).
    pub alerts: AlertCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_round_trip_and_name_their_district() {
        assert_eq!(message_id("110112", 7), "110112:7");
        assert_eq!(seq_of_message_id("110112", "110112:7"), Some(7));
        assert_eq!(seq_of_message_id("110105", "110112:7"), None);
        assert_eq!(seq_of_message_id("110112", "110112:x"), None);
    }

    #[test]
    fn a_newer_message_version_is_refused() {
        let m = DistrictMessage {
            v: MESSAGE_VERSION,
            district: "110112".into(),
            seq: 1,
            at_ms: 0,
            figures: DistrictFigures::default(),
            detail: DistrictDetail::default(),
            stats: None,
            people: Vec::new(),
        };
        assert_eq!(DistrictMessage::from_json(&m.to_json()).unwrap(), m);
        let newer = String::from_utf8(m.to_json()).unwrap().replacen("\"v\":2", "\"v\":99", 1);
        assert!(matches!(DistrictMessage::from_json(newer.as_bytes()), Err(MessageError::Version(99))));
    }
}
