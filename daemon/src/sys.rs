//! The libc calls of the daemon (group lookup for the socket, free disk space, the umask) and the
//! one allocator setting it makes, the only `unsafe` code of the crate: each call is small and its safety argued where it is made.
#![allow(unsafe_code)]

use std::path::Path;

/// The id of the group called `name`, if there is one.
pub fn group_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: all-zero is a valid `group` to be filled in.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: buffers are valid for the call.
    let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return None;
    }
    Some(grp.gr_gid)
}

/// Bytes free for unprivileged users on the file system of `path`.
pub fn disk_free(path: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `s` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some(s.f_bavail as u64 * s.f_frsize as u64)
}

/// Files and folders the daemon creates are readable by its user and group only (SPEC §2).
pub fn restrict_umask() {
    // SAFETY: umask only changes this process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o027);
    }
}

/// The effective user id of this process.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Tells the allocator (mimalloc) to hand freed pages back to the system at once rather than after
/// its default 10 ms delay. A bulk ingest frees a commit's worth of rows, cases and encoded pages
/// every few milliseconds; with the delay those pages were held across commits and peak RSS of a
/// 200,000-row ingest rose from 159 MB to 224 MB (`cargo bench -p mzd --bench ingest`). Call it
/// first thing in `main`, before other threads start.
pub fn release_freed_memory_promptly() {
    // `mi_option_purge_delay` is option 15 in both mimalloc v2 and v3 (`mimalloc.h`, enum
    // `mi_option_e`); the crate's bindings do not name it.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting an option takes no pointers; mimalloc documents it as callable at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}
