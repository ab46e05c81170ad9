//! The pure core of MyRunStreak: runs, run days, streak rules, streaks and analytics.
//!
//! This crate does no I/O and never reads a clock. "Now", "today" and the runner's time zone are
//! inputs, so every answer is reproducible and testable. It is **not** a SmashRun client and not a
//! store: adapters turn SmashRun payloads and database rows into [`Run`]s and call in here.
//!
//! The rules implemented are those of `shared/docs/streak-rules.md`:
//! - a run's day is the local calendar date written in its `startDateTimeLocal`, or its start
//!   instant seen from a configured home zone ([`DayPolicy`]);
//! - a day qualifies under a [`Rule`] (`usrsa`, `continuous`, `any`, or a custom minimum);
//! - distances are compared at SmashRun's precision, 5 decimals of a kilometre ([`Distance`]);
//! - a day's audit ([`audit_day`]) explains one day with the same logic, never a second copy;
//! - the runner's ledger ([`LedgerEntry`]): manual runs and overrides become [`Run`]s marked with
//!   their [`RunOrigin`]; an override counts its day under any rule and is shown as one;
//! - weekly and monthly streaks ([`period_streaks`]) and yearly goals ([`goal_progress`]) add up
//!   the same run days by week, month or year.
//!
//! It also declares, once, the attributes of a run that are kept but never computed with
//! ([`RunAttributes`]: weather, heart rate, flags...), with SmashRun's key for each as data, so
//! that the client's parser, the store's columns and the mapping between them all derive from
//! one list. Reading JSON and writing SQL stay with those adapters.
#![warn(missing_docs)]

mod analytics;
mod attributes;
mod audit;
mod calendar;
mod day;
mod distance;
mod error;
mod goals;
mod ledger;
mod milestones;
mod periods;
mod rule;
mod run;
mod streak;

pub use analytics::{
    Analytics, BreakRecord, PaceRecord, PeriodTotals, Records, RunRecord, Totals, WeekdayTotals,
    analyze,
};
pub use attributes::{AttrField, AttrKind, AttrSource, AttrValue, RunAttributes};
pub use audit::{
    Amount, AuditFlag, AuditedRun, DayAudit, Measure, NearMiss, NotCounted, Threshold, Verdict,
    audit_day,
};
pub use calendar::{CalendarDay, DayKind, calendar};
pub use day::{DayPolicy, Horizon, day_number};
pub use distance::{Distance, Units, format_duration, format_pace, format_pace_per_km};
pub use error::DomainError;
pub use goals::{GoalAmount, GoalProgress, GoalStatus, PaceStanding, YearGoal, goal_progress};
pub use ledger::{
    DUPLICATE_WINDOW_S, FileFormat, ImportedFile, LedgerEntry, LedgerItem, LedgerKind, LedgerPush,
    PushState, duplicate_of, duplicates, is_running_sport,
};
pub use milestones::Milestones;
pub use periods::{
    Period, PeriodProgress, PeriodReport, PeriodRule, PeriodStreak, PeriodTarget, period_streaks,
};
pub use rule::{DayTotals, Remaining, Rule, StreakRules};
pub use run::{ActivityId, LocalStart, Run, RunOrigin};
pub use streak::{CurrentStreak, Streak, StreakReport, StreakStatus, day_totals, streaks};
