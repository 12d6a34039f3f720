//! Bad input of every kind a clerk, Excel or a broken export can produce (issue 7): each bad row
//! is rejected with a reason in Chinese and English that names what is wrong, each unreadable file
//! is quarantined with one, the good rows of the same files are stored, no ID number typed into a
//! free-text column is stored in clear, and the daemon never panics.
//!
//! `corpus_of_bad_input` is the table: one daemon, a few files, one entry per kind. The other
//! tests pin the items of the issue one by one (long fields, a stray NUL, ID numbers in free text,
//! Excel-mangled ID numbers, `mzd check` on a FIFO).

use mz_tests::{id_number, local_time_ago, mzd, walk, Daemon};
use serde_json::json;
use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const ADM_COLS: [&str; 16] = [
    "record_id",
    "station_id",
    "event",
    "occurred_at",
    "person_ref",
    "name",
    "id_number",
    "gender",
    "age",
    "origin",
    "referral",
    "flags",
    "bed",
    "discharge_reason",
    "incident_type",
    "note",
];
const BUR_COLS: [&str; 9] = [
    "record_id",
    "site_id",
    "reported_on",
    "capacity_total",
    "occupied",
    "new_interments",
    "eco_interments",
    "free_basic_services",
    "note",
];
const MAR_COLS: [&str; 9] = [
    "record_id",
    "office_id",
    "registered_at",
    "kind",
    "party_a_id",
    "party_b_id",
    "party_a_hukou",
    "party_b_hukou",
    "counselling",
];

fn hours_ago(hours: i64) -> String {
    local_time_ago(hours * 3600)[..16].to_string()
}

/// A CSV cell, quoted when it must be.
fn cell(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// A CSV line over `cols`: `base` then `over` (a name absent from both is empty).
fn line(cols: &[&str], base: &[(&str, String)], over: &[(&str, &str)]) -> String {
    cols.iter()
        .map(|c| {
            over.iter()
                .find(|(n, _)| n == c)
                .map(|(_, v)| v.to_string())
                .or_else(|| base.iter().find(|(n, _)| n == c).map(|(_, v)| v.clone()))
                .unwrap_or_default()
        })
        .map(|v| cell(&v))
        .collect::<Vec<_>>()
        .join(",")
}

/// One kind of bad row: the row's text in its file, and what its reason must say.
struct Bad {
    kind: &'static str,
    /// The record's text (CSV: one record, maybe with quoted line breaks; JSONL: one line).
    text: String,
    /// The record_id its rejects row shows (CSV) or `""` to skip that check.
    id: String,
    zh: &'static str,
    en: &'static str,
}

/// A file's records: good ones (stored) and bad ones (rejected).
enum Rec {
    Good(String),
    Bad(Bad),
}

/// Joins the records after `header` with LF; returns the text and each bad record's start line.
fn assemble(header: Option<&str>, recs: Vec<Rec>) -> (String, Vec<(u64, Bad)>) {
    let mut text = String::new();
    let mut at = 1u64;
    if let Some(h) = header {
        text.push_str(h);
        text.push('\n');
        at += 1;
    }
    let mut bad = Vec::new();
    for r in recs {
        let t = match &r {
            Rec::Good(t) => t.clone(),
            Rec::Bad(b) => b.text.clone(),
        };
        text.push_str(&t);
        text.push('\n');
        let lines = t.matches('\n').count() as u64 + 1;
        if let Rec::Bad(b) = r {
            bad.push((at, b));
        }
        at += lines;
    }
    (text, bad)
}

/// A rejects file's rows (UTF-8, a BOM tolerated). Rows keep the cells their source row had, so they
/// may be shorter or longer than the header (a row cut at 256 KB, a row with too few cells).
fn read_rejects(d: &Daemon, path: &Path) -> Vec<Vec<String>> {
    let bytes = fs::read(path).unwrap_or_else(|e| d.fail(&format!("cannot read {}: {e}", path.display())));
    let text = String::from_utf8(bytes).unwrap_or_else(|_| d.fail(&format!("{} is not UTF-8", path.display())));
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut r = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.unwrap_or_else(|e| d.fail(&format!("{}: bad CSV: {e}", path.display()))))
        .map(|rec| rec.iter().map(str::to_owned).collect())
        .collect()
}

