//! What a path in the inbox is, from its name and file type alone.

use crate::source::SourceFormat;
use mz_shared::feed::Feed;
use mz_shared::reason::Reason;
use std::fs::FileType;
use std::path::{Component, Path};

/// Name endings that mark a file still being written (compared case-insensitively).
const IN_PROGRESS_SUFFIXES: [&str; 5] = [".tmp", ".part", ".partial", ".filepart", ".crdownload"];

/// The class of a path in the inbox (directories are not classified: the scanner walks them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Inside a hidden folder (`.something/`): not ours to look at, not tracked.
    Hidden,
    /// An in-progress name (`.x`, `x.tmp`, `x.part`, …): ignored, but counted as in progress.
    InProgress,
    /// A file directly inside a feed folder, with an accepted extension.
    Feed(Feed),
    /// Anything else: to be quarantined as unsorted, with this reason.
    Unsorted(Reason),
    /// A symbolic link; the feed when it sits directly inside a feed folder.
    Symlink(Option<Feed>),
}

/// True for names that start with `.` or end with an in-progress suffix.
pub fn is_in_progress_name(name: &str) -> bool {
    if name.starts_with('.') {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    IN_PROGRESS_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// Classifies `rel`, a path relative to the inbox (at least one component), of file type `ft`
/// (from `symlink_metadata`: links are never followed).
pub fn classify(rel: &Path, ft: FileType) -> Class {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let Some((name, dirs)) = parts.split_last() else { return Class::Hidden };
    if dirs.iter().any(|d| d.starts_with('.')) {
        return Class::Hidden;
    }
    if is_in_progress_name(name) {
        return Class::InProgress;
    }
    let feed = dirs.first().and_then(|d| Feed::from_folder(d));
    if ft.is_symlink() {
        return Class::Symlink(if dirs.len() == 1 { feed } else { None });
    }
    let Some(folder) = dirs.first() else {
        return Class::Unsorted(Reason::new(
            "文件放在收件箱根目录，没有放入 admissions（救助站事件）、burials（殡葬点位统计）或 marriages（婚姻登记）子目录；\
             请放入对应子目录后重新投放",
            "the file was dropped at the inbox root, not into one of the admissions, burials or marriages \
             folders; drop it into the folder of its feed",
        ));
    };
    let Some(feed) = feed else {
        return Class::Unsorted(Reason::new(
            format!(
                "文件所在目录 {folder} 不是 admissions（救助站事件）、burials（殡葬点位统计）或 marriages（婚姻登记）之一；\
                 请放入对应子目录后重新投放"
            ),
            format!(
                "the folder {folder} is not one of admissions, burials or marriages; drop the file into the folder \
                 of its feed"
            ),
        ));
    };
    if dirs.len() > 1 {
        let sub = dirs[1..].join("/");
        return Class::Unsorted(Reason::new(
            format!("文件在子目录 {folder}/{sub}/ 中；只读取直接放在 {folder}/ 下的文件，请移到该目录后重新投放"),
            format!(
                "the file is in the sub-folder {folder}/{sub}/; only files directly inside {folder}/ are read, \
                 move it there"
            ),
        ));
    }
    if !ft.is_file() {
        return Class::Unsorted(Reason::new(
            "不是普通文件（如命名管道、套接字或设备），无法读取；请放入普通的 CSV 或 JSONL 文件",
            "not a regular file (a named pipe, socket or device) and cannot be read; drop a plain CSV or JSONL file",
        ));
    }
    if SourceFormat::of(rel).is_none() {
        let ext = rel.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let (zh_kind, en_kind) = if ext.is_empty() {
            ("文件没有扩展名".to_string(), "the file has no extension".to_string())
        } else {
            (format!("不支持 {ext} 类型的文件"), format!("files of type {ext} are not accepted"))
        };
        return Class::Unsorted(Reason::new(
            format!("{zh_kind}；只接受 .csv、.jsonl、.ndjson 文件（Excel 工作簿请另存为 UTF-8 或 GBK 编码的 CSV）"),
            format!(
                "{en_kind}; only {} files are read (save Excel workbooks as UTF-8 or GBK CSV)",
                SourceFormat::ACCEPTED
            ),
        ));
    }
    Class::Feed(feed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn classes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let ft = fs::symlink_metadata(&file).unwrap().file_type();
        let lt = fs::symlink_metadata(&link).unwrap().file_type();
        let dt = fs::symlink_metadata(dir.path()).unwrap().file_type();
        let c = |p: &str| classify(Path::new(p), ft);

        assert_eq!(c("admissions/a.csv"), Class::Feed(Feed::Admissions));
        assert_eq!(c("Admissions/a.CSV"), Class::Feed(Feed::Admissions));
        assert_eq!(c("MARRIAGES/a.NDJSON"), Class::Feed(Feed::Marriages));
        assert_eq!(c("burials/a.jsonl"), Class::Feed(Feed::Burials));
        for p in ["burials/.a.csv", "burials/a.csv.part", "burials/a.CSV.TMP", "a.crdownload", "x/a.filepart", ".b"] {
            assert_eq!(c(p), Class::InProgress, "{p}");
        }
        assert_eq!(c("burials/.sync/a.csv"), Class::Hidden);
        for p in ["a.csv", "other/a.csv", "burials/sub/a.csv", "burials/a.docx", "burials/a"] {
            assert!(matches!(c(p), Class::Unsorted(_)), "{p}");
        }
        assert_eq!(c("burials/a.XLSX"), Class::Feed(Feed::Burials));
        let Class::Unsorted(r) = c("burials/a.docx") else { unreachable!() };
        assert!(r.en.contains(".docx") && r.en.contains(".csv, .jsonl, .ndjson, .xlsx"), "{r}");
        assert!(matches!(classify(Path::new("burials/p"), dt), Class::Unsorted(_)));
        assert_eq!(classify(Path::new("burials/l.csv"), lt), Class::Symlink(Some(Feed::Burials)));
        assert_eq!(classify(Path::new("l.csv"), lt), Class::Symlink(None));
        assert_eq!(classify(Path::new("burials/x/l.csv"), lt), Class::Symlink(None));
        assert_eq!(classify(Path::new("admissions"), lt), Class::Symlink(None));
    }
}
