//! Totals and records on run days.

mod common;

use common::{run_at, run_on};
use jiff::civil::date;
use myrunstreak_domain::{DayPolicy, Distance, LocalStart, analyze};

#[test]
fn totals_and_periods_follow_run_days_not_utc_dates() {
    // 23:30 on Dec 31 in UTC-8 is already January 1st in UTC: it stays in the old year.
    let nye = LocalStart::parse("2025-12-31T23:30:00-08:00").unwrap();
    let runs = vec![
        run_at(1, nye, 5.0),
        run_on(2, date(2026, 1, 1), 10.0),
        run_on(3, date(2026, 1, 1), 3.0),
    ];
    let a = analyze(&runs, &DayPolicy::LocalClock);
    assert_eq!(a.all_time.runs, 3);
    assert_eq!(a.all_time.run_days, 2);
    assert_eq!(a.all_time.distance, Distance::from_km(18.0).unwrap());
    let years: Vec<(&str, u32)> = a
        .years
        .iter()
        .map(|p| (p.period.as_str(), p.totals.runs))
        .collect();
    assert_eq!(years, [("2025", 1), ("2026", 2)]);
    assert_eq!(a.months[1].period, "2026-01");
    assert_eq!(a.months[1].totals.run_days, 1);
    // 2026-01-01 is a Thursday in ISO week 2026-W01; 2025-12-31 is in the same ISO week.
    assert_eq!(a.weeks.len(), 1);
    assert_eq!(a.weeks[0].period, "2026-W01");
    assert_eq!(a.weeks[0].start, date(2025, 12, 29));
}

#[test]
fn average_pace_is_total_time_over_total_distance_and_ignores_untimed_runs() {
    let mut manual = run_on(3, date(2026, 1, 3), 10.0);
    manual.duration_s = 0.0;
    let mut a = run_on(1, date(2026, 1, 1), 5.0);
    a.duration_s = 1500.0;
    let mut b = run_on(2, date(2026, 1, 2), 10.0);
    b.duration_s = 3300.0;
    let t = analyze(&[a, b, manual], &DayPolicy::LocalClock).all_time;
    assert_eq!(t.avg_pace_s_per_km, Some(4800.0 / 15.0));
    assert_eq!(t.distance, Distance::from_km(25.0).unwrap());
}

#[test]
fn records() {
    let mut fast5 = run_on(1, date(2026, 1, 1), 5.0);
    fast5.duration_s = 1200.0; // 4:00/km
    let mut slow10 = run_on(2, date(2026, 1, 2), 10.0);
    slow10.duration_s = 3600.0; // 6:00/km
    let mut half = run_on(3, date(2026, 1, 20), 21.0975);
    half.duration_s = 21.0975 * 330.0;
    let a = analyze(&[fast5.clone(), slow10, half], &DayPolicy::LocalClock);
    let r = &a.records;
    assert_eq!(r.longest_run.unwrap().activity_id.get(), 3);
    let labels: Vec<&str> = r.fastest.iter().map(|p| p.label).collect();
    assert_eq!(labels, ["5k", "10k", "half"]);
    assert_eq!(r.fastest[0].run.activity_id, fast5.id);
    assert_eq!(r.fastest[0].pace_s_per_km, 240.0);
    assert_eq!(
        r.fastest[1].run.activity_id.get(),
        3,
        "the half is also the fastest 10k+"
    );
    let brk = r.longest_break.unwrap();
    assert_eq!(
        (brk.after, brk.until, brk.days),
        (date(2026, 1, 2), date(2026, 1, 20), 17)
    );
    assert_eq!(r.biggest_month.as_ref().unwrap().period, "2026-01");
    assert_eq!(a.by_weekday.len(), 7);
    assert_eq!(a.by_weekday.iter().map(|w| w.runs).sum::<u32>(), 3);
    assert_eq!(a.by_weekday[3].weekday, "Thursday");
    assert_eq!(a.by_weekday[3].runs, 1, "2026-01-01 is a Thursday");
}

#[test]
fn ties_go_to_the_most_recent_period() {
    let runs = vec![
        run_on(1, date(2024, 3, 1), 5.0),
        run_on(2, date(2025, 3, 1), 5.0),
    ];
    let a = analyze(&runs, &DayPolicy::LocalClock);
    assert_eq!(a.records.biggest_year.unwrap().period, "2025");
}