/// Rows shortened for messages (cells of a megabyte make useless failure output).
fn short(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter().map(|r| r.iter().map(|c| c.chars().take(60).collect()).collect()).collect()
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Checks a `中文 | English` reason: both halves present, the Chinese half in Chinese, each
/// holding its expected words.
fn check_reason(d: &Daemon, what: &str, reason: &str, zh: &str, en: &str) {
    let Some((z, e)) = reason.split_once(" | ") else {
        d.fail(&format!("{what}: reason is not `中文 | English`: {reason:?}"));
    };
    if !has_chinese(z) || !z.contains(zh) || e.trim().is_empty() || !e.contains(en) {
        let reason: String = reason.chars().take(400).collect();
        d.fail(&format!("{what}: reason should say {zh:?} / {en:?}, got {reason:?}"));
    }
}

/// Asserts the rejects file of `feed/name` holds exactly the `bad` rows, at their lines, each
/// with the reason its kind expects; returns the number of kinds checked.
fn assert_bad_rows(d: &Daemon, feed: &str, name: &str, bad: &[(u64, Bad)], id_col: Option<usize>) -> usize {
    let path = d.rejects_path(feed, name);
    if !path.is_file() {
        d.fail(&format!("no rejects file {}; quarantine: {:?}", path.display(), walk(&d.data.join("quarantine"))));
    }
    let rows = read_rejects(d, &path);
    let got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap_or(0)).collect();
    let want: Vec<u64> = bad.iter().map(|(l, _)| *l).collect();
    if got != want {
        let kinds: Vec<(u64, &str)> = bad.iter().map(|(l, b)| (*l, b.kind)).collect();
        d.fail(&format!(
            "{feed}/{name}: rejected lines {got:?}, expected {want:?} for {kinds:?}\nrows: {:#?}",
            short(&rows)
        ));
    }
    for ((l, b), r) in bad.iter().zip(&rows) {
        check_reason(d, &format!("{feed}/{name} line {l} ({})", b.kind), &r[1], b.zh, b.en);
        if let Some(i) = id_col {
            if !b.id.is_empty() && r[2 + i] != b.id {
                d.fail(&format!(
                    "{feed}/{name} line {l} ({}): record_id cell {:?}, expected {:?}",
                    b.kind,
                    r[2 + i],
                    b.id
                ));
            }
        }
    }
    bad.len()
}

/// The reason of the one quarantined `name`, from its reason file, as `中文 | English`.
fn quarantine_reason(d: &Daemon, name: &str) -> String {
    let found: Vec<_> =
        walk(&d.data.join("quarantine")).into_iter().filter(|p| p.file_name().is_some_and(|n| n == name)).collect();
    if found.len() != 1 {
        d.fail(&format!("expected {name} in quarantine once, found {found:?}"));
    }
    let reason = found[0].with_file_name(format!("{name}.reason.txt"));
    let text = fs::read_to_string(&reason).unwrap_or_else(|e| d.fail(&format!("{}: {e}", reason.display())));
    let field = |prefix: &str| text.lines().find_map(|l| l.strip_prefix(prefix)).unwrap_or("").to_string();
    format!("{} | {}", field("原因："), field("Reason: "))
}

fn stored_ids(d: &Daemon, feed: &str) -> Vec<String> {
    let mut v: Vec<String> =
        d.export(feed).iter().map(|r| r["record_id"].as_str().unwrap_or("?").to_string()).collect();
    v.sort();
    v
}

fn assert_no_panic(d: &Daemon) {
    let log = fs::read_to_string(&d.log).unwrap_or_default();
    if log.contains("panicked") {
        d.fail("the daemon log holds \"panicked\"");
    }
}

macro_rules! bad {
    ($kind:expr, $text:expr, $id:expr, $zh:expr, $en:expr) => {
        Rec::Bad(Bad { kind: $kind, text: $text, id: $id.to_string(), zh: $zh, en: $en })
    };
}

