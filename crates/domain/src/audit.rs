//! A day's audit: "why did this day count?".
//!
//! A runner who doubts a number can look at one day: which activities fell on it, which counted
//! and why the others did not, the day's total against the rule's minimum, the near-misses, the
//! start times worth a second look, and whether the day is part of the current streak.
//!
//! The audit decides nothing by itself: which runs count is [`StreakRules::counts`], the day of a
//! run is [`DayPolicy::day_of`](crate::DayPolicy::day_of), the day's totals come from
//! [`day_totals`] and the verdict from [`Rule::qualifies`], exactly as for [`streaks`]. It only
//! explains, so it can never disagree with the streak.

use jiff::civil::Date;
use serde::Serialize;

use crate::{
    ActivityId, DayTotals, Distance, Horizon, LocalStart, Remaining, Rule, Run, RunOrigin, Streak,
    StreakRules, Units, day_number, day_totals, format_duration, streaks,
};

/// A UTC offset at or west of this is unusual enough to be worth checking (−11:00).
const EXTREME_WEST_S: i32 = -11 * 3600;
/// A UTC offset at or east of this is unusual enough to be worth checking (+13:00).
const EXTREME_EAST_S: i32 = 13 * 3600;

/// Whether a start's UTC offset is near the date line (≤ −11:00 or ≥ +13:00).
fn extreme_offset(start: &LocalStart) -> bool {
    let s = start.offset().seconds();
    s <= EXTREME_WEST_S || s >= EXTREME_EAST_S
}

/// Why an activity listed in a day's audit did not count for that day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotCounted {
    /// Not a run (a walk, a ride, ...): only running counts.
    NotRunning,
    /// A treadmill run, and the rules leave treadmill runs out.
    TreadmillExcluded,
    /// Written on this date, but its day in the home zone is another one.
    AnotherDay {
        /// The day it belongs to.
        day: Date,
    },
    /// The day is after the day judged as today (`as_of`): its runs are not counted yet.
    AfterToday,
}

impl NotCounted {
    /// The reason in a few words, e.g. `treadmill runs are excluded`.
    pub fn describe(&self) -> String {
        match self {
            NotCounted::NotRunning => "not a run".to_owned(),
            NotCounted::TreadmillExcluded => "treadmill runs are excluded".to_owned(),
            NotCounted::AnotherDay { day } => format!("counts on {day} in the home zone"),
            NotCounted::AfterToday => "after the day judged as today".to_owned(),
        }
    }
}

/// One activity of the audited day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditedRun {
    /// SmashRun's id.
    pub id: ActivityId,
    /// The local wall time and UTC offset of the start, as written.
    pub start: LocalStart,
    /// The UTC offset of the start, in seconds.
    pub utc_offset_s: i32,
    /// The day this activity belongs to under the rules.
    pub day: Date,
    /// Distance (km).
    pub distance: Distance,
    /// Moving time in seconds.
    pub duration_s: f64,
    /// Whether it counted toward this day.
    pub counted: bool,
    /// Why it did not count, when it did not.
    pub not_counted: Option<NotCounted>,
    /// SmashRun, or a manual run of the ledger (then `id` is the ledger entry's).
    pub origin: RunOrigin,
}

/// Which quantity of the day a rule compares with its minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The day's runs added up (`usrsa`, a custom distance).
    DayDistance,
    /// The longest single run (`continuous`).
    SingleRun,
    /// The day's moving time added up (a custom time).
    MovingTime,
    /// The number of runs (`any`).
    AnyRun,
}

/// A quantity in a rule's terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// A distance, shown in kilometres.
    Km(Distance),
    /// Moving time in seconds.
    Seconds(f64),
    /// A number of runs.
    Runs(u32),
}

impl Amount {
    /// As a runner reads it: `0.98 mi`, `19:30`, `2 runs`.
    pub fn format(&self, units: Units) -> String {
        match *self {
            Amount::Km(d) => units.format(d),
            Amount::Seconds(s) => format_duration(s),
            Amount::Runs(n) => format!("{n} run{}", if n == 1 { "" } else { "s" }),
        }
    }

    /// A shortfall as a runner reads it; never a misleading `0.00 mi`.
    fn format_short(&self, units: Units) -> String {
        match *self {
            Amount::Km(d) if units.value(d) < 0.005 => format!("less than 0.01 {}", units.label()),
            Amount::Seconds(s) if s < 0.5 => "less than a second".to_owned(),
            _ => self.format(units),
        }
    }
}

/// The day's total against the rule's minimum, in the rule's terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Threshold {
    /// What is compared.
    pub measure: Measure,
    /// What the day's counted runs achieved.
    pub achieved: Amount,
    /// What the rule asks for.
    pub minimum: Amount,
}

