//! Building runs for tests.
#![allow(dead_code)]

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_domain::{ActivityId, Distance, Horizon, LocalStart, Run};

/// A run of `km` at 07:00 local (UTC-5) on `day`, with a given id.
pub fn run_on(id: i64, day: Date, km: f64) -> Run {
    let start = LocalStart::parse(&format!("{day}T07:00:00-05:00")).unwrap();
    run_at(id, start, km)
}

/// A run of `km` at an exact local start.
pub fn run_at(id: i64, start: LocalStart, km: f64) -> Run {
    Run {
        id: ActivityId::new(id).unwrap(),
        start,
        distance: Distance::from_km(km).unwrap(),
        duration_s: km * 330.0,
        is_running: true,
        is_treadmill: false,
        origin: myrunstreak_domain::RunOrigin::SmashRun,
    }
}

/// Runs of 5 km on each listed date (`"05-01"` means 2026-05-01).
pub fn runs(days: &[&str]) -> Vec<Run> {
    days.iter()
        .enumerate()
        .map(|(i, d)| run_on(i as i64 + 1, format!("2026-{d}").parse().unwrap(), 5.0))
        .collect()
}

/// Judged at noon of `today` in UTC-5.
pub fn horizon(today: Date) -> Horizon {
    let zone = TimeZone::fixed(jiff::tz::offset(-5));
    let now: Timestamp = today
        .at(12, 0, 0, 0)
        .to_zoned_datetime(zone.clone())
        .unwrap()
        .timestamp();
    let h = Horizon::at(now, &zone).unwrap();
    assert_eq!(h.today, today);
    assert_eq!(h.time_left, SignedDuration::from_hours(12));
    h
}

pub fn may(day: i8) -> Date {
    date(2026, 5, day)
}
