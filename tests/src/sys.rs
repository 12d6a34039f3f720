//! The libc calls of the test harness (signals to the daemons it started), the only `unsafe`
//! code of the crate.
#![allow(unsafe_code)]

/// Sends `signal` to process `pid` (a child the harness started); a process already gone is
/// not an error.
pub fn signal(pid: impl TryInto<libc::pid_t>, signal: libc::c_int) {
    let Ok(pid) = pid.try_into() else { return };
    // SAFETY: kill has no memory preconditions; at worst it fails with ESRCH.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Whether the tests run as root (some fault tests need to mount or add users).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Makes a named pipe at `path` (mode 0600).
pub fn mkfifo(path: &std::path::Path) -> std::io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path for the call.
    match unsafe { libc::mkfifo(c.as_ptr(), 0o600) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
