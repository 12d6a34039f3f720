//! Citizen ID numbers (居民身份证号码, GB 11643-1999): validation, birth date, sex, masking and
//! the keyed hash under which the store matches people without keeping the number.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A valid 18-character ID number, upper-case `X` check digit. Lives only in memory while a row
/// is validated; never stored, logged or sent.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

/// What is stored instead of an ID number: the masked form and a keyed hash for matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProtectedId {
    /// `110105********123X`: first 6 and last 4 characters.
    pub masked: String,
    /// Keyed hash of the full number, for matching a person without storing the number.
    pub hash: IdHash,
}

/// Keyed hash of an ID number (BLAKE3 keyed mode, truncated to 128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IdHash(pub [u8; 16]);

/// Sex as encoded by the 17th digit (odd: male, even: female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    /// Odd 17th digit.
    Male,
    /// Even 17th digit.
    Female,
}

/// Why a string is not a valid ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters: how many there are.
    #[error("has {0} characters, expected 18")]
    Length(usize),
    /// A character that is not a digit, or an X before the last position.
    #[error("character {position} is `{found}`, expected a digit (or X as the last character)")]
    BadCharacter {
        /// 1-based position of the character.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Digits 7–14 are not a real date between 1800 and 2100: those digits as `YYYY-MM-DD`.
    #[error("birth date {0} does not exist or is not between 1800 and 2100")]
    BadBirthDate(String),
    /// The 18th character is not the GB 11643 check digit of the first 17.
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit {
        /// The last character given.
        found: char,
        /// The check digit the first 17 digits call for.
        expected: char,
    },
}

impl IdNumber {
    /// Parses and validates: 18 characters, 17 digits then a digit or `X` (`x` accepted; the
    /// full-width digits and `Ｘ` of a Chinese input method are taken as their ASCII forms),
    /// an existing birth date (years 1800–2100), and the ISO 7064 MOD 11-2 check digit. Blanks
    /// around the number are ignored. Checked in that order; errors never contain the number.
    pub fn parse(text: &str) -> Result<IdNumber, IdNumberError> {
        let text = text.trim();
        let len = text.chars().count();
        if len != 18 {
            return Err(IdNumberError::Length(len));
        }
        let mut normalised = String::with_capacity(18);
        for (i, c) in text.chars().enumerate() {
            match id_char(c) {
                Some(IdChar::Digit(d)) => normalised.push(d),
                Some(IdChar::X) if i == 17 => normalised.push('X'),
                _ => return Err(IdNumberError::BadCharacter { position: i + 1, found: c }),
            }
        }
        let bytes = normalised.as_bytes();
        if birth_date_of(bytes).is_none() {
            let d = &normalised[6..14];
            return Err(IdNumberError::BadBirthDate(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])));
        }
        let expected = check_digit(bytes);
        let found = bytes[17] as char;
        if found != expected {
            return Err(IdNumberError::CheckDigit { found, expected });
        }
        Ok(IdNumber(normalised))
    }

    /// The full number, normalised (upper-case `X`); never store or log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The check character (`0`–`9` or `X`) that completes a 17-digit body, or `None` when
    /// `body` is not exactly 17 ASCII digits. For generators of test and demo data.
    pub fn check_digit_for(body: &str) -> Option<char> {
        (body.len() == 17 && body.bytes().all(|b| b.is_ascii_digit())).then(|| check_digit(body.as_bytes()))
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> Date {
        birth_date_of(self.0.as_bytes()).expect("validated at parse")
    }

    /// From the 17th digit: odd is male, even is female.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Full years of age on `on` (negative when `on` is before the birth date). A person born on
    /// 29 February turns a year older on 1 March in common years.
    pub fn age_on(&self, on: Date) -> i64 {
        let birth = self.birth_date();
        let mut age = i64::from(on.year()) - i64::from(birth.year());
        if (on.month(), on.day()) < (birth.month(), birth.day()) {
            age -= 1;
        }
        age
    }

    /// `110105********123X`.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    /// What is stored instead of the number: its masked form and keyed hash.
    pub fn protect(&self, hasher: &IdHasher) -> ProtectedId {
        ProtectedId { masked: self.masked(), hash: hasher.hash(self) }
    }
}

