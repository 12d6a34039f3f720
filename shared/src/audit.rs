//! The append-only audit trail (审计日志) that `mzd audit verify` proves untampered.
//!
//! Every entry is chained to the one before it:
//! `hash = BLAKE3(prev_hash ‖ canonical(seq, at_ms, user, case_id, action, detail))`.
//! The first entry has `seq` 1 and an all-zero `prev_hash`. Changing, removing, inserting or
//! reordering any entry breaks the chain at that entry. Removing the last ones leaves a valid
//! chain: that is only seen against an [`AuditAnchor`] (length and head) remembered from before,
//! which a later trail must contain as a prefix ([`check_anchor`]). The daemon keeps its own
//! anchor in the store, committed with the entries; status, backups and the log carry copies
//! out of the store, where someone able to rewrite the store cannot reach them.
//!
//! [`cross_check`] compares the cases with the trail one-to-one: every history entry and every
//! payment of a case has its own audit entry, and every entry naming a case is in its history.
//! [`check_all`] runs every check and gives the [`AuditReport`] that `mzd audit verify` prints.
//!
//! The chain is unkeyed: anyone who can write the store can recompute a whole forged chain and
//! the store's anchor with it. Only anchors kept elsewhere (a backup, a saved status, the log,
//! later the city roll-up) find that. All of this is pure; time and data come from the caller.
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

use crate::case::{Case, CaseId, HistoryEntry, Payment};
use crate::reason::Reason;
use crate::registry::Fen;
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1 for the first entry, then one more each time.
    pub seq: u64,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// User name of whoever acted.
    pub user: String,
    /// The case the entry is about, if any.
    pub case_id: Option<String>,
    /// What was done, e.g. a case action such as `open` or `pay`.
    pub action: String,
    /// The action's detail, as in the case history (note, amount, department).
    pub detail: String,
    /// The previous entry's `hash` (all zeros for entry 1).
    #[serde(with = "hex32")]
    pub prev_hash: [u8; 32],
    /// BLAKE3 of `prev_hash` and this entry's canonical form (see the module doc).
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
    SeqGap {
        /// The `seq` the entry carries instead.
        found: u64,
    },
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
    /// Which link of the chain fails at that entry.
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
    /// The break in words (Chinese and English), as `mzd audit verify` prints it.
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

// ---------------------------------------------------------------------------------------------
// Anchors: the length and head of the trail, remembered where a later check can compare.

/// The trail's length and head at some moment (审计锚点). The daemon keeps its own in the store,
/// written in the same batch as the entries; `mzd status --json` shows it and every backup
/// folder keeps one in `audit-anchor.json`. A later trail must contain it as a prefix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAnchor {
    /// Number of entries: the `seq` of the last one, 0 for an empty trail.
    pub entries: u64,
    /// Hash of entry `entries` (all zeros for an empty trail), as 64 hex digits in JSON.
    #[serde(with = "hex32")]
    pub head: [u8; 32],
}

impl AuditAnchor {
    /// The anchor of a trail whose last entry is `last`.
    pub fn of(last: Option<&AuditEntry>) -> AuditAnchor {
        match last {
            Some(e) => AuditAnchor { entries: e.seq, head: e.hash },
            None => AuditAnchor { entries: 0, head: GENESIS },
        }
    }

    /// The head as 64 lower-case hex digits.
    pub fn head_hex(&self) -> String {
        hex(&self.head)
    }

    /// Parses 64 hex digits (either case) as a head hash.
    pub fn parse_head(text: &str) -> Option<[u8; 32]> {
        let t = text.trim().as_bytes();
        if t.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in t.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            out[i] = (hi << 4 | lo) as u8;
        }
        Some(out)
    }
}

/// Why a text is not an anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorTextError {
    /// The text does not parse as JSON; the parser's message.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but without the anchor's two keys.
    #[error("no `entries` (a whole number) and `head` (64 hex digits), at the top or under `audit`")]
    NoAnchor,
}

