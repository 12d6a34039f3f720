//! Turning one raw row of a feed into a typed [`Record`], or a reason a clerk understands.
//!
//! This module checks everything that can be decided from the row and the registry alone:
//! required columns, formats, enumerations, ID numbers, ages, legal marriage age, registry
//! references. Checks that depend on what is already stored (is this person admitted here?)
//! belong to the daemon's rules.
//!
//! Before the rules of its feed, every cell passes the checks of its column's kind
//! ([`crate::feed::ColumnKind`]): its length limit, no control character (NUL included), no
//! byte-order mark or replacement character, and no line break or tab outside a note. Valid ID
//! numbers typed into free text or identifiers never reach the store in clear (see
//! [`crate::id_number::protect_id_numbers_in`]). ID-number columns recognise what Excel or an
//! input method made of a number (`1.10105E+17`, `…1234.0`, a leading `'`, spaces inside) and say
//! how to fix it; full-width digits are taken as digits.

use crate::feed::{Column, Feed};
use crate::id_number::{protect_id_numbers_in, redact_id_numbers, IdHasher, IdNumber, IdNumberError, ProtectedId, Sex};
use crate::reason::Reason;
use crate::records::{
    BurialReport, DischargeReason, EventKind, Flag, Gender, IncidentType, MarriageKind, MarriageRegistration, Record,
    Referral, StationEvent,
};
use crate::registry::Registry;
use crate::time::{parse_date, parse_time};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::collections::BTreeSet;
use std::fmt::Display;

/// What validation needs besides the row.
pub struct ValidationContext<'a> {
    /// Codes of stations, sites and offices, ages and limits the rows are checked against.
    pub registry: &'a Registry,
    /// Protects ID numbers (mask and keyed hash) as rows are read.
    pub hasher: &'a IdHasher,
}

/// Why a row was rejected: the column at fault (canonical name) if any, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Canonical name of the column at fault; `None` for the row as a whole.
    pub column: Option<&'static str>,
    /// What is wrong, in words a clerk can act on.
    pub reason: Reason,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.reason.fmt(f)
    }
}

/// Validates one row. `values` holds the feed's columns in canonical order
/// ([`Feed::columns`]), `None` for a missing or blank cell (see [`crate::feed::HeaderMap::values`]).
///
/// The cell checks of every column come first (length, characters); then the first problem
/// found is returned, columns being checked in canonical order; a rule that involves several
/// columns is reported at the latest of them (e.g. an age that contradicts the ID number is
/// reported at `age`). Reasons never contain a full ID number.
pub fn validate_row(feed: Feed, values: &[Option<&str>], ctx: &ValidationContext<'_>) -> Result<Record, RowError> {
    let row = Row { cols: feed.columns(), values, hasher: ctx.hasher };
    for (col, value) in row.cols.iter().zip(values) {
        if let Some(v) = value {
            check_cell(col, v)?;
        }
    }
    match feed {
        Feed::Admissions => admission(&row, ctx).map(Record::Station),
        Feed::Burials => burial(&row, ctx).map(Record::Burial),
        Feed::Marriages => marriage(&row, ctx).map(Record::Marriage),
    }
}

// ---------------------------------------------------------------------------------------------
// The three feeds.

fn admission(row: &Row<'_>, ctx: &ValidationContext<'_>) -> Result<StationEvent, RowError> {
    let tz = ctx.registry.time_zone();
    let record_id = row.identifier("record_id")?;

    let station_id = {
        let (col, text) = row.required_cell("station_id")?;
        let ids: Vec<&str> = ctx.registry.stations.iter().map(|s| s.id.as_str()).collect();
        registry_ref(col, text, &ids, "a station")?
    };
    let event = {
        let (col, text) = row.required_cell("event")?;
        enumeration(col, text, EventKind::parse, EventKind::accepted)?
    };
    let occurred_at = time(row, "occurred_at", &tz)?;
    let local_date = tz.to_datetime(occurred_at).date();
    let person_ref = row.identifier("person_ref")?;
    let name = row.text("name");

    let (id_number, id_age) = match row.cell("id_number") {
        None => (None, None),
        Some((col, text)) => {
            let id = id_number(col, text)?;
            let age = id.age_on(local_date);
            if age < 0 {
                return Err(fail(
                    col,
                    "按身份证号中的出生日期，此人在发生时间尚未出生，请核对身份证号或发生时间",
                    "the birth date in the ID number is after occurred_at; check the ID number or the time",
                ));
            }
            if age > MAX_AGE {
                return Err(fail(
                    col,
                    format!("按身份证号推算年龄为 {age} 岁，超出 0–{MAX_AGE} 岁，请核对身份证号"),
                    format!("the ID number gives an age of {age}, outside 0–{MAX_AGE}; check the ID number"),
                ));
            }
            (Some(id.protect(ctx.hasher)), Some(age as u8))
        }
    };

    let gender = row.optional_enum("gender", Gender::parse, Gender::accepted)?;

    let age = match row.cell("age") {
        None => id_age,
        Some((col, text)) => {
            let given = age(col, text)?;
            if let Some(derived) = id_age {
                if given.abs_diff(derived) > 1 {
                    return Err(fail(
                        col,
                        format!("填写的 {given} 岁与按身份证号推算的 {derived} 岁相差超过 1 岁，请核对"),
                        format!("{given} differs by more than 1 from the age derived from id_number ({derived}); check both"),
                    ));
                }
            }
            Some(given)
        }
    };

    let origin = row.text("origin");

    let referral = row.optional_enum("referral", Referral::parse, Referral::accepted)?;
    if event == EventKind::Admit && referral.is_none() {
        return Err(required_for(row.column("referral"), event, Referral::accepted()));
    }

    let mut flags = match row.cell("flags") {
        None => BTreeSet::new(),
        Some((col, text)) => flag_list(col, text)?,
    };
    if let Some(age) = age {
        if age < 18 {
            flags.insert(Flag::Minor);
        }
        if age >= 60 {
            flags.insert(Flag::Elderly);
        }
    }

    let bed = row.text("bed");

    let discharge_reason = row.optional_enum("discharge_reason", DischargeReason::parse, DischargeReason::accepted)?;
    if event == EventKind::Discharge && discharge_reason.is_none() {
        return Err(required_for(row.column("discharge_reason"), event, DischargeReason::accepted()));
    }
    let incident_type = row.optional_enum("incident_type", IncidentType::parse, IncidentType::accepted)?;
    if event == EventKind::Incident && incident_type.is_none() {
        return Err(required_for(row.column("incident_type"), event, IncidentType::accepted()));
    }
    let note = row.text("note");

    Ok(StationEvent {
        record_id,
        station_id,
        event,
        occurred_at,
        person_ref,
        name,
        id_number,
        gender,
        age,
        origin,
        referral,
        flags: flags.into_iter().collect(),
        bed,
        discharge_reason,
        incident_type,
        note,
    })
}

fn burial(row: &Row<'_>, ctx: &ValidationContext<'_>) -> Result<BurialReport, RowError> {
    let record_id = row.identifier("record_id")?;
    let site_id = {
        let (col, text) = row.required_cell("site_id")?;
        let ids: Vec<&str> = ctx.registry.sites.iter().map(|s| s.id.as_str()).collect();
        registry_ref(col, text, &ids, "a site")?
    };
    let reported_on = date(row, "reported_on")?;
    let capacity_total = {
        let (col, text) = row.required_cell("capacity_total")?;
        count(col, text)?
    };
    let occupied = {
        let (col, text) = row.required_cell("occupied")?;
        let occupied = count(col, text)?;
        if occupied > capacity_total {
            return Err(fail(
                col,
                format!("{occupied} 超过总穴位 {capacity_total}，应在 0 到总穴位之间"),
                format!("{occupied} is more than capacity_total {capacity_total}; expected 0 to capacity_total"),
            ));
        }
        occupied
    };
    let new_interments = row.optional_count("new_interments")?;
    let eco_interments = match row.cell("eco_interments") {
        None => None,
        Some((col, text)) => {
            let eco = count(col, text)?;
            let new = new_interments.unwrap_or(0);
            if eco > new {
                return Err(fail(
                    col,
                    format!("{eco} 超过本期安葬 {new}（节地生态安葬是本期安葬的一部分），应在 0 到本期安葬之间"),
                    format!(
                        "{eco} is more than new_interments {new} (eco interments are part of the new interments); \
                         expected 0 to new_interments"
                    ),
                ));
            }
            Some(eco)
        }
    };
    let free_basic_services = row.optional_count("free_basic_services")?;
    let note = row.text("note");
    Ok(BurialReport {
        record_id,
        site_id,
        reported_on,
        capacity_total,
        occupied,
        new_interments,
        eco_interments,
        free_basic_services,
        note,
    })
}