/// The admissions rows of the corpus.
fn admissions_corpus() -> Vec<Rec> {
    let t = hours_ago(5);
    let base = |id: &str| -> Vec<(&'static str, String)> {
        vec![
            ("record_id", id.to_string()),
            ("station_id", "TZ-JZZ".into()),
            ("event", "admit".into()),
            ("occurred_at", t.clone()),
            ("person_ref", format!("P-{id}")),
            ("referral", "police".into()),
        ]
    };
    let a = |id: &str, over: &[(&str, &str)]| line(&ADM_COLS, &base(id), over);
    let good = |id: &str| Rec::Good(a(id, &[("name", "王五"), ("note", "多行\r\n备注")]));
    let man = id_number("110105", "19800101", 11, true);
    let newborn_later = id_number("110105", &"2099-01-01".replace('-', ""), 12, true);
    let long_note = "备".repeat(501);
    let long_origin = "河".repeat(201);
    let long_name = "王".repeat(65);
    let long_id = "R".repeat(1000);
    let huge_note = "x".repeat(1_000_000);
    let mut repeated_header = ADM_COLS.join(",");
    repeated_header.insert(0, '\u{feff}');
    vec![
        good("OK-A1"),
        bad!(
            "record_id over its 64-character limit",
            a(&long_id, &[]),
            long_id,
            "记录编号：内容过长（1000 个字符），此列最多 64",
            "record_id: too long (1000 characters); at most 64"
        ),
        bad!(
            "name over 64 characters",
            a("B-NAME", &[("name", &long_name)]),
            "B-NAME",
            "姓名：内容过长",
            "name: too long"
        ),
        bad!(
            "origin over 200 characters",
            a("B-ORIG", &[("origin", &long_origin)]),
            "B-ORIG",
            "户籍地：内容过长",
            "at most 200"
        ),
        bad!(
            "note over 500 characters",
            a("B-NOTE", &[("note", &long_note)]),
            "B-NOTE",
            "备注：内容过长（501 个字符）",
            "note: too long (501 characters); at most 500"
        ),
        bad!(
            "a 1 MB cell: the row is cut unread",
            a("B-HUGE", &[("note", &huge_note)]),
            "B-HUGE",
            "此行超过 256 KB",
            "longer than 256 KB"
        ),
        good("OK-A2"),
        bad!(
            "NUL byte in a name",
            a("B-NUL", &[("name", "张\u{0}三")]),
            "B-NUL",
            "姓名：第 2 个字符是 NUL",
            "name: contains a NUL control character"
        ),
        bad!(
            "bell control character in a note",
            a("B-BEL", &[("note", "铃\u{7}")]),
            "B-BEL",
            "控制字符 U+0007",
            "control character U+0007"
        ),
        bad!(
            "C1 control character (NEL) in origin",
            a("B-NEL", &[("origin", "河\u{85}北")]),
            "B-NEL",
            "U+0085",
            "control character U+0085"
        ),
        bad!("DEL character in bed", a("B-DEL", &[("bed", "3\u{7f}")]), "B-DEL", "床位：", "U+007F"),
        bad!(
            "line break inside person_ref",
            a("B-LF", &[("person_ref", "P-\n1")]),
            "B-LF",
            "受助人编号：第 3 个字符是换行符",
            "person_ref: contains a line break"
        ),
        bad!("tab inside record_id", a("B\tTAB", &[]), "B\tTAB", "制表符", "record_id: contains a tab"),
        bad!("BOM in the middle of a cell", a("B-\u{feff}BOM", &[]), "B-\u{feff}BOM", "BOM 字符", "byte-order mark"),
        bad!(
            "a second header with BOM (two files pasted together)",
            repeated_header,
            "\u{feff}record_id",
            "BOM",
            "byte-order mark"
        ),
        bad!(
            "replacement character from a broken conversion",
            a("B-FFFD", &[("name", "张\u{fffd}")]),
            "B-FFFD",
            "替换字符",
            "replacement character"
        ),
        good("OK-A3"),
        bad!(
            "ID number in Excel scientific notation",
            a("B-SCI", &[("id_number", "1.10105E+17")]),
            "B-SCI",
            "科学计数法",
            "Excel converted the ID number to a number"
        ),
        bad!(
            "ID number with Excel's trailing .0",
            a("B-DOT0", &[("id_number", &format!("{man}.0"))]),
            "B-DOT0",
            "Excel（或其他软件）",
            "format the column as Text"
        ),
        bad!(
            "ID number with a leading apostrophe",
            a("B-APOS", &[("id_number", &format!("'{man}"))]),
            "B-APOS",
            "单引号",
            "starts with an apostrophe"
        ),
        bad!(
            "ID number with spaces inside",
            a("B-SPACE", &[("id_number", &format!("{} {} {}", &man[..6], &man[6..14], &man[14..]))]),
            "B-SPACE",
            "空格",
            "spaces inside the number"
        ),
        bad!(
            "ID number whose last 3 digits Excel zeroed",
            a("B-000", &[("id_number", "110105199001011000")]),
            "B-000",
            "15 位有效数字",
            "Excel keeps only 15 significant digits"
        ),
        bad!(
            "ID number of 17 characters",
            a("B-LEN", &[("id_number", &man[..17])]),
            "B-LEN",
            "长度为 17 位",
            "has 17 characters"
        ),
        bad!(
            "old 15-digit ID number",
            a("B-15", &[("id_number", "110105800101113")]),
            "B-15",
            "15 位旧号码",
            "15-digit"
        ),
        bad!(
            "letter inside an ID number",
            a("B-LETTER", &[("id_number", &format!("{}A{}", &man[..14], &man[15..]))]),
            "B-LETTER",
            "第 15 位是“A”",
            "character 15 is \"A\""
        ),
        bad!(
            "ID number with an impossible birth date",
            a("B-BIRTH", &[("id_number", "110105194902300021")]),
            "B-BIRTH",
            "1949-02-30 不存在",
            "does not exist"
        ),
        bad!(
            "ID number born after the event",
            a("B-UNBORN", &[("id_number", &newborn_later)]),
            "B-UNBORN",
            "尚未出生",
            "after occurred_at"
        ),
        bad!("age over 130", a("B-AGE131", &[("age", "131")]), "B-AGE131", "年龄：", "age: 131 is out of range"),
        bad!("negative age", a("B-AGENEG", &[("age", "-1")]), "B-AGENEG", "超出范围", "out of range"),
        bad!("age with text", a("B-AGETXT", &[("age", "三十")]), "B-AGETXT", "不是数字", "is not a number"),
        bad!("fractional age", a("B-AGEFRAC", &[("age", "35.5")]), "B-AGEFRAC", "不是整数", "not a whole number"),
        bad!(
            "unknown gender",
            a("B-GENDER", &[("gender", "M")]),
            "B-GENDER",
            "性别：",
            "gender: \"M\" is not a known value"
        ),
        bad!(
            "unknown referral",
            a("B-REFERRAL", &[("referral", "walk-in")]),
            "B-REFERRAL",
            "来源：",
            "referral: \"walk-in\" is not a known value"
        ),
        bad!(
            "unknown flag",
            a("B-FLAG", &[("flags", "ill;drunk")]),
            "B-FLAG",
            "不是可识别的特殊情况",
            "\"drunk\" is not a known flag"
        ),
        bad!(
            "discharge without discharge_reason",
            a("B-DISREQ", &[("event", "discharge"), ("referral", "")]),
            "B-DISREQ",
            "事件类型为离站时必填",
            "required when event is discharge"
        ),
        bad!(
            "unknown discharge_reason",
            a("B-DISBAD", &[("event", "discharge"), ("referral", ""), ("discharge_reason", "escaped")]),
            "B-DISBAD",
            "离站原因：",
            "\"escaped\" is not a known value"
        ),
        bad!(
            "incident without incident_type",
            a("B-INCREQ", &[("event", "incident"), ("referral", "")]),
            "B-INCREQ",
            "事件类型为异常时必填",
            "required when event is incident"
        ),
        bad!(
            "unknown incident_type",
            a("B-INCBAD", &[("event", "incident"), ("referral", ""), ("incident_type", "fire")]),
            "B-INCBAD",
            "异常类型：",
            "\"fire\" is not a known value"
        ),
        bad!(
            "a date where a time is required",
            a("B-DATEONLY", &[("occurred_at", "2026-03-01")]),
            "B-DATEONLY",
            "不是有效的时间",
            "is not a valid time"
        ),
        bad!(
            "30 February in a time",
            a("B-FEB30", &[("occurred_at", "2026-02-30 08:00")]),
            "B-FEB30",
            "不是有效的时间",
            "\"2026-02-30 08:00\" is not a valid time"
        ),
        bad!(
            "required cell of blanks only",
            a("B-BLANK", &[("person_ref", "   ")]),
            "B-BLANK",
            "受助人编号：必填",
            "person_ref: required"
        ),
        bad!(
            "ID number typed into station_id",
            a("B-IDSTN", &[("station_id", &man)]),
            "B-IDSTN",
            "不在登记表中",
            "is not a station in the registry"
        ),
        bad!(
            "row with too few cells",
            "B-FEW,TZ-JZZ,admit".to_string(),
            "B-FEW",
            "此行有 3 个单元格，表头有 16 列",
            "row has 3 cells but the header has 16 columns"
        ),
        bad!(
            "row with too many cells",
            format!("{},extra", a("B-MANY", &[])),
            "B-MANY",
            "此行有 17 个单元格",
            "row has 17 cells"
        ),
        good("OK-A4"),
    ]
}