impl AuditAnchor {
    /// Reads an anchor from JSON text: a backup's `audit-anchor.json` (`{"entries", "head", …}`)
    /// or a saved `mzd status --json` (`{"audit": {"entries", "head"}, …}`).
    pub fn from_json_text(text: &str) -> Result<AuditAnchor, AnchorTextError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| AnchorTextError::NotJson(e.to_string()))?;
        let obj = if v.get("entries").is_some() { &v } else { v.get("audit").ok_or(AnchorTextError::NoAnchor)? };
        let entries = obj.get("entries").and_then(serde_json::Value::as_u64).ok_or(AnchorTextError::NoAnchor)?;
        let head =
            obj.get("head").and_then(|h| h.as_str()).and_then(Self::parse_head).ok_or(AnchorTextError::NoAnchor)?;
        Ok(AuditAnchor { entries, head })
    }
}

/// What an anchor was compared with the trail for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorSource {
    /// The anchor the daemon keeps in its store: it must equal the trail exactly.
    Store,
    /// An anchor given to `mzd audit verify` (a backup's, a saved status's): the trail must
    /// contain it as a prefix.
    Given,
}

/// How the trail disagrees with an anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum AnchorProblem {
    /// The trail has fewer entries than the anchor: entries were removed from its end.
    Shorter {
        /// Entries in the anchor.
        anchored: u64,
        /// Entries in the trail.
        found: u64,
    },
    /// Entry `entries` does not have the anchor's head hash: the trail up to it was replaced.
    Diverged {
        /// The anchor's entry count.
        entries: u64,
    },
    /// The trail has more entries than the store's anchor: entries were written outside the
    /// daemon (only for [`AnchorSource::Store`]).
    Longer {
        /// Entries in the store's anchor.
        anchored: u64,
        /// Entries in the trail.
        found: u64,
    },
}

/// The trail does not contain an anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.reason().en)]
pub struct AnchorMismatch {
    /// Whether the anchor was the store's own or a given one.
    pub against: AnchorSource,
    /// The anchor that the trail fails.
    pub anchor: AuditAnchor,
    /// How the trail disagrees with it.
    pub problem: AnchorProblem,
}

impl AnchorMismatch {
    /// What is wrong, and for a given anchor which one it was.
    pub fn reason(&self) -> Reason {
        let (src_zh, src_en) = match self.against {
            AnchorSource::Store => ("存储中保存的审计锚点", "the anchor kept in the store"),
            AnchorSource::Given => ("所给的审计锚点", "the given anchor"),
        };
        let r = self.problem.reason(src_zh, src_en);
        match self.against {
            AnchorSource::Store => r,
            AnchorSource::Given => {
                let (n, head) = (self.anchor.entries, &self.anchor.head_hex()[..16]);
                Reason::new(
                    format!("{}（锚点：{n} 条记录，头哈希 {head}…）", r.zh),
                    format!("{} (anchor: {n} entries, head {head}…)", r.en),
                )
            }
        }
    }
}

impl AnchorProblem {
    fn reason(&self, src_zh: &str, src_en: &str) -> Reason {
        match *self {
            AnchorProblem::Shorter { anchored, found } => Reason::new(
                format!("审计日志只有 {found} 条记录，而{src_zh}记录了 {anchored} 条：末尾 {} 条记录已被删除", anchored - found),
                format!(
                    "the audit trail has {found} entries but {src_en} recorded {anchored}: the last {} entries were removed",
                    anchored - found
                ),
            ),
            AnchorProblem::Diverged { entries } => Reason::new(
                format!("审计日志第 {entries} 条记录的哈希与{src_zh}不符：第 {entries} 条及之前的记录已被改写或替换"),
                format!(
                    "entry {entries} of the audit trail does not have the hash {src_en} recorded: \
                     the trail up to entry {entries} was rewritten or replaced"
                ),
            ),
            AnchorProblem::Longer { anchored, found } => Reason::new(
                format!("审计日志有 {found} 条记录，而{src_zh}只记录了 {anchored} 条：有记录不是由本系统写入的"),
                format!(
                    "the audit trail has {found} entries but {src_en} recorded only {anchored}: \
                     entries were written outside the daemon"
                ),
            ),
        }
    }
}

