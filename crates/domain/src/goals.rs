//! Yearly goals: a distance or a number of runs in a calendar year, and how the runner stands.
//!
//! Today counts twice on purpose. It counts as elapsed for the pace line (the line a runner who
//! spreads the target evenly over the year reaches at the end of today), and it counts among
//! the days left for what is still needed (today's run may not be done yet). Runs are dated as
//! for period streaks: each on its own local date, and none after today.

use std::cmp::Ordering;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::periods::Tally;
use crate::{Amount, Distance, PeriodTarget, Run, StreakRules, Units, day_totals};

/// A target for one calendar year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct YearGoal {
    /// The calendar year.
    pub year: i16,
    /// What the year's runs must add up to (`1000mi`, `300runs`).
    pub target: PeriodTarget,
}

/// Where a goal is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    /// Its year has not begun.
    Upcoming,
    /// Its year is under way and the target is not reached yet.
    InProgress,
    /// The target is reached (whether or not the year is over).
    Achieved,
    /// The year is over and the target was not reached.
    Missed,
}

/// Where the runner stands against the pace line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceStanding {
    /// More done than the pace line.
    Ahead,
    /// Exactly on it (at a centimetre, or an exact number of runs).
    OnPace,
    /// Less done than the pace line.
    Behind,
}

/// A goal's figure in the target's terms. Unlike [`Amount`], a number of runs can be a fraction
/// here: a year of 300 runs asks for 0.82 runs a day.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalAmount {
    /// A distance, shown in kilometres.
    Km(Distance),
    /// A number of runs, possibly fractional.
    Runs(f64),
}

impl GoalAmount {
    /// As a runner reads it: `2.63 mi`, `0.8 runs`.
    pub fn format(&self, units: Units) -> String {
        match *self {
            GoalAmount::Km(d) => units.format(d),
            GoalAmount::Runs(n) => format!("{n:.1} runs"),
        }
    }
}

/// How a yearly goal stands on a given day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GoalProgress {
    /// The goal's year.
    pub year: i16,
    /// The date judged as today.
    pub today: Date,
    /// Upcoming, in progress, achieved or missed.
    pub status: GoalStatus,
    /// What the year's runs add up to so far.
    pub done: Amount,
    /// The target.
    pub target: Amount,
    /// What is still missing (zero once achieved).
    pub remaining: Amount,
    /// `done / target`; above 1 when the target is passed (1 for a target of zero).
    pub fraction: f64,
    /// 365, or 366 in a leap year.
    pub days_in_year: u32,
    /// Days of the year up to today, today included: 0 before the year, all of them after it.
    pub days_elapsed: u32,
    /// Days of the year from today on, today included: all of them before the year, 0 after it.
    pub days_left: u32,
    /// `target × days_elapsed / days_in_year` (distances to the nearest centimetre).
    pub pace_line: GoalAmount,
    /// Ahead of the pace line, on it, or behind it.
    pub standing: PaceStanding,
    /// How far ahead or behind the pace line (0 when on it).
    pub pace_gap: GoalAmount,
    /// What each remaining day needs to finish on time: 0 once achieved, `None` once the year
    /// is over and the target missed. Distances are rounded up to the centimetre.
    pub needed_per_day: Option<GoalAmount>,
    /// The same rate over seven days (with fewer than seven days left, more than remains).
    pub needed_per_week: Option<GoalAmount>,
}

/// How `goal` stands on `today`, from `runs`. Non-running activities never count; runs dated
/// after today are left out.
pub fn goal_progress(runs: &[Run], goal: &YearGoal, today: Date) -> GoalProgress {
    let mut tally = Tally::default();
    for day in day_totals(runs, &StreakRules::default(), Some(today)).values() {
        if day.date.year() == goal.year {
            tally.add(day);
        }
    }
    let days_in_year = days_in_year(goal.year);
    let (days_elapsed, days_left) = match today.year().cmp(&goal.year) {
        Ordering::Less => (0, days_in_year),
        Ordering::Greater => (days_in_year, 0),
        Ordering::Equal => {
            let day = today.day_of_year() as u32;
            (day, days_in_year - day + 1)
        }
    };
    let achieved = goal.target.reached_by(tally);
    let status = if achieved {
        GoalStatus::Achieved
    } else if days_left == 0 {
        GoalStatus::Missed
    } else if days_elapsed == 0 {
        GoalStatus::Upcoming
    } else {
        GoalStatus::InProgress
    };

    // Every figure is a ratio of whole numbers in the target's unit (centimetres or runs),
    // kept exact until it becomes a figure.
    let (target, done) = match goal.target {
        PeriodTarget::Distance(d) => (i128::from(d.cm()), i128::from(tally.distance.cm())),
        PeriodTarget::Runs(n) => (i128::from(n), i128::from(tally.runs)),
    };
    let (days, elapsed, left) = (
        i128::from(days_in_year),
        i128::from(days_elapsed),
        i128::from(days_left),
    );
    let figure = |numerator: i128, denominator: i128, round_up: bool| match goal.target {
        PeriodTarget::Distance(_) => {
            let cm = if round_up {
                (numerator + denominator - 1) / denominator
            } else {
                (2 * numerator + denominator) / (2 * denominator)
            };
            GoalAmount::Km(Distance::from_cm(cm as i64))
        }
        PeriodTarget::Runs(_) => GoalAmount::Runs(numerator as f64 / denominator as f64),
    };
    // done − pace line, over `days`
    let lead = done * days - target * elapsed;
    let pace_gap = figure(lead.abs(), days, false);
    let standing = if pace_gap == figure(0, 1, false) {
        PaceStanding::OnPace
    } else if lead > 0 {
        PaceStanding::Ahead
    } else {
        PaceStanding::Behind
    };
    let missing = (target - done).max(0);
    let needed = |per: i128| match status {
        GoalStatus::Missed => None,
        GoalStatus::Achieved => Some(figure(0, 1, true)),
        GoalStatus::Upcoming | GoalStatus::InProgress => Some(figure(missing * per, left, true)),
    };
    GoalProgress {
        year: goal.year,
        today,
        status,
        done: goal.target.measure(tally),
        target: goal.target.amount(),
        remaining: goal.target.remaining(tally),
        fraction: if target == 0 {
            1.0
        } else {
            done as f64 / target as f64
        },
        days_in_year,
        days_elapsed,
        days_left,
        pace_line: figure(target * elapsed, days, false),
        standing,
        pace_gap,
        needed_per_day: needed(1),
        needed_per_week: needed(7),
    }
}

/// Days in a year of the proleptic Gregorian calendar (jiff's), for any `i16` year: jiff's own
/// `Date::days_in_year` needs a date, and only years −9999 to 9999 have dates.
fn days_in_year(year: i16) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if leap { 366 } else { 365 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_years_agree_with_jiff() {
        for year in -9999..=9999i16 {
            let jiff = Date::new(year, 1, 1).unwrap().days_in_year() as u32;
            assert_eq!(days_in_year(year), jiff, "{year}");
        }
        assert_eq!(days_in_year(i16::MAX), 365);
        assert_eq!(days_in_year(i16::MIN), 366);
    }

    #[test]
    fn goal_amounts_read_in_the_runner_s_units() {
        let d = GoalAmount::Km(Distance::MILE);
        assert_eq!(d.format(Units::Imperial), "1.00 mi");
        assert_eq!(GoalAmount::Runs(0.8219).format(Units::Metric), "0.8 runs");
    }
}