/// The burials rows of the corpus.
fn burials_corpus() -> Vec<Rec> {
    let base = |id: &str| -> Vec<(&'static str, String)> {
        vec![
            ("record_id", id.to_string()),
            ("site_id", "C-HX".into()),
            ("reported_on", "2026-10-31".into()),
            ("capacity_total", "600".into()),
            ("occupied", "200".into()),
        ]
    };
    let b = |id: &str, over: &[(&str, &str)]| line(&BUR_COLS, &base(id), over);
    vec![
        Rec::Good(b("BOK-1", &[("new_interments", "5"), ("eco_interments", "5")])),
        bad!("negative capacity", b("BB-NEG", &[("capacity_total", "-5")]), "BB-NEG", "总穴位：", "\"-5\" is negative"),
        bad!(
            "count with a unit",
            b("BB-UNIT", &[("occupied", "200穴")]),
            "BB-UNIT",
            "已用穴位：",
            "\"200穴\" is not a number"
        ),
        bad!(
            "fractional count",
            b("BB-FRAC", &[("capacity_total", "600.5")]),
            "BB-FRAC",
            "不是整数",
            "not a whole number"
        ),
        bad!(
            "count beyond 4294967295",
            b("BB-BIG", &[("capacity_total", "4294967296")]),
            "BB-BIG",
            "过大",
            "too large"
        ),
        bad!(
            "misplaced thousands separator",
            b("BB-COMMA", &[("capacity_total", "6,00")]),
            "BB-COMMA",
            "不是数字",
            "\"6,00\" is not a number"
        ),
        bad!(
            "text in new_interments",
            b("BB-NEWTXT", &[("new_interments", "abc")]),
            "BB-NEWTXT",
            "本期安葬：",
            "new_interments: \"abc\" is not a number"
        ),
        bad!(
            "negative free_basic_services",
            b("BB-FREE", &[("free_basic_services", "-1")]),
            "BB-FREE",
            "免费基本殡葬服务：",
            "is negative"
        ),
        bad!(
            "a time where a date is required",
            b("BB-TIME", &[("reported_on", "2026-10-31 08:00")]),
            "BB-TIME",
            "不是有效的日期",
            "is not a valid date"
        ),
        Rec::Good(b("BOK-2", &[("note", "正常")])),
    ]
}

/// The marriages rows of the corpus.
fn marriages_corpus() -> Vec<Rec> {
    let a = id_number("110112", "19900101", 61, true);
    let b = id_number("110112", "19920101", 62, false);
    let base = |id: &str| -> Vec<(&'static str, String)> {
        vec![
            ("record_id", id.to_string()),
            ("office_id", "M-TZ".into()),
            ("registered_at", "2026-10-10 10:00".into()),
            ("kind", "marriage".into()),
            ("party_a_id", a.clone()),
            ("party_b_id", b.clone()),
        ]
    };
    let m = |id: &str, over: &[(&str, &str)]| line(&MAR_COLS, &base(id), over);
    let girl = id_number("110112", "20070101", 63, false); // 19 on 2026-10-10
    vec![
        bad!(
            "unknown counselling value",
            m("MB-COUNS", &[("counselling", "maybe")]),
            "MB-COUNS",
            "婚姻辅导：",
            "is not yes or no"
        ),
        bad!(
            "hour 25 in a time",
            m("MB-HOUR", &[("registered_at", "2026-10-10 25:00")]),
            "MB-HOUR",
            "不是有效的时间",
            "is not a valid time"
        ),
        bad!(
            "woman under 20 marrying",
            m("MB-GIRL", &[("party_b_id", &girl)]),
            "MB-GIRL",
            "当事人乙未达法定婚龄（女 20 周岁）",
            "party_b is under the legal marriage age (20 for a woman)"
        ),
        bad!(
            "party ID in scientific notation",
            m("MB-SCI", &[("party_a_id", "1.10112E+17")]),
            "MB-SCI",
            "当事人甲身份证号：",
            "party_a_id: \"1.10112E+17\" is scientific notation"
        ),
        Rec::Good(m("MOK-1", &[("counselling", "否")])),
    ]
}