impl Threshold {
    /// E.g. `the day's runs added up: 0.98 mi of the 1.00 mi needed`.
    pub fn describe(&self, units: Units) -> String {
        let (achieved, minimum) = (self.achieved.format(units), self.minimum.format(units));
        match self.measure {
            Measure::DayDistance => {
                format!("the day's runs added up: {achieved} of the {minimum} needed")
            }
            Measure::SingleRun => {
                format!("the longest single run: {achieved} of the {minimum} needed in one run")
            }
            Measure::MovingTime => {
                format!("the day's moving time: {achieved} of the {minimum} needed")
            }
            Measure::AnyRun => format!("{achieved}; one run of any length is needed"),
        }
    }
}

/// Something that fell short of the rule by less than 5 %.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NearMiss {
    /// The run that fell short by itself (`continuous`); none when it is the day's total.
    pub run: Option<ActivityId>,
    /// What it achieved.
    pub achieved: Amount,
    /// What the rule asks for.
    pub minimum: Amount,
    /// How much was missing.
    pub short_by: Amount,
}

impl NearMiss {
    /// E.g. `the day's total, 0.98 mi: 0.02 mi short of 1.00 mi`.
    pub fn describe(&self, units: Units) -> String {
        let what = match self.run {
            Some(id) => format!("run {id}"),
            None => "the day's total".to_owned(),
        };
        format!(
            "{what}, {}: {} short of {}",
            self.achieved.format(units),
            self.short_by.format_short(units),
            self.minimum.format(units)
        )
    }
}

/// A start time worth a second look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditFlag {
    /// A UTC offset at or beyond −11:00 or +13:00, near the date line.
    ExtremeOffset {
        /// The run.
        run: ActivityId,
        /// Its offset in seconds.
        utc_offset_s: i32,
        /// Its written date.
        written: Date,
        /// The day it belongs to under the rules.
        day: Date,
    },
    /// The source wrote no UTC offset: the date is as written, the offset (and instant) a guess.
    OffsetAssumed {
        /// The run.
        run: ActivityId,
    },
    /// With a home zone: the date written in the run's start is not its date in the home zone.
    HomeZoneDate {
        /// The run.
        run: ActivityId,
        /// The date written in its start.
        written: Date,
        /// Its date in the home zone, the day it counts for.
        home: Date,
    },
}

impl AuditFlag {
    /// One sentence a runner can act on.
    pub fn describe(&self) -> String {
        match *self {
            AuditFlag::ExtremeOffset {
                run,
                utc_offset_s,
                written,
                day,
            } => {
                let offset = offset_text(utc_offset_s);
                if day == written {
                    format!(
                        "run {run} started at UTC{offset}, near the date line: it is kept on its written date, {written}"
                    )
                } else {
                    format!(
                        "run {run} started at UTC{offset}, near the date line: written {written}, it counts on {day}"
                    )
                }
            }
            AuditFlag::OffsetAssumed { run } => format!(
                "run {run} came without a UTC offset: its date is as written, its offset was assumed"
            ),
            AuditFlag::HomeZoneDate { run, written, home } => format!(
                "run {run} is written on {written} but is {home} in the home zone, and counts on {home}"
            ),
        }
    }
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", abs / 3600, (abs / 60) % 60)
}

/// Why the day did or did not qualify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The day's counted runs meet the rule.
    Qualified,
    /// No activity on this day at all.
    NoActivity,
    /// Activities, but none of them counts (not runs, treadmill excluded, another day).
    NothingCounted,
    /// Counted runs, short of the rule's minimum.
    ShortOfMinimum,
    /// The day is after the day judged as today.
    AfterToday,
    /// The runs alone do not qualify, and the runner's override counts the day.
    Override,
}

/// Everything that decided one day, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayAudit {
    /// The audited day.
    pub date: Date,
    /// The rule the day was judged by.
    pub rule: Rule,
    /// The day judged as today.
    pub today: Date,
    /// Every activity of the day, and those written on it that belong to another day; by start.
    pub runs: Vec<AuditedRun>,
    /// The counted runs added up.
    pub totals: DayTotals,
    /// The total against the rule's minimum.
    pub threshold: Threshold,
    /// The reason the runner gave when overriding the day, if they did.
    pub override_reason: Option<String>,
    /// Whether the day qualifies (it is then part of a streak).
    pub qualifies: bool,
    /// Why it does or does not.
    pub verdict: Verdict,
    /// What fell short by less than 5 % (only on a day that did not qualify).
    pub near_misses: Vec<NearMiss>,
    /// Start times worth a second look.
    pub flags: Vec<AuditFlag>,
    /// The streak the day is part of.
    pub streak: Option<Streak>,
    /// Whether that streak is the current one.
    pub in_current_streak: bool,
}

/// The rule's minimum and what the day achieved, in the rule's terms. The minimum is what an
/// empty day still needs ([`Rule::remaining`]), so it cannot drift from the rule.
fn threshold(rule: &Rule, totals: &DayTotals) -> Threshold {
    let minimum = match rule.remaining(&DayTotals::empty(totals.date)) {
        Remaining::Distance(d) => Amount::Km(d),
        Remaining::MovingTime(s) => Amount::Seconds(f64::from(s)),
        Remaining::AnyRun | Remaining::Nothing => Amount::Runs(1),
    };
    let (measure, achieved) = match rule {
        Rule::Usrsa | Rule::MinDistance(_) => (Measure::DayDistance, Amount::Km(totals.distance)),
        Rule::Continuous => (Measure::SingleRun, Amount::Km(totals.longest_run)),
        Rule::MinMovingTime(_) => (
            Measure::MovingTime,
            Amount::Seconds(totals.moving_ms as f64 / 1000.0),
        ),
        Rule::Any => (Measure::AnyRun, Amount::Runs(totals.runs)),
    };
    Threshold {
        measure,
        achieved,
        minimum,
    }
}

