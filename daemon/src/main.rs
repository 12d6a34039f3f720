//! `mzd`: the mz daemon and its ops command line. The commands are in [`cli`], one module per
//! command group; this file only parses, runs and reports.

mod cli;

use std::process::ExitCode;

/// Ingest allocates and frees many small values (rows, cases, tasks, encoded pages); glibc's
/// allocator spent a third of a bulk ingest's time in `malloc`, `free` and consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    mzd::release_freed_memory_promptly();
    let cli = <cli::Cli as clap::Parser>::parse();
    match cli::run(cli) {
        Ok(code) => code,
        // `mzd export … | head`: the reader went away, which is not an error.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mzd: {}", cli::error_chain(&e));
            ExitCode::from(1)
        }
    }
}
