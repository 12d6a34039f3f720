//! File names and file moves: what the daemon writes beside the files it handles.
//!
//! Invariants:
//! - A name the daemon makes (archive, quarantine, `.rejects.csv`, `.reason.txt`, and the
//!   temporary names used on the way) never exceeds the file system's 255-byte limit: long drop
//!   names are shortened at a character boundary and given a short hash of the full name, so two
//!   long names never collide.
//! - Names are bytes, not text: a GBK file name from a Samba share or a zip is kept as it is,
//!   stored as bytes ([`path_bytes`]) and shown lossily only in logs and views.
//! - Log lines never carry raw names: control characters are escaped ([`log_name`]), so a
//!   newline in a name cannot forge a log line.
//! - Files are written under their final name only once complete and `fsync`ed
//!   ([`write_atomic`]), and moves are idempotent ([`move_file`]).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Longest file name the daemon creates: 255 bytes (Linux `NAME_MAX`) less room for the
/// temporary suffixes `.writing` / `.copying`.
pub const MAX_NAME: usize = 255 - 9;

/// Mode of every file the daemon writes or takes in (SPEC §2: owner and group only).
pub const FILE_MODE: u32 = 0o640;
/// Mode of every folder the daemon creates under its data folder.
pub const DIR_MODE: u32 = 0o750;

/// The file name for views and history (lossy for names that are not UTF-8).
pub fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// The file name for log lines: lossy, with control characters escaped (`\n`, `\u{1b}`…).
pub fn log_name(path: &Path) -> String {
    let name = display_name(path);
    if !name.chars().any(char::is_control) {
        return name;
    }
    name.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// `name` + `suffix`, shortened to at most [`MAX_NAME`] bytes. A shortened name keeps its
/// extension (the part after the last `.`, when short) and gains `~` and 8 hex digits of the
/// full name's hash, so different long names stay different.
pub fn fitted(name: &OsStr, suffix: &str) -> OsString {
    let bytes = name.as_bytes();
    if bytes.len() + suffix.len() <= MAX_NAME {
        let mut s = name.to_owned();
        s.push(suffix);
        return s;
    }
    let ext_at = bytes.iter().rposition(|b| *b == b'.').filter(|i| *i > 0 && bytes.len() - i <= 16);
    let (stem, ext) = ext_at.map_or((bytes, &b""[..]), |i| bytes.split_at(i));
    let tag = format!("~{}", &blake3::hash(bytes).to_hex()[..8]);
    let room = MAX_NAME.saturating_sub(ext.len() + tag.len() + suffix.len());
    let mut out = cut(stem, room).to_vec();
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(ext);
    out.extend_from_slice(suffix.as_bytes());
    OsString::from_vec(out)
}

/// The longest prefix of `bytes` of at most `max` bytes, at a character boundary when the
/// bytes are UTF-8 (other encodings are cut where they must be: the file system takes any bytes).
fn cut(bytes: &[u8], max: usize) -> &[u8] {
    if bytes.len() <= max {
        return bytes;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            let end = (0..=max).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
            &bytes[..end]
        }
        Err(_) => &bytes[..max],
    }
}

/// `dir/<name><suffix>` fitted to the name limit, or `dir/<stem> (2)<ext><suffix>`, … when
/// that is taken.
pub fn unique_path(dir: &Path, name: &OsStr, suffix: &str) -> PathBuf {
    let first = dir.join(fitted(name, suffix));
    if fs::symlink_metadata(&first).is_err() {
        return first;
    }
    let bytes = name.as_bytes();
    let (stem, ext) = match bytes.iter().position(|b| *b == b'.') {
        Some(i) if i > 0 => bytes.split_at(i),
        _ => (bytes, &b""[..]),
    };
    (2..)
        .map(|n| {
            let mut alt = stem.to_vec();
            alt.extend_from_slice(format!(" ({n})").as_bytes());
            alt.extend_from_slice(ext);
            dir.join(fitted(OsStr::from_bytes(&alt), suffix))
        })
        .find(|p| fs::symlink_metadata(p).is_err())
        .expect("an unused name exists")
}

/// `dest` + `.reason.txt`, fitted to the name limit.
pub fn reason_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap_or_default();
    dest.with_file_name(fitted(name, ".reason.txt"))
}

