//! The test vectors of `shared/docs/streak-rules.md`, plus the edge cases a runner hits:
//! DST weeks, flights across the date line, runs at 23:59 and 00:01.

mod common;

use common::{horizon, may, run_at, run_on, runs};
use jiff::civil::date;
use jiff::tz::TimeZone;
use myrunstreak_domain::{
    DayPolicy, Distance, Horizon, LocalStart, Remaining, Rule, StreakRules, StreakStatus, streaks,
};

fn any() -> StreakRules {
    StreakRules {
        rule: Rule::Any,
        ..StreakRules::default()
    }
}

fn usrsa() -> StreakRules {
    StreakRules::default()
}

fn lengths(report: &myrunstreak_domain::StreakReport) -> Vec<u32> {
    report.streaks.iter().map(|s| s.days).collect()
}

#[test]
fn no_runs_no_streaks() {
    let r = streaks(&[], &any(), &horizon(may(3)));
    assert!(r.streaks.is_empty());
    assert_eq!(r.current.days, 0);
    assert_eq!(r.current.status, StreakStatus::None);
    assert_eq!(r.longest, None);
}

#[test]
fn a_run_today_only() {
    let r = streaks(&runs(&["05-03"]), &any(), &horizon(may(3)));
    assert_eq!(lengths(&r), [1]);
    assert_eq!((r.current.days, r.current.status), (1, StreakStatus::Done));
}

#[test]
fn three_days_ending_today() {
    let r = streaks(
        &runs(&["05-01", "05-02", "05-03"]),
        &any(),
        &horizon(may(3)),
    );
    assert_eq!(lengths(&r), [3]);
    assert_eq!(
        (r.current.start, r.current.end),
        (Some(may(1)), Some(may(3)))
    );
    assert_eq!((r.current.days, r.current.status), (3, StreakStatus::Done));
}

#[test]
fn none_today_is_at_risk() {
    let r = streaks(&runs(&["05-01", "05-02"]), &any(), &horizon(may(3)));
    assert_eq!(
        (r.current.days, r.current.status),
        (2, StreakStatus::AtRisk)
    );
    assert_eq!(r.current.remaining, Remaining::AnyRun);
    assert_eq!(r.current.time_left_s, 12 * 3600);
}

#[test]
fn a_run_two_days_ago_is_no_current_streak() {
    let r = streaks(&runs(&["05-01"]), &any(), &horizon(may(3)));
    assert_eq!((r.current.days, r.current.status), (0, StreakStatus::None));
    assert_eq!(r.longest.unwrap().days, 1);
}

#[test]
fn two_runs_on_one_day_make_one_day() {
    let r = streaks(
        &runs(&["05-01", "05-01", "05-02"]),
        &any(),
        &horizon(may(3)),
    );
    assert_eq!(lengths(&r), [2]);
    assert_eq!(r.streaks[0].runs, 3);
}

#[test]
fn earlier_streak_is_longest_current_is_at_risk() {
    let r = streaks(
        &runs(&["04-01", "04-02", "04-03", "05-01", "05-02"]),
        &any(),
        &horizon(may(3)),
    );
    assert_eq!(lengths(&r), [3, 2]);
    assert_eq!(
        (r.current.days, r.current.status),
        (2, StreakStatus::AtRisk)
    );
    assert_eq!(r.longest.unwrap().days, 3);
}

#[test]
fn a_missing_day_breaks_the_streak() {
    let r = streaks(
        &runs(&["05-01", "05-02", "05-04"]),
        &any(),
        &horizon(may(4)),
    );
    assert_eq!(lengths(&r), [2, 1]);
    assert_eq!((r.current.days, r.current.status), (1, StreakStatus::Done));
}

#[test]
fn fifteen_hundred_days_ending_today() {
    let today = may(3);
    let history: Vec<_> = (0..1500)
        .map(|i| {
            run_on(
                i + 1,
                today.checked_sub(jiff::Span::new().days(i)).unwrap(),
                2.0,
            )
        })
        .collect();
    let r = streaks(&history, &any(), &horizon(today));
    assert_eq!(r.current.days, 1500);
    assert_eq!(r.longest.unwrap().days, 1500);
    assert_eq!(
        r.current.milestones.reached,
        [7, 30, 100, 365, 730, 1000, 1095, 1460]
    );
}

#[test]
fn usrsa_adds_two_short_runs_continuous_does_not() {
    let h = horizon(may(3));
    let history = vec![run_on(1, may(3), 0.9), run_on(2, may(3), 0.8)];
    assert_eq!(
        streaks(&history, &usrsa(), &h).current.status,
        StreakStatus::Done
    );
    let continuous = StreakRules {
        rule: Rule::Continuous,
        ..StreakRules::default()
    };
    assert_eq!(streaks(&history, &continuous, &h).current.days, 0);
}

#[test]
fn a_mile_is_1_60934_km() {
    let h = horizon(may(3));
    assert_eq!(
        streaks(&[run_on(1, may(3), 1.60934)], &usrsa(), &h)
            .current
            .days,
        1
    );
    assert_eq!(
        streaks(&[run_on(1, may(3), 1.60933)], &usrsa(), &h)
            .current
            .days,
        0
    );
}