/// `achieved` is short of `minimum` by less than 5 %: the shortfall, else `None`.
fn near_miss(achieved: Amount, minimum: Amount) -> Option<Amount> {
    match (achieved, minimum) {
        (Amount::Km(a), Amount::Km(m)) if a < m && a.cm() * 100 >= m.cm() * 95 => {
            Some(Amount::Km(m.saturating_sub(a)))
        }
        (Amount::Seconds(a), Amount::Seconds(m)) if a < m && a * 100.0 >= m * 95.0 => {
            Some(Amount::Seconds(m - a))
        }
        _ => None,
    }
}

/// Audits `date` for `runs` under `rules`, judged at `horizon` (as [`streaks`] would).
pub fn audit_day(runs: &[Run], date: Date, rules: &StreakRules, horizon: &Horizon) -> DayAudit {
    let after_today = horizon.cut_off_after_today && date > horizon.today;
    let mut listed: Vec<(&Run, Date)> = runs
        .iter()
        .map(|r| (r, rules.days.day_of(&r.start)))
        .filter(|(r, day)| *day == date || r.start.date() == date)
        .collect();
    // an override is a statement about the day, not an activity: it is told apart below
    let override_reason = listed.iter().find_map(|(r, day)| match &r.origin {
        RunOrigin::Override { reason, .. } if *day == date => Some(reason.clone()),
        _ => None,
    });
    listed.retain(|(r, _)| !r.is_override());
    listed.sort_by_key(|(r, _)| (r.start.instant(), r.id));

    // The day's totals exactly as the streak engine makes them.
    let of_the_day: Vec<Run> = runs
        .iter()
        .filter(|r| rules.days.day_of(&r.start) == date)
        .cloned()
        .collect();
    let cutoff = horizon.cut_off_after_today.then_some(horizon.today);
    let totals = day_totals(&of_the_day, rules, cutoff)
        .remove(&date)
        .unwrap_or_else(|| DayTotals::empty(date));
    let qualifies = rules.rule.qualifies(&totals);

    let audited: Vec<AuditedRun> = listed
        .iter()
        .map(|&(run, day)| {
            let not_counted = if day != date {
                Some(NotCounted::AnotherDay { day })
            } else if !rules.counts(run) {
                Some(if run.is_running {
                    NotCounted::TreadmillExcluded
                } else {
                    NotCounted::NotRunning
                })
            } else if after_today {
                Some(NotCounted::AfterToday)
            } else {
                None
            };
            AuditedRun {
                id: run.id,
                start: run.start,
                utc_offset_s: run.start.offset().seconds(),
                day,
                distance: run.distance,
                duration_s: run.duration_s,
                counted: not_counted.is_none(),
                not_counted,
                origin: run.origin.clone(),
            }
        })
        .collect();

    let threshold = threshold(&rules.rule, &totals);
    let verdict = if qualifies && !rules.rule.qualifies_by_runs(&totals) {
        Verdict::Override
    } else if qualifies {
        Verdict::Qualified
    } else if after_today {
        Verdict::AfterToday
    } else if audited.is_empty() {
        Verdict::NoActivity
    } else if totals.runs == 0 {
        Verdict::NothingCounted
    } else {
        Verdict::ShortOfMinimum
    };

    let mut near_misses = Vec::new();
    if verdict == Verdict::ShortOfMinimum {
        match threshold.measure {
            Measure::SingleRun => {
                for run in audited.iter().filter(|r| r.counted) {
                    let achieved = Amount::Km(run.distance);
                    if let Some(short_by) = near_miss(achieved, threshold.minimum) {
                        near_misses.push(NearMiss {
                            run: Some(run.id),
                            achieved,
                            minimum: threshold.minimum,
                            short_by,
                        });
                    }
                }
            }
            Measure::DayDistance | Measure::MovingTime => {
                if let Some(short_by) = near_miss(threshold.achieved, threshold.minimum) {
                    near_misses.push(NearMiss {
                        run: None,
                        achieved: threshold.achieved,
                        minimum: threshold.minimum,
                        short_by,
                    });
                }
            }
            Measure::AnyRun => {}
        }
    }

    let mut flags = Vec::new();
    for (run, day) in &listed {
        let written = run.start.date();
        if extreme_offset(&run.start) {
            flags.push(AuditFlag::ExtremeOffset {
                run: run.id,
                utc_offset_s: run.start.offset().seconds(),
                written,
                day: *day,
            });
        }
        // a manual run entered without a time has an assumed offset by design: nothing to check
        if run.start.offset_assumed() && !run.is_ledger() {
            flags.push(AuditFlag::OffsetAssumed { run: run.id });
        }
        if written != *day {
            flags.push(AuditFlag::HomeZoneDate {
                run: run.id,
                written,
                home: *day,
            });
        }
    }

    let report = streaks(runs, rules, horizon);
    let within = |s: &Streak| s.start <= date && date <= s.end;
    let streak = report.streaks.iter().find(|s| within(s)).copied();
    let current = &report.current;
    let in_current_streak = current.days > 0
        && current
            .start
            .zip(current.end)
            .is_some_and(|(start, end)| start <= date && date <= end);

    DayAudit {
        date,
        rule: rules.rule,
        today: horizon.today,
        runs: audited,
        totals,
        threshold,
        override_reason,
        qualifies,
        verdict,
        near_misses,
        flags,
        streak,
        in_current_streak,
    }
}