fn marriage(row: &Row<'_>, ctx: &ValidationContext<'_>) -> Result<MarriageRegistration, RowError> {
    let tz = ctx.registry.time_zone();
    let record_id = row.identifier("record_id")?;
    let office_id = {
        let (col, text) = row.required_cell("office_id")?;
        let ids: Vec<&str> = ctx.registry.offices.iter().map(|s| s.id.as_str()).collect();
        registry_ref(col, text, &ids, "an office")?
    };
    let registered_at = time(row, "registered_at", &tz)?;
    let local_date = tz.to_datetime(registered_at).date();
    let kind = {
        let (col, text) = row.required_cell("kind")?;
        enumeration(col, text, MarriageKind::parse, MarriageKind::accepted)?
    };
    let party_a_id = party(row, "party_a_id", Party::A, kind, local_date, ctx.hasher)?;
    let party_b_id = party(row, "party_b_id", Party::B, kind, local_date, ctx.hasher)?;
    let party_a_hukou = row.cell("party_a_hukou").map(|(col, text)| division_code(col, text)).transpose()?;
    let party_b_hukou = row.cell("party_b_hukou").map(|(col, text)| division_code(col, text)).transpose()?;
    let counselling = row.cell("counselling").map(|(col, text)| boolean(col, text)).transpose()?;
    Ok(MarriageRegistration {
        record_id,
        office_id,
        registered_at,
        kind,
        party_a_id,
        party_b_id,
        party_a_hukou,
        party_b_hukou,
        counselling,
    })
}

#[derive(Clone, Copy)]
enum Party {
    A,
    B,
}

impl Party {
    fn zh(self) -> &'static str {
        match self {
            Party::A => "当事人甲",
            Party::B => "当事人乙",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Party::A => "party_a",
            Party::B => "party_b",
        }
    }
}

/// A party's ID number: required unless the registration is a reissue, valid when present, and
/// for a marriage of legal age on the registration date.
fn party(
    row: &Row<'_>,
    name: &str,
    who: Party,
    kind: MarriageKind,
    on: Date,
    hasher: &IdHasher,
) -> Result<Option<ProtectedId>, RowError> {
    let col = row.column(name);
    let Some(text) = row.value(name) else {
        if kind == MarriageKind::Reissue {
            return Ok(None);
        }
        return Err(fail(
            col,
            "必填，不能为空（仅补领可不填）",
            "required, must not be empty (only a reissue may leave it blank)",
        ));
    };
    let id = id_number(col, text)?;
    if kind == MarriageKind::Marriage {
        let (min, zh_sex, en_sex) = match id.sex() {
            Sex::Male => (22, "男", "a man"),
            Sex::Female => (20, "女", "a woman"),
        };
        if id.age_on(on) < min {
            return Err(RowError {
                column: Some(col.name),
                reason: Reason::new(
                    format!("{}未达法定婚龄（{zh_sex} {min} 周岁）", who.zh()),
                    format!("{} is under the legal marriage age ({min} for {en_sex})", who.en()),
                ),
            });
        }
    }
    Ok(Some(id.protect(hasher)))
}

// ---------------------------------------------------------------------------------------------
// Cells and columns.

/// Oldest accepted age.
const MAX_AGE: i64 = 130;

/// A row's values with their columns.
struct Row<'a> {
    cols: &'static [Column],
    values: &'a [Option<&'a str>],
    hasher: &'a IdHasher,
}

impl<'a> Row<'a> {
    /// The column with this canonical name (a name from this module, so always found).
    fn column(&self, name: &str) -> &'static Column {
        self.cols.iter().find(|c| c.name == name).expect("column of the feed")
    }

    /// The trimmed value, `None` when missing or blank.
    fn value(&self, name: &str) -> Option<&'a str> {
        let i = self.cols.iter().position(|c| c.name == name).expect("column of the feed");
        self.values.get(i).copied().flatten().map(str::trim).filter(|s| !s.is_empty())
    }

    fn cell(&self, name: &str) -> Option<(&'static Column, &'a str)> {
        self.value(name).map(|v| (self.column(name), v))
    }

    fn required_cell(&self, name: &str) -> Result<(&'static Column, &'a str), RowError> {
        let col = self.column(name);
        self.value(name).map(|v| (col, v)).ok_or_else(|| fail(col, "必填，不能为空", "required, must not be empty"))
    }

    fn required(&self, name: &str) -> Result<&'a str, RowError> {
        self.required_cell(name).map(|(_, v)| v)
    }

    /// Free text, trimmed, valid ID numbers in it masked.
    fn text(&self, name: &str) -> Option<String> {
        self.value(name).map(|v| protect_id_numbers_in(v, None).into_owned())
    }

    /// A required identifier (`record_id`, `person_ref`), trimmed; a valid ID number in it is
    /// replaced by its masked form and a keyed suffix (see [`crate::feed::ColumnKind::Identifier`]).
    fn identifier(&self, name: &str) -> Result<String, RowError> {
        self.required(name).map(|v| protect_id_numbers_in(v, Some(self.hasher)).into_owned())
    }

    fn optional_enum<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        accepted: fn() -> String,
    ) -> Result<Option<T>, RowError> {
        self.cell(name).map(|(col, text)| enumeration(col, text, parse, accepted)).transpose()
    }

    fn optional_count(&self, name: &str) -> Result<Option<u32>, RowError> {
        self.cell(name).map(|(col, text)| count(col, text)).transpose()
    }
}

/// A reason about a column: `列名：…` / `column: …`.
fn fail(col: &Column, zh: impl Display, en: impl Display) -> RowError {
    RowError {
        column: Some(col.name), reason: Reason::new(format!("{}：{zh}", col.zh), format!("{}: {en}", col.name))
    }
}

/// A value echoed back in a message: ID-like runs masked, long values shortened.
fn shown(text: &str) -> String {
    let t = redact_id_numbers(text);
    if t.chars().count() > 40 {
        let mut s: String = t.chars().take(37).collect();
        s.push('…');
        s
    } else {
        t
    }
}

fn required_for(col: &Column, event: EventKind, accepted: String) -> RowError {
    fail(
        col,
        format!("事件类型为{}时必填，可填：{accepted}", event.zh()),
        format!("required when event is {}; expected one of {accepted}", event.as_str()),
    )
}

fn enumeration<T>(
    col: &Column,
    text: &str,
    parse: fn(&str) -> Option<T>,
    accepted: fn() -> String,
) -> Result<T, RowError> {
    parse(text).ok_or_else(|| {
        let accepted = accepted();
        fail(
            col,
            format!("“{}” 不是可识别的值，可填：{accepted}", shown(text)),
            format!("\"{}\" is not a known value; expected one of {accepted}", shown(text)),
        )
    })
}

/// An id that must be in the registry. An exact match wins; otherwise a unique match ignoring
/// ASCII case is taken and normalised to the registry's spelling.
fn registry_ref(col: &Column, text: &str, ids: &[&str], a_kind: &str) -> Result<String, RowError> {
    if let Some(id) = ids.iter().find(|id| **id == text) {
        return Ok(id.to_string());
    }
    let mut folded = ids.iter().filter(|id| id.eq_ignore_ascii_case(text));
    if let (Some(id), None) = (folded.next(), folded.next()) {
        return Ok(id.to_string());
    }
    Err(fail(col, format!("{} 不在登记表中", shown(text)), format!("{} is not {a_kind} in the registry", shown(text))))
}

fn time(row: &Row<'_>, name: &str, tz: &TimeZone) -> Result<Timestamp, RowError> {
    let (col, text) = row.required_cell(name)?;
    parse_time(text, tz).map_err(|_| {
        fail(
            col,
            format!(
                "“{}” 不是有效的时间，应为 2026-03-01 08:30、2026/03/01 08:30:00 或 RFC 3339（如 2026-03-01T08:30:00+08:00）",
                shown(text)
            ),
            format!(
                "\"{}\" is not a valid time; expected 2026-03-01 08:30, 2026/03/01 08:30:00 or RFC 3339 \
                 (e.g. 2026-03-01T08:30:00+08:00)",
                shown(text)
            ),
        )
    })
}

fn date(row: &Row<'_>, name: &str) -> Result<Date, RowError> {
    let (col, text) = row.required_cell(name)?;
    parse_date(text).map_err(|_| {
        fail(
            col,
            format!("“{}” 不是有效的日期，应为 2026-03-01 或 2026/03/01", shown(text)),
            format!("\"{}\" is not a valid date; expected 2026-03-01 or 2026/03/01", shown(text)),
        )
    })
}

/// Why a whole number was not understood.
enum NumberError {
    NotANumber,
    NotWhole,
    Negative,
    TooLarge,
}

