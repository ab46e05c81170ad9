//! Weekly and monthly streaks and yearly goals, checked against hand-worked calendars and
//! against a day-by-day oracle that dates runs from their written text and finds weeks and
//! months by arithmetic on day numbers, not through the engine's helpers.

mod common;

use common::{run_at, run_on};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday, date};
use myrunstreak_domain::{
    Amount, Distance, GoalAmount, GoalStatus, LocalStart, PaceStanding, Period, PeriodReport,
    PeriodRule, PeriodStreak, PeriodTarget, Run, YearGoal, goal_progress, period_streaks,
};
use proptest::prelude::*;

fn rule(text: &str) -> PeriodRule {
    text.parse().unwrap()
}

fn at(id: i64, start: &str, km: f64) -> Run {
    run_at(id, LocalStart::parse(start).unwrap(), km)
}

/// 5 km at 07:00 (UTC−5) on each date.
fn runs_on(dates: &[Date]) -> Vec<Run> {
    dates
        .iter()
        .enumerate()
        .map(|(i, d)| run_on(i as i64 + 1, *d, 5.0))
        .collect()
}

fn km(v: f64) -> Distance {
    Distance::from_km(v).unwrap()
}

/// (first day, last day, periods) of a streak.
fn span(s: &PeriodStreak) -> (Date, Date, u32) {
    (s.start, s.end, s.periods)
}

fn lengths(r: &PeriodReport) -> Vec<u32> {
    r.streaks.iter().map(|s| s.periods).collect()
}

// --- daylight saving time: a run belongs to its own local day ---------------------------------

#[test]
fn runs_near_midnight_on_the_spring_dst_day_stay_in_their_local_week() {
    // New York springs forward on Sunday 2026-03-08 (−05:00 → −04:00).
    let runs = vec![
        at(1, "2026-03-01T23:59:00-05:00", 5.0), // Sunday, week of 02-23
        at(2, "2026-03-08T00:10:00-05:00", 5.0), // Sunday before the change: week of 03-02
        at(3, "2026-03-08T23:55:00-04:00", 5.0), // Sunday 23:55 EDT: 03-09 03:55 in UTC
        at(4, "2026-03-09T00:05:00-04:00", 5.0), // Monday: week of 03-09
    ];
    let r = period_streaks(&runs, &rule("2runs/week"), date(2026, 3, 9));
    // In UTC, run 3 would fall on Monday and leave the week of 03-02 with one run.
    assert_eq!(lengths(&r), [1]);
    let current = r.current.unwrap();
    assert_eq!(span(&current), (date(2026, 3, 2), date(2026, 3, 8), 1));
    assert_eq!(current.runs, 2);
    assert!(r.at_risk);
    assert_eq!(r.current_period.done, Amount::Runs(1));
    assert_eq!(r.current_period.remaining, Amount::Runs(1));
    assert_eq!(r.current_period.days_left, 7);
}

#[test]
fn runs_near_midnight_on_the_autumn_dst_day_stay_in_their_local_sunday_week() {
    // New York falls back on Sunday 2026-11-01 (−04:00 → −05:00); weeks start on Sunday.
    let runs = vec![
        at(1, "2026-10-31T23:30:00-04:00", 5.0), // Saturday: 11-01 03:30 in UTC
        at(2, "2026-11-01T01:30:00-05:00", 5.0), // the second 01:30 of Sunday
        at(3, "2026-11-01T23:45:00-05:00", 5.0), // Sunday: 11-02 04:45 in UTC
    ];
    let r = period_streaks(&runs, &rule("1run/week:sunday"), date(2026, 11, 3));
    let current = r.current.unwrap();
    assert_eq!(span(&current), (date(2026, 10, 25), date(2026, 11, 7), 2));
    assert!(!r.at_risk);
    assert_eq!(
        (r.current_period.start, r.current_period.end),
        (date(2026, 11, 1), date(2026, 11, 7))
    );
    assert_eq!(r.current_period.done, Amount::Runs(2));
    assert_eq!(r.current_period.days_left, 5);
}

