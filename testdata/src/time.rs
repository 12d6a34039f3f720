//! Times for generated rows: the registry zone's office hours (办公时间, 08:30–17:00 on
//! weekdays), when registrations happen, and the row time format.

use crate::Rng;
use jiff::civil::{Date, DateTime, Time, Weekday};

/// Opening of the registration offices.
pub const OPENS: Time = Time::constant(8, 30, 0, 0);
/// Closing of the registration offices.
pub const CLOSES: Time = Time::constant(17, 0, 0, 0);

/// Whether `date` is a working day (Monday to Friday; public holidays are not modelled).
pub fn is_weekday(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Whether a local time falls in office hours.
pub fn in_office_hours(at: DateTime) -> bool {
    is_weekday(at.date()) && at.time() >= OPENS && at.time() < CLOSES
}

/// A random local time in office hours on `date`, or `None` on a weekend.
pub fn office_time(rng: &mut Rng, date: Date) -> Option<DateTime> {
    if !is_weekday(date) {
        return None;
    }
    let open = i64::from(OPENS.hour()) * 3600 + i64::from(OPENS.minute()) * 60;
    let close = i64::from(CLOSES.hour()) * 3600;
    let secs = rng.range(open as u64, close as u64 - 1) as i64;
    let time = Time::new((secs / 3600) as i8, (secs / 60 % 60) as i8, (secs % 60) as i8, 0).ok()?;
    Some(date.to_datetime(time))
}

/// `YYYY-MM-DD HH:MM:SS`, the time format of the drop files.
pub fn row_time(at: DateTime) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_times_are_in_office_hours() {
        let mut rng = Rng::new(5);
        let monday = jiff::civil::date(2026, 3, 16);
        for _ in 0..200 {
            assert!(in_office_hours(office_time(&mut rng, monday).unwrap()));
        }
        assert_eq!(office_time(&mut rng, jiff::civil::date(2026, 3, 15)), None, "a Sunday");
        assert!(!in_office_hours(monday.at(17, 0, 0, 0)));
        assert!(!in_office_hours(monday.at(8, 29, 59, 0)));
    }
}
