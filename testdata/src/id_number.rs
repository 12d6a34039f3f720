//! Citizen ID numbers (居民身份证号码, GB 11643-1999): region, birth date, sequence, sex digit
//! (odd for a man, even for a woman) and the check character, computed here independently of
//! the code under test.

use crate::{Rng, Sex};
use jiff::civil::Date;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character of a 17-digit body. Panics on anything else (a bug in the caller).
pub fn check_digit(body: &str) -> char {
    assert!(body.len() == 17 && body.bytes().all(|b| b.is_ascii_digit()), "bad ID body {body}");
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

/// A valid ID number: 6-digit region, `YYYYMMDD` birth date, a 2-digit sequence (`seq < 100`)
/// and the sex digit (odd for a man, even for a woman, derived from `seq`), then the check digit.
pub fn id_number(region: &str, birth: &str, seq: u32, male: bool) -> String {
    assert!(seq < 100);
    let sex = if male { 1 + 2 * (seq % 5) } else { 2 * (seq % 5) };
    let body = format!("{region}{birth}{seq:02}{sex}");
    format!("{body}{}", check_digit(&body))
}

/// The same with a wrong check digit.
pub fn id_number_bad_check(region: &str, birth: &str, seq: u32, male: bool) -> String {
    with_wrong_check(&id_number(region, birth, seq, male))
}

/// `id` with its check character replaced by a wrong one.
pub fn with_wrong_check(id: &str) -> String {
    let last = id.chars().last().unwrap_or('1');
    let wrong = if last == '1' { '2' } else { '1' };
    format!("{}{wrong}", &id[..17])
}

/// A random valid ID number of someone of `sex` born on `birth` in `region`.
pub fn random(rng: &mut Rng, region: &str, birth: Date, sex: Sex) -> String {
    let seq = rng.range(0, 99) as u32;
    id_number(region, &birth.strftime("%Y%m%d").to_string(), seq, sex == Sex::Male)
}

/// The sex an ID number's 17th digit states.
pub fn sex_of(id: &str) -> Option<Sex> {
    let d = id.as_bytes().get(16)?.checked_sub(b'0')?;
    (d <= 9).then_some(if d % 2 == 1 { Sex::Male } else { Sex::Female })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_the_reference_examples() {
        assert_eq!(check_digit("11010519491231002"), 'X');
        assert_eq!(check_digit("44052418800101001"), '4');
    }

    #[test]
    fn the_sex_digit_follows_the_sex() {
        let mut rng = Rng::new(9);
        let birth = jiff::civil::date(1980, 5, 6);
        for _ in 0..50 {
            assert_eq!(sex_of(&random(&mut rng, "110112", birth, Sex::Male)), Some(Sex::Male));
            assert_eq!(sex_of(&random(&mut rng, "110112", birth, Sex::Female)), Some(Sex::Female));
        }
    }
}