#[test]
fn a_run_late_on_the_last_evening_of_a_month_stays_in_that_month() {
    // 23:45 EDT on March 31st is April 1st in UTC
    let runs = vec![at(1, "2026-03-31T23:45:00-04:00", 5.0)];
    let r = period_streaks(&runs, &rule("1run/month"), date(2026, 4, 15));
    assert_eq!(
        span(&r.current.unwrap()),
        (date(2026, 3, 1), date(2026, 3, 31), 1)
    );
    assert!(r.at_risk, "April has no run yet");
    assert_eq!(r.current_period.done, Amount::Runs(0));
    assert_eq!(r.current_period.days_left, 16);
}

// --- ISO weeks across a year boundary ---------------------------------------------------------

#[test]
fn iso_week_53_of_2020_spans_the_new_year() {
    assert_eq!(date(2020, 12, 31).iso_week_date().week(), 53);
    for day in date(2020, 12, 28).series(1.day()).take(7) {
        assert_eq!(Period::ISO_WEEK.start_of(day), date(2020, 12, 28), "{day}");
        assert_eq!(Period::ISO_WEEK.end_of(day), date(2021, 1, 3), "{day}");
    }
    // Monday, Wednesday and Friday of 2020-W50 to 2021-W01, and three runs so far in 2021-W02
    let mut dates: Vec<Date> = date(2020, 12, 7)
        .series(1.week())
        .take(5)
        .flat_map(|monday| [0, 2, 4].map(|d| monday.checked_add(d.days()).unwrap()))
        .collect();
    dates.extend([date(2021, 1, 11), date(2021, 1, 13), date(2021, 1, 14)]);
    assert!(dates.contains(&date(2021, 1, 1)), "W53's Friday is in 2021");
    let r = period_streaks(&runs_on(&dates), &rule("3runs/week"), date(2021, 1, 14));
    let current = r.current.unwrap();
    assert_eq!(span(&current), (date(2020, 12, 7), date(2021, 1, 17), 6));
    assert_eq!(current.runs, 18);
    assert!(!r.at_risk);
    assert_eq!(r.longest, Some(current));
}

#[test]
fn an_empty_iso_week_53_of_2026_breaks_the_streak() {
    // 2026 has 53 ISO weeks: 2026-W53 is 2026-12-28 to 2027-01-03
    assert_eq!(date(2027, 1, 3).iso_week_date().week(), 53);
    assert_eq!(
        Period::ISO_WEEK.start_of(date(2027, 1, 3)),
        date(2026, 12, 28)
    );
    let target = rule("20km/week");
    // 20 km on the Sunday of W51 and W52, none in W53, 20 km on the Monday of 2027-W01
    let runs = vec![
        run_on(1, date(2026, 12, 20), 20.0),
        run_on(2, date(2026, 12, 27), 20.0),
        run_on(3, date(2027, 1, 4), 20.0),
    ];
    let r = period_streaks(&runs, &target, date(2027, 1, 5));
    let streaks: Vec<_> = r.streaks.iter().map(span).collect();
    assert_eq!(
        streaks,
        [
            (date(2026, 12, 14), date(2026, 12, 27), 2),
            (date(2027, 1, 4), date(2027, 1, 10), 1),
        ]
    );
    assert_eq!(r.current.map(|s| s.periods), Some(1));
    // the same runs, a run in W53: one streak of four weeks
    let mut more = runs.clone();
    more.push(run_on(4, date(2027, 1, 2), 20.0));
    let r = period_streaks(&more, &target, date(2027, 1, 5));
    assert_eq!(
        r.streaks.iter().map(span).collect::<Vec<_>>(),
        [(date(2026, 12, 14), date(2027, 1, 10), 4)]
    );
}

// --- week start, month lengths, breaks and the period in progress ------------------------------

