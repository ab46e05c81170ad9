//! Weekly and monthly streaks and yearly goals, judged on today in the runner's zone. Each
//! answer is the one serialization of its response: the CLI's `--json` prints it and the API
//! returns it.

use jiff::Timestamp;
use myrunstreak_domain::{
    DomainError, GoalProgress, GoalStatus, PaceStanding, Period, PeriodReport, PeriodRule,
    PeriodTarget, Run, Units, YearGoal, goal_progress, period_streaks,
};

use crate::Settings;
use crate::queries::{StreakQuery, horizon};

/// What the runner follows beside the daily streak, from the settings; shells may override it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Goals {
    /// A weekly or monthly streak (`MYRUNSTREAK_PERIOD_STREAK`).
    pub period: Option<PeriodRule>,
    /// A target for the calendar year (`MYRUNSTREAK_YEAR_GOAL`).
    pub year: Option<PeriodTarget>,
}

impl Goals {
    /// The goals the settings describe.
    pub fn from_settings(settings: &Settings) -> Self {
        Goals {
            period: settings.period_streak,
            year: settings.year_goal,
        }
    }
}

/// The streak of periods under `rule`, judged on today (or `query.as_of`) in the runner's zone.
pub fn period_report(
    runs: &[Run],
    query: &StreakQuery,
    rule: &PeriodRule,
    now: Timestamp,
) -> Result<PeriodReport, DomainError> {
    let runs = &*query.counted(runs);
    let runs = &*query.counted(runs);
    let (_, horizon) = horizon(runs, query, now)?;
    Ok(period_streaks(runs, rule, horizon.today))
}

/// Where the runner stands against `target` for `year` (default: the year of today in the
/// runner's zone), with the pace line and what is now needed.
pub fn year_goal(
    runs: &[Run],
    query: &StreakQuery,
    target: PeriodTarget,
    year: Option<i16>,
    now: Timestamp,
) -> Result<GoalProgress, DomainError> {
    let runs = &*query.counted(runs);
    let runs = &*query.counted(runs);
    let (_, horizon) = horizon(runs, query, now)?;
    let goal = YearGoal {
        year: year.unwrap_or(horizon.today.year()),
        target,
    };
    Ok(goal_progress(runs, &goal, horizon.today))
}

/// `/api/v1/goals` and `myrunstreak goals --json`: the period streak and the year goal that are
/// set (or asked for), each absent when neither is.
#[derive(Clone, Debug, serde::Serialize, PartialEq)]
pub struct GoalsResponse {
    /// The weekly or monthly streak.
    pub period: Option<PeriodReport>,
    /// The year's goal.
    pub year: Option<GoalProgress>,
}

/// Both answers for `goals`, judged at `now`.
pub fn goals(
    runs: &[Run],
    query: &StreakQuery,
    goals: &Goals,
    year: Option<i16>,
    now: Timestamp,
) -> Result<GoalsResponse, DomainError> {
    Ok(GoalsResponse {
        period: goals
            .period
            .map(|rule| period_report(runs, query, &rule, now))
            .transpose()?,
        year: goals
            .year
            .map(|target| year_goal(runs, query, target, year, now))
            .transpose()?,
    })
}