/// Checks that `chain` (already verified by [`verify`]) contains `anchor` as a prefix: at least
/// `anchor.entries` entries, the last of which has hash `anchor.head`. Because each hash covers
/// the one before it, equal hashes at entry N mean equal trails up to N.
pub fn check_anchor(chain: &[AuditEntry], anchor: &AuditAnchor) -> Result<(), AnchorProblem> {
    let found = chain.len() as u64;
    if found < anchor.entries {
        return Err(AnchorProblem::Shorter { anchored: anchor.entries, found });
    }
    let head = match anchor.entries {
        0 => GENESIS,
        n => chain[n as usize - 1].hash,
    };
    if head != anchor.head {
        return Err(AnchorProblem::Diverged { entries: anchor.entries });
    }
    Ok(())
}

/// Checks the store's own anchor: the trail must end exactly at it.
pub fn check_store_anchor(chain: &[AuditEntry], anchor: &AuditAnchor) -> Result<(), AnchorProblem> {
    check_anchor(chain, anchor)?;
    match chain.len() as u64 {
        found if found > anchor.entries => Err(AnchorProblem::Longer { anchored: anchor.entries, found }),
        _ => Ok(()),
    }
}

/// What the store says about its own trail: its anchor, or (in a store written before anchors
/// were kept) only the entry count of its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoreFigure {
    /// The anchor committed with the entries.
    Anchor(AuditAnchor),
    /// A store from before anchors were kept: only its counted entries.
    CountOnly {
        /// The store's audit entry counter.
        entries: u64,
    },
}

impl StoreFigure {
    /// Compares the figure with the trail: it must end exactly there.
    pub fn check(&self, chain: &[AuditEntry]) -> Result<(), AnchorMismatch> {
        let (anchor, result) = match *self {
            StoreFigure::Anchor(a) => (a, check_store_anchor(chain, &a)),
            StoreFigure::CountOnly { entries } => {
                let found = chain.len() as u64;
                let r = match found.cmp(&entries) {
                    std::cmp::Ordering::Less => Err(AnchorProblem::Shorter { anchored: entries, found }),
                    std::cmp::Ordering::Greater => Err(AnchorProblem::Longer { anchored: entries, found }),
                    std::cmp::Ordering::Equal => Ok(()),
                };
                (AuditAnchor { entries, head: GENESIS }, r)
            }
        };
        result.map_err(|problem| AnchorMismatch { against: AnchorSource::Store, anchor, problem })
    }
}

// ---------------------------------------------------------------------------------------------
// Cases against the trail: every history entry and every payment of a case has its own audit
// entry, and every audit entry naming a case is in that case's history.

/// How a case's stored record disagrees with the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum CaseProblem {
    /// History entry `index` (1 = `open`) has no audit entry with the same time, user, action
    /// and detail.
    HistoryNotAudited {
        /// Position in the case's history, 1-based.
        index: usize,
        /// The history entry's action.
        action: String,
    },
    /// Audit entry `seq` names the case but is not in its history.
    AuditNotInHistory {
        /// The audit entry's sequence number.
        seq: u64,
        /// The audit entry's action.
        action: String,
    },
    /// Payment `index` (1 = the first) has no `pay` or `approve` audit entry with the same
    /// amount, person and time.
    PaymentNotAudited {
        /// Position among the case's payments, 1-based.
        index: usize,
        /// The amount paid.
        amount: Fen,
        /// User name of whoever paid.
        by: String,
    },
    /// Audit entry `seq` records a payment the case does not have.
    AuditedPaymentMissing {
        /// The audit entry's sequence number.
        seq: u64,
        /// The audit entry's action (`pay` or `approve`).
        action: String,
    },
    /// Audit entries name this case, but no such case is stored.
    CaseMissing {
        /// How many audit entries name the missing case.
        entries: u64,
    },
}

/// One disagreement between a case and the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMismatch {
    /// The case concerned, e.g. `JJN-2026-000123`.
    pub case_id: String,
    /// What disagrees.
    pub problem: CaseProblem,
}

