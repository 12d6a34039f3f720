//! Generated people (人员): sex, a name that fits it, a birth date that gives the asked age,
//! an ID number whose birth date and sex digit agree with both, and the origin its region names.

use crate::{id_number, names, places, Rng};
use jiff::civil::Date;

/// Sex as written on an admission form (`gender` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// 男; an odd sex digit in the ID number.
    Male,
    /// 女; an even sex digit in the ID number.
    Female,
}

impl Sex {
    /// The `gender` code of an admission row.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Male `percent` times in a hundred.
    pub fn random(rng: &mut Rng, male_percent: u64) -> Sex {
        if rng.chance(male_percent) {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// A generated citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// A Chinese name that fits `sex`.
    pub name: String,
    /// The person's sex, agreeing with the name and the ID number.
    pub sex: Sex,
    /// The birth date the ID number carries.
    pub birth: Date,
    /// A valid GB 11643 ID number (18 characters, correct check digit).
    pub id: String,
    /// The place the ID number's region code names.
    pub origin: &'static str,
}

/// A birth date of someone exactly `age` years old on `on` (day 1..=28, so always valid).
pub fn birth_for_age(rng: &mut Rng, on: Date, age: i16) -> Date {
    let (month, day) = (rng.range(1, 12) as i8, rng.range(1, 28) as i8);
    // A birthday later in the year than `on` means the person was born a year earlier.
    let year = if (month, day) > (on.month(), on.day()) { on.year() - age - 1 } else { on.year() - age };
    Date::new(year, month, day).unwrap_or(on)
}

/// Someone of `sex`, `age` years old on `on`, from one of [`places::REGIONS`].
pub fn person(rng: &mut Rng, on: Date, age: i16, sex: Sex) -> Person {
    let (region, origin) = *rng.pick(places::REGIONS);
    let birth = birth_for_age(rng, on, age);
    let id = id_number::random(rng, region, birth, sex);
    Person { name: names::name(rng, sex), sex, birth, id, origin }
}

/// Full years between `birth` and `on`.
pub fn age_on(birth: Date, on: Date) -> i16 {
    let before_birthday = (on.month(), on.day()) < (birth.month(), birth.day());
    on.year() - birth.year() - i16::from(before_birthday)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_consistent() {
        let mut rng = Rng::new(11);
        let on = jiff::civil::date(2026, 3, 15);
        for age in [0, 15, 17, 18, 40, 79] {
            for sex in [Sex::Male, Sex::Female] {
                let p = person(&mut rng, on, age, sex);
                assert_eq!(age_on(p.birth, on), age, "{p:?}");
                assert_eq!(id_number::sex_of(&p.id), Some(sex));
                assert!(p.id.contains(&p.birth.strftime("%Y%m%d").to_string()));
                assert_eq!(places::region_name(&p.id), Some(p.origin));
                let given = if sex == Sex::Male { names::MALE_GIVEN } else { names::FEMALE_GIVEN };
                assert!(given.iter().any(|g| p.name.ends_with(g)), "{p:?}");
                assert_eq!(id_number::check_digit(&p.id[..17]), p.id.chars().last().unwrap());
            }
        }
    }
}
