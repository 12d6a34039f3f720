//! Alerts (告警): conditions the duty floor must see, raised by the daemon's rules.

use crate::reason::Reason;
use serde::{Deserialize, Serialize};

/// What an alert is about. The snake_case names are the keys of `alerts.by_kind` in status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// 超员: a station holds more people than it has beds.
    OverCapacity,
    /// 长期滞留: a stay longer than the registry's `long_stay_days`.
    LongStay,
    /// 墓位将满: a burial site at 90 % or more of its capacity.
    SiteNearlyFull,
    /// 村级埋葬点扩容: a village burial point whose capacity grew (zero-growth rule).
    VillageGrowth,
    /// 重婚风险: a marriage where a party is already married in the store.
    BigamyRisk,
    /// 冷静期: a divorce registered less than 30 days after the couple's application.
    CoolingOff,
    /// 异常事件: an incident reported by a station.
    Incident,
}

impl AlertKind {
    /// Every kind, in the order of SPEC §6's `alerts.by_kind`.
    pub const ALL: [AlertKind; 7] = [
        AlertKind::OverCapacity,
        AlertKind::LongStay,
        AlertKind::SiteNearlyFull,
        AlertKind::VillageGrowth,
        AlertKind::BigamyRisk,
        AlertKind::CoolingOff,
        AlertKind::Incident,
    ];

    /// The snake_case key, as in `alerts.by_kind` and `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::OverCapacity => "over_capacity",
            AlertKind::LongStay => "long_stay",
            AlertKind::SiteNearlyFull => "site_nearly_full",
            AlertKind::VillageGrowth => "village_growth",
            AlertKind::BigamyRisk => "bigamy_risk",
            AlertKind::CoolingOff => "cooling_off",
            AlertKind::Incident => "incident",
        }
    }

    /// The Chinese label shown on the duty floor, e.g. `超员`.
    pub fn zh(self) -> &'static str {
        match self {
            AlertKind::OverCapacity => "超员",
            AlertKind::LongStay => "长期滞留",
            AlertKind::SiteNearlyFull => "墓位将满",
            AlertKind::VillageGrowth => "村级埋葬点扩容",
            AlertKind::BigamyRisk => "重婚风险",
            AlertKind::CoolingOff => "离婚冷静期未满",
            AlertKind::Incident => "异常事件",
        }
    }
}

/// Where an alert stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertState {
    /// Raised and not yet acknowledged: counts in `alerts.active`.
    Active,
    /// Seen and acknowledged by a user (Unix milliseconds).
    Acknowledged {
        /// User name of whoever acknowledged it.
        by: String,
        /// When it was acknowledged (Unix milliseconds).
        at_ms: i64,
    },
}

/// One alert. Its `id` is derived from what it is about, so the same condition never raises two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Derived from the kind and what it is about, so the same condition never raises a second
    /// alert; accepted as is by `mzd alert ack`.
    pub id: String,
    /// What the alert is about.
    pub kind: AlertKind,
    /// The station, site or office concerned.
    pub subject: String,
    /// Unix milliseconds.
    pub raised_at_ms: i64,
    /// The bilingual text shown to the duty floor.
    pub message: Reason,
    /// The record that raised it, if one did.
    pub record_id: Option<String>,
    /// Active, or acknowledged by whom and when.
    pub state: AlertState,
}

impl Alert {
    /// Whether it still waits for an acknowledgement.
    pub fn is_active(&self) -> bool {
        self.state == AlertState::Active
    }

    /// The id as printed and typed (`mzd alert list`, `mzd alert ack`): see [`printable_id`].
    pub fn printable_id(&self) -> String {
        printable_id(&self.id)
    }

    /// The alert as `mzd alert list --json` prints it (SPEC §1): `id` (printable), `kind`,
    /// `state` (`active` / `acknowledged`), `raised_at` (RFC 3339 in `tz`), `message` (Chinese)
    /// and `message_en`, then `subject`, `record_id`, `acknowledged_by`, `acknowledged_at`.
    pub fn to_json(&self, tz: &jiff::tz::TimeZone) -> serde_json::Value {
        let time = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
                .ok()
        };
        let (state, by, at) = match &self.state {
            AlertState::Active => ("active", None, None),
            AlertState::Acknowledged { by, at_ms } => ("acknowledged", Some(by.clone()), time(*at_ms)),
        };
        serde_json::json!({
            "id": self.printable_id(),
            "kind": self.kind,
            "state": state,
            "raised_at": time(self.raised_at_ms),
            "message": self.message.zh,
            "message_en": self.message.en,
            "subject": printable_id(&self.subject),
            "record_id": self.record_id,
            "acknowledged_by": by,
            "acknowledged_at": at,
        })
    }
}

/// Alert ids join the parts of a two-part subject (a station and a person) with U+001F, which
/// cannot be typed: printed, it is shown as `/`, and `mzd alert ack` accepts that form.
pub fn printable_id(id: &str) -> String {
    id.replace('\u{1f}', "/")
}
