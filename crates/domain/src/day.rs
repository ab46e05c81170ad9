use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::{DomainError, LocalStart};

/// How a run's calendar day is chosen.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum DayPolicy {
    /// The local date written in the run's start: the clock where the run happened (default).
    #[default]
    LocalClock,
    /// The run's start instant seen from the runner's home zone.
    HomeZone(TimeZone),
}

impl DayPolicy {
    /// The calendar day a run belongs to. A run that crosses midnight belongs to the day it started.
    pub fn day_of(&self, start: &LocalStart) -> Date {
        match self {
            DayPolicy::LocalClock => start.date(),
            DayPolicy::HomeZone(zone) => start.instant().to_zoned_datetime(zone.clone()).date(),
        }
    }

    /// The runner's zone: the home zone when configured, else the fixed UTC offset of the most
    /// recent run, else UTC.
    pub fn runner_zone(&self, latest: Option<&LocalStart>) -> TimeZone {
        match (self, latest) {
            (DayPolicy::HomeZone(zone), _) => zone.clone(),
            (DayPolicy::LocalClock, Some(start)) => TimeZone::fixed(start.offset()),
            (DayPolicy::LocalClock, None) => TimeZone::UTC,
        }
    }
}

/// The moment the streak is judged: which date is "today", and how much of it is left.
#[derive(Clone, Debug, PartialEq)]
pub struct Horizon {
    /// Today's date in the runner's zone.
    pub today: Date,
    /// Time left until local midnight at the end of today (zero at or after it).
    pub time_left: SignedDuration,
    /// Whether runs dated after today must be ignored (`--as-of`).
    pub cut_off_after_today: bool,
}

impl Horizon {
    /// Today as it is at `now` in `zone`. Runs dated after today are kept: a runner who flew
    /// east can have a run dated tomorrow.
    pub fn at(now: Timestamp, zone: &TimeZone) -> Result<Self, DomainError> {
        let today = now.to_zoned_datetime(zone.clone()).date();
        Ok(Horizon {
            today,
            time_left: time_until_end_of(today, now, zone)?,
            cut_off_after_today: false,
        })
    }

    /// Today is `date`, and only runs dated `date` or earlier exist: the answer a runner would
    /// have seen at the end of that day (or now, if `date` is today in `zone`).
    pub fn as_of(date: Date, now: Timestamp, zone: &TimeZone) -> Result<Self, DomainError> {
        Ok(Horizon {
            today: date,
            time_left: time_until_end_of(date, now, zone)?,
            cut_off_after_today: true,
        })
    }
}

/// From `now` to the local midnight that ends `date`, clamped to that day's length.
fn time_until_end_of(
    date: Date,
    now: Timestamp,
    zone: &TimeZone,
) -> Result<SignedDuration, DomainError> {
    let out_of_range = |e: jiff::Error| DomainError::DateOutOfRange(e.to_string());
    let start = date.to_zoned_datetime(zone.clone()).map_err(out_of_range)?;
    let end = date
        .tomorrow()
        .map_err(out_of_range)?
        .to_zoned_datetime(zone.clone())
        .map_err(out_of_range)?;
    let day_length = end.timestamp().duration_since(start.timestamp());
    let left = end.timestamp().duration_since(now);
    Ok(left.clamp(SignedDuration::ZERO, day_length))
}

/// Days since 1970-01-01: consecutive dates have consecutive numbers.
pub fn day_number(date: Date) -> i64 {
    date.duration_since(jiff::civil::date(1970, 1, 1))
        .as_hours()
        / 24
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn home_zone_moves_a_run_to_the_zone_s_date() {
        let start = LocalStart::parse("2026-05-02T23:30:00-07:00").unwrap();
        assert_eq!(DayPolicy::LocalClock.day_of(&start), date(2026, 5, 2));
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(DayPolicy::HomeZone(ny).day_of(&start), date(2026, 5, 3));
    }

    #[test]
    fn time_left_runs_to_local_midnight() {
        let zone = TimeZone::fixed(jiff::tz::offset(-7));
        let now: Timestamp = "2026-05-03T01:00:00Z".parse().unwrap(); // 18:00 on 05-02 local
        let h = Horizon::at(now, &zone).unwrap();
        assert_eq!(h.today, date(2026, 5, 2));
        assert_eq!(h.time_left, SignedDuration::from_hours(6));
    }

    #[test]
    fn time_left_is_zero_for_a_past_day_and_a_full_day_for_a_future_one() {
        let now: Timestamp = "2026-05-03T12:00:00Z".parse().unwrap();
        let past = Horizon::as_of(date(2026, 4, 1), now, &TimeZone::UTC).unwrap();
        assert_eq!(past.time_left, SignedDuration::ZERO);
        let future = Horizon::as_of(date(2026, 6, 1), now, &TimeZone::UTC).unwrap();
        assert_eq!(future.time_left, SignedDuration::from_hours(24));
    }

    #[test]
    fn dst_day_is_23_hours_long() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let now: Timestamp = "2026-03-08T05:00:00Z".parse().unwrap(); // 00:00 EST on 03-08
        let h = Horizon::at(now, &ny).unwrap();
        assert_eq!(h.today, date(2026, 3, 8));
        assert_eq!(h.time_left, SignedDuration::from_hours(23));
    }

    #[test]
    fn day_numbers_are_consecutive() {
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(
            day_number(date(2024, 3, 1)) - day_number(date(2024, 2, 28)),
            2
        );
    }
}
