//! Weekly and monthly streaks: "at least 20 mi every week", "at least 12 runs every month".
//!
//! A period qualifies when the counted runs of its days reach the target. Runs are dated exactly
//! as the daily engine dates them by default ([`day_totals`] with the default [`StreakRules`]):
//! each on the local date of its own wall clock, so a run at 23:50 on the night the clocks
//! change stays in its week and its month whatever UTC says. A period streak is a maximal
//! sequence of consecutive qualifying periods.
//!
//! The period in progress never breaks a streak: until it qualifies, the current streak is the
//! one that ended with the previous period, and it is "at risk". An empty period never
//! qualifies, whatever the target, so that a streak always has a beginning.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::{Amount, DayTotals, Distance, DomainError, Run, StreakRules, day_number, day_totals};

/// The length of the periods of a period streak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    /// Seven days from a chosen first day; from Monday, these are ISO weeks.
    Week {
        /// The first day of each week.
        starts_on: Weekday,
    },
    /// A calendar month.
    Month,
}

impl Period {
    /// ISO weeks: Monday to Sunday.
    pub const ISO_WEEK: Period = Period::Week {
        starts_on: Weekday::Monday,
    };

    /// The first day of the period that contains `date`.
    pub fn start_of(self, date: Date) -> Date {
        match self {
            Period::Week { starts_on } => {
                date.saturating_sub(i64::from(date.weekday().since(starts_on)).days())
            }
            Period::Month => date.first_of_month(),
        }
    }

    /// The last day of the period that contains `date`.
    pub fn end_of(self, date: Date) -> Date {
        match self {
            Period::Week { starts_on } => {
                date.saturating_add(i64::from(6 - date.weekday().since(starts_on)).days())
            }
            Period::Month => date.last_of_month(),
        }
    }
}

/// Weekday names as written in a period (`week:sunday`), Monday first.
const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Monday, "monday"),
    (Weekday::Tuesday, "tuesday"),
    (Weekday::Wednesday, "wednesday"),
    (Weekday::Thursday, "thursday"),
    (Weekday::Friday, "friday"),
    (Weekday::Saturday, "saturday"),
    (Weekday::Sunday, "sunday"),
];

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Month => f.write_str("month"),
            Period::Week {
                starts_on: Weekday::Monday,
            } => f.write_str("week"),
            Period::Week { starts_on } => {
                let (_, name) = WEEKDAYS[starts_on.to_monday_zero_offset() as usize];
                write!(f, "week:{name}")
            }
        }
    }
}

impl FromStr for Period {
    type Err = DomainError;

    /// `week` (ISO weeks, from Monday), `week:sunday` (or any other day, also as `week:sun`),
    /// or `month`.
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let text = s.trim().to_ascii_lowercase();
        let invalid = || DomainError::InvalidPeriod(s.to_owned());
        if text == "month" {
            return Ok(Period::Month);
        }
        if text == "week" {
            return Ok(Period::ISO_WEEK);
        }
        let day = text
            .strip_prefix("week:")
            .map(str::trim)
            .filter(|day| day.len() >= 3)
            .ok_or_else(invalid)?;
        WEEKDAYS
            .iter()
            .find(|(_, name)| name.starts_with(day))
            .map(|&(starts_on, _)| Period::Week { starts_on })
            .ok_or_else(invalid)
    }
}

/// What each period (or a year) must add up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeriodTarget {
    /// At least this distance, summed over the period's runs.
    Distance(Distance),
    /// At least this many runs.
    Runs(u32),
}

/// The counted runs of some days, added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) distance: Distance,
    pub(crate) runs: u32,
}

impl Tally {
    pub(crate) fn add(&mut self, day: &DayTotals) {
        self.distance += day.distance;
        self.runs += day.runs;
    }
}

impl PeriodTarget {
    /// The target as an amount.
    pub fn amount(self) -> Amount {
        match self {
            PeriodTarget::Distance(d) => Amount::Km(d),
            PeriodTarget::Runs(n) => Amount::Runs(n),
        }
    }