#[test]
fn weeks_starting_on_sunday_group_other_days_than_iso_weeks() {
    // Sundays and Mondays: 2026-05-03 and 05-10 are Sundays
    let runs = runs_on(&[
        date(2026, 5, 3),
        date(2026, 5, 4),
        date(2026, 5, 10),
        date(2026, 5, 11),
    ]);
    let today = date(2026, 5, 12);
    let sunday = period_streaks(&runs, &rule("2runs/week:sunday"), today);
    assert_eq!(
        span(&sunday.current.unwrap()),
        (date(2026, 5, 3), date(2026, 5, 16), 2)
    );
    assert!(!sunday.at_risk);
    assert_eq!(sunday.current_period.days_left, 5);
    // ISO weeks pair Monday with the next Sunday: only 05-04..05-10 has two runs
    let iso = period_streaks(&runs, &rule("2runs/week"), today);
    assert_eq!(
        span(&iso.current.unwrap()),
        (date(2026, 5, 4), date(2026, 5, 10), 1)
    );
    assert!(iso.at_risk);
    assert_eq!(iso.current_period.days_left, 6);
}

#[test]
fn months_of_every_length_and_a_leap_february() {
    // 3.5 km every day: 108.5 km in a 31-day month, 105 in 30 days, 101.5 in a leap February,
    // 98 in a February of 28 days: only February 2023 misses 100 km
    let days: Vec<Date> = date(2023, 1, 1)
        .series(1.day())
        .take_while(|d| *d <= date(2024, 6, 30))
        .collect();
    let runs: Vec<Run> = days
        .iter()
        .enumerate()
        .map(|(i, d)| run_on(i as i64 + 1, *d, 3.5))
        .collect();
    let r = period_streaks(&runs, &rule("100km/month"), date(2024, 6, 30));
    assert_eq!(
        r.streaks.iter().map(span).collect::<Vec<_>>(),
        [
            (date(2023, 1, 1), date(2023, 1, 31), 1),
            (date(2023, 3, 1), date(2024, 6, 30), 16),
        ]
    );
    let current = r.current.unwrap();
    assert_eq!(current.distance, km(3.5 * 488.0)); // 2023-03-01 to 2024-06-30 is 488 days
    assert_eq!(r.longest, Some(current));
    assert_eq!(r.current_period.days_left, 1);
    // days left in February, today included
    let feb = |y| period_streaks(&runs, &rule("100km/month"), date(y, 2, 10)).current_period;
    assert_eq!(
        (feb(2024).days_left, feb(2024).end),
        (20, date(2024, 2, 29))
    );
    assert_eq!(
        (feb(2023).days_left, feb(2023).end),
        (19, date(2023, 2, 28))
    );
    assert_eq!(feb(2024).done, Amount::Km(km(35.0)));
    assert_eq!(feb(2024).remaining, Amount::Km(km(65.0)));
}

#[test]
fn one_empty_week_breaks_the_streak() {
    // one run on the Tuesday of six ISO weeks from 2026-03-02, none in the fourth
    let tuesdays: Vec<Date> = date(2026, 3, 3)
        .series(1.week())
        .take(6)
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, d)| d)
        .collect();
    let r = period_streaks(&runs_on(&tuesdays), &rule("1run/week"), date(2026, 4, 8));
    assert_eq!(lengths(&r), [3, 2]);
    assert_eq!(
        span(&r.longest.unwrap()),
        (date(2026, 3, 2), date(2026, 3, 22), 3)
    );
    assert_eq!(
        span(&r.current.unwrap()),
        (date(2026, 3, 30), date(2026, 4, 12), 2)
    );
}