/// JSONL lines of the corpus (burials).
fn jsonl_corpus() -> Vec<Rec> {
    let ok = |id: &str| {
        json!({"record_id": id, "site_id": "C-TH", "reported_on": "2026-10-30", "capacity_total": 500, "occupied": 100})
            .to_string()
    };
    vec![
        Rec::Good(ok("JOK-1")),
        bad!("a line that is not JSON", "record_id=J1; site C-TH".to_string(), "", "不是 JSON 对象", "not a JSON object"),
        bad!("a JSON array instead of an object", "[\"J2\",\"C-TH\"]".to_string(), "", "不是 JSON 对象", "not a JSON object"),
        bad!("JSON object with trailing text", format!("{} trailing", ok("J3")), "", "不是 JSON 对象", "not a JSON object"),
        bad!("nested object as a value", json!({"record_id": "J4", "site_id": {"id": "C-TH"}, "reported_on": "2026-10-30", "capacity_total": 1, "occupied": 1}).to_string(), "", "site_id 的值是数组或对象", "field site_id holds an array or an object"),
        bad!("array as a value", json!({"record_id": "J5", "site_id": "C-TH", "reported_on": "2026-10-30", "capacity_total": [500], "occupied": 1}).to_string(), "", "capacity_total 的值是数组或对象", "capacity_total holds an array"),
        bad!("boolean where a count is required", json!({"record_id": "J6", "site_id": "C-TH", "reported_on": "2026-10-30", "capacity_total": true, "occupied": 1}).to_string(), "", "总穴位：", "\"true\" is not a number"),
        bad!("null for a required field", json!({"record_id": "J7", "site_id": null, "reported_on": "2026-10-30", "capacity_total": 5, "occupied": 1}).to_string(), "", "墓园编码：必填", "site_id: required"),
        bad!("the same field by English and Chinese name", "{\"record_id\":\"J8\",\"记录编号\":\"J8\",\"site_id\":\"C-TH\"}".to_string(), "", "出现两次", "appears twice"),
        bad!("raw NUL byte in a JSON string", format!("{{\"record_id\":\"J9\u{0}\",\"site_id\":\"C-TH\",\"reported_on\":\"2026-10-30\",\"capacity_total\":5,\"occupied\":1}}"), "", "控制字符", "control character"),
        bad!("escaped \\u0000 in a JSON string", "{\"record_id\":\"J10\",\"site_id\":\"C-TH\",\"reported_on\":\"2026-10-30\",\"capacity_total\":5,\"occupied\":1,\"note\":\"a\\u0000b\"}".to_string(), "", "NUL", "note: contains a NUL control character"),
        bad!("JSON number with a fraction for a count", json!({"record_id": "J11", "site_id": "C-TH", "reported_on": "2026-10-30", "capacity_total": 12.5, "occupied": 1}).to_string(), "", "不是整数", "not a whole number"),
        Rec::Good(ok("JOK-2")),
    ]
}