    /// What a tally amounts to in this target's terms.
    pub(crate) fn measure(self, tally: Tally) -> Amount {
        match self {
            PeriodTarget::Distance(_) => Amount::Km(tally.distance),
            PeriodTarget::Runs(_) => Amount::Runs(tally.runs),
        }
    }

    /// What a tally still lacks to reach the target (zero when it does).
    pub(crate) fn remaining(self, tally: Tally) -> Amount {
        match self {
            PeriodTarget::Distance(d) => Amount::Km(d.saturating_sub(tally.distance)),
            PeriodTarget::Runs(n) => Amount::Runs(n.saturating_sub(tally.runs)),
        }
    }

    /// Whether a tally reaches the target. Distances are compared at SmashRun's precision.
    pub(crate) fn reached_by(self, tally: Tally) -> bool {
        match self {
            PeriodTarget::Distance(d) => tally.distance >= d,
            PeriodTarget::Runs(n) => tally.runs >= n,
        }
    }
}

impl fmt::Display for PeriodTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PeriodTarget::Distance(d) => write!(f, "{}km", d.km()),
            PeriodTarget::Runs(1) => f.write_str("1run"),
            PeriodTarget::Runs(n) => write!(f, "{n}runs"),
        }
    }
}

impl FromStr for PeriodTarget {
    type Err = DomainError;

    /// A distance (`20mi`, `32km`, `1.5 mi`) or a number of runs (`12runs`, `12 runs`, `1 run`),
    /// more than zero.
    fn from_str(s: &str) -> Result<Self, DomainError> {
        if let Some(d) = Distance::parse_positive(s) {
            return Ok(PeriodTarget::Distance(d));
        }
        let text = s.trim().to_ascii_lowercase();
        text.strip_suffix("runs")
            .or_else(|| text.strip_suffix("run"))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .filter(|n| *n > 0)
            .map(PeriodTarget::Runs)
            .ok_or_else(|| DomainError::InvalidTarget(s.to_owned()))
    }
}

/// A period streak's rule: a target that every period must reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeriodRule {
    /// Weeks or months.
    pub period: Period,
    /// What each of them must add up to.
    pub target: PeriodTarget,
}

impl PeriodRule {
    /// Whether a period with this tally qualifies: it has a run and reaches the target.
    fn qualifies(&self, tally: Tally) -> bool {
        tally.runs > 0 && self.target.reached_by(tally)
    }
}

impl fmt::Display for PeriodRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.target, self.period)
    }
}

impl FromStr for PeriodRule {
    type Err = DomainError;

    /// A target, a slash and a period: `20mi/week`, `12runs/month`, `3 runs/week:sunday`.
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let (target, period) = s
            .split_once('/')
            .ok_or_else(|| DomainError::InvalidPeriodRule(s.to_owned()))?;
        Ok(PeriodRule {
            period: period.parse()?,
            target: target.parse()?,
        })
    }
}

/// Serde as the text that `FromStr` reads and `Display` writes, so that a setting and an API
/// answer spell a target or a rule the way the CLI accepts it.
macro_rules! serde_as_text {
    ($($ty:ty),*) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <String as serde::Deserialize>::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    )*};
}

serde_as_text!(Period, PeriodTarget, PeriodRule);

/// A maximal sequence of consecutive qualifying periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PeriodStreak {
    /// The first day of its first period.
    pub start: Date,
    /// The last day of its last period (after today when that period is the one in progress).
    pub end: Date,
    /// Number of periods, first and last included.
    pub periods: u32,
    /// Distance of every counted run in the streak.
    pub distance: Distance,
    /// Number of counted runs in the streak.
    pub runs: u32,
}

/// How the period that contains today stands.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PeriodProgress {
    /// Its first day.
    pub start: Date,
    /// Its last day.
    pub end: Date,
    /// What its runs add up to so far, in the target's terms.
    pub done: Amount,
    /// The target.
    pub target: Amount,
    /// What it still needs (zero once it qualifies).
    pub remaining: Amount,
    /// Whether it already qualifies.
    pub qualifies: bool,
    /// Days from today to its last day, both included.
    pub days_left: u32,
}

