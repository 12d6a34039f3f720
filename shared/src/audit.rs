//! The append-only audit trail (审计日志) that `mzd audit verify` proves untampered.
//!
//! Every entry is chained to the one before it:
//! `hash = BLAKE3(prev_hash ‖ canonical(seq, at_ms, user, case_id, action, detail))`.
//! The first entry has `seq` 1 and an all-zero `prev_hash`. Changing, removing, inserting or
//! reordering any entry breaks the chain at that entry (removing the last ones is only seen
//! against a remembered head: see [`verify_after`]).
//!
//! Canonical form, so that another program can recompute the hashes:
//!
//! | field | bytes |
//! |---|---|
//! | `seq` | u64, big-endian |
//! | `at_ms` | i64, big-endian (two's complement) |
//! | `user` | u64 big-endian length, then the UTF-8 bytes |
//! | `case_id` | `0x00` when absent; `0x01`, u64 big-endian length, UTF-8 bytes when present |
//! | `action` | u64 big-endian length, then the UTF-8 bytes |
//! | `detail` | u64 big-endian length, then the UTF-8 bytes |
//!
//! In JSON (`mzd export audit --format jsonl`) the two hashes are 64 lower-case hex digits.

use crate::case::{CaseId, HistoryEntry};
use crate::reason::Reason;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1 for the first entry, then one more each time.
    pub seq: u64,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub user: String,
    pub case_id: Option<String>,
    pub action: String,
    pub detail: String,
    #[serde(with = "hex32")]
    pub prev_hash: [u8; 32],
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
}

/// The `prev_hash` of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

impl AuditEntry {
    /// The canonical bytes of the fields other than the hashes (see the module docs).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical(self.seq, self.at_ms, &self.user, self.case_id.as_deref(), &self.action, &self.detail)
    }

    /// The hash this entry should have given its `prev_hash` and other fields.
    pub fn compute_hash(&self) -> [u8; 32] {
        chain_hash(&self.prev_hash, &self.canonical_bytes())
    }

    /// The hash as 64 lower-case hex digits.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

fn canonical(seq: u64, at_ms: i64, user: &str, case_id: Option<&str>, action: &str, detail: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + user.len() + action.len() + detail.len());
    let text = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u64).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&at_ms.to_be_bytes());
    text(&mut out, user);
    match case_id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            text(&mut out, id);
        }
    }
    text(&mut out, action);
    text(&mut out, detail);
    out
}

fn chain_hash(prev_hash: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(prev_hash);
    hasher.update(canonical);
    *hasher.finalize().as_bytes()
}

/// The entry that follows `prev` (or the first entry, when `prev` is `None`).
pub fn append(
    prev: Option<&AuditEntry>,
    at_ms: i64,
    user: &str,
    case_id: Option<&str>,
    action: &str,
    detail: &str,
) -> AuditEntry {
    let (seq, prev_hash) = match prev {
        Some(p) => (p.seq + 1, p.hash),
        None => (1, GENESIS),
    };
    let hash = chain_hash(&prev_hash, &canonical(seq, at_ms, user, case_id, action, detail));
    AuditEntry {
        seq,
        at_ms,
        user: user.to_string(),
        case_id: case_id.map(str::to_string),
        action: action.to_string(),
        detail: detail.to_string(),
        prev_hash,
        hash,
    }
}

/// The audit entry for a case's history entry ([`crate::case::Applied::entry`], or the `open`
/// entry of a new case).
pub fn append_case_entry(prev: Option<&AuditEntry>, case_id: &CaseId, entry: &HistoryEntry) -> AuditEntry {
    append(prev, entry.at_ms, &entry.user, Some(case_id.as_str()), &entry.action, &entry.detail)
}

/// Why the chain broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum BreakKind {
    /// The entry's `seq` is not the one that follows the previous entry.
    SeqGap { found: u64 },
    /// The entry's `prev_hash` is not the previous entry's hash (all zeros for the first).
    PrevHashMismatch,
    /// The entry's content does not give its stored hash: it was changed.
    HashMismatch,
}

