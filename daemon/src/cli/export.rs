//! `mzd export` and `mzd backup`: what the daemon copies out of its store.

use super::runtime;
use anyhow::Result;
use mz_client::Client;
use mz_shared::protocol::{ExportFormat, ExportWhat};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `mzd export`: the daemon's lines as they come.
pub(super) fn export(socket: &std::path::Path, what: ExportWhat, format: ExportFormat) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let mut c = Client::connect(socket, "mzd export").await?;
        let mut lines = c.export(what, format).await?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        while let Some(line) = lines.next().await? {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `mzd backup DEST_DIR`: a consistent snapshot written by the daemon (admin role).
pub(super) fn backup(socket: &Path, dest_dir: PathBuf) -> Result<ExitCode> {
    let dest = std::path::absolute(&dest_dir)?;
    runtime()?.block_on(async { Client::connect(socket, "mzd backup").await?.backup(&dest).await })?;
    writeln!(std::io::stdout(), "backup written to {}", dest.display())?;
    Ok(ExitCode::SUCCESS)
}
