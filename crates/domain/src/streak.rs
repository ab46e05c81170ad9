use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::{
    DayTotals, Distance, Horizon, Milestones, Remaining, Rule, Run, StreakRules, day_number,
};

/// A maximal run of consecutive qualifying days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Streak {
    /// First day.
    pub start: Date,
    /// Last day.
    pub end: Date,
    /// Number of days, first and last included.
    pub days: u32,
    /// Distance of every counted run in the streak.
    pub distance: Distance,
    /// Number of counted runs in the streak.
    pub runs: u32,
}

/// How today stands for the current streak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreakStatus {
    /// Today already qualifies.
    Done,
    /// Yesterday qualifies and today does not yet.
    AtRisk,
    /// Neither yesterday nor today qualifies.
    None,
}

/// The streak that is still alive today, if any.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurrentStreak {
    /// Length in days; 0 when there is none.
    pub days: u32,
    /// First day, when there is a streak.
    pub start: Option<Date>,
    /// Last qualifying day, when there is a streak.
    pub end: Option<Date>,
    /// Done, at risk, or none.
    pub status: StreakStatus,
    /// What today still needs to qualify.
    pub remaining: Remaining,
    /// Seconds left until local midnight.
    pub time_left_s: i64,
    /// Today's counted runs, added up.
    pub today: DayTotals,
    /// Milestones of the current streak.
    pub milestones: Milestones,
}

/// Everything the engine says of a history under one set of rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreakReport {
    /// The date judged as today.
    pub today: Date,
    /// The current streak.
    pub current: CurrentStreak,
    /// The longest streak, ties broken by the most recent.
    pub longest: Option<Streak>,
    /// Every streak, oldest first.
    pub streaks: Vec<Streak>,
    /// Number of qualifying days in all history.
    pub qualifying_days: u32,
}

/// The counted runs of each day, by date. With a cut-off, days after it are left out.
pub fn day_totals(
    runs: &[Run],
    rules: &StreakRules,
    cutoff: Option<Date>,
) -> BTreeMap<Date, DayTotals> {
    let mut days: BTreeMap<Date, DayTotals> = BTreeMap::new();
    for run in runs.iter().filter(|r| rules.counts(r)) {
        let date = rules.days.day_of(&run.start);
        if cutoff.is_some_and(|c| date > c) {
            continue;
        }
        days.entry(date)
            .or_insert_with(|| DayTotals::empty(date))
            .add(run);
    }
    days
}

/// Every streak of a history of days under a rule, oldest first.
fn streaks_of(days: &BTreeMap<Date, DayTotals>, rule: &Rule) -> Vec<Streak> {
    let mut out: Vec<Streak> = Vec::new();
    let mut last_number = i64::MIN;
    for day in days.values().filter(|d| rule.qualifies(d)) {
        let number = day_number(day.date);
        match out.last_mut() {
            Some(s) if number == last_number + 1 => {
                s.end = day.date;
                s.days += 1;
                s.distance += day.distance;
                s.runs += day.runs;
            }
            _ => out.push(Streak {
                start: day.date,
                end: day.date,
                days: 1,
                distance: day.distance,
                runs: day.runs,
            }),
        }
        last_number = number;
    }
    out
}

/// Streaks, the current one and the longest, for `runs` judged at `horizon`.
pub fn streaks(runs: &[Run], rules: &StreakRules, horizon: &Horizon) -> StreakReport {
    let cutoff = horizon.cut_off_after_today.then_some(horizon.today);
    let days = day_totals(runs, rules, cutoff);
    let all = streaks_of(&days, &rules.rule);
    let today = horizon.today;
    let today_totals = days
        .get(&today)
        .copied()
        .unwrap_or_else(|| DayTotals::empty(today));
    let today_n = day_number(today);

    // The streak alive today: one that includes today, else one that ended yesterday, else one
    // that starts after today (a runner who flew east ran "tomorrow").
    let containing = all
        .iter()
        .rev()
        .find(|s| s.start <= today && s.end >= today);
    let ended_yesterday = all.iter().rev().find(|s| day_number(s.end) == today_n - 1);
    let ahead = all
        .iter()
        .find(|s| s.start > today && day_number(s.start) == today_n + 1);
    let (alive, status) = match (containing, ended_yesterday, ahead) {
        (Some(s), _, _) => (Some(s), StreakStatus::Done),
        (None, Some(s), _) => (Some(s), StreakStatus::AtRisk),
        (None, None, Some(s)) => (Some(s), StreakStatus::Done),
        (None, None, None) => (None, StreakStatus::None),
    };
    let days_alive = alive.map_or(0, |s| s.days);
    let current = CurrentStreak {
        days: days_alive,
        start: alive.map(|s| s.start),
        end: alive.map(|s| s.end),
        status,
        remaining: rules.rule.remaining(&today_totals),
        time_left_s: horizon.time_left.as_secs(),
        today: today_totals,
        milestones: Milestones::for_days(days_alive),
    };
    let longest = all
        .iter()
        .copied()
        .reduce(|best, s| if s.days >= best.days { s } else { best });
    StreakReport {
        today,
        current,
        longest,
        qualifying_days: all.iter().map(|s| s.days).sum(),
        streaks: all,
    }
}