/// `12 weeks` or `1 month`.
fn periods(n: u32, period: Period) -> String {
    let word = match period {
        Period::Week { .. } => "week",
        Period::Month => "month",
    };
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// What a runner reads of a period streak, one line each: the streak, the period in progress,
/// the longest.
pub fn period_lines(r: &PeriodReport, units: Units) -> Vec<String> {
    let p = &r.current_period;
    let every = match r.rule.period {
        Period::Month => "every month".to_owned(),
        Period::Week { starts_on } => format!("every week from {starts_on:?}"),
    };
    let target = p.target.format(units);
    let mut lines = vec![match &r.current {
        Some(s) => format!(
            "Streak of at least {target} {every}: {}, since {}",
            periods(s.periods, r.rule.period),
            s.start
        ),
        None => format!("Streak of at least {target} {every}: none yet"),
    }];
    let state = if p.qualifies {
        "done".to_owned()
    } else {
        let left = format!(
            "{} to go, {} day{} left",
            p.remaining.format(units),
            p.days_left,
            if p.days_left == 1 { "" } else { "s" }
        );
        if r.at_risk {
            format!("{left}: at risk")
        } else {
            left
        }
    };
    lines.push(format!(
        "This period ({} to {}): {} of {target}, {state}",
        p.start,
        p.end,
        p.done.format(units)
    ));
    if let Some(l) = &r.longest {
        lines.push(format!(
            "Longest: {}, {} to {}",
            periods(l.periods, r.rule.period),
            l.start,
            l.end
        ));
    }
    lines
}

/// What a runner reads of a year goal.
pub fn goal_lines(g: &GoalProgress, units: Units) -> Vec<String> {
    let status = match g.status {
        GoalStatus::Upcoming => "not started",
        GoalStatus::InProgress => "in progress",
        GoalStatus::Achieved => "achieved",
        GoalStatus::Missed => "missed",
    };
    let mut lines = vec![format!(
        "{} goal: {} of {} ({:.0}%), {status}",
        g.year,
        g.done.format(units),
        g.target.format(units),
        g.fraction * 100.0,
    )];
    if g.status == GoalStatus::InProgress {
        let standing = match g.standing {
            PaceStanding::Ahead => format!("{} ahead of", g.pace_gap.format(units)),
            PaceStanding::OnPace => "on".to_owned(),
            PaceStanding::Behind => format!("{} behind", g.pace_gap.format(units)),
        };
        lines.push(format!(
            "Pace line today: {}; you are {standing} the pace line",
            g.pace_line.format(units)
        ));
        if let (Some(day), Some(week)) = (&g.needed_per_day, &g.needed_per_week) {
            lines.push(format!(
                "Needed from here: {} a day, {} a week ({} days left)",
                day.format(units),
                week.format(units),
                g.days_left
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use myrunstreak_domain::{ActivityId, Amount, Distance, LocalStart, Rule, RunOrigin};

    fn run(id: i64, start: &str, origin: RunOrigin) -> Run {
        Run {
            id: ActivityId::new(id).unwrap(),
            start: LocalStart::parse(start).unwrap(),
            distance: Distance::from_km(5.0).unwrap(),
            duration_s: 1500.0,
            is_running: true,
            is_treadmill: false,
            origin,
        }
    }

    #[test]
    fn goals_count_the_ledger_unless_the_query_leaves_it_out() {
        let runs = [
            run(1, "2026-05-01T07:00:00-04:00", RunOrigin::SmashRun),
            run(
                2,
                "2026-05-02T12:00:00-04:00",
                RunOrigin::Ledger { entry: 2 },
            ),
            run(3, "2026-05-03T07:00:00-04:00", RunOrigin::SmashRun),
        ];
        let query = StreakQuery {
            rule: Rule::Usrsa,
            timezone: None,
            exclude_treadmill: false,
            as_of: Some(jiff::civil::date(2026, 5, 3)),
            exclude_ledger: false,
        };
        let now: Timestamp = "2026-05-10T12:00:00Z".parse().unwrap();
        let wanted = Goals {
            period: Some("3runs/week".parse().unwrap()),
            year: Some("100runs".parse().unwrap()),
        };
        let all = goals(&runs, &query, &wanted, None, now).unwrap();
        let bare = goals(
            &runs,
            &query.clone().excluding_ledger(true),
            &wanted,
            None,
            now,
        )
        .unwrap();
        assert_eq!(all.year.unwrap().done, Amount::Runs(3));
        assert_eq!(bare.year.unwrap().done, Amount::Runs(2));
        // 2026-04-27..05-03 is one ISO week: three runs with the ledger's, two without
        assert!(all.period.unwrap().current_period.qualifies);
        assert!(!bare.period.unwrap().current_period.qualifies);
    }
}