/// `fsync`s a directory, so that renames and creations inside it survive a power cut.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Creates `dir` and its missing parents with [`DIR_MODE`], `fsync`ing each parent of a folder
/// it created so that the new folder survives a power cut.
pub fn create_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes a file durably under its final name: temporary file, fsync, rename, fsync folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dirs(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".writing");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(FILE_MODE).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Moves `src` to `dest` if `src` is still the file with `inode`; idempotent. The moved file is
/// made readable by owner and group only. Falls back to copy-then-delete across file systems.
pub fn move_file(src: &Path, inode: u64, dest: &Path) -> std::io::Result<()> {
    let src_meta = match fs::symlink_metadata(src) {
        Ok(m) if m.ino() == inode => m,
        // Gone (moved by an earlier run of this job) or replaced by a new drop: nothing to do.
        _ => return Ok(()),
    };
    let dir = dest.parent().unwrap_or(Path::new("."));
    create_dirs(dir)?;
    if src_meta.file_type().is_file() && src_meta.mode() & 0o7777 & !FILE_MODE != 0 {
        // Restrict before the move, so the file never sits in the archive readable by everyone.
        // Best effort: a file owned by another user (a Samba drop) cannot be changed, and the
        // data folder (0750) still keeps others out.
        if let Err(e) = fs::set_permissions(src, fs::Permissions::from_mode(src_meta.mode() & FILE_MODE)) {
            tracing::debug!(file = %log_name(src), error = %e, "cannot restrict the mode of a handled file");
        }
    }
    match fs::rename(src, dest) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => copy_across(src, &src_meta, dest)?,
        Err(e) => return Err(e),
    }
    sync_dir(dir)?;
    if let Some(p) = src.parent() {
        sync_dir(p)?;
    }
    Ok(())
}

fn copy_across(src: &Path, src_meta: &fs::Metadata, dest: &Path) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    if src_meta.file_type().is_symlink() {
        let target = fs::read_link(src)?;
        let _ = fs::remove_file(dest);
        std::os::unix::fs::symlink(target, dest)?;
    } else {
        let mut tmp = dest.as_os_str().to_owned();
        tmp.push(".copying");
        fs::copy(src, &tmp)?;
        fs::File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, dest)?;
    }
    sync_dir(dir)?;
    fs::remove_file(src)
}

/// Copies a folder recursively, `fsync`ing every file; returns the bytes copied.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    create_dirs(to)?;
    let mut bytes = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            bytes += copy_tree(&entry.path(), &target)?;
        } else {
            bytes += fs::copy(entry.path(), &target)?;
            fs::File::open(&target)?.sync_all()?;
        }
    }
    sync_dir(to)?;
    Ok(bytes)
}

/// Serde for paths as raw bytes, so names that are not UTF-8 can be stored. In the store's
/// encoding (postcard) bytes and strings are laid out alike, so values written before read back.
pub mod path_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::{Path, PathBuf};

    pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(path.as_os_str().as_bytes())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        let bytes: serde_bytes_buf::Buf = Deserialize::deserialize(d)?;
        Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes.0)))
    }

    /// A byte buffer that deserializes from bytes or a string.
    mod serde_bytes_buf {
        pub struct Buf(pub Vec<u8>);

        impl<'de> serde::Deserialize<'de> for Buf {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Buf, D::Error> {
                d.deserialize_byte_buf(Visitor)
            }
        }

        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Buf;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path as bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Buf, E> {
                Ok(Buf(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Buf, E> {
                Ok(Buf(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Buf, E> {
                Ok(Buf(v.as_bytes().to_vec()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(fitted(OsStr::new("通州.csv"), ".rejects.csv"), OsString::from("通州.csv.rejects.csv"));
    }

    #[test]
    fn long_names_fit_and_stay_distinct() {
        let a = format!("{}.csv", "通州".repeat(40));
        let b = format!("{}一.csv", "通州".repeat(40));
        let fa = fitted(OsStr::new(&a), ".rejects.csv");
        let fb = fitted(OsStr::new(&b), ".rejects.csv");
        for f in [&fa, &fb] {
            assert!(f.len() <= MAX_NAME, "{f:?}");
            let s = f.to_str().expect("cut at a character boundary");
            assert!(s.ends_with(".csv.rejects.csv"), "{s}");
            assert!(s.starts_with("通州通州"), "{s}");
        }
        assert_ne!(fa, fb);
    }

    #[test]
    fn non_utf8_names_fit() {
        let gbk: Vec<u8> = std::iter::repeat_n([0xcd_u8, 0xa8], 200).flatten().chain(*b".csv").collect();
        let f = fitted(OsStr::from_bytes(&gbk), ".reason.txt");
        assert!(f.len() <= MAX_NAME);
        assert!(f.as_bytes().ends_with(b".csv.reason.txt"));
    }

    #[test]
    fn log_names_escape_control_characters() {
        assert_eq!(log_name(Path::new("/in/a\nb.csv")), "a\\nb.csv");
        assert_eq!(log_name(Path::new("/in/通州.csv")), "通州.csv");
    }

    #[test]
    fn paths_round_trip_as_bytes_and_read_strings_written_before() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct P(#[serde(with = "path_bytes")] PathBuf);
        #[derive(serde::Serialize)]
        struct Old(PathBuf);
        let gbk = PathBuf::from(OsString::from_vec(vec![b'/', 0xcd, 0xa8, b'.', b'c']));
        let bytes = postcard::to_stdvec(&P(gbk.clone())).unwrap();
        assert_eq!(postcard::from_bytes::<P>(&bytes).unwrap(), P(gbk));
        let old = postcard::to_stdvec(&Old(PathBuf::from("/a/通州.csv"))).unwrap();
        assert_eq!(postcard::from_bytes::<P>(&old).unwrap(), P(PathBuf::from("/a/通州.csv")));
    }
}