#[test]
fn the_week_in_progress_does_not_break_the_streak() {
    // three runs a week for three weeks, then one run so far this week (today is Wednesday)
    let mut dates: Vec<Date> = date(2026, 4, 13)
        .series(1.week())
        .take(3)
        .flat_map(|monday| [0, 1, 2].map(|d| monday.checked_add(d.days()).unwrap()))
        .collect();
    dates.push(date(2026, 5, 4));
    let today = date(2026, 5, 6);
    let r = period_streaks(&runs_on(&dates), &rule("3runs/week"), today);
    assert_eq!(
        span(&r.current.unwrap()),
        (date(2026, 4, 13), date(2026, 5, 3), 3)
    );
    assert!(r.at_risk);
    let p = r.current_period;
    assert_eq!(
        (p.start, p.end, p.days_left),
        (date(2026, 5, 4), date(2026, 5, 10), 5)
    );
    assert_eq!(
        (p.done, p.target, p.remaining),
        (Amount::Runs(1), Amount::Runs(3), Amount::Runs(2))
    );
    assert!(!p.qualifies);

    // two more runs today: the week qualifies and the streak grows
    dates.extend([today, today]);
    let r = period_streaks(&runs_on(&dates), &rule("3runs/week"), today);
    assert_eq!(r.current.map(|s| s.periods), Some(4));
    assert!(!r.at_risk && r.current_period.qualifies);
    assert_eq!(r.current_period.remaining, Amount::Runs(0));

    // a week later with nothing more: last week did not qualify, so no current streak
    let r = period_streaks(
        &runs_on(&dates[..10]),
        &rule("3runs/week"),
        date(2026, 5, 13),
    );
    assert_eq!(r.current, None);
    assert!(!r.at_risk);
    assert_eq!(r.longest.map(|s| s.periods), Some(3));
}

#[test]
fn a_distance_target_is_met_at_smashrun_precision() {
    // 20 mi is 32.18688 km; two runs of 16.09344 km are exactly that
    let target = rule("20mi/week");
    let exact = vec![
        run_on(1, date(2026, 5, 4), 16.09344),
        run_on(2, date(2026, 5, 5), 16.09344),
    ];
    assert!(
        period_streaks(&exact, &target, date(2026, 5, 5))
            .current_period
            .qualifies
    );
    let short = vec![
        run_on(1, date(2026, 5, 4), 16.09344),
        run_on(2, date(2026, 5, 5), 16.09343),
    ];
    let r = period_streaks(&short, &target, date(2026, 5, 5));
    assert!(!r.current_period.qualifies);
    assert_eq!(r.current_period.remaining, Amount::Km(Distance::from_cm(1)));
}

#[test]
fn a_target_of_zero_still_needs_a_run_in_the_period() {
    let runs = runs_on(&[date(2026, 4, 1), date(2026, 4, 20)]);
    for target in [
        PeriodTarget::Runs(0),
        PeriodTarget::Distance(Distance::ZERO),
    ] {
        let r = period_streaks(
            &runs,
            &PeriodRule {
                period: Period::ISO_WEEK,
                target,
            },
            date(2026, 5, 6),
        );
        assert_eq!(lengths(&r), [1, 1], "{target:?}");
        assert_eq!(r.current, None, "{target:?}");
        assert!(!r.current_period.qualifies, "an empty week: {target:?}");
    }
}

#[test]
fn other_activities_and_runs_after_today_do_not_count() {
    let mut walk = run_on(1, date(2026, 5, 4), 10.0);
    walk.is_running = false;
    let tomorrow = run_on(2, date(2026, 5, 6), 10.0);
    let r = period_streaks(&[walk, tomorrow], &rule("1run/week"), date(2026, 5, 5));
    assert_eq!(r.current_period.done, Amount::Runs(0));
    assert!(r.streaks.is_empty() && r.current.is_none() && r.longest.is_none());
}

// --- yearly goals -----------------------------------------------------------------------------

fn goal(year: i16, target: &str) -> YearGoal {
    YearGoal {
        year,
        target: target.parse().unwrap(),
    }
}

