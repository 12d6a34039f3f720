//! `mzd audit verify`: every audit check the daemon makes, against the anchors given.

use super::runtime;
use anyhow::{Context, Result};
use clap::Subcommand;
use mz_client::Client;
use mz_shared::audit::{AuditAnchor, AuditReport, StoreFigure};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(super) enum AuditCommand {
    /// Re-compute the hash chain, compare it with the store's own anchor and with any anchor
    /// given, and cross-check every case's history and payments against it. Exit 0 when all
    /// pass, 1 naming each problem.
    Verify {
        /// An anchor to compare with: a backup's audit-anchor.json or a saved `mzd status
        /// --json`. The trail must still contain it. May be given more than once.
        #[arg(long)]
        anchor: Vec<PathBuf>,
        /// An anchor's entry count (with --head), e.g. from the daemon's log.
        #[arg(long, requires = "head")]
        entries: Option<u64>,
        /// An anchor's head hash, 64 hex digits (with --entries).
        #[arg(long, requires = "entries")]
        head: Option<String>,
        /// Print what was checked and found as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// The anchors given to `mzd audit verify`: from files, then from --entries/--head.
pub(super) fn audit_anchors(files: &[PathBuf], entries: Option<u64>, head: Option<&str>) -> Result<Vec<AuditAnchor>> {
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read the anchor file {}", f.display()))?;
        let a = AuditAnchor::from_json_text(&text)
            .with_context(|| format!("{} is not an audit anchor (audit-anchor.json or status JSON)", f.display()))?;
        out.push(a);
    }
    if let (Some(entries), Some(head)) = (entries, head) {
        let head = AuditAnchor::parse_head(head).context("--head must be 64 hex digits")?;
        out.push(AuditAnchor { entries, head });
    }
    Ok(out)
}

/// `mzd audit verify`: asks the daemon for every audit check and prints what it found.
pub(super) fn audit_verify(socket: &std::path::Path, anchors: Vec<AuditAnchor>, json: bool) -> Result<ExitCode> {
    let report =
        runtime()?.block_on(async { Client::connect(socket, "mzd audit").await?.audit_check(anchors).await })?;
    if json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_audit(&report)?;
    }
    for p in &report.problems {
        eprintln!("mzd: {p}");
    }
    Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// What was checked, and the verdict, for a person.
pub(super) fn print_audit(r: &AuditReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if r.ok {
        writeln!(out, "audit trail intact: {} entries verified", r.trail.entries)?;
    } else {
        writeln!(out, "audit check FAILED: {} problem(s), listed on stderr", r.problems.len())?;
    }
    writeln!(out, "head: entry {} has hash {}", r.trail.entries, r.trail.head_hex())?;
    let figure = match r.store_figure {
        Some(StoreFigure::Anchor(_)) => "the length and head recorded in the store",
        Some(StoreFigure::CountOnly { .. }) => "the length recorded in the store (no head recorded yet)",
        None => "nothing recorded in the store",
    };
    writeln!(out, "checked: the hash chain of {} entries; {figure}", r.trail.entries)?;
    writeln!(out, "checked: {} given anchor(s) as earlier states of the trail", r.anchors_checked)?;
    writeln!(
        out,
        "checked: {} case(s) with {} history entries and {} payment(s) against the trail",
        r.cases.cases, r.cases.history_entries, r.cases.payments
    )
}