impl std::fmt::Debug for IdNumber {
    /// Never prints the number itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// ISO 7064 MOD 11-2 weights of the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder mod 11.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character of an ID number whose first 17 bytes are ASCII digits.
fn check_digit(digits: &[u8]) -> char {
    let sum: u32 = digits[..17].iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

/// The birth date in bytes 6..14 (ASCII digits), if it exists and lies in 1800–2100.
///
/// The lower bound is 1800, not 1900: the standard's own worked example (440524188001010014,
/// in shared/data/citizen_id_examples.csv) is born in 1880.
fn birth_date_of(digits: &[u8]) -> Option<Date> {
    let num = |r: std::ops::Range<usize>| digits[r].iter().fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
    let (y, m, d) = (num(6..10), num(10..12), num(12..14));
    if !(1800..=2100).contains(&y) {
        return None;
    }
    Date::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

/// First 6 and last 4 characters, 8 `*` between them (for an 18-character string).
fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    if n <= 10 {
        return "*".repeat(n);
    }
    let mut out: String = chars[..6].iter().collect();
    out.extend(std::iter::repeat_n('*', n - 10));
    out.extend(&chars[n - 4..]);
    out
}

/// Masks anything in `text` that looks like an ID number (a run of 15 or more digits / `X`
/// holding at least 14 digits), keeping its first 6 and last 4 characters. For echoing
/// user-supplied values in messages and logs when a column may hold a misplaced ID number.
pub fn redact_id_numbers(text: &str) -> String {
    // Works on bytes: digits and X are ASCII, and no byte of a multi-byte UTF-8 character is
    // ASCII, so every run boundary is a character boundary. Text without a long enough run
    // (nearly all of it) is copied as it is.
    let is_id_byte = |b: u8| b.is_ascii_digit() || b == b'X' || b == b'x';
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_id_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_id_byte(bytes[i]) {
            i += 1;
        }
        let run = &text[start..i];
        let digits = run.bytes().filter(u8::is_ascii_digit).count();
        if run.len() >= 15 && digits >= 14 {
            out.reserve(text.len());
            out.push_str(&text[copied..start]);
            out.push_str(&mask(run));
            copied = i;
        }
    }
    if copied == 0 {
        return text.to_owned();
    }
    out.push_str(&text[copied..]);
    out
}

/// A character of an ID number: a digit (ASCII or full-width, as ASCII) or the letter X.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdChar {
    Digit(char),
    X,
}

fn id_char(c: char) -> Option<IdChar> {
    match c {
        '0'..='9' => Some(IdChar::Digit(c)),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).map(IdChar::Digit),
        'X' | 'x' | 'Ｘ' | 'ｘ' => Some(IdChar::X),
        _ => None,
    }
}

/// Characters in an ID number.
const ID_LEN: usize = 18;

/// Cheap test that `text` may hold an ID number: a run of 18 digits or `X` (ASCII or
/// full-width). One pass over the bytes, no allocation; most text fails it.
fn may_hold_id_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < ID_LEN {
        return false;
    }
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let width = if b.is_ascii_digit() || b == b'X' || b == b'x' {
            1
        } else if b == 0xEF && matches!(bytes.get(i + 1..i + 3), Some([0xBC, 0x90..=0x99 | 0xB8] | [0xBD, 0x98])) {
            3 // ０–９, Ｘ, ｘ
        } else {
            0
        };
        if width == 0 {
            run = 0;
            i += 1;
        } else {
            run += 1;
            if run >= ID_LEN {
                return true;
            }
            i += width;
        }
    }
    false
}

/// The valid ID numbers inside `text`, as byte ranges with the parsed number, left to right and
/// not overlapping. Only runs of 18 or more digits/`X` (ASCII or full-width) are looked at; in a
/// longer run every 18-character window is tried.
pub fn find_id_numbers(text: &str) -> Vec<(std::ops::Range<usize>, IdNumber)> {
    let mut found = Vec::new();
    if !may_hold_id_number(text) {
        return found;
    }
    // (byte offset, char) of the current run of ID characters.
    let mut run: Vec<(usize, char)> = Vec::new();
    let mut flush = |run: &mut Vec<(usize, char)>, end: usize| {
        let mut i = 0;
        while run.len() >= ID_LEN && i + ID_LEN <= run.len() {
            let window = &run[i..i + ID_LEN];
            let candidate: String = window.iter().map(|(_, c)| *c).collect();
            if let Ok(id) = IdNumber::parse(&candidate) {
                let stop = run.get(i + ID_LEN).map_or(end, |(o, _)| *o);
                found.push((window[0].0..stop, id));
                i += ID_LEN;
            } else {
                i += 1;
            }
        }
        run.clear();
    };
    for (off, c) in text.char_indices() {
        if id_char(c).is_some() {
            run.push((off, c));
        } else {
            flush(&mut run, off);
        }
    }
    flush(&mut run, text.len());
    found
}