/// Everything said of a history under one period rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodReport {
    /// The rule, as text that [`PeriodRule`]'s `FromStr` reads back; distances are written in
    /// km (`20mi/week` is `32.18688km/week`).
    pub rule: PeriodRule,
    /// The date judged as today.
    pub today: Date,
    /// The streak still alive: the one that includes the current period if that period already
    /// qualifies, else the one that ended with the previous period; `None` when neither did.
    pub current: Option<PeriodStreak>,
    /// The current streak is alive but the current period does not qualify yet.
    pub at_risk: bool,
    /// The longest streak, ties broken by the most recent.
    pub longest: Option<PeriodStreak>,
    /// The period that contains today.
    pub current_period: PeriodProgress,
    /// Every streak, oldest first.
    pub streaks: Vec<PeriodStreak>,
}

/// Period streaks of `runs` under `rule`, judged on `today`.
///
/// Runs dated after today are left out: the answer is the one a runner sees at the end of
/// `today`. Non-running activities never count; treadmill runs do.
pub fn period_streaks(runs: &[Run], rule: &PeriodRule, today: Date) -> PeriodReport {
    let days = day_totals(runs, &StreakRules::default(), Some(today));
    let mut tallies: BTreeMap<Date, Tally> = BTreeMap::new();
    for day in days.values() {
        tallies
            .entry(rule.period.start_of(day.date))
            .or_default()
            .add(day);
    }
    let streaks = streaks_of(&tallies, rule);

    let start = rule.period.start_of(today);
    let end = rule.period.end_of(today);
    let tally = tallies.get(&start).copied().unwrap_or_default();
    let qualifies = rule.qualifies(tally);
    // No period after the current one has a run, so the last streak is the current one when it
    // reaches the current period or the one just before it.
    let current = streaks
        .last()
        .copied()
        .filter(|s| day_number(s.end) + 1 >= day_number(start));
    let longest = streaks
        .iter()
        .copied()
        .reduce(|best, s| if s.periods >= best.periods { s } else { best });
    PeriodReport {
        rule: *rule,
        today,
        current,
        at_risk: current.is_some() && !qualifies,
        longest,
        current_period: PeriodProgress {
            start,
            end,
            done: rule.target.measure(tally),
            target: rule.target.amount(),
            remaining: rule.target.remaining(tally),
            qualifies,
            days_left: (day_number(end) - day_number(today) + 1) as u32,
        },
        streaks,
    }
}