/// The first entry at which the audit trail does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit trail broken at entry {seq}: {}", why_en(.why))]
pub struct AuditBreak {
    /// The position of the entry in the chain: the `seq` it should have.
    pub seq: u64,
    pub why: BreakKind,
}

fn why_en(why: &BreakKind) -> String {
    match why {
        BreakKind::SeqGap { found } => format!("its sequence number is {found}"),
        BreakKind::PrevHashMismatch => "it does not link to the entry before it".to_string(),
        BreakKind::HashMismatch => "its content does not match its hash".to_string(),
    }
}

impl AuditBreak {
    pub fn reason(&self) -> Reason {
        let seq = self.seq;
        let zh = match &self.why {
            BreakKind::SeqGap { found } => format!("审计日志第 {seq} 条记录的序号为 {found}，有记录缺失或被插入"),
            BreakKind::PrevHashMismatch => {
                format!("审计日志第 {seq} 条记录与前一条记录不衔接，有记录被删除、插入或篡改")
            }
            BreakKind::HashMismatch => format!("审计日志第 {seq} 条记录的内容与其哈希不符，已被篡改"),
        };
        Reason::new(zh, self.to_string())
    }
}

/// Verifies a whole trail from its first entry; returns the number of entries.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, AuditBreak> {
    verify_after(None, entries)
}

/// Verifies entries that follow `anchor` (an entry already verified, e.g. the head remembered at
/// the last check), or the whole trail when `anchor` is `None`. Returns the number of entries
/// checked; stops at the first that breaks the chain.
///
/// Each entry is checked in this order: its `seq`, its `prev_hash`, then its own hash.
pub fn verify_after<'a>(
    anchor: Option<&AuditEntry>,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<u64, AuditBreak> {
    let (mut seq, mut prev_hash) = match anchor {
        Some(a) => (a.seq, a.hash),
        None => (0, GENESIS),
    };
    let mut count = 0;
    for entry in entries {
        seq += 1;
        if entry.seq != seq {
            return Err(AuditBreak { seq, why: BreakKind::SeqGap { found: entry.seq } });
        }
        if entry.prev_hash != prev_hash {
            return Err(AuditBreak { seq, why: BreakKind::PrevHashMismatch });
        }
        if entry.compute_hash() != entry.hash {
            return Err(AuditBreak { seq, why: BreakKind::HashMismatch });
        }
        prev_hash = entry.hash;
        count += 1;
    }
    Ok(count)
}

