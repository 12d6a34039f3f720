//! Which files some process holds open for writing, read from `/proc`.
//!
//! Every `/proc/<pid>/fd/<n>` is stat'ed (following the magic link to the open file, so renames,
//! other mount namespaces and other path spellings do not matter) and compared by device and
//! inode; for a match, `/proc/<pid>/fdinfo/<n>` gives the open flags (`O_WRONLY` or `O_RDWR`
//! means a writer). Processes whose descriptors cannot be inspected (another user's, when not
//! root; gone meanwhile) are skipped; without `/proc` nothing is found.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A file's identity on this machine: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(meta: &fs::Metadata) -> FileId {
        FileId { dev: meta.dev(), ino: meta.ino() }
    }
}

/// The files of `wanted` that some inspectable process has open for writing (`O_WRONLY` or
/// `O_RDWR`). One pass over `/proc`; empty input costs nothing.
pub fn open_for_writing(wanted: &HashSet<FileId>) -> HashSet<FileId> {
    open_for_writing_in(Path::new("/proc"), wanted)
}

fn open_for_writing_in(proc_root: &Path, wanted: &HashSet<FileId>) -> HashSet<FileId> {
    let mut found = HashSet::new();
    if wanted.is_empty() {
        return found;
    }
    let Ok(procs) = fs::read_dir(proc_root) else { return found };
    for proc_entry in procs.flatten() {
        let name = proc_entry.file_name();
        let Some(pid) = name.to_str().filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let pid_dir = proc_root.join(pid);
        let Ok(fds) = fs::read_dir(pid_dir.join("fd")) else { continue };
        for fd_entry in fds.flatten() {
            // `metadata` follows the magic link: the open file's own device and inode.
            let Ok(meta) = fs::metadata(fd_entry.path()) else { continue };
            let id = FileId::of(&meta);
            if !wanted.contains(&id) || found.contains(&id) {
                continue;
            }
            let fdinfo = pid_dir.join("fdinfo").join(fd_entry.file_name());
            // Unknown flags (the process just went away, or a race): count it as a writer; the
            // caller looks again later.
            if fs::read_to_string(&fdinfo).ok().and_then(|s| flags_of(&s)).is_none_or(opened_for_writing) {
                found.insert(id);
            }
        }
    }
    found
}

/// The `flags:` field of an fdinfo file (octal).
fn flags_of(fdinfo: &str) -> Option<u32> {
    let line = fdinfo.lines().find_map(|l| l.strip_prefix("flags:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

fn opened_for_writing(flags: u32) -> bool {
    let mode = flags & libc::O_ACCMODE as u32;
    mode == libc::O_WRONLY as u32 || mode == libc::O_RDWR as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn id(path: &Path) -> FileId {
        FileId::of(&fs::metadata(path).unwrap())
    }

    #[test]
    fn sees_a_writer_until_it_closes() {
        let dir = tempfile::tempdir().unwrap();
        let written = dir.path().join("w.csv");
        let read = dir.path().join("r.csv");
        fs::write(&read, b"a\n").unwrap();
        let mut w = fs::File::create(&written).unwrap();
        w.write_all(b"x").unwrap();
        let r = fs::File::open(&read).unwrap();
        let wanted: HashSet<FileId> = [id(&written), id(&read)].into();

        let found = open_for_writing(&wanted);
        assert!(found.contains(&id(&written)), "the writer is seen");
        assert!(!found.contains(&id(&read)), "a reader is not a writer");

        drop(w);
        let found = open_for_writing(&wanted);
        assert!(found.is_empty(), "no writer once closed");
        drop(r);
    }

    #[test]
    fn read_write_counts_as_writer_and_flags_parse() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rw.csv");
        fs::write(&p, b"a\n").unwrap();
        let f = fs::OpenOptions::new().read(true).write(true).open(&p).unwrap();
        assert!(open_for_writing(&[id(&p)].into()).contains(&id(&p)));
        drop(f);
        assert_eq!(flags_of("pos:\t0\nflags:\t0100002\nmnt_id:\t25\n"), Some(0o100002));
        assert!(opened_for_writing(0o100002));
        assert!(opened_for_writing(0o1));
        assert!(!opened_for_writing(0o100000));
        assert!(open_for_writing(&HashSet::new()).is_empty());
    }
}
