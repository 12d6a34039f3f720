//! `mzd check FILE`: validates a drop file without a daemon or a store.

use anyhow::Result;
use mz_shared::feed::Feed;
use mz_shared::registry::Registry;
use mzd::check;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `mzd check FILE [--feed F] [--json] [--registry R]`. Exit 0 when every row is valid.
pub(super) fn check(file: PathBuf, feed: Option<Feed>, json: bool, registry: Option<PathBuf>) -> Result<ExitCode> {
    let registry = match registry {
        Some(p) => mzd::service::load_registry(&p)?,
        None => {
            let default = PathBuf::from("./mz-data/registry.toml");
            if default.exists() {
                mzd::service::load_registry(&default)?
            } else {
                eprintln!("mzd: no registry given and none at ./mz-data/registry.toml: codes are checked against the demo registry (use --registry)");
                Registry::demo()
            }
        }
    };
    let report = check::check(&file, feed, &registry)?;
    if json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        let mut out = std::io::stdout().lock();
        for p in &report.problems {
            let col = match (p.column, p.column_number) {
                (Some(c), Some(n)) => format!(" column {n} ({c})"),
                (Some(c), None) => format!(" column {c}"),
                _ => String::new(),
            };
            writeln!(out, "{}:{}:{col}: {} | {}", report.file, p.line, p.reason_zh, p.reason_en)?;
        }
        if !report.unknown_columns.is_empty() {
            writeln!(out, "note: unknown columns ignored: {}", report.unknown_columns.join(", "))?;
        }
        writeln!(
            out,
            "{}: {} rows, {} valid, {} duplicate, {} with problems",
            report.file,
            report.rows,
            report.valid,
            report.duplicates,
            report.problems.iter().filter(|p| p.line > 0).count()
        )?;
    }
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