impl CaseMismatch {
    /// The disagreement in words (Chinese and English), as `mzd audit verify` prints it.
    pub fn reason(&self) -> Reason {
        let id = &self.case_id;
        match &self.problem {
            CaseProblem::HistoryNotAudited { index, action } => Reason::new(
                format!("案件 {id} 的第 {index} 条历史记录（{action}）在审计日志中没有对应记录：案件记录被改动过"),
                format!("case {id}: history entry {index} ({action}) has no audit entry: the case record was changed"),
            ),
            CaseProblem::AuditNotInHistory { seq, action } => Reason::new(
                format!("审计日志第 {seq} 条记录（{action}）不在案件 {id} 的历史中：案件历史被删改过"),
                format!("case {id}: audit entry {seq} ({action}) is missing from the case's history: the history was changed"),
            ),
            CaseProblem::PaymentNotAudited { index, amount, by } => Reason::new(
                format!("案件 {id} 的第 {index} 笔支付（{amount}，{by}）与审计日志不符：支付记录被改动过"),
                format!(
                    "case {id}: payment {index} ({amount} by {by}) matches no audit entry: the payment was changed in the case record"
                ),
            ),
            CaseProblem::AuditedPaymentMissing { seq, action } => Reason::new(
                format!("审计日志第 {seq} 条记录（{action}）记载的支付在案件 {id} 中找不到：支付记录被改动或删除"),
                format!("case {id}: the payment recorded by audit entry {seq} ({action}) is not in the case: it was changed or removed"),
            ),
            CaseProblem::CaseMissing { entries } => Reason::new(
                format!("审计日志中有 {entries} 条关于案件 {id} 的记录，但该案件不存在：案件被删除"),
                format!("{entries} audit entries name case {id}, which is not stored: the case was removed"),
            ),
        }
    }
}

/// What the cross-check covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTally {
    /// Stored cases compared.
    pub cases: u64,
    /// History entries of those cases, each matched to an audit entry.
    pub history_entries: u64,
    /// Payments of those cases, each matched to a `pay` or `approve` entry.
    pub payments: u64,
}

/// Checks every case against the trail, one-to-one (see [`CaseProblem`]). Problems come in
/// case order, then as found.
pub fn cross_check<C: Borrow<Case>>(
    cases: impl IntoIterator<Item = C>,
    chain: &[AuditEntry],
) -> (CaseTally, Vec<CaseMismatch>) {
    let mut by_case: BTreeMap<&str, Vec<&AuditEntry>> = BTreeMap::new();
    for e in chain {
        if let Some(id) = &e.case_id {
            by_case.entry(id.as_str()).or_default().push(e);
        }
    }
    let mut tally = CaseTally::default();
    let mut out = Vec::new();
    for case in cases {
        let case = case.borrow();
        tally.cases += 1;
        tally.history_entries += case.history.len() as u64;
        tally.payments += case.payments.len() as u64;
        let audited = by_case.remove(case.id.as_str()).unwrap_or_default();
        let mut problems = history_problems(case, &audited);
        problems.extend(payment_problems(case, &audited));
        out.extend(problems.into_iter().map(|problem| CaseMismatch { case_id: case.id.as_str().to_owned(), problem }));
    }
    for (id, entries) in by_case {
        let problem = CaseProblem::CaseMissing { entries: entries.len() as u64 };
        out.push(CaseMismatch { case_id: id.to_owned(), problem });
    }
    (tally, out)
}

/// Pairs each item with the first unused entry it matches; returns the unmatched items' indices
/// and the unused entries.
fn pair_up<'e, T>(
    items: &[T],
    entries: &[&'e AuditEntry],
    matches: impl Fn(&T, &AuditEntry) -> bool,
) -> (Vec<usize>, Vec<&'e AuditEntry>) {
    let mut used = vec![false; entries.len()];
    let mut unmatched = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match (0..entries.len()).find(|&j| !used[j] && matches(item, entries[j])) {
            Some(j) => used[j] = true,
            None => unmatched.push(i),
        }
    }
    let unused = entries.iter().zip(used).filter(|(_, u)| !u).map(|(e, _)| *e).collect();
    (unmatched, unused)
}