impl DayAudit {
    /// Why the day did or did not qualify, and where it stands in the streaks, in plain words.
    pub fn explain(&self, units: Units) -> String {
        let t = &self.threshold;
        let rule = &self.rule;
        let (achieved, minimum) = (t.achieved.format(units), t.minimum.format(units));
        let short_by = || match rule.remaining(&self.totals) {
            Remaining::Distance(d) => Amount::Km(d).format_short(units),
            Remaining::MovingTime(s) => Amount::Seconds(f64::from(s)).format_short(units),
            Remaining::AnyRun | Remaining::Nothing => String::new(),
        };
        let counted = Amount::Runs(self.totals.runs).format(units);
        let verdict = match (self.verdict, t.measure) {
            (Verdict::Qualified, Measure::DayDistance) => format!(
                "Counted: {counted} added up to {achieved}, at least the {minimum} the {rule} rule asks for."
            ),
            (Verdict::Qualified, Measure::SingleRun) => format!(
                "Counted: the longest run, {achieved}, is at least the {minimum} the {rule} rule asks for in one run."
            ),
            (Verdict::Qualified, Measure::MovingTime) => format!(
                "Counted: {counted} added up to {achieved} of moving time, at least the {minimum} the {rule} rule asks for."
            ),
            (Verdict::Qualified, Measure::AnyRun) => {
                format!("Counted: {counted}, and the {rule} rule counts a run of any length.")
            }
            (Verdict::Override, _) => format!(
                "Counted by an override: {}. The runs alone do not qualify: {}.",
                self.override_reason.as_deref().unwrap_or("no reason given"),
                t.describe(units)
            ),
            (Verdict::AfterToday, _) => format!(
                "Not counted yet: this day is after {}, the day judged as today.",
                self.today
            ),
            (Verdict::NoActivity, _) => "Not counted: no activity on this day.".to_owned(),
            (Verdict::NothingCounted, _) => {
                let mut reasons: Vec<String> = Vec::new();
                for reason in self.runs.iter().filter_map(|r| r.not_counted) {
                    let text = reason.describe();
                    if !reasons.contains(&text) {
                        reasons.push(text);
                    }
                }
                format!(
                    "Not counted: none of the day's activities counts ({}).",
                    reasons.join("; ")
                )
            }
            (Verdict::ShortOfMinimum, Measure::DayDistance) => format!(
                "Not counted: {counted} added up to {achieved}, {} short of the {minimum} the {rule} rule asks for.",
                short_by()
            ),
            (Verdict::ShortOfMinimum, Measure::SingleRun) => format!(
                "Not counted: the longest run is {achieved}, short of the {minimum} the {rule} rule asks for in one run; {counted} added up to {}, but runs are not added up under this rule.",
                units.format(self.totals.distance)
            ),
            (Verdict::ShortOfMinimum, Measure::MovingTime) => format!(
                "Not counted: {counted} added up to {achieved} of moving time, {} short of the {minimum} the {rule} rule asks for.",
                short_by()
            ),
            // a counted run always qualifies under `any`
            (Verdict::ShortOfMinimum, Measure::AnyRun) => {
                format!("Not counted under the {rule} rule.")
            }
        };
        let streak = match &self.streak {
            Some(s) => {
                let nth = day_number(self.date) - day_number(s.start) + 1;
                let whose = if self.in_current_streak {
                    "the current streak"
                } else {
                    "an earlier streak"
                };
                format!(
                    " It is day {nth} of {whose}, {} to {} ({} day{}).",
                    s.start,
                    s.end,
                    s.days,
                    if s.days == 1 { "" } else { "s" }
                )
            }
            None if self.verdict == Verdict::AfterToday => String::new(),
            None => " It is not part of any streak.".to_owned(),
        };
        let also = match (&self.override_reason, self.verdict) {
            (Some(reason), Verdict::Qualified) => {
                format!(" The day is also overridden ({reason}), which it does not need.")
            }
            _ => String::new(),
        };
        verdict + &also + &streak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DayPolicy;
    use jiff::Timestamp;
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    fn run(id: i64, start: &str, miles: f64) -> Run {
        Run {
            id: ActivityId::new(id).unwrap(),
            start: LocalStart::parse(start).unwrap(),
            distance: Distance::from_miles(miles).unwrap(),
            duration_s: miles * 540.0,
            is_running: true,
            is_treadmill: false,
            origin: RunOrigin::SmashRun,
        }
    }

    fn rules(rule: Rule) -> StreakRules {
        StreakRules {
            rule,
            ..StreakRules::default()
        }
    }

    /// Judged at noon UTC on `today` (a fixed clock: tests never read one).
    fn at(today: Date) -> Horizon {
        let now: Timestamp = today
            .at(12, 0, 0, 0)
            .to_zoned_datetime(TimeZone::UTC)
            .unwrap()
            .timestamp();
        Horizon::at(now, &TimeZone::UTC).unwrap()
    }

    fn may(day: i8) -> Date {
        date(2026, 5, day)
    }

    /// The audit must agree with the streak engine on every day it is asked about.
    fn agrees_with_streaks(runs: &[Run], rules: &StreakRules, horizon: &Horizon, day: Date) {
        let audit = audit_day(runs, day, rules, horizon);
        let report = streaks(runs, rules, horizon);
        let in_a_streak = report
            .streaks
            .iter()
            .any(|s| s.start <= day && day <= s.end);
        assert_eq!(audit.qualifies, in_a_streak, "{day}: {audit:?}");
        assert_eq!(audit.streak.is_some(), in_a_streak);
        let counted: Distance = audit
            .runs
            .iter()
            .filter(|r| r.counted)
            .map(|r| r.distance)
            .sum();
        assert_eq!(
            counted, audit.totals.distance,
            "counted runs add up to the total"
        );
    }

    #[test]
    fn a_split_mile_counts_under_usrsa_and_not_under_continuous() {
        let runs = [
            run(1, "2026-05-03T07:00:00-04:00", 0.5),
            run(2, "2026-05-03T18:30:00-04:00", 0.5),
            run(3, "2026-05-02T07:00:00-04:00", 3.0),
        ];
        let usrsa = audit_day(&runs, may(3), &rules(Rule::Usrsa), &at(may(3)));
        assert!(usrsa.qualifies);
        assert_eq!(usrsa.verdict, Verdict::Qualified);
        assert_eq!(
            usrsa.runs.iter().map(|r| r.id.get()).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(usrsa.runs.iter().all(|r| r.counted));
        assert_eq!(usrsa.totals.runs, 2);
        assert_eq!(usrsa.threshold.measure, Measure::DayDistance);
        assert_eq!(usrsa.threshold.minimum, Amount::Km(Distance::MILE));
        assert!(usrsa.near_misses.is_empty());
        assert!(usrsa.in_current_streak);
        assert_eq!(usrsa.streak.map(|s| s.days), Some(2));
        let text = usrsa.explain(Units::Imperial);
        assert!(
            text.starts_with("Counted: 2 runs added up to 1.00 mi, at least the 1.00 mi"),
            "{text}"
        );
        assert!(
            text.contains("day 2 of the current streak, 2026-05-02 to 2026-05-03"),
            "{text}"
        );

        let continuous = audit_day(&runs, may(3), &rules(Rule::Continuous), &at(may(3)));
        assert!(!continuous.qualifies);
        assert_eq!(continuous.verdict, Verdict::ShortOfMinimum);
        assert_eq!(continuous.threshold.measure, Measure::SingleRun);
        assert_eq!(
            continuous.threshold.achieved,
            Amount::Km(Distance::from_miles(0.5).unwrap())
        );
        assert!(continuous.near_misses.is_empty(), "half a mile is not near");
        assert_eq!(
            continuous.threshold.describe(Units::Imperial),
            "the longest single run: 0.50 mi of the 1.00 mi needed in one run"
        );
        assert!(!continuous.in_current_streak);
        let text = continuous.explain(Units::Imperial);
        assert!(text.contains("runs are not added up"), "{text}");
        assert!(text.ends_with("It is not part of any streak."), "{text}");
        for rule in [Rule::Usrsa, Rule::Continuous, Rule::Any] {
            for day in [may(2), may(3)] {
                agrees_with_streaks(&runs, &rules(rule), &at(may(3)), day);
            }
        }
    }

    #[test]
    fn a_day_of_0_98_mi_is_a_near_miss_of_the_mile() {
        let runs = [run(7, "2026-05-01T06:10:00-07:00", 0.98)];
        let a = audit_day(&runs, may(1), &rules(Rule::Usrsa), &at(may(3)));
        assert!(!a.qualifies);
        assert_eq!(a.verdict, Verdict::ShortOfMinimum);
        assert_eq!(a.near_misses.len(), 1);
        let miss = a.near_misses[0];
        assert_eq!(miss.run, None, "the day's total");
        let Amount::Km(short) = miss.short_by else {
            panic!("{miss:?}")
        };
        assert_eq!(short, Distance::MILE.saturating_sub(runs[0].distance));
        assert_eq!(
            miss.describe(Units::Imperial),
            "the day's total, 0.98 mi: 0.02 mi short of 1.00 mi"
        );
        let text = a.explain(Units::Imperial);
        assert!(
            text.starts_with("Not counted: 1 run added up to 0.98 mi, 0.02 mi short of the 1.00 mi the usrsa rule asks for."),
            "{text}"
        );

        // under `continuous`, the same run is a near miss by itself, beside a second short run
        let mut two = runs.to_vec();
        two.push(run(8, "2026-05-01T18:00:00-07:00", 0.3));
        let c = audit_day(&two, may(1), &rules(Rule::Continuous), &at(may(3)));
        assert!(!c.qualifies);
        assert_eq!(c.near_misses.len(), 1);
        assert_eq!(c.near_misses[0].run, Some(ActivityId::new(7).unwrap()));
        // and under usrsa the two add up to more than a mile: no near miss on a day that counts
        let u = audit_day(&two, may(1), &rules(Rule::Usrsa), &at(may(3)));
        assert!(u.qualifies && u.near_misses.is_empty());

        // 0.94 mi is more than 5 % short: not near
        let far = [run(9, "2026-05-01T06:10:00-07:00", 0.94)];
        assert!(
            audit_day(&far, may(1), &rules(Rule::Usrsa), &at(may(3)))
                .near_misses
                .is_empty()
        );
    }

    #[test]
    fn one_centimetre_short_says_less_than_a_hundredth() {
        let mut r = run(1, "2026-05-03T07:00:00+00:00", 1.0);
        r.distance = Distance::from_km(1.60933).unwrap();
        let a = audit_day(&[r], may(3), &rules(Rule::Usrsa), &at(may(3)));
        assert!(!a.qualifies);
        let text = a.explain(Units::Imperial);
        assert!(text.contains("less than 0.01 mi short"), "{text}");
    }

    #[test]
    fn walks_and_excluded_treadmill_runs_are_listed_but_not_counted() {
        let mut walk = run(1, "2026-05-03T07:00:00+01:00", 2.0);
        walk.is_running = false;
        let mut treadmill = run(2, "2026-05-03T19:00:00+01:00", 3.0);
        treadmill.is_treadmill = true;
        let mut excluding = rules(Rule::Usrsa);
        excluding.exclude_treadmill = true;
        let runs = [walk, treadmill];
        let a = audit_day(&runs, may(3), &excluding, &at(may(3)));
        assert_eq!(a.verdict, Verdict::NothingCounted);
        assert_eq!(a.totals.runs, 0);
        assert_eq!(
            a.runs.iter().map(|r| r.not_counted).collect::<Vec<_>>(),
            [
                Some(NotCounted::NotRunning),
                Some(NotCounted::TreadmillExcluded)
            ]
        );
        let text = a.explain(Units::Metric);
        assert!(
            text.contains("(not a run; treadmill runs are excluded)"),
            "{text}"
        );
        agrees_with_streaks(&runs, &excluding, &at(may(3)), may(3));

        // by default, the treadmill run counts
        let b = audit_day(&runs, may(3), &rules(Rule::Usrsa), &at(may(3)));
        assert!(b.qualifies);
        assert_eq!(
            b.runs.iter().map(|r| r.counted).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn a_day_without_activity() {
        let a = audit_day(&[], may(3), &rules(Rule::Usrsa), &at(may(3)));
        assert_eq!(a.verdict, Verdict::NoActivity);
        assert!(a.runs.is_empty() && !a.qualifies && a.streak.is_none());
        assert_eq!(
            a.explain(Units::Imperial),
            "Not counted: no activity on this day. It is not part of any streak."
        );
    }

    #[test]
    fn a_dst_day_lists_both_offsets_and_counts_in_the_home_zone() {
        // 2026-03-08, New York springs forward at 02:00: one run before, one after
        let ny = TimeZone::get("America/New_York").unwrap();
        let runs = [
            run(1, "2026-03-08T01:30:00-05:00", 0.5),
            run(2, "2026-03-08T03:30:00-04:00", 0.5),
            run(3, "2026-03-07T23:50:00-05:00", 2.0),
        ];
        let home = StreakRules {
            rule: Rule::Usrsa,
            days: DayPolicy::HomeZone(ny.clone()),
            exclude_treadmill: false,
        };
        let now: Timestamp = "2026-03-08T20:00:00Z".parse().unwrap();
        let h = Horizon::at(now, &ny).unwrap();
        let a = audit_day(&runs, date(2026, 3, 8), &home, &h);
        assert!(a.qualifies, "{a:?}");
        assert_eq!(
            a.runs
                .iter()
                .map(|r| (r.id.get(), r.utc_offset_s))
                .collect::<Vec<_>>(),
            [(1, -5 * 3600), (2, -4 * 3600)]
        );
        assert_eq!(a.runs[1].start.to_string(), "2026-03-08T03:30:00-04:00");
        assert!(a.flags.is_empty(), "{:?}", a.flags);
        assert!(a.in_current_streak);
        assert_eq!(
            a.streak.map(|s| (s.start, s.days)),
            Some((date(2026, 3, 7), 2))
        );
        agrees_with_streaks(&runs, &home, &h, date(2026, 3, 8));
    }

    #[test]
    fn a_plus_14_run_is_flagged_and_kept_on_its_written_date() {
        // Kiribati: 06:00 on 05-03 at +14:00 is still 05-02 (16:00) in UTC
        let runs = [run(5, "2026-05-03T06:00:00+14:00", 2.0)];
        let a = audit_day(&runs, may(3), &rules(Rule::Usrsa), &at(may(3)));
        assert!(a.qualifies);
        assert_eq!(a.runs[0].utc_offset_s, 14 * 3600);
        assert_eq!(
            a.flags,
            [AuditFlag::ExtremeOffset {
                run: ActivityId::new(5).unwrap(),
                utc_offset_s: 14 * 3600,
                written: may(3),
                day: may(3),
            }]
        );
        assert_eq!(
            a.flags[0].describe(),
            "run 5 started at UTC+14:00, near the date line: it is kept on its written date, 2026-05-03"
        );
        assert!(
            audit_day(&runs, may(2), &rules(Rule::Usrsa), &at(may(3)))
                .runs
                .is_empty()
        );
        // -11:00 is extreme too; -10:00 is not
        let west = [run(6, "2026-05-03T06:00:00-11:00", 2.0)];
        assert_eq!(
            audit_day(&west, may(3), &rules(Rule::Usrsa), &at(may(3)))
                .flags
                .len(),
            1
        );
        let hawaii = [run(6, "2026-05-03T06:00:00-10:00", 2.0)];
        assert!(
            audit_day(&hawaii, may(3), &rules(Rule::Usrsa), &at(may(3)))
                .flags
                .is_empty()
        );
    }

    #[test]
    fn with_a_home_zone_a_run_written_on_another_date_is_flagged_on_both_days() {
        // 23:30 in Los Angeles on 05-02 is 02:30 on 05-03 in New York
        let ny = TimeZone::get("America/New_York").unwrap();
        let runs = [run(4, "2026-05-02T23:30:00-07:00", 1.5)];
        let home = StreakRules {
            rule: Rule::Usrsa,
            days: DayPolicy::HomeZone(ny.clone()),
            exclude_treadmill: false,
        };
        let h = Horizon::at("2026-05-03T16:00:00Z".parse().unwrap(), &ny).unwrap();
        let flag = AuditFlag::HomeZoneDate {
            run: ActivityId::new(4).unwrap(),
            written: may(2),
            home: may(3),
        };
        let on_3 = audit_day(&runs, may(3), &home, &h);
        assert!(on_3.qualifies && on_3.runs[0].counted);
        assert_eq!(on_3.flags, [flag]);
        let on_2 = audit_day(&runs, may(2), &home, &h);
        assert!(!on_2.qualifies);
        assert_eq!(on_2.verdict, Verdict::NothingCounted);
        assert_eq!(
            on_2.runs[0].not_counted,
            Some(NotCounted::AnotherDay { day: may(3) })
        );
        assert_eq!(on_2.flags, [flag]);
        assert!(
            on_2.explain(Units::Imperial)
                .contains("counts on 2026-05-03 in the home zone"),
            "{}",
            on_2.explain(Units::Imperial)
        );
        // under each run's own clock it is simply 05-02, and nothing is flagged
        let local = audit_day(&runs, may(2), &rules(Rule::Usrsa), &h);
        assert!(local.qualifies && local.flags.is_empty());
    }

    #[test]
    fn a_day_after_the_as_of_day_is_not_counted_yet() {
        let runs = [
            run(1, "2026-05-02T07:00:00+00:00", 2.0),
            run(2, "2026-05-03T07:00:00+00:00", 2.0),
        ];
        let now: Timestamp = "2026-05-10T12:00:00Z".parse().unwrap();
        let h = Horizon::as_of(may(2), now, &TimeZone::UTC).unwrap();
        let a = audit_day(&runs, may(3), &rules(Rule::Usrsa), &h);
        assert_eq!(a.verdict, Verdict::AfterToday);
        assert!(!a.qualifies && a.streak.is_none());
        assert_eq!(a.runs[0].not_counted, Some(NotCounted::AfterToday));
        agrees_with_streaks(&runs, &rules(Rule::Usrsa), &h, may(3));
        let earlier = audit_day(&runs, may(2), &rules(Rule::Usrsa), &h);
        assert!(earlier.qualifies && earlier.in_current_streak);
    }

    #[test]
    fn a_day_of_an_earlier_streak_says_so() {
        let runs = [
            run(1, "2026-04-01T07:00:00+00:00", 2.0),
            run(2, "2026-04-02T07:00:00+00:00", 2.0),
            run(3, "2026-05-03T07:00:00+00:00", 2.0),
        ];
        let a = audit_day(&runs, date(2026, 4, 2), &rules(Rule::Usrsa), &at(may(3)));
        assert!(a.qualifies && !a.in_current_streak);
        assert!(
            a.explain(Units::Metric)
                .ends_with("It is day 2 of an earlier streak, 2026-04-01 to 2026-04-02 (2 days)."),
            "{}",
            a.explain(Units::Metric)
        );
    }

    #[test]
    fn moving_time_rules_compare_minutes() {
        let mut r = run(1, "2026-05-03T07:00:00+00:00", 2.0);
        r.duration_s = 19.5 * 60.0;
        let twenty = Rule::MinMovingTime(1200);
        let a = audit_day(&[r], may(3), &rules(twenty), &at(may(3)));
        assert!(!a.qualifies);
        assert_eq!(a.threshold.measure, Measure::MovingTime);
        assert_eq!(a.threshold.minimum, Amount::Seconds(1200.0));
        assert_eq!(a.threshold.achieved, Amount::Seconds(1170.0));
        assert_eq!(a.near_misses.len(), 1);
        assert_eq!(a.near_misses[0].short_by, Amount::Seconds(30.0));
        let text = a.explain(Units::Metric);
        assert!(
            text.starts_with("Not counted: 1 run added up to 19:30 of moving time, 0:30 short of the 20:00 the 20min rule asks for."),
            "{text}"
        );
    }

    fn overriding(entry: i64, day: Date, reason: &str) -> Run {
        let mut r = run(100 + entry, &format!("{day}T12:00:00+00:00"), 0.0);
        r.duration_s = 0.0;
        r.origin = RunOrigin::Override {
            entry,
            reason: reason.to_owned(),
        };
        r
    }

    #[test]
    fn an_override_bridges_a_gap_and_the_audit_says_so() {
        let mut runs = vec![
            run(1, "2026-05-01T07:00:00+00:00", 2.0),
            run(3, "2026-05-03T07:00:00+00:00", 2.0),
        ];
        let broken = streaks(&runs, &rules(Rule::Usrsa), &at(may(3)));
        assert_eq!(broken.current.days, 1);
        runs.push(overriding(1, may(2), "watch died"));
        for rule in [Rule::Usrsa, Rule::Continuous, Rule::Any] {
            let report = streaks(&runs, &rules(rule), &at(may(3)));
            assert_eq!(report.current.days, 3, "{rule}");
            assert_eq!(report.current.start, Some(may(1)));
            assert_eq!(
                report.longest.map(|s| s.runs),
                Some(2),
                "an override is no run"
            );
            for day in [may(1), may(2), may(3)] {
                agrees_with_streaks(&runs, &rules(rule), &at(may(3)), day);
            }
        }
        let a = audit_day(&runs, may(2), &rules(Rule::Usrsa), &at(may(3)));
        assert!(a.qualifies);
        assert_eq!(a.verdict, Verdict::Override);
        assert_eq!(a.override_reason.as_deref(), Some("watch died"));
        assert!(
            a.runs.is_empty(),
            "an override is not listed as an activity"
        );
        let text = a.explain(Units::Imperial);
        assert!(
            text.starts_with("Counted by an override: watch died."),
            "{text}"
        );
        assert!(text.contains("day 2 of the current streak"), "{text}");

        // a day whose runs qualify by themselves stays `qualified`, and says it was overridden
        runs.push(overriding(2, may(3), "double entry"));
        let b = audit_day(&runs, may(3), &rules(Rule::Usrsa), &at(may(3)));
        assert_eq!(b.verdict, Verdict::Qualified);
        assert!(
            b.explain(Units::Imperial)
                .contains("also overridden (double entry)"),
            "{}",
            b.explain(Units::Imperial)
        );
    }

    #[test]
    fn a_manual_run_counts_like_a_run_and_is_marked_as_the_ledger_s() {
        let mut manual = run(7, "2026-05-02T12:00:00+00:00", 1.2);
        manual.origin = RunOrigin::Ledger { entry: 7 };
        let runs = [
            run(1, "2026-05-01T07:00:00+00:00", 2.0),
            manual,
            run(3, "2026-05-03T07:00:00+00:00", 2.0),
        ];
        assert_eq!(
            streaks(&runs, &rules(Rule::Usrsa), &at(may(3)))
                .current
                .days,
            3
        );
        let a = audit_day(&runs, may(2), &rules(Rule::Usrsa), &at(may(3)));
        assert_eq!(a.verdict, Verdict::Qualified);
        assert_eq!(a.totals.ledger_runs, 1);
        assert_eq!(a.runs[0].origin, RunOrigin::Ledger { entry: 7 });
    }

    #[test]
    fn the_any_rule_counts_a_run_of_any_length() {
        let runs = [run(1, "2026-05-03T07:00:00+00:00", 0.1)];
        let a = audit_day(&runs, may(3), &rules(Rule::Any), &at(may(3)));
        assert!(a.qualifies);
        assert_eq!(a.threshold.achieved, Amount::Runs(1));
        assert!(
            a.explain(Units::Imperial)
                .starts_with("Counted: 1 run, and the any rule counts a run of any length."),
            "{}",
            a.explain(Units::Imperial)
        );
    }
}