/// Whole files that are quarantined: (kind, feed, name, bytes, zh, en).
type WholeFile = (&'static str, &'static str, &'static str, Vec<u8>, &'static str, &'static str);

fn quarantined_files() -> Vec<WholeFile> {
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "record_id,site_id\nr1,C-TH\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let gbk_jsonl = mz_tests::gbk("{\"记录编号\":\"甲\",\"墓园编码\":\"C-TH\"}\n");
    vec![
        (
            "PNG image renamed .csv",
            "admissions",
            "photo.csv",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10".to_vec(),
            "PNG 图片",
            "a PNG image",
        ),
        (
            "ZIP (xlsx) renamed .csv",
            "burials",
            "book.csv",
            b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0[Content_Types].xml".to_vec(),
            "ZIP 压缩包",
            "a ZIP archive",
        ),
        ("UTF-16 text", "burials", "utf16.csv", utf16, "UTF-16", "UTF-16 text"),
        (
            "JSONL whose first line is not JSON",
            "burials",
            "notjson.jsonl",
            b"record_id,site_id\nr1,C-TH\n".to_vec(),
            "不是 JSON 对象",
            "line 1 is not a JSON object",
        ),
        ("JSONL in GBK", "burials", "gbk.jsonl", gbk_jsonl, "必须是 UTF-8", "JSONL must be UTF-8"),
        (
            "the same column twice in the header",
            "marriages",
            "dupcol.csv",
            "kind,登记类型\nmarriage,结婚\n".as_bytes().to_vec(),
            "出现两次",
            "appears twice",
        ),
        ("only blank lines", "marriages", "blank.csv", b"\r\n\n\n".to_vec(), "没有表头行", "no header line"),
    ]
}

#[test]
fn corpus_of_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut kinds = 0usize;

    let (adm, adm_bad) = assemble(Some(&ADM_COLS.join(",")), admissions_corpus());
    let (bur, bur_bad) = assemble(Some(&BUR_COLS.join(",")), burials_corpus());
    let (mar, mar_bad) = assemble(Some(&MAR_COLS.join(",")), marriages_corpus());
    let (jsonl, jsonl_bad) = assemble(None, jsonl_corpus());
    d.drop_file("admissions", "adm.csv", &adm);
    d.drop_file("burials", "bur.csv", &bur);
    d.drop_file("marriages", "mar.csv", &mar);
    d.drop_file("burials", "bur.jsonl", &jsonl);

    // Files with one problem each.
    let t = hours_ago(4);
    let lone_quote = format!(
        "record_id,station_id,event,occurred_at,person_ref,referral,note\nLQ-OK,TZ-JZZ,admit,{t},P-LQ1,self,\nLQ-BAD,TZ-JZZ,admit,{t},P-LQ2,self,\"open\nLQ-LOST,TZ-JZZ,admit,{t},P-LQ3,self,\n"
    );
    d.drop_file("admissions", "lonequote.csv", &lone_quote);
    let mixed = format!(
        "record_id,station_id,event,occurred_at,person_ref,referral\r\nMX-1,TZ-JZZ,admit,{t},P-MX1,self\nMX-2,TZ-JZZ,admit,{t},P-MX2,self\r\nMX-BAD,TZ-JZZ,admit,{t},P-MX3,nobody\nMX-3,TZ-JZZ,admit,{t},P-MX4,self\r\n"
    );
    d.drop_file("admissions", "mixed.csv", &mixed);
    d.drop_file("marriages", "header-only.csv", MAR_COLS.join(",") + "\r\n");
    let no_kind = "record_id,office_id,registered_at\nNK-1,M-TZ,2026-10-10 10:00\n";
    d.drop_file("marriages", "missing-column.csv", no_kind);
    let whole = quarantined_files();
    for (_, feed, name, bytes, _, _) in &whole {
        d.drop_file(feed, name, bytes);
    }
    let files = 4 + 4 + whole.len() as u64;
    let s = d.wait_files(files);
    d.expect(&s, &[("/files/ingested", json!(8)), ("/files/quarantined", json!(whole.len()))]);

    kinds += assert_bad_rows(&d, "admissions", "adm.csv", &adm_bad, Some(0));
    kinds += assert_bad_rows(&d, "burials", "bur.csv", &bur_bad, Some(0));
    kinds += assert_bad_rows(&d, "marriages", "mar.csv", &mar_bad, Some(0));
    kinds += assert_bad_rows(&d, "burials", "bur.jsonl", &jsonl_bad, None);

    // A quote never closed: the row is named, the rows before it are stored.
    let rows = read_rejects(&d, &d.rejects_path("admissions", "lonequote.csv"));
    assert_eq!(rows.len(), 1, "{:?}", short(&rows));
    assert_eq!((rows[0][0].as_str(), rows[0][2].as_str()), ("3", "LQ-BAD"));
    check_reason(&d, "lone quote", &rows[0][1], "引号", "never closed");
    kinds += 1;
    // CRLF and LF mixed: every row read, the bad one at its line.
    let rows = read_rejects(&d, &d.rejects_path("admissions", "mixed.csv"));
    assert_eq!(rows.iter().map(|r| (r[0].as_str(), r[2].as_str())).collect::<Vec<_>>(), [("4", "MX-BAD")]);
    check_reason(&d, "mixed line endings", &rows[0][1], "来源：", "\"nobody\" is not a known value");
    kinds += 1;
    // A header and no rows: archived, nothing rejected.
    assert!(!d.rejects_path("marriages", "header-only.csv").exists());
    assert!(walk(&d.archive_dir("marriages")).iter().any(|p| p.ends_with("header-only.csv")));
    kinds += 1;
    // A required column missing from the header: every row rejected, saying which.
    let rows = read_rejects(&d, &d.rejects_path("marriages", "missing-column.csv"));
    assert_eq!(rows.len(), 1);
    check_reason(
        &d,
        "missing column",
        &rows[0][1],
        "表头缺少必填列：登记类型（kind）",
        "lacks required column(s) kind",
    );
    kinds += 1;
    for (kind, _, name, _, zh, en) in &whole {
        let reason = quarantine_reason(&d, name);
        check_reason(&d, kind, &reason, zh, en);
        kinds += 1;
    }

    // The good rows of every file are stored, and nothing else.
    assert_eq!(
        stored_ids(&d, "admissions"),
        ["LQ-OK", "MX-1", "MX-2", "MX-3", "OK-A1", "OK-A2", "OK-A3", "OK-A4"],
        "admissions stored"
    );
    assert_eq!(stored_ids(&d, "burials"), ["BOK-1", "BOK-2", "JOK-1", "JOK-2"]);
    assert_eq!(stored_ids(&d, "marriages"), ["MOK-1"]);
    assert_eq!(d.exported("admissions", "OK-A2")["note"], json!("多行\r\n备注"));
    assert_no_panic(&d);
    eprintln!("bad-input kinds checked: {kinds}");
    assert!(kinds >= 50, "only {kinds} kinds of bad input");
}