/// Every streak of qualifying periods, oldest first, from tallies keyed by each period's
/// first day.
fn streaks_of(tallies: &BTreeMap<Date, Tally>, rule: &PeriodRule) -> Vec<PeriodStreak> {
    let mut out: Vec<PeriodStreak> = Vec::new();
    for (&start, &tally) in tallies.iter().filter(|(_, t)| rule.qualifies(**t)) {
        let end = rule.period.end_of(start);
        match out.last_mut() {
            Some(s) if day_number(s.end) + 1 == day_number(start) => {
                s.end = end;
                s.periods += 1;
                s.distance += tally.distance;
                s.runs += tally.runs;
            }
            _ => out.push(PeriodStreak {
                start,
                end,
                periods: 1,
                distance: tally.distance,
                runs: tally.runs,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;

    #[test]
    fn weeks_start_on_their_chosen_day() {
        // 2026-03-04 is a Wednesday
        let wed = date(2026, 3, 4);
        assert_eq!(Period::ISO_WEEK.start_of(wed), date(2026, 3, 2));
        assert_eq!(Period::ISO_WEEK.end_of(wed), date(2026, 3, 8));
        let sunday = Period::Week {
            starts_on: Weekday::Sunday,
        };
        assert_eq!(sunday.start_of(wed), date(2026, 3, 1));
        assert_eq!(sunday.end_of(wed), date(2026, 3, 7));
        // a week's first and last days are in that week
        assert_eq!(sunday.start_of(date(2026, 3, 1)), date(2026, 3, 1));
        assert_eq!(sunday.end_of(date(2026, 3, 7)), date(2026, 3, 7));
        assert_eq!(Period::Month.start_of(wed), date(2026, 3, 1));
        assert_eq!(Period::Month.end_of(date(2024, 2, 10)), date(2024, 2, 29));
    }

    #[test]
    fn targets_parse_and_print() {
        assert_eq!(
            "20mi".parse::<PeriodTarget>().unwrap(),
            PeriodTarget::Distance(Distance::from_miles(20.0).unwrap())
        );
        assert_eq!(
            "32km".parse::<PeriodTarget>().unwrap(),
            PeriodTarget::Distance(Distance::from_km(32.0).unwrap())
        );
        for text in ["12runs", "12 runs", " 12 RUNS "] {
            assert_eq!(
                text.parse::<PeriodTarget>().unwrap(),
                PeriodTarget::Runs(12)
            );
        }
        assert_eq!(
            "1 run".parse::<PeriodTarget>().unwrap(),
            PeriodTarget::Runs(1)
        );
        for text in ["32km", "12runs", "1run"] {
            assert_eq!(text.parse::<PeriodTarget>().unwrap().to_string(), text);
        }
        // any distance comes back from its text to the centimetre
        for cm in [1, 160_934, 3_218_688, 4_219_500, 99_999_999_999] {
            let target = PeriodTarget::Distance(Distance::from_cm(cm));
            assert_eq!(target.to_string().parse::<PeriodTarget>().unwrap(), target);
        }
    }

    #[test]
    fn bad_targets_say_what_to_write() {
        for bad in [
            "", "20", "0mi", "0runs", "-3runs", "1.5runs", "20min", "lots",
        ] {
            let err = bad.parse::<PeriodTarget>().unwrap_err();
            assert_eq!(err, DomainError::InvalidTarget(bad.to_owned()));
            let text = err.to_string();
            assert!(text.contains("20mi") && text.contains("12runs"), "{text}");
        }
    }

    #[test]
    fn periods_parse_and_print() {
        assert_eq!("week".parse::<Period>().unwrap(), Period::ISO_WEEK);
        assert_eq!(" Month ".parse::<Period>().unwrap(), Period::Month);
        let sunday = Period::Week {
            starts_on: Weekday::Sunday,
        };
        assert_eq!("week:sunday".parse::<Period>().unwrap(), sunday);
        assert_eq!("week:Sun".parse::<Period>().unwrap(), sunday);
        assert_eq!(
            "week:thu".parse::<Period>().unwrap(),
            Period::Week {
                starts_on: Weekday::Thursday
            }
        );
        assert_eq!("week:monday".parse::<Period>().unwrap().to_string(), "week");
        for text in ["week", "week:sunday", "week:saturday", "month"] {
            assert_eq!(text.parse::<Period>().unwrap().to_string(), text);
        }
        for bad in [
            "fortnight",
            "week:",
            "week:s",
            "week:funday",
            "weekly",
            "year",
        ] {
            let err = bad.parse::<Period>().unwrap_err();
            assert_eq!(err, DomainError::InvalidPeriod(bad.to_owned()));
            assert!(err.to_string().contains("week:sunday"), "{err}");
        }
    }

    #[test]
    fn rules_parse_print_and_travel_as_text() {
        let rule: PeriodRule = "3 runs/week:sunday".parse().unwrap();
        assert_eq!(
            rule,
            PeriodRule {
                period: Period::Week {
                    starts_on: Weekday::Sunday
                },
                target: PeriodTarget::Runs(3),
            }
        );
        assert_eq!(rule.to_string(), "3runs/week:sunday");
        // serde reads the same text (and writes it with Display)
        let read: Result<PeriodRule, serde::de::value::Error> =
            PeriodRule::deserialize("3runs/week:sun".into_deserializer());
        assert_eq!(read.unwrap(), rule);
        assert_eq!(
            "20mi/week".parse::<PeriodRule>().unwrap().target,
            PeriodTarget::Distance(Distance::from_miles(20.0).unwrap())
        );
        assert_eq!(
            "20mi".parse::<PeriodRule>().unwrap_err(),
            DomainError::InvalidPeriodRule("20mi".to_owned())
        );
        assert_eq!(
            "20/week".parse::<PeriodRule>().unwrap_err(),
            DomainError::InvalidTarget("20".to_owned())
        );
        assert_eq!(
            "20mi/year".parse::<PeriodRule>().unwrap_err(),
            DomainError::InvalidPeriod("year".to_owned())
        );
    }
}