fn history_problems(case: &Case, audited: &[&AuditEntry]) -> Vec<CaseProblem> {
    let same = |h: &HistoryEntry, e: &AuditEntry| {
        h.at_ms == e.at_ms && h.user == e.user && h.action == e.action && h.detail == e.detail
    };
    let (unmatched, unused) = pair_up(&case.history, audited, same);
    let mut out: Vec<CaseProblem> = unmatched
        .into_iter()
        .map(|i| CaseProblem::HistoryNotAudited { index: i + 1, action: case.history[i].action.clone() })
        .collect();
    out.extend(unused.into_iter().map(|e| CaseProblem::AuditNotInHistory { seq: e.seq, action: e.action.clone() }));
    out
}

/// `detail` is `head`, or `head: note`.
fn detail_is(detail: &str, head: &str) -> bool {
    detail.strip_prefix(head).is_some_and(|rest| rest.is_empty() || rest.starts_with(": "))
}

/// The audit entry of a payment: `pay` by the payer for an amount within the cap, `approve` by
/// the supervisor for an approved request (see [`crate::case::apply`]).
fn is_entry_of(p: &Payment, e: &AuditEntry) -> bool {
    if e.at_ms != p.at_ms {
        return false;
    }
    match &p.approved_by {
        None => {
            e.action == "pay"
                && e.user == p.by
                && (detail_is(&e.detail, &p.amount.to_string())
                    || e.detail.starts_with(&crate::case::pay_detail_head(p.amount)))
        }
        Some(sup) => {
            e.action == "approve"
                && e.user == *sup
                && (detail_is(&e.detail, &format!("{} requested by {}", p.amount, p.by))
                    || e.detail.starts_with(&crate::case::approve_detail_head(p.amount, &p.by)))
        }
    }
}

fn payment_problems(case: &Case, audited: &[&AuditEntry]) -> Vec<CaseProblem> {
    let paying: Vec<&AuditEntry> =
        audited.iter().copied().filter(|e| e.action == "pay" || e.action == "approve").collect();
    let (unmatched, unused) = pair_up(&case.payments, &paying, is_entry_of);
    let mut out: Vec<CaseProblem> = unmatched
        .into_iter()
        .map(|i| {
            let p = &case.payments[i];
            CaseProblem::PaymentNotAudited { index: i + 1, amount: p.amount, by: p.by.clone() }
        })
        .collect();
    out.extend(unused.into_iter().map(|e| CaseProblem::AuditedPaymentMissing { seq: e.seq, action: e.action.clone() }));
    out
}

// ---------------------------------------------------------------------------------------------
// The whole check, as `mzd audit verify` reports it.

/// Everything `mzd audit verify` checked and found (`--json` prints it as is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// True when every check passed.
    pub ok: bool,
    /// The trail as found: its length and head.
    pub trail: AuditAnchor,
    /// The first entry that breaks the chain, if any.
    pub chain_break: Option<AuditBreak>,
    /// What the store recorded about its own trail.
    pub store_figure: Option<StoreFigure>,
    /// Anchors given to the check (from backups or saved status).
    pub anchors_checked: u64,
    /// Every anchor the trail fails, the store's first.
    pub anchor_problems: Vec<AnchorMismatch>,
    /// What the case cross-check covered.
    pub cases: CaseTally,
    /// Every disagreement between the cases and the trail.
    pub case_problems: Vec<CaseMismatch>,
    /// Every problem above, in words (Chinese and English), chain first.
    pub problems: Vec<Reason>,
}

/// Runs every check: the chain, the store's figure, the given anchors, the cases.
pub fn check_all<C: Borrow<Case>>(
    chain: &[AuditEntry],
    store_figure: StoreFigure,
    given: &[AuditAnchor],
    cases: impl IntoIterator<Item = C>,
) -> AuditReport {
    let chain_break = verify(chain).err();
    let mut anchor_problems: Vec<AnchorMismatch> = store_figure.check(chain).err().into_iter().collect();
    for anchor in given {
        if let Err(problem) = check_anchor(chain, anchor) {
            anchor_problems.push(AnchorMismatch { against: AnchorSource::Given, anchor: *anchor, problem });
        }
    }
    let (tally, case_problems) = cross_check(cases, chain);
    let mut problems: Vec<Reason> = chain_break.iter().map(AuditBreak::reason).collect();
    problems.extend(anchor_problems.iter().map(AnchorMismatch::reason));
    problems.extend(case_problems.iter().map(CaseMismatch::reason));
    AuditReport {
        ok: problems.is_empty(),
        trail: AuditAnchor::of(chain.last()),
        chain_break,
        store_figure: Some(store_figure),
        anchors_checked: given.len() as u64,
        anchor_problems,
        cases: tally,
        case_problems,
        problems,
    }
}