/// Item 1: no field is stored beyond its limit, and a huge cell is not read into memory.
#[test]
fn long_fields_are_rejected_not_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let t = hours_ago(2);
    let mb_id = "R".repeat(1 << 20);
    let text = format!(
        "record_id,station_id,event,occurred_at,person_ref,referral,note\nL-OK,TZ-JZZ,admit,{t},P-1,self,ok\n{mb_id},TZ-JZZ,admit,{t},P-2,self,\nL-NOTE,TZ-JZZ,admit,{t},P-3,self,{}\nL-REF,TZ-JZZ,admit,{t},{},self,\n",
        "注".repeat(600),
        "P".repeat(65)
    );
    d.drop_file("admissions", "long.csv", &text);
    let s = d.wait_files(1);
    d.expect(&s, &[("/records/admissions", json!(1)), ("/rejected_rows/admissions", json!(3))]);
    let rows = read_rejects(&d, &d.rejects_path("admissions", "long.csv"));
    let lines: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(lines, ["3", "4", "5"]);
    check_reason(&d, "1 MB record_id", &rows[0][1], "此行超过 256 KB", "longer than 256 KB");
    assert_eq!(rows[0][2], format!("{}…", "R".repeat(1000)), "the rejects file keeps only the cell's start");
    check_reason(&d, "600-character note", &rows[1][1], "备注：内容过长（600 个字符），此列最多 500", "at most 500");
    check_reason(
        &d,
        "65-character person_ref",
        &rows[2][1],
        "受助人编号：内容过长",
        "person_ref: too long (65 characters); at most 64",
    );
    assert_eq!(stored_ids(&d, "admissions"), ["L-OK"]);
    assert_no_panic(&d);
}

/// Item 2: one NUL rejects its row; the file's other rows are stored. A real binary file is
/// still quarantined whole.
#[test]
fn a_nul_byte_rejects_its_row_not_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let t = hours_ago(2);
    let text = format!(
        "record_id,station_id,event,occurred_at,person_ref,name,referral\nN-1,TZ-JZZ,admit,{t},P-1,张三,self\nN-2,TZ-JZZ,admit,{t},P-2,李\0四,self\nN-3,TZ-JZZ,admit,{t},P-3,王五,self\n"
    );
    d.drop_file("admissions", "nul.csv", &text);
    d.drop_file("admissions", "real.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0");
    let s = d.wait_files(2);
    d.expect(
        &s,
        &[
            ("/files/ingested", json!(1)),
            ("/files/quarantined", json!(1)),
            ("/records/admissions", json!(2)),
            ("/rejected_rows/admissions", json!(1)),
        ],
    );
    let rows = read_rejects(&d, &d.rejects_path("admissions", "nul.csv"));
    assert_eq!((rows.len(), rows[0][0].as_str(), rows[0][2].as_str()), (1, "3", "N-2"));
    check_reason(&d, "NUL in name", &rows[0][1], "姓名：第 2 个字符是 NUL", "name: contains a NUL control character");
    assert_eq!(rows[0][2 + 5], "李\u{2400}四", "the NUL is shown, not written, in the rejects file");
    assert_eq!(stored_ids(&d, "admissions"), ["N-1", "N-3"]);
    check_reason(&d, "PNG", &quarantine_reason(&d, "real.csv"), "PNG 图片", "a PNG image");
    assert_no_panic(&d);
}

/// Two valid ID numbers with the same masked form (same first 6 and last 4 characters).
fn twins() -> (String, String) {
    let a = id_number("110105", "19800101", 21, true);
    for day in 2..=28 {
        let b = id_number("110105", &format!("198001{day:02}"), 21, true);
        if b[14..] == a[14..] {
            return (a, b);
        }
    }
    panic!("no two birth dates in January 1980 share a check digit");
}

/// Item 3: ID numbers typed into person_ref, name, origin, bed or note are never stored, exported
/// or alerted in clear; a person_ref that is an ID number still links admit and discharge, and
/// two numbers with the same masked form stay two people.
#[test]
fn id_numbers_in_free_text_are_masked_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    // An officer: a viewer would see every name masked, which is not what is tested here.
    let d = Daemon::start_with_registry(tmp.path(), &mz_tests::registry_as("officer"));
    let (a, b) = twins();
    let c = id_number("110105", "19700101", 31, false);
    let (t1, t2, t3) = (hours_ago(6), hours_ago(5), hours_ago(4));
    let text = format!(
        "record_id,station_id,event,occurred_at,person_ref,name,origin,referral,bed,discharge_reason,incident_type,note\n\
         I-1,TZ-JZZ,admit,{t1},{a},张三{a},河北 {c},police,{c},,,身份证：{c}\n\
         I-2,TZ-JZZ,admit,{t1},{b},李四,,self,,,,\n\
         I-3,TZ-JZZ,incident,{t2},{a},,,,,,injury,伤者 {a}\n\
         I-4,TZ-JZZ,discharge,{t3},{},,,,,home,,\n",
        a.to_lowercase()
    );
    d.drop_file("admissions", "ids.csv", &text);
    let s = d.wait_files(1);
    d.expect(&s, &[("/records/admissions", json!(4)), ("/rejected_rows/admissions", json!(0))]);
    // a admitted then discharged (the lower-case x is the same person), b still there.
    d.expect_station(&s, "TZ-JZZ", 1);

    let export = d.export_raw("admissions", "jsonl") + &d.export_raw("admissions", "csv");
    let alerts = mzd().args(["alert", "list", "--json", "--socket"]).arg(&d.socket).output().unwrap();
    let alerts = String::from_utf8_lossy(&alerts.stdout).into_owned();
    assert!(alerts.contains("incident"), "an incident alert is raised: {alerts}");
    for id in [&a, &b, &c] {
        for (what, text) in [("export", &export), ("alerts", &alerts)] {
            if text.contains(id.as_str()) || text.contains(&id.to_lowercase()) {
                d.fail(&format!("{what} holds an ID number in clear:\n{text}"));
            }
        }
    }
    let first = d.exported("admissions", "I-1");
    let pa = first["person_ref"].as_str().unwrap().to_string();
    assert!(pa.starts_with(&format!("{}#", mz_tests::masked(&a))) && pa.len() == 27, "{pa}");
    let pb = d.exported("admissions", "I-2")["person_ref"].as_str().unwrap().to_string();
    assert_ne!(pa, pb, "two ID numbers with the same masked form are two people");
    assert_eq!(d.exported("admissions", "I-4")["person_ref"].as_str(), Some(pa.as_str()));
    assert_eq!(first["name"], json!(format!("张三{}", mz_tests::masked(&a))));
    assert_eq!(first["origin"], json!(format!("河北 {}", mz_tests::masked(&c))));
    assert_eq!(first["bed"], json!(mz_tests::masked(&c)));
    assert_eq!(first["note"], json!(format!("身份证：{}", mz_tests::masked(&c))));
    assert_no_panic(&d);
}