/// A whole number: `12`, `+12`, `12.0` (as spreadsheets write numbers), `1,200`.
fn whole_number(text: &str) -> Result<u64, NumberError> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let groups: Vec<&str> = int.split(',').collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err(NumberError::NotANumber);
    }
    let int = groups.concat();
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    if t.contains('.') && frac.is_empty() {
        return Err(NumberError::NotANumber);
    }
    if frac.bytes().any(|b| b != b'0') {
        return Err(NumberError::NotWhole);
    }
    if negative && int.bytes().any(|b| b != b'0') {
        return Err(NumberError::Negative);
    }
    let digits = int.trim_start_matches('0');
    if digits.len() > 19 {
        return Err(NumberError::TooLarge);
    }
    if digits.is_empty() {
        return Ok(0);
    }
    digits.parse().map_err(|_| NumberError::TooLarge)
}

/// A count: a whole number from 0 to `u32::MAX`.
fn count(col: &Column, text: &str) -> Result<u32, RowError> {
    let v = shown(text);
    let n = whole_number(text).map_err(|e| match e {
        NumberError::NotANumber => fail(
            col,
            format!("“{v}” 不是数字，应为 0 或正整数"),
            format!("\"{v}\" is not a number; expected a whole number, 0 or more"),
        ),
        NumberError::NotWhole => fail(
            col,
            format!("“{v}” 不是整数，应为 0 或正整数"),
            format!("\"{v}\" is not a whole number; expected a whole number, 0 or more"),
        ),
        NumberError::Negative => fail(
            col,
            format!("“{v}” 是负数，应为 0 或正整数"),
            format!("\"{v}\" is negative; expected a whole number, 0 or more"),
        ),
        NumberError::TooLarge => too_large(col, &v),
    })?;
    u32::try_from(n).map_err(|_| too_large(col, &v))
}

fn too_large(col: &Column, v: &str) -> RowError {
    fail(
        col,
        format!("“{v}” 过大，最大为 {}", u32::MAX),
        format!("\"{v}\" is too large; the largest accepted is {}", u32::MAX),
    )
}

/// An age in full years, 0 to 130; `35岁` / `35 周岁` accepted.
fn age(col: &Column, text: &str) -> Result<u8, RowError> {
    let v = shown(text);
    let bare = text.trim();
    let bare = bare.strip_suffix("周岁").or_else(|| bare.strip_suffix('岁')).unwrap_or(bare).trim_end();
    let out_of_range = || {
        fail(
            col,
            format!("{v} 超出范围，应为 0 到 {MAX_AGE} 之间的整数"),
            format!("{v} is out of range; expected a whole number from 0 to {MAX_AGE}"),
        )
    };
    match whole_number(bare) {
        Ok(n) if n <= MAX_AGE as u64 => Ok(n as u8),
        Ok(_) | Err(NumberError::Negative) | Err(NumberError::TooLarge) => Err(out_of_range()),
        Err(NumberError::NotWhole) => Err(fail(
            col,
            format!("“{v}” 不是整数，应为 0 到 {MAX_AGE} 之间的整周岁"),
            format!("\"{v}\" is not a whole number; expected full years from 0 to {MAX_AGE}"),
        )),
        Err(NumberError::NotANumber) => Err(fail(
            col,
            format!("“{v}” 不是数字，应为 0 到 {MAX_AGE} 之间的整数"),
            format!("\"{v}\" is not a number; expected a whole number from 0 to {MAX_AGE}"),
        )),
    }
}

/// The checks every cell passes before its column's own rules: its length limit and the
/// characters it may hold.
fn check_cell(col: &Column, text: &str) -> Result<(), RowError> {
    // Bytes are at least as many as characters: count characters only when the bytes exceed.
    if text.len() > col.max_chars {
        let n = text.chars().count();
        if n > col.max_chars {
            let max = col.max_chars;
            return Err(fail(
                col,
                format!("内容过长（{n} 个字符），此列最多 {max} 个字符；请检查是否把多列内容或整段文字填进了此列"),
                format!("too long ({n} characters); at most {max} are accepted in this column; check that no other columns or pasted text ended up in it"),
            ));
        }
    }
    match bad_char(text, col.kind.multiline()) {
        None => Ok(()),
        Some((bad, at)) => Err(bad_char_error(col, bad, at)),
    }
}

/// A character a cell may not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadChar {
    Nul,
    Control(char),
    LineBreak,
    Tab,
    Bom,
    Replacement,
}

/// The first character `text` may not hold, with its 1-based position. One pass over the bytes
/// for the usual cell; characters are looked at only when a suspect byte is found.
fn bad_char(text: &str, multiline: bool) -> Option<(BadChar, usize)> {
    // < 0x20 and 0x7F: C0 controls and DEL; 0xC2: lead byte of the C1 controls; 0xEF: lead byte
    // of U+FEFF and U+FFFD.
    if !text.bytes().any(|b| b < 0x20 || b == 0x7F || b == 0xC2 || b == 0xEF) {
        return None;
    }
    text.chars().enumerate().find_map(|(i, c)| {
        let bad = match c {
            '\0' => BadChar::Nul,
            '\n' | '\r' if !multiline => BadChar::LineBreak,
            '\t' if !multiline => BadChar::Tab,
            '\n' | '\r' | '\t' => return None,
            '\u{feff}' => BadChar::Bom,
            '\u{fffd}' => BadChar::Replacement,
            c if c.is_control() => BadChar::Control(c),
            _ => return None,
        };
        Some((bad, i + 1))
    })
}

fn bad_char_error(col: &Column, bad: BadChar, at: usize) -> RowError {
    match bad {
        BadChar::Nul => fail(
            col,
            format!("第 {at} 个字符是 NUL 控制字符（空字节），通常来自损坏或截断的导出；请删除后重新放入此行"),
            format!("contains a NUL control character (a zero byte) at character {at}, usually from a damaged or cut export; remove it and drop the row again"),
        ),
        BadChar::Control(c) => {
            let code = format!("U+{:04X}", c as u32);
            fail(
                col,
                format!("第 {at} 个字符是控制字符 {code}（不可见），请删除后重新放入此行"),
                format!("contains the control character {code} (invisible) at character {at}; remove it and drop the row again"),
            )
        }
        BadChar::LineBreak => fail(
            col,
            format!("第 {at} 个字符是换行符，此列只能有一行内容（只有备注可以换行）；请删除换行"),
            format!("contains a line break at character {at}; this column must hold one line (only a note may span lines)"),
        ),
        BadChar::Tab => fail(
            col,
            format!("第 {at} 个字符是制表符（Tab），此列不能含有制表符；请删除"),
            format!("contains a tab at character {at}; remove it"),
        ),
        BadChar::Bom => fail(
            col,
            format!("第 {at} 个字符是不可见的 BOM 字符（U+FEFF），常见于把两个文件拼接在一起；请删除"),
            format!("contains an invisible byte-order mark (U+FEFF) at character {at}, as left when two files are pasted together; remove it"),
        ),
        BadChar::Replacement => fail(
            col,
            format!("第 {at} 个字符是替换字符“�”，说明文字在转换编码时已经损坏；请从原系统重新导出"),
            format!("contains the replacement character � at character {at}: the text was damaged by a wrong encoding conversion; export it again from the source system"),
        ),
    }
}

/// How Excel or an input method mangled an ID number, if the text shows it.
fn excel_mangled(col: &Column, text: &str) -> Option<RowError> {
    const FIX_ZH: &str = "请在 Excel 中先把该列设置为“文本”格式，再重新录入身份证号后保存";
    const FIX_EN: &str = "format the column as Text in Excel before typing the numbers, then save again";
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((mantissa, exp)) = text.split_once(['E', 'e']) {
        let exp = exp.strip_prefix('+').unwrap_or(exp);
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
        if digits(int) && digits(frac) && digits(exp) {
            return Some(fail(
                col,
                format!("“{}” 是科学计数法：Excel 把身份证号当作数字，后几位已经丢失；{FIX_ZH}", shown(text)),
                format!("\"{}\" is scientific notation: Excel converted the ID number to a number and its last digits are lost; {FIX_EN}", shown(text)),
            ));
        }
    }
    if let Some((int, frac)) = text.split_once('.') {
        if (15..=18).contains(&int.len()) && digits(int) && !frac.is_empty() && frac.bytes().all(|b| b == b'0') {
            return Some(fail(
                col,
                format!("末尾的“.{frac}”说明 Excel（或其他软件）把身份证号转换成了数字，超过 15 位的数字可能已被改动；{FIX_ZH}"),
                format!("the trailing \".{frac}\" shows Excel (or another program) converted the ID number to a number, which may have changed digits beyond the 15th; {FIX_EN}"),
            ));
        }
    }
    if let Some(rest) = text.strip_prefix(['\'', '‘', '’', '`']) {
        if rest.chars().count() == 18 {
            return Some(fail(
                col,
                format!("以单引号开头：这是在 Excel 中强制按文本输入的写法，被一起导出了；请删除单引号，{FIX_ZH}"),
                format!("starts with an apostrophe: Excel's way of typing a number as text was exported with it; remove the apostrophe and {FIX_EN}"),
            ));
        }
    }
    if text.chars().any(char::is_whitespace) {
        return Some(fail(
            col,
            "号码中间有空格（输入法或复制时加入的），请删除空格；如在 Excel 中录入，请先把该列设置为“文本”格式",
            "has spaces inside the number (added by an input method or when copying); remove them, and in Excel format the column as Text before typing",
        ));
    }
    None
}