fn hex(bytes: &[u8; 32]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `[u8; 32]` as 64 hex digits in serde formats.
/// The hashes: 64 hex digits for people (JSON), 32 raw bytes in the store (postcard). Values
/// stored before the raw form (hex digits behind the same length prefix) are still read.
mod hex32 {
    use serde::{de, de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&super::hex(bytes))
        } else {
            s.serialize_bytes(bytes)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        if d.is_human_readable() {
            from_hex(String::deserialize(d)?.as_bytes())
        } else {
            d.deserialize_bytes(RawOrHex)
        }
    }

    struct RawOrHex;

    impl de::Visitor<'_> for RawOrHex {
        type Value = [u8; 32];

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("32 bytes or 64 hex digits")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<[u8; 32], E> {
            match <[u8; 32]>::try_from(v) {
                Ok(raw) => Ok(raw),
                Err(_) => from_hex(v),
            }
        }
    }

    fn from_hex<E: Error>(t: &[u8]) -> Result<[u8; 32], E> {
        if t.len() != 64 {
            return Err(E::custom(format!("expected 64 hex digits, found {} characters", t.len())));
        }
        let nibble = |c: u8| -> Result<u8, E> {
            (c as char).to_digit(16).map(|v| v as u8).ok_or_else(|| E::custom("not a hex digit"))
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
    fn hashes_are_raw_in_postcard_hex_in_json_and_old_hex_values_still_read() {
        let e = chain(1).pop().expect("one entry");
        let raw = postcard::to_stdvec(&e).expect("encodes");
        assert_eq!(postcard::from_bytes::<AuditEntry>(&raw).expect("decodes"), e);
        // The same entry as stored before the raw form: both hashes as hex strings.
        #[derive(Serialize)]
        struct Legacy<'a> {
            seq: u64,
            at_ms: i64,
            user: &'a str,
            case_id: Option<&'a str>,
            action: &'a str,
            detail: &'a str,
            prev_hash: String,
            hash: String,
        }
        let legacy = Legacy {
            seq: e.seq,
            at_ms: e.at_ms,
            user: &e.user,
            case_id: e.case_id.as_deref(),
            action: &e.action,
            detail: &e.detail,
            prev_hash: hex(&e.prev_hash),
            hash: hex(&e.hash),
        };
        let old = postcard::to_stdvec(&legacy).expect("encodes");
        assert_eq!(raw.len() + 64, old.len(), "two hashes of 32 raw bytes instead of 64 digits");
        assert_eq!(postcard::from_bytes::<AuditEntry>(&old).expect("old values decode"), e);
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["hash"], serde_json::Value::String(e.hash_hex()));
        assert_eq!(serde_json::from_value::<AuditEntry>(json).expect("json decodes"), e);
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

    // --- Anchors -------------------------------------------------------------------------------

    #[test]
    fn anchors_of_empty_and_full_trails() {
        assert_eq!(AuditAnchor::of(None), AuditAnchor { entries: 0, head: GENESIS });
        let c = chain(3);
        assert_eq!(AuditAnchor::of(c.last()), AuditAnchor { entries: 3, head: c[2].hash });
        assert_eq!(check_anchor(&[], &AuditAnchor::default()), Ok(()));
        assert_eq!(check_store_anchor(&c, &AuditAnchor::of(c.last())), Ok(()));
    }

    #[test]
    fn a_prefix_anchor_holds_and_truncation_or_rewrite_is_named() {
        let c = chain(6);
        let at4 = AuditAnchor::of(Some(&c[3]));
        assert_eq!(check_anchor(&c, &at4), Ok(()), "a later trail contains an earlier anchor");
        assert_eq!(check_anchor(&c[..2], &at4), Err(AnchorProblem::Shorter { anchored: 4, found: 2 }));
        let mut other = chain(6);
        other[1].detail.push('x');
        let rewritten: Vec<AuditEntry> = other.iter().fold(Vec::new(), |mut out, e| {
            out.push(append(out.last(), e.at_ms, &e.user, e.case_id.as_deref(), &e.action, &e.detail));
            out
        });
        assert_eq!(verify(&rewritten), Ok(6), "a recomputed forgery is a valid chain by itself");
        assert_eq!(check_anchor(&rewritten, &at4), Err(AnchorProblem::Diverged { entries: 4 }));
        // The store's own anchor must be the end of the trail.
        assert_eq!(check_store_anchor(&c, &at4), Err(AnchorProblem::Longer { anchored: 4, found: 6 }));
        let figure = StoreFigure::CountOnly { entries: 7 };
        let err = figure.check(&c).unwrap_err();
        assert_eq!(err.problem, AnchorProblem::Shorter { anchored: 7, found: 6 });
        assert!(err.reason().en.contains("the last 1 entries were removed"), "{}", err.reason().en);
        assert!(err.reason().zh.contains("末尾 1 条记录已被删除"), "{}", err.reason().zh);
    }

    #[test]
    fn anchor_text_from_a_backup_or_a_status() {
        let c = chain(2);
        let head = c[1].hash_hex();
        let backup = format!(r#"{{"entries": 2, "head": "{head}", "at": "2026-11-30T10:00:00+08:00"}}"#);
        let want = AuditAnchor { entries: 2, head: c[1].hash };
        assert_eq!(AuditAnchor::from_json_text(&backup), Ok(want));
        let status = format!(r#"{{"version": "0.1.0", "audit": {{"entries": 2, "head": "{}"}}}}"#, head.to_uppercase());
        assert_eq!(AuditAnchor::from_json_text(&status), Ok(want));
        assert_eq!(AuditAnchor::from_json_text(r#"{"entries": 2, "head": "abc"}"#), Err(AnchorTextError::NoAnchor));
        assert_eq!(AuditAnchor::from_json_text(r#"{"healthy": true}"#), Err(AnchorTextError::NoAnchor));
        assert!(matches!(AuditAnchor::from_json_text("not json"), Err(AnchorTextError::NotJson(_))));
        let json = serde_json::to_value(want).unwrap();
        assert_eq!(json, serde_json::json!({"entries": 2, "head": head}));
    }

    proptest::proptest! {
        /// Every prefix of a trail is an anchor it contains; a shorter trail, or another trail
        /// that differs anywhere up to the anchor, does not contain it.
        #[test]
        fn prefix_anchors(n in 1usize..24, k in 0usize..24, cut in 0usize..24, changed in 0usize..24) {
            let k = k % (n + 1);
            let c = chain(n);
            let anchor = AuditAnchor::of(k.checked_sub(1).map(|i| &c[i]));
            proptest::prop_assert_eq!(check_anchor(&c, &anchor), Ok(()));
            let cut = cut % (n + 1);
            let expected = if cut < k {
                Err(AnchorProblem::Shorter { anchored: k as u64, found: cut as u64 })
            } else {
                Ok(())
            };
            proptest::prop_assert_eq!(check_anchor(&c[..cut], &anchor), expected);
            // Re-chain the trail with one entry changed: the anchor holds only if the change is
            // after it.
            let changed = changed % n;
            let mut other: Vec<AuditEntry> = Vec::new();
            for (i, e) in c.iter().enumerate() {
                let detail = if i == changed { format!("{}!", e.detail) } else { e.detail.clone() };
                other.push(append(other.last(), e.at_ms, &e.user, e.case_id.as_deref(), &e.action, &detail));
            }
            let expected = if changed < k { Err(AnchorProblem::Diverged { entries: k as u64 }) } else { Ok(()) };
            proptest::prop_assert_eq!(check_anchor(&other, &anchor), expected);
        }
    }

    // --- Cases against the trail ---------------------------------------------------------------

    use crate::case::{self as c, Action, Actor, Context, OpenCase};
    use crate::registry::{Registry, Role};

    const T0: i64 = 1_772_416_800_000;

    /// A case opened, accepted, paid within the cap, paid above it and approved, with its trail.
    fn paid_case() -> (Case, Vec<AuditEntry>) {
        let reg = Registry::demo();
        let officer = Actor::new("duty1", Role::Officer);
        let chief = Actor::new("chief", Role::Supervisor);
        let input = OpenCase { street: "ST-01".into(), summary: "求助".into(), ..OpenCase::default() };
        let mut case = Case::open(CaseId::new(2026, 1), input, &officer, T0, &reg).unwrap();
        let mut trail = vec![append_case_entry(None, &case.id, &case.history[0])];
        let ctx = Context { registry: &reg, fund_balance: Fen(1_000_000_000), other_aid: &[], referral_id: None };
        let steps = [
            (Action::Accept, &officer),
            (Action::Pay { amount: Fen(50_000), note: None }, &officer),
            (Action::Pay { amount: Fen(600_000), note: Some("一事一议".into()) }, &officer),
            (Action::Approve { note: None }, &chief),
        ];
        for (i, (action, actor)) in steps.iter().enumerate() {
            let applied = c::apply(&case, action, actor, case.version, T0 + (i as i64 + 1) * 60_000, &ctx).unwrap();
            trail.push(append_case_entry(trail.last(), &applied.case.id, applied.entry()));
            case = applied.case;
        }
        assert_eq!(case.payments.len(), 2, "{case:#?}");
        assert!(case.payments[1].approved_by.is_some());
        (case, trail)
    }

    #[test]
    fn an_untouched_case_matches_its_trail() {
        let (case, trail) = paid_case();
        let (tally, problems) = cross_check([&case], &trail);
        assert_eq!(problems, []);
        assert_eq!(tally, CaseTally { cases: 1, history_entries: 5, payments: 2 });
        let report = check_all(&trail, StoreFigure::Anchor(AuditAnchor::of(trail.last())), &[], [&case]);
        assert!(report.ok, "{report:#?}");
    }

    #[test]
    fn changed_payments_and_history_are_named_with_the_case() {
        let (case, trail) = paid_case();
        let id = case.id.as_str().to_owned();
        let named = |c: &Case, t: &[AuditEntry]| -> Vec<CaseProblem> {
            let (_, problems) = cross_check([c], t);
            assert!(problems.iter().all(|p| p.case_id == id));
            problems.into_iter().map(|p| p.problem).collect()
        };
        let mut edited = case.clone();
        edited.payments[0].amount = Fen(5_000_000);
        assert_eq!(
            named(&edited, &trail),
            [
                CaseProblem::PaymentNotAudited { index: 1, amount: Fen(5_000_000), by: "duty1".into() },
                CaseProblem::AuditedPaymentMissing { seq: 3, action: "pay".into() },
            ]
        );
        let mut approver = case.clone();
        approver.payments[1].approved_by = Some("duty1".into());
        assert_eq!(named(&approver, &trail).len(), 2, "an approval by someone else is a changed payment");
        let mut forged = case.clone();
        forged.history.push(HistoryEntry { at_ms: T0, user: "x".into(), action: "note".into(), detail: "y".into() });
        assert_eq!(named(&forged, &trail), [CaseProblem::HistoryNotAudited { index: 6, action: "note".into() }]);
        let mut dropped = case.clone();
        dropped.history.remove(1);
        assert_eq!(named(&dropped, &trail), [CaseProblem::AuditNotInHistory { seq: 2, action: "accept".into() }]);
        let (_, gone) = cross_check(Vec::<Case>::new(), &trail);
        assert_eq!(gone, [CaseMismatch { case_id: id.clone(), problem: CaseProblem::CaseMissing { entries: 5 } }]);
        let r = gone[0].reason();
        assert!(r.en.contains(&id) && r.zh.contains(&id), "{r:?}");
    }
}