#[test]
fn evening_run_in_the_west_belongs_to_its_local_day() {
    let start = LocalStart::parse("2026-05-02T23:30:00-07:00").unwrap();
    let r = streaks(&[run_at(1, start, 5.0)], &usrsa(), &horizon(may(3)));
    assert_eq!(r.streaks[0].start, may(2));
    assert_eq!(r.current.status, StreakStatus::AtRisk);
}

#[test]
fn half_a_mile_today_after_yesterday_leaves_half_a_mile() {
    let half_mile = Distance::from_miles(0.5).unwrap().km();
    let history = vec![run_on(1, may(2), 5.0), run_on(2, may(3), half_mile)];
    let r = streaks(&history, &usrsa(), &horizon(may(3)));
    assert_eq!(r.current.status, StreakStatus::AtRisk);
    let Remaining::Distance(left) = r.current.remaining else {
        panic!("{:?}", r.current.remaining)
    };
    assert!((left.miles() - 0.5).abs() < 1e-5, "{}", left.miles());
}

#[test]
fn runs_at_23_59_and_00_01_are_two_days() {
    let late = LocalStart::parse("2026-05-01T23:59:00+02:00").unwrap();
    let early = LocalStart::parse("2026-05-02T00:01:00+02:00").unwrap();
    let r = streaks(
        &[run_at(1, late, 2.0), run_at(2, early, 2.0)],
        &usrsa(),
        &horizon(may(3)),
    );
    assert_eq!(lengths(&r), [2]);
    assert_eq!(r.current.status, StreakStatus::AtRisk);
}

#[test]
fn dst_week_keeps_the_streak_in_local_days_and_in_a_home_zone() {
    // US DST began 2026-03-08: offsets change from -05:00 to -04:00 mid-week.
    let starts = [
        "2026-03-06T21:00:00-05:00",
        "2026-03-07T23:30:00-05:00",
        "2026-03-08T23:30:00-04:00",
        "2026-03-09T06:00:00-04:00",
    ];
    let history: Vec<_> = starts
        .iter()
        .enumerate()
        .map(|(i, s)| run_at(i as i64 + 1, LocalStart::parse(s).unwrap(), 3.0))
        .collect();
    let ny = TimeZone::get("America/New_York").unwrap();
    let now = "2026-03-09T16:00:00Z".parse().unwrap();
    let h = Horizon::at(now, &ny).unwrap();
    let local = streaks(&history, &usrsa(), &h);
    assert_eq!(lengths(&local), [4]);
    let home = StreakRules {
        days: DayPolicy::HomeZone(ny),
        ..StreakRules::default()
    };
    assert_eq!(lengths(&streaks(&history, &home, &h)), [4]);
}

#[test]
fn flight_east_across_the_date_line_counts_local_days() {
    // Ran in Los Angeles on the 1st, flew to Tokyo, ran there on the 3rd (local): the 2nd was
    // spent in the air and is a missing day on the local clock.
    let la = LocalStart::parse("2026-05-01T07:00:00-07:00").unwrap();
    let tokyo = LocalStart::parse("2026-05-03T07:00:00+09:00").unwrap();
    let history = vec![run_at(1, la, 3.0), run_at(2, tokyo, 3.0)];
    let r = streaks(&history, &usrsa(), &horizon(may(3)));
    assert_eq!(lengths(&r), [1, 1]);
    // Anchored to Los Angeles, the Tokyo run is the evening of the 2nd: the streak holds.
    let home = StreakRules {
        days: DayPolicy::HomeZone(TimeZone::get("America/Los_Angeles").unwrap()),
        ..StreakRules::default()
    };
    let r = streaks(&history, &home, &horizon(may(3)));
    assert_eq!(lengths(&r), [2]);
    assert_eq!(r.current.status, StreakStatus::AtRisk);
}

#[test]
fn a_run_dated_tomorrow_after_flying_east_keeps_the_streak_alive() {
    let tokyo = LocalStart::parse("2026-05-04T06:00:00+09:00").unwrap();
    let history = vec![
        run_on(1, may(2), 3.0),
        run_on(2, may(3), 3.0),
        run_at(3, tokyo, 3.0),
    ];
    let r = streaks(&history, &usrsa(), &horizon(may(3)));
    assert_eq!((r.current.days, r.current.status), (3, StreakStatus::Done));
}

#[test]
fn as_of_ignores_later_runs() {
    let history = runs(&["05-01", "05-02", "05-03"]);
    let now = "2026-05-10T12:00:00Z".parse().unwrap();
    let h = Horizon::as_of(may(2), now, &TimeZone::UTC).unwrap();
    let r = streaks(&history, &any(), &h);
    assert_eq!((r.current.days, r.current.end), (2, Some(may(2))));
    assert_eq!(r.longest.unwrap().days, 2);
    assert_eq!(r.current.time_left_s, 0);
}

#[test]
fn treadmill_counts_unless_excluded_and_walks_never_count() {
    let mut treadmill = run_on(1, may(3), 3.0);
    treadmill.is_treadmill = true;
    let mut walk = run_on(2, may(2), 3.0);
    walk.is_running = false;
    let history = vec![treadmill, walk];
    let r = streaks(&history, &usrsa(), &horizon(may(3)));
    assert_eq!(lengths(&r), [1]);
    let strict = StreakRules {
        exclude_treadmill: true,
        ..StreakRules::default()
    };
    assert!(
        streaks(&history, &strict, &horizon(may(3)))
            .streaks
            .is_empty()
    );
    assert_eq!(date(2026, 5, 3), r.today);
}