/// An ID number; the reason never repeats the number.
fn id_number(col: &Column, text: &str) -> Result<IdNumber, RowError> {
    if let Some(e) = excel_mangled(col, text) {
        return Err(e);
    }
    IdNumber::parse(text).map_err(|e| match e {
        IdNumberError::Length(n) => {
            let (zh_hint, en_hint) = if n == 15 {
                ("（15 位旧号码请换为 18 位新号码）", " (replace an old 15-digit number by the 18-digit one)")
            } else {
                ("", "")
            };
            fail(
                col,
                format!("长度为 {n} 位，应为 18 位{zh_hint}"),
                format!("has {n} characters, expected 18{en_hint}"),
            )
        }
        IdNumberError::BadCharacter { position, found } => fail(
            col,
            format!("第 {position} 位是“{found}”，应为数字（仅最后一位可为 X）"),
            format!("character {position} is \"{found}\", expected a digit (only the last may be X)"),
        ),
        IdNumberError::BadBirthDate(d) => fail(
            col,
            format!("第 7–14 位的出生日期 {d} 不存在"),
            format!("the birth date {d} in characters 7–14 does not exist"),
        ),
        IdNumberError::CheckDigit { expected, .. } if text.ends_with("000") => fail(
            col,
            format!(
                "校验位错误（应为 {expected}）；末三位是 000：Excel 只保留 15 位有效数字，可能已把后三位改成了 0，\
                 请在 Excel 中先把该列设置为“文本”格式，再重新录入身份证号"
            ),
            format!(
                "wrong check digit (expected {expected}); it ends in 000: Excel keeps only 15 significant digits and may \
                 have turned the last three into 0; format the column as Text in Excel before typing the numbers again"
            ),
        ),
        IdNumberError::CheckDigit { expected, .. } => {
            fail(col, format!("校验位错误（应为 {expected}）"), format!("wrong check digit (expected {expected})"))
        }
    })
}

/// `;`-separated flags (also `；`, `、`, `,`, `，`), deduplicated, in enumeration order.
fn flag_list(col: &Column, text: &str) -> Result<BTreeSet<Flag>, RowError> {
    let mut flags = BTreeSet::new();
    for part in text.split([';', '；', '、', ',', '，']).map(str::trim).filter(|p| !p.is_empty()) {
        let flag = Flag::parse(part).ok_or_else(|| {
            let accepted = Flag::accepted();
            fail(
                col,
                format!("“{}” 不是可识别的特殊情况，可填（用 ; 分隔）：{accepted}", shown(part)),
                format!("\"{}\" is not a known flag; expected one or more of {accepted}, separated by ;", shown(part)),
            )
        })?;
        flags.insert(flag);
    }
    Ok(flags)
}

/// A 6-digit administrative division code.
fn division_code(col: &Column, text: &str) -> Result<String, RowError> {
    if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(fail(
            col,
            format!("“{}” 不是 6 位行政区划代码，应如 110112", shown(text)),
            format!("\"{}\" is not a 6-digit division code; expected e.g. 110112", shown(text)),
        ))
    }
}