/// Item 4: what Excel and input methods make of ID numbers.
#[test]
fn excel_mangled_id_numbers_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let t = hours_ago(2);
    let id = id_number("110105", "19850505", 41, true);
    let full: String =
        id.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or('Ｘ')).collect();
    let rows = [
        ("E-SCI", "1.10105E+17".to_string()),
        ("E-DOT", format!("{id}.0")),
        ("E-APOS", format!("'{id}")),
        ("E-SPACE", format!("{} {}", &id[..6], &id[6..])),
        ("E-FULL", full),
    ];
    let mut text = String::from("record_id,station_id,event,occurred_at,person_ref,id_number,referral\n");
    for (i, (rid, v)) in rows.iter().enumerate() {
        text.push_str(&format!("{rid},TZ-JZZ,admit,{t},P-{i},{},self\n", cell(v)));
    }
    d.drop_file("admissions", "excel.csv", &text);
    let s = d.wait_files(1);
    d.expect(&s, &[("/records/admissions", json!(1)), ("/rejected_rows/admissions", json!(4))]);
    let got = read_rejects(&d, &d.rejects_path("admissions", "excel.csv"));
    let want = [
        ("E-SCI", "科学计数法", "Excel converted the ID number to a number"),
        ("E-DOT", "设置为“文本”格式", "format the column as Text"),
        ("E-APOS", "单引号", "Excel's way of typing a number as text"),
        ("E-SPACE", "输入法", "input method"),
    ];
    assert_eq!(got.len(), want.len());
    for (r, (rid, zh, en)) in got.iter().zip(want) {
        assert_eq!(r[2], rid);
        check_reason(&d, rid, &r[1], zh, en);
        check_reason(&d, rid, &r[1], "身份证号：", "id_number: ");
    }
    // Full-width digits from a Chinese input method are the same number.
    assert_eq!(d.exported("admissions", "E-FULL")["id_number"], json!(mz_tests::masked(&id)));
    assert_no_panic(&d);
}

/// Runs `mzd check PATH --feed admissions` with a 10 s limit: (exit code, stderr).
fn check_with_timeout(dir: &Path, path: &Path) -> (Option<i32>, String) {
    let mut child = mzd()
        .current_dir(dir)
        .args(["check", "--feed", "admissions"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (st.code(), err);
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`mzd check {}` still runs after 10 s", path.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Item 5: `mzd check` refuses what is not a regular file, at once, with exit 1.
#[test]
fn check_refuses_fifos_devices_sockets_and_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("x.csv");
    mz_tests::sys::mkfifo(&fifo).expect("mkfifo");
    let sock = tmp.path().join("s.csv");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let dir = tmp.path().join("d.csv");
    fs::create_dir(&dir).unwrap();
    for (path, what) in [
        (fifo.as_path(), "FIFO"),
        (Path::new("/dev/zero"), "device"),
        (sock.as_path(), "socket"),
        (dir.as_path(), "directory"),
    ] {
        let (code, err) = check_with_timeout(tmp.path(), path);
        assert_eq!(code, Some(1), "{}: {err}", path.display());
        assert!(err.contains(what) && err.contains("not a regular file"), "{}: {err}", path.display());
    }
    // A regular file is still checked.
    let ok = tmp.path().join("ok.csv");
    fs::write(
        &ok,
        format!(
            "record_id,station_id,event,occurred_at,person_ref,referral\nC-1,TZ-JZZ,admit,{},P-1,self\n",
            hours_ago(1)
        ),
    )
    .unwrap();
    assert_eq!(check_with_timeout(tmp.path(), &ok).0, Some(0));
}

/// The helpers can fail: a reason without its English half, or with other words, is refused.
#[test]
#[should_panic(expected = "reason should say")]
fn check_reason_can_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::prepare(tmp.path());
    check_reason(&d, "self-test", "姓名：内容过长 | name: too long", "姓名", "at most 64");
}