/// Replaces every valid ID number inside `text` (see [`find_id_numbers`]) by its masked form,
/// or, with a hasher, by the masked form, `#` and the first 8 hex digits of its keyed hash (the
/// same number always gives the same text; two numbers with the same masked form differ).
/// Borrows `text` when it holds none.
///
/// The result is scanned again until it holds no ID number: characters next to a replacement
/// can form a new run that was never a window of the original.
pub fn protect_id_numbers_in<'a>(text: &'a str, hasher: Option<&IdHasher>) -> std::borrow::Cow<'a, str> {
    let mut found = find_id_numbers(text);
    if found.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = replace_id_numbers(text, &found, hasher);
    // Each pass turns at least 8 digits into `*`: this ends.
    loop {
        found = find_id_numbers(&out);
        if found.is_empty() {
            return std::borrow::Cow::Owned(out);
        }
        out = replace_id_numbers(&out, &found, hasher);
    }
}

fn replace_id_numbers(text: &str, found: &[(std::ops::Range<usize>, IdNumber)], hasher: Option<&IdHasher>) -> String {
    let mut out = String::with_capacity(text.len() + 9 * found.len());
    let mut at = 0;
    for (range, id) in found {
        out.push_str(&text[at..range.start]);
        out.push_str(&id.masked());
        if let Some(h) = hasher {
            out.push('#');
            for b in &h.hash(id).0[..4] {
                let _ = write!(out, "{b:02x}");
            }
        }
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Computes [`IdHash`]es with the store's secret key (`<data>/id-hash.key`).
#[derive(Clone)]
pub struct IdHasher {
    key: [u8; 32],
}

impl IdHasher {
    /// A hasher under `key`, the district's (or the city's) secret ID key.
    pub fn new(key: [u8; 32]) -> Self {
        IdHasher { key }
    }

    /// The keyed BLAKE3 hash of the number, cut to 16 bytes.
    pub fn hash(&self, id: &IdNumber) -> IdHash {
        let h = blake3::keyed_hash(&self.key, id.as_str().as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.as_bytes()[..16]);
        IdHash(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    // Values from shared/data/citizen_id_examples.csv.
    const BEIJING: &str = "11010519491231002X";
    const SHANTOU: &str = "440524188001010014";
    const WORKED: &str = "34052419800101001X";
    const WRONG_CHECK: &str = "110105194912310021";

    #[test]
    fn valid_examples() {
        for id in [BEIJING, SHANTOU, WORKED] {
            let parsed = IdNumber::parse(id).unwrap();
            assert_eq!(parsed.as_str(), id);
        }
        assert_eq!(IdNumber::parse(SHANTOU).unwrap().birth_date(), date(1880, 1, 1));
        assert_eq!(IdNumber::parse(BEIJING).unwrap().birth_date(), date(1949, 12, 31));
    }

    #[test]
    fn lowercase_x_is_normalised_and_blanks_trimmed() {
        let id = IdNumber::parse(" 11010519491231002x ").unwrap();
        assert_eq!(id.as_str(), BEIJING);
        assert_eq!(IdNumber::parse("34052419800101001x").unwrap().as_str(), WORKED);
    }

    #[test]
    fn wrong_check_digit() {
        assert_eq!(IdNumber::parse(WRONG_CHECK), Err(IdNumberError::CheckDigit { found: '1', expected: 'X' }));
        assert_eq!(IdNumber::parse("440524188001010015"), Err(IdNumberError::CheckDigit { found: '5', expected: '4' }));
        assert_eq!(IdNumber::parse("340524198001010010"), Err(IdNumberError::CheckDigit { found: '0', expected: 'X' }));
    }

    #[test]
    fn bad_birth_dates() {
        // 30 February, month 13, 1799 and 2101 (check digits irrelevant: the date is checked first).
        assert_eq!(IdNumber::parse("110105194902300021"), Err(IdNumberError::BadBirthDate("1949-02-30".into())));
        assert!(matches!(IdNumber::parse("110105194913010021"), Err(IdNumberError::BadBirthDate(_))));
        assert!(matches!(IdNumber::parse("110105179912310021"), Err(IdNumberError::BadBirthDate(_))));
        assert!(matches!(IdNumber::parse("110105210101010021"), Err(IdNumberError::BadBirthDate(_))));
        // 29 February only in leap years.
        assert!(matches!(IdNumber::parse("110105190002290021"), Err(IdNumberError::BadBirthDate(_))));
        assert!(matches!(IdNumber::parse("110105000000000021"), Err(IdNumberError::BadBirthDate(_))));
        assert!(!matches!(IdNumber::parse("110105200002290021"), Err(IdNumberError::BadBirthDate(_))));
    }

    #[test]
    fn wrong_lengths_and_letters() {
        assert_eq!(IdNumber::parse(""), Err(IdNumberError::Length(0)));
        assert_eq!(IdNumber::parse("1101051949123100"), Err(IdNumberError::Length(16)));
        assert_eq!(IdNumber::parse("110105491231002"), Err(IdNumberError::Length(15)));
        assert_eq!(IdNumber::parse("11010519491231002X1"), Err(IdNumberError::Length(19)));
        // Full-width digits and X (a Chinese input method) are the same number.
        assert_eq!(IdNumber::parse("11010519491231002Ｘ").unwrap().as_str(), BEIJING);
        assert_eq!(IdNumber::parse("１１０１０５１９４９１２３１００２ｘ").unwrap().as_str(), BEIJING);
        assert_eq!(
            IdNumber::parse("11010519491231002Ｙ"),
            Err(IdNumberError::BadCharacter { position: 18, found: 'Ｙ' })
        );
        assert_eq!(
            IdNumber::parse("1101051949123100X2"),
            Err(IdNumberError::BadCharacter { position: 17, found: 'X' })
        );
        assert_eq!(IdNumber::parse("11O105194912310021"), Err(IdNumberError::BadCharacter { position: 3, found: 'O' }));
        assert_eq!(
            IdNumber::parse("11010519491231002Y"),
            Err(IdNumberError::BadCharacter { position: 18, found: 'Y' })
        );
    }

    #[test]
    fn errors_never_contain_the_number() {
        for bad in [WRONG_CHECK, "110105194902300021", "11010519491231002Y"] {
            let msg = IdNumber::parse(bad).unwrap_err().to_string();
            assert!(!msg.contains(bad), "{msg}");
            assert!(!msg.contains("0105194"), "{msg}");
        }
    }

    #[test]
    fn sex_from_seventeenth_digit() {
        assert_eq!(IdNumber::parse(BEIJING).unwrap().sex(), Sex::Female); // 17th digit 2
        assert_eq!(IdNumber::parse(SHANTOU).unwrap().sex(), Sex::Male); // 17th digit 1
        assert_eq!(IdNumber::parse(WORKED).unwrap().sex(), Sex::Male);
    }

    #[test]
    fn age_in_full_years() {
        let id = IdNumber::parse(BEIJING).unwrap(); // born 1949-12-31
        assert_eq!(id.age_on(date(2026, 12, 30)), 76);
        assert_eq!(id.age_on(date(2026, 12, 31)), 77);
        assert_eq!(id.age_on(date(1949, 12, 31)), 0);
        assert_eq!(id.age_on(date(1949, 12, 30)), -1);
        let leap = IdNumber::parse(&with_check("11010520000229002")).unwrap();
        assert_eq!(leap.age_on(date(2022, 2, 28)), 21);
        assert_eq!(leap.age_on(date(2022, 3, 1)), 22);
        assert_eq!(leap.age_on(date(2024, 2, 29)), 24);
    }

    #[test]
    fn masked_and_debug() {
        let id = IdNumber::parse(BEIJING).unwrap();
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
        let p = id.protect(&IdHasher::new([7; 32]));
        assert_eq!(p.masked, "110105********002X");
        assert!(!format!("{p:?}").contains(BEIJING));
    }

    #[test]
    fn keyed_hash_depends_on_key_and_number() {
        let a = IdNumber::parse(BEIJING).unwrap();
        let b = IdNumber::parse(WORKED).unwrap();
        let h1 = IdHasher::new([1; 32]);
        let h2 = IdHasher::new([2; 32]);
        assert_eq!(h1.hash(&a), h1.hash(&IdNumber::parse("11010519491231002x").unwrap()));
        assert_ne!(h1.hash(&a), h1.hash(&b));
        assert_ne!(h1.hash(&a), h2.hash(&a));
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_id_numbers("id 11010519491231002X here"), "id 110105********002X here");
        assert_eq!(redact_id_numbers("110105491231002"), "110105*****1002");
        assert_eq!(redact_id_numbers("2026-03-01 08:30"), "2026-03-01 08:30");
        assert_eq!(redact_id_numbers("12345678901234"), "12345678901234");
        assert_eq!(redact_id_numbers("中文11010519491231002x"), "中文110105********002x");
    }

    /// Appends the right check digit to a 17-digit body.
    fn with_check(body: &str) -> String {
        format!("{body}{}", IdNumber::check_digit_for(body).unwrap())
    }

    #[test]
    fn check_digit_for_bodies() {
        assert_eq!(IdNumber::check_digit_for("11010519491231002"), Some('X'));
        assert_eq!(IdNumber::check_digit_for("44052418800101001"), Some('4'));
        assert_eq!(IdNumber::check_digit_for("4405241880010100"), None);
        assert_eq!(IdNumber::check_digit_for("4405241880010100X"), None);
    }

    #[test]
    fn generated_ids_round_trip() {
        for body in ["11010519900307123", "44030420011231456", "65010219000101000"] {
            let id = with_check(body);
            assert_eq!(IdNumber::parse(&id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn id_numbers_found_in_text() {
        let h = IdHasher::new([3; 32]);
        assert_eq!(protect_id_numbers_in("张三 住址不详", None), "张三 住址不详");
        assert!(matches!(protect_id_numbers_in("no id here 2026-03-01", None), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            protect_id_numbers_in("身份证11010519491231002x，待核实", None),
            "身份证110105********002x，待核实".replace("002x", "002X")
        );
        assert_eq!(protect_id_numbers_in("１１０１０５１９４９１２３１００２Ｘ", None), "110105********002X");
        assert_eq!(protect_id_numbers_in("１１０１０５19491231００２x号", None), "110105********002X号");
        assert!(!may_hold_id_number("备注，（全角标点）：１２３，电话13800138000"));
        assert!(may_hold_id_number("１１０１０５19491231００２x"));
        // A wrong check digit is not an ID number: left as it is.
        assert_eq!(protect_id_numbers_in(WRONG_CHECK, None), WRONG_CHECK);
        // Two numbers glued to other digits: every window is tried.
        let glued = format!("9{BEIJING}{SHANTOU}7");
        assert_eq!(protect_id_numbers_in(&glued, None), "9110105********002X440524********00147");
        // Identifiers: masked plus a keyed suffix, stable and distinct.
        let a = protect_id_numbers_in(BEIJING, Some(&h)).into_owned();
        assert!(a.starts_with("110105********002X#") && a.len() == 18 + 9, "{a}");
        assert_eq!(a, protect_id_numbers_in("11010519491231002x", Some(&h)));
        let same_mask = with_check("11010519501231002");
        let m = IdNumber::parse(&same_mask).map(|i| i.masked());
        if m.as_deref() == Ok("110105********002X") {
            assert_ne!(a, protect_id_numbers_in(&same_mask, Some(&h)));
        }
        assert_ne!(a, protect_id_numbers_in(BEIJING, Some(&IdHasher::new([4; 32]))));
    }

    proptest::proptest! {
        /// Masking never leaves a valid ID number in any text, whatever surrounds it.
        #[test]
        fn masking_leaves_no_id_number(
            before in "[0-9Xx a-z中文０-９]{0,30}",
            body in "[1-6][0-9]{5}(19[0-9]{2}|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}",
            after in "[0-9Xx a-z中文０-９]{0,30}",
            keyed in proptest::bool::ANY,
        ) {
            let id = with_check(&body);
            let text = format!("{before}{id}{after}");
            let h = IdHasher::new([5; 32]);
            let out = protect_id_numbers_in(&text, keyed.then_some(&h));
            proptest::prop_assert!(find_id_numbers(&out).is_empty(), "{} -> {}", text, out);
            proptest::prop_assert!(!out.contains(&id), "{} -> {}", text, out);
        }
    }
}