/// true/false, 是/否, yes/no, y/n, 1/0 (English in any case).
fn boolean(col: &Column, text: &str) -> Result<bool, RowError> {
    let t = text.trim();
    const YES: [&str; 4] = ["true", "yes", "y", "1"];
    const NO: [&str; 4] = ["false", "no", "n", "0"];
    if t == "是" || YES.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        Ok(true)
    } else if t == "否" || NO.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        Ok(false)
    } else {
        Err(fail(
            col,
            format!("“{}” 不是可识别的值，应为 是/否（true/false）", shown(t)),
            format!("\"{}\" is not yes or no; expected true/false or 是/否", shown(t)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DischargeReason, IncidentType};

    const REGISTRY: &str = r#"
[[station]]
id = "TZ-JZZ"
name = "通州区救助管理站"
street = "ST-01"
kind = "station"
beds = 50

[[site]]
id = "C-SZ"
name = "宋庄镇公益性墓园"
town = "宋庄镇"
kind = "public"

[[office]]
id = "M-TZ"
name = "通州区婚姻登记中心"

[[street]]
id = "ST-01"
name = "北苑街道"
reserve_fund = 200000.00
case_cap = 5000.00
"#;

    /// A valid ID number: `110105`, the birth date `YYYYMMDD`, a 3-digit sequence (odd last digit:
    /// male), and the check digit.
    fn id(birth: &str, seq: &str) -> String {
        let body = format!("110105{birth}{seq}");
        format!("{body}{}", IdNumber::check_digit_for(&body).unwrap())
    }

    /// Runs `validate_row` on `base` with `over` replacing or adding cells (`""` blanks a cell).
    fn run(feed: Feed, base: &[(&str, &str)], over: &[(&str, &str)]) -> Result<Record, RowError> {
        let registry = Registry::parse(REGISTRY).unwrap();
        let hasher = IdHasher::new([9; 32]);
        let ctx = ValidationContext { registry: &registry, hasher: &hasher };
        let mut cells: Vec<Option<String>> = vec![None; feed.columns().len()];
        for (name, value) in base.iter().chain(over) {
            let i = feed.column_index(name).unwrap_or_else(|| panic!("no column {name}"));
            cells[i] = (!value.is_empty()).then(|| value.to_string());
        }
        let values: Vec<Option<&str>> = cells.iter().map(|c| c.as_deref()).collect();
        validate_row(feed, &values, &ctx)
    }

    const ADMIT: &[(&str, &str)] = &[
        ("record_id", "A-1"),
        ("station_id", "TZ-JZZ"),
        ("event", "admit"),
        ("occurred_at", "2026-03-01 08:30"),
        ("person_ref", "P-001"),
        ("referral", "police"),
    ];

    fn admit(over: &[(&str, &str)]) -> Result<StationEvent, RowError> {
        run(Feed::Admissions, ADMIT, over).map(|r| match r {
            Record::Station(e) => e,
            other => panic!("not a station event: {other:?}"),
        })
    }

    fn admit_err(over: &[(&str, &str)]) -> RowError {
        admit(over).expect_err("row should be rejected")
    }

    /// Asserts the error's column and that both texts start with the column's name.
    fn assert_err(e: &RowError, column: &str, zh_contains: &str, en_contains: &str) {
        assert_eq!(e.column, Some(column), "{e}");
        assert!(e.reason.zh.contains(zh_contains), "zh: {}", e.reason.zh);
        assert!(e.reason.en.contains(en_contains), "en: {}", e.reason.en);
        assert!(e.reason.en.starts_with(&format!("{column}: ")), "en: {}", e.reason.en);
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    // --- admissions -------------------------------------------------------------------------

    #[test]
    fn valid_admit() {
        let e =
            admit(&[("name", "  张三 "), ("origin", "河北省保定市"), ("bed", "3-12"), ("note", "夜间送达")]).unwrap();
        assert_eq!(e.record_id, "A-1");
        assert_eq!(e.station_id, "TZ-JZZ");
        assert_eq!(e.event, EventKind::Admit);
        assert_eq!(e.occurred_at, ts("2026-03-01T00:30:00Z"));
        assert_eq!(e.person_ref, "P-001");
        assert_eq!(e.name.as_deref(), Some("张三"));
        assert_eq!(e.origin.as_deref(), Some("河北省保定市"));
        assert_eq!(e.bed.as_deref(), Some("3-12"));
        assert_eq!(e.note.as_deref(), Some("夜间送达"));
        assert_eq!(e.referral, Some(Referral::Police));
        assert_eq!((e.id_number.as_ref(), e.gender, e.age), (None, None, None));
        assert!(e.flags.is_empty());
        assert_eq!((e.discharge_reason, e.incident_type), (None, None));
    }

    #[test]
    fn required_admission_columns() {
        for (name, zh) in [
            ("record_id", "记录编号"),
            ("station_id", "救助站编码"),
            ("event", "事件类型"),
            ("occurred_at", "发生时间"),
            ("person_ref", "受助人编号"),
        ] {
            let e = admit_err(&[(name, "")]);
            assert_eq!(e.column, Some(name));
            assert_eq!(
                e.reason,
                Reason::new(format!("{zh}：必填，不能为空"), format!("{name}: required, must not be empty"))
            );
        }
        // Blank-only cells count as missing.
        assert_eq!(admit_err(&[("person_ref", "   ")]).column, Some("person_ref"));
    }

    #[test]
    fn missing_trailing_values_are_blank() {
        let registry = Registry::parse(REGISTRY).unwrap();
        let hasher = IdHasher::new([9; 32]);
        let ctx = ValidationContext { registry: &registry, hasher: &hasher };
        let e = validate_row(Feed::Admissions, &[Some("A-1"), Some("TZ-JZZ")], &ctx).unwrap_err();
        assert_eq!(e.column, Some("event"));
    }

    #[test]
    fn unknown_station() {
        let e = admit_err(&[("station_id", "TZ-9")]);
        assert_eq!(e.column, Some("station_id"));
        assert_eq!(
            e.reason,
            Reason::new("救助站编码：TZ-9 不在登记表中", "station_id: TZ-9 is not a station in the registry")
        );
        assert_eq!(e.to_string(), "救助站编码：TZ-9 不在登记表中 | station_id: TZ-9 is not a station in the registry");
        // Case is forgiven and normalised to the registry's spelling.
        assert_eq!(admit(&[("station_id", "tz-jzz")]).unwrap().station_id, "TZ-JZZ");
    }

    #[test]
    fn event_aliases() {
        let all = [("referral", "self"), ("discharge_reason", "home"), ("incident_type", "injury")];
        for kind in EventKind::ALL {
            for word in [kind.as_str().to_string(), kind.as_str().to_uppercase(), kind.zh().to_string()] {
                let mut over = all.to_vec();
                over.push(("event", &word));
                assert_eq!(admit(&over).unwrap().event, *kind, "{word}");
            }
        }
        let e = admit_err(&[("event", "arrive")]);
        assert_err(&e, "event", "“arrive” 不是可识别的值", "\"arrive\" is not a known value");
        assert!(e.reason.zh.contains("admit/入站, discharge/离站, incident/异常"), "{}", e.reason.zh);
        assert!(e.reason.en.contains("admit/入站, discharge/离站, incident/异常"), "{}", e.reason.en);
    }

    #[test]
    fn occurred_at_formats_and_rejects() {
        for text in [
            "2026-03-01 08:30:00",
            "2026/03/01 08:30",
            "2026/3/1 8:30",
            "2026-03-01T08:30:00+08:00",
            "2026-03-01T00:30:00Z",
        ] {
            assert_eq!(admit(&[("occurred_at", text)]).unwrap().occurred_at, ts("2026-03-01T00:30:00Z"), "{text}");
        }
        for text in ["2026-13-01 08:00", "yesterday", "2026-02-30 08:00", "2026-03-01"] {
            assert_err(&admit_err(&[("occurred_at", text)]), "occurred_at", "不是有效的时间", "is not a valid time");
        }
    }

    #[test]
    fn local_time_follows_the_registry_zone() {
        let registry = Registry::parse(&format!("timezone = \"UTC\"\n{REGISTRY}")).unwrap();
        let hasher = IdHasher::new([9; 32]);
        let ctx = ValidationContext { registry: &registry, hasher: &hasher };
        let feed = Feed::Admissions;
        let mut values: Vec<Option<&str>> = vec![None; feed.columns().len()];
        for (name, value) in ADMIT {
            values[feed.column_index(name).unwrap()] = Some(value);
        }
        let Record::Station(e) = validate_row(feed, &values, &ctx).unwrap() else { panic!() };
        assert_eq!(e.occurred_at, ts("2026-03-01T08:30:00Z"));
    }

    #[test]
    fn id_number_is_protected() {
        let number = id("19800101", "123");
        let e = admit(&[("id_number", &number)]).unwrap();
        let p = e.id_number.unwrap();
        assert_eq!(p.masked, format!("110105********{}", &number[14..]));
        assert_eq!(p.hash, IdHasher::new([9; 32]).hash(&IdNumber::parse(&number).unwrap()));
        // Lower-case x is the same person.
        let x = admit(&[("id_number", "11010519491231002x")]).unwrap().id_number.unwrap();
        let upper = admit(&[("id_number", "11010519491231002X")]).unwrap().id_number.unwrap();
        assert_eq!(x, upper);
        assert_eq!(x.masked, "110105********002X");
    }

    #[test]
    fn id_number_errors_are_masked() {
        let e = admit_err(&[("id_number", "110105194912310021")]);
        assert_eq!(e.column, Some("id_number"));
        assert_eq!(
            e.reason,
            Reason::new("身份证号：校验位错误（应为 X）", "id_number: wrong check digit (expected X)")
        );

        assert_err(
            &admit_err(&[("id_number", "11010519491231")]),
            "id_number",
            "长度为 14 位，应为 18 位",
            "has 14 characters",
        );
        assert_err(&admit_err(&[("id_number", "110105491231002")]), "id_number", "15 位旧号码", "15-digit");
        assert_err(&admit_err(&[("id_number", "11010519491231002X0")]), "id_number", "19 位", "19 characters");
        assert_err(
            &admit_err(&[("id_number", "11010519491231A02X")]),
            "id_number",
            "第 15 位是“A”",
            "character 15 is \"A\"",
        );
        assert_err(&admit_err(&[("id_number", "110105194902300021")]), "id_number", "1949-02-30 不存在", "1949-02-30");

        for bad in ["110105194912310021", "110105194902300021", "11010519491231A02X", "11010519491231002X0"] {
            let e = admit_err(&[("id_number", bad)]);
            assert!(!e.to_string().contains(bad), "{e}");
            assert!(!e.to_string().contains("19491231"), "{e}");
            assert!(!format!("{e:?}").contains(bad), "{e:?}");
        }
        // An ID number typed into another column is not echoed in full either.
        let e = admit_err(&[("occurred_at", "11010519491231002X")]);
        assert!(!e.to_string().contains("11010519491231002X"), "{e}");
        assert!(e.to_string().contains("110105********002X"), "{e}");
    }

    #[test]
    fn birth_after_the_event_is_rejected() {
        assert_err(&admit_err(&[("id_number", &id("20260302", "123"))]), "id_number", "尚未出生", "after occurred_at");
    }

    #[test]
    fn gender_aliases() {
        for g in Gender::ALL {
            for word in [g.as_str().to_string(), g.as_str().to_uppercase(), g.zh().to_string()] {
                assert_eq!(admit(&[("gender", &word)]).unwrap().gender, Some(*g), "{word}");
            }
        }
        assert_eq!(admit(&[("gender", " Female ")]).unwrap().gender, Some(Gender::Female));
        assert_err(&admit_err(&[("gender", "M")]), "gender", "male/男, female/女, unknown/未知", "male/男");
    }

    #[test]
    fn age_given_and_derived() {
        assert_eq!(admit(&[("age", "35")]).unwrap().age, Some(35));
        assert_eq!(admit(&[("age", "35.0")]).unwrap().age, Some(35));
        assert_eq!(admit(&[("age", "35岁")]).unwrap().age, Some(35));
        assert_eq!(admit(&[("age", "35 周岁")]).unwrap().age, Some(35));
        assert_eq!(admit(&[("age", "0")]).unwrap().age, Some(0));
        assert_eq!(admit(&[("age", "130")]).unwrap().age, Some(130));
        assert_err(&admit_err(&[("age", "131")]), "age", "超出范围", "out of range");
        assert_err(&admit_err(&[("age", "-1")]), "age", "超出范围", "out of range");
        assert_err(&admit_err(&[("age", "1.5")]), "age", "不是整数", "not a whole number");
        assert_err(&admit_err(&[("age", "abc")]), "age", "不是数字", "not a number");
        assert_err(&admit_err(&[("age", "99999999999999999999999")]), "age", "超出范围", "out of range");

        // Derived on the local date: 08:00 in Shanghai on 1 March is still 28 February in UTC.
        let number = id("20000301", "123");
        let e = admit(&[("id_number", &number), ("occurred_at", "2026-03-01 08:00")]).unwrap();
        assert_eq!(e.age, Some(26));
        let e = admit(&[("id_number", &number), ("occurred_at", "2026-02-28 23:59")]).unwrap();
        assert_eq!(e.age, Some(25));

        // Given and derived: a difference of 1 is tolerated, the given age kept.
        assert_eq!(admit(&[("id_number", &number), ("age", "27")]).unwrap().age, Some(27));
        assert_eq!(admit(&[("id_number", &number), ("age", "25")]).unwrap().age, Some(25));
        let e = admit_err(&[("id_number", &number), ("age", "28")]);
        assert_err(&e, "age", "28 岁与按身份证号推算的 26 岁相差超过 1 岁", "28 differs by more than 1");
        assert!(!e.to_string().contains(&number));
        assert_err(&admit_err(&[("id_number", &number), ("age", "24")]), "age", "相差超过 1 岁", "(26)");
    }

    #[test]
    fn referral_required_on_admit_only() {
        let e = admit_err(&[("referral", "")]);
        assert_err(&e, "referral", "事件类型为入站时必填", "required when event is admit");
        assert!(e.reason.zh.starts_with("来源："));
        for r in Referral::ALL {
            for word in [r.as_str().to_string(), r.as_str().to_uppercase(), r.zh().to_string()] {
                assert_eq!(admit(&[("referral", &word)]).unwrap().referral, Some(*r), "{word}");
            }
        }
        assert_eq!(admit(&[("referral", "公安")]).unwrap().referral, Some(Referral::Police));
        assert_eq!(admit(&[("referral", "12345")]).unwrap().referral, Some(Referral::Hotline));
        assert_eq!(admit(&[("referral", "Self")]).unwrap().referral, Some(Referral::SelfReferred));
        assert_err(&admit_err(&[("referral", "walk-in")]), "referral", "不是可识别的值", "police/公安护送");

        let d = admit(&[("event", "discharge"), ("referral", ""), ("discharge_reason", "home")]).unwrap();
        assert_eq!(d.referral, None);
        let i = admit(&[("event", "incident"), ("referral", ""), ("incident_type", "injury")]).unwrap();
        assert_eq!(i.referral, None);
        // Present on other events: still checked.
        assert_eq!(
            admit_err(&[("event", "discharge"), ("referral", "x"), ("discharge_reason", "home")]).column,
            Some("referral")
        );
    }

    #[test]
    fn flags_parsed_deduplicated_ordered() {
        let e = admit(&[("flags", "ill;Minor；disabled、ill;; 精神障碍 ")]).unwrap();
        assert_eq!(e.flags, [Flag::Minor, Flag::Disabled, Flag::Mental, Flag::Ill]);
        for f in Flag::ALL {
            for word in [f.as_str().to_string(), f.as_str().to_uppercase(), f.zh().to_string()] {
                assert_eq!(admit(&[("flags", &word)]).unwrap().flags, [*f], "{word}");
            }
        }
        assert_eq!(
            admit(&[("flags", "pregnant,ill，老年")]).unwrap().flags,
            [Flag::Elderly, Flag::Ill, Flag::Pregnant]
        );
        let e = admit_err(&[("flags", "ill;drunk")]);
        assert_err(&e, "flags", "“drunk” 不是可识别的特殊情况", "\"drunk\" is not a known flag");
    }

    #[test]
    fn minor_and_elderly_added_from_age() {
        assert_eq!(admit(&[("age", "17")]).unwrap().flags, [Flag::Minor]);
        assert!(admit(&[("age", "18")]).unwrap().flags.is_empty());
        assert!(admit(&[("age", "59")]).unwrap().flags.is_empty());
        assert_eq!(admit(&[("age", "60")]).unwrap().flags, [Flag::Elderly]);
        assert_eq!(admit(&[("age", "80"), ("flags", "ill;elderly")]).unwrap().flags, [Flag::Elderly, Flag::Ill]);
        // From the ID number's age too.
        let child = id("20150601", "124");
        let e = admit(&[("id_number", &child), ("flags", "ill")]).unwrap();
        assert_eq!((e.age, e.flags), (Some(10), vec![Flag::Minor, Flag::Ill]));
        let old = id("19500101", "123");
        assert_eq!(admit(&[("id_number", &old)]).unwrap().flags, [Flag::Elderly]);
    }

    #[test]
    fn discharge_reason_required_on_discharge() {
        let e = admit_err(&[("event", "离站")]);
        assert_err(&e, "discharge_reason", "事件类型为离站时必填", "required when event is discharge");
        assert!(e.reason.zh.starts_with("离站原因："));
        for r in DischargeReason::ALL {
            for word in [r.as_str().to_string(), r.as_str().to_uppercase(), r.zh().to_string()] {
                let e = admit(&[("event", "discharge"), ("discharge_reason", &word)]).unwrap();
                assert_eq!(e.discharge_reason, Some(*r), "{word}");
            }
        }
        assert_err(
            &admit_err(&[("event", "discharge"), ("discharge_reason", "escaped")]),
            "discharge_reason",
            "不是可识别的值",
            "home/返乡",
        );
    }

    #[test]
    fn incident_type_required_on_incident() {
        let e = admit_err(&[("event", "INCIDENT")]);
        assert_err(&e, "incident_type", "事件类型为异常时必填", "required when event is incident");
        assert!(e.reason.zh.starts_with("异常类型："));
        for t in IncidentType::ALL {
            for word in [t.as_str().to_string(), t.as_str().to_uppercase(), t.zh().to_string()] {
                let e = admit(&[("event", "incident"), ("incident_type", &word)]).unwrap();
                assert_eq!(e.incident_type, Some(*t), "{word}");
            }
        }
        assert_err(
            &admit_err(&[("event", "incident"), ("incident_type", "fire")]),
            "incident_type",
            "不是可识别的值",
            "severe_illness/重病",
        );
    }

    #[test]
    fn first_problem_in_column_order() {
        let e = admit_err(&[("station_id", "X"), ("id_number", "110105194912310021"), ("age", "abc")]);
        assert_eq!(e.column, Some("station_id"));
        let e = admit_err(&[("id_number", "110105194912310021"), ("age", "abc"), ("flags", "x")]);
        assert_eq!(e.column, Some("id_number"));
        let e = admit_err(&[("gender", "x"), ("age", "abc"), ("referral", "")]);
        assert_eq!(e.column, Some("gender"));
        let e = admit_err(&[("event", "incident"), ("referral", "bad"), ("incident_type", "")]);
        assert_eq!(e.column, Some("referral"));
    }

    // --- burials ----------------------------------------------------------------------------

    const BURIAL: &[(&str, &str)] = &[
        ("record_id", "B-1"),
        ("site_id", "C-SZ"),
        ("reported_on", "2026-03-01"),
        ("capacity_total", "1200"),
        ("occupied", "800"),
    ];

    fn burial(over: &[(&str, &str)]) -> Result<BurialReport, RowError> {
        run(Feed::Burials, BURIAL, over).map(|r| match r {
            Record::Burial(b) => b,
            other => panic!("not a burial report: {other:?}"),
        })
    }

    fn burial_err(over: &[(&str, &str)]) -> RowError {
        burial(over).expect_err("row should be rejected")
    }

    #[test]
    fn valid_burial() {
        let b = burial(&[
            ("new_interments", "12"),
            ("eco_interments", "5.0"),
            ("free_basic_services", "12.00"),
            ("note", " 春季 "),
        ])
        .unwrap();
        assert_eq!(b.record_id, "B-1");
        assert_eq!(b.site_id, "C-SZ");
        assert_eq!(b.reported_on, jiff::civil::date(2026, 3, 1));
        assert_eq!((b.capacity_total, b.occupied), (1200, 800));
        assert_eq!((b.new_interments, b.eco_interments, b.free_basic_services), (Some(12), Some(5), Some(12)));
        assert_eq!(b.note.as_deref(), Some("春季"));
        let b = burial(&[("reported_on", "2026/3/1"), ("capacity_total", "1,200")]).unwrap();
        assert_eq!((b.reported_on, b.capacity_total), (jiff::civil::date(2026, 3, 1), 1200));
        assert_eq!(burial(&[]).unwrap().new_interments, None);
    }

    #[test]
    fn required_burial_columns() {
        for (name, zh) in [
            ("record_id", "记录编号"),
            ("site_id", "墓园编码"),
            ("reported_on", "统计日期"),
            ("capacity_total", "总穴位"),
            ("occupied", "已用穴位"),
        ] {
            let e = burial_err(&[(name, "")]);
            assert_eq!(
                e.reason,
                Reason::new(format!("{zh}：必填，不能为空"), format!("{name}: required, must not be empty"))
            );
        }
    }

    #[test]
    fn burial_site_and_date() {
        assert_eq!(
            burial_err(&[("site_id", "C-XX")]).reason,
            Reason::new("墓园编码：C-XX 不在登记表中", "site_id: C-XX is not a site in the registry")
        );
        for bad in ["2026-13-01", "yesterday", "2026-02-30", "2026-03-01 08:00"] {
            assert_err(&burial_err(&[("reported_on", bad)]), "reported_on", "不是有效的日期", "is not a valid date");
        }
    }

    #[test]
    fn burial_counts() {
        for name in ["capacity_total", "occupied", "new_interments", "free_basic_services"] {
            assert_err(&burial_err(&[(name, "-1")]), name, "是负数", "is negative");
            assert_err(&burial_err(&[(name, "1.5")]), name, "不是整数", "not a whole number");
            assert_err(&burial_err(&[(name, "abc")]), name, "不是数字", "not a number");
            assert_err(&burial_err(&[(name, "4294967296")]), name, "过大", "too large");
            assert_err(&burial_err(&[(name, "99999999999999999999999")]), name, "过大", "too large");
            assert_err(&burial_err(&[(name, "12.")]), name, "不是数字", "not a number");
        }
        assert_eq!(burial(&[("capacity_total", "4294967295")]).unwrap().capacity_total, u32::MAX);
        assert_eq!(burial(&[("occupied", "0"), ("capacity_total", "0")]).unwrap().capacity_total, 0);
        assert_eq!(burial(&[("occupied", "-0")]).unwrap().occupied, 0);
    }

    #[test]
    fn occupied_within_capacity() {
        assert_eq!(burial(&[("occupied", "1200")]).unwrap().occupied, 1200);
        let e = burial_err(&[("occupied", "1201")]);
        assert_err(&e, "occupied", "1201 超过总穴位 1200", "1201 is more than capacity_total 1200");
    }

    #[test]
    fn eco_within_new_interments() {
        assert_eq!(burial(&[("new_interments", "3"), ("eco_interments", "3")]).unwrap().eco_interments, Some(3));
        let e = burial_err(&[("new_interments", "3"), ("eco_interments", "4")]);
        assert_err(&e, "eco_interments", "4 超过本期安葬 3", "4 is more than new_interments 3");
        // Without new_interments, new counts as 0.
        assert_eq!(burial(&[("eco_interments", "0")]).unwrap().eco_interments, Some(0));
        assert_err(&burial_err(&[("eco_interments", "1")]), "eco_interments", "超过本期安葬 0", "new_interments 0");
    }

    // --- marriages --------------------------------------------------------------------------

    /// A man born 1990-05-01 and a woman born 1992-07-15.
    fn couple() -> (String, String) {
        (id("19900501", "011"), id("19920715", "022"))
    }

    fn marriage(over: &[(&str, &str)]) -> Result<MarriageRegistration, RowError> {
        let (a, b) = couple();
        let base = [
            ("record_id", "M-1"),
            ("office_id", "M-TZ"),
            ("registered_at", "2026-03-01 10:00"),
            ("kind", "marriage"),
            ("party_a_id", a.as_str()),
            ("party_b_id", b.as_str()),
        ];
        run(Feed::Marriages, &base, over).map(|r| match r {
            Record::Marriage(m) => m,
            other => panic!("not a marriage registration: {other:?}"),
        })
    }

    fn marriage_err(over: &[(&str, &str)]) -> RowError {
        marriage(over).expect_err("row should be rejected")
    }

    #[test]
    fn valid_marriage() {
        let (a, b) = couple();
        let m = marriage(&[("party_a_hukou", "110112"), ("party_b_hukou", "130602"), ("counselling", "是")]).unwrap();
        assert_eq!(m.record_id, "M-1");
        assert_eq!(m.office_id, "M-TZ");
        assert_eq!(m.registered_at, ts("2026-03-01T02:00:00Z"));
        assert_eq!(m.kind, MarriageKind::Marriage);
        assert_eq!(m.party_a_id.unwrap().masked, format!("110105********{}", &a[14..]));
        assert_eq!(m.party_b_id.unwrap().masked, format!("110105********{}", &b[14..]));
        assert_eq!(m.party_a_hukou.as_deref(), Some("110112"));
        assert_eq!(m.party_b_hukou.as_deref(), Some("130602"));
        assert_eq!(m.counselling, Some(true));
    }

    #[test]
    fn required_marriage_columns() {
        for (name, zh) in [
            ("record_id", "记录编号"),
            ("office_id", "登记机关编码"),
            ("registered_at", "登记时间"),
            ("kind", "登记类型"),
        ] {
            let e = marriage_err(&[(name, "")]);
            assert_eq!(
                e.reason,
                Reason::new(format!("{zh}：必填，不能为空"), format!("{name}: required, must not be empty"))
            );
        }
        assert_eq!(
            marriage_err(&[("office_id", "M-X")]).reason,
            Reason::new("登记机关编码：M-X 不在登记表中", "office_id: M-X is not an office in the registry")
        );
        assert_eq!(marriage(&[("office_id", "m-tz")]).unwrap().office_id, "M-TZ");
        assert_err(
            &marriage_err(&[("registered_at", "2026-02-30 10:00")]),
            "registered_at",
            "不是有效的时间",
            "not a valid time",
        );
    }

    #[test]
    fn marriage_kind_aliases() {
        for k in MarriageKind::ALL {
            for word in [k.as_str().to_string(), k.as_str().to_uppercase(), k.zh().to_string()] {
                let over = [("kind", word.as_str()), ("registered_at", "2010-01-01 10:00")];
                // Divorce kinds carry no age check; for a marriage the couple must be of age.
                let over: &[(&str, &str)] = if *k == MarriageKind::Marriage { &over[..1] } else { &over };
                assert_eq!(marriage(over).unwrap().kind, *k, "{word}");
            }
        }
        assert_err(&marriage_err(&[("kind", "wedding")]), "kind", "不是可识别的值", "divorce_application/离婚申请");
    }

    #[test]
    fn party_ids_required_unless_reissue() {
        for (name, zh) in [("party_a_id", "当事人甲身份证号"), ("party_b_id", "当事人乙身份证号")] {
            for kind in ["marriage", "divorce", "divorce_application", "divorce_withdrawal"] {
                let e = marriage_err(&[("kind", kind), (name, "")]);
                assert_eq!(e.column, Some(name));
                assert!(e.reason.zh.starts_with(&format!("{zh}：必填，不能为空")), "{}", e.reason.zh);
                assert!(e.reason.en.starts_with(&format!("{name}: required, must not be empty")), "{}", e.reason.en);
            }
        }
        let m = marriage(&[("kind", "补领"), ("party_a_id", ""), ("party_b_id", "")]).unwrap();
        assert_eq!((m.party_a_id, m.party_b_id), (None, None));
        let m = marriage(&[("kind", "reissue"), ("party_b_id", "")]).unwrap();
        assert!(m.party_a_id.is_some());
        // Still checked when present on a reissue.
        let e = marriage_err(&[("kind", "reissue"), ("party_a_id", ""), ("party_b_id", "110105194912310021")]);
        assert_eq!(
            e.reason,
            Reason::new("当事人乙身份证号：校验位错误（应为 X）", "party_b_id: wrong check digit (expected X)")
        );
    }

    #[test]
    fn party_id_errors_are_masked() {
        for bad in ["110105194912310021", "11010519491231002", "110105194902300021", "1101051949123100X2"] {
            let e = marriage_err(&[("party_a_id", bad)]);
            assert_eq!(e.column, Some("party_a_id"));
            assert!(e.reason.zh.starts_with("当事人甲身份证号："), "{}", e.reason.zh);
            assert!(!e.to_string().contains(bad), "{e}");
        }
        assert_eq!(marriage_err(&[("party_b_id", "abc")]).column, Some("party_b_id"));
        let x = marriage(&[("party_b_id", "11010519491231002x"), ("kind", "divorce")]).unwrap();
        assert_eq!(x.party_b_id.unwrap().masked, "110105********002X");
    }

    #[test]
    fn legal_marriage_age() {
        // A man born 2004-03-01 turns 22 on 2026-03-01; a woman born 2006-03-01 turns 20.
        let man = id("20040301", "011");
        let woman = id("20060301", "022");
        let (a, b) = couple();
        let on =
            |at: &str, pa: &str, pb: &str| marriage(&[("registered_at", at), ("party_a_id", pa), ("party_b_id", pb)]);

        assert!(on("2026-03-01 09:00", &man, &b).is_ok());
        let e = on("2026-02-28 17:00", &man, &b).unwrap_err();
        assert_eq!(e.column, Some("party_a_id"));
        assert_eq!(
            e.reason,
            Reason::new("当事人甲未达法定婚龄（男 22 周岁）", "party_a is under the legal marriage age (22 for a man)")
        );
        assert!(!e.to_string().contains(&man));
        // The local date counts: 07:00 on 1 March in Shanghai is 28 February in UTC.
        assert!(on("2026-03-01T07:00:00+08:00", &man, &b).is_ok());
        assert!(on("2026-02-28T23:00:00Z", &man, &b).is_ok());
        assert!(on("2026-02-28T15:59:59Z", &man, &b).is_err());

        assert!(on("2026-03-01 09:00", &a, &woman).is_ok());
        let e = on("2026-02-28 09:00", &a, &woman).unwrap_err();
        assert_eq!(e.column, Some("party_b_id"));
        assert_eq!(
            e.reason,
            Reason::new(
                "当事人乙未达法定婚龄（女 20 周岁）",
                "party_b is under the legal marriage age (20 for a woman)"
            )
        );
        // A woman of 21 may marry; a man of 21 may not; the rule follows the sex digit, not the party.
        assert!(on("2027-03-01 09:00", &woman, &a).is_ok());
        assert_eq!(on("2025-06-01 09:00", &b, &man).unwrap_err().column, Some("party_b_id"));
        // Party A is reported first.
        assert_eq!(on("2020-01-01 09:00", &man, &woman).unwrap_err().column, Some("party_a_id"));
        // No age rule on other kinds.
        let m = marriage(&[("kind", "divorce"), ("registered_at", "2020-01-01 09:00"), ("party_a_id", &man)]).unwrap();
        assert_eq!(m.kind, MarriageKind::Divorce);
    }

    #[test]
    fn hukou_codes() {
        for name in ["party_a_hukou", "party_b_hukou"] {
            assert_eq!(
                marriage(&[(name, "110112")]).map(|m| m.party_a_hukou.or(m.party_b_hukou)).unwrap().as_deref(),
                Some("110112")
            );
            for bad in ["11011", "1101120", "11011a", "北京市", "110112001"] {
                assert_err(
                    &marriage_err(&[(name, bad)]),
                    name,
                    "不是 6 位行政区划代码",
                    "is not a 6-digit division code",
                );
            }
            // An ID number in the hukou column is not echoed in full.
            let e = marriage_err(&[(name, "11010519491231002X")]);
            assert!(!e.to_string().contains("11010519491231002X"), "{e}");
        }
    }

    #[test]
    fn counselling_booleans() {
        for (text, want) in [
            ("true", true),
            ("TRUE", true),
            ("True", true),
            ("是", true),
            ("yes", true),
            ("Y", true),
            ("1", true),
            ("false", false),
            ("False", false),
            ("否", false),
            ("NO", false),
            ("n", false),
            ("0", false),
        ] {
            assert_eq!(marriage(&[("counselling", text)]).unwrap().counselling, Some(want), "{text}");
        }
        assert_eq!(marriage(&[]).unwrap().counselling, None);
        assert_err(
            &marriage_err(&[("counselling", "maybe")]),
            "counselling",
            "应为 是/否",
            "expected true/false or 是/否",
        );
    }

    // --- cell checks, ID numbers in text, Excel ---------------------------------------------

    #[test]
    fn every_column_has_a_limit_and_long_values_are_refused() {
        for feed in Feed::ALL {
            for c in feed.columns() {
                assert!((16..=500).contains(&c.max_chars), "{}.{}", feed, c.name);
            }
        }
        let long = "A".repeat(65);
        let e = admit_err(&[("record_id", &long)]);
        assert_err(
            &e,
            "record_id",
            "内容过长（65 个字符），此列最多 64 个字符",
            "too long (65 characters); at most 64",
        );
        assert!(!e.to_string().contains(&long));
        assert_eq!(admit(&[("record_id", &"A".repeat(64))]).unwrap().record_id.len(), 64);
        // Characters, not bytes: 500 Chinese characters are a valid note.
        assert_eq!(admit(&[("note", &"备".repeat(500))]).unwrap().note.unwrap().chars().count(), 500);
        assert_err(&admit_err(&[("note", &"备".repeat(501))]), "note", "最多 500 个字符", "at most 500");
        assert_err(&admit_err(&[("name", &"王".repeat(65))]), "name", "最多 64", "at most 64");
        assert_err(&burial_err(&[("note", &"x".repeat(1_000_000))]), "note", "1000000 个字符", "1000000 characters");
    }

    #[test]
    fn control_characters_and_line_breaks() {
        assert_err(&admit_err(&[("name", "张\0三")]), "name", "NUL", "NUL control character");
        assert_err(
            &admit_err(&[("note", "a\u{7}b")]),
            "note",
            "控制字符 U+0007",
            "control character U+0007 (invisible) at character 2",
        );
        assert_err(&admit_err(&[("note", "a\u{85}b")]), "note", "U+0085", "U+0085");
        assert_err(&admit_err(&[("record_id", "A-\n1")]), "record_id", "换行符", "line break");
        assert_err(&admit_err(&[("person_ref", "P\t1")]), "person_ref", "制表符", "tab");
        assert_err(&admit_err(&[("record_id", "A\u{feff}1")]), "record_id", "BOM", "byte-order mark");
        assert_err(&admit_err(&[("name", "张\u{fffd}")]), "name", "替换字符", "replacement character");
        // A note may span lines and hold tabs; full-width text is fine.
        assert_eq!(admit(&[("note", "一\r\n二\t三")]).unwrap().note.as_deref(), Some("一\r\n二\t三"));
        assert_eq!(admit(&[("name", "ＡＢＣ（张）")]).unwrap().name.as_deref(), Some("ＡＢＣ（张）"));
    }

    #[test]
    fn id_numbers_in_free_text_are_masked() {
        let number = id("19800101", "123");
        let masked = format!("110105********{}", &number[14..]);
        let e = admit(&[
            ("name", &format!("张三{number}")),
            ("origin", &format!("河北 {number}")),
            ("note", &format!("身份证：{number}，待核实")),
            ("bed", &number),
        ])
        .unwrap();
        assert_eq!(e.name.unwrap(), format!("张三{masked}"));
        assert_eq!(e.origin.unwrap(), format!("河北 {masked}"));
        assert_eq!(e.note.unwrap(), format!("身份证：{masked}，待核实"));
        assert_eq!(e.bed.unwrap(), masked);
        let b = burial(&[("note", &number)]).unwrap();
        assert_eq!(b.note.unwrap(), masked);
        // Not an ID number (wrong check digit, a phone number): kept.
        assert_eq!(
            admit(&[("note", "110105194912310021 13800138000")]).unwrap().note.unwrap(),
            "110105194912310021 13800138000"
        );
    }

    #[test]
    fn id_numbers_in_identifiers_are_masked_with_a_keyed_suffix() {
        let a = id("19800101", "123");
        let b = id("19810101", "123"); // same first 6 and last 4? not necessarily; compare anyway
        let ra = admit(&[("person_ref", &a), ("record_id", &format!("R-{a}"))]).unwrap();
        assert!(ra.person_ref.starts_with(&format!("110105********{}#", &a[14..])), "{}", ra.person_ref);
        assert_eq!(ra.person_ref.len(), 27);
        assert!(ra.record_id.starts_with("R-110105********"), "{}", ra.record_id);
        assert!(!ra.person_ref.contains(&a) && !ra.record_id.contains(&a));
        // The same number always gives the same person_ref; another number another one.
        let again = admit(&[("person_ref", &a.to_lowercase())]).unwrap();
        assert_eq!(again.person_ref, ra.person_ref);
        assert_ne!(admit(&[("person_ref", &b)]).unwrap().person_ref, ra.person_ref);
        // Ordinary references are kept as they are.
        assert_eq!(admit(&[("person_ref", "P-001")]).unwrap().person_ref, "P-001");
    }

    #[test]
    fn excel_and_input_method_id_numbers() {
        let number = id("19900101", "123");
        for (bad, zh, en) in [
            ("1.10105E+17", "科学计数法", "Excel converted the ID number"),
            ("1.10105e17", "科学计数法", "scientific notation"),
            (&*format!("{number}.0"), "Excel（或其他软件）把身份证号转换成了数字", "format the column as Text"),
            (&*format!("'{number}"), "单引号", "apostrophe"),
            (&*format!("{} {}", &number[..6], &number[6..]), "空格", "spaces inside the number"),
            ("110105199001011000", "Excel 只保留 15 位有效数字", "Excel keeps only 15 significant digits"),
        ] {
            let e = admit_err(&[("id_number", bad)]);
            assert_err(&e, "id_number", zh, en);
            assert!(e.reason.zh.contains("文本") || e.reason.zh.contains("空格"), "{}", e.reason.zh);
            assert!(!e.to_string().contains(&number), "{e}");
            let e = marriage_err(&[("party_b_id", bad)]);
            assert_eq!(e.column, Some("party_b_id"), "{e}");
        }
        // Full-width digits (a Chinese input method) are taken as digits.
        let full: String =
            number.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect();
        let e = admit(&[("id_number", &full)]).unwrap();
        assert_eq!(e.id_number, admit(&[("id_number", &number)]).unwrap().id_number);
    }
}