fn hex(bytes: &[u8; 32]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `[u8; 32]` as 64 hex digits in serde formats.
mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let t = text.as_bytes();
        if t.len() != 64 {
            return Err(D::Error::custom(format!("expected 64 hex digits, found {} characters", t.len())));
        }
        let nibble = |c: u8| -> Result<u8, D::Error> {
            (c as char).to_digit(16).map(|v| v as u8).ok_or_else(|| D::Error::custom("not a hex digit"))
        };
        let mut out = [0u8; 32];
        for (i, pair) in t.chunks(2).enumerate() {
            out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let case = (i % 2 == 0).then(|| format!("JJN-2026-{:06}", i / 2 + 1));
            let e = append(out.last(), 1_000 + i as i64, "duty1", case.as_deref(), "note", &format!("第 {i} 条"));
            out.push(e);
        }
        out
    }

    #[test]
    fn empty_and_valid_chains_verify() {
        assert_eq!(verify(std::iter::empty()), Ok(0));
        let c = chain(5);
        assert_eq!(c[0].seq, 1);
        assert_eq!(c[0].prev_hash, GENESIS);
        assert_eq!(c[3].prev_hash, c[2].hash);
        assert_eq!(verify(&c), Ok(5));
        assert_eq!(verify_after(Some(&c[1]), &c[2..]), Ok(3));
    }

    #[test]
    fn hash_follows_the_documented_canonical_form() {
        let e = append(None, -5, "chief", Some("JJN-2026-000001"), "approve", "¥8,000.00");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&[0; 32]);
        bytes.extend_from_slice(&1u64.to_be_bytes());
        bytes.extend_from_slice(&(-5i64).to_be_bytes());
        for (tag, s) in [(None, "chief"), (Some(1u8), "JJN-2026-000001"), (None, "approve"), (None, "¥8,000.00")] {
            bytes.extend(tag);
            bytes.extend_from_slice(&(s.len() as u64).to_be_bytes());
            bytes.extend_from_slice(s.as_bytes());
        }
        assert_eq!(e.hash, *blake3::hash(&bytes).as_bytes());
        // Absent case id: a single 0 byte.
        let none = append(None, -5, "chief", None, "approve", "¥8,000.00");
        assert_ne!(none.hash, e.hash);
    }

    #[test]
    fn field_boundaries_matter() {
        // Moving text between fields changes the hash (lengths are part of the form).
        let a = append(None, 1, "ab", None, "c", "");
        let b = append(None, 1, "a", None, "bc", "");
        assert_ne!(a.hash, b.hash);
        let c = append(None, 1, "a", Some(""), "b", "");
        let d = append(None, 1, "a", None, "b", "");
        assert_ne!(c.hash, d.hash);
    }

    /// Every way of changing one field of one entry.
    fn tamper(e: &mut AuditEntry, field: usize) {
        match field {
            0 => e.seq += 1,
            1 => e.at_ms += 1,
            2 => e.user.push('x'),
            3 => e.case_id = if e.case_id.is_some() { None } else { Some("JJN-2026-999999".into()) },
            4 => e.action.push('x'),
            5 => e.detail.push('x'),
            6 => e.prev_hash[7] ^= 1,
            7 => e.hash[31] ^= 0x80,
            _ => unreachable!(),
        }
    }

    #[test]
    fn any_change_breaks_at_that_entry() {
        let c = chain(6);
        for i in 0..c.len() {
            for field in 0..8 {
                let mut t = c.clone();
                tamper(&mut t[i], field);
                let err = verify(&t).unwrap_err();
                assert_eq!(err.seq, i as u64 + 1, "entry {i} field {field}: {err:?}");
                let expected = match field {
                    0 => BreakKind::SeqGap { found: i as u64 + 2 },
                    6 => BreakKind::PrevHashMismatch,
                    _ => BreakKind::HashMismatch,
                };
                assert_eq!(err.why, expected, "entry {i} field {field}");
            }
        }
    }

    #[test]
    fn removed_inserted_and_reordered_entries_are_found() {
        let c = chain(5);
        let mut removed = c.clone();
        removed.remove(2);
        assert_eq!(verify(&removed).unwrap_err(), AuditBreak { seq: 3, why: BreakKind::SeqGap { found: 4 } });
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert_eq!(verify(&swapped).unwrap_err().seq, 2);
        // A forged entry with the right seq but recomputed hash still does not link.
        let mut forged = c.clone();
        let fake = append(Some(&c[0]), 1, "mallory", None, "note", "x");
        forged[1] = fake;
        assert_eq!(verify(&forged).unwrap_err(), AuditBreak { seq: 3, why: BreakKind::PrevHashMismatch });
        // Truncation is invisible without the remembered head, but not the first entry's loss.
        assert_eq!(verify(&c[..3]), Ok(3));
        assert_eq!(verify(&c[1..]).unwrap_err(), AuditBreak { seq: 1, why: BreakKind::SeqGap { found: 2 } });
    }

    #[test]
    fn json_round_trip_with_hex_hashes() {
        let c = chain(2);
        let json = serde_json::to_string(&c[1]).unwrap();
        assert!(json.contains(&format!("\"hash\":\"{}\"", c[1].hash_hex())), "{json}");
        assert!(json.contains(&format!("\"prev_hash\":\"{}\"", c[0].hash_hex())), "{json}");
        let back: AuditEntry = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c[1]);
        let bad = json.replace(&c[1].hash_hex(), "zz");
        assert!(serde_json::from_str::<AuditEntry>(&bad).is_err());
    }

    #[test]
    fn break_reasons_are_bilingual() {
        let r = AuditBreak { seq: 4, why: BreakKind::HashMismatch }.reason();
        assert!(r.zh.contains("第 4 条"), "{}", r.zh);
        assert!(r.en.contains("entry 4"), "{}", r.en);
    }
}
