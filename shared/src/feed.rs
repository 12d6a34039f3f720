//! The three feeds, their columns and the header names they accept.
//!
//! A feed's columns have a canonical English name and a Chinese alias; a file may use either, in
//! any order. [`HeaderMap`] resolves a file's header row against a feed's columns.
//!
//! Each column also says what kind of text it holds ([`ColumnKind`]) and its longest accepted
//! value ([`Column::max_chars`], the values in [`limits`]): ids and names 64 characters, an origin
//! 200, a note 500, codes, words, times and numbers 16–64. These are far above any real value and
//! keep a runaway cell (a whole file pasted into one field) out of the store and the alerts.

use crate::reason::Reason;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the three inbox feeds; the inbox sub-folder names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Feed {
    /// 救助站事件: rescue-station arrivals, discharges and incidents.
    Admissions,
    /// 殡葬点位统计: burial-site counts.
    Burials,
    /// 婚姻登记: marriage-registration events.
    Marriages,
}

/// A column of a feed: canonical name, Chinese alias, whether every row must have it, what kind
/// of text it holds and the longest value accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Canonical name: the JSON key and the English header, e.g. `occurred_at`.
    pub name: &'static str,
    /// Chinese header alias accepted for the column, e.g. `发生时间`.
    pub zh: &'static str,
    /// Required on every row. Columns required only for some rows (e.g. `referral` on admits)
    /// are checked by validation.
    pub required: bool,
    /// What kind of text it holds.
    pub kind: ColumnKind,
    /// The longest value accepted, in characters (a Chinese character counts as one) after
    /// blanks around it are trimmed. Longer values reject the row.
    pub max_chars: usize,
}

/// What a column holds, which decides the character checks and ID-number protection applied to
/// every value before the column's own rules (see `validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A code, enumeration word, time, date or number: one line, checked by its own format.
    Code,
    /// An ID number column (`id_number`, `party_a_id`, `party_b_id`): one line; never stored in
    /// clear (masked form plus keyed hash).
    IdNumber,
    /// An identifier the source chooses (`record_id`, `person_ref`): one line. A valid ID number
    /// inside it is replaced by its masked form plus `#` and 8 hex digits of its keyed hash
    /// (`110105********002X#3fa01c7e`), so that the same number always gives the same stored
    /// value and two numbers with the same masked form stay apart.
    Identifier,
    /// Free text on one line (`name`, `bed`, `origin`): a valid ID number inside it is masked.
    Text,
    /// Free text that may span lines (`note`): a valid ID number inside it is masked.
    Note,
}

impl ColumnKind {
    /// Line breaks and tabs are allowed (only in notes).
    pub fn multiline(self) -> bool {
        self == ColumnKind::Note
    }

    /// Valid ID numbers inside the value are masked (free text and identifiers).
    pub fn masks_id_numbers(self) -> bool {
        matches!(self, ColumnKind::Identifier | ColumnKind::Text | ColumnKind::Note)
    }
}

/// Length limits, in characters (one place for all feeds; see each feed's table below).
pub mod limits {
    /// `record_id`, `person_ref`, registry codes (`station_id`, `site_id`, `office_id`).
    pub const ID: usize = 64;
    /// `name`.
    pub const NAME: usize = 64;
    /// `origin` (an address).
    pub const ORIGIN: usize = 200;
    /// `note`.
    pub const NOTE: usize = 500;
    /// Times and dates (`2026-03-01T08:30:00.123456+08:00` has 32).
    pub const TIME: usize = 40;
    /// Enumeration words (`divorce_withdrawal`, `撤回离婚申请`), `gender`, `counselling`.
    pub const WORD: usize = 32;
    /// `flags` (several words separated by `;`).
    pub const FLAGS: usize = 100;
    /// Whole numbers (`age`, counts such as `1,200,000`).
    pub const NUMBER: usize = 32;
    /// ID-number columns: 18 characters, with room to recognise what Excel made of them.
    pub const ID_NUMBER: usize = 32;
    /// `bed`.
    pub const BED: usize = 32;
    /// `party_a_hukou`, `party_b_hukou` (6-digit codes).
    pub const HUKOU: usize = 16;
}

const fn col(name: &'static str, zh: &'static str, required: bool, kind: ColumnKind, max_chars: usize) -> Column {
    Column { name, zh, required, kind, max_chars }
}

use limits::*;
use ColumnKind::{Code, Identifier, Note, Text};