#[test]
fn a_goal_in_progress_has_a_pace_line_and_a_daily_need() {
    // 1,000 km in 2026; on April 10th (day 100), 300 km done
    let runs: Vec<Run> = (0..30)
        .map(|i| run_on(i + 1, date(2026, 1, 5).checked_add(i.days()).unwrap(), 10.0))
        .collect();
    let g = goal_progress(&runs, &goal(2026, "1000km"), date(2026, 4, 10));
    assert_eq!(g.status, GoalStatus::InProgress);
    assert_eq!(
        (g.days_in_year, g.days_elapsed, g.days_left),
        (365, 100, 266)
    );
    assert_eq!(g.done, Amount::Km(km(300.0)));
    assert_eq!(g.remaining, Amount::Km(km(700.0)));
    assert!((g.fraction - 0.3).abs() < 1e-12);
    // 1,000 km × 100 / 365 = 273.972602... km
    assert_eq!(g.pace_line, GoalAmount::Km(Distance::from_cm(27_397_260)));
    assert_eq!(g.standing, PaceStanding::Ahead);
    assert_eq!(g.pace_gap, GoalAmount::Km(Distance::from_cm(2_602_740)));
    // 700 km over 266 days: 2.631578... km a day, 18.421052... km a week, rounded up
    assert_eq!(
        g.needed_per_day,
        Some(GoalAmount::Km(Distance::from_cm(263_158)))
    );
    assert_eq!(
        g.needed_per_week,
        Some(GoalAmount::Km(Distance::from_cm(1_842_106)))
    );
}

#[test]
fn a_leap_year_has_366_days_and_its_last_day_needs_the_last_run() {
    let runs: Vec<Run> = date(2024, 1, 1)
        .series(1.day())
        .take(365)
        .enumerate()
        .map(|(i, d)| run_on(i as i64 + 1, d, 1.0))
        .collect();
    let g = goal_progress(&runs, &goal(2024, "366runs"), date(2024, 12, 31));
    assert_eq!((g.days_in_year, g.days_elapsed, g.days_left), (366, 366, 1));
    assert_eq!(g.done, Amount::Runs(365));
    assert_eq!(g.pace_line, GoalAmount::Runs(366.0));
    assert_eq!(
        (g.standing, g.pace_gap),
        (PaceStanding::Behind, GoalAmount::Runs(1.0))
    );
    assert_eq!(g.needed_per_day, Some(GoalAmount::Runs(1.0)));
    assert_eq!(g.needed_per_week, Some(GoalAmount::Runs(7.0)));
    // on March 1st of a leap year, 61 days have passed (60 in 2026)
    assert_eq!(
        goal_progress(&runs, &goal(2024, "366runs"), date(2024, 3, 1)).days_elapsed,
        61
    );
    assert_eq!(
        goal_progress(&[], &goal(2026, "1run"), date(2026, 3, 1)).days_elapsed,
        60
    );
}

#[test]
fn a_finished_goal_needs_nothing_more() {
    let runs = vec![
        run_on(1, date(2026, 2, 1), 42.195),
        run_on(2, date(2026, 2, 2), 10.0),
    ];
    let g = goal_progress(&runs, &goal(2026, "50km"), date(2026, 3, 1));
    assert_eq!(g.status, GoalStatus::Achieved);
    assert_eq!(g.remaining, Amount::Km(Distance::ZERO));
    assert!(g.fraction > 1.0);
    assert_eq!(g.needed_per_day, Some(GoalAmount::Km(Distance::ZERO)));
    assert_eq!(g.needed_per_week, Some(GoalAmount::Km(Distance::ZERO)));
    assert_eq!(g.standing, PaceStanding::Ahead);
}

