//! Restarting `mzd run` in place after a write to the store failed (a full disk, an I/O error).
//!
//! Why: after a failed write, sled keeps the failed batch in memory and its background flusher
//! may still write parts of it once space returns — measured by the randomised fault run: a
//! file's ledger entry survived while blobs of its records were dropped at recovery. Closing
//! the database does not help (closing flushes too, and can hang on the failing disk). The only
//! way to guarantee that nothing of a failed batch reaches the disk is to end every thread that
//! could write it: the process replaces itself (`execve`, same pid, same arguments, same log),
//! and the new process recovers the store from what was durable before the failure.
//!
//! The new process learns why from [`ENV`]: it does not open the store at once but serves
//! status with the problem and opens the store every few seconds until it can (so a disk that
//! is still full gives a calm retry, not a restart loop).

use std::os::unix::process::CommandExt;

/// Set for the restarted process: the error that made it restart.
pub const ENV: &str = "MZD_RESTARTED_AFTER_STORE_ERROR";

/// Replaces this process with a fresh `mzd` with the same arguments. Returns only when that is
/// impossible (the binary is gone), after logging why: the caller then falls back to closing
/// and reopening the store in this process.
pub fn in_place(reason: &str) {
    tracing::error!(
        error = reason,
        "a write to the store failed: mzd restarts itself in place, so that nothing of the failed write can \
         reach the disk; the new process recovers what was committed"
    );
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            tracing::error!(error = %e, "cannot find the mzd binary to restart; reopening the store instead");
            return;
        }
    };
    let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env(ENV, reason).exec();
    tracing::error!(error = %err, "cannot restart in place; reopening the store instead");
}

/// The error this process was restarted for, if it was (and forgets it, so a later restart of
/// this process by a supervisor starts normally).
pub fn after_failure() -> Option<String> {
    let reason = std::env::var(ENV).ok().filter(|r| !r.is_empty());
    std::env::remove_var(ENV);
    reason
}