const ADMISSIONS: &[Column] = &[
    col("record_id", "记录编号", true, Identifier, ID),
    col("station_id", "救助站编码", true, Code, ID),
    col("event", "事件类型", true, Code, WORD),
    col("occurred_at", "发生时间", true, Code, TIME),
    col("person_ref", "受助人编号", true, Identifier, ID),
    col("name", "姓名", false, Text, NAME),
    col("id_number", "身份证号", false, ColumnKind::IdNumber, ID_NUMBER),
    col("gender", "性别", false, Code, WORD),
    col("age", "年龄", false, Code, NUMBER),
    col("origin", "户籍地", false, Text, ORIGIN),
    col("referral", "来源", false, Code, WORD),
    col("flags", "特殊情况", false, Code, FLAGS),
    col("bed", "床位", false, Text, BED),
    col("discharge_reason", "离站原因", false, Code, WORD),
    col("incident_type", "异常类型", false, Code, WORD),
    col("note", "备注", false, Note, NOTE),
];

const BURIALS: &[Column] = &[
    col("record_id", "记录编号", true, Identifier, ID),
    col("site_id", "墓园编码", true, Code, ID),
    col("reported_on", "统计日期", true, Code, TIME),
    col("capacity_total", "总穴位", true, Code, NUMBER),
    col("occupied", "已用穴位", true, Code, NUMBER),
    col("new_interments", "本期安葬", false, Code, NUMBER),
    col("eco_interments", "节地生态安葬", false, Code, NUMBER),
    col("free_basic_services", "免费基本殡葬服务", false, Code, NUMBER),
    col("note", "备注", false, Note, NOTE),
];

const MARRIAGES: &[Column] = &[
    col("record_id", "记录编号", true, Identifier, ID),
    col("office_id", "登记机关编码", true, Code, ID),
    col("registered_at", "登记时间", true, Code, TIME),
    col("kind", "登记类型", true, Code, WORD),
    col("party_a_id", "当事人甲身份证号", false, ColumnKind::IdNumber, ID_NUMBER),
    col("party_b_id", "当事人乙身份证号", false, ColumnKind::IdNumber, ID_NUMBER),
    col("party_a_hukou", "当事人甲户籍地", false, Code, HUKOU),
    col("party_b_hukou", "当事人乙户籍地", false, Code, HUKOU),
    col("counselling", "婚姻辅导", false, Code, WORD),
];

impl Feed {
    /// The three feeds, in the order of SPEC §3 and of status's `records`.
    pub const ALL: [Feed; 3] = [Feed::Admissions, Feed::Burials, Feed::Marriages];

    /// The inbox sub-folder and export name: `admissions`, `burials`, `marriages`.
    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Admissions => "admissions",
            Feed::Burials => "burials",
            Feed::Marriages => "marriages",
        }
    }

    /// The feed's Chinese name, e.g. `救助站事件`.
    pub fn zh(self) -> &'static str {
        match self {
            Feed::Admissions => "救助站事件",
            Feed::Burials => "殡葬点位统计",
            Feed::Marriages => "婚姻登记",
        }
    }

    /// The feed named by an inbox sub-folder (case-insensitive).
    pub fn from_folder(name: &str) -> Option<Feed> {
        Feed::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(name))
    }

    /// The columns of this feed, in canonical order (the order of exports).
    pub fn columns(self) -> &'static [Column] {
        match self {
            Feed::Admissions => ADMISSIONS,
            Feed::Burials => BURIALS,
            Feed::Marriages => MARRIAGES,
        }
    }

    /// The index (in [`Feed::columns`]) of the column with this English or Chinese name.
    /// English names match case-insensitively; blanks and a UTF-8 BOM around the name are ignored.
    pub fn column_index(self, header: &str) -> Option<usize> {
        let h = header.trim_start_matches('\u{feff}').trim();
        self.columns().iter().position(|c| c.name.eq_ignore_ascii_case(h) || c.zh == h)
    }
}

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Feed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Feed::from_folder(s).ok_or_else(|| format!("unknown feed `{s}`: expected admissions, burials or marriages"))
    }
}

/// Where each of a feed's columns sits in a file's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// The feed whose columns these are.
    pub feed: Feed,
    /// For each column of the feed (canonical order), its position in the source row.
    pub positions: Vec<Option<usize>>,
    /// Header names that are not columns of the feed (ignored, reported once per file).
    pub unknown: Vec<String>,
    /// Required columns absent from the header (every row will be rejected for them).
    pub missing: Vec<&'static Column>,
}

/// Why a header row cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Not one header cell names a column of the feed.
    #[error("no known column in the header (expected e.g. {expected})")]
    NoKnownColumn {
        /// A few of the feed's column names, for the message.
        expected: String,
    },
    /// Two header cells name the same column.
    #[error("column `{name}` appears twice in the header (positions {first} and {second})")]
    DuplicateColumn {
        /// The column's canonical name.
        name: &'static str,
        /// Position of the first cell naming it, 0-based.
        first: usize,
        /// Position of the second cell naming it, 0-based.
        second: usize,
    },
}