#[test]
fn a_past_year_is_achieved_or_missed_and_a_future_one_upcoming() {
    let runs = vec![
        at(1, "2025-12-31T23:30:00-08:00", 10.0), // 2026 in UTC, 2025 on its own clock
        run_on(2, date(2026, 1, 1), 10.0),
    ];
    let past = goal_progress(&runs, &goal(2025, "12runs"), date(2026, 1, 1));
    assert_eq!(past.status, GoalStatus::Missed);
    assert_eq!(past.done, Amount::Runs(1));
    assert_eq!((past.days_elapsed, past.days_left), (365, 0));
    assert_eq!(past.pace_line, GoalAmount::Runs(12.0));
    assert_eq!(
        (past.standing, past.pace_gap),
        (PaceStanding::Behind, GoalAmount::Runs(11.0))
    );
    assert_eq!((past.needed_per_day, past.needed_per_week), (None, None));
    let met = goal_progress(&runs, &goal(2025, "1run"), date(2026, 1, 1));
    assert_eq!(met.status, GoalStatus::Achieved);

    let future = goal_progress(&runs, &goal(2027, "365km"), date(2026, 1, 1));
    assert_eq!(future.status, GoalStatus::Upcoming);
    assert_eq!(future.done, Amount::Km(Distance::ZERO));
    assert_eq!((future.days_elapsed, future.days_left), (0, 365));
    assert_eq!(future.pace_line, GoalAmount::Km(Distance::ZERO));
    assert_eq!(future.standing, PaceStanding::OnPace);
    assert_eq!(future.needed_per_day, Some(GoalAmount::Km(km(1.0))));
    assert_eq!(future.needed_per_week, Some(GoalAmount::Km(km(7.0))));
}

// --- the oracle --------------------------------------------------------------------------------

/// Days since 1970-01-01, through jiff's span arithmetic.
fn epoch_day(d: Date) -> i64 {
    date(1970, 1, 1).until(d).unwrap().get_days() as i64
}

/// A number that only the days of one period share, by arithmetic: 1970-01-01 was a Thursday.
fn period_key(period: Period, d: Date) -> i64 {
    match period {
        Period::Week { starts_on } => {
            let first = i64::from(starts_on.to_monday_zero_offset());
            (epoch_day(d) - (first - 3)).div_euclid(7)
        }
        Period::Month => i64::from(d.year()) * 12 + i64::from(d.month()),
    }
}

