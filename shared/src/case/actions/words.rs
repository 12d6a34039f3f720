//! The words of history entries that other parts of the crate and the daemon share: street
//! and department names with their ids, durations in Chinese, the heads of payment entries
//! (the audit check matches payments by them) and the `open` entry.

use crate::case::{OpenCase, Source};
use crate::registry::{Fen, Registry};
use std::fmt::Write;
use std::time::Duration;

/// The start of a `pay` entry's detail (the audit check matches payments by it).
pub fn pay_detail_head(amount: Fen) -> String {
    format!("已支付 {amount}")
}

/// The start of an `approve` entry's detail (the audit check matches payments by it).
pub fn approve_detail_head(amount: Fen, requested_by: &str) -> String {
    format!("批准 {requested_by} 申请的 {amount}")
}

/// `北苑街道（ST-01）` and `北苑街道 (ST-01)`.
pub fn street_words(registry: &Registry, id: &str) -> (String, String) {
    match registry.street(id) {
        Some(s) => (format!("{}（{id}）", s.name), format!("{} ({id})", s.name)),
        None => (id.to_string(), id.to_string()),
    }
}

/// `公安（police）` and `公安 (police)`.
pub fn department_words(registry: &Registry, id: &str) -> (String, String) {
    match registry.department(id) {
        Some(d) => (format!("{}（{id}）", d.name), format!("{} ({id})", d.name)),
        None => (id.to_string(), id.to_string()),
    }
}

/// A duration in Chinese words: `48小时`, `5天`, `30分钟`, `2秒`.
pub fn within_zh(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 86_400 && s.is_multiple_of(86_400) {
        format!("{}天", s / 86_400)
    } else if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}小时", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}分钟", s / 60)
    } else {
        format!("{s}秒")
    }
}

/// The `open` entry's detail in Chinese and English.
pub(in crate::case) fn open_words(
    input: &OpenCase,
    source: Source,
    community: Option<&str>,
    registry: &Registry,
) -> (String, String) {
    // Written straight into one buffer per language: the rules open cases by the thousand.
    let (mut zh, mut en) = (String::with_capacity(160), String::with_capacity(160));
    let id = &input.street;
    let _ = match registry.street(id) {
        Some(s) => write!(zh, "登记：{}（{id}）", s.name).and(write!(en, "opened: {} ({id})", s.name)),
        None => write!(zh, "登记：{id}").and(write!(en, "opened: {id}")),
    };
    let _ = write!(zh, "，{}，{}", source.zh(), input.urgency.zh());
    let _ = write!(en, ", {}, {} urgency", source.en(), input.urgency);
    if let Some(c) = community.and_then(|c| registry.community(c)) {
        let _ = write!(zh, "，{}（{}）", c.name, c.id);
        let _ = write!(en, ", {} ({})", c.name, c.id);
    }
    if let Some(record) = &input.source_record {
        let _ = write!(zh, "，依据记录 {record}");
        let _ = write!(en, ", from record {record}");
    }
    for w in &input.warnings {
        let _ = write!(zh, "；{}", w.zh);
        let _ = write!(en, "; {}", w.en);
    }
    (zh, en)
}