impl HeaderError {
    /// The problem in words (Chinese and English), written to the file's reason file.
    pub fn reason(&self) -> Reason {
        match self {
            HeaderError::NoKnownColumn { expected } => Reason::new(
                format!("表头中没有可识别的列（应包含如 {expected}），请检查文件是否放错目录"),
                format!("no known column in the header (expected e.g. {expected}); check the file was dropped in the right folder"),
            ),
            HeaderError::DuplicateColumn { name, first, second } => Reason::new(
                format!("表头中列 {name} 出现两次（第 {} 列和第 {} 列），请删除其中一列", first + 1, second + 1),
                format!("column {name} appears twice in the header (columns {} and {}); remove one", first + 1, second + 1),
            ),
        }
    }
}

impl HeaderMap {
    /// Resolves a header row. Fails when no header names a column of the feed, or one names
    /// the same column twice.
    pub fn resolve<S: AsRef<str>>(feed: Feed, headers: &[S]) -> Result<HeaderMap, HeaderError> {
        let cols = feed.columns();
        let mut positions = vec![None; cols.len()];
        let mut unknown = Vec::new();
        for (pos, h) in headers.iter().enumerate() {
            let h = h.as_ref();
            match feed.column_index(h) {
                Some(i) => {
                    if let Some(first) = positions[i] {
                        return Err(HeaderError::DuplicateColumn { name: cols[i].name, first, second: pos });
                    }
                    positions[i] = Some(pos);
                }
                None => {
                    let t = h.trim_start_matches('\u{feff}').trim();
                    if !t.is_empty() {
                        unknown.push(t.to_string());
                    }
                }
            }
        }
        if positions.iter().all(Option::is_none) {
            let expected = cols
                .iter()
                .filter(|c| c.required)
                .map(|c| format!("{}/{}", c.name, c.zh))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(HeaderError::NoKnownColumn { expected });
        }
        let missing = cols.iter().zip(&positions).filter(|(c, p)| c.required && p.is_none()).map(|(c, _)| c).collect();
        Ok(HeaderMap { feed, positions, unknown, missing })
    }

    /// The reason every row is rejected when required columns are missing from the header.
    pub fn missing_reason(&self) -> Option<Reason> {
        if self.missing.is_empty() {
            return None;
        }
        let zh: Vec<String> = self.missing.iter().map(|c| format!("{}（{}）", c.zh, c.name)).collect();
        let en: Vec<&str> = self.missing.iter().map(|c| c.name).collect();
        Some(Reason::new(
            format!("表头缺少必填列：{}；请补上该列后重新放入", zh.join("、")),
            format!("the header lacks required column(s) {}; add them and drop the file again", en.join(", ")),
        ))
    }

    /// Picks this feed's values out of a source row, in canonical column order. Empty and
    /// all-blank cells become `None`.
    pub fn values<'r>(&self, row: &[&'r str]) -> Vec<Option<&'r str>> {
        self.positions
            .iter()
            .map(|p| p.and_then(|i| row.get(i).copied()).map(str::trim).filter(|s| !s.is_empty()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_and_english_headers_in_any_order() {
        let m = HeaderMap::resolve(
            Feed::Burials,
            &["\u{feff}统计日期", "SITE_ID", "记录编号", "总穴位", "occupied", "extra"],
        )
        .unwrap();
        assert_eq!(m.positions[0], Some(2));
        assert_eq!(m.positions[1], Some(1));
        assert_eq!(m.positions[2], Some(0));
        assert_eq!(m.unknown, vec!["extra".to_string()]);
        assert!(m.missing.is_empty());
        assert_eq!(
            m.values(&["2026-01-01", " C-SZ ", "r1", "", "3", "x"])[..5],
            [Some("r1"), Some("C-SZ"), Some("2026-01-01"), None, Some("3")]
        );
    }

    #[test]
    fn unknown_header_is_refused_and_duplicates_named() {
        assert!(matches!(HeaderMap::resolve(Feed::Marriages, &["a", "b"]), Err(HeaderError::NoKnownColumn { .. })));
        assert!(matches!(
            HeaderMap::resolve(Feed::Marriages, &["kind", "登记类型"]),
            Err(HeaderError::DuplicateColumn { name: "kind", first: 0, second: 1 })
        ));
        let m = HeaderMap::resolve(Feed::Admissions, &["record_id"]).unwrap();
        assert_eq!(m.missing.len(), 4);
    }

    #[test]
    fn every_chinese_alias_resolves() {
        for feed in Feed::ALL {
            for (i, c) in feed.columns().iter().enumerate() {
                assert_eq!(feed.column_index(c.zh), Some(i));
                assert_eq!(feed.column_index(&c.name.to_uppercase()), Some(i));
            }
        }
    }
}