/// A run's day, read from the text of its start.
fn written_day(run: &Run) -> Date {
    run.start.to_string()[..10].parse().unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct OraclePeriod {
    start: Date,
    end: Date,
    distance_cm: i64,
    runs: u32,
}

/// Every period from one that starts before the first run to the one containing today, walked
/// day by day, with the runs of each.
fn oracle_periods(runs: &[Run], period: Period, today: Date) -> Vec<OraclePeriod> {
    let first = runs
        .iter()
        .map(written_day)
        .min()
        .unwrap_or(today)
        .min(today);
    let from = first.checked_sub(40.days()).unwrap();
    let today_key = period_key(period, today);
    let mut out: Vec<(i64, OraclePeriod)> = Vec::new();
    for day in from.series(1.day()) {
        let key = period_key(period, day);
        if key > today_key {
            break;
        }
        let (distance_cm, count) = runs
            .iter()
            .filter(|r| r.is_running && written_day(r) == day && day <= today)
            .fold((0, 0), |(d, n), r| (d + r.distance.cm(), n + 1));
        match out.last_mut() {
            Some((k, p)) if *k == key => {
                p.end = day;
                p.distance_cm += distance_cm;
                p.runs += count;
            }
            _ => out.push((
                key,
                OraclePeriod {
                    start: day,
                    end: day,
                    distance_cm,
                    runs: count,
                },
            )),
        }
    }
    // the first period may have begun before `from`; it has no run, so it only has to go
    out.remove(0);
    out.into_iter().map(|(_, p)| p).collect()
}

fn oracle_qualifies(p: &OraclePeriod, target: PeriodTarget) -> bool {
    p.runs > 0
        && match target {
            PeriodTarget::Distance(d) => p.distance_cm >= d.cm(),
            PeriodTarget::Runs(n) => p.runs >= n,
        }
}

/// (first day, last day, periods) of the current and the longest streaks, and at risk.
type Spans = (Option<(Date, Date, u32)>, Option<(Date, Date, u32)>, bool);

fn oracle_streaks(periods: &[OraclePeriod], target: PeriodTarget) -> Spans {
    let ok: Vec<bool> = periods
        .iter()
        .map(|p| oracle_qualifies(p, target))
        .collect();
    let last = periods.len() - 1;
    // the current streak: back from the current period if it qualifies, else from the one before
    let from = if ok[last] {
        Some(last)
    } else {
        last.checked_sub(1)
    };
    let current = from.filter(|&i| ok[i]).map(|end| {
        let mut start = end;
        while start > 0 && ok[start - 1] {
            start -= 1;
        }
        (
            periods[start].start,
            periods[end].end,
            (end - start + 1) as u32,
        )
    });
    let mut longest: Option<(Date, Date, u32)> = None;
    let mut run_start = None;
    for i in 0..periods.len() {
        if !ok[i] {
            run_start = None;
            continue;
        }
        let start = *run_start.get_or_insert(i);
        let n = (i - start + 1) as u32;
        if longest.is_none_or(|l| n >= l.2) {
            longest = Some((periods[start].start, periods[i].end, n));
        }
    }
    (current, longest, current.is_some() && !ok[last])
}

const OFFSETS: [&str; 5] = ["-05:00", "-04:00", "+00:00", "+14:00", "-11:00"];

/// Up to 150 activities over about 500 days from a start chosen to cross a leap February,
/// 2020-W53 or 2026-W53, at any time of day and any of a few offsets; some are not runs.
fn history() -> impl Strategy<Value = (Date, Vec<Run>)> {
    let starts = prop::sample::select(vec![date(2019, 11, 1), date(2023, 12, 1), date(2026, 9, 1)]);
    let run = (
        0i64..500,
        0u32..1_200_000,
        0i8..24,
        0i8..60,
        0usize..5,
        prop::bool::weighted(0.9),
    );
    (starts, prop::collection::vec(run, 0..150)).prop_map(|(base, items)| {
        let runs = items
            .into_iter()
            .enumerate()
            .map(|(i, (day, cm, h, m, offset, running))| {
                let d = base.checked_add(day.days()).unwrap();
                let text = format!("{d}T{h:02}:{m:02}:00{}", OFFSETS[offset]);
                let mut r = at(i as i64 + 1, &text, f64::from(cm) / 1e5);
                r.is_running = running;
                r
            })
            .collect();
        (base, runs)
    })
}

fn any_rule() -> impl Strategy<Value = PeriodRule> {
    let period = prop_oneof![
        Just(Period::Month),
        (0i8..7).prop_map(|d| Period::Week {
            starts_on: Weekday::from_monday_zero_offset(d).unwrap()
        }),
    ];
    let target = prop_oneof![
        (0u32..6).prop_map(PeriodTarget::Runs),
        // zero included: the parser refuses it, but the type can hold it
        (0i64..60).prop_map(|k| PeriodTarget::Distance(Distance::from_cm(k * 100_000))),
    ];
    (period, target).prop_map(|(period, target)| PeriodRule { period, target })
}

proptest! {
    #[test]
    fn period_streaks_agree_with_a_day_by_day_scan(
        (base, runs) in history(),
        rule in any_rule(),
        today_offset in 0i64..560,
    ) {
        let today = base.checked_add(today_offset.days()).unwrap();
        let report = period_streaks(&runs, &rule, today);
        let periods = oracle_periods(&runs, rule.period, today);
        let (current, longest, at_risk) = oracle_streaks(&periods, rule.target);
        prop_assert_eq!(report.current.as_ref().map(span), current);
        prop_assert_eq!(report.longest.as_ref().map(span), longest);
        prop_assert_eq!(report.at_risk, at_risk);

        let this = periods.last().unwrap();
        let p = &report.current_period;
        prop_assert_eq!(p.start, this.start);
        prop_assert_eq!(p.end, this.end);
        prop_assert_eq!(p.days_left as i64, epoch_day(this.end) - epoch_day(today) + 1);
        prop_assert_eq!(p.qualifies, oracle_qualifies(this, rule.target));
        let done = match rule.target {
            PeriodTarget::Distance(_) => Amount::Km(Distance::from_cm(this.distance_cm)),
            PeriodTarget::Runs(_) => Amount::Runs(this.runs),
        };
        prop_assert_eq!(p.done, done);

        let qualifying = periods.iter().filter(|p| oracle_qualifies(p, rule.target)).count();
        prop_assert_eq!(report.streaks.iter().map(|s| s.periods as usize).sum::<usize>(), qualifying);
        for s in &report.streaks {
            let inside = periods.iter().filter(|p| s.start <= p.start && p.end <= s.end);
            let (cm, n) = inside.fold((0, 0), |(d, n), p| (d + p.distance_cm, n + p.runs));
            prop_assert_eq!((s.distance.cm(), s.runs), (cm, n));
        }
    }

    #[test]
    fn goal_progress_agrees_with_a_day_by_day_scan(
        (base, runs) in history(),
        year_offset in -1i16..3,
        today_offset in 0i64..560,
        target in prop_oneof![
            (1u32..400).prop_map(PeriodTarget::Runs),
            (1i64..3000).prop_map(|k| PeriodTarget::Distance(Distance::from_cm(k * 100_000))),
        ],
    ) {
        let today = base.checked_add(today_offset.days()).unwrap();
        let year = base.year() + year_offset;
        let g = goal_progress(&runs, &YearGoal { year, target }, today);

        let year_days: Vec<Date> = date(year, 1, 1)
            .series(1.day())
            .take_while(|d| d.year() == year)
            .collect();
        let len = year_days.len() as f64;
        let elapsed = year_days.iter().filter(|d| **d <= today).count() as f64;
        let left = year_days.iter().filter(|d| **d >= today).count() as f64;
        prop_assert_eq!(
            (g.days_in_year as f64, g.days_elapsed as f64, g.days_left as f64),
            (len, elapsed, left)
        );
        let counted: Vec<&Run> = runs
            .iter()
            .filter(|r| r.is_running && written_day(r).year() == year && written_day(r) <= today)
            .collect();
        // everything in the target's unit: km or runs
        let (goal, done, unit) = match target {
            PeriodTarget::Distance(d) => (
                d.km(),
                counted.iter().map(|r| r.distance.km()).sum::<f64>(),
                1e-5,
            ),
            PeriodTarget::Runs(n) => (f64::from(n), counted.len() as f64, 1e-9),
        };
        let value = |a: GoalAmount| match a {
            GoalAmount::Km(d) => d.km(),
            GoalAmount::Runs(n) => n,
        };
        let pace = goal * elapsed / len;
        prop_assert!((value(g.pace_line) - pace).abs() <= unit, "{:?} vs {pace}", g.pace_line);
        prop_assert!((value(g.pace_gap) - (done - pace).abs()).abs() <= unit);
        if (done - pace).abs() > unit {
            let expected = if done > pace { PaceStanding::Ahead } else { PaceStanding::Behind };
            prop_assert_eq!(g.standing, expected);
        }
        prop_assert!((g.fraction - done / goal).abs() < 1e-9);

        let achieved = done >= goal - unit / 2.0;
        let expected = if achieved {
            GoalStatus::Achieved
        } else if left == 0.0 {
            GoalStatus::Missed
        } else if elapsed == 0.0 {
            GoalStatus::Upcoming
        } else {
            GoalStatus::InProgress
        };
        prop_assert_eq!(g.status, expected);
        prop_assert_eq!(g.needed_per_day.is_none(), expected == GoalStatus::Missed);
        prop_assert_eq!(g.needed_per_week.is_none(), expected == GoalStatus::Missed);
        match g.needed_per_day {
            None => {}
            Some(per_day) => {
                let need = (goal - done).max(0.0) / left.max(1.0);
                // rounded up to the centimetre for distances
                prop_assert!(value(per_day) >= need - unit && value(per_day) <= need + unit);
                let per_week = value(g.needed_per_week.unwrap());
                prop_assert!((per_week - 7.0 * need).abs() <= unit, "{per_week} vs {}", 7.0 * need);
            }
        }
    }
}
