//! The city's own alerts (市级告警): `cross_district_bigamy` and `cross_district_duplicate_aid`
//! (SPEC §9), kept in the city store's key range `a<alert id>` (JSON) and all in memory.
//!
//! An alert is raised by [`super::people::stage`] in the batch that applies the message behind
//! it; its id is made from that event (district and record or case), so the same event never
//! raises two. [`CityAlerts::ack`] marks one acknowledged, through the book's lock like every
//! other write. Messages say where and when, by district name and record or case id, never a
//! name or an ID number.

use mz_shared::alert::{printable_id, AlertState};
use mz_shared::cross_district::{CityAlert, CityAlertKind, Finding, Marriage, Paid, Party};
use mz_shared::protocol::AlertCounts;
use mz_shared::reason::Reason;
use std::collections::BTreeMap;

/// Prefix of the alerts.
pub const PREFIX: &[u8] = b"a";

/// `a<alert id>`.
pub fn key(id: &str) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}

/// The city's alerts and the district names its messages use.
#[derive(Debug, Default)]
pub struct CityAlerts {
    alerts: BTreeMap<String, CityAlert>,
    /// District code → name, from the city config.
    names: BTreeMap<String, String>,
}

impl CityAlerts {
    /// Every alert in the store.
    pub fn load(reader: &crate::store::StoreReader) -> Result<CityAlerts, crate::store::StoreError> {
        let mut alerts = BTreeMap::new();
        for item in reader.scan_raw(PREFIX) {
            let (_, v) = item?;
            let a: CityAlert = serde_json::from_slice(&v).map_err(|e| {
                crate::store::StoreError::Unavailable(format!("a city alert of the store is unreadable: {e}"))
            })?;
            alerts.insert(a.id.clone(), a);
        }
        Ok(CityAlerts { alerts, names: BTreeMap::new() })
    }

    /// The districts' names, for the alerts' messages.
    pub fn set_names(&mut self, names: impl IntoIterator<Item = (String, String)>) {
        self.names = names.into_iter().collect();
    }

    /// True when an alert with this id exists (active or acknowledged).
    pub fn contains(&self, id: &str) -> bool {
        self.alerts.contains_key(id)
    }

    /// Keeps alerts that were committed.
    pub fn committed(&mut self, raised: Vec<CityAlert>) {
        for a in raised {
            self.alerts.insert(a.id.clone(), a);
        }
    }

    /// Active alerts and active alerts by kind (every kind listed).
    pub fn counts(&self) -> AlertCounts {
        let mut c = AlertCounts::default();
        for kind in CityAlertKind::ALL {
            c.by_kind.insert(kind.as_str().to_owned(), 0);
        }
        for a in self.alerts.values().filter(|a| a.is_active()) {
            c.active += 1;
            *c.by_kind.entry(a.kind.as_str().to_owned()).or_default() += 1;
        }
        c
    }

    /// Active alerts first, then acknowledged ones; newest first within each.
    pub fn list(&self) -> Vec<CityAlert> {
        let mut out: Vec<CityAlert> = self.alerts.values().cloned().collect();
        out.sort_by_key(|a| (!a.is_active(), std::cmp::Reverse(a.raised_at_ms), a.id.clone()));
        out
    }

    /// The alert acknowledged by `by` at `at_ms`, to be stored; `None` when there is no such
    /// alert (`id` as printed is accepted).
    pub fn ack(&self, id: &str, by: &str, at_ms: i64) -> Option<CityAlert> {
        let found = self.alerts.values().find(|a| a.id == id || printable_id(&a.id) == id)?;
        let mut a = found.clone();
        if a.is_active() {
            a.state = AlertState::Acknowledged { by: by.to_owned(), at_ms };
        }
        Some(a)
    }

    /// The alert a finding raises.
    pub fn alert(&self, finding: &Finding, now_ms: i64) -> CityAlert {
        let (subject, record_id, message) = match finding {
            Finding::Bigamy { district, record_id, at_ms, parties } => {
                (district, record_id, self.bigamy_message(district, record_id, *at_ms, parties))
            }
            Finding::DuplicateAid { district, paid, earlier } => {
                (district, &paid.case_id, self.aid_message(paid, earlier))
            }
        };
        CityAlert {
            id: finding.alert_id(),
            kind: finding.kind(),
            subject: subject.clone(),
            raised_at_ms: now_ms,
            message,
            record_id: Some(record_id.clone()),
            state: AlertState::Active,
        }
    }

    /// `通州区（110112）`, or in English `通州区 (110112)`.
    fn name(&self, code: &str, en: bool) -> String {
        match (self.names.get(code), en) {
            (Some(name), false) => format!("{name}（{code}）"),
            (Some(name), true) => format!("{name} ({code})"),
            (None, _) => code.to_owned(),
        }
    }

    fn bigamy_message(&self, district: &str, record_id: &str, at_ms: i64, parties: &[(Party, Marriage)]) -> Reason {
        let party = |p: Party| match p {
            Party::A => ("当事人甲", "party_a"),
            Party::B => ("当事人乙", "party_b"),
        };
        let zh: Vec<String> = parties
            .iter()
            .map(|(p, m)| {
                format!(
                    "{}已于 {} 在 {} 登记结婚（{}）",
                    party(*p).0,
                    day(m.at_ms),
                    self.name(&m.district, false),
                    m.record_id
                )
            })
            .collect();
        let en: Vec<String> = parties
            .iter()
            .map(|(p, m)| {
                format!(
                    "{} married on {} in {} ({})",
                    party(*p).1,
                    day(m.at_ms),
                    self.name(&m.district, true),
                    m.record_id
                )
            })
            .collect();
        Reason::new(
            format!(
                "{} {} 结婚登记 {record_id}：{}，未见离婚登记",
                self.name(district, false),
                day(at_ms),
                zh.join("；")
            ),
            format!(
                "{} marriage {record_id} on {}: {}, with no divorce on record",
                self.name(district, true),
                day(at_ms),
                en.join("; ")
            ),
        )
    }

    fn aid_message(&self, paid: &Paid, earlier: &Paid) -> Reason {
        let days = (paid.at_ms - earlier.at_ms).abs() / 86_400_000;
        let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
        Reason::new(
            format!(
                "{} 案件 {} 于 {} 支付 {} 元；{} 案件 {} 于 {} 已向同一人支付 {} 元（相隔 {days} 天，30 天内），请核实是否重复救助",
                self.name(&paid.district, false),
                paid.case_id,
                day(paid.at_ms),
                yuan(paid.amount_fen),
                self.name(&earlier.district, false),
                earlier.case_id,
                day(earlier.at_ms),
                yuan(earlier.amount_fen)
            ),
            format!(
                "{} case {} paid {} yuan on {}; {} case {} paid the same person {} yuan on {} ({days} days apart, \
                 within 30 days): check for duplicate aid",
                self.name(&paid.district, true),
                paid.case_id,
                yuan(paid.amount_fen),
                day(paid.at_ms),
                self.name(&earlier.district, true),
                earlier.case_id,
                yuan(earlier.amount_fen),
                day(earlier.at_ms)
            ),
        )
    }
}

/// The local date (Asia/Shanghai) of a Unix-ms time.
fn day(ms: i64) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(tz).date().to_string()).unwrap_or_default()
}
